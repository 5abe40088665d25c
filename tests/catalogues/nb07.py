"""Catalogue of ``07_survival``: answers the checkers must reject (WRONG) and accept (VALID).

Test data, never shipped. ``code`` replaces the solution region of the exercise's cell in
``solutions/07_survival.ipynb``; for q10 and q11 the region is the whole ``def``.
"""

from __future__ import annotations

from mlcourse.exercises.spec import ValidAnswer, WrongAnswer

_Q11 = "def lifetimes(last_session, install, log_end):\n"
_CUT = "    cutoff = log_end - pd.Timedelta(days=14)\n"

WRONG: dict[str, tuple[WrongAnswer, ...]] = {
    "q11_durations": (
        WrongAnswer(
            "censored_at_last_session",
            _Q11 + "    event = (log_end - last_session >= pd.Timedelta(days=14)).to_numpy()\n"
            "    duration = ((last_session - install) / pd.Timedelta(days=1)).to_numpy()\n"
            "    return duration, event\n",
            "censored at their last session",
        ),
        WrongAnswer(
            "censored_at_log_end",
            _Q11 + _CUT + "    event = (last_session <= cutoff).to_numpy()\n"
            "    end = last_session.where(event, log_end)\n"
            "    duration = ((end - install) / pd.Timedelta(days=1)).to_numpy()\n"
            "    return duration, event\n",
            "censored at the log end",
        ),
        WrongAnswer(
            "strict_cutoff",
            _Q11 + _CUT + "    event = (last_session < cutoff).to_numpy()\n"
            "    duration = ((last_session.clip(upper=cutoff) - install) / pd.Timedelta(days=1))\n"
            "    return duration.to_numpy(), event\n",
            "exactly 14 days before the log end",
        ),
        WrongAnswer(
            "flags_inverted",
            _Q11 + _CUT + "    censored = (last_session <= cutoff).to_numpy()\n"
            "    duration = ((last_session.clip(upper=cutoff) - install) / pd.Timedelta(days=1))\n"
            "    return duration.to_numpy(), ~censored\n",
            "wrong way round",
        ),
        WrongAnswer(
            "hours",
            _Q11 + _CUT + "    event = (last_session <= cutoff).to_numpy()\n"
            "    duration = ((last_session.clip(upper=cutoff) - install) / pd.Timedelta(hours=1))\n"
            "    return duration.to_numpy(), event\n",
            "in hours",
        ),
        WrongAnswer(
            "timedeltas",
            _Q11 + _CUT + "    event = (last_session <= cutoff).to_numpy()\n"
            "    return (last_session.clip(upper=cutoff) - install).to_numpy(), event\n",
            "time spans",
        ),
        WrongAnswer(
            "one_array",
            _Q11 + _CUT + "    return ((last_session.clip(upper=cutoff) - install)).dt.days\n",
            "two arrays",
        ),
        WrongAnswer(
            "seven_quiet_days",
            _Q11 + "    cutoff = log_end - pd.Timedelta(days=7)\n"
            "    event = (last_session <= cutoff).to_numpy()\n"
            "    duration = ((last_session.clip(upper=cutoff) - install) / pd.Timedelta(days=1))\n"
            "    return duration.to_numpy(), event\n",
            "not 14 days",
        ),
        WrongAnswer(
            "outputs_swapped",
            _Q11 + _CUT + "    event = (last_session <= cutoff).to_numpy()\n"
            "    duration = ((last_session.clip(upper=cutoff) - install) / pd.Timedelta(days=1))\n"
            "    return event, duration.to_numpy()\n",
            "(duration, event)",
        ),
        WrongAnswer(
            "from_first_session_guess",
            _Q11 + _CUT + "    event = (last_session <= cutoff).to_numpy()\n"
            "    duration = ((last_session.clip(upper=cutoff) - install) / pd.Timedelta(days=1))\n"
            "    return duration.to_numpy() + 1.0, event\n",
            "by hand",
        ),
        WrongAnswer(
            "whole_days",
            _Q11 + _CUT + "    event = (last_session <= cutoff).to_numpy()\n"
            "    duration = (last_session.clip(upper=cutoff) - install).dt.days\n"
            "    return duration.to_numpy(), event\n",
            "whole days",
        ),
    ),
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
            "t <= day, not t < day",
        ),
        WrongAnswer(
            "censored_leave_first",
            "def km_retention(lifetime, observed, day):\n"
            "    s = 1.0\n"
            "    for t in np.unique(lifetime[observed & (lifetime <= day)]):\n"
            "        at_risk = (lifetime > t).sum() + (observed & (lifetime == t)).sum()\n"
            "        s *= 1 - (observed & (lifetime == t)).sum() / at_risk\n"
            "    return s\n",
            "take the censored player out of the risk set first",
        ),
        WrongAnswer(
            "nelson_aalen",
            "def km_retention(lifetime, observed, day):\n"
            "    h = 0.0\n"
            "    for t in np.unique(lifetime[observed & (lifetime <= day)]):\n"
            "        h += (observed & (lifetime == t)).sum() / (lifetime >= t).sum()\n"
            "    return float(np.exp(-h))\n",
            "Nelson-Aalen",
        ),
        WrongAnswer(
            "cdf_not_survival",
            "def km_retention(lifetime, observed, day):\n"
            "    from scipy import stats\n"
            "    data = stats.CensoredData(lifetime[observed], right=lifetime[~observed])\n"
            "    return float(stats.ecdf(data).cdf.evaluate(day))\n",
            "one minus the curve we want",
        ),
        WrongAnswer(
            "censored_never_leave_risk_set",
            "def km_retention(lifetime, observed, day):\n"
            "    s, n = 1.0, len(lifetime)\n"
            "    for t in np.unique(lifetime[observed & (lifetime <= day)]):\n"
            "        at_risk = n - (observed & (lifetime < t)).sum()\n"
            "        s *= 1 - (observed & (lifetime == t)).sum() / at_risk\n"
            "    return s\n",
            "never loses the censored players",
        ),
        WrongAnswer(
            "rounded",
            "def km_retention(lifetime, observed, day):\n"
            "    from scipy import stats\n"
            "    data = stats.CensoredData(lifetime[observed], right=lifetime[~observed])\n"
            "    return round(float(stats.ecdf(data).sf.evaluate(day)), 2)\n",
            "unrounded",
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
    "q11_durations": (
        ValidAnswer(
            "numpy_nanoseconds",
            _Q11 + "    last = last_session.to_numpy().astype('datetime64[ns]').astype(np.int64)\n"
            "    start = install.to_numpy().astype('datetime64[ns]').astype(np.int64)\n"
            "    cutoff = (log_end - pd.Timedelta(days=14)).value\n"
            "    event = last <= cutoff\n"
            "    return (np.minimum(last, cutoff) - start) / 86_400e9, event\n",
        ),
        ValidAnswer(
            "loop_lists",
            _Q11 + "    duration, event = [], []\n"
            "    for last, start in zip(last_session, install):\n"
            "        quit = log_end - last >= pd.Timedelta(days=14)\n"
            "        end = last if quit else log_end - pd.Timedelta(days=14)\n"
            "        duration.append((end - start).total_seconds() / 86400)\n"
            "        event.append(quit)\n"
            "    return np.array(duration), np.array(event)\n",
        ),
    ),
    "q10_km_retention": (
        ValidAnswer(
            "scipy_ecdf",
            "def km_retention(lifetime, observed, day):\n"
            "    from scipy import stats\n"
            "    data = stats.CensoredData(lifetime[observed], right=lifetime[~observed])\n"
            "    return float(stats.ecdf(data).sf.evaluate(day))\n",
        ),
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
