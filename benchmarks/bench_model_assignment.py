"""Grading an own assignment with a model exercise: the sandboxed inspector's cost.

An own assignment with three questions (a table, a value and a fitted LogisticRegression
scored on held-out rows) is built with ``mlcourse assignment build``. Then, in one run:

* ``mlcourse grade SUBMISSIONS --exercises hw_checks.py --jobs 2`` (strict isolation when
  bubblewrap works) as a fresh process on 20 submissions, after one discarded run that warms
  the OS caches. Every model answer is loaded and scored in the inspector's own sandbox;
* 20 plain nbclient executions of the same notebooks, two at a time.

Goals (issue 21): the whole batch at most 0.3x the nbclient runs; the first grade at most
4 s after the process started.

Usage::

    python benchmarks/bench_model_assignment.py
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import nbformat  # noqa: E402
import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_startup import _grade, _nbclient_run  # noqa: E402

from mlcourse.assignment import build  # noqa: E402
from mlcourse.grading.sandbox import bwrap_available  # noqa: E402

N = 20
CHECKS = """
from pathlib import Path

import pandas as pd
from mlcourse.exercises.ready import Assignment

hw = Assignment("hw", __file__, data="data", heldout="heldout")
DATA_DIR = hw.data_dir


def test_rows(folder: Path):
    df = pd.read_csv(folder / "players.csv")
    return df[["sessions", "spend"]], df["churned"]


EXERCISES = (
    hw.table("q1_summary", "Per-country means", "summary"),
    hw.value("q2_rate", "Churn rate", "rate"),
    hw.model("q3_model", "A churn model", "model", test_rows, metric="roc_auc"),
)
check, hint, solution = hw.api(EXERCISES)
"""
CELLS = [
    ("import pandas as pd\nfrom hw_checks import DATA_DIR, check, hint\n"
     "df = pd.read_csv(DATA_DIR / 'players.csv')", None),
    ("# BEGIN SOLUTION\nsummary = df.groupby('country')[['sessions', 'spend']].mean()\n"
     "# END SOLUTION", "q1_summary"),
    ("# BEGIN SOLUTION\nrate = float(df['churned'].mean())\n# END SOLUTION", "q2_rate"),
    ("from sklearn.linear_model import LogisticRegression\n# BEGIN SOLUTION\n"
     "model = LogisticRegression().fit(df[['sessions', 'spend']], df['churned'])\n"
     "# END SOLUTION", "q3_model"),
]  # fmt: skip


def _players(seed: int, n: int) -> str:
    rng = np.random.default_rng(seed)
    sessions = rng.poisson(5, n)
    spend = rng.gamma(1.0, 2.0, n).round(2)
    churned = (rng.random(n) < 1 / (1 + np.exp(0.4 * sessions - 1.5))).astype(int)
    country = rng.choice(["de", "fr", "us"], n)
    rows = [
        f"{c},{s},{p},{y}" for c, s, p, y in zip(country, sessions, spend, churned, strict=True)
    ]
    return "country,sessions,spend,churned\n" + "\n".join(rows) + "\n"


def _notebook() -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    for source, ex in CELLS:
        meta = {"mlcourse": {"exercise": ex}} if ex else {}
        nb.cells.append(nbformat.v4.new_code_cell(source, metadata=meta))
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    return nb


def _assignment(root: Path) -> Path:
    home = root / "hw"
    for folder, seed in (("data", 1), ("heldout", 2)):
        (home / folder).mkdir(parents=True)
        (home / folder / "players.csv").write_text(_players(seed, 2000))
    (home / "hw_checks.py").write_text(CHECKS)
    nbformat.write(_notebook(), home / "hw.ipynb")
    build(home / "hw_checks.py")
    return home


def main() -> int:
    isolation = "strict" if bwrap_available() else "process"
    with tempfile.TemporaryDirectory(prefix="bench-model-") as tmp:
        root = Path(tmp)
        os.chmod(root, 0o755)
        home = _assignment(root)
        learner = nbformat.read(home / "hw.ipynb", as_version=4)
        subs = root / "subs"
        paths = []
        for i in range(N):
            folder = subs / f"student{i:02d}"
            (folder / "data").mkdir(parents=True)
            (folder / "data" / "players.csv").write_text(_players(1, 2000))
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
    print(f"isolation: {isolation}; cores: {os.cpu_count()}; {N} submissions, --jobs 2, "
          "a table, a value and a model exercise (inspector sandboxed)")  # fmt: skip
    print("phases of mlcourse grade (s): " + ", ".join(f"{k} {v:.2f}" for k, v in phases.items()))
    print(f"first grade {first:.2f} s after start (goal at most 4 s): "
          f"{'ok' if first <= 4 else 'MISSED'}")  # fmt: skip
    print(f"mlcourse grade {wall:.1f} s against nbclient {base:.1f} s: ratio {ratio:.3f} "
          f"(goal at most 0.3x) {'ok' if ratio <= 0.3 else 'MISSED'}")  # fmt: skip
    print(json.dumps({"phases": phases, "grade_s": round(wall, 2), "nbclient_s": round(base, 2),
                      "ratio": round(ratio, 3)}))  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
