"""Exercises of notebook 06, "Churn II: models, decisions and drift".

In the notebook: ``from mlcourse.exercises.nb06 import check, hint, solution``.

Every probe returns **observations** only (course design §6): the learner's values, the
outputs of the learner's function on inputs the probe chooses, or the fitted model serialised
with skops. Nothing is concluded in the learner's process.

* The model exercise (q6) sends the fitted estimator; the trusted ``assess`` step loads it
  with library types only and scores it on **held-out players** (``actx.heldout_dir``) and on
  the notebook's own test rows, beside their Bayes limits and label noise. A model that scores
  the notebook's test rows better than their true probabilities allow saw their labels.
* The threshold (q8) is called with other costs than the notebook's.

The catalogues of wrong and valid answers are test data in ``tests/catalogues/nb06.py``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from functools import lru_cache, partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mlcourse.churn import FEATURES

from . import make_api
from ._helpers import (
    choice_exercise,
    estimator_probe,
    exercise,
    learner_function,
    learner_number,
    load_estimator,
)
from .spec import AnswerError, AssessContext, Exercise, Outcome, Plain, ProbeContext

NOTEBOOK = "06_churn_models_decisions"
#: the snapshot the notebook tests on; the model is scored on players labelled there
TEST_SNAPSHOT = "2026-03-29"
#: a model must come this many noise standard deviations close to the reference (held out)
MODEL_SD_TOLERANCE = 2.0
#: above the Bayes limit by more than this many noise standard deviations is a leak
LEAK_SD = 2.0
#: the label-residual z score above which a model must have seen the test labels
LEAK_Z = 4.0
#: label redraws used to measure the noise of an AUC
NOISE_DRAWS = 400


# --------------------------------------------------------------------------- q6 model


def _stamp(directory: Path) -> tuple:
    """Names, sizes and modification times of a data folder's files (a cache key)."""
    if not directory.is_dir():
        return ()
    return tuple(
        (p.name, p.stat().st_size, p.stat().st_mtime_ns)
        for p in sorted(directory.iterdir())
        if p.is_file()
    )


@lru_cache(maxsize=4)
def _scoring_rows(directory: str, stamp: tuple) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Point-in-time features, labels and true churn probabilities of the players labelled
    at the test snapshot in ``directory`` (cached: loading a log takes about a second)."""
    from mlcourse.churn import build_features
    from mlcourse.datasets import load_churn_truth, load_events, load_players

    truth = load_churn_truth(directory, verify=False)
    snaps = sorted(truth["snapshot"].unique())
    wanted = pd.Timestamp(TEST_SNAPSHOT, tz="UTC")
    snapshot = wanted if wanted in snaps else snaps[len(snaps) // 2]
    rows = truth[truth["snapshot"] == snapshot]
    X = build_features(
        load_events(directory, verify=False), load_players(directory, verify=False), snapshot
    )
    X = rows[["player_id"]].merge(X, on="player_id", how="left", validate="1:1")
    return (
        X[list(FEATURES)],
        rows["churned"].to_numpy(dtype=int),
        rows["p_churn"].to_numpy(dtype=float),
    )


@lru_cache(maxsize=8)
def _noise_sd(directory: str, stamp: tuple, seed: int) -> float:
    """Standard deviation of the true probabilities' own AUC when the labels are redrawn
    from them (``NOISE_DRAWS`` draws): the sampling noise of an AUC on these rows."""
    from scipy.stats import rankdata

    _, _, p = _scoring_rows(directory, stamp)
    ranks = rankdata(p)
    draws = np.random.default_rng(seed).random((NOISE_DRAWS, p.size)) < p
    n1 = draws.sum(axis=1)
    n0 = p.size - n1
    ok = (n1 > 0) & (n0 > 0)
    auc = (draws[ok] @ ranks - n1[ok] * (n1[ok] + 1) / 2) / (n1[ok] * n0[ok])
    return float(np.std(auc))


def _residual_z(q: np.ndarray, y: np.ndarray, p: np.ndarray) -> float:
    """How far a model's predictions follow the labels beyond the true probabilities.

    ``sum((q - p) (y - p)) / sqrt(sum((q - p)^2 p (1 - p)))``. For a model that never saw
    these labels, ``y - p`` is independent noise given the features, so this is about
    standard normal; a model fitted on these rows pulls ``q`` towards ``y`` and scores high.
    """
    d = q - p
    scale = math.sqrt(float(np.sum(d**2 * p * (1 - p))))
    return float(np.sum(d * (y - p)) / scale) if scale > 0 else 0.0


def _churn_scores(model: Any, X: pd.DataFrame) -> np.ndarray:
    proba = np.asarray(model.predict_proba(X.copy()), dtype=float)
    if proba.shape != (len(X), 2) or not np.isfinite(proba).all():
        raise AnswerError("`churn_model.predict_proba` should give two finite columns per row.")
    return proba[:, 1]


def _assess_model(observation: Plain, actx: AssessContext) -> Plain:
    """Trusted: load the model, score it on held-out players and on the notebook's test rows.

    Facts per row set: ``n``, the model's ``auc``, the ``bayes`` limit of the rows (population
    AUC of their true probabilities), the label ``noise_sd`` of an AUC there, and the
    residual ``z`` score of :func:`_residual_z`.
    """
    from sklearn.metrics import roc_auc_score

    from mlcourse.telemetry import bayes_auc

    from ._registry import data_dir, heldout_dir

    model = load_estimator(observation, "`churn_model`")
    if not hasattr(model, "predict_proba"):
        raise AnswerError(
            "`churn_model` should be a fitted scikit-learn classifier or pipeline with "
            "predict_proba."
        )
    # ``feature_names_in_`` is state a file can set on a genuine object, so it only chooses
    # which FEATURES columns the model is given, never what else it sees: rows are indexed
    # from the scoring table's FEATURES columns alone, so a name outside FEATURES is refused
    # and forged names cannot hand the model any other column (at worst the wrong ones).
    names = getattr(model, "feature_names_in_", None)
    columns = list(FEATURES) if names is None else [str(c) for c in names]
    extra = sorted(set(columns) - set(FEATURES))
    if extra:
        return {"extra_columns": extra}
    data = Path(actx.data_dir) if actx.data_dir is not None else data_dir()
    held = Path(actx.heldout_dir) if actx.heldout_dir is not None else heldout_dir(data)
    facts: dict[str, Any] = {"extra_columns": []}
    for part, directory in (("heldout", held), ("test", data)):
        key, stamp = str(directory), _stamp(directory)
        X, y, p = _scoring_rows(key, stamp)
        q = _churn_scores(model, X[columns])
        seed = int(actx.rng(f"q6_noise_{part}").integers(2**62))
        facts[part] = {
            "n": len(y),
            "auc": float(roc_auc_score(y, q)),
            "bayes": float(bayes_auc(p)),
            "noise_sd": _noise_sd(key, stamp, seed),
            "z": _residual_z(q, y, p),
        }
    return facts


def _judge_model(student: Plain, expected: Plain) -> Outcome:
    assert isinstance(student, dict) and isinstance(expected, dict)
    if student["extra_columns"]:
        return Outcome.incorrect(
            f"`churn_model` uses columns that are not point-in-time features: "
            f"{student['extra_columns']}. Train on the FEATURES columns only."
        )
    test, held = student["test"], student["heldout"]
    if test["auc"] > test["bayes"] + LEAK_SD * test["noise_sd"]:
        return Outcome.incorrect(
            f"LEAK: your model scores ROC-AUC {test['auc']:.3f} on the notebook's `test` "
            f"players, above their Bayes limit {test['bayes']:.3f} by more than "
            f"{LEAK_SD:g} noise sd = {LEAK_SD * test['noise_sd']:.3f}. An honest model almost "
            "never does that: it was most likely fitted on test rows. Fit it on `train` only."
        )
    if test["z"] > LEAK_Z:
        return Outcome.incorrect(
            f"LEAK: on the notebook's `test` players your model's predictions follow their "
            f"actual labels far more closely than their true churn probabilities allow "
            f"(z = {test['z']:.1f}; a model that never saw those labels stays below "
            f"{LEAK_Z:g}): it was fitted on test rows, e.g. on train and test together. "
            "Fit it on `train` only."
        )
    auc, sd, n = held["auc"], held["noise_sd"], held["n"]
    if auc > held["bayes"] + LEAK_SD * sd:
        return Outcome.incorrect(
            f"LEAK: ROC-AUC {auc:.3f} on held-out players lies above their Bayes limit by more "
            f"than {LEAK_SD:g} noise sd = {LEAK_SD * sd:.3f}: the model almost surely uses "
            "information it cannot have at prediction time."
        )
    tolerance = MODEL_SD_TOLERANCE * sd
    reference = expected["heldout"]["auc"]
    if auc >= reference - tolerance:
        return Outcome.correct(
            f"Correct: ROC-AUC {auc:.3f} on {n} held-out players, as good as the reference "
            f"model within {MODEL_SD_TOLERANCE:g} noise sd = {tolerance:.3f} (the noise of an AUC "
            f"on that many players), and no sign of a leak."
        )
    partial = 0.5 if auc >= reference - 2 * tolerance else 0.0
    return Outcome.incorrect(
        f"Your model reaches ROC-AUC {auc:.3f} on {n} held-out players, more than "
        f"{MODEL_SD_TOLERANCE:g} noise sd = {tolerance:.3f} below the "
        "reference model. Use all the point-in-time features and a model that captures "
        "interactions (e.g. gradient boosting with small trees).",
        partial,
    )


# --------------------------------------------------------------------------- q8 threshold

#: "Close" band of q8: a threshold rounded to two decimals is off by at most 0.005 (a
#: relative 0.5 % covers rounding to three significant digits); a 2 % error is outside it
CLOSE_ABS = 0.0051

#: fixed costs that tell the usual slips apart: a success rate of 1 (where leaving it out is
#: harmless) beside rates far from 1, a cost equal to the value, and break-even points near 0
_THRESHOLD_CASES = ((1.0, 10.0, 1.0), (4.0, 20.0, 0.25), (2.5, 5.0, 0.6), (0.5, 50.0, 0.9))


def _probe_threshold(ns: Mapping[str, Any], ctx: ProbeContext) -> Plain:
    """``offer_threshold`` on fixed and random costs whose break-even point lies below 0.95.

    Built to catch: a constant threshold (0.5), a forgotten success rate, a ratio upside
    down, a net-gain formula ``cost / (cost + rate * value)`` and a cost taken off the value,
    ``cost / (rate * (value - cost))`` (their own messages); keyword
    arguments are used,
    so a swapped parameter order fails too.
    """
    fn = learner_function(ns, "offer_threshold")
    rng = ctx.rng("q8_offer_threshold")
    cases = list(_THRESHOLD_CASES)
    while len(cases) < 10:
        cost, value, rate = rng.uniform(0.5, 5), rng.uniform(5, 60), rng.uniform(0.1, 0.9)
        if cost / (rate * value) < 0.95:
            cases.append((round(cost, 2), round(value, 2), round(rate, 2)))
    out = []
    for cost, value, rate in cases:
        t = fn(offer_cost=cost, saved_value=value, success_rate=rate)
        out.append(
            learner_number(
                t, "offer_threshold should return a number, got {type}.", subclasses=False
            )
        )
    return {"inputs": [list(c) for c in cases], "thresholds": out}


def _judge_threshold(student: Plain, expected: Plain) -> Outcome:
    assert isinstance(student, dict) and isinstance(expected, dict)
    got, want = student["thresholds"], expected["thresholds"]
    if len(got) == len(want) and all(
        isinstance(g, float) and math.isclose(g, w, rel_tol=1e-3)
        for g, w in zip(got, want, strict=True)
    ):
        return Outcome.correct("Correct: offer when p x success rate x value exceeds the cost.")
    if len(got) == len(want) and all(
        isinstance(g, float) and math.isclose(g, w, rel_tol=0.005, abs_tol=CLOSE_ABS)
        for g, w in zip(got, want, strict=True)
    ):
        return Outcome.incorrect(
            "Close: every threshold is within a rounding step of the break-even point but not on "
            "it. Return the exact value; round only when you print it."
        )
    if len(set(got)) == 1:
        return Outcome.incorrect(
            "Your threshold is the same whatever the offer costs and a saved player is worth: it "
            "ignores the costs. Compare the expected gain of an offer with its cost."
        )
    inputs = expected["inputs"]  # the reference's copy of the generated costs (trusted)
    if all(
        isinstance(g, float) and math.isclose(g, c / v, rel_tol=1e-6)
        for g, (c, v, _) in zip(got, inputs, strict=True)
    ):
        return Outcome.incorrect(
            "Close: your threshold leaves out the success rate; an offer saves a churner only "
            "with that probability."
        )
    if all(
        isinstance(g, float) and math.isclose(g, c / (c + r * v), rel_tol=1e-6)
        for g, (c, v, r) in zip(got, inputs, strict=True)
    ):
        return Outcome.incorrect(
            "Your threshold is cost / (cost + success rate x value): it charges the offer only "
            "to players who would have stayed (p x rate x value > (1 - p) x cost), as a "
            "classification cost matrix would. But every offer costs its price, whoever gets "
            "it: compare the expected gain of an offer with its full cost."
        )
    if all(
        isinstance(g, float) and math.isclose(g, c * r / v, rel_tol=1e-6)
        for g, (c, v, r) in zip(got, inputs, strict=True)
    ):
        return Outcome.incorrect(
            "Your threshold rises with the success rate: a more effective offer would pay off on "
            "fewer players. Where does the success rate enter the expected gain of an offer?"
        )
    if all(
        isinstance(g, float) and v != c and math.isclose(g, c / (r * (v - c)), rel_tol=1e-6)
        for g, (c, v, r) in zip(got, inputs, strict=True)
    ):
        return Outcome.incorrect(
            "Your threshold is cost / (success rate x (value - cost)): it takes the offer's "
            "cost off the saved player's value. A saved player's value already excludes the "
            "offer's cost; the cost is paid either way, whether the offer saves anyone or not."
        )
    if any(isinstance(g, float) and g > 1 for g in got):
        return Outcome.incorrect(
            "Some of your thresholds exceed 1, so nobody would get an offer: is the ratio upside "
            "down?"
        )
    return Outcome.incorrect(
        "The thresholds do not match the break-even point where the expected gain of an offer "
        "equals its cost."
    )


# --------------------------------------------------------------------------- the exercises


#: this notebook's exercises: ``_exercise(id, title, reads, probe, judge, ...)`` and
#: ``_choice(id, title, name, explanations, ...)`` (see :mod:`._helpers`)
_exercise, _choice = partial(exercise, NOTEBOOK), partial(choice_exercise, NOTEBOOK)

EXERCISES: tuple[Exercise, ...] = (
    _exercise(
        "q6_churn_model",
        "A leak-free churn model",
        ("churn_model",),
        estimator_probe("churn_model"),
        _judge_model,
        points=3,
        assess=_assess_model,
        hints=(
            "Train on `train[FEATURES]` and `train.churned` only (no player attributes from the "
            "export, no ids, no test rows).",
            "A pipeline that encodes platform and difficulty and ends in a gradient boosting "
            "classifier with small trees does well.",
        ),
    ),
    _exercise(
        "q8_offer_threshold",
        "A threshold from the costs",
        ("offer_threshold",),
        _probe_threshold,
        _judge_threshold,
        points=2,
        hints=(
            "An offer to a player with churn probability p gains p x success_rate x saved_value "
            "on average and costs offer_cost for sure.",
            "Offer when the expected gain exceeds the cost; solve for p.",
        ),
    ),
    _choice(
        "q9_drift",
        "After the patch",
        "drift_choice",
        {
            "A": "An average prediction that matches the churn rate says nothing about the order "
            "of the players. Look at the AUC difference and its interval in the drift table, and "
            "at the expected profit.",
            "B": "After the patch the old model ranks players worse (its AUC is lower by "
            "more than the noise, its Brier score higher) and the same offers earn less in "
            "expectation, by about one standard deviation of a campaign's luck, even though "
            "its average prediction still matches the churn rate. Retrain once post-patch "
            "labels are known: here on the post-patch snapshots alone, which beat all "
            "snapshots with fewer rows (with fewer post-patch rows, compare the two again). "
            "Keep checking AUC, calibration and profit on every new snapshot.",
            "C": "Every later snapshot's date lies beyond the dates the trees were trained on, so "
            "they treat it like the last training dates: a date feature can only learn what "
            "changed from post-patch labels, and once you have those, retraining uses them "
            "directly. A related idea is worth measuring as a third option: one model pooled "
            "over all snapshots with a post-patch indicator, which keeps the pre-patch rows and "
            "learns from the post-patch labels what changed (Gama et al. 2014, A survey on "
            "concept drift adaptation); compare it with the two retrainings on later "
            "snapshots.",
            "D": "A threshold moves every player across the same cut; it cannot change their "
            "order. Which part of the old model's performance did the drift table show falling?",
        },
        hints=(
            "Compare the rows of the drift table: the AUC difference and its interval, the "
            "Brier score and the expected profit; then the calibration figure.",
        ),
        choices={
            "A": "Nothing: its average prediction still matches the churn rate, so it is fine.",
            "B": "Retrain once post-patch labels are known (here on post-patch snapshots); "
            "keep checking.",
            "C": "Add the snapshot date as a feature, so that the model knows about the patch.",
            "D": "Lower the decision threshold to make up for the drift, and keep the model.",
        },
        convert=str.upper,
    ),
)

check, hint, solution = make_api(NOTEBOOK, EXERCISES)
