"""The untrusted side of the grader: a warm "zygote" process and the per-submission harness.

Everything in this module runs *inside* the sandbox, next to student code. It is started by
:class:`mlcourse.grading.sandbox.Sandbox` as ``python -s -P -m mlcourse.grading.zygote
--ctrl-fd N`` (under bubblewrap with ``--isolation strict``).

The zygote imports the heavy libraries once (numpy, pandas, scikit-learn, IPython, ...), then
waits on a control socket (``AF_UNIX``/``SOCK_SEQPACKET``) for jobs. A job message is only a
small header with two file descriptors attached: the read end of a *job pipe* (the cells to
run) and the write end of a *result pipe* (read by the trusted parent). The zygote forks one
child per job and never reads the job itself, so no submission or reference solution text
ever lives in the zygote's memory (and therefore never in a later child's copy of it).

The child drops privileges, applies resource limits, runs the cells with IPython's
``InteractiveShell`` and probes each exercise right after its cell, writing one JSON line
per event to the result pipe. The parent treats those lines as the student's *claims*: it
parses them as plain JSON with size caps and judges them against expected values that never
enter the sandbox (see docs/grading.md, "Why a forged observation cannot raise a score").
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import resource
import shutil
import signal
import socket
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4
PR_SET_CHILD_SUBREAPER = 36
PR_SET_NO_NEW_PRIVS = 38

#: high descriptor number the result pipe is moved to in the child (out of the way of 0-2)
RESULT_FD = 1023
SHM = Path("/dev/shm")
IPC_RMID = 0
MAX_CTRL_MESSAGE = 65536


def _prctl(option: int, arg: int) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(option, ctypes.c_ulong(arg), ctypes.c_ulong(0), ctypes.c_ulong(0), 0)


def send_msg(
    sock: socket.socket, obj: dict[str, Any], fds: list[int] | tuple[int, ...] = ()
) -> None:
    """Send one JSON control message (with optional file descriptors) on a SEQPACKET socket."""
    data = json.dumps(obj).encode()
    if len(data) > MAX_CTRL_MESSAGE:
        raise ValueError("control message too large")
    socket.send_fds(sock, [data], list(fds))


def recv_msg(sock: socket.socket, maxfds: int = 0) -> tuple[dict[str, Any] | None, list[int]]:
    """Receive one control message; ``(None, [])`` when the peer closed the socket."""
    data, fds, _flags, _addr = socket.recv_fds(sock, MAX_CTRL_MESSAGE, maxfds)
    if not data:
        for fd in fds:
            os.close(fd)
        return None, []
    return json.loads(data), fds


def _children_of(pid: int) -> list[int]:
    """Direct children of ``pid`` (fast path through /proc/PID/task/*/children)."""
    kids: list[int] = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as fh:
                kids.extend(int(x) for x in fh.read().split())
        return kids
    except OSError:
        pass
    # Fallback: scan /proc for processes whose parent is `pid`.
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                stat = fh.read()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2 :].split()
        if len(fields) > 1 and int(fields[1]) == pid:
            kids.append(int(entry))
    return kids


def _count_descendants(pid: int, cap: int = 100_000) -> int:
    """Number of processes below ``pid`` (the fork-bomb watchdog's measure)."""
    total = 0
    todo = [pid]
    while todo and total < cap:
        kids = _children_of(todo.pop())
        total += len(kids)
        todo.extend(kids)
    return total


def _reap_all() -> None:
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def kill_descendants(whole_namespace: bool = False) -> None:
    """SIGKILL every process left behind by a child (they were re-parented to us, a subreaper).

    ``whole_namespace`` (the strict sandbox, whose PID namespace holds only bubblewrap's init,
    this zygote and what its children started): ``kill(-1, SIGKILL)``, which the kernel sends
    to every process of the namespace in one pass, so a chain of processes that each start
    the next before they exit cannot outrun it. Without it (process isolation, where -1
    would reach the user's other processes) the direct children are killed round by round.
    """
    me = os.getpid()
    if whole_namespace:
        for _ in range(50):
            with contextlib.suppress(OSError):
                os.kill(-1, signal.SIGKILL)
            _reap_all()
            others = [p for p in os.listdir("/proc") if p.isdigit() and int(p) not in (1, me)]
            if not others:
                return
            time.sleep(0.01)
    for _ in range(200):
        kids = _children_of(me)
        if not kids:
            return
        for kid in kids:
            with contextlib.suppress(OSError):
                os.kill(kid, signal.SIGKILL)
        time.sleep(0.01)
        _reap_all()


def describe_status(status: int) -> dict[str, Any]:
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        try:
            name = signal.Signals(sig).name
        except ValueError:
            name = str(sig)
        return {"signal": name}
    return {"exit_code": os.waitstatus_to_exitcode(status)}


def _clear_dir(path: Path) -> None:
    """Remove everything below ``path``, also below folders a run made read-only."""
    if not path.exists():
        return
    for folder, dirs, _files in os.walk(path):
        for name in dirs:
            sub = os.path.join(folder, name)
            if not os.path.islink(sub):
                with contextlib.suppress(OSError):
                    os.chmod(sub, 0o700)  # a folder chmod-ed 0500 would keep its files
    for entry in list(path.iterdir()):
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            with contextlib.suppress(OSError):
                entry.unlink()


#: a snapshot of a folder: (relative path, kind, mode, content) with kind "d", "f" or "l"
Snapshot = list[tuple[str, str, int, bytes]]
#: largest folder a snapshot keeps in memory (the zygote's /tmp holds a few caches)
MAX_SNAPSHOT_BYTES = 32 * 2**20


def _snapshot(root: Path) -> Snapshot | None:
    """Everything below ``root`` (and ``root``'s own mode, under ``"."``), contents included;
    ``None`` when it is larger than :data:`MAX_SNAPSHOT_BYTES`."""
    entries: Snapshot = [(".", "d", os.lstat(root).st_mode & 0o7777, b"")]
    total = 0
    for folder, dirs, files in os.walk(root):
        for name in sorted(dirs) + sorted(files):
            path = os.path.join(folder, name)
            rel = os.path.relpath(path, root)
            st = os.lstat(path)
            mode = st.st_mode & 0o7777
            if os.path.islink(path):
                entries.append((rel, "l", mode, os.readlink(path).encode()))
            elif name in dirs:
                entries.append((rel, "d", mode, b""))
            else:
                with open(path, "rb") as fh:
                    data = fh.read(MAX_SNAPSHOT_BYTES + 1)
                total += len(data)
                if total > MAX_SNAPSHOT_BYTES:
                    return None
                entries.append((rel, "f", mode, data))
    return entries


def _restore_snapshot(root: Path, snapshot: Snapshot) -> None:
    """Make ``root`` exactly what :func:`_snapshot` saw: everything below it removed and
    written again (contents, modes), its own mode and extended attributes reset.

    Comparing sizes and times was not enough: a run could rewrite a kept file with the same
    size and set its old time back, and the next run read what it left there.
    """
    _clear_dir(root)
    _reset_root(root, snapshot[0][2])
    for rel, kind, mode, data in snapshot[1:]:
        path = root / rel
        with contextlib.suppress(OSError):
            if kind == "d":
                path.mkdir(mode=0o700)
            elif kind == "l":
                os.symlink(data.decode(), path)
                continue
            else:
                path.write_bytes(data)
            os.chmod(path, mode)


def _reset_root(root: Path, mode: int) -> None:
    """A kept folder's own mode and ``user.*`` extended attributes, as they were."""
    with contextlib.suppress(OSError):
        os.chmod(root, mode)
    with contextlib.suppress(OSError):
        for attr in os.listxattr(root, follow_symlinks=False):
            with contextlib.suppress(OSError):
                os.removexattr(root, attr, follow_symlinks=False)


#: keyctl(2): the syscall number per machine, KEYCTL_CLEAR and the special keyring ids
_SYS_KEYCTL = {"x86_64": 250, "aarch64": 219}
_KEYCTL_CLEAR = 7
_SPECIAL_KEYRINGS = (-3, -4, -5)  # session, user, user-session


def _clear_keyrings() -> None:
    """Empty the session and per-user kernel keyrings: keys a run added there would
    outlive it (every child of the sandbox is the same user). Linux only; a no-op elsewhere."""
    import platform

    number = _SYS_KEYCTL.get(platform.machine())
    if number is None or not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(None, use_errno=True)
    for keyring in _SPECIAL_KEYRINGS:
        libc.syscall(number, _KEYCTL_CLEAR, ctypes.c_long(keyring))


def _clear_sysv_ipc() -> None:
    """Remove every System V shared memory segment, message queue and semaphore set.

    Only called in the strict sandbox, whose IPC namespace is its own: nothing of the host's
    is there. The ids are read from ``/proc/sysvipc`` (the standard library has no
    ``shmctl``, so libc is called through ctypes).
    """
    libc = ctypes.CDLL(None, use_errno=True)
    calls = {
        "shm": lambda i: libc.shmctl(i, IPC_RMID, None),
        "msg": lambda i: libc.msgctl(i, IPC_RMID, None),
        "sem": lambda i: libc.semctl(i, 0, IPC_RMID),
    }
    for kind, remove in calls.items():
        try:
            with open(f"/proc/sysvipc/{kind}") as fh:
                rows = fh.read().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            if len(fields) > 1 and fields[1].isdigit():
                remove(int(fields[1]))


def _restore_tree(root: Path, baseline: dict[str, tuple[int, int]]) -> None:
    """Remove what was added below ``root`` since ``baseline``, and files changed since."""
    for folder, dirs, files in os.walk(root, topdown=False):
        for name in files:
            path = os.path.join(folder, name)
            with contextlib.suppress(OSError):
                st = os.lstat(path)
                if baseline.get(path) != (st.st_size, st.st_mtime_ns):
                    os.unlink(path)
        for name in dirs:
            path = os.path.join(folder, name)
            if path not in baseline:
                if os.path.islink(path):
                    with contextlib.suppress(OSError):
                        os.unlink(path)
                else:
                    shutil.rmtree(path, ignore_errors=True)


class Zygote:
    """Warm process that forks one sandboxed child per job (runs inside the sandbox)."""

    def __init__(self, ctrl: socket.socket, config: dict[str, Any]) -> None:
        self.ctrl = ctrl
        self.config = config
        os.environ.update(config.get("env", {}))
        for path in reversed(config.get("sys_path", [])):
            sys.path.insert(0, path)
        # No PR_SET_PDEATHSIG here: it fires when the *thread* that started us exits. The
        # zygote notices its parent's death as end-of-file on the control socket instead.
        _prctl(PR_SET_CHILD_SUBREAPER, 1)
        # Not dumpable: a child running as the same uid cannot ptrace us or read our memory.
        _prctl(PR_SET_DUMPABLE, 0)
        self.preload_errors: dict[str, str] = {}
        with _without_scipy_doc_notes(config.get("preload", [])):
            for name in config.get("preload", []):
                try:
                    __import__(name)
                except Exception as exc:  # a missing optional library must not stop grading
                    self.preload_errors[name] = f"{type(exc).__name__}: {exc}"
        if "matplotlib" in sys.modules:
            with contextlib.suppress(Exception):
                import matplotlib

                matplotlib.use("Agg")
        import mlcourse.exercises  # noqa: F401 - the harness's probe runner, imported warm

        module = __import__(config["exercises_module"], fromlist=["EXERCISES"])
        self.exercises = {ex.id: ex for ex in module.EXERCISES}
        # the inspector (mode "assess") runs no cells: no IPython shell
        self.shell = _make_shell() if config.get("mode", "notebook") == "notebook" else None
        self.page = os.sysconf("SC_PAGE_SIZE")
        self.jobs_done = 0
        # strict: /tmp (and $HOME, the IPython and matplotlib folders in it) is private to
        # this sandbox but shared by all its children; what a run leaves there is removed
        # after it, so one submission cannot leave files for the next
        strict = config["isolation"] == "strict"
        # too large to keep: start every run from an empty /tmp with its home folder
        empty = [(".", "d", 0o1777, b""), ("home", "d", 0o755, b"")]
        self.tmp_baseline = (_snapshot(Path("/tmp")) or empty) if strict else None
        # the same for the sandbox's private /dev/shm (empty at the start) and the scratch
        # folder's own mode
        self.shm_baseline = _snapshot(SHM) if strict and SHM.is_dir() else None
        scratch = Path(config["scratch"])
        self.scratch_mode = os.lstat(scratch).st_mode & 0o7777 if scratch.is_dir() else 0o755

    def needs_watchdog(self) -> bool:
        """True when RLIMIT_NPROC is not enforced: the kernel exempts (host) root."""
        if os.geteuid() == 0 and self.config.get("drop_uid") is None:
            return True
        try:
            with open("/proc/self/uid_map") as fh:
                for line in fh:
                    inside, outside, _count = line.split()
                    if int(inside) == os.getuid() and int(outside) == 0:
                        return True
        except (OSError, ValueError):
            pass
        return False

    def baseline_vm(self) -> int:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[0]) * self.page

    def serve(self) -> None:
        send_msg(
            self.ctrl,
            {"ready": True, "pid": os.getpid(), "preload_errors": self.preload_errors},
        )
        while True:
            msg, fds = recv_msg(self.ctrl, maxfds=2)
            if msg is None:
                kill_descendants()
                self._remove_scratch_root()
                return
            if "job" not in msg or len(fds) != 2:
                for fd in fds:
                    os.close(fd)
                continue
            self.run_job(str(msg["job"]), fds[0], fds[1])

    def _scratch(self, job: str) -> Path:
        cfg = self.config
        if cfg["isolation"] == "strict":
            scratch = Path(cfg["scratch"])
            _clear_dir(scratch)
            return scratch
        # process isolation: a fresh directory per job next to a `datasets` link to the variant
        root = Path(cfg["scratch"]) / f"job-{job}-{os.getpid()}"
        work = root / "notebooks"
        work.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(OSError):
            (root / "datasets").symlink_to(cfg["data_dir"])
        uid = cfg.get("drop_uid")
        if uid is not None:
            os.chown(work, uid, uid)
        os.chmod(work, 0o700)
        return work

    def _remove_scratch_root(self) -> None:
        """Parent gone (maybe killed): remove the host scratch folder it can no longer remove."""
        if self.config["isolation"] != "strict":
            shutil.rmtree(self.config["scratch"], ignore_errors=True)

    def _cleanup(self, scratch: Path) -> None:
        if self.config["isolation"] == "strict":
            _clear_dir(scratch)
            _reset_root(scratch, self.scratch_mode)
            if self.tmp_baseline is not None:
                _restore_snapshot(Path("/tmp"), self.tmp_baseline)
            if self.shm_baseline is not None:
                _restore_snapshot(SHM, self.shm_baseline)
            _clear_keyrings()
            # System V shared memory, queues and semaphores live in the sandbox's IPC
            # namespace, shared by its children, until removed: remove what the run left
            _clear_sysv_ipc()
        else:
            shutil.rmtree(scratch.parent, ignore_errors=True)

    def run_job(self, job: str, job_r: int, result_w: int) -> None:
        """Fork a child for one job, wait for it, clean up after it, report "done"."""
        scratch = self._scratch(job)
        baseline = self.baseline_vm()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - runs in the forked child
            try:
                self.ctrl.close()
                _child_main(self, job_r, result_w, scratch, baseline)
            finally:
                os._exit(0)
        os.close(job_r)
        os.close(result_w)
        killed = self._watch_child(pid, job)
        try:
            _, status = os.waitpid(pid, 0)
        except ChildProcessError:  # already reaped
            status = 0
        with contextlib.suppress(OSError):
            os.killpg(pid, signal.SIGKILL)
        kill_descendants(whole_namespace=self.config["isolation"] == "strict")
        self._cleanup(scratch)
        self.jobs_done += 1
        send_msg(self.ctrl, {"done": job, "killed": killed, **describe_status(status)})

    def _watch_child(self, pid: int, job: str) -> str | None:
        """Wait until the child ends, killing it when asked to or when it forks too much.

        Returns why it was killed (``None`` when it ended by itself).
        """
        pidfd = os.pidfd_open(pid)
        killed = None
        import select

        watchdog = self.needs_watchdog()
        limit = int(self.config["limits"]["nproc"])
        while True:
            ready, _, _ = select.select([self.ctrl, pidfd], [], [], 0.05 if watchdog else None)
            if watchdog and killed is None and _count_descendants(os.getpid()) > limit:
                killed = "too_many_processes"
                _kill_child(pid)
            if self.ctrl in ready:
                msg = self._parent_message(pid)
                if msg.get("kill") == job:
                    killed = msg.get("reason", "killed")
                    _kill_child(pid)
            if pidfd in ready:
                break
        os.close(pidfd)
        return killed

    def _parent_message(self, pid: int) -> dict[str, Any]:
        """The parent's next message during a job; when the parent is gone, stop everything."""
        msg, fds = recv_msg(self.ctrl, maxfds=2)
        for fd in fds:
            os.close(fd)
        if msg is None:  # parent went away: stop everything
            with contextlib.suppress(OSError):
                os.killpg(pid, signal.SIGKILL)
            os.kill(pid, signal.SIGKILL)
            kill_descendants()
            self._remove_scratch_root()
            sys.exit(0)
        return msg


def _kill_child(pid: int) -> None:
    """SIGKILL a job's child and its process group."""
    with contextlib.suppress(OSError):
        os.killpg(pid, signal.SIGKILL)
    with contextlib.suppress(OSError):
        os.kill(pid, signal.SIGKILL)


def _make_shell() -> Any:
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    cfg = Config()
    cfg.HistoryManager.enabled = False
    cfg.InteractiveShell.colors = "nocolor"
    cfg.InteractiveShell.xmode = "plain"
    shell = InteractiveShell.instance(config=cfg)
    return shell


class CellTimeout(BaseException):
    """Raised in the child by SIGALRM when a cell runs longer than the per-cell limit."""


class _CappedStream:
    """A text stream that keeps only the first ``cap`` characters (output-bomb guard)."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.parts: list[str] = []
        self.size = 0
        self.encoding = "utf-8"

    def write(self, text: str) -> int:
        if self.size < self.cap and isinstance(text, str):
            piece = text[: self.cap - self.size]
            self.parts.append(piece)
            self.size += len(piece)
        return len(text) if isinstance(text, str) else 0

    def flush(self) -> None:
        return None

    def isatty(self) -> bool:
        return False

    def writable(self) -> bool:
        return True


def _safe_text(exc: BaseException, limit: int = 400) -> str:
    try:
        name = type(exc).__name__
    except Exception:
        name = "Exception"
    try:
        text = str(exc)
    except BaseException:
        text = "<message could not be printed>"
    if not isinstance(text, str):
        text = "<message could not be printed>"
    text = f"{name}: {text}" if text else name
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _error_line(exc: BaseException) -> int | None:
    """Line number, inside the cell, where the cell's exception was raised (or None)."""
    try:
        tb = exc.__traceback__
        line = None
        while tb is not None:
            name = tb.tb_frame.f_code.co_filename
            if (
                name.startswith("<ipython-input")
                or "ipykernel_" in name
                or name.startswith("<cell")
            ):
                line = tb.tb_lineno
            tb = tb.tb_next
        return line if type(line) is int else None
    except Exception:
        return None


def _set_limits(limits: dict[str, Any], baseline_vm: int) -> None:
    def setlim(res: int, value: int) -> None:
        soft, hard = resource.getrlimit(res)
        value = int(value)
        if hard != resource.RLIM_INFINITY:
            value = min(value, hard)
        resource.setrlimit(res, (value, value))

    setlim(resource.RLIMIT_AS, baseline_vm + limits["memory_mb"] * 2**20)
    setlim(resource.RLIMIT_FSIZE, limits["max_file_mb"] * 2**20)
    setlim(resource.RLIMIT_NOFILE, limits["max_open_files"])
    setlim(resource.RLIMIT_CORE, 0)
    setlim(resource.RLIMIT_CPU, int(limits["total_timeout"]) + 2)
    setlim(resource.RLIMIT_NPROC, limits["nproc"])
    # no POSIX message queue can be created (they would outlive the run in the sandbox's
    # IPC namespace, and nothing lists them without mounting mqueue)
    setlim(resource.RLIMIT_MSGQUEUE, 0)


def _child_main(z: Zygote, job_r: int, result_w: int, scratch: Path, baseline: int) -> None:
    """Run one submission: the code below and everything it calls is untrusted territory."""
    os.setsid()
    _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    cfg = z.config
    limits = cfg["limits"]
    job = _read_job(job_r, limits["max_job_bytes"])
    # Confine the child before any student code runs: its scratch folder as working folder,
    # no privileges, no inherited output streams, resource limits.
    os.chdir(scratch)
    _drop_privileges(cfg.get("drop_uid"))
    _redirect_streams(result_w)
    _set_limits(limits, baseline)
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # over-size writes fail with EFBIG instead

    # Bind everything the harness needs *now*, so naive monkeypatching by student code
    # (json.dumps, os.write, time.monotonic, ...) does not reach the harness.
    writer = _ResultWriter(cap=limits["max_result_bytes"], dumps=json.dumps, write=os.write)
    timer = _CellTimer(float(limits["cell_timeout"]), signal.setitimer, signal.ITIMER_REAL)
    monotonic = time.monotonic
    signal.signal(signal.SIGALRM, _on_alarm)
    out = _CappedStream(limits["max_output_chars"])
    sys.stdout = out
    sys.stderr = out
    if cfg.get("mode") == "assess":
        _assess_tasks(z, dict(job.get("assess") or {}), writer.send)
        writer.send({"t": "end"})
        return
    from mlcourse.exercises import probe_one
    from mlcourse.exercises.spec import ProbeContext

    # Each exercise gets only its own seed (a keyed hash of the master seed, which never
    # enters the sandbox); the job's text is dropped before any student code runs.
    seeds = {str(k): int(v) for k, v in dict(job.get("seeds", {})).items()}
    data_dir = Path(cfg["data_dir"])
    cells = list(job["cells"])
    del job
    run = _CellRunner(
        shell=z.shell,
        exercises=z.exercises,
        seeds=seeds,
        data_dir=data_dir,
        send=writer.send,
        timer=timer,
        monotonic=monotonic,
        probe_one=probe_one,
        probe_context=ProbeContext,
    )
    for cell in cells:
        run.run_cell(cell)
    writer.send({"t": "end"})


def _assess_tasks(z: Zygote, tasks: dict[str, Any], send: Callable[[dict], None]) -> None:
    """The inspector's child: apply each exercise's ``assess`` step to one observation.

    ``tasks`` maps exercise ids to ``{"result": <probe result>, "seed": <exercise seed>}``.
    Loading a learner's model happens here, inside the sandbox, so a hole in the loader
    can at worst mis-judge this one submission: the child sees the data variant and the
    held-out players read-only, holds no secret, and its replies are vetted by the parent.
    """
    from mlcourse.exercises import assess_one
    from mlcourse.exercises.spec import AssessContext

    cfg = z.config
    data_dir = Path(cfg["data_dir"])
    heldout = Path(cfg["heldout_dir"]) if cfg.get("heldout_dir") else None
    for ex_id, task in tasks.items():
        ex = z.exercises.get(ex_id)
        if ex is None or not isinstance(task, dict):
            continue
        actx = AssessContext(seed=int(task.get("seed", 0)), data_dir=data_dir, heldout_dir=heldout)
        try:
            reply = assess_one(ex, task.get("result") or {}, actx)
        except MemoryError:
            reply = {"status": "error", "message": "checking your answer ran out of memory"}
        out = {"t": "probe", "id": ex_id, "status": reply.get("status"), "message": ""}
        out["message"] = reply.get("message", "")
        if "value" in reply:
            out["data"] = reply["value"]
        send(out)


def _read_job(job_r: int, max_bytes: int) -> dict[str, Any]:
    """Read the job (cells + per-exercise seeds) from the job pipe before any student code runs.

    A job larger than ``max_bytes`` ends the child with exit code 3.
    """
    chunks = []
    total = 0
    while True:
        chunk = os.read(job_r, 1 << 20)
        if not chunk:
            break
        total += len(chunk)
        if total > max_bytes:
            os._exit(3)
        chunks.append(chunk)
    os.close(job_r)
    return json.loads(b"".join(chunks))


def _drop_privileges(uid: int | None) -> None:
    """Become ``uid`` (when started as root with one) and never gain privileges again."""
    if uid is not None and os.geteuid() == 0:
        os.setgroups([])
        os.setgid(uid)
        os.setuid(uid)
    _prctl(PR_SET_NO_NEW_PRIVS, 1)


def _redirect_streams(result_w: int) -> None:
    """Standard streams to /dev/null; the result pipe to :data:`RESULT_FD`."""
    # Standard streams go nowhere at the OS level; Python-level output is captured and capped.
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    os.close(devnull)
    os.dup2(result_w, RESULT_FD, inheritable=False)
    os.close(result_w)


def _on_alarm(signum: int, frame: Any) -> None:
    """SIGALRM handler: the running cell (or probe) is over its time limit."""
    raise CellTimeout("the cell ran longer than the time limit")


@dataclass
class _ResultWriter:
    """Writes the child's JSON lines to the result pipe, at most ``cap`` bytes in all.

    ``dumps`` and ``write`` are json.dumps and os.write, bound before student code runs.
    """

    cap: int
    dumps: Callable[..., str]
    write: Callable[[int, Any], int]
    sent: int = 0

    def send(self, msg: dict[str, Any]) -> None:
        try:
            line = (self.dumps(msg, allow_nan=False) + "\n").encode()
        except (TypeError, ValueError):
            line = (
                self.dumps({"t": msg.get("t"), "id": msg.get("id"), "status": "unserializable"})
                + "\n"
            ).encode()
        if self.sent + len(line) > self.cap:
            return
        self.sent += len(line)
        view = memoryview(line)
        while view:
            n = self.write(RESULT_FD, view)
            view = view[n:]


@dataclass
class _CellTimer:
    """The per-cell time limit as a real-time interval timer (SIGALRM, see :func:`_on_alarm`)."""

    seconds: float
    setitimer: Callable[..., Any]
    which: int

    def start(self) -> None:
        self.setitimer(self.which, self.seconds)

    def stop(self) -> None:
        self.setitimer(self.which, 0)


@dataclass
class _CellRunner:
    """Runs the submission's cells in the shell and probes each exercise after its cell."""

    shell: Any
    exercises: dict[str, Any]
    seeds: dict[str, int]
    data_dir: Path
    send: Callable[[dict[str, Any]], None]
    timer: _CellTimer
    monotonic: Callable[[], float]
    probe_one: Callable[..., Any]  # the exercise framework's probe runner
    probe_context: Callable[..., Any]  # mlcourse.exercises.spec.ProbeContext

    def run_cell(self, cell: dict[str, Any]) -> None:
        """Run one cell; report its start, its end (error, line, time) and its probes."""
        index = cell["index"]
        self.send({"t": "cell", "i": index})
        start = self.monotonic()
        error = None
        error_line = None
        self.timer.start()
        try:
            result = self.shell.run_cell(cell["source"], store_history=False)
            err = result.error_before_exec or result.error_in_exec
            if err is not None:
                error = _safe_text(err)
                error_line = _error_line(err)
        except CellTimeout:
            error = "CellTimeout: the cell ran longer than the time limit"
        except BaseException as exc:
            error = _safe_text(exc)
        finally:
            self.timer.stop()
        if error is not None and error.startswith("CellTimeout"):
            error = f"the cell ran longer than the {self.timer.seconds:g} s limit and was stopped"
        self.send(
            {
                "t": "cell_end",
                "i": index,
                "error": error,
                "error_line": error_line,
                "seconds": round(self.monotonic() - start, 3),
            }
        )
        for ex_id in cell.get("probe", ()):
            self.send({"t": "probe", "id": ex_id, **self.probe(ex_id)})

    def probe(self, ex_id: str) -> dict[str, Any]:
        """Probe one exercise in the shell's namespace, under the per-cell time limit."""
        ex = self.exercises.get(ex_id)
        if ex is None:
            return {"status": "error", "message": "unknown exercise"}
        ctx = self.probe_context(seed=self.seeds.get(ex_id, 0), data_dir=self.data_dir)
        self.timer.start()
        try:
            # the exercise framework's probe runner: not-attempted detection, choice
            # validation, to_plain; it never raises for what the learner did
            result = self.probe_one(ex, self.shell.user_ns, ctx)
        except CellTimeout:
            return {"status": "error", "message": "CellTimeout: checking took too long"}
        except BaseException as exc:  # SystemExit, KeyboardInterrupt from student hooks
            return {"status": "error", "message": _safe_text(exc)}
        finally:
            self.timer.stop()
        if type(result) is not dict:
            return {"status": "error", "message": "the probe returned no result"}
        out = {"status": result.get("status"), "message": result.get("message", "")}
        if "value" in result:
            out["data"] = result["value"]
        return out


@contextlib.contextmanager
def _without_scipy_doc_notes(preload: list[str]) -> Iterator[None]:
    """Preload SciPy without the notes it writes into docstrings at import.

    SciPy 1.15+ decorates hundreds of functions with ``xp_capabilities``, which parses each
    docstring and appends a table of supported array libraries: measured here, 0.6 s of the
    2.9 s a sandbox spends importing pandas, scikit-learn and skops (``scipy.stats`` is
    imported by scikit-learn), paid by every sandbox and the inspector before the first
    grade. The decorator returns the function itself (no wrapper), so leaving it out changes
    nothing but those docstrings (and SciPy's own test markers). Done only while preloading,
    only if ``scipy.stats`` is not imported yet; the real decorator is put back after. Written
    here because SciPy has no switch for it short of ``python -OO``, which would also strip
    students' asserts.
    """
    if not {name.split(".")[0] for name in preload} & {"scipy", "sklearn", "skops"}:
        yield  # nothing preloaded imports SciPy
        return
    try:
        import scipy._lib._array_api as xp_api
    except Exception:
        yield
        return
    real = getattr(xp_api, "xp_capabilities", None)
    if real is None or "scipy.stats" in sys.modules:
        yield
        return

    def xp_capabilities(*args: Any, **kwargs: Any) -> Any:
        return lambda f: f

    xp_api.xp_capabilities = xp_capabilities
    try:
        yield
    finally:
        xp_api.xp_capabilities = real


def _nice_session(value: int) -> None:
    """Lower this session's priority while the zygote warms up (best effort).

    The sandbox runs in a session of its own, and Linux schedules sessions ("autogroups")
    fairly among themselves: a process's own nice value only ranks it within its session. So
    the session's nice value is raised too; the grader sets it back when the sandbox joins
    the pool (:meth:`~mlcourse.grading.sandbox.Sandbox.renice`).
    """
    with contextlib.suppress(OSError, ValueError):
        os.setpriority(os.PRIO_PROCESS, 0, value)
    with contextlib.suppress(OSError), open("/proc/self/autogroup", "w") as fh:
        fh.write(str(value))


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    fd = int(argv[argv.index("--ctrl-fd") + 1])
    ctrl = socket.socket(fileno=fd)
    msg, _ = recv_msg(ctrl)
    if msg is None:
        return 1
    if msg.get("nice"):
        _nice_session(int(msg["nice"]))
    Zygote(ctrl, msg).serve()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
