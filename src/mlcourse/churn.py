"""Churn toolbox for notebook 03, "who will leave?".

Labels and point-in-time features from the raw Lumen Isles event log, a split by snapshot
(:func:`split_by_snapshot`: train on snapshots whose label windows closed before the test
snapshot), an evaluation table beside the Bayes limit, and the tables behind lift/gain and
expected-profit curves. The models, metrics and plots themselves come from scikit-learn;
this module only prepares data and summarises results.

The churn definition and the feature set are the contract of ``docs/architecture.md``:

* at a snapshot ``s`` a player is **labelled** when installed at least ``min_tenure`` (7 days)
  before ``s`` and not churned at an earlier snapshot;
* ``churned = 1`` when the player has no ``session_start`` in ``[s, s + window)`` (14 days);
* features at ``s`` use only events with ``ts < s``.

Examples
--------
>>> from mlcourse.datasets import load_events, load_players  # doctest: +SKIP
>>> events, players = load_events(), load_players()  # doctest: +SKIP
>>> X = build_features(events, players, "2026-03-01")  # doctest: +SKIP
>>> y = label_churn(events, players, "2026-03-01")  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, brier_score_loss, log_loss, roc_auc_score

# the simulator draws churn from exactly these features (docs/architecture.md)
from mlcourse.telemetry import NUMERIC_FEATURES as _SIMULATOR_FEATURES

__all__ = [
    "CATEGORICAL_FEATURES",
    "FEATURES",
    "NUMERIC_FEATURES",
    "auc_interval",
    "best_threshold",
    "bootstrap_thresholds",
    "build_dataset",
    "build_features",
    "concordance_index",
    "evaluation_table",
    "label_churn",
    "lift_table",
    "plot_evaluation",
    "profit_curve",
    "redrawn_aucs",
    "split_by_snapshot",
    "toy_log",
]

# Lists, not tuples, so that ``frame[FEATURES]`` selects columns (a tuple is one column key).
#: numeric point-in-time features, in the order of docs/architecture.md
NUMERIC_FEATURES: list[str] = list(_SIMULATOR_FEATURES)
#: attributes copied from the players table
CATEGORICAL_FEATURES: list[str] = ["platform", "difficulty"]
#: every model input column produced by :func:`build_features`
FEATURES: list[str] = NUMERIC_FEATURES + CATEGORICAL_FEATURES

_EVENT_COLUMNS = ("player_id", "ts", "event")
_PLAYER_COLUMNS = ("player_id", "install_date")
_NS_PER_DAY = 86_400 * 10**9
_NS_PER_UNIT = {"s": 10**9, "ms": 10**6, "us": 10**3, "ns": 1}


# --------------------------------------------------------------------------- input checks


def _require_frame(df: Any, name: str, columns: Iterable[str]) -> None:
    if not isinstance(df, pd.DataFrame):
        raise TypeError(
            f"`{name}` must be a pandas DataFrame, got {type(df).__name__}; "
            f"load it with mlcourse.datasets.load_{name}()"
        )
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(
            f"`{name}` lacks the column(s) {missing}; it has {list(df.columns)}. "
            f"Pass the table from mlcourse.datasets.load_{name}() (or a subset of its rows)."
        )


def _utc_ns(col: pd.Series, label: str) -> np.ndarray:
    """Int64 nanoseconds since the epoch (UTC) of a tz-aware datetime column, without copying
    when the column is already in ns (a ``.to_numpy()`` of tz-aware data makes slow objects)."""
    dtype = col.dtype
    if not isinstance(dtype, pd.DatetimeTZDtype):
        if pd.api.types.is_datetime64_dtype(dtype):
            raise TypeError(
                f"{label} holds time stamps without a time zone; the course works in UTC: "
                f"convert with pd.to_datetime({label}, utc=True) or .dt.tz_localize('UTC')"
            )
        raise TypeError(
            f"{label} must hold UTC time stamps (datetime64[..., UTC]), got dtype {dtype}; "
            f"convert with pd.to_datetime({label}, utc=True)"
        )
    if col.isna().any():
        raise ValueError(f"{label} has {int(col.isna().sum())} missing time stamp(s); drop them")
    arr = col.array
    return np.asarray(arr.asi8, dtype=np.int64) * _NS_PER_UNIT[arr.unit]


def _snapshot(snapshot: Any, name: str = "snapshot") -> pd.Timestamp:
    try:
        ts = pd.Timestamp(snapshot)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"`{name}` must be a date such as '2026-03-01' or a pd.Timestamp, got {snapshot!r}"
        ) from exc
    if ts is pd.NaT:
        raise ValueError(f"`{name}` is missing (NaT); pass a date such as '2026-03-01'")
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def _timedelta(value: Any, name: str) -> pd.Timedelta:
    try:
        td = pd.Timedelta(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"`{name}` must be a duration such as '14D', got {value!r}") from exc
    if td is pd.NaT or td <= pd.Timedelta(0):
        raise ValueError(f"`{name}` must be a positive duration such as '14D', got {value!r}")
    return td


def _player_ids(col: pd.Series, label: str) -> np.ndarray:
    if not pd.api.types.is_integer_dtype(col.dtype):
        raise TypeError(
            f"{label} must hold integer player ids, got dtype {col.dtype}; "
            f"convert with {label}.astype('int64')"
        )
    if col.isna().any():
        raise ValueError(f"{label} has missing player ids; drop those rows")
    return col.to_numpy(dtype=np.int64)


class _Log:
    """Validated view of the events and players tables as NumPy arrays.

    ``code[i]`` is the row of ``players`` that event ``i`` belongs to; per-player aggregates are
    then ``np.bincount`` calls, which is what makes a 10^6-event log take well under a second.
    """

    def __init__(self, events: pd.DataFrame, players: pd.DataFrame) -> None:
        _require_frame(events, "events", _EVENT_COLUMNS)
        _require_frame(players, "players", _PLAYER_COLUMNS)
        pid = _player_ids(players["player_id"], "players['player_id']")
        self.players = players
        self.player_index = pd.Index(pid)
        if not self.player_index.is_unique:
            dup = self.player_index[self.player_index.duplicated()].unique()[:5].tolist()
            raise ValueError(
                f"players has duplicated player_id values (e.g. {dup}); keep one row per player"
            )
        self.install = _utc_ns(players["install_date"], "players['install_date']")
        epid = _player_ids(events["player_id"], "events['player_id']")
        self.code = self.player_index.get_indexer(epid)
        if (self.code < 0).any():
            unknown = np.unique(epid[self.code < 0])
            raise ValueError(
                f"events mention {unknown.size} player id(s) missing from players "
                f"(e.g. {unknown[:5].tolist()}); pass the players table that goes with this log"
            )
        self.ts = _utc_ns(events["ts"], "events['ts']")
        # Identical rows can only come from a bad concatenation or a repeated export; they
        # would double-count sessions, so refuse them instead of guessing. A full-row
        # ``events.duplicated()`` costs about a second on 10^6 rows, so first find candidates by
        # a one-column hash of (ts, player_id) (wrapping int64 arithmetic is fine for a hash),
        # then compare whole rows among those few candidates only.
        key = self.ts * np.int64(1_000_003) + epid
        candidates = np.flatnonzero(pd.Index(key).duplicated(keep=False))
        if candidates.size:
            dup = events.iloc[candidates].duplicated()
            if dup.any():
                raise ValueError(
                    f"events has {int(dup.sum())} exact duplicate row(s) (e.g. row "
                    f"{dup.index[dup.to_numpy()][0]!r}); remove them with "
                    "events.drop_duplicates()"
                )
        self.events = events
        self.n = len(pid)
        self._kind: dict[str, np.ndarray] = {}
        self._float: dict[str, np.ndarray] = {}

    def kind(self, name: str) -> np.ndarray:
        """Boolean mask of the events called ``name`` (cached)."""
        if name not in self._kind:
            self._kind[name] = np.asarray(self.events["event"] == name, dtype=bool)
        return self._kind[name]

    def count(self, mask: np.ndarray) -> np.ndarray:
        return np.bincount(self.code[mask], minlength=self.n)

    def column(self, name: str, mask: np.ndarray, label: str) -> np.ndarray:
        if name not in self.events.columns:
            raise ValueError(
                f"events lacks the column {name!r}, needed for {label}; "
                "pass the table from mlcourse.datasets.load_events()"
            )
        if name not in self._float:
            self._float[name] = self.events[name].to_numpy(dtype=float, na_value=np.nan)
        values = self._float[name][mask]
        if np.isnan(values).any():
            raise ValueError(
                f"events[{name!r}] is missing on {int(np.isnan(values).sum())} {label} row(s); "
                "every such event needs a value"
            )
        return values


# --------------------------------------------------------------------------- labels, features


def build_features(events: pd.DataFrame, players: pd.DataFrame, snapshot: Any) -> pd.DataFrame:
    """Point-in-time churn features of every player installed before ``snapshot``.

    Only events with ``ts < snapshot`` are used, so the result is the same whatever the log
    holds from the snapshot on. The order of the events does not matter.

    Parameters
    ----------
    events : DataFrame
        The event log (``player_id``, ``ts`` in UTC, ``event``, and ``level``, ``success``,
        ``value`` for level ends and purchases), as from ``load_events()``.
    players : DataFrame
        One row per player (``player_id``, ``install_date``, ``platform``, ``difficulty``).
    snapshot : str or Timestamp
        The moment of prediction; a date without a time zone is read as UTC midnight.

    Returns
    -------
    DataFrame
        One row per player with ``install_date < snapshot``: ``player_id``, ``snapshot`` and
        the columns of :data:`FEATURES` (definitions in docs/architecture.md). A player with no
        session before the snapshot has ``recency_days == tenure_days`` (counted from install).

    Examples
    --------
    >>> ev = pd.DataFrame({"player_id": [1, 1, 1], "event": ["session_start"] * 3,
    ...                    "ts": pd.to_datetime(["2026-01-01", "2026-01-08", "2026-01-20"],
    ...                                         utc=True)})
    >>> pl = pd.DataFrame({"player_id": [1], "platform": ["ios"], "difficulty": ["normal"],
    ...                    "install_date": pd.to_datetime(["2026-01-01"], utc=True)})
    >>> build_features(ev, pl, "2026-01-10")[["tenure_days", "recency_days", "sessions_7d"]]
       tenure_days  recency_days  sessions_7d
    0          9.0           2.0            1
    """
    return _features(_Log(events, players), _snapshot(snapshot))


def _features(log: _Log, s: pd.Timestamp) -> pd.DataFrame:
    players = log.players
    s_ns = s.value
    day = _NS_PER_DAY
    past = log.ts < s_ns
    last7 = past & (log.ts >= s_ns - 7 * day)
    prev7 = (log.ts < s_ns - 7 * day) & (log.ts >= s_ns - 14 * day)

    sess = log.kind("session_start")
    sessions_total = log.count(sess & past)
    last_session = np.full(log.n, np.iinfo(np.int64).min)
    np.maximum.at(last_session, log.code[sess & past], log.ts[sess & past])
    last_seen = np.where(sessions_total > 0, last_session, log.install)

    level_end = log.kind("level_end")
    lv7 = level_end & last7
    n_lv7 = log.count(lv7)
    success7 = log.column("success", lv7, "level_end").astype(bool) if lv7.any() else None
    failed7 = np.bincount(log.code[lv7][~success7], minlength=log.n) if success7 is not None else 0
    lv_past = level_end & past
    won = np.zeros(lv_past.sum(), dtype=bool)
    if lv_past.any():
        won = log.column("success", lv_past, "level_end").astype(bool)
    max_level = np.zeros(log.n)
    if won.any():
        levels = log.column("level", lv_past, "level_end")[won]
        np.maximum.at(max_level, log.code[lv_past][won], levels)

    buy = log.kind("purchase") & past
    spend = np.zeros(log.n)
    if buy.any():
        spend = np.bincount(
            log.code[buy], weights=log.column("value", buy, "purchase"), minlength=log.n
        )

    keep = log.install < s_ns
    out = pd.DataFrame(
        {
            "player_id": log.player_index.to_numpy()[keep],
            "snapshot": pd.Series(s, index=range(int(keep.sum()))),
            "tenure_days": (s_ns - log.install[keep]) / day,
            "recency_days": (s_ns - last_seen[keep]) / day,
            "sessions_7d": log.count(sess & last7)[keep],
            "sessions_prev_7d": log.count(sess & prev7)[keep],
            "sessions_total": sessions_total[keep],
            "fail_rate_7d": np.divide(failed7, n_lv7, out=np.zeros(log.n), where=n_lv7 > 0)[keep],
            "max_level": max_level[keep].astype(np.int64),
            "spend_total": np.round(spend[keep], 2),  # cents: hide float summation noise
            "ads_7d": log.count(log.kind("ad_view") & last7)[keep],
            "invites_total": log.count(log.kind("friend_invite") & past)[keep],
        }
    )
    for col in CATEGORICAL_FEATURES:
        if col not in players.columns:
            raise ValueError(
                f"players lacks the column {col!r}; pass the table from load_players()"
            )
        out[col] = players[col].to_numpy()[keep]
        if isinstance(players[col].dtype, pd.CategoricalDtype):
            out[col] = out[col].astype(players[col].dtype)
    return out


def label_churn(
    events: pd.DataFrame,
    players: pd.DataFrame,
    snapshot: Any,
    window: Any = "14D",
    min_tenure: Any = "7D",
    *,
    earlier_snapshots: Sequence[Any] = (),
    log_end: Any = None,
) -> pd.DataFrame:
    """Churn labels at ``snapshot`` for the players that can be labelled.

    Parameters
    ----------
    events, players : DataFrame
        As for :func:`build_features`.
    snapshot : str or Timestamp
        The moment of prediction (UTC).
    window : str or Timedelta, default "14D"
        Inactivity window: churned means no ``session_start`` in ``[snapshot, snapshot+window)``.
    min_tenure : str or Timedelta, default "7D"
        Players installed later than ``snapshot - min_tenure`` are **censored** (too new to
        judge) and left out.
    earlier_snapshots : sequence of dates, optional
        Snapshots before this one at which players were already labelled; a player who churned
        at one of them is no longer at risk and is left out (churn is absorbing).
    log_end : date, optional
        Where the log ends. By default the last event time stamp; labels need the log to cover
        the whole window, otherwise a player could look churned only because the log stops.

    Returns
    -------
    DataFrame
        ``player_id``, ``snapshot`` and ``churned`` (0/1 int8), one row per labelled player.

    Examples
    --------
    >>> ev = pd.DataFrame({"player_id": [1, 2, 1], "event": ["session_start"] * 3,
    ...                    "ts": pd.to_datetime(["2026-01-01", "2026-01-02", "2026-01-30"],
    ...                                         utc=True)})
    >>> pl = pd.DataFrame({"player_id": [1, 2],
    ...                    "install_date": pd.to_datetime(["2026-01-01", "2026-01-02"], utc=True)})
    >>> label_churn(ev, pl, "2026-01-20", log_end="2026-02-05")[["player_id", "churned"]]
       player_id  churned
    0          1        0
    1          2        1
    """
    return _labels(
        _Log(events, players),
        _snapshot(snapshot),
        _timedelta(window, "window"),
        _timedelta(min_tenure, "min_tenure"),
        earlier_snapshots,
        log_end,
    )


def _labels(
    log: _Log,
    s: pd.Timestamp,
    w: pd.Timedelta,
    tenure: pd.Timedelta,
    earlier_snapshots: Sequence[Any],
    log_end: Any,
) -> pd.DataFrame:
    end = _snapshot(log_end, "log_end") if log_end is not None else None
    if end is None:
        if len(log.ts) == 0:
            raise ValueError("events is empty; labels need the sessions of the label window")
        # The last event usually falls a little before the nominal end of the log; allow a
        # day of slack rather than refusing the last snapshot whose window just fits.
        end = pd.Timestamp(int(log.ts.max()), tz="UTC") + pd.Timedelta("1D")
    if s + w > end:
        raise ValueError(
            f"the event log ends at {end:%Y-%m-%d %H:%M} but labels at {s:%Y-%m-%d} need "
            f"sessions until {s + w:%Y-%m-%d}; pick a snapshot no later than "
            f"{end - w:%Y-%m-%d} (or pass log_end if you know the log is complete)"
        )
    sess_ts = log.ts[log.kind("session_start")]
    sess_code = log.code[log.kind("session_start")]

    def active(start: pd.Timestamp) -> np.ndarray:
        inside = (sess_ts >= start.value) & (sess_ts < (start + w).value)
        return np.bincount(sess_code[inside], minlength=log.n) > 0

    def eligible(at: pd.Timestamp) -> np.ndarray:
        return log.install <= (at - tenure).value

    at_risk = eligible(s)
    for prev in earlier_snapshots:
        p = _snapshot(prev, "earlier_snapshots")
        if p >= s:
            raise ValueError(
                f"earlier_snapshots must all lie before the snapshot {s:%Y-%m-%d}; got {p}"
            )
        at_risk &= ~(eligible(p) & ~active(p))
    churned = ~active(s)
    return pd.DataFrame(
        {
            "player_id": log.player_index.to_numpy()[at_risk],
            "snapshot": pd.Series(s, index=range(int(at_risk.sum()))),
            "churned": churned[at_risk].astype(np.int8),
        }
    )


def build_dataset(
    events: pd.DataFrame,
    players: pd.DataFrame,
    snapshots: Sequence[Any],
    window: Any = "14D",
    min_tenure: Any = "7D",
) -> pd.DataFrame:
    """Features and labels at several snapshots, one row per labelled (player, snapshot).

    Snapshots are processed in time order; a player who churned at one snapshot is not labelled
    at the later ones.

    Returns
    -------
    DataFrame
        ``player_id``, ``snapshot``, the :data:`FEATURES` and ``churned``.
    """
    if isinstance(snapshots, str) or not isinstance(snapshots, Iterable):
        raise TypeError("`snapshots` must be a list of dates, e.g. ['2026-02-01', '2026-02-15']")
    stamps = sorted(_snapshot(s) for s in snapshots)
    if not stamps:
        raise ValueError("`snapshots` is empty; pass at least one date")
    w, tenure = _timedelta(window, "window"), _timedelta(min_tenure, "min_tenure")
    log = _Log(events, players)  # validate once, reuse for every snapshot
    parts = []
    for i, s in enumerate(stamps):
        X = _features(log, s)
        y = _labels(log, s, w, tenure, stamps[:i], None)
        parts.append(X.merge(y, on=["player_id", "snapshot"], how="inner", validate="1:1"))
    return pd.concat(parts, ignore_index=True)


# --------------------------------------------------------------------------- splitting


def split_by_snapshot(
    data: pd.DataFrame,
    test_snapshot: Any,
    window: Any = "14D",
    time_col: str = "snapshot",
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split labelled rows in time: train on the past, test on one later snapshot.

    A training row at snapshot ``t`` is only used when its label window has closed before the
    test snapshot (``t + window <= test_snapshot``): at prediction time nobody knows yet whether
    the players of a more recent snapshot churned.

    Returns
    -------
    (train, test) : tuple of DataFrame

    Examples
    --------
    >>> d = pd.DataFrame({"snapshot": pd.to_datetime(
    ...     ["2026-01-01", "2026-01-10", "2026-01-15", "2026-01-15"], utc=True), "x": range(4)})
    >>> train, test = split_by_snapshot(d, "2026-01-15")
    >>> train["x"].tolist(), test["x"].tolist()
    ([0], [2, 3])
    """
    _require_frame(data, "data", [time_col])
    s = _snapshot(test_snapshot, "test_snapshot")
    w = _timedelta(window, "window")
    when = data[time_col]
    _utc_ns(when, f"data[{time_col!r}]")
    test = data[when == s]
    train = data[when + w <= s]
    if test.empty:
        have = sorted({f"{t:%Y-%m-%d}" for t in when.unique()})
        raise ValueError(f"no rows at the test snapshot {s:%Y-%m-%d}; snapshots present: {have}")
    if train.empty:
        raise ValueError(
            f"no training rows: no snapshot lies at least {w} before {s:%Y-%m-%d}; "
            "use a later test snapshot or add earlier snapshots"
        )
    return train, test


# --------------------------------------------------------------------------- evaluation


def _binary_labels(y_true: Any) -> np.ndarray:
    y = np.asarray(y_true)
    if y.ndim != 1 or y.size == 0:
        raise ValueError(f"labels must be a non-empty 1-D array, got shape {y.shape}")
    if not np.isin(y, [0, 1]).all():
        raise ValueError("labels must be 0/1 (churned or not); got other values")
    if np.unique(y).size < 2:
        raise ValueError("labels hold only one class; AUC and gains need churners and stayers")
    return y.astype(int)


def _scores(scores: Any, n: int, name: str) -> np.ndarray:
    p = np.asarray(scores, dtype=float)
    if p.ndim == 2 and p.shape[1] == 2:
        raise ValueError(
            f"{name}: pass the churn probability only, i.e. predict_proba(X)[:, 1], not both "
            "columns"
        )
    if p.shape != (n,):
        raise ValueError(f"{name}: expected {n} scores, got shape {p.shape}")
    if not np.isfinite(p).all():
        raise ValueError(f"{name}: scores contain NaN or infinity")
    return p


def evaluation_table(
    y_true: Any, predictions: Mapping[str, Any], p_true: Any = None
) -> pd.DataFrame:
    """ROC-AUC, PR-AUC, Brier score and log loss of each model, beside the Bayes limit.

    Parameters
    ----------
    y_true : array of 0/1
        Observed churn labels of the test rows.
    predictions : mapping name -> array
        Predicted churn probabilities of each model on the same rows.
    p_true : array, optional
        The true churn probabilities (from ``load_churn_truth()``). Adds the row
        ``"Bayes (true p)"`` (the true p scored on these labels) and the column ``auc_gap``:
        model AUC minus the population Bayes-optimal AUC, ``bayes_auc(p_true)``. A gap above
        about two noise standard deviations flags a model that is almost surely leaking
        information it cannot have at prediction time (the truth itself crosses that line on
        a few per cent of draws of the labels).

    Returns
    -------
    DataFrame indexed by model name.
    """
    y = _binary_labels(y_true)
    if not isinstance(predictions, Mapping) or not predictions:
        raise TypeError("`predictions` must be a dict {model name: churn probabilities}")
    rows = {}
    named = dict(predictions)
    if p_true is not None:
        named["Bayes (true p)"] = p_true
    for name, scores in named.items():
        p = _scores(scores, y.size, str(name))
        rows[name] = {
            "roc_auc": roc_auc_score(y, p),
            "pr_auc": average_precision_score(y, p),
            "brier": brier_score_loss(y, p) if ((p >= 0) & (p <= 1)).all() else np.nan,
            "log_loss": log_loss(y, np.clip(p, 1e-15, 1 - 1e-15))
            if ((p >= 0) & (p <= 1)).all()
            else np.nan,
        }
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "model"
    if p_true is not None:
        from mlcourse.telemetry import bayes_auc

        limit = float(bayes_auc(_scores(p_true, y.size, "p_true")))
        table["auc_gap"] = table["roc_auc"] - limit
        table.attrs["bayes_auc"] = limit
    return table


def auc_interval(
    y_true: Any, scores: Any, *, n_boot: int = 200, seed: int = 0, level: float = 0.95
) -> tuple[float, float, float]:
    """ROC-AUC of ``scores`` and a percentile bootstrap interval over the rows.

    The rows are resampled with replacement ``n_boot`` times (as multinomial weights, so all
    resamples are scored at once from one sort); ties count half, as in ``roc_auc_score``.

    Returns
    -------
    (auc, low, high)

    Examples
    --------
    >>> auc, low, high = auc_interval([0, 0, 1, 1, 0, 1], [0.1, 0.4, 0.35, 0.8, 0.2, 0.9])
    >>> round(auc, 3), bool(low <= auc <= high)
    (0.889, True)
    """
    y = _binary_labels(y_true)
    p = _scores(scores, y.size, "scores")
    if not 0 < level < 1 or n_boot < 1:
        raise ValueError("need 0 < level < 1 and n_boot >= 1")
    order = np.argsort(p, kind="stable")
    p_sorted, y_sorted = p[order], y[order].astype(float)
    starts = np.flatnonzero(np.r_[True, p_sorted[1:] != p_sorted[:-1]])  # tie groups

    def auc_of(weights: np.ndarray) -> np.ndarray:
        """AUC for each row of row weights (shape: resamples x rows, in score order)."""
        pos = np.add.reduceat(weights * y_sorted, starts, axis=1)
        neg = np.add.reduceat(weights * (1 - y_sorted), starts, axis=1)
        below = np.cumsum(neg, axis=1) - neg
        return (pos * (below + 0.5 * neg)).sum(axis=1) / (pos.sum(axis=1) * neg.sum(axis=1))

    auc = float(auc_of(np.ones((1, y.size)))[0])
    rng = np.random.default_rng(seed)
    weights = np.stack(
        [np.bincount(rng.integers(0, y.size, y.size), minlength=y.size) for _ in range(n_boot)]
    )[:, order].astype(float)
    tail = (1 - level) / 2
    with np.errstate(invalid="ignore", divide="ignore"):
        boot = auc_of(weights)  # NaN for a resample holding only one class: skipped
    low, high = np.nanquantile(boot, [tail, 1 - tail])
    return auc, float(low), float(high)


def redrawn_aucs(
    p_true: Any, scores: Any = None, *, n_draws: int = 50, seed: int = 0
) -> np.ndarray:
    """ROC-AUCs of ``scores`` when the labels are redrawn from the true probabilities.

    Each draw sets ``y_i = 1`` with probability ``p_true[i]`` independently and scores
    ``scores`` (by default ``p_true`` itself) on those labels, exactly as ``roc_auc_score``
    does (ties count half): their spread is the sampling noise of an AUC on these rows, and
    their mean is close to ``mlcourse.telemetry.bayes_auc(p_true)`` when the scores are the
    truth. All draws are scored at once from one ranking. A draw holding one class only gives
    NaN.

    Examples
    --------
    >>> aucs = redrawn_aucs(np.linspace(0.05, 0.95, 400), n_draws=20, seed=1)
    >>> aucs.shape, bool(0.7 < aucs.mean() < 0.9)
    ((20,), True)
    """
    from scipy.stats import rankdata

    q = np.asarray(p_true, dtype=float)
    if q.ndim != 1 or q.size == 0 or not np.isfinite(q).all() or ((q < 0) | (q > 1)).any():
        raise ValueError("`p_true` must be a non-empty 1-D array of probabilities")
    s = q if scores is None else _scores(scores, q.size, "scores")
    if n_draws < 1:
        raise ValueError("need n_draws >= 1")
    ranks = rankdata(s)  # average ranks: a tie between a churner and a stayer counts half
    draws = np.random.default_rng(seed).random((n_draws, q.size)) < q
    n1 = draws.sum(axis=1)
    n0 = q.size - n1
    with np.errstate(invalid="ignore", divide="ignore"):
        return (draws @ ranks - n1 * (n1 + 1) / 2) / (n1 * n0)


def concordance_index(time: Any, event: Any, risk: Any) -> float:
    """Harrell's concordance index of risk scores for right-censored times to churn.

    A pair of players is *comparable* when the one with the shorter time churned (``event``
    true) at that time: the other was still there. It is *concordant* when the shorter time
    has the higher risk; tied risks count half. The index is the concordant share of the
    comparable pairs: 0.5 for random scores, 1 for a perfect ordering. Pairs with equal times
    are not compared.

    Parameters
    ----------
    time : array of floats
        Time to churn, or to censoring when ``event`` is false.
    event : array of bool
        True when the churn was observed, False when the time is censored.
    risk : array of floats
        Higher means expected to churn sooner (e.g. a churn probability).

    Examples
    --------
    >>> concordance_index([1, 2, 3, 4], [True, True, False, True], [0.9, 0.8, 0.3, 0.5])
    1.0
    >>> concordance_index([1, 2, 3], [True, True, True], [0.1, 0.2, 0.3])
    0.0
    """
    t = np.asarray(time, dtype=float)
    e = np.asarray(event)
    r = np.asarray(risk, dtype=float)
    if t.ndim != 1 or t.size < 2 or e.shape != t.shape or r.shape != t.shape:
        raise ValueError("time, event and risk must be 1-D arrays of the same length (>= 2)")
    if not (np.isfinite(t).all() and np.isfinite(r).all()) or not np.isin(e, [0, 1]).all():
        raise ValueError("time and risk must be finite and event true/false")
    e = e.astype(bool)
    concordant = comparable = 0.0
    for start in range(0, t.size, 512):  # rows of the pair matrix, in chunks
        ti, ri = t[start : start + 512, None], r[start : start + 512, None]
        pairs = e[start : start + 512, None] & (ti < t[None, :])
        comparable += pairs.sum()
        concordant += (pairs & (ri > r[None, :])).sum() + 0.5 * (pairs & (ri == r[None, :])).sum()
    if comparable == 0:
        raise ValueError("no comparable pairs: needs an observed churn before another time")
    return float(concordant / comparable)


def lift_table(y_true: Any, scores: Any, n_bins: int = 10) -> pd.DataFrame:
    """Cumulative gain and lift when contacting the top-scored players first.

    Row ``k`` describes contacting the top ``k / n_bins`` of players by score.

    Returns
    -------
    DataFrame
        ``share_contacted``, ``n_contacted``, ``churners_found``, ``gain`` (share of all
        churners found) and ``lift`` (gain / share contacted; 1 means no better than random).

    Examples
    --------
    >>> lift_table([1, 0, 1, 0], [0.9, 0.1, 0.8, 0.2], n_bins=2)["lift"].tolist()
    [2.0, 1.0]
    """
    y = _binary_labels(y_true)
    p = _scores(scores, y.size, "scores")
    if not isinstance(n_bins, int | np.integer) or not 1 <= n_bins <= y.size:
        raise ValueError(f"n_bins must be an integer between 1 and {y.size}, got {n_bins!r}")
    order = np.argsort(-p, kind="stable")
    found = np.cumsum(y[order])
    n_contacted = np.ceil(np.arange(1, n_bins + 1) / n_bins * y.size).astype(int)
    share = n_contacted / y.size
    gain = found[n_contacted - 1] / y.sum()
    return pd.DataFrame(
        {
            "share_contacted": share,
            "n_contacted": n_contacted,
            "churners_found": found[n_contacted - 1],
            "gain": gain,
            "lift": gain / share,
        }
    )


def profit_curve(
    outcome: Any,
    scores: Any,
    offer_cost: float,
    saved_value: float,
    success_rate: float = 1.0,
) -> pd.DataFrame:
    """Profit of a retention campaign that targets every player scoring at least a threshold.

    Each targeted player costs ``offer_cost``; a targeted churner is saved with probability
    ``success_rate`` and is then worth ``saved_value``. Non-churners cost the offer and gain
    nothing.

    Parameters
    ----------
    outcome : array
        0/1 churn labels (realised profit) or true churn probabilities (expected profit).
    scores : array
        Model scores used to rank and target players.
    offer_cost, saved_value : float
        Cost of one offer and value of one saved player (same currency).
    success_rate : float, default 1.0
        Probability that an offer keeps a churner.

    Returns
    -------
    DataFrame
        One row per distinct score (highest first) plus the "target nobody" row:
        ``threshold``, ``n_targeted`` and ``profit``.

    Examples
    --------
    >>> profit_curve([1, 0], [0.9, 0.2], offer_cost=1, saved_value=10)["profit"].tolist()
    [0.0, 9.0, 8.0]
    """
    q = np.asarray(outcome, dtype=float)
    if q.ndim != 1 or q.size == 0 or not np.isfinite(q).all() or ((q < 0) | (q > 1)).any():
        raise ValueError("`outcome` must be a non-empty 1-D array of labels or probabilities")
    p = _scores(scores, q.size, "scores")
    for name, v in (("offer_cost", offer_cost), ("saved_value", saved_value)):
        if not np.isfinite(v) or v < 0:
            raise ValueError(f"`{name}` must be a non-negative number, got {v!r}")
    if not 0 < success_rate <= 1:
        raise ValueError(f"`success_rate` must lie in (0, 1], got {success_rate!r}")
    order = np.argsort(-p, kind="stable")
    gain = np.cumsum(success_rate * saved_value * q[order] - offer_cost)
    # a threshold can only sit between distinct scores: keep the last row of each tie group
    p_sorted = p[order]
    last_of_group = np.r_[p_sorted[1:] != p_sorted[:-1], True]
    return pd.DataFrame(
        {
            "threshold": np.r_[np.inf, p_sorted[last_of_group]],
            "n_targeted": np.r_[0, np.flatnonzero(last_of_group) + 1],
            "profit": np.r_[0.0, gain[last_of_group]],
        }
    )


def best_threshold(curve: pd.DataFrame) -> tuple[float, float]:
    """Threshold with the highest profit in a :func:`profit_curve` table (first one on ties).

    Returns
    -------
    (threshold, profit)
    """
    _require_frame(curve, "curve", ["threshold", "profit"])
    i = int(np.argmax(curve["profit"].to_numpy()))
    return float(curve["threshold"].iloc[i]), float(curve["profit"].iloc[i])


def bootstrap_thresholds(
    y_true: Any,
    scores: Any,
    offer_cost: float,
    saved_value: float,
    success_rate: float = 1.0,
    *,
    n_boot: int = 200,
    seed: int = 0,
) -> np.ndarray:
    """The most profitable threshold of :func:`profit_curve`, chosen again on ``n_boot``
    bootstrap resamples of the rows: how far the choice could have landed.

    Resample ``b`` draws the rows with replacement (``rng.integers(0, n, n)`` with
    ``rng = np.random.default_rng(seed)``, in turn) and returns what
    ``best_threshold(profit_curve(y[i], scores[i], ...))[0]`` returns on those rows, computed
    for all resamples at once.

    Examples
    --------
    >>> y = np.array([1, 1, 0, 1, 0, 0])
    >>> t = bootstrap_thresholds(y, [0.9, 0.8, 0.7, 0.6, 0.3, 0.1], 1, 4, n_boot=50)
    >>> t.shape, bool(np.isin(t, [np.inf, 0.9, 0.8, 0.7, 0.6, 0.3, 0.1]).all())
    ((50,), True)
    """
    y = _binary_labels(y_true).astype(float)
    p = _scores(scores, y.size, "scores")
    profit_curve(y, p, offer_cost, saved_value, success_rate)  # validates the arguments
    if n_boot < 1:
        raise ValueError("need n_boot >= 1")
    order = np.argsort(-p, kind="stable")
    p_sorted = p[order]
    last_of_group = np.r_[p_sorted[1:] != p_sorted[:-1], True]
    gain = (success_rate * saved_value * y - offer_cost)[order]
    rng = np.random.default_rng(seed)
    weights = np.stack(
        [np.bincount(rng.integers(0, y.size, y.size), minlength=y.size) for _ in range(n_boot)]
    )[:, order].astype(float)
    profit = np.cumsum(weights * gain, axis=1)[:, last_of_group]
    profit = np.c_[np.zeros(n_boot), profit]  # target nobody first, as in profit_curve
    thresholds = np.r_[np.inf, p_sorted[last_of_group]]
    # a threshold whose group holds no resampled row repeats the profit before it; argmax
    # takes the first row of the maximum, as best_threshold does on the resample's own curve
    return thresholds[np.argmax(profit, axis=1)]


def plot_evaluation(
    y_true: Any,
    predictions: Mapping[str, Any],
    p_true: Any = None,
    *,
    n_bins: int = 10,
    title: str = "",
):
    """ROC, precision-recall and calibration curves side by side, the true p drawn dashed.

    The precision-recall panel carries the churn rate, the precision of random scores.

    Uses scikit-learn's ``RocCurveDisplay``, ``PrecisionRecallDisplay`` and
    ``CalibrationDisplay``. Returns the matplotlib figure.
    """
    import matplotlib.pyplot as plt
    from sklearn.calibration import CalibrationDisplay
    from sklearn.metrics import PrecisionRecallDisplay, RocCurveDisplay

    y = _binary_labels(y_true)
    named = dict(predictions)
    if p_true is not None:
        named["Bayes (true p)"] = p_true
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.5))
    for name, scores in named.items():
        p = _scores(scores, y.size, str(name))
        style = {"linestyle": "--", "color": "black"} if name == "Bayes (true p)" else {}
        RocCurveDisplay.from_predictions(y, p, name=name, ax=axes[0], curve_kwargs=style)
        PrecisionRecallDisplay.from_predictions(y, p, name=name, ax=axes[1], curve_kwargs=style)
        CalibrationDisplay.from_predictions(
            y, p, n_bins=n_bins, strategy="quantile", name=name, ax=axes[2], **style
        )
    axes[1].axhline(
        y.mean(), color="grey", linestyle=":", label=f"churn rate {y.mean():.2f} (random scores)"
    )
    axes[0].set_title("ROC curve")
    axes[1].set_title("Precision-recall curve")
    axes[2].set_title("Calibration (quantile bins)")
    for ax in axes:
        ax.legend(fontsize="small", loc="best")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------- toy data


def toy_log(
    n_players: int = 200,
    start: Any = "2026-01-01",
    days: int = 60,
    seed: int = 0,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A small random event log and players table with the course's columns.

    Meant for tests, benchmarks and exercise probes ("does your function work on a log it has
    never seen?"). The behaviour is deliberately simple (decaying daily sessions, absorbing
    quitting, a few level ends, ads, purchases and invites per session) and is **not** the Lumen
    Isles simulator; use ``mlcourse.datasets`` for the course data. About 2 % of players never
    play, so tables with players without events are part of every toy log.

    Returns
    -------
    (events, players) : tuple of DataFrame
        ``events`` (``player_id``, ``ts``, ``event``, ``level``, ``success``, ``value``) sorted
        by ``ts`` then ``player_id``; ``players`` (``player_id``, ``install_date``,
        ``platform``, ``difficulty``).

    Examples
    --------
    >>> events, players = toy_log(n_players=50, days=30, seed=1)
    >>> sorted(events["event"].unique())
    ['ad_view', 'friend_invite', 'level_end', 'purchase', 'session_start']
    """
    if n_players < 1 or days < 2:
        raise ValueError("toy_log needs n_players >= 1 and days >= 2")
    rng = np.random.default_rng(seed)
    t0 = _snapshot(start, "start").value // 10**9  # whole seconds
    install = t0 + rng.integers(0, days * 86_400 // 2, n_players)
    players = _toy_players(rng, install)
    who, sess_ts = _toy_sessions(rng, install, t0, days)
    ev = _toy_events(rng, who, sess_ts)
    ev["player_id"] = players["player_id"].to_numpy()[ev.pop("pid").to_numpy()]
    ev["ts"] = pd.to_datetime(ev["ts"], unit="s", utc=True)
    ev["event"] = ev["event"].astype("category")
    ev = ev.drop_duplicates(["player_id", "ts", "event"])
    ev = ev.sort_values(["ts", "player_id"], kind="stable", ignore_index=True)
    return ev[["player_id", "ts", "event", "level", "success", "value"]], players


def _toy_players(rng: np.random.Generator, install: np.ndarray) -> pd.DataFrame:
    """The players table of :func:`toy_log`; ``install`` in seconds since the epoch."""
    n_players = install.size
    return pd.DataFrame(
        {
            "player_id": np.arange(1, n_players + 1, dtype=np.int64) * 7 + 1000,
            "install_date": pd.to_datetime(install, unit="s", utc=True),
            "platform": pd.Categorical(rng.choice(["android", "ios", "web"], n_players)),
            "difficulty": pd.Categorical(
                rng.choice(["easy", "normal", "hard"], n_players),
                categories=["easy", "normal", "hard"],
                ordered=True,
            ),
        }
    )


def _toy_sessions(
    rng: np.random.Generator, install: np.ndarray, t0: int, days: int
) -> tuple[np.ndarray, np.ndarray]:
    """Session starts of :func:`toy_log`: the player (row of ``install``) and time in seconds."""
    n_players = install.size
    # one row per (player, day since install): play on that day while not yet quit
    engagement = rng.gamma(2.0, 0.6, n_players)
    quit_day = rng.geometric(rng.uniform(0.02, 0.2, n_players))
    quit_day[rng.random(n_players) < 0.02] = 0  # never plays
    day = np.arange(days)
    alive = (day[None, :] < quit_day[:, None]) & (
        install[:, None] + day[None, :] * 86_400 < t0 + days * 86_400
    )
    p_play = np.clip(engagement[:, None] * (day[None, :] + 1.0) ** -0.5, 0, 0.95)
    p_play[:, 0] = 1.0  # the install session
    play = alive & (rng.random((n_players, days)) < p_play)
    who, d = np.nonzero(play)
    n_sess = 1 + rng.poisson(engagement[who])
    who, d = np.repeat(who, n_sess), np.repeat(d, n_sess)
    sess_ts = install[who] + d * 86_400 + rng.integers(0, 86_400 - 3_600, who.size)
    sess_ts[d == 0] = np.minimum(sess_ts[d == 0], install[who[d == 0]] + 3_600)
    return who, sess_ts


def _toy_events(rng: np.random.Generator, who: np.ndarray, sess_ts: np.ndarray) -> pd.DataFrame:
    """Sessions and the events within them (``pid`` a player's row, ``ts`` in seconds), with
    ``level``, ``success`` and ``value`` where the event has them."""
    parts = [pd.DataFrame({"pid": who, "ts": sess_ts, "event": "session_start"})]
    for event, mean in (
        ("level_end", 2.0),
        ("ad_view", 1.0),
        ("purchase", 0.04),
        ("friend_invite", 0.03),
    ):
        k = rng.poisson(mean, who.size)
        p_idx = np.repeat(np.arange(who.size), k)
        parts.append(
            pd.DataFrame(
                {
                    "pid": who[p_idx],
                    "ts": sess_ts[p_idx] + rng.integers(1, 3_000, p_idx.size),
                    "event": event,
                }
            )
        )
    ev = pd.concat(parts, ignore_index=True)
    n = len(ev)
    is_level = (ev["event"] == "level_end").to_numpy()
    is_buy = (ev["event"] == "purchase").to_numpy()
    ev["level"] = np.where(is_level, rng.integers(1, 60, n), np.nan)
    ev["success"] = pd.array(np.where(is_level, rng.random(n) < 0.7, False), dtype="boolean")
    ev.loc[~is_level, "success"] = pd.NA
    ev["value"] = np.where(is_buy, rng.choice([0.99, 4.99, 9.99], n), np.nan)
    return ev
