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
from typing import Any

SETUP_SH = r"""#!/usr/bin/env bash
# Gradescope runs this once while building the autograder image (Ubuntu 22.04, whose python3
# is 3.10: too old for the course). uv, pinned and installed from PyPI, creates the grader's
# environment with Python 3.11 (the image's own when it has one, else a standalone CPython
# that uv downloads), installs the pinned runtime packages of course/grader.lock, and the
# reference solution runs once so that submissions only run their own notebook.
set -euo pipefail
ROOT="${AUTOGRADER_ROOT:-/autograder}"
SRC="$ROOT/source"
cd "$SRC"
# shellcheck source=/dev/null
. ./mlcourse-grading.env
export DEBIAN_FRONTEND=noninteractive
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends bubblewrap python3-venv >/dev/null || true
fi
UV="${MLCOURSE_UV:-}"
if [ -z "$UV" ]; then
    python3 -m venv "$ROOT/uv-tool"
    "$ROOT/uv-tool/bin/python" -m pip install -q "uv==$UV_VERSION"
    UV="$ROOT/uv-tool/bin/uv"
fi
# a downloaded Python must be readable by the user that runs student code: not under /root
export UV_PYTHON_INSTALL_DIR="$ROOT/python"
rm -rf "$ROOT/venv"
"$UV" venv -q --python "$PYTHON_VERSION" "$ROOT/venv"
# bytecode for every module, so that student code (which cannot write __pycache__) imports
# fast; MLCOURSE_COMPILE_BYTECODE=0 skips it (the test suite: a minute on 2 cores)
COMPILE=(--compile-bytecode)
[ "${MLCOURSE_COMPILE_BYTECODE:-1}" = 0 ] && COMPILE=()
"$UV" pip sync -q --python "$ROOT/venv/bin/python" "${COMPILE[@]}" course/grader.lock
# the course package is copied as it is: no build step, no build backend to download
SITE=$("$ROOT/venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
rm -rf "$SITE/mlcourse"
cp -R course/src/mlcourse "$SITE/mlcourse"
"$ROOT/venv/bin/python" -m compileall -q "$SITE/mlcourse" >/dev/null
# Student code runs as user nobody (process isolation) or in bubblewrap (strict): it must
# read the data variant and the environment but never the solution, the seed or prepared/.
rm -rf "$ROOT/data-variant"
mv data-variant "$ROOT/data-variant"
chmod -R a+rX "$ROOT/data-variant" "$ROOT/venv"
[ -d "$ROOT/python" ] && chmod -R a+rX "$ROOT/python"
chmod 700 "$SRC"
EXTRA=()
if [ -n "${EXERCISES_MODULE:-}" ]; then
    EXTRA+=(--exercises-module "$EXERCISES_MODULE" --exercises-path "$SRC/exercises")
fi
rm -rf "$ROOT/prepared"
MLCOURSE_GRADING_SEED="$SEED" "$ROOT/venv/bin/python" -m mlcourse grade --prepare-only \
    --notebook "$NOTEBOOK" --out "$ROOT/prepared" --isolation process --quiet \
    --solution "$SRC/solution.ipynb" --data-variant "$ROOT/data-variant" \
    ${HELDOUT:+--heldout "$SRC/$HELDOUT"} "${EXTRA[@]}"
chmod 700 "$ROOT/prepared"
"""

RUN_AUTOGRADER = r"""#!/usr/bin/env bash
# Gradescope runs this once per submission: only the submission's notebook runs (setup.sh
# prepared the variant and the reference's facts in prepared/).
set -uo pipefail
ROOT="${AUTOGRADER_ROOT:-/autograder}"
SRC="$ROOT/source"
PY="${MLCOURSE_PYTHON:-$ROOT/venv/bin/python}"
mkdir -p "$ROOT/results" "$ROOT/work"
status=0
# whatever goes wrong below, the student gets a results.json that says so
fallback() {
    if [ ! -s "$ROOT/results/results.json" ]; then
        msg="The autograder could not grade this submission (exit $status); tell your instructor."
        printf '{"score": 0, "output": "%s", "tests": []}\n' "$msg" > "$ROOT/results/results.json"
    fi
}
trap fallback EXIT
if [ ! -r "$SRC/mlcourse-grading.env" ]; then
    status=3
    echo "run_autograder: $SRC/mlcourse-grading.env is missing (is the bundle unpacked?)" >&2
    exit 0
fi
# shellcheck source=/dev/null
. "$SRC/mlcourse-grading.env"
OUT="$ROOT/prepared"
[ -d "$OUT" ] || OUT="$ROOT/work"
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
    --notebook "$NOTEBOOK" --lms gradescope \
    --out "$OUT" --jobs 1 --isolation "$ISOLATION" \
    --solution "$SRC/solution.ipynb" --data-variant "$VARIANT" \
    ${HELDOUT:+--heldout "$SRC/$HELDOUT"} \
    --gradescope-results "$ROOT/results/results.json" \
    --gradescope-metadata "$ROOT/submission_metadata.json" \
    --gradescope-visibility "${VISIBILITY:-visible}" --quiet "${EXTRA[@]}" \
    ${MLCOURSE_PRELOAD:+--preload "$MLCOURSE_PRELOAD"} \
    > "$ROOT/work/grader.log" 2>&1
status=$?
exit 0
"""

#: Python of the grader's environment on Gradescope (the lock is compiled for it)
PYTHON_VERSION = "3.11"
#: uv that setup.sh installs from PyPI (the version this course is tested with)
UV_VERSION = "0.13.9"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from mlcourse.grading.cli import add_seed_arguments, add_target_arguments

    add_target_arguments(parser)
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
    parser.add_argument(
        "--visibility",
        choices=["visible", "after_published", "after_due_date", "hidden"],
        default="visible",
        help="when students see each exercise's result on Gradescope (default: visible)",
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


#: runtime packages the grader does without: JupyterLab, and jsonschema's optional IRI
#: checker (nbformat never validates IRIs; importing it builds 38 grammars, about a second
#: of every submission's start)
GRADER_EXCLUDES = ("jupyterlab", "rfc3987-syntax")


def grader_lock(root: Path) -> str:
    """The pins of ``requirements.lock`` the grader needs: the runtime packages without
    :data:`GRADER_EXCLUDES` (no development or cluster extras either)."""
    import tomllib

    from mlcourse.authoring import runtime_lock

    deps = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["project"][
        "dependencies"
    ]
    text = runtime_lock(
        (root / "requirements.lock").read_text(encoding="utf-8"), deps, GRADER_EXCLUDES
    )
    return text.replace("runtime packages of mlcourse", "packages the mlcourse grader needs", 1)


def _copy_course(dest: Path) -> None:
    root = _course_root()
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    shutil.copytree(root / "src", dest / "src", ignore=ignore)
    (dest / "grader.lock").write_text(grader_lock(root), encoding="utf-8")


def build_bundle(
    out: Path,
    notebook: str | None,
    seed: int,
    *,
    solution: Path | None = None,
    data_variant: Path | None = None,
    isolation: str = "auto",
    exercises_module: str | None = None,
    exercises_path: Path | None = None,
    visibility: str = "visible",
) -> Path:
    """Write the autograder zip; return its path.

    ``visibility`` is Gradescope's setting for every exercise's result (visible,
    after_published, after_due_date or hidden).
    """
    if visibility not in ("visible", "after_published", "after_due_date", "hidden"):
        raise ValueError(
            f"visibility must be visible, after_published, after_due_date or hidden, "
            f"not {visibility!r}"
        )
    from mlcourse.grading.exercises_adapter import default_solution_path, load_exercise_set
    from mlcourse.grading.variant import prepare_heldout, prepare_variant

    extra = (str(exercises_path),) if exercises_path else ()
    exset = load_exercise_set(notebook, exercises_module, extra)
    hw = exset.assignment
    if solution is None:
        solution = hw.solution_path if hw is not None else default_solution_path(exset.notebook)
    with tempfile.TemporaryDirectory() as tmp:
        stage = Path(tmp) / "bundle"
        stage.mkdir()
        _copy_course(stage / "course")
        shutil.copy2(solution, stage / "solution.ipynb")
        if data_variant is None:
            data_variant = _own_data(hw, Path(tmp), seed) if hw is not None else None
            data_variant = data_variant or prepare_variant(Path(tmp), seed)
        shutil.copytree(data_variant, stage / "data-variant")
        heldout = ""
        if any(ex.assess is not None for ex in exset.exercises):
            # made once here, not per submission; lives in source/ (root only, mode 0700)
            rows = hw.heldout_dir if hw is not None else prepare_heldout(Path(tmp), seed)
            if rows is not None:
                shutil.copytree(rows, stage / "heldout")
                heldout = "heldout"
        if hw is not None and exset.module_file is not None:
            # an own assignment: its checks module only (not the folder beside it)
            (stage / "exercises").mkdir()
            shutil.copy2(exset.module_file, stage / "exercises" / exset.module_file.name)
        elif exercises_module and exercises_path:
            shutil.copytree(
                exercises_path, stage / "exercises", ignore=shutil.ignore_patterns("__pycache__")
            )
        env = {
            "NOTEBOOK": exset.notebook if hw is not None else str(notebook),
            "SEED": str(seed),
            "ISOLATION": isolation,
            "EXERCISES_MODULE": exercises_module or "",
            "HELDOUT": heldout,
            "VISIBILITY": visibility,
            "PYTHON_VERSION": PYTHON_VERSION,
            "UV_VERSION": UV_VERSION,
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


def _own_data(hw: Any, tmp: Path, seed: int) -> Path:
    """An own assignment's data for the bundle: its make_data variant, its data folder, or
    an empty folder when it reads no data."""
    from mlcourse.grading.variant import prepare_variant

    if hw.make_data is not None:
        return prepare_variant(tmp, seed, lambda vseed, folder: hw.make_data(vseed, folder))
    if hw.data is not None:
        return hw.home / hw.data
    empty = tmp / "no-data"
    empty.mkdir(exist_ok=True)
    return empty


def run(args: argparse.Namespace) -> int:
    from mlcourse.grading.cli import target_and_seed

    seed = target_and_seed(args, "gradescope-bundle")
    if seed is None:
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
            visibility=args.visibility,
        )
    except (FileNotFoundError, ValueError, RuntimeError) as exc:
        print(f"mlcourse gradescope-bundle: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {path}: upload it as the autograder of a Gradescope programming assignment")
    print("keep it private: it contains the reference solution and the secret seed")
    return 0
