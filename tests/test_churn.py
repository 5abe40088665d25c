"""Tests of mlcourse.churn on small synthetic logs (the last test reads the shipped data)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mlcourse import churn
from mlcourse.churn import (
    FEATURES,
    best_threshold,
    build_dataset,
    build_features,
    evaluation_table,
    label_churn,
    lift_table,
    profit_curve,
    split_by_snapshot,
    toy_log,
)

SNAP = pd.Timestamp("2026-02-01", tz="UTC")
DAY = pd.Timedelta("1D")


@pytest.fixture(scope="module")
def log() -> tuple[pd.DataFrame, pd.DataFrame]:
    return toy_log(n_players=150, days=60, seed=3)


def slow_features(events: pd.DataFrame, players: pd.DataFrame, s: pd.Timestamp) -> pd.DataFrame:
    """The definitions of docs/architecture.md written the obvious way, one player at a time."""
    rows = []
    for p in players.itertuples():
        if p.install_date >= s:
            continue
        e = events[(events.player_id == p.player_id) & (events.ts < s)]
        sess = e[e.event == "session_start"]
        lv7 = e[(e.event == "level_end") & (e.ts >= s - 7 * DAY)]
        won = e[(e.event == "level_end") & (e.success == True)]  # noqa: E712
        last = sess.ts.max() if len(sess) else p.install_date
        rows.append(
            {
                "player_id": p.player_id,
                "tenure_days": (s - p.install_date) / DAY,
                "recency_days": (s - last) / DAY,
                "sessions_7d": int((sess.ts >= s - 7 * DAY).sum()),
                "sessions_prev_7d": int(
                    ((sess.ts >= s - 14 * DAY) & (sess.ts < s - 7 * DAY)).sum()
                ),
                "sessions_total": len(sess),
                "fail_rate_7d": float((lv7.success == False).mean()) if len(lv7) else 0.0,  # noqa: E712
                "max_level": float(won.level.max()) if len(won) else 0.0,
                "spend_total": float(e[e.event == "purchase"].value.sum()),
                "ads_7d": int(((e.event == "ad_view") & (e.ts >= s - 7 * DAY)).sum()),
                "invites_total": int((e.event == "friend_invite").sum()),
                "platform": p.platform,
                "difficulty": p.difficulty,
            }
        )
    return pd.DataFrame(rows)


def compare(fast: pd.DataFrame, slow: pd.DataFrame) -> None:
    assert fast["player_id"].tolist() == slow["player_id"].tolist()
    for col in FEATURES:
        if col in churn.CATEGORICAL_FEATURES:
            assert fast[col].astype(str).tolist() == slow[col].astype(str).tolist(), col
        else:
            np.testing.assert_allclose(
                fast[col].to_numpy(float), slow[col].to_numpy(float), rtol=1e-12, err_msg=col
            )


# --------------------------------------------------------------------------- build_features


@pytest.mark.parametrize("snapshot", ["2026-01-10", "2026-02-01", "2026-02-20"])
def test_features_match_the_definitions(log, snapshot):
    events, players = log
    s = pd.Timestamp(snapshot, tz="UTC")
    compare(build_features(events, players, snapshot), slow_features(events, players, s))


def test_features_never_use_events_at_or_after_the_snapshot(log):
    events, players = log
    before = build_features(events, players, SNAP)
    # drop everything from the snapshot on, then add a burst of events exactly at it and later
    past = events[events.ts < SNAP]
    pid = players.player_id.iloc[0]
    future = pd.DataFrame(
        {
            "player_id": [pid] * 5,
            "ts": [SNAP, SNAP, SNAP + pd.Timedelta("1s"), SNAP + DAY, SNAP + DAY],
            "event": ["session_start", "purchase", "level_end", "ad_view", "friend_invite"],
            "level": [np.nan, np.nan, 99.0, np.nan, np.nan],
            "success": pd.array([pd.NA, pd.NA, True, pd.NA, pd.NA], dtype="boolean"),
            "value": [np.nan, 100.0, np.nan, np.nan, np.nan],
        }
    )
    future["event"] = future["event"].astype(events["event"].dtype)
    altered = pd.concat([past, future], ignore_index=True)
    pd.testing.assert_frame_equal(build_features(altered, players, SNAP), before)
    pd.testing.assert_frame_equal(build_features(past, players, SNAP), before)


def test_event_one_nanosecond_before_the_snapshot_counts(log):
    events, players = log
    pid = players.player_id.iloc[0]
    extra = events.iloc[[0]].copy()
    extra[["player_id", "ts"]] = [pid, SNAP - pd.Timedelta("1ns")]
    extra["event"] = pd.Series(["session_start"], index=extra.index).astype(events.event.dtype)
    base = build_features(events, players, SNAP).set_index("player_id").loc[pid]
    more = build_features(pd.concat([events, extra]), players, SNAP).set_index("player_id").loc[pid]
    assert more.sessions_7d == base.sessions_7d + 1
    assert more.recency_days == pytest.approx(1e-9 / 86_400)


def test_event_order_does_not_matter(log):
    events, players = log
    shuffled = events.sample(frac=1.0, random_state=0)
    pd.testing.assert_frame_equal(
        build_features(shuffled, players, SNAP), build_features(events, players, SNAP)
    )


def test_duplicated_events_are_refused(log):
    events, players = log
    doubled = pd.concat([events, events.iloc[[5, 9]]])
    with pytest.raises(ValueError, match="2 exact duplicate row.*drop_duplicates"):
        build_features(doubled, players, SNAP)
    with pytest.raises(ValueError, match="duplicate"):
        label_churn(doubled, players, SNAP)


def test_players_without_events_get_zero_activity(log):
    events, players = log
    silent = players.player_id.iloc[:3].tolist()
    X = build_features(events[~events.player_id.isin(silent)], players, SNAP)
    rows = X[X.player_id.isin(silent)]
    assert len(rows) == sum(players.set_index("player_id").loc[silent].install_date < SNAP)
    assert (rows[["sessions_total", "sessions_7d", "max_level", "spend_total"]] == 0).all().all()
    np.testing.assert_allclose(rows.recency_days, rows.tenure_days)


def test_only_players_installed_before_the_snapshot(log):
    events, players = log
    X = build_features(events, players, "2026-01-15")
    expected = players.player_id[players.install_date < pd.Timestamp("2026-01-15", tz="UTC")]
    assert X.player_id.tolist() == expected.tolist()
    assert (X.tenure_days > 0).all()


def test_categorical_dtypes_are_kept(log):
    events, players = log
    X = build_features(events, players, SNAP)
    assert X["difficulty"].dtype == players["difficulty"].dtype
    assert X["difficulty"].cat.ordered


def test_naive_snapshot_is_read_as_utc(log):
    events, players = log
    a = build_features(events, players, "2026-02-01")
    b = build_features(events, players, SNAP.tz_convert("Europe/Paris"))
    pd.testing.assert_frame_equal(a, b)


@pytest.mark.parametrize(
    ("mutate", "error", "match"),
    [
        (lambda e: e.assign(ts=e.ts.astype(str)), TypeError, "UTC time stamps.*pd.to_datetime"),
        (lambda e: e.assign(ts=e.ts.dt.tz_localize(None)), TypeError, "without a time zone"),
        (lambda e: e.assign(player_id=e.player_id.astype(float)), TypeError, "integer player"),
        (lambda e: e.drop(columns="event"), ValueError, r"lacks the column\(s\) \['event'\]"),
        (lambda e: e.drop(columns="level"), ValueError, "lacks the column 'level'"),
        (lambda e: e.to_numpy(), TypeError, "must be a pandas DataFrame"),
        (lambda e: e.assign(player_id=e.player_id + 10**9), ValueError, "missing from players"),
    ],
)
def test_bad_events_get_clear_errors(log, mutate, error, match):
    events, players = log
    with pytest.raises(error, match=match):
        build_features(mutate(events), players, SNAP)


def test_bad_players_and_snapshot_get_clear_errors(log):
    events, players = log
    with pytest.raises(ValueError, match="duplicated player_id"):
        build_features(events, pd.concat([players, players.iloc[[0]]]), SNAP)
    with pytest.raises(ValueError, match="must be a date"):
        build_features(events, players, "next tuesday")
    with pytest.raises(ValueError, match="lacks the column 'platform'"):
        build_features(events, players.drop(columns="platform"), SNAP)
    with pytest.raises(ValueError, match="missing on 1 purchase"):
        bad = events.copy()
        bad.loc[bad.index[(bad.event == "purchase").to_numpy()][0], "value"] = np.nan
        build_features(bad, players, "2026-03-01")


# --------------------------------------------------------------------------- label_churn


def slow_labels(events, players, s, window=14 * DAY, tenure=7 * DAY) -> dict[int, int]:
    sess = events[events.event == "session_start"]
    out = {}
    for p in players.itertuples():
        if p.install_date <= s - tenure:
            mine = sess[(sess.player_id == p.player_id) & (sess.ts >= s) & (sess.ts < s + window)]
            out[p.player_id] = int(mine.empty)
    return out


def test_labels_match_the_definition(log):
    events, players = log
    y = label_churn(events, players, SNAP)
    assert dict(zip(y.player_id, y.churned, strict=True)) == slow_labels(events, players, SNAP)
    assert y.churned.dtype == np.int8
    assert 0 < y.churned.mean() < 1


def test_censoring_and_window_edges():
    players = pd.DataFrame(
        {
            "player_id": [1, 2, 3, 4],
            "install_date": pd.to_datetime(
                [
                    "2026-01-01 00:00:00",
                    "2026-01-25 00:00:00",
                    "2026-01-25 00:00:01",
                    "2026-01-01 00:00:00",
                ],
                utc=True,
            ),
        }
    )
    events = pd.DataFrame(
        {
            "player_id": [1, 4, 2, 1],
            "event": ["session_start"] * 4,
            # player 1 plays exactly at the end of the window (does not count), player 4
            # exactly at the snapshot (counts); the last event makes the log long enough
            "ts": pd.to_datetime(
                ["2026-02-15", "2026-02-01", "2026-01-30", "2026-02-16"], utc=True
            ),
        }
    )
    y = label_churn(events, players, SNAP).set_index("player_id").churned
    # player 2 installed exactly 7 days before: labelled; player 3 one second later: censored
    assert y.to_dict() == {1: 1, 2: 1, 4: 0}
    assert label_churn(events, players, SNAP, window="15D", log_end="2026-03-01").set_index(
        "player_id"
    ).churned.to_dict() == {1: 0, 2: 1, 4: 0}
    assert set(label_churn(events, players, SNAP, min_tenure="6D").player_id) == {1, 2, 3, 4}


def test_churners_at_earlier_snapshots_are_not_labelled_again(log):
    events, players = log
    first = pd.Timestamp("2026-01-18", tz="UTC")
    y0 = label_churn(events, players, first)
    y1 = label_churn(events, players, SNAP, earlier_snapshots=[first])
    gone = set(y0.player_id[y0.churned == 1])
    assert gone and not gone & set(y1.player_id)
    alone = label_churn(events, players, SNAP)
    assert set(alone.player_id) - set(y1.player_id) == gone & set(alone.player_id)
    with pytest.raises(ValueError, match="must all lie before"):
        label_churn(events, players, SNAP, earlier_snapshots=["2026-02-10"])


def test_labels_need_the_whole_window_in_the_log(log):
    events, players = log
    cut = events[events.ts < pd.Timestamp("2026-02-10", tz="UTC")]
    with pytest.raises(ValueError, match="log ends at .* need sessions until 2026-02-15"):
        label_churn(cut, players, SNAP)
    # an explicit log end is trusted
    assert len(label_churn(cut, players, SNAP, log_end="2026-02-15")) > 0


@pytest.mark.parametrize(
    ("kw", "match"), [({"window": "-1D"}, "positive"), ({"min_tenure": "x"}, "duration")]
)
def test_bad_durations(log, kw, match):
    events, players = log
    with pytest.raises(ValueError, match=match):
        label_churn(events, players, SNAP, **kw)


def test_build_dataset_joins_features_and_labels(log):
    events, players = log
    snaps = ["2026-02-01", "2026-01-18"]
    data = build_dataset(events, players, snaps)
    assert list(data.columns) == ["player_id", "snapshot", *FEATURES, "churned"]
    assert data.snapshot.is_monotonic_increasing
    late = data[data.snapshot == SNAP]
    y = label_churn(events, players, SNAP, earlier_snapshots=["2026-01-18"])
    assert late.player_id.tolist() == y.player_id.tolist()
    compare(
        late.reset_index(drop=True), slow_features(events, players, SNAP).merge(y[["player_id"]])
    )
    with pytest.raises(TypeError, match="list of dates"):
        build_dataset(events, players, "2026-02-01")


# --------------------------------------------------------------------------- splitting


def test_split_by_snapshot_closes_label_windows_before_the_test_snapshot(log):
    events, players = log
    data = build_dataset(events, players, ["2026-01-11", "2026-01-18", "2026-01-25", "2026-02-01"])
    train, test = split_by_snapshot(data, SNAP)
    assert set(test.snapshot) == {SNAP}
    # 2026-01-25 + 14 days is after the test snapshot: its labels are not known yet
    assert set(train.snapshot) == {pd.Timestamp(d, tz="UTC") for d in ["2026-01-11", "2026-01-18"]}
    train_7d, _ = split_by_snapshot(data, SNAP, window="7D")
    assert set(train_7d.snapshot) == set(data.snapshot) - {SNAP}
    with pytest.raises(ValueError, match="no rows at the test snapshot 2026-03-01"):
        split_by_snapshot(data, "2026-03-01")
    with pytest.raises(ValueError, match="no training rows"):
        split_by_snapshot(data, "2026-01-11")
    with pytest.raises(TypeError, match="UTC"):
        split_by_snapshot(data.assign(snapshot=data.snapshot.astype(str)), SNAP)


# --------------------------------------------------------------------------- evaluation


def test_evaluation_table_beside_the_bayes_limit():
    from mlcourse.telemetry import bayes_auc

    rng = np.random.default_rng(0)
    p = rng.beta(2, 3, 5000)
    y = (rng.random(p.size) < p).astype(int)
    leak = y * 0.5 + rng.random(p.size) * 0.5  # knows the label
    table = evaluation_table(y, {"noise": rng.random(p.size), "leak": leak}, p_true=p)
    assert list(table.index) == ["noise", "leak", "Bayes (true p)"]
    assert table.attrs["bayes_auc"] == pytest.approx(bayes_auc(p))
    assert table.loc["leak", "auc_gap"] > 0.1  # above the limit: a leak
    assert abs(table.loc["noise", "roc_auc"] - 0.5) < 0.03
    assert abs(table.loc["Bayes (true p)", "auc_gap"]) < 0.02
    assert table.loc["Bayes (true p)", "brier"] < table.loc["noise", "brier"]


def test_evaluation_table_bad_input():
    y = np.array([0, 1, 0, 1])
    with pytest.raises(ValueError, match=r"predict_proba\(X\)\[:, 1\]"):
        evaluation_table(y, {"m": np.ones((4, 2)) / 2})
    with pytest.raises(ValueError, match="0/1"):
        evaluation_table([0, 2, 0, 1], {"m": [0.1, 0.2, 0.3, 0.4]})
    with pytest.raises(ValueError, match="only one class"):
        evaluation_table([0, 0, 0, 0], {"m": [0.1, 0.2, 0.3, 0.4]})
    with pytest.raises(ValueError, match="expected 4 scores"):
        evaluation_table(y, {"m": [0.1, 0.2]})
    with pytest.raises(TypeError, match="dict"):
        evaluation_table(y, [0.1, 0.2, 0.3, 0.4])


def test_lift_table():
    rng = np.random.default_rng(1)
    y = (rng.random(2000) < 0.2).astype(int)
    perfect = lift_table(y, y + rng.random(y.size) * 0.1)
    assert perfect.gain.iloc[-1] == 1.0 and perfect.share_contacted.iloc[-1] == 1.0
    assert perfect.lift.iloc[0] == pytest.approx(1 / y.mean(), rel=0.01)  # top decile all churners
    assert perfect.gain.is_monotonic_increasing
    assert abs(lift_table(y, rng.random(y.size)).lift.iloc[2] - 1) < 0.2
    with pytest.raises(ValueError, match="n_bins"):
        lift_table(y, y, n_bins=0)


def test_profit_curve_matches_brute_force():
    rng = np.random.default_rng(2)
    y = (rng.random(300) < 0.3).astype(int)
    s = np.round(rng.random(300), 2)  # ties on purpose
    curve = profit_curve(y, s, offer_cost=2.0, saved_value=10.0, success_rate=0.5)
    for t, n, profit in curve.itertuples(index=False):
        chosen = s >= t
        assert n == chosen.sum()
        assert profit == pytest.approx((0.5 * 10 * y[chosen] - 2.0).sum())
    t, best = best_threshold(curve)
    assert best == curve.profit.max() and best > 0


def test_best_threshold_of_calibrated_probabilities_is_the_cost_ratio():
    rng = np.random.default_rng(3)
    p = rng.random(200_000)
    curve = profit_curve(p, p, offer_cost=3.0, saved_value=12.0, success_rate=0.5)
    t, _ = best_threshold(curve)
    assert t == pytest.approx(3.0 / (0.5 * 12.0), abs=1e-3)


def test_profit_curve_bad_input():
    with pytest.raises(ValueError, match="success_rate"):
        profit_curve([0, 1], [0.1, 0.9], 1, 10, success_rate=0)
    with pytest.raises(ValueError, match="offer_cost"):
        profit_curve([0, 1], [0.1, 0.9], -1, 10)
    with pytest.raises(ValueError, match="labels or probabilities"):
        profit_curve([0, 3], [0.1, 0.9], 1, 10)


def test_plot_evaluation_draws_three_panels():
    import matplotlib

    matplotlib.use("Agg")
    rng = np.random.default_rng(4)
    p = rng.random(500)
    y = (rng.random(500) < p).astype(int)
    fig = churn.plot_evaluation(y, {"model": np.clip(p + 0.1, 0, 1)}, p_true=p, title="t")
    assert [ax.get_title() for ax in fig.axes][:3] == [
        "ROC curve",
        "Precision-recall curve",
        "Calibration (quantile bins)",
    ]
    assert len(fig.axes[0].get_legend().get_texts()) >= 2
    base_rate = [line for line in fig.axes[1].get_lines() if "churn rate" in line.get_label()]
    assert len(base_rate) == 1 and base_rate[0].get_ydata()[0] == pytest.approx(y.mean())


def test_auc_interval_matches_sklearn_and_a_naive_bootstrap():
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(7)
    y = (rng.random(600) < 0.4).astype(int)
    s = np.round(y + rng.normal(0, 1, 600), 1)  # rounded: many ties
    auc, low, high = churn.auc_interval(y, s, n_boot=300, seed=3)
    assert auc == pytest.approx(roc_auc_score(y, s))
    naive = []
    boot = np.random.default_rng(3)
    for _ in range(300):
        i = boot.integers(0, y.size, y.size)
        naive.append(roc_auc_score(y[i], s[i]))
    assert (low, high) == pytest.approx(tuple(np.quantile(naive, [0.025, 0.975])), abs=1e-9)
    assert churn.auc_interval(y, s, n_boot=300, seed=3) == (auc, low, high)  # reproducible
    with pytest.raises(ValueError, match="level"):
        churn.auc_interval(y, s, level=1.5)
    with pytest.raises(ValueError, match="one class"):
        churn.auc_interval(np.ones(5, int), np.arange(5.0))


def test_redrawn_aucs_match_sklearn_on_each_draw():
    from sklearn.metrics import roc_auc_score

    from mlcourse.telemetry import bayes_auc

    rng = np.random.default_rng(5)
    q = rng.beta(2, 2, 800)
    s = np.round(q + rng.normal(0, 0.2, 800), 1)  # rounded: many ties
    aucs = churn.redrawn_aucs(q, s, n_draws=30, seed=4)
    draws = np.random.default_rng(4).random((30, q.size)) < q
    assert aucs == pytest.approx([roc_auc_score(y, s) for y in draws], abs=1e-12)
    truth = churn.redrawn_aucs(q, n_draws=400, seed=1)  # the truth scored on its own draws
    assert truth.mean() == pytest.approx(bayes_auc(q), abs=3 * truth.std() / np.sqrt(400))
    assert np.isnan(churn.redrawn_aucs(np.zeros(5), n_draws=2)).all()  # one class only
    with pytest.raises(ValueError, match="p_true"):
        churn.redrawn_aucs([0.5, 1.5])
    with pytest.raises(ValueError, match="n_draws"):
        churn.redrawn_aucs([0.5, 0.2], n_draws=0)


def test_bootstrap_thresholds_match_a_loop_over_resamples():
    rng = np.random.default_rng(2)
    y = (rng.random(300) < 0.6).astype(int)
    s = np.round(np.clip(0.6 * y + rng.normal(0.2, 0.25, 300), 0, 1), 2)  # ties
    got = churn.bootstrap_thresholds(y, s, 4.0, 20.0, 0.25, n_boot=40, seed=9)
    boot = np.random.default_rng(9)
    want = []
    for _ in range(40):
        i = boot.integers(0, y.size, y.size)
        want.append(churn.best_threshold(churn.profit_curve(y[i], s[i], 4.0, 20.0, 0.25))[0])
    assert got.tolist() == want
    with pytest.raises(ValueError, match="n_boot"):
        churn.bootstrap_thresholds(y, s, 4.0, 20.0, n_boot=0)
    with pytest.raises(ValueError, match="success_rate"):
        churn.bootstrap_thresholds(y, s, 4.0, 20.0, 1.5)


def test_concordance_index_matches_brute_force():
    rng = np.random.default_rng(11)
    n = 700  # more than one chunk of the pair matrix
    t = np.round(rng.exponential(10, n), 0)  # rounded: tied times
    e = rng.random(n) < 0.7
    r = np.round(rng.random(n) - 0.02 * t, 1)  # rounded: tied risks
    num = den = 0.0
    for i in range(n):
        for j in range(n):
            if e[i] and t[i] < t[j]:
                den += 1
                num += 1.0 if r[i] > r[j] else 0.5 if r[i] == r[j] else 0.0
    assert churn.concordance_index(t, e, r) == pytest.approx(num / den)
    assert churn.concordance_index(t, e, -t) == 1.0
    with pytest.raises(ValueError, match="comparable"):
        churn.concordance_index([1.0, 2.0], [False, False], [0.1, 0.2])
    with pytest.raises(ValueError, match="same length"):
        churn.concordance_index([1.0, 2.0], [True], [0.1, 0.2])


def test_toy_log_is_reproducible():
    a, pa = toy_log(n_players=40, seed=5)
    b, pb = toy_log(n_players=40, seed=5)
    pd.testing.assert_frame_equal(a, b)
    pd.testing.assert_frame_equal(pa, pb)
    assert not a.equals(toy_log(n_players=40, seed=6)[0])
    assert a.ts.is_monotonic_increasing and not a.duplicated().any()


# --------------------------------------------------------------------------- the simulator


@pytest.fixture(scope="module")
def small_world():
    from mlcourse.telemetry import SimConfig, simulate

    return simulate(SimConfig(n_players=600, seed=11))


def test_features_and_labels_reproduce_the_simulator(small_world):
    """The simulator drew each label from these very features: rows, labels and features agree."""
    sim = small_world
    data = build_dataset(sim.events, sim.players, list(sim.config.snapshots))
    truth = sim.features
    key = ["player_id", "snapshot"]
    assert len(data) == len(truth) > 0
    both = data.merge(truth, on=key, how="inner", suffixes=("", "_true"), validate="1:1")
    assert len(both) == len(truth)
    assert (both["churned"] == both["churned_true"].astype(int)).all()
    for col in churn.NUMERIC_FEATURES:
        np.testing.assert_array_equal(
            both[col].to_numpy(float), both[f"{col}_true"].to_numpy(float)
        )


def test_features_and_labels_reproduce_the_shipped_churn_truth():
    """On the shipped data, the labelled rows and labels are exactly load_churn_truth()'s."""
    from mlcourse.datasets import load_churn_truth, load_events, load_players

    truth = load_churn_truth()
    data = build_dataset(load_events(), load_players(), sorted(truth["snapshot"].unique()))
    key = ["player_id", "snapshot"]
    mine = data[[*key, "churned"]].sort_values(key, ignore_index=True)
    theirs = truth[[*key, "churned"]].sort_values(key, ignore_index=True)
    assert mine[key].equals(theirs[key])
    assert (mine["churned"].to_numpy() == theirs["churned"].to_numpy().astype(int)).all()
    assert not data[list(FEATURES)].isna().any().any()


def test_docstring_examples_hold():
    import doctest

    result = doctest.testmod(churn, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 5 and result.failed == 0


# --------------------------------------------------------------- checkers of notebooks 05 to 07

_FUNCTION_EXERCISES = [
    "q2_churn_labels",
    "q3_activity_features",
    "q5_split_in_time",
    "q8_offer_threshold",
    "q10_km_retention",
]


#: the exercises modules of the churn notebooks
_CHURN_MODULES = ("nb05", "nb06", "nb07")


def _solution_cell(exercise_id: str):
    import nbformat

    from mlcourse.exercises import exercise_cells, solution_regions
    from mlcourse.exercises._registry import solutions_dir

    stem = _exercise(exercise_id).notebook
    nb = nbformat.read(solutions_dir() / f"{stem}.ipynb", as_version=4)
    cell = nb.cells[exercise_cells(nb)[exercise_id]]
    assert solution_regions(cell)
    return cell


def _run(code: str) -> dict:
    ns = {"pd": pd, "np": np}
    exec(code, ns)  # noqa: S102 - the course's own solution and catalogue code
    return ns


def _module(exercise_id: str):
    """The exercises module (of notebook 05, 06 or 07) that declares ``exercise_id``."""
    import importlib

    for name in _CHURN_MODULES:
        mod = importlib.import_module(f"mlcourse.exercises.{name}")
        if any(e.id == exercise_id for e in mod.EXERCISES):
            return mod
    raise KeyError(exercise_id)


def _exercise(exercise_id: str):
    return next(e for e in _module(exercise_id).EXERCISES if e.id == exercise_id)


@pytest.mark.parametrize("seed", [0, 7, 12345])
@pytest.mark.parametrize("exercise_id", _FUNCTION_EXERCISES)
def test_function_exercises_without_a_kernel(exercise_id, seed):
    """Self-contained function exercises on three seeds: the reference passes, every catalogued
    mistake gets its status and message, every valid alternative passes (the kernel-based
    catalogue test does the same on seed 0, more slowly)."""
    from catalogues import catalogue

    from mlcourse.exercises import judge_result, probe_one, replace_regions
    from mlcourse.exercises.spec import ProbeContext, exercise_seed

    ex = _exercise(exercise_id)
    cell = _solution_cell(exercise_id)
    cat = catalogue(_module(exercise_id).__name__)
    ctx = ProbeContext(seed=exercise_seed(seed, ex.notebook, ex.id))
    expected = probe_one(ex, _run(cell.source), ctx)
    assert expected["status"] == "ok", expected
    assert judge_result(ex, expected, expected).status == "correct"
    assert cat.wrong[exercise_id], "every function exercise has a catalogue of mistakes"
    for wrong in cat.wrong[exercise_id]:
        outcome = judge_result(
            ex, probe_one(ex, _run(replace_regions(cell, wrong.code)), ctx), expected
        )
        assert outcome.status == wrong.status, (wrong.name, outcome)
        assert wrong.message.lower() in outcome.message.lower(), (wrong.name, outcome.message)
    for valid in cat.valid.get(exercise_id, ()):
        outcome = judge_result(
            ex, probe_one(ex, _run(replace_regions(cell, valid.code)), ctx), expected
        )
        assert outcome.status == valid.status, (valid.name, outcome)
    assert judge_result(ex, probe_one(ex, {}, ctx), expected).status == "not_attempted"


@pytest.mark.parametrize("seed", [0, 3])
def test_planted_label_logs_agree_with_label_churn(seed):
    """An independent oracle for q2's probe data: ``label_churn`` (the library's definition)
    labels the planted logs exactly as the reference answer does, edge cases included."""
    from mlcourse.exercises import nb05

    rng = np.random.default_rng(seed)
    for s in nb05._label_snapshots(rng):
        events, players, tags = nb05._label_log(rng, s)
        ours = _run(_solution_cell("q2_churn_labels").source)["churn_labels"](events, players, s)
        lib = label_churn(events, players, s, log_end=s + 30 * DAY).set_index("player_id").churned
        assert ours.sort_index().tolist() == lib.sort_index().astype(int).tolist()
        assert ours.index.sort_values().tolist() == lib.index.sort_values().tolist()
        assert {"window_end", "return_day", "other_event", "install_exact"} <= set(tags.values())
        # the planted traps really are on the edges
        window = events[(events.ts >= s) & (events.ts <= s + 14 * DAY)]
        assert (window.ts == s).any() and (window.ts == s + 14 * DAY).any()
        assert (window.ts == s + 14 * DAY - pd.Timedelta(microseconds=1)).any()
        assert (players.install_date == s - 7 * DAY).any()


@pytest.mark.parametrize("seed", [0, 3])
def test_planted_activity_logs_agree_with_build_features(seed):
    """An independent oracle for q3's probe data: ``build_features`` (the library) gives the
    reference answer's recency and window counts on the planted logs."""
    from mlcourse.exercises import nb05

    rng = np.random.default_rng(seed)
    for s in nb05._activity_snapshots(rng):
        events, _ = nb05._activity_log(rng, s)
        ours = _run(_solution_cell("q3_activity_features").source)["activity_features"](events, s)
        players = pd.DataFrame(
            {
                "player_id": np.unique(events.player_id),
                "install_date": events.ts.min() - DAY,
                "platform": "ios",
                "difficulty": "easy",
            }
        )
        lib = build_features(events, players, s).set_index("player_id").loc[ours.index]
        for col in ("recency_days", "sessions_7d", "sessions_prev_7d"):
            np.testing.assert_allclose(ours[col].to_numpy(float), lib[col].to_numpy(float))
        assert (events.ts == s - 7 * DAY).any() and (events.ts == s - 14 * DAY).any()
        assert s.day == 1 or s.day >= 8


def _model_facts(auc=0.86, test_auc=0.876, z=1.0, extra=()):
    return {
        "extra_columns": list(extra),
        "heldout": {"n": 754, "auc": auc, "bayes": 0.872, "noise_sd": 0.013, "z": 0.0},
        "test": {"n": 4485, "auc": test_auc, "bayes": 0.879, "noise_sd": 0.005, "z": z},
    }


@pytest.mark.parametrize(
    ("facts", "status", "message"),
    [
        (_model_facts(), "correct", "held-out players"),
        (_model_facts(auc=0.84), "correct", "held-out players"),
        (_model_facts(auc=0.83), "partly_correct", "below the reference"),
        (_model_facts(auc=0.50), "incorrect", "below the reference"),
        (_model_facts(test_auc=0.90), "incorrect", "fitted on test rows"),
        (_model_facts(z=6.0), "incorrect", "fitted on test rows"),
        (_model_facts(auc=0.91), "incorrect", "LEAK"),
        (_model_facts(extra=["account_status"]), "incorrect", "not point-in-time features"),
    ],
)
def test_model_judge_on_facts(facts, status, message):
    """q6's judge on plain facts: noise-based band around the reference, and both leak tests."""
    ex = _exercise("q6_churn_model")
    outcome = ex.judge(facts, _model_facts(auc=0.8624))
    assert outcome.status == status, outcome
    assert message.lower() in outcome.message.lower()
    assert "0.8624" not in outcome.message  # never the reference's own score


def test_residual_z_is_standard_normal_for_a_model_that_never_saw_the_labels():
    from mlcourse.exercises.nb06 import _residual_z

    rng = np.random.default_rng(0)
    p = rng.uniform(0.05, 0.95, 2000)
    q = np.clip(p + rng.normal(0, 0.1, p.size), 0.01, 0.99)  # honest but imperfect
    zs = [_residual_z(q, (rng.random(p.size) < p).astype(float), p) for _ in range(300)]
    assert abs(np.mean(zs)) < 0.2 and 0.85 < np.std(zs) < 1.15
    y = (rng.random(p.size) < p).astype(float)
    memorised = 0.9 * p + 0.1 * y  # a little pulled towards the labels it saw
    assert _residual_z(memorised, y, p) > 8
