"""Time of the test suite (``make test``) per test module, so growth is seen before it hurts.

Runs the suite as ``make test`` does (``pytest -n 2 --dist loadgroup``) with a JUnit XML
report, then prints, per test module, the number of tests and their summed time (setup, call
and teardown: worker-seconds, so a module-scoped kernel counts where it starts), sorted, the
slowest test of each, the total and the wall time. Budget (issue 27): ``make test`` at most
8 minutes on 2 idle cores.

Usage::

    python benchmarks/bench_suite.py                  # run the whole suite, then the table
    python benchmarks/bench_suite.py tests/test_x.py  # extra arguments go to pytest
    python benchmarks/bench_suite.py --keep run.xml   # and keep the JUnit XML report
    python benchmarks/bench_suite.py --report run.xml # no run: read a --junitxml report
    python benchmarks/bench_suite.py --report durations.txt  # or --durations=0 output
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
#: ``make test``'s budget on 2 idle cores, in seconds
BUDGET = 8 * 60
#: one line of pytest's ``--durations`` table: ``12.34s call     tests/test_x.py::test_y[a]``
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)s\s+(setup|call|teardown)\s+(\S+?\.py)::(.+?)\s*$")


@dataclass
class ModuleTime:
    """The tests of one module: their count, summed seconds and the slowest of them."""

    module: str
    seconds: float = 0.0
    tests: set[str] = field(default_factory=set)
    slowest: tuple[float, str] = (0.0, "")

    def add(self, test: str, seconds: float) -> None:
        self.seconds += seconds
        self.tests.add(test)
        if seconds > self.slowest[0]:
            self.slowest = (seconds, test)


def _module_of(classname: str, file: str | None) -> str:
    """``tests/grading/test_x.py`` from a JUnit ``file`` or a dotted ``classname``.

    A classname may end with test classes (``tests.test_x.TestY``): drop trailing parts
    until a ``.py`` file of the repository matches.
    """
    if file:
        return file
    parts = classname.split(".")
    for n in range(len(parts), 0, -1):
        candidate = "/".join(parts[:n]) + ".py"
        if (REPO / candidate).is_file():
            return candidate
    return classname


def from_junit(path: Path) -> dict[str, ModuleTime]:
    """Per-module times of a ``--junitxml`` report (``time`` of a testcase is the total of
    its setup, call and teardown, pytest's default ``junit_duration_report``)."""
    modules: dict[str, ModuleTime] = {}
    for case in ET.parse(path).getroot().iter("testcase"):
        module = _module_of(case.get("classname", ""), case.get("file"))
        entry = modules.setdefault(module, ModuleTime(module))
        entry.add(f"{case.get('classname')}::{case.get('name')}", float(case.get("time", 0)))
    return modules


def from_durations(lines: Iterable[str]) -> dict[str, ModuleTime]:
    """Per-module times of pytest's ``--durations`` lines (setup, call and teardown summed
    per test; with ``--durations=N`` only the N slowest phases are listed)."""
    per_test: dict[tuple[str, str], float] = {}
    for line in lines:
        m = _DURATION.match(line)
        if m:
            key = (m.group(3), m.group(4))
            per_test[key] = per_test.get(key, 0.0) + float(m.group(1))
    modules: dict[str, ModuleTime] = {}
    for (module, test), seconds in per_test.items():
        modules.setdefault(module, ModuleTime(module)).add(test, seconds)
    return modules


def read_report(path: Path) -> dict[str, ModuleTime]:
    """Per-module times from a JUnit XML report or a text holding a ``--durations`` table."""
    if path.suffix == ".xml":
        return from_junit(path)
    return from_durations(path.read_text(encoding="utf-8", errors="replace").splitlines())


def table(modules: dict[str, ModuleTime], wall: float | None = None) -> str:
    """Modules by summed time, slowest first, with their share, and the total."""
    total = sum(m.seconds for m in modules.values())
    n_tests = sum(len(m.tests) for m in modules.values())
    lines = [f"{'module':44s} {'tests':>5s} {'seconds':>8s} {'share':>6s}  slowest test"]
    for m in sorted(modules.values(), key=lambda m: (-m.seconds, m.module)):
        share = 100.0 * m.seconds / total if total else 0.0
        slow_s, slow_name = m.slowest
        short = slow_name.rsplit("::", 1)[-1]
        short = short if len(short) <= 48 else short[:45] + "..."
        lines.append(
            f"{m.module:44s} {len(m.tests):5d} {m.seconds:8.1f} {share:5.1f}%  "
            f"{slow_s:6.1f} s {short}"
        )
    lines.append(f"{'total (worker-seconds)':44s} {n_tests:5d} {total:8.1f} {100.0:5.1f}%")
    if wall is not None:
        verdict = "within" if wall <= BUDGET else "OVER"
        lines.append(
            f"wall time {wall:.1f} s ({wall / 60:.1f} min): {verdict} the budget of "
            f"{BUDGET / 60:.0f} min on 2 idle cores; load average now {_load()}"
        )
    return "\n".join(lines)


def _load() -> str:
    try:
        return ", ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "unknown"


def run_suite(pytest_args: list[str], report: Path) -> tuple[int, float]:
    """Run the suite as ``make test`` does, writing a JUnit report; (exit status, wall s)."""
    cmd = [sys.executable, "-m", "pytest", "-n", "2", "--dist", "loadgroup", "-q"]
    cmd += [f"--junitxml={report}", "-o", "junit_duration_report=total", *pytest_args]
    print(f"load average before: {_load()}", flush=True)
    t0 = time.perf_counter()
    rc = subprocess.run(cmd, cwd=REPO).returncode
    return rc, time.perf_counter() - t0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--report", type=Path, help="read this report instead of running")
    parser.add_argument("--keep", type=Path, help="keep the run's JUnit XML report here")
    args, pytest_args = parser.parse_known_args(argv)
    if args.report is not None:
        print(table(read_report(args.report)))
        return 0
    with tempfile.TemporaryDirectory(prefix="mlcourse-bench-suite-") as tmp:
        report = args.keep or Path(tmp) / "suite.xml"
        rc, wall = run_suite(pytest_args, report.resolve())
        if not report.exists():
            print("pytest wrote no report", file=sys.stderr)
            return rc or 1
        print(table(from_junit(report), wall))
    return rc


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
