"""Benchmark: time to generate the shipped data and to load every table.

Run ``python benchmarks/bench_data.py``. Targets: full generation <= 60 s on 2 cores, loading every
table <= 3 s. Generation writes into a temporary directory (the shipped files are not touched)
and checks that the result is byte-identical to ``datasets/SHA256SUMS``.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from mlcourse import datasets, telemetry

REPO_DATA = Path(__file__).resolve().parents[1] / "datasets"


def _load_average() -> str:
    try:
        return f"{os.getloadavg()[0]:.1f}"
    except OSError:
        return "n/a"


def bench_generate() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        result = telemetry.simulate(telemetry.SimConfig())
        t1 = time.perf_counter()
        telemetry.write_tables(result, tmp)
        t2 = time.perf_counter()
        fresh = (Path(tmp) / "SHA256SUMS").read_text().splitlines()
    shipped = set((REPO_DATA / "SHA256SUMS").read_text().splitlines())
    identical = all(line in shipped for line in fresh)
    print(
        f"generate: simulate {t1 - t0:5.2f} s + write {t2 - t1:5.2f} s = {t2 - t0:5.2f} s "
        f"(target <= 60 s); {len(result.events):,} events; "
        f"byte-identical to shipped: {identical}"
    )


def bench_load() -> None:
    loaders = {
        "players": datasets.load_players,
        "events": datasets.load_events,
        "churn_truth": datasets.load_churn_truth,
        "payer_truth": datasets.load_payer_truth,
        "penguins": datasets.load_penguins,
    }
    for label in ("first load (checksums computed)", "repeat load (checksums cached)"):
        if label.startswith("first"):
            datasets._HASH_CACHE.clear()
        total = 0.0
        parts = []
        cpu0 = time.process_time()
        for name, load in loaders.items():
            t0 = time.perf_counter()
            load(REPO_DATA)
            dt = time.perf_counter() - t0
            total += dt
            parts.append(f"{name} {dt:.2f}")
        cpu = time.process_time() - cpu0
        print(
            f"load, {label}: {total:5.2f} s wall, {cpu:5.2f} s CPU (target <= 3 s): "
            + ", ".join(parts)
        )


if __name__ == "__main__":
    print(f"{os.cpu_count()} CPUs, load average {_load_average()} (other work slows the figures)")
    bench_load()
    bench_generate()
