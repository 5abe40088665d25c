"""A tiny exercise module for the grader tests (notebook "99_fake").

It depends only on :mod:`mlcourse.exercises.spec`, so the grader tests do not need the
course's real notebooks. Data: ``$MLCOURSE_DATA_DIR/scores.csv`` with one column ``score``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from mlcourse.exercises.spec import (
    AnswerError,
    Exercise,
    NotAttempted,
    Outcome,
    Plain,
    ProbeContext,
    to_plain,
)

NOTEBOOK = "99_fake"


def _get(ns: Mapping[str, Any], name: str) -> Any:
    if name not in ns or ns[name] is ...:
        raise NotAttempted(f"`{name}` is not defined yet")
    return ns[name]


def _probe_mean(ns: Mapping[str, Any], ctx: ProbeContext) -> Plain:
    value = to_plain(_get(ns, "mean_score"))
    if type(value) not in (int, float):
        raise AnswerError("`mean_score` should be a single number")
    return value


def _judge_close(student: Plain, expected: Plain) -> Outcome:
    if isinstance(student, (int, float)) and math.isclose(student, expected, rel_tol=1e-9):
        return Outcome.correct()
    return Outcome.incorrect("Not the mean of the `score` column; did you load the data?")


def _probe_double(ns: Mapping[str, Any], ctx: ProbeContext) -> Plain:
    fn = _get(ns, "double")
    if not callable(fn):
        raise AnswerError("`double` should be a function")
    x = ctx.rng("double").normal(size=5)
    return to_plain(np.asarray(fn(x.copy()), dtype=float))


def _judge_double(student: Plain, expected: Plain) -> Outcome:
    if (
        isinstance(student, list)
        and len(student) == len(expected)
        and all(isinstance(s, float) for s in student)
        and np.allclose(student, expected)
    ):
        return Outcome.correct()
    return Outcome.incorrect("`double(x)` should return every value of x multiplied by 2")


def _probe_choice(ns: Mapping[str, Any], ctx: ProbeContext) -> Plain:
    value = to_plain(_get(ns, "answer_q3"))
    if type(value) is not str:
        raise AnswerError("answer with one letter as a string, e.g. 'a'")
    return value.strip().lower()


def _judge_choice(student: Plain, expected: Plain) -> Outcome:
    if student == expected:
        return Outcome.correct()
    return Outcome.incorrect("That option is not right; reread the section on means.")


EXERCISES = (
    Exercise("q1_mean", NOTEBOOK, "Mean score", 2.0, ("mean_score",), _probe_mean, _judge_close),
    Exercise("q2_double", NOTEBOOK, "A function", 1.0, ("double",), _probe_double, _judge_double),
    Exercise(
        "q3_choice",
        NOTEBOOK,
        "Concept",
        1.0,
        ("answer_q3",),
        _probe_choice,
        _judge_choice,
        kind="choice",
        choices={"a": "the median", "b": "the mean"},
    ),
)
