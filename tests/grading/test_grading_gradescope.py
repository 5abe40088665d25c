"""The Gradescope bundle, set up and run in a simulated /autograder layout.

``setup.sh`` runs as Gradescope runs it once per image (``apt-get`` stubbed out, uv taken from
this environment instead of PyPI, Python 3.11 found on the machine instead of downloaded),
then ``run_autograder`` grades submissions as Gradescope runs it once per submission.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from graderkit import FAKEPKG, SEED, SOLUTION, notebook_json, with_answer

from mlcourse.grading.gradescope import build_bundle

pytestmark = pytest.mark.slow

#: what the grader's environment must not contain: development tools, the cluster extra and
#: JupyterLab (pinned runtime packages only)
NOT_FOR_THE_GRADER = ("pytest", "playwright", "ruff", "dask", "distributed", "jupyterlab")
LIST_DISTRIBUTIONS = (
    "import importlib.metadata as m\n"
    "print('\\n'.join(sorted({d.metadata['Name'].lower() for d in m.distributions()})))"
)


@pytest.fixture(scope="module")
def bundle(course, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("bundle") / "autograder.zip"
    return build_bundle(
        out,
        "99",
        SEED,
        solution=course["solution"],
        data_variant=course["variant"],
        isolation="process",
        exercises_module="fake_exercises",
        exercises_path=FAKEPKG,
        visibility="after_published",
    )


def _stub_bin(root: Path) -> Path:
    """A PATH folder whose ``apt-get`` does nothing (the image's packages are not ours)."""
    stub = root / "stub-bin"
    stub.mkdir()
    (stub / "apt-get").write_text("#!/bin/sh\nexit 0\n")
    (stub / "apt-get").chmod(0o755)
    return stub


@pytest.fixture(scope="module")
def image(bundle, tmp_path_factory) -> Path:
    """An /autograder folder after ``setup.sh``: the image every submission starts from."""
    root = tmp_path_factory.mktemp("image") / "autograder"
    with zipfile.ZipFile(bundle) as zf:
        zf.extractall(root / "source")
    for name in ("setup.sh", "run_autograder"):
        (root / "source" / name).chmod(0o755)
    uv = shutil.which("uv") or str(Path(sys.executable).parent / "uv")
    env = {
        **os.environ,
        "AUTOGRADER_ROOT": str(root),
        "MLCOURSE_UV": uv,
        # the bytecode of the whole environment takes a minute on 2 cores and is uv's own
        # work; the reference run below still writes the bytecode of what grading imports
        "MLCOURSE_COMPILE_BYTECODE": "0",
        "PATH": f"{_stub_bin(root.parent)}:{os.environ['PATH']}",
    }
    env.pop("VIRTUAL_ENV", None)
    proc = subprocess.run(
        ["bash", str(root / "source" / "setup.sh")],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return root


def _submit(image: Path, tmp_path: Path, files: dict[str, str], metadata: dict | None = None):
    """A fresh container from the image, one submission graded; (results, grader log)."""
    root = tmp_path / "autograder"
    # the environment (740 MB) is hard-linked: nothing writes to its files, and new files
    # (bytecode) land in the copy's own folders; everything else is copied
    shutil.copytree(
        image, root, symlinks=True, ignore=lambda d, _: {"venv"} if d == str(image) else set()
    )
    shutil.copytree(image / "venv", root / "venv", symlinks=True, copy_function=os.link)
    (root / "submission").mkdir()
    for name, text in files.items():
        (root / "submission" / name).write_text(text)
    if metadata is not None:
        (root / "submission_metadata.json").write_text(json.dumps(metadata))
    env = {**os.environ, "AUTOGRADER_ROOT": str(root), "MLCOURSE_PRELOAD": "numpy,pandas,IPython"}
    env.pop("MLCOURSE_PYTHON", None)
    proc = subprocess.run(
        ["bash", str(root / "source" / "run_autograder")],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    results = json.loads((root / "results" / "results.json").read_text())
    return results, (root / "work" / "grader.log").read_text()


def test_bundle_has_entry_points_and_pinned_runtime_packages_only(bundle):
    with zipfile.ZipFile(bundle) as zf:
        names = set(zf.namelist())
        modes = {i.filename: (i.external_attr >> 16) & 0o777 for i in zf.infolist()}
        env = zf.read("mlcourse-grading.env").decode()
        lock = zf.read("course/grader.lock").decode()
    assert {"setup.sh", "run_autograder", "solution.ipynb", "course/grader.lock"} <= names
    assert "course/src/mlcourse/grading/cli.py" in names
    assert modes["run_autograder"] == 0o755 and modes["setup.sh"] == 0o755
    assert f"SEED={SEED}" in env and "VISIBILITY=after_published" in env
    assert not any("__pycache__" in n for n in names)
    pins = [line for line in lock.splitlines() if line and not line[0].isspace() and "#" != line[0]]
    assert {p.split("==")[0] for p in pins} >= {"numpy", "pandas", "scikit-learn", "ipython"}
    assert all(re.match(r"^[A-Za-z0-9._-]+==[^=\s]+", p) for p in pins), pins
    assert not [p for p in pins if p.split("==")[0] in NOT_FOR_THE_GRADER]


def test_setup_builds_a_runtime_environment_and_prepares_the_reference_once(image):
    py = image / "venv" / "bin" / "python"
    version = subprocess.run(
        [str(py), "-c", "import sys; print(sys.version_info[:2])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert version.strip() == "(3, 11)"
    listing = subprocess.run(
        [str(py), "-c", LIST_DISTRIBUTIONS], capture_output=True, text=True, check=True
    ).stdout.split()
    assert {"numpy", "pandas", "scikit-learn", "skops"} <= set(listing)
    assert not set(NOT_FOR_THE_GRADER) & set(listing)
    assert list((image / "prepared" / "private").glob("reference-*.json"))
    assert (image / "prepared").stat().st_mode & 0o077 == 0
    assert (image / "source").stat().st_mode & 0o077 == 0


def test_a_submission_is_graded_without_running_the_reference(image, tmp_path):
    meta = {"users": [{"name": "Ada Lovelace"}], "assignment": {"title": "Notebook 99"}}
    results, log = _submit(image, tmp_path, {"99_fake.ipynb": notebook_json(SOLUTION)}, meta)
    assert results["score"] == 4.0, log
    # the reference's facts were read from the cache setup.sh wrote, not computed again
    cache = tmp_path / "autograder" / "prepared" / "private"
    before = {
        (p.name, p.stat().st_mtime_ns) for p in (image / "prepared" / "private").glob("reference-*")
    }
    assert {(p.name, p.stat().st_mtime_ns) for p in cache.glob("reference-*")} == before
    assert results["output_format"] == "md" and results["test_output_format"] == "md"
    assert "Ada Lovelace" in results["output"] and "Notebook 99" in results["output"]
    assert "`99_fake.ipynb`" in results["output"]
    assert [t["max_score"] for t in results["tests"]] == [2.0, 1.0, 1.0]
    assert {t["visibility"] for t in results["tests"]} == {"after_published"}
    assert {t["status"] for t in results["tests"]} == {"passed"}


def test_several_notebooks_are_graded_on_the_one_named_like_the_assignment(image, tmp_path):
    files = {
        "scratch.ipynb": notebook_json(with_answer("q1_mean", "mean_score = 0.0")),
        "99_fake.ipynb": notebook_json(with_answer("q3_choice", "answer_q3 = 'a'")),
    }
    results, log = _submit(image, tmp_path, files)
    assert results["score"] == 3.0, log  # the named one: only q3 wrong
    assert "`scratch.ipynb`" in results["output"] and "Not graded" in results["output"]
    failed = [t["name"] for t in results["tests"] if t["status"] == "failed"]
    assert len(failed) == 1 and "q3_choice" in failed[0]


def test_an_exception_shows_the_learners_line_as_code(image, tmp_path):
    cells = with_answer("q1_mean", "x = 1\nmean_score = float(dff['score'].mean())")
    results, _ = _submit(image, tmp_path, {"99_fake.ipynb": notebook_json(cells)})
    [q1] = [t for t in results["tests"] if "q1_mean" in t["name"]]
    assert q1["status"] == "failed" and "NameError" in q1["output"]
    assert "line 2 of your cell: `mean_score = float(dff['score'].mean())`" in q1["output"]


def test_an_empty_submission_says_what_to_upload(image, tmp_path):
    results, _ = _submit(image, tmp_path, {"notes.txt": "no notebook here"})
    assert results["score"] == 0 and "99_fake" in results["output"]
    assert ".ipynb" in results["output"]


def test_run_autograder_reports_a_broken_setup_as_a_zero_with_a_message(bundle, tmp_path):
    root = tmp_path / "autograder"
    with zipfile.ZipFile(bundle) as zf:
        zf.extractall(root / "source")
    (root / "submission").mkdir(parents=True)
    env = {**os.environ, "AUTOGRADER_ROOT": str(root), "MLCOURSE_PYTHON": "/nonexistent/python"}
    subprocess.run(["bash", str(root / "source" / "run_autograder")], env=env, timeout=60)
    results = json.loads((root / "results" / "results.json").read_text())
    assert results["score"] == 0 and "could not grade" in results["output"]
