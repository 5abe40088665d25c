"""Tests of mlcourse.survival: hand-built cases, bad input, and the simulator's truth."""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import pandas as pd
import pytest

from mlcourse.survival import durations, true_last_sessions
from mlcourse.telemetry import SimConfig, simulate

T0 = pd.Timestamp("2026-01-01", tz="UTC")
DAY = pd.Timedelta(days=1)


def _frame(rows: list[tuple[int, float]]) -> pd.DataFrame:
    return pd.DataFrame({"player_id": [p for p, _ in rows], "ts": [T0 + d * DAY for _, d in rows]})


def _start(days: dict[int, float]) -> pd.Series:
    return pd.Series({p: T0 + d * DAY for p, d in days.items()})


# ------------------------------------------------------------------------------ hand-built


def test_censoring_at_the_cutoff_not_at_the_last_session():
    # log ends at day 30, quiet period 14: the cutoff is day 16
    sessions = _frame([(1, 0), (1, 5), (2, 0), (2, 20), (3, 3), (3, 16), (4, 10), (4, 29)])
    out = durations(sessions, _start({1: 0, 2: 0, 3: 3, 4: 10}), T0 + 30 * DAY, quiet_days=14)
    assert out.index.tolist() == [1, 2, 3, 4]
    # 1 quit at day 5 (confirmed); 2 quit at day 20, which nobody can confirm yet: censored at
    # the cutoff (16), not at 20; 3's last session is the cutoff itself (14 quiet days: a quit)
    assert out["event"].tolist() == [True, False, True, False]
    assert out["duration"].tolist() == [5.0, 16.0, 13.0, 6.0]


def test_order_of_sessions_does_not_matter():
    rows = [(1, 4), (2, 1), (1, 0), (2, 0), (1, 2)]
    start = _start({1: 0, 2: 0})
    a = durations(_frame(rows), start, T0 + 40 * DAY)
    b = durations(_frame(sorted(rows)), start, T0 + 40 * DAY)
    pd.testing.assert_frame_equal(a, b)
    assert a["duration"].tolist() == [4.0, 1.0]


def test_players_starting_at_or_after_the_cutoff_are_left_out():
    sessions = _frame([(1, 0), (2, 16), (3, 20)])
    out = durations(sessions, _start({1: 0, 2: 16, 3: 20}), T0 + 30 * DAY, quiet_days=14)
    assert out.index.tolist() == [1]


def test_quiet_period_moves_the_cutoff():
    sessions = _frame([(1, 0), (1, 12)])
    start = _start({1: 0})
    assert durations(sessions, start, T0 + 30 * DAY, quiet_days=14)["event"].item()
    out = durations(sessions, start, T0 + 30 * DAY, quiet_days=21)
    assert not out["event"].item() and out["duration"].item() == 9.0


def test_late_entry():
    sessions = _frame([(1, 0), (1, 3), (2, 0), (2, 9), (3, 0), (3, 25)])
    start = _start({1: 0, 2: 0, 3: 0})
    entry = _start({1: 7, 2: 7, 3: 7})
    out = durations(sessions, start, T0 + 30 * DAY, quiet_days=14, entry=entry)
    # 1 quit before entering observation: left out (we could not have seen them at risk)
    assert out.index.tolist() == [2, 3]
    assert out["entry"].tolist() == [7.0, 7.0]
    assert out["event"].tolist() == [True, False]
    assert out["duration"].tolist() == [9.0, 16.0]


# ------------------------------------------------------------------------------ bad input


@pytest.mark.parametrize(
    ("sessions", "start", "log_end", "kwargs", "message"),
    [
        (_frame([]), _start({1: 0}), T0 + 30 * DAY, {}, "empty"),
        (_frame([(1, 0)]).rename(columns={"ts": "time"}), _start({1: 0}), T0, {}, "columns"),
        (_frame([(1, 0)]), pd.Series(dtype="datetime64[ns, UTC]"), T0, {}, "non-empty"),
        (_frame([(1, 0), (2, 0)]), _start({1: 0}), T0 + 30 * DAY, {}, "no start time"),
        (_frame([(1, 0)]), _start({1: 0, 2: 0}), T0 + 30 * DAY, {}, "no session"),
        (_frame([(1, 0), (1, 31)]), _start({1: 0}), T0 + 30 * DAY, {}, "later than log_end"),
        (_frame([(1, 0)]), _start({1: 1}), T0 + 30 * DAY, {}, "before its player's start"),
        (_frame([(1, 0)]), _start({1: 0}), T0 + 30 * DAY, {"quiet_days": 0}, "quiet_days"),
        (_frame([(1, 0)]), _start({1: 0}), pd.Timestamp("2026-02-01"), {}, "tz-aware"),
        (_frame([(1, 0)]), _start({1: 0}), "not a time", {}, "log_end must be a timestamp"),
        (
            _frame([(1, 0)]),
            pd.Series([T0, T0], index=[1, 1]),
            T0 + 30 * DAY,
            {},
            "duplicated",
        ),
        (
            _frame([(1, 0)]),
            _start({1: 0}),
            T0 + 30 * DAY,
            {"entry": _start({1: -1})},
            "entry time is before",
        ),
        (_frame([(1, 0)]), pd.Series({1: 0.0}), T0 + 30 * DAY, {}, "start must hold timestamps"),
    ],
)
def test_bad_input_is_refused_with_a_clear_message(sessions, start, log_end, kwargs, message):
    with pytest.raises(ValueError, match=message):
        durations(sessions, start, log_end, **kwargs)


# ------------------------------------------------------------------------------ the truth


@pytest.fixture(scope="module")
def worlds():
    """A small world, and the same world with a log two months longer (the truth)."""
    base = SimConfig(n_players=600, seed=5)
    more = tuple(base.snapshots[-1] + dt.timedelta(days=14 * k) for k in range(1, 5))
    snaps = (*base.snapshots, *more)
    longer = dataclasses.replace(base, snapshots=snaps, log_end=snaps[-1] + dt.timedelta(days=14))
    return base, simulate(base), simulate(longer)


def _sessions(result) -> pd.DataFrame:
    return result.events[result.events["event"] == "session_start"]


def test_against_the_simulators_churn_state(worlds):
    cfg, sim, _ = worlds
    start = sim.players.set_index("player_id")["install_date"]
    out = durations(_sessions(sim), start, cfg.export_time, quiet_days=cfg.churn_window_days)
    truth = sim.churn_truth
    churned = truth.loc[truth["churned"], "player_id"]
    last_snapshot = truth[truth["snapshot"] == truth["snapshot"].max()]
    alive = last_snapshot.loc[~last_snapshot["churned"], "player_id"]
    last = _sessions(sim).groupby("player_id")["ts"].max()
    # every true churner: an observed quit at their last session
    assert out.loc[churned, "event"].all()
    want = (last[churned] - start[churned]) / DAY
    np.testing.assert_allclose(out.loc[churned, "duration"], want.to_numpy())
    # every player still playing at the last snapshot: censored at it (the cutoff)
    assert not out.loc[alive, "event"].any()
    cutoff = pd.Timestamp(cfg.snapshots[-1], tz="UTC")
    np.testing.assert_allclose(out.loc[alive, "duration"], ((cutoff - start[alive]) / DAY))


def test_against_the_true_lifetimes_of_a_longer_log(worlds):
    cfg, sim, longer = worlds
    start = sim.players.set_index("player_id")["install_date"]
    out = durations(_sessions(sim), start, cfg.export_time, quiet_days=cfg.churn_window_days)
    true_last = _sessions(longer).groupby("player_id")["ts"].max()
    life = ((true_last - start.reindex(true_last.index)) / DAY).reindex(out.index)
    censored = ~out["event"]
    # a censored lifetime is a lower bound of the true one
    assert (life[censored] >= out.loc[censored, "duration"] - 1e-9).all()
    # an observed quit is the true one, but for the few players who were not yet labelled at
    # the last snapshot (installed in its last week) and came back after a quiet fortnight
    wrong = out["event"] & ~np.isclose(life, out["duration"])
    assert wrong.mean() < 0.02


def test_true_last_sessions_is_the_longer_log_and_is_kept(worlds, tmp_path, monkeypatch):
    cfg, _, longer = worlds
    monkeypatch.setenv("MLCOURSE_CLAIMS_CACHE", str(tmp_path))
    want = _sessions(longer).groupby("player_id")["ts"].max()
    got = true_last_sessions(cfg)
    pd.testing.assert_series_equal(got, want)
    kept = tmp_path / f"truth-07-{cfg.seed}-{cfg.n_players}.pkl"
    assert kept.is_file() and not list(tmp_path.glob("*.tmp"))
    pd.testing.assert_series_equal(true_last_sessions(cfg), want)  # read back from the file


def test_true_last_sessions_keeps_only_the_default_calendar(tmp_path, monkeypatch):
    monkeypatch.setenv("MLCOURSE_CLAIMS_CACHE", str(tmp_path))
    cfg = SimConfig(n_players=60, seed=2)
    true_last_sessions(cfg, extra_snapshots=1)  # another calendar: not kept under that name
    assert not list(tmp_path.iterdir())


def test_true_last_sessions_of_another_world_is_missing(worlds, tmp_path, monkeypatch):
    cfg, sim, _ = worlds
    monkeypatch.setenv("MLCOURSE_CLAIMS_CACHE", str(tmp_path))
    log_last = _sessions(sim).groupby("player_id")["ts"].max()
    same = true_last_sessions(cfg, log_last=log_last)
    assert (same.reindex(log_last.index) >= log_last).all()
    other = dataclasses.replace(cfg, seed=cfg.seed + 1)
    with pytest.warns(UserWarning, match="not the simulated world"):
        got = true_last_sessions(other, log_last=log_last)
    assert got.index.equals(log_last.index) and got.dtype == log_last.dtype
    assert got.isna().all()  # no truth for that log, rather than a false one
