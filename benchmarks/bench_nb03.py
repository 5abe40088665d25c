"""Run time of notebook 03 (churn prediction), solution edition, end to end with nbclient.

Budget (design §4): <= 20 s on a 2-core machine. Prints the figures; asserts nothing.

    python benchmarks/bench_nb03.py [--repeat 2] [--slowest 5]

Each run starts a fresh kernel; the kernel start-up is timed separately from the cells.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "solutions" / "03_churn_prediction.ipynb"
BUDGET_S = 20.0


def _cell_seconds(cell) -> float:
    t = cell.metadata.get("execution", {})
    try:
        start = dt.datetime.fromisoformat(t["iopub.execute_input"].replace("Z", "+00:00"))
        end = dt.datetime.fromisoformat(t["shell.execute_reply"].replace("Z", "+00:00"))
    except (KeyError, ValueError):
        return float("nan")
    return (end - start).total_seconds()


def run_once() -> tuple[float, float, float, list[tuple[float, int, str]]]:
    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = NotebookClient(
        nb,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOK.parent)}},
    )
    client.record_timing = True
    t0 = time.perf_counter()
    with client.setup_kernel():
        t1 = time.perf_counter()
        for index, cell in enumerate(nb.cells):
            client.execute_cell(cell, index)
        t2 = time.perf_counter()
        # CPU seconds the kernel spent: close to the wall time on an idle machine, and much
        # less sensitive than wall time to other jobs sharing the cores
        probe = nbformat.v4.new_code_cell(
            "import resource as _r; _u = _r.getrusage(_r.RUSAGE_SELF); "
            "print(_u.ru_utime + _u.ru_stime)"
        )
        nb.cells.append(probe)
        client.execute_cell(probe, len(nb.cells) - 1)
        cpu = float(probe.outputs[0]["text"])
        nb.cells.pop()
    cells = [
        (_cell_seconds(c), i, c.source.splitlines()[0][:60] if c.source else "")
        for i, c in enumerate(nb.cells)
        if c.cell_type == "code"
    ]
    return t1 - t0, t2 - t1, cpu, cells


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=2, help="number of fresh-kernel runs")
    parser.add_argument("--slowest", type=int, default=5, help="list this many slowest cells")
    args = parser.parse_args()
    print(
        f"notebook: {NOTEBOOK.relative_to(ROOT)}  (cores visible: {os.cpu_count()}, "
        f"load average: {', '.join(f'{x:.1f}' for x in os.getloadavg())})"
    )
    totals = []
    for k in range(args.repeat):
        start, cells_s, cpu, cells = run_once()
        totals.append(cells_s)
        print(
            f"run {k + 1}: kernel start {start:5.1f} s, cells {cells_s:5.1f} s, "
            f"total {start + cells_s:5.1f} s; kernel CPU time {cpu:5.1f} s"
        )
    best = min(totals)
    verdict = "OK" if best <= BUDGET_S else "OVER BUDGET"
    print(f"best cells time {best:.1f} s (budget {BUDGET_S:.0f} s): {verdict}")
    print("slowest cells of the last run:")
    for seconds, index, first in sorted(cells, reverse=True)[: args.slowest]:
        print(f"  {seconds:5.2f} s  cell {index:2d}: {first}")


if __name__ == "__main__":
    main()
