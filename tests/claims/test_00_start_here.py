"""The claims of notebook 00_start_here (section 6, its recap), measured on every world."""

from __future__ import annotations

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


@claim(
    "00-heavy-tail",
    NOTEBOOK,
    "most players play a few sessions, a few play hundreds; a handful play far more than the "
    "median",
)
def heavy_tail(world: World) -> Finding:
    per_player = world.sessions().groupby("player_id").size()
    median, top = float(per_player.median()), int(per_player.max())
    share = float((per_player >= 100).mean())
    return Finding(
        top / median,
        median <= 10 and top >= 100 and share < 0.02,
        shown=f"median {median:.0f}, max {top}, {share:.1%} with 100+",
    )


@claim(
    "00-rises-slowly",
    NOTEBOOK,
    "in the weeks before the last install, daily active players rise only slowly",
)
def rises_slowly(world: World) -> Finding:
    daily = _daily_players(world)
    last = _last_install(world)
    before = daily[(daily.index > last - 14 * DAY) & (daily.index <= last)]
    growth = before.iloc[-7:].mean() / before.iloc[:7].mean() - 1
    return Finding(growth, 0 <= growth <= 0.25, shown=f"{growth:+.1%} a week")


@claim(
    "00-drop-multiple",
    NOTEBOOK,
    "the drop of daily players the day after the last install is two to three times the last "
    "day's new players",
)
def drop_multiple(world: World) -> Finding:
    starts, daily, last = world.sessions(), _daily_players(world), _last_install(world)
    day = starts["ts"].dt.floor("D")
    install = world.players().set_index("player_id")["install_date"].dt.floor("D")
    installed = starts["player_id"].map(install)
    new = starts[(day == installed) & (day == last)]["player_id"].nunique()
    ratio = (daily[last] - daily[last + DAY]) / new
    return Finding(ratio, 1.5 <= ratio <= 3.5, shown=f"{ratio:.1f} times")


@claim(
    "00-two-weeks",
    NOTEBOOK,
    "the log runs on two weeks after the last install",
)
def two_weeks(world: World) -> Finding:
    days = (world.events()["ts"].max() - world.players()["install_date"].max()) / DAY
    return Finding(days, 13 <= days <= 15, shown=f"{days:.1f} days")


@claim(
    "00-partial-weeks",
    NOTEBOOK,
    "the first and the last calendar week are only partly covered by the installs",
)
def partial_weeks(world: World) -> Finding:
    players = world.players()
    day = players["install_date"].dt.floor("D")
    covered = players.assign(day=day).set_index("install_date").resample("W")["day"].nunique()
    first, last = int(covered.iloc[0]), int(covered.iloc[-1])
    return Finding(max(first, last), first < 7 and last < 7, shown=f"{first} and {last} days")


@claim(
    "00-decays",
    NOTEBOOK,
    "after the last install, daily active players decay",
)
def decays(world: World) -> Finding:
    daily, last = _daily_players(world), _last_install(world)
    after = daily[daily.index > last]
    weekly = after.groupby((after.index - after.index[0]).days // 7).mean()
    falling = bool((weekly.diff().dropna() < 0).all())
    end = float(after.iloc[-1] / daily[last])
    return Finding(
        end, falling and end < 0.75, shown=f"last day at {end:.0%} of the last install day"
    )


@claim(
    "00-export-late",
    NOTEBOOK,
    "the export-time columns were written long after most players' first days",
)
def export_late(world: World) -> Finding:
    export = world.events()["ts"].max()
    days = (export - world.players()["install_date"]) / DAY
    median = float(days.median())
    return Finding(median, median >= 28, shown=f"median {median:.0f} days after install")


@pytest.mark.parametrize("claim_id", notebook_claims(NOTEBOOK))
def test_claim(claim_id, worlds, record_verdict):
    verdict = judge(REGISTRY[claim_id], worlds["shipped"], worlds["simulated"])
    record_verdict(verdict)
    assert verdict.ok, f"{claim_id}: " + "; ".join(verdict.problems())
