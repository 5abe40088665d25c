"""LMS round trip (trusted): Canvas and Moodle export names, a class roster, import CSVs.

Canvas names each file of a bulk download ``name_[LATE_]userid_submissionid_file`` (and
appends ``-1``, ``-2`` to the student's file name when it repeats); Moodle puts each
participant's files in a folder ``Full Name_participantid_assignsubmission_file_/`` (or, without
folders, prefixes each file with that text). :func:`identify` reads the student's LMS id,
name and lateness from those names, :func:`mark_latest` keeps one submission per student
(the others become history), :func:`load_roster` reads a class list, and
:func:`write_canvas_csv` / :func:`write_moodle_csv` write files the LMS imports as they are.

Example
-------
>>> identify(("lovelaceada_LATE_10001_90001_01_categorical_encoding.ipynb",), "auto").lms_id
'10001'
>>> identify(("Ada Lovelace_500101_assignsubmission_file_", "01.ipynb"), "moodle").name
'Ada Lovelace'
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

LmsName = Literal["canvas", "moodle", "auto", "none"]

#: ``name_[LATE_]userid_submissionid_file.ipynb`` (Canvas bulk download of submissions)
CANVAS_RE = re.compile(
    r"^(?P<name>[^_/]+)_(?P<late>LATE_)?(?P<uid>\d+)_(?P<sid>\d+)_(?P<file>.+)$", re.IGNORECASE
)
#: ``Full Name_participantid_assignsubmission_file_`` (a Moodle folder: all Moodle's text, so
#: the id is the last number followed by ``_assignsubmission_``)
MOODLE_DIR_RE = re.compile(r"^(?P<name>.+)_(?P<uid>\d+)_assignsubmission_(?P<plugin>[a-z]+)_$")
#: ``Full Name_participantid_assignsubmission_file_file.ipynb`` (no folders: the student's file
#: name follows, so the id is the first such number)
MOODLE_FILE_RE = re.compile(
    r"^(?P<name>.+?)_(?P<uid>\d+)_assignsubmission_(?P<plugin>[a-z]+)_(?P<file>.+)$"
)
#: the ``-1``, ``-2`` Canvas appends to a repeated file name
CANVAS_DUPLICATE = re.compile(r"-\d+(?=\.ipynb$)", re.IGNORECASE)

#: documented headers of the import formats (tests compare against these)
CANVAS_HEADER = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
MOODLE_HEADER = (
    "Identifier",
    "Full name",
    "Email address",
    "Status",
    "Grade",
    "Maximum Grade",
    "Grade can be changed",
    "Last modified (submission)",
    "Last modified (grade)",
    "Feedback comments",
)


@dataclass(frozen=True)
class Identity:
    """Who submitted a file, as far as the LMS's file name says."""

    lms: str  # "canvas" | "moodle" | "" (plain folder or file)
    lms_id: str  # Canvas user id or Moodle participant id ("" when unknown)
    name: str  # the name in the export ("lovelaceada", "Ada Lovelace"), "" when unknown
    late: bool = False  # Canvas marks late submissions; Moodle's names do not say
    submission_id: int | None = None  # Canvas submission id (higher = newer)
    file_name: str = ""  # the student's own file name (Canvas's -1, -2 removed)


def _canvas(name: str) -> Identity | None:
    m = CANVAS_RE.match(name)
    if m is None or not m["file"].lower().endswith(".ipynb"):
        return None
    return Identity(
        "canvas",
        m["uid"],
        m["name"],
        late=m["late"] is not None,
        submission_id=int(m["sid"]),
        file_name=CANVAS_DUPLICATE.sub("", m["file"]),
    )


def _moodle(parts: Sequence[str], flat: bool = True) -> Identity | None:
    for folder in reversed(parts[:-1]):
        m = MOODLE_DIR_RE.match(folder)
        if m is not None:
            return Identity("moodle", m["uid"], m["name"].strip(), file_name=parts[-1])
    m = MOODLE_FILE_RE.match(parts[-1]) if flat else None
    if m is not None:
        return Identity("moodle", m["uid"], m["name"].strip(), file_name=m["file"])
    return None


def identify(parts: Sequence[str], lms: str, flat: bool = True) -> Identity | None:
    """The identity in an export path (``parts`` of the path), or ``None`` if none matches.

    ``lms`` is "canvas", "moodle" or "auto" (either pattern; Canvas first). ``flat`` says
    the file sits at the top of the export (wrapping folders aside). Only then is a file
    *name* read as an identity (Canvas, Moodle without folders): inside a student's folder
    the file name is the student's own choice and must not name another student.
    """
    if not parts:
        return None
    if lms in ("canvas", "auto") and flat:
        found = _canvas(parts[-1])
        if found is not None:
            return found
    if lms in ("moodle", "auto"):
        return _moodle(parts, flat)
    return None


def detect(paths: Iterable[Sequence[str]], flat: Sequence[bool] | None = None) -> str:
    """``"canvas"``, ``"moodle"`` or ``""``: the export whose names most of ``paths`` follow.

    An export is recognised when at least half of the notebooks follow its naming rule, so
    a few stray files (a README notebook, a renamed upload) do not switch the rules off.
    ``flat`` (one flag per path, default all true): see :func:`identify`.
    """
    paths = list(paths)
    if not paths:
        return ""
    flags = list(flat) if flat is not None else [True] * len(paths)
    canvas = sum(
        bool(p) and f and _canvas(p[-1]) is not None for p, f in zip(paths, flags, strict=True)
    )
    moodle = sum(bool(p) and _moodle(p, f) is not None for p, f in zip(paths, flags, strict=True))
    best, count = max((("canvas", canvas), ("moodle", moodle)), key=lambda t: t[1])
    return best if count and 2 * count >= len(paths) else ""


def _stem(name: str) -> str:
    return re.sub(r"\.ipynb$", "", name, flags=re.IGNORECASE).lower()


def mark_latest(subs: list[Any], notebook: str = "") -> None:
    """Keep one submission per LMS student; set ``superseded_by`` on the others.

    Canvas: the highest submission id wins; within one submission, the notebook named like
    the assignment (``notebook``, e.g. "01_categorical_encoding"), then a readable one, then
    the first by name. Moodle: one folder per participant, so only several notebooks in it
    compete (same rule). Different names claiming one id reject the whole group
    (``id_conflict``). Plain folders and files (no identity) are left alone.
    """
    groups: dict[tuple[str, str], list[Any]] = {}
    for sub in subs:
        ident = getattr(sub, "identity", None)
        if ident is not None and ident.lms and ident.lms_id:
            groups.setdefault((ident.lms, ident.lms_id), []).append(sub)
    want = notebook.lower()

    def rank(sub: Any) -> tuple:
        ident = sub.identity
        stem = _stem(ident.file_name)
        named = bool(want) and (
            stem == want or stem.startswith(want) or (len(stem) >= 2 and want.startswith(stem))
        )
        return (ident.submission_id or 0, named, sub.error is None, _neg(sub.source))

    for (lms, lms_id), group in groups.items():
        if len(group) < 2:
            continue
        names = sorted({s.identity.name for s in group})
        if len(names) > 1:
            # The LMS gives one name per id: different names claiming one id are a doctored
            # export (or a name crafted to look like another student's folder). Grade none.
            for sub in group:
                sub.error = "id_conflict"
                sub.message = (
                    f"several names ({', '.join(names)}) claim the same {lms.title()} id "
                    f"{lms_id} in the export; none of these files was graded, check the export"
                )
            continue
        winner = max(group, key=rank)
        for sub in group:
            if sub is not winner:
                sub.superseded_by = winner.source


def _neg(text: str) -> tuple[int, ...]:
    """A key that sorts strings in reverse (max() then picks the first by name)."""
    return tuple(-ord(c) for c in text)


# -- roster ------------------------------------------------------------------------------------


class RosterError(ValueError):
    """The roster file cannot be used; the message says what is wrong and where."""


#: accepted header spellings (compared lower-case, with _ and - read as spaces)
ROSTER_COLUMNS: dict[str, tuple[str, ...]] = {
    "lms_id": (
        "lms id", "id", "canvas id", "canvas user id", "user id", "userid", "participant",
        "participant id", "participant number", "identifier", "moodle id", "lmsid",
    ),
    "sis_id": (
        "sis id", "sis user id", "sisid", "student number", "student no", "student id",
        "id number", "idnumber", "matriculation number", "registration number",
    ),
    "name": ("name", "student", "student name", "full name", "fullname", "display name"),
    "email": ("email", "email address", "e mail", "e mail address", "mail"),
    "section": ("section", "sections", "course section", "group", "groups", "class"),
    "login": ("sis login id", "login", "login id", "username", "user name", "netid"),
}  # fmt: skip


#: rows of a Canvas gradebook export that are not students
CANVAS_EXTRA_ROWS = ("points possible", "muted", "manual posting")


@dataclass(frozen=True)
class RosterEntry:
    lms_id: str
    sis_id: str = ""
    name: str = ""
    email: str = ""
    section: str = ""
    login: str = ""
    line: int = 0


@dataclass
class Roster:
    path: Path
    entries: list[RosterEntry]
    by_lms: dict[str, RosterEntry] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.by_lms = {e.lms_id: e for e in self.entries}
        self._other: dict[str, RosterEntry] = {}
        for e in self.entries:
            for value in (e.sis_id, e.login, e.email):
                if value:
                    self._other.setdefault(value.lower(), e)

    def find(self, lms_id: str, student_id: str = "") -> RosterEntry | None:
        """The roster row of a student: by LMS id, else (plain folders) by any id column."""
        if lms_id:
            return self.by_lms.get(lms_id)
        if not student_id:
            return None
        return self.by_lms.get(student_id) or self._other.get(student_id.lower())


def _header_key(text: str) -> str:
    return " ".join(re.sub(r"[_\-.]+", " ", text.strip().lstrip("\ufeff").lower()).split())


def load_roster(path: Path) -> Roster:
    """Read a roster CSV (comma, semicolon or tab separated; UTF-8, with or without BOM).

    Columns are found by header (see :data:`ROSTER_COLUMNS`); only the LMS id is required.
    Raises :class:`RosterError` naming the problem and the line.
    """
    path = Path(path)
    text = _roster_text(path)
    first = text.splitlines()[0]
    delimiter = max(",;\t", key=first.count)
    try:
        rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    except csv.Error as exc:
        raise RosterError(f"the roster {path} is not a readable CSV file ({exc})") from None
    column = _roster_columns(path, rows[0])
    entries = _roster_entries(path, rows, column, delimiter)
    if not entries:
        raise RosterError(f"the roster {path} has a header but no students")
    return Roster(path, entries)


def _roster_text(path: Path) -> str:
    """The roster file as text (a UTF-8 BOM dropped); never empty."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise RosterError(f"the roster {path} does not exist") from None
    except OSError as exc:
        raise RosterError(f"the roster {path} could not be read ({exc.strerror})") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise RosterError(
            f"the roster {path} is not UTF-8 text (invalid byte at position {exc.start}); "
            "save it from your spreadsheet as 'CSV UTF-8'"
        ) from None
    if not text.strip():
        raise RosterError(
            f"the roster {path} is empty; it needs a header line and one row a student"
        )
    return text


def _roster_columns(path: Path, header_row: list[str]) -> dict[str, int]:
    """Which column holds each :data:`ROSTER_COLUMNS` field (the LMS id always among them)."""
    header = [_header_key(h) for h in header_row]
    column: dict[str, int] = {}
    for fieldname, spellings in ROSTER_COLUMNS.items():
        hits = [i for i, h in enumerate(header) if h in spellings]
        if len(hits) > 1:
            names = ", ".join(repr(header_row[i]) for i in hits)
            raise RosterError(
                f"the roster {path} has several columns for the {fieldname.replace('_', ' ')} "
                f"({names}); keep one"
            )
        if hits:
            column[fieldname] = hits[0]
    if "lms_id" not in column:
        raise RosterError(
            f"the roster {path} has no LMS id column; its header is {header_row!r}. Call the "
            "column that holds the Canvas user id or the Moodle participant number one of: "
            + ", ".join(repr(s) for s in ROSTER_COLUMNS["lms_id"][:8])
        )
    return column


def _roster_entries(
    path: Path, rows: list[list[str]], column: dict[str, int], delimiter: str
) -> list[RosterEntry]:
    """The students below the header; blank lines and Canvas's extra rows skipped."""
    width = len(rows[0])
    entries: list[RosterEntry] = []
    seen: dict[str, int] = {}
    for lineno, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) > width:
            raise RosterError(
                f"line {lineno} of the roster {path} has {len(row)} fields but the header has "
                f"{width}; quote values that contain '{delimiter}'"
            )
        values = {f: row[i].strip() if i < len(row) else "" for f, i in column.items()}
        lms_id = re.sub(r"^participant\s*", "", values["lms_id"], flags=re.IGNORECASE)
        if not lms_id and values.get("name", "").lower() in CANVAS_EXTRA_ROWS:
            continue  # Canvas's gradebook export: "Points Possible" under the header
        if not lms_id:
            raise RosterError(f"line {lineno} of the roster {path} has no LMS id")
        if lms_id in seen:
            raise RosterError(
                f"the LMS id {lms_id} appears twice in the roster {path} (lines {seen[lms_id]} "
                f"and {lineno})"
            )
        seen[lms_id] = lineno
        values["lms_id"] = lms_id
        entries.append(RosterEntry(**values, line=lineno))
    return entries


# -- who is who, and what to report ------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    """A graded submission's student, merged from the export name and the roster row."""

    lms: str
    lms_id: str
    name: str
    late: bool
    email: str = ""
    sis_id: str = ""
    login: str = ""
    section: str = ""
    on_roster: bool = False
    export_name: str = ""  # the name in the export's file names (stable, unlike the roster)

    def label(self, student_id: str = "") -> str:
        """``Ada Lovelace (10001)`` or the plain student id."""
        ident = self.lms_id or student_id
        if self.name and ident and self.name != ident:
            return f"{self.name} ({ident})"
        return self.name or ident or "unknown"


def person(identity: Identity | None, student_id: str, roster: Roster | None) -> Person:
    ident = identity or Identity("", "", "")
    entry = roster.find(ident.lms_id, student_id) if roster is not None else None
    if entry is None:
        return Person(ident.lms, ident.lms_id, ident.name, ident.late, export_name=ident.name)
    return Person(
        ident.lms,
        entry.lms_id,
        entry.name or ident.name,
        ident.late,
        entry.email,
        entry.sis_id,
        entry.login,
        entry.section,
        on_roster=True,
        export_name=ident.name,
    )


def roster_report(people: Sequence[tuple[str, Person]], roster: Roster) -> list[str]:
    """Summary lines: roster rows without a submission, submissions without a roster row.

    ``people`` holds (student id, person) of every submission of the batch (history too).
    """
    matched = {p.lms_id for _, p in people if p.on_roster}
    strangers = sorted({p.label(sid) for sid, p in people if not p.on_roster})
    missing = [e for e in roster.entries if e.lms_id not in matched]
    lines = [
        f"roster: {len(roster.entries)} students, {len(matched)} with a submission, "
        f"{len(missing)} without, {len(strangers)} submitting students not on the roster"
    ]
    if missing:
        lines.append(
            "roster rows without a submission: "
            + _names([f"{e.name} ({e.lms_id})" if e.name else e.lms_id for e in missing])
        )
    if strangers:
        lines.append("submissions without a roster row: " + _names(strangers))
    return lines


def _names(items: list[str], limit: int = 20) -> str:
    shown = ", ".join(items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


def attention_lines(rows: Sequence[tuple[Any, Person]]) -> list[str]:
    """Summary lines naming the students whose submission errored, timed out or was rejected.

    ``rows`` holds (gradebook submission row, person) of the graded submissions.
    """
    groups: dict[str, list[str]] = {}
    for sub, who in rows:
        if sub.status == "rejected":
            kind, why = "rejected", sub.detail.split(":", 1)[0]
        elif sub.status == "grader_error":
            kind, why = "grader error (not the student's fault)", ""
        elif sub.status == "stopped_early" and "ran longer than" in sub.detail:
            kind, why = "timed out", ""
        elif sub.status == "stopped_early":
            kind = "errored (the notebook stopped early)"
            why = sub.detail.removeprefix("the notebook stopped early: ")[:60]
        else:
            continue
        label = who.label(sub.student_id)
        groups.setdefault(kind, []).append(f"{label}: {why}" if why else label)
    return [f"{kind}: {_names(sorted(names))}" for kind, names in sorted(groups.items())]


# -- import files -------------------------------------------------------------------------------


def cell(text: str) -> str:
    """Spreadsheet formula injection guard (as in grades.csv): ``=`` ``+`` ``-`` ``@`` as text."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _points(score: float, max_score: float, max_grade: float | None) -> float:
    if max_grade is None:
        return score
    return max_grade * score / max_score if max_score else 0.0


def _fmt(value: float) -> str:
    return f"{round(value, 2):g}"


def exportable(sub: Any) -> bool:
    """A grade for the LMS: not for history rows nor when the grader itself failed."""
    return sub.status not in ("superseded", "grader_error")


def write_canvas_csv(
    path: Path,
    rows: Sequence[tuple[Any, Person]],
    assignment: str,
    max_grade: float | None = None,
) -> int:
    """Canvas gradebook import: ``Student,ID,SIS User ID,SIS Login ID,Section,<assignment>``.

    One row per student with a Canvas user id (ID). Canvas matches students by ID and the
    assignment by its column name (``Name (assignment id)`` matches an existing assignment
    exactly; a new name creates one). Returns the number of students written.
    """
    written = 0
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow([*CANVAS_HEADER, cell(assignment)])
        for sub, who in rows:
            if not who.lms_id or not exportable(sub):
                continue
            grade = _fmt(_points(sub.score, sub.max_score, max_grade))
            w.writerow(
                [cell(who.name), cell(who.lms_id), cell(who.sis_id), cell(who.login),
                 cell(who.section), grade]
            )  # fmt: skip
            written += 1
    return written


def moodle_date(when: dt.datetime) -> str:
    """Moodle's worksheet date format, e.g. ``Wednesday, 2 December 2026, 1:30 AM``."""
    hour = when.hour % 12 or 12
    return (
        f"{when:%A}, {when.day} {when:%B %Y}, {hour}:{when:%M} {'AM' if when.hour < 12 else 'PM'}"
    )


def write_moodle_csv(
    path: Path,
    rows: Sequence[tuple[Any, Person, str]],
    max_grade: float | None = None,
    now: dt.datetime | None = None,
) -> int:
    """Moodle's offline grading worksheet (Assignment > View all submissions > Upload grading
    worksheet). ``rows`` holds (submission row, person, feedback comment). Returns the count.
    """
    stamp = moodle_date((now or dt.datetime.now()).astimezone())
    written = 0
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(MOODLE_HEADER)
        for sub, who, comment in rows:
            if not who.lms_id or not exportable(sub):
                continue
            top = sub.max_score if max_grade is None else max_grade
            grade = _points(sub.score, sub.max_score, max_grade)
            w.writerow(
                [
                    f"Participant {who.lms_id}",
                    cell(who.name),
                    cell(who.email),
                    "Submitted for grading",
                    f"{grade:.2f}",
                    f"{top:.2f}",
                    "Yes",
                    "",
                    stamp,
                    cell(comment),
                ]
            )
            written += 1
    return written


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def lms_lines(subs: Sequence[Any], export_notes: list[str]) -> list[str]:
    """Summary lines about the export: which rules, late submissions, history rows."""
    kinds = sorted({s.identity.lms for s in subs if s.identity is not None})
    lines: list[str] = []
    if kinds:
        students = {(s.identity.lms, s.identity.lms_id) for s in subs if s.identity is not None}
        lines.append(
            f"LMS export: {', '.join(k.title() for k in kinds)} names, "
            f"{_count(len(subs), 'notebook')} from {_count(len(students), 'student')}"
        )
        late = sorted(
            {
                Person("", s.identity.lms_id, s.identity.name, True).label()
                for s in subs
                if s.identity is not None and s.identity.late and not s.superseded_by
            }
        )
        if late:
            lines.append("late (graded, flagged in grades.csv): " + _names(late))
        history = [s for s in subs if s.superseded_by]
        if history:
            who = sorted({Person("", s.identity.lms_id, s.identity.name, False).label()
                          for s in history})  # fmt: skip
            lines.append(
                f"older submissions kept as history, not graded: {len(history)} ({_names(who)})"
            )
        odd = [s.source for s in subs if s.identity is None]
        if odd:
            lines.append(
                "files not named like the export (graded under their file name, not in the "
                "LMS csv): " + _names(odd)
            )
    return lines + export_notes
