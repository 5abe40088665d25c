"""Start-up of ``mlcourse grade`` on an assignment of one's own, and 20 submissions side by side.

A trivial own assignment (three questions: a value, a function, a choice; the notebook imports
NumPy only) is built with ``mlcourse assignment build``. Then, in one run:

* ``mlcourse grade SUBMISSIONS --exercises hw_checks.py --jobs 2`` as a fresh process on 20
  submissions, after one discarded run that warms the OS caches (a warm environment, as an
  instructor's second batch of the day). The grader prints its phases: imports (process
  start to the batch), setup (exercises, data), intake, the wait for the sandboxes' warm-up,
  the reference run, and the first grade (process start to the first graded submission);
* 20 plain nbclient executions of the same notebooks, two at a time.

Goals: first grade at most 3 s after start; the whole batch at most 0.2x the nbclient runs.

Usage::

    python benchmarks/bench_startup.py
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import nbformat  # noqa: E402
from nbclient import NotebookClient  # noqa: E402

from mlcourse.assignment import build  # noqa: E402
from mlcourse.grading.sandbox import bwrap_available  # noqa: E402

N = 20
CHECKS = """
import numpy as np
from mlcourse.exercises.ready import Assignment

hw = Assignment("hw", __file__)
EXERCISES = (
    hw.value("q1_total", "A total", "total"),
    hw.function("q2_square", "Squares", "square",
                lambda rng: [(rng.normal(size=5),) for _ in range(5)]),
    hw.choice("q3_pick", "Pick one", "answer", {"A": "One thing.", "B": "Another thing."}),
)
check, hint, solution = hw.api(EXERCISES)
"""
CELLS = [
    ("import numpy as np\nfrom hw_checks import check, hint", None),
    ("# BEGIN SOLUTION\ntotal = int(np.arange(10).sum())\n# END SOLUTION", "q1_total"),
    ("def square(x):\n    # BEGIN SOLUTION\n    return np.asarray(x) ** 2\n    # END SOLUTION",
     "q2_square"),
    ("# BEGIN SOLUTION\nanswer = 'B'\n# END SOLUTION", "q3_pick"),
]  # fmt: skip


def _notebook() -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    for source, ex in CELLS:
        meta = {"mlcourse": {"exercise": ex}} if ex else {}
        nb.cells.append(nbformat.v4.new_code_cell(source, metadata=meta))
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    return nb


def _nbclient_run(path: str) -> float:
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    where = {"metadata": {"path": str(Path(path).parent)}}
    NotebookClient(nb, kernel_name="python3", timeout=600, resources=where).execute()
    return time.perf_counter() - start


def _grade(subs: Path, checks: Path, out: Path, isolation: str) -> tuple[float, dict[str, float]]:
    env = {**os.environ, "MLCOURSE_GRADING_SEED": "2718"}
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "mlcourse", "grade", str(subs), "--exercises", str(checks),
         "--out", str(out), "--jobs", "2", "--isolation", isolation, "--quiet"],
        env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    wall = time.perf_counter() - start
    line = next(ln for ln in proc.stdout.splitlines() if ln.startswith("time: "))
    phases = {k: float(v) for k, v in re.findall(r"([a-z -]+?) (\d+\.\d+) s", line[6:])}
    if "graded 20" not in proc.stdout:
        print(proc.stdout, file=sys.stderr)
    return wall, {k.strip(", "): v for k, v in phases.items()}


def main() -> int:
    isolation = "strict" if bwrap_available() else "process"
    with tempfile.TemporaryDirectory(prefix="bench-startup-") as tmp:
        root = Path(tmp)
        os.chmod(root, 0o755)
        home = root / "hw"
        home.mkdir()
        (home / "hw_checks.py").write_text(CHECKS)
        nbformat.write(_notebook(), home / "hw.ipynb")
        build(home / "hw_checks.py")
        learner = nbformat.read(home / "hw.ipynb", as_version=4)
        subs = root / "subs"
        paths = []
        for i in range(N):
            folder = subs / f"student{i:02d}"
            folder.mkdir(parents=True)
            learner.cells[0].source = f"# student {i}\n" + CELLS[0][0]
            nbformat.write(learner, folder / "hw.ipynb")
            (folder / "hw_checks.py").write_text(CHECKS)  # what nbclient needs beside it
            paths.append(folder / "hw.ipynb")
        _grade(subs, home / "hw_checks.py", root / "warm", isolation)  # discarded: OS caches
        wall, phases = _grade(subs, home / "hw_checks.py", root / "out", isolation)
        start = time.perf_counter()
        with ProcessPoolExecutor(2) as pool:
            list(pool.map(_nbclient_run, map(str, paths)))
        base = time.perf_counter() - start
    ratio = wall / base
    first = phases.get("first grade", float("nan"))
    print(f"isolation: {isolation}; cores: {os.cpu_count()}; {N} submissions, --jobs 2")
    print("phases of mlcourse grade (s): " + ", ".join(f"{k} {v:.2f}" for k, v in phases.items()))
    print(f"first grade {first:.2f} s after start (goal at most 3 s): "
          f"{'ok' if first <= 3 else 'MISSED'}")  # fmt: skip
    print(f"mlcourse grade {wall:.1f} s against nbclient {base:.1f} s: ratio {ratio:.3f} "
          f"(goal at most 0.2x) {'ok' if ratio <= 0.2 else 'MISSED'}")  # fmt: skip
    print(json.dumps({"phases": phases, "grade_s": round(wall, 2), "nbclient_s": round(base, 2),
                      "ratio": round(ratio, 3)}))  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
