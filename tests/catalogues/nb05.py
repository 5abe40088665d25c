"""Catalogue of ``05_churn_labels_features``: answers the checkers must reject (WRONG) and
accept (VALID).

Test data, never shipped. ``code`` replaces the solution region of the exercise's cell in
``solutions/05_churn_labels_features.ipynb``; for the function exercises (q2, q3, q5) the
region is the whole ``def``.
"""

from __future__ import annotations

from mlcourse.exercises.spec import ValidAnswer, WrongAnswer


def _labels(
    eligible: str = "players.install_date <= snapshot - pd.Timedelta(days=7)",
    window: str = "(events.ts >= snapshot) & (events.ts < snapshot + pd.Timedelta(days=14))",
    kind: str = "(events.event == 'session_start') & ",
    value: str = "(~active).astype(int)",
) -> str:
    """A ``churn_labels`` like the reference with one part replaced."""
    return (
        "def churn_labels(events, players, snapshot):\n"
        f"    eligible = players[{eligible}]\n"
        f"    in_window = events[{kind}{window}]\n"
        "    active = eligible.player_id.isin(in_window.player_id)\n"
        f"    return pd.Series({value}.to_numpy(), index=eligible.player_id)\n"
    )


def _window(days: int) -> str:
    return f"(events.ts >= snapshot) & (events.ts < snapshot + pd.Timedelta(days={days}))"


def _activity(
    past: str = "(events.event == 'session_start') & (events.ts < snapshot)",
    age: str = "(snapshot - past.ts) / pd.Timedelta(days=1)",
    recency: str = "age.groupby(by).min()",
    last7: str = "age <= 7",
    prev7: str = "(age > 7) & (age <= 14)",
) -> str:
    """An ``activity_features`` like the reference with one part replaced."""
    return (
        "def activity_features(events, snapshot):\n"
        f"    past = events[{past}]\n"
        f"    age = {age}\n"
        "    by = past.player_id\n"
        "    return pd.DataFrame({\n"
        f"        'recency_days': {recency},\n"
        f"        'sessions_7d': ({last7}).groupby(by).sum(),\n"
        f"        'sessions_prev_7d': ({prev7}).groupby(by).sum(),\n"
        "    })\n"
    )


def _split(train: str, test: str = "data.snapshot == test_snapshot", pre: str = "") -> str:
    return (
        "def split_in_time(data, test_snapshot, window_days=14):\n"
        f"{pre}"
        f"    return data[{train}], data[{test}]\n"
    )


#: q7's leaks stand far from the honest columns in the notebook's leak table (gaps about 0.07
#: and 0.12 above the Bayes limit; the honest columns about 0.03 below it, like the features
#: alone), so any noise threshold between 0 and 0.03 picks the same columns.
_Q7_THRESHOLD = "another reading of 'more than sampling noise (say 0.01)': "

_Q7_LIFETIME = (
    "lifetime_spend is an export-time total (the simulator sums each player's spend up to the "
    "export, after every snapshot), so it is a leak on any data; "
)

WRONG: dict[str, tuple[WrongAnswer, ...]] = {
    "q1_censoring": (
        WrongAnswer("call_them_churned", 'censoring_choice = "A"', "inflate the churn rate"),
        WrongAnswer("impute", 'censoring_choice = "D"', "must be observed"),
    ),
    "q2_churn_labels": (
        WrongAnswer(
            "no_censoring",
            "def churn_labels(events, players, snapshot):\n"
            "    window = events[(events.event == 'session_start') & (events.ts >= snapshot)"
            " & (events.ts < snapshot + pd.Timedelta(days=14))]\n"
            "    active = players.player_id.isin(window.player_id)\n"
            "    return pd.Series((~active).astype(int).to_numpy(), index=players.player_id)",
            "installed less than 7 days",
        ),
        WrongAnswer("one_means_active", _labels(value="active.astype(int)"), "opposite"),
        WrongAnswer("window_7_days", _labels(window=_window(7)), "labels differ"),
        WrongAnswer("window_12_days", _labels(window=_window(12)), "labels differ"),
        WrongAnswer("window_13_days", _labels(window=_window(13)), "labels differ"),
        WrongAnswer("window_15_days", _labels(window=_window(15)), "labels differ"),
        WrongAnswer("window_16_days", _labels(window=_window(16)), "labels differ"),
        WrongAnswer("window_18_days", _labels(window=_window(18)), "labels differ"),
        WrongAnswer("no_event_filter", _labels(kind=""), "session_start` events only"),
        WrongAnswer(
            "window_starts_after_snapshot",
            _labels(
                window="(events.ts > snapshot) & (events.ts < snapshot + pd.Timedelta(days=14))"
            ),
            "exactly at the snapshot counts",
        ),
        WrongAnswer(
            "window_end_included",
            _labels(
                window="(events.ts >= snapshot) & (events.ts <= snapshot + pd.Timedelta(days=14))"
            ),
            "end of the window",
        ),
        WrongAnswer(
            "window_from_the_day_before",
            _labels(
                window="(events.ts >= snapshot - pd.Timedelta(days=1))"
                " & (events.ts < snapshot + pd.Timedelta(days=13))"
            ),
            "labels differ",
        ),
        WrongAnswer(
            "window_by_day_of_month",
            _labels(
                window="(events.ts.dt.day - snapshot.day >= 0) & (events.ts.dt.day - snapshot.day"
                " < 14) & (events.ts >= snapshot)"
            ),
            "labels differ",
        ),
        WrongAnswer(
            "censoring_strict",
            _labels(eligible="players.install_date < snapshot - pd.Timedelta(days=7)"),
            "installed exactly 7 days",
        ),
        WrongAnswer(
            "censoring_6_days",
            _labels(eligible="players.install_date <= snapshot - pd.Timedelta(days=6)"),
            "cannot be labelled yet",
        ),
        WrongAnswer(
            "censoring_8_days",
            _labels(eligible="players.install_date <= snapshot - pd.Timedelta(days=8)"),
            "leave out",
        ),
        WrongAnswer(
            "censoring_by_calendar_day",
            _labels(
                eligible="players.install_date.dt.normalize() <= snapshot - pd.Timedelta(days=7)"
            ),
            "compare time stamps, not calendar days",
        ),
        WrongAnswer(
            "censoring_whole_days_above_7",
            _labels(eligible="(snapshot - players.install_date).dt.days > 7"),
            "leave out",
        ),
        WrongAnswer(
            "players_from_the_events",
            "def churn_labels(events, players, snapshot):\n"
            "    installed = players.set_index('player_id').install_date\n"
            "    ids = pd.Index(events.player_id.unique())\n"
            "    ids = ids[installed.loc[ids].to_numpy() <= snapshot - pd.Timedelta(days=7)]\n"
            "    s = events[(events.event == 'session_start') & (events.ts >= snapshot)"
            " & (events.ts < snapshot + pd.Timedelta(days=14))]\n"
            "    return pd.Series((~ids.isin(s.player_id)).astype(int), index=ids)",
            "start from the players table",
        ),
        WrongAnswer(
            "returns_a_list",
            "def churn_labels(events, players, snapshot):\n    return [0, 1]",
            "pandas Series indexed by player_id",
        ),
    ),
    "q3_activity_features": (
        WrongAnswer(
            "no_time_filter",
            _activity(past="events.event == 'session_start'"),
            "look into the future",
        ),
        WrongAnswer(
            "includes_the_snapshot",
            _activity(past="(events.event == 'session_start') & (events.ts <= snapshot)"),
            "ts < snapshot",
        ),
        WrongAnswer(
            "recency_in_hours",
            _activity(
                age="(snapshot - past.ts) / pd.Timedelta(hours=1)",
                last7="age <= 7 * 24",
                prev7="(age > 7 * 24) & (age <= 14 * 24)",
            ),
            "`recency_days` differs",
        ),
        WrongAnswer(
            "counts_every_event",
            "def activity_features(events, snapshot):\n"
            "    past = events[events.ts < snapshot]\n"
            "    age = (snapshot - past.ts) / pd.Timedelta(days=1)\n"
            "    sess = past.event == 'session_start'\n"
            "    by = past.player_id\n"
            "    out = pd.DataFrame({'recency_days': age[sess].groupby(by[sess]).min(),\n"
            "        'sessions_7d': (age <= 7).groupby(by).sum(),\n"
            "        'sessions_prev_7d': ((age > 7) & (age <= 14)).groupby(by).sum()})\n"
            "    return out.loc[out.recency_days.notna()]",
            "`sessions_7d` differs",
        ),
        WrongAnswer(
            "recency_from_any_event",
            "def activity_features(events, snapshot):\n"
            "    before = events[events.ts < snapshot]\n"
            "    last_any = before.groupby('player_id').ts.max()\n"
            "    past = before[before.event == 'session_start']\n"
            "    age = (snapshot - past.ts) / pd.Timedelta(days=1)\n"
            "    by = past.player_id\n"
            "    out = pd.DataFrame({'sessions_7d': (age <= 7).groupby(by).sum(),\n"
            "        'sessions_prev_7d': ((age > 7) & (age <= 14)).groupby(by).sum()})\n"
            "    last = last_any.loc[out.index]\n"
            "    out['recency_days'] = (snapshot - last) / pd.Timedelta(days=1)\n"
            "    return out",
            "other events are not sessions",
        ),
        WrongAnswer(
            "last_week_open_at_7_days", _activity(last7="age < 7"), "`sessions_7d` differs"
        ),
        WrongAnswer(
            "windows_half_open_the_wrong_way",
            _activity(last7="age < 7", prev7="(age >= 7) & (age < 14)"),
            "window",
        ),
        WrongAnswer(
            "previous_week_open_at_14_days",
            _activity(prev7="(age > 7) & (age < 14)"),
            "`sessions_prev_7d` differs",
        ),
        WrongAnswer(
            "previous_week_closed_at_both_ends",
            _activity(prev7="(age >= 7) & (age <= 14)"),
            "`sessions_prev_7d` differs",
        ),
        WrongAnswer(
            "windows_shifted_by_a_day",
            _activity(last7="(age > 1) & (age <= 8)", prev7="(age > 8) & (age <= 15)"),
            "`sessions_7d` differs",
        ),
        WrongAnswer(
            "eight_day_windows",
            _activity(last7="age <= 8", prev7="(age > 8) & (age <= 16)"),
            "`sessions_7d` differs",
        ),
        WrongAnswer(
            "recency_whole_days",
            _activity(recency="(snapshot - past.ts).dt.days.groupby(by).min()"),
            "`recency_days` differs",
        ),
        WrongAnswer(
            "ages_in_calendar_days",
            _activity(age="(snapshot.normalize() - past.ts.dt.normalize()).dt.days.astype(float)"),
            "differs",
        ),
        WrongAnswer(
            "ages_by_day_of_month",
            _activity(
                age="(snapshot.day - past.ts.dt.day) + (snapshot - past.ts.dt.normalize())"
                " % pd.Timedelta(days=1) / pd.Timedelta(days=1)"
            ),
            "differs",
        ),
        WrongAnswer(
            "recency_of_the_first_session",
            _activity(recency="age.groupby(by).max()"),
            "`recency_days` differs",
        ),
        WrongAnswer(
            "drops_players_without_recent_sessions",
            "def activity_features(events, snapshot):\n"
            "    past = events[(events.event == 'session_start') & (events.ts < snapshot)]\n"
            "    age = (snapshot - past.ts) / pd.Timedelta(days=1)\n"
            "    recent = past[age <= 14]\n"
            "    r_age = (snapshot - recent.ts) / pd.Timedelta(days=1)\n"
            "    by = recent.player_id\n"
            "    return pd.DataFrame({'recency_days': r_age.groupby(by).min(),\n"
            "        'sessions_7d': (r_age <= 7).groupby(by).sum(),\n"
            "        'sessions_prev_7d': (r_age > 7).groupby(by).sum()})",
            "rows are not the expected players",
        ),
        WrongAnswer(
            "a_row_for_every_player_with_events",
            "def activity_features(events, snapshot):\n"
            "    before = events[events.ts < snapshot]\n"
            "    past = before[before.event == 'session_start']\n"
            "    age = (snapshot - past.ts) / pd.Timedelta(days=1)\n"
            "    by = past.player_id\n"
            "    ids = pd.Index(before.player_id.unique())\n"
            "    return pd.DataFrame({\n"
            "        'recency_days': age.groupby(by).min().reindex(ids),\n"
            "        'sessions_7d': (age <= 7).groupby(by).sum().reindex(ids, fill_value=0),\n"
            "        'sessions_prev_7d': ((age > 7) & (age <= 14)).groupby(by).sum()"
            ".reindex(ids, fill_value=0)})",
            "rows are not the expected players",
        ),
    ),
    "q4_event_rows": (
        WrongAnswer("more_rows", 'event_split_choice = "A"', "more rows cannot"),
        WrongAnswer("overfitting", 'event_split_choice = "C"', "overfitting lowers"),
    ),
    "q5_split_in_time": (
        WrongAnswer(
            "random_split",
            "from sklearn.model_selection import train_test_split\n\n"
            "def split_in_time(data, test_snapshot, window_days=14):\n"
            "    return tuple(train_test_split(data, test_size=0.25, random_state=0))",
            "not at random",
        ),
        WrongAnswer(
            "open_label_windows",
            _split("data.snapshot < test_snapshot"),
            "label windows are still open",
        ),
        WrongAnswer(
            "only_the_previous_snapshot",
            _split(
                "data.snapshot == prev",
                pre="    prev = test_snapshot - pd.Timedelta(days=window_days)\n",
            ),
            "drop training snapshots",
        ),
        WrongAnswer(
            "window_edge_excluded",
            _split("data.snapshot + pd.Timedelta(days=window_days) < test_snapshot"),
            "drop training snapshots",
        ),
        WrongAnswer(
            "window_fixed_at_14_days",
            _split("data.snapshot + pd.Timedelta(days=14) <= test_snapshot"),
            "use the `window_days` argument",
        ),
        WrongAnswer(
            "later_snapshots_in_test",
            _split(
                "data.snapshot + pd.Timedelta(days=window_days) <= test_snapshot",
                test="data.snapshot >= test_snapshot",
            ),
            "test snapshot only",
        ),
        WrongAnswer(
            "window_in_weeks",
            _split("data.snapshot + pd.Timedelta(weeks=window_days // 7) < test_snapshot"),
            "drop training snapshots",
        ),
        WrongAnswer(
            "by_position",
            "def split_in_time(data, test_snapshot, window_days=14):\n"
            "    ordered = data.sort_values('snapshot')\n"
            "    cut = int((ordered.snapshot < test_snapshot).sum())\n"
            "    return ordered.iloc[:cut], ordered[ordered.snapshot == test_snapshot]",
            "label windows are still open",
        ),
    ),
    "q7_leaky_columns": (
        WrongAnswer(
            "adds_country",
            "leaky_columns = ['last_seen_at', 'account_status', 'lifetime_spend', 'country']",
            "known at prediction time",
            status="partly_correct",
        ),
        WrongAnswer(
            "misses_one",
            "leaky_columns = ['last_seen_at', 'account_status']",
            "misses 1 leaky column",
            status="partly_correct",
        ),
        WrongAnswer("not_a_list", "leaky_columns = 'last_seen_at'", "list of column names"),
        WrongAnswer(
            "above_the_limit_only",
            "leaky_columns = [c for c in candidates if leak_table.auc_gap[c] > 0.01]",
            "misses 1 leaky column",
            status="partly_correct",
        ),
    ),
}

VALID: dict[str, tuple[ValidAnswer, ...]] = {
    "q2_churn_labels": (
        ValidAnswer(
            "loop_over_players",
            "def churn_labels(events, players, snapshot):\n"
            "    sessions = events[events.event == 'session_start']\n"
            "    by_player = dict(tuple(sessions.groupby('player_id').ts))\n"
            "    labels = {}\n"
            "    for pid, installed in zip(players.player_id, players.install_date):\n"
            "        if snapshot - installed < pd.Timedelta(days=7):\n"
            "            continue\n"
            "        ts = by_player.get(pid, pd.Series([], dtype='datetime64[ns, UTC]'))\n"
            "        back = ((ts >= snapshot) & (ts < snapshot + pd.Timedelta(days=14))).any()\n"
            "        labels[pid] = 0 if back else 1\n"
            "    return pd.Series(labels, dtype=int)\n",
        ),
        ValidAnswer(
            "groupby_first_return",
            "def churn_labels(events, players, snapshot):\n"
            "    s = events[(events.event == 'session_start') & (events.ts >= snapshot)]\n"
            "    first_back = s.groupby('player_id').ts.min()\n"
            "    old_enough = (snapshot - players.install_date).dt.days >= 7\n"
            "    eligible = players.loc[old_enough, 'player_id']\n"
            "    back = first_back.reindex(eligible)\n"
            "    churned = back.isna() | (back >= snapshot + pd.Timedelta(days=14))\n"
            "    return churned.astype(int)\n",
        ),
        ValidAnswer(
            "merge_asof_next_session",
            "def churn_labels(events, players, snapshot):\n"
            "    eligible = players[players.install_date + pd.Timedelta(days=7) <= snapshot]\n"
            "    left = pd.DataFrame({'player_id': eligible.player_id.to_numpy(),\n"
            "                         'ts': snapshot}).astype({'ts': events.ts.dtype})\n"
            "    right = events.loc[events.event == 'session_start', ['player_id', 'ts']]\n"
            "    right = right.assign(next_ts=right.ts).sort_values('ts')\n"
            "    nxt = pd.merge_asof(left.sort_values('ts'), right, on='ts', by='player_id',\n"
            "                        direction='forward')\n"
            "    churned = nxt.next_ts.isna() | (nxt.next_ts - snapshot >= pd.Timedelta(days=14))\n"
            "    return pd.Series(churned.astype(int).to_numpy(), index=nxt.player_id)\n",
        ),
        ValidAnswer(
            "numpy_timedelta_and_booleans",
            "def churn_labels(events, players, snapshot):\n"
            "    week, fortnight = np.timedelta64(7, 'D'), np.timedelta64(14, 'D')\n"
            "    eligible = players[players.install_date <= snapshot - week]\n"
            "    ts = events.ts\n"
            "    hit = events[(events.event.astype(str) == 'session_start') & (ts >= snapshot)"
            " & (ts < snapshot + fortnight)]\n"
            "    churned = ~eligible.player_id.isin(set(hit.player_id))\n"
            "    return pd.Series(churned.to_numpy(), index=eligible.player_id.to_numpy())\n",
        ),
        ValidAnswer(
            "calendar_dates_of_a_midnight_snapshot",
            _labels(
                window="(events.ts.dt.normalize() >= snapshot)"
                " & (events.ts.dt.normalize() < snapshot + pd.Timedelta(days=14))"
            ),
        ),
    ),
    "q3_activity_features": (
        ValidAnswer(
            "named_aggregation",
            "def activity_features(events, snapshot):\n"
            "    past = events.loc[(events.event == 'session_start') & (events.ts < snapshot),"
            " ['player_id', 'ts']]\n"
            "    past = past.assign(age=(snapshot - past.ts).dt.total_seconds() / 86400)\n"
            "    past = past.assign(w1=past.age <= 7, w2=(past.age > 7) & (past.age <= 14))\n"
            "    return past.groupby('player_id').agg(recency_days=('age', 'min'),\n"
            "                                         sessions_7d=('w1', 'sum'),\n"
            "                                         sessions_prev_7d=('w2', 'sum'))\n",
        ),
        ValidAnswer(
            "numpy_timedelta_windows_on_time_stamps",
            "def activity_features(events, snapshot):\n"
            "    week = np.timedelta64(7, 'D')\n"
            "    past = events[(events.event == 'session_start') & (events.ts < snapshot)]\n"
            "    g = past.groupby('player_id').ts\n"
            "    last7 = past[past.ts >= snapshot - week].groupby('player_id').size()\n"
            "    prev7 = past[(past.ts >= snapshot - 2 * week) & (past.ts < snapshot - week)]"
            ".groupby('player_id').size()\n"
            "    recency = (snapshot - g.max()) / np.timedelta64(1, 'D')\n"
            "    out = pd.DataFrame({'recency_days': recency})\n"
            "    out['sessions_7d'] = last7.reindex(out.index, fill_value=0)\n"
            "    out['sessions_prev_7d'] = prev7.reindex(out.index, fill_value=0)\n"
            "    return out\n",
        ),
        ValidAnswer(
            "merge_asof_last_session",
            "def activity_features(events, snapshot):\n"
            "    past = events[(events.event == 'session_start') & (events.ts < snapshot)]\n"
            "    ids = np.sort(past.player_id.unique())\n"
            "    left = pd.DataFrame({'player_id': ids, 'ts': snapshot})\n"
            "    left = left.astype({'ts': events.ts.dtype})\n"
            "    right = past[['player_id', 'ts']].assign(last=past.ts).sort_values('ts')\n"
            "    last = pd.merge_asof(left, right, on='ts', by='player_id',\n"
            "                         allow_exact_matches=False).set_index('player_id')['last']\n"
            "    age = (snapshot - past.ts) / pd.Timedelta(days=1)\n"
            "    counts = pd.crosstab(past.player_id, pd.cut(age, [0, 7, 14], labels=['a', 'b']))\n"
            "    counts = counts.reindex(index=ids, columns=['a', 'b'], fill_value=0)\n"
            "    return pd.DataFrame({'recency_days': (snapshot - last) / pd.Timedelta(days=1),\n"
            "                         'sessions_7d': counts['a'],\n"
            "                         'sessions_prev_7d': counts['b']}, index=ids)\n",
        ),
        ValidAnswer(
            "bincount",
            "def activity_features(events, snapshot):\n"
            "    past = events[(events.event == 'session_start') & (events.ts < snapshot)]\n"
            "    ids, code = np.unique(past.player_id.to_numpy(), return_inverse=True)\n"
            "    age = ((snapshot - past.ts) / pd.Timedelta(days=1)).to_numpy()\n"
            "    recency = np.full(ids.size, np.inf)\n"
            "    np.minimum.at(recency, code, age)\n"
            "    return pd.DataFrame({\n"
            "        'recency_days': recency,\n"
            "        'sessions_7d': np.bincount(code, weights=age <= 7, minlength=ids.size),\n"
            "        'sessions_prev_7d': np.bincount(code, weights=(age > 7) & (age <= 14),\n"
            "                                        minlength=ids.size),\n"
            "    }, index=pd.Index(ids, name='player_id'))\n",
        ),
    ),
    "q5_split_in_time": (
        ValidAnswer(
            "snapshot_before_the_cut",
            _split("data.snapshot <= test_snapshot - pd.Timedelta(days=window_days)"),
        ),
        ValidAnswer(
            "whole_days_between",
            _split("(test_snapshot - data.snapshot).dt.days >= window_days"),
        ),
        ValidAnswer(
            "numpy_timedelta_and_query",
            "def split_in_time(data, test_snapshot, window_days=14):\n"
            "    cut = test_snapshot - np.timedelta64(window_days, 'D')\n"
            "    return data.query('snapshot <= @cut'), data.query('snapshot == @test_snapshot')\n",
        ),
    ),
    "q7_leaky_columns": (
        ValidAnswer(
            "typed_by_hand",
            "leaky_columns = ['lifetime_spend', 'account_status', 'last_seen_at']",
        ),
    ),
}

EQUIVALENT: dict[str, dict[str, str]] = {
    "q7_leaky_columns": {
        "q7_leaky_columns:const@2:66:0.01->0.005": _Q7_THRESHOLD + "0.005",
        "q7_leaky_columns:const@2:66:0.01->0.02": _Q7_THRESHOLD + "0.02",
        "q7_leaky_columns:cmp@2:66:Gt->GtE": _Q7_THRESHOLD + ">= instead of >",
        "q7_leaky_columns:drop@3:3:-spent_later>0": _Q7_LIFETIME
        + "the mutant adds it without looking at the evidence",
        "q7_leaky_columns:drop@3:3:-[1]": _Q7_LIFETIME
        + "appending it again when already listed changes no column set (the probe takes the set)",
        "q7_leaky_columns:const@3:17:0->-1": _Q7_LIFETIME
        + "the condition becomes always true, so it is always added",
        "q7_leaky_columns:cmp@3:17:Gt->GtE": _Q7_LIFETIME
        + "the condition becomes always true, so it is always added",
    },
}
