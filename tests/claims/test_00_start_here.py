"""The claims of notebook 00_start_here (sections 4 and 6, its recap), measured on every world.

Several are facts of the simulator's design (fixed dates: every world has the same install
window, churn days and log end), so their agreement across worlds is by construction; they
are here so that a change of the simulator that breaks the prose is caught.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mlcourse.claims import REGISTRY, Finding, World, claim, judge, notebook_claims

NOTEBOOK = "00_start_here"
DAY = pd.Timedelta(days=1)


def _daily_players(world: World) -> pd.Series:
    starts = world.sessions()
    return starts.groupby(starts["ts"].dt.floor("D"))["player_id"].nunique()


def _last_install(world: World) -> pd.Timestamp:
    return world.players()["install_date"].max().floor("D")


def _churn_days(world: World) -> pd.DatetimeIndex:
    return pd.DatetimeIndex(sorted(pd.to_datetime(world.churn_truth()["snapshot"].unique())))


@claim(
    "00-export-knows-future",
    NOTEBOOK,
    "last_seen_at, account_status and lifetime_spend were written at the export, long after "
    "most players' first days: they know the future",
)
def export_knows_future(world: World) -> Finding:
    players, events = world.players().set_index("player_id"), world.events()
    last_event = events.groupby("player_id")["ts"].max()
    seen = float((players["last_seen_at"].reindex(last_event.index) == last_event).mean())
    buys = events[events["event"] == "purchase"].groupby("player_id")["value"].sum()
    spend = players["lifetime_spend"].sub(buys.reindex(players.index, fill_value=0.0)).abs()
    after = (events["ts"].max() - players["install_date"]) / DAY
    median = float(after.median())
    # account_status: the export's idle rule on last_seen_at (active <= 7 days, dormant <= 30)
    idle = (events["ts"].max().ceil("D") - players["last_seen_at"]) / DAY
    rule = np.select([idle <= 7, idle <= 30], ["active", "dormant"], "lapsed")
    status = float((players["account_status"].astype(str).to_numpy() == rule).mean())
    holds = seen > 0.99 and float(spend.max()) < 1e-6 and status > 0.99 and median >= 28
    shown = f"last_seen_at = last event for {seen:.1%}, account_status by the idle rule for "
    shown += f"{status:.1%}, spend = all purchases, median {median:.0f} days after install"
    return Finding(median, holds, shown=shown)


@claim(
    "00-partial-weeks",
    NOTEBOOK,
    "the first and the last calendar week are only partly covered by the installs, so their "
    "bars are short for that reason alone",
)
def partial_weeks(world: World) -> Finding:
    players = world.players()
    day = players["install_date"].dt.floor("D")
    weeks = players.assign(day=day).set_index("install_date").resample("W")
    covered, count = weeks["day"].nunique(), weeks["player_id"].count()
    first, last = int(covered.iloc[0]), int(covered.iloc[-1])

    def z(a: int, b: int) -> float:
        """Installs per covered day of week a against week b, in standard errors (Poisson)."""
        ra, rb = count.iloc[a] / covered.iloc[a], count.iloc[b] / covered.iloc[b]
        se = np.sqrt(count.iloc[a] / covered.iloc[a] ** 2 + count.iloc[b] / covered.iloc[b] ** 2)
        return float((ra - rb) / se)

    # "for that reason alone": per day of installs, no different from the next full week
    zs = (z(0, 1), z(-1, -2))
    alike = max(abs(v) for v in zs) < 3
    shown = f"{first} and {last} days, per-day rate against the next full week z = "
    shown += f"{zs[0]:+.1f}, {zs[1]:+.1f}"
    return Finding(max(first, last), first < 7 and last < 7 and alike, shown=shown)


@claim(
    "00-heavy-tail",
    NOTEBOOK,
    "most players play a few sessions, and fewer than one in a hundred plays a hundred or more",
)
def heavy_tail(world: World) -> Finding:
    per_player = world.sessions().groupby("player_id").size()
    median, share = float(per_player.median()), float((per_player >= 100).mean())
    # heavy-tailed: far more players at 100+ than a geometric law with the same mean gives
    geometric = (1 - 1 / per_player.mean()) ** 99
    holds = median <= 10 and 0 < share < 0.01 and share > 100 * geometric
    shown = f"median {median:.0f}, {share:.2%} with 100+ ({share / geometric:.0f}x a geometric)"
    return Finding(share, holds, shown=shown)


@claim(
    "00-churn-days",
    NOTEBOOK,
    "the simulator decides churn on fixed days two weeks apart (every second Sunday), and "
    "daily players dip on them",
)
def churn_days(world: World) -> Finding:
    days, change = _churn_days(world), _daily_players(world).diff().dropna()
    days = days[days <= _last_install(world)]  # the dips before the last install
    fixed = bool((days.day_of_week == 6).all() and (np.diff(days.asi8) == 14 * DAY.value).all())
    on, off = change[change.index.isin(days)], change[~change.index.isin(days)]
    dipping = float((on < 0).mean())
    holds = fixed and dipping >= 0.8 and on.mean() < 0 < off.mean()
    shown = f"falls on {dipping:.0%} of {len(on)} churn days ({on.mean():+.0f} a day, else "
    shown += f"{off.mean():+.0f})"
    return Finding(dipping, holds, shown=shown)


@claim(
    "00-cliff",
    NOTEBOOK,
    "the day after the last install is the last churn day and has the largest drop of the "
    "whole log",
)
def cliff(world: World) -> Finding:
    change, after = _daily_players(world).diff().dropna(), _last_install(world) + DAY
    holds = after == _churn_days(world)[-1] and change.idxmin() == after
    return Finding(float(-change[after]), holds, shown=f"{-change[after]:.0f} fewer players")


@claim(
    "00-decays",
    NOTEBOOK,
    "after the cliff, daily active players decay",
)
def decays(world: World) -> Finding:
    daily, last = _daily_players(world), _last_install(world)
    after = daily[daily.index > last]  # from the day after the last install
    weekly = after.groupby((after.index - after.index[0]).days // 7).mean()
    falling = bool((weekly.diff().dropna() < 0).all())
    end = float(after.iloc[-1] / after.iloc[0])
    shown = f"weekly means falling, last day at {end:.0%} of the day after the last install"
    return Finding(end, falling and end < 0.9, shown=shown)


@claim(
    "00-two-weeks",
    NOTEBOOK,
    "the log runs on two weeks after the last churn day, the 14 days a churn label needs",
)
def two_weeks(world: World) -> Finding:
    days = (world.events()["ts"].max() - _churn_days(world)[-1]) / DAY
    return Finding(days, 13 <= days < 14, shown=f"{days:.2f} days")


@pytest.mark.parametrize("claim_id", notebook_claims(NOTEBOOK))
def test_claim(claim_id, worlds, record_verdict):
    verdict = judge(REGISTRY[claim_id], worlds["shipped"], worlds["simulated"])
    record_verdict(verdict)
    assert verdict.ok, f"{claim_id}: " + "; ".join(verdict.problems())
