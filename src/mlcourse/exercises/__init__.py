"""Exercises: the in-notebook API (``check``, ``hint``, ``solution``) and the registry.

In a learner notebook::

    from mlcourse.exercises.nb00 import check, hint, solution
    check("q1_players")            # correct / incorrect with the reason / not attempted / error
    hint("q1_players")             # first hint; hint("q1_players", level=2) for the next
    solution("q1_players")         # the worked answer, when this edition has solutions

An ``nbNN`` module gets its three functions from :func:`make_api`::

    NOTEBOOK = "04_new_topic"
    EXERCISES = (Exercise(...), ...)
    check, hint, solution = make_api(NOTEBOOK, EXERCISES)

For the authoring tools, the batch grader and the tests, this package is the public API (they
import nothing from its private modules): the registry (:func:`notebook_modules`,
:func:`exercises_for`, :func:`package_root`, :func:`data_dir`), cells
(:func:`map_exercise_cells`, :func:`exercise_cells`, :func:`exercise_cell_problems`,
:func:`solution_regions`, :func:`replace_regions`), running and judging (:func:`run_probes`,
:func:`probe_one`, :func:`assess_one`, :func:`judge_result`, ``KernelSession``), and the
expected answers (:func:`load_expected`, :func:`dumps_expected`, :func:`seal_record`).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any

from ._cells import (
    ExerciseCellError,
    ExerciseCells,
    Region,
    cell_exercise_id,
    cell_source,
    exercise_cell_problems,
    exercise_cells,
    is_solution_cell,
    load_notebook,
    map_exercise_cells,
    region_text,
    replace_regions,
    solution_regions,
    solution_source,
)
from ._expected import (
    data_fingerprint,
    dumps_expected,
    expected_path,
    load_expected,
    record_choice,
    seal_choice,
    seal_record,
    source_fingerprint,
    unseal,
)
from ._feedback import Feedback, Panel
from ._helpers import choice_judge, close_judge, equal_judge, value_probe
from ._registry import (
    data_dir,
    exercise_by_id,
    exercises_for,
    heldout_dir,
    notebook_modules,
    notebook_stems,
    package_root,
    solutions_dir,
)
from ._runner import (
    PLACEHOLDER_MESSAGE,
    assess_one,
    current_namespace,
    judge_result,
    probe_one,
    run_probes,
)
from .spec import AssessContext, Exercise, Outcome, ProbeContext, exercise_seed

__all__ = [
    "PLACEHOLDER_MESSAGE",
    "AssessContext",
    "Exercise",
    "ExerciseCellError",
    "ExerciseCells",
    "Feedback",
    "KernelSession",
    "NotebookError",
    "Outcome",
    "Panel",
    "ProbeContext",
    "Region",
    "assess_one",
    "cell_exercise_id",
    "cell_source",
    "check_exercise",
    "choice_judge",
    "close_judge",
    "data_dir",
    "data_fingerprint",
    "dumps_expected",
    "equal_judge",
    "exercise_cell_problems",
    "exercise_cells",
    "exercise_seed",
    "exercises_for",
    "expected_path",
    "heldout_dir",
    "is_solution_cell",
    "judge_result",
    "load_expected",
    "load_notebook",
    "make_api",
    "map_exercise_cells",
    "notebook_modules",
    "notebook_stems",
    "package_root",
    "probe_one",
    "region_text",
    "replace_regions",
    "run_probes",
    "record_choice",
    "seal_choice",
    "seal_record",
    "solution_regions",
    "solution_source",
    "solutions_dir",
    "source_fingerprint",
    "value_probe",
]


def check_exercise(
    ex: Exercise,
    namespace: Mapping[str, Any],
    ctx: ProbeContext | None = None,
    *,
    assignment: Any = None,
) -> Feedback:
    """Probe ``ex`` on ``namespace``, assess it and judge it against the stored expected answer.

    ``ctx`` carries the *master* seed (0 for the public checks); the exercise is probed with
    its own derived seed, as in the grader. ``assignment`` (a
    :class:`~mlcourse.exercises.ready.Assignment`) says where an own assignment keeps its
    data and expected answers; by default they are the course's.
    """
    if assignment is not None:
        folder = assignment.data_dir
        ctx = ctx or ProbeContext(seed=0, data_dir=folder)
        heldout = ctx.data_dir  # check() scores models on the data the learner has
        record = _load_record(assignment.expected_path)
        rebuild = f"run `mlcourse assignment build {assignment.home.name}` again"
    else:
        ctx = ctx or ProbeContext(seed=0, data_dir=data_dir())
        heldout = heldout_dir(ctx.data_dir)
        record = load_expected(ex.notebook)
        rebuild = "run `mlcourse release`"
    seed = exercise_seed(ctx.seed, ex.notebook, ex.id)
    result = probe_one(ex, namespace, ProbeContext(seed=seed, data_dir=ctx.data_dir))
    actx = AssessContext(seed=seed, data_dir=ctx.data_dir, heldout_dir=heldout)
    result = assess_one(ex, result, actx)
    notes: tuple[str, ...] = ()
    expected = None
    if record is not None:
        # a student edition stores data-independent answers sealed (see _expected)
        expected = unseal(record.get("results", {}).get(ex.id), result, f"{ex.notebook}:{ex.id}")
        if result["status"] == "ok" and ctx.data_dir is not None:
            stored = record.get("data_fingerprint")
            current = data_fingerprint(ctx.data_dir)
            if stored != current:
                fix = (
                    "MLCOURSE_DATA_DIR points at other data; unset it to use the course data"
                    if os.environ.get("MLCOURSE_DATA_DIR")
                    else "restore the data (`mlcourse doctor` says what differs), or, if "
                    f"you maintain it, {rebuild}"
                )
                notes = (
                    f"the data files in {ctx.data_dir} differ from the ones the expected "
                    f"answers were computed on (fingerprint {current[:12]} vs {str(stored)[:12]}),"
                    f" so this verdict may be wrong: {fix}.",
                )
    elif assignment is not None:
        expected = None  # judge_result says the expected answers were never computed
    outcome = judge_result(ex, result, expected)
    if record is None and assignment is not None and outcome.status == "checker_error":
        outcome = Outcome(
            "checker_error",
            f"{assignment.expected_path.name} is missing, so there is nothing to compare with: "
            f"{rebuild} (your instructor does this once).",
        )
    return Feedback.from_outcome(ex.id, ex.title, outcome, notes)


def _load_record(path: Any) -> dict[str, Any] | None:
    """An own assignment's expected record (``None`` when it was never built)."""
    import json
    from pathlib import Path

    path = Path(path)
    if not path.is_file():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


def make_api(
    notebook: str, exercises: tuple[Exercise, ...], *, assignment: Any = None
) -> tuple[Callable[..., Feedback], Callable[..., Panel], Callable[..., Panel]]:
    """Build ``check``, ``hint`` and ``solution`` bound to one notebook's exercises.

    Parameters
    ----------
    notebook : str
        The notebook stem (``NOTEBOOK`` of the ``nbNN`` module).
    exercises : tuple of Exercise
        The module's ``EXERCISES``.
    assignment : Assignment, optional
        For an assignment outside the course (:mod:`mlcourse.exercises.ready`): where its
        data, expected answers and solution notebook are.

    Examples
    --------
    In ``mlcourse/exercises/nb04.py``::

        check, hint, solution = make_api(NOTEBOOK, EXERCISES)
    """

    def check(exercise_id: str, namespace: Mapping[str, Any] | None = None) -> Feedback:
        """Check your answer to one exercise.

        Reads the names the exercise needs from your notebook, tests them and shows
        "correct", "not quite" with the reason, "not attempted yet", or your error.

        Parameters
        ----------
        exercise_id : str
            The id shown above the exercise, e.g. ``"q1_players"``.
        namespace : mapping, optional
            Where to read answers from; by default your notebook's variables.
        """
        ex = _find(exercises, exercise_id)
        if isinstance(ex, str):
            return Feedback(str(exercise_id), "unknown exercise", "error", ex)
        ns = namespace if namespace is not None else current_namespace(depth=2)
        return check_exercise(ex, ns, assignment=assignment)

    def hint(exercise_id: str, level: int = 1) -> Panel:
        """Show a hint; ``level=2`` (3, ...) gives a stronger one."""
        ex = _find(exercises, exercise_id)
        if isinstance(ex, str):
            return Panel("Unknown exercise", ex)
        return _hint_panel(ex, level, _solution_path(notebook, assignment) is not None)

    def solution(exercise_id: str) -> Panel:
        """Show the worked solution, when this edition of the course includes solutions."""
        ex = _find(exercises, exercise_id)
        if isinstance(ex, str):
            return Panel("Unknown exercise", ex)
        return _solution_panel(ex, _solution_path(notebook, assignment))

    for fn in (check, hint, solution):
        fn.__qualname__ = fn.__name__
    return check, hint, solution


def _find(exercises: tuple[Exercise, ...], exercise_id: Any) -> Exercise | str:
    """The exercise called ``exercise_id``, or the message that says why there is none."""
    if not isinstance(exercise_id, str):
        return f"give the exercise id as a string, e.g. check({exercises[0].id!r})"
    try:
        return exercise_by_id(exercises, exercise_id)
    except KeyError as exc:
        return str(exc.args[0])


def _solution_path(notebook: str, assignment: Any) -> Any:
    """The solution notebook, or ``None`` when this edition has none."""
    if assignment is None:
        path = solutions_dir() / f"{notebook}.ipynb"
        return path if path.is_file() else None
    record = _load_record(assignment.expected_path) or {}
    path = assignment.solution_path
    return path if path.is_file() and record.get("edition") != "student" else None


def _hint_panel(ex: Exercise, level: Any, has_solution: bool) -> Panel:
    """Hint ``level`` of ``ex``, saying where more help is."""
    n = len(ex.hints)
    if n == 0:
        return Panel(f"{ex.id}: {ex.title}", "This exercise has no hints.")
    if type(level) is not int or not 1 <= level <= n:
        return Panel(
            f"{ex.id}: {ex.title}",
            f"There {'is' if n == 1 else 'are'} {n} hint{'s' if n > 1 else ''} for this "
            f"exercise: use level=1{f' to level={n}' if n > 1 else ''}.",
        )
    more = (
        f'\n(More help: hint("{ex.id}", level={level + 1}).)'
        if level < n
        else f'\n(That was the last hint; solution("{ex.id}") shows a worked answer.)'
        if has_solution
        else "\n(That was the last hint; your instructor can help you further.)"
    )
    return Panel(f"Hint {level} of {n} \u2014 {ex.id}: {ex.title}", ex.hints[level - 1] + more)


def _solution_panel(ex: Exercise, path: Any) -> Panel:
    """The worked answer of ``ex`` from the solution notebook at ``path`` (None: none here)."""
    if path is None:
        return Panel(
            f"{ex.id}: {ex.title}",
            "This edition of the course has no solutions (your instructor keeps them). "
            f'Try hint("{ex.id}") and hint("{ex.id}", level=2), or ask your instructor.',
        )
    nb = load_notebook(path)
    cells = exercise_cells(nb, strict=False)
    if ex.id not in cells:
        return Panel(f"{ex.id}: {ex.title}", f"{path.name} has no cell for {ex.id!r}.")
    source = solution_source(nb.cells[cells[ex.id]])
    return Panel(f"Solution \u2014 {ex.id}: {ex.title}", source, code=True, kind="solution")


def __getattr__(name: str) -> Any:
    """``KernelSession`` and ``NotebookError`` load nbclient (about a second): on first use."""
    if name in {"KernelSession", "NotebookError"}:
        from . import _kernel

        return getattr(_kernel, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
