"""Tests of the Lumen Isles simulator, its CLI and the calibration of the shipped data."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mlcourse import churn, datasets, telemetry
from mlcourse.telemetry import SimConfig, bayes_auc, bayes_auc_bruteforce, simulate
from mlcourse.telemetry_cli import calibration_report

REPO_DATA = Path(__file__).resolve().parents[1] / "datasets"
DAY = pd.Timedelta(days=1)


# ---------------------------------------------------------------------------------------------
# bayes_auc
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("seed", range(5))
def test_bayes_auc_matches_bruteforce_with_ties(seed):
    rng = np.random.default_rng(seed)
    p = np.round(rng.beta(0.7, 1.5, size=int(rng.integers(2, 120))), 1)  # many ties
    p[0], p[1] = 0.2, 0.7  # not all equal, not degenerate
    assert bayes_auc(p) == pytest.approx(bayes_auc_bruteforce(p), abs=1e-12)


def test_bayes_auc_extremes_and_monte_carlo():
    assert bayes_auc(np.array([0.0, 0.0, 1.0])) == 1.0
    assert bayes_auc(np.full(10, 0.37)) == pytest.approx(0.5)
    # the expected AUC of the true p on labels drawn from p approaches bayes_auc
    rng = np.random.default_rng(0)
    p = rng.beta(1, 3, size=200_000)
    y = rng.random(p.size) < p
    from sklearn.metrics import roc_auc_score

    assert roc_auc_score(y, p) == pytest.approx(bayes_auc(p), abs=0.005)


@pytest.mark.parametrize("bad", [np.array([]), np.array([0.2, 1.5]), np.array([np.nan, 0.3])])
def test_bayes_auc_rejects_bad_input(bad):
    with pytest.raises(ValueError, match="probabilities"):
        bayes_auc(bad)


def test_bayes_auc_undefined_without_both_classes():
    with pytest.raises(ValueError, match="undefined"):
        bayes_auc(np.zeros(4))


# ---------------------------------------------------------------------------------------------
# SimConfig
# ---------------------------------------------------------------------------------------------
def test_config_rejects_overlapping_label_windows():
    snaps = (dt.date(2026, 2, 1), dt.date(2026, 2, 8))
    with pytest.raises(ValueError, match="closer than churn_window_days"):
        SimConfig(snapshots=snaps)


def test_config_rejects_label_window_after_log_end():
    with pytest.raises(ValueError, match="move log_end"):
        SimConfig(log_end=dt.date(2026, 5, 30))


def test_config_rejects_tiny_population():
    with pytest.raises(ValueError, match="n_players"):
        SimConfig(n_players=3)


def test_config_is_frozen():
    with pytest.raises(AttributeError):
        SimConfig().seed = 3  # type: ignore[misc]


# ---------------------------------------------------------------------------------------------
# The simulation obeys its own contract (small world, so it is fast)
# ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def small():
    return simulate(SimConfig(n_players=1500, seed=11))


def _sessions(events: pd.DataFrame) -> pd.DataFrame:
    return events[events["event"] == "session_start"]


def test_churn_labels_match_the_log(small):
    sess = _sessions(small.events)
    truth = small.churn_truth
    assert truth["churned"].any() and not truth["churned"].all()
    for snap, rows in truth.groupby("snapshot"):
        window = sess[(sess["ts"] >= snap) & (sess["ts"] < snap + 14 * DAY)]
        active = rows["player_id"].isin(window["player_id"])
        # churned <=> no session_start in [s, s + 14 days)
        assert (active == ~rows["churned"]).all(), snap


def test_churn_is_absorbing_and_labelled_players_qualify(small):
    truth, players = small.churn_truth, small.players.set_index("player_id")
    churned_at = truth[truth["churned"]].set_index("player_id")["snapshot"]
    assert churned_at.index.is_unique
    last = small.events.groupby("player_id")["ts"].max()
    assert (last.reindex(churned_at.index) < churned_at).all()
    # nobody is labelled after churning, and everyone labelled has 7 days of tenure
    later = truth.merge(churned_at.rename("churned_at"), on="player_id")
    assert (later["snapshot"] <= later["churned_at"]).all()
    install = players.loc[truth["player_id"], "install_date"].reset_index(drop=True)
    tenure = truth["snapshot"].reset_index(drop=True) - install
    assert (tenure >= 7 * DAY).all()


def test_every_eligible_player_is_labelled(small):
    cfg, players, truth = small.config, small.players, small.churn_truth
    snap = pd.Timestamp(cfg.snapshots[0], tz="UTC")
    eligible = players.loc[players["install_date"] <= snap - 7 * DAY, "player_id"]
    assert set(truth.loc[truth["snapshot"] == snap, "player_id"]) == set(eligible)


def test_payer_label_is_a_purchase_in_the_first_week(small):
    ev, players = small.events, small.players.set_index("player_id")
    buys = ev[ev["event"] == "purchase"]
    install = players.loc[buys["player_id"], "install_date"].to_numpy()
    early = buys.loc[(buys["ts"] < install + 7 * DAY).to_numpy(), "player_id"].unique()
    truth = small.payer_truth.set_index("player_id")["is_payer"]
    assert set(early) == set(truth[truth].index)
    assert truth.any()


def test_truth_probabilities_are_the_documented_functions(small):
    # p_churn is sigmoid(churn_logit) of the features rebuilt from the published log alone
    rebuilt = []
    for snap, rows in small.churn_truth.groupby("snapshot"):
        feats = churn.build_features(small.events, small.players, snap).set_index("player_id")
        feats = feats.loc[rows["player_id"].to_numpy()]
        logit = telemetry.churn_logit(feats, snap)
        got = pd.Series(1 / (1 + np.exp(-logit)), index=feats.index)
        rebuilt.append(got.reindex(rows["player_id"]).to_numpy() - rows["p_churn"].to_numpy())
    assert np.max(np.abs(np.concatenate(rebuilt))) < 1e-9
    p_payer = 1 / (1 + np.exp(-telemetry.payer_logit(small.players)))
    np.testing.assert_allclose(p_payer, small.payer_truth["p_payer"], atol=1e-12)


def test_log_structure(small):
    ev, players = small.events, small.players
    order = ev.sort_values(["ts", "player_id"], kind="stable").index
    assert (order == ev.index).all()
    # install_date is the first session_start; no event precedes it
    first = ev.groupby("player_id")["ts"].min()
    first_sess = _sessions(ev).groupby("player_id")["ts"].min()
    install = players.set_index("player_id")["install_date"]
    pd.testing.assert_series_equal(first.sort_index(), install.sort_index(), check_names=False)
    pd.testing.assert_series_equal(first_sess.sort_index(), install.sort_index(), check_names=False)
    # a session's events fall on the day of its session_start; a player's sessions never overlap
    span = ev.groupby("session_id").agg(
        player=("player_id", "first"), start=("ts", "min"), end=("ts", "max")
    )
    assert (span["start"].dt.floor("D") == span["end"].dt.floor("D")).all()
    span = span.sort_values(["player", "start"])
    next_start = span.groupby("player")["start"].shift(-1)
    assert (next_start.dropna() > span.loc[next_start.notna(), "end"]).all()
    # level_end rows have level and success, other rows do not
    is_lvl = ev["event"] == "level_end"
    assert ev.loc[is_lvl, ["level", "success"]].notna().all().all()
    assert ev.loc[~is_lvl, ["level", "success"]].isna().all().all()
    assert (ev.loc[ev["event"] == "purchase", "value"] > 0).all()


def test_patch_changes_the_churn_function():
    feats = pd.DataFrame(
        {
            "tenure_days": [30.0],
            "recency_days": [1.0],
            "sessions_7d": [5],
            "sessions_prev_7d": [5],
            "sessions_total": [40],
            "fail_rate_7d": [0.2],
            "max_level": [19],
            "spend_total": [0.0],
            "ads_7d": [4],
            "invites_total": [0],
            "platform": ["android"],
            "difficulty": ["normal"],
        }
    )
    before = telemetry.churn_logit(feats, "2026-03-29")
    after = telemetry.churn_logit(feats, "2026-04-12")
    assert before[0] > after[0] + 1.0  # the level-19 wall is gone after the patch


def test_churn_logit_names_missing_columns():
    with pytest.raises(ValueError, match="recency_days"):
        telemetry.churn_logit(pd.DataFrame({"tenure_days": [1.0]}), "2026-03-01")


# ---------------------------------------------------------------------------------------------
# Determinism and writing
# ---------------------------------------------------------------------------------------------
def _digests(directory: Path) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(directory.glob("*.csv.gz"))
    }


def test_same_seed_same_bytes_other_seed_other_data(tmp_path):
    cfg = SimConfig(n_players=400, seed=5)
    telemetry.write_tables(simulate(cfg), tmp_path / "a")
    telemetry.write_tables(simulate(cfg), tmp_path / "b")
    telemetry.write_tables(simulate(SimConfig(n_players=400, seed=6)), tmp_path / "c")
    a, b, c = (_digests(tmp_path / x) for x in "abc")
    assert a == b and len(a) == 4
    assert all(a[name] != c[name] for name in a)


def test_variant_directory_is_a_complete_checked_data_dir(tmp_path, monkeypatch):
    out = tmp_path / "variant"
    telemetry.make_variant(out, seed=123, n_players=300)
    assert (out / "SHA256SUMS").is_file() and (out / "penguins.csv").is_file()
    assert all(check.ok for check in datasets.verify(out))
    monkeypatch.setenv(datasets.DATA_ENV_VAR, str(out))
    players = datasets.load_players()
    assert len(players) == 300
    assert len(datasets.load_penguins()) == 344


def test_cli_generate_and_report_a_small_world(tmp_path, capsys):
    from mlcourse.cli import main

    out = tmp_path / "w"
    assert (
        main(["telemetry", "generate", "--players", "400", "--seed", "2", "--out", str(out)]) == 0
    )
    assert "400 players" in capsys.readouterr().out
    assert [c.status for c in datasets.verify(out)] == ["ok"] * 5
    assert main(["telemetry", "report", "--data-dir", str(out)]) == 0
    text = capsys.readouterr().out
    assert "day-1 retention" in text and "Bayes limit" in text


def test_cli_reports_bad_arguments_and_bad_data(tmp_path, capsys):
    from mlcourse.cli import main

    assert main(["telemetry", "generate", "--players", "5", "--out", str(tmp_path)]) == 2
    assert "n_players" in capsys.readouterr().err
    assert main(["telemetry", "report", "--data-dir", str(tmp_path / "none")]) == 1
    assert "does not exist" in capsys.readouterr().err


def test_shipped_data_regenerates_byte_for_byte(tmp_path):
    """The full default generation (a few seconds) reproduces datasets/SHA256SUMS exactly."""
    telemetry.write_tables(simulate(SimConfig()), tmp_path)
    shipped = dict(
        reversed(line.split()) for line in (REPO_DATA / "SHA256SUMS").read_text().splitlines()
    )
    regenerated = _digests(tmp_path)
    assert set(regenerated) == set(telemetry.TABLE_FILES.values())
    for name, digest in regenerated.items():
        assert shipped[name] == digest, f"{name} differs from the shipped file"


# ---------------------------------------------------------------------------------------------
# Calibration of the shipped data (through the loaders)
# ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def report():
    return calibration_report(REPO_DATA)


def test_retention_and_payer_rate_are_calibrated(report):
    assert 0.40 <= report["d1_retention"] <= 0.45
    assert 0.15 <= report["d7_retention"] <= 0.20
    assert 0.02 <= report["payer_rate"] <= 0.05


def test_session_counts_are_heavy_tailed(report):
    q = report["sessions_per_player"]
    assert q[1.0] >= 20 * q[0.5]
    assert q[0.99] >= 5 * q[0.5]


def test_daily_activity_decays_like_a_power_law():
    players, events = datasets.load_players(REPO_DATA), datasets.load_events(REPO_DATA)
    sess = events[events["event"] == "session_start"]
    cohort = players.loc[players["install_date"] < pd.Timestamp("2026-03-01", tz="UTC")]
    install = cohort.set_index("player_id")["install_date"].dt.floor("D")
    sess = sess[sess["player_id"].isin(install.index)]
    age = sess["ts"].dt.floor("D").to_numpy() - install.reindex(sess["player_id"]).to_numpy()
    age = age // np.timedelta64(1, "D")
    share = pd.Series(sess["player_id"].to_numpy()).groupby(age).nunique() / len(cohort)
    k = np.arange(1, 61)
    logk, logy = np.log(k), np.log(share.reindex(k).to_numpy())
    slope = np.polyfit(logk, logy, 1)[0]
    assert -1.5 < slope < -0.5
    assert np.corrcoef(logk, logy)[0, 1] ** 2 > 0.9


def test_churn_rate_is_moderate_at_every_snapshot(report):
    rates = [rate for _n, rate in report["churn_by_snapshot"].values()]
    assert len(rates) == len(SimConfig().snapshots)
    assert all(0.3 < r < 0.85 for r in rates)


def test_log_features_reproduce_the_shipped_truth(report):
    # p_churn is written with 6 decimals
    assert report["features_match_truth"] < 1e-6


@pytest.mark.parametrize("setting", ["before the patch", "after the patch"])
def test_boosting_reaches_bayes_limit_and_logistic_regression_does_not(report, setting):
    row = next(r for r in report["churn_models"] if r["setting"] == setting)
    assert row["n_test"] > 3000
    assert row["hist_gradient_boosting"] >= row["bayes_auc"] - 0.02
    assert row["hist_gradient_boosting"] <= row["bayes_auc"] + 0.02  # above would be a leak
    assert row["logistic_regression"] <= row["bayes_auc"] - 0.02
    assert row["logistic_regression"] <= row["hist_gradient_boosting"] - 0.02


def test_patch_causes_visible_drift(report):
    rows = {r["setting"]: r for r in report["churn_models"]}
    drift = next(r for k, r in rows.items() if k.startswith("drift"))
    fresh = rows["after the patch"]["hist_gradient_boosting"]
    assert drift["hist_gradient_boosting"] < fresh - 0.01


def test_payer_task_has_learnable_signal(report):
    assert 0.7 <= report["bayes_auc_payer"] <= 0.9
