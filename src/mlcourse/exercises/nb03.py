"""Exercises of notebook 03, "Churn prediction: who will leave?".

Functions the learner writes are called on fresh toy logs (``mlcourse.churn.toy_log`` seeded
from the probe context), the fitted model is scored on held-out players of whatever data the
loaders point at (a variant in the grader), and the threshold rule is called on fresh costs.
So copying numbers from the public data does not pass.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

from mlcourse.churn import FEATURES, toy_log

from . import make_api
from ._helpers import choice_judge, value_probe
from .spec import AnswerError, Exercise, Outcome, Plain, ProbeContext, WrongAnswer

NOTEBOOK = "03_churn_prediction"
#: the snapshot the notebook tests on; the model probe scores held-out players there
TEST_SNAPSHOT = "2026-03-29"
MODEL_AUC_SLACK = 0.02


# --------------------------------------------------------------------------- shared bits


def _fresh_log(ctx: ProbeContext, key: str) -> tuple[pd.DataFrame, pd.DataFrame, pd.Timestamp]:
    """A toy log and a snapshot inside it, both derived from the probe's seed."""
    rng = ctx.rng(key)
    events, players = toy_log(n_players=150, days=50, seed=int(rng.integers(2**31)))
    snapshot = pd.Timestamp("2026-01-01", tz="UTC") + pd.Timedelta(days=int(rng.integers(18, 30)))
    return events, players, snapshot


def _future_burst(events: pd.DataFrame, snapshot: pd.Timestamp, rng) -> pd.DataFrame:
    """Sessions exactly at the snapshot and just after it, for players who played before."""
    before = events[(events["event"] == "session_start") & (events["ts"] < snapshot)]
    pick = before.sample(n=min(40, len(before)), random_state=int(rng.integers(2**31)))
    at = pick.assign(ts=snapshot)
    later = pick.assign(ts=snapshot + pd.to_timedelta(rng.integers(1, 5 * 86_400, len(pick)), "s"))
    burst = pd.concat([at, later], ignore_index=True)
    return pd.concat([events, burst], ignore_index=True).sort_values("ts", kind="stable")


def _callable(ns: Mapping[str, Any], name: str) -> Any:
    fn = ns[name]
    if not callable(fn):
        raise AnswerError(f"`{name}` should be a function (def {name}(...): ...), not a value.")
    return fn


def _series_by_player(obj: Any, what: str) -> pd.Series:
    if not isinstance(obj, pd.Series):
        raise AnswerError(
            f"{what} should return a pandas Series indexed by player_id, got {type(obj).__name__}."
        )
    if not obj.index.is_unique:
        raise AnswerError(f"{what} returned several rows for one player; give one per player.")
    return obj


# --------------------------------------------------------------------------- q2 labels


def _probe_labels(ns: Mapping[str, Any], ctx: ProbeContext) -> Plain:
    fn = _callable(ns, "churn_labels")
    events, players, snapshot = _fresh_log(ctx, "q2_churn_labels")
    out = _series_by_player(fn(events.copy(), players.copy(), snapshot), "churn_labels")
    values = pd.to_numeric(out, errors="coerce")
    if values.isna().any() or not values.isin([0, 1]).all():
        raise AnswerError("churn_labels should return 0/1 (or False/True) labels, one per player.")
    out = values.astype(int).sort_index()
    return {"ids": [int(i) for i in out.index], "labels": [int(v) for v in out]}


def _judge_labels(student: Plain, expected: Plain) -> Outcome:
    assert isinstance(student, dict) and isinstance(expected, dict)
    s_ids, e_ids = set(student["ids"]), set(expected["ids"])
    if s_ids - e_ids:
        return Outcome.incorrect(
            f"You label {len(s_ids - e_ids)} player(s) who cannot be labelled yet: leave out "
            "players installed less than 7 days before the snapshot (they are censored)."
        )
    if e_ids - s_ids:
        return Outcome.incorrect(
            f"You leave out {len(e_ids - s_ids)} player(s) who should be labelled: keep every "
            "player installed at least 7 days before the snapshot, active or not."
        )
    truth = dict(zip(expected["ids"], expected["labels"], strict=True))
    wrong = sum(truth[i] != v for i, v in zip(student["ids"], student["labels"], strict=True))
    if wrong:
        return Outcome.incorrect(
            f"The labels differ for {wrong} of {len(truth)} players. Churned (1) means no "
            "session_start in [snapshot, snapshot + 14 days): check the event type, both ends "
            "of the window, and that 1 means churned."
        )
    return Outcome.correct("Correct: censoring and the 14-day window are right.")


# --------------------------------------------------------------------------- q3 features

_ACTIVITY = ("recency_days", "sessions_7d", "sessions_prev_7d")


def _activity_plain(out: Any) -> dict[str, Any]:
    if not isinstance(out, pd.DataFrame):
        raise AnswerError(
            f"activity_features should return a DataFrame indexed by player_id, "
            f"got {type(out).__name__}."
        )
    missing = [c for c in _ACTIVITY if c not in out.columns]
    if missing:
        raise AnswerError(
            f"activity_features should return the columns {list(_ACTIVITY)}; {missing} missing."
        )
    if not out.index.is_unique:
        raise AnswerError("activity_features returned several rows for one player.")
    out = out.sort_index()
    cols = {}
    for c in _ACTIVITY:
        v = pd.to_numeric(out[c], errors="coerce").to_numpy(dtype=float)
        cols[c] = [round(float(x), 6) if math.isfinite(x) else "nan" for x in v]
    return {"ids": [int(i) for i in out.index], **cols}


def _probe_activity(ns: Mapping[str, Any], ctx: ProbeContext) -> Plain:
    fn = _callable(ns, "activity_features")
    events, _, snapshot = _fresh_log(ctx, "q3_activity_features")
    past_only = events[events["ts"] < snapshot]
    with_future = _future_burst(events, snapshot, ctx.rng("q3_future"))
    main = _activity_plain(fn(with_future.copy(), snapshot))
    past = _activity_plain(fn(past_only.copy(), snapshot))
    return {**main, "uses_future": main != past}


def _judge_activity(student: Plain, expected: Plain) -> Outcome:
    assert isinstance(student, dict) and isinstance(expected, dict)
    if student["uses_future"]:
        return Outcome.incorrect(
            "Your features change when events at or after the snapshot are added to the log, so "
            "they look into the future: keep only events with ts < snapshot."
        )
    if student["ids"] != expected["ids"]:
        return Outcome.incorrect(
            "The rows are not the expected players: return one row per player with at least "
            "one session_start before the snapshot, indexed by player_id."
        )
    n = len(expected["ids"])
    for c in _ACTIVITY:
        bad = sum(
            not (isinstance(a, float | int) and isinstance(b, float | int) and abs(a - b) < 1e-4)
            for a, b in zip(student[c], expected[c], strict=True)
        )
        if bad:
            return Outcome.incorrect(
                f"`{c}` differs from its definition for {bad} of {n} players "
                "(check the event type, the window ends and the unit: days)."
            )
    return Outcome.correct("Correct, and nothing from the snapshot on leaks into it.")


# --------------------------------------------------------------------------- q5 time split


def _probe_split(ns: Mapping[str, Any], ctx: ProbeContext) -> Plain:
    fn = _callable(ns, "split_in_time")
    rng = ctx.rng("q5_split_in_time")
    snaps = pd.Timestamp("2026-02-01", tz="UTC") + pd.to_timedelta(7 * np.arange(8), "D")
    n = int(rng.integers(300, 500))
    data = pd.DataFrame(
        {
            "player_id": rng.integers(1, 200, n),
            "snapshot": snaps[rng.integers(0, len(snaps), n)],
            "x": rng.random(n),
            "churned": rng.integers(0, 2, n),
        }
    ).sort_values("snapshot", kind="stable", ignore_index=True)
    test_snapshot = snaps[int(rng.integers(4, len(snaps)))]
    result = fn(data.copy(), test_snapshot)
    if not (isinstance(result, tuple) and len(result) == 2):
        raise AnswerError("split_in_time should return a pair: (train, test).")
    train, test = result
    for name, part in (("train", train), ("test", test)):
        if not isinstance(part, pd.DataFrame) or "snapshot" not in part.columns:
            raise AnswerError(f"`{name}` should be a DataFrame of rows of `data` (with snapshot).")
    days = lambda part: sorted(int((t - test_snapshot).days) for t in part["snapshot"].unique())  # noqa: E731
    return {
        "train_days": days(train),
        "test_days": days(test),
        "n_train": len(train),
        "n_test": len(test),
    }


def _judge_split(student: Plain, expected: Plain) -> Outcome:
    assert isinstance(student, dict) and isinstance(expected, dict)
    if any(d >= 0 for d in student["train_days"]):
        return Outcome.incorrect(
            "Training rows come from the test snapshot or later: split by time, not at random."
        )
    if student["test_days"] != [0]:
        return Outcome.incorrect("The test set must hold the rows of the test snapshot only.")
    if any(d > -14 for d in student["train_days"]):
        return Outcome.incorrect(
            "Some training snapshots lie less than 14 days before the test snapshot: their label "
            "windows are still open at prediction time, so those labels are not known yet."
        )
    if student["train_days"] != expected["train_days"]:
        return Outcome.incorrect(
            "You drop training snapshots whose label windows have closed; keep all of them."
        )
    if (student["n_train"], student["n_test"]) != (expected["n_train"], expected["n_test"]):
        return Outcome.incorrect("The right snapshots, but not all of their rows: keep every row.")
    return Outcome.correct("Correct: the past for training, one later snapshot for testing.")


# --------------------------------------------------------------------------- q6 leaks


def _probe_leaks(ns: Mapping[str, Any], ctx: ProbeContext) -> Plain:
    value = ns["leaky_columns"]
    if type(value) not in (list, tuple, set):
        raise AnswerError("`leaky_columns` should be a list of column names, e.g. ['a', 'b'].")
    if not all(type(v) is str for v in value):
        raise AnswerError("`leaky_columns` should hold column names as strings.")
    return sorted(set(value))


def _judge_leaks(student: Plain, expected: Plain) -> Outcome:
    assert isinstance(student, list) and isinstance(expected, list)
    extra = sorted(set(student) - set(expected))
    missing = set(expected) - set(student)
    if not extra and not missing:
        return Outcome.correct("Correct: those columns were measured at export time.")
    score = max(0.0, (len(expected) - len(missing) - len(extra)) / len(expected))
    parts = []
    if extra:
        parts.append(
            f"{extra} is known at prediction time (it does not beat the Bayes limit), so it is "
            "not a leak"
        )
    if missing:
        parts.append(f"it misses {len(missing)} leaky column(s)")
    return Outcome.incorrect("Not quite: " + "; ".join(parts) + ".", score)


# --------------------------------------------------------------------------- q7 model


def _held_out(ctx: ProbeContext) -> tuple[pd.DataFrame, np.ndarray]:
    """Labelled players at the test snapshot of the data in use (a variant in the grader)."""
    from mlcourse.datasets import data_dir

    X, y = _held_out_cached(str(data_dir()), ctx.seed)
    return X.copy(), y.copy()  # copies: a learner's pipeline may modify its input in place


@lru_cache(maxsize=4)
def _held_out_cached(directory: str, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    # Loading the log and building features takes 1-3 s; a learner re-running `check` after
    # each attempt should wait for it once, not every time (keyed by data folder and seed).
    from mlcourse.churn import build_features
    from mlcourse.datasets import load_churn_truth, load_events, load_players

    ctx = ProbeContext(seed=seed)
    truth = load_churn_truth(directory)
    snaps = sorted(truth["snapshot"].unique())
    wanted = pd.Timestamp(TEST_SNAPSHOT, tz="UTC")
    snapshot = wanted if wanted in snaps else snaps[len(snaps) // 2]
    rows = truth[truth["snapshot"] == snapshot]
    rng = ctx.rng("q6_churn_model")
    rows = rows.iloc[np.sort(rng.permutation(len(rows))[: max(200, int(0.8 * len(rows)))])]
    X = build_features(load_events(directory), load_players(directory), snapshot)
    X = rows[["player_id"]].merge(X, on="player_id", how="left", validate="1:1")
    return X[list(FEATURES)], rows["churned"].to_numpy(dtype=int)


def _probe_model(ns: Mapping[str, Any], ctx: ProbeContext) -> Plain:
    from sklearn.exceptions import NotFittedError
    from sklearn.metrics import brier_score_loss, roc_auc_score

    model = ns["churn_model"]
    if not hasattr(model, "predict_proba"):
        raise AnswerError(
            "`churn_model` should be a fitted scikit-learn classifier or pipeline with "
            "predict_proba."
        )
    names = getattr(model, "feature_names_in_", None)
    if names is not None:
        other = sorted(set(map(str, names)) - set(FEATURES))
        if other:
            raise AnswerError(
                f"`churn_model` uses columns that are not point-in-time features: {other}. "
                "Train on the FEATURES columns only."
            )
    X, y = _held_out(ctx)
    try:
        proba = model.predict_proba(X)
    except NotFittedError as exc:
        raise AnswerError("`churn_model` is not fitted yet: call churn_model.fit(...)") from exc
    proba = np.asarray(proba, dtype=float)
    if proba.shape != (len(X), 2) or not np.isfinite(proba).all():
        raise AnswerError("`churn_model.predict_proba` should give two finite columns per row.")
    p = proba[:, 1]
    return {
        "auc": round(float(roc_auc_score(y, p)), 6),
        "brier": round(float(brier_score_loss(y, np.clip(p, 0, 1))), 6),
        "n": len(y),
    }


def _judge_model(student: Plain, expected: Plain) -> Outcome:
    assert isinstance(student, dict) and isinstance(expected, dict)
    auc = student["auc"]
    if auc >= expected["auc"] - MODEL_AUC_SLACK:
        return Outcome.correct(
            f"Correct: ROC-AUC {auc:.3f} on {student['n']} held-out players, as good as the "
            "reference model."
        )
    partial = 0.5 if auc >= expected["auc"] - 2 * MODEL_AUC_SLACK else 0.0
    return Outcome.incorrect(
        f"Your model reaches ROC-AUC {auc:.3f} on held-out players, more than "
        f"{MODEL_AUC_SLACK} below the reference model. Use all the point-in-time features and "
        "a model that captures interactions (e.g. HistGradientBoostingClassifier).",
        partial,
    )


# --------------------------------------------------------------------------- q8 threshold


def _probe_threshold(ns: Mapping[str, Any], ctx: ProbeContext) -> Plain:
    fn = _callable(ns, "offer_threshold")
    rng = ctx.rng("q8_offer_threshold")
    cases = []
    while len(cases) < 6:
        cost, value, rate = rng.uniform(0.5, 5), rng.uniform(5, 60), rng.uniform(0.1, 0.9)
        if cost / (rate * value) < 0.95:
            cases.append((round(cost, 2), round(value, 2), round(rate, 2)))
    out = []
    for cost, value, rate in cases:
        t = fn(offer_cost=cost, saved_value=value, success_rate=rate)
        if type(t) not in (int, float) and not isinstance(t, np.floating | np.integer):
            raise AnswerError(f"offer_threshold should return a number, got {type(t).__name__}.")
        out.append(float(t))
    return {"inputs": [list(c) for c in cases], "thresholds": out}


def _judge_threshold(student: Plain, expected: Plain) -> Outcome:
    assert isinstance(student, dict) and isinstance(expected, dict)
    got, want = student["thresholds"], expected["thresholds"]
    if all(
        isinstance(g, float) and math.isclose(g, w, rel_tol=1e-6)
        for g, w in zip(got, want, strict=True)
    ):
        return Outcome.correct("Correct: offer when p x success rate x value exceeds the cost.")
    if len(set(got)) == 1:
        return Outcome.incorrect(
            "Your threshold is the same whatever the offer costs and a saved player is worth: it "
            "ignores the costs. Compare the expected gain of an offer with its cost."
        )
    inputs = student["inputs"]
    if all(math.isclose(g, c / v, rel_tol=1e-6) for g, (c, v, _) in zip(got, inputs, strict=True)):
        return Outcome.incorrect(
            "Close: your threshold leaves out the success rate; an offer saves a churner only "
            "with that probability."
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

EXERCISES: tuple[Exercise, ...] = (
    Exercise(
        id="q1_censoring",
        notebook=NOTEBOOK,
        title="Players too new to judge",
        points=1,
        reads=("censoring_choice",),
        probe=value_probe("censoring_choice", str.upper),
        judge=choice_judge(
            {
                "A": "Not quite: after 3 days we have not seen a full week of play, and an "
                "inactive newcomer is common; calling them churned would inflate the churn rate.",
                "B": "Not quite: we have no evidence that they stay; guessing 0 biases the "
                "labels just as guessing 1 does.",
                "D": "Not quite: a label must be observed, not imputed; an invented rate teaches "
                "the model nothing about these players.",
            }
        ),
        hints=(
            "How long has this player been in the game when the snapshot is taken?",
            "The course only labels players installed at least 7 days before the snapshot.",
        ),
        wrong_answers=(
            WrongAnswer("call_them_churned", 'censoring_choice = "A"', "inflate the churn rate"),
            WrongAnswer("impute", 'censoring_choice = "D"', "must be observed"),
        ),
        kind="choice",
        choices={
            "A": "Label them churned (1): they did not come back.",
            "B": "Label them not churned (0): they only just arrived.",
            "C": "Leave them out at this snapshot: they are censored, too new to judge.",
            "D": "Give them the average churn rate as a soft label.",
        },
    ),
    Exercise(
        id="q2_churn_labels",
        notebook=NOTEBOOK,
        title="Churn labels at a snapshot",
        points=2,
        reads=("churn_labels",),
        probe=_probe_labels,
        judge=_judge_labels,
        hints=(
            "Two steps: choose the players that can be labelled (installed at least 7 days "
            "before the snapshot), then look for a session_start in [snapshot, snapshot + 14 "
            "days).",
            "eligible = players[players.install_date <= snapshot - pd.Timedelta(days=7)]; "
            "active = eligible.player_id.isin(<player ids of sessions in the window>).",
        ),
        wrong_answers=(
            WrongAnswer(
                "no_censoring",
                "def churn_labels(events, players, snapshot):\n"
                "    window = events[(events.event == 'session_start') & (events.ts >= snapshot)"
                " & (events.ts < snapshot + pd.Timedelta(days=14))]\n"
                "    active = players.player_id.isin(window.player_id)\n"
                "    return pd.Series((~active).astype(int).to_numpy(), index=players.player_id)",
                "installed less than 7 days",
            ),
            WrongAnswer(
                "one_means_active",
                "def churn_labels(events, players, snapshot):\n"
                "    eligible = players[players.install_date <= snapshot - pd.Timedelta(days=7)]\n"
                "    window = events[(events.event == 'session_start') & (events.ts >= snapshot)"
                " & (events.ts < snapshot + pd.Timedelta(days=14))]\n"
                "    active = eligible.player_id.isin(window.player_id)\n"
                "    return pd.Series(active.astype(int).to_numpy(), index=eligible.player_id)",
                "labels differ",
            ),
            WrongAnswer(
                "window_7_days",
                "def churn_labels(events, players, snapshot):\n"
                "    eligible = players[players.install_date <= snapshot - pd.Timedelta(days=7)]\n"
                "    window = events[(events.event == 'session_start') & (events.ts >= snapshot)"
                " & (events.ts < snapshot + pd.Timedelta(days=7))]\n"
                "    active = eligible.player_id.isin(window.player_id)\n"
                "    return pd.Series((~active).astype(int).to_numpy(), index=eligible.player_id)",
                "labels differ",
            ),
            WrongAnswer(
                "returns_a_list",
                "def churn_labels(events, players, snapshot):\n    return [0, 1]",
                "pandas Series indexed by player_id",
            ),
        ),
    ),
    Exercise(
        id="q3_activity_features",
        notebook=NOTEBOOK,
        title="Point-in-time activity features",
        points=2,
        reads=("activity_features",),
        probe=_probe_activity,
        judge=_judge_activity,
        hints=(
            "Start with `past = events[(events.event == 'session_start') & (events.ts < "
            "snapshot)]`: everything else is computed from `past` only.",
            "age = (snapshot - past.ts) / pd.Timedelta(days=1) is each session's age in days; "
            "recency is its minimum per player, sessions_7d counts ages <= 7, sessions_prev_7d "
            "ages in (7, 14]. Group with .groupby(past.player_id).",
        ),
        wrong_answers=(
            WrongAnswer(
                "no_time_filter",
                "def activity_features(events, snapshot):\n"
                "    past = events[events.event == 'session_start']\n"
                "    age = (snapshot - past.ts) / pd.Timedelta(days=1)\n"
                "    by = past.player_id\n"
                "    return pd.DataFrame({'recency_days': age.groupby(by).min(),\n"
                "        'sessions_7d': (age <= 7).groupby(by).sum(),\n"
                "        'sessions_prev_7d': ((age > 7) & (age <= 14)).groupby(by).sum()})",
                "look into the future",
            ),
            WrongAnswer(
                "includes_the_snapshot",
                "def activity_features(events, snapshot):\n"
                "    past = events[(events.event == 'session_start') & (events.ts <= snapshot)]\n"
                "    age = (snapshot - past.ts) / pd.Timedelta(days=1)\n"
                "    by = past.player_id\n"
                "    return pd.DataFrame({'recency_days': age.groupby(by).min(),\n"
                "        'sessions_7d': (age <= 7).groupby(by).sum(),\n"
                "        'sessions_prev_7d': ((age > 7) & (age <= 14)).groupby(by).sum()})",
                "ts < snapshot",
            ),
            WrongAnswer(
                "recency_in_hours",
                "def activity_features(events, snapshot):\n"
                "    past = events[(events.event == 'session_start') & (events.ts < snapshot)]\n"
                "    age = (snapshot - past.ts) / pd.Timedelta(hours=1)\n"
                "    by = past.player_id\n"
                "    return pd.DataFrame({'recency_days': age.groupby(by).min(),\n"
                "        'sessions_7d': (age <= 7 * 24).groupby(by).sum(),\n"
                "        'sessions_prev_7d': ((age > 7 * 24) & (age <= 14 * 24))"
                ".groupby(by).sum()})",
                "`recency_days` differs",
            ),
            WrongAnswer(
                "counts_every_event",
                "def activity_features(events, snapshot):\n"
                "    past = events[events.ts < snapshot]\n"
                "    age = (snapshot - past.ts) / pd.Timedelta(days=1)\n"
                "    sess = past.event == 'session_start'\n"
                "    by = past.player_id\n"
                "    out = pd.DataFrame({'recency_days': age[sess].groupby(by[sess]).min(),\n"
                "        'sessions_7d': (age <= 7).groupby(by).sum(),\n"
                "        'sessions_prev_7d': ((age > 7) & (age <= 14)).groupby(by).sum()})\n"
                "    return out.loc[out.recency_days.notna()]",
                "`sessions_7d` differs",
            ),
        ),
    ),
    Exercise(
        id="q4_event_rows",
        notebook=NOTEBOOK,
        title="Why the random row split looks so good",
        points=1,
        reads=("event_split_choice",),
        probe=value_probe("event_split_choice", str.upper),
        judge=choice_judge(
            {
                "A": "Not quite: more rows cannot lift a model above the Bayes limit; only "
                "information it should not have can.",
                "C": "Not quite: overfitting lowers the test score; here the test score is "
                "too high.",
                "D": "Not quite: the row order does not matter to a random split or to the model.",
            }
        ),
        hints=(
            "The label belongs to a player, not to an event. Where do the events of one player "
            "end up after a random row split?",
        ),
        wrong_answers=(
            WrongAnswer("more_rows", 'event_split_choice = "A"', "more rows cannot"),
            WrongAnswer("overfitting", 'event_split_choice = "C"', "overfitting lowers"),
        ),
        kind="choice",
        choices={
            "A": "There are many more rows than players, so the model learns more.",
            "B": "Rows of the same player land in both train and test; the model recognises "
            "the player and copies the label.",
            "C": "Gradient boosting overfits the event rows.",
            "D": "The events are sorted by time.",
        },
    ),
    Exercise(
        id="q5_split_in_time",
        notebook=NOTEBOOK,
        title="Split by time with closed label windows",
        points=2,
        reads=("split_in_time",),
        probe=_probe_split,
        judge=_judge_split,
        hints=(
            "The test set is the rows at `test_snapshot`. Which earlier snapshots have labels "
            "you would already know on the day of `test_snapshot`?",
            "A label at snapshot t is known at t + 14 days: train on rows with "
            "data.snapshot + pd.Timedelta(days=window_days) <= test_snapshot.",
        ),
        wrong_answers=(
            WrongAnswer(
                "random_split",
                "from sklearn.model_selection import train_test_split\n\n"
                "def split_in_time(data, test_snapshot, window_days=14):\n"
                "    return tuple(train_test_split(data, test_size=0.25, random_state=0))",
                "not at random",
            ),
            WrongAnswer(
                "open_label_windows",
                "def split_in_time(data, test_snapshot, window_days=14):\n"
                "    return data[data.snapshot < test_snapshot], "
                "data[data.snapshot == test_snapshot]",
                "label windows are still open",
            ),
            WrongAnswer(
                "only_the_previous_snapshot",
                "def split_in_time(data, test_snapshot, window_days=14):\n"
                "    prev = test_snapshot - pd.Timedelta(days=window_days)\n"
                "    return data[data.snapshot == prev], data[data.snapshot == test_snapshot]",
                "drop training snapshots",
            ),
        ),
    ),
    Exercise(
        id="q6_churn_model",
        notebook=NOTEBOOK,
        title="A leak-free churn model",
        points=3,
        reads=("churn_model",),
        probe=_probe_model,
        judge=_judge_model,
        hints=(
            "Train on `train[FEATURES]` and `train.churned` only (no player attributes from the "
            "export, no ids).",
            "A pipeline that encodes platform and difficulty and ends in "
            "HistGradientBoostingClassifier(random_state=0) does well; make_column_transformer "
            "with OrdinalEncoder for the two categorical columns is enough.",
        ),
        wrong_answers=(
            WrongAnswer(
                "with_a_leak",
                "churn_model = make_pipeline(\n"
                "    make_column_transformer((OneHotEncoder(handle_unknown='ignore'),\n"
                "                             ['platform', 'difficulty', 'account_status']),\n"
                "                            remainder=StandardScaler()),\n"
                "    LogisticRegression(max_iter=1000))\n"
                "leaky_train = train.merge(players[['player_id', 'account_status']], "
                "on='player_id')\n"
                "churn_model.fit(leaky_train[[*FEATURES, 'account_status']], "
                "leaky_train.churned)",
                "not point-in-time features",
            ),
            WrongAnswer(
                "constant",
                "from sklearn.dummy import DummyClassifier\n"
                "churn_model = DummyClassifier().fit(train[FEATURES], train.churned)",
                "below the reference model",
            ),
            WrongAnswer(
                "not_fitted",
                "churn_model = make_pipeline(make_column_transformer(\n"
                "    (OrdinalEncoder(), ['platform', 'difficulty']), remainder='passthrough'),\n"
                "    HistGradientBoostingClassifier(random_state=0))",
                "not fitted",
            ),
        ),
    ),
    Exercise(
        id="q7_leaky_columns",
        notebook=NOTEBOOK,
        title="Find the planted leaks",
        points=2,
        reads=("leaky_columns",),
        probe=_probe_leaks,
        judge=_judge_leaks,
        hints=(
            "Use the table you just computed: which candidate columns push the test AUC above "
            "the Bayes limit?",
            "A column measured when the table was exported (after the snapshot) describes the "
            "label window itself.",
        ),
        wrong_answers=(
            WrongAnswer(
                "adds_country",
                "leaky_columns = ['last_seen_at', 'account_status', 'lifetime_spend', 'country']",
                "known at prediction time",
            ),
            WrongAnswer(
                "misses_one",
                "leaky_columns = ['last_seen_at', 'account_status']",
                "misses 1 leaky column",
            ),
            WrongAnswer("not_a_list", "leaky_columns = 'last_seen_at'", "list of column names"),
        ),
    ),
    Exercise(
        id="q8_offer_threshold",
        notebook=NOTEBOOK,
        title="A threshold from the costs",
        points=2,
        reads=("offer_threshold",),
        probe=_probe_threshold,
        judge=_judge_threshold,
        hints=(
            "An offer to a player with churn probability p gains p x success_rate x saved_value "
            "on average and costs offer_cost for sure.",
            "Offer when the expected gain exceeds the cost; solve for p.",
        ),
        wrong_answers=(
            WrongAnswer(
                "default_half",
                "def offer_threshold(offer_cost, saved_value, success_rate):\n    return 0.5",
                "ignores the costs",
            ),
            WrongAnswer(
                "no_success_rate",
                "def offer_threshold(offer_cost, saved_value, success_rate):\n"
                "    return offer_cost / saved_value",
                "success rate",
            ),
            WrongAnswer(
                "upside_down",
                "def offer_threshold(offer_cost, saved_value, success_rate):\n"
                "    return success_rate * saved_value / offer_cost",
                "upside down",
            ),
        ),
    ),
    Exercise(
        id="q9_drift",
        notebook=NOTEBOOK,
        title="After the patch",
        points=1,
        reads=("drift_choice",),
        probe=value_probe("drift_choice", str.upper),
        judge=choice_judge(
            {
                "A": "Not quite: compare the two models on the latest snapshot; a model that is "
                "never re-checked drifts silently, in its ranking and in its probabilities.",
                "C": "Not quite: a date feature takes values in the future that the model never "
                "saw in training, so trees extrapolate it as a constant.",
                "D": "Not quite: the threshold comes from costs; it is only right if the "
                "probabilities are calibrated, which is what drifted.",
            }
        ),
        hints=(
            "Compare the two rows of the drift table: AUC, and mean predicted vs observed churn.",
        ),
        wrong_answers=(
            WrongAnswer("keep_the_model", 'drift_choice = "A"', "drifts silently"),
            WrongAnswer("date_feature", 'drift_choice = "C"', "extrapolate"),
        ),
        kind="choice",
        choices={
            "A": "Nothing: the AUC barely moved, so the model is fine.",
            "B": "Retrain on snapshots after the patch (once their labels are known) and keep "
            "monitoring calibration and AUC on each new snapshot.",
            "C": "Add the snapshot date as a feature so the model knows about the patch.",
            "D": "Lower the decision threshold to make up for the drift.",
        },
    ),
)

check, hint, solution = make_api(NOTEBOOK, EXERCISES)
