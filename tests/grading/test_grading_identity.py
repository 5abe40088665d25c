"""Identities come from the outermost level only; no export has two rows for one id.

A notebook nested anywhere in a student's folder (or a student's entry of a Canvas, Moodle
or plain export) is that student's, whatever the inner names say; an inner name claiming
another participant is flagged in the summary. Each attack sits beside its honest twin (the
same batch without it): the victim's grade is the twin's, and every export has one row per
id. The fast tests stop at intake and the exporters; two slow ones grade the fake notebook
"99_fake" end to end (process isolation).
"""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest
from graderkit import SOLUTION, notebook_json, with_answer, write_submissions

from mlcourse.grading.exports import export_all
from mlcourse.grading.gradebook import ExerciseRow, Gradebook, SubmissionRow
from mlcourse.grading.intake import Submission, collect_submissions
from mlcourse.grading.lms import (
    DuplicateIdError,
    Person,
    exportable,
    inner_claims,
    lms_lines,
    load_roster,
    person,
    write_canvas_csv,
    write_moodle_csv,
)

GOOD = notebook_json(SOLUTION).encode()
WRONG = notebook_json(with_answer("q2_double", "def double(x):\n    return 0")).encode()
ADA = "Ada Lovelace_500101_assignsubmission_file_"
EVE = "Eve Mallory_500777_assignsubmission_file_"
#: the victim's own file is not named like the assignment; the attacker's nested copy is
MOODLE_HONEST = {f"{ADA}/notebook.ipynb": GOOD, f"{EVE}/99_fake.ipynb": WRONG}
MOODLE_ATTACK = {**MOODLE_HONEST, f"{EVE}/{ADA}/99_fake.ipynb": WRONG}
PLAIN_HONEST = {"alice/99_fake.ipynb": GOOD, "bob/99_fake.ipynb": WRONG}
PLAIN_ATTACK = {**PLAIN_HONEST, "bob/alice/99_fake.ipynb": WRONG}


def _zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def _current(subs: list[Submission]) -> dict[str, list[str]]:
    """student id -> the sources that would be graded (not history)."""
    out: dict[str, list[str]] = {}
    for s in subs:
        if not s.superseded_by:
            out.setdefault(s.student_id, []).append(s.source)
    return out


def _rows(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))


def _row(key: str, student: str, source: str, status: str = "graded") -> SubmissionRow:
    return SubmissionRow(
        key, student, source, key, "99_fake", "v", "s", "process", status, "", 1.0, 1.0, 0.1, "t"
    )


# -- intake ---------------------------------------------------------------------------------


@pytest.mark.parametrize("wrap", ["", "CS101-Notebook 99-123/"])
def test_a_moodle_folder_nested_in_ones_own_is_ones_own(tmp_path, wrap):
    twin = collect_submissions(
        _zip(tmp_path / "twin.zip", {wrap + k: v for k, v in MOODLE_HONEST.items()}),
        lms="auto",
        notebook="99_fake",
    )
    subs = collect_submissions(
        _zip(tmp_path / "attack.zip", {wrap + k: v for k, v in MOODLE_ATTACK.items()}),
        lms="auto",
        notebook="99_fake",
    )
    by_source = {s.source: s for s in subs}
    ada = by_source[f"{ADA}/notebook.ipynb"]
    assert ada.student_id == "500101" and ada.superseded_by is None and ada.error is None
    nested = by_source[f"{EVE}/{ADA}/99_fake.ipynb"]
    assert nested.student_id == "500777" and nested.identity is not None
    assert (nested.identity.lms_id, nested.identity.name) == ("500777", "Eve Mallory")
    assert nested.superseded_by == f"{EVE}/99_fake.ipynb"  # Eve's own top-level notebook wins
    assert (
        _current(subs)
        == _current(twin)
        == {
            "500101": [f"{ADA}/notebook.ipynb"],
            "500777": [f"{EVE}/99_fake.ipynb"],
        }
    )
    [claim] = inner_claims(subs)
    assert (claim.submitter, claim.inner) == ("Eve Mallory (500777)", ADA)
    assert claim.claimed == "Ada Lovelace (500101)"
    line = next(x for x in lms_lines(subs, []) if "claims another participant" in x)
    assert ADA in line and "Eve Mallory (500777)'s own" in line
    assert not inner_claims(twin)


def test_a_lone_moodle_folder_is_never_stripped_as_a_wrapper(tmp_path):
    # Eve alone in the export, her files all nested: her folder is still the outermost level
    archive = _zip(
        tmp_path / "m.zip",
        {f"{EVE}/{ADA}/99_fake.ipynb": WRONG, f"{EVE}/work/old.ipynb": WRONG},
    )
    subs = collect_submissions(archive, lms="auto", notebook="99_fake")
    assert {s.student_id for s in subs} == {"500777"}
    assert _current(subs) == {"500777": [f"{EVE}/{ADA}/99_fake.ipynb"]}
    assert [c.claimed for c in inner_claims(subs)] == ["Ada Lovelace (Moodle participant 500101)"]


def test_a_plain_sub_folder_named_after_another_login_is_ones_own(tmp_path):
    twin = collect_submissions(write_submissions(tmp_path / "twin", PLAIN_HONEST))
    subs = collect_submissions(write_submissions(tmp_path / "attack", PLAIN_ATTACK))
    by_source = {s.source: s for s in subs}
    assert by_source["bob/alice/99_fake.ipynb"].student_id == "bob"
    assert by_source["bob/alice/99_fake.ipynb"].superseded_by == "bob/99_fake.ipynb"
    assert (
        _current(subs)
        == _current(twin)
        == {
            "alice": ["alice/99_fake.ipynb"],
            "bob": ["bob/99_fake.ipynb"],
        }
    )
    [claim] = inner_claims(subs)
    assert (claim.submitter, claim.source, claim.inner, claim.claimed) == (
        "bob",
        "bob/alice/99_fake.ipynb",
        "alice",
        "alice",
    )
    assert not inner_claims(twin)


def test_inner_names_claiming_roster_entries_or_export_names_are_flagged(tmp_path):
    roster_path = tmp_path / "roster.csv"
    roster_path.write_text(
        "ID,Name,Login,Email\n10001,Ada Lovelace,ada,ada@uni.example\n10002,Bob,bob,b@x\n"
    )
    roster = load_roster(roster_path)
    folder = write_submissions(
        tmp_path / "subs",
        {
            "bob/ada_lovelace/99_fake.ipynb": WRONG,  # the roster's name, spelt differently
            "bob/notes/ada@uni.example.ipynb": WRONG,  # the roster's email as a file name
            "bob/lovelaceada_10001_90009_99_fake.ipynb": WRONG,  # a Canvas export name
            "bob/bob/99_fake.ipynb": WRONG,  # one's own login names nobody else
            "carol/work/99_fake.ipynb": GOOD,  # ordinary inner names
        },
    )
    subs = collect_submissions(folder, lms="auto", notebook="99_fake")
    assert {s.student_id for s in subs} == {"bob", "carol"}
    assert all(s.identity is None for s in subs)
    claims = inner_claims(subs, roster)
    assert sorted((c.source, c.claimed) for c in claims) == [
        ("bob/ada_lovelace/99_fake.ipynb", "Ada Lovelace (10001)"),
        ("bob/lovelaceada_10001_90009_99_fake.ipynb", "Ada Lovelace (10001)"),
        ("bob/notes/ada@uni.example.ipynb", "Ada Lovelace (10001)"),
    ]
    assert {c.submitter for c in claims} == {"Bob (10002)"}


def test_canvas_latest_wins_only_at_the_top_level(tmp_path):
    archive = _zip(
        tmp_path / "canvas.zip",
        {
            "lovelaceada_10001_90001_99_fake.ipynb": WRONG,
            "lovelaceada_LATE_10001_90005_99_fake-1.ipynb": GOOD,  # a genuine resubmission
            "hoppergrace_10002_90002_99_fake.ipynb": GOOD,
            # a higher submission id, nested in a plain folder: names nobody
            "eve/lovelaceada_10001_99999_99_fake.ipynb": WRONG,
            "eve/hoppergrace_10002_99998_99_fake.ipynb": WRONG,
        },
    )
    subs = collect_submissions(archive, lms="auto", notebook="99_fake")
    by_source = {s.source: s for s in subs}
    assert by_source["lovelaceada_10001_90001_99_fake.ipynb"].superseded_by == (
        "lovelaceada_LATE_10001_90005_99_fake-1.ipynb"
    )
    current = _current(subs)
    assert current["10001"] == ["lovelaceada_LATE_10001_90005_99_fake-1.ipynb"]
    assert current["10002"] == ["hoppergrace_10002_90002_99_fake.ipynb"]
    assert len(current["eve"]) == 1 and all(len(v) == 1 for v in current.values())
    assert {c.claimed for c in inner_claims(subs)} == {"lovelaceada (10001)", "hoppergrace (10002)"}


def test_two_outermost_names_for_one_id_are_rejected_each_under_its_own_id(tmp_path):
    folder = write_submissions(
        tmp_path / "subs", {"alice.ipynb": GOOD, "alice/99_fake.ipynb": WRONG, "bob.ipynb": GOOD}
    )
    subs = collect_submissions(folder, notebook="99_fake")
    alices = [s for s in subs if s.source.startswith("alice")]
    assert {s.error for s in alices} == {"id_conflict"}
    assert "alice, alice.ipynb" in alices[0].message and "student id alice" in alices[0].message
    assert len({s.student_id for s in alices}) == 2
    assert all(s.student_id.startswith("alice-conflict-") for s in alices)
    assert all(len(v) == 1 for v in _current(subs).values())
    # a doctored Moodle export: two names, one id; neither is a grade for the LMS
    archive = _zip(
        tmp_path / "m.zip",
        {f"{ADA}/99_fake.ipynb": GOOD, "Eve_500101_assignsubmission_file_/99_fake.ipynb": WRONG},
    )
    moodle = collect_submissions(archive, lms="moodle", notebook="99_fake")
    assert {s.error for s in moodle} == {"id_conflict"} and len(_current(moodle)) == 2
    rejected = _row("k", moodle[0].student_id, moodle[0].source, "rejected")
    assert not exportable(replace(rejected, detail=f"id_conflict: {moodle[0].message}"))


def _shared_id(subs: list[Submission]) -> dict[str, tuple[str, str, str | None]]:
    """source -> (student id, the name holding the id it sanitises to, error)."""
    return {s.source: (s.student_id, s.shares_id_with, s.error) for s in subs}


def test_a_name_sanitising_to_another_students_id_gets_an_id_of_its_own(tmp_path):
    """Attack F: ``alice!/`` sanitises to ``alice``. The name that is the id keeps it; the
    others are graded under a stable id of their own and flagged, never as id_conflict."""
    twin = collect_submissions(write_submissions(tmp_path / "twin", PLAIN_HONEST))
    attack = {**PLAIN_HONEST, "alice!/99_fake.ipynb": WRONG, "alice?/work.ipynb": WRONG}
    subs = collect_submissions(write_submissions(tmp_path / "attack", attack), notebook="99_fake")
    by_source = _shared_id(subs)
    assert by_source["alice/99_fake.ipynb"] == ("alice", "", None)
    bang, ask = by_source["alice!/99_fake.ipynb"], by_source["alice?/work.ipynb"]
    assert bang[1:] == ask[1:] == ("alice", None)
    assert bang[0].startswith("alice~") and ask[0].startswith("alice~") and bang[0] != ask[0]
    current = _current(subs)
    assert current["alice"] == _current(twin)["alice"] == ["alice/99_fake.ipynb"]
    assert all(len(v) == 1 for v in current.values()) and len(current) == 4
    # stable: the same raw name gets the same id in another batch (and from a zip)
    again = collect_submissions(_zip(tmp_path / "a.zip", {"alice!/x.ipynb": GOOD, **attack}))
    assert {s.student_id for s in again if s.source.startswith("alice!/")} == {bang[0]}
    assert [s.superseded_by for s in again if s.source.startswith("alice!/")].count(None) == 1
    note = f"'alice!' sanitises to the id of another student 'alice'; graded under '{bang[0]}'"
    assert any(note in n for n in next(s for s in subs if s.source.startswith("alice!")).notes)
    assert note in lms_lines(subs, [])
    assert not any("sanitises" in line for line in lms_lines(twin, []))


def test_names_that_cannot_be_told_apart_stay_an_id_conflict(tmp_path):
    # neither is the id itself: which one is alice is not decided
    folder = write_submissions(
        tmp_path / "subs", {"alice!/99_fake.ipynb": GOOD, "alice?/99_fake.ipynb": WRONG}
    )
    subs = collect_submissions(folder, notebook="99_fake")
    assert {s.error for s in subs} == {"id_conflict"} and not any(s.shares_id_with for s in subs)
    # both are the id: a folder beside a top-level file, with a third name sanitising to it
    folder = write_submissions(
        tmp_path / "three",
        {"alice.ipynb": GOOD, "alice/99_fake.ipynb": WRONG, "alice!/99_fake.ipynb": WRONG},
    )
    subs = collect_submissions(folder, notebook="99_fake")
    assert {s.error for s in subs} == {"id_conflict"}
    assert all(s.student_id.startswith("alice-conflict-") for s in subs)


def test_the_roster_or_the_lms_says_which_name_holds_the_id(tmp_path):
    roster_path = tmp_path / "roster.csv"
    roster_path.write_text("ID,Name,Login\n10001,Ann O'Brien,o'brien\n10002,Bob,bob\n")
    roster = load_roster(roster_path)
    members = {"o'brien/99_fake.ipynb": GOOD, "o_brien/99_fake.ipynb": WRONG}
    folder = write_submissions(tmp_path / "subs", members)
    listed = _shared_id(collect_submissions(folder, notebook="99_fake", roster=roster))
    assert listed["o'brien/99_fake.ipynb"] == ("o_brien", "", None)
    assert listed["o_brien/99_fake.ipynb"][0].startswith("o_brien~")
    assert listed["o_brien/99_fake.ipynb"][1:] == ("o'brien", None)
    # without a roster the name that is the id keeps it
    plain = _shared_id(collect_submissions(folder, notebook="99_fake"))
    assert plain["o_brien/99_fake.ipynb"] == ("o_brien", "", None)
    assert plain["o'brien/99_fake.ipynb"][1:] == ("o_brien", None)
    # a plain folder that sanitises to a Canvas user id: the LMS gives the id to its file
    archive = _zip(
        tmp_path / "canvas.zip",
        {"lovelaceada_10001_90001_99_fake.ipynb": GOOD, "10001!/99_fake.ipynb": WRONG},
    )
    canvas = _shared_id(collect_submissions(archive, lms="canvas", notebook="99_fake"))
    assert canvas["lovelaceada_10001_90001_99_fake.ipynb"] == ("10001", "", None)
    assert canvas["10001!/99_fake.ipynb"][0].startswith("10001~")


# -- exporters ------------------------------------------------------------------------------


def test_the_lms_writers_refuse_two_rows_for_one_id(tmp_path):
    ada = Person("canvas", "10001", "Ada", False)
    rows = [(_row("a", "alice", "alice/a.ipynb"), ada), (_row("b", "ada", "ada/b.ipynb"), ada)]
    with pytest.raises(DuplicateIdError, match="Canvas user ID 10001 would have 2 rows") as err:
        write_canvas_csv(tmp_path / "canvas.csv", rows, "a")
    assert "alice/a.ipynb, ada/b.ipynb" in str(err.value) and "roster" in str(err.value)
    assert not (tmp_path / "canvas.csv").exists()
    moodle = [(s, Person("moodle", "500101", "Ada", False), "") for s, _ in rows]
    with pytest.raises(DuplicateIdError, match="Moodle participant id 500101 would have 2"):
        write_moodle_csv(tmp_path / "moodle.csv", moodle)
    assert not (tmp_path / "moodle.csv").exists()
    # a history row beside the graded one is fine: one row per id
    history = [rows[0], (_row("c", "alice", "alice/c.ipynb", "superseded"), ada)]
    assert write_canvas_csv(tmp_path / "canvas.csv", history, "a") == 1


def test_export_all_refuses_duplicate_ids_and_removes_the_stale_files(tmp_path):
    roster_path = tmp_path / "roster.csv"
    roster_path.write_text("ID,SIS ID,Name,Email\n10001,S1,Ada,ada@x\n10002,S2,Grace,g@x\n")
    roster = load_roster(roster_path)
    gb = Gradebook(tmp_path / "gb.sqlite")
    people = {}
    # two students' folders matched to one roster row (by SIS id and by email), and one
    # student id with two current rows
    for key, student, source in (
        ("k1", "S1", "S1/99_fake.ipynb"),
        ("k2", "ada@x", "ada@x/99_fake.ipynb"),
        ("k3", "carol", "carol/99_fake.ipynb"),
        ("k4", "carol", "carol/again.ipynb"),
    ):
        gb.write(_row(key, student, source), [ExerciseRow("q1", "Q1", "correct", 1, 1, "ok")])
        people[key] = person(None, student, roster)
    out = tmp_path / "out"
    out.mkdir()
    for name in ("grades.csv", "canvas.csv", "moodle.csv"):
        (out / name).write_text("an earlier batch's grades")
    report = export_all(
        gb, ["k1", "k2", "k3", "k4"], out, people=people, roster_given=True, figure=False
    )
    gb.close()
    for name in ("grades.csv", "canvas.csv", "moodle.csv"):
        assert not (out / name).exists(), name
    assert not {"csv", "canvas", "moodle"} & set(report.paths)
    text = "\n".join(report.warnings)
    assert "grades.csv was not written: the student id carol would have 2 rows" in text
    assert "carol/99_fake.ipynb, carol/again.ipynb" in text
    assert "canvas.csv was not written: the Canvas user ID 10001 would have 2 rows" in text
    assert "moodle.csv was not written: the Moodle participant id 10001" in text
    assert "gradescope/: no results file for carol" in text
    assert not (out / "gradescope" / "carol.json").exists()
    assert (out / "gradescope" / "S1.json").exists()


# -- end to end -----------------------------------------------------------------------------


@pytest.mark.slow
def test_the_moodle_nested_folder_attack_end_to_end(grade, tmp_path):
    twin = grade(
        _zip(tmp_path / "twin.zip", MOODLE_HONEST), out=tmp_path / "twin", isolation="process"
    )
    summary = grade(
        _zip(tmp_path / "attack.zip", MOODLE_ATTACK), out=tmp_path / "out", isolation="process"
    )
    moodle = [(r["Identifier"], r["Grade"]) for r in _rows(tmp_path / "out" / "moodle.csv")]
    assert moodle == [("Participant 500101", "4.00"), ("Participant 500777", "3.00")]
    assert moodle == [
        (r["Identifier"], r["Grade"]) for r in _rows(tmp_path / "twin" / "moodle.csv")
    ]
    grades = {r["submission"]: r for r in _rows(tmp_path / "out" / "grades.csv")}
    ada = grades[f"{ADA}/notebook.ipynb"]
    assert (ada["student_id"], ada["status"], ada["score"]) == ("500101", "graded", "4")
    nested = grades[f"{EVE}/{ADA}/99_fake.ipynb"]
    assert (nested["student_id"], nested["status"]) == ("500777", "superseded")
    current = [r["student_id"] for r in grades.values() if r["status"] != "superseded"]
    assert sorted(current) == ["500101", "500777"]
    text = summary.text()
    assert f"inner name claims another participant: '{ADA}'" in text
    assert "Ada Lovelace (500101)" in text and "claims another" not in twin.text()
    assert not any("not written" in w for w in summary.warnings)


@pytest.mark.slow
def test_the_plain_sub_folder_attack_end_to_end(grade, tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_text("ID,Name,Login\n10001,Alice,alice\n10002,Bob,bob\n")
    twin = grade(
        write_submissions(tmp_path / "twin", PLAIN_HONEST),
        out=tmp_path / "twin-out",
        isolation="process",
        roster=roster,
    )
    summary = grade(
        write_submissions(tmp_path / "attack", PLAIN_ATTACK),
        out=tmp_path / "out",
        isolation="process",
        roster=roster,
    )
    grades = _rows(tmp_path / "out" / "grades.csv")
    current = sorted(r["student_id"] for r in grades if r["status"] != "superseded")
    assert current == ["alice", "bob"]
    canvas = [(r["ID"], r["99_fake"]) for r in _rows(tmp_path / "out" / "canvas.csv")]
    assert canvas == [("10001", "4"), ("10002", "3")]  # one row each; Alice keeps her 4 / 4
    assert canvas == [(r["ID"], r["99_fake"]) for r in _rows(tmp_path / "twin-out" / "canvas.csv")]
    assert "inner name claims another participant: 'alice' in bob/alice/99_fake.ipynb" in (
        summary.text()
    )
    assert "claims another" not in twin.text()
    assert not any("not written" in w for w in summary.warnings)


@pytest.mark.slow
def test_the_sanitised_name_attack_end_to_end(grade, tmp_path):
    """``alice!/`` beside ``alice/``: Alice keeps her grade and her one row in each export."""
    roster = tmp_path / "roster.csv"
    roster.write_text("ID,Name,Login\n10001,Alice,alice\n10002,Bob,bob\n")
    twin = grade(
        write_submissions(tmp_path / "twin", PLAIN_HONEST),
        out=tmp_path / "twin-out",
        isolation="process",
        roster=roster,
    )
    summary = grade(
        write_submissions(tmp_path / "attack", {**PLAIN_HONEST, "alice!/99_fake.ipynb": WRONG}),
        out=tmp_path / "out",
        isolation="process",
        roster=roster,
    )
    grades = {r["submission"]: r for r in _rows(tmp_path / "out" / "grades.csv")}
    twin_grades = {r["submission"]: r for r in _rows(tmp_path / "twin-out" / "grades.csv")}
    alice = grades["alice/99_fake.ipynb"]
    assert (alice["student_id"], alice["status"], alice["score"]) == ("alice", "graded", "4")
    assert alice["score"] == twin_grades["alice/99_fake.ipynb"]["score"]
    forged = grades["alice!/99_fake.ipynb"]
    assert forged["student_id"].startswith("alice~") and forged["status"] == "graded"
    assert float(forged["score"]) < 4
    canvas = [(r["ID"], r["99_fake"]) for r in _rows(tmp_path / "out" / "canvas.csv")]
    assert canvas == [("10001", "4"), ("10002", "3")]
    assert canvas == [(r["ID"], r["99_fake"]) for r in _rows(tmp_path / "twin-out" / "canvas.csv")]
    line = "'alice!' sanitises to the id of another student 'alice'; graded under "
    assert line + repr(forged["student_id"]) in summary.text()
    assert "sanitises" not in twin.text()
    assert not any("not written" in w for w in summary.warnings)


def test_a_case_variant_never_takes_a_classmates_id(tmp_path):
    """Attack round 3: with names grouped without case, ``Alice.ipynb`` (the attacker's wrong
    answers) took the id ``alice`` from the real ``alice/``, whose work went to ``alice~...``.
    Without a roster ids are compared exactly: both are graded, each under its own id."""
    members = {"alice/99_fake.ipynb": GOOD, "Alice.ipynb": WRONG, "ALICE/99_fake.ipynb": WRONG}
    listed = _shared_id(collect_submissions(write_submissions(tmp_path / "s", members)))
    assert listed["alice/99_fake.ipynb"] == ("alice", "", None)
    assert listed["Alice.ipynb"] == ("Alice", "", None)
    assert listed["ALICE/99_fake.ipynb"] == ("ALICE", "", None)


def test_names_a_roster_cannot_tell_apart_are_rejected_not_given_to_one(tmp_path):
    """With a roster (login alice), ``Alice/`` and ``alice.ipynb`` both match Alice's row. The
    roster's own spelling must not win (the attacker can choose it, attack round 3), and two
    rows for Alice must not cost the class its LMS file: both are rejected and named, the
    rest of the class is exported."""
    roster_path = tmp_path / "roster.csv"
    roster_path.write_text("ID,Name,Login\n10001,Alice,alice\n10002,Bob,bob\n")
    roster = load_roster(roster_path)
    members = {"Alice/99_fake.ipynb": GOOD, "alice.ipynb": WRONG, "bob.ipynb": GOOD}
    folder = write_submissions(tmp_path / "subs", members)
    subs = collect_submissions(folder, notebook="99_fake", roster=roster)
    listed = _shared_id(subs)
    assert listed["Alice/99_fake.ipynb"][2] == listed["alice.ipynb"][2] == "id_conflict"
    conflict = next(s for s in subs if s.source == "alice.ipynb")
    assert "Alice, alice" in conflict.message and "roster student" in conflict.message
    assert listed["bob.ipynb"] == ("bob", "", None)
    people = [person(s.identity, s.student_id, roster) for s in subs]
    rows = [
        (_row(f"k{i}", s.student_id, s.source), p)
        for i, (s, p) in enumerate(zip(subs, people, strict=True))
        if p.on_roster
    ]
    write_canvas_csv(tmp_path / "canvas.csv", rows, "a")  # no DuplicateIdError
    assert [r["ID"] for r in _rows(tmp_path / "canvas.csv") if r["ID"].isdigit()] == ["10002"]


def test_two_names_for_one_roster_row_do_not_cost_the_class_its_export(tmp_path):
    """``S1/`` and ``ada@x/`` both match Ada's roster row (SIS id and email): they are one
    student's, rejected together with a reason, and the other students' rows are written."""
    roster_path = tmp_path / "roster.csv"
    roster_path.write_text("ID,SIS ID,Name,Email\n10001,S1,Ada,ada@x\n10002,S2,Grace,g@x\n")
    roster = load_roster(roster_path)
    members = {"S1/99_fake.ipynb": GOOD, "ada@x/99_fake.ipynb": WRONG, "S2/99_fake.ipynb": GOOD}
    subs = collect_submissions(
        write_submissions(tmp_path / "subs", members), notebook="99_fake", roster=roster
    )
    listed = _shared_id(subs)
    assert listed["S1/99_fake.ipynb"][2] == listed["ada@x/99_fake.ipynb"][2] == "id_conflict"
    assert listed["S2/99_fake.ipynb"] == ("S2", "", None)
    people = {s.student_id: person(s.identity, s.student_id, roster) for s in subs}
    rows = [(_row(sid, sid, sid), p) for sid, p in people.items() if p.on_roster]
    write_canvas_csv(tmp_path / "canvas.csv", rows, "a")  # no DuplicateIdError
    assert [r["ID"] for r in _rows(tmp_path / "canvas.csv") if r["ID"].isdigit()] == ["10002"]
