"""Run every ``benchmarks/bench_*.py`` script in turn and print its figures.

Usage: ``python -m benchmarks [NAME ...]`` where NAME filters scripts by substring.

Every ``bench_*.py`` here is found by that pattern; among them ``bench_suite`` runs the
whole test suite as ``make test`` does and prints its time per test module
(``python -m benchmarks suite`` runs it alone).
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv: list[str]) -> int:
    scripts = sorted(HERE.glob("bench_*.py"))
    if argv:
        scripts = [s for s in scripts if any(a in s.stem for a in argv)]
    failed = []
    for script in scripts:
        print(f"\n=== {script.stem} ===", flush=True)
        t0 = time.perf_counter()
        res = subprocess.run([sys.executable, str(script)], cwd=HERE.parent)
        print(f"({script.stem} took {time.perf_counter() - t0:.1f} s)", flush=True)
        if res.returncode:
            failed.append(script.stem)
    if failed:
        print(f"\nfailed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
