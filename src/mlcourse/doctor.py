"""``mlcourse doctor``: check this installation, one OK/FAIL line per check.

The output is made to be pasted into a bug report: it names the platform, the Python and
package versions against ``requirements.lock``, the data files against their checksums,
whether JupyterLab and a Python kernel are available, and whether bubblewrap can isolate
student code (a warning only: learners do not need it, instructors who grade do). The exit
status is 1 when any check fails.

Example
-------
>>> from mlcourse.doctor import run_checks
>>> results = run_checks()  # doctest: +SKIP
>>> all(r.ok for r in results)  # doctest: +SKIP
True
"""

from __future__ import annotations

import argparse
import importlib.metadata as md
import os
import platform
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from packaging.markers import Marker

from mlcourse import __version__

MIN_PYTHON = (3, 11)
#: packages whose versions get a line of their own; the rest of the lock is summarised
KEY_PACKAGES = (
    "numpy",
    "pandas",
    "scikit-learn",
    "scipy",
    "matplotlib",
    "jupyterlab",
    "ipykernel",
    "nbformat",
    "nbclient",
    "pyarrow",
)
_LOCK_LINE = re.compile(
    r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;#]+)\s*(?:;\s*([^#]+))?"
)


@dataclass(frozen=True)
class CheckResult:
    """One line of the report: ``status`` is "OK", "FAIL", "WARN" or "INFO"."""

    status: str
    name: str
    detail: str

    @property
    def ok(self) -> bool:
        return self.status != "FAIL"

    def line(self) -> str:
        return f"{self.status:<4}  {self.name:<28} {self.detail}"


def repo_root() -> Path | None:
    """The source checkout this package runs from, or None for a plain install."""
    here = Path(__file__).resolve().parent  # src/mlcourse
    root = here.parent.parent
    return root if (root / "pyproject.toml").is_file() else None


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def read_lock(path: Path) -> dict[str, str]:
    """Map normalised package name -> exact version from a ``requirements.lock`` file.

    Lines whose environment marker does not apply here (``; sys_platform == 'win32'``) are
    left out, so only the packages this machine should have are compared.
    """
    pins: dict[str, str] = {}
    for raw in path.read_text(encoding="utf-8").splitlines():
        m = _LOCK_LINE.match(raw.strip())
        if m and (m.group(3) is None or Marker(m.group(3).strip()).evaluate()):
            pins[_normalise(m.group(1))] = m.group(2)
    return pins


def _installed(name: str) -> str | None:
    try:
        return md.version(name)
    except md.PackageNotFoundError:
        return None


def check_platform() -> Iterator[CheckResult]:
    yield CheckResult(
        "INFO",
        "platform",
        f"{platform.system()} {platform.release()} {platform.machine()}; mlcourse {__version__}",
    )
    ok = sys.version_info >= MIN_PYTHON
    want = ".".join(map(str, MIN_PYTHON))
    yield CheckResult(
        "OK" if ok else "FAIL",
        "python",
        f"{platform.python_version()} at {sys.executable}"
        + ("" if ok else f" (need {want} or newer: run `make lab` with python{want} on PATH)"),
    )


def check_packages(lock: Path | None) -> Iterator[CheckResult]:
    if lock is None or not lock.is_file():
        for name in KEY_PACKAGES:
            version = _installed(name)
            yield CheckResult(
                "OK" if version else "FAIL",
                name,
                version or "not installed: run `pip install mlcourse` again",
            )
        return
    pins = read_lock(lock)
    mismatched: list[str] = []
    for name, want in sorted(pins.items()):
        have = _installed(name)
        if have != want:
            mismatched.append(f"{name} {have or 'missing'} (lock: {want})")
        if name in {_normalise(k) for k in KEY_PACKAGES}:
            yield CheckResult(
                "OK" if have == want else "FAIL",
                name,
                f"{have or 'not installed'}"
                + ("" if have == want else f", lock wants {want}: run `make lab` or `make test`"),
            )
    if mismatched:
        shown = "; ".join(mismatched[:8]) + (" ..." if len(mismatched) > 8 else "")
        yield CheckResult(
            "FAIL",
            "lock file",
            f"{len(mismatched)} of {len(pins)} packages differ from {lock.name}: {shown}; "
            "`make clean lab` rebuilds the environment",
        )
    else:
        yield CheckResult("OK", "lock file", f"all {len(pins)} packages match {lock.name}")


def check_data() -> Iterator[CheckResult]:
    try:
        from mlcourse import datasets

        where = datasets.data_dir()
        results = datasets.verify()
    except Exception as exc:  # the data check must report, never crash the doctor
        yield CheckResult("FAIL", "data", f"{type(exc).__name__}: {exc}")
        return
    source = "MLCOURSE_DATA_DIR" if os.environ.get("MLCOURSE_DATA_DIR") else "default"
    yield CheckResult("INFO", "data directory", f"{where} ({source})")
    for res in results:
        yield CheckResult("OK" if res.ok else "FAIL", f"data {res.name}", res.detail)


def check_jupyter() -> Iterator[CheckResult]:
    lab = _installed("jupyterlab")
    exe = Path(sys.executable).parent / "jupyter-lab"
    found = exe if exe.exists() else shutil.which("jupyter-lab")
    yield CheckResult(
        "OK" if lab and found else "FAIL",
        "jupyter-lab command",
        f"{lab} ({found})" if lab and found else "JupyterLab is not installed: run `make lab`",
    )
    try:
        from jupyter_client.kernelspec import KernelSpecManager

        specs = KernelSpecManager().find_kernel_specs()
    except Exception as exc:
        yield CheckResult("FAIL", "python kernel", f"cannot list kernels: {exc}")
        return
    if "python3" in specs:
        yield CheckResult("OK", "python kernel", f"python3 at {specs['python3']}")
    else:
        yield CheckResult(
            "FAIL",
            "python kernel",
            "no python3 kernel found: run `python -m ipykernel install --sys-prefix`",
        )


def check_bytecode() -> Iterator[CheckResult]:
    """WARN when the installed libraries carry no compiled bytecode.

    Without it every new kernel (and every grading sandbox, whose view of the environment is
    read-only) compiles numpy, pandas and scikit-learn again: seconds at each start.
    """
    import importlib.util
    import sysconfig

    site = Path(sysconfig.get_paths()["purelib"])
    probes = ["sklearn/base.py", "pandas/core/frame.py", "numpy/_core/numeric.py"]
    missing = []
    for rel in probes:
        source = site / rel
        if source.is_file() and not Path(importlib.util.cache_from_source(str(source))).is_file():
            missing.append(rel.split("/", 1)[0])
    if missing:
        yield CheckResult(
            "WARN",
            "bytecode",
            f"no compiled bytecode for {', '.join(missing)}: every kernel start compiles them "
            "again; rebuild with `make clean && make lab` (the bootstrap compiles at install)",
        )
    else:
        yield CheckResult("OK", "bytecode", "libraries are compiled (fast kernel start)")


def check_bubblewrap() -> Iterator[CheckResult]:
    """WARN when bubblewrap is missing or cannot start a sandbox here.

    Only grading needs it (``mlcourse grade`` isolates each submission with it and refuses
    ``--isolation strict`` without it), so a learner's installation passes with a warning.
    Being installed is not enough: containers and some distributions forbid the user
    namespaces it needs, so the check starts an empty sandbox once.
    """
    from mlcourse.grading.sandbox import BWRAP, bwrap_available

    fix = "install it with `sudo apt-get install bubblewrap` (Debian/Ubuntu)"
    if not bwrap_available():
        yield CheckResult("WARN", "bubblewrap (grading only)", f"{BWRAP} not found: {fix}")
        return
    args = [BWRAP, "--unshare-all", "--die-with-parent", "--ro-bind", "/", "/"]
    args += ["--dev", "/dev", "--proc", "/proc", "true"]
    try:
        proc = subprocess.run(args, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        proc = None
        reason = f"{type(exc).__name__}: {exc}"
    if proc is not None and proc.returncode == 0:
        yield CheckResult("OK", "bubblewrap (grading only)", f"{BWRAP} starts a sandbox")
        return
    if proc is not None:
        reason = (proc.stderr.strip().splitlines() or [f"exit status {proc.returncode}"])[-1]
    yield CheckResult(
        "WARN",
        "bubblewrap (grading only)",
        f"{BWRAP} cannot start a sandbox ({reason}): user namespaces may be disabled on this "
        "machine (e.g. a container); grading needs them, learners do not",
    )


CHECKS: tuple[Callable[[], Iterator[CheckResult]], ...] = (
    check_platform,
    lambda: check_packages((repo_root() or Path("/nonexistent")) / "requirements.lock"),
    check_data,
    check_jupyter,
    check_bytecode,
    check_bubblewrap,
)


def run_checks() -> list[CheckResult]:
    """Run every check and return its lines in order."""
    results: list[CheckResult] = []
    for check in CHECKS:
        try:
            results.extend(check())
        except Exception as exc:  # one broken check must not hide the others
            results.append(CheckResult("FAIL", getattr(check, "__name__", "check"), repr(exc)))
    return results


def add_arguments(parser: argparse.ArgumentParser) -> None:
    if __doc__:  # the module docstring's first paragraph, without its reST markup
        text = __doc__.split("\n\n")[1].replace("\n", " ")
        parser.description = re.sub(r"``([^`]+)``", r"\1", text)


def run(args: argparse.Namespace) -> int:
    results = run_checks()
    for res in results:
        print(res.line())
    failed = sum(not r.ok for r in results)
    print(
        f"{'FAIL' if failed else 'OK':<4}  {'summary':<28} {failed} of {len(results)} checks failed"
    )
    return 1 if failed else 0
