"""Survival toolbox for notebook 07, "Survival: how long do players stay?".

A player's *lifetime* runs from a start (their install) to their last session. We only know a
player has quit once the log has gone on ``quiet_days`` without them, so the last moment at
which a quit can be confirmed is ``log_end - quiet_days`` (the *cutoff*):

* a player whose last session is at or before the cutoff has an **observed** quit at their last
  session;
* every other player is **censored at the cutoff**: their lifetime is at least
  ``cutoff - start``, whatever they did after it.

Censoring at the last session instead (for the players whose last session is after the cutoff)
makes the censoring time depend on the outcome: a player who quit in the log's last
``quiet_days`` days is then censored at the very moment they quit, and the retention curve is
biased up. :func:`durations` does it right.

Example
-------
>>> import pandas as pd
>>> t = pd.Timestamp("2026-01-01", tz="UTC")
>>> day = pd.Timedelta(days=1)
>>> sessions = pd.DataFrame({"player_id": [1, 1, 2, 3], "ts": [t, t + 2 * day, t, t + 25 * day]})
>>> start = pd.Series([t, t, t], index=[1, 2, 3])
>>> durations(sessions, start, log_end=t + 30 * day, quiet_days=14).reset_index()
   player_id  duration  event
0          1       2.0   True
1          2       0.0   True
2          3      16.0  False
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["durations", "true_last_sessions"]

_DAY = pd.Timedelta(days=1)


def _timestamp(value: Any, name: str) -> pd.Timestamp:
    try:
        ts = pd.Timestamp(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a timestamp, got {value!r}") from exc
    if ts is pd.NaT:
        raise ValueError(f"{name} must be a timestamp, got NaT")
    return ts


def durations(
    sessions: pd.DataFrame,
    start: pd.Series,
    log_end: Any,
    quiet_days: float = 14,
    entry: pd.Series | None = None,
) -> pd.DataFrame:
    """Lifetime (days) and quit flag per player, censored at the end of confirmable observation.

    Parameters
    ----------
    sessions : DataFrame
        One row per session with columns ``player_id`` and ``ts`` (timestamps; any order).
    start : Series
        Start of each player's lifetime (e.g. the install time), indexed by ``player_id``
        without duplicates. Every player of ``sessions`` needs one, and every player here needs
        at least one session at or after their start.
    log_end : timestamp
        End of the log. Nothing in ``sessions`` may be later.
    quiet_days : float, default 14
        Days without a session after which a quit counts as confirmed. The cutoff
        ``log_end - quiet_days`` is the last moment a quit can be confirmed.
    entry : Series, optional
        Late entry: the time each player came under observation (e.g. a snapshot), indexed
        by ``player_id``, at or after their start. A player whose last session is before their
        entry had quit before we looked and is left out; the others get an ``entry`` column
        (days from start), for a left-truncated estimator. Without it every player is
        observed from their start.

    Returns
    -------
    DataFrame
        Indexed by ``player_id`` (sorted), with ``duration`` (days from start to the last
        session, or to the cutoff when censored) and ``event`` (True: quit observed), plus
        ``entry`` when given. Players whose start (or entry) is at or after the cutoff were
        never observed long enough to confirm anything and are left out.

    Raises
    ------
    ValueError
        On empty input, missing columns, missing or duplicated players, times that are not
        timestamps or are missing, a session later than ``log_end`` or before its player's
        start, an entry before the start, or ``quiet_days <= 0``.

    Example
    -------
    >>> import pandas as pd
    >>> t = pd.Timestamp("2026-01-01", tz="UTC")
    >>> sessions = pd.DataFrame({"player_id": [7, 7], "ts": [t, t + pd.Timedelta(days=3)]})
    >>> start = pd.Series([t], index=[7])
    >>> durations(sessions, start, t + pd.Timedelta(days=10), quiet_days=5).reset_index()
       player_id  duration  event
    0          7       3.0   True
    """
    end = _check_inputs(sessions, start, log_end, quiet_days)
    ts = sessions["ts"]
    by_player = ts.groupby(sessions["player_id"].to_numpy())
    last = by_player.max()
    begin = _start_of(last, by_player.min(), start)
    cutoff = end - pd.Timedelta(days=float(quiet_days))
    out = pd.DataFrame(
        {
            "duration": (last.clip(upper=cutoff) - begin) / _DAY,
            "event": (last <= cutoff).to_numpy(),
        },
        index=last.index.rename("player_id"),
    )
    keep = (begin < cutoff).to_numpy()
    if entry is not None:
        at = _entry_of(last, begin, entry)
        out["entry"] = (at - begin) / _DAY
        keep = keep & (at < cutoff).to_numpy() & (last >= at).to_numpy()
    return out[keep].sort_index()


def _check_inputs(sessions: Any, start: Any, log_end: Any, quiet_days: Any) -> pd.Timestamp:
    """Validate the arguments of :func:`durations`; return ``log_end`` as a Timestamp."""
    if not isinstance(sessions, pd.DataFrame) or not {"player_id", "ts"} <= set(sessions):
        raise ValueError("sessions must be a DataFrame with columns 'player_id' and 'ts'")
    if len(sessions) == 0:
        raise ValueError("sessions is empty: no lifetime to measure")
    if not isinstance(start, pd.Series) or len(start) == 0:
        raise ValueError("start must be a non-empty Series of start times indexed by player_id")
    if start.index.has_duplicates:
        raise ValueError("start has duplicated player_id values in its index")
    if not (np.isfinite(quiet_days) and quiet_days > 0):
        raise ValueError(f"quiet_days must be a positive number of days, got {quiet_days!r}")
    ts = sessions["ts"]
    if not pd.api.types.is_datetime64_any_dtype(ts) or ts.isna().any():
        raise ValueError("sessions['ts'] must hold timestamps, none missing")
    if not pd.api.types.is_datetime64_any_dtype(start) or start.isna().any():
        raise ValueError("start must hold timestamps, none missing")
    end = _timestamp(log_end, "log_end")
    try:
        late = ts.max() > end
        early_start = (start > end).any()
    except TypeError as exc:  # tz-aware against tz-naive
        raise ValueError(
            "sessions['ts'], start and log_end must all be tz-aware or all tz-naive"
        ) from exc
    if late:
        raise ValueError(f"a session at {ts.max()} is later than log_end {end}")
    if early_start:
        raise ValueError("a start time is later than log_end")
    return end


def _start_of(last: pd.Series, first: pd.Series, start: pd.Series) -> pd.Series:
    """The start time of every player of ``last`` (their last session), checked against
    ``first`` (their first session)."""
    unknown = last.index.difference(start.index)
    if len(unknown):
        raise ValueError(
            f"{len(unknown)} players of sessions have no start time (e.g. {unknown[0]!r})"
        )
    silent = start.index.difference(last.index)
    if len(silent):
        raise ValueError(f"{len(silent)} players of start have no session (e.g. {silent[0]!r})")
    begin = start.reindex(last.index)
    if (first < begin).any():
        raise ValueError("a session is before its player's start: are the times mixed up?")
    return begin


def _entry_of(last: pd.Series, begin: pd.Series, entry: Any) -> pd.Series:
    """The entry time of every player of ``last``, checked against their start."""
    if not isinstance(entry, pd.Series) or entry.index.has_duplicates:
        raise ValueError("entry must be a Series of times indexed by player_id, no duplicates")
    if not pd.api.types.is_datetime64_any_dtype(entry):
        raise ValueError("entry must hold timestamps")
    at = entry.reindex(last.index)
    if at.isna().any():
        raise ValueError("every player needs an entry time")
    if (at < begin).any():
        raise ValueError("an entry time is before its player's start")
    return at


def true_last_sessions(
    config: Any = None, extra_snapshots: int = 4, log_last: pd.Series | None = None
) -> pd.Series:
    """Each player's last session in the same world simulated ``extra_snapshots`` snapshots
    (two weeks each) longer: the teacher's view of when a player really quit.

    The longer run makes the same draws up to the original log end, so its sessions there are
    the log's own (``tests/test_survival.py`` checks it); a player who churns at one of the
    extra snapshots never plays again. The run takes seconds, so its result is kept in
    ``$MLCOURSE_CLAIMS_CACHE`` or the course's ``.cache/claims`` (the claims ledger reads the
    same file) and read from there next time; when that folder cannot be written, nothing is
    kept.

    Parameters
    ----------
    config : mlcourse.telemetry.SimConfig, optional
        The world; defaults to ``SimConfig()``, the shipped data.
    extra_snapshots : int
        How many snapshots to add after the last one.
    log_last : pandas.Series, optional
        The last session per player of the log in use. When the simulated world is not that
        log's (a data variant made with another seed: its configuration is not recorded), a
        warning says so and every player's entry is missing (``NaT``): there is no truth for
        that log, and a stand-in would show a false one.

    Returns
    -------
    pandas.Series
        The last session's timestamp, indexed by ``player_id``.
    """
    from mlcourse.telemetry import SimConfig, simulate

    cfg = SimConfig() if config is None else config
    more = tuple(
        cfg.snapshots[-1] + dt.timedelta(days=14 * k) for k in range(1, extra_snapshots + 1)
    )
    snaps = (*cfg.snapshots, *more)
    longer = dataclasses.replace(cfg, snapshots=snaps, log_end=snaps[-1] + dt.timedelta(days=14))
    path = None  # kept only for the default calendar: the file name holds seed and size only
    if extra_snapshots == 4 and cfg == SimConfig(n_players=cfg.n_players, seed=cfg.seed):
        path = _cache_dir() / f"truth-07-{cfg.seed}-{cfg.n_players}.pkl"
    if path is not None and path.is_file():
        return _same_world(pd.read_pickle(path), log_last)  # noqa: S301 (our own cache)
    events = simulate(longer).events
    last = events[events["event"] == "session_start"].groupby("player_id")["ts"].max()
    if path is not None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            last.to_pickle(tmp)
            tmp.replace(path)  # atomic: a reader never sees half a file
        except OSError:
            pass  # a read-only course folder: compute again next time
    return _same_world(last, log_last)


def _same_world(last: pd.Series, log_last: pd.Series | None) -> pd.Series:
    """``last``, if it extends ``log_last`` (every player there, never earlier), else
    ``NaT`` for every player of ``log_last``, with a warning."""
    if log_last is None:
        return last
    extended = last.reindex(log_last.index)
    if extended.notna().all() and bool((extended >= log_last).all()):
        return last
    import warnings

    warnings.warn(
        "this log is not the simulated world's (a data variant?): no teacher's view of the "
        "true lifetimes, they are returned as missing (NaT)",
        stacklevel=3,
    )
    return pd.Series(pd.NaT, index=log_last.index, dtype=log_last.dtype, name=log_last.name)


def _cache_dir() -> Path:
    env = os.environ.get("MLCOURSE_CLAIMS_CACHE")
    if env:
        return Path(env)
    from mlcourse.datasets import course_root

    return course_root() / ".cache" / "claims"
