"""Time notebook 01 (categorical encoding) end to end, and its slowest cells.

Usage::

    python benchmarks/bench_nb01.py            # solutions/01_categorical_encoding.ipynb
    python benchmarks/bench_nb01.py --learner  # notebooks/01_categorical_encoding.ipynb
    python benchmarks/bench_nb01.py --repeat 3

Prints the wall time of each run (kernel start included, as a learner experiences it with
"Restart and run all") and the kernel's CPU time (a better guide on a machine busy with other
work: the notebook is single-threaded, so on an idle machine wall time is about CPU time plus
kernel start), the median, and the five slowest cells of the last run. The course
budget is 20 s per notebook on a 2-core machine (design §4). Thread counts are pinned the way
the course's tests pin them, so figures are comparable between machines.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
STEM = "01_categorical_encoding"
BUDGET_S = 20.0
ENV = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def run_once(path: Path) -> tuple[float, float, list[tuple[float, int, str]]]:
    """Execute the notebook in a fresh kernel.

    Returns wall seconds (kernel start included), the kernel's CPU seconds (user + system,
    which a busy machine inflates far less than wall time) and per-cell wall timings.
    """
    nb = nbformat.read(path, as_version=4)
    cell_times: list[tuple[float, int, str]] = []
    with tempfile.TemporaryDirectory(prefix="bench-nb01-") as tmp:
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
            probe = nbformat.v4.new_code_cell(
                "import os as _o\n_t = _o.times()\nprint(_t.user + _t.system)"
            )
            nb.cells.append(probe)
            client.execute_cell(probe, len(nb.cells) - 1)
            cpu = float(probe.outputs[0]["text"])
    return total, cpu, cell_times


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
        total, cpu, cells = run_once(path)
        totals.append(total)
        load = os.getloadavg()[0]
        print(
            f"run {k + 1}: {total:6.2f} s wall, {cpu:6.2f} s kernel CPU  ({folder}/{path.name}, "
            f"{os.cpu_count()} CPUs, load average {load:.1f})"
        )
    median = statistics.median(totals)
    verdict = "OK" if median <= BUDGET_S else "OVER"
    print(f"median: {median:.2f} s (budget {BUDGET_S:.0f} s) -> {verdict}")
    print("slowest cells of the last run:")
    for secs, idx, first in sorted(cells, reverse=True)[:5]:
        print(f"  cell {idx:3d}: {secs:5.2f} s  {first}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
