"""Toolbox for notebook 01, "Categorical-variable encoding — who will pay?".

Small helpers the notebook would otherwise repeat; everything that scikit-learn already does
(the encoders, pipelines, cross-validation) is called directly:

* :func:`column_report` — cardinality and a suggested *kind* for every column of a frame
  (nominal, ordinal, binary, high-cardinality, ID-like, ...);
* :func:`split_by_time_column` — hold out the most recent rows by a time column (later install
  cohorts), so unseen levels show up at prediction time exactly as they would in production;
* :func:`unseen_levels` — which test levels the training rows never showed;
* :func:`compare_encoders` — cross-validate every encoder × model pair into one tidy table;
* :func:`auc_redraws` — the AUC of a score on labels redrawn from the true probabilities: the
  sampling noise of one measured AUC (the Bayes limit's own noise band);
* :func:`truth_scores` — what a score is worth against the true probabilities: its expected
  AUC and expected log loss (no label noise), beside the AUC measured on the labels drawn;
* :func:`paired_bootstrap` — AUC differences between models scored on the same rows, with a
  bootstrap interval from resampling those rows (paired: every model sees the same resample);
* :func:`plot_comparison` and :func:`plot_scores` — scores with their spread and the
  Bayes-optimal AUC drawn as a line, the physical limit of the task, on one fixed axis (just
  below chance, 0.5, to 1) with a chance line.

Examples
--------
>>> import pandas as pd
>>> df = pd.DataFrame({"platform": ["ios", "android", "ios", "android"],
...                    "push_opt_in": [True, False, True, True]})
>>> column_report(df)["kind"].tolist()
['binary', 'binary']
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, clone
from sklearn.model_selection import StratifiedKFold, cross_validate
from sklearn.pipeline import make_pipeline

__all__ = [
    "KINDS",
    "auc_redraws",
    "column_report",
    "compare_encoders",
    "expected_auc",
    "expected_log_loss",
    "paired_bootstrap",
    "plot_comparison",
    "plot_scores",
    "split_by_time_column",
    "truth_scores",
    "unseen_levels",
]

#: the kinds :func:`column_report` can suggest, with the usual encoding for each
KINDS: dict[str, str] = {
    "binary": "two levels: a single 0/1 column (OneHotEncoder(drop='if_binary'))",
    "ordinal": "ordered levels: OrdinalEncoder with an explicit categories=[[...]] order",
    "nominal": "few unordered levels: OneHotEncoder(handle_unknown='infrequent_if_exist')",
    "high_cardinality": "many levels: OneHotEncoder(min_frequency=...) or TargetEncoder",
    "id_like": "few rows per level: TargetEncoder, group rare levels, or drop it",
    "constant": "one level only: carries no information, drop it",
    "all_missing": "no value at all: drop it",
    "numeric": "a number, not a category: scale it, do not encode it",
    "datetime": "a timestamp: derive features (day, cohort), do not encode it",
}


def _require_frame(df: Any, name: str = "df") -> pd.DataFrame:
    if not isinstance(df, pd.DataFrame):
        raise TypeError(
            f"{name} must be a pandas DataFrame, got {type(df).__name__}; "
            "wrap a Series with .to_frame() or build one with pd.DataFrame(...)"
        )
    if df.shape[1] == 0:
        raise ValueError(f"{name} has no columns; pass the table of categorical attributes")
    if df.shape[0] == 0:
        raise ValueError(f"{name} has no rows; there is nothing to describe or encode")
    return df


def _target_array(X: pd.DataFrame, y: Any) -> np.ndarray:
    """``y`` as an array, refused unless it is 1-D with one value per row of ``X``."""
    y_arr = np.asarray(y)
    if y_arr.ndim != 1 or len(y_arr) != len(X):
        raise ValueError(f"y must be 1-D with one value per row of X ({len(X)}), got {y_arr.shape}")
    return y_arr


def _suggest_kind(
    s: pd.Series, n_levels: int, rows_per_level: float, *, high_cardinality: int, id_like: float
) -> tuple[str, str]:
    """Return (kind, reason) for one column. The rules are deliberately simple and explained."""
    dtype = s.dtype
    if n_levels == 0:
        return "all_missing", "every value is missing"
    if n_levels == 1:
        return "constant", "a single level"
    if isinstance(dtype, pd.CategoricalDtype) and dtype.ordered:
        return "ordinal", "ordered categorical dtype"
    if n_levels == 2:
        return "binary", "two levels"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "datetime", "datetime dtype"
    if pd.api.types.is_float_dtype(dtype):
        return "numeric", f"float dtype with {n_levels} distinct values"
    if rows_per_level < id_like:
        return "id_like", f"only {rows_per_level:.1f} rows per level"
    if pd.api.types.is_integer_dtype(dtype) and n_levels > high_cardinality:
        return "numeric", f"integer dtype with {n_levels} distinct values"
    if n_levels > high_cardinality:
        return "high_cardinality", f"{n_levels} levels > {high_cardinality}"
    return "nominal", f"{n_levels} unordered levels"


def column_report(
    df: pd.DataFrame,
    *,
    high_cardinality: int = 30,
    id_like: float = 20.0,
    rare_count: int = 10,
) -> pd.DataFrame:
    """Describe every column of ``df`` and suggest what kind of categorical column it is.

    Parameters
    ----------
    df : DataFrame
        The table to describe (one row per entity, e.g. per player).
    high_cardinality : int, default 30
        Above this many levels an unordered column is called ``"high_cardinality"``.
    id_like : float, default 20
        With fewer rows per level than this on average, the column is called ``"id_like"``
        (a player id, a campaign id): a model can learn almost nothing about a level from its
        own few rows (with a 2.5 % positive rate, 20 rows hold half a positive on average),
        and one-hot columns for it would mostly memorise individual rows.
    rare_count : int, default 10
        A level seen fewer than this many times counts as *rare* in the ``rare_levels`` and
        ``rare_row_share`` statistics (think of ``OneHotEncoder(min_frequency=rare_count)``).

    The mean ``rows_per_level`` describes the levels, not the rows: many tiny levels beside a
    few big ones give a small mean while most rows sit in big levels. Two columns look from
    the rows' side: ``median_level_rows``, the size of the level the median row belongs to
    (half the rows sit in levels at least that big), and ``small_level_row_share``, the share
    of rows in levels with fewer than ``id_like`` rows.

    Returns
    -------
    DataFrame
        One row per column of ``df`` (same order), indexed by column name, with ``dtype``,
        ``n_levels`` (distinct non-missing values), ``missing_share``, ``rows_per_level``
        (non-missing rows / levels), ``top_share`` (share of the most frequent level among
        non-missing rows), ``rare_levels``, ``rare_row_share``, ``median_level_rows``,
        ``small_level_row_share`` (see above), ``kind`` (one of :data:`KINDS`) and ``reason``.

    The suggestion reads the data only: it cannot know that a column was exported after the
    fact (leakage) or that an unordered column has a natural order. Treat it as evidence.

    Examples
    --------
    >>> df = pd.DataFrame({"size": pd.Categorical(["S", "L", "M"], ["S", "M", "L"], ordered=True),
    ...                    "id": ["a", "b", "c"]})
    >>> column_report(df)["kind"].to_dict()
    {'size': 'ordinal', 'id': 'id_like'}
    """
    df = _require_frame(df)
    if high_cardinality < 2 or rare_count < 1 or not id_like > 0:
        raise ValueError(
            "need high_cardinality >= 2, rare_count >= 1 and id_like > 0; got "
            f"high_cardinality={high_cardinality}, rare_count={rare_count}, id_like={id_like}"
        )
    rows = []
    for name in df.columns:
        s = df[name]
        if isinstance(s, pd.DataFrame):
            raise ValueError(f"column name {name!r} appears more than once; rename duplicates")
        row = _level_statistics(s, rare_count=rare_count, id_like=id_like)
        row["kind"], row["reason"] = _suggest_kind(
            s,
            row["n_levels"],
            row["rows_per_level"],
            high_cardinality=high_cardinality,
            id_like=id_like,
        )
        rows.append({"column": str(name), "dtype": str(s.dtype), **row})
    return pd.DataFrame(rows).set_index("column")


def _level_statistics(s: pd.Series, *, rare_count: int, id_like: float) -> dict[str, Any]:
    """The level counts of one column, from the levels' side and from the rows' side (see
    :func:`column_report`); missing values are not a level."""
    counts = s.value_counts(dropna=True)
    counts = counts[counts > 0]  # unused categories of a categorical dtype are not levels
    n_present = int(counts.sum())
    n_levels = len(counts)
    rare = counts[counts < rare_count]
    sizes = np.repeat(counts.to_numpy(), counts.to_numpy())  # each row's level size
    return {
        "n_levels": n_levels,
        "missing_share": float(s.isna().mean()),
        "rows_per_level": n_present / n_levels if n_levels else 0.0,
        "top_share": float(counts.iloc[0] / n_present) if n_present else np.nan,
        "rare_levels": len(rare),
        "rare_row_share": float(rare.sum() / n_present) if n_present else 0.0,
        "median_level_rows": float(np.median(sizes)) if n_present else 0.0,
        "small_level_row_share": float(np.mean(sizes < id_like)) if n_present else 0.0,
    }


def split_by_time_column(
    X: pd.DataFrame,
    y: pd.Series | np.ndarray,
    time_column: str,
    *,
    test_share: float = 0.3,
    gap: Any = None,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.Series, pd.Series]:
    """Hold out the most recent rows: train on earlier cohorts, test on later ones.

    Rows with the same timestamp never straddle the cut (scikit-learn's ``train_test_split``
    with ``shuffle=False`` would need sorted rows and could split a day in two, so this small
    helper sorts and cuts at a timestamp).

    Parameters
    ----------
    X : DataFrame
        Features; must contain ``time_column`` (it is kept, drop it yourself if unwanted).
    y : Series or array of shape (n_rows,)
        Target aligned with ``X`` by position.
    time_column : str
        Column that orders the rows, e.g. ``"install_date"``.
    test_share : float, default 0.3
        Approximate share of rows in the test part (the latest ones).
    gap : timedelta-like or number, optional
        Leave out the training rows whose time lies less than ``gap`` before the cut (a
        ``pd.Timedelta`` for timestamps, a number for numeric times). Use it when a row's label
        is only known some time after its timestamp: a label "purchase within 7 days of
        install" of a player who installed in the last week before the cut could not have
        been observed at the cut. Default: no gap.

    Returns
    -------
    X_train, X_test, y_train, y_test
        In the original row order within each part; ``y`` parts are Series indexed like ``X``.

    Examples
    --------
    >>> X = pd.DataFrame({"day": [3, 1, 2, 4], "c": list("abcd")})
    >>> X_tr, X_te, y_tr, y_te = split_by_time_column(X, [0, 1, 0, 1], "day", test_share=0.5)
    >>> X_te["day"].tolist()
    [3, 4]
    >>> split_by_time_column(X, [0, 1, 0, 1], "day", test_share=0.5, gap=2)[0]["day"].tolist()
    [1]
    """
    X = _require_frame(X, "X")
    if time_column not in X.columns:
        raise KeyError(f"time_column {time_column!r} is not a column of X; columns: {list(X)}")
    y_arr = _target_array(X, y)
    if not 0.0 < test_share < 1.0:
        raise ValueError(f"test_share must lie strictly between 0 and 1, got {test_share}")
    t = X[time_column]
    if t.isna().any():
        raise ValueError(f"{time_column!r} has missing values; fill or drop those rows first")
    cut = t.sort_values(kind="stable").iloc[int(np.floor(len(t) * (1.0 - test_share)))]
    test = (t >= cut).to_numpy()
    if test.all() or not test.any():
        raise ValueError(
            f"cannot split on {time_column!r}: all rows share the cut value {cut!r}; "
            "use a finer time column or another test_share"
        )
    train = ~test
    if gap is not None:
        train &= (t <= cut - gap).to_numpy()  # its label was known at the cut
        if not train.any():
            raise ValueError(f"the gap {gap!r} leaves no training row before the cut {cut!r}")
    y_s = pd.Series(y_arr, index=X.index, name=getattr(y, "name", None))
    return X[train], X[test], y_s[train], y_s[test]


def unseen_levels(
    train: pd.DataFrame, test: pd.DataFrame, columns: Sequence[str] | None = None
) -> pd.DataFrame:
    """Count the levels of ``test`` that never occur in ``train``, column by column.

    An encoder fitted on ``train`` meets these levels for the first time at prediction time:
    ``OneHotEncoder(handle_unknown='error')`` raises, ``'ignore'`` gives all-zero columns,
    ``TargetEncoder`` uses the global mean. Missing values are not counted as levels.

    Returns
    -------
    DataFrame
        Indexed by column: ``unseen_levels`` (how many distinct levels), ``unseen_row_share``
        (share of test rows carrying one) and ``examples`` (up to three, most frequent first).

    Examples
    --------
    >>> tr = pd.DataFrame({"device": ["a", "b", "a"]})
    >>> te = pd.DataFrame({"device": ["a", "c", "c", "d"]})
    >>> unseen_levels(tr, te).loc["device", ["unseen_levels", "unseen_row_share"]].tolist()
    [2.0, 0.75]
    """
    train = _require_frame(train, "train")
    test = _require_frame(test, "test")
    cols = list(train.columns.intersection(test.columns) if columns is None else columns)
    missing = [c for c in cols if c not in train.columns or c not in test.columns]
    if missing:
        raise KeyError(f"columns {missing} must be in both train and test")
    if not cols:
        raise ValueError("train and test share no column; pass frames with the same columns")
    rows = []
    for c in cols:
        seen = pd.Index(train[c].dropna().unique())
        te = test[c].dropna()
        new = ~te.isin(seen)
        counts = te[new].value_counts()
        counts = counts[counts > 0]
        rows.append(
            {
                "column": str(c),
                "unseen_levels": int(len(counts)),
                "unseen_row_share": float(new.sum() / len(test)),
                "examples": [str(v) for v in counts.index[:3]],
            }
        )
    return pd.DataFrame(rows).set_index("column")


def compare_encoders(
    encoders: Mapping[str, Any],
    models: Mapping[str, BaseEstimator],
    X: pd.DataFrame,
    y: pd.Series | np.ndarray,
    *,
    cv: Any = None,
    scoring: str = "roc_auc",
    pairs: Iterable[tuple[str, str]] | None = None,
    n_jobs: int | None = None,
) -> pd.DataFrame:
    """Cross-validate every encoder × model pair and return one tidy table.

    Each pair is ``make_pipeline(clone(encoder), clone(model))`` run through
    :func:`sklearn.model_selection.cross_validate`, so every encoder is fitted on the training
    folds only — including a ``TargetEncoder``, whose ``fit_transform`` also cross-fits
    internally.

    Parameters
    ----------
    encoders : mapping of name -> transformer or ``"passthrough"``
        Usually ``ColumnTransformer`` objects; ``"passthrough"`` hands ``X`` to the model
        unchanged (for a model with native categorical support).
    models : mapping of name -> classifier
    X, y : training data
    cv : int or CV splitter, default ``StratifiedKFold(5, shuffle=True, random_state=0)``
        The same splits are used for every pair, so the scores are paired.
    scoring : str, default "roc_auc"
    pairs : iterable of (encoder name, model name), optional
        Run only these pairs (e.g. leave out ``"passthrough"`` with a model that cannot read
        categories); by default every encoder with every model.
    n_jobs : int, optional
        Passed to ``cross_validate``.

    Returns
    -------
    DataFrame
        Columns ``encoder``, ``model``, ``fold``, ``train_score``, ``test_score``,
        ``fit_time``; one row per pair and fold. Summarise it with
        ``table.groupby(["encoder", "model"]).test_score.agg(["mean", "std"])``.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.preprocessing import OneHotEncoder
    >>> X = pd.DataFrame({"c": list("abab" * 10)}); y = [0, 1, 1, 0] * 10
    >>> t = compare_encoders({"onehot": OneHotEncoder()}, {"logreg": LogisticRegression()},
    ...                      X, y, cv=2)
    >>> t.shape
    (2, 6)
    """
    X = _require_frame(X, "X")
    _check_estimators(encoders, models)
    y_arr = _target_array(X, y)
    all_missing = [str(c) for c in X.columns if X[c].isna().all()]
    if all_missing:
        raise ValueError(f"columns {all_missing} are entirely missing; drop them from X first")
    todo = _pairs_to_run(encoders, models, pairs)
    if cv is None:
        cv = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)
    rows = []
    for enc_name, model_name in todo:
        rows += _cross_validate_pair(
            enc_name,
            encoders[enc_name],
            model_name,
            models[model_name],
            X,
            y_arr,
            cv=cv,
            scoring=scoring,
            n_jobs=n_jobs,
        )
    return pd.DataFrame(rows)


def _check_estimators(encoders: Mapping[str, Any], models: Mapping[str, BaseEstimator]) -> None:
    """Refuse empty dicts, non-dicts, and classes or other objects without ``.fit``."""
    if not encoders or not models:
        raise ValueError("pass at least one encoder and one model, e.g. {'onehot': ...}")
    for kind, mapping in (("encoder", encoders), ("model", models)):
        if not isinstance(mapping, Mapping):
            raise TypeError(f"{kind}s must be a dict of name -> estimator, got {type(mapping)}")
        for name, est in mapping.items():
            if kind == "encoder" and _is_passthrough(est):
                continue
            if isinstance(est, type) or not hasattr(est, "fit"):
                raise TypeError(
                    f"{kind} {name!r} is {est!r}, not an estimator instance with .fit; "
                    "pass an instance such as OneHotEncoder() (note the parentheses)"
                )


def _is_passthrough(encoder: Any) -> bool:
    return isinstance(encoder, str) and encoder == "passthrough"


def _pairs_to_run(
    encoders: Mapping[str, Any],
    models: Mapping[str, BaseEstimator],
    pairs: Iterable[tuple[str, str]] | None,
) -> list[tuple[str, str]]:
    """The (encoder name, model name) pairs to cross-validate: ``pairs``, or every pair."""
    if pairs is None:
        return [(e, m) for e in encoders for m in models]
    todo = [tuple(p) for p in pairs]
    unknown = [p for p in todo if p[0] not in encoders or p[1] not in models]
    if unknown or not todo:
        raise ValueError(
            f"pairs must name (encoder, model) keys of the two dicts; {unknown or 'none'} "
            f"given, encoders: {list(encoders)}, models: {list(models)}"
        )
    return todo


def _cross_validate_pair(
    enc_name: str,
    encoder: Any,
    model_name: str,
    model: BaseEstimator,
    X: pd.DataFrame,
    y: np.ndarray,
    *,
    cv: Any,
    scoring: str,
    n_jobs: int | None,
) -> list[dict[str, Any]]:
    """Cross-validate ``make_pipeline(encoder, model)``: one row of scores per fold."""
    steps = [clone(model)] if _is_passthrough(encoder) else [clone(encoder), clone(model)]
    try:
        res = cross_validate(
            make_pipeline(*steps),
            X,
            y,
            cv=cv,
            scoring=scoring,
            n_jobs=n_jobs,
            return_train_score=True,
            error_score="raise",
        )
    except Exception as exc:
        raise RuntimeError(f"encoder {enc_name!r} with model {model_name!r} failed: {exc}") from exc
    return [
        {
            "encoder": enc_name,
            "model": model_name,
            "fold": fold,
            "train_score": float(tr),
            "test_score": float(te),
            "fit_time": float(ft),
        }
        for fold, (tr, te, ft) in enumerate(
            zip(res["train_score"], res["test_score"], res["fit_time"], strict=True)
        )
    ]


def plot_scores(
    scores: Mapping[str, float | Sequence[float]],
    *,
    bayes_auc: float | None = None,
    ax: plt.Axes | None = None,
    title: str = "Test ROC AUC",
    xlabel: str = "ROC AUC (higher is better)",
    xlim: tuple[float, float] | None = (0.45, 1.0),
    reference: float | None = 0.5,
    reference_label: str = "chance",
    band: tuple[float, float] | None = None,
) -> plt.Axes:
    """Horizontal dot plot of scores, one row per label, with the Bayes limit as a line.

    A label may carry one score or several (e.g. one per CV fold): the dot is the mean, the
    bar spans ± one standard deviation and the small marks are the individual scores.

    Parameters
    ----------
    scores : mapping label -> score or sequence of scores
    bayes_auc : float, optional
        The Bayes-optimal AUC; on rows a model did not learn from, a score beyond it by more
        than the noise (``band``) can only come from a leak.
    ax : matplotlib Axes, optional
    title, xlabel : str
    xlim : (low, high) or None, default (0.45, 1.0)
        The same axis on every AUC plot, from just below chance to perfect, so plots compare
        at a glance (widened if a score falls outside); ``None`` lets matplotlib choose.
    reference : float or None, default 0.5
        A dotted line, labelled ``reference_label``: chance for AUCs, 0 for differences.
    band : (low, high), optional
        Shaded interval, e.g. the 95 % band of the truth's AUC over redrawn labels
        (:func:`auc_redraws`): where an honest score can land by luck.

    Returns
    -------
    matplotlib Axes
    """
    if not isinstance(scores, Mapping) or not scores:
        raise ValueError("scores must be a non-empty dict of label -> score(s)")
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 0.45 * len(scores) + 1.5))
    labels = list(scores)
    every: list[float] = []
    for i, label in enumerate(labels):
        vals = np.atleast_1d(np.asarray(scores[label], dtype=float))
        if vals.size == 0 or not np.isfinite(vals).all():
            raise ValueError(f"scores for {label!r} must be finite numbers, got {vals.tolist()}")
        every.extend(vals.tolist())
        mean = vals.mean()
        if vals.size > 1:
            ax.errorbar(mean, i, xerr=vals.std(ddof=1), fmt="o", color="C0", capsize=3)
            ax.plot(vals, np.full(vals.size, i), "|", color="C0", alpha=0.5)
        else:
            ax.plot(mean, i, "o", color="C0")
        ax.annotate(
            f"{mean:.3f}",
            (mean, i),
            xytext=(0, 6),
            textcoords="offset points",
            ha="center",
            fontsize=8,
        )
    _decorate(ax, every, bayes_auc, xlim, reference, reference_label, band)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="lower right", fontsize=8)
    ax.set_yticks(range(len(labels)), labels)
    ax.set_ylim(-0.7, len(labels) - 0.3)
    ax.invert_yaxis()
    ax.set_xlabel(xlabel)
    ax.set_title(title)
    ax.grid(axis="x", alpha=0.3)
    return ax


def _decorate(
    ax: plt.Axes,
    values: Sequence[float],
    bayes_auc: float | None,
    xlim: tuple[float, float] | None,
    reference: float | None,
    reference_label: str,
    band: tuple[float, float] | None,
) -> None:
    """Bayes line, noise band, reference line and the shared x axis of the two dot plots."""
    if band is not None:
        lo, hi = (float(b) for b in band)
        ax.axvspan(lo, hi, color="0.88", zorder=0, label=f"noise band {lo:.3f}–{hi:.3f}")
    if bayes_auc is not None:
        ax.axvline(bayes_auc, color="k", ls="--", label=f"Bayes limit {bayes_auc:.3f}")
    if reference is not None:
        ax.axvline(reference, color="0.4", ls=":", label=f"{reference_label} {reference:g}")
    if xlim is not None:
        lo, hi = xlim
        if values:
            lo, hi = min(lo, min(values) - 0.02), max(hi, max(values) + 0.02)
        ax.set_xlim(lo, hi)


def plot_comparison(
    table: pd.DataFrame,
    *,
    bayes_auc: float | None = None,
    ax: plt.Axes | None = None,
    score: str = "test_score",
    title: str = "Cross-validated ROC AUC by encoder and model",
    xlim: tuple[float, float] | None = (0.45, 1.0),
    reference: float | None = 0.5,
    reference_label: str = "chance",
    band: tuple[float, float] | None = None,
) -> plt.Axes:
    """Plot a :func:`compare_encoders` table: one row per encoder, one colour per model.

    Dots are fold means, bars ± one standard deviation over folds; the Bayes limit is a
    dashed line. ``xlim``, ``reference`` and ``band`` work as in :func:`plot_scores`.

    Returns
    -------
    matplotlib Axes
    """
    needed = {"encoder", "model", score}
    if not isinstance(table, pd.DataFrame) or not needed <= set(table.columns):
        raise ValueError(
            f"table must be a DataFrame with columns {sorted(needed)}, as returned by "
            "compare_encoders"
        )
    if table.empty:
        raise ValueError("table is empty; run compare_encoders first")
    encoders = list(dict.fromkeys(table["encoder"]))
    models = list(dict.fromkeys(table["model"]))
    if ax is None:
        _, ax = plt.subplots(figsize=(7.5, 0.6 * len(encoders) + 1.8))
    offsets = np.linspace(-0.2, 0.2, len(models)) if len(models) > 1 else [0.0]
    for k, (model, off) in enumerate(zip(models, offsets, strict=True)):
        sub = table[table["model"] == model].groupby("encoder", sort=False)[score]
        stats = sub.agg(["mean", "std"]).reindex(encoders)
        y = np.arange(len(encoders)) + off
        ok = stats["mean"].notna().to_numpy()
        ax.errorbar(
            stats["mean"][ok],
            y[ok],
            xerr=stats["std"].fillna(0)[ok],
            fmt="o",
            capsize=3,
            color=f"C{k}",
            label=model,
        )
    _decorate(ax, table[score].dropna().tolist(), bayes_auc, xlim, reference, reference_label, band)
    ax.set_yticks(range(len(encoders)), encoders)
    ax.invert_yaxis()
    ax.set_xlabel("ROC AUC, mean ± sd over folds (higher is better)")
    ax.set_ylabel("encoder")
    ax.set_title(title)
    ax.grid(axis="x", alpha=0.3)
    ax.legend(fontsize=8, loc="best")
    return ax


# --------------------------------------------------------------------------- AUC noise


def _auc_groups(pos: np.ndarray, neg: np.ndarray) -> np.ndarray:
    """AUC per row from positive and negative weights summed per distinct score (ascending).

    ``pos[b, g]`` and ``neg[b, g]`` are the weights of positives and negatives whose score is
    the ``g``-th smallest distinct score, in repeat ``b``; ties count one half, as in
    ``roc_auc_score``.
    """
    below = np.cumsum(neg, axis=1) - neg
    with np.errstate(invalid="ignore", divide="ignore"):
        return (pos * (below + 0.5 * neg)).sum(axis=1) / (pos.sum(axis=1) * neg.sum(axis=1))


def _score_groups(scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The order that sorts ``scores`` and where each run of equal sorted scores starts."""
    order = np.argsort(scores, kind="stable")
    _, first = np.unique(scores[order], return_index=True)
    return order, first


def auc_redraws(
    p: np.ndarray | pd.Series,
    scores: np.ndarray | pd.Series | None = None,
    *,
    n_draws: int = 1000,
    seed: int = 0,
    chunk: int = 100,
) -> np.ndarray:
    """ROC AUC of ``scores`` on ``n_draws`` sets of labels redrawn from the true ``p``.

    Each draw replaces every label by a fresh ``Bernoulli(p_i)``: the spread of the results is
    the sampling noise of one measured AUC on these rows. With ``scores=None`` the truth itself
    is scored, and the draws scatter around the Bayes limit (above it about half the time).
    The labels depend only on ``p``, ``n_draws``, ``seed`` and ``chunk``: two calls with the
    same ones score two models on the same label draws, so the difference of their results is
    paired (its spread is the noise of the difference of the two AUCs).

    Parameters
    ----------
    p : array of true probabilities, one per row
    scores : array, optional
        The ranking to score (default ``p``).
    n_draws : int, default 1000
    seed : int, default 0
    chunk : int, default 100
        Draws computed at once (memory: about ``5 * chunk * len(p)`` floats).

    Returns
    -------
    ndarray of shape (n_draws,)

    Examples
    --------
    >>> p = np.linspace(0.05, 0.95, 200)
    >>> aucs = auc_redraws(p, n_draws=200)
    >>> bool(0.7 < aucs.mean() < 0.9) and bool(aucs.std() > 0)
    True
    """
    p_arr = np.asarray(p, dtype=float)
    if p_arr.ndim != 1 or p_arr.size < 2 or not np.all((p_arr >= 0) & (p_arr <= 1)):
        raise ValueError("p must be a 1-D array of probabilities in [0, 1] with at least 2 rows")
    s = p_arr if scores is None else np.asarray(scores, dtype=float)
    if s.shape != p_arr.shape or not np.isfinite(s).all():
        raise ValueError(f"scores must be finite, one per row of p ({p_arr.size}), got {s.shape}")
    if n_draws < 1 or chunk < 1:
        raise ValueError(f"n_draws and chunk must be at least 1, got {n_draws} and {chunk}")
    rng = np.random.default_rng(seed)
    order, first = _score_groups(s)
    sizes = np.diff(np.append(first, s.size))
    out = []
    for done in range(0, n_draws, chunk):
        y = (rng.random((min(chunk, n_draws - done), p_arr.size)) < p_arr).astype(float)
        pos = np.add.reduceat(y[:, order], first, axis=1)
        out.append(_auc_groups(pos, sizes - pos))
    return np.concatenate(out)


def paired_bootstrap(
    y: np.ndarray | pd.Series,
    scores: Mapping[str, np.ndarray | pd.Series],
    baseline: str,
    *,
    n_boot: int = 1000,
    seed: int = 0,
    level: float = 0.95,
    chunk: int = 100,
) -> pd.DataFrame:
    """AUCs of several models on the same rows and their differences from ``baseline``.

    The rows are resampled with replacement ``n_boot`` times; every model is scored on the
    same resample, so each difference is *paired* and its interval is much narrower than the
    two AUCs' own noise would suggest (the models err on many of the same players).

    Parameters
    ----------
    y : array of 0/1 labels
    scores : mapping label -> scores (one per row of ``y``)
    baseline : str
        The key of ``scores`` every other model is compared with.
    n_boot, seed, level, chunk
        Resamples, their seed, the interval's coverage, resamples computed at once.

    Returns
    -------
    DataFrame
        Indexed by label (in the order given): ``auc`` on the rows as they are, ``diff`` (AUC
        minus the baseline's), ``diff_low`` and ``diff_high`` (the central ``level`` interval
        of the resampled differences) and ``share_above`` (share of resamples in which the
        model beats the baseline).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> y = rng.random(400) < 0.3
    >>> t = paired_bootstrap(y, {"good": y + rng.normal(0, 1, 400), "noise": rng.random(400)},
    ...                      "noise", n_boot=200)
    >>> bool(t.loc["good", "diff_low"] > 0)
    True
    """
    y_arr, arrays = _paired_inputs(y, scores, baseline)
    if not 0 < level < 1 or n_boot < 1 or chunk < 1:
        raise ValueError("need 0 < level < 1, n_boot >= 1 and chunk >= 1")
    groups = {k: _score_groups(v) for k, v in arrays.items()}
    ones = np.ones((1, y_arr.size))
    actual = {k: float(_weighted_auc(ones, y_arr, groups[k])[0]) for k in arrays}
    boot = _bootstrap_aucs(y_arr, groups, n_boot=n_boot, seed=seed, chunk=chunk)
    tail = (1 - level) / 2
    rows = []
    for k in arrays:
        d = boot[k] - boot[baseline]
        rows.append(
            {
                "model": k,
                "auc": actual[k],
                "diff": actual[k] - actual[baseline],
                "diff_low": float(np.quantile(d, tail)),
                "diff_high": float(np.quantile(d, 1 - tail)),
                "share_above": float(np.mean(d > 0)),
            }
        )
    return pd.DataFrame(rows).set_index("model")


def _paired_inputs(y: Any, scores: Any, baseline: str) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Labels as 0.0/1.0 floats and every model's scores as a float array, both validated."""
    y_arr = np.asarray(y).astype(float)
    if y_arr.ndim != 1 or not np.isin(y_arr, (0.0, 1.0)).all() or len(np.unique(y_arr)) < 2:
        raise ValueError("y must be 1-D 0/1 labels with both classes present")
    if not isinstance(scores, Mapping) or baseline not in scores:
        raise ValueError(f"scores must be a dict of label -> scores containing {baseline!r}")
    arrays = {k: np.asarray(v, dtype=float) for k, v in scores.items()}
    for k, v in arrays.items():
        if v.shape != y_arr.shape or not np.isfinite(v).all():
            raise ValueError(f"scores[{k!r}] must be finite, one per label, got {v.shape}")
    return y_arr, arrays


def _weighted_auc(
    w: np.ndarray, y: np.ndarray, groups: tuple[np.ndarray, np.ndarray]
) -> np.ndarray:
    """AUC per row of ``w``, the weight (times drawn) of every row of ``y`` in a resample.

    ``groups`` is :func:`_score_groups` of the model's scores.
    """
    order, first = groups
    w_sorted = w[:, order]
    total = np.add.reduceat(w_sorted, first, axis=1)
    pos = np.add.reduceat(w_sorted * y[order], first, axis=1)
    return _auc_groups(pos, total - pos)


def _bootstrap_aucs(
    y: np.ndarray,
    groups: Mapping[str, tuple[np.ndarray, np.ndarray]],
    *,
    n_boot: int,
    seed: int,
    chunk: int,
) -> dict[str, np.ndarray]:
    """Every model's AUC on the same ``n_boot`` resamples of the rows, ``chunk`` at a time."""
    n = y.size
    rng = np.random.default_rng(seed)
    boot: dict[str, list[np.ndarray]] = {k: [] for k in groups}
    for done in range(0, n_boot, chunk):
        idx = rng.integers(0, n, size=(min(chunk, n_boot - done), n))
        w = np.stack([np.bincount(row, minlength=n) for row in idx]).astype(float)
        for k in groups:
            boot[k].append(_weighted_auc(w, y, groups[k]))
    return {k: np.concatenate(v) for k, v in boot.items()}


# --------------------------------------------------------------------------- the truth


def expected_auc(p: np.ndarray | pd.Series, scores: np.ndarray | pd.Series) -> float:
    """The ROC AUC of ``scores`` expected when each label is drawn as ``Bernoulli(p_i)``.

    ``sum_ij p_i (1 - p_j) [1(s_i > s_j) + 1/2 1(s_i = s_j)] / (sum_i p_i * sum_j (1 - p_j))``
    (all i, j, as :func:`mlcourse.telemetry.bayes_auc`, which is this with ``scores = p``).
    Computed in O(n log n).

    Examples
    --------
    >>> p = np.array([0.1, 0.5, 0.9])
    >>> expected_auc(p, p) == expected_auc(p, 10 * p)  # only the ranking counts
    True
    """
    p_arr, s = _truth_inputs(p, scores, "scores")
    values, inverse = np.unique(s, return_inverse=True)
    pos = np.bincount(inverse, weights=p_arr, minlength=len(values))
    neg = np.bincount(inverse, weights=1.0 - p_arr, minlength=len(values))
    den = float(pos.sum() * neg.sum())
    if den == 0.0:
        raise ValueError("the expected AUC is undefined when every p is 0 or every p is 1")
    return float(np.sum(pos * (np.cumsum(neg) - neg + 0.5 * neg)) / den)


def expected_log_loss(p: np.ndarray | pd.Series, q: np.ndarray | pd.Series) -> float:
    """The log loss of predicted probabilities ``q`` expected when each label is drawn as
    ``Bernoulli(p_i)``: ``mean_i -[p_i log q_i + (1 - p_i) log(1 - q_i)]``.

    ``q`` is clipped to ``[eps, 1 - eps]`` like ``sklearn.metrics.log_loss``. Its minimum,
    reached at ``q = p``, is the mean entropy of the labels: the loss no model can beat.

    Examples
    --------
    >>> p = np.array([0.2, 0.5])
    >>> bool(expected_log_loss(p, p) < expected_log_loss(p, np.array([0.3, 0.4])))
    True
    """
    p_arr, q_arr = _truth_inputs(p, q, "q")
    if np.any((q_arr < 0) | (q_arr > 1)):
        raise ValueError("q must hold probabilities in [0, 1]")
    eps = np.finfo(float).eps
    q_arr = np.clip(q_arr, eps, 1 - eps)
    return float(np.mean(-(p_arr * np.log(q_arr) + (1 - p_arr) * np.log1p(-q_arr))))


def truth_scores(
    p: np.ndarray | pd.Series,
    predictions: Mapping[str, np.ndarray | pd.Series] | np.ndarray | pd.Series,
    y: np.ndarray | pd.Series | None = None,
    *,
    n_draws: int = 200,
    seed: int = 0,
) -> pd.DataFrame:
    """Each model's scores on these rows, measured on the labels and against the truth.

    The labels ``y`` are one draw from the true probabilities ``p``: an AUC or log loss on them
    is an estimate, off by luck. The truth measures the same thing exactly: the *expected* AUC
    and log loss over all label draws (:func:`expected_auc`, :func:`expected_log_loss`). Put
    them side by side to see how far one measured score can be from what it estimates.

    Parameters
    ----------
    p : array of true probabilities, one per row
    predictions : mapping label -> predicted probabilities (or one array)
        Each model's probability of the positive class, one per row of ``p``.
    y : array of 0/1 labels, optional
        The labels drawn; adds the columns ``auc`` and ``log_loss`` measured on them.
    n_draws, seed : int
        Label redraws behind ``auc_noise_sd`` (0 leaves the column out).

    Returns
    -------
    DataFrame
        Indexed by model: ``auc`` and ``log_loss`` (with ``y``), ``auc_noise_sd`` (the
        standard deviation of the AUC over ``n_draws`` label sets redrawn from ``p``, see
        :func:`auc_redraws`), ``expected_auc`` and ``expected_log_loss``. A last row
        ``"truth"`` scores ``p`` itself: its expected AUC is the Bayes limit, its expected
        log loss the floor no model can go below.

    Examples
    --------
    >>> p = np.linspace(0.05, 0.5, 100)
    >>> t = truth_scores(p, {"flat": np.full(100, 0.2)}, n_draws=0)
    >>> float(t.loc["flat", "expected_auc"]), bool(t.loc["truth", "expected_auc"] > 0.5)
    (0.5, True)
    """
    arrays = dict(predictions) if isinstance(predictions, Mapping) else {"model": predictions}
    if "truth" in arrays:
        raise ValueError('"truth" is the name of the last row; call the model something else')
    arrays["truth"] = p
    if y is not None:
        from sklearn.metrics import log_loss, roc_auc_score

        y_arr = np.asarray(y).astype(float)
        if y_arr.shape != np.shape(p) or not np.isin(y_arr, (0.0, 1.0)).all():
            raise ValueError(f"y must hold 0/1 labels, one per row of p ({np.size(p)})")
    rows = []
    for name, q in arrays.items():
        p_arr, q_arr = _truth_inputs(p, q, f"predictions[{name!r}]")
        row: dict[str, Any] = {"model": name}
        if y is not None:
            row["auc"] = float(roc_auc_score(y_arr, q_arr))
            row["log_loss"] = float(log_loss(y_arr, np.clip(q_arr, 0.0, 1.0), labels=[0, 1]))
        if n_draws:
            row["auc_noise_sd"] = float(
                np.std(auc_redraws(p_arr, q_arr, n_draws=n_draws, seed=seed))
            )
        row["expected_auc"] = expected_auc(p_arr, q_arr)
        row["expected_log_loss"] = expected_log_loss(p_arr, q_arr)
        rows.append(row)
    return pd.DataFrame(rows).set_index("model")


def _truth_inputs(p: Any, s: Any, name: str) -> tuple[np.ndarray, np.ndarray]:
    """True probabilities and one model's scores as float arrays, both validated."""
    p_arr = np.asarray(p, dtype=float)
    if p_arr.ndim != 1 or p_arr.size < 1 or not np.all((p_arr >= 0) & (p_arr <= 1)):
        raise ValueError("p must be a 1-D array of probabilities in [0, 1]")
    s_arr = np.asarray(s, dtype=float)
    if s_arr.shape != p_arr.shape or not np.isfinite(s_arr).all():
        raise ValueError(
            f"{name} must be finite, one per row of p ({p_arr.size}), got {s_arr.shape}"
        )
    return p_arr, s_arr
