"""``mlcourse grade``: grade a folder or zip of submitted notebooks into a gradebook.

Example
-------
    mlcourse grade submissions.zip --notebook 01 --seed 271828 --out grades/01 --jobs 2
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from mlcourse.grading.sandbox import Limits, SandboxError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "submissions",
        type=Path,
        help="folder of .ipynb files (student id = folder or file name) or an LMS zip",
    )
    parser.add_argument("--notebook", required=True, help="notebook number, e.g. 01")
    parser.add_argument(
        "--seed",
        required=True,
        type=int,
        help="secret grading seed (data variant and hidden probe inputs)",
    )
    parser.add_argument(
        "--out",
        required=True,
        type=Path,
        help="output folder: gradebook.sqlite, grades.csv, feedback/, ...",
    )
    parser.add_argument(
        "--jobs", type=int, default=2, help="submissions run in parallel (default 2)"
    )
    parser.add_argument("--executor", choices=["local", "dask"], default="local")
    parser.add_argument("--scheduler", help="Dask scheduler address (with --executor dask)")
    parser.add_argument(
        "--isolation",
        choices=["strict", "process"],
        default="strict",
        help="strict: bubblewrap sandbox (default); process: resource limits only",
    )
    parser.add_argument(
        "--solution",
        type=Path,
        help="reference solution notebook (default: solutions/<notebook>.ipynb)",
    )
    parser.add_argument(
        "--data-variant",
        type=Path,
        help="use this pre-generated data variant instead of generating one",
    )
    parser.add_argument(
        "--heldout",
        type=Path,
        help="held-out players made with this seed beforehand (default: generated into "
        "OUT/private/); never visible to submissions",
    )
    parser.add_argument("--exercises-module", help="import exercises from this module instead")
    parser.add_argument(
        "--exercises-path",
        action="append",
        default=[],
        help="folder to add to sys.path for --exercises-module (repeatable)",
    )
    parser.add_argument("--cell-timeout", type=float, default=60.0, help="seconds per cell")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per notebook")
    parser.add_argument(
        "--memory-mb",
        type=int,
        default=2048,
        help="memory per submission beyond the preloaded libraries",
    )
    parser.add_argument("--max-mb", type=float, default=20.0, help="size cap of one notebook file")
    parser.add_argument(
        "--gradescope-results",
        type=Path,
        help="also write this submission's Gradescope results.json here (for a single submission)",
    )
    parser.add_argument(
        "--preload",
        help="comma-separated modules the warm sandbox imports once (default: numpy, pandas, "
        "scipy, scikit-learn, matplotlib, IPython)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    from mlcourse.grading.engine import GradeConfig, ReferenceError, grade_batch
    from mlcourse.grading.exports import gradescope_json
    from mlcourse.grading.gradebook import Gradebook

    if args.executor == "dask" and not args.scheduler:
        print(
            "mlcourse grade: --executor dask needs --scheduler ADDRESS (e.g. tcp://host:8786)",
            file=sys.stderr,
        )
        return 2
    try:
        limits = Limits(
            cell_timeout=args.cell_timeout, total_timeout=args.timeout, memory_mb=args.memory_mb
        )
        cfg = GradeConfig(
            submissions=args.submissions,
            notebook=args.notebook,
            seed=args.seed,
            out=args.out,
            jobs=args.jobs,
            executor=args.executor,
            scheduler=args.scheduler,
            isolation=args.isolation,
            limits=limits,
            exercises_module=args.exercises_module,
            exercises_path=tuple(args.exercises_path),
            solution=args.solution,
            data_variant=args.data_variant,
            heldout=args.heldout,
            max_bytes=int(args.max_mb * 2**20),
            progress=not args.quiet,
            preload=tuple(m for m in args.preload.split(",") if m) if args.preload else None,
        )
        summary = grade_batch(cfg)
    except (SandboxError, ReferenceError, FileNotFoundError, ValueError) as exc:
        print(f"mlcourse grade: {exc}", file=sys.stderr)
        return 2
    print(summary.text())
    if args.gradescope_results:
        gb = Gradebook(summary.paths["gradebook"])
        key = summary.keys[0] if len(summary.keys) == 1 else None
        if key is None:
            result = {
                "score": 0,
                "output": f"expected one notebook, found {len(summary.keys)}; "
                "submit exactly one .ipynb file",
                "tests": [],
            }
        else:
            sub = gb.submission(key)
            assert sub is not None
            result = gradescope_json(sub, gb.exercises(key))
        gb.close()
        args.gradescope_results.parent.mkdir(parents=True, exist_ok=True)
        args.gradescope_results.write_text(json.dumps(result, indent=1), encoding="utf-8")
    return 0
