"""Judge (trusted, no student code): turn probe data into per-exercise grades and messages.

The inputs are plain JSON values parsed outside the sandbox; ``Exercise.judge`` compares them
with the reference solution's values. Messages shown to students come from the exercise's
judge (written never to contain expected values) or from this module; for errors raised
while a probe called the student's code on hidden inputs only the exception *type* is shown,
because its text could echo those inputs.
"""

from __future__ import annotations

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
) -> list[ExerciseRow]:
    """One row per exercise, in the order the notebook declares them."""
    rows = []
    for ex in exercises:
        place = cells.status.get(ex.id, "missing")
        if place == "missing":
            rows.append(
                ExerciseRow(ex.id, ex.title, "missing", 0.0, ex.points, MISSING.format(id=ex.id))
            )
            continue
        outcome = _outcome(ex, cells.cell_of[ex.id], run, expected.get(ex.id))
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


def _outcome(ex: Exercise, cell_index: int, run: RunResult, expected: Any) -> Outcome:
    probe = run.probes.get(ex.id)
    if probe is None:
        cell = run.cells.get(cell_index, {})
        if cell.get("started"):
            why = run.detail or "it stopped in this exercise's cell"
            return Outcome("error", f"Your notebook stopped in this exercise's cell: {why}.")
        why = run.detail or "it stopped earlier"
        message = f"Not graded: the notebook stopped before this exercise: {why}."
        return Outcome("not_run", message)  # type: ignore[arg-type]
    status = probe["status"]
    if status == "error":
        # Only the exception type: the message or traceback could echo hidden probe inputs.
        last = (probe["message"] or "Exception").strip().splitlines()[-1]
        kind = last.split(":", 1)[0].strip()[:80] or "an exception"
        cell_error = run.cells.get(cell_index, {}).get("error")
        if cell_error:
            return Outcome("error", f"This exercise's cell raised an error: {cell_error}")
        return Outcome(
            "error",
            f"Checking your answer raised {kind}. Run the cell again, check that it works on "
            "other inputs too, and resubmit.",
        )
    student = {"status": status, "message": probe["message"]}
    if status == "ok":
        student["value"] = probe["data"]
    outcome = judge_result(ex, student, {"status": "ok", "value": expected})
    cell_error = run.cells.get(cell_index, {}).get("error")
    if status == "not_attempted" and cell_error:
        return Outcome("error", f"This exercise's cell raised an error: {cell_error}")
    if status == "not_attempted":
        return Outcome("not_attempted", "Not attempted yet: " + outcome.message[:300])
    if status == "answer_error":
        return Outcome.incorrect(outcome.message[:400] or "The answer has the wrong type.")
    if outcome.status == "error":  # the checker failed on this answer: not the student's fault
        return Outcome(
            "error",
            "Your answer could not be checked automatically; your instructor will look at it.",
        )
    return outcome
