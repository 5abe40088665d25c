"""Catalogue of ``07_survival``: answers the checkers must reject (WRONG) and accept (VALID).

Test data, never shipped. ``code`` replaces the solution region of the exercise's cell in
``solutions/07_survival.ipynb``; for q10 the region is the whole ``def``.
"""

from __future__ import annotations

from mlcourse.exercises.spec import ValidAnswer, WrongAnswer

WRONG: dict[str, tuple[WrongAnswer, ...]] = {
    "q10_km_retention": (
        WrongAnswer(
            "naive_share",
            "def km_retention(lifetime, observed, day):\n"
            "    return float((lifetime > day).mean())\n",
            "counts every censored player as gone",
        ),
        WrongAnswer(
            "censored_dropped",
            "def km_retention(lifetime, observed, day):\n"
            "    return float((lifetime[observed] > day).mean())\n",
            "leave the censored players out",
        ),
        WrongAnswer(
            "at_or_after_day",
            "def km_retention(lifetime, observed, day):\n"
            "    s = 1.0\n"
            "    for t in np.unique(lifetime[observed & (lifetime < day)]):\n"
            "        s *= 1 - (observed & (lifetime == t)).sum() / (lifetime >= t).sum()\n"
            "    return s\n",
            "equal to a churn time",
        ),
        WrongAnswer(
            "censored_leave_first",
            "def km_retention(lifetime, observed, day):\n"
            "    s = 1.0\n"
            "    for t in np.unique(lifetime[observed & (lifetime <= day)]):\n"
            "        at_risk = (lifetime > t).sum() + (observed & (lifetime == t)).sum()\n"
            "        s *= 1 - (observed & (lifetime == t)).sum() / at_risk\n"
            "    return s\n",
            "still at risk",
        ),
        WrongAnswer(
            "returns_array",
            "def km_retention(lifetime, observed, day):\n    return lifetime > day\n",
            "one number",
            status="incorrect",
        ),
    ),
}

VALID: dict[str, tuple[ValidAnswer, ...]] = {
    "q10_km_retention": (
        ValidAnswer(
            "product_loop",
            "def km_retention(lifetime, observed, day):\n"
            "    s = 1.0\n"
            "    for t in np.unique(lifetime[observed & (lifetime <= day)]):\n"
            "        s *= 1 - (observed & (lifetime == t)).sum() / (lifetime >= t).sum()\n"
            "    return s\n",
        ),
    ),
}

EQUIVALENT: dict[str, dict[str, str]] = {}
