"""Intake and gradebook: fast tests, no sandbox."""

from __future__ import annotations

import json
import sqlite3
import stat
import zipfile
from pathlib import Path

import nbformat
import pytest
from graderkit import SOLUTION, notebook_json

from mlcourse.exercises import map_exercise_cells
from mlcourse.grading.exports import write_csv
from mlcourse.grading.gradebook import ExerciseRow, Gradebook, SubmissionRow, submission_key
from mlcourse.grading.intake import collect_submissions, safe_id

IDS = ["q1_mean", "q2_double", "q3_choice"]


def _zip(path: Path, members: dict[str, bytes], symlink: str | None = None) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
        if symlink:
            info = zipfile.ZipInfo(symlink)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            zf.writestr(info, "/etc/passwd")
    return path


def test_zip_path_tricks_are_rejected_not_extracted(tmp_path):
    good = notebook_json(SOLUTION).encode()
    archive = _zip(
        tmp_path / "export.zip",
        {
            "course/alice/01.ipynb": good,
            "course/../../evil.ipynb": good,
            "/abs/root.ipynb": good,
            "course/__MACOSX/._alice.ipynb": b"junk",
            "course/bob/notes.txt": b"not a notebook",
        },
        symlink="course/mallory/link.ipynb",
    )
    subs = {s.source: s for s in collect_submissions(archive)}
    [alice] = [s for s in subs.values() if s.source.endswith("alice/01.ipynb")]
    assert alice.error is None and alice.student_id == "alice"
    tricks = [s for s in subs.values() if s.error == "unsafe_name"]
    assert len(tricks) == 3  # '..', absolute path, symlink: rows saying why, nothing written
    assert all("path trick" in s.message or "symbolic" in s.message for s in tricks)
    assert not (tmp_path.parent / "evil.ipynb").exists()
    assert not any(s.source.endswith("notes.txt") for s in subs.values())


def test_zip_member_over_the_cap_is_not_read(tmp_path):
    archive = _zip(tmp_path / "big.zip", {"a.ipynb": b"{" + b" " * 5000 + b"}"})
    [sub] = collect_submissions(archive, max_bytes=1000)
    assert sub.error == "too_large"
    assert "MB" in sub.message and "Clear Outputs" in sub.message


def test_student_ids_from_folders_or_file_names(tmp_path):
    (tmp_path / "bob").mkdir()
    (tmp_path / "bob" / "my notebook.ipynb").write_text(notebook_json(SOLUTION))
    (tmp_path / "carol.ipynb").write_text(notebook_json(SOLUTION))
    (tmp_path / "bob" / ".ipynb_checkpoints").mkdir()
    (tmp_path / "bob" / ".ipynb_checkpoints" / "x-checkpoint.ipynb").write_text("{}")
    ids = sorted(s.student_id for s in collect_submissions(tmp_path))
    assert ids == ["bob", "carol"]


@pytest.mark.parametrize(
    ("content", "error"),
    [
        (b"\xff\xfe not utf-8 \xe9", "not_utf8"),
        (notebook_json(SOLUTION)[:-30].encode(), "not_json"),
        (b'{"hello": 1}', "not_notebook"),
        (
            json.dumps({"nbformat": 5, "nbformat_minor": 0, "cells": []}).encode(),
            "unsupported_version",
        ),
        (
            json.dumps(
                {
                    "nbformat": 4,
                    "nbformat_minor": 5,
                    "cells": [{"cell_type": "oops"}],
                    "metadata": {},
                }
            ).encode(),
            "invalid_notebook",
        ),
    ],
)
def test_unreadable_files_get_a_reason(tmp_path, content, error):
    (tmp_path / "s.ipynb").write_bytes(content)
    [sub] = collect_submissions(tmp_path)
    assert sub.error == error
    assert sub.nb is None and len(sub.message) > 20


def test_nbformat_3_is_upgraded_and_keeps_exercise_ids(tmp_path):
    nb4 = nbformat.reads(notebook_json(SOLUTION), as_version=4)
    nb3 = nbformat.convert(nb4, 3)
    (tmp_path / "old.ipynb").write_text(nbformat.writes(nb3, version=3))
    [sub] = collect_submissions(tmp_path)
    assert sub.error is None and sub.upgraded_from == 3
    assert map_exercise_cells(sub.nb, IDS).status == dict.fromkeys(IDS, "ok")


def test_moved_and_unknown_ids():
    cells = [SOLUTION[0], SOLUTION[3], SOLUTION[1], SOLUTION[2], ("x = 1", "q9_unknown")]
    found = map_exercise_cells(nbformat.reads(notebook_json(cells), as_version=4), IDS)
    assert found.status == {"q1_mean": "ok", "q2_double": "ok", "q3_choice": "moved"}
    assert found.cell_of == {"q1_mean": 2, "q2_double": 3, "q3_choice": 1}
    assert found.unknown == ["q9_unknown"]


def test_missing_and_duplicated_ids():
    cells = [SOLUTION[0], SOLUTION[1], SOLUTION[1], ("answer_q3 = 'b'", None)]
    found = map_exercise_cells(nbformat.reads(notebook_json(cells), as_version=4), IDS)
    assert found.status == {"q1_mean": "duplicated", "q2_double": "missing", "q3_choice": "missing"}
    assert found.cell_of == {"q1_mean": 2}  # probed after the last cell carrying the id


def test_safe_id_strips_path_tricks():
    assert safe_id("../../etc/passwd") == "etc_passwd"
    assert safe_id("...") == "unnamed"
    assert "/" not in safe_id("a/b\\c") and len(safe_id("x" * 500)) == 100


def _row(key: str, student: str = "s") -> SubmissionRow:
    return SubmissionRow(
        key,
        student,
        "s.ipynb",
        "h",
        "99_fake",
        "v",
        "seed",
        "strict",
        "graded",
        "",
        1.0,
        2.0,
        0.1,
        "now",
    )


def test_gradebook_write_is_atomic_and_never_doubles(tmp_path):
    gb = Gradebook(tmp_path / "gb.sqlite")
    rows = [
        ExerciseRow("q1", "Q1", "correct", 1.0, 1.0, "ok"),
        ExerciseRow("q1", "Q1 again", "correct", 1.0, 1.0, "ok"),
    ]  # violates the key
    with pytest.raises(sqlite3.IntegrityError):
        gb.write(_row("k1"), rows)
    assert not gb.has("k1")  # nothing half-written
    assert gb.counts() == {"submissions": 0, "results": 0}
    assert gb.write(_row("k1"), rows[:1]) is True
    assert gb.write(_row("k1"), rows[:1]) is False
    assert gb.counts() == {"submissions": 1, "results": 1}
    assert oct((tmp_path / "gb.sqlite").stat().st_mode & 0o777) == "0o600"


def test_key_depends_on_content_version_and_seed():
    base = submission_key("s", "s.ipynb", "h1", "nb", "v1", "seedA")
    assert base == submission_key("s", "s.ipynb", "h1", "nb", "v1", "seedA")
    assert base != submission_key("s", "s.ipynb", "h2", "nb", "v1", "seedA")
    assert base != submission_key("s", "s.ipynb", "h1", "nb", "v2", "seedA")
    assert base != submission_key("s", "s.ipynb", "h1", "nb", "v1", "seedB")


def test_csv_export_guards_against_formula_injection(tmp_path):
    row = _row("k", student="=HYPERLINK(evil)")
    write_csv(tmp_path / "g.csv", [(row, [ExerciseRow("q1", "Q1", "correct", 1, 1, "m")])])
    text = (tmp_path / "g.csv").read_text()
    assert "'=HYPERLINK(evil)" in text
    assert text.splitlines()[0].startswith("student_id,submission,score,max_score,percent")


def test_feedback_renders_the_learners_line_as_code_and_escapes_the_rest():
    from mlcourse.grading.exports import feedback_html, feedback_markdown, gradescope_json

    sub = _row("k", "10001")
    exs = [
        ExerciseRow(
            "q1_mean",
            "Mean <score>",
            "error",
            0.0,
            2.0,
            "Your cell raised NameError: name 'dff' is not defined at line 2 of your cell: "
            "`mean = dff['score'].mean() < 1`",
        ),
        ExerciseRow("q2_double", "A function", "partly_correct", 0.5, 1.0, "Close <b>x</b>"),
    ]
    page = feedback_html(sub, exs, "Ada Lovelace (10001)", "Notebook 99")
    assert "<h1>Feedback: Notebook 99, Ada Lovelace (10001)</h1>" in page
    assert "<code>mean = dff[&#x27;score&#x27;].mean() &lt; 1</code>" in page
    assert "Mean &lt;score&gt;" in page and "Close &lt;b&gt;x&lt;/b&gt;" in page
    assert "Partly correct" in page
    md = feedback_markdown(sub, exs, "Ada Lovelace (10001)")
    assert md.startswith("# Feedback: 99_fake, Ada Lovelace (10001)")
    # a code span shows its characters as typed (an entity there would read "&lt;")
    assert "`mean = dff['score'].mean() < 1`" in md
    assert "Close \\<b>x\\</b>" in md and "Mean \\<score>" in md  # outside: escaped
    gs = gradescope_json(sub, exs, "Ada Lovelace", "Notebook 99", visibility="hidden")
    assert gs["output_format"] == gs["test_output_format"] == "md"
    assert gs["output"].startswith("**Notebook 99, Ada Lovelace**: 1 / 2 points")
    assert [t["status"] for t in gs["tests"]] == ["failed", "failed"]
    assert gs["tests"][1]["output"].startswith("**Partly correct.**")
    assert {t["visibility"] for t in gs["tests"]} == {"hidden"} and gs["visibility"] == "hidden"


def test_a_gradescope_submission_is_one_student_graded_on_the_notebook_named_like_it(tmp_path):
    sub = tmp_path / "submission"
    (sub / "work").mkdir(parents=True)
    good = notebook_json(SOLUTION)
    (sub / "work" / "99_fake.ipynb").write_text(good)
    (sub / "aaa_scratch.ipynb").write_text(good.replace("mean()", "sum()"))
    subs = collect_submissions(sub, lms="gradescope", notebook="99_fake")
    graded = [s for s in subs if not s.superseded_by]
    assert [s.source for s in graded] == ["work/99_fake.ipynb"]
    assert {s.student_id for s in subs} == {"submission"}
    assert [s.superseded_by for s in subs if s.superseded_by] == ["work/99_fake.ipynb"]
