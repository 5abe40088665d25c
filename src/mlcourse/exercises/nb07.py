"""Exercises of notebook 07, "Survival: how long do players stay?".

In the notebook: ``from mlcourse.exercises.nb07 import check, hint, solution``.

The probe calls the learner's Kaplan-Meier function on small cohorts it generates from
``ctx.rng`` (with tied times and censoring), and returns the outputs only.

The catalogues of wrong and valid answers are test data in ``tests/catalogues/nb07.py``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from functools import partial
from typing import Any

import numpy as np

from . import make_api
from ._helpers import (
    exercise,
    learner_function,
    learner_number,
)
from .spec import Exercise, Outcome, Plain, ProbeContext

NOTEBOOK = "07_survival"


# --------------------------------------------------------------------------- q10 Kaplan-Meier


def _km_cases(rng: np.random.Generator) -> list[tuple[list[float], list[bool], float]]:
    """Lifetimes (whole days, so times tie), observed flags and a day to read the curve at.

    Built to catch: censored players counted as gone (the naive share), censored players
    dropped, ``>=`` instead of ``>`` at an event time (a day equal to an event time is
    planted), a censored player not kept at risk at an event time equal to their censoring
    time (planted ties), a curve read before the first event (1) and past the last time.
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


def _judge_km(student: Plain, expected: Plain) -> Outcome:
    assert isinstance(student, dict) and isinstance(expected, dict)
    got, want = student["retention"], expected["retention"]
    if len(got) != len(want) or not all(isinstance(g, float) for g in got):
        return Outcome.incorrect("km_retention should return one number per call.")
    if all(math.isclose(g, w, rel_tol=1e-9, abs_tol=1e-12) for g, w in zip(got, want, strict=True)):
        return Outcome.correct("Correct: censored players count for as long as we watched them.")
    inputs = expected["inputs"]  # the reference's copy of the generated cases (trusted)

    def matches(rule) -> bool:
        return all(
            math.isclose(g, rule(np.array(life), np.array(obs, dtype=bool), day), abs_tol=1e-9)
            for g, (life, obs, day) in zip(got, inputs, strict=True)
        )

    if matches(lambda life, obs, day: float((life > day).mean())):
        return Outcome.incorrect(
            "Your numbers are the share of all players whose lifetime exceeds `day`: that counts "
            "every censored player as gone at their last session. Use the Kaplan-Meier estimator."
        )
    if matches(lambda life, obs, day: float((life[obs] > day).mean())):
        return Outcome.incorrect(
            "Your numbers leave the censored players out; they were still playing when we last "
            "looked, so they belong in the risk set until their censoring time."
        )
    if any(g < -1e-12 or g > 1 + 1e-12 for g in got):
        return Outcome.incorrect("A retention share lies between 0 and 1; some of yours do not.")
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
        "q10_km_retention",
        "Retention with censoring (Kaplan-Meier)",
        ("km_retention",),
        _probe_km,
        _judge_km,
        points=2,
        hints=(
            "The censored players are still playing: count them in the risk set up to their "
            "censoring time, never as churners.",
            "Kaplan-Meier multiplies (1 - churns at t / players at risk at t) over the churn "
            "times t up to `day`; scipy's stats.ecdf on stats.CensoredData does it for you.",
        ),
    ),
)

check, hint, solution = make_api(NOTEBOOK, EXERCISES)
