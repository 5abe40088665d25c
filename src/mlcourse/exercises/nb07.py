"""Exercises of notebook 07, "Survival: how long do players stay?".

In the notebook: ``from mlcourse.exercises.nb07 import check, hint, solution``.

The probes call the learner's functions on small cases they generate from ``ctx.rng``
(lifetimes from a log, with planted boundary cases; cohorts with tied times and censoring),
and return the inputs and the outputs only.

The catalogues of wrong and valid answers are test data in ``tests/catalogues/nb07.py``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from functools import partial
from typing import Any

import numpy as np
import pandas as pd

from . import make_api
from ._helpers import (
    exercise,
    learner_function,
    learner_number,
)
from .spec import AnswerError, Exercise, Outcome, Plain, ProbeContext

NOTEBOOK = "07_survival"


# --------------------------------------------------------------------------- q11 durations

_T0 = pd.Timestamp("2026-03-01", tz="UTC")
_QUIET = 14.0  # days without a session that confirm a quit


def _duration_cases(rng: np.random.Generator) -> list[tuple[list[float], list[float], float]]:
    """Install days, last-session days (days since ``_T0``) and the log end, per case.

    Every player installs before the cutoff (log end - 14 days). Planted: a last session
    exactly at the cutoff (a confirmed quit), a quit in the last 14 days (the player the old
    rule censors at their last session), a player still playing at the log end.
    """
    cases = [([0.0, 2.0, 5.0, 10.0, 1.5], [3.0, 16.0, 24.5, 29.9, 1.5], 30.0)]
    while len(cases) < 6:
        n = int(rng.integers(6, 25))
        end = float(rng.integers(40, 90)) + 0.5
        install = np.round(rng.uniform(0, end - _QUIET - 0.5, n), 3)
        last = np.round(np.minimum(install + rng.exponential(12.0, n), end - 0.01), 3)
        last[0] = install[0]  # a player who played on the install day only
        last[1] = max(end - 5.0, install[1])  # quit (or not) within the last 14 days
        cases.append((install.tolist(), last.tolist(), end))
    return cases


def _as_series(days: list[float]) -> pd.Series:
    return pd.Series(
        _T0 + pd.to_timedelta(np.asarray(days), unit="D"),
        index=pd.RangeIndex(len(days), name="player_id"),
    )


def _probe_durations(ns: Mapping[str, Any], ctx: ProbeContext) -> Plain:
    """``lifetimes`` on the cases of :func:`_duration_cases` (Series in, two arrays out)."""
    fn = learner_function(ns, "lifetimes")
    cases = _duration_cases(ctx.rng("q11_durations"))
    durations, events = [], []
    for install, last, end in cases:
        out = fn(_as_series(last), _as_series(install), _T0 + pd.Timedelta(days=end))
        if not isinstance(out, tuple | list) or len(out) != 2:
            raise AnswerError("lifetimes should return two arrays: (duration, event).")
        duration, event = (np.asarray(x) for x in out)
        if duration.dtype.kind == "b" and event.dtype.kind in "iuf":
            raise AnswerError(
                "lifetimes returns the flags first and the days second; the order is "
                "(duration, event)."
            )
        if duration.dtype.kind == "m" or event.dtype.kind == "m":
            raise AnswerError(
                "Your durations are time spans; return them in days as numbers "
                "(divide by pd.Timedelta(days=1))."
            )
        if duration.shape != (len(install),) or event.shape != (len(install),):
            raise AnswerError(
                "lifetimes should return one duration and one event flag per player, in the "
                "players' order."
            )
        if duration.dtype.kind not in "iuf" or event.dtype.kind not in "biuf":
            raise AnswerError("duration should hold numbers of days and event True/False.")
        if event.dtype.kind != "b" and not np.isin(event, [0, 1]).all():
            raise AnswerError("event should be True (quit observed) or False (censored).")
        durations.append([float(x) for x in duration])
        events.append([bool(x) for x in event])
    return {"inputs": [list(c) for c in cases], "duration": durations, "event": events}


def _quit(i: np.ndarray, la: np.ndarray, end: float) -> np.ndarray:
    """The reference's event: the last session is at least 14 days before the log end."""
    return la <= end - _QUIET


def _lifetime(i: np.ndarray, la: np.ndarray, end: float) -> np.ndarray:
    """The reference's duration: to the last session, or to the cutoff when censored."""
    return np.minimum(la, end - _QUIET) - i


#: plausible mistakes: (duration rule, event rule, message)
_DURATION_MISTAKES = (
    (
        lambda i, la, end: la - i,
        _quit,
        "Your quit flags are right, but your censored players are censored at their last "
        "session. A player who quit in the last 14 days of the log is then censored at the "
        "very moment they quit: the censoring time depends on the outcome. Censor at the "
        "last moment a quit could still be confirmed.",
    ),
    (
        lambda i, la, end: np.where(_quit(i, la, end), la - i, end - i),
        _quit,
        "Your censored players are censored at the log end. We only know they had not quit "
        "14 days before it: a quit in the last 14 days could not be confirmed yet.",
    ),
    (
        _lifetime,
        lambda i, la, end: la < end - _QUIET,
        "Check the player whose last session is exactly 14 days before the log end: the "
        "log has gone on 14 quiet days after it, so that quit is confirmed.",
    ),
    (
        _lifetime,
        lambda i, la, end: ~_quit(i, la, end),
        "Your event flags are the wrong way round: event is True when the quit was "
        "observed, False when the lifetime is censored.",
    ),
    *(
        (
            lambda i, la, end, q=quiet: np.minimum(la, end - q) - i,
            lambda i, la, end, q=quiet: la <= end - q,
            "Your quiet period is not 14 days: the exercise confirms a quit after 14 days "
            "without a session.",
        )
        for quiet in (7.0, 13.0, 15.0, 21.0, 28.0, 30.0)
    ),
    (
        lambda i, la, end: np.floor(_lifetime(i, la, end)),
        _quit,
        "Your durations are rounded down to whole days; keep the fractions of a day (divide "
        "the time span by one day instead of taking its days).",
    ),
    (
        lambda i, la, end: 24.0 * _lifetime(i, la, end),
        _quit,
        "Your durations are in hours; give them in days.",
    ),
    (
        lambda i, la, end: 86400.0 * _lifetime(i, la, end),
        _quit,
        "Your durations are in seconds; give them in days.",
    ),
)


def _judge_durations(student: Plain, expected: Plain) -> Outcome:
    assert isinstance(student, dict) and isinstance(expected, dict)
    inputs = expected["inputs"]  # the reference's copy of the generated cases (trusted)
    got_d, got_e = student["duration"], student["event"]
    if len(got_d) != len(inputs) or len(got_e) != len(inputs):
        return Outcome.incorrect("lifetimes should return (duration, event) for every call.")

    def matches(duration, event) -> bool:
        """The learner's answer is ``duration(install, last, end)``, ``event(...)``."""
        for (install, last, end), d, e in zip(inputs, got_d, got_e, strict=True):
            i, la = np.asarray(install), np.asarray(last)
            want = duration(i, la, end)
            if len(d) != len(want) or not np.allclose(d, want, atol=1e-6):
                return False
            if e != event(i, la, end).tolist():
                return False
        return True

    if matches(_lifetime, _quit):
        return Outcome.correct(
            "Correct: a quit is observed once 14 quiet days confirm it; everybody else is "
            "censored where confirmable observation ends."
        )
    for duration, event, message in _DURATION_MISTAKES:
        if matches(duration, event):
            return Outcome.incorrect(message)
    if any(x < -1e-9 for d in got_d for x in d):
        return Outcome.incorrect(
            "Some durations are negative: a lifetime runs from the install forward."
        )
    return Outcome.incorrect(
        "Not the lifetimes yet. Work one small case by hand: which players' quits can the log "
        "already confirm, and for the others, at what moment does what we know about them end?"
    )


# --------------------------------------------------------------------------- q10 Kaplan-Meier


def _km_cases(rng: np.random.Generator) -> list[tuple[list[float], list[bool], float]]:
    """Lifetimes (whole days, so times tie), observed flags and a day to read the curve at.

    Built to catch: censored players counted as gone (the naive share), censored players
    dropped, ``<`` instead of ``<=`` for the churn times counted (a day equal to an event time
    is planted), a censored player not kept at risk at an event time equal to their censoring
    time (planted ties), the Nelson-Aalen ``exp(-H)`` (it differs from the product once a
    share churns), a curve read before the first event (1) and past the last time.
    """
    cases = [
        ([1.0, 2.0, 2.0, 3.0, 4.0, 5.0], [True, True, False, True, False, True], 2.0),
        ([1.0, 2.0, 2.0, 3.0, 4.0, 5.0], [True, True, False, True, False, True], 0.5),
        ([3.0, 3.0, 6.0, 8.0, 9.0], [True, False, False, True, False], 10.0),
    ]
    while len(cases) < 10:
        n = int(rng.integers(8, 40))
        life = np.floor(rng.exponential(8.0, n)) + 1.0
        observed = rng.random(n) < rng.uniform(0.4, 0.9)
        observed[0] = True  # at least one churn
        day = float(rng.choice(life[observed])) if rng.random() < 0.5 else float(rng.uniform(1, 20))
        cases.append((life.tolist(), observed.tolist(), round(day, 2)))
    return cases


def _probe_km(ns: Mapping[str, Any], ctx: ProbeContext) -> Plain:
    """``km_retention`` on the cases of :func:`_km_cases` (NumPy arrays in, one number out)."""
    fn = learner_function(ns, "km_retention")
    cases = _km_cases(ctx.rng("q10_km_retention"))
    out = []
    for life, observed, day in cases:
        value = fn(np.array(life), np.array(observed), day)
        if isinstance(value, np.ndarray) and value.size == 1:
            value = value.reshape(()).item()
        wrong = "km_retention should return one number, got {type}."
        out.append(learner_number(value, wrong, subclasses=False))
    return {"inputs": [[life, observed, day] for life, observed, day in cases], "retention": out}


def _km_product(
    life: np.ndarray, obs: np.ndarray, day: float, keep_censored: bool = False, **mistake: bool
) -> float:
    """Kaplan-Meier's product, right or with one mistake: ``keep_censored``, a risk set that
    never loses a censored player (only churners leave it); ``strict``, churn times before
    ``day`` only (``<`` for ``<=``); ``censored_first``, a censored player tied with a churn
    time left out of the risk set at that time; ``nelson_aalen``, ``exp(-H)`` with the
    Nelson-Aalen cumulative hazard instead of the product."""
    s, hazard = 1.0, 0.0
    times = life[obs & ((life < day) if mistake.get("strict") else (life <= day))]
    for t in np.unique(times):
        if keep_censored:
            at_risk = life.size - (obs & (life < t)).sum()
        elif mistake.get("censored_first"):
            at_risk = (life > t).sum() + (obs & (life == t)).sum()
        else:
            at_risk = (life >= t).sum()
        s *= 1 - (obs & (life == t)).sum() / at_risk
        hazard += (obs & (life == t)).sum() / at_risk
    return float(math.exp(-hazard) if mistake.get("nelson_aalen") else s)


#: the plausible mistakes of q10: ``rule(lifetime, observed, day)`` and what to say
_KM_MISTAKES = (
    (
        lambda life, obs, day: float((life > day).mean()),
        "Your numbers are the share of all players whose lifetime exceeds `day`: that counts "
        "every censored player as gone at their last session. Use the Kaplan-Meier estimator.",
    ),
    (
        lambda life, obs, day: float((life[obs] > day).mean()),
        "Your numbers leave the censored players out; they were still playing when we last "
        "looked, so they belong in the risk set until their censoring time.",
    ),
    (
        lambda life, obs, day: 1.0 - _km_product(life, obs, day),
        "Your numbers are the share of players who have churned by `day` (one minus the "
        "curve we want). Return the share still playing after `day`.",
    ),
    (
        lambda life, obs, day: _km_product(life, obs, day, keep_censored=True),
        "Your risk set never loses the censored players: after their censoring time they "
        "are still counted as at risk, though we no longer watch them. At time t, only the "
        "players whose lifetime is at least t are at risk.",
    ),
    (
        lambda life, obs, day: _km_product(life, obs, day, strict=True),
        "Your curve leaves out a churn at exactly `day`: the share still playing *after* "
        "`day` counts the churns at every time up to and including `day` (t <= day, not "
        "t < day).",
    ),
    (
        lambda life, obs, day: _km_product(life, obs, day, censored_first=True),
        "At a time where a player is censored and another churns, you take the censored "
        "player out of the risk set first. We saw them still playing at that time, so they "
        "are at risk then: at time t, every player whose lifetime is at least t.",
    ),
    (
        lambda life, obs, day: _km_product(life, obs, day, nelson_aalen=True),
        "Your numbers are exp(-H) with the Nelson-Aalen cumulative hazard H, a close "
        "relative of Kaplan-Meier but not the same estimate. Multiply the shares that did "
        "not churn at each churn time instead.",
    ),
)


def _judge_km(student: Plain, expected: Plain) -> Outcome:
    assert isinstance(student, dict) and isinstance(expected, dict)
    got, want = student["retention"], expected["retention"]
    if len(got) != len(want) or not all(isinstance(g, float) for g in got):
        return Outcome.incorrect("km_retention should return one number per call.")
    if all(math.isclose(g, w, rel_tol=1e-9, abs_tol=1e-12) for g, w in zip(got, want, strict=True)):
        return Outcome.correct("Correct: censored players count for as long as we watched them.")
    inputs = expected["inputs"]  # the reference's copy of the generated cases (trusted)
    for rule, message in _KM_MISTAKES:
        if all(
            math.isclose(g, rule(np.array(life), np.array(obs, dtype=bool), day), abs_tol=1e-9)
            for g, (life, obs, day) in zip(got, inputs, strict=True)
        ):
            return Outcome.incorrect(message)
    if any(g < -1e-12 or g > 1 + 1e-12 for g in got):
        return Outcome.incorrect("A retention share lies between 0 and 1; some of yours do not.")
    if all(abs(g - w) <= 0.005 + 1e-9 for g, w in zip(got, want, strict=True)):
        return Outcome.incorrect(
            "Your numbers are within rounding of the right ones but not equal: return the "
            "estimate unrounded."
        )
    return Outcome.incorrect(
        "Not the Kaplan-Meier estimate. Check what happens at a day equal to a churn time (the "
        "curve gives the share still playing *after* it) and at ties between a churn and a "
        "censoring time (the censored player is still at risk then)."
    )


# --------------------------------------------------------------------------- the exercises


#: this notebook's exercises: ``_exercise(id, title, reads, probe, judge, ...)`` (see
#: :mod:`._helpers`)
_exercise = partial(exercise, NOTEBOOK)

EXERCISES: tuple[Exercise, ...] = (
    _exercise(
        "q11_durations",
        "Lifetimes from the log, censored right",
        ("lifetimes",),
        _probe_durations,
        _judge_durations,
        points=2,
        hints=(
            "When can you first be sure a player has quit? Only once the log has gone on 14 "
            "days without them. What is the last moment of the log for which that can be "
            "known?",
            "A quit is observed when the last session is at or before log_end - 14 days; the "
            "duration of everybody else runs from the install to that moment, not to their "
            "last session.",
        ),
    ),
    _exercise(
        "q10_km_retention",
        "Retention with censoring (Kaplan-Meier)",
        ("km_retention",),
        _probe_km,
        _judge_km,
        points=2,
        hints=(
            "The censored players are still playing: count them in the risk set up to their "
            "censoring time, never as churners.",
            "Walk through the distinct churn times up to `day` in order. At each one, who is "
            "still at risk, and what share of them did not churn then?",
        ),
    ),
)

check, hint, solution = make_api(NOTEBOOK, EXERCISES)
