"""What every lesson notebook must have (issue 22): a task above every exercise."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

from mlcourse.exercises import exercises_for
from mlcourse.exercises.spec import METADATA_KEY

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = sorted((ROOT / "solutions").glob("*.ipynb"))
#: code cells allowed between an exercise's task and its cell (printing the options, a hint)
MAX_CELLS_BETWEEN = 2


def task_text(nb: nbformat.NotebookNode, index: int, names: tuple[str, ...]) -> str | None:
    """The markdown cell that states the task of the exercise cell at ``index``: the nearest
    markdown cell above it, with at most :data:`MAX_CELLS_BETWEEN` code cells between that
    do not already define the exercise's names."""
    between = 0
    for j in range(index - 1, -1, -1):
        cell = nb.cells[j]
        if cell.cell_type == "markdown":
            return cell.source
        defines = any(re.search(rf"^\s*(def\s+{n}\b|{n}\s*=)", cell.source, re.M) for n in names)
        between += 1
        if defines or between > MAX_CELLS_BETWEEN:
            return None
    return None


def missing_tasks(path: Path) -> list[str]:
    nb = nbformat.read(path, as_version=4)
    exercises = {ex.id: ex for ex in exercises_for(path.stem)}
    problems = []
    for i, cell in enumerate(nb.cells):
        ex_id = cell.metadata.get(METADATA_KEY, {}).get("exercise")
        if cell.cell_type != "code" or ex_id not in exercises:
            continue
        names = exercises[ex_id].reads
        text = task_text(nb, i, names) or ""
        absent = [n for n in names if not re.search(rf"`{re.escape(n)}\b", text)]
        if absent:
            problems.append(f"{path.name} cell {i} ({ex_id}): no task names {absent}")
    return problems


@pytest.mark.parametrize("path", SOLUTIONS, ids=[p.stem for p in SOLUTIONS])
def test_every_exercise_has_its_task_directly_above(path: Path) -> None:
    """The task says what to build and names what to define, right above the cell."""
    assert missing_tasks(path) == []


def test_the_rule_finds_an_exercise_without_a_task(tmp_path: Path) -> None:
    src = nbformat.read(ROOT / "solutions" / "00_start_here.ipynb", as_version=4)
    for i, cell in enumerate(src.cells):
        if cell.metadata.get(METADATA_KEY, {}).get("exercise") == "q0_shout":
            src.cells[i - 1].source = "Now write the real answer."
            break
    path = tmp_path / "00_start_here.ipynb"
    nbformat.write(src, path)
    assert any("q0_shout" in p for p in missing_tasks(path))
