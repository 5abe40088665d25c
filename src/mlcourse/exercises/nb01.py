"""Exercises of ``01_categorical_encoding`` ("who will pay?").

In the notebook: ``from mlcourse.exercises.nb01 import check, hint, solution``.

The fitted-model exercises are probed on the payer task rebuilt here from the data in use
(:func:`payer_task`, the same time split as the notebook), so the grader can judge them on a
data variant: predictions on the later cohorts (with their unseen device models and
campaigns), on fresh rows with made-up levels and missing values, and a refit of the learner's
own pipeline on the training rows to catch models that saw the test rows.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import make_api
from ._helpers import choice_judge, value_probe
from .spec import AnswerError, Exercise, Outcome, Plain, ProbeContext, WrongAnswer, to_plain

NOTEBOOK = "01_categorical_encoding"

#: the categorical attributes the notebook models (same names and order as in the notebook)
ATTRIBUTES = (
    "country",
    "platform",
    "device_model",
    "acquisition_channel",
    "campaign_id",
    "age_band",
    "difficulty",
    "starter_hero",
    "language",
    "push_opt_in",
)
TEST_SHARE = 0.3
KIND_CHOICES = ("nominal", "ordinal", "binary", "high_cardinality", "id_like")


# --------------------------------------------------------------------------- the payer task


@dataclass(frozen=True)
class PayerTask:
    """The notebook's split: earlier install cohorts train, the latest 30 % test."""

    X_train: pd.DataFrame
    X_test: pd.DataFrame
    y_train: pd.Series
    y_test: pd.Series
    p_test: np.ndarray  # true payer probabilities of the test rows


@lru_cache(maxsize=4)
def _payer_task(directory: str | None, stamp: tuple) -> PayerTask:
    from mlcourse.datasets import load_payer_truth, load_players
    from mlcourse.encoding import time_split

    players = load_players(directory, verify=False)
    truth = load_payer_truth(directory, verify=False)
    df = players.merge(truth, on="player_id", validate="one_to_one")
    X_train, X_test, y_train, y_test = time_split(
        df[[*ATTRIBUTES, "install_date"]],
        df["is_payer"].astype(int),
        "install_date",
        test_share=TEST_SHARE,
    )
    p_test = df.loc[X_test.index, "p_payer"].to_numpy(dtype=float)
    return PayerTask(X_train[list(ATTRIBUTES)], X_test[list(ATTRIBUTES)], y_train, y_test, p_test)


def payer_task(data_dir: str | Path | None = None) -> PayerTask:
    """Load the players and payer truth from ``data_dir`` and split them like the notebook.

    Cached per folder and file modification time; the frames are shared, so copy before
    changing them.
    """
    from mlcourse.datasets import data_dir as default_dir

    directory = Path(data_dir) if data_dir is not None else default_dir()
    stamp = tuple(
        (p.name, p.stat().st_mtime_ns, p.stat().st_size)
        for p in sorted(directory.glob("*.csv.gz"))
        if p.name in {"players.csv.gz", "payer_truth.csv.gz"}
    )
    return _payer_task(str(directory), stamp)


# --------------------------------------------------------------------------- small helpers


def _auc(y: pd.Series, p: np.ndarray) -> float:
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(y.to_numpy(), p))


def _proba(model: Any, X: pd.DataFrame, name: str) -> np.ndarray:
    """Positive-class probabilities from a learner's classifier, as a checked float array."""
    p = np.asarray(model.predict_proba(X), dtype=float)
    if p.ndim != 2 or p.shape != (len(X), 2):
        raise AnswerError(
            f"`{name}.predict_proba` should return one row of two probabilities per player; "
            f"it returned shape {p.shape}. Is the last step a classifier fitted on y_train?"
        )
    return p[:, 1]


def _require_fitted_model(ns: Mapping[str, Any], name: str) -> Any:
    from sklearn.exceptions import NotFittedError
    from sklearn.utils.validation import check_is_fitted

    model = ns[name]
    if isinstance(model, type) or not (hasattr(model, "fit") and hasattr(model, "predict_proba")):
        raise AnswerError(
            f"`{name}` should be a fitted scikit-learn Pipeline that ends in a classifier "
            f"(yours is a {type(model).__name__}). Build it with make_pipeline(...), then "
            f"call {name}.fit(X_train, y_train)."
        )
    try:
        check_is_fitted(model)
    except NotFittedError:
        raise AnswerError(
            f"`{name}` is not fitted yet: call `{name}.fit(X_train, y_train)` in the cell."
        ) from None
    except TypeError:
        pass  # not a scikit-learn estimator; predict_proba below will tell
    return model


def _fresh_rows(X: pd.DataFrame, rng: np.random.Generator, n: int = 300) -> pd.DataFrame:
    """Test rows with made-up device models and campaigns and some missing age bands."""
    rows = X.iloc[rng.choice(len(X), size=min(n, len(X)), replace=False)].copy()
    for col in ("device_model", "campaign_id"):
        new = f"never-seen-{col}-{int(rng.integers(1000, 9999))}"
        rows[col] = rows[col].cat.add_categories([new])
        rows.loc[rng.random(len(rows)) < 0.3, col] = new
    rows.loc[rng.random(len(rows)) < 0.2, "age_band"] = np.nan
    return rows


def _unknown_category_error(exc: Exception) -> bool:
    text = str(exc).lower()
    return "unknown categor" in text or "unknown categories" in text


def _pipeline_probe(name: str, *, native: bool = False):
    """Probe a fitted payer model: AUCs, unseen-level behaviour, refit on X_train only."""
    from sklearn.base import clone

    def probe(ns: Mapping[str, Any], ctx: ProbeContext) -> Plain:
        model = _require_fitted_model(ns, name)
        task = payer_task(ctx.data_dir)
        # copies everywhere: a learner's transformer must not alter the cached frames
        X_train, X_test = task.X_train.copy(), task.X_test.copy()
        try:
            p_test = _proba(model, X_test, name)
            p_fresh = _proba(model, _fresh_rows(X_test, ctx.rng(f"{name}:fresh")), name)
        except ValueError as exc:
            if _unknown_category_error(exc):
                return {"unseen_error": True}
            raise
        p_train = _proba(model, X_train, name)
        try:
            refit = clone(model).fit(X_train.copy(), task.y_train.copy())
        except Exception as exc:
            raise AnswerError(
                f"`{name}` cannot be refitted on X_train, y_train ({type(exc).__name__}: "
                f"{exc}); build it from scikit-learn parts with make_pipeline."
            ) from None
        out: dict[str, Plain] = {
            "unseen_error": False,
            "fresh_ok": bool(
                np.isfinite(p_fresh).all() and (0 <= p_fresh).all() and (p_fresh <= 1).all()
            ),
            "test_auc": _auc(task.y_test, p_test),
            "train_auc": _auc(task.y_train, p_train),
            "refit_test_auc": _auc(task.y_test, _proba(refit, task.X_test.copy(), name)),
            "bayes_test_auc": _bayes(task.p_test),
            "n_test_payers": int(task.y_test.sum()),
            "n_features": None,
        }
        steps = getattr(model, "steps", None)
        if isinstance(steps, list) and len(steps) > 1:
            Xt = model[:-1].transform(task.X_test.head(20).copy())
            out["n_features"] = int(Xt.shape[1])
        if native:
            final = steps[-1][1] if isinstance(steps, list) and steps else model
            from sklearn.ensemble import HistGradientBoostingClassifier

            if type(final) is not HistGradientBoostingClassifier:
                raise AnswerError(
                    f"`{name}` should end in a HistGradientBoostingClassifier "
                    f"(yours ends in a {type(final).__name__})."
                )
            is_cat = getattr(final, "is_categorical_", None)
            out["uses_native"] = bool(is_cat is not None and np.asarray(is_cat).any())
        return out

    probe.__name__ = f"pipeline_probe_{name}"
    return probe


def _bayes(p: np.ndarray) -> float:
    from mlcourse.telemetry import bayes_auc

    return float(bayes_auc(p))


def _judge_pipeline(name: str, *, onehot: bool = False, native: bool = False):
    def judge(student: Plain, expected: Plain) -> Outcome:
        if not isinstance(student, dict) or not isinstance(expected, dict):
            return Outcome.incorrect(f"`{name}` could not be probed; run its cell again.")
        if student.get("unseen_error"):
            return Outcome.incorrect(
                f"`{name}` raises an error on levels it never saw in training (device models "
                "and campaigns that appear only in later cohorts). Tell the encoder what to do "
                "with them: OneHotEncoder(handle_unknown='infrequent_if_exist') or 'ignore'; "
                "OrdinalEncoder(handle_unknown='use_encoded_value', unknown_value=-1)."
            )
        test, refit = student["test_auc"], student["refit_test_auc"]
        bayes, n_pos = student["bayes_test_auc"], student.get("n_test_payers")
        assert isinstance(test, float) and isinstance(refit, float) and isinstance(bayes, float)
        # sampling noise of a test AUC (about sqrt(A(1-A)/n_payers)); a small data variant has
        # few payers, so every tolerance below grows with it
        se = math.sqrt(test * (1 - test) / n_pos) if isinstance(n_pos, int) and n_pos > 0 else 0.0
        if not student.get("fresh_ok"):
            return Outcome.incorrect(
                f"On rows with unseen levels or missing values `{name}` does not return "
                "probabilities between 0 and 1. Check how your encoders handle missing values."
            )
        if test > bayes + max(0.005, se) or test > refit + max(0.02, se / 2):
            return Outcome.incorrect(
                f"`{name}` scores a test AUC of {test:.3f}, but the same pipeline fitted on "
                f"X_train, y_train only scores {refit:.3f} (Bayes limit {bayes:.3f}): it has "
                "seen the test rows' labels. Fit it on the training split only: "
                f"{name}.fit(X_train, y_train)."
            )
        if onehot:
            n, n_ref = student.get("n_features"), expected.get("n_features")
            if isinstance(n, int) and isinstance(n_ref, int) and n > 3 * n_ref:
                return Outcome.incorrect(
                    f"Your encoder turns each player into {n} columns, most of them for device "
                    "models and campaigns seen only a handful of times: the model memorises "
                    f"them (train AUC {student['train_auc']:.3f}, test {test:.3f}). Group rare "
                    "levels with OneHotEncoder(min_frequency=...) or max_categories."
                )
        if native and not student.get("uses_native"):
            return Outcome.incorrect(
                "Your gradient boosting treats every column as a number: none is declared "
                "categorical. Give it pandas categorical columns and "
                "categorical_features='from_dtype' (or a boolean mask of categorical columns)."
            )
        exp_test = expected.get("test_auc")
        if isinstance(exp_test, float) and test < exp_test - max(0.03, se):
            return Outcome.incorrect(
                f"`{name}` works, but its test AUC ({test:.3f}) is well below what this kind of "
                "model reaches on the split. Did you leave out informative columns, or encode "
                "nominal columns as arbitrary numbers?",
                score=0.5,
            )
        return Outcome.correct(f"Correct! Test AUC {test:.3f} (Bayes limit {bayes:.3f}).")

    return judge


# --------------------------------------------------------------------------- q1: kinds


def _probe_kinds(ns: Mapping[str, Any], ctx: ProbeContext) -> Plain:
    value = to_plain(ns["column_kinds"])
    if not isinstance(value, dict):
        raise AnswerError(
            "`column_kinds` should be a dict mapping column name to kind, e.g. "
            '{"country": "nominal", ...}.'
        )
    for col, kind in value.items():
        if kind not in KIND_CHOICES:
            raise AnswerError(
                f"`column_kinds[{col!r}]` is {kind!r}, which is not one of the kinds "
                f"{', '.join(KIND_CHOICES)}."
            )
    return value


def _judge_kinds(student: Plain, expected: Plain) -> Outcome:
    assert isinstance(student, dict) and isinstance(expected, dict)
    missing = [c for c in expected if c not in student]
    extra = [c for c in student if c not in expected]
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"missing keys {missing}")
        if extra:
            parts.append(f"unexpected keys {extra} (classify only the ten attributes)")
        return Outcome.incorrect(f"`column_kinds` has {' and '.join(parts)}.")
    wrong = [c for c in expected if student[c] != expected[c]]
    if not wrong:
        return Outcome.correct()
    return Outcome.incorrect(
        f"{len(wrong)} of {len(expected)} kinds are not right; look again at "
        f"{', '.join(wrong)}. The report's n_levels and rows_per_level, and the dtype "
        "(ordered or not), are the evidence.",
        score=round(1 - len(wrong) / len(expected), 3),
    )


_KINDS_SOLUTION = (
    'column_kinds = {"country": "nominal", "platform": "nominal", '
    '"device_model": "high_cardinality", "acquisition_channel": "nominal", '
    '"campaign_id": "id_like", "age_band": "ordinal", "difficulty": "ordinal", '
    '"starter_hero": "nominal", "language": "nominal", "push_opt_in": "binary"}'
)

Q1 = Exercise(
    id="q1_column_kinds",
    notebook=NOTEBOOK,
    title="What kind of column is each attribute?",
    points=2,
    reads=("column_kinds",),
    probe=_probe_kinds,
    judge=_judge_kinds,
    hints=(
        "Use the column report: two levels make a binary column; an ordered categorical dtype "
        "means the levels have a natural order; many levels is high-cardinality.",
        "Separate high_cardinality from id_like by rows_per_level: with fewer than about 20 "
        "rows per level (campaigns, ids) a model cannot learn a level from its own rows.",
        "Only age_band and difficulty are ordinal; push_opt_in is binary; device_model is "
        "high_cardinality and campaign_id id_like; the rest are nominal.",
    ),
    wrong_answers=(
        WrongAnswer(
            "campaign_as_high_cardinality",
            _KINDS_SOLUTION.replace(
                '"campaign_id": "id_like"', '"campaign_id": "high_cardinality"'
            ),
            "campaign_id",
        ),
        WrongAnswer(
            "difficulty_nominal",
            _KINDS_SOLUTION.replace('"difficulty": "ordinal"', '"difficulty": "nominal"'),
            "look again at difficulty",
        ),
        WrongAnswer(
            "push_as_nominal",
            _KINDS_SOLUTION.replace('"push_opt_in": "binary"', '"push_opt_in": "nominal"'),
            "push_opt_in",
        ),
        WrongAnswer(
            "forgot_a_column",
            _KINDS_SOLUTION.replace('"language": "nominal", ', ""),
            "missing keys ['language']",
        ),
        WrongAnswer(
            "made_up_kind",
            _KINDS_SOLUTION.replace('"country": "nominal"', '"country": "categorical"'),
            "not one of the kinds",
        ),
    ),
)

# --------------------------------------------------------------------------- q2: ordinal


def _ordinal_rows(rng: np.random.Generator) -> pd.DataFrame:
    from mlcourse.telemetry import AGE_BANDS, DIFFICULTIES

    n = 40
    ages = [*AGE_BANDS, *rng.choice(np.array([*AGE_BANDS, None], dtype=object), n)]
    diffs = [
        *rng.choice(np.array(DIFFICULTIES, dtype=object), len(AGE_BANDS)),
        *rng.choice(np.array(DIFFICULTIES, dtype=object), n),
    ]
    diffs[: len(DIFFICULTIES)] = list(DIFFICULTIES)
    ages[-1] = None
    return pd.DataFrame(
        {
            "age_band": pd.Categorical(ages, categories=list(AGE_BANDS), ordered=True),
            "difficulty": pd.Categorical(diffs, categories=list(DIFFICULTIES), ordered=True),
        }
    )


def _probe_ordinal(ns: Mapping[str, Any], ctx: ProbeContext) -> Plain:
    from sklearn.exceptions import NotFittedError

    enc = ns["ordinal_encoder"]
    if isinstance(enc, type) or not hasattr(enc, "transform"):
        raise AnswerError(
            "`ordinal_encoder` should be a fitted OrdinalEncoder (an instance, fitted on "
            'X_train[["age_band", "difficulty"]]).'
        )
    rows = _ordinal_rows(ctx.rng("q2_ordinal_encoder"))
    try:
        codes = np.asarray(enc.transform(rows), dtype=float)
    except NotFittedError:
        raise AnswerError(
            '`ordinal_encoder` is not fitted yet: call .fit(X_train[["age_band", "difficulty"]]).'
        ) from None
    if codes.shape != (len(rows), 2):
        raise AnswerError(
            "`ordinal_encoder` should encode exactly the two columns age_band and difficulty, "
            f"in that order, into two columns; it returned shape {codes.shape}."
        )
    out: dict[str, Plain] = {}
    for j, col in enumerate(rows.columns):
        levels = [None if pd.isna(v) else str(v) for v in rows[col].astype(object)]
        out[col] = {"levels": levels, "codes": to_plain(codes[:, j])}
    return out


def _judge_ordinal(student: Plain, expected: Plain) -> Outcome:
    assert isinstance(student, dict) and isinstance(expected, dict)
    for col in ("difficulty", "age_band"):
        s, e = student[col], expected[col]
        assert isinstance(s, dict) and isinstance(e, dict)
        levels, s_codes, e_codes = s["levels"], s["codes"], e["codes"]
        assert isinstance(levels, list) and isinstance(s_codes, list) and isinstance(e_codes, list)
        mapping: dict[str, Plain] = {}
        ref: dict[str, Plain] = {}
        for lev, sc, ec in zip(levels, s_codes, e_codes, strict=True):
            if lev is None:
                continue
            if mapping.setdefault(lev, sc) != sc:
                return Outcome.incorrect(f"The same {col} level gets different codes.")
            ref[lev] = ec
        if any(not isinstance(v, int | float) for v in mapping.values()):
            return Outcome.incorrect(
                f"Some {col} levels come out as NaN: every level should get a number."
            )
        true_order = sorted(ref, key=lambda lev: ref[lev])  # type: ignore[arg-type, return-value]
        codes = [mapping[lev] for lev in true_order]
        increasing = all(a < b for a, b in pairwise(codes))  # type: ignore[operator]
        if not increasing:
            alpha = sorted(true_order)
            alpha_codes = [mapping[lev] for lev in alpha]
            if alpha != true_order and all(
                a < b  # type: ignore[operator]
                for a, b in pairwise(alpha_codes)
            ):
                return Outcome.incorrect(
                    f"The {col} codes follow alphabetical order ({', '.join(alpha)}), not the "
                    "natural order of the levels. Pass the order explicitly: "
                    "OrdinalEncoder(categories=[[...], [...]])."
                )
            if all(a > b for a, b in pairwise(codes)):  # type: ignore[operator]
                return Outcome.incorrect(
                    f"The {col} codes run in reverse: the first level of the natural order "
                    "should get the smallest code."
                )
            return Outcome.incorrect(f"The {col} codes are not in the natural order of its levels.")
        missing = [sc for lev, sc in zip(levels, s_codes, strict=True) if lev is None]
        if any(not isinstance(v, int | float) for v in missing):
            return Outcome.incorrect(
                f"Missing {col} values come out as NaN, which LogisticRegression cannot use. "
                "Give them a code of their own with encoded_missing_value=-1 (and np.nan at the "
                "end of that column's categories list)."
            )
        if any(v in mapping.values() for v in missing):
            return Outcome.incorrect(
                f"Missing {col} values get the same code as a real level; give them their own "
                "code with encoded_missing_value=-1."
            )
    return Outcome.correct()


_ORD_SOLUTION = (
    "ordinal_encoder = OrdinalEncoder(categories=[[*age_order, np.nan], [{diff}, np.nan]]{extra})\n"
    'ordinal_encoder.fit(X_train[["age_band", "difficulty"]])'
)

Q2 = Exercise(
    id="q2_ordinal_encoder",
    notebook=NOTEBOOK,
    title="Ordinal codes in the right order",
    points=2,
    reads=("ordinal_encoder",),
    probe=_probe_ordinal,
    judge=_judge_ordinal,
    hints=(
        "OrdinalEncoder sorts levels alphabetically unless you pass categories=[[...], [...]], "
        "one list per column, in the order of the columns.",
        "age_band has missing values: put np.nan at the end of its list and choose a code for "
        "it with encoded_missing_value=-1.",
        'OrdinalEncoder(categories=[[*age_order, np.nan], ["easy", "normal", "hard", np.nan]], '
        'encoded_missing_value=-1).fit(X_train[["age_band", "difficulty"]])',
    ),
    wrong_answers=(
        WrongAnswer(
            "alphabetical",
            "ordinal_encoder = OrdinalEncoder(encoded_missing_value=-1)\n"
            'ordinal_encoder.fit(X_train[["age_band", "difficulty"]])',
            "alphabetical order",
        ),
        WrongAnswer(
            "reversed_difficulty",
            _ORD_SOLUTION.format(
                diff='"hard", "normal", "easy"', extra=", encoded_missing_value=-1"
            ),
            "reverse",
        ),
        WrongAnswer(
            "missing_left_as_nan",
            _ORD_SOLUTION.format(diff='"easy", "normal", "hard"', extra=""),
            "come out as NaN",
        ),
        WrongAnswer(
            "not_fitted",
            "ordinal_encoder = OrdinalEncoder(categories=[[*age_order, np.nan], "
            '["easy", "normal", "hard", np.nan]], encoded_missing_value=-1)',
            "not fitted",
        ),
    ),
)

# --------------------------------------------------------------------------- q3: one-hot

_ONEHOT_TEMPLATE = (
    "onehot_model = make_pipeline(\n"
    "    make_column_transformer(\n"
    "        (OneHotEncoder({args}), NOMINAL + ORDINAL + HIGH_CARDINALITY),\n"
    "    ),\n"
    "    LogisticRegression(max_iter=1000),\n"
    ")\n"
    "onehot_model.fit({fit})"
)

Q3 = Exercise(
    id="q3_onehot_model",
    notebook=NOTEBOOK,
    title="A one-hot pipeline that survives new device models",
    points=3,
    reads=("onehot_model",),
    probe=_pipeline_probe("onehot_model"),
    judge=_judge_pipeline("onehot_model", onehot=True),
    hints=(
        "make_pipeline(make_column_transformer((OneHotEncoder(...), columns)), "
        "LogisticRegression(max_iter=1000)), then .fit(X_train, y_train).",
        "Two settings of OneHotEncoder matter here: handle_unknown (later cohorts bring device "
        "models and campaigns the training rows never had) and min_frequency (most campaigns "
        "have only a few rows).",
        "OneHotEncoder(handle_unknown='infrequent_if_exist', min_frequency=20) on "
        "NOMINAL + ORDINAL + HIGH_CARDINALITY.",
    ),
    wrong_answers=(
        WrongAnswer(
            "handle_unknown_left_at_error",
            _ONEHOT_TEMPLATE.format(args="min_frequency=20", fit="X_train, y_train"),
            "never saw in training",
        ),
        WrongAnswer(
            "campaign_without_min_frequency",
            _ONEHOT_TEMPLATE.format(args='handle_unknown="ignore"', fit="X_train, y_train"),
            "min_frequency",
        ),
        WrongAnswer(
            "forgot_to_fit",
            _ONEHOT_TEMPLATE.format(
                args='handle_unknown="infrequent_if_exist", min_frequency=20',
                fit="X_train, y_train",
            ).rsplit("\n", 1)[0],
            "not fitted yet",
        ),
        WrongAnswer(
            "fitted_on_all_rows",
            _ONEHOT_TEMPLATE.format(
                args='handle_unknown="ignore"',
                fit="pd.concat([X_train, X_test]), pd.concat([y_train, y_test])",
            ),
            "training split only",
        ),
    ),
)

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


def _probe_shrunk(ns: Mapping[str, Any], ctx: ProbeContext) -> Plain:
    fn = ns["shrunk_mean"]
    if not callable(fn):
        raise AnswerError("`shrunk_mean` should be a function shrunk_mean(levels, y, m).")
    rng = ctx.rng("q4_shrunk_mean")
    cases: dict[str, Plain] = {}
    for i in range(3):
        k = int(rng.integers(3, 7))
        names = np.array([f"L{j}" for j in range(k)], dtype=object)
        n = int(rng.integers(40, 120))
        levels = pd.Series(rng.choice(names, size=n, p=rng.dirichlet(np.full(k, 0.8))))
        y = pd.Series((rng.random(n) < rng.uniform(0.1, 0.5)).astype(int))
        m = float(rng.choice([2.0, 5.0, 10.0]))
        values = _as_level_dict(fn(levels.copy(), y.copy(), m))
        grouped = y.groupby(levels)
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
        got = student[key]
        assert isinstance(got, dict) and isinstance(exp, dict)
        values, want = got["values"], exp["values"]
        assert isinstance(values, dict) and isinstance(want, dict)
        if set(values) != set(want):
            return Outcome.incorrect(
                "Return one value per level that occurs in `levels` (indexed by the level), "
                f"no more, no less: expected {len(want)} levels, got {len(values)}."
            )

        def close(a: dict, b: dict) -> bool:
            return all(math.isclose(a[k], b[k], rel_tol=1e-9, abs_tol=1e-12) for k in b)

        if close(values, want):
            continue
        if close(values, got["plain"]):  # type: ignore[arg-type]
            return Outcome.incorrect(
                "These are the plain per-level means: nothing is shrunk toward the global "
                "mean, so a level seen twice can get 0 or 1. Blend with weight n / (n + m)."
            )
        m, g, counts = got["m"], got["global"], got["counts"]
        assert isinstance(counts, dict)
        swapped = {
            lev: (m * got["plain"][lev] + counts[lev] * g) / (counts[lev] + m)  # type: ignore
            for lev in counts
        }
        if close(values, swapped):
            return Outcome.incorrect(
                "The weights are swapped: the level's own mean should get weight n / (n + m) "
                "(more rows, more trust) and the global mean m / (n + m)."
            )
        return Outcome.incorrect(
            "Not the shrunk mean. For each level: (n * level_mean + m * global_mean) / (n + m), "
            "with n the level's number of rows and global_mean the mean of all of y."
        )
    return Outcome.correct("Correct! Rare levels are pulled toward the global mean.")


Q4 = Exercise(
    id="q4_shrunk_mean",
    notebook=NOTEBOOK,
    title="Target encoding is a shrunk mean",
    points=2,
    reads=("shrunk_mean",),
    probe=_probe_shrunk,
    judge=_judge_shrunk,
    hints=(
        "y.groupby(levels) gives you each level's count (.size()) and mean (.mean()); "
        "y.mean() is the global mean.",
        "lambda = n / (n + m); encoding = lambda * level_mean + (1 - lambda) * global_mean.",
    ),
    wrong_answers=(
        # the code replaces the body of shrunk_mean (the solution region inside the def)
        WrongAnswer("plain_mean", "return y.groupby(levels).mean()", "plain per-level means"),
        WrongAnswer(
            "weights_swapped",
            "g = y.groupby(levels)\nn = g.size()\nreturn (m * g.mean() + n * y.mean()) / (n + m)",
            "weights are swapped",
        ),
        WrongAnswer(
            "mean_of_level_means",
            "g = y.groupby(levels)\nn = g.size()\n"
            "return (n * g.mean() + m * g.mean().mean()) / (n + m)",
            "not the shrunk mean",
        ),
        WrongAnswer(
            "returns_numpy",
            "g = y.groupby(levels)\nn = g.size()\n"
            "return ((n * g.mean() + m * y.mean()) / (n + m)).to_numpy()",
            "should return a pandas Series",
        ),
        WrongAnswer(
            "forgot_return",
            "g = y.groupby(levels)\nn = g.size()\n"
            "encoded = (n * g.mean() + m * y.mean()) / (n + m)",
            "forget the `return`",
        ),
    ),
)

# --------------------------------------------------------------------------- q5: TE pipeline

_TE_SOLUTION = (
    "te_model = make_pipeline(\n"
    "    make_column_transformer(\n"
    "        (OneHotEncoder(handle_unknown='ignore'), NOMINAL + ORDINAL),\n"
    "        ({te}, HIGH_CARDINALITY),\n"
    "    ),\n"
    "    LogisticRegression(max_iter=1000),\n"
    ")\n"
    "te_model.fit({fit})"
)

Q5 = Exercise(
    id="q5_te_model",
    notebook=NOTEBOOK,
    title="A leak-free target-encoding pipeline",
    points=2,
    reads=("te_model",),
    probe=_pipeline_probe("te_model"),
    judge=_judge_pipeline("te_model"),
    hints=(
        "Put the TargetEncoder inside the pipeline: Pipeline.fit calls its fit_transform, "
        "which cross-fits, and predict uses the encodings learned on the training rows only.",
        "make_column_transformer((OneHotEncoder(handle_unknown='ignore'), NOMINAL + ORDINAL), "
        "(TargetEncoder(cv=cv), HIGH_CARDINALITY)), then LogisticRegression(max_iter=1000); "
        "fit on X_train, y_train.",
    ),
    wrong_answers=(
        WrongAnswer(
            "fitted_on_all_rows",
            _TE_SOLUTION.format(
                te="TargetEncoder(cv=cv)",
                fit="pd.concat([X_train, X_test]), pd.concat([y_train, y_test])",
            ),
            "seen the test rows",
        ),
        WrongAnswer(
            "onehot_everything_at_error",
            "te_model = make_pipeline(\n"
            "    make_column_transformer(\n"
            "        (OneHotEncoder(), NOMINAL + ORDINAL + HIGH_CARDINALITY),\n"
            "    ),\n"
            "    LogisticRegression(max_iter=1000),\n"
            ")\n"
            "te_model.fit(X_train, y_train)",
            "never saw in training",
        ),
    ),
)

# --------------------------------------------------------------------------- q6: the leak

Q6 = Exercise(
    id="q6_leak_meaning",
    notebook=NOTEBOOK,
    title="What does a test AUC above the Bayes limit mean?",
    points=1,
    reads=("answer_leak",),
    probe=value_probe("answer_leak", lambda v: v.strip().upper()),
    judge=choice_judge(
        {
            "A": "No model can beat the Bayes limit on fresh data: the true probabilities are "
            "the best possible ranking. Something else happened.",
            "C": "Luck moves a test AUC by about a standard error, not this far above the "
            "limit; and the same model on untouched test rows scores below it.",
            "D": "The cross-fitted target encoder inside a pipeline stays below the limit; "
            "what differs here is when the encoder was fitted.",
        }
    ),
    kind="choice",
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
    ),
    wrong_answers=(
        WrongAnswer("better_than_truth", 'answer_leak = "A"', "No model can beat"),
        WrongAnswer("luck", 'answer_leak = "C"', "Luck moves"),
        WrongAnswer("not_a_letter", "answer_leak = 2", "one letter in quotes"),
    ),
)

# --------------------------------------------------------------------------- q7: native HGB

_NATIVE_SOLUTION = (
    "native_model = make_pipeline(\n"
    "    make_column_transformer(\n"
    "        (TargetEncoder(cv=cv), HIGH_CARDINALITY),\n"
    "        remainder='passthrough',\n"
    "        verbose_feature_names_out=False,\n"
    "    ).set_output(transform='pandas'),\n"
    "    HistGradientBoostingClassifier({hgb}),\n"
    ")\n"
    "native_model.fit({fit})"
)
_HGB_ARGS = "max_leaf_nodes=8, min_samples_leaf=50, random_state=0"

Q7 = Exercise(
    id="q7_native_model",
    notebook=NOTEBOOK,
    title="Gradient boosting with native categories",
    points=2,
    reads=("native_model",),
    probe=_pipeline_probe("native_model", native=True),
    judge=_judge_pipeline("native_model", native=True),
    hints=(
        "HistGradientBoostingClassifier(categorical_features='from_dtype') treats pandas "
        "categorical columns as categories, but only up to 255 levels per column.",
        "Target-encode the two high-cardinality columns and pass the others through as pandas "
        "columns: make_column_transformer((TargetEncoder(cv=cv), HIGH_CARDINALITY), "
        "remainder='passthrough', verbose_feature_names_out=False).set_output(transform='pandas').",
    ),
    wrong_answers=(
        WrongAnswer(
            "codes_as_numbers",
            "native_model = make_pipeline(\n"
            "    make_column_transformer(\n"
            "        (OrdinalEncoder(handle_unknown='use_encoded_value', unknown_value=-1), "
            "NOMINAL + ORDINAL + HIGH_CARDINALITY),\n"
            "    ),\n"
            f"    HistGradientBoostingClassifier({_HGB_ARGS}),\n"
            ")\n"
            "native_model.fit(X_train, y_train)",
            "treats every column as a number",
        ),
        WrongAnswer(
            "fitted_on_all_rows",
            _NATIVE_SOLUTION.format(
                hgb=_HGB_ARGS, fit="pd.concat([X_train, X_test]), pd.concat([y_train, y_test])"
            ),
            "seen the test rows",
        ),
    ),
)

# --------------------------------------------------------------------------- q8: comparison

Q8 = Exercise(
    id="q8_comparison",
    notebook=NOTEBOOK,
    title="Reading the encoder comparison",
    points=1,
    reads=("answer_comparison",),
    probe=value_probe("answer_comparison", lambda v: v.strip().upper()),
    judge=choice_judge(
        {
            "A": "Look at the spread: the target encoder's lead, where it has one, is about "
            "the size of the fold-to-fold differences, and the best encoder depends on the "
            "model.",
            "C": "Compare the two models on the same sensible encoder: the gaps are small "
            "next to the spread over folds.",
            "D": "Every cross-validated score sits below the dashed Bayes line; a model that "
            "reached it would have nothing left to learn, and none does.",
        }
    ),
    kind="choice",
    choices={
        "A": "Target encoding wins with both models, so it is the right choice for every "
        "column and every model.",
        "B": "Alphabetical codes cost the linear model a lot while gradient boosting copes "
        "with them; among the sensible encoders the differences are about the size of the "
        "fold-to-fold spread, and every score stays below the Bayes limit.",
        "C": "Gradient boosting beats logistic regression by a wide margin whatever the encoding.",
        "D": "The best pair reaches the Bayes limit, so nothing more can be learned from "
        "these attributes.",
    },
    hints=(
        "Compare each dot with its error bar (one standard deviation over the folds) and with "
        "the dashed Bayes line.",
    ),
    wrong_answers=(
        WrongAnswer("target_always_wins", 'answer_comparison = "A"', "Look at the spread"),
        WrongAnswer("at_the_limit", 'answer_comparison = " d "', "below the dashed Bayes line"),
        WrongAnswer("not_offered", 'answer_comparison = "E"', "not one of the offered letters"),
    ),
)

EXERCISES = (Q1, Q2, Q3, Q4, Q5, Q6, Q7, Q8)
check, hint, solution = make_api(NOTEBOOK, EXERCISES)
