"""Exercises of ``00_start_here``: warm-ups on the Lumen Isles tables.

In the notebook: ``from mlcourse.exercises.nb00 import check, hint, solution``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from . import make_api
from ._helpers import choice_judge, equal_judge, value_probe
from .spec import AnswerError, Exercise, Outcome, Plain, ProbeContext, WrongAnswer, to_plain

NOTEBOOK = "00_start_here"

# Wrong answers replace the solution region of the exercise's cell. The regions of q0 and q5
# sit inside a function body (signature and docstring stay visible), so their wrong answers
# are function bodies.

# --------------------------------------------------------------------------- q0: shout


def _probe_shout(ns: Mapping[str, Any], ctx: ProbeContext) -> Plain:
    rng = ctx.rng("q0_shout")
    letters = list("abcdefghijklmnopqrstuvwxyz")
    words = ["".join(rng.choice(letters, size=int(rng.integers(2, 8)))) for _ in range(5)]
    shout = ns["shout"]
    return {w: to_plain(shout(w)) for w in ["lumen", *words]}


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


Q0 = Exercise(
    id="q0_shout",
    notebook=NOTEBOOK,
    title="Your first function: shout",
    points=1,
    reads=("shout",),
    probe=_probe_shout,
    judge=_judge_shout,
    hints=(
        "Strings have a method that turns every letter into a capital.",
        'word.upper() gives the capitals; add "!" with +.',
    ),
    wrong_answers=(
        WrongAnswer(
            "no_exclamation",
            "return word.upper()",
            "lacks the '!'",
        ),
        WrongAnswer(
            "prints_instead_of_returning",
            "print(word.upper() + '!')",
            "should return a string",
        ),
        WrongAnswer(
            "type_error",
            "return word.upper() + 1",
            "TypeError",
            status="error",
        ),
    ),
)

# ------------------------------------------------------------------------- q1: players

Q1 = Exercise(
    id="q1_players",
    notebook=NOTEBOOK,
    title="How many players?",
    points=1,
    reads=("n_players",),
    probe=value_probe("n_players"),
    judge=equal_judge(
        "That is not the number of players. The `players` table has one row per player: "
        "count its rows.",
        what="`n_players`",
    ),
    hints=(
        "Which table has one row per player?",
        "len(df) counts the rows of a DataFrame.",
    ),
    wrong_answers=(
        WrongAnswer("counted_events", "n_players = len(events)", "not the number of players"),
        WrongAnswer("shape_tuple", "n_players = players.shape", "should be a number"),
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
    return Outcome.incorrect(
        "That is not the span. Take the latest `install_date` minus the earliest one, then `.days`."
    )


Q2 = Exercise(
    id="q2_install_span",
    notebook=NOTEBOOK,
    title="Over how many days did players install the game?",
    points=1,
    reads=("install_span_days",),
    probe=_probe_span,
    judge=_judge_span,
    hints=(
        "Series have .min() and .max(); subtracting two timestamps gives a Timedelta.",
        "(players['install_date'].max() - players['install_date'].min()).days",
    ),
    wrong_answers=(
        WrongAnswer(
            "timedelta_object",
            "install_span_days = players['install_date'].max() - players['install_date'].min()",
            "turn it into a number of days",
        ),
        WrongAnswer(
            "fractional_days",
            "delta = players['install_date'].max() - players['install_date'].min()\n"
            "install_span_days = delta.total_seconds() / 86400",
            "whole days",
        ),
        WrongAnswer(
            "reversed",
            "install_span_days = (players['install_date'].min() - "
            "players['install_date'].max()).days",
            "negative",
        ),
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
    missing = sorted(set(expected) - set(student))
    extra = sorted(set(student) - set(expected))
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
    if all(math.isclose(student[k], expected[k], rel_tol=1e-9, abs_tol=1e-12) for k in expected):
        return Outcome.correct()
    return Outcome.incorrect("The shares sum up, but some platforms have the wrong share.")


Q3 = Exercise(
    id="q3_platform_share",
    notebook=NOTEBOOK,
    title="Share of players on each platform",
    points=1,
    reads=("platform_share",),
    probe=_probe_share,
    judge=_judge_share,
    hints=(
        "Series.value_counts() counts how often each value occurs.",
        "value_counts has a `normalize` argument that turns counts into shares.",
        "players['platform'].value_counts(normalize=True)",
    ),
    wrong_answers=(
        WrongAnswer(
            "counts", "platform_share = players['platform'].value_counts()", "look like counts"
        ),
        WrongAnswer(
            "percent",
            "platform_share = players['platform'].value_counts(normalize=True) * 100",
            "percentages",
        ),
        WrongAnswer(
            "wrong_column",
            "platform_share = players['country'].value_counts(normalize=True)",
            "do not match",
        ),
        WrongAnswer("a_float", "platform_share = 0.5", "should be a pandas Series"),
    ),
)

# -------------------------------------------------------------------- q5: active days

_CASES = ("one_session_a_day", "many_sessions_a_day", "mixed_events")


def _make_log(rng: np.random.Generator, case: str) -> pd.DataFrame:
    """A small synthetic event log with the dtypes of ``load_events()``."""
    n_players = 6
    rows: list[tuple[int, pd.Timestamp, str]] = []
    start = pd.Timestamp("2026-03-01", tz="UTC")
    for pid in rng.choice(np.arange(1000, 9999), size=n_players, replace=False):
        days = rng.choice(20, size=int(rng.integers(1, 8)), replace=False)
        for d in days:
            n_sessions = 1 if case == "one_session_a_day" else int(rng.integers(1, 4))
            for _ in range(n_sessions):
                t = start + pd.Timedelta(days=int(d), seconds=int(rng.integers(0, 86_000)))
                rows.append((int(pid), t, "session_start"))
                if case == "mixed_events":
                    rows.append((int(pid), t + pd.Timedelta(seconds=30), "level_end"))
        if case == "mixed_events":  # events on days without a session
            t = start + pd.Timedelta(days=25, hours=int(rng.integers(0, 20)))
            rows.append((int(pid), t, "ad_view"))
    log = pd.DataFrame(rows, columns=["player_id", "ts", "event"])
    log = log.sort_values(["ts", "player_id"], kind="stable").reset_index(drop=True)
    log["player_id"] = log["player_id"].astype("int64")
    log["event"] = log["event"].astype("category")
    return log


def _probe_active_days(ns: Mapping[str, Any], ctx: ProbeContext) -> Plain:
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


def _judge_active_days(student: Plain, expected: Plain) -> Outcome:
    assert isinstance(student, dict) and isinstance(expected, dict)

    def same(case: str) -> bool:
        got = {k: v for k, v in student[case].items() if v != 0}  # zeros may be omitted
        return got == expected[case]

    if not same("one_session_a_day"):
        return Outcome.incorrect(
            "active_days gives wrong counts even on a log with one session a day per player: "
            "group by player_id and count the days."
        )
    if not same("many_sessions_a_day"):
        return Outcome.incorrect(
            "On a log with several sessions a day your function counts sessions, not days: "
            "count *distinct* calendar days (ts.dt.floor('D') or ts.dt.date, then nunique)."
        )
    if not same("mixed_events"):
        return Outcome.incorrect(
            "Your function counts days with any event: keep only event == 'session_start' first."
        )
    return Outcome.correct("Correct! active_days works on every test log we tried.")


Q5 = Exercise(
    id="q5_active_days",
    notebook=NOTEBOOK,
    title="A small function: active days per player",
    points=2,
    reads=("active_days",),
    probe=_probe_active_days,
    judge=_judge_active_days,
    hints=(
        "Three steps: keep the session_start rows, turn each timestamp into its calendar day, "
        "count distinct days per player.",
        "ts.dt.floor('D') rounds a timestamp down to midnight; groupby('player_id') then "
        ".nunique() counts distinct values.",
        "s = events[events['event'] == 'session_start']\n"
        "return s['ts'].dt.floor('D').groupby(s['player_id']).nunique()",
    ),
    wrong_answers=(
        WrongAnswer(
            "counts_sessions",
            "s = events[events['event'] == 'session_start']\nreturn s.groupby('player_id').size()",
            "counts sessions, not days",
        ),
        WrongAnswer(
            "all_events",
            "return events['ts'].dt.floor('D').groupby(events['player_id']).nunique()",
            "days with any event",
        ),
        WrongAnswer(
            "returns_dataframe",
            "s = events[events['event'] == 'session_start']\n"
            "return s.groupby('player_id')[['ts']].nunique()",
            "should return a pandas Series",
        ),
        WrongAnswer(
            "typo_column",
            "return events['timestamp'].dt.date",
            "KeyError",
            status="error",
        ),
    ),
)

# --------------------------------------------------------------- q4: one row of events

Q4 = Exercise(
    id="q4_event_row",
    notebook=NOTEBOOK,
    title="What is one row of `events`?",
    points=1,
    reads=("q4_answer",),
    probe=value_probe("q4_answer", lambda s: s.strip().upper()),
    judge=choice_judge(
        {
            "A": "One row per player is the `players` table; a player has many events.",
            "C": "Rows are not aggregated by day: look at the `ts` column, it has seconds.",
            "D": "A session has many rows (session_start, level_end, ...) sharing a session_id.",
        }
    ),
    hints=("Look at events.head(10): how many rows does one player get in one minute?",),
    kind="choice",
    choices={
        "A": "one player",
        "B": "one thing one player did at one moment",
        "C": "one day of play of one player",
        "D": "one session",
    },
    wrong_answers=(
        WrongAnswer("player", 'q4_answer = "A"', "players` table"),
        WrongAnswer("not_a_letter", 'q4_answer = "one event"', "not one of the offered letters"),
        WrongAnswer("number", "q4_answer = 2", "one letter in quotes"),
    ),
)

EXERCISES = (Q0, Q1, Q2, Q3, Q4, Q5)

check, hint, solution = make_api(NOTEBOOK, EXERCISES)
