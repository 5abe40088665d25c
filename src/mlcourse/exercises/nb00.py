"""Exercises of ``00_start_here``: warm-ups on the Lumen Isles tables.

In the notebook: ``from mlcourse.exercises.nb00 import check, hint, solution``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np
import pandas as pd

from . import make_api
from ._helpers import (
    choice_exercise,
    equal_judge,
    exercise,
    missing_and_extra,
    unreadable,
    value_probe,
    values_close,
)
from .spec import AnswerError, Outcome, Plain, ProbeContext, to_plain

NOTEBOOK = "00_start_here"
#: this notebook's exercises: ``_exercise(id, title, reads, probe, judge, ...)`` and
#: ``_choice(id, title, name, explanations, ...)`` (see :mod:`._helpers`)
_exercise, _choice = partial(exercise, NOTEBOOK), partial(choice_exercise, NOTEBOOK)

# Every probe returns observations only: the learner's values, or the outputs of the learner's
# functions on inputs made from ``ctx.rng``. The catalogues of right and wrong answers are test
# data in ``tests/catalogues/nb00.py``.

# --------------------------------------------------------------------------- q0: shout


#: fixed words that catch near misses: mixed case (``swapcase``, ``capitalize``, ``title``
#: differ from ``upper`` there), digits, one letter, an already shouted word
_SHOUT_WORDS = ("lumen", "Lumen", "mIxEd", "lvl42", "x", "ISLES")


def _probe_shout(ns: Mapping[str, Any], ctx: ProbeContext) -> Plain:
    """``shout`` on fixed tricky words plus random lower/upper-case words from the seed."""
    rng = ctx.rng("q0_shout")
    letters = list("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
    words = ["".join(rng.choice(letters, size=int(rng.integers(2, 8)))) for _ in range(5)]
    shout = ns["shout"]
    return {w: to_plain(shout(w)) for w in [*_SHOUT_WORDS, *words]}


def _judge_shout(student: Plain, expected: Plain) -> Outcome:
    assert isinstance(student, dict) and isinstance(expected, dict)
    for word, want in expected.items():
        got = student.get(word)
        if not isinstance(got, str):
            return Outcome.incorrect(
                f"shout({word!r}) should return a string, but it returned {type(got).__name__}."
            )
        if got != want:
            if got.upper() == got and not got.endswith("!"):
                return Outcome.incorrect(f"shout({word!r}) is in capitals but lacks the '!'.")
            return Outcome.incorrect(f"shout({word!r}) returned {got!r}, which is not right.")
    return Outcome.correct("Correct! shout() works on every word we tried.")


Q0 = _exercise(
    "q0_shout",
    "Your first function: shout",
    ("shout",),
    _probe_shout,
    _judge_shout,
    hints=(
        "Strings have a method that turns every letter into a capital.",
        'word.upper() gives the capitals; add "!" with +.',
    ),
)

# ------------------------------------------------------------------------- q1: players

Q1 = _exercise(
    "q1_players",
    "How many players?",
    ("n_players",),
    value_probe("n_players"),
    equal_judge(
        "That is not the number of players. The `players` table has one row per player: "
        "count its rows.",
        what="`n_players`",
    ),
    hints=(
        "Which table has one row per player?",
        "len(df) counts the rows of a DataFrame.",
    ),
)

# -------------------------------------------------------------------- q2: install span


def _probe_span(ns: Mapping[str, Any], ctx: ProbeContext) -> Plain:
    value = ns["install_span_days"]
    if type(value) is pd.Timedelta:
        raise AnswerError(
            "`install_span_days` is a Timedelta; turn it into a number of days with `.days`."
        )
    return to_plain(value)


def _judge_span(student: Plain, expected: Plain) -> Outcome:
    if isinstance(student, bool) or not isinstance(student, int | float):
        return Outcome.incorrect(
            "`install_span_days` should be a number of days, e.g. `delta.days` of a Timedelta."
        )
    assert isinstance(expected, int | float)
    if student == expected:
        return Outcome.correct()
    if isinstance(student, float) and not student.is_integer() and abs(student - expected) < 1:
        return Outcome.incorrect(
            "Close: give whole days. A Timedelta's `.days` drops the leftover hours."
        )
    if student < 0:
        return Outcome.incorrect("The span is negative: subtract the first install from the last.")
    if student == expected + 1:
        return Outcome.incorrect(
            "One day too many: that counts the calendar days from the first install to the last, "
            "both included. The exercise asks for the difference, last minus first, in whole days."
        )
    return Outcome.incorrect(
        "That is not the span. Take the latest `install_date` minus the earliest one, then `.days`."
    )


Q2 = _exercise(
    "q2_install_span",
    "How many days lie between the first and the last install?",
    ("install_span_days",),
    _probe_span,
    _judge_span,
    hints=(
        "Series have .min() and .max(); subtracting two timestamps gives a Timedelta.",
        "Latest minus earliest install_date gives a Timedelta; its `.days` attribute is the "
        "number of whole days.",
    ),
)

# ------------------------------------------------------------------ q3: platform share


def _probe_share(ns: Mapping[str, Any], ctx: ProbeContext) -> Plain:
    value = ns["platform_share"]
    if type(value) is pd.Series:
        keys = value.index.tolist()
        if not all(type(k) is str for k in keys):
            raise AnswerError("the index of `platform_share` should hold the platform names")
        return {k: to_plain(v) for k, v in zip(keys, value.to_numpy(dtype=object), strict=True)}
    if type(value) is dict:
        return to_plain(value)
    raise AnswerError(
        "`platform_share` should be a pandas Series (or a dict) mapping each platform to "
        f"its share, not a {type(value).__name__}."
    )


def _judge_share(student: Plain, expected: Plain) -> Outcome:
    assert isinstance(student, dict) and isinstance(expected, dict)
    missing, extra = missing_and_extra(student, expected)
    if missing or extra:
        parts = [f"missing {missing}" if missing else "", f"unexpected {extra}" if extra else ""]
        return Outcome.incorrect(
            "The platforms do not match the data: " + " and ".join(p for p in parts if p) + "."
        )
    values = list(student.values())
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
        return Outcome.incorrect("Every share should be a number between 0 and 1.")
    total = float(sum(values))
    if math.isclose(total, 100, rel_tol=1e-6):
        return Outcome.incorrect("These look like percentages: give shares between 0 and 1.")
    if total > 1.5:
        return Outcome.incorrect(
            "These look like counts: divide by the number of players "
            "(or use value_counts(normalize=True))."
        )
    if values_close(student, expected):
        return Outcome.correct()
    return Outcome.incorrect("The shares sum up, but some platforms have the wrong share.")


Q3 = _exercise(
    "q3_platform_share",
    "Share of players on each platform",
    ("platform_share",),
    _probe_share,
    _judge_share,
    hints=(
        "Series.value_counts() counts how often each value occurs.",
        "value_counts has a `normalize` argument that turns counts into shares.",
        "Shares of all players sum to 1; counts divided by the number of players are shares.",
    ),
)

# -------------------------------------------------------------------- q5: active days

#: The test logs, in the order the judge reads them. Each adds one trap to the ones before,
#: so the first log an answer fails on names its mistake.
_CASES = (
    "one_session_a_day",
    "many_sessions_a_day",
    "mixed_events",
    "around_midnight",
    "across_months",
    "across_years",
)
_EVENT_LEVELS = (
    "session_start",
    "level_end",
    "ad_view",
    "tutorial_complete",
    "friend_invite",
    "purchase",
)
_UTC = "UTC"


def _at(day: str, time: str) -> pd.Timestamp:
    return pd.Timestamp(f"{day} {time}", tz=_UTC)


def _safe_days(rng: np.random.Generator, first: str, last: str, n: int) -> list[pd.Timestamp]:
    """``n`` distinct midnights between ``first`` and ``last``, at least two days apart.

    Two days apart, sessions between 12:00 and 14:00 UTC stay on distinct days under any
    shift of up to ten hours (time zones, rounding, 24-hour periods since a first event), so
    only the trap a log plants can make an answer fail on it.
    """
    slots = pd.date_range(first, last, freq="2D", tz=_UTC)
    picked = rng.choice(len(slots), size=min(n, len(slots)), replace=False)
    return [slots[i] for i in sorted(picked)]


def _noon_window(rng: np.random.Generator, day: pd.Timestamp) -> pd.Timestamp:
    return day + pd.Timedelta(hours=12, seconds=int(rng.integers(60, 7200)))


def _log_frame(rows: list[tuple[int, pd.Timestamp, str]]) -> pd.DataFrame:
    """Rows as a log with the columns and dtypes of ``load_events()``, sorted by time."""
    log = pd.DataFrame(rows, columns=["player_id", "ts", "event"])
    log = log.sort_values(["ts", "player_id"], kind="stable").reset_index(drop=True)
    n = len(log)
    is_level = log["event"] == "level_end"
    is_purchase = log["event"] == "purchase"
    log["player_id"] = log["player_id"].astype("int64")
    log["ts"] = pd.to_datetime(log["ts"], utc=True).astype("datetime64[ns, UTC]")
    log["event"] = pd.Categorical(log["event"], categories=list(_EVENT_LEVELS))
    log["session_id"] = np.arange(1, n + 1, dtype="int64")
    log["level"] = pd.array(np.where(is_level, np.arange(n) % 40 + 1, 0), dtype="Int64")
    log.loc[~is_level, "level"] = pd.NA
    log["success"] = pd.array(np.where(is_level, np.arange(n) % 3 > 0, False), dtype="boolean")
    log.loc[~is_level, "success"] = pd.NA
    log["value"] = np.where(is_purchase, 4.99, np.nan)
    log["item"] = pd.Categorical(np.where(is_purchase, "gems", None), categories=["gems"])
    return log


@dataclass
class _LogBuilder:
    """The rows of one synthetic log while it is built, and the player ids still unused."""

    rng: np.random.Generator
    random_ids: list[int]  # players with random sessions
    planted: Iterator[int]  # ids for the players each case plants
    rows: list[tuple[int, pd.Timestamp, str]] = field(default_factory=list)

    def event(self, pid: int, t: pd.Timestamp, kind: str) -> None:
        self.rows.append((pid, t, kind))

    def session(self, pid: int, t: pd.Timestamp) -> None:
        self.event(pid, t, "session_start")


#: the days the random sessions of a case fall between
_CASE_SPANS = {
    "across_months": ("2026-01-10", "2026-05-25"),
    "across_years": ("2025-02-01", "2026-11-30"),
}


def _random_sessions(log: _LogBuilder, case: str) -> None:
    """Sessions of the random players around noon, a level end after some of them."""
    rng = log.rng
    first, last = _CASE_SPANS.get(case, ("2026-03-02", "2026-03-28"))
    for j, pid in enumerate(log.random_ids):
        n_days = 1 if j < 2 else int(rng.integers(2, 7))  # two players with a single day
        for day in _safe_days(rng, first, last, n_days):
            n_sessions = 1 if case == "one_session_a_day" else int(rng.integers(1, 5))
            for _ in range(n_sessions):
                t = _noon_window(rng, day)
                log.session(pid, t)
                if case != "one_session_a_day" and rng.random() < 0.5:
                    log.event(pid, t + pd.Timedelta(seconds=40), "level_end")


def _plant_one_session_a_day(log: _LogBuilder) -> None:
    pid = next(log.planted)  # two days a fortnight apart share a weekday
    for day in ("2026-03-04", "2026-03-18", "2026-03-20"):
        log.session(pid, _at(day, "12:45"))


def _plant_many_sessions_a_day(log: _LogBuilder) -> None:
    pid = next(log.planted)  # three sessions on one single day
    for minutes in (5, 40, 95):
        log.session(pid, _at("2026-03-11", "12:00") + pd.Timedelta(minutes=minutes))


def _plant_mixed_events(log: _LogBuilder) -> None:
    for pid in log.random_ids[:4]:  # other events on days without a session (odd days)
        for event in _EVENT_LEVELS[1:]:
            day = int(log.rng.integers(1, 14)) * 2 + 1
            log.event(pid, _at(f"2026-03-{day:02d}", "09:15"), event)
    pid = next(log.planted)  # a player who never started a session
    log.event(pid, _at("2026-03-05", "10:00"), "tutorial_complete")
    log.event(pid, _at("2026-03-07", "10:00"), "ad_view")


def _plant_around_midnight(log: _LogBuilder) -> None:
    log.event(log.random_ids[0], _at("2026-03-01", "13:37"), "ad_view")  # log starts 13:37
    pairs = [
        ("2026-03-09 23:59:59", "2026-03-10 00:00:01"),  # 2 days, a second apart
        ("2026-03-12 23:00:00", "2026-03-13 00:00:00"),  # exact midnight: ceil merges
        ("2026-03-15 11:59:00", "2026-03-15 12:01:00"),  # 1 day: round splits
        ("2026-03-17 22:30:00", "2026-03-18 20:00:00"),  # 2 days: UTC+2 or more merges
        ("2026-03-20 02:00:00", "2026-03-20 22:00:00"),  # 1 day: UTC-3 or less splits
        ("2026-03-22 20:00:00", "2026-03-23 08:00:00"),  # 2 days, 12 hours apart
    ]
    for a, b in pairs:
        pid = next(log.planted)
        log.session(pid, pd.Timestamp(a, tz=_UTC))
        log.session(pid, pd.Timestamp(b, tz=_UTC))


def _plant_across_months(log: _LogBuilder) -> None:
    pid = next(log.planted)  # the 5th of four months: one day of the month, four days
    for month in (2, 3, 4, 5):
        log.session(pid, _at(f"2026-{month:02d}-05", "12:30"))
    pid = next(log.planted)  # month ends next to month starts, same weekday a week apart
    for day in ("2026-03-31", "2026-04-01", "2026-04-08", "2026-04-30", "2026-05-01"):
        log.session(pid, _at(day, "13:10"))


def _plant_across_years(log: _LogBuilder) -> None:
    pid = next(log.planted)  # day 64 of 2025 and of 2026
    log.session(pid, _at("2025-03-05", "12:30"))
    log.session(pid, _at("2026-03-05", "12:40"))
    pid = next(log.planted)  # the turn of the year, and the same date a year later
    for day in ("2025-12-31", "2026-01-01", "2026-12-31"):
        log.session(pid, _at(day, "13:00"))


#: per case of :data:`_CASES`, the players it plants after the random sessions
_PLANTERS: dict[str, Callable[[_LogBuilder], None]] = {
    "one_session_a_day": _plant_one_session_a_day,
    "many_sessions_a_day": _plant_many_sessions_a_day,
    "mixed_events": _plant_mixed_events,
    "around_midnight": _plant_around_midnight,
    "across_months": _plant_across_months,
    "across_years": _plant_across_years,
}


def _make_log(rng: np.random.Generator, case: str) -> pd.DataFrame:
    """A synthetic event log with the dtypes of ``load_events()``, built to catch one mistake.

    ``one_session_a_day``
        One session on each active day, days at least two apart in one month, several
        players with a single day. Catches wrong grouping and span arithmetic
        (last day minus first day, +1).
    ``many_sessions_a_day``
        One to four sessions per active day. Catches counting sessions (``size``) or
        distinct timestamps instead of distinct days.
    ``mixed_events``
        Level, ad, purchase, invite events on days without a session, and a player with no
        session at all. Catches a missing ``event == "session_start"`` filter.
    ``around_midnight``
        Sessions at 23:59:59 and 00:00:00 / 00:00:01 the next day, at 11:59 and 12:01 on one
        day, at 22:30 and 20:00 the next day, 02:00 and 22:00 on one day, 20:00 and 08:00
        the next day. Catches rounding to the nearest day (``round``), ``ceil``, time-zone
        conversions and counting 24-hour periods since a first event.
    ``across_months``
        Days from January to May with the same day of the month (and weekday) in different
        months, and the last day of a month next to the first of the next. Catches
        ``dt.day``, ``dt.weekday`` and other parts of a date.
    ``across_years``
        The same day of the year in 2025 and 2026, and 31 December next to 1 January.
        Catches ``dt.dayofyear`` or month-and-day without the year.
    """
    ids = [int(i) for i in rng.choice(np.arange(100_000, 999_999), size=12, replace=False)]
    log = _LogBuilder(rng, ids[:6], iter(ids[6:]))
    _random_sessions(log, case)
    _PLANTERS[case](log)
    return _log_frame(log.rows)


def _probe_active_days(ns: Mapping[str, Any], ctx: ProbeContext) -> Plain:
    """``active_days`` on each log of :func:`_make_log`, as ``{case: {player_id: count}}``."""
    fn = ns["active_days"]
    out: dict[str, Plain] = {}
    for case in _CASES:
        result = fn(_make_log(ctx.rng(f"q5:{case}"), case))
        if type(result) is not pd.Series:
            raise AnswerError(
                "active_days should return a pandas Series indexed by player_id, "
                f"not a {type(result).__name__}."
            )
        counts = {}
        for k, v in zip(result.index.tolist(), result.to_numpy(dtype=object), strict=True):
            if type(k) is not int:
                raise AnswerError("the index of the returned Series should be the player_id")
            counts[str(k)] = to_plain(v)
        out[case] = counts
    return out


_Q5_ADVICE = {
    "one_session_a_day": "active_days gives wrong counts even on a simple log (one session a "
    "day, days spread over one month, some players with a single day): for each player, "
    "count the distinct calendar days that have a session_start (not the span from the first "
    "to the last day).",
    "many_sessions_a_day": "On a log with several sessions a day your function counts some "
    "days more than once: it counts sessions, not days (or timestamps, or 24-hour periods). "
    "Count *distinct* calendar days (ts.dt.floor('D') or ts.dt.date, then nunique).",
    "mixed_events": "Your function counts days with any event: keep only event == "
    "'session_start' first.",
    "around_midnight": "On a log with sessions just before and just after midnight UTC your "
    "days are off. A calendar day runs from 00:00 to 24:00 UTC: round every timestamp *down* "
    "to its day (ts.dt.floor('D') or ts.dt.date); do not round to the nearest day, convert "
    "time zones or count 24-hour periods since a first event.",
    "across_months": "On a log spanning several months your function merges different dates "
    "that share a day of the month (or a weekday): count whole dates, year, month and day "
    "(ts.dt.floor('D') or ts.dt.date).",
    "across_years": "On a log spanning more than a year your function merges dates a year "
    "apart: the day you count must include the year (ts.dt.floor('D') or ts.dt.date).",
}


def _judge_active_days(student: Plain, expected: Plain) -> Outcome:
    if not isinstance(student, dict) or not isinstance(expected, dict):
        return unreadable()

    def same(case: str) -> bool:
        counts = student.get(case)
        if not isinstance(counts, dict):
            return False
        got = {k: v for k, v in counts.items() if v != 0}  # players without a session may be 0
        return got == expected[case]

    for case in _CASES:
        if not same(case):
            return Outcome.incorrect(_Q5_ADVICE[case])
    return Outcome.correct("Correct! active_days works on every test log we tried.")


Q5 = _exercise(
    "q5_active_days",
    "A small function: active days per player",
    ("active_days",),
    _probe_active_days,
    _judge_active_days,
    points=2,
    hints=(
        "Three steps: keep the session_start rows, turn each timestamp into its calendar day, "
        "count distinct days per player.",
        "ts.dt.floor('D') rounds a timestamp down to midnight; groupby('player_id') then "
        ".nunique() counts distinct values.",
        "Filter with a boolean mask on the event column, then group the floored timestamps "
        "by the player_id column of the same rows and count distinct values.",
    ),
)

# --------------------------------------------------------------- q4: one row of events

Q4 = _choice(
    "q4_event_row",
    "What is one row of `events`?",
    "q4_answer",
    {
        "A": "One row per player is the `players` table; a player has many events.",
        "B": "Each row is one event: one thing one player did at one moment (`ts`), which "
        "is why one player has many rows and one session several.",
        "C": "Rows are not aggregated by day: look at the `ts` column, it has seconds.",
        "D": "A session has many rows (session_start, level_end, ...) sharing a session_id.",
    },
    hints=("Look at events.head(10): how many rows does one player get in one minute?",),
    choices={
        "A": "one player",
        "B": "one thing one player did at one moment",
        "C": "one day of play of one player",
        "D": "one session",
    },
)

EXERCISES = (Q0, Q1, Q2, Q3, Q4, Q5)

check, hint, solution = make_api(NOTEBOOK, EXERCISES)
