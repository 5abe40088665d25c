"""What every lesson notebook must have (issue 22): a task above every exercise, an opening
(objectives, prerequisites, time) and a recap, and a length within the time model."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

from mlcourse.authoring import needs_optional, stated_minutes, time_model, time_problems
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


# ----------------------------------------------------------------------------- the time model


@pytest.mark.parametrize("path", SOLUTIONS, ids=[p.stem for p in SOLUTIONS])
def test_notebook_fits_the_hour_and_states_its_time(path: Path) -> None:
    """The time model of docs/authoring.md: at most 60 core minutes, the opening's
    "**Time:** about N minutes" within 10 of the model, optional parts skippable."""
    nb = nbformat.read(path, as_version=4)
    exercises = exercises_for(path.stem)
    assert time_problems(nb, exercises, path.name) + needs_optional(nb, path.name) == []


@pytest.mark.parametrize("path", SOLUTIONS, ids=[p.stem for p in SOLUTIONS])
def test_notebook_opens_with_objectives_prerequisites_and_time_and_ends_with_a_recap(
    path: Path,
) -> None:
    nb = nbformat.read(path, as_version=4)
    opening = nb.cells[0].source
    assert re.search(r"(?i)learning objectives|you will learn|in this notebook you will", opening)
    assert re.search(r"\*\*Prerequisites[:.]?\*\*", opening)
    assert stated_minutes(nb) is not None
    headings = [ln for c in nb.cells if c.cell_type == "markdown" for ln in c.source.splitlines()]
    assert any(re.match(r"#+ (\d+\. )?Recap", ln) for ln in headings), "no recap"


def _md(text: str) -> nbformat.NotebookNode:
    return nbformat.v4.new_markdown_cell(text)


def _code(text: str, exercise: str | None = None) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell(text)
    if exercise:
        cell.metadata[METADATA_KEY] = {"exercise": exercise}
    return cell


def _choice_and_code():
    from mlcourse.exercises.spec import Exercise

    def nothing(*args):
        return None

    return [
        Exercise("q1", "nb", "t", 1, ("a",), nothing, nothing),
        Exercise("q2", "nb", "t", 1, ("b",), nothing, nothing, kind="choice", choices={"A": "x"}),
    ]


def test_the_time_model_counts_what_the_docs_say() -> None:
    words = " ".join(["word"] * 150)
    nb = nbformat.v4.new_notebook(
        cells=[
            _md(f"# Title\n\n**Time:** about 20 minutes\n\n| a | b |\n|---|---|\n\n{words}"),
            _code("x = 1"),
            _code('check("q1")\nhint("q1", level=2)'),
            _code("a = 2", exercise="q1"),
            _code('b = "A"', exercise="q2"),
            _md(f"## 2. Going further (optional): more\n\n{words}"),
            _code("y = x"),
            _md(f"### A deeper part\n\n{words}"),
            _md("## 3. Back to the core"),
            _code("z = x"),
            _md(f"### Aside (optional)\n\n{words}"),
            _md("## Further reading\n\n- a book"),
        ]
    )
    core, optional = time_model(nb, _choice_and_code())
    # 150 words + "Title", "Time", "about", "20", "minutes" (table rules are no words), two
    # code cells, a code exercise, a choice exercise; "Back to the core" (4 words)
    assert core == pytest.approx(round((155 + 4 + 4) / 150 + 2 + 8 + 2, 1))
    # heading words count too: "2", "Going", "further", "optional", "more" ...
    assert optional == pytest.approx(round((150 + 5 + 150 + 3 + 150 + 2 + 2 + 3) / 150 + 1, 1))
    assert stated_minutes(nb) == 20
    assert needs_optional(nb) == []


def test_the_time_rules_catch_what_breaks_them() -> None:
    long_prose = " ".join(["word"] * 150 * 55)
    nb = nbformat.v4.new_notebook(
        cells=[
            _md(f"# Title\n\n**Time:** about 30 minutes\n\n{long_prose}"),
            _code("a = 1", exercise="q1"),
            _md("### Going further"),
            _code("helper = 3"),
            _code('b = "A"', exercise="q2"),
            _md("## Next"),
            _code("print(helper)"),
        ]
    )
    problems = time_problems(nb, _choice_and_code(), "x.ipynb")
    assert any("over 60" in p for p in problems)
    assert any("states about 30 minutes" in p for p in problems)
    assert any("exercise q2 sits in an optional part" in p for p in problems)
    assert needs_optional(nb, "x.ipynb") == ["x.ipynb: cell 6 reads helper from an optional part"]
    nb.cells[0].source = "# Title"  # no stated time any more
    assert any("does not state" in p for p in time_problems(nb, (), "x.ipynb"))
