"""A small exercise module for the adversarial suite (notebook "98_adversarial").

One exercise of every kind the trust argument in ``docs/grading.md`` covers:

* ``q1_mean`` a **value** computed from the data (``scores.csv``);
* ``q2_double`` a **function** called on inputs drawn from the exercise's own seed;
* ``q3_choice`` a **multiple-choice** letter;
* ``q4_model`` a **fitted estimator**: the probe sends it as skops bytes, and the trusted
  ``assess`` step loads it (library types only) and scores it on held-out players
  (``heldout.csv`` in ``actx.heldout_dir``), which never enter the sandbox.

Data: ``$MLCOURSE_DATA_DIR/scores.csv`` (column ``score``) and ``train.csv`` (``x1``, ``x2``,
``y``); held-out players: ``heldout.csv`` with the same columns.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from mlcourse.exercises._helpers import estimator_probe, load_estimator
from mlcourse.exercises.spec import (
    AnswerError,
    AssessContext,
    Exercise,
    NotAttempted,
    Outcome,
    Plain,
    ProbeContext,
    to_plain,
)

NOTEBOOK = "98_adversarial"
FEATURES = ["x1", "x2"]
#: how far below the reference's held-out AUC a model may be and still pass
AUC_SLACK = 0.03


def _get(ns: Mapping[str, Any], name: str) -> Any:
    if name not in ns or ns[name] is ...:
        raise NotAttempted(f"`{name}` is not defined yet")
    return ns[name]


def _probe_mean(ns: Mapping[str, Any], ctx: ProbeContext) -> Plain:
    value = to_plain(_get(ns, "mean_score"))
    if type(value) not in (int, float):
        raise AnswerError("`mean_score` should be a single number")
    return value


def _judge_mean(student: Plain, expected: Plain) -> Outcome:
    if type(student) in (int, float) and math.isclose(student, expected, rel_tol=1e-9):
        return Outcome.correct()
    return Outcome.incorrect("Not the mean of the `score` column; did you load the data?")


def _probe_double(ns: Mapping[str, Any], ctx: ProbeContext) -> Plain:
    """Inputs from the exercise's seed: negative, tiny and large values catch ``abs``/rounding."""
    fn = _get(ns, "double")
    if not callable(fn):
        raise AnswerError("`double` should be a function")
    x = np.concatenate([ctx.rng("double").normal(size=6), [-3.5, 1e-9, 1e6]])
    return to_plain(np.asarray(fn(x.copy()), dtype=float))


def _judge_double(student: Plain, expected: Plain) -> Outcome:
    if (
        type(student) is list
        and len(student) == len(expected)
        and all(type(s) is float for s in student)
        and np.allclose(student, expected, rtol=1e-9, atol=0)
    ):
        return Outcome.correct()
    return Outcome.incorrect("`double(x)` should return every value of x multiplied by 2")


def _probe_choice(ns: Mapping[str, Any], ctx: ProbeContext) -> Plain:
    value = to_plain(_get(ns, "answer_q3"))
    if type(value) is not str:
        raise AnswerError("answer with one letter as a string, e.g. 'a'")
    return value.strip().lower()


def _judge_choice(student: Plain, expected: Plain) -> Outcome:
    if type(student) is str and student == expected:
        return Outcome.correct()
    return Outcome.incorrect("That option is not right; reread the section on means.")


def _assess_model(observation: Plain, actx: AssessContext) -> Plain:
    """Trusted: load the learner's model (library types only), score it on held-out players."""
    import pandas as pd
    from sklearn.metrics import roc_auc_score

    model = load_estimator(observation, "`model`")
    assert actx.heldout_dir is not None
    held = pd.read_csv(Path(actx.heldout_dir) / "heldout.csv")
    if not hasattr(model, "predict_proba"):
        raise AnswerError("`model` should be a classifier with `predict_proba`.")
    proba = np.asarray(model.predict_proba(held[FEATURES]), dtype=float)
    if proba.ndim != 2 or proba.shape[0] != len(held) or not np.isfinite(proba).all():
        raise AnswerError("`model.predict_proba` should give one row of probabilities a player.")
    return {"auc": float(roc_auc_score(held["y"], proba[:, -1])), "type": type(model).__name__}


def _judge_model(student: Plain, expected: Plain) -> Outcome:
    if type(student) is not dict or type(student.get("auc")) is not float:
        return Outcome.incorrect("`model` could not be scored on new players.")
    if student["auc"] >= expected["auc"] - AUC_SLACK:
        return Outcome.correct()
    return Outcome.incorrect(
        "Your model ranks new players poorly: fit a classifier on both features of `train`."
    )


EXERCISES = (
    Exercise("q1_mean", NOTEBOOK, "Mean score", 2.0, ("mean_score",), _probe_mean, _judge_mean),
    Exercise("q2_double", NOTEBOOK, "A function", 1.0, ("double",), _probe_double, _judge_double),
    Exercise(
        "q3_choice",
        NOTEBOOK,
        "Concept",
        1.0,
        ("answer_q3",),
        _probe_choice,
        _judge_choice,
        kind="choice",
        choices={"a": "the median", "b": "the mean"},
    ),
    Exercise(
        "q4_model",
        NOTEBOOK,
        "A fitted model",
        2.0,
        ("model",),
        estimator_probe("model"),
        _judge_model,
        assess=_assess_model,
    ),
)
