"""Catalogue of ``00_start_here``: answers the checkers must reject (WRONG) and accept (VALID).

Test data, never shipped. ``code`` replaces the solution region of the exercise's cell in
``solutions/00_start_here.ipynb``; for ``q0_shout`` and ``q5_active_days`` the region is the
function body.
"""

from __future__ import annotations

from mlcourse.exercises.spec import ValidAnswer, WrongAnswer

_STARTS = "s = events[events['event'] == 'session_start']\n"


def _days(key: str) -> str:
    """A q5 body that counts distinct values of ``key`` (an expression of ``s``) per player."""
    return f"{_STARTS}return ({key}).groupby(s['player_id']).nunique()"


WRONG: dict[str, tuple[WrongAnswer, ...]] = {
    "q0_shout": (
        WrongAnswer("no_exclamation", "return word.upper()", "lacks the '!'"),
        WrongAnswer(
            "prints_instead_of_returning", "print(word.upper() + '!')", "should return a string"
        ),
        WrongAnswer("type_error", "return word.upper() + 1", "TypeError", status="error"),
        WrongAnswer("swapcase", "return word.swapcase() + '!'", "which is not right"),
        WrongAnswer("capitalize", "return word.capitalize() + '!'", "which is not right"),
        WrongAnswer("two_marks", "return word.upper() + '!!'", "which is not right"),
    ),
    "q1_players": (
        WrongAnswer("counted_events", "n_players = len(events)", "not the number of players"),
        WrongAnswer("shape_tuple", "n_players = players.shape", "should be a number"),
        WrongAnswer("columns", "n_players = len(players.columns)", "not the number of players"),
        WrongAnswer("cells", "n_players = players.size", "not the number of players"),
    ),
    "q2_install_span": (
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
        WrongAnswer(
            "inclusive_count",
            "install_span_days = (players['install_date'].max() - "
            "players['install_date'].min()).days + 1",
            "one day too many",
        ),
        WrongAnswer(
            "event_times",
            "install_span_days = (events['ts'].max() - events['ts'].min()).days",
            "not the span",
        ),
    ),
    "q3_platform_share": (
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
        WrongAnswer(
            "uniform",
            "platform_share = players['platform'].value_counts() * 0 + 1 / 3",
            "wrong share",
        ),
    ),
    "q4_event_row": (
        WrongAnswer("player", 'q4_answer = "A"', "players` table"),
        WrongAnswer("session", 'q4_answer = "D"', "session has many rows"),
        WrongAnswer("not_a_letter", 'q4_answer = "one event"', "not one of the offered letters"),
        WrongAnswer("number", "q4_answer = 2", "one letter in quotes"),
    ),
    "q5_active_days": (
        WrongAnswer(
            "counts_sessions",
            f"{_STARTS}return s.groupby('player_id').size()",
            "counts sessions, not days",
        ),
        WrongAnswer("distinct_timestamps", _days("s['ts']"), "counts sessions, not days"),
        WrongAnswer(
            "all_events",
            "return events['ts'].dt.floor('D').groupby(events['player_id']).nunique()",
            "days with any event",
        ),
        WrongAnswer(
            "any_event_but_levels",
            "s = events[events['event'] != 'level_end']\n"
            "return s['ts'].dt.floor('D').groupby(s['player_id']).nunique()",
            "days with any event",
        ),
        WrongAnswer("day_of_month", _days("s['ts'].dt.day"), "day of the month"),
        WrongAnswer("weekday", _days("s['ts'].dt.weekday"), "distinct calendar days"),
        WrongAnswer("day_of_year", _days("s['ts'].dt.dayofyear"), "must include the year"),
        WrongAnswer(
            "month_and_day", _days("s['ts'].dt.strftime('%m-%d')"), "must include the year"
        ),
        WrongAnswer("rounded_to_nearest_day", _days("s['ts'].dt.round('D')"), "midnight UTC"),
        WrongAnswer("ceiling_day", _days("s['ts'].dt.ceil('D')"), "midnight UTC"),
        WrongAnswer(
            "local_time", _days("s['ts'].dt.tz_convert('Europe/Paris').dt.date"), "midnight UTC"
        ),
        WrongAnswer(
            "new_york_time",
            _days("s['ts'].dt.tz_convert('America/New_York').dt.date"),
            "midnight UTC",
        ),
        WrongAnswer(
            "days_since_log_start", _days("(s['ts'] - s['ts'].min()).dt.days"), "more than once"
        ),
        WrongAnswer(
            "days_since_first_session",
            _days("(s['ts'] - s.groupby('player_id')['ts'].transform('min')).dt.days"),
            "more than once",
        ),
        WrongAnswer(
            "span_first_to_last",
            f"{_STARTS}days = s['ts'].dt.floor('D').groupby(s['player_id'])\n"
            "return (days.max() - days.min()).dt.days + 1",
            "not the span",
        ),
        WrongAnswer(
            "returns_dataframe",
            f"{_STARTS}return s.groupby('player_id')[['ts']].nunique()",
            "should return a pandas Series",
        ),
        WrongAnswer(
            "typo_column", "return events['timestamp'].dt.date", "KeyError", status="error"
        ),
    ),
}

VALID: dict[str, tuple[ValidAnswer, ...]] = {
    "q0_shout": (
        ValidAnswer("f_string", "return f'{word.upper()}!'"),
        ValidAnswer("join", "return ''.join(c.upper() for c in word) + '!'"),
    ),
    "q1_players": (
        ValidAnswer("shape", "n_players = players.shape[0]"),
        ValidAnswer("distinct_ids", "n_players = players['player_id'].nunique()"),
        ValidAnswer("index", "n_players = len(players.index)"),
    ),
    "q2_install_span": (
        ValidAnswer(
            "floor_division",
            "span = players['install_date'].max() - players['install_date'].min()\n"
            "install_span_days = int(span.total_seconds() // 86400)",
        ),
        ValidAnswer(
            "components",
            "install_span_days = int((players['install_date'].max() - "
            "players['install_date'].min()).components.days)",
        ),
        ValidAnswer(
            "sorted_values",
            "d = players['install_date'].sort_values()\n"
            "install_span_days = (d.iloc[-1] - d.iloc[0]).days",
        ),
    ),
    "q3_platform_share": (
        ValidAnswer(
            "counts_over_total",
            "platform_share = players['platform'].value_counts() / len(players)",
        ),
        ValidAnswer(
            "groupby_size",
            "platform_share = players.groupby('platform', observed=False).size() / len(players)",
        ),
        ValidAnswer(
            "dict_loop",
            "platform_share = {}\n"
            "for p in players['platform'].cat.categories:\n"
            "    platform_share[p] = float((players['platform'] == p).mean())",
        ),
    ),
    "q4_event_row": (
        ValidAnswer("lower_case", 'q4_answer = "b"'),
        ValidAnswer("spaces", 'q4_answer = " B "'),
    ),
    "q5_active_days": (
        ValidAnswer("dt_date", _days("s['ts'].dt.date")),
        ValidAnswer("normalize", _days("s['ts'].dt.normalize()")),
        ValidAnswer("iso_text", _days("s['ts'].dt.strftime('%Y-%m-%d')")),
        ValidAnswer("naive_utc", _days("s['ts'].dt.tz_localize(None).dt.floor('D')")),
        ValidAnswer(
            "drop_duplicates",
            f"{_STARTS}pairs = s.assign(day=s['ts'].dt.floor('D'))[['player_id', 'day']]\n"
            "pairs = pairs.drop_duplicates()\n"
            "return pairs['player_id'].value_counts()",
        ),
        ValidAnswer(
            "loop_over_rows",
            "import pandas as pd\n\n"
            "days = {}\n"
            "for pid, ts, event in zip(events['player_id'], events['ts'], events['event']):\n"
            "    if event == 'session_start':\n"
            "        days.setdefault(pid, set()).add(ts.date())\n"
            "return pd.Series({pid: len(d) for pid, d in days.items()})",
        ),
        ValidAnswer(
            "every_player_with_zeros",
            "starts = events['ts'].dt.floor('D').where(events['event'] == 'session_start')\n"
            "return starts.groupby(events['player_id']).nunique()",
        ),
    ),
}

EQUIVALENT: dict[str, dict[str, str]] = {}
