"""Reading exercise ids and solution regions out of notebook cells.

Shared by ``mlcourse release`` and ``mlcourse assignment build`` (to build learner notebooks),
``solution()``, the checker tests and the batch grader (to map submitted cells to exercises).
Works on untrusted notebooks: odd metadata is ignored, never a crash.

**The rule, written once** (:func:`_code_cells_by_id`): the cell that answers exercise ``X``
is the *last code cell* whose ``metadata["mlcourse"]["exercise"]`` is ``X``. A markdown or raw
cell never answers an exercise. The grader probes after that cell, so a learner's latest
attempt counts; authoring tools report a second cell with the same id as a problem.
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


def cell_source(cell: Mapping[str, Any]) -> str:
    """A cell's source as one string (raw JSON may keep it as a list of lines)."""
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


def _code_cells_by_id(nb: nbformat.NotebookNode) -> dict[str, list[int]]:
    """The indices of the code cells carrying each exercise id, in notebook order.

    The one place that says which cells count: code cells only; the last index answers.
    """
    found: dict[str, list[int]] = {}
    for index, cell in enumerate(nb.cells):
        if cell.get("cell_type") != "code":
            continue
        ex_id = cell_exercise_id(cell)
        if ex_id is not None:
            found.setdefault(ex_id, []).append(index)
    return found


def _listed(indices: list[int]) -> str:
    head, last = indices[:-1], indices[-1]
    return f"{', '.join(map(str, head))} and {last}" if head else str(last)


@dataclass
class ExerciseCells:
    """Where each exercise's cell is in a notebook (see :func:`map_exercise_cells`)."""

    cell_of: dict[str, int]  # exercise id -> index of its last code cell (probed after it)
    status: dict[str, str]  # exercise id -> "ok" | "missing" | "duplicated" | "moved"
    unknown: list[str]  # ids in the notebook that the exercises module does not declare


def map_exercise_cells(nb: Any, exercise_ids: Iterable[str]) -> ExerciseCells:
    """Find each exercise's cell and say how it stands against the reference order.

    A duplicated id counts at its *last* code cell; an id found out of the reference order is
    "moved" (still graded); markdown cells never count.

    Examples
    --------
    >>> nb = nbformat.v4.new_notebook(cells=[
    ...     nbformat.v4.new_code_cell("b = 2", metadata={"mlcourse": {"exercise": "q2"}}),
    ...     nbformat.v4.new_code_cell("a = 1", metadata={"mlcourse": {"exercise": "q1"}})])
    >>> map_exercise_cells(nb, ["q1", "q2", "q3"]).status
    {'q1': 'ok', 'q2': 'moved', 'q3': 'missing'}
    """
    ids = list(exercise_ids)
    seen = _code_cells_by_id(load_notebook(nb))
    cell_of = {ex: seen[ex][-1] for ex in ids if ex in seen}
    in_place = _longest_in_order(list(cell_of), sorted(cell_of, key=cell_of.__getitem__))
    status = {}
    for ex in ids:
        if ex not in seen:
            status[ex] = "missing"
        elif len(seen[ex]) > 1:
            status[ex] = "duplicated"
        else:
            status[ex] = "ok" if ex in in_place else "moved"
    return ExerciseCells(cell_of, status, sorted(set(seen) - set(ids)))


def _longest_in_order(reference: list[str], actual: list[str]) -> set[str]:
    """Ids of a longest subsequence of ``actual`` in reference order (O(n^2); n is small)."""
    rank = {ex: i for i, ex in enumerate(reference)}
    seq = [rank[ex] for ex in actual]
    best: list[list[int]] = []
    for i, r in enumerate(seq):
        prev = [best[j] for j in range(i) if seq[j] < r]
        best.append(max(prev, key=len, default=[]) + [r])
    longest = max(best, key=len, default=[])
    return {reference[r] for r in longest}


def exercise_cells(nb: Any, *, strict: bool = True) -> dict[str, int]:
    """Map each exercise id to the index of the code cell that answers it.

    Parameters
    ----------
    nb : NotebookNode, path or JSON string
        The notebook (solution, learner or submitted edition).
    strict : bool, default True
        Raise :class:`ExerciseCellError` when an id is on two code cells; with
        ``strict=False`` the last one answers, as in the grader (use
        :func:`exercise_cell_problems` to report).

    Examples
    --------
    >>> nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("intro"),
    ...     nbformat.v4.new_code_cell("x = 1", metadata={"mlcourse": {"exercise": "q1"}})])
    >>> exercise_cells(nb)
    {'q1': 1}
    """
    found = _code_cells_by_id(load_notebook(nb))
    if strict:
        for ex_id, indices in found.items():
            if len(indices) > 1:
                raise ExerciseCellError(
                    f"exercise id {ex_id!r} is on cells {_listed(indices)}; "
                    "each exercise id must be on exactly one cell"
                )
    return {ex_id: indices[-1] for ex_id, indices in found.items()}


def exercise_cell_problems(nb: Any, exercises: Iterable[Exercise]) -> list[str]:
    """Everything wrong between a notebook's exercise cells and its exercises module.

    Returns one human-readable line per problem: an id on two cells, an exercise with no
    cell, a cell whose id the module does not know, an id on a markdown cell. An empty list
    means all is well.
    """
    nb = load_notebook(nb)
    known = [e.id for e in exercises]
    found = _code_cells_by_id(nb)
    problems: list[str] = []
    for ex_id, indices in found.items():
        if len(indices) > 1:
            problems.append(f"exercise id {ex_id!r} is duplicated (cells {_listed(indices)})")
        if ex_id not in known:
            problems.append(
                f"cell {indices[0]} carries exercise id {ex_id!r}, unknown to the module"
            )
    for i, cell in enumerate(nb.cells):
        ex_id = cell_exercise_id(cell)
        if ex_id is not None and cell.get("cell_type") != "code":
            problems.append(
                f"cell {i} is a {cell.get('cell_type')} cell carrying exercise id {ex_id!r}: "
                "only a code cell answers an exercise (move the metadata to its code cell)"
            )
    for ex_id in known:
        if ex_id not in found:
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
    lines = cell_source(cell).splitlines()
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
    lines = cell_source(cell).splitlines()
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
    lines = cell_source(cell).splitlines()[region.start : region.stop]
    n = len(region.indent)
    return "\n".join(line[n:] if line[:n].strip() == "" else line for line in lines)


def solution_source(cell: Mapping[str, Any]) -> str:
    """The cell's source without its ``# BEGIN SOLUTION`` / ``# END SOLUTION`` marker lines.

    What ``solution()`` shows: the worked answer in the context of its cell. The markers are
    found by :func:`solution_regions`, the same rule the release uses to blank them.
    """
    lines = cell_source(cell).splitlines()
    markers = {i for r in solution_regions(cell) if not r.whole_cell for i in (r.start - 1, r.stop)}
    return "\n".join(line for i, line in enumerate(lines) if i not in markers)
