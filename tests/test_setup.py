"""The two-command setup: environment files agree, the lock pins everything, `make lab` serves."""

from __future__ import annotations

import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import tomllib
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from mlcourse.doctor import read_lock

REPO = Path(__file__).resolve().parent.parent


def _pyproject() -> dict:
    return tomllib.loads((REPO / "pyproject.toml").read_text())


def _runtime_requirements() -> dict[str, Requirement]:
    reqs = [Requirement(r) for r in _pyproject()["project"]["dependencies"]]
    return {canonicalize_name(r.name): r for r in reqs}


def _conda_requirements() -> dict[str, str]:
    env = yaml.safe_load((REPO / "environment.yml").read_text())
    out: dict[str, str] = {}
    for dep in env["dependencies"]:
        if not isinstance(dep, str):
            continue
        m = re.match(r"^([A-Za-z0-9_.-]+)\s*(.*)$", dep)
        assert m, f"cannot parse environment.yml entry {dep!r}"
        out[canonicalize_name(m.group(1))] = m.group(2).replace(" ", "")
    return out


def test_environment_yml_agrees_with_pyproject():
    runtime = _runtime_requirements()
    conda = _conda_requirements()
    conda_pkgs = {k: v for k, v in conda.items() if k not in {"python", "pip"}}
    assert set(conda_pkgs) == set(runtime), (
        "environment.yml and pyproject.toml list different packages: "
        f"only in environment.yml {sorted(set(conda_pkgs) - set(runtime))}, "
        f"only in pyproject.toml {sorted(set(runtime) - set(conda_pkgs))}"
    )
    for name, req in runtime.items():
        assert conda_pkgs[name] == str(req.specifier), (
            f"{name}: environment.yml says {conda_pkgs[name]!r}, "
            f"pyproject.toml says {str(req.specifier)!r}"
        )
    py = _pyproject()["project"]["requires-python"]
    assert conda["python"] == py, f"python: environment.yml {conda['python']}, pyproject {py}"


def test_lock_pins_every_requirement_within_its_bounds():
    pins = read_lock(REPO / "requirements.lock")
    project = _pyproject()["project"]
    wanted = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        wanted.extend(extra)
    for text in wanted:
        req = Requirement(text)
        name = canonicalize_name(req.name)
        assert name in pins, f"{name} is required but not pinned in requirements.lock"
        assert req.specifier.contains(pins[name], prereleases=True), (
            f"requirements.lock pins {name}=={pins[name]}, outside {req.specifier}; run `make lock`"
        )


#: Library features the notebooks and helpers rely on, with the release that introduced them.
#: The floors in pyproject.toml (and environment.yml, kept equal above) must be at least these.
#: CI installs only the pinned lock, so it cannot run the course on the oldest allowed versions;
#: instead this table ties each floor to a feature, and the test below exercises every feature on
#: the installed version, so raising a floor without need or using a newer feature shows up here.
FEATURE_FLOORS = {
    "scikit-learn": (
        "1.9",
        "TargetEncoder(cv=<CV splitter>) (notebook 01; 1.9 accepts splitters, older releases "
        "only an int)",
    ),
}


def test_lock_was_made_by_make_lock():
    """The lock's header names the command of ``make lock`` (flags included: the packages it
    leaves out, such as rfc3987-syntax whose grammars cost 1.5 s in every nbformat import)."""
    header = (REPO / "requirements.lock").read_text().splitlines()[1].strip("# ").split()
    dry = subprocess.run(
        ["make", "-n", "--no-print-directory", "lock"],
        cwd=REPO, capture_output=True, text=True, check=True,
    )  # fmt: skip
    made = dry.stdout.replace("\\\n", " ").split()
    made = made[made.index("compile") - 2 :]
    assert header[:2] == ["uv", "pip"] and header[2:] == made[2:], (header, made)
    text = (REPO / "requirements.lock").read_text()
    assert "\nrfc3987-syntax==" not in text and "\nlark==" not in text


def test_floors_cover_the_features_the_notebooks_use():
    from packaging.version import Version

    runtime = _runtime_requirements()
    for name, (needed, why) in FEATURE_FLOORS.items():
        floors = [Version(s.version) for s in runtime[name].specifier if s.operator == ">="]
        assert floors, f"{name} has no >= floor in pyproject.toml"
        assert max(floors) >= Version(needed), (
            f"{name}>={max(floors)} in pyproject.toml, but the course needs {needed}: {why}"
        )


def test_installed_versions_have_the_features_behind_the_floors():
    import numpy as np
    from sklearn.model_selection import StratifiedKFold
    from sklearn.preprocessing import TargetEncoder

    X = np.array([["a"], ["b"]] * 10, dtype=object)
    y = np.array([0, 1] * 10)
    cv = StratifiedKFold(n_splits=2, shuffle=True, random_state=0)
    Z = TargetEncoder(cv=cv).fit_transform(X, y)  # raises before scikit-learn 1.9
    assert Z.shape == (20, 1)


def test_ci_runs_the_readme_test_command():
    readme = (REPO / "README.md").read_text()
    ci = (REPO / ".ci" / "run").read_text()
    assert "make test" in readme
    assert re.search(r"^make test\s*$", ci, flags=re.M), ".ci/run must call `make test`"


def test_environment_is_current_so_make_skips_setup():
    stamp = REPO / ".venv" / ".mlcourse-installed"
    if not stamp.exists():
        pytest.skip("not running inside the Makefile-built .venv")
    # `make -q` exits 0 when the target is up to date, i.e. no bootstrap would run
    res = subprocess.run(["make", "-q", ".venv/.mlcourse-installed"], cwd=REPO)
    assert res.returncode == 0, "the lock or pyproject changed after the environment was built"


def test_make_help_lists_the_commands_and_is_the_default():
    """Plain `make` lists the commands instead of building the environment and stopping."""
    for args in (["make", "help"], ["make"]):
        res = subprocess.run(
            [*args, "--no-print-directory"], cwd=REPO, capture_output=True, text=True, timeout=60
        )
        assert res.returncode == 0, res.stderr
        for target in ("lab", "test", "doctor", "grade", "release"):
            assert f"make {target} " in res.stdout, res.stdout


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="make and process groups are POSIX")
def test_make_lab_serves_jupyterlab_with_token():
    port, token = _free_port(), secrets.token_hex(16)
    env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(REPO / ".pytest_cache" / f"rt-{port}")}
    proc = subprocess.Popen(
        [
            "make",
            "--no-print-directory",
            "lab",
            f"PORT={port}",
            f"LAB_ARGS=--no-browser --ServerApp.ip=127.0.0.1 --IdentityProvider.token={token}",
        ],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 90
        body, status = "", None
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                out = proc.stdout.read().decode(errors="replace") if proc.stdout else ""
                pytest.fail(f"make lab exited with {proc.returncode}:\n{out[-3000:]}")
            try:
                with urllib.request.urlopen(
                    f"http://127.0.0.1:{port}/lab?token={token}", timeout=5
                ) as resp:
                    status, body = resp.status, resp.read().decode()
                    break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.5)
        assert status == 200, "JupyterLab did not answer on /lab within 90 s"
        assert "JupyterLab" in body or "jupyter-config-data" in body
        # a quiet first screen: no "get notified about official Jupyter news?" toast
        assert "@jupyterlab/apputils-extension:announcements" in body, "news prompt not disabled"
        with urllib.request.urlopen(
            f"http://127.0.0.1:{port}/lab/api/news?token={token}", timeout=5
        ) as resp:
            assert json.loads(resp.read()) == {"news": []}
        # the file browser's root is the course folder, so datasets/ can be browsed
        with urllib.request.urlopen(
            f"http://127.0.0.1:{port}/api/contents?token={token}", timeout=5
        ) as resp:
            names = {item["name"] for item in json.loads(resp.read())["content"]}
        assert {"notebooks", "datasets"} <= names, names
        # without the token the API refuses
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/contents", timeout=5)
        assert err.value.code == 403
    finally:
        _stop_group(proc)


def _stop_group(proc: subprocess.Popen) -> None:
    for sig, wait in ((signal.SIGTERM, 20), (signal.SIGKILL, 10)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            break
        try:
            proc.wait(timeout=wait)
            break
        except subprocess.TimeoutExpired:
            continue
