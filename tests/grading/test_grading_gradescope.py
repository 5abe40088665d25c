"""The Gradescope bundle, run in a simulated /autograder layout."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from graderkit import FAKEPKG, SEED, SOLUTION, notebook_json, with_answer

from mlcourse.grading.gradescope import build_bundle

pytestmark = pytest.mark.slow


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
    )


def test_bundle_has_gradescope_entry_points_at_its_root(bundle):
    with zipfile.ZipFile(bundle) as zf:
        names = set(zf.namelist())
        modes = {i.filename: (i.external_attr >> 16) & 0o777 for i in zf.infolist()}
        env = zf.read("mlcourse-grading.env").decode()
    assert {"setup.sh", "run_autograder", "solution.ipynb", "course/pyproject.toml"} <= names
    assert "course/src/mlcourse/grading/cli.py" in names
    assert modes["run_autograder"] == 0o755 and modes["setup.sh"] == 0o755
    assert f"SEED={SEED}" in env and not any("__pycache__" in n for n in names)


@pytest.mark.parametrize(
    ("cells", "score"),
    [(SOLUTION, 4.0), (with_answer("q1_mean", "mean_score = 0.0"), 2.0)],
)
def test_run_autograder_writes_results_json(bundle, tmp_path, cells, score):
    root = tmp_path / "autograder"
    with zipfile.ZipFile(bundle) as zf:
        zf.extractall(root / "source")
    (root / "submission").mkdir(parents=True)
    (root / "submission" / "notebook.ipynb").write_text(notebook_json(cells))
    env = {
        **os.environ,
        "AUTOGRADER_ROOT": str(root),
        "MLCOURSE_PYTHON": sys.executable,
        "MLCOURSE_PRELOAD": "numpy,pandas,IPython",
    }
    proc = subprocess.run(
        ["bash", str(root / "source" / "run_autograder")],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    results = json.loads((root / "results" / "results.json").read_text())
    log = (root / "work" / "grader.log").read_text()
    assert results["score"] == score, log
    assert [t["max_score"] for t in results["tests"]] == [2.0, 1.0, 1.0]
    assert {t["status"] for t in results["tests"]} <= {"passed", "failed"}
    shutil.rmtree(root)


def test_run_autograder_reports_a_broken_setup_as_a_zero_with_a_message(bundle, tmp_path):
    root = tmp_path / "autograder"
    with zipfile.ZipFile(bundle) as zf:
        zf.extractall(root / "source")
    (root / "submission").mkdir(parents=True)
    env = {**os.environ, "AUTOGRADER_ROOT": str(root), "MLCOURSE_PYTHON": "/nonexistent/python"}
    subprocess.run(["bash", str(root / "source" / "run_autograder")], env=env, timeout=60)
    results = json.loads((root / "results" / "results.json").read_text())
    assert results["score"] == 0 and "could not grade" in results["output"]
