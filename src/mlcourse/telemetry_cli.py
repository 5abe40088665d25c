"""``mlcourse telemetry generate`` and ``mlcourse telemetry report``.

``generate`` runs the simulator and writes the tables, ``penguins.csv`` and ``SHA256SUMS``
(the defaults rebuild the shipped ``datasets/`` byte for byte). ``report`` prints the
calibration figures of a data directory and the Bayes-optimal AUC of both tasks beside the test
AUC of a logistic regression and a gradient-boosting model on the point-in-time churn features.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from mlcourse import churn, datasets, telemetry

#: fixed models of the report (seeds and settings fixed so the figures are reproducible)
HGB_PARAMS = {
    "learning_rate": 0.05,
    "max_iter": 250,
    "max_leaf_nodes": 8,
    "early_stopping": False,
    "random_state": 0,
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    gen = sub.add_parser("generate", help="simulate the data and write it (default: datasets/)")
    gen.add_argument(
        "--seed",
        type=int,
        default=telemetry.SimConfig.seed,
        help="random seed (default: %(default)s, the shipped data)",
    )
    gen.add_argument(
        "--players",
        type=int,
        default=telemetry.SimConfig.n_players,
        help="number of players (default: %(default)s)",
    )
    gen.add_argument(
        "--out",
        type=Path,
        default=None,
        help="output directory (default: the repository's datasets/)",
    )
    rep = sub.add_parser("report", help="print calibration figures and model-vs-Bayes AUCs")
    rep.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="data directory (default: $MLCOURSE_DATA_DIR or datasets/)",
    )


def run(args: argparse.Namespace) -> int:
    if args.action == "generate":
        return _generate(args)
    return _report(args)


def _generate(args: argparse.Namespace) -> int:
    out = args.out if args.out is not None else datasets.course_root() / "datasets"
    try:
        cfg = telemetry.SimConfig(n_players=args.players, seed=args.seed)
    except ValueError as exc:
        print(f"mlcourse telemetry generate: {exc}", file=sys.stderr)
        return 2
    t0 = time.perf_counter()
    result = telemetry.simulate(cfg)
    t1 = time.perf_counter()
    penguins = Path(out) / "penguins.csv"
    if not penguins.exists():
        shipped = datasets.course_root() / "datasets" / "penguins.csv"
        penguins = shipped if shipped.exists() else None
    written = telemetry.write_tables(result, out, penguins_from=penguins)
    heldout = telemetry.write_heldout(Path(out) / "heldout", cfg.seed)
    written.update({f"heldout/{k}": v for k, v in heldout.items()})
    t2 = time.perf_counter()
    for name, path in written.items():
        print(f"{name:20s} {path}  ({path.stat().st_size / 1e6:.2f} MB)")
    print(
        f"simulated {cfg.n_players} players, {len(result.events)} events in {t1 - t0:.1f} s; "
        f"wrote in {t2 - t1:.1f} s"
    )
    return 0


# ---------------------------------------------------------------------------------------------
# The report
# ---------------------------------------------------------------------------------------------
def churn_feature_table(
    players: pd.DataFrame, events: pd.DataFrame, churn_truth: pd.DataFrame
) -> pd.DataFrame:
    """Point-in-time features of every labelled (player, snapshot), with the truth columns."""
    parts = []
    for snap, truth in churn_truth.groupby("snapshot", sort=True):
        feats = churn.build_features(events, players, snap).drop(columns="snapshot")
        feats = feats.merge(truth, on="player_id", validate="one_to_one")
        parts.append(feats)
    table = pd.concat(parts, ignore_index=True)
    for col in ("platform", "difficulty"):
        table[col] = table[col].astype(players[col].dtype)
    return table


def _models():
    from sklearn.compose import make_column_transformer
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    logreg = make_pipeline(
        make_column_transformer(
            (StandardScaler(), list(telemetry.NUMERIC_FEATURES)),
            (OneHotEncoder(handle_unknown="ignore"), ["platform", "difficulty"]),
        ),
        LogisticRegression(max_iter=2000),
    )
    hgb = HistGradientBoostingClassifier(categorical_features="from_dtype", **HGB_PARAMS)
    return {"logistic_regression": logreg, "hist_gradient_boosting": hgb}


def churn_benchmarks(table: pd.DataFrame, patch_date=telemetry.SimConfig.patch_date) -> list[dict]:
    """Train on earlier snapshots, test on a later one; both sides of the patch, and the drift.

    Returns one dict per setting with the test snapshot, sizes, the Bayes-optimal AUC of the
    test rows, the AUC of the true probabilities on the realised labels, and each model's AUC.
    """
    from sklearn.metrics import roc_auc_score
    from threadpoolctl import threadpool_limits

    snaps = sorted(table["snapshot"].unique())
    patch = pd.Timestamp(patch_date, tz="UTC")
    pre = [s for s in snaps if s < patch]
    post = [s for s in snaps if s >= patch]
    settings = []
    if len(pre) >= 2:
        settings.append(("before the patch", pre[:-1], pre[-1]))
    if len(post) >= 2:
        settings.append(("after the patch", post[:-1], post[-1]))
    if len(pre) >= 2 and post:
        settings.append(("drift: pre-patch model on the last snapshot", pre[:-1], snaps[-1]))
    cols = list(telemetry.FEATURE_COLUMNS)
    rows = []
    with threadpool_limits(limits=1):
        for label, train_snaps, test_snap in settings:
            train = table[table["snapshot"].isin(train_snaps)]
            test = table[table["snapshot"] == test_snap]
            row = {
                "setting": label,
                "train_snapshots": [s.date().isoformat() for s in train_snaps],
                "test_snapshot": test_snap.date().isoformat(),
                "n_train": len(train),
                "n_test": len(test),
                "bayes_auc": telemetry.bayes_auc(test["p_churn"].to_numpy()),
                "true_p_auc": float(roc_auc_score(test["churned"], test["p_churn"])),
            }
            for name, model in _models().items():
                model.fit(train[cols], train["churned"])
                score = model.predict_proba(test[cols])[:, 1]
                row[name] = float(roc_auc_score(test["churned"], score))
            rows.append(row)
    return rows


def calibration_report(data_dir: str | Path | None = None) -> dict:
    """All figures of ``mlcourse telemetry report`` as a dict (used by the tests)."""
    players = datasets.load_players(data_dir)
    events = datasets.load_events(data_dir)
    churn = datasets.load_churn_truth(data_dir)
    payer = datasets.load_payer_truth(data_dir)
    last_day = events["ts"].max().normalize() + pd.Timedelta(days=1)
    per_snapshot = churn.groupby("snapshot").agg(
        labelled=("churned", "size"), churn_rate=("churned", "mean")
    )
    sessions = (events["event"] == "session_start").groupby(events["player_id"]).sum()
    table = churn_feature_table(players, events, churn)
    return {
        "n_players": len(players),
        "n_events": len(events),
        "time_span": (events["ts"].min().isoformat(), events["ts"].max().isoformat()),
        "d1_retention": telemetry.retention(players, events, 1, last_day),
        "d7_retention": telemetry.retention(players, events, 7, last_day),
        "payer_rate": float(payer["is_payer"].mean()),
        "sessions_per_player": {q: float(sessions.quantile(q)) for q in (0.5, 0.9, 0.99, 1.0)},
        "churn_by_snapshot": {
            s.date().isoformat(): (int(r.labelled), float(r.churn_rate))
            for s, r in per_snapshot.iterrows()
        },
        "bayes_auc_payer": telemetry.bayes_auc(payer["p_payer"].to_numpy()),
        "bayes_auc_churn_all": telemetry.bayes_auc(churn["p_churn"].to_numpy()),
        "churn_models": churn_benchmarks(table),
        "features_match_truth": float(
            np.max(
                np.abs(telemetry._sigmoid(telemetry.churn_logit_table(table)) - table["p_churn"])
            )
        ),
    }


def _report(args: argparse.Namespace) -> int:
    try:
        rep = calibration_report(args.data_dir)
    except datasets.DataError as exc:
        print(f"mlcourse telemetry report: {exc}", file=sys.stderr)
        return 1
    print(
        f"Lumen Isles data: {rep['n_players']} players, {rep['n_events']} events, "
        f"{rep['time_span'][0]} to {rep['time_span'][1]}"
    )
    print(f"day-1 retention  {rep['d1_retention']:6.1%}   (target 40-45 %)")
    print(f"day-7 retention  {rep['d7_retention']:6.1%}   (target 15-20 %)")
    print(f"payers           {rep['payer_rate']:6.1%}   (target 2-5 %; purchase within 7 days)")
    q = rep["sessions_per_player"]
    print(
        f"sessions/player  median {q[0.5]:.0f}, 90 % {q[0.9]:.0f}, 99 % {q[0.99]:.0f}, "
        f"max {q[1.0]:.0f}"
    )
    print("churn at each snapshot (labelled players, churn rate):")
    for snap, (n, rate) in rep["churn_by_snapshot"].items():
        print(f"  {snap}  {n:6d}  {rate:6.1%}")
    print(f"Bayes-optimal AUC, payer task (all players): {rep['bayes_auc_payer']:.4f}")
    print(f"Bayes-optimal AUC, churn task (all labelled rows): {rep['bayes_auc_churn_all']:.4f}")
    print("churn models on point-in-time features (test AUC):")
    for row in rep["churn_models"]:
        print(
            f"  {row['setting']}: train {row['train_snapshots'][0]}..{row['train_snapshots'][-1]}"
            f" ({row['n_train']} rows), test {row['test_snapshot']} ({row['n_test']} rows)"
        )
        print(
            f"    Bayes limit {row['bayes_auc']:.4f} | true p on these labels "
            f"{row['true_p_auc']:.4f} | logistic regression {row['logistic_regression']:.4f}"
            f" | gradient boosting {row['hist_gradient_boosting']:.4f}"
        )
    print(
        f"features rebuilt from the log reproduce p_churn to within "
        f"{rep['features_match_truth']:.1e}"
    )
    return 0
