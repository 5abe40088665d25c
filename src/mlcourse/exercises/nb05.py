"""Exercises of notebook 05, "Churn I: labels, features and splits from the raw log".

In the notebook: ``from mlcourse.exercises.nb05 import check, hint, solution``.

Every probe returns **observations** only (course design §6): the learner's values, or the
outputs of the learner's functions on logs and tables the probe builds itself from
``ctx.rng``. Nothing is concluded in the learner's process.

The function exercises (q2 labels, q3 features, q5 time split) are called on inputs planted
with the edge cases each wrong variant trips on: events exactly on the window edges and one
microsecond either side, returns on every day from 11 to 18 after the snapshot, other event
types inside the windows, logs that cross month ends and midnight at the snapshot, players
with no earlier session, installs just either side of the censoring cut-off. Each generator
says what it is built to catch. The planted players carry a tag (in the observation), so the
judge can say *which* kind of player an answer gets wrong.

The catalogues of wrong and valid answers are test data in ``tests/catalogues/nb05.py``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from functools import partial
from typing import Any

import numpy as np
import pandas as pd

from mlcourse.churn import toy_log
from mlcourse.datasets import EVENT_TYPES

from . import make_api
from ._helpers import (
    choice_exercise,
    exercise,
    learner_function,
    plain_close,
)
from .spec import AnswerError, Exercise, Outcome, Plain, ProbeContext

NOTEBOOK = "05_churn_labels_features"

DAY = pd.Timedelta(days=1)
US = pd.Timedelta(microseconds=1)
#: ids of planted players start here (toy_log's ids stay below 100 000)
_PLANTED_ID = 900_001


# --------------------------------------------------------------------------- shared bits


def _midnight(year: int, month: int, day: int) -> pd.Timestamp:
    return pd.Timestamp(year=year, month=month, day=day, tz="UTC")


def _random_month(rng: np.random.Generator) -> tuple[int, int]:
    """A month of 2025 or early 2026; December often, so that windows also cross a year end."""
    if rng.random() < 0.3:
        return 2025, 12
    return int(rng.choice([2025, 2026])), int(rng.integers(1, 12))


class _Planted:
    """Hand-made players and events added to a toy log, each player tagged with its trap."""

    def __init__(self) -> None:
        self.players: list[tuple[int, pd.Timestamp]] = []
        self.events: list[tuple[int, pd.Timestamp, str]] = []
        self.tags: dict[int, str] = {}

    def add(self, tag: str, install: pd.Timestamp, *events: tuple[pd.Timestamp, str]) -> int:
        pid = _PLANTED_ID + len(self.players)
        self.players.append((pid, install))
        self.tags[pid] = tag
        self.events.extend((pid, ts, kind) for ts, kind in events)
        return pid

    def log(
        self, rng: np.random.Generator, start: pd.Timestamp, days: int, n_background: int
    ) -> tuple[pd.DataFrame, pd.DataFrame]:
        """The planted players and events merged into a toy log (``load_events`` dtypes)."""
        events, players = toy_log(
            n_players=n_background, start=start, days=days, seed=int(rng.integers(2**31))
        )
        n = len(self.players)
        planted_players = pd.DataFrame(
            {
                "player_id": np.array([p for p, _ in self.players], dtype=np.int64),
                "install_date": pd.to_datetime([t for _, t in self.players], utc=True),
                "platform": rng.choice(["android", "ios", "web"], n),
                "difficulty": rng.choice(["easy", "normal", "hard"], n),
            }
        )
        kinds = np.array([k for _, _, k in self.events], dtype=object)
        m = len(kinds)
        is_level, is_buy = kinds == "level_end", kinds == "purchase"
        planted_events = pd.DataFrame(
            {
                "player_id": np.array([p for p, _, _ in self.events], dtype=np.int64),
                "ts": pd.to_datetime([t for _, t, _ in self.events], utc=True),
                "event": kinds,
                "level": np.where(is_level, rng.integers(1, 40, m), np.nan),
                "success": pd.array(
                    [
                        bool(s) if lv else pd.NA
                        for s, lv in zip(rng.random(m) < 0.6, is_level, strict=True)
                    ],
                    dtype="boolean",
                ),
                "value": np.where(is_buy, 4.99, np.nan),
            }
        )
        players = pd.concat(
            [players.astype({"platform": str, "difficulty": str}), planted_players],
            ignore_index=True,
        )
        players["install_date"] = players["install_date"].astype("datetime64[ns, UTC]")
        players["platform"] = pd.Categorical(players["platform"], ["android", "ios", "web"])
        players["difficulty"] = pd.Categorical(
            players["difficulty"], ["easy", "normal", "hard"], ordered=True
        )
        events = pd.concat(
            [events.astype({"event": str}), planted_events], ignore_index=True
        ).astype({"ts": "datetime64[ns, UTC]"})
        events["event"] = pd.Categorical(events["event"], list(EVENT_TYPES))
        events = events.sort_values(["ts", "player_id"], kind="stable", ignore_index=True)
        return events, players

    def tag_map(self) -> dict[str, str]:
        return {str(pid): tag for pid, tag in self.tags.items()}


def _same_feature(a: Plain, b: Plain) -> bool:
    """Two feature values equal, numbers within a relative 1e-9 or an absolute 1e-7."""
    return plain_close(a, b, 1e-9, 1e-7)


# --------------------------------------------------------------------------- q2 labels

#: what a wrong label of a planted player of each tag usually means (first match wins)
_LABEL_ADVICE = (
    (
        "other_event",
        "players whose only events in the window are level ends, ads, purchases or invites "
        "did not open the game: count `session_start` events only",
    ),
    (
        "window_start",
        "a session exactly at the snapshot counts: the window starts at the snapshot "
        "(ts >= snapshot), and a session one microsecond before it does not",
    ),
    (
        "return_day",
        "players who come back on days 11 to 18 after the snapshot are labelled wrongly: the "
        "window is exactly 14 days long",
    ),
    (
        "window_end",
        "check the end of the window: [snapshot, snapshot + 14 days) holds a session one "
        "microsecond before its end, but not one exactly at the end",
    ),
)

_CENSOR_ADVICE = (
    "a player installed exactly 7 days before the snapshot can be labelled; one installed "
    "even a microsecond later cannot (compare time stamps, not calendar days)"
)


def _label_log(
    rng: np.random.Generator, s: pd.Timestamp
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, str]]:
    """A log around snapshot ``s`` planted with the traps of the churn label.

    Built to catch: label windows of 12, 13, 15, 16 or 18 days (one player returns on each
    day 11-18 after ``s``, at midnight and in the afternoon); an open or closed window end
    (sessions at ``s + 14 d - 1 us``, ``s + 14 d``, ``s + 14 d + 1 us``); a window that starts
    after ``s`` or before it (sessions exactly at ``s`` and at ``s - 1 us``, the midnight
    before); a missing event-type filter (players with only level ends, ads, purchases,
    invites or tutorials inside the window); censoring by ``<`` instead of ``<=``, by 6 or 8
    days, or by calendar day (installs at ``s - 7 d`` exactly, one microsecond either side,
    half a day later, at ``s`` and after ``s``); players dropped because they have no events
    or no session before ``s``. The toy background adds ordinary players.
    """
    p = _Planted()
    old = s - 30 * DAY

    def sess(t: pd.Timestamp) -> tuple[pd.Timestamp, str]:
        return (t, "session_start")

    # censoring cut-off: install exactly at, just before and just after s - 7 d
    for tag, install in (
        ("install_exact", s - 7 * DAY),
        ("install_just_before", s - 7 * DAY - US),
        ("install_just_after", s - 7 * DAY + US),
        ("install_half_day_late", s - 6 * DAY - 12 * pd.Timedelta(hours=1)),
        ("install_8_days", s - 8 * DAY + pd.Timedelta(hours=2)),
        ("install_6_days", s - 6 * DAY + pd.Timedelta(hours=2)),
        ("install_at_snapshot", s),
    ):
        for returns in (True, False):
            later = [sess(s + pd.Timedelta(hours=int(rng.integers(1, 300))))] if returns else []
            p.add(tag, install, sess(install + pd.Timedelta(minutes=5)), *later)
    p.add("install_after", s + 2 * DAY, sess(s + 2 * DAY + pd.Timedelta(minutes=1)))
    # window start and end, to the microsecond
    p.add("window_start", old, sess(s - 3 * DAY), sess(s))
    p.add("window_start", old, sess(s - 3 * DAY), sess(s - US))
    p.add("window_start", old, sess(s - US), sess(s))
    for offset in (-US, pd.Timedelta(0), US):
        p.add("window_end", old, sess(s - 2 * DAY), sess(s + 14 * DAY + offset))
    # returns on every day from 11 to 18, at midnight and later that day (the end of the
    # window itself, s + 14 d, is the window_end group's): any other window length labels
    # some of them wrongly
    for k in range(11, 19):
        later = pd.Timedelta(seconds=int(rng.integers(1, 86_400)))
        for extra in (later,) if k == 14 else (pd.Timedelta(0), later):
            p.add("return_day", old, sess(s - 2 * DAY), sess(s + k * DAY + extra))
    # other event types inside the window, no session there
    for kind in ("level_end", "ad_view", "purchase", "friend_invite", "tutorial_complete"):
        when = s + pd.Timedelta(hours=int(rng.integers(1, 13 * 24)))
        p.add("other_event", old, sess(s - DAY), (when, kind))
    p.add(
        "other_event",
        old,
        sess(s - 4 * DAY),
        (s, "ad_view"),
        (s + 3 * DAY, "level_end"),
        (s + 13 * DAY, "purchase"),
    )
    # players with no events at all, or no session before the snapshot
    p.add("no_events", s - 20 * DAY)
    p.add("no_earlier_session", s - 10 * DAY, sess(s + 5 * DAY))
    p.add("no_earlier_session", s - 10 * DAY, (s - 2 * DAY, "ad_view"))
    p.add("gone_long_ago", old, sess(old + DAY), sess(s - 20 * DAY))
    events, players = p.log(rng, s - 25 * DAY, 50, 120)
    return events, players, p.tag_map()


def _label_snapshots(rng: np.random.Generator) -> list[pd.Timestamp]:
    """Two midnights: one whose window crosses a month end (day 19-28), one early in a month
    (day 1-6) whose censoring cut-off ``s - 7 d`` falls in the previous month."""
    y1, m1 = _random_month(rng)
    y2, m2 = _random_month(rng)
    return [
        _midnight(y1, m1, int(rng.integers(19, 29))),
        _midnight(y2, m2, int(rng.integers(1, 7))),
    ]


def _player_order(out: pd.Series | pd.DataFrame, fn: str) -> tuple[np.ndarray, np.ndarray]:
    """The player ids in the index of what ``fn`` returned, and the order that sorts them."""
    try:
        ids = np.asarray(out.index, dtype=np.int64)
    except (TypeError, ValueError):
        raise AnswerError(f"{fn} should be indexed by player_id (integers).") from None
    return ids, np.argsort(ids, kind="stable")


def _labels_plain(out: Any) -> dict[str, list[int]]:
    if not isinstance(out, pd.Series):
        raise AnswerError(
            "churn_labels should return a pandas Series indexed by player_id, got "
            f"{type(out).__name__}."
        )
    if not out.index.is_unique:
        raise AnswerError("churn_labels returned several rows for one player; give one per player.")
    values = pd.to_numeric(pd.Series(out.to_numpy(), dtype=object), errors="coerce")
    if values.isna().any() or not values.isin([0, 1]).all():
        raise AnswerError("churn_labels should return 0/1 (or False/True) labels, one per player.")
    ids, order = _player_order(out, "churn_labels")
    return {
        "ids": [int(i) for i in ids[order]],
        "labels": [int(v) for v in values.to_numpy()[order]],
    }


def _probe_labels(ns: Mapping[str, Any], ctx: ProbeContext) -> Plain:
    """``churn_labels`` on two planted logs (see :func:`_label_log`)."""
    fn = learner_function(ns, "churn_labels")
    rng = ctx.rng("q2_churn_labels")
    cases = []
    for s in _label_snapshots(rng):
        events, players, tags = _label_log(rng, s)
        out = _labels_plain(fn(events.copy(), players.copy(), s))
        cases.append({"snapshot": f"{s:%Y-%m-%d}", "tags": tags, **out})
    return {"cases": cases}


def _judge_labels(student: Plain, expected: Plain) -> Outcome:
    assert isinstance(student, dict) and isinstance(expected, dict)
    for got, want in zip(student["cases"], expected["cases"], strict=True):
        tags = want["tags"]
        s_ids, e_ids = set(got["ids"]), set(want["ids"])
        at = f"At the snapshot {want['snapshot']}"
        if s_ids - e_ids:
            extra = s_ids - e_ids
            advice = (
                _CENSOR_ADVICE
                if any(tags.get(str(i), "").startswith("install") for i in extra)
                else "label only players installed at least 7 days before the snapshot"
            )
            return Outcome.incorrect(
                f"{at} you label {len(extra)} player(s) who cannot be labelled yet: leave out "
                f"players installed less than 7 days before the snapshot (they are censored); "
                f"{advice}."
            )
        if e_ids - s_ids:
            missing = e_ids - s_ids
            kinds = {tags.get(str(i), "") for i in missing}
            if kinds & {"no_events", "no_earlier_session", "gone_long_ago"}:
                advice = "start from the players table, not from the events: a player with no "
                advice += "session at all is labelled too (churned)"
            elif any(k.startswith("install") for k in kinds):
                advice = _CENSOR_ADVICE
            else:
                advice = "keep every player installed at least 7 days before the snapshot"
            return Outcome.incorrect(
                f"{at} you leave out {len(missing)} player(s) who should be labelled: keep "
                f"every player installed at least 7 days before the snapshot, active or not; "
                f"{advice}."
            )
        truth = dict(zip(want["ids"], want["labels"], strict=True))
        wrong = [i for i, v in zip(got["ids"], got["labels"], strict=True) if truth[i] != v]
        if not wrong:
            continue
        if len(wrong) == len(truth):
            return Outcome.incorrect(
                "Every label is the opposite of the definition: 1 means churned (no "
                "session_start in [snapshot, snapshot + 14 days)) and 0 means stayed."
            )
        kinds = {tags.get(str(i), "") for i in wrong}
        advice = next((text for tag, text in _LABEL_ADVICE if tag in kinds), None)
        advice = advice or "check the event type, both ends of the window, and that 1 means churned"
        return Outcome.incorrect(
            f"{at} the labels differ for {len(wrong)} of {len(truth)} players. Churned (1) "
            f"means no session_start in [snapshot, snapshot + 14 days): {advice}."
        )
    return Outcome.correct("Correct: censoring and the 14-day window are right.")


# --------------------------------------------------------------------------- q3 features

_ACTIVITY = ("recency_days", "sessions_7d", "sessions_prev_7d")

_EDGE_ADVICE = {
    "edge_7": "check the ends of the windows: [s - 7 days, s) includes a session exactly 7 "
    "days before the snapshot, and a session a microsecond earlier belongs to the week before",
    "edge_14": "check the ends of the windows: [s - 14 days, s - 7 days) includes a session "
    "exactly 14 days before the snapshot, and not one a microsecond earlier",
}


def _recency_advice(mine: list[Plain], ref: list[Plain], bad: list[int]) -> str:
    """What a wrong ``recency_days`` column most likely got wrong, from its values."""
    pairs = [(a, b) for a, b in zip(mine, ref, strict=True) if isinstance(a, int | float)]
    if not pairs:
        return "give every player a number of days"
    wrong = [(a, b) for a, b in pairs if not _same_feature(a, b)]
    if all(float(a).is_integer() for a, _ in pairs):
        return "it is a float number of days measured from the snapshot, not whole or calendar days"
    ratios = [a / b for a, b in wrong if b > 1e-3]
    for unit, factor in (("hours", 24), ("minutes", 1440), ("seconds", 86400)):
        if ratios and all(math.isclose(r, factor, rel_tol=1e-6) for r in ratios):
            return f"it should be in days, and yours looks like {unit}"
    if all(a < b for a, b in wrong):
        return "it counts days since the last session_start: other events are not sessions"
    if all(a > b for a, b in wrong):
        return "it counts days since the most recent session before the snapshot"
    return "it is (snapshot - last session_start before it) in days, as a float"


def _count_advice(mine: list[Plain], ref: list[Plain], ids: list[int], tags: dict[str, str]) -> str:
    """What a wrong window count most likely got wrong, from the planted players it misses."""
    wrong = {
        tags.get(str(i), ""): (a, b)
        for i, a, b in zip(ids, mine, ref, strict=True)
        if not (isinstance(a, int | float) and _same_feature(a, b))
    }
    if any(t == "other_event" and a > b for t, (a, b) in wrong.items()):
        return "only session_start events count: level ends, ads and purchases are not sessions"
    if "shift" in wrong:
        return (
            "the windows are the 7 days just before the snapshot and the 7 days before those, "
            "measured from the snapshot itself"
        )
    for edge in ("edge_7", "edge_14"):
        if any(t.startswith(edge) for t in wrong):
            return _EDGE_ADVICE[edge]
    return "check the event type, the window ends and the unit: days"


def _activity_log(rng: np.random.Generator, s: pd.Timestamp) -> tuple[pd.DataFrame, dict[str, str]]:
    """A log around snapshot ``s`` planted with the traps of the activity features.

    Built to catch: events at the snapshot used (a session exactly at ``s``); a look into
    the future (sessions after ``s``, players whose sessions all lie after ``s``); window
    ends open or closed the wrong way (sessions at ``s - 7 d`` and ``s - 14 d`` exactly and
    one microsecond either side); windows shifted by a day or half a day (sessions at
    ``s - 1 d``, ``s - 6.5 d``, ``s - 7.5 d``, ``s - 8 d``, ``s - 13.5 d``, ``s - 14.5 d``,
    ``s - 15 d``); counting every event or taking recency from any event (level ends, ads and
    purchases after the last session); rows for players without a session before ``s``, or
    no row for players whose sessions are all older than 14 days; recency in hours, whole
    days or calendar days (sessions around the midnights before ``s``). The snapshot is chosen
    so that the windows cross a month start.
    """
    p = _Planted()
    old = s - 40 * DAY
    hour = pd.Timedelta(hours=1)

    def sess(t: pd.Timestamp) -> tuple[pd.Timestamp, str]:
        return (t, "session_start")

    p.add("at_snapshot", old, sess(s), sess(s + 2 * hour))
    p.add("at_snapshot", old, sess(s - 3 * DAY), sess(s))
    p.add("midnight", old, sess(s - US), sess(s + hour))
    p.add("future", old, sess(s - 9 * DAY), sess(s + 3 * hour), sess(s + 2 * DAY))
    for edge in (7, 14):
        for name, offset in (("exact", pd.Timedelta(0)), ("before", -US), ("after", US)):
            p.add(f"edge_{edge}_{name}", old, sess(s - edge * DAY + offset))
            p.add(f"edge_{edge}_{name}", old, sess(s - 20 * DAY), sess(s - edge * DAY + offset))
    shifted = [s - d * DAY for d in (1, 6.5, 7.5, 8, 13.5, 14.5, 15)]
    p.add("shift", old, *(sess(t) for t in shifted))
    p.add("shift", old, *(sess(t) for t in shifted[1:]))
    p.add("shift", old, *(sess(t) for t in shifted[2:]))
    p.add("midnight", old, sess(s - DAY - US), sess(s - DAY + US))
    p.add("midnight", old, sess(s - 3 * DAY + US))
    p.add("midnight", old, sess(s - 2 * DAY - 23 * hour))
    p.add(
        "other_event",
        old,
        sess(s - 10 * DAY),
        (s - hour, "level_end"),
        (s - 2 * DAY, "ad_view"),
        (s - 3 * DAY, "purchase"),
        (s - 9 * DAY, "friend_invite"),
    )
    p.add("other_event", old, sess(s - 2 * DAY), (s - US, "ad_view"), (s - 12 * DAY, "level_end"))
    p.add("only_other_events", old, (s - 2 * DAY, "ad_view"), (s - 3 * DAY, "level_end"))
    p.add("future_only", old, sess(s + hour), sess(s + 3 * DAY))
    p.add("old_only", old, sess(s - 30 * DAY), sess(s - 20 * DAY))
    p.add("no_events", old)
    events, _ = p.log(rng, s - 30 * DAY, 45, 120)
    return events, p.tag_map()


def _activity_snapshots(rng: np.random.Generator) -> list[pd.Timestamp]:
    """Two midnights: the 1st of a month (both windows reach into the previous month) and a
    day 8-13 (the earlier window does)."""
    y1, m1 = _random_month(rng)
    y2, m2 = _random_month(rng)
    return [_midnight(y1, m1, 1), _midnight(y2, m2, int(rng.integers(8, 14)))]


def _activity_plain(out: Any) -> dict[str, Any]:
    if not isinstance(out, pd.DataFrame):
        raise AnswerError(
            f"activity_features should return a DataFrame indexed by player_id, "
            f"got {type(out).__name__}."
        )
    missing = [c for c in _ACTIVITY if c not in out.columns]
    if missing:
        raise AnswerError(
            f"activity_features should return the columns {list(_ACTIVITY)}; {missing} missing."
        )
    if not out.index.is_unique:
        raise AnswerError("activity_features returned several rows for one player.")
    ids, order = _player_order(out, "activity_features")
    cols: dict[str, Any] = {"ids": [int(i) for i in ids[order]]}
    for c in _ACTIVITY:
        v = pd.to_numeric(pd.Series(out[c].to_numpy(), dtype=object), errors="coerce")
        v = v.to_numpy(dtype=float)[order]
        cols[c] = [float(x) if math.isfinite(x) else "nan" for x in v]
    return cols


def _probe_activity(ns: Mapping[str, Any], ctx: ProbeContext) -> Plain:
    """``activity_features`` on two planted logs (see :func:`_activity_log`), each passed
    three times: whole (with events at and after the snapshot), cut after the snapshot
    moment (``ts <= s``) and cut before it (``ts < s``), so the judge can tell a look into
    the future from a use of the snapshot moment itself."""
    fn = learner_function(ns, "activity_features")
    rng = ctx.rng("q3_activity_features")
    cases = []
    for s in _activity_snapshots(rng):
        events, tags = _activity_log(rng, s)
        case: dict[str, Any] = {"snapshot": f"{s:%Y-%m-%d}", "tags": tags}
        for name, part in (
            ("full", events),
            ("upto", events[events["ts"] <= s]),
            ("past", events[events["ts"] < s]),
        ):
            case[name] = _activity_plain(fn(part.reset_index(drop=True), s))
        cases.append(case)
    return {"cases": cases}


def _same_activity(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return a["ids"] == b["ids"] and all(
        len(a[c]) == len(b[c]) and all(_same_feature(x, y) for x, y in zip(a[c], b[c], strict=True))
        for c in _ACTIVITY
    )


def _judge_activity(student: Plain, expected: Plain) -> Outcome:
    assert isinstance(student, dict) and isinstance(expected, dict)
    for got, want in zip(student["cases"], expected["cases"], strict=True):
        if _same_activity(got["full"], want["full"]):
            continue
        tags, ref = want["tags"], want["full"]
        if not _same_activity(got["full"], got["upto"]):
            return Outcome.incorrect(
                "Your features change when events after the snapshot are added to the log, so "
                "they look into the future: keep only events with ts < snapshot."
            )
        if _same_activity(got["past"], ref) and not _same_activity(got["upto"], ref):
            return Outcome.incorrect(
                "Events exactly at the snapshot change your features: the snapshot moment "
                "already belongs to the future. Keep only events with ts < snapshot "
                "(strictly)."
            )
        mine = got["full"]
        s_ids, e_ids = set(mine["ids"]), set(ref["ids"])
        if s_ids != e_ids:
            extra = {tags.get(str(i), "") for i in s_ids - e_ids}
            lost = {tags.get(str(i), "") for i in e_ids - s_ids}
            if "only_other_events" in extra:
                why = "players with no session_start before the snapshot get no row"
            elif "old_only" in lost:
                why = "players whose sessions are all older than 14 days keep a row (with 0 "
                why += "sessions in both windows)"
            else:
                why = "check the event type and ts < snapshot"
            return Outcome.incorrect(
                "The rows are not the expected players: return one row per player with at "
                f"least one session_start before the snapshot, indexed by player_id ({why})."
            )
        n = len(ref["ids"])
        for c in _ACTIVITY:
            bad = [
                i
                for i, a, b in zip(ref["ids"], mine[c], ref[c], strict=True)
                if not (isinstance(a, int | float) and _same_feature(a, b))
            ]
            if not bad:
                continue
            advice = (
                _recency_advice(mine[c], ref[c], bad)
                if c == "recency_days"
                else _count_advice(mine[c], ref[c], ref["ids"], tags)
            )
            return Outcome.incorrect(
                f"`{c}` differs from its definition for {len(bad)} of {n} players at the "
                f"snapshot {want['snapshot']}: {advice}."
            )
        return Outcome.incorrect("Your features differ from their definitions.")
    return Outcome.correct("Correct, and nothing from the snapshot on leaks into it.")


# --------------------------------------------------------------------------- q5 time split

#: snapshot days relative to the test snapshot: both sides of every window edge tried (7, 14,
#: 21 days), the test snapshot, and snapshots after it
_SPLIT_DAYS = (-35, -28, -22, -21, -20, -15, -14, -13, -8, -7, -6, -1, 0, 1, 7, 14)
#: window lengths the function is called with: the default and two others
_SPLIT_WINDOWS = (None, 7, 21)


def _split_data(rng: np.random.Generator) -> tuple[pd.DataFrame, pd.Timestamp]:
    """Labelled rows at snapshots on both sides of each window edge, in shuffled order.

    Built to catch: a random split (rows of every snapshot on both sides); a test set with
    later snapshots (rows 1, 7 and 14 days after); open label windows (snapshots 1, 6, 7, 13
    days before); ``<`` instead of ``<=`` (a snapshot exactly one window before); only the
    previous snapshot kept; a window hard-coded to 14 days (the function is also called with
    ``window_days=7`` and ``21``); slicing by position (rows shuffled, index not a range).
    Each row carries ``row_id``, its identity in the observation.
    """
    y, m = _random_month(rng)
    test_snapshot = _midnight(y, m, int(rng.integers(1, 29)))
    days = np.repeat(np.array(_SPLIT_DAYS), rng.integers(8, 20, len(_SPLIT_DAYS)))
    n = len(days)
    data = pd.DataFrame(
        {
            "row_id": np.arange(n),
            "player_id": rng.integers(1, 200, n),
            "snapshot": test_snapshot + pd.to_timedelta(days, unit="D"),
            "x": rng.random(n).round(3),
            "churned": rng.integers(0, 2, n),
        }
    )
    data["snapshot"] = data["snapshot"].astype("datetime64[ns, UTC]")
    data = data.iloc[rng.permutation(n)]
    data.index = rng.permutation(np.arange(10_000, 10_000 + n))
    return data, test_snapshot


def _row_ids(part: Any, name: str) -> list[int]:
    if not isinstance(part, pd.DataFrame):
        raise AnswerError(f"`{name}` should be a DataFrame of rows of `data`.")
    if "row_id" not in part.columns:
        raise AnswerError(f"`{name}` should keep the columns of `data` (select rows only).")
    return sorted(int(i) for i in part["row_id"])


def _probe_split(ns: Mapping[str, Any], ctx: ProbeContext) -> Plain:
    """``split_in_time`` on planted snapshots (see :func:`_split_data`), three window lengths."""
    fn = learner_function(ns, "split_in_time")
    rng = ctx.rng("q5_split_in_time")
    data, test_snapshot = _split_data(rng)
    day_of_row = ((data.sort_values("row_id")["snapshot"] - test_snapshot) / DAY).astype(int)
    cases = []
    for window in _SPLIT_WINDOWS:
        args = {} if window is None else {"window_days": window}
        result = fn(data.copy(), test_snapshot, **args)
        if not (isinstance(result, tuple) and len(result) == 2):
            raise AnswerError("split_in_time should return a pair: (train, test).")
        train, test = result
        cases.append(
            {
                "window": 14 if window is None else window,
                "train": _row_ids(train, "train"),
                "test": _row_ids(test, "test"),
            }
        )
    return {"row_days": [int(d) for d in day_of_row], "cases": cases}


def _judge_split(student: Plain, expected: Plain) -> Outcome:
    assert isinstance(student, dict) and isinstance(expected, dict)
    days = expected["row_days"]  # the reference's copy of the generated data (trusted)

    def rows_days(ids: list[int]) -> list[int]:
        return sorted({days[i] for i in ids if 0 <= i < len(days)})

    correct_default = False
    for got, want in zip(student["cases"], expected["cases"], strict=True):
        w = want["window"]
        if got["train"] == want["train"] and got["test"] == want["test"]:
            correct_default = correct_default or w == 14
            continue
        train_days, test_days = rows_days(got["train"]), rows_days(got["test"])
        if any(d >= 0 for d in train_days):
            return Outcome.incorrect(
                "Training rows come from the test snapshot or later: split by time, not at random."
            )
        if test_days != [0]:
            return Outcome.incorrect("The test set must hold the rows of the test snapshot only.")
        if got["test"] != want["test"]:
            return Outcome.incorrect("The test set must hold every row of the test snapshot.")
        if correct_default and w != 14:
            return Outcome.incorrect(
                f"With window_days={w} your split is wrong although it is right with the default: "
                "use the `window_days` argument instead of a fixed 14 days."
            )
        if any(d > -w for d in train_days):
            return Outcome.incorrect(
                "Some training snapshots lie less than one label window before the test snapshot: "
                "their label windows are still open at prediction time, so those labels are not "
                "known yet."
            )
        if train_days != rows_days(want["train"]):
            return Outcome.incorrect(
                "You drop training snapshots whose label windows have closed (a snapshot exactly "
                "one window before the test snapshot is known just in time); keep all of them."
            )
        return Outcome.incorrect("The right snapshots, but not all of their rows: keep every row.")
    return Outcome.correct("Correct: the past for training, one later snapshot for testing.")


# --------------------------------------------------------------------------- q7 leaks


def _probe_leaks(ns: Mapping[str, Any], ctx: ProbeContext) -> Plain:
    """The learner's list as it is (an observation; nothing to generate)."""
    value = ns["leaky_columns"]
    if type(value) not in (list, tuple, set):
        raise AnswerError("`leaky_columns` should be a list of column names, e.g. ['a', 'b'].")
    if not all(type(v) is str for v in value):
        raise AnswerError("`leaky_columns` should hold column names as strings.")
    return sorted(set(value))


def _judge_leaks(student: Plain, expected: Plain) -> Outcome:
    assert isinstance(student, list) and isinstance(expected, list)
    extra = sorted(set(student) - set(expected))
    missing = set(expected) - set(student)
    if not extra and not missing:
        return Outcome.correct("Correct: those columns were measured at export time.")
    score = max(0.0, (len(expected) - len(missing) - len(extra)) / len(expected))
    parts = []
    if extra:
        parts.append(
            f"{extra} is known at prediction time (it does not beat the Bayes limit), so it is "
            "not a leak"
        )
    if missing:
        parts.append(f"it misses {len(missing)} leaky column(s)")
    return Outcome.incorrect("Not quite: " + "; ".join(parts) + ".", score)


# --------------------------------------------------------------------------- the exercises


#: this notebook's exercises: ``_exercise(id, title, reads, probe, judge, ...)`` and
#: ``_choice(id, title, name, explanations, ...)`` (see :mod:`._helpers`)
_exercise, _choice = partial(exercise, NOTEBOOK), partial(choice_exercise, NOTEBOOK)

EXERCISES: tuple[Exercise, ...] = (
    _choice(
        "q1_censoring",
        "Players too new to judge",
        "censoring_choice",
        {
            "A": "After 3 days we have not seen a full week of play, and an "
            "inactive newcomer is common; calling them churned would inflate the churn rate.",
            "B": "We have no evidence that they stay; guessing 0 biases the "
            "labels just as guessing 1 does.",
            "C": "A player installed 3 days ago has not yet had the chance to show a week of "
            "play: their outcome is censored, so they are left out at this snapshot and "
            "labelled at a later one.",
            "D": "A label must be observed, not imputed; an invented rate teaches "
            "the model nothing about these players.",
        },
        hints=(
            "How long has this player been in the game when the snapshot is taken?",
            "The course only labels players installed at least 7 days before the snapshot.",
        ),
        choices={
            "A": "Label them churned (1): they did not come back.",
            "B": "Label them not churned (0): they only just arrived.",
            "C": "Leave them out at this snapshot: they are censored, too new to judge.",
            "D": "Give them the average churn rate as a soft label.",
        },
        convert=str.upper,
    ),
    _exercise(
        "q2_churn_labels",
        "Churn labels at a snapshot",
        ("churn_labels",),
        _probe_labels,
        _judge_labels,
        points=2,
        hints=(
            "Two steps: choose the players that can be labelled (installed at least 7 days "
            "before the snapshot), then look for a session_start in [snapshot, snapshot + 14 "
            "days).",
            "Start from the players table, so players without any event get a label too; "
            "compare time stamps with pd.Timedelta(days=...) offsets of the snapshot, minding "
            "which window ends are included.",
        ),
    ),
    _exercise(
        "q3_activity_features",
        "Point-in-time activity features",
        ("activity_features",),
        _probe_activity,
        _judge_activity,
        points=2,
        hints=(
            "First keep the session_start events with ts < snapshot: everything else is "
            "computed from those only.",
            "Each session's age in days is (snapshot - ts) divided by pd.Timedelta(days=1); "
            "recency is its minimum per player, and each window is a condition on the age "
            "counted per player with groupby.",
        ),
    ),
    _choice(
        "q4_event_rows",
        "Why the random row split looks so good",
        "event_split_choice",
        {
            "A": "More rows cannot lift a model above the Bayes limit; only "
            "information it should not have can.",
            "B": "The label belongs to a player: a random row split puts one player's rows "
            "in both train and test, so the model recognises the player and copies the "
            "label. Split by player (and by time).",
            "C": "Overfitting lowers the test score; here the test score is too high.",
            "D": "The row order does not matter to a random split or to the model.",
        },
        hints=(
            "The label belongs to a player, not to an event. Where do the events of one player "
            "end up after a random row split?",
        ),
        choices={
            "A": "There are many more rows than players, so the model learns more.",
            "B": "Rows of the same player land in both train and test; the model recognises "
            "the player and copies the label.",
            "C": "Gradient boosting overfits the event rows.",
            "D": "The events are sorted by time.",
        },
        convert=str.upper,
    ),
    _exercise(
        "q5_split_in_time",
        "Split by time with closed label windows",
        ("split_in_time",),
        _probe_split,
        _judge_split,
        points=2,
        hints=(
            "The test set is the rows at `test_snapshot`. Which earlier snapshots have labels "
            "you would already know on the day of `test_snapshot`?",
            "A label at snapshot t is known at t + window_days: keep the rows where that moment "
            "is not after the test snapshot.",
        ),
    ),
    _exercise(
        "q7_leaky_columns",
        "Find the planted leaks",
        ("leaky_columns",),
        _probe_leaks,
        _judge_leaks,
        points=2,
        hints=(
            "Use the table you just computed: which candidate columns push the test AUC above "
            "the Bayes limit?",
            "A column measured when the table was exported (after the snapshot) describes the "
            "label window itself.",
        ),
    ),
)

check, hint, solution = make_api(NOTEBOOK, EXERCISES)
