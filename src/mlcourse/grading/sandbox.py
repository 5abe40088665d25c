"""Trusted side of execution: start warm sandboxes, send jobs, read results, enforce time limits.

A :class:`Sandbox` owns one zygote process (see :mod:`mlcourse.grading.zygote`). With
``isolation="strict"`` the zygote runs under bubblewrap: its own user, PID, network, IPC and
mount namespaces; a read-only view of the Python installation, the installed packages and the
data variant; a size-limited tmpfs as scratch directory; nothing else of the host. With
``isolation="process"`` it runs on the host with resource limits only (and, when the grader
runs as root, the child drops to user ``nobody``).

Example
-------
>>> cfg = SandboxConfig(isolation="process", data_dir=Path("variant"), exercises_module="m")
>>> with Sandbox(cfg) as box:  # doctest: +SKIP
...     run = box.run("job1", [{"index": 0, "source": "x = 1", "probe": ["q1"]}], {"q1": 7})
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from mlcourse.grading.zygote import recv_msg, send_msg

Isolation = Literal["strict", "process"]
#: ``notebook``: run a submission's cells and probe them; ``assess``: run the exercises'
#: trusted-code ``assess`` steps on observations (the inspector, see inspector.py)
Mode = Literal["notebook", "assess"]
NOBODY = 65534
SYSRQ = "/proc/sysrq-trigger"
BWRAP = "/usr/bin/bwrap"

#: skops, imported without its scan of all of scikit-learn (see mlcourse.exercises._skops):
#: added to the preload when an exercise sends a fitted model
SKOPS_PRELOAD = "mlcourse.exercises._skops"
#: libraries imported once in the zygote, so each submission starts warm
DEFAULT_PRELOAD = (
    "numpy",
    "pandas",
    "scipy",
    "scipy.stats",
    "scipy.cluster.hierarchy",
    "scipy.spatial.distance",
    "sklearn",
    "sklearn.base",
    "sklearn.compose",
    "sklearn.pipeline",
    "sklearn.preprocessing",
    "sklearn.impute",
    "sklearn.linear_model",
    "sklearn.ensemble",
    "sklearn.tree",
    "sklearn.cluster",
    "sklearn.decomposition",
    "sklearn.metrics",
    "sklearn.model_selection",
    "sklearn.inspection",
    "sklearn.calibration",
    "matplotlib",
    "matplotlib.pyplot",
    "IPython",
    "mlcourse.exercises",
)


class SandboxError(RuntimeError):
    """The sandbox could not be started (missing bubblewrap, broken environment, ...)."""


@dataclass(frozen=True)
class Limits:
    """Resource limits for one submission.

    ``memory_mb`` is address space *on top of* the warm interpreter (which already holds
    numpy, pandas and scikit-learn); ``cell_timeout`` is enforced softly inside the sandbox
    (the cell is interrupted and the notebook goes on) and hard from outside (the run is
    killed); ``total_timeout`` is a hard wall-clock limit for the whole notebook.
    """

    cell_timeout: float = 60.0
    total_timeout: float = 600.0
    memory_mb: int = 2048
    nproc: int = 64
    max_file_mb: int = 64
    scratch_mb: int = 256
    max_open_files: int = 256
    max_output_chars: int = 200_000
    max_result_bytes: int = 32 * 2**20
    max_job_bytes: int = 64 * 2**20

    def __post_init__(self) -> None:
        for name, value in asdict(self).items():
            if value <= 0:
                raise ValueError(f"limit {name} must be positive, got {value}")


@dataclass(frozen=True)
class SandboxConfig:
    isolation: Isolation
    data_dir: Path
    exercises_module: str
    extra_sys_path: tuple[str, ...] = ()
    limits: Limits = field(default_factory=Limits)
    preload: tuple[str, ...] = DEFAULT_PRELOAD
    python: str = sys.executable
    #: host folders never visible in the strict sandbox, even inside a mounted folder (the
    #: grader's output folder: gradebook, private/ with held-out players and reference results)
    hidden: tuple[str, ...] = ()
    mode: Mode = "notebook"
    #: the held-out players, mounted read-only (``assess`` mode only)
    heldout_dir: Path | None = None
    #: ``process`` isolation as root: the unprivileged user the child runs as (``nobody``
    #: for student code; the inspector has a user of its own, so that neither can read
    #: what the other holds)
    process_uid: int = NOBODY


@dataclass
class RunResult:
    """What came out of one sandboxed run (plain data only)."""

    outcome: str  # completed | crashed | timeout | cell_timeout | output_limit | sandbox_died
    detail: str
    cells: dict[int, dict[str, Any]]
    probes: dict[str, dict[str, Any]]
    seconds: float
    malformed_lines: int = 0
    isolation: str = ""  # e.g. "strict", "process (as nobody)"


def free_uid(start: int = 65533, stop: int = 60000) -> int:
    """An unused user id below ``start`` (no passwd entry): the inspector's own user under
    process isolation, distinct from ``nobody`` that student code runs as."""
    import pwd

    for uid in range(start, stop, -1):
        try:
            pwd.getpwuid(uid)
        except KeyError:
            return uid
    raise SandboxError(f"no unused user id between {stop} and {start}")


def bwrap_available() -> bool:
    return Path(BWRAP).exists() and os.access(BWRAP, os.X_OK)


def _python_roots() -> list[Path]:
    """Directories that make up the installed Python and packages (bound read-only)."""
    import mlcourse

    roots = {
        Path(sys.base_prefix),
        Path(sys.prefix),
        Path(mlcourse.__file__).resolve().parent.parent,
    }
    exe = Path(sys.executable)
    roots.add(exe.parent)
    roots.add(exe.resolve().parent.parent)
    # `python -m mlcourse grade` puts the working folder on sys.path; the zygote (run with -P)
    # does not need it, and mounting it would show everything in it (a checkout's grades/)
    cwd = Path.cwd().resolve()
    for entry in sys.path:
        p = Path(entry)
        if (
            entry
            and p.is_dir()
            and p.is_absolute()
            and not str(p).startswith(("/usr", "/tmp"))
            and p.resolve() != cwd
        ):
            roots.add(p)
    # keep only the outermost of nested paths
    out: list[Path] = []
    for r in sorted(roots, key=lambda p: (len(p.parts), str(p))):  # same argv on every run
        if not any(r.is_relative_to(o) for o in out) and str(r) not in {"/", "/usr"}:
            out.append(r)
    return out


def _hidden_paths(roots: list[Path], extra: tuple[str, ...] = ()) -> list[Path]:
    """Folders inside the mounted roots that student code must not see."""
    import mlcourse.exercises

    hidden = [Path(mlcourse.exercises.__file__).resolve().parent / "expected"]
    hidden += [
        Path(p).resolve()
        for p in extra
        if any(Path(p).resolve().is_relative_to(r.resolve()) for r in roots)
    ]
    for root in roots:
        for base in (root, root.parent):
            for name in ("solutions", "tests", ".git"):
                candidate = base / name
                # a folder that holds a mounted root itself (a custom exercises module under
                # tests/) stays visible
                if (
                    candidate.is_dir()
                    and candidate.is_relative_to(root)
                    and not any(r.resolve().is_relative_to(candidate) for r in roots)
                ):
                    hidden.append(candidate)
    return [p for p in dict.fromkeys(hidden) if p.is_dir()]


#: where the strict sandbox sees its scratch folder (the working folder) and the data variant
STRICT_SCRATCH = "/course/notebooks"
STRICT_DATA_DIR = "/course/datasets"
STRICT_HELDOUT_DIR = "/course/heldout"

#: the zygote's environment in both modes (nothing else of the grader's environment passes):
#: one thread per numeric library, a fixed hash seed, no display
_BASE_ENV = {
    "PATH": "/usr/local/bin:/usr/bin:/bin",
    "LANG": "C.UTF-8",
    "LC_ALL": "C.UTF-8",
    "PYTHONHASHSEED": "0",
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "NUMEXPR_NUM_THREADS": "1",
    "LOKY_MAX_CPU_COUNT": "1",
    # joblib runs n_jobs=4 sequentially: no worker processes, no semaphores left in /dev/shm
    "JOBLIB_MULTIPROCESSING": "0",
    "MPLBACKEND": "Agg",
}


def _strict_home(data_dir: str) -> dict[str, str]:
    """Strict isolation: home, temporary and config folders all in the sandbox's own /tmp."""
    return {
        "HOME": "/tmp/home",
        "TMPDIR": "/tmp",
        "MPLCONFIGDIR": "/tmp/mpl",
        "IPYTHONDIR": "/tmp/ipython",
        "MLCOURSE_DATA_DIR": data_dir,
    }


def _bwrap_options(cfg: SandboxConfig, env: dict[str, str]) -> list[str]:
    """bubblewrap's options for the strict sandbox, one part per thing it shares or hides."""
    scratch_bytes = str(cfg.limits.scratch_mb * 2**20)
    roots = _python_roots() + [Path(p) for p in cfg.extra_sys_path]
    return [
        *_bwrap_namespaces(),
        *_bwrap_private_tmp(scratch_bytes),
        *_bwrap_dev(scratch_bytes),
        *_bwrap_system_mounts(),
        *_bwrap_python_mounts(roots, cfg.hidden),
        *_bwrap_course_folders(Path(cfg.data_dir), scratch_bytes, cfg.heldout_dir),
        *_bwrap_environment(env),
    ]


def _bwrap_namespaces() -> list[str]:
    """Nothing shared with the host's processes: namespaces, user, session, environment."""
    return [
        "--unshare-all",  # own user, PID, network, IPC, UTS (and mount) namespaces
        "--die-with-parent",
        "--new-session",  # no controlling terminal to push input into
        "--uid", str(NOBODY),
        "--gid", str(NOBODY),
        "--clearenv",
        "--proc", "/proc",
        # Run as root, bubblewrap maps the sandbox's user to host root, and the kernel lets
        # host root write /proc/sys (a write to fs.lease-break-time reached the host): the
        # kernel's settings are read-only in the sandbox, and so is the SysRq trigger
        "--ro-bind", "/proc/sys", "/proc/sys",
        *(["--ro-bind", SYSRQ, SYSRQ] if Path(SYSRQ).exists() else []),
    ]  # fmt: skip


def _bwrap_private_tmp(scratch_bytes: str) -> list[str]:
    """A private /tmp (with the home folder in it)."""
    # /tmp is RAM: the same cap as the scratch folder, or files there fill memory
    return ["--size", scratch_bytes, "--tmpfs", "/tmp", "--dir", "/tmp/home"]


def _bwrap_dev(scratch_bytes: str) -> list[str]:
    """A minimal /dev, read-only, with a private size-capped /dev/shm.

    bubblewrap's /dev is a writable tmpfs shared by every child of the warm sandbox: files a
    submission left there (or in its /dev/shm) were read by the next one, and /dev/shm had no
    cap. Now /dev is read-only and /dev/shm is capped like /tmp and emptied after each run.
    """
    return [
        "--dev", "/dev",
        "--size", scratch_bytes, "--tmpfs", "/dev/shm",
        "--remount-ro", "/dev",
    ]  # fmt: skip


def _bwrap_system_mounts() -> list[str]:
    """The host's system folders and the few /etc files libraries need, read-only."""
    opts: list[str] = []
    for top in ("/usr", "/lib", "/lib64", "/bin", "/sbin", "/lib32", "/libx32"):
        p = Path(top)
        if p.is_symlink():
            opts += ["--symlink", os.readlink(p), top]
        elif p.is_dir():
            opts += ["--ro-bind", top, top]
    for etc in ("/etc/ld.so.cache", "/etc/localtime", "/etc/alternatives", "/etc/fonts"):
        if Path(etc).exists():
            opts += ["--ro-bind", etc, etc]
    return opts


def _bwrap_python_mounts(roots: list[Path], hidden: tuple[str, ...]) -> list[str]:
    """The Python installation and packages, read-only, minus what student code must not see."""
    opts: list[str] = []
    for root in roots:
        opts += ["--ro-bind", str(root), str(root)]
    # Answer keys and solutions never enter the sandbox, even when they sit inside a
    # mounted folder (the package's expected answers; a checkout's solutions/ and
    # tests/): an empty tmpfs is mounted over each.
    for path in _hidden_paths(roots, hidden):
        opts += ["--tmpfs", str(path), "--remount-ro", str(path)]
    return opts


def _bwrap_course_folders(
    data_dir: Path, scratch_bytes: str, heldout: Path | None = None
) -> list[str]:
    """The data variant (and, for the inspector, the held-out players) read-only, and a
    size-limited scratch folder as working folder."""
    held = ["--ro-bind", str(Path(heldout).resolve()), STRICT_HELDOUT_DIR] if heldout else []
    return [
        "--ro-bind", str(data_dir.resolve()), STRICT_DATA_DIR,
        *held,
        "--size", scratch_bytes, "--tmpfs", STRICT_SCRATCH,
        "--chdir", STRICT_SCRATCH,
    ]  # fmt: skip


def _bwrap_environment(env: dict[str, str]) -> list[str]:
    """The zygote's whole environment (``--clearenv`` removed everything else)."""
    opts: list[str] = []
    for k, v in env.items():
        opts += ["--setenv", k, v]
    return opts


def _nproc_limit(nproc: int, drop_uid: int | None) -> int:
    """RLIMIT_NPROC for the child: ``nproc`` on top of what its user already runs."""
    if not (os.geteuid() == 0 and drop_uid is None):
        # RLIMIT_NPROC counts every process of the (host) user the child runs as. (For
        # root the kernel ignores it, and the zygote's watchdog counts the run's own
        # processes against `nproc` instead.)
        nproc += _count_user_processes(drop_uid if drop_uid is not None else os.getuid())
    return nproc


class Sandbox:
    """One warm zygote (one job at a time). Use as a context manager."""

    def __init__(self, config: SandboxConfig, *, wait: bool = True, nice: int = 0) -> None:
        self.nice = nice  # niceness of its processes while it warms up (see SandboxPool)
        if config.isolation == "strict" and not bwrap_available():
            raise SandboxError(
                "--isolation strict needs bubblewrap (/usr/bin/bwrap), which is not installed. "
                "Install it (Debian/Ubuntu: `sudo apt-get install bubblewrap`) or run with "
                "--isolation process (resource limits only, no filesystem or network isolation)."
            )
        self.config = config
        self.proc: subprocess.Popen[bytes] | None = None
        self.ctrl: socket.socket | None = None
        self.host_tmp = Path(tempfile.mkdtemp(prefix="mlcourse-sandbox-"))
        os.chmod(self.host_tmp, 0o755)
        self.preload_errors: dict[str, str] = {}
        self.warnings: list[str] = []
        self.label = config.isolation
        self.start(wait=wait)

    # -- lifecycle -------------------------------------------------------------------------
    def _command(self, child_fd: int) -> tuple[list[str], dict[str, str], dict[str, Any]]:
        """The zygote's command line, its environment and its configuration message.

        ``strict``: the zygote under bubblewrap (see :func:`_bwrap_options`), as ``nobody``
        inside its own user namespace. ``process``: the zygote on the host, with a scratch
        folder in :attr:`host_tmp`; as root it drops to ``nobody`` when it can
        (:meth:`_process_drop_uid`). Sets :attr:`label`.
        """
        cfg = self.config
        lim = cfg.limits
        zygote_cmd = [cfg.python, "-s", "-P", "-m", "mlcourse.grading.zygote", "--ctrl-fd"]
        zygote_cmd.append(str(child_fd))
        drop_uid = None
        heldout = str(Path(cfg.heldout_dir).resolve()) if cfg.heldout_dir else None
        if cfg.isolation == "strict":
            scratch, data_dir = STRICT_SCRATCH, STRICT_DATA_DIR
            heldout = STRICT_HELDOUT_DIR if heldout else None
            env = {**_BASE_ENV, **_strict_home(data_dir)}
            cmd = [BWRAP, *_bwrap_options(cfg, env), "--", *zygote_cmd]
            self.label = "strict"
        else:
            scratch = str(self.host_tmp)
            data_dir = str(Path(cfg.data_dir).resolve())
            env = {**_BASE_ENV, **self._process_home(data_dir)}
            cmd = zygote_cmd
            drop_uid = self._process_drop_uid()
        if cfg.isolation == "process":
            dropped = "nobody" if drop_uid == NOBODY else f"uid {drop_uid}"
            who = dropped if drop_uid is not None else ("root" if os.geteuid() == 0 else "user")
            self.label = f"process (as {who})"
        zconfig = {
            "isolation": cfg.isolation,
            "scratch": scratch,
            "data_dir": data_dir,
            "env": env,
            "sys_path": list(cfg.extra_sys_path),
            "preload": list(cfg.preload),
            "exercises_module": cfg.exercises_module,
            "mode": cfg.mode,
            "heldout_dir": heldout,
            "drop_uid": drop_uid,
            "limits": {**asdict(lim), "nproc": _nproc_limit(lim.nproc, drop_uid)},
            "nice": self.nice,
        }
        return cmd, env, zconfig

    def _process_home(self, data_dir: str) -> dict[str, str]:
        """Process isolation: home, temporary and config folders in a fresh host folder."""
        zt = self.host_tmp / "zygote"
        zt.mkdir()
        return {
            "HOME": str(zt),
            "TMPDIR": str(zt),
            "MPLCONFIGDIR": str(zt / "mpl"),
            "IPYTHONDIR": str(zt / "ipython"),
            "MLCOURSE_DATA_DIR": data_dir,
        }

    def _process_drop_uid(self) -> int | None:
        """The user the child switches to under process isolation (``None``: stay who we are).

        As root, run student code as `nobody` -- but only if `nobody` can read the Python
        installation (e.g. not under /root); otherwise say so in `warnings`.
        """
        if os.geteuid() != 0:
            return None
        if all(_world_readable(p) for p in _python_roots()):
            return self.config.process_uid
        self.warnings.append(
            "process isolation as root, but the Python installation is not "
            "readable by user nobody: student code runs as root without a process "
            "limit; use --isolation strict"
        )
        return None

    def start(self, wait: bool = True) -> None:
        """Spawn the zygote. Call from a long-lived thread: bubblewrap's --die-with-parent
        (PR_SET_PDEATHSIG) fires when the *thread* that spawned it exits."""
        self.spawn()
        if wait:
            self.wait_ready()

    def spawn(self) -> None:
        parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        cmd, env, zconfig = self._command(child.fileno())
        if self.nice and shutil.which("nice"):
            cmd = [shutil.which("nice") or "nice", "-n", str(self.nice), *cmd]
        try:
            self.proc = subprocess.Popen(
                cmd,
                pass_fds=[child.fileno()],
                env=env,
                cwd=str(self.host_tmp),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                # MLCOURSE_GRADING_DEBUG=1 shows the sandbox's own error output (for bug reports)
                stderr=None if os.environ.get("MLCOURSE_GRADING_DEBUG") else subprocess.PIPE,
                start_new_session=True,
            )
        finally:
            child.close()
        self.ctrl = parent
        send_msg(parent, zconfig)

    def wait_ready(self) -> None:
        """Wait for the zygote's "ready" (its imports done); raise SandboxError if it failed."""
        assert self.ctrl is not None and self.proc is not None
        parent = self.ctrl
        ready, _, _ = select.select([parent], [], [], 300)
        msg = None
        if ready:
            with contextlib.suppress(OSError, ValueError):
                msg, _ = recv_msg(parent)
        if not msg or not msg.get("ready"):
            err = b""
            self.proc.kill()
            with contextlib.suppress(Exception):
                err = self.proc.communicate(timeout=5)[1] or b""
            err = err or b"(set MLCOURSE_GRADING_DEBUG=1 to see it)"
            self.close()
            raise SandboxError(
                "the grading sandbox did not start; its error output was:\n"
                + err.decode(errors="replace")[-3000:]
            )
        self.preload_errors = msg.get("preload_errors", {})
        # From now on the zygote's stderr is not needed; drain it so it can never block.
        if self.proc.stderr is not None:
            threading.Thread(target=_drain, args=(self.proc.stderr,), daemon=True).start()

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def _tree(self) -> list[int]:
        """Host pids of the sandbox's processes: bubblewrap and everything below it."""
        if self.proc is None:
            return []
        out, todo = [], [self.proc.pid]
        while todo:
            pid = todo.pop()
            out.append(pid)
            with contextlib.suppress(OSError), open(f"/proc/{pid}/task/{pid}/children") as fh:
                todo.extend(int(x) for x in fh.read().split())
        return out

    def _priorities(self) -> dict[tuple[int, str], int]:
        """The niceness of every process of the sandbox and of its session ("autogroup")."""
        out = {}
        for pid in self._tree():
            with contextlib.suppress(OSError):
                out[(pid, "process")] = os.getpriority(os.PRIO_PROCESS, pid)
            with contextlib.suppress(OSError, ValueError), open(f"/proc/{pid}/autogroup") as fh:
                out[(pid, "session")] = int(fh.read().split()[-1])  # "/autogroup-12 nice 0"
        return out

    @staticmethod
    def _set_priorities(values: dict[tuple[int, str], int]) -> None:
        """Set the niceness :meth:`_priorities` read (best effort: lowering it needs root)."""
        for (pid, what), value in values.items():
            with contextlib.suppress(OSError):
                if what == "process":
                    os.setpriority(os.PRIO_PROCESS, pid, value)
                else:
                    with open(f"/proc/{pid}/autogroup", "w") as fh:
                        fh.write(str(value))

    def renice(self, value: int = 0) -> None:
        """Set the niceness of the sandbox's processes (bubblewrap, the zygote) and of their
        sessions, best effort: lowering it needs root; otherwise they keep the niceness they
        started with."""
        self.nice = value  # a restarted zygote starts at this niceness too
        for pid in self._tree():
            with contextlib.suppress(OSError):
                os.setpriority(os.PRIO_PROCESS, pid, value)
            # its session's share of the CPU too (see zygote._nice_session)
            with contextlib.suppress(OSError), open(f"/proc/{pid}/autogroup", "w") as fh:
                fh.write(str(value))

    def close(self) -> None:
        if self.ctrl is not None:
            with contextlib.suppress(OSError):
                self.ctrl.close()
            self.ctrl = None
        if self.proc is not None:
            with contextlib.suppress(OSError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            with contextlib.suppress(Exception):
                self.proc.kill()
                self.proc.wait(timeout=10)
            self.proc = None
        shutil.rmtree(self.host_tmp, ignore_errors=True)

    def restart(self) -> None:
        self.close()
        self.warnings = []
        self.host_tmp = Path(tempfile.mkdtemp(prefix="mlcourse-sandbox-"))
        os.chmod(self.host_tmp, 0o755)
        self.start()

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- one job ---------------------------------------------------------------------------
    def run(
        self,
        job_id: str,
        cells: list[dict[str, Any]],
        seeds: dict[str, int],
        assess: dict[str, Any] | None = None,
    ) -> RunResult:
        """Run ``cells`` in a fresh child; never raises because of what the cells do.

        In ``assess`` mode, ``assess`` maps exercise ids to ``{"result": ..., "seed": ...}``
        and the child's replies arrive as :attr:`RunResult.probes`.
        """
        if not self.alive():
            self.restart()
        assert self.ctrl is not None
        before = self._priorities()
        res_r = self._send_job(job_id, cells, seeds, assess)
        job = _JobWatch(self, job_id, res_r, start=time.monotonic())
        os.set_blocking(res_r, False)
        try:
            job.follow()
        finally:
            os.close(res_r)
            if job.zygote_died:
                self.close()
        if self.alive() and self._priorities() != before:
            # a cell reniced the zygote (or its session): put it back, or else start a new
            # zygote, so that the next student's run does not inherit a lower priority
            self._set_priorities(before)
            if self._priorities() != before:
                self.restart()
        seconds = time.monotonic() - job.start
        outcome, detail = job.verdict()
        return RunResult(outcome, detail, job.cells, job.probes, seconds, job.malformed, self.label)

    def _send_job(
        self,
        job_id: str,
        cells: list[dict[str, Any]],
        seeds: dict[str, int],
        assess: dict[str, Any] | None = None,
    ) -> int:
        """Hand the zygote a job; return the read end of the pipe the child writes results to.

        The control message carries only the job's id and two pipe ends; the cells and seeds
        travel through the job pipe, written by a thread so a large job cannot block us.
        """
        assert self.ctrl is not None
        plain_seeds = {str(k): int(v) for k, v in seeds.items()}
        job: dict[str, Any] = {"cells": cells, "seeds": plain_seeds}
        if assess is not None:
            job["assess"] = assess
        payload = json.dumps(job).encode()
        job_r, job_w = os.pipe()
        res_r, res_w = os.pipe()
        try:
            try:
                send_msg(self.ctrl, {"job": job_id}, fds=[job_r, res_w])
            except OSError:  # the zygote died since the last job: start a new one, once
                self.restart()
                assert self.ctrl is not None
                send_msg(self.ctrl, {"job": job_id}, fds=[job_r, res_w])
        finally:
            os.close(job_r)
            os.close(res_w)
        threading.Thread(target=_write_all, args=(job_w, payload), daemon=True).start()
        return res_r


#: what a child killed by a signal is told (other signals: "it was stopped by SIG...")
_SIGNAL_DETAILS = {
    "SIGXCPU": "it used more CPU time than allowed",
    "SIGSEGV": "it crashed (segmentation fault)",
    "SIGKILL": "it was killed (often: out of memory)",
}


@dataclass
class _JobWatch:
    """The trusted parent following one job: what it has read so far and what it decided.

    :meth:`follow` repeats three steps until the zygote has reported the child done and the
    result pipe is closed: :meth:`enforce_limits` (time limits; a zygote that does not
    answer a kill), :meth:`read_control` (the zygote's "done", or its death) and
    :meth:`read_results` (the child's JSON lines, size-capped). :meth:`verdict` then turns
    what was seen into an outcome.
    """

    box: Sandbox
    job_id: str
    res_r: int
    start: float
    cell_start: float = field(init=False)
    cells: dict[int, dict[str, Any]] = field(default_factory=dict)
    probes: dict[str, dict[str, Any]] = field(default_factory=dict)
    buf: bytearray = field(default_factory=bytearray)
    total: int = 0  # bytes read from the result pipe
    malformed: int = 0
    outcome: str | None = None
    detail: str | None = None
    killed_reason: str | None = None
    kill_sent_at: float | None = None
    done_msg: dict[str, Any] | None = None
    done_at: float = 0.0
    pipe_open: bool = True
    zygote_died: bool = False

    def __post_init__(self) -> None:
        self.cell_start = self.start

    @property
    def limits(self) -> Limits:
        return self.box.config.limits

    def follow(self) -> None:
        """Watch the job until it is done and its results read, or it is given up on."""
        while self.done_msg is None or self.pipe_open:
            if self.enforce_limits(time.monotonic()):
                break
            ctrl = self.box.ctrl
            watch = [ctrl] if self.done_msg is None else []
            if self.pipe_open:
                watch.append(self.res_r)
            ready, _, _ = select.select(watch, [], [], 0.2)
            if ctrl in ready:
                self.read_control()
                if self.zygote_died:
                    continue
            if self.res_r in ready:
                self.read_results()

    def enforce_limits(self, now: float) -> bool:
        """Ask for a kill when a time limit is passed; True when waiting should stop."""
        lim = self.limits
        if self.done_msg is not None and self.pipe_open and now - self.done_at > 2.0:
            return True  # child gone, descendants killed; do not wait for stragglers
        if now - self.start > lim.total_timeout:
            self.request_kill(
                "timeout",
                f"it ran longer than the {lim.total_timeout:g} s allowed for the notebook",
            )
        elif now - self.cell_start > lim.cell_timeout + 5.0:
            self.request_kill("cell_timeout", f"a cell ran longer than {lim.cell_timeout:g} s")
        if self.kill_sent_at is not None and now - self.kill_sent_at > 10.0:
            self.box.restart()  # the zygote did not answer: kill the whole sandbox
            self.outcome = self.outcome or "sandbox_died"
            return True
        return False

    def request_kill(self, reason: str, what: str) -> None:
        """Ask the zygote to kill the job (once: the first reason is the outcome)."""
        if self.killed_reason is None:
            self.killed_reason = reason
            self.outcome, self.detail = reason, what
            self.kill_sent_at = time.monotonic()
            with contextlib.suppress(OSError):
                send_msg(self.box.ctrl, {"kill": self.job_id, "reason": reason})

    def read_control(self) -> None:
        """Read one message from the zygote: this job's "done", or end-of-file (it died)."""
        try:
            msg, fds = recv_msg(self.box.ctrl, maxfds=2)
        except (OSError, ValueError):
            msg, fds = None, []
        for fd in fds:
            os.close(fd)
        if msg is None:  # the zygote died; keep what is already in the pipe
            self.outcome = self.outcome or "sandbox_died"
            self.detail = self.detail or "the sandbox stopped unexpectedly"
            self.zygote_died = True
            self.done_msg, self.done_at = {"died": True}, time.monotonic()
        elif msg.get("done") == self.job_id:
            self.done_msg = msg
            self.done_at = time.monotonic()

    def read_results(self) -> None:
        """Read what the child wrote to the result pipe and handle its complete lines."""
        try:
            chunk = os.read(self.res_r, 1 << 16)
        except BlockingIOError:
            return
        if chunk == b"":
            self.pipe_open = False
            return
        self.total += len(chunk)
        if self.total > self.limits.max_result_bytes:
            self.request_kill("output_limit", "it produced too much data")
            self.pipe_open = False
            return
        self.buf += chunk
        # look for the newline in the new chunk only: rescanning the whole
        # buffer made a flood without newlines quadratic (the parent fell
        # behind and the flood never reached the cap)
        nl = chunk.rfind(b"\n")
        if nl < 0:
            return
        cut = len(self.buf) - len(chunk) + nl
        lines = bytes(self.buf[:cut]).split(b"\n")
        del self.buf[: cut + 1]
        for line in lines:
            kind = _handle_line(line, self.cells, self.probes)
            if kind is None:
                self.malformed += 1
            elif kind == "cell":
                self.cell_start = time.monotonic()

    def verdict(self) -> tuple[str, str]:
        """``(outcome, detail)``: a kill or the zygote's death first, else how the child ended."""
        if self.outcome is not None:
            return self.outcome, self.detail or ""
        done = self.done_msg
        if done is None:
            return "sandbox_died", "the sandbox stopped unexpectedly"
        if done.get("killed") == "too_many_processes":
            return "crashed", "it started too many processes"
        if "signal" in done:
            sig = done["signal"]
            return "crashed", _SIGNAL_DETAILS.get(sig, f"it was stopped by {sig}")
        if self.cells.get(-1, {}).get("end") is True:
            return "completed", ""
        code = done.get("exit_code")
        return "crashed", f"it exited (code {code}) before the end"


def _handle_line(
    line: bytes, cells: dict[int, dict[str, Any]], probes: dict[str, dict[str, Any]]
) -> str | None:
    """Parse one result line as plain JSON; ``None`` when it is not a well-formed message."""
    if not line.strip():
        return "blank"
    try:
        msg = json.loads(line)
    except (ValueError, RecursionError):
        return None
    if type(msg) is not dict:
        return None
    kind = msg.get("t")
    if kind == "cell" and type(msg.get("i")) is int:
        cells.setdefault(msg["i"], {})["started"] = True
        return "cell"
    if kind == "cell_end" and type(msg.get("i")) is int:
        err = msg.get("error")
        entry = cells.setdefault(msg["i"], {})
        entry["error"] = err[:600] if type(err) is str else None
        line_no = msg.get("error_line")
        entry["error_line"] = line_no if type(line_no) is int and 0 < line_no < 100_000 else None
        entry["finished"] = True
        return "cell_end"
    if kind == "probe" and type(msg.get("id")) is str:
        status = msg.get("status")
        if status not in {"ok", "not_attempted", "answer_error", "error"}:
            return None
        message = msg.get("message")
        probes[msg["id"]] = {
            "status": status,
            "message": message[:600] if type(message) is str else "",
            "data": msg.get("data"),
        }
        return "probe"
    if kind == "end":
        cells.setdefault(-1, {})["end"] = True
        return "end"
    return None


def _write_all(fd: int, data: bytes) -> None:
    try:
        view = memoryview(data)
        while view:
            n = os.write(fd, view)
            view = view[n:]
    except OSError:
        pass
    finally:
        with contextlib.suppress(OSError):
            os.close(fd)


def _drain(stream: Any) -> None:
    with contextlib.suppress(Exception):
        while stream.read(65536):
            pass


def _world_readable(path: Path) -> bool:
    """True when any user can list ``path`` and traverse every folder above it."""
    p = Path(path).resolve()
    if not os.stat(p).st_mode & 0o005 == 0o005:
        return False
    return all(os.stat(parent).st_mode & 0o001 for parent in p.parents)


def _count_user_processes(uid: int) -> int:
    n = 0
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError):
                if os.stat(f"/proc/{entry}").st_uid == uid:
                    n += 1
    return n


class SandboxPool:
    """``size`` warm sandboxes shared by worker threads (one job per sandbox at a time)."""

    #: niceness of every sandbox but the first while they warm up
    WARMUP_NICE = 10

    def __init__(self, config: SandboxConfig, size: int, wait: bool = True) -> None:
        self.config = config
        self.size = size
        self._free: queue.Queue[Sandbox] = queue.Queue()
        self._all: list[Sandbox] = []
        self._ready = False
        self._ready_lock = threading.Lock()
        self.warnings: list[str] = []
        # Spawn every zygote from this thread (see Sandbox.start); their imports run in
        # parallel, and with wait=False also alongside whatever the caller does next, until
        # wait_ready(). All but the first start "nice": the first (which runs the reference)
        # and the inspector get the cores first, so the first grade comes sooner.
        try:
            for i in range(size):
                nice = self.WARMUP_NICE if i else 0
                self._all.append(Sandbox(config, wait=False, nice=nice))
        except BaseException:
            self.close()
            raise
        if wait:
            self.wait_ready()

    def wait_ready(self) -> None:
        """Wait until the first zygote has finished its imports (SandboxError if it failed);
        the others join the pool as they become ready."""
        with self._ready_lock:
            if self._ready:
                return
            try:
                self._all[0].wait_ready()
            except BaseException:
                self.close()
                raise
            self._free.put(self._all[0])
            self._ready = True
        if len(self._all) > 1:
            threading.Thread(target=self._join_others, daemon=True).start()

    def _join_others(self) -> None:
        for box in list(self._all[1:]):
            try:
                box.wait_ready()
            except Exception as exc:  # one sandbox fewer: the others still grade
                self.warnings.append(f"a grading sandbox did not start: {exc}"[:500])
                continue
            box.renice(0)
            self._free.put(box)

    @contextlib.contextmanager
    def sandbox(self) -> Iterator[Sandbox]:
        self.wait_ready()
        box = self._free.get()
        try:
            yield box
        finally:
            self._free.put(box)

    def run(self, job_id: str, cells: list[dict[str, Any]], seeds: dict[str, int]) -> RunResult:
        with self.sandbox() as box:
            return box.run(job_id, cells, seeds)

    def close(self) -> None:
        for box in self._all:
            box.close()
        self._all.clear()

    def __enter__(self) -> SandboxPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
