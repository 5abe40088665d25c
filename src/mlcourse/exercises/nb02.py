"""Exercises of ``02_target_encoding`` ("who will pay?", part II).

In the notebook: ``from mlcourse.exercises.nb02 import check, hint, solution``.

Built like :mod:`mlcourse.exercises.nb01`, where the payer task and the assessment of a fitted
payer model (structure, behaviour, leaks, memorisation, quality) live, shared by the model
exercises of both notebooks (q3 there, q5 and q7 here). q4 calls the learner's function on
fresh data; q6 and q8 are multiple-choice questions. The catalogues of wrong and valid answers
are test data in ``tests/catalogues/nb02.py``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from functools import partial
from typing import Any

import numpy as np
import pandas as pd

from . import make_api
from ._helpers import choice_exercise, exercise, learner_function, values_close
from .nb01 import (
    HIGH_CARDINALITY,
    LABEL_DAYS,
    _model_exercise,
    _structure_native,
    _structure_te,
)
from .spec import AnswerError, Outcome, Plain, ProbeContext, to_plain

NOTEBOOK = "02_target_encoding"
#: this notebook's exercises: ``_exercise(id, title, reads, probe, judge, ...)`` and
#: ``_choice(id, title, name, explanations, ...)`` (see :mod:`._helpers`)
_exercise, _choice = partial(exercise, NOTEBOOK), partial(choice_exercise, NOTEBOOK)


# --------------------------------------------------------------------------- q4: shrunk mean


def _as_level_dict(result: Any) -> dict[str, float]:
    if result is None:
        raise AnswerError("`shrunk_mean` returned None: did you forget the `return` statement?")
    if type(result) is pd.Series:
        keys = to_plain(pd.Index(result.index).astype(str))
        values = to_plain(result.to_numpy(dtype=float))
    elif type(result) is dict:
        keys = [str(k) for k in result]
        values = to_plain(list(result.values()))
    else:
        raise AnswerError(
            "`shrunk_mean` should return a pandas Series indexed by level (or a dict "
            f"level -> value); it returned a {type(result).__name__}."
        )
    assert isinstance(keys, list) and isinstance(values, list)
    if len(set(keys)) != len(keys):
        raise AnswerError("`shrunk_mean` returned some level more than once.")
    out: dict[str, float] = {}
    for k, v in zip(keys, values, strict=True):
        if not isinstance(v, int | float) or isinstance(v, bool):
            raise AnswerError(f"the value for level {k!r} is {v!r}, not a number.")
        out[str(k)] = float(v)
    return out


def _shrunk_cases(rng: np.random.Generator) -> list[tuple[pd.Series, pd.Series, float]]:
    """Inputs for ``shrunk_mean`` on which every near miss gives other numbers.

    * a planted case: levels seen once (a payer and a non-payer), twice, two levels tied on
      count and mean, levels with very unequal counts (so the mean of the level means differs
      from the global mean), a fractional ``m`` (catches ``int(m)``) and a shuffled,
      non-default index shared by ``levels`` and ``y`` (catches positional misalignment);
    * two random cases with ``m`` small and large against the counts;
    * a categorical ``levels`` with a category that never occurs (the task asks for the
      levels that occur, once each).
    """
    planted = ["A"] + ["B"] + ["C"] * 2 + ["D"] * 6 + ["E"] * 6 + ["F"] * 12 + ["G"] * 30
    y_planted = (
        [1]
        + [0]
        + [1, 0]
        + [1, 1, 1, 0, 0, 0]
        + [0, 1, 0, 1, 0, 1]
        + [1]
        + [0] * 11
        + [1] * 4
        + [0] * 26
    )
    order = rng.permutation(len(planted))
    index = pd.Index(1000 + rng.permutation(len(planted)) * 7)
    cases = [
        (
            pd.Series([planted[i] for i in order], index=index, dtype=object),
            pd.Series([y_planted[i] for i in order], index=index),
            2.5,
        )
    ]
    for m in (float(rng.choice([0.5, 1.5])), float(rng.choice([12.0, 30.0]))):
        k = int(rng.integers(4, 8))
        names = np.array([f"L{j}" for j in range(k)], dtype=object)
        n = int(rng.integers(40, 120))
        levels = pd.Series(rng.choice(names, size=n, p=rng.dirichlet(np.full(k, 0.6))))
        levels.iloc[0] = "solo"  # one level with a single row
        y = pd.Series((rng.random(n) < rng.uniform(0.1, 0.5)).astype(int))
        cases.append((levels, y, m))
    n = 50
    cat = pd.Categorical(
        rng.choice(np.array(["north", "south", "east"], dtype=object), size=n),
        categories=["east", "north", "south", "unused"],
    )
    cases.append((pd.Series(cat), pd.Series((rng.random(n) < 0.3).astype(int)), 7.0))
    return cases


def _probe_shrunk(ns: Mapping[str, Any], ctx: ProbeContext) -> Plain:
    fn = learner_function(
        ns, "shrunk_mean", "`shrunk_mean` should be a function shrunk_mean(levels, y, m)."
    )
    cases: dict[str, Plain] = {}
    for i, (levels, y, m) in enumerate(_shrunk_cases(ctx.rng("q4_shrunk_mean"))):
        values = _as_level_dict(fn(levels.copy(), y.copy(), m))
        grouped = y.groupby(levels, observed=True)
        cases[f"case{i}"] = {
            "m": m,
            "global": float(y.mean()),
            "values": values,
            "counts": {str(k): int(v) for k, v in grouped.size().items()},
            "plain": {str(k): float(v) for k, v in grouped.mean().items()},
        }
    return cases


def _judge_shrunk(student: Plain, expected: Plain) -> Outcome:
    assert isinstance(student, dict) and isinstance(expected, dict)
    for key, exp in expected.items():
        got = student.get(key)
        if not isinstance(got, dict) or not isinstance(got.get("values"), dict):
            return Outcome.incorrect("`shrunk_mean` could not be checked; run its cell again.")
        assert isinstance(exp, dict)
        values, want = got["values"], exp["values"]
        assert isinstance(values, dict) and isinstance(want, dict)
        if set(values) != set(want):
            return Outcome.incorrect(
                "Return one value per level that occurs in `levels` (indexed by the level), "
                f"no more, no less: expected {len(want)} levels, got {len(values)}."
            )
        if values_close(values, want):
            continue
        # diagnoses use the reference's own description of the inputs (trusted)
        plain, counts = exp["plain"], exp["counts"]
        m, g = exp["m"], exp["global"]
        assert isinstance(plain, dict) and isinstance(counts, dict)
        assert isinstance(m, float) and isinstance(g, float)
        if values_close(values, plain):
            return Outcome.incorrect(
                "These are the plain per-level means: nothing is shrunk toward the global "
                "mean, so a level seen twice can get 0 or 1. Blend with weight n / (n + m)."
            )
        swapped = {
            lev: (m * plain[lev] + counts[lev] * g) / (counts[lev] + m)  # type: ignore[operator]
            for lev in counts
        }
        if values_close(values, swapped):
            return Outcome.incorrect(
                "The weights are swapped: the level's own mean should get weight n / (n + m) "
                "(more rows, more trust) and the global mean m / (n + m)."
            )
        level_means = [float(v) for v in plain.values()]  # type: ignore[arg-type]
        g_levels = sum(level_means) / len(level_means)
        toward_level_means = {
            lev: (counts[lev] * plain[lev] + m * g_levels) / (counts[lev] + m)  # type: ignore[operator]
            for lev in counts
        }
        if values_close(values, toward_level_means):
            return Outcome.incorrect(
                "The levels are pulled toward the mean of the level means, which counts a "
                "one-row level as much as a level with hundreds of rows. Shrink toward the "
                "global mean: the mean of all of y."
            )
        rounded = {
            lev: (counts[lev] * plain[lev] + math.floor(m) * g) / (counts[lev] + math.floor(m))  # type: ignore[operator]
            for lev in counts
        }
        if m != math.floor(m) and values_close(values, rounded):
            return Outcome.incorrect(
                f"Right for a whole-number m, but with m = {m} your values are those of "
                f"m = {math.floor(m)}: m can be any positive number, keep it as it is given."
            )
        return Outcome.incorrect(
            "Not the shrunk mean. Work one level out by hand from the formula in the notebook "
            "(its row count n, its own mean, the global mean of all of y, and m) and compare "
            "it with what your function returns for that level."
        )
    return Outcome.correct("Correct! Rare levels are pulled toward the global mean.")


Q4 = _exercise(
    "q4_shrunk_mean",
    "Target encoding is a shrunk mean",
    ("shrunk_mean",),
    _probe_shrunk,
    _judge_shrunk,
    points=2,
    hints=(
        "Three numbers per level go into the formula: its row count n, its own mean, and "
        "the global mean (one number for all levels). Which pandas operation gives the first "
        "two for every level at once?",
        "y.groupby(levels) gives you each level's count (.size()) and mean (.mean()); "
        "y.mean() is the global mean.",
        "lambda = n / (n + m); encoding = lambda * level_mean + (1 - lambda) * global_mean.",
    ),
)

# --------------------------------------------------------------------------- q5: TE pipeline

Q5 = _model_exercise(
    "q5_te_model",
    "A leak-free target-encoding pipeline",
    "te_model",
    _structure_te,
    refit=True,
    # "ignoring unseen levels": new countries and languages as well as devices and campaigns
    unseen=(*HIGH_CARDINALITY, "country", "language"),
    cross_fit=True,
    gap_days=LABEL_DAYS,
    hints=(
        "Put the TargetEncoder inside the pipeline: Pipeline.fit calls its fit_transform, "
        "which cross-fits, and predict uses the encodings learned on the training rows only.",
        "make_column_transformer((OneHotEncoder(handle_unknown='ignore'), NOMINAL + ORDINAL), "
        "(TargetEncoder(cv=cv), HIGH_CARDINALITY)), then LogisticRegression(max_iter=1000); "
        "fit on X_train, y_train.",
    ),
    notebook=NOTEBOOK,
)

# --------------------------------------------------------------------------- q6: the leak

Q6 = _choice(
    "q6_leak_meaning",
    "What does a validation AUC far above the Bayes limit mean?",
    "answer_leak",
    {
        "A": "No model can beat the Bayes limit on fresh data: the true probabilities are "
        "the best possible ranking. Something else happened.",
        "B": "Each validation row's encoding was computed from a mean that includes its own "
        "label: a rare campaign with one payer among the validation rows gets a high "
        "encoding, and the model then 'predicts' that payer. On fresh labels for the same "
        "players (its expected AUC) it falls far below the limit. Only such a "
        "leak lifts a score on rows a model did not learn from above the limit by more than "
        "the noise band.",
        "C": "Luck moves a validation AUC within the noise band of notebook 01, section 1 (the "
        "truth itself lands above the limit on about half of the redrawn label sets), not "
        "this far beyond its top; and the same columns encoded inside the pipeline score "
        "below the limit.",
        "D": "The same columns target-encoded inside the pipeline, or cross-fitted with "
        "fit_transform, stay below the limit; what differs here is that a row's encoding "
        "saw its own label.",
    },
    choices={
        "A": "The encoding found signal that the simulator's true probabilities miss.",
        "B": "The validation labels leaked into the features: each row's encoding was "
        "computed from its own label.",
        "C": "Random luck: the validation block holds only about a hundred and fifty payers.",
        "D": "Target encoding is simply the best encoder for ID-like columns.",
    },
    hints=(
        "The Bayes limit is computed from the true probabilities: on fresh rows, no model can "
        "rank players better than the truth does, in expectation.",
        "Compare the score with the noise band (notebook 01, section 1), and its expected AUC "
        "(the truth's verdict on fresh labels) with the honest pipeline's.",
    ),
)

# --------------------------------------------------------------------------- q7: native HGB

Q7 = _model_exercise(
    "q7_native_model",
    "Gradient boosting with native categories",
    "native_model",
    _structure_native,
    # no refit here: refitting gradient boosting would make check() slow; the test-only
    # levels in its TargetEncoder and the Bayes limit catch a fit on the test rows
    refit=False,
    gap_days=LABEL_DAYS,
    hints=(
        "HistGradientBoostingClassifier(categorical_features='from_dtype') treats pandas "
        "categorical columns as categories, but only up to 255 levels per column.",
        "Target-encode the two high-cardinality columns and pass the others through as pandas "
        "columns: make_column_transformer((TargetEncoder(cv=cv), HIGH_CARDINALITY), "
        "remainder='passthrough', verbose_feature_names_out=False).set_output(transform='pandas').",
    ),
    notebook=NOTEBOOK,
)

# --------------------------------------------------------------------------- q8: comparison

Q8 = _choice(
    "q8_comparison",
    "Reading the encoder comparison",
    "answer_comparison",
    {
        "A": "A higher mean over four folds is not a difference you can rely on: look at the "
        "interval of the mean paired difference (low to high), which includes 0; and one "
        "comparison of two pipelines on one data set says nothing about every column and "
        "model.",
        "B": "The fold intervals (low to high) all include 0, and every test difference is "
        "within two paired sds of 0: neither the folds nor the test can separate the "
        "pipelines. The truth, which no real project has, does: with these settings it ranks "
        "gradient boosting lower, with either encoding.",
        "C": "Compare the models on the sensible encodings: boosting with native categories "
        "is not ahead of one-hot with a linear model, neither in the folds nor on the test.",
        "D": "One test AUC is one draw of labels: the truth orders those two pipelines the "
        "other way, and their difference is within about two paired sds.",
    },
    choices={
        "A": "Target encoding has the higher mean over the folds, so it is the right choice "
        "for every column and every model.",
        "B": "Every mean paired difference ± t·SE includes 0 and every test difference is "
        "within two paired sds of 0: the folds and the test cannot separate the pipelines.",
        "C": "Gradient boosting beats logistic regression by a wide margin, in the folds and on "
        "the test, whatever the encoding.",
        "D": "One-hot has the higher test AUC, so it will rank new players best: the test set "
        "has the final word.",
    },
    hints=(
        "Read the columns low and high of the fold table: the interval of each mean paired "
        "difference. Does it include 0?",
        "Then the test: how large is each difference against its paired sd?",
    ),
)

EXERCISES = (Q4, Q5, Q6, Q7, Q8)
check, hint, solution = make_api(NOTEBOOK, EXERCISES)
