"""``mlcourse grade``: grade a folder or zip of submitted notebooks into a gradebook.

Example
-------
    mlcourse grade canvas-export.zip --notebook 01 --seed-file ~/.mlcourse-seed \
        --roster roster.csv --out ~/grading/01 --jobs 2

The secret seed comes from ``--seed-file``, else from the environment variable
``MLCOURSE_GRADING_SEED``; ``--seed N`` still works for scripts but is visible to every user
of the machine (``ps``) and lands in the shell history, so it prints a warning.
"""

from __future__ import annotations

import argparse
import json
import stat
import sys
from pathlib import Path
from typing import Any

from mlcourse.grading.sandbox import Limits, SandboxError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags of ``mlcourse grade``, added group by group in the order ``--help`` shows."""
    _add_io_arguments(parser)
    _add_lms_arguments(parser)
    _add_execution_arguments(parser)
    _add_reference_arguments(parser)
    _add_limit_arguments(parser)
    _add_gradescope_arguments(parser)
    parser.add_argument(
        "--preload",
        help="comma-separated modules the warm sandbox imports once (default: numpy, pandas, "
        "scipy, scikit-learn, matplotlib, IPython)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def _add_io_arguments(parser: argparse.ArgumentParser) -> None:
    """What to grade (submissions, notebook or checks module), the seed, the output folder."""
    parser.add_argument(
        "submissions",
        type=Path,
        nargs="?",
        help="folder of .ipynb files (student id = folder or file name) or an LMS zip "
        "(not needed with --prepare-only)",
    )
    add_target_arguments(parser)
    add_seed_arguments(parser)
    parser.add_argument(
        "--out",
        required=True,
        type=Path,
        help="output folder: gradebook.sqlite, grades.csv, feedback/, ...",
    )


def _add_lms_arguments(parser: argparse.ArgumentParser) -> None:
    """How the submissions are named and who the students are; the LMS exports' columns."""
    parser.add_argument(
        "--lms",
        choices=["auto", "canvas", "moodle", "gradescope", "none"],
        default="auto",
        help="naming rules of the submissions: Canvas (name_[LATE_]userid_submissionid_file), "
        "Moodle (Full Name_id_assignsubmission_file_/file), auto (detect; default), none "
        "(student id = folder or file name) or gradescope (the folder is one student's "
        "submission; the notebook named like the assignment is graded)",
    )
    parser.add_argument(
        "--roster",
        type=Path,
        help="class roster CSV (LMS id, SIS id, name, email, section) joined to the "
        "submissions; the summary lists who is missing",
    )
    parser.add_argument(
        "--assignment",
        help="assignment column of canvas.csv, e.g. 'Notebook 01 (12345)' to match an existing "
        "Canvas assignment (default: the notebook's name)",
    )
    parser.add_argument(
        "--max-grade",
        type=float,
        help="scale the grades in canvas.csv and moodle.csv to this maximum (default: the "
        "notebook's points)",
    )


def _add_execution_arguments(parser: argparse.ArgumentParser) -> None:
    """Where and how the submissions run: parallel jobs, executor, isolation."""
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


def _add_reference_arguments(parser: argparse.ArgumentParser) -> None:
    """What the submissions are judged against: solution, data, held-out rows, exercises."""
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


def _add_limit_arguments(parser: argparse.ArgumentParser) -> None:
    """The resource limits of one submission."""
    parser.add_argument("--cell-timeout", type=float, default=60.0, help="seconds per cell")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per notebook")
    parser.add_argument(
        "--memory-mb",
        type=int,
        default=2048,
        help="memory per submission beyond the preloaded libraries",
    )
    parser.add_argument("--max-mb", type=float, default=20.0, help="size cap of one notebook file")


def _add_gradescope_arguments(parser: argparse.ArgumentParser) -> None:
    """Preparing a Gradescope image once, and one Gradescope submission's results."""
    parser.add_argument(
        "--prepare-only",
        action="store_true",
        help="prepare the variant, the held-out players and the reference's facts in OUT, "
        "grade nothing (the Gradescope bundle's setup.sh does this once)",
    )
    parser.add_argument(
        "--gradescope-results",
        type=Path,
        help="also write this submission's Gradescope results.json here (one student's "
        "submission, see --lms gradescope)",
    )
    parser.add_argument(
        "--gradescope-metadata",
        type=Path,
        help="Gradescope's submission_metadata.json: the feedback names the student and the "
        "assignment",
    )
    parser.add_argument(
        "--gradescope-visibility",
        choices=list(GRADESCOPE_VISIBILITY),
        default="visible",
        help="when students see the tests' results on Gradescope (default: visible)",
    )


def add_target_arguments(parser: argparse.ArgumentParser) -> None:
    """``--notebook NN`` (a course notebook) or ``--exercises CHECKS.py`` (an own assignment);
    see :func:`resolve_target`."""
    parser.add_argument(
        "--notebook", help="course notebook number, e.g. 01 (not needed with --exercises)"
    )
    parser.add_argument(
        "--exercises",
        type=Path,
        metavar="CHECKS_PY",
        help="an assignment of your own: its checks module (docs/assignments.md); the "
        "solution notebook and data are found beside it",
    )


def resolve_target(args: argparse.Namespace) -> str | None:
    """Turn ``--exercises CHECKS.py`` into ``exercises_module`` and ``exercises_path``
    (a list, or a Path when the parser declared it so); the problem, or None when fine."""
    if args.exercises is not None:
        if args.exercises_module:
            return "give --exercises or --exercises-module, not both"
        checks = args.exercises.expanduser().resolve()
        if checks.suffix != ".py" or not checks.is_file():
            return (
                f"--exercises {args.exercises}: expected the checks module of an assignment, "
                "a .py file (see docs/assignments.md)"
            )
        args.exercises_module = checks.stem
        if isinstance(args.exercises_path, list):
            args.exercises_path = [str(checks.parent), *args.exercises_path]
        else:
            args.exercises_path = checks.parent
    if not args.notebook and not args.exercises_module:
        return (
            "say what to grade: --notebook NN (a course notebook) or --exercises "
            "path/to/checks.py (an assignment of your own)"
        )
    return None


SEED_ENV = "MLCOURSE_GRADING_SEED"
#: Gradescope's visibility settings of a test (and of results.json as a whole)
GRADESCOPE_VISIBILITY = ("visible", "after_published", "after_due_date", "hidden")


class SeedError(ValueError):
    """No usable seed; the message says where one can come from (never what it is)."""


def add_seed_arguments(parser: argparse.ArgumentParser) -> None:
    """``--seed-file PATH`` and ``--seed N`` (one or none; see :func:`read_seed`)."""
    seed = parser.add_mutually_exclusive_group()
    seed.add_argument(
        "--seed-file",
        type=Path,
        help="file holding the secret grading seed, an integer (keep it mode 0600); "
        f"default: the environment variable {SEED_ENV}",
    )
    seed.add_argument(
        "--seed",
        type=int,
        help="the secret seed itself: visible in the process list and shell history, "
        "prefer --seed-file",
    )


def _parse_seed(text: str, where: str) -> int:
    text = text.strip()
    try:
        return int(text)
    except ValueError:
        # never echo the text: it may be the seed with a typo
        raise SeedError(f"{where} does not hold an integer seed") from None


def read_seed(args: argparse.Namespace, warn: Any = None) -> int:
    """The grading seed from ``--seed-file``, ``--seed`` (warned) or ``$MLCOURSE_GRADING_SEED``.

    The environment variable is removed from this process once read, so no child process
    (sandbox, inspector, Dask worker) inherits it; the ``mlcourse`` command has already moved
    it out of its environment block (:mod:`mlcourse._seedenv`), so ``/proc/PID/environ``
    does not show it either.
    """
    warn = warn or (lambda msg: print(f"mlcourse grade: WARNING: {msg}", file=sys.stderr))
    from mlcourse._seedenv import take_seed_text

    env = take_seed_text()
    if args.seed_file is not None:
        path = Path(args.seed_file).expanduser()
        try:
            mode = path.stat().st_mode
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise SeedError(f"the seed file {path} does not exist") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise SeedError(f"the seed file {path} could not be read ({exc})") from None
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            warn(f"the seed file {path} is readable by other users; run: chmod 600 {path}")
        return _parse_seed(text, f"the seed file {path}")
    if args.seed is not None:
        warn(
            "--seed puts the secret seed in the process list (ps) and your shell history; "
            f"use --seed-file PATH or the environment variable {SEED_ENV}"
        )
        return int(args.seed)
    if env is not None and env.strip():
        return _parse_seed(env, f"the environment variable {SEED_ENV}")
    raise SeedError(
        f"no grading seed: pass --seed-file PATH (a file holding the integer, mode 0600) or "
        f"set the environment variable {SEED_ENV}"
    )


def target_and_seed(args: argparse.Namespace, command: str) -> int | None:
    """:func:`resolve_target`, then :func:`read_seed`: the seed, or ``None`` once the problem
    is printed as ``mlcourse COMMAND: ...`` (the command then exits with code 2)."""
    problem = resolve_target(args)
    if problem:
        print(f"mlcourse {command}: {problem}", file=sys.stderr)
        return None
    try:
        return read_seed(args)
    except SeedError as exc:
        print(f"mlcourse {command}: {exc}", file=sys.stderr)
        return None


def run(args: argparse.Namespace) -> int:
    from mlcourse.grading.engine import GradeConfig, ReferenceError, grade_batch

    if args.executor == "dask" and not args.scheduler:
        print(
            "mlcourse grade: --executor dask needs --scheduler ADDRESS (e.g. tcp://host:8786)",
            file=sys.stderr,
        )
        return 2
    if args.max_grade is not None and not args.max_grade > 0:
        print("mlcourse grade: --max-grade must be a positive number", file=sys.stderr)
        return 2
    if args.submissions is None and not args.prepare_only:
        print(
            "mlcourse grade: say what to grade: a folder of notebooks, a notebook or an LMS "
            "zip (or --prepare-only to prepare the reference without grading)",
            file=sys.stderr,
        )
        return 2
    seed = target_and_seed(args, "grade")
    if seed is None:
        return 2
    try:
        limits = Limits(
            cell_timeout=args.cell_timeout, total_timeout=args.timeout, memory_mb=args.memory_mb
        )
        cfg = GradeConfig(
            submissions=args.submissions,
            notebook=args.notebook,
            seed=seed,
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
            lms=args.lms,
            roster=args.roster,
            assignment=args.assignment,
            max_grade=args.max_grade,
            prepare_only=args.prepare_only,
            figure=not args.gradescope_results,
        )
        summary = grade_batch(cfg)
    except (SandboxError, ReferenceError, FileNotFoundError, ValueError) as exc:
        print(f"mlcourse grade: {exc}", file=sys.stderr)
        return 2
    if args.prepare_only:
        print(f"prepared in {summary.paths['prepared']} ({summary.seconds:.1f} s)")
        return 0
    print(summary.text())
    if args.gradescope_results:
        from mlcourse.grading.exports import gradescope_results

        metadata = _gradescope_metadata(args.gradescope_metadata)
        result = gradescope_results(
            summary, metadata=metadata, visibility=args.gradescope_visibility
        )
        args.gradescope_results.parent.mkdir(parents=True, exist_ok=True)
        args.gradescope_results.write_text(json.dumps(result, indent=1), encoding="utf-8")
    return 0


def _gradescope_metadata(path: Path | None) -> dict[str, Any]:
    """Gradescope's ``submission_metadata.json`` (empty when absent or unreadable: the
    feedback then names neither the student nor the assignment, nothing else changes)."""
    if path is None or not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}
