"""Throughput of the point-in-time churn features and labels (mlcourse.churn).

Goal (issue 6): a 1,000,000-event log in <= 2 s on 2 cores. Prints the figures; asserts nothing.

    python benchmarks/bench_churn_features.py [--repeat 3]

Uses a ~1M-event toy log (``mlcourse.churn.toy_log``) so it runs without the shipped data, and
the shipped Lumen Isles log as well when ``datasets/`` has it.
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("OMP_NUM_THREADS", "2")

import pandas as pd  # noqa: E402

from mlcourse.churn import build_dataset, build_features, label_churn, toy_log  # noqa: E402


def best_of(repeat: int, fn) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def report(name: str, events: pd.DataFrame, players: pd.DataFrame, snapshots, repeat: int):
    n = len(events)
    mid = snapshots[len(snapshots) // 2]
    t_feat = best_of(repeat, lambda: build_features(events, players, mid))
    t_lab = best_of(repeat, lambda: label_churn(events, players, mid))
    t_all = best_of(1, lambda: build_dataset(events, players, snapshots))
    print(f"{name}: {n:,} events, {len(players):,} players")
    print(
        f"  build_features, one snapshot : {t_feat:6.3f} s  ({n / t_feat / 1e6:5.2f} M events/s)"
        f"  goal <= 2 s per 1M events: {'OK' if t_feat * 1e6 / n <= 2 else 'MISSED'}"
    )
    print(f"  label_churn, one snapshot    : {t_lab:6.3f} s  ({n / t_lab / 1e6:5.2f} M events/s)")
    print(f"  build_dataset, {len(snapshots)} snapshots  : {t_all:6.3f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="best of this many runs")
    args = parser.parse_args()
    events, players = toy_log(n_players=20_000, days=90, seed=0)
    snaps = [f"2026-0{m}-{d:02d}" for m, d in [(2, 1), (2, 15), (3, 1)]]
    report("toy log", events, players, snaps, args.repeat)
    try:
        from mlcourse.datasets import load_churn_truth, load_events, load_players

        t = time.perf_counter()
        events, players = load_events(), load_players()
        snaps = sorted(load_churn_truth()["snapshot"].unique())
        print(f"(loading the shipped tables took {time.perf_counter() - t:.2f} s)")
    except Exception as exc:  # noqa: BLE001 - the shipped data is optional here
        print(f"shipped data not measured: {exc}")
        return
    report("shipped Lumen Isles log", events, players, snaps, args.repeat)


if __name__ == "__main__":
    main()
