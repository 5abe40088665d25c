"""Grading overhead, measured side by side in one run (isolation on).

(a) 20 submissions of a notebook that only imports numpy, pandas and scikit-learn:
    ``mlcourse grade --jobs 1`` against 20 sequential plain nbclient executions.
    Goal: at most 0.5x.
(b) 40 submissions of notebook 01 (00_start_here when 01 does not exist): ``--jobs 2``
    against 40 plain nbclient executions two at a time. Goal: at most 1.2x.

Both sides run on the same data variant (``MLCOURSE_DATA_DIR``), one thread per BLAS.
The grader's time is the whole batch: intake, warm-up, reference run, judging, gradebook
and exports.

Usage::

    python benchmarks/bench_grading.py            # both scenarios
    python benchmarks/bench_grading.py --quick    # 6 / 8 submissions, for a smoke run
"""

from __future__ import annotations

import argparse
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
from nbclient import NotebookClient  # noqa: E402

from mlcourse.grading.engine import GradeConfig, grade_batch  # noqa: E402
from mlcourse.grading.sandbox import bwrap_available  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]

IMPORTS_EXERCISES = """
from mlcourse.exercises.spec import Exercise, Outcome, to_plain
NOTEBOOK = "98_imports"
EXERCISES = (
    Exercise("q1_total", NOTEBOOK, "A total", 1.0, ("total",),
             lambda ns, ctx: to_plain(ns["total"]),
             lambda s, e: Outcome.correct() if s == e else Outcome.incorrect("no")),
)
"""
IMPORTS_CELLS = [
    ("import numpy as np\nimport pandas as pd\nimport sklearn", None),
    (
        "from sklearn.linear_model import LogisticRegression\n"
        "from sklearn.preprocessing import OneHotEncoder",
        None,
    ),
    ("total = int(np.arange(10).sum())", "q1_total"),
]


def _notebook(cells: list[tuple[str, str | None]]) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    for source, ex in cells:
        meta = {"mlcourse": {"exercise": ex}} if ex else {}
        nb.cells.append(nbformat.v4.new_code_cell(source, metadata=meta))
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    return nb


def _nbclient_run(path: str, data_dir: str) -> float:
    os.environ["MLCOURSE_DATA_DIR"] = data_dir
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    NotebookClient(
        nb,
        kernel_name="python3",
        timeout=600,
        resources={"metadata": {"path": str(Path(path).parent)}},
    ).execute()
    return time.perf_counter() - start


def _baseline(paths: list[Path], data_dir: Path, workers: int) -> float:
    start = time.perf_counter()
    with ProcessPoolExecutor(workers) as pool:
        list(pool.map(_nbclient_run, map(str, paths), [str(data_dir)] * len(paths)))
    return time.perf_counter() - start


def _grade(
    subs: Path, out: Path, notebook: str, jobs: int, isolation: str, data_dir: Path, **kw: object
) -> float:
    start = time.perf_counter()
    summary = grade_batch(
        GradeConfig(
            submissions=subs,
            notebook=notebook,
            seed=2718,
            out=out,
            jobs=jobs,
            isolation=isolation,
            data_variant=data_dir,
            progress=False,
            **kw,
        )
    )
    elapsed = time.perf_counter() - start
    bad = {k: v for k, v in summary.counts.items() if k != "graded"}
    if bad:
        print(f"  warning: not all submissions were graded: {bad}", file=sys.stderr)
    return elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer submissions")
    parser.add_argument("--only", choices=["a", "b"], help="run one scenario")
    args = parser.parse_args(argv)
    isolation = "strict" if bwrap_available() else "process"
    n_a, n_b = (6, 8) if args.quick else (20, 40)
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-grading-") as tmp:
        tmp_path = Path(tmp)
        os.chmod(tmp_path, 0o755)
        from mlcourse.grading.variant import prepare_variant

        variant = prepare_variant(tmp_path, 2718)

        if args.only in (None, "a"):
            pkg = tmp_path / "pkg"
            pkg.mkdir()
            (pkg / "bench_imports_exercises.py").write_text(IMPORTS_EXERCISES)
            solution = tmp_path / "98_imports.ipynb"
            nbformat.write(_notebook(IMPORTS_CELLS), solution)
            subs = tmp_path / "subs_a"
            subs.mkdir()
            paths = []
            for i in range(n_a):
                path = subs / f"student{i:02d}.ipynb"
                nbformat.write(_notebook(IMPORTS_CELLS), path)
                paths.append(path)
            base = _baseline(paths, variant, 1)
            graded = _grade(
                subs,
                tmp_path / "out_a",
                "98",
                1,
                isolation,
                variant,
                solution=solution,
                exercises_module="bench_imports_exercises",
                exercises_path=(str(pkg),),
            )
            rows.append(("a", f"{n_a} x imports-only, --jobs 1", base, graded, 0.5))

        if args.only in (None, "b"):
            stem = "01_encoding_basics"
            if not (ROOT / "solutions" / f"{stem}.ipynb").exists():
                print(
                    f"note: solutions/{stem}.ipynb does not exist; scenario (b) uses 00_start_here",
                    file=sys.stderr,
                )
                stem = "00_start_here"
            solution = ROOT / "solutions" / f"{stem}.ipynb"
            subs = tmp_path / "subs_b"
            subs.mkdir()
            paths = []
            for i in range(n_b):
                path = subs / f"student{i:02d}.ipynb"
                path.write_bytes(solution.read_bytes())
                paths.append(path)
            base = _baseline(paths, variant, 2)
            graded = _grade(subs, tmp_path / "out_b", stem[:2], 2, isolation, variant)
            rows.append(("b", f"{n_b} x {stem}, --jobs 2", base, graded, 1.2))

    print(f"isolation: {isolation}; cores: {os.cpu_count()}")
    print(f"{'':2} {'scenario':40} {'nbclient s':>10} {'grader s':>9} {'ratio':>6} {'goal':>6}")
    for key, name, base, graded, goal in rows:
        ratio = graded / base
        verdict = "ok" if ratio <= goal else "MISSED"
        print(f"{key:2} {name:40} {base:10.1f} {graded:9.1f} {ratio:6.2f} {goal:5.1f}x {verdict}")
    print(
        json.dumps(
            {
                k: {"nbclient_s": round(b, 2), "grader_s": round(g, 2), "ratio": round(g / b, 3)}
                for k, _, b, g, _ in rows
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
