"""Generic checker tests: every notebook with an exercises module plugs in automatically.

For every ``mlcourse.exercises.nb*`` module whose ``solutions/<NOTEBOOK>.ipynb`` exists:

(a) the reference solution passes every exercise (and reproduces the stored expected data);
(b) the untouched learner edition runs top to bottom and every exercise reads "not attempted";
(c) every WrongAnswer of the catalogue fails with its intended status and message;
(d) every ValidAnswer (a correct answer written differently) is accepted.

The catalogues are test data in ``tests/catalogues/nbNN.py`` (never shipped).

One kernel per worker runs the solution notebook once (the ``solved_kernels`` fixture of
conftest.py, shared with the mutants and stability tests); each case then starts from the
state the notebook left (``KernelSession.restore``), and a wrong answer is executed in place
of its solution region and checked. Tests of one notebook share an xdist group, so its
kernel stays on one worker. The stored expected answers are probed first and once more after
the notebook's last case (``<stem>-expected-again``): a state a case leaks past the restore
would change them.
"""

from __future__ import annotations

import math
from typing import Any

import nbformat
import pytest
from catalogues import catalogue

from mlcourse.authoring import learner_notebook, solution_paths
from mlcourse.exercises import exercise_cells, load_expected, replace_regions
from mlcourse.exercises._kernel import KernelSession
from mlcourse.exercises._registry import notebook_modules, package_root

SOLUTIONS = solution_paths(package_root())
STEMS = [stem for stem in notebook_modules() if stem in SOLUTIONS]


def _cases() -> list[Any]:
    """One case per reference check and per wrong answer, notebook by notebook."""
    cases = []
    for stem in STEMS:
        marks = [pytest.mark.xdist_group(name=f"nb-{stem}")]
        cases.append(pytest.param(stem, "expected", None, None, id=f"{stem}-expected", marks=marks))
        for ex in notebook_modules()[stem].EXERCISES:
            cases.append(
                pytest.param(stem, "reference", ex.id, None, id=f"{stem}-{ex.id}", marks=marks)
            )
            cat = catalogue(notebook_modules()[stem].__name__)
            for wa in cat.wrong.get(ex.id, ()):
                cases.append(
                    pytest.param(
                        stem, "wrong", ex.id, wa.name, id=f"{stem}-{ex.id}-{wa.name}", marks=marks
                    )
                )
            for va in cat.valid.get(ex.id, ()):
                cases.append(
                    pytest.param(
                        stem,
                        "valid",
                        ex.id,
                        va.name,
                        id=f"{stem}-{ex.id}-valid-{va.name}",
                        marks=marks,
                    )
                )
        # the stored facts once more, after every case of the notebook ran in (and was
        # undone from) the same kernel: what a case leaves behind would show up here
        cases.append(
            pytest.param(stem, "expected", None, None, id=f"{stem}-expected-again", marks=marks)
        )
    return cases


def _approx_equal(a: Any, b: Any) -> bool:
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_approx_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_approx_equal(x, y) for x, y in zip(a, b, strict=True))
    if type(a) is float or type(b) is float:
        return (
            isinstance(a, int | float)
            and isinstance(b, int | float)
            and math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
        )
    return a == b


@pytest.mark.slow
@pytest.mark.timeout(300)
@pytest.mark.parametrize(("stem", "kind", "exercise_id", "wrong_name"), _cases())
def test_exercise_checker(solved_kernels, stem, kind, exercise_id, wrong_name):
    with solved_kernels.lend(stem) as session:
        _judge_case(session, stem, kind, exercise_id, wrong_name)


def _judge_case(session, stem, kind, exercise_id, wrong_name):
    """One case in the solved kernel of ``stem`` (in the state its notebook left)."""
    nb = session.nb
    if kind == "expected":
        record = load_expected(stem)
        assert record is not None, f"expected/{stem}.json is missing: run `mlcourse release`"
        fresh = session.probe(stem)  # probed and assessed, as in release
        stale = [
            k for k in fresh if not _approx_equal(fresh[k], record["results"].get(k, {"": None}))
        ]
        assert not stale, f"stored expected answers are stale for {stale}: run `mlcourse release`"
        return
    if kind == "reference":
        fb = session.check(stem, exercise_id)
        assert fb["status"] == "correct", f"reference solution fails {exercise_id}: {fb['text']}"
        assert "mlcourse-correct" in fb["html"]
        return
    ex = next(e for e in notebook_modules()[stem].EXERCISES if e.id == exercise_id)
    cat = catalogue(notebook_modules()[stem].__name__)
    answers = cat.wrong if kind == "wrong" else cat.valid
    wa = next(w for w in answers[exercise_id] if w.name == wrong_name)
    index = exercise_cells(nb)[exercise_id]
    cell = nb.cells[index]
    wrong_source = replace_regions(cell, wa.code)
    assert wrong_source != cell.source, f"cell of {exercise_id} has no solution region"
    # judge the wrong answer alone: forget what the reference solution defined (the next
    # case starts from the notebook's state again: the pool restores its snapshot)
    session.run(f"for _n in {list(ex.reads)!r}:\n    get_ipython().user_ns.pop(_n, None)")
    session.run(wrong_source)
    fb = session.check(stem, exercise_id)
    assert fb["status"] == wa.status, f"{wa.name}: expected {wa.status}, got {fb['text']}"
    if kind == "wrong":
        assert wa.message.lower() in fb["message"].lower(), f"{wa.name}: got {fb['text']}"


@pytest.mark.slow
@pytest.mark.timeout(300)
@pytest.mark.parametrize(
    "stem", [pytest.param(s, marks=pytest.mark.xdist_group(name=f"nb-{s}")) for s in STEMS]
)
def test_learner_edition_runs_and_reads_not_attempted(stem):
    learner = learner_notebook(nbformat.read(SOLUTIONS[stem], as_version=4))
    with KernelSession(learner) as session:
        session.run_notebook()  # raises NotebookError naming the cell on any traceback
        statuses = {ex.id: session.check(stem, ex.id) for ex in notebook_modules()[stem].EXERCISES}
    wrong = {k: fb["text"] for k, fb in statuses.items() if fb["status"] != "not_attempted"}
    assert not wrong, f"the untouched learner edition should read 'not attempted': {wrong}"


def test_every_notebook_with_an_exercises_module_is_covered():
    missing = [stem for stem in notebook_modules() if stem not in SOLUTIONS]
    assert not missing, f"exercises modules without solutions/<stem>.ipynb: {missing}"
