"""Exercises of ``02_target_encoding`` ("who will pay?", part II).

In the notebook: ``from mlcourse.exercises.nb02 import check, hint, solution``.

Built like :mod:`mlcourse.exercises.nb01`, where the payer task and the assessment of a fitted
payer model (structure, behaviour, leaks, memorisation, quality) live, shared by the model
exercises of both notebooks (q3 there, q5 and q7 here). q4 calls the learner's function on
fresh data; q6 and q8 are multiple-choice questions. The catalogues of wrong and valid answers
are test data in ``tests/catalogues/nb02.py``.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import Any

import numpy as np
import pandas as pd

from . import make_api
from ._helpers import choice_exercise, exercise, learner_function, values_close
from .nb01 import HIGH_CARDINALITY, _model_exercise, _structure_native, _structure_te
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
        return Outcome.incorrect(
            "Not the shrunk mean. For each level: (n * level_mean + m * global_mean) / (n + m), "
            "with n the level's number of rows and global_mean the mean of all of y."
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
    "What does a test AUC far above the Bayes limit mean?",
    "answer_leak",
    {
        "A": "No model can beat the Bayes limit on fresh data: the true probabilities are "
        "the best possible ranking. Something else happened.",
        "B": "The encoder fitted on all rows saw the test labels: a rare campaign with one "
        "payer among the test rows gets a high encoding, and the model then 'predicts' "
        "that payer. Only such a leak lifts a score on rows a model did not learn from "
        "above the limit by more than the noise band.",
        "C": "Luck moves a test AUC within the noise band of notebook 01, section 1 (the "
        "truth itself lands above the limit on about half of the redrawn test sets), not this "
        "far beyond its top; and the same model fitted inside the pipeline scores below the "
        "limit.",
        "D": "The cross-fitted target encoder inside a pipeline stays below the limit; "
        "what differs here is when the encoder was fitted.",
    },
    choices={
        "A": "The target encoder found signal that the simulator's true probabilities miss.",
        "B": "The test labels leaked into the features: the encoder saw them when it was "
        "fitted on all rows.",
        "C": "Random luck: the test set holds only a few hundred payers.",
        "D": "Target encoding is simply the best encoder for ID-like columns.",
    },
    hints=(
        "The Bayes limit is computed from the true probabilities: on fresh rows, no model can "
        "rank players better than the truth does, in expectation.",
        "Compare the score with the noise band (notebook 01, section 1): how far above the "
        "limit does luck take the truth itself?",
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
        "A": "Look at the paired differences: with the linear model, target encoding's lead "
        "over one-hot is far smaller than its spread over the folds, and with boosting it "
        "is behind one-hot in most folds; no encoder is right for every column and model.",
        "B": "Alphabetical codes lose to one-hot in every fold (a linear model needs one "
        "slope along an arbitrary order; a tree cuts the order into pieces and loses less), "
        "while the sensible encoders' paired differences stay within their fold-to-fold "
        "spread, and on the held-out test the bootstrap interval of each difference "
        "includes 0.",
        "C": "Compare the two models on the sensible encodings: boosting with native "
        "categories is not ahead of one-hot with a linear model, neither in the folds nor "
        "on the held-out test.",
        "D": "A highest mean by a few ten-thousandths says little when the paired "
        "differences vary by about a hundredth from fold to fold; the held-out test ranks "
        "those two pipelines the other way round.",
    },
    choices={
        "A": "Target encoding wins with both models, so it is the right choice for every "
        "column and every model.",
        "B": "Alphabetical codes score below one-hot in every fold, by much more with the "
        "linear model than with boosting; among the sensible encoders the paired differences "
        "are smaller than their spread across folds, and the held-out test does not separate "
        "them either.",
        "C": "Gradient boosting beats logistic regression by a wide margin whatever the encoding.",
        "D": "One-hot + target encoding has the highest mean over the folds, so it will rank new "
        "players best.",
    },
    hints=(
        "Read the paired columns: 'diff vs one-hot' against its 'sd of diff', and 'folds "
        "better' (out of five).",
        "Then the held-out table: does each difference's interval (diff_low to diff_high) "
        "include 0?",
    ),
)

EXERCISES = (Q4, Q5, Q6, Q7, Q8)
check, hint, solution = make_api(NOTEBOOK, EXERCISES)
