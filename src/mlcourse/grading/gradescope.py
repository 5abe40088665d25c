"""``mlcourse gradescope-bundle``: write a Gradescope autograder zip that runs this grader.

The zip has Gradescope's two entry points at its root -- ``setup.sh`` (runs once when the
image is built) and ``run_autograder`` (runs per submission) -- plus the course package, the
reference solution, the data variant and a small ``mlcourse-grading.env`` holding the notebook
number and the secret seed. ``run_autograder`` grades ``/autograder/submission`` into
``/autograder/results/results.json``; ``AUTOGRADER_ROOT`` and ``MLCOURSE_PYTHON`` override the
paths (the tests simulate the layout in a temporary folder that way).

Example
-------
    mlcourse gradescope-bundle --notebook 01 --seed 271828 --out autograder-01.zip
"""

from __future__ import annotations

import argparse
import shlex
import shutil
import sys
import tempfile
import zipfile
from pathlib import Path

SETUP_SH = r"""#!/usr/bin/env bash
# Gradescope runs this once while building the autograder image.
set -euo pipefail
cd /autograder/source
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends bubblewrap >/dev/null || true
PY=$(command -v python3.12 || command -v python3.11 || true)
if [ -z "$PY" ]; then
    apt-get install -y -qq --no-install-recommends python3.11 python3.11-venv >/dev/null
    PY=$(command -v python3.11)
fi
"$PY" -m venv /autograder/venv
/autograder/venv/bin/pip install -q --upgrade pip
/autograder/venv/bin/pip install -q -r course/requirements.lock
/autograder/venv/bin/pip install -q --no-deps ./course
# Student code runs as user nobody (process isolation) or in bubblewrap (strict): it must
# read the data variant but never the solution or the seed.
rm -rf /autograder/data-variant
mv data-variant /autograder/data-variant
chmod -R a+rX /autograder/data-variant
chmod 700 /autograder/source
chmod -R a+rX /autograder/venv
"""

RUN_AUTOGRADER = r"""#!/usr/bin/env bash
# Gradescope runs this once per submission.
set -uo pipefail
ROOT="${AUTOGRADER_ROOT:-/autograder}"
SRC="$ROOT/source"
PY="${MLCOURSE_PYTHON:-$ROOT/venv/bin/python}"
# shellcheck source=/dev/null
. "$SRC/mlcourse-grading.env"
mkdir -p "$ROOT/results" "$ROOT/work"
VARIANT="$ROOT/data-variant"
[ -d "$VARIANT" ] || VARIANT="$SRC/data-variant"
if [ "$ISOLATION" = auto ]; then
    if [ -x /usr/bin/bwrap ] && /usr/bin/bwrap --ro-bind / / --unshare-all true 2>/dev/null; then
        ISOLATION=strict
    else
        ISOLATION=process
    fi
fi
EXTRA=()
if [ -n "${EXERCISES_MODULE:-}" ]; then
    EXTRA+=(--exercises-module "$EXERCISES_MODULE" --exercises-path "$SRC/exercises")
fi
# the seed reaches the grader through the environment (not the process list); the grader
# removes the variable before it starts any sandbox
MLCOURSE_GRADING_SEED="$SEED" "$PY" -m mlcourse grade "$ROOT/submission" \
    --notebook "$NOTEBOOK" --lms none \
    --out "$ROOT/work" --jobs 1 --isolation "$ISOLATION" \
    --solution "$SRC/solution.ipynb" --data-variant "$VARIANT" \
    ${HELDOUT:+--heldout "$SRC/$HELDOUT"} \
    --gradescope-results "$ROOT/results/results.json" --quiet "${EXTRA[@]}" \
    ${MLCOURSE_PRELOAD:+--preload "$MLCOURSE_PRELOAD"} \
    > "$ROOT/work/grader.log" 2>&1
status=$?
if [ ! -s "$ROOT/results/results.json" ]; then
    msg="The autograder could not grade this submission (exit $status); tell your instructor."
    printf '{"score": 0, "output": "%s", "tests": []}\n' "$msg" > "$ROOT/results/results.json"
fi
exit 0
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--notebook", required=True, help="notebook number, e.g. 01")
    from mlcourse.grading.cli import add_seed_arguments

    add_seed_arguments(parser)
    parser.add_argument("--out", required=True, type=Path, help="the zip file to write")
    parser.add_argument("--solution", type=Path, help="reference solution notebook")
    parser.add_argument("--data-variant", type=Path, help="pre-generated data variant folder")
    parser.add_argument(
        "--isolation",
        choices=["auto", "strict", "process"],
        default="auto",
        help="auto (default): bubblewrap when the Gradescope container allows it, else process",
    )
    parser.add_argument("--exercises-module", help="exercises module (default: the course's)")
    parser.add_argument("--exercises-path", type=Path, help="folder holding --exercises-module")


def _course_root() -> Path:
    import mlcourse

    root = Path(mlcourse.__file__).resolve().parents[2]
    if not (root / "pyproject.toml").exists():
        raise FileNotFoundError(
            "gradescope-bundle needs the course checkout (pyproject.toml next to src/); "
            "run it from an editable install of the course"
        )
    return root


def _copy_course(dest: Path) -> None:
    root = _course_root()
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    shutil.copytree(root / "src", dest / "src", ignore=ignore)
    for name in ("pyproject.toml", "requirements.lock", "README.md"):
        if (root / name).exists():
            shutil.copy2(root / name, dest / name)
    if not (dest / "README.md").exists():
        (dest / "README.md").write_text("mlcourse (autograder copy)\n")


def build_bundle(
    out: Path,
    notebook: str,
    seed: int,
    *,
    solution: Path | None = None,
    data_variant: Path | None = None,
    isolation: str = "auto",
    exercises_module: str | None = None,
    exercises_path: Path | None = None,
) -> Path:
    """Write the autograder zip; return its path."""
    from mlcourse.grading.exercises_adapter import default_solution_path, load_exercise_set
    from mlcourse.grading.variant import prepare_heldout, prepare_variant

    extra = (str(exercises_path),) if exercises_path else ()
    exset = load_exercise_set(notebook, exercises_module, extra)
    solution = solution or default_solution_path(exset.notebook)
    with tempfile.TemporaryDirectory() as tmp:
        stage = Path(tmp) / "bundle"
        stage.mkdir()
        _copy_course(stage / "course")
        shutil.copy2(solution, stage / "solution.ipynb")
        if data_variant is None:
            data_variant = prepare_variant(Path(tmp), seed)
        shutil.copytree(data_variant, stage / "data-variant")
        heldout = ""
        if any(ex.assess is not None for ex in exset.exercises):
            # made once here, not per submission; lives in source/ (root only, mode 0700)
            shutil.copytree(prepare_heldout(Path(tmp), seed), stage / "heldout")
            heldout = "heldout"
        if exercises_module and exercises_path:
            shutil.copytree(
                exercises_path, stage / "exercises", ignore=shutil.ignore_patterns("__pycache__")
            )
        env = {
            "NOTEBOOK": notebook,
            "SEED": str(seed),
            "ISOLATION": isolation,
            "EXERCISES_MODULE": exercises_module or "",
            "HELDOUT": heldout,
        }
        (stage / "mlcourse-grading.env").write_text(
            "".join(f"{k}={shlex.quote(v)}\n" for k, v in env.items())
        )
        (stage / "setup.sh").write_text(SETUP_SH)
        (stage / "run_autograder").write_text(RUN_AUTOGRADER)
        out.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
            for path in sorted(stage.rglob("*")):
                if path.is_dir():
                    continue
                info = zipfile.ZipInfo.from_file(path, path.relative_to(stage).as_posix())
                mode = 0o755 if path.name in ("setup.sh", "run_autograder") else 0o644
                info.external_attr = (0o100000 | mode) << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                zf.writestr(info, path.read_bytes())
    return out


def run(args: argparse.Namespace) -> int:
    from mlcourse.grading.cli import SeedError, read_seed

    try:
        seed = read_seed(args)
    except SeedError as exc:
        print(f"mlcourse gradescope-bundle: {exc}", file=sys.stderr)
        return 2
    try:
        path = build_bundle(
            args.out,
            args.notebook,
            seed,
            solution=args.solution,
            data_variant=args.data_variant,
            isolation=args.isolation,
            exercises_module=args.exercises_module,
            exercises_path=args.exercises_path,
        )
    except (FileNotFoundError, ValueError, RuntimeError) as exc:
        print(f"mlcourse gradescope-bundle: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {path}: upload it as the autograder of a Gradescope programming assignment")
    print("keep it private: it contains the reference solution and the secret seed")
    return 0
