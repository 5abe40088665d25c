"""`mlcourse release`: learner notebooks from solutions/, staleness, student edition."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from mlcourse import authoring
from mlcourse.authoring import learner_notebook, make_placeholder, render
from mlcourse.exercises import exercise_cells, make_api
from mlcourse.exercises._cells import region_text, solution_regions
from mlcourse.exercises._registry import notebook_modules, package_root

ROOT = package_root()
SOLUTIONS = authoring.solution_paths(ROOT)
META = "mlcourse"


def _cell(source: str, ex_id: str | None = None, tags: list[str] | None = None, outputs=None):
    meta: dict = {}
    if ex_id:
        meta[META] = {"exercise": ex_id}
    if tags:
        meta["tags"] = tags
    cell = nbformat.v4.new_code_cell(source, metadata=meta)
    if outputs:
        cell.outputs = outputs
        cell.execution_count = 3
    return cell


FIXTURE_CELLS = [
    nbformat.v4.new_markdown_cell("# Demo\nCount the players."),
    _cell("players = list(range(12))\nprint('setup')"),
    _cell(
        "# Q1: how many players?\n# BEGIN SOLUTION\nimport math\n"
        "n_players = len(players)\nshare_even = sum(p % 2 == 0 for p in players) / n_players\n"
        "# END SOLUTION\nprint('answered')",
        "q1_count",
        outputs=[nbformat.v4.new_output("stream", name="stdout", text="answered\n")],
    ),
    _cell(
        'def double_all(xs: list[int]) -> list[int]:\n    """Double every item."""\n'
        "    return [2 * x for x in xs]",
        "q2_double",
        tags=["solution"],
    ),
    _cell(
        'def halve(x):\n    """Half of x."""\n    # BEGIN SOLUTION\n    return x / 2\n'
        "    # END SOLUTION",
        "q3_halve",
    ),
    _cell('q4 = "B"', "q4_choice", tags=["solution", "keep-me"]),
    nbformat.v4.new_markdown_cell(
        "Because the table has one row per player.", metadata={"tags": ["solution"]}
    ),
]


def fixture_solution() -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook(cells=[c.copy() for c in FIXTURE_CELLS])
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.metadata["widgets"] = {"noise": True}
    return nb


@pytest.fixture
def course(tmp_path, monkeypatch):
    """A tiny course root with one solution notebook (its stem has no exercises module)."""
    (tmp_path / "solutions").mkdir()
    sol = fixture_solution()
    sol.cells[2].outputs = []  # a committed solution carries no outputs
    sol.cells[2].execution_count = None
    nbformat.write(sol, tmp_path / "solutions" / "90_demo.ipynb")
    monkeypatch.setenv("MLCOURSE_ROOT", str(tmp_path))
    return tmp_path


def solution_lines(nb: nbformat.NotebookNode) -> set[str]:
    """Stripped, non-trivial lines of every solution region that appear nowhere else.

    Lines a placeholder keeps on purpose (a function's signature and docstring) and lines
    also written outside the regions are not solution text.
    """
    outside: set[str] = set()
    inside: set[str] = set()
    for cell in nb.cells:
        regions = solution_regions(cell)
        lines = cell.source.splitlines()
        covered = {i for r in regions for i in range(r.start, r.stop)}
        for r in regions:
            code = region_text(cell, r)
            inside.update(x.strip() for x in code.splitlines())
            if cell.cell_type == "code":
                kept = make_placeholder(code, "q", indented=bool(r.indent))
                outside.update(x.strip() for x in kept.splitlines())
        outside.update(x.strip() for i, x in enumerate(lines) if i not in covered)
    trivial = {"", ")", "]", "}", "pass", "...", "else:", "try:", "return", '"""'}
    return {
        x
        for x in inside - outside
        if x not in trivial and not x.startswith("#") and any(ch.isalnum() for ch in x)
    }


def surviving(solution: nbformat.NotebookNode, learner_text: str) -> list[str]:
    learner = nbformat.reads(learner_text, as_version=4)
    learner_lines = {x.strip() for c in learner.cells for x in c.source.splitlines()}
    return sorted(solution_lines(solution) & learner_lines)


def test_placeholders_keep_signatures_and_drop_solution_code():
    text = make_placeholder(
        "import numpy as np\nvals = [v * 2 for v in range(3)]\nfor i in range(2):\n"
        "    total = i\n\n@staticmethod\ndef f(a,\n      b=2):\n    '''Doc.'''\n    return a\n",
        "q7",
    )
    assert text.splitlines()[0].startswith("# Exercise q7:")
    assert "vals = ...  # your answer here" in text
    assert "total = ...  # your answer here" in text
    names = {line.split(" = ")[0] for line in text.splitlines() if " = ..." in line}
    assert names == {"vals", "total"}  # no comprehension or loop variables
    assert "import numpy" not in text and "return a" not in text
    assert (
        "@staticmethod\ndef f(a,\n      b=2):\n    '''Doc.'''\n    raise NotImplementedError"
        in text
    )
    with pytest.raises(authoring.ReleaseError, match="does not parse"):
        make_placeholder("x = (", "q1")


def test_learner_edition_runs_and_reads_not_attempted():
    learner = learner_notebook(fixture_solution(), "demo")
    ns: dict = {}
    for cell in learner.cells:
        if cell.cell_type == "code":
            exec(cell.source, ns)  # top to bottom, no traceback
    from mlcourse.exercises._helpers import equal_judge, value_probe
    from mlcourse.exercises.spec import Exercise

    def double_probe(ns_, ctx):
        return ns_["double_all"]([1, 2])

    def halve_probe(ns_, ctx):
        return ns_["halve"](4)

    exs = (
        Exercise(
            "q1_count",
            "90_demo",
            "c",
            1,
            ("n_players",),
            value_probe("n_players"),
            equal_judge("no"),
        ),
        Exercise("q2_double", "90_demo", "d", 1, ("double_all",), double_probe, equal_judge("no")),
        Exercise("q3_halve", "90_demo", "h", 1, ("halve",), halve_probe, equal_judge("no")),
    )
    check, _, _ = make_api("90_demo", exs)
    for ex in exs:
        assert check(ex.id, namespace=ns).status == "not_attempted", ex.id
    assert ns["q4"] is Ellipsis


def test_learner_edition_strips_outputs_solutions_and_noise():
    sol = fixture_solution()
    learner = learner_notebook(sol, "demo")
    assert all(c.get("outputs", []) == [] for c in learner.cells)
    assert all(c.get("execution_count") is None for c in learner.cells if c.cell_type == "code")
    assert set(learner.metadata) == {"kernelspec"}
    assert exercise_cells(learner) == exercise_cells(sol)  # ids survive for the grader
    assert learner.cells[5].metadata["tags"] == ["keep-me"]
    assert "tags" not in learner.cells[3].metadata
    assert learner.cells[6].source == "_Write your answer here._"
    assert learner.cells[2].source.endswith("print('answered')")  # text outside markers kept
    assert surviving(sol, render(learner)) == []
    assert "n_players = len(players)" in render(sol)  # the check above can fail


def test_release_is_deterministic_and_check_detects_staleness(course, capsys):
    args = argparse.Namespace(check=True, student_edition=None, no_expected=True, only=None)
    assert authoring.run(args) == 1  # notebooks/ missing
    changed = authoring.release(course, expected=False)
    target = course / "notebooks" / "90_demo.ipynb"
    assert changed == [target]
    first = target.read_bytes()
    assert authoring.release(course, expected=False) == []
    assert target.read_bytes() == first
    json.loads(first)  # valid JSON
    assert nbformat.reads(first.decode(), as_version=4).nbformat == 4
    assert authoring.run(args) == 0
    sol = nbformat.read(course / "solutions" / "90_demo.ipynb", as_version=4)
    sol.cells[1].source = "players = list(range(13))"
    nbformat.write(sol, course / "solutions" / "90_demo.ipynb")
    assert authoring.run(args) == 1
    assert "notebooks/90_demo.ipynb" in capsys.readouterr().err


def test_release_refuses_solutions_with_outputs_or_broken_markers(course):
    nb = fixture_solution()  # cell 2 carries an output
    nbformat.write(nb, course / "solutions" / "90_demo.ipynb")
    with pytest.raises(authoring.ReleaseError, match="cell 2 carries outputs"):
        authoring.release(course, expected=False)
    nb.cells[2].outputs = []
    nb.cells[4].source = "def halve(x):\n    # BEGIN SOLUTION\n    return x / 2\n"
    nbformat.write(nb, course / "solutions" / "90_demo.ipynb")
    with pytest.raises(authoring.ReleaseError, match="cell 4.*never closed"):
        authoring.release(course, expected=False)


# ------------------------------------------------------------------ the real course files

needs_solutions = pytest.mark.skipif(not SOLUTIONS, reason="no solutions/*.ipynb yet")


@needs_solutions
@pytest.mark.parametrize("stem", sorted(SOLUTIONS))
def test_committed_learner_notebook_is_current_and_leak_free(stem):
    path = ROOT / "notebooks" / f"{stem}.ipynb"
    assert path.is_file(), f"notebooks/{stem}.ipynb is missing: run `mlcourse release`"
    text = path.read_text(encoding="utf-8")
    sol = nbformat.read(SOLUTIONS[stem], as_version=4)
    assert text == render(learner_notebook(sol)), "notebooks/ is stale: run `mlcourse release`"
    assert surviving(sol, text) == [], "solution lines survive in the learner notebook"


@needs_solutions
@pytest.mark.parametrize("folder", ["solutions", "notebooks"])
def test_committed_notebooks_carry_no_outputs(folder):
    for path in sorted((ROOT / folder).glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        for i, cell in enumerate(nb.cells):
            if cell.cell_type == "code":
                assert not cell.outputs, f"{folder}/{path.name} cell {i} has outputs"
                assert cell.execution_count is None, f"{folder}/{path.name} cell {i}"


@needs_solutions
def test_exercise_ids_match_their_modules():
    mods = notebook_modules()
    assert authoring.validate_solutions(ROOT) == []
    for stem in SOLUTIONS:
        assert stem in mods, f"solutions/{stem}.ipynb has no mlcourse.exercises.nb* module"


@needs_solutions
def test_stored_expected_answers_are_current():
    assert authoring.stale_expected(ROOT) == []


@needs_solutions
def test_release_check_cli_passes_on_the_repository():
    proc = subprocess.run(
        [sys.executable, "-m", "mlcourse", "release", "--check"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr


@needs_solutions
def test_student_edition_has_no_solutions(tmp_path, monkeypatch):
    dest = authoring.student_edition(tmp_path / "edition", ROOT)
    for sub in ("notebooks", "datasets", "src/mlcourse", "README.md", "pyproject.toml"):
        assert (dest / sub).exists(), sub
    # `make lab` works there as in the course: the Makefile, its bootstrap and the lock ship too
    for sub in ("Makefile", "scripts/bootstrap.sh", "requirements.lock", "LICENSE"):
        assert (dest / sub).is_file(), sub
    assert "make lab" in (dest / "README.md").read_text()
    assert not (dest / "solutions").exists()
    leaks = set()
    for path in SOLUTIONS.values():
        leaks |= solution_lines(nbformat.read(path, as_version=4))
    for f in dest.rglob("*"):
        if not f.is_file():
            continue
        rel = f.relative_to(dest)
        if f.suffix == ".py":  # package source: a verbatim copy of the authored modules
            assert f.read_bytes() == (ROOT / rel).read_bytes(), f"{rel} differs from the source"
            continue
        if f.suffix in {".ipynb", ".json", ".md", ".txt", ".toml"}:
            text = f.read_text(encoding="utf-8", errors="replace")
            lines = {x.strip() for x in text.splitlines()}
            if f.suffix == ".ipynb":
                assert rel.parts[0] == "notebooks", f"unexpected notebook {rel}"
                nb = nbformat.reads(text, as_version=4)
                lines = {x.strip() for c in nb.cells for x in c.source.splitlines()}
                assert "BEGIN SOLUTION" not in text, f"solution marker in {rel}"
            assert not (lines & leaks), f"solution text in {rel}: {sorted(lines & leaks)[:3]}"
    # the expected answers ship encoded, and check() reads them back unchanged
    from mlcourse.exercises._expected import _load, load_expected

    for path in sorted((dest / "src/mlcourse/exercises/expected").glob("*.json")):
        assert '"value"' not in path.read_text()
        assert _load(path, path.stat().st_mtime_ns) == load_expected(path.stem)
    with pytest.raises(authoring.ReleaseError, match="not empty"):
        authoring.student_edition(dest, ROOT)
    monkeypatch.setenv("MLCOURSE_ROOT", str(dest))
    stem = next(iter(SOLUTIONS))
    mod = notebook_modules()[stem]
    assert "no solutions" in str(mod.solution(mod.EXERCISES[0].id))


def test_student_edition_refuses_a_stale_course(course, tmp_path):
    with pytest.raises(authoring.ReleaseError, match="stale"):
        authoring.student_edition(tmp_path / "out", course)
    assert not (tmp_path / "out").exists()


def test_cli_rejects_a_non_empty_student_edition_folder(course, tmp_path, capsys):
    authoring.release(course, expected=False)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "x").write_text("x")
    args = argparse.Namespace(
        check=False, student_edition=Path(tmp_path / "out"), no_expected=False, only=None
    )
    assert authoring.run(args) == 1
    assert "not empty" in capsys.readouterr().err
