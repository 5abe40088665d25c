"""Judge (trusted, no student code): turn probe data into per-exercise grades and messages.

The inputs are plain JSON values parsed outside the sandbox; ``Exercise.judge`` compares them
with the reference solution's values. Messages shown to students come from the exercise's
judge (written never to contain expected values) or from this module; for errors raised
while a probe called the student's code on hidden inputs only the exception *type* is shown,
because its text could echo those inputs.
"""

from __future__ import annotations

import re
from typing import Any

from mlcourse.exercises import judge_result
from mlcourse.exercises.spec import Exercise, Outcome
from mlcourse.grading.gradebook import ExerciseRow
from mlcourse.grading.intake import ExerciseCells
from mlcourse.grading.sandbox import RunResult

MISSING = (
    "The cell for this exercise was not found: no code cell carries its id ({id}) in its "
    "metadata (the cell was deleted, or pasted without metadata). Copy the exercise cell from a "
    "fresh copy of the notebook, put your answer in it and resubmit."
)
NOTES = {
    "duplicated": " (Note: this exercise's id is on several cells; the last of them was graded.)",
    "moved": " (Note: this exercise's cell was moved; it was graded where you put it.)",
}


def rejected_rows(exercises: tuple[Exercise, ...], reason: str) -> list[ExerciseRow]:
    return [
        ExerciseRow(ex.id, ex.title, "not_graded", 0.0, ex.points, f"Not graded: {reason}.")
        for ex in exercises
    ]


def judge_run(
    exercises: tuple[Exercise, ...],
    cells: ExerciseCells,
    run: RunResult,
    expected: dict[str, Any],
    sources: dict[int, str] | None = None,
) -> list[ExerciseRow]:
    """One row per exercise, in the order the notebook declares them.

    ``sources`` (cell index -> the submission's cell text) lets an error row quote the
    student's own line that raised.
    """
    rows = []
    for ex in exercises:
        place = cells.status.get(ex.id, "missing")
        if place == "missing":
            rows.append(
                ExerciseRow(ex.id, ex.title, "missing", 0.0, ex.points, MISSING.format(id=ex.id))
            )
            continue
        index = cells.cell_of[ex.id]
        outcome = _outcome(ex, index, run, expected.get(ex.id), (sources or {}).get(index, ""))
        message = outcome.message + NOTES.get(place, "")
        rows.append(
            ExerciseRow(
                ex.id,
                ex.title,
                outcome.status,
                round(outcome.score * ex.points, 6),
                ex.points,
                message,
            )
        )
    return rows


_LONG_NUMBER = re.compile(r"\d{5,}")
_LONG_HEX = re.compile(r"\b[0-9a-fA-F]{16,}\b")


def redact(text: str, limit: int = 240) -> str:
    """Text raised by student code, made safe to echo in feedback.

    Student code in the sandbox can put anything into an exception message, so long numbers
    and hex strings (seeds, hashes, encoded data) are replaced by ``…`` and the text is cut to
    ``limit`` characters: feedback cannot serve as a channel out of the sandbox.
    """
    text = _LONG_HEX.sub("\u2026", _LONG_NUMBER.sub("\u2026", text or ""))
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


_IPYTHON_FILE = re.compile(r"\(<ipython-input-[^>]*>, line (\d+)\)")


def _cell_error(run: RunResult, cell_index: int, source: str) -> str | None:
    cell = run.cells.get(cell_index, {})
    error = cell.get("error")
    if not error:
        return None
    if error.startswith("the cell ran longer than"):  # the sandbox's own words, not an exception
        return (
            f"This exercise's {redact(error).removeprefix('the ')}. Make it finish sooner (a "
            "loop that never ends? a search over more settings than needed?) and resubmit."
        )
    # a SyntaxError names IPython's internal file: "(<ipython-input-1-…>, line 3)" is noise
    error = _IPYTHON_FILE.sub(r"(line \1)", error)
    text = f"This exercise's cell raised {redact(error)}"
    line_no = cell.get("error_line")
    lines = source.splitlines()
    # IPython drops a cell's leading blank lines before it numbers the lines
    while lines and not lines[0].strip():
        lines.pop(0)
    if isinstance(line_no, int) and 0 < line_no <= len(lines):
        text += f" at line {line_no} of your cell: `{lines[line_no - 1].strip()[:160]}`"
    return text + ". Fix it, run the cell again and resubmit."


def _outcome(
    ex: Exercise, cell_index: int, run: RunResult, expected: Any, source: str = ""
) -> Outcome:
    probe = run.probes.get(ex.id)
    cell_error = _cell_error(run, cell_index, source)
    if probe is None:
        cell = run.cells.get(cell_index, {})
        if cell.get("started"):
            if cell_error:
                return Outcome("error", cell_error)
            why = run.detail or "it stopped in this exercise's cell"
            return Outcome("error", f"Your notebook stopped in this exercise's cell: {why}.")
        why = run.detail or "it stopped earlier"
        return Outcome("not_run", f"Not graded: the notebook stopped before this exercise: {why}.")
    status = probe["status"]
    if status != "ok" and cell_error:
        # the learner's own exception explains the missing or broken answer
        return Outcome("error", cell_error)
    if status == "error":
        # Only the exception type: the message or traceback could echo hidden probe inputs.
        last = (probe["message"] or "Exception").strip().splitlines()[-1]
        kind = redact(last.split(":", 1)[0].strip(), 80) or "an exception"
        if "held-out players" in (probe["message"] or ""):
            return Outcome("error", redact(probe["message"], 400))
        return Outcome(
            "error",
            f"Checking your answer raised {kind}. Run the cell again, check that it works on "
            "other inputs too, and resubmit.",
        )
    student = {"status": status, "message": probe["message"]}
    if status == "ok":
        student["value"] = probe["data"]
    outcome = judge_result(ex, student, {"status": "ok", "value": expected})
    if status == "not_attempted":
        return Outcome("not_attempted", "Not attempted yet: " + redact(outcome.message, 300))
    if status == "answer_error":
        return Outcome.incorrect(redact(outcome.message, 400) or "The answer has the wrong type.")
    if outcome.status == "checker_error":  # not the student's fault
        return Outcome(
            "checker_error",
            "Your answer could not be checked automatically (the checker failed, not your "
            "code); your instructor will look at it.",
        )
    return outcome
