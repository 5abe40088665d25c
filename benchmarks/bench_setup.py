"""Set-up time of `make test`: cold (new environment) and warm (environment current).

Builds a throw-away environment in a temporary directory through the Makefile's own stamp
target, so the figures are the ones a learner sees before the first test runs:

* cold, uv cache empty: everything downloaded from the package index;
* cold, uv cache warm: a second clone on the same machine;
* warm: the environment is current, make only compares timestamps (goal: under 2 s).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def timed_make(venv: Path, env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(
        ["make", "--no-print-directory", f"VENV={venv}", f"{venv}/.mlcourse-installed"],
        cwd=REPO,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return time.perf_counter() - t0


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="mlcourse-bench-") as tmp:
        tmp_path = Path(tmp)
        venv = tmp_path / "venv"
        env = {**os.environ, "UV_CACHE_DIR": str(tmp_path / "uv-cache")}
        # keep uv off PATH so the bootstrap path a new machine takes is measured
        env["PATH"] = os.pathsep.join(
            p for p in env["PATH"].split(os.pathsep) if not (Path(p) / "uv").exists()
        )
        cold = timed_make(venv, env)
        shutil.rmtree(venv)
        cold_cached = timed_make(venv, env)
        warm = min(timed_make(venv, env) for _ in range(3))
    print(f"make test set-up, cold (empty uv cache):  {cold:6.1f} s")
    print(f"make test set-up, cold (warm uv cache):   {cold_cached:6.1f} s")
    print(f"make test set-up, warm (environment current): {warm:6.3f} s   goal < 2 s")


if __name__ == "__main__":
    main()
