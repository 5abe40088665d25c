"""Exercises of ``01_encoding_basics`` ("who will pay?", part I).

In the notebook: ``from mlcourse.exercises.nb01 import check, hint, solution``.

Every probe returns observations only: the learner's values, the outputs of the learner's
function or encoder on inputs made from ``ctx.rng``, or a fitted model serialised with skops
(:func:`~mlcourse.exercises._helpers.estimator_probe`). The model exercises (q3 here, q5 and
q7 of :mod:`mlcourse.exercises.nb02`, which imports this machinery) are judged in their
trusted ``assess`` step, never in the learner's process:

* **structure**, read from the loaded estimator: which encoder reaches the model for each of
  the listed columns, the final estimator, the native categorical columns, the parameters a
  task fixes;
* **behaviour**, from its predictions: on the held-out players (``actx.heldout_dir``, the same
  time split as the notebook; the learner never saw them), on fresh rows with unseen levels
  and missing values, and on the notebook's own train and test rows (``actx.data_dir``);
* **leaks**: a test AUC above the test rows' Bayes limit plus two noise standard deviations,
  encoder levels that occur only in the test rows, or (q5, where refitting is cheap) a test
  AUC well above the same pipeline refitted here on ``X_train`` only;
* **cross-fitting** (q5): a train AUC well above the refitted pipeline's means the model was
  trained on target encodings that ``Pipeline.fit`` did not cross-fit;
* **memorisation**, from the gap between the train AUC and the held-out players' AUC,
  compared with the reference's (no feedback shows a score on the notebook's test rows);
* **quality**: the AUC expected on the held-out players given their true probabilities (no
  label noise) against the reference's, within one label-noise standard deviation
  (partial credit below).

Why a forged observation cannot raise a score: the only observation is the serialised
estimator, loaded with library types only; every number comes from its predictions on rows
and labels that never enter the learner's process, so scoring well requires sending a model
that ranks unseen players well, with the structure the task asks for.

Noise standard deviations come from redrawing the labels from the true probabilities
(``actx.rng``). The catalogues of wrong and valid answers are test data in
``tests/catalogues/nb01.py``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache, partial
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mlcourse.datasets import PLAYER_ATTRIBUTES

from . import make_api
from ._helpers import (
    estimator_probe,
    exercise,
    key_problem,
    load_estimator,
)
from .spec import AnswerError, AssessContext, Exercise, Outcome, Plain, ProbeContext, to_plain

NOTEBOOK = "01_encoding_basics"

#: the categorical attributes the notebook models (same names and order as in the notebook)
ATTRIBUTES = PLAYER_ATTRIBUTES
#: the column groups the notebook defines after q1
NOMINAL = ("country", "platform", "acquisition_channel", "starter_hero", "language", "push_opt_in")
ORDINAL = ("age_band", "difficulty")
HIGH_CARDINALITY = ("device_model", "campaign_id")
#: a two-level column: numeric 0/1 and categorical are the same thing to a tree
BINARY = ("push_opt_in",)
TEST_SHARE = 0.3
#: days between the training rows and the cut in notebook 01: a label is "a purchase within
#: 7 days of install", so the last week's labels are not known at the cut
LABEL_DAYS = 7
KIND_CHOICES = ("nominal", "ordinal", "binary", "high_cardinality", "id_like")
#: q1: the columns whose kind is a judgement from the rows' side (high-cardinality or ID-like);
#: together they carry half of q1's points
JUDGED_KINDS = HIGH_CARDINALITY
#: label redraws behind every noise standard deviation
NOISE_REDRAWS = 200
#: this notebook's exercises: ``_exercise(id, title, reads, probe, judge, ...)`` (see
#: :mod:`._helpers`)
_exercise = partial(exercise, NOTEBOOK)


# --------------------------------------------------------------------------- the payer task


@dataclass(frozen=True)
class PayerTask:
    """The notebook's split: earlier install cohorts train, the latest 30 % test."""

    X_train: pd.DataFrame
    X_test: pd.DataFrame
    y_train: pd.Series
    y_test: pd.Series
    p_train: np.ndarray  # true payer probabilities of the training rows
    p_test: np.ndarray  # true payer probabilities of the test rows
    #: per column, the levels that occur in the test rows but in no training row
    test_only: Mapping[str, frozenset[str]]


@lru_cache(maxsize=4)
def _payer_task(directory: str | None, stamp: tuple, gap_days: int = 0) -> PayerTask:
    from mlcourse.datasets import load_payer_truth, load_players
    from mlcourse.encoding import split_by_time_column

    players = load_players(directory, verify=False)
    truth = load_payer_truth(directory, verify=False)
    df = players.merge(truth, on="player_id", validate="one_to_one")
    X_train, X_test, y_train, y_test = split_by_time_column(
        df[[*ATTRIBUTES, "install_date"]],
        df["is_payer"].astype(int),
        "install_date",
        test_share=TEST_SHARE,
        gap=pd.Timedelta(days=gap_days) if gap_days else None,
    )
    p_train = df.loc[X_train.index, "p_payer"].to_numpy(dtype=float)
    p_test = df.loc[X_test.index, "p_payer"].to_numpy(dtype=float)
    cols = list(ATTRIBUTES)
    test_only = {
        c: frozenset(X_test[c].dropna().astype(str)) - frozenset(X_train[c].dropna().astype(str))
        for c in cols
    }
    return PayerTask(X_train[cols], X_test[cols], y_train, y_test, p_train, p_test, test_only)


def payer_task(data_dir: str | Path | None = None, gap_days: int = 0) -> PayerTask:
    """Load the players and payer truth from ``data_dir`` and split them like the notebook.

    ``gap_days`` leaves out the training rows installed less than that many days before the
    cut (notebook 01 uses :data:`LABEL_DAYS`; notebook 02 none yet).

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
    return _payer_task(str(directory), stamp, gap_days)


# --------------------------------------------------------------------------- AUC and its noise


def _auc(y: np.ndarray, s: np.ndarray) -> float:
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(np.asarray(y), s))


def _expected_auc(p: np.ndarray, s: np.ndarray) -> float:
    """The AUC of scores ``s`` expected when the labels are drawn from ``p`` (no label noise).

    ``sum_ij p_i (1 - p_j) [1(s_i > s_j) + 1/2 1(s_i = s_j)] / (sum p * sum (1 - p))``, the
    same formula as :func:`mlcourse.telemetry.bayes_auc` with the ranking taken from ``s``;
    ``s = p`` gives the Bayes limit.
    """
    values, inverse = np.unique(np.asarray(s, dtype=float), return_inverse=True)
    pos = np.bincount(inverse, weights=p, minlength=len(values))
    neg = np.bincount(inverse, weights=1.0 - p, minlength=len(values))
    below = np.cumsum(neg) - neg
    return float(np.sum(pos * (below + 0.5 * neg)) / (pos.sum() * neg.sum()))


def _auc_noise_sd(p: np.ndarray, s: np.ndarray, rng: np.random.Generator) -> float:
    """Standard deviation of the AUC of ``s`` over labels redrawn from the true ``p``.

    The sampling noise of one measured AUC on these rows: differences smaller than a few of
    these are luck, not a better or worse model.
    """
    from scipy.stats import rankdata

    ranks = rankdata(s)
    aucs = []
    for _ in range(NOISE_REDRAWS // 20):
        y = rng.random((20, len(p))) < p
        n1 = y.sum(axis=1).astype(float)
        n0 = len(p) - n1
        ok = (n1 > 0) & (n0 > 0)
        sums = y.astype(float) @ ranks
        aucs.extend(((sums - n1 * (n1 + 1) / 2) / np.where(ok, n1 * n0, 1.0))[ok])
    return float(np.std(aucs))


def _expected_log_loss(p: np.ndarray, q: np.ndarray) -> float:
    """The log loss of the probabilities ``q`` averaged over labels drawn from ``p``."""
    q = np.clip(np.asarray(q, dtype=float), 1e-15, 1 - 1e-15)
    return float(-np.mean(p * np.log(q) + (1 - p) * np.log(1 - q)))


def _bayes(p: np.ndarray) -> float:
    from mlcourse.telemetry import bayes_auc

    return float(bayes_auc(p))


# --------------------------------------------------------------------------- model structure
#
# Read in the trusted process from the estimator that ``load_estimator`` rebuilt: which encoder
# each input column goes through before it reaches the final estimator.
#
# Structure comes from genuine objects only. skops restores every attribute a file declares,
# also on a genuine library object, so a ``steps`` or ``transformers_`` attribute means
# nothing on anything but a Pipeline or a ColumnTransformer (exact types: the loader refuses
# subclasses anyway). Fitted state (``feature_names_in_``, ``transformers_``,
# ``_transformer_to_input_indices``, ``is_categorical_``, ``categories_``) can be forged on a
# genuine object too. It is read only where it is the very state the object's predictions
# use, and cross-checked where two parts of that state must agree: the columns a
# ColumnTransformer lists for each transformer against the columns it routes to it
# (:func:`_transformer_columns`), a booster's input names against what the step before it
# outputs (:func:`_booster_inputs`), its categorical flags against its own preprocessor and
# the splits of its trees (:func:`_native_categorical`). Limits: an encoder's
# ``categories_`` (the test-only levels of :func:`_test_only_levels`) can be thinned after
# fitting, which changes what the encoder does to those levels (they become unknown) but
# hides that it saw them; the other leak checks (Bayes limit, refit) do not rely on it. A
# parameter that only fit reads (``categorical_features``, ``cv``) says nothing about how the
# fitted object was made; the settings of :data:`HGB_FIXED` are therefore also checked against
# the trees the booster grew (:func:`_grown_settings_problem`).

#: how deep Pipelines may nest before the model is refused (a file could nest them forever)
_MAX_NESTING = 20


def _flat_steps(est: Any, depth: int = 0) -> list[Any]:
    """The estimators of a (possibly nested) genuine Pipeline in order; ``[est]`` for
    anything else, whatever attributes it carries."""
    from sklearn.pipeline import Pipeline

    if type(est) is not Pipeline:
        return [est]
    if depth > _MAX_NESTING:
        raise AnswerError("the model nests Pipelines far deeper than this exercise needs")
    return [
        s
        for _, step in est.steps
        for s in _flat_steps(step, depth + 1)
        if s is not None and not (isinstance(s, str) and s == "passthrough")
    ]


def _is_encoder(est: Any) -> bool:
    """Whether ``est`` turns categories into numbers (or wraps something that does)."""
    name = type(est).__name__
    if name == "FunctionTransformer":
        return getattr(est, "func", None) is not None
    return name.endswith("Encoder") or name in {"KBinsDiscretizer", "FrozenEstimator"}


def _route_kind(trans: Any) -> str:
    """How one column-transformer entry treats its columns: an encoder's class name(s),
    ``"passthrough"`` (no encoder at all) or ``"drop"``."""
    if isinstance(trans, str):
        return "drop" if trans == "drop" else "passthrough"
    encoders = [type(s).__name__ for s in _flat_steps(trans) if _is_encoder(s)]
    return "+".join(encoders) if encoders else "passthrough"


def _inconsistent(name: str) -> AnswerError:
    return AnswerError(
        f"`{name}` is not in a state that fitting it leaves (its parts disagree on which "
        "columns go where): build it from scikit-learn parts and fit the whole of it in the "
        "exercise's cell."
    )


def _transformer_columns(ct: Any, names: list[str], name: str) -> list[tuple[Any, list[str]]]:
    """Each entry of a genuine fitted ColumnTransformer ``ct``: the fitted transformer and the
    input columns it really gets, ``names`` being the columns ``ct`` was fitted on.

    On a DataFrame ``transform`` selects each entry's columns by label from
    ``_transformer_to_input_indices`` and ``feature_names_in_``; on an array, and to skip an
    entry, it reads the column list stored in ``transformers_``. The two must name the same
    columns, as fitting makes them, so that the columns read here are the ones used.
    """
    from sklearn.utils._indexing import _get_column_indices

    index = getattr(ct, "_transformer_to_input_indices", None)
    entries = getattr(ct, "transformers_", None)
    own = getattr(ct, "feature_names_in_", None)
    if not isinstance(index, dict) or not isinstance(entries, list):
        raise _inconsistent(name)
    if own is not None and [str(c) for c in own] != names:
        raise _inconsistent(name)
    frame = pd.DataFrame(columns=list(own) if own is not None else range(len(names)))
    out = []
    for entry in entries:
        if not isinstance(entry, tuple) or len(entry) != 3 or entry[0] not in index:
            raise _inconsistent(name)
        tname, trans, spec = entry
        try:
            listed = [int(i) for i in _get_column_indices(frame, spec)]
            routed = [int(i) for i in index[tname]]
        except Exception:
            raise _inconsistent(name) from None
        if listed != routed or any(not 0 <= i < len(names) for i in routed):
            raise _inconsistent(name)
        out.append((trans, [names[i] for i in routed]))
    return out


@dataclass(frozen=True)
class _Routes:
    """Per input column, the encoders it goes through; the encoders fitted on the raw columns
    (with their columns) and any encoder applied after the first step."""

    columns: dict[str, list[str]]
    encoders: list[tuple[list[str], Any]]
    later: list[str]
    final: Any
    pre: list[Any]


def _routes(model: Any, name: str) -> _Routes:
    from sklearn.compose import ColumnTransformer

    steps = _flat_steps(model)
    final, pre = steps[-1], steps[:-1]
    # a genuine Pipeline's names are its first step's: those its transform checks or selects by
    names = getattr(model, "feature_names_in_", None)
    if names is None:
        raise AnswerError(
            f"`{name}` was not fitted on a pandas DataFrame: fit it on X_train itself (the ten "
            "attribute columns), so that every encoding happens inside the pipeline."
        )
    names = [str(c) for c in names]
    first = pre[0] if pre else "passthrough"
    if type(first) is ColumnTransformer:
        entries = _transformer_columns(first, names, name)
    else:
        entries = [(first, names)]
    columns: dict[str, list[str]] = {c: [] for c in names}
    encoders: list[tuple[list[str], Any]] = []
    for trans, cols in entries:
        kind = _route_kind(trans)
        for c in cols:
            columns[c].append(kind)
        found = [] if isinstance(trans, str) else [e for e in _flat_steps(trans) if _is_encoder(e)]
        if found:  # later encoders of a nested pipeline see encoded columns
            encoders.append((cols, found[0]))
    later = [
        type(s).__name__ for s in pre[1:] if _is_encoder(s) or isinstance(s, ColumnTransformer)
    ]
    return _Routes(columns, encoders, later, final, pre)


def _column_problem(
    routes: _Routes, name: str, cols: tuple[str, ...], want: str, task: str
) -> str | None:
    """Why some column of ``cols`` does not reach the model through encoder ``want`` alone."""
    for col in cols:
        if col not in routes.columns:
            return (
                f"`{name}` was fitted without the column `{col}`: fit it on X_train (all ten "
                "attributes) so that the pipeline itself selects and encodes the columns."
            )
        kinds = [k for k in routes.columns[col] if k != "drop"]
        if not kinds:
            return f"`{col}` never reaches the model (it is dropped), but {task}."
        if kinds == ["passthrough"] and col in BINARY and want == "OneHotEncoder":
            continue  # a True/False column passed through is one 0/1 column, as one-hot makes
        if kinds != [want]:
            how = ", ".join(kinds)
            shown = "no encoder at all" if how == "passthrough" else how
            return f"`{col}` reaches the model through {shown}, but {task}."
    if routes.later:
        return (
            f"`{name}` encodes again after its first step ({', '.join(routes.later)}); "
            f"{task}: one encoder per column, inside one column transformer."
        )
    return None


_ONEHOT_COLS = NOMINAL + ORDINAL + HIGH_CARDINALITY


def _structure_onehot(model: Any, name: str) -> str | None:
    """q3: every listed column one-hot encoded (and nothing else), a logistic regression."""
    from sklearn.linear_model import LogisticRegression

    routes = _routes(model, name)
    if not isinstance(routes.final, LogisticRegression):
        return (
            f"`{name}` ends in a {type(routes.final).__name__}; the task asks for a "
            "LogisticRegression as the last step of the pipeline."
        )
    return _column_problem(
        routes,
        name,
        _ONEHOT_COLS,
        "OneHotEncoder",
        "the task one-hot encodes every column of NOMINAL + ORDINAL + HIGH_CARDINALITY with "
        "a OneHotEncoder (no other encoder)",
    )


def _structure_te(model: Any, name: str) -> str | None:
    """q5: a TargetEncoder inside the pipeline on the high-cardinality columns, one-hot on the
    others, a logistic regression."""
    from sklearn.linear_model import LogisticRegression

    routes = _routes(model, name)
    if not isinstance(routes.final, LogisticRegression):
        return (
            f"`{name}` ends in a {type(routes.final).__name__}; the task asks for a "
            "LogisticRegression as the last step of the pipeline."
        )
    problem = _column_problem(
        routes,
        name,
        HIGH_CARDINALITY,
        "TargetEncoder",
        "the task target-encodes device_model and campaign_id with a TargetEncoder inside the "
        "pipeline, so that Pipeline.fit cross-fits it (an encoder fitted outside the pipeline, "
        "or frozen, is not cross-fitted)",
    )
    return problem or _column_problem(
        routes,
        name,
        NOMINAL + ORDINAL,
        "OneHotEncoder",
        "the task one-hot encodes NOMINAL + ORDINAL with a OneHotEncoder",
    )


#: the gradient boosting settings q7 fixes (so that every learner's model is comparable)
HGB_FIXED = {"max_leaf_nodes": 8, "min_samples_leaf": 50}


def _booster_inputs(routes: _Routes, name: str) -> list[str] | None:
    """The names of the columns the final estimator gets, in order (with any
    ``transformer__`` prefixes).

    Read from what the step before it outputs (``get_feature_names_out`` of that genuine
    step, computed from the state its ``transform`` uses); the booster's own
    ``feature_names_in_`` is state a file can set, so it must agree. Without a step before it,
    or one that cannot name its outputs, the booster's own names are all there is (a booster
    fitted on a DataFrame refuses a DataFrame with other column names).
    """
    own = getattr(routes.final, "feature_names_in_", None)
    own = None if own is None else [str(n) for n in own]
    out = None
    if routes.pre:
        try:
            out = [str(n) for n in routes.pre[-1].get_feature_names_out()]
        except Exception:
            out = None
    if out is not None and own is not None and out != own:
        raise _inconsistent(name)
    return out if out is not None else own


def _native_categorical(final: Any, inputs: list[str] | None, name: str) -> set[str]:
    """The input columns a genuine fitted HistGradientBoostingClassifier really treats as
    categories.

    ``is_categorical_`` is a claim; at prediction the booster ordinal-encodes the columns its
    ``_preprocessor`` (a ColumnTransformer) routes to its ``"encoder"``, puts them first, and
    each tree splits a feature by category set only when the node says so. So the claim
    must match the preprocessor's routing and the bin mapper's flags, and a column any tree
    splits by a numeric threshold is not treated as categorical, whatever the claim.
    """
    from sklearn.compose import ColumnTransformer

    flags = getattr(final, "is_categorical_", None)
    if flags is None or inputs is None:
        return set()
    mask = np.asarray(flags)
    pre = getattr(final, "_preprocessor", None)
    if mask.dtype != bool or mask.shape != (len(inputs),) or type(pre) is not ColumnTransformer:
        raise _inconsistent(name)
    claimed = [int(i) for i in np.flatnonzero(mask)]
    entries = [
        (tname, [inputs.index(c) for c in cols])
        for (trans, cols), (tname, *_) in zip(
            _transformer_columns(pre, inputs, name), pre.transformers_, strict=True
        )
        if not isinstance(trans, str) or trans != "drop"
    ]
    encoded = [cols for tname, cols in entries if tname == "encoder"]
    rest = sorted(i for tname, cols in entries if tname != "encoder" for i in cols)
    binned = np.asarray(getattr(getattr(final, "_bin_mapper", None), "is_categorical", None))
    k = len(claimed)
    if encoded != [claimed] or rest != [i for i in range(len(inputs)) if not mask[i]]:
        raise _inconsistent(name)
    if binned.shape != mask.shape or list(binned) != [True] * k + [False] * (len(mask) - k):
        raise _inconsistent(name)
    nodes = [p.nodes for trees in getattr(final, "_predictors", []) for p in trees]
    numeric: set[int] = set()
    for table in nodes:
        splits = table[~table["is_leaf"].astype(bool)]
        numeric.update(
            int(f) for f in splits["feature_idx"][~splits["is_categorical"].astype(bool)]
        )
    return {inputs[j] for pos, j in enumerate(claimed) if pos not in numeric}


def _tree_nodes(final: Any, name: str) -> list[np.ndarray]:
    """The node tables of every tree of a fitted HistGradientBoostingClassifier, checked to
    be what growing leaves: the record fields prediction reads, child indices inside the
    table, every split's training ``count`` the sum of its children's, and one root count
    (every tree is grown on the same training rows)."""
    need = {"is_leaf", "count", "left", "right"}
    try:
        tables = [np.asarray(p.nodes) for trees in final._predictors for p in trees]
    except (AttributeError, TypeError) as exc:
        raise _inconsistent(name) from exc
    roots: set[int] = set()
    for nodes in tables:
        if nodes.ndim != 1 or not len(nodes) or not need <= set(nodes.dtype.names or ()):
            raise _inconsistent(name)
        split = ~nodes["is_leaf"].astype(bool)
        left = nodes["left"][split].astype(np.int64)
        right = nodes["right"][split].astype(np.int64)
        if np.any(left >= len(nodes)) or np.any(right >= len(nodes)):
            raise _inconsistent(name)
        count = nodes["count"].astype(np.int64)
        if np.any(count[split] != count[left] + count[right]):
            raise _inconsistent(name)
        roots.add(int(count[0]))
    if len(roots) > 1:
        raise _inconsistent(name)
    return tables


def _grown_settings_problem(final: Any, name: str) -> str | None:
    """What the fitted trees of ``final`` contradict in :data:`HGB_FIXED`, or None.

    ``get_params`` returns attributes that can be set after fitting (fit with
    ``min_samples_leaf=40``, then set it to 50); the trees cannot be regrown that way. Every
    tree grown with the task's settings has at most ``max_leaf_nodes`` leaves, and every leaf
    holds at least ``min_samples_leaf`` training rows (its ``count``). Limit: ``count`` is
    not used to predict, so a file could still raise it consistently through each tree.
    """
    most, fewest = HGB_FIXED["max_leaf_nodes"], HGB_FIXED["min_samples_leaf"]
    leaves = [nodes[nodes["is_leaf"].astype(bool)] for nodes in _tree_nodes(final, name)]
    found = []
    if any(len(leaf) > most for leaf in leaves):
        found.append(f"trees with more than {most} leaves (max_leaf_nodes={most})")
    if any(len(leaf) and int(leaf["count"].min()) < fewest for leaf in leaves):
        found.append(f"leaves with fewer than {fewest} training rows (min_samples_leaf={fewest})")
    if not found:
        return None
    return (
        f"`{name}`'s booster was fitted with other settings than it states: its trees have "
        f"{' and '.join(found)}. Set the task's settings in the constructor and fit the "
        "pipeline with them; changing an attribute after fitting does not regrow the trees."
    )


def _structure_native(model: Any, name: str) -> str | None:
    """q7: a HistGradientBoostingClassifier with the task's settings whose native categorical
    columns cover the nominal and ordinal columns; TargetEncoder on the high-cardinality ones."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    routes = _routes(model, name)
    final = routes.final
    if not isinstance(final, HistGradientBoostingClassifier):
        return (
            f"`{name}` ends in a {type(final).__name__}; the task asks for a "
            "HistGradientBoostingClassifier as the last step."
        )
    params = final.get_params()
    off = [f"{k}={params.get(k)}" for k, v in HGB_FIXED.items() if params.get(k) != v]
    if off:
        return (
            f"The task fixes the booster's settings (max_leaf_nodes=8, min_samples_leaf=50); "
            f"yours has {', '.join(off)}."
        )
    grown = _grown_settings_problem(final, name)
    if grown:
        return grown
    inputs = _booster_inputs(routes, name)
    declared = {c.split("__", 1)[-1] for c in _native_categorical(final, inputs, name)}
    missing = [c for c in NOMINAL + ORDINAL if c not in BINARY and c not in declared]
    if not missing:
        return _column_problem(
            routes,
            name,
            HIGH_CARDINALITY,
            "TargetEncoder",
            "the task target-encodes device_model and campaign_id with a TargetEncoder inside the "
            "pipeline (they have too many levels for native categories)",
        )
    if not declared:
        return (
            "Your gradient boosting treats every column as a number: none is declared "
            "categorical. Keep the nominal and ordinal columns as pandas categoricals "
            "(set_output(transform='pandas')) and use categorical_features='from_dtype' (or "
            "a boolean mask / the names of those columns)."
        )
    return (
        f"Native categorical support must cover the nominal and ordinal columns, but "
        f"{', '.join(missing)} {'is' if len(missing) == 1 else 'are'} not declared categorical "
        "in the booster (is_categorical_). Pass them through as one categorical column each "
        "(not one-hot, not as plain numbers)."
    )


def _test_only_levels(routes: _Routes, task: PayerTask) -> int:
    """How many levels the fitted encoders know that occur in the test rows only.

    An encoder fitted on ``X_train`` cannot know them; one fitted on all rows (or on the test
    rows) does.
    """
    count = 0
    for cols, enc in routes.encoders:
        cats = getattr(enc, "categories_", None)
        if cats is None or len(cats) != len(cols):
            continue
        for col, levels in zip(cols, cats, strict=True):
            only = task.test_only.get(col)
            if only:
                count += len(only & {str(v) for v in levels})
    return count


def _missing_training_levels(model: Any, name: str, task: PayerTask) -> str | None:
    """Why a model whose encoders never saw some levels of ``X_train`` is not the task's
    (fitted on the fitting rows ``X_fit`` only, without the validation block).

    A model that knows levels of the test rows is left to the leak check, which names that.
    """
    routes = _routes(model, name)
    if _test_only_levels(routes, task):
        return None
    missing: dict[str, set[str]] = {}
    for cols, enc in routes.encoders:
        cats = getattr(enc, "categories_", None)
        if cats is None or len(cats) != len(cols):
            continue
        for col, levels in zip(cols, cats, strict=True):
            seen = frozenset(task.X_train[col].dropna().astype(str))
            lost = seen - {str(v) for v in levels}
            if lost:
                missing[col] = lost
    if not missing:
        return None
    col = max(missing, key=lambda c: len(missing[c]))
    n = sum(len(v) for v in missing.values())
    return (
        f"`{name}`'s encoder never saw {n} levels that X_train holds ({len(missing[col])} of "
        f"them in {col}, e.g. {sorted(missing[col])[0]!r}): it was fitted on part of the "
        "training rows only, such as X_fit without the validation block. The validation "
        "block chose the setting; the final model learns from every training row."
    )


# --------------------------------------------------------------------------- model behaviour


def _proba(model: Any, X: pd.DataFrame, name: str) -> np.ndarray:
    """Positive-class probabilities, as a checked float array (trusted side)."""
    p = np.asarray(model.predict_proba(X), dtype=float)
    if p.ndim != 2 or p.shape != (len(X), 2):
        raise AnswerError(
            f"`{name}.predict_proba` should return one row of two probabilities per player; "
            f"it returned shape {p.shape}. Is the last step a classifier fitted on y_train?"
        )
    return p[:, 1]


def _fresh_rows(
    X: pd.DataFrame, rng: np.random.Generator, unseen: tuple[str, ...], n: int = 300
) -> pd.DataFrame:
    """Held-out rows with made-up levels in the ``unseen`` columns and missing age bands.

    Built to catch encoders that raise on, or return NaN for, levels no training row had
    (``handle_unknown='error'``, an OrdinalEncoder without ``unknown_value``) and missing
    values at prediction time. ``unseen`` holds the columns whose new levels the task says
    the model must handle.
    """
    rows = X.iloc[rng.choice(len(X), size=min(n, len(X)), replace=False)].copy()
    for col in unseen:
        new = f"never-seen-{col}-{int(rng.integers(1000, 9999))}"
        rows[col] = rows[col].cat.add_categories([new])
        rows.loc[rng.random(len(rows)) < 0.3, col] = new
    rows.loc[rng.random(len(rows)) < 0.2, "age_band"] = np.nan
    return rows


def _unknown_category_error(exc: Exception) -> bool:
    text = str(exc).lower()
    return "unknown categor" in text or "unknown categories" in text or "unseen" in text


def _model_assess(
    name: str,
    structure: Any,
    *,
    refit: bool,
    unseen: tuple[str, ...] = HIGH_CARDINALITY,
    gap_days: int = 0,
    log_loss: bool = False,
    all_training_levels: bool = False,
):
    """The trusted assess step of a model exercise: load, inspect, predict, measure.

    ``unseen``: the columns that get made-up levels in the fresh rows (the task's words).
    ``log_loss`` adds the expected log loss on the held-out players of the model's
    probabilities (``heldout_ell``) and of a constant guess, the training payer share
    (``heldout_ell_base``): how far the probabilities move from the average.
    ``all_training_levels`` rejects a model whose encoders miss levels of X_train (fitted on
    the fitting rows only; see :func:`_missing_training_levels`).
    """

    def assess(observation: Plain, actx: AssessContext) -> Plain:
        model = load_estimator(observation, f"`{name}`")
        problem = structure(model, name)
        if problem:
            return {"structure": problem}
        task = payer_task(actx.data_dir, gap_days)
        if all_training_levels and (problem := _missing_training_levels(model, name, task)):
            return {"structure": problem}
        held = payer_task(actx.heldout_dir, gap_days)
        try:
            p_held = _proba(model, held.X_test.copy(), name)
            p_fresh = _proba(model, _fresh_rows(held.X_test, actx.rng("fresh"), unseen), name)
            p_test = _proba(model, task.X_test.copy(), name)
        except ValueError as exc:
            if _unknown_category_error(exc):
                return {"structure": None, "unseen_error": True}
            raise
        p_train = _proba(model, task.X_train.copy(), name)
        facts: dict[str, Plain] = {
            "structure": None,
            "unseen_error": False,
            "fresh_ok": bool(
                np.isfinite(p_fresh).all() and (p_fresh >= 0).all() and (p_fresh <= 1).all()
            ),
            "heldout_auc": _auc(held.y_test, p_held),
            "heldout_eauc": _expected_auc(held.p_test, p_held),
            "heldout_sd": _auc_noise_sd(held.p_test, p_held, actx.rng("heldout")),
            "heldout_bayes": _bayes(held.p_test),
            "test_auc": _auc(task.y_test, p_test),
            "test_sd": _auc_noise_sd(task.p_test, p_test, actx.rng("test")),
            "bayes_test": _bayes(task.p_test),
            "train_auc": _auc(task.y_train, p_train),
            "train_sd": _auc_noise_sd(task.p_train, p_train, actx.rng("train")),
            "train_eauc": _expected_auc(task.p_train, p_train),
            "test_only_levels": _test_only_levels(_routes(model, name), task),
            "refit_train_auc": None,
            "refit_test_auc": None,
        }
        if log_loss:
            base = np.full(len(p_held), float(np.mean(task.y_train)))
            facts["heldout_ell"] = _expected_log_loss(held.p_test, p_held)
            facts["heldout_ell_base"] = _expected_log_loss(held.p_test, base)
        if refit:
            from sklearn.base import clone

            try:
                again = clone(model).fit(task.X_train.copy(), task.y_train.copy())
            except Exception:
                raise AnswerError(
                    f"`{name}` cannot be refitted on X_train, y_train; build it from "
                    "scikit-learn parts with make_pipeline."
                ) from None
            facts["refit_train_auc"] = _auc(task.y_train, _proba(again, task.X_train.copy(), name))
            facts["refit_test_auc"] = _auc(task.y_test, _proba(again, task.X_test.copy(), name))
        return facts

    assess.__name__ = f"assess_{name}"
    return assess


def _num(facts: Mapping[str, Plain], key: str) -> float:
    v = facts.get(key)
    if isinstance(v, bool) or not isinstance(v, int | float):
        raise TypeError(f"fact {key!r} is not a number")
    return float(v)


def _judge_model(name: str, *, cross_fit: bool = False, against_truth: bool = False):
    """Judge the facts of a model exercise against the reference's facts.

    In order: can the model be scored at all (:func:`_usability_problem`), did it see the
    test labels (:func:`_leak_problem`), does it memorise (:func:`_memorisation_problem`),
    and how well does it rank the held-out players (:func:`_quality_verdict`).

    ``against_truth`` (notebook 01) judges memorisation and quality without label noise:
    :func:`_truth_memorisation_problem` and :func:`_truth_quality_verdict`.
    """

    def judge(student: Plain, expected: Plain) -> Outcome:
        if not isinstance(student, dict) or not isinstance(expected, dict):
            return Outcome.incorrect(f"`{name}` could not be checked; run its cell again.")
        memorises = _truth_memorisation_problem if against_truth else _memorisation_problem
        problem = (
            _usability_problem(name, student)
            or _leak_problem(name, student, cross_fit)
            or memorises(name, student, expected)
        )
        if problem:
            return Outcome.incorrect(problem)
        if against_truth and (flat := _over_regularised_problem(name, student, expected)):
            return Outcome.incorrect(flat, score=0.5)
        quality = _truth_quality_verdict if against_truth else _quality_verdict
        return quality(name, student, expected)

    return judge


def _usability_problem(name: str, student: Mapping[str, Plain]) -> str | None:
    """Why the model cannot be scored: its structure, an error on unseen levels, or no
    probabilities on the fresh rows."""
    if isinstance(student.get("structure"), str):
        return str(student["structure"])
    if student.get("unseen_error"):
        return (
            f"`{name}` raises an error on levels it never saw in training (later cohorts "
            "bring device models, campaigns and other levels the training rows never had). "
            "Tell the encoder what to do "
            "with them: OneHotEncoder(handle_unknown='infrequent_if_exist') or 'ignore'; "
            "OrdinalEncoder(handle_unknown='use_encoded_value', unknown_value=-1)."
        )
    if not student.get("fresh_ok"):
        return (
            f"On rows with unseen levels or missing values `{name}` does not return "
            "probabilities between 0 and 1. Check how your encoders handle missing values."
        )
    return None


def _leak_problem(name: str, student: Mapping[str, Plain], cross_fit: bool) -> str | None:
    """Signs that the model was fitted on the test rows, or not by ``Pipeline.fit`` alone."""
    test, test_sd, bayes = (_num(student, k) for k in ("test_auc", "test_sd", "bayes_test"))
    train, train_sd = _num(student, "train_auc"), _num(student, "train_sd")
    fix = f"Fit it on the training split only: {name}.fit(X_train, y_train)."
    n_only = student.get("test_only_levels")
    if isinstance(n_only, int) and n_only > 0:
        return (
            f"`{name}` was fitted on the test rows: its encoders know {n_only} device "
            "models or campaigns that occur only in X_test, which no model fitted on "
            f"X_train can have seen. {fix}"
        )
    if test > bayes + 2 * test_sd:
        return (
            f"`{name}` scores above the Bayes limit of the test rows by more than two "
            "noise standard deviations. No model does that on rows it has not seen: it was "
            f"fitted on the test rows, whose labels leaked into it. {fix}"
        )
    refit_test, refit_train = student.get("refit_test_auc"), student.get("refit_train_auc")
    if isinstance(refit_test, float) and test - refit_test > 2 * test_sd:
        return (
            f"`{name}` scores the test rows clearly better than the same pipeline fitted "
            f"on X_train, y_train only: it was fitted on the test rows and has seen their "
            f"labels. {fix}"
        )
    if isinstance(refit_train, float) and train - refit_train > 2 * train_sd:
        how = (
            "its logistic regression was trained on target encodings that were not "
            "cross-fitted (the encoder was fitted, or applied, outside Pipeline.fit). Fit "
            f"the whole pipeline at once: {name}.fit(X_train, y_train)."
            if cross_fit
            else f"it was not trained by {name}.fit(X_train, y_train) alone. Build the "
            "pipeline, then fit the whole of it on the training split."
        )
        return (
            f"`{name}` fits its training rows better (train AUC {train:.3f}) than the "
            f"same pipeline fitted here on X_train, y_train ({refit_train:.3f}): {how}"
        )
    return None


def _memorisation_problem(
    name: str, student: Mapping[str, Plain], expected: Mapping[str, Plain]
) -> str | None:
    """A gap between the train AUC and the AUC on the held-out players (never the notebook's
    test rows, which stay untouched until its last section) far wider than the reference's."""
    held, held_sd = _num(student, "heldout_auc"), _num(student, "heldout_sd")
    train, train_sd = _num(student, "train_auc"), _num(student, "train_sd")
    gap = train - held
    ref_gap = _num(expected, "train_auc") - _num(expected, "heldout_auc")
    if gap > ref_gap + max(0.04, 3 * math.hypot(train_sd, held_sd)):
        return (
            f"`{name}` memorises its training rows: train AUC {train:.3f} against "
            f"{held:.3f} on players it never saw, a gap far wider than this kind of model "
            "needs. The gap is "
            "what it learnt about individual rare levels, which says nothing about new "
            "players: group rare levels (min_frequency=..., max_categories=...) or "
            "regularise more (a smaller C)."
        )
    return None


#: notebook 01: how far a model's training AUC may run further ahead of what its ranking of
#: the same players is worth (their expected AUC) than the reference's does
MEMORISATION_MARGIN = 0.05
#: notebook 01: how far below the reference's the expected AUC on the held-out players may be
QUALITY_MARGIN = 0.01


def _truth_memorisation_problem(
    name: str, student: Mapping[str, Plain], expected: Mapping[str, Plain]
) -> str | None:
    """The training AUC runs ahead of the truth's verdict on the same rows (the expected AUC
    of the model's ranking of its training players) by more than the reference's plus
    :data:`MEMORISATION_MARGIN`. Both are measured on the same labels, which the model has
    seen, so the excess is what it learnt about those labels' luck."""
    train, eauc = _num(student, "train_auc"), _num(student, "train_eauc")
    ahead, ref_ahead = train - eauc, _num(expected, "train_auc") - _num(expected, "train_eauc")
    if ahead > ref_ahead + MEMORISATION_MARGIN:
        return (
            f"`{name}` memorises its training rows: its train AUC is {train:.3f}, but against "
            f"the true probabilities its ranking of those same players is worth {eauc:.3f}. "
            f"That excess ({ahead:.3f}, where a model that groups rare levels stays near "
            f"{ref_ahead:.3f}) is what it learnt about the luck of individual rare levels, "
            "which says nothing about new players. Group rare levels or regularise more."
        )
    return None


#: notebook 01: the least share of the reference's log-loss gain over a constant guess (on the
#: held-out players, against their true probabilities) a model must reach
LOG_LOSS_GAIN_SHARE = 0.5


def _over_regularised_problem(
    name: str, student: Mapping[str, Plain], expected: Mapping[str, Plain]
) -> str | None:
    """Probabilities pulled so hard toward the average that they barely beat a constant
    guess: the expected log loss on the held-out players improves on the constant's by less
    than :data:`LOG_LOSS_GAIN_SHARE` of the reference's improvement. The AUC cannot see this
    (shrinking every weight by the same factor keeps the ranking)."""
    if "heldout_ell" not in expected or "heldout_ell" not in student:
        return None
    gain = _num(student, "heldout_ell_base") - _num(student, "heldout_ell")
    ref_gain = _num(expected, "heldout_ell_base") - _num(expected, "heldout_ell")
    if gain < LOG_LOSS_GAIN_SHARE * ref_gain:
        return (
            f"`{name}` is regularised too hard: its probabilities barely move away from the "
            "average payer share. Against the true probabilities of players it never saw, "
            f"its expected log loss beats a constant guess by only {gain:.4f}, where a "
            f"well-tuned model of this kind gains {ref_gain:.4f}. Its ranking can still look "
            "fine, since the AUC ignores how far the probabilities spread. A very small C "
            "pulls every weight toward 0: choose C on the validation block."
        )
    return None


def _truth_quality_verdict(
    name: str, student: Mapping[str, Plain], expected: Mapping[str, Plain]
) -> Outcome:
    """Correct when the model's expected AUC on the held-out players (against their true
    probabilities: no label noise) is within :data:`QUALITY_MARGIN` of the reference's; half
    the points when lower."""
    held, eauc, ref_eauc = (
        _num(student, "heldout_auc"),
        _num(student, "heldout_eauc"),
        _num(expected, "heldout_eauc"),
    )
    bayes = _num(student, "heldout_bayes")
    if eauc < ref_eauc - QUALITY_MARGIN:
        return Outcome.incorrect(
            f"`{name}` is built as asked and does not memorise, but against the true "
            f"probabilities it ranks players it never saw clearly worse than this kind of "
            f"model can: expected AUC {eauc:.3f}, where grouping rare levels reaches "
            f"{ref_eauc:.3f}. It throws information away: group fewer levels or "
            "regularise less.",
            score=0.5,
        )
    return Outcome.correct(
        f"Correct! On players it never saw: expected AUC {eauc:.3f} against their true "
        f"probabilities (Bayes limit {bayes:.3f}); the AUC on their drawn labels, "
        f"{held:.3f}, is one noisy estimate of it."
    )


def _quality_verdict(
    name: str, student: Mapping[str, Plain], expected: Mapping[str, Plain]
) -> Outcome:
    """Correct when the model ranks the held-out players about as well as the reference's;
    half the points when clearly worse."""
    held, held_sd = _num(student, "heldout_auc"), _num(student, "heldout_sd")
    eauc, ref_eauc = _num(student, "heldout_eauc"), _num(expected, "heldout_eauc")
    if eauc < ref_eauc - max(0.01, held_sd):
        return Outcome.incorrect(
            f"`{name}` is built as asked, but it ranks players it never saw clearly worse "
            f"than this kind of model can (held-out AUC {held:.3f}). Check its settings: "
            "strong regularisation or coarse grouping of levels throws information away.",
            score=0.5,
        )
    # the notebook's test rows stay untouched until its last section: no score on them here
    return Outcome.correct(
        f"Correct! On players it never saw: AUC {held:.3f} (noise SD {held_sd:.3f}, Bayes "
        f"limit {_num(student, 'heldout_bayes'):.3f})."
    )


def _model_exercise(
    id: str,
    title: str,
    name: str,
    structure: Any,
    *,
    refit: bool,
    unseen: tuple[str, ...] = HIGH_CARDINALITY,
    cross_fit: bool = False,
    points: float = 2,
    hints: tuple[str, ...] = (),
    notebook: str = NOTEBOOK,
    gap_days: int = 0,
    against_truth: bool = False,
    all_training_levels: bool = False,
) -> Exercise:
    """A model exercise of ``notebook`` (this one or ``02_target_encoding``): the fitted
    estimator ``name`` is sent as skops bytes, assessed by :func:`_model_assess`
    (``structure``, ``refit``, ``unseen``, ``gap_days``) and judged by :func:`_judge_model`
    (``cross_fit``, ``against_truth``); ``all_training_levels``: see :func:`_model_assess`."""
    assess = _model_assess(
        name,
        structure,
        refit=refit,
        unseen=unseen,
        gap_days=gap_days,
        log_loss=against_truth,
        all_training_levels=all_training_levels,
    )
    judge = _judge_model(name, cross_fit=cross_fit, against_truth=against_truth)
    probe = estimator_probe(name)
    return exercise(
        notebook, id, title, (name,), probe, judge, points=points, assess=assess, hints=hints
    )


# --------------------------------------------------------------------------- q1: kinds


def _probe_kinds(ns: Mapping[str, Any], ctx: ProbeContext) -> Plain:
    value = to_plain(ns["column_kinds"])
    if not isinstance(value, dict):
        raise AnswerError(
            "`column_kinds` should be a dict mapping each column name to its kind, e.g. "
            '{"<column>": "<kind>", ...}.'
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
    problem = key_problem(
        student,
        expected,
        "`column_kinds`",
        sort=False,
        extra_note=" (classify only the ten attributes)",
    )
    if problem:
        return Outcome.incorrect(problem)
    wrong = [c for c in expected if student[c] != expected[c]]
    if not wrong:
        return Outcome.correct()
    many = {"high_cardinality", "id_like"}
    # the many-level columns carry the judgement the exercise is about: half the points
    judged = [c for c in JUDGED_KINDS if c in expected]
    weights = {
        c: (0.5 / len(judged) if c in judged else 0.5 / (len(expected) - len(judged)))
        for c in expected
    }
    notes = [
        f" For {c}, both kinds have many rare levels: the question is where the rows sit "
        "(small_level_row_share, median_level_rows), not the mean rows_per_level."
        for c in wrong
        if {student[c], expected[c]} <= many
    ]
    return Outcome.incorrect(
        f"{len(wrong)} of {len(expected)} kinds are not right; look again at "
        f"{', '.join(wrong)}. The report's n_levels and the rows' side of it, and the dtype "
        "(ordered or not), are the evidence." + "".join(notes),
        score=round(1 - sum(weights[c] for c in wrong), 3),
    )


Q1 = _exercise(
    "q1_column_kinds",
    "What kind of column is each attribute?",
    ("column_kinds",),
    _probe_kinds,
    _judge_kinds,
    points=2,
    hints=(
        "Use the column report: two levels make a binary column; an ordered categorical dtype "
        "means the levels have a natural order; many levels is high-cardinality.",
        "Separate high_cardinality from id_like from the rows' side: a model cannot learn a "
        "level from fewer than about 20 rows, so ask what share of the rows sit in such levels "
        "(small_level_row_share; a quarter or more is ID-like). The mean rows_per_level counts "
        "levels, not rows.",
        "Only age_band and difficulty are ordinal; push_opt_in is binary; device_model is "
        "high_cardinality and campaign_id id_like; the rest are nominal.",
    ),
)

# --------------------------------------------------------------------------- q2: ordinal


def _ordinal_rows(rng: np.random.Generator) -> pd.DataFrame:
    """Every level of both columns at least once, shuffled, plus missing age bands.

    Built to catch alphabetical codes (``hard`` sorts between ``easy`` and ``normal``; the age
    bands' labels do not sort in age order either), reversed lists, missing values left as
    NaN or coded like a real level, and the wrong missing code.
    """
    from mlcourse.telemetry import AGE_BANDS, DIFFICULTIES

    n = 40
    ages = [*AGE_BANDS, *rng.choice(np.array([*AGE_BANDS, None], dtype=object), n)]
    diffs = [
        *rng.choice(np.array(DIFFICULTIES, dtype=object), len(AGE_BANDS)),
        *rng.choice(np.array(DIFFICULTIES, dtype=object), n),
    ]
    diffs[: len(DIFFICULTIES)] = list(DIFFICULTIES)
    ages[-1] = None
    order = rng.permutation(len(ages))
    return pd.DataFrame(
        {
            "age_band": pd.Categorical(
                [ages[i] for i in order], categories=list(AGE_BANDS), ordered=True
            ),
            "difficulty": pd.Categorical(
                [diffs[i] for i in order], categories=list(DIFFICULTIES), ordered=True
            ),
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
    problem = _ordinal_columns_problem(enc, list(rows.columns))
    if problem:
        raise AnswerError(problem)
    try:
        codes = np.asarray(enc.transform(rows), dtype=float)
    except (NotFittedError, AttributeError):  # a fit that raised leaves half its state
        raise AnswerError(_unfitted_ordinal_problem(enc, rows)) from None
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


def _ordinal_columns_problem(enc: Any, want: list[str]) -> str | None:
    """Whether ``enc`` was fitted (or its fit was tried: ``fit`` records the columns before it
    checks the categories) on other columns than ``want``, or in another order."""
    names = getattr(enc, "feature_names_in_", None)
    if names is None or [str(c) for c in names] == want:
        return None
    names = [str(c) for c in names]
    wanted = '[["' + '", "'.join(want) + '"]]'
    if sorted(names) == sorted(want):
        return (
            f"`ordinal_encoder` was fitted on the columns in the order {', '.join(names)}; "
            f"fit it on the columns in the order {', '.join(want)} (X_train{wanted}), with "
            "the categories lists in that same order."
        )
    return (
        f"`ordinal_encoder` was fitted on the columns {', '.join(names)}; fit it on the two "
        f"columns X_train{wanted}."
    )


def _unfitted_ordinal_problem(enc: Any, rows: pd.DataFrame) -> str:
    """Why ``enc`` is not fitted: fitting a copy on rows like the training rows (every level,
    missing age bands) tells whether ``.fit`` was never called or raised, and why."""
    from sklearn.base import clone

    fit = '.fit(X_train[["age_band", "difficulty"]])'
    try:
        clone(enc).fit(rows)
    except ValueError as exc:
        text = str(exc)
        if "unknown categor" not in text.lower():
            return (
                f"`ordinal_encoder` is not fitted, and fitting it on the two columns fails: "
                f"{text.splitlines()[0]}"
            )
        column = 0 if "column 0" in text else 1 if "column 1" in text else None
        col = {0: "age_band", 1: "difficulty"}.get(column, "one of the columns")  # type: ignore[arg-type]
        if "nan" in text.split("during")[0].lower():
            return (
                f"`ordinal_encoder` is not fitted: its {fit} raised, because {col} has missing "
                "values and a NaN that is not in that column's categories list is refused. Put "
                "np.nan at the end of the list (and give it a code with "
                "encoded_missing_value=-1)."
            )
        return (
            f"`ordinal_encoder` is not fitted: its {fit} raised, because a level of {col} is "
            "not in that column's categories list. List every level, spelt as in the data "
            "(X_train[col].cat.categories shows them)."
        )
    except Exception:
        pass
    return f"`ordinal_encoder` is not fitted yet: call {fit}."


def _judge_ordinal(student: Plain, expected: Plain) -> Outcome:
    assert isinstance(student, dict) and isinstance(expected, dict)
    for col in ("difficulty", "age_band"):
        problem = _ordinal_column_problem(col, student[col], expected[col])
        if problem:
            return Outcome.incorrect(problem)
    return Outcome.correct()


def _ordinal_column_problem(col: str, s: Plain, e: Plain) -> str | None:
    """What is wrong with the codes of one column (``None`` when they are the reference's)."""
    assert isinstance(s, dict) and isinstance(e, dict)
    levels, s_codes, e_codes = s["levels"], s["codes"], e["codes"]
    assert isinstance(levels, list) and isinstance(s_codes, list) and isinstance(e_codes, list)
    if levels != e["levels"] or len(s_codes) != len(e_codes):
        return "`ordinal_encoder` could not be checked; run its cell again."
    mapping: dict[str, Plain] = {}  # the learner's code of each level
    ref: dict[str, Plain] = {}  # the reference's
    for lev, sc, ec in zip(levels, s_codes, e_codes, strict=True):
        if lev is None:
            continue
        if mapping.setdefault(lev, sc) != sc:
            return f"The same {col} level gets different codes."
        ref[lev] = ec
    if any(not isinstance(v, int | float) for v in mapping.values()):
        return f"Some {col} levels come out as NaN: every level should get a number."
    missing = [sc for lev, sc in zip(levels, s_codes, strict=True) if lev is None]
    problem = _order_problem(col, mapping, ref) or _missing_code_problem(col, mapping, missing)
    if problem is None and s_codes != e_codes:
        return (
            f"The {col} codes are in the right order but are not 0, 1, 2, ... in that "
            "order: list every level once, in its natural order, in `categories`."
        )
    return problem


def _order_problem(col: str, mapping: dict[str, Plain], ref: dict[str, Plain]) -> str | None:
    """Whether the learner's codes rise along the natural order (the reference's codes)."""
    true_order = sorted(ref, key=lambda lev: ref[lev])  # type: ignore[arg-type, return-value]
    codes = [mapping[lev] for lev in true_order]
    if all(a < b for a, b in pairwise(codes)):  # type: ignore[operator]
        return None
    alpha = sorted(true_order)
    alpha_codes = [mapping[lev] for lev in alpha]
    if alpha != true_order and all(
        a < b  # type: ignore[operator]
        for a, b in pairwise(alpha_codes)
    ):
        return (
            f"The {col} codes follow alphabetical order ({', '.join(alpha)}), not the "
            "natural order of the levels. Pass the order explicitly: "
            "OrdinalEncoder(categories=[[...], [...]])."
        )
    if all(a > b for a, b in pairwise(codes)):  # type: ignore[operator]
        return (
            f"The {col} codes run in reverse: the first level of the natural order "
            "should get the smallest code."
        )
    return f"The {col} codes are not in the natural order of its levels."


def _missing_code_problem(col: str, mapping: dict[str, Plain], missing: list[Plain]) -> str | None:
    """Whether the missing values got the task's code -1, distinct from every level's."""
    if any(not isinstance(v, int | float) for v in missing):
        return (
            f"Missing {col} values come out as NaN, which LogisticRegression cannot use. "
            "Give them a code of their own with encoded_missing_value=-1 (and np.nan at the "
            "end of that column's categories list)."
        )
    if any(v in mapping.values() for v in missing):
        return (
            f"Missing {col} values get the same code as a real level; give them their own "
            "code with encoded_missing_value=-1."
        )
    if any(v != -1 for v in missing):
        return (
            f"Missing {col} values get a code of their own, but the task asks for -1 "
            "(encoded_missing_value=-1)."
        )
    return None


Q2 = _exercise(
    "q2_ordinal_encoder",
    "Ordinal codes in the right order",
    ("ordinal_encoder",),
    _probe_ordinal,
    _judge_ordinal,
    points=2,
    hints=(
        "Which order does OrdinalEncoder use when you say nothing, and where can you tell it "
        "another one? Mind the missing age bands too.",
        "categories=[[...], [...]] takes one list per column, in the column order. age_band "
        "has missing values: put np.nan at the end of its list and choose their code with "
        "encoded_missing_value=-1.",
        "One list per column, in the column order: age_order followed by np.nan, then the "
        "three difficulties from easiest to hardest followed by np.nan; add "
        "encoded_missing_value=-1 and fit on the two columns of X_train.",
    ),
)

# --------------------------------------------------------------------------- q3: one-hot

Q3 = _model_exercise(
    "q3_onehot_model",
    "A one-hot pipeline that survives new device models",
    "onehot_model",
    _structure_onehot,
    points=3,
    refit=False,
    gap_days=LABEL_DAYS,
    against_truth=True,
    all_training_levels=True,
    hints=(
        "Two things can go wrong with new players: a level the encoder never saw, and rare "
        "levels the model learnt by heart. §5 met a setting for each; which column's levels "
        "are mostly rare?",
        "handle_unknown decides what happens to a level the training rows never had; "
        "min_frequency (or max_categories) groups the rare levels into one column. Build "
        "make_pipeline(make_column_transformer((OneHotEncoder(...), columns)), "
        "LogisticRegression(max_iter=1000)) and fit it on X_train, y_train.",
        "OneHotEncoder(handle_unknown='infrequent_if_exist', min_frequency=MF) on "
        "NOMINAL + ORDINAL + HIGH_CARDINALITY, and LogisticRegression(C=C_BEST, max_iter=1000).",
    ),
)

EXERCISES = (Q1, Q2, Q3)
check, hint, solution = make_api(NOTEBOOK, EXERCISES)
