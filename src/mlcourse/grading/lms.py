"""LMS round trip (trusted): Canvas and Moodle export names, a class roster, import CSVs.

Canvas names each file of a bulk download ``name_[LATE_]userid_submissionid_file`` (and
appends ``-1``, ``-2`` to the student's file name when it repeats); Moodle puts each
participant's files in a folder ``Full Name_participantid_assignsubmission_file_/`` (or, without
folders, prefixes each file with that text). :func:`identify` reads the student's LMS id,
name and lateness from those names, :func:`mark_latest` keeps one submission per student
(the others become history), :func:`load_roster` reads a class list, and
:func:`write_canvas_csv` / :func:`write_moodle_csv` write files the LMS imports as they are.

Identities come from the outermost level of the export only: the top-level participant
folder (Moodle), the file name Canvas wrote at the top level, or the first-level folder or
file name of plain folders. Whatever is nested inside belongs to that student; an inner name
that names another participant is reported by :func:`inner_claims`, never used as identity.
No import file ever has two rows for one id (:func:`check_unique`).

Example
-------
>>> identify(("lovelaceada_LATE_10001_90001_01_encoding_basics.ipynb",), "auto").lms_id
'10001'
>>> identify(("Ada Lovelace_500101_assignsubmission_file_", "01.ipynb"), "moodle").name
'Ada Lovelace'
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
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


def _moodle(parts: Sequence[str]) -> Identity | None:
    if len(parts) >= 2:  # the top-level folder is the participant's; nothing deeper counts
        m = MOODLE_DIR_RE.match(parts[0])
        if m is None:
            return None
        return Identity("moodle", m["uid"], m["name"].strip(), file_name=parts[-1])
    m = MOODLE_FILE_RE.match(parts[0])
    if m is not None:
        return Identity("moodle", m["uid"], m["name"].strip(), file_name=m["file"])
    return None


def is_participant_folder(name: str) -> bool:
    """Whether a folder name is Moodle's participant folder (never a wrapping folder)."""
    return MOODLE_DIR_RE.match(name) is not None


def identify(parts: Sequence[str], lms: str) -> Identity | None:
    """The identity of an export path, or ``None`` if none matches.

    ``parts`` is the path below the export's top (wrapping folders shared by every file
    removed). ``lms`` is "canvas", "moodle" or "auto" (either pattern; Canvas first). Only
    the outermost level names a student: a Canvas or flat Moodle file name at the top, or
    the top-level Moodle participant folder. Folders and files nested inside are the
    student's own choice and name nobody, whatever they look like.
    """
    if not parts:
        return None
    if lms in ("canvas", "auto") and len(parts) == 1:
        found = _canvas(parts[0])
        if found is not None:
            return found
    if lms in ("moodle", "auto"):
        return _moodle(parts)
    return None


def detect(paths: Iterable[Sequence[str]]) -> str:
    """``"canvas"``, ``"moodle"`` or ``""``: the export whose names most of ``paths`` follow.

    An export is recognised when at least half of the notebooks follow its naming rule, so
    a few stray files (a README notebook, a renamed upload) do not switch the rules off.
    ``paths`` are below the export's top, as for :func:`identify`.
    """
    paths = list(paths)
    if not paths:
        return ""
    canvas = sum(len(p) == 1 and _canvas(p[0]) is not None for p in paths)
    moodle = sum(bool(p) and _moodle(p) is not None for p in paths)
    best, count = max((("canvas", canvas), ("moodle", moodle)), key=lambda t: t[1])
    return best if count and 2 * count >= len(paths) else ""


def _stem(name: str) -> str:
    return re.sub(r"\.ipynb$", "", name, flags=re.IGNORECASE).lower()


def _owner(sub: Any) -> tuple[str, str]:
    """Who a submission's outermost level names: (LMS, export name), or ("", top-level name)
    for plain folders and files (``sub.source`` is the path below the export's top)."""
    ident = getattr(sub, "identity", None)
    if ident is not None and ident.lms:
        return ident.lms, ident.name
    return "", sub.source.split("/")[0]


def _rank(sub: Any, want: str) -> tuple:
    """Sort key of one student's submissions: the highest wins (see :func:`mark_latest`)."""
    ident = sub.identity
    file_name = (ident.file_name if ident is not None else "") or sub.source.split("/")[-1]
    stem = _stem(file_name)
    named = bool(want) and (
        stem == want or stem.startswith(want) or (len(stem) >= 2 and want.startswith(stem))
    )
    newest = (ident.submission_id if ident is not None else None) or 0
    return (newest, named, sub.error is None, -sub.source.count("/"), _neg(sub.source))


def mark_latest(subs: list[Any], notebook: str = "", roster: Roster | None = None) -> None:
    """Keep one submission per student id; set ``superseded_by`` on the others.

    The student id comes from the outermost level only (see :func:`identify`), so every
    notebook nested in a student's folder is that student's and competes with their others.
    Canvas: the highest submission id wins; within one submission (and in one Moodle or
    plain folder), the notebook named like the assignment (``notebook``, e.g.
    "01_encoding_basics"), then a readable one, then the shallowest, then the first by
    name. Several outermost names giving one id are settled by :func:`_settle_shared_id`:
    the one name that is the id (or that the LMS or ``roster`` gives it) keeps it and the
    others are graded under ids of their own (``alice!/`` beside ``alice/``); names that
    cannot be told apart (two names for one LMS id, ``alice/`` and ``alice.ipynb``) reject
    the whole group as ``id_conflict``, each file under an id of its own, so no export has
    two rows for one id and no one gets another's grade. With a roster, different ids that
    match one roster student (``Alice/`` and ``alice.ipynb``; ``S1/`` and ``ada@x/``) are
    rejected the same way: no spelling can take a classmate's row.
    """
    for group in _by_id(subs, roster).values():
        if len({_owner(s) for s in group}) < 2:
            continue
        ids = sorted({s.student_id for s in group})
        if len(ids) > 1:
            # several ids for one roster student (Alice/ and alice.ipynb, S1/ and ada@x/):
            # any rule that picked one would let a student take a classmate's row by
            # choosing a spelling, so none is graded and the summary names them
            _reject_conflict(ids[0], group, "roster student")
        else:
            _settle_shared_id(ids[0], group, roster)
    want = notebook.lower()
    for group in _by_id(subs).values():
        if len(group) < 2:
            continue
        if len({_owner(s) for s in group}) > 1:  # two given ids collided: tell no one apart
            _reject_conflict(group[0].student_id, group)
            continue
        winner = max(group, key=lambda s: _rank(s, want))
        for sub in group:
            if sub is not winner:
                sub.superseded_by = winner.source


def _by_id(subs: list[Any], roster: Roster | None = None) -> dict[str, list[Any]]:
    """Submissions grouped by student id; with a roster, plain ids that match one roster row
    form one group (``S1/`` and ``ada@x/`` for the student whose SIS id is S1 and email ada@x,
    or ``Alice/`` and ``alice.ipynb`` for the login alice: the roster matches without case),
    since an LMS file has one row per roster student."""
    groups: dict[str, list[Any]] = {}
    for sub in subs:
        key = "id:" + sub.student_id
        ident = getattr(sub, "identity", None)
        if roster is not None and not (ident is not None and ident.lms):
            entry = roster.find("", sub.student_id)
            key = f"roster:{entry.lms_id}" if entry is not None else key
        groups.setdefault(key, []).append(sub)
    return groups


def _top_id_text(sub: Any) -> str:
    """The raw text a plain submission's id is sanitised from: its first-level folder, or
    the stem of its file at the top."""
    top = sub.source.split("/")[0]
    return top if "/" in sub.source else PurePosixPath(top).stem


def _entitlement(sub: Any, student_id: str, roster: Roster | None) -> int:
    """How firmly a submission's outermost name holds ``student_id``: 2 the LMS gives it
    (or the roster lists the raw name), 1 the raw name is the id itself, 0 it only
    sanitises to it."""
    ident = getattr(sub, "identity", None)
    if ident is not None and ident.lms:
        return 2 if ident.lms_id == student_id else 0
    raw = _top_id_text(sub)
    if roster is not None and roster.find("", raw) is not None:
        return 2
    return 1 if raw == student_id else 0


def _settle_shared_id(student_id: str, group: list[Any], roster: Roster | None) -> None:
    """Several outermost names give ``student_id``: the one that holds it most firmly
    (:func:`_entitlement`) keeps it, each other name gets ``id~hash`` of its raw name
    (stable, and never a sanitised id: ``~`` is replaced there) and a note. When no name,
    or more than one, holds it most firmly, the group is rejected (``id_conflict``)."""
    level: dict[tuple[str, str], int] = {}
    for sub in group:
        owner = _owner(sub)
        level[owner] = max(level.get(owner, 0), _entitlement(sub, student_id, roster))
    best = max(level.values())
    holders = [owner for owner, n in level.items() if n == best]
    if best == 0 or len(holders) > 1:
        _reject_conflict(student_id, group)
        return
    holder = holders[0][1]
    for sub in group:
        raw = _owner(sub)[1]
        if _owner(sub) == holders[0]:
            continue
        tag = hashlib.sha256(raw.encode()).hexdigest()[:8]
        sub.student_id = f"{student_id[:80]}~{tag}"
        sub.shares_id_with = holder
        sub.notes.append(
            f"the name {raw!r} sanitises to the id of another student {holder!r}; "
            f"graded under {sub.student_id!r}"
        )


def _reject_conflict(student_id: str, group: list[Any], what: str = "") -> None:
    """Reject every file of a group whose outermost names disagree on one student id."""
    # The LMS gives one name per id: different names claiming one id are a doctored export
    # (or a name crafted to look like another student's). Grade none, each under its own id.
    names = sorted({_owner(s)[1] for s in group})
    kinds = {_owner(s)[0] for s in group}
    if not what:
        one = len(kinds) == 1 and "" not in kinds
        what = f"{kinds.pop().title()} id" if one else "student id"
    for sub in group:
        sub.error = "id_conflict"
        sub.message = (
            f"several names ({', '.join(names)}) claim the same {what} {student_id} in the "
            "export; none of these files was graded, check the export"
        )
        tag = hashlib.sha256(sub.source.encode()).hexdigest()[:8]
        sub.student_id = f"{student_id[:80]}-conflict-{tag}"


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


@dataclass(frozen=True)
class Claim:
    """A name nested in a student's submission that names another participant."""

    submitter: str  # who the submission belongs to, e.g. "Eve (500777)"
    source: str  # the submitted file, as in grades.csv
    inner: str  # the inner folder or file name, as submitted
    claimed: str  # whom it names, e.g. "Ada Lovelace (500101)"

    def line(self) -> str:
        return (
            f"inner name claims another participant: {self.inner!r} in {self.source} names "
            f"{self.claimed}; graded as {self.submitter}'s own, never as theirs"
        )


def _norm(text: str) -> str:
    """Compare names without case, spaces and punctuation ("Ada Lovelace" ~ "ada_lovelace")."""
    return re.sub(r"[\W_]+", "", text.casefold())


def _inner_names(sub: Any) -> list[str]:
    """The names below a submission's outermost level: nested folders, the file name and
    (for a flat Canvas or Moodle file) the student's own part of the file name."""
    ident = getattr(sub, "identity", None)
    if ident is not None and ident.lms == "gradescope":
        return []  # the whole upload is one student's: nobody else to claim
    parts = sub.source.split("/")
    names = parts[1:] if len(parts) >= 2 else []
    if len(parts) == 1 and ident is not None and ident.file_name not in ("", parts[0]):
        names = [ident.file_name]
    stems = [re.sub(r"\.ipynb$", "", n, flags=re.IGNORECASE) for n in names]
    return list(dict.fromkeys([*names, *stems]))


def _known(subs: Sequence[Any], roster: Roster | None) -> tuple[dict[str, str], list[set[str]]]:
    """Every participant name (normalised) with its label, and each submission's own names."""
    table: dict[str, str] = {}
    own: list[set[str]] = []
    for sub in subs:
        ident = getattr(sub, "identity", None) or Identity("", "", "")
        top = sub.source.split("/")[0]
        values = [sub.student_id, ident.lms_id, ident.name, top, _stem(top)]
        entry = roster.find(ident.lms_id, sub.student_id) if roster is not None else None
        if entry is not None:
            values += [entry.lms_id, entry.sis_id, entry.login, entry.email, entry.name]
        label = person(ident, sub.student_id, roster).label(sub.student_id)
        mine = {_norm(v) for v in values} - {""}
        own.append(mine)
        for key in sorted(mine):
            table.setdefault(key, label)
    for e in roster.entries if roster is not None else []:
        label = f"{e.name} ({e.lms_id})" if e.name else e.lms_id
        for v in (e.lms_id, e.sis_id, e.login, e.email, e.name):
            if _norm(v):
                table.setdefault(_norm(v), label)
    return table, own


def _claimed(name: str, table: dict[str, str], mine: set[str]) -> str:
    """Whom an inner name names (``""``: nobody but the submitter, or nobody known)."""
    key = _norm(name)
    if key and key not in mine and key in table:
        return table[key]
    for rx in (MOODLE_DIR_RE, MOODLE_FILE_RE, CANVAS_RE):
        m = rx.match(name)
        if m is None or _norm(m["uid"]) in mine:
            continue
        if _norm(m["uid"]) in table:
            return table[_norm(m["uid"])]
        if rx is not CANVAS_RE:  # "_assignsubmission_" is Moodle's text: a participant
            return f"{m['name'].strip()} (Moodle participant {m['uid']})"
    return ""


def inner_claims(subs: Sequence[Any], roster: Roster | None = None) -> list[Claim]:
    """Names nested inside a submission that name another participant of the batch or the
    roster (a student id, login, name, email, LMS id, or a Canvas or Moodle export name).

    Such a name never changes whose submission it is (the outermost level decides); it is
    reported so the instructor sees the attempt. ``subs`` are intake submissions.
    """
    table, own = _known(subs, roster)
    claims: list[Claim] = []
    for sub, mine in zip(subs, own, strict=True):
        found: dict[str, str] = {}  # claimed -> the first inner name that claims them
        for name in _inner_names(sub):
            found.setdefault(_claimed(name, table, mine), name)
        found.pop("", None)
        if found:
            submitter = person(sub.identity, sub.student_id, roster).label(sub.student_id)
            claims += [Claim(submitter, sub.source, n, who) for who, n in found.items()]
    return claims


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


#: how an exercise's error message starts when its cell hit the per-cell time limit
_CELL_TIMEOUT = "This exercise's cell ran longer than"


def attention_lines(
    rows: Sequence[tuple[Any, Person]], exercises: Mapping[str, Sequence[Any]] | None = None
) -> list[str]:
    """Summary lines naming the students whose submission errored, timed out or was rejected.

    ``rows`` holds (gradebook submission row, person) of the graded submissions;
    ``exercises`` their exercise rows by submission key. A submission that ran to its end is
    ``graded`` even when an exercise's cell raised or hit the per-cell time limit: those
    students are named too, with the exercises concerned (their points for them are 0).
    """
    groups: dict[str, list[str]] = {}
    for sub, who in rows:
        bad = [e for e in (exercises or {}).get(sub.key, ()) if e.status == "error"]
        if sub.status == "graded" and bad:
            label = who.label(sub.student_id)
            slow = [e.exercise_id for e in bad if e.message.startswith(_CELL_TIMEOUT)]
            raised = [e.exercise_id for e in bad if not e.message.startswith(_CELL_TIMEOUT)]
            if raised:
                groups.setdefault("an exercise's cell raised", []).append(
                    f"{label} ({', '.join(raised)})"
                )
            if slow:
                groups.setdefault("an exercise's cell hit the time limit", []).append(
                    f"{label} ({', '.join(slow)})"
                )
            continue
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
    """A grade for the LMS: not for history rows, nor when the grader itself failed, nor
    when several names claimed one id (``id_conflict``: whose file it is was not decided)."""
    return sub.status not in ("superseded", "grader_error") and not sub.detail.startswith(
        "id_conflict"
    )


class DuplicateIdError(ValueError):
    """An export would have two rows for one id; the file was not written."""


def check_unique(file: str, what: str, rows: Iterable[tuple[str, str]], why: str) -> None:
    """Refuse an export with two rows for one id, before anything is written.

    ``rows`` holds (id, submitted file) of each row the export would write; ``what`` names
    the id ("student id", "Canvas user ID") and ``why`` says how such rows can arise.
    Raises :class:`DuplicateIdError` naming the first duplicated id and its files.
    """
    seen: dict[str, list[str]] = {}
    for ident, source in rows:
        seen.setdefault(ident, []).append(source)
    dups = sorted(k for k, v in seen.items() if len(v) > 1)
    if not dups:
        return
    more = f" ({len(dups) - 1} more ids are duplicated)" if len(dups) > 1 else ""
    raise DuplicateIdError(
        f"{file} was not written: the {what} {dups[0]} would have {len(seen[dups[0]])} rows "
        f"({', '.join(seen[dups[0]])}){more}; {why}. One id may have one row only, so none "
        "was written: fix the submissions (or the roster) and grade again"
    )


_LMS_WHY = "several graded submissions are matched to this id (by the export's names or the roster)"


def write_canvas_csv(
    path: Path,
    rows: Sequence[tuple[Any, Person]],
    assignment: str,
    max_grade: float | None = None,
) -> int:
    """Canvas gradebook import: ``Student,ID,SIS User ID,SIS Login ID,Section,<assignment>``.

    One row per student with a Canvas user id (ID). Canvas matches students by ID and the
    assignment by its column name (``Name (assignment id)`` matches an existing assignment
    exactly; a new name creates one). Returns the number of students written. Raises
    :class:`DuplicateIdError` (writing nothing) when two rows would have one ID.
    """
    rows = [(sub, who) for sub, who in rows if who.lms_id and exportable(sub)]
    check_unique(path.name, "Canvas user ID", ((w.lms_id, s.source) for s, w in rows), _LMS_WHY)
    written = 0
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow([*CANVAS_HEADER, cell(assignment)])
        for sub, who in rows:
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
    Raises :class:`DuplicateIdError` (writing nothing) when two rows would have one id.
    """
    stamp = moodle_date((now or dt.datetime.now()).astimezone())
    rows = [(sub, who, text) for sub, who, text in rows if who.lms_id and exportable(sub)]
    check_unique(
        path.name, "Moodle participant id", ((w.lms_id, s.source) for s, w, _ in rows), _LMS_WHY
    )
    written = 0
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(MOODLE_HEADER)
        for sub, who, comment in rows:
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


def lms_lines(
    subs: Sequence[Any], export_notes: list[str], roster: Roster | None = None
) -> list[str]:
    """Summary lines about the export: which rules, late submissions, history rows, and
    inner names that claim another participant (:func:`inner_claims`)."""
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
    return lines + _shared_id_lines(subs) + _claim_lines(subs, roster) + export_notes


def _claim_lines(subs: Sequence[Any], roster: Roster | None, limit: int = 20) -> list[str]:
    claims = inner_claims(subs, roster)
    lines = [c.line() for c in claims[:limit]]
    if len(claims) > limit:
        lines.append(f"... and {len(claims) - limit} more inner names claiming a participant")
    return lines


def _shared_id_lines(subs: Sequence[Any], limit: int = 20) -> list[str]:
    """One line per outermost name graded under an id of its own because it sanitises to
    the id another student's name holds (:func:`_settle_shared_id`)."""
    seen: dict[str, str] = {}
    for sub in subs:
        holder = getattr(sub, "shares_id_with", "")
        if holder:
            seen.setdefault(
                _owner(sub)[1],
                f"{_owner(sub)[1]!r} sanitises to the id of another student {holder!r}; "
                f"graded under {sub.student_id!r}",
            )
    lines = list(seen.values())
    if len(lines) > limit:
        return [*lines[:limit], f"... and {len(lines) - limit} more names given an id of their own"]
    return lines
