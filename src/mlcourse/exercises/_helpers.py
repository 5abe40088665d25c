"""Small ready-made probes and judges for the common exercise shapes.

Use them in ``nbNN`` modules when they fit; write your own probe/judge when they do not
(a probe may call the learner's function on inputs from ``ctx.rng(...)``, transform fresh
rows with a fitted pipeline, ...). Judges see plain data only and never put the expected
value into a message.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from .spec import Judge, Outcome, Plain, Probe, ProbeContext, to_plain


def value_probe(name: str, convert: Callable[[Any], Any] | None = None) -> Probe:
    """A probe that returns ``to_plain(namespace[name])`` (after ``convert``, if given).

    Examples
    --------
    >>> value_probe("n_players")({"n_players": 12}, ProbeContext())
    12
    """

    def probe(ns: Mapping[str, Any], ctx: ProbeContext) -> Plain:
        value = ns[name]
        return to_plain(convert(value) if convert else value)

    probe.__name__ = f"value_probe_{name}"
    return probe


def _kind(v: Plain) -> str:
    if isinstance(v, bool):
        return "True/False"
    if isinstance(v, int | float):
        return "a number"
    if isinstance(v, str):
        return "a string" if v not in {"nan", "inf", "-inf"} else "a number"
    if isinstance(v, list):
        return f"a list of {len(v)} item{'s' if len(v) != 1 else ''}"
    if isinstance(v, dict):
        return "a dict"
    return "None"


def _shape_problem(student: Plain, expected: Plain, what: str) -> str | None:
    ks, ke = _kind(student), _kind(expected)
    if ks != ke:
        return f"{what} should be {ke}, but yours is {ks}."
    if isinstance(expected, dict):
        assert isinstance(student, dict)
        missing = sorted(set(expected) - set(student))
        extra = sorted(set(student) - set(expected))
        if missing or extra:
            parts = []
            if missing:
                parts.append(f"missing keys {missing}")
            if extra:
                parts.append(f"unexpected keys {extra}")
            return f"{what} has {' and '.join(parts)}."
    return None


def equal_judge(wrong: str, what: str = "Your answer") -> Judge:
    """Exact equality (after the type/shape checks), with ``wrong`` as the reason."""

    def judge(student: Plain, expected: Plain) -> Outcome:
        problem = _shape_problem(student, expected, what)
        if problem:
            return Outcome.incorrect(problem)
        return Outcome.correct() if student == expected else Outcome.incorrect(wrong)

    return judge


def _close(a: Plain, b: Plain, rtol: float, atol: float) -> bool:
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_close(a[k], b[k], rtol, atol) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_close(x, y, rtol, atol) for x, y in zip(a, b, strict=True))
    if isinstance(a, bool) or isinstance(b, bool):
        return a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return math.isclose(a, b, rel_tol=rtol, abs_tol=atol)
    return a == b


def close_judge(wrong: str, rtol: float = 1e-6, atol: float = 1e-9, what: str = "Your answer"):
    """Numbers (or lists/dicts of numbers) equal within ``rtol``/``atol``."""

    def judge(student: Plain, expected: Plain) -> Outcome:
        problem = _shape_problem(student, expected, what)
        if problem:
            return Outcome.incorrect(problem)
        return (
            Outcome.correct()
            if _close(student, expected, rtol, atol)
            else (Outcome.incorrect(wrong))
        )

    return judge


def choice_judge(
    explanations: Mapping[str, str], default: str = "That is not the best option."
) -> Judge:
    """Judge a multiple-choice letter; ``explanations[letter]`` explains a wrong letter.

    The probe should return the letter (``value_probe(name, str.upper)`` does).
    """

    def judge(student: Plain, expected: Plain) -> Outcome:
        if not isinstance(student, str):
            return Outcome.incorrect('Answer with one letter in quotes, e.g. "A".')
        letter = student.strip().upper()
        if letter == str(expected).strip().upper():
            return Outcome.correct()
        return Outcome.incorrect(explanations.get(letter, default))

    return judge
