"""The grading seed never stays in a readable environment block (issue 21, item 3)."""

from __future__ import annotations

import os
import subprocess
import sys

from mlcourse._seedenv import SEED_ENV, SEED_FD_ENV

SEED = "918273645501"
PROBE = f"""
import os
from mlcourse._seedenv import reexec_without_seed, take_seed_text
reexec_without_seed()
raw = open('/proc/self/environ', 'rb').read()
print({SEED_ENV!r}.encode() + b'=' in raw, {SEED!r}.encode() in raw)
print(take_seed_text())
print(os.environ.get({SEED_FD_ENV!r}), len(os.listdir('/proc/self/fd')))
"""


def test_the_command_moves_the_seed_out_of_its_environment_block() -> None:
    env = {**os.environ, SEED_ENV: SEED}
    env.pop(SEED_FD_ENV, None)
    out = subprocess.run(
        [sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0] == "False False"  # /proc/self/environ shows neither name nor value
    assert lines[1] == SEED  # ... yet the seed arrived, through the pipe
    assert lines[2].startswith("None ")  # read once: the descriptor's number is gone too


def test_without_the_variable_nothing_happens() -> None:
    env = {k: v for k, v in os.environ.items() if k not in {SEED_ENV, SEED_FD_ENV}}
    out = subprocess.run(
        [sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[:2] == ["False False", "None"]


def test_mlcourse_command_reexecs(tmp_path) -> None:
    """The real entry point starts itself again (``python -m mlcourse``) and still runs the
    command: here it stops, as it should, on the missing submissions."""
    env = {**os.environ, SEED_ENV: SEED}
    out = subprocess.run(
        [sys.executable, "-m", "mlcourse", "grade", str(tmp_path / "none"), "--notebook", "01"]
        + ["--out", str(tmp_path / "out")],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 2, out.stderr
    assert "no submissions at" in out.stderr and "Traceback" not in out.stderr
    assert SEED not in out.stdout + out.stderr
