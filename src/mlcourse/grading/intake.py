"""Intake (trusted): find submissions in a folder or an LMS zip, read and check each notebook.

Nothing here executes student code. Every problem with one file becomes a
:class:`Submission` with ``error`` set (a gradebook row saying why), never an exception that
stops the batch. Zip members are read into memory with size caps and never extracted, so
"zip slip" names (``../../x``), absolute paths and symlinks cannot write anywhere.

Canvas and Moodle exports are recognised by their file and folder names
(:mod:`mlcourse.grading.lms`): the student id is then the LMS's user or participant id, the
name and lateness are kept in :attr:`Submission.identity`, and a student's older
submissions are marked :attr:`Submission.superseded_by` the one that is graded.

Identities come from the outermost level only (below the wrapping folders every file
shares): the top-level Moodle participant folder, the file name Canvas wrote at the top, or
the first-level folder or file name of plain folders. A notebook nested anywhere inside
belongs to that student, whatever the inner names say.

Example
-------
>>> subs = collect_submissions(Path("submissions"))  # doctest: +SKIP
>>> [s.student_id for s in subs]  # doctest: +SKIP
['alice', 'bob']
>>> subs = collect_submissions(Path("canvas.zip"), lms="auto")  # doctest: +SKIP
>>> subs[0].student_id, subs[0].identity.name, subs[0].identity.late  # doctest: +SKIP
('10001', 'lovelaceada', True)
"""

from __future__ import annotations

import hashlib
import re
import stat
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from mlcourse.exercises import ExerciseCells, cell_source
from mlcourse.grading.lms import (
    Identity,
    Roster,
    detect,
    identify,
    is_participant_folder,
    mark_latest,
)

#: default size cap for one submitted notebook
MAX_NOTEBOOK_BYTES = 20 * 2**20
MAX_CELLS = 5000
MAX_ZIP_MEMBERS = 20_000
MAX_ZIP_TOTAL_BYTES = 4 * 2**30


@dataclass
class Submission:
    """One submitted file, read and checked (or rejected with a reason)."""

    student_id: str
    source: str
    content_hash: str
    raw: bytes = b""
    error: str | None = None  # machine-readable rejection status, e.g. "not_utf8"
    message: str = ""  # human explanation of the rejection
    nb: Any = None  # nbformat.NotebookNode when readable
    upgraded_from: int | None = None
    notes: list[str] = field(default_factory=list)
    #: who submitted it according to the LMS export's names (``None``: plain folder or file)
    identity: Identity | None = None
    #: set on a student's older submissions: the source of the one that is graded
    superseded_by: str | None = None
    #: set when its outermost name sanitises to the id another student's name holds: that
    #: name (this one is graded under ``id~hash`` of its own raw name instead)
    shares_id_with: str = ""


def safe_id(name: str) -> str:
    """A student id safe to use in file names and CSV cells.

    >>> safe_id("../../Jane Doe;rm -rf")
    'Jane_Doe_rm_-rf'
    """
    text = re.sub(r"[^A-Za-z0-9._@+-]+", "_", name).strip("._")
    return text[:100] or "unnamed"


def content_hash(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def _student_from_parts(parts: tuple[str, ...]) -> str:
    """A plain submission's student: its first-level folder, or its file's stem at the top
    (never a folder nested inside, which is the student's own choice)."""
    if len(parts) >= 2:
        return safe_id(parts[0])
    return safe_id(PurePosixPath(parts[0]).stem)


def collect_submissions(
    path: Path,
    *,
    max_bytes: int = MAX_NOTEBOOK_BYTES,
    lms: str = "none",
    notebook: str = "",
    roster: Roster | None = None,
) -> list[Submission]:
    """Read every ``.ipynb`` under a folder, or inside a zip file as an LMS exports it.

    With ``lms="none"`` the student id is the name of the first-level folder holding the
    notebook (however deep inside it sits), or the file's stem when the notebook sits at the
    top level. With "canvas" or "moodle" the export's naming rules, read at the outermost
    level only, give the id, name and lateness. Only one submission of each student is kept
    for grading (see :func:`mlcourse.grading.lms.mark_latest`; ``notebook`` is the
    assignment's stem, used to pick among several notebooks of one student). "auto" detects
    the rules from the names and falls back to "none".
    "gradescope" reads the folder as one student's submission (Gradescope's
    ``/autograder/submission``): every notebook in it is that student's, the one named like
    the assignment is graded and the others are kept as history.
    Checkpoint folders and hidden files are skipped.
    Outermost names that sanitise to one id: the one that is the id (or that the LMS or the
    ``roster`` gives it) keeps it, the others are graded under ``id~hash`` (see
    :func:`mlcourse.grading.lms.mark_latest`).
    """
    if lms not in ("none", "auto", "canvas", "moodle", "gradescope"):
        raise ValueError(f"--lms must be canvas, moodle, auto or none, not {lms!r}")
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(
            f"no submissions at {path}; pass a folder of .ipynb files or a .zip exported from "
            "your LMS"
        )
    if path.is_file() and zipfile.is_zipfile(path):
        entries = list(_zip_entries(path, max_bytes))
    elif path.is_dir():
        entries = list(_folder_entries(path, max_bytes))
    elif path.is_file() and path.suffix.lower() == ".ipynb":
        entries = [_read_file(path, (path.name,), max_bytes)]
    else:
        raise ValueError(f"{path} is neither a folder, a zip file nor a notebook")
    # Strip the folders shared by every entry (zips often wrap everything in one folder):
    # what is left starts at the outermost level, the only one that says who submitted
    stripped = _strip_common(entries)
    rules = detect(e[0] for e in stripped) if lms == "auto" else lms
    if rules == "gradescope":  # one student: the whole folder is their submission
        identities: list[Identity | None] = [
            Identity("gradescope", "submission", "", file_name=e[0][-1]) for e in stripped
        ]
    else:
        identities = [
            identify(e[0], rules) if rules not in ("none", "") else None for e in stripped
        ]
    subs = []
    for (parts, raw, error, message), ident in zip(stripped, identities, strict=True):
        sub = Submission(
            student_id=safe_id(ident.lms_id) if ident else _student_from_parts(parts),
            source="/".join(parts),
            content_hash=content_hash(raw if raw else "/".join(parts).encode()),
            raw=raw,
            error=error,
            message=message,
            identity=ident,
        )
        if ident is None and rules in ("canvas", "moodle"):
            sub.notes.append(
                f"the file name does not follow {rules.title()}'s export names, so the student "
                "id comes from the file or folder name and the grade is not in "
                f"{rules}.csv"
            )
        if error is None:
            read_notebook(sub)
        subs.append(sub)
    mark_latest(subs, notebook, roster)
    subs.sort(key=lambda s: (s.student_id, s.source))
    return subs


Entry = tuple[tuple[str, ...], bytes, str | None, str]


def _strip_common(entries: list[Entry]) -> list[Entry]:
    """Remove the wrapping folders every entry shares, so paths start at the outermost level.

    Path tricks (``..``, absolute names: rows rejected anyway) do not count as entries here,
    and a Moodle participant folder is never a wrapping folder (it names the student).
    """

    def shared(depth: int) -> str | None:
        """The first folder every real entry of exactly (0: more than) ``depth`` parts has."""
        basis = [e[0] for e in entries if e[2] != "unsafe_name"]
        if not basis or any(len(p) <= 2 if depth == 0 else len(p) != depth for p in basis):
            return None
        first = basis[0][0]
        if is_participant_folder(first) or any(p[0] != first for p in basis):
            return None
        return first

    def strip(first: str) -> list[Entry]:
        return [(e[0][1:], *e[1:]) if len(e[0]) > 1 and e[0][0] == first else e for e in entries]

    while (first := shared(0)) is not None:
        entries = strip(first)
    real = sum(e[2] != "unsafe_name" for e in entries)
    if real > 1 and (first := shared(2)) is not None:  # one shared folder: ids from file names
        entries = strip(first)
    return entries


def _skip(parts: tuple[str, ...]) -> bool:
    """Checkpoints, macOS metadata and non-notebooks are not submissions."""
    if any(p in (".ipynb_checkpoints", "__MACOSX") for p in parts[:-1]):
        return True
    return parts[-1].startswith("._") or not parts[-1].lower().endswith(".ipynb")


def _read_file(path: Path, parts: tuple[str, ...], max_bytes: int) -> Entry:
    try:
        size = path.stat().st_size
        if size > max_bytes:
            return parts, b"", "too_large", _too_large(size, max_bytes)
        with path.open("rb") as fh:
            raw = fh.read(max_bytes + 1)
        if len(raw) > max_bytes:
            return parts, b"", "too_large", _too_large(len(raw), max_bytes)
        return parts, raw, None, ""
    except OSError as exc:
        return parts, b"", "unreadable", f"the file could not be read ({exc.strerror})"


def _folder_entries(root: Path, max_bytes: int) -> list[Entry]:
    out = []
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).parts
        if _skip(rel) or path.is_dir():
            continue
        if path.is_symlink():
            out.append((rel, b"", "unsafe_name", "symbolic links are not accepted as submissions"))
            continue
        out.append(_read_file(path, rel, max_bytes))
    return out


def _too_large(size: int, cap: int) -> str:
    return (
        f"the notebook is {size / 2**20:.1f} MB, above the {cap / 2**20:.0f} MB limit; clear "
        "its outputs (Edit > Clear Outputs of All Cells), save and submit again"
    )


def _zip_entries(path: Path, max_bytes: int) -> list[Entry]:
    out: list[Entry] = []
    total = 0
    with zipfile.ZipFile(path) as zf:
        infos = zf.infolist()
        if len(infos) > MAX_ZIP_MEMBERS:
            raise ValueError(f"{path} has {len(infos)} members; at most {MAX_ZIP_MEMBERS} accepted")
        for info in infos:
            if info.is_dir():
                continue
            name = info.filename.replace("\\", "/")
            raw_parts = tuple(p for p in name.split("/") if p not in ("", "."))
            if not raw_parts or _skip(raw_parts):
                continue
            if name.startswith("/") or ".." in raw_parts or re.match(r"^[A-Za-z]:", name):
                out.append(
                    (
                        raw_parts,
                        b"",
                        "unsafe_name",
                        "the file name in the archive is a path "
                        "trick (absolute or with '..'); it was not read",
                    )
                )
                continue
            if stat.S_ISLNK(info.external_attr >> 16):
                out.append((raw_parts, b"", "unsafe_name", "symbolic links are not accepted"))
                continue
            if info.file_size > max_bytes:
                out.append((raw_parts, b"", "too_large", _too_large(info.file_size, max_bytes)))
                continue
            try:
                with zf.open(info) as fh:
                    raw = fh.read(max_bytes + 1)  # the header's size may lie: cap the read
            except Exception as exc:  # corrupt member, unsupported compression, password
                out.append(
                    (
                        raw_parts,
                        b"",
                        "unreadable",
                        f"the archive member could not be read ({type(exc).__name__})",
                    )
                )
                continue
            if len(raw) > max_bytes:
                out.append((raw_parts, b"", "too_large", _too_large(len(raw), max_bytes)))
                continue
            total += len(raw)
            if total > MAX_ZIP_TOTAL_BYTES:
                raise ValueError(f"{path} expands to more than {MAX_ZIP_TOTAL_BYTES} bytes")
            out.append((raw_parts, raw, None, ""))
    return out


def read_notebook(sub: Submission) -> None:
    """Decode, parse, upgrade and validate ``sub.raw``; set ``sub.error`` when impossible."""
    raw = sub.raw
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        sub.error, sub.message = (
            "not_utf8",
            (
                f"the file is not UTF-8 text (invalid byte at position {exc.start}); open it in "
                "Jupyter, save it again and resubmit"
            ),
        )
        return
    try:
        import json

        data = json.loads(text)
    except (ValueError, RecursionError) as exc:
        where = f" near line {exc.lineno}" if hasattr(exc, "lineno") else ""
        sub.error, sub.message = (
            "not_json",
            (
                f"the file is not a readable notebook: its JSON is broken or truncated{where}. "
                "Open it in Jupyter (or restore a checkpoint), save and resubmit"
            ),
        )
        return
    if type(data) is not dict or "cells" not in data and "worksheets" not in data:
        sub.error, sub.message = "not_notebook", "the file is JSON but not a Jupyter notebook"
        return
    major = data.get("nbformat")
    if type(major) is not int or not 1 <= major <= 4:
        sub.error, sub.message = (
            "unsupported_version",
            (
                f"notebook format version {major!r} is not supported (expected 4, or 3 which is "
                "upgraded); save the notebook with a current Jupyter and resubmit"
            ),
        )
        return
    try:
        import nbformat  # here: the grader starts its sandboxes before it reads notebooks

        nb = nbformat.reads(text, as_version=4)
        if major < 4:
            sub.upgraded_from = major
            sub.notes.append(f"notebook format {major} was upgraded to 4")
        nbformat.validator.normalize(nb)
        nbformat.validate(nb)
    except Exception as exc:
        msg = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        sub.error, sub.message = (
            "invalid_notebook",
            (
                f"the notebook does not follow the Jupyter format ({msg}); open it in Jupyter, "
                "save it again and resubmit"
            ),
        )
        return
    if len(nb.cells) > MAX_CELLS:
        sub.error, sub.message = (
            "too_many_cells",
            (f"the notebook has {len(nb.cells)} cells (at most {MAX_CELLS} are graded)"),
        )
        return
    sub.nb = nb


def job_cells(nb: Any, cells: ExerciseCells) -> list[dict[str, Any]]:
    """The code cells to run, each with the exercises to probe right after it."""
    probe_after: dict[int, list[str]] = {}
    for ex, index in cells.cell_of.items():
        probe_after.setdefault(index, []).append(ex)
    out = []
    for index, cell in enumerate(nb.cells):
        if cell.get("cell_type") != "code":
            continue
        out.append(
            {"index": index, "source": cell_source(cell), "probe": probe_after.get(index, [])}
        )
    return out
