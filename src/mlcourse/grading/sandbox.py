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
NOBODY = 65534
BWRAP = "/usr/bin/bwrap"

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
    for r in sorted(roots, key=lambda p: len(p.parts)):
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


class Sandbox:
    """One warm zygote (one job at a time). Use as a context manager."""

    def __init__(self, config: SandboxConfig, *, wait: bool = True) -> None:
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
        cfg = self.config
        lim = cfg.limits
        env = {
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "LANG": "C.UTF-8",
            "LC_ALL": "C.UTF-8",
            "PYTHONHASHSEED": "0",
            "OMP_NUM_THREADS": "1",
            "OPENBLAS_NUM_THREADS": "1",
            "MKL_NUM_THREADS": "1",
            "NUMEXPR_NUM_THREADS": "1",
            "LOKY_MAX_CPU_COUNT": "1",
            "MPLBACKEND": "Agg",
        }
        zygote_cmd = [cfg.python, "-s", "-P", "-m", "mlcourse.grading.zygote", "--ctrl-fd"]
        if cfg.isolation == "strict":
            scratch = "/course/notebooks"
            data_dir = "/course/datasets"
            env.update(
                HOME="/tmp/home",
                TMPDIR="/tmp",
                MPLCONFIGDIR="/tmp/mpl",
                IPYTHONDIR="/tmp/ipython",
                MLCOURSE_DATA_DIR=data_dir,
            )
            cmd = [
                BWRAP,
                "--unshare-all",
                "--die-with-parent",
                "--new-session",
                "--uid", str(NOBODY),
                "--gid", str(NOBODY),
                "--clearenv",
                "--proc", "/proc",
                "--dev", "/dev",
                # /tmp is RAM: the same cap as the scratch folder, or files there fill memory
                "--size", str(lim.scratch_mb * 2**20),
                "--tmpfs", "/tmp",
                "--dir", "/tmp/home",
            ]  # fmt: skip
            for top in ("/usr", "/lib", "/lib64", "/bin", "/sbin", "/lib32", "/libx32"):
                p = Path(top)
                if p.is_symlink():
                    cmd += ["--symlink", os.readlink(p), top]
                elif p.is_dir():
                    cmd += ["--ro-bind", top, top]
            for etc in ("/etc/ld.so.cache", "/etc/localtime", "/etc/alternatives", "/etc/fonts"):
                if Path(etc).exists():
                    cmd += ["--ro-bind", etc, etc]
            roots = _python_roots() + [Path(p) for p in cfg.extra_sys_path]
            for root in roots:
                cmd += ["--ro-bind", str(root), str(root)]
            # Answer keys and solutions never enter the sandbox, even when they sit inside a
            # mounted folder (the package's expected answers; a checkout's solutions/ and
            # tests/): an empty tmpfs is mounted over each.
            for hidden in _hidden_paths(roots, cfg.hidden):
                cmd += ["--tmpfs", str(hidden), "--remount-ro", str(hidden)]
            cmd += ["--ro-bind", str(Path(cfg.data_dir).resolve()), data_dir]
            cmd += ["--size", str(lim.scratch_mb * 2**20), "--tmpfs", scratch]
            cmd += ["--chdir", scratch]
            for k, v in env.items():
                cmd += ["--setenv", k, v]
            cmd += ["--"] + zygote_cmd + [str(child_fd)]
            drop_uid = None
            self.label = "strict"
        else:
            scratch = str(self.host_tmp)
            data_dir = str(Path(cfg.data_dir).resolve())
            zt = self.host_tmp / "zygote"
            zt.mkdir()
            env.update(
                HOME=str(zt),
                TMPDIR=str(zt),
                MPLCONFIGDIR=str(zt / "mpl"),
                IPYTHONDIR=str(zt / "ipython"),
                MLCOURSE_DATA_DIR=data_dir,
            )
            cmd = zygote_cmd + [str(child_fd)]
            # As root, run student code as `nobody` -- but only if `nobody` can read the
            # Python installation (e.g. not under /root); otherwise say so in `warnings`.
            drop_uid = None
            if os.geteuid() == 0:
                if all(_world_readable(p) for p in _python_roots()):
                    drop_uid = NOBODY
                else:
                    self.warnings.append(
                        "process isolation as root, but the Python installation is not "
                        "readable by user nobody: student code runs as root without a process "
                        "limit; use --isolation strict"
                    )
        if cfg.isolation == "process":
            who = "nobody" if drop_uid is not None else ("root" if os.geteuid() == 0 else "user")
            self.label = f"process (as {who})"
        nproc = lim.nproc
        if not (os.geteuid() == 0 and drop_uid is None):
            # RLIMIT_NPROC counts every process of the (host) user the child runs as. (For
            # root the kernel ignores it, and the zygote's watchdog counts the run's own
            # processes against `nproc` instead.)
            nproc += _count_user_processes(drop_uid if drop_uid is not None else os.getuid())
        zconfig = {
            "isolation": cfg.isolation,
            "scratch": scratch,
            "data_dir": data_dir,
            "env": env,
            "sys_path": list(cfg.extra_sys_path),
            "preload": list(cfg.preload),
            "exercises_module": cfg.exercises_module,
            "drop_uid": drop_uid,
            "limits": {**asdict(lim), "nproc": nproc},
        }
        return cmd, env, zconfig

    def start(self, wait: bool = True) -> None:
        """Spawn the zygote. Call from a long-lived thread: bubblewrap's --die-with-parent
        (PR_SET_PDEATHSIG) fires when the *thread* that spawned it exits."""
        self.spawn()
        if wait:
            self.wait_ready()

    def spawn(self) -> None:
        parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        cmd, env, zconfig = self._command(child.fileno())
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
    def run(self, job_id: str, cells: list[dict[str, Any]], seeds: dict[str, int]) -> RunResult:
        """Run ``cells`` in a fresh child; never raises because of what the cells do."""
        if not self.alive():
            self.restart()
        assert self.ctrl is not None
        lim = self.config.limits
        plain_seeds = {str(k): int(v) for k, v in seeds.items()}
        payload = json.dumps({"cells": cells, "seeds": plain_seeds}).encode()
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

        start = time.monotonic()
        cell_start = start
        cells_seen: dict[int, dict[str, Any]] = {}
        probes: dict[str, dict[str, Any]] = {}
        buf = bytearray()
        zygote_died = False
        total = 0
        malformed = 0
        outcome = detail = None
        killed_reason: str | None = None
        done_msg: dict[str, Any] | None = None
        pipe_open = True
        kill_sent_at: float | None = None
        done_at = 0.0
        os.set_blocking(res_r, False)

        def request_kill(reason: str, what: str) -> None:
            nonlocal killed_reason, kill_sent_at, outcome, detail
            if killed_reason is None:
                killed_reason = reason
                outcome, detail = reason, what
                kill_sent_at = time.monotonic()
                with contextlib.suppress(OSError):
                    send_msg(self.ctrl, {"kill": job_id, "reason": reason})

        try:
            while done_msg is None or pipe_open:
                now = time.monotonic()
                if done_msg is not None and pipe_open and now - done_at > 2.0:
                    break  # child gone, descendants killed; do not wait for stragglers
                if now - start > lim.total_timeout:
                    request_kill(
                        "timeout",
                        f"it ran longer than the {lim.total_timeout:g} s allowed for the notebook",
                    )
                elif now - cell_start > lim.cell_timeout + 5.0:
                    request_kill("cell_timeout", f"a cell ran longer than {lim.cell_timeout:g} s")
                if kill_sent_at is not None and now - kill_sent_at > 10.0:
                    self.restart()  # the zygote did not answer: kill the whole sandbox
                    outcome = outcome or "sandbox_died"
                    break
                watch = [self.ctrl] if done_msg is None else []
                if pipe_open:
                    watch.append(res_r)
                ready, _, _ = select.select(watch, [], [], 0.2)
                if self.ctrl in ready:
                    try:
                        msg, fds = recv_msg(self.ctrl, maxfds=2)
                    except (OSError, ValueError):
                        msg, fds = None, []
                    for fd in fds:
                        os.close(fd)
                    if msg is None:  # the zygote died; keep what is already in the pipe
                        outcome = outcome or "sandbox_died"
                        detail = detail or "the sandbox stopped unexpectedly"
                        zygote_died = True
                        done_msg, done_at = {"died": True}, time.monotonic()
                        continue
                    if msg.get("done") == job_id:
                        done_msg = msg
                        done_at = time.monotonic()
                if res_r in ready:
                    try:
                        chunk = os.read(res_r, 1 << 16)
                    except BlockingIOError:
                        chunk = None
                    if chunk == b"":
                        pipe_open = False
                    elif chunk:
                        total += len(chunk)
                        if total > lim.max_result_bytes:
                            request_kill("output_limit", "it produced too much data")
                            pipe_open = False
                            continue
                        buf += chunk
                        # look for the newline in the new chunk only: rescanning the whole
                        # buffer made a flood without newlines quadratic (the parent fell
                        # behind and the flood never reached the cap)
                        nl = chunk.rfind(b"\n")
                        if nl < 0:
                            continue
                        cut = len(buf) - len(chunk) + nl
                        lines = bytes(buf[:cut]).split(b"\n")
                        del buf[: cut + 1]
                        for line in lines:
                            kind = _handle_line(line, cells_seen, probes)
                            if kind is None:
                                malformed += 1
                            elif kind == "cell":
                                cell_start = time.monotonic()
        finally:
            os.close(res_r)
            if zygote_died:
                self.close()
        seconds = time.monotonic() - start
        if outcome is None:
            if done_msg is None:
                outcome, detail = "sandbox_died", "the sandbox stopped unexpectedly"
            elif done_msg.get("killed") == "too_many_processes":
                outcome = "crashed"
                detail = "it started too many processes"
            elif "signal" in done_msg:
                sig = done_msg["signal"]
                why = {
                    "SIGXCPU": "it used more CPU time than allowed",
                    "SIGSEGV": "it crashed (segmentation fault)",
                    "SIGKILL": "it was killed (often: out of memory)",
                }.get(sig, f"it was stopped by {sig}")
                outcome, detail = "crashed", why
            elif cells_seen.get(-1, {}).get("end") is True:
                outcome, detail = "completed", ""
            else:
                code = done_msg.get("exit_code")
                outcome = "crashed"
                detail = f"it exited (code {code}) before the end"
        return RunResult(outcome, detail or "", cells_seen, probes, seconds, malformed, self.label)


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

    def __init__(self, config: SandboxConfig, size: int, wait: bool = True) -> None:
        self.config = config
        self.size = size
        self._free: queue.Queue[Sandbox] = queue.Queue()
        self._all: list[Sandbox] = []
        self._ready = False
        self._ready_lock = threading.Lock()
        # Spawn every zygote from this thread (see Sandbox.start); their imports run in
        # parallel, and with wait=False also alongside whatever the caller does next, until
        # wait_ready().
        try:
            for _ in range(size):
                self._all.append(Sandbox(config, wait=False))
        except BaseException:
            self.close()
            raise
        if wait:
            self.wait_ready()

    def wait_ready(self) -> None:
        """Wait until every zygote has finished its imports; SandboxError if one failed."""
        with self._ready_lock:
            if self._ready:
                return
            try:
                for box in self._all:
                    box.wait_ready()
                    self._free.put(box)
            except BaseException:
                self.close()
                raise
            self._ready = True

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
