"""Time every course notebook end to end, its slowest cells, and the whole course.

Usage::

    python benchmarks/bench_notebooks.py                      # every solutions/*.ipynb
    python benchmarks/bench_notebooks.py 01 03                # only these (stem prefixes)
    python benchmarks/bench_notebooks.py --learner            # the learner editions
    python benchmarks/bench_notebooks.py --repeat 3

Prints, per notebook, the wall time of each run (kernel start included, as a learner
experiences "Restart and run all") and the kernel's CPU time (a better guide on a machine busy
with other work: the notebooks are single-threaded, so on an idle machine wall time is about
CPU time plus kernel start), the median against the 15 s budget, and the slowest cells; then
the whole sequence of notebooks against its 75 s budget (design §4, issue 22). Thread counts
are pinned the way the tests pin them, so figures are comparable between machines.
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
NOTEBOOK_BUDGET_S = 15.0
COURSE_BUDGET_S = 75.0
ENV = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def run_once(path: Path) -> tuple[float, float, list[tuple[float, int, str]]]:
    """Execute the notebook in a fresh kernel.

    Returns wall seconds (kernel start included), the kernel's CPU seconds (user + system)
    and per-cell wall timings ``(seconds, cell index, first line)``.
    """
    nb = nbformat.read(path, as_version=4)
    cell_times: list[tuple[float, int, str]] = []
    with tempfile.TemporaryDirectory(prefix="bench-notebook-") as tmp:
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
    parser.add_argument("only", nargs="*", help="notebook stem prefixes, e.g. 01 03")
    parser.add_argument("--learner", action="store_true", help="time the learner editions")
    parser.add_argument("--repeat", type=int, default=1, help="runs per notebook (default 1)")
    parser.add_argument("--slowest", type=int, default=3, help="slowest cells to list")
    args = parser.parse_args(argv)
    folder = "notebooks" if args.learner else "solutions"
    paths = sorted((ROOT / folder).glob("*.ipynb"))
    if args.only:
        only = [o.zfill(2) if o.isdigit() else o for o in args.only]  # "1" means "01"
        paths = [p for p in paths if any(p.stem.startswith(o) for o in only)]
    if not paths:
        print(f"no notebooks to time in {folder}/ (filter: {args.only or 'none'})")
        return 1
    medians: dict[str, float] = {}
    for path in paths:
        totals, cells = [], []
        for k in range(max(1, args.repeat)):
            total, cpu, cells = run_once(path)
            totals.append(total)
            print(
                f"{path.stem}: run {k + 1}: {total:6.2f} s wall, {cpu:6.2f} s kernel CPU "
                f"(load average {os.getloadavg()[0]:.1f})"
            )
        medians[path.stem] = median = statistics.median(totals)
        verdict = "OK" if median <= NOTEBOOK_BUDGET_S else "OVER"
        print(f"  median {median:.2f} s (budget {NOTEBOOK_BUDGET_S:.0f} s) -> {verdict}")
        for secs, idx, first in sorted(cells, reverse=True)[: args.slowest]:
            print(f"    cell {idx:3d}: {secs:5.2f} s  {first}")
    course = sum(medians.values())
    if len(medians) > 1:
        verdict = "OK" if course <= COURSE_BUDGET_S else "OVER"
        print(
            f"whole course ({len(medians)} notebooks, {os.cpu_count()} CPUs): {course:.1f} s "
            f"(budget {COURSE_BUDGET_S:.0f} s) -> {verdict}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
