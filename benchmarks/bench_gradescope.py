"""One Gradescope submission against one submission of a local batch, side by side.

The Gradescope side is the real bundle of notebook 01 (``mlcourse gradescope-bundle``): its
``setup.sh`` runs once in a simulated ``/autograder`` folder (apt-get stubbed out, uv taken
from this environment), then ``run_autograder`` grades N submissions one after another, each
with a fresh ``results/`` as on Gradescope. Its per-submission cost is the mean wall time of
``run_autograder``: a new Python process, the grader's imports, a warm sandbox started for
one notebook, the inspector, judging and results.json (the reference was prepared by setup).

The batch side is ``mlcourse grade --jobs 1`` on the same N submissions with the same seed,
data variant and isolation; its per-submission cost is the whole batch's wall time (intake,
warm-up, the reference run, judging, exports) divided by N.

Goal: Gradescope per submission at most 1.5x the batch per submission.

Usage::

    python benchmarks/bench_gradescope.py            # 6 submissions
    python benchmarks/bench_gradescope.py --n 3      # a smoke run
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import nbformat  # noqa: E402

from mlcourse.grading.engine import GradeConfig, grade_batch  # noqa: E402
from mlcourse.grading.gradescope import build_bundle  # noqa: E402
from mlcourse.grading.sandbox import bwrap_available  # noqa: E402
from mlcourse.grading.variant import prepare_variant  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
STEM = "01_encoding_basics"
SEED = 2718
GOAL = 1.5


def _submissions(folder: Path, n: int) -> list[Path]:
    """``n`` distinct submissions: the solution, each with its own harmless comment (so no
    submission is a cache hit of another)."""
    folder.mkdir(parents=True)
    paths = []
    for i in range(n):
        nb = nbformat.read(ROOT / "solutions" / f"{STEM}.ipynb", as_version=4)
        nb.cells[0].source = f"# student {i}\n" + nb.cells[0].source
        path = folder / f"student{i:02d}" / f"{STEM}.ipynb"
        path.parent.mkdir()
        nbformat.write(nb, path)
        paths.append(path)
    return paths


def _setup(bundle: Path, root: Path) -> float:
    with zipfile.ZipFile(bundle) as zf:
        zf.extractall(root / "source")
    stub = root.parent / "stub-bin"
    stub.mkdir()
    (stub / "apt-get").write_text("#!/bin/sh\nexit 0\n")
    (stub / "apt-get").chmod(0o755)
    uv = shutil.which("uv") or str(Path(sys.executable).parent / "uv")
    env = {
        **os.environ,
        "AUTOGRADER_ROOT": str(root),
        "MLCOURSE_UV": uv,
        "PATH": f"{stub}:{os.environ['PATH']}",
    }
    env.pop("VIRTUAL_ENV", None)
    start = time.perf_counter()
    subprocess.run(["bash", str(root / "source" / "setup.sh")], env=env, check=True)
    return time.perf_counter() - start


def _gradescope_submission(root: Path, notebook: Path) -> tuple[float, float]:
    """Wall seconds of one ``run_autograder`` and the score it wrote."""
    for name in ("submission", "results"):
        shutil.rmtree(root / name, ignore_errors=True)
    (root / "submission").mkdir()
    shutil.copy2(notebook, root / "submission" / notebook.name)
    env = {**os.environ, "AUTOGRADER_ROOT": str(root)}
    env.pop("MLCOURSE_PYTHON", None)
    start = time.perf_counter()
    subprocess.run(["bash", str(root / "source" / "run_autograder")], env=env, check=True)
    seconds = time.perf_counter() - start
    results = json.loads((root / "results" / "results.json").read_text())
    return seconds, float(results["score"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=6, help="submissions on each side")
    args = parser.parse_args(argv)
    isolation = "strict" if bwrap_available() else "process"
    with tempfile.TemporaryDirectory(prefix="bench-gradescope-") as tmp:
        tmp_path = Path(tmp)
        os.chmod(tmp_path, 0o755)
        variant = prepare_variant(tmp_path, SEED)
        bundle = build_bundle(
            tmp_path / "autograder.zip", STEM[:2], SEED, data_variant=variant, isolation=isolation
        )
        paths = _submissions(tmp_path / "subs", args.n)

        start = time.perf_counter()
        summary = grade_batch(
            GradeConfig(
                submissions=tmp_path / "subs",
                notebook=STEM[:2],
                seed=SEED,
                out=tmp_path / "batch",
                jobs=1,
                isolation=isolation,
                data_variant=variant,
                progress=False,
            )
        )
        batch = (time.perf_counter() - start) / args.n
        batch_scores = sorted(summary.percents)

        root = tmp_path / "image" / "autograder"
        root.parent.mkdir()
        setup = _setup(bundle, root)
        runs = [_gradescope_submission(root, p) for p in paths]
    per_sub = [s for s, _ in runs]
    gs = statistics.fmean(per_sub)
    ratio = gs / batch
    print(f"isolation: {isolation}; cores: {os.cpu_count()}; {args.n} submissions of {STEM}")
    print(f"setup.sh (once per image, not per submission): {setup:.1f} s")
    print(f"local batch, --jobs 1, per submission (wall / n): {batch:.2f} s")
    print(
        f"Gradescope run_autograder per submission: mean {gs:.2f} s "
        f"(min {min(per_sub):.2f}, max {max(per_sub):.2f})"
    )
    verdict = "ok" if ratio <= GOAL else "MISSED"
    print(f"ratio: {ratio:.2f}x (goal at most {GOAL}x) {verdict}")
    if any(p != 100.0 for p in batch_scores) or any(s <= 0 for _, s in runs):
        print("warning: a submission was not fully graded", file=sys.stderr)
    print(
        json.dumps(
            {
                "setup_s": round(setup, 2),
                "batch_per_submission_s": round(batch, 3),
                "gradescope_per_submission_s": round(gs, 3),
                "ratio": round(ratio, 3),
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
