"""Reading exercise ids and solution regions out of notebook cells.

Shared by ``mlcourse release`` (to build learner notebooks), the generic checker tests and
the batch grader (to map submitted cells to exercises). Works on untrusted notebooks: odd
metadata is ignored, never a crash.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import nbformat

from .spec import BEGIN_SOLUTION, END_SOLUTION, METADATA_KEY, SOLUTION_TAG, Exercise


class ExerciseCellError(ValueError):
    """A notebook's exercise cells do not match its exercises module."""


def _source(cell: Mapping[str, Any]) -> str:
    src = cell.get("source", "")
    if isinstance(src, list):  # raw JSON keeps multi-line strings as lists of lines
        return "".join(str(s) for s in src)
    return src if isinstance(src, str) else ""


def cell_exercise_id(cell: Mapping[str, Any]) -> str | None:
    """The exercise id stored in ``cell.metadata["mlcourse"]["exercise"]``, or None."""
    meta = cell.get("metadata")
    if not isinstance(meta, Mapping):
        return None
    entry = meta.get(METADATA_KEY)
    if not isinstance(entry, Mapping):
        return None
    ex_id = entry.get("exercise")
    return ex_id if isinstance(ex_id, str) and ex_id else None


def load_notebook(nb: Any) -> nbformat.NotebookNode:
    """Accept a path, a JSON string or a notebook node; return a notebook node (v4)."""
    # imported here: nbformat costs 1-2 s to import, and `check` in a notebook never needs it
    import nbformat

    if isinstance(nb, nbformat.NotebookNode):
        return nb
    if isinstance(nb, Path) or (isinstance(nb, str) and not nb.lstrip().startswith("{")):
        return nbformat.read(Path(nb), as_version=4)
    if isinstance(nb, str):
        return nbformat.reads(nb, as_version=4)
    if isinstance(nb, Mapping):
        return nbformat.from_dict(nb)
    raise TypeError(f"expected a notebook, a path or a JSON string, got {type(nb).__name__}")


def exercise_cells(nb: Any, *, strict: bool = True) -> dict[str, int]:
    """Map each exercise id to the index of the cell that carries it in its metadata.

    Parameters
    ----------
    nb : NotebookNode, path or JSON string
        The notebook (solution, learner or submitted edition).
    strict : bool, default True
        Raise :class:`ExerciseCellError` when an id appears on two cells; with
        ``strict=False`` the first cell wins (use :func:`exercise_cell_problems` to report).

    Examples
    --------
    >>> nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("intro"),
    ...     nbformat.v4.new_code_cell("x = 1", metadata={"mlcourse": {"exercise": "q1"}})])
    >>> exercise_cells(nb)
    {'q1': 1}
    """
    nb = load_notebook(nb)
    out: dict[str, int] = {}
    for i, cell in enumerate(nb.cells):
        ex_id = cell_exercise_id(cell)
        if ex_id is None:
            continue
        if ex_id in out:
            if strict:
                raise ExerciseCellError(
                    f"exercise id {ex_id!r} is on cells {out[ex_id]} and {i}; "
                    "each exercise id must be on exactly one cell"
                )
            continue
        out[ex_id] = i
    return out


def exercise_cell_problems(nb: Any, exercises: Iterable[Exercise]) -> list[str]:
    """Everything wrong between a notebook's exercise cells and its exercises module.

    Returns one human-readable line per problem: an id on two cells, an exercise with no
    cell, a cell whose id the module does not know. An empty list means all is well.
    """
    nb = load_notebook(nb)
    known = [e.id for e in exercises]
    problems: list[str] = []
    seen: dict[str, int] = {}
    for i, cell in enumerate(nb.cells):
        ex_id = cell_exercise_id(cell)
        if ex_id is None:
            continue
        if ex_id in seen:
            problems.append(f"exercise id {ex_id!r} is duplicated (cells {seen[ex_id]} and {i})")
        else:
            seen[ex_id] = i
        if ex_id not in known:
            problems.append(f"cell {i} carries exercise id {ex_id!r}, unknown to the module")
    for ex_id in known:
        if ex_id not in seen:
            problems.append(f"exercise {ex_id!r} has no cell with that id in its metadata")
    return problems


@dataclass(frozen=True)
class Region:
    """A solution region inside one cell's source.

    ``start``/``stop`` index the cell's lines (``stop`` exclusive) covering the region
    *content*; for a marked region the marker lines are ``start - 1`` and ``stop``.
    ``whole_cell`` is True for a cell tagged ``solution``; ``indent`` is the marker's
    leading whitespace.
    """

    start: int
    stop: int
    whole_cell: bool
    indent: str = ""


def is_solution_cell(cell: Mapping[str, Any]) -> bool:
    """True when the cell carries the ``solution`` tag."""
    meta = cell.get("metadata")
    tags = meta.get("tags", []) if isinstance(meta, Mapping) else []
    return isinstance(tags, list) and SOLUTION_TAG in tags


def solution_regions(cell: Mapping[str, Any]) -> list[Region]:
    """The solution regions of a cell (empty list when it has none).

    Raises
    ------
    ValueError
        On unbalanced or nested ``# BEGIN SOLUTION`` / ``# END SOLUTION`` markers.
    """
    lines = _source(cell).splitlines()
    if is_solution_cell(cell):
        return [Region(0, len(lines), True)]
    regions: list[Region] = []
    open_at: int | None = None
    indent = ""
    for i, line in enumerate(lines):
        stripped = line.strip()
        if stripped == BEGIN_SOLUTION:
            if open_at is not None:
                raise ValueError(f"line {i + 1}: {BEGIN_SOLUTION} inside another region")
            open_at, indent = i, line[: len(line) - len(line.lstrip())]
        elif stripped == END_SOLUTION:
            if open_at is None:
                raise ValueError(f"line {i + 1}: {END_SOLUTION} without {BEGIN_SOLUTION}")
            regions.append(Region(open_at + 1, i, False, indent))
            open_at = None
    if open_at is not None:
        raise ValueError(f"line {open_at + 1}: {BEGIN_SOLUTION} is never closed")
    return regions


def replace_regions(cell: Mapping[str, Any], replacement: str | list[str]) -> str:
    """Return the cell's source with its solution regions (and markers) replaced.

    ``replacement`` is one text for every region, or one text per region. The replacement
    is indented like the region's ``# BEGIN SOLUTION`` marker. Used by the release (with
    placeholders) and by the wrong-answer tests (with a wrong answer's ``code``).
    """
    lines = _source(cell).splitlines()
    regions = solution_regions(cell)
    if isinstance(replacement, str):
        replacement = [replacement] * len(regions)
    if len(replacement) != len(regions):
        raise ValueError(f"{len(regions)} regions but {len(replacement)} replacements")
    out: list[str] = []
    pos = 0
    for region, text in zip(regions, replacement, strict=True):
        if region.whole_cell:
            return text.rstrip("\n")
        out.extend(lines[pos : region.start - 1])
        out.extend((region.indent + t) if t.strip() else "" for t in text.rstrip("\n").splitlines())
        pos = region.stop + 1
    out.extend(lines[pos:])
    return "\n".join(out)


def region_text(cell: Mapping[str, Any], region: Region) -> str:
    """The source text of one region, dedented to its marker."""
    lines = _source(cell).splitlines()[region.start : region.stop]
    n = len(region.indent)
    return "\n".join(line[n:] if line[:n].strip() == "" else line for line in lines)
