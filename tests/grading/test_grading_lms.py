"""LMS round trip: Canvas and Moodle export names, roster join, canvas.csv and moodle.csv.

The fast tests check the naming rules, the roster reader and the import files against the
documented headers; the slow ones grade a small class exported from Canvas and from Moodle
end to end (fake notebook "99_fake", process isolation) into files the LMS imports.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import sqlite3
import zipfile
from pathlib import Path
from types import SimpleNamespace

import pytest
from graderkit import SOLUTION, notebook_json, with_answer

from mlcourse.grading.engine import Progress
from mlcourse.grading.intake import collect_submissions
from mlcourse.grading.lms import (
    CANVAS_HEADER,
    MOODLE_HEADER,
    Person,
    RosterError,
    attention_lines,
    detect,
    identify,
    load_roster,
    moodle_date,
    write_canvas_csv,
    write_moodle_csv,
)

#: Canvas's gradebook import: these five columns, then one column per assignment
#: (https://community.canvaslms.com/t5/Instructor-Guide/How-do-I-import-grades-in-the-Gradebook/ta-p/807)
CANVAS_DOCUMENTED = "Student,ID,SIS User ID,SIS Login ID,Section"
#: Moodle's offline grading worksheet (mod/assign/feedback/offline), as Moodle downloads it
MOODLE_DOCUMENTED = (
    "Identifier,Full name,Email address,Status,Grade,Maximum Grade,Grade can be changed,"
    "Last modified (submission),Last modified (grade),Feedback comments"
)

GOOD = notebook_json(SOLUTION).encode()
WRONG_Q2 = notebook_json(with_answer("q2_double", "def double(x):\n    return x + 1")).encode()
WRONG_Q3 = notebook_json(with_answer("q3_choice", "answer_q3 = 'a'")).encode()
CRASH = notebook_json(with_answer("q2_double", "import os\nos._exit(3)")).encode()


def _zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


# -- names ----------------------------------------------------------------------------------


def test_canvas_names_give_user_id_name_lateness_and_submission_id():
    late = identify(("lovelaceada_LATE_10001_90001_01_encoding_basics.ipynb",), "canvas")
    assert late is not None
    assert (late.lms, late.lms_id, late.name, late.late, late.submission_id) == (
        "canvas",
        "10001",
        "lovelaceada",
        True,
        90001,
    )
    assert late.file_name == "01_encoding_basics.ipynb"
    again = identify(("hoppergrace_10002_90007_01_encoding_basics-2.ipynb",), "auto")
    assert again is not None and not again.late and again.submission_id == 90007
    assert again.file_name == "01_encoding_basics.ipynb"  # Canvas's -2 removed
    assert identify(("alice.ipynb",), "canvas") is None
    assert identify(("bob_12_notes.txt",), "canvas") is None


def test_moodle_folders_and_flat_names():
    folder = identify(("Ada Lovelace_500101_assignsubmission_file_", "01.ipynb"), "moodle")
    assert folder is not None
    assert (folder.lms, folder.lms_id, folder.name, folder.late) == (
        "moodle",
        "500101",
        "Ada Lovelace",
        False,
    )
    assert folder.file_name == "01.ipynb"
    flat = identify(("Grace M. Hopper_500102_assignsubmission_file_hw 01.ipynb",), "auto")
    assert flat is not None and (flat.lms_id, flat.name, flat.file_name) == (
        "500102",
        "Grace M. Hopper",
        "hw 01.ipynb",
    )
    nested = identify(("José Ü_500103_assignsubmission_file_", "sub", "x.ipynb"), "moodle")
    assert nested is not None and nested.name == "José Ü" and nested.file_name == "x.ipynb"
    assert identify(("alice", "01.ipynb"), "moodle") is None
    # paths start below the wrapping folders (intake strips them): only the outermost counts
    assert identify(("alice", "José Ü_500103_assignsubmission_file_", "x.ipynb"), "moodle") is None


def test_detection_follows_most_names_and_falls_back_to_plain():
    canvas = [("a_10001_1_x.ipynb",), ("b_LATE_10002_2_x.ipynb",), ("README.ipynb",)]
    moodle = [
        ("A B_1_assignsubmission_file_", "x.ipynb"),
        ("C_2_assignsubmission_file_", "y.ipynb"),
    ]
    assert detect(canvas) == "canvas"
    assert detect(moodle) == "moodle"
    assert detect([("alice", "01.ipynb"), ("bob.ipynb",)]) == ""
    assert detect([("a_10001_1_x.ipynb",), ("bob.ipynb",), ("carol.ipynb",)]) == ""
    assert detect([]) == ""


def test_canvas_intake_keeps_the_latest_submission_and_the_rest_as_history(tmp_path):
    archive = _zip(
        tmp_path / "submissions.zip",
        {
            "lovelaceada_10001_90001_99_fake.ipynb": WRONG_Q2,
            "lovelaceada_LATE_10001_90005_99_fake-1.ipynb": GOOD,
            "hoppergrace_10002_90002_99_fake.ipynb": GOOD,
            "hoppergrace_10002_90002_scratch.ipynb": GOOD,
            "turingalan_10003_90003_99_fake.ipynb": b"{broken",
            "README.ipynb": GOOD,
        },
    )
    subs = collect_submissions(archive, lms="auto", notebook="99_fake")
    by_source = {s.source: s for s in subs}
    ada_old = by_source["lovelaceada_10001_90001_99_fake.ipynb"]
    ada_new = by_source["lovelaceada_LATE_10001_90005_99_fake-1.ipynb"]
    assert ada_old.student_id == ada_new.student_id == "10001"
    assert ada_old.superseded_by == ada_new.source and ada_new.superseded_by is None
    assert ada_new.identity is not None and ada_new.identity.late
    # one submission with two notebooks: the one named like the assignment is graded
    assert by_source["hoppergrace_10002_90002_scratch.ipynb"].superseded_by == (
        "hoppergrace_10002_90002_99_fake.ipynb"
    )
    turing = by_source["turingalan_10003_90003_99_fake.ipynb"]
    assert turing.error == "not_json" and turing.superseded_by is None
    readme = by_source["README.ipynb"]
    assert readme.identity is None and readme.student_id == "README"
    assert any("Canvas's export names" in n for n in readme.notes)
    # --lms none: today's rule (file stems)
    plain = collect_submissions(archive, lms="none")
    assert all(s.identity is None and s.superseded_by is None for s in plain)
    assert "lovelaceada_10001_90001_99_fake" in {s.student_id for s in plain}


def test_moodle_intake_one_folder_per_student_even_in_a_wrapping_folder(tmp_path):
    archive = _zip(
        tmp_path / "moodle.zip",
        {
            "CS101-Notebook 99-123/Ada Lovelace_500101_assignsubmission_file_/99_fake.ipynb": GOOD,
        },
    )
    [sub] = collect_submissions(archive, lms="auto", notebook="99_fake")
    assert sub.student_id == "500101" and sub.identity is not None
    assert sub.identity.name == "Ada Lovelace" and sub.identity.lms == "moodle"


def test_a_crafted_name_cannot_take_another_students_id(tmp_path):
    # a folder is all Moodle's text: the id is the last one; a file name cannot add one
    crafted = identify(
        ("Eve_500101_assignsubmission_file_ x_500777_assignsubmission_file_", "a.ipynb"), "moodle"
    )
    assert crafted is not None and crafted.lms_id == "500777"
    inner = identify(("Eve_500777_assignsubmission_file_", "Ada_500101_x.ipynb"), "moodle")
    assert inner is not None and inner.lms_id == "500777"
    # two different names for one id: a doctored export, nothing of it is graded
    archive = _zip(
        tmp_path / "m.zip",
        {
            "Ada Lovelace_500101_assignsubmission_file_99_fake.ipynb": GOOD,
            "Eve_500101_assignsubmission_file_99_fake.ipynb": GOOD,
            "Grace Hopper_500102_assignsubmission_file_99_fake.ipynb": GOOD,
        },
    )
    subs = {s.source: s for s in collect_submissions(archive, lms="moodle", notebook="99_fake")}
    assert subs["Grace Hopper_500102_assignsubmission_file_99_fake.ipynb"].error is None
    for name in ("Ada Lovelace", "Eve"):
        sub = subs[f"{name}_500101_assignsubmission_file_99_fake.ipynb"]
        assert sub.error == "id_conflict" and "Ada Lovelace, Eve" in sub.message


def test_a_file_name_inside_a_students_folder_names_nobody(tmp_path):
    folder = tmp_path / "subs"
    (folder / "bob").mkdir(parents=True)
    (folder / "bob" / "lovelaceada_10001_99999_99_fake.ipynb").write_bytes(GOOD)
    (folder / "carol").mkdir()
    (folder / "carol" / "Ada Lovelace_500101_assignsubmission_file_x.ipynb").write_bytes(GOOD)
    subs = collect_submissions(folder, lms="auto", notebook="99_fake")
    assert sorted(s.student_id for s in subs) == ["bob", "carol"]
    assert all(s.identity is None for s in subs)
    forced = collect_submissions(folder, lms="canvas", notebook="99_fake")
    assert sorted(s.student_id for s in forced) == ["bob", "carol"]


def test_unknown_lms_rules_are_refused(tmp_path):
    with pytest.raises(ValueError, match="canvas, moodle, auto or none"):
        collect_submissions(tmp_path, lms="blackboard")


# -- roster ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "first"),
    [
        (
            "LMS ID,SIS ID,Name,Email,Section\n10001,S1,Ada Lovelace,ada@x.org,A\n",
            ("10001", "S1", "Ada Lovelace", "ada@x.org", "A"),
        ),
        (
            "\ufeffStudent,ID,SIS User ID,SIS Login ID,Section,E-mail\n"
            '"Lovelace, Ada",10001,S1,ada,A,ada@x.org\n',
            ("10001", "S1", "Lovelace, Ada", "ada@x.org", "A"),
        ),
        (
            "Identifier;Full name;Email address;Student number;Group\n"
            "Participant 500101;Ada Lovelace;ada@x.org;S1;G1\n",
            ("500101", "S1", "Ada Lovelace", "ada@x.org", "G1"),
        ),
        ("user_id\tfull-name\n10001\tAda\n", ("10001", "", "Ada", "", "")),
        (  # Canvas's own gradebook export is a roster (its "Points Possible" row is skipped)
            "Student,ID,SIS User ID,SIS Login ID,Section,Notebook 01 (123)\n"
            "    Points Possible,,,,,15.00\n"
            '"Lovelace, Ada",10001,S1,ada,Mon,12.00\n',
            ("10001", "S1", "Lovelace, Ada", "", "Mon"),
        ),
    ],
)
def test_roster_accepts_common_header_spellings(tmp_path, text, first):
    path = tmp_path / "roster.csv"
    path.write_text(text, encoding="utf-8")
    roster = load_roster(path)
    e = roster.entries[0]
    assert (e.lms_id, e.sis_id, e.name, e.email, e.section) == first
    assert roster.find("10001" if first[0] == "10001" else "500101") is e


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"Name,Email\nAda,ada@x.org\n", "no LMS id column"),
        (
            b"ID,Name\n10001,Ada\n10001,Ada again\n",
            r"10001 appears twice in the roster .* \(lines 2 and 3\)",
        ),
        (b"ID,Name\n10001,Ada,extra\n", "line 2 .* has 3 fields but the header has 2"),
        (b"ID,Name\n,Ada\n", "line 2 .* has no LMS id"),
        (b"ID,Name\n", "header but no students"),
        (b"", "is empty"),
        (b"ID,Name\n10001,Ad\xe9\n", "not UTF-8"),
        (b"ID,User ID,Name\n1,2,Ada\n", "several columns for the lms id"),
        (b'ID,Name\n1,"' + b"x" * 200_000 + b'"\n', "not a readable CSV file"),
    ],
)
def test_a_malformed_roster_says_what_is_wrong(tmp_path, content, message):
    path = tmp_path / "roster.csv"
    path.write_bytes(content)
    with pytest.raises(RosterError, match=message):
        load_roster(path)


def test_a_missing_roster_is_a_clear_error(tmp_path):
    with pytest.raises(RosterError, match="does not exist"):
        load_roster(tmp_path / "nope.csv")


# -- import files ----------------------------------------------------------------------------


def _sub(key: str, student: str, score: float, status: str = "graded", detail: str = ""):
    return SimpleNamespace(
        key=key,
        student_id=student,
        source=f"{student}/{key}.ipynb",
        score=score,
        max_score=4.0,
        status=status,
        detail=detail,
    )


def test_canvas_csv_has_the_documented_header_and_escapes_formulas(tmp_path):
    rows = [
        (_sub("a", "10001", 3.0), Person("canvas", "10001", "=HYPERLINK(x)", False, sis_id="S1")),
        (_sub("b", "10002", 4.0, "superseded"), Person("canvas", "10002", "b", False)),
        (_sub("c", "10003", 1.0, "grader_error"), Person("canvas", "10003", "c", False)),
        (_sub("d", "carol", 2.0), Person("", "", "", False)),
        (_sub("e", "10004", 1.0), Person("canvas", "10004", "Grace", True, section="+A")),
    ]
    n = write_canvas_csv(tmp_path / "canvas.csv", rows, "01_encoding_basics", max_grade=10)
    text = (tmp_path / "canvas.csv").read_text(encoding="utf-8")
    lines = text.splitlines()
    assert lines[0] == CANVAS_DOCUMENTED + ",01_encoding_basics"
    assert ",".join(CANVAS_HEADER) == CANVAS_DOCUMENTED
    table = list(csv.DictReader(io.StringIO(text)))
    assert n == 2 and [r["ID"] for r in table] == ["10001", "10004"]
    assert table[0]["Student"] == "'=HYPERLINK(x)" and table[0]["SIS User ID"] == "S1"
    assert table[0]["01_encoding_basics"] == "7.5"  # 3 of 4 points scaled to 10
    assert table[1]["Section"] == "'+A"


def test_moodle_csv_is_the_grading_worksheet(tmp_path):
    rows = [
        (_sub("a", "500101", 3.0), Person("moodle", "500101", "Ada", False, email="a@x"), "-ok"),
        (_sub("b", "500102", 1.0, "superseded"), Person("moodle", "500102", "B", False), ""),
    ]
    now = dt.datetime(2026, 12, 2, 13, 5, tzinfo=dt.UTC)
    n = write_moodle_csv(tmp_path / "moodle.csv", rows, now=now)
    text = (tmp_path / "moodle.csv").read_text(encoding="utf-8")
    assert text.splitlines()[0] == MOODLE_DOCUMENTED == ",".join(MOODLE_HEADER)
    [row] = list(csv.DictReader(io.StringIO(text)))
    assert n == 1
    assert row["Identifier"] == "Participant 500101" and row["Email address"] == "a@x"
    assert (row["Grade"], row["Maximum Grade"], row["Grade can be changed"]) == (
        "3.00",
        "4.00",
        "Yes",
    )
    assert row["Feedback comments"] == "'-ok"
    assert row["Last modified (grade)"].endswith("December 2026, 1:05 PM")
    assert moodle_date(dt.datetime(2026, 1, 5, 0, 7)) == "Monday, 5 January 2026, 12:07 AM"


def _who(lms_id: str = "", name: str = "") -> Person:
    return Person("canvas" if lms_id else "", lms_id, name, False)


def test_attention_lines_name_rejected_errored_and_timed_out_students():
    timed_out = "the notebook stopped early: it ran longer than the 600 s allowed"
    rows = [
        (_sub("a", "10001", 0, "rejected", "not_json: the file is broken"), _who("10001", "Ada")),
        (_sub("b", "10002", 0, "stopped_early", timed_out), _who("10002", "Grace")),
        (_sub("c", "carol", 1, "stopped_early", "the notebook stopped early: it crashed"), _who()),
        (_sub("d", "10004", 4), _who("10004", "Alan")),
    ]
    text = "\n".join(attention_lines(rows))
    assert "rejected: Ada (10001): not_json" in text
    assert "timed out: Grace (10002)" in text
    assert "errored (the notebook stopped early): carol: it crashed" in text
    assert "Alan" not in text


def test_attention_lines_name_graded_students_whose_exercise_raised_or_timed_out():
    """The notebook ran to its end (``graded``), but an exercise's cell raised or hit the
    per-cell limit: the student and the exercise are named, not just counted."""

    def ex(ex_id: str, status: str, message: str = ""):
        return SimpleNamespace(exercise_id=ex_id, status=status, message=message)

    rows = [
        (_sub("a", "10001", 2), _who("10001", "Ada")),
        (_sub("b", "10002", 3), _who("10002", "Grace")),
        (_sub("c", "10003", 4), _who("10003", "Alan")),
    ]
    exercises = {
        "a": [ex("q1", "error", "This exercise's cell raised NameError"), ex("q2", "correct")],
        "b": [ex("q3", "error", "This exercise's cell ran longer than the 60 s limit")],
        "c": [ex("q1", "correct"), ex("q2", "incorrect", "not the expected value")],
    }
    text = "\n".join(attention_lines(rows, exercises))
    assert "an exercise's cell raised: Ada (10001) (q1)" in text
    assert "an exercise's cell hit the time limit: Grace (10002) (q3)" in text
    assert "Alan" not in text


def test_a_cell_timeout_reads_as_a_timeout_not_as_an_exception():
    from mlcourse.grading.judge import _cell_error
    from mlcourse.grading.sandbox import RunResult

    def run(error: str) -> RunResult:
        return RunResult("completed", "", {3: {"error": error, "started": True}}, {}, 1.0)

    slow = _cell_error(run("the cell ran longer than the 60 s limit and was stopped"), 3, "x")
    assert slow.startswith("This exercise's cell ran longer than the 60 s limit"), slow
    assert "raised" not in slow
    raised = _cell_error(run("NameError: name 'dff' is not defined"), 3, "x")
    assert raised.startswith("This exercise's cell raised NameError"), raised


# -- terminal -------------------------------------------------------------------------------


def test_eta_is_unknown_then_honest_not_zero():
    out = io.StringIO()
    p = Progress(total=6, stream=out, runs=5, workers=2)
    p.update("rejected")  # a rejected file costs nothing: no line, no estimate from it
    assert p.eta() is None and out.getvalue() == ""
    p.prior = 10.0  # the reference run took 10 s
    assert p.eta() == pytest.approx(30.0)  # 5 runs, 2 at a time: 3 rounds
    p.start -= 6.0  # the first run finished after 6 s
    p.update("graded", run_seconds=6.0)
    assert p.eta() == pytest.approx(12.0)  # 4 left, 2 rounds of 6 s
    p.update("graded", run_seconds=6.0)
    assert p.eta() == pytest.approx(12.0, rel=0.05)  # max(2 rounds * 6 s, 6 s / 2 runs * 3)
    assert "eta 0 s" not in out.getvalue() and "eta 12 s" in out.getvalue()
    for _ in range(3):
        p.update("graded", run_seconds=6.0)
    assert "done in" in out.getvalue().splitlines()[-1]


@pytest.mark.slow
def test_the_terminal_says_what_is_prepared_and_names_failed_students(course, tmp_path):
    from graderkit import FAKEPKG, SEED, TEST_LIMITS

    from mlcourse.grading.engine import GradeConfig, grade_batch

    archive = _zip(
        tmp_path / "subs.zip",
        {"knuthdonald_10004_90004_99_fake.ipynb": CRASH, "x_10005_90005_99_fake.ipynb": b"{"},
    )
    stream = io.StringIO()
    cfg = GradeConfig(
        submissions=archive,
        notebook="99",
        seed=SEED,
        out=tmp_path / "out",
        jobs=1,
        isolation="process",
        limits=TEST_LIMITS,
        exercises_module="fake_exercises",
        exercises_path=(str(FAKEPKG),),
        solution=course["solution"],
        data_variant=course["variant"],
        stream=stream,
        preload=("numpy", "pandas", "IPython", "mlcourse.exercises.spec"),
    )
    summary = grade_batch(cfg)
    lines = stream.getvalue().splitlines()
    assert lines[0].startswith("running the reference solution on the variant")
    assert lines[1] == "grading 1 notebook, 1 at a time ..."
    assert "done in" in lines[-1] and "eta 0 s" not in stream.getvalue()
    text = summary.text()
    assert "errored (the notebook stopped early): knuthdonald (10004)" in text
    assert "rejected: x (10005): not_json" in text


# -- end to end -----------------------------------------------------------------------------


def _rows(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))


@pytest.mark.slow
def test_a_canvas_class_end_to_end(grade, tmp_path):
    archive = _zip(
        tmp_path / "submissions.zip",
        {
            "lovelaceada_10001_90001_99_fake.ipynb": WRONG_Q2,
            "lovelaceada_LATE_10001_90005_99_fake-1.ipynb": GOOD,
            "hoppergrace_10002_90002_99_fake.ipynb": WRONG_Q3,
            "turingalan_10003_90003_99_fake.ipynb": b"{broken",
            "knuthdonald_10004_90004_99_fake.ipynb": CRASH,
        },
    )
    roster = tmp_path / "roster.csv"
    roster.write_text(
        "Student,ID,SIS User ID,SIS Login ID,Section\n"
        '"Lovelace, Ada",10001,S1,ada,Mon\n"Hopper, Grace",10002,S2,grace,Tue\n'
        '"Turing, Alan",10003,S3,alan,Mon\n"Dijkstra, Edsger",10005,S5,edsger,Tue\n',
        encoding="utf-8",
    )
    out = tmp_path / "out"
    stale = out / "feedback" / "lovelaceada_10001_90001_99_fake.html"  # an older version's name
    stale.parent.mkdir(parents=True)
    stale.write_text("old feedback")
    summary = grade(archive, out=out, isolation="process", roster=roster, lms="auto")

    grades = {r["submission"]: r for r in _rows(out / "grades.csv")}
    assert grades["lovelaceada_10001_90001_99_fake.ipynb"]["status"] == "superseded"
    ada = grades["lovelaceada_LATE_10001_90005_99_fake-1.ipynb"]
    assert (ada["student_id"], ada["score"], ada["late"], ada["name"]) == (
        "10001",
        "4",
        "yes",
        "Lovelace, Ada",
    )
    assert summary.counts["superseded"] == 1 and len(summary.percents) == 4
    con = sqlite3.connect(summary.paths["gradebook"])
    recorded = con.execute(
        "SELECT s.source, s.status, i.lms, i.lms_id, i.name, i.late, i.submission_id, "
        "i.superseded_by FROM identities i JOIN submissions s ON s.key = i.key "
        "WHERE i.lms_id = '10001' ORDER BY i.submission_id"
    ).fetchall()
    con.close()
    assert recorded == [
        ("lovelaceada_10001_90001_99_fake.ipynb", "superseded", "canvas", "10001",
         "lovelaceada", 0, 90001, "lovelaceada_LATE_10001_90005_99_fake-1.ipynb"),
        ("lovelaceada_LATE_10001_90005_99_fake-1.ipynb", "graded", "canvas", "10001",
         "lovelaceada", 1, 90005, None),
    ]  # fmt: skip

    text = (out / "canvas.csv").read_text(encoding="utf-8")
    assert text.splitlines()[0] == CANVAS_DOCUMENTED + ",99_fake"
    canvas = {r["ID"]: r for r in _rows(out / "canvas.csv")}
    assert set(canvas) == {"10001", "10002", "10003", "10004"}
    assert canvas["10001"]["99_fake"] == "4" and canvas["10001"]["SIS Login ID"] == "ada"
    assert canvas["10002"]["99_fake"] == "3" and canvas["10002"]["Section"] == "Tue"
    assert canvas["10003"]["99_fake"] == "0"  # rejected: a 0, named in the summary
    assert canvas["10004"]["Student"] == "knuthdonald" and canvas["10004"]["SIS User ID"] == ""
    assert not (out / "moodle.csv").exists()

    assert sorted(p.name for p in (out / "feedback").glob("*.html")) == [
        "hoppergrace_10002.html",
        "knuthdonald_10004.html",
        "lovelaceada_10001.html",
        "turingalan_10003.html",
    ]  # the stale file of the superseded submission is gone
    # feedback names the student (roster name, LMS id) and the assignment
    ada_html = (out / "feedback" / "lovelaceada_10001.html").read_text(encoding="utf-8")
    assert "<h1>Feedback: 99_fake, Lovelace, Ada (10001)</h1>" in ada_html
    knuth_md = (out / "feedback" / "knuthdonald_10004.md").read_text(encoding="utf-8")
    assert knuth_md.startswith("# Feedback: 99_fake, knuthdonald (10004)")

    report = summary.text()
    assert "roster rows without a submission: Dijkstra, Edsger (10005)" in report
    assert "submissions without a roster row: knuthdonald (10004)" in report
    assert "late (graded, flagged in grades.csv): lovelaceada (10001)" in report
    assert "older submissions kept as history, not graded: 1" in report
    assert "rejected: Turing, Alan (10003): not_json" in report
    assert "errored (the notebook stopped early): knuthdonald (10004)" in report
    assert "canvas.csv: 4 students" in report

    # a rerun grades nothing again and writes the same import file
    again = grade(archive, out=out, isolation="process", roster=roster, lms="auto")
    assert again.graded_now == 0
    assert (out / "canvas.csv").read_text(encoding="utf-8") == text


@pytest.mark.slow
def test_a_moodle_class_end_to_end(grade, tmp_path):
    folder = "Ada Lovelace_500101_assignsubmission_file_"
    archive = _zip(
        tmp_path / "moodle.zip",
        {
            f"{folder}/99_fake.ipynb": GOOD,
            "Grace Hopper_500102_assignsubmission_file_/99_fake.ipynb": WRONG_Q2,
            "Grace Hopper_500102_assignsubmission_file_/untitled.ipynb": GOOD,
            "Alan Turing_500103_assignsubmission_file_/99_fake.ipynb": WRONG_Q3,
        },
    )
    roster = tmp_path / "roster.csv"
    roster.write_text(
        "Identifier,Full name,Email address\n"
        "Participant 500101,Ada Lovelace,ada@uni.example\n"
        "Participant 500102,Grace Hopper,grace@uni.example\n"
        "Participant 500103,Alan Turing,alan@uni.example\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    summary = grade(archive, out=out, isolation="process", roster=roster, max_grade=100.0)
    text = (out / "moodle.csv").read_text(encoding="utf-8")
    assert text.splitlines()[0] == MOODLE_DOCUMENTED
    moodle = {r["Identifier"]: r for r in _rows(out / "moodle.csv")}
    assert set(moodle) == {"Participant 500101", "Participant 500102", "Participant 500103"}
    assert moodle["Participant 500101"]["Grade"] == "100.00"
    assert moodle["Participant 500102"]["Grade"] == "75.00"  # 99_fake.ipynb graded, not untitled
    assert moodle["Participant 500103"]["Email address"] == "alan@uni.example"
    assert all(r["Maximum Grade"] == "100.00" for r in moodle.values())
    assert "Partly correct" in moodle["Participant 500102"]["Feedback comments"] or (
        "Incorrect" in moodle["Participant 500102"]["Feedback comments"]
    )
    assert not (out / "canvas.csv").exists()
    report = summary.text()
    assert "roster: 3 students, 3 with a submission, 0 without" in report
    assert "LMS export: Moodle names" in report
    grades = {r["submission"]: r for r in _rows(out / "grades.csv")}
    assert grades[
        "Grace Hopper_500102_assignsubmission_file_/untitled.ipynb"
    ]["status"] == "superseded"  # fmt: skip


def test_plain_folders_with_a_roster_get_both_lms_files_and_stale_feedback_goes(tmp_path):
    from mlcourse.grading.exports import MANIFEST, export_all
    from mlcourse.grading.gradebook import ExerciseRow, Gradebook, SubmissionRow
    from mlcourse.grading.lms import person

    roster_path = tmp_path / "roster.csv"
    roster_path.write_text("ID,SIS ID,Name,Email\n10001,S1,Ada,ada@x\n10002,S2,Grace,g@x\n")
    roster = load_roster(roster_path)
    gb = Gradebook(tmp_path / "gb.sqlite")
    people = {}
    for key, student in (("k1", "S1"), ("k2", "ada@x"), ("k3", "carol")):
        gb.write(
            SubmissionRow(key, student, f"{student}/01.ipynb", key, "99_fake", "v", "s",
                          "process", "graded", "", 1.0, 1.0, 0.1, "now"),
            [ExerciseRow("q1", "Q1", "correct", 1.0, 1.0, "Well done.")],
        )  # fmt: skip
        people[key] = person(None, student, roster)
    assert people["k1"].lms_id == people["k2"].lms_id == "10001"  # by SIS id, then by email
    assert not people["k3"].on_roster
    out = tmp_path / "out"
    (out / "feedback").mkdir(parents=True)
    (out / "feedback" / "gone.html").write_text("an earlier run's file")
    (out / "feedback" / MANIFEST).write_text('["gone.html"]')
    (out / "feedback" / "mine.txt").write_text("the instructor's own notes")
    report = export_all(gb, ["k1", "k3"], out, people=people, assignment="a", roster_given=True)
    assert {"canvas", "moodle"} <= set(report.paths)
    assert [r["ID"] for r in _rows(out / "canvas.csv")] == ["10001"]
    assert [r["Identifier"] for r in _rows(out / "moodle.csv")] == ["Participant 10001"]
    assert not (out / "feedback" / "gone.html").exists()
    assert (out / "feedback" / "mine.txt").exists()  # never listed: never removed
    assert (out / "feedback" / "S1.html").exists() and (out / "feedback" / "carol.html").exists()
    assert any("1 without an LMS id" in n for n in report.notes)
    # without the roster, no LMS file, and an old one is not left to be imported by mistake
    report = export_all(gb, ["k1", "k3"], out, people={}, assignment="a")
    assert not (out / "canvas.csv").exists() and not (out / "moodle.csv").exists()
    gb.close()
