"""Time notebook 02 (hierarchical clustering) end to end, and its slowest cells.

Usage::

    python benchmarks/bench_nb02.py            # solutions/02_hierarchical_clustering.ipynb
    python benchmarks/bench_nb02.py --learner  # notebooks/02_hierarchical_clustering.ipynb
    python benchmarks/bench_nb02.py --repeat 3

Prints the wall time of each run (kernel start included, as a learner experiences it with
"Restart and run all"), the median, and the five slowest cells of the last run. The course
budget is 20 s per notebook on a 2-core machine (design §4). Thread counts are pinned the way
the course's tests pin them, so figures are comparable between machines.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
STEM = "02_hierarchical_clustering"
BUDGET_S = 20.0
ENV = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_once(path: Path) -> tuple[float, list[tuple[float, int, str]]]:
    """Execute the notebook in a fresh kernel; return total seconds and per-cell timings."""
    nb = nbformat.read(path, as_version=4)
    cell_times: list[tuple[float, int, str]] = []
    with tempfile.TemporaryDirectory(prefix="bench-nb02-") as tmp:
        client = NotebookClient(nb, timeout=300, kernel_name="python3")
        start = time.perf_counter()
        with client.setup_kernel(env={**os.environ, **ENV}, cwd=tmp):
            for i, cell in enumerate(nb.cells):
                if cell.cell_type != "code":
                    continue
                t = time.perf_counter()
                client.execute_cell(cell, i)
                first = cell.source.strip().splitlines()[0] if cell.source.strip() else ""
                cell_times.append((time.perf_counter() - t, i, first[:60]))
        total = time.perf_counter() - start
    return total, cell_times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learner", action="store_true", help="time the learner edition")
    parser.add_argument("--repeat", type=int, default=1, help="number of runs (default 1)")
    args = parser.parse_args(argv)
    folder = "notebooks" if args.learner else "solutions"
    path = ROOT / folder / f"{STEM}.ipynb"
    if not path.is_file():
        print(f"{path} does not exist; write the solution notebook or run `mlcourse release`")
        return 1
    totals = []
    cells: list[tuple[float, int, str]] = []
    for k in range(max(1, args.repeat)):
        cpu = _children_cpu()
        total, cells = run_once(path)
        # CPU seconds of the finished kernel: close to the wall time on an idle machine,
        # and unlike the wall time not inflated by other work on a shared one
        cpu = _children_cpu() - cpu
        totals.append(total)
        load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
        print(
            f"run {k + 1}: {total:6.2f} s  ({folder}/{path.name}, {os.cpu_count()} CPUs, "
            f"load average {load:.1f} at the end: other work on the machine slows this down)"
        )
        print(f"       kernel CPU time (user + system): {cpu:6.2f} s")
    median = statistics.median(totals)
    verdict = "OK" if median <= BUDGET_S else "OVER"
    print(f"median: {median:.2f} s (budget {BUDGET_S:.0f} s) -> {verdict}")
    print("slowest cells of the last run:")
    for secs, idx, first in sorted(cells, reverse=True)[:5]:
        print(f"  cell {idx:3d}: {secs:5.2f} s  {first}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
