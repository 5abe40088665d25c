"""Ready-made exercises for an assignment of your own (see ``docs/assignments.md``).

An assignment is a folder with a solution notebook and a checks module beside it::

    hw1/
      hw1.ipynb        # the solution: exercise ids in cell metadata, BEGIN/END SOLUTION markers
      hw1_checks.py    # this module's Assignment and its exercises
      data/            # optional: what the notebook reads
      heldout/         # optional, private: rows the grader scores fitted models on

``hw1_checks.py``::

    from mlcourse.exercises.ready import Assignment

    hw = Assignment("hw1", __file__, data="data", heldout="heldout")
    EXERCISES = (
        hw.value("q1_mean", "The mean score", "mean_score"),
        hw.table("q2_summary", "Scores by group", "summary", ignore_row_order=True),
        hw.function("q3_clip", "Clip the scores", "clip", inputs=clip_inputs),
        hw.model("q4_model", "A classifier", "model", test=load_test, metric="accuracy"),
        hw.choice("q5_why", "Why a test set?", "answer_q5", {"A": "...", "B": "..."}, "B"),
    )
    NOTEBOOK, DATA_DIR = hw.notebook, hw.data_dir
    check, hint, solution = hw.api(EXERCISES)

Each builder returns an :class:`~mlcourse.exercises.spec.Exercise` whose probe returns
observations only (the value, the table, the function's outputs on inputs drawn from the
exercise's seed, the fitted model as skops bytes) and whose judge compares them with the
reference's. ``mlcourse assignment build hw1/hw1_checks.py`` runs the solution, stores its
answers and writes the student folder; ``mlcourse grade SUBMISSIONS --exercises
hw1/hw1_checks.py`` grades.
"""

from __future__ import annotations

import copy
import math
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ._helpers import (
    choice_judge,
    close_judge,
    estimator_probe,
    learner_function,
    load_estimator,
    missing_and_extra,
    plain_close,
)
from .spec import AnswerError, AssessContext, Exercise, Outcome, Plain, ProbeContext, to_plain

#: the student folder's expected record says this (``solution()`` then has nothing to show)
STUDENT_EDITION = "student"


class Assignment:
    """An assignment outside the course package: its notebook stem, folder and data.

    Parameters
    ----------
    notebook : str
        The notebook's stem, e.g. ``"hw1"`` (solution ``hw1.ipynb`` beside the module).
    home : str or Path
        The checks module's ``__file__`` (or its folder).
    data : str, optional
        Folder (relative to ``home``) the notebook reads its data from; the grader mounts it
        read-only for every submission. Without it the assignment needs no data.
    heldout : str, optional
        Private folder (relative to ``home``) with the same files as ``data`` for the rows
        fitted models are scored on when graded. It is never copied to the student folder
        nor visible to submissions; ``check()`` scores on ``data`` instead.
    make_data : callable, optional
        ``make_data(seed, folder)`` writes a data variant for the grader's secret seed (each
        class gets other numbers, so answers computed elsewhere do not transfer). Without it
        the grader uses ``data`` as it is.

    Examples
    --------
    >>> hw = Assignment("hw1", "/courses/hw1/hw1_checks.py")
    >>> hw.notebook, hw.home.name
    ('hw1', 'hw1')
    """

    def __init__(
        self,
        notebook: str,
        home: str | os.PathLike[str],
        *,
        data: str | None = None,
        heldout: str | None = None,
        make_data: Callable[[int, Path], None] | None = None,
    ) -> None:
        if not notebook or "/" in notebook or notebook.endswith(".ipynb"):
            raise ValueError(f"notebook is the notebook's stem, e.g. 'hw1', not {notebook!r}")
        path = Path(home).resolve()
        self.notebook = notebook
        self.home = path.parent if path.suffix == ".py" else path
        self.data = data
        self.heldout = heldout
        self.make_data = make_data

    # -- where things are ----------------------------------------------------------------
    @property
    def data_dir(self) -> Path | None:
        """The data the notebook reads, from :func:`mlcourse.datasets.data_dir`:
        ``MLCOURSE_DATA_DIR`` when set (the grader sets it to the class's data), else
        ``home/data``; ``None`` for an assignment without data."""
        if self.data is None:
            return None
        from mlcourse.datasets import data_dir

        return data_dir(default=self.home / self.data, must_exist=False)

    @property
    def heldout_dir(self) -> Path | None:
        """``home/heldout`` when declared and present (only the instructor has it)."""
        if self.heldout is None:
            return None
        path = self.home / self.heldout
        return path if path.is_dir() else None

    @property
    def solution_path(self) -> Path:
        return self.home / f"{self.notebook}.ipynb"

    @property
    def expected_path(self) -> Path:
        return self.home / f"{self.notebook}.expected.json"

    def api(self, exercises: Sequence[Exercise]) -> tuple[Callable, Callable, Callable]:
        """``check``, ``hint`` and ``solution`` for the notebook (see :func:`make_api`)."""
        from . import make_api

        return make_api(self.notebook, tuple(exercises), assignment=self)

    # -- ready-made exercises ----------------------------------------------------------------
    def _exercise(
        self,
        id: str,
        title: str,
        name: str,
        points: float,
        hints: Sequence[str],
        probe: Callable[[Mapping[str, Any], ProbeContext], Plain],
        judge: Callable[[Plain, Plain], Outcome],
        **extra: Any,
    ) -> Exercise:
        """One exercise of this notebook that reads ``name`` (what every builder returns)."""
        nb, reads = self.notebook, (name,)
        return Exercise(id, nb, title, points, reads, probe, judge, tuple(hints), **extra)

    def value(
        self,
        id: str,
        title: str,
        name: str,
        *,
        wrong: str | None = None,
        points: float = 1.0,
        rtol: float = 1e-6,
        atol: float = 1e-9,
        hints: Sequence[str] = (),
    ) -> Exercise:
        """A value: a number, string, list, dict, NumPy array or pandas Series (its values),
        compared with the reference's within ``rtol``/``atol``."""
        judge = close_judge(
            wrong or f"`{name}` is not the expected value.", rtol, atol, f"`{name}`"
        )
        return self._exercise(id, title, name, points, hints, _value_probe(name), judge)

    def table(
        self,
        id: str,
        title: str,
        name: str,
        *,
        ignore_row_order: bool = False,
        ignore_index: bool = False,
        ignore_column_order: bool = False,
        points: float = 1.0,
        rtol: float = 1e-6,
        atol: float = 1e-9,
        hints: Sequence[str] = (),
    ) -> Exercise:
        """A pandas DataFrame: same columns, same rows (in any order with
        ``ignore_row_order``), numbers within ``rtol``/``atol``, the index compared unless
        ``ignore_index``."""
        rules = _TableRules(name, rtol, atol, ignore_row_order, ignore_index, ignore_column_order)
        return self._exercise(id, title, name, points, hints, _table_probe(name), rules.judge)

    def function(
        self,
        id: str,
        title: str,
        name: str,
        inputs: Callable[[np.random.Generator], Sequence[tuple]],
        *,
        points: float = 1.0,
        rtol: float = 1e-6,
        atol: float = 1e-9,
        hints: Sequence[str] = (),
    ) -> Exercise:
        """A function, called on inputs the judge chooses: ``inputs(rng)`` returns a list of
        argument tuples drawn from ``rng`` (the exercise's seed: other inputs when graded).
        Its outputs (values, arrays, Series, DataFrames) must match the reference's."""
        probe = _function_probe(id, name, inputs)
        return self._exercise(
            id, title, name, points, hints, probe, _function_judge(name, rtol, atol)
        )

    def model(
        self,
        id: str,
        title: str,
        name: str,
        test: Callable[[Path], tuple[Any, Any]],
        *,
        metric: str = "accuracy",
        tolerance: float = 0.02,
        same_kind: bool = True,
        points: float = 1.0,
        hints: Sequence[str] = (),
        extra_types: Sequence[str] = (),
    ) -> Exercise:
        """A fitted scikit-learn estimator, scored by the trusted judge, never by student code.

        ``test(folder)`` returns ``(X, y)`` read from ``folder``: the private ``heldout``
        folder when graded (when declared), the data folder in ``check()``. ``metric`` is a
        scikit-learn scorer name (``"accuracy"``, ``"roc_auc"``, ``"r2"``,
        ``"neg_mean_absolute_error"``, ...). The answer is correct when it scores at least the
        reference's score minus ``tolerance``; with ``same_kind`` its final estimator must
        also be of the reference's class.

        The model file may name only the loader's allow-listed types
        (:mod:`mlcourse.exercises._allowlist`: scikit-learn's estimators and what they hold,
        NumPy, SciPy sparse matrices). ``extra_types`` adds ``"module.Class"`` names for this
        exercise (e.g. an estimator of another library); each must still pass the review of
        its rebuild hooks, or the file is refused with a message naming it.
        """
        judge = _model_judge(name, metric, tolerance, same_kind)
        assess = _model_assess(name, test, metric, frozenset(extra_types))
        probe = estimator_probe(name)
        return self._exercise(id, title, name, points, hints, probe, judge, assess=assess)

    def choice(
        self,
        id: str,
        title: str,
        name: str,
        explanations: Mapping[str, str],
        *,
        points: float = 1.0,
        hints: Sequence[str] = (),
    ) -> Exercise:
        """A multiple-choice question: ``explanations`` maps every offered letter to what
        answering it tells the learner (write them alike, so the key does not stand out).
        The right letter comes from the solution notebook; the student folder stores every
        letter's verdict sealed."""
        letters = {k.strip().upper(): v for k, v in explanations.items()}
        judge, extra = choice_judge(letters), {"kind": "choice", "choices": {k: k for k in letters}}
        return self._exercise(id, title, name, points, hints, _letter_probe(name), judge, **extra)


# ----------------------------------------------------------------------------- probes


def _value_probe(name: str) -> Callable[[Mapping[str, Any], ProbeContext], Plain]:
    def probe(ns: Mapping[str, Any], ctx: ProbeContext) -> Plain:
        return _plain_any(ns[name], name)

    return probe


def _letter_probe(name: str) -> Callable[[Mapping[str, Any], ProbeContext], Plain]:
    def probe(ns: Mapping[str, Any], ctx: ProbeContext) -> Plain:
        value = ns[name]
        if type(value) is not str:
            raise AnswerError(f'`{name}` should be one letter in quotes, e.g. "A".')
        return value.strip().upper()

    return probe


def _frame_plain(df: Any, name: str) -> dict[str, Plain]:
    """A DataFrame as plain data: column names, index, rows (datetimes as ISO text)."""
    import pandas as pd

    if type(df) is pd.Series:
        df = df.to_frame()
    if type(df) is not pd.DataFrame:
        raise AnswerError(
            f"`{name}` should be a pandas DataFrame, not {type(df).__module__}."
            f"{type(df).__qualname__}"
        )
    if df.size > 1_000_000:
        raise AnswerError(f"`{name}` has {df.size} cells; that is far more than expected")
    columns = []
    for col in df.columns:
        series = df[col]
        if not isinstance(series, pd.Series):
            raise AnswerError(f"`{name}` has two columns named {col!r}; give them unique names")
        kind = series.dtype.kind
        if kind == "M" or isinstance(series.dtype, pd.DatetimeTZDtype):
            values = series.astype("string").astype(object).where(series.notna(), None)
        elif kind in "biuf":
            values = series.astype(float) if kind == "f" else series
        else:
            values = series.astype(object).where(series.notna(), None)
        columns.append(to_plain(np.asarray(values.to_numpy(dtype=object))))
    rows = [list(r) for r in zip(*columns, strict=True)] if columns else [[]] * len(df)
    index = df.index
    if isinstance(index, pd.DatetimeIndex):
        index = index.astype("string")
    return {
        "columns": [c if type(c) is str else str(c) for c in df.columns],
        "index": to_plain(np.asarray(index.to_numpy(dtype=object))),
        "rows": rows,
    }


def _table_probe(name: str) -> Callable[[Mapping[str, Any], ProbeContext], Plain]:
    def probe(ns: Mapping[str, Any], ctx: ProbeContext) -> Plain:
        return _frame_plain(ns[name], name)

    return probe


def _plain_any(value: Any, name: str) -> Plain:
    """``to_plain``, with DataFrames as :func:`_frame_plain` tables."""
    import sys

    pd = sys.modules.get("pandas")
    if pd is not None and type(value) is pd.DataFrame:
        return {"table": _frame_plain(value, name)}
    return to_plain(value)


def _function_probe(
    ex_id: str, name: str, inputs: Callable[[np.random.Generator], Sequence[tuple]]
) -> Callable[[Mapping[str, Any], ProbeContext], Plain]:
    def probe(ns: Mapping[str, Any], ctx: ProbeContext) -> Plain:
        fn = learner_function(ns, name, f"`{name}` should be a function (def {name}(...): ...)")
        cases = list(inputs(ctx.rng(ex_id)))
        # each call gets its own copy: a function that changes its input cannot change the
        # next case (nor the reference's)
        return [_plain_any(fn(*copy.deepcopy(tuple(args))), name) for args in cases]

    return probe


# ----------------------------------------------------------------------------- judges


def _sort_key(row: list[Plain]) -> tuple:
    out = []
    for v in row:
        if isinstance(v, bool) or v is None:
            out.append((0, str(v)))
        elif isinstance(v, int | float):
            out.append((1, float(f"{float(v):.6g}"), ""))
        else:
            out.append((2, 0.0, str(v)))
    return tuple(out)


@dataclass(frozen=True)
class _TableRules:
    """How :meth:`Assignment.table` compares a learner's table with the reference's."""

    name: str
    rtol: float
    atol: float
    ignore_row_order: bool
    ignore_index: bool
    ignore_column_order: bool

    def judge(self, student: Plain, expected: Plain) -> Outcome:
        """The verdict on a table sent by :func:`_table_probe`."""
        if not isinstance(student, dict) or not isinstance(expected, dict):
            return Outcome.incorrect(f"`{self.name}` should be a pandas DataFrame.")
        s_cols, e_cols = list(student["columns"]), list(expected["columns"])
        s_rows, e_rows = [list(r) for r in student["rows"]], [list(r) for r in expected["rows"]]
        if any(len(r) != len(s_cols) for r in s_rows) or len(student["index"]) != len(s_rows):
            return Outcome.incorrect(f"`{self.name}` should be a pandas DataFrame.")
        if s_cols != e_cols:
            problem = self.columns_problem(s_cols, e_cols)
            if problem:
                return Outcome.incorrect(problem)
            order = [s_cols.index(c) for c in e_cols]
            s_rows = [[r[i] for i in order] for r in s_rows]
        if len(s_rows) != len(e_rows):
            return Outcome.incorrect(
                f"`{self.name}` has {len(s_rows)} row{'s' if len(s_rows) != 1 else ''}, not the "
                "number the task's table has: check the filter or the grouping."
            )
        # a plain 0, 1, 2, ... index says nothing about the rows: compared only when the
        # task's table has labels there
        use_index = not self.ignore_index and expected["index"] != list(range(len(e_rows)))
        if use_index:
            s_rows = [[i, *r] for i, r in zip(student["index"], s_rows, strict=True)]
            e_rows = [[i, *r] for i, r in zip(expected["index"], e_rows, strict=True)]
        if self.ignore_row_order:
            s_rows, e_rows = sorted(s_rows, key=_sort_key), sorted(e_rows, key=_sort_key)
        return self.rows_verdict(s_rows, e_rows, e_cols, use_index)

    def columns_problem(self, s_cols: list[Plain], e_cols: list[Plain]) -> str | None:
        """What is wrong with columns that differ from the reference's (``None`` when they
        are the same in another order and the order does not count)."""
        missing, extra = missing_and_extra(s_cols, e_cols, sort=False)
        if missing or extra or len(s_cols) != len(e_cols):
            parts = [f"missing columns {missing}"] if missing else []
            parts += [f"unexpected columns {extra}"] if extra else []
            return (
                f"`{self.name}` has {' and '.join(parts) or 'repeated columns'}; "
                f"its columns should be {e_cols}."
            )
        if not self.ignore_column_order:
            return (
                f"`{self.name}` has the right columns in another order; put them in the order "
                f"{e_cols}."
            )
        return None

    def rows_verdict(
        self, s_rows: list[list], e_rows: list[list], e_cols: list[Plain], use_index: bool
    ) -> Outcome:
        """Row by row (the index label first when ``use_index``), values within tolerance."""
        offset = 1 if use_index else 0
        bad = []
        for i, (a, b) in enumerate(zip(s_rows, e_rows, strict=True)):
            if use_index and not plain_close(a[0], b[0], self.rtol, self.atol):
                return Outcome.incorrect(
                    f"`{self.name}` has other index labels (row {i}); if the task's table has a "
                    "plain 0, 1, 2, ... index, use reset_index()."
                )
            cols = [
                e_cols[j]
                for j in range(len(e_cols))
                if not plain_close(a[j + offset], b[j + offset], self.rtol, self.atol)
            ]
            if cols:
                bad.append((i, cols[0]))
        if bad:
            i, col = bad[0]
            return Outcome.incorrect(
                f"{len(bad)} of {len(e_rows)} rows of `{self.name}` differ from the task's table "
                f"(the first: row {i}, column {col!r})."
            )
        return Outcome.correct()


def _function_judge(name: str, rtol: float, atol: float) -> Callable[[Plain, Plain], Outcome]:
    tables = _TableRules(name, rtol, atol, False, False, False)

    def same(a: Plain, b: Plain) -> bool:
        if isinstance(a, dict) and isinstance(b, dict) and "table" in a and "table" in b:
            return tables.judge(a["table"], b["table"]).status == "correct"
        return plain_close(a, b, rtol, atol)

    def judge(student: Plain, expected: Plain) -> Outcome:
        if (
            not isinstance(student, list)
            or not isinstance(expected, list)
            or len(student) != len(expected)
        ):
            return Outcome.incorrect(f"`{name}` could not be called on the test inputs.")
        wrong = [
            i for i, (a, b) in enumerate(zip(student, expected, strict=True)) if not same(a, b)
        ]
        if not wrong:
            return Outcome.correct()
        return Outcome.incorrect(
            f"`{name}` returns another result than the task's function on {len(wrong)} of "
            f"{len(expected)} test inputs. Try it on small inputs you can work out by hand, "
            "including edge cases (empty, one element, ties, missing values)."
        )

    return judge


def _score(model: Any, metric: str, X: Any, y: Any) -> float:
    from sklearn.metrics import get_scorer

    return float(get_scorer(metric)(model, X, y))


#: how deep Pipelines may nest before the model is refused (a file could nest them forever)
_MAX_NESTING = 20


def _final_step(model: Any, name: str) -> Any:
    """The estimator that makes ``model``'s predictions: the last step of a Pipeline (nested
    Pipelines unwrapped), else ``model`` itself.

    Steps are read only from a genuine ``sklearn.pipeline.Pipeline`` (exact type, as the
    loader refuses subclasses anyway). Any other estimator may carry a ``steps`` attribute:
    skops restores every attribute the file declares, also on a genuine library object, and
    that object's predictions never use it. A genuine Pipeline predicts through its ``steps``,
    so what they name is what was scored.
    """
    from sklearn.pipeline import Pipeline

    for _ in range(_MAX_NESTING):
        if type(model) is not Pipeline:
            return model
        steps = model.steps
        last = steps[-1] if isinstance(steps, list) and steps else None
        if not isinstance(last, tuple | list) or len(last) != 2:
            raise AnswerError(f"`{name}` is a Pipeline without a usable last step.")
        model = last[1]
    raise AnswerError(f"`{name}` nests Pipelines far deeper than this exercise needs.")


def _model_assess(
    name: str,
    test: Callable[[Path], tuple[Any, Any]],
    metric: str,
    extra_types: frozenset[str] = frozenset(),
) -> Callable[[Plain, AssessContext], Plain]:
    def assess(observation: Plain, actx: AssessContext) -> Plain:
        model = load_estimator(observation, f"`{name}`", extra_types)
        folder = actx.heldout_dir or actx.data_dir
        if folder is None:
            raise RuntimeError("the assignment declares no data folder for test()")
        X, y = test(Path(folder))
        try:
            score = _score(model, metric, X, y)
        except Exception as exc:  # the learner's model cannot predict these rows
            raise AnswerError(
                f"`{name}` cannot predict the test rows ({type(exc).__name__}): fit it on "
                "the columns the task names, with the same preprocessing inside the model."
            ) from None
        final = _final_step(model, name)
        return {
            "score": score if math.isfinite(score) else "nan",
            "kind": f"{type(final).__module__.split('.')[0]}.{type(final).__qualname__}",
        }

    assess.extra_types = extra_types  # type: ignore[attr-defined]
    return assess


def _model_judge(
    name: str, metric: str, tolerance: float, same_kind: bool
) -> Callable[[Plain, Plain], Outcome]:
    def judge(student: Plain, expected: Plain) -> Outcome:
        if not isinstance(student, dict) or not isinstance(expected, dict):
            return Outcome.incorrect(f"`{name}` should be a fitted scikit-learn model.")
        kind = str(student.get("kind", ""))
        if same_kind and kind != expected.get("kind"):
            return Outcome.incorrect(
                f"`{name}` ends in a {kind.split('.')[-1]}; the task asks for another kind of "
                "model: read the task again."
            )
        got = student.get("score")
        want = expected.get("score")
        if not isinstance(got, int | float) or not isinstance(want, int | float):
            return Outcome.incorrect(f"`{name}` gives no usable score ({metric}) on the test rows.")
        if got >= want - tolerance:
            return Outcome.correct()
        return Outcome.incorrect(
            f"`{name}` scores {got:.3f} ({metric}) on rows it was not fitted on; the task's "
            f"model does better by more than {tolerance:g}. Check the features and the "
            "settings the task asks for."
        )

    return judge


def reference_results(module_name: str, namespace: Mapping[str, Any]) -> dict[str, Any]:
    """Probe and assess every exercise of an own assignment as ``check()`` does (seed 0, the
    data folder): run in the kernel that executed the solution by ``mlcourse assignment
    build``, whose output becomes the expected answers."""
    import importlib

    from ._runner import assess_one, run_probes
    from .spec import exercise_seed

    mod = importlib.import_module(module_name)
    found = [v for v in vars(mod).values() if isinstance(v, Assignment)]
    if len(found) != 1:
        raise ValueError(f"{module_name} must define exactly one Assignment")
    data = found[0].data_dir
    results = run_probes(mod.EXERCISES, namespace, ProbeContext(seed=0, data_dir=data))
    return {
        ex.id: assess_one(
            ex,
            results[ex.id],
            AssessContext(
                seed=exercise_seed(0, ex.notebook, ex.id), data_dir=data, heldout_dir=data
            ),
        )
        for ex in mod.EXERCISES
    }


__all__ = ["STUDENT_EDITION", "Assignment", "reference_results"]
