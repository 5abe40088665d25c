"""Exports from the gradebook: grades.csv, the LMS import files (canvas.csv, moodle.csv),
per-student feedback (Markdown, HTML), Gradescope JSON and the score-distribution figure.

Everything here reads the gradebook only; messages were already made safe by the judge.
No export has two rows (or two Gradescope files) for one id: such a file is refused, with a
warning naming the id and its submissions, and an older copy of it is removed.
"""

from __future__ import annotations

import csv
import html
import json
import os
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from mlcourse.grading.gradebook import ExerciseRow, Gradebook, SubmissionRow
from mlcourse.grading.intake import safe_id
from mlcourse.grading.lms import (
    DuplicateIdError,
    Person,
    check_unique,
    write_canvas_csv,
    write_moodle_csv,
)

STATUS_LABEL = {
    "correct": "Correct",
    "partly_correct": "Partly correct",
    "incorrect": "Incorrect",
    "not_attempted": "Not attempted",
    "error": "Error",
    "checker_error": "Checker failed (not your fault)",
    "missing": "Cell missing",
    "not_run": "Not run",
    "not_graded": "Not graded",
}


def write_csv(
    path: Path,
    rows: list[tuple[SubmissionRow, list[ExerciseRow]]],
    people: Mapping[str, Person] | None = None,
) -> None:
    """One line per submission: id, total, percent, status, points per exercise, detail, and
    the student's name and lateness when an LMS export or the roster says them.

    A student's older submissions appear with status ``superseded`` (history, not a grade);
    every other status is the student's grade, so one student id has at most one such row:
    otherwise :class:`~mlcourse.grading.lms.DuplicateIdError` is raised and nothing written.
    """
    people = people or {}
    check_unique(
        path.name,
        "student id",
        ((s.student_id, s.source) for s, _ in rows if s.status != "superseded"),
        "several submissions that are not history (superseded) carry this id",
    )
    ex_ids: list[str] = []
    for _, exs in rows:
        for e in exs:
            if e.exercise_id not in ex_ids:
                ex_ids.append(e.exercise_id)
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(
            [
                "student_id",
                "submission",
                "score",
                "max_score",
                "percent",
                "status",
                *ex_ids,
                "detail",
                "name",
                "late",
            ]
        )
        for sub, exs in rows:
            pts = {e.exercise_id: e.score for e in exs}
            pct = 100.0 * sub.score / sub.max_score if sub.max_score else 0.0
            w.writerow(
                [
                    _cell(sub.student_id),
                    _cell(sub.source),
                    f"{sub.score:g}",
                    f"{sub.max_score:g}",
                    f"{pct:.1f}",
                    sub.status,
                    *[f"{pts.get(i, 0.0):g}" for i in ex_ids],
                    _cell(sub.detail),
                    _cell(people[sub.key].name if sub.key in people else ""),
                    "yes" if sub.key in people and people[sub.key].late else "",
                ]
            )


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def _cell(text: str) -> str:
    # Spreadsheet formula injection guard: a cell starting with = + - @ is shown as text.
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _heading(sub: SubmissionRow, who: str, assignment: str) -> str:
    """``01_encoding_basics, Ada Lovelace (10001)``: what and whose the feedback is."""
    return ", ".join(t for t in (assignment or sub.notebook, who) if t)


def feedback_markdown(
    sub: SubmissionRow, exs: list[ExerciseRow], who: str = "", assignment: str = ""
) -> str:
    """A student's feedback in Markdown; ``who`` and ``assignment`` name them in the title."""
    lines = [
        f"# Feedback: {_md(_heading(sub, who, assignment))}",
        "",
        f"**Score: {sub.score:g} / {sub.max_score:g}** (graded file: {_md_code(sub.source)})",
        "",
    ]
    if sub.status != "graded" and sub.detail:
        lines += [f"> {_md(_sentence(sub.detail))}", ""]
    lines += ["| exercise | result | points |", "|---|---|---|"]
    for e in exs:
        label = STATUS_LABEL.get(e.status, e.status)
        lines.append(
            f"| {_md(e.title)} (`{e.exercise_id}`) | {label} | {e.score:g} / {e.points:g} |"
        )
    lines.append("")
    for e in exs:
        lines += [f"## {_md(e.title)}", "", _md(e.message), ""]
    return "\n".join(lines)


#: a code span for certain: one backtick on each side, not escaped, not part of a longer run.
#: Outside these spans every backtick and backslash is escaped, so a renderer cannot pair
#: backticks in any other way (attack round on this function: "`a``b`<img>`" and "\\<img>")
_PLAIN_CODE_SPAN = re.compile(r"((?<![`\\])`[^`\n]+`(?!`))")
#: a block marker at the start of a paragraph (heading, quote, list, rule, setext underline)
_LEADING_MARKER = re.compile(r"^([#>+*=~_-]|\d+[.)])")


def _md(text: str) -> str:
    """Text a submission may have shaped (an exception's message, a file name), made inert
    in Markdown: one line (every line ending CommonMark knows, ``\\r`` too, becomes a space);
    outside certain code spans ``\\ ` < [ ] |`` are backslash-escaped, so there is no raw HTML,
    no link, image or reference definition, no stray code span and no table break; a leading
    block marker is escaped (no fake heading such as "# Score: 10 / 10"); code spans read as
    typed (CommonMark shows them literally), except ``|``, escaped for table cells."""
    parts = _PLAIN_CODE_SPAN.split(" ".join(text.split()))
    out = []
    for i, part in enumerate(parts):
        if i % 2 == 0:
            part = re.sub(r"([\\`<\[\]|])", r"\\\1", part)
            if i == 0:
                part = _LEADING_MARKER.sub(lambda m: m.group(1)[:-1] + "\\" + m.group(1)[-1], part)
        else:
            part = part.replace("|", "\\|")
        out.append(part)
    return "".join(out)


def _md_code(text: str) -> str:
    """Any text (a file name a student chose) as one literal code span: the fence is one
    backtick longer than the longest run inside, so nothing in it can close the span."""
    text = " ".join(text.split()).replace("|", "\\|")
    fence = "`" * (max((len(r) for r in re.findall(r"`+", text)), default=0) + 1)
    pad = " " if text[:1] in ("`", " ") or text[-1:] == "`" else ""
    return f"{fence}{pad}{text}{pad}{fence}"


_CODE_SPAN = re.compile(r"`([^`\n]+)`")


def _html_text(text: str) -> str:
    """Escaped HTML of a message, its ``code spans`` (the learner's line) as ``<code>``."""
    out, last = [], 0
    for m in _CODE_SPAN.finditer(text):
        out.append(html.escape(text[last : m.start()]))
        out.append(f"<code>{html.escape(m.group(1))}</code>")
        last = m.end()
    out.append(html.escape(text[last:]))
    return "".join(out)


def feedback_html(
    sub: SubmissionRow, exs: list[ExerciseRow], who: str = "", assignment: str = ""
) -> str:
    """A student's feedback as a standalone HTML page (code in messages as ``<code>``)."""
    esc = html.escape
    colours = {
        "correct": "#1a7f37",
        "partly_correct": "#9a6700",
        "incorrect": "#cf222e",
        "error": "#cf222e",
        "checker_error": "#8250df",
    }
    rows = "".join(
        f"<tr><td>{esc(e.title)} <code>{esc(e.exercise_id)}</code></td>"
        f"<td style='color:{colours.get(e.status, '#6e7781')}'>"
        f"{esc(STATUS_LABEL.get(e.status, e.status))}</td>"
        f"<td>{e.score:g} / {e.points:g}</td><td>{_html_text(e.message)}</td></tr>"
        for e in exs
    )
    detail = (
        f"<p><em>{_html_text(_sentence(sub.detail))}</em></p>"
        if sub.status != "graded" and sub.detail
        else ""
    )
    title = esc(_heading(sub, who, assignment))
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        f"<title>Feedback: {title}</title>"
        "<style>body{font-family:sans-serif;max-width:60em;margin:2em auto}"
        "td,th{border-bottom:1px solid #ddd;padding:.4em;text-align:left;vertical-align:top}"
        "code{background:#f6f8fa;padding:0 .2em;border-radius:3px}"
        "table{border-collapse:collapse}</style></head><body>"
        f"<h1>Feedback: {title}</h1>"
        f"<p><strong>Score: {sub.score:g} / {sub.max_score:g}</strong> "
        f"(graded file: <code>{esc(sub.source)}</code>)</p>{detail}"
        "<table><tr><th>exercise</th><th>result</th><th>points</th><th>feedback</th></tr>"
        f"{rows}</table></body></html>\n"
    )


def gradescope_json(
    sub: SubmissionRow,
    exs: list[ExerciseRow],
    who: str = "",
    assignment: str = "",
    visibility: str = "visible",
    notes: Sequence[str] = (),
) -> dict[str, object]:
    """Gradescope's ``results.json`` for one submission, in Gradescope's Markdown format.

    ``visibility`` (visible, after_published, after_due_date, hidden) applies to every
    test; ``notes`` are extra Markdown lines for the top of the output.
    """
    label = {"correct": "passed"}
    head = [f"**{_md(_heading(sub, who, assignment))}**: {sub.score:g} / {sub.max_score:g} "
            f"points, graded file {_md_code(sub.source)}."]  # fmt: skip
    if sub.status != "graded" and sub.detail:
        head.append(_md(_sentence(sub.detail)) + ".")
    return {
        "score": sub.score,
        "output": "\n\n".join([*head, *notes]),
        "output_format": "md",
        "test_output_format": "md",
        "test_name_format": "text",
        "visibility": visibility,
        "stdout_visibility": "hidden",
        "tests": [
            {
                "name": f"{e.title} ({e.exercise_id})",
                "score": e.score,
                "max_score": e.points,
                "status": label.get(e.status, "failed"),
                "output": _labelled(e),
                "visibility": visibility,
            }
            for e in exs
        ],
    }


def _labelled(e: ExerciseRow) -> str:
    """``**Incorrect.** the message`` (the message alone repeats a bare "Correct!")."""
    label = STATUS_LABEL.get(e.status, e.status)
    message = _md(e.message).strip()
    if not message or message.rstrip("!.").lower() == label.lower():
        return f"**{label}.**"
    return f"**{label}.** {message}"


def gradescope_results(
    summary: Any, metadata: Mapping[str, Any] | None = None, visibility: str = "visible"
) -> dict[str, object]:
    """``results.json`` of a one-student batch (``mlcourse grade --lms gradescope``).

    The graded notebook is the one the intake kept (named like the assignment); the others
    are listed as not graded. ``metadata`` is Gradescope's ``submission_metadata.json``:
    its users' names and the assignment's title head the output.
    """
    metadata = metadata or {}
    users = metadata.get("users") if isinstance(metadata.get("users"), list) else []
    who = " and ".join(
        str(u.get("name", "")).strip() for u in users if isinstance(u, dict) and u.get("name")
    )
    title_of = metadata.get("assignment")
    assignment = str(title_of.get("title", "")) if isinstance(title_of, dict) else ""
    gb = Gradebook(summary.paths["gradebook"])
    try:
        rows = [gb.submission(k) for k in dict.fromkeys(summary.keys)]
        graded = [r for r in rows if r is not None and r.status != "superseded"]
        others = [r.source for r in rows if r is not None and r.status == "superseded"]
        if len(graded) != 1:
            found = ", ".join(_md_code(r.source) for r in rows if r is not None) or "none"
            return {
                "score": 0,
                "output": f"No single notebook to grade (found: {found}). Upload your "
                f"notebook {_md(summary.notebook)} as one `.ipynb` file.",
                "output_format": "md",
                "visibility": visibility,
                "tests": [],
            }
        sub = graded[0]
        notes = []
        if others:
            notes.append(
                "Not graded (only the notebook named like the assignment counts): "
                + ", ".join(_md_code(o) for o in others)
                + "."
            )
        return gradescope_json(sub, gb.exercises(sub.key), who, assignment, visibility, notes)
    finally:
        gb.close()


def score_figure(path: Path, percents: list[float], title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.hist(percents, bins=[i * 10 for i in range(11)], color="#4c72b0", edgecolor="white")
    ax.set_xlabel("score (%)")
    ax.set_ylabel("submissions")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))  # counts: no 0.25 of a submission
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


@dataclass
class ExportReport:
    """What :func:`export_all` wrote (``paths``) and anything the summary should say."""

    paths: dict[str, Path]
    notes: list[str] = field(default_factory=list)
    #: files refused because one id would have two rows (the summary prints them as warnings)
    warnings: list[str] = field(default_factory=list)


MANIFEST = ".written.json"


def feedback_name(sub: SubmissionRow, who: Person | None) -> str:
    """File stem of a student's feedback: ``lovelaceada_10001`` for an LMS student."""
    if who is not None and who.lms and who.lms_id:
        return safe_id(f"{who.export_name or who.name}_{who.lms_id}")
    return sub.student_id


def _legacy_names(sub: SubmissionRow) -> set[str]:
    """The name versions before LMS intake gave this submission's feedback: the folder
    holding the notebook, or the file's stem at the top level (whole export names)."""
    parts = PurePosixPath(sub.source).parts
    return {safe_id(parts[-2]) if len(parts) >= 2 else safe_id(PurePosixPath(sub.source).stem)}


def _remove_stale(folder: Path, written: set[str], stale: set[str], suffixes: tuple) -> int:
    """Delete feedback files this export did not write: those listed by the previous
    export's manifest and those named after a superseded or re-identified submission."""
    manifest = folder / MANIFEST
    try:
        before = set(json.loads(manifest.read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError):
        before = set()
    candidates = before | {f"{n}{suf}" for n in stale for suf in suffixes}
    removed = 0
    for name in sorted(candidates - written):
        path = folder / name
        if "/" in name or name.startswith(".") or not path.is_file() or path.is_symlink():
            continue
        path.unlink()
        removed += 1
    tmp = manifest.with_suffix(".tmp")
    tmp.write_text(json.dumps(sorted(written)), encoding="utf-8")
    os.replace(tmp, manifest)
    return removed


def moodle_comment(sub: SubmissionRow, exs: list[ExerciseRow]) -> str:
    """Short plain-text feedback for Moodle's "Feedback comments" column."""
    parts = [f"Score {sub.score:g} / {sub.max_score:g}."]
    if sub.status != "graded" and sub.detail:
        parts.append(_sentence(sub.detail) + ".")
    for e in exs:
        label = STATUS_LABEL.get(e.status, e.status)
        parts.append(f"{e.title}: {label} ({e.score:g} / {e.points:g}).")
    parts.append("Details in your feedback file.")
    return " ".join(parts)


_Rows = list[tuple[SubmissionRow, list[ExerciseRow]]]


def export_all(
    gradebook: Gradebook,
    keys: list[str],
    out: Path,
    *,
    people: Mapping[str, Person] | None = None,
    assignment: str = "",
    max_grade: float | None = None,
    roster_given: bool = False,
    figure: bool = True,
) -> ExportReport:
    """Write grades.csv, canvas.csv / moodle.csv, feedback/, gradescope/ and the figure.

    ``people`` (gradebook key -> :class:`~mlcourse.grading.lms.Person`) says who submitted
    each file. canvas.csv is written when the submissions came from Canvas, moodle.csv when
    from Moodle, both when a roster gave plain folders their LMS ids. History rows
    (``superseded``) are in grades.csv only; feedback files of superseded submissions and
    files an earlier export wrote but this one does not are removed. A file that would have
    two rows for one id is not written (and an older copy is removed): ``warnings`` says why.
    """
    people = people or {}
    rows = _sorted_rows(gradebook, keys)
    current = [(s, e) for s, e in rows if s.status != "superseded"]
    paths = {
        "csv": out / "grades.csv",
        "feedback": out / "feedback",
        "gradescope": out / "gradescope",
        "figure": out / "score_distribution.png",
    }
    notes: list[str] = []
    warnings: list[str] = []
    try:
        write_csv(paths["csv"], rows, people)
    except DuplicateIdError as exc:
        paths.pop("csv").unlink(missing_ok=True)  # an older grades.csv would not match
        warnings.append(str(exc))
    paths["feedback"].mkdir(exist_ok=True)
    paths["gradescope"].mkdir(exist_ok=True)
    used, graded = _write_feedback(paths, current, people, assignment, warnings)
    removed = _remove_stale_feedback(paths, rows, people, used, graded)
    if removed:
        notes.append(f"removed {removed} stale feedback files (superseded or renamed submissions)")
    if figure:
        _draw_figure(paths["figure"], current)
    else:
        paths.pop("figure")
    kinds = _lms_kinds(people, roster_given)
    for kind in ("canvas", "moodle"):
        path = out / f"{kind}.csv"
        if kind not in kinds:
            if path.is_file():
                path.unlink()  # an earlier batch's file would not match these grades
            continue
        try:
            notes.append(_write_lms_csv(kind, path, current, people, assignment, max_grade))
        except DuplicateIdError as exc:
            path.unlink(missing_ok=True)
            warnings.append(str(exc))
            continue
        paths[kind] = path
    return ExportReport(paths, notes, warnings)


def _sorted_rows(gradebook: Gradebook, keys: list[str]) -> _Rows:
    """The gradebook rows of ``keys`` (each once) with their exercises, by student and file."""
    rows = []
    for key in dict.fromkeys(keys):
        sub = gradebook.submission(key)
        if sub is not None:
            rows.append((sub, gradebook.exercises(key)))
    rows.sort(key=lambda r: (r[0].student_id, r[0].source))
    return rows


def _write_feedback(
    paths: dict[str, Path],
    current: _Rows,
    people: Mapping[str, Person],
    assignment: str,
    warnings: list[str],
) -> tuple[set[str], set[str]]:
    """Each current submission's feedback (.md, .html) and Gradescope JSON; the names used
    for feedback and for Gradescope files. A student with several current submissions gets
    no Gradescope file (one id, one result): ``warnings`` says so."""
    names = [feedback_name(sub, people.get(sub.key)) for sub, _ in current]
    twice = {n for n, k in Counter(names).items() if k > 1}
    if twice:
        warnings.append(
            "gradescope/: no results file for " + ", ".join(sorted(twice)) + ": several "
            "current submissions carry one id, and one id may have one result only"
        )
    used: set[str] = set()
    graded: set[str] = set()
    for (sub, exs), name in zip(current, names, strict=True):
        if name not in twice:
            graded.add(name)
            (paths["gradescope"] / f"{name}.json").write_text(
                json.dumps(gradescope_json(sub, exs, _who(sub, people), assignment), indent=1),
                encoding="utf-8",
            )
        if name in used:
            name = f"{name}-{sub.content_hash[:8]}"
        used.add(name)
        who = _who(sub, people)
        (paths["feedback"] / f"{name}.md").write_text(
            feedback_markdown(sub, exs, who, assignment), encoding="utf-8"
        )
        (paths["feedback"] / f"{name}.html").write_text(
            feedback_html(sub, exs, who, assignment), encoding="utf-8"
        )
    return used, graded


def _who(sub: SubmissionRow, people: Mapping[str, Person]) -> str:
    return people[sub.key].label(sub.student_id) if sub.key in people else sub.student_id


def _remove_stale_feedback(
    paths: dict[str, Path],
    rows: _Rows,
    people: Mapping[str, Person],
    used: set[str],
    graded: set[str],
) -> int:
    """Delete the feedback files not written under ``used`` names and the Gradescope files
    not written under ``graded`` names; how many were removed."""
    stale: set[str] = set()
    for sub, _ in rows:
        if sub.key in people and people[sub.key].lms:
            stale |= _legacy_names(sub)  # names before LMS intake: whole file stems
    for sub, _ in rows:
        if sub.status == "superseded":
            stale.add(feedback_name(sub, people.get(sub.key)) + f"-{sub.content_hash[:8]}")
    removed = _remove_stale(
        paths["feedback"],
        {f"{n}{x}" for n in used for x in (".md", ".html")},
        stale,
        (".md", ".html"),
    )
    removed += _remove_stale(paths["gradescope"], {f"{n}.json" for n in graded}, stale, (".json",))
    return removed


def _draw_figure(path: Path, current: _Rows) -> None:
    """The score distribution of the current submissions."""
    percents = [100 * s.score / s.max_score if s.max_score else 0.0 for s, _ in current]
    title = f"{current[0][0].notebook}: {len(current)} submissions" if current else "no submissions"
    score_figure(path, percents, title)


def _lms_kinds(people: Mapping[str, Person], roster_given: bool) -> set[str]:
    """The LMS import files to write: the submissions' LMS, both when a roster named
    students of plain folders."""
    kinds = {p.lms for p in people.values() if p.lms}
    if roster_given and any(p.on_roster and not p.lms for p in people.values()):
        kinds |= {"canvas", "moodle"}
    return kinds


def _write_lms_csv(
    kind: str,
    path: Path,
    current: _Rows,
    people: Mapping[str, Person],
    assignment: str,
    max_grade: float | None,
) -> str:
    """Write canvas.csv or moodle.csv; the note saying how many students and who is left out."""
    lms_rows = [(s, people[s.key]) for s, _ in current if s.key in people]
    if kind == "canvas":
        n = write_canvas_csv(path, lms_rows, assignment or "assignment", max_grade)
    else:
        comments = {s.key: moodle_comment(s, e) for s, e in current}
        n = write_moodle_csv(path, [(s, p, comments[s.key]) for s, p in lms_rows], max_grade)
    missing = sum(1 for s, p in lms_rows if not p.lms_id)
    skipped = sum(1 for s, p in lms_rows if p.lms_id and s.status == "grader_error")
    conflicts = sum(1 for s, p in lms_rows if p.lms_id and s.detail.startswith("id_conflict"))
    note = f"{kind}.csv: {n} students"
    if missing:
        note += f"; {missing} without an LMS id left out (add them to the roster)"
    if skipped:
        note += f"; {skipped} left out because the grader failed on them (rerun)"
    if conflicts:
        note += f"; {conflicts} left out because several names claim their id (id_conflict)"
    return note
