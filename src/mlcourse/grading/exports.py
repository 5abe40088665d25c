"""Exports from the gradebook: LMS CSV, per-student feedback (Markdown, HTML), Gradescope JSON,
and the score-distribution figure.

Everything here reads the gradebook only; messages were already made safe by the judge.
"""

from __future__ import annotations

import csv
import html
import json
from pathlib import Path

from mlcourse.grading.gradebook import ExerciseRow, Gradebook, SubmissionRow

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


def write_csv(path: Path, rows: list[tuple[SubmissionRow, list[ExerciseRow]]]) -> None:
    """One line per submission: id, total, percent, status and points per exercise."""
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
                ]
            )


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def _cell(text: str) -> str:
    # Spreadsheet formula injection guard: a cell starting with = + - @ is shown as text.
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def feedback_markdown(sub: SubmissionRow, exs: list[ExerciseRow]) -> str:
    lines = [
        f"# Feedback: {sub.notebook}",
        "",
        f"**Score: {sub.score:g} / {sub.max_score:g}**",
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


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("<", "&lt;").replace("\n", " ")


def feedback_html(sub: SubmissionRow, exs: list[ExerciseRow]) -> str:
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
        f"<td>{e.score:g} / {e.points:g}</td><td>{esc(e.message)}</td></tr>"
        for e in exs
    )
    detail = (
        f"<p><em>{esc(_sentence(sub.detail))}</em></p>"
        if sub.status != "graded" and sub.detail
        else ""
    )
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        f"<title>Feedback: {esc(sub.notebook)}</title>"
        "<style>body{font-family:sans-serif;max-width:60em;margin:2em auto}"
        "td,th{border-bottom:1px solid #ddd;padding:.4em;text-align:left;vertical-align:top}"
        "table{border-collapse:collapse}</style></head><body>"
        f"<h1>Feedback: {esc(sub.notebook)}</h1>"
        f"<p><strong>Score: {sub.score:g} / {sub.max_score:g}</strong></p>{detail}"
        "<table><tr><th>exercise</th><th>result</th><th>points</th><th>feedback</th></tr>"
        f"{rows}</table></body></html>\n"
    )


def gradescope_json(sub: SubmissionRow, exs: list[ExerciseRow]) -> dict[str, object]:
    """Gradescope's ``results.json`` for one submission."""
    return {
        "score": sub.score,
        "output": _sentence(sub.detail) or "Graded by mlcourse.",
        "visibility": "visible",
        "tests": [
            {
                "name": f"{e.title} ({e.exercise_id})",
                "score": e.score,
                "max_score": e.points,
                "status": "passed" if e.status == "correct" else "failed",
                "output": e.message,
            }
            for e in exs
        ],
    }


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


def export_all(gradebook: Gradebook, keys: list[str], out: Path) -> dict[str, Path]:
    """Write grades.csv, feedback/, gradescope/ and score_distribution.png for ``keys``."""
    rows = []
    for key in keys:
        sub = gradebook.submission(key)
        if sub is not None:
            rows.append((sub, gradebook.exercises(key)))
    rows.sort(key=lambda r: (r[0].student_id, r[0].source))
    paths = {
        "csv": out / "grades.csv",
        "feedback": out / "feedback",
        "gradescope": out / "gradescope",
        "figure": out / "score_distribution.png",
    }
    write_csv(paths["csv"], rows)
    paths["feedback"].mkdir(exist_ok=True)
    paths["gradescope"].mkdir(exist_ok=True)
    used: set[str] = set()
    for sub, exs in rows:
        name = sub.student_id
        if name in used:
            name = f"{name}-{sub.content_hash[:8]}"
        used.add(name)
        (paths["feedback"] / f"{name}.md").write_text(feedback_markdown(sub, exs), encoding="utf-8")
        (paths["feedback"] / f"{name}.html").write_text(feedback_html(sub, exs), encoding="utf-8")
        (paths["gradescope"] / f"{name}.json").write_text(
            json.dumps(gradescope_json(sub, exs), indent=1), encoding="utf-8"
        )
    percents = [100 * s.score / s.max_score if s.max_score else 0.0 for s, _ in rows]
    title = f"{rows[0][0].notebook}: {len(rows)} submissions" if rows else "no submissions"
    score_figure(paths["figure"], percents, title)
    return paths
