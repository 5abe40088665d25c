"""How long mutation testing of the checkers takes (``make mutants``), and its throughput.

Runs the whole analysis (every notebook, ``--jobs 2``, the default caps) and prints its wall
time, the number of mutants run and mutants per second, then the per-notebook times. Goal:
under 10 minutes on 2 cores (issue 10).

Usage: ``python benchmarks/bench_mutants.py [STEM ...] [--jobs N] [--report]``
"""

from __future__ import annotations

import argparse
import sys
import time

from mlcourse import mutants


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("stems", nargs="*")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--report", action="store_true", help="print the full report too")
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    plans = mutants.plan(args.stems)
    t_plan = time.perf_counter() - t0
    results = mutants.run_plans(plans, jobs=args.jobs)
    wall = time.perf_counter() - t0
    text, killed, total, _ = mutants.report(results)
    if args.report:
        print(text)
    run = sum(len(ex.mutants) for nbr in results for ex in nbr.exercises)
    print(f"planning (parse, generate, select): {t_plan:.1f} s")
    for nbr in results:
        n = sum(len(ex.mutants) for ex in nbr.exercises)
        print(
            f"  {nbr.stem:30s} {n:4d} mutants  kernel {nbr.kernel_seconds:6.1f} s  "
            f"total {nbr.seconds:6.1f} s"
        )
    print(f"mutants run: {run} ({killed} killed of {total} counted)")
    print(f"wall time: {wall:.1f} s with --jobs {args.jobs} (goal: under 600 s on 2 cores)")
    print(f"throughput: {run / wall:.2f} mutants/s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
