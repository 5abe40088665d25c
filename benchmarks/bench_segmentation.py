"""Scalable segmentation (MicroClusterSegmenter) on 200,000 players vs scipy and fastcluster.

Goal (issue 5): segment 200,000 players in < 30 s and < 1 GB, where full agglomerative
clustering needs the n(n-1)/2 distances (about 160 GB). Prints the figures; asserts nothing.

    python benchmarks/bench_segmentation.py [--players 200000] [--full-n 2500 5000 10000]
                                            [--fastcluster-n 10000 20000 40000]

Players are synthetic but shaped like the notebook's behaviour features (seven heavy-tailed
counts and a mostly-zero spend in cents from five latent kinds of players), prepared the same
way (log1p, standardise), so the benchmark needs no shipped data. Every measurement runs in a
fresh Python process: peak memory is the larger of the growth of the process's high-water
mark (VmHWM) over its resident size just before the measured call and the peak traced by
``tracemalloc`` (which sees NumPy's allocations), so imports and the input data are not
counted; the whole process's peak is printed as well.
Full linkage is measured on feasible sizes; its time and memory at the full player count are
extrapolated as O(n^2). ``fastcluster.linkage_vector(X, "ward")`` (Muellner 2011) computes the
same exact tree without the n(n-1)/2 distances: memory O(n), time still O(n^2), so it is
measured on larger sizes and its time extrapolated as O(n^2). Agreement is the adjusted Rand
index (ARI) with scipy's full Ward on a subsample where all of them run.

Threads: OMP_NUM_THREADS defaults to 1. On a busy 2-core machine OpenMP's spinning threads
made MiniBatchKMeans about 7x slower with 2 threads than with 1; set OMP_NUM_THREADS=2 on an
idle machine to compare.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import tracemalloc

os.environ.setdefault("OMP_NUM_THREADS", "1")  # see the module docstring

import numpy as np  # noqa: E402

N_CLUSTERS = 5


def players(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Prepared features (log1p + standardised) of ``n`` synthetic players and their kind."""
    rng = np.random.default_rng(seed)
    #  active days, sessions/day, recency, levels, ads, invites, spend in cents
    kinds = np.array(
        [
            [1.5, 1.0, 18, 3, 1, 0.0, 0],  # drifting away
            [5, 1.2, 5, 15, 3, 0.05, 0],  # casual regulars
            [18, 2.0, 1, 120, 10, 1.5, 0],  # core players
            [10, 1.5, 2, 40, 2, 0.3, 900],  # spenders
            [7, 1.5, 2, 25, 60, 0.1, 0],  # ad watchers
        ]
    )
    share = np.array([0.35, 0.3, 0.17, 0.03, 0.15])
    kind = rng.choice(len(kinds), size=n, p=share)
    mean = kinds[kind]
    X = np.column_stack(
        [
            np.clip(rng.poisson(mean[:, 0]), 1, 28),
            1 + rng.gamma(8, (mean[:, 1] - 0.9) / 8 + 0.01),
            np.clip(rng.gamma(4, mean[:, 2] / 4), 0, 28),
            rng.negative_binomial(6, 6 / (6 + mean[:, 3])),
            rng.negative_binomial(6, 6 / (6 + mean[:, 4])),
            rng.poisson(mean[:, 5]),
            np.where(mean[:, 6] > 0, rng.choice([199, 499, 999, 1999], n), 0),
        ]
    ).astype(float)
    X = np.log1p(X)
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    return X, kind


def _rss_kb(field: str) -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field):
                return int(line.split()[1])
    return 0


def _reset_peak() -> None:
    # Linux >= 4.0: writing 5 to clear_refs resets VmHWM to the current RSS
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
    except OSError:
        pass


def worker(kind: str, n: int, players_total: int) -> dict:
    """One measurement, run in a fresh process; returns time, peak memory and labels."""
    from scipy.cluster import hierarchy

    from mlcourse.clustering import MicroClusterSegmenter

    X, truth = players(players_total)
    sub = np.random.default_rng(1).choice(players_total, size=min(n, players_total), replace=False)
    X_sub = X[np.sort(sub)]
    _reset_peak()
    before = _rss_kb("VmRSS:")
    tracemalloc.start()
    t = time.perf_counter()
    if kind == "segmenter":
        seg = MicroClusterSegmenter(n_clusters=N_CLUSTERS, n_micro=200, random_state=0).fit(X)
        labels = seg.predict(X_sub)
        fit_labels = seg.labels_
    elif kind == "fastcluster":
        import fastcluster

        Z = fastcluster.linkage_vector(X_sub, method="ward")
        labels = hierarchy.fcluster(Z, N_CLUSTERS, criterion="maxclust")
        fit_labels = labels
    elif kind == "segmenter_sub":
        labels = MicroClusterSegmenter(n_clusters=N_CLUSTERS, random_state=0).fit(X_sub).labels_
        fit_labels = labels
    else:
        Z = hierarchy.linkage(X_sub, method="ward")
        labels = hierarchy.fcluster(Z, N_CLUSTERS, criterion="maxclust")
        fit_labels = labels
    seconds = time.perf_counter() - t
    traced_kb = tracemalloc.get_traced_memory()[1] / 1024
    tracemalloc.stop()
    # RSS growth misses memory the allocator reuses; tracemalloc misses non-NumPy C buffers
    peak = max(_rss_kb("VmHWM:") - before, traced_kb)
    from sklearn.metrics import adjusted_rand_score

    truth_fit = truth if kind == "segmenter" else truth[np.sort(sub)]
    return {
        "seconds": seconds,
        "peak_mb": peak / 1024,
        "process_peak_mb": _rss_kb("VmHWM:") / 1024,
        "labels_sub": labels.tolist(),
        "ari_truth": adjusted_rand_score(truth_fit, fit_labels),
    }


def run_worker(kind: str, n: int, players_total: int) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--worker", kind, str(n), str(players_total)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--players", type=int, default=200_000)
    parser.add_argument("--full-n", type=int, nargs="+", default=[2_500, 5_000, 10_000])
    parser.add_argument("--fastcluster-n", type=int, nargs="+", default=[10_000, 20_000, 40_000])
    parser.add_argument("--worker", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        kind, n, total = args.worker[0], int(args.worker[1]), int(args.worker[2])
        print(json.dumps(worker(kind, n, total)))
        return

    from sklearn.metrics import adjusted_rand_score

    from mlcourse.clustering import condensed_memory_bytes

    N = args.players
    n_agree = max(args.full_n)
    print(
        f"{N:,} synthetic players, 7 features, {N_CLUSTERS} segments, OMP_NUM_THREADS="
        f"{os.environ['OMP_NUM_THREADS']}"
    )
    seg = run_worker("segmenter", n_agree, N)
    print(f"\nMicroClusterSegmenter (200 micro-clusters) on {N:,} players:")
    print(
        f"  fit + predict : {seg['seconds']:6.2f} s    goal < 30 s : "
        f"{'OK' if seg['seconds'] < 30 else 'MISSED'}"
    )
    print(
        f"  peak memory   : {seg['peak_mb']:6.0f} MB   goal < 1 GB : "
        f"{'OK' if seg['peak_mb'] < 1024 else 'MISSED'}"
    )
    print(
        f"  (whole process incl. Python, libraries and the input data: "
        f"{seg['process_peak_mb']:.0f} MB)"
    )
    print(f"  ARI with the latent player kinds: {seg['ari_truth']:.3f}")

    print("\nscipy.cluster.hierarchy.linkage(X, 'ward') (full linkage):")
    print(f"  {'n':>8} {'time s':>8} {'peak MB':>9} {'condensed MB':>13}")
    full = {}
    for n in args.full_n:
        full[n] = run_worker("full", n, N)
        print(
            f"  {n:>8,} {full[n]['seconds']:8.2f} {full[n]['peak_mb']:9.0f} "
            f"{condensed_memory_bytes(n) / 2**20:13.0f}"
        )
    n_big = max(full)
    scale = (N / n_big) ** 2
    print(f"  extrapolated to {N:,} players (O(n^2) from n = {n_big:,}):")
    print(f"    condensed distances alone: {condensed_memory_bytes(N) / 1e9:8.1f} GB")
    print(f"    peak memory              : {full[n_big]['peak_mb'] * scale / 1024:8.1f} GB")
    print(f"    time (at least)          : {full[n_big]['seconds'] * scale / 3600:8.1f} h")

    print("\nfastcluster.linkage_vector(X, 'ward') (exact Ward, no distance matrix):")
    print(f"  {'n':>8} {'time s':>8} {'peak MB':>9} {'condensed MB':>13}")
    fast = {}
    for n in sorted(set(args.fastcluster_n) | {n_agree}):
        fast[n] = run_worker("fastcluster", n, N)
        print(
            f"  {n:>8,} {fast[n]['seconds']:8.2f} {fast[n]['peak_mb']:9.0f} "
            f"{condensed_memory_bytes(n) / 2**20:13.0f}"
        )
    n_fast = max(fast)
    scale_fast = (N / n_fast) ** 2
    print(f"  extrapolated to {N:,} players (time O(n^2) from n = {n_fast:,}, memory O(n)):")
    print(f"    peak memory              : {fast[n_fast]['peak_mb'] * N / n_fast:8.0f} MB")
    print(f"    time                     : {fast[n_fast]['seconds'] * scale_fast / 60:8.1f} min")

    sub_fit = run_worker("segmenter_sub", n_agree, N)
    ref = full[n_agree]["labels_sub"]
    print(f"\nagreement with full Ward on the same {n_agree:,} players (ARI):")
    print(
        f"  segmenter fitted on all {N:,}, predicting them : "
        f"{adjusted_rand_score(ref, seg['labels_sub']):.3f}"
    )
    print(
        f"  segmenter fitted on those {n_agree:,} players        : "
        f"{adjusted_rand_score(ref, sub_fit['labels_sub']):.3f}"
    )
    print(
        f"  fastcluster's Ward on those players               : "
        f"{adjusted_rand_score(ref, fast[n_agree]['labels_sub']):.3f}"
    )
    print(f"  full Ward with the latent kinds                  : {full[n_agree]['ari_truth']:.3f}")


if __name__ == "__main__":
    main()
