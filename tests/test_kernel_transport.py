"""Kernels the course starts cannot race for ports: IPC sockets in a private folder per kernel.

jupyter_client picks free TCP ports and binds them later, so two kernels started side by side
(pytest-xdist workers, a restart) could collide (issue 27). ``KernelSession`` therefore uses
Unix-domain sockets in its own temporary folder where the platform has them, and ``make lab``
loads ``etc/jupyter/jupyter_server_config.py``, which does the same for JupyterLab's kernels.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import nbformat
import pytest
from traitlets.config import Config
from traitlets.config.loader import PyFileConfigLoader

from mlcourse.exercises import _kernel
from mlcourse.exercises._kernel import KernelSession, ipc_available, kernel_transport_config

REPO = Path(__file__).resolve().parents[1]
LAB_CONFIG = REPO / "etc" / "jupyter"
SIDE_BY_SIDE = 8
on_posix = pytest.mark.skipif(sys.platform == "win32", reason="IPC sockets need Linux or macOS")


def test_ipc_is_available_where_the_platform_allows() -> None:
    assert ipc_available() is (sys.platform != "win32")


def test_transport_config_points_into_the_folder(tmp_path: Path) -> None:
    km = kernel_transport_config(tmp_path).KernelManager
    assert km.transport == "ipc"
    assert Path(km.ip).parent == tmp_path and Path(km.connection_file).parent == tmp_path


def test_transport_config_falls_back_to_tcp() -> None:
    assert "KernelManager" not in kernel_transport_config(None)
    too_long = Path("/tmp") / ("x" * 120)  # longer than a Unix socket path may be
    assert "KernelManager" not in kernel_transport_config(too_long)


def _use_kernel(_: int) -> dict[str, Any]:
    """Start a kernel, compute, restart it, compute again; report what it used."""
    session = KernelSession(nbformat.v4.new_notebook())
    with session:
        folder = session._sockets
        assert folder is not None
        info = json.loads(Path(session.client.km.connection_file).read_text())
        first = session.json("kept = 'before'\n_mlc_result = 1 + 1")
        pid = session.client.km.provisioner.pid
        session.restart()
        second = session.json("_mlc_result = [1 + 1, 'kept' in globals()]")
        return {
            "transport": session.transport,
            "info": info,
            "folder": folder,
            "mode": stat.S_IMODE(folder.stat().st_mode) & 0o777,  # jupyter_client adds sticky
            "sockets": sorted(p.name for p in folder.iterdir() if p.is_socket()),
            "results": (first, second),
            "restarted": session.client.km.provisioner.pid != pid,
            "cwd": session.cwd,
        }


@pytest.mark.slow
@on_posix
def test_many_kernels_side_by_side_use_ipc_and_restart() -> None:
    with ThreadPoolExecutor(SIDE_BY_SIDE) as pool:
        runs = list(pool.map(_use_kernel, range(SIDE_BY_SIDE)))
    folders = {run["folder"] for run in runs}
    assert len(folders) == SIDE_BY_SIDE, "each kernel has its own folder"
    for run in runs:
        assert run["transport"] == "ipc" and run["info"]["transport"] == "ipc"
        assert run["info"]["ip"] == str(run["folder"] / "kernel")
        assert run["mode"] == 0o700, "the socket folder is private"
        assert len(run["sockets"]) == 5, run["sockets"]  # shell, iopub, stdin, control, hb
        assert run["results"] == (2, [2, False]), "the restart gave a fresh, working kernel"
        assert run["restarted"]
        # shutdown removed the sockets, the connection file and both temporary folders
        assert not run["folder"].exists() and not run["cwd"].exists()


@pytest.mark.slow
@on_posix
def test_folders_are_removed_when_the_work_raises() -> None:
    session = KernelSession(nbformat.v4.new_notebook())
    with pytest.raises(_kernel.NotebookError), session:
        assert session._sockets is not None and any(session._sockets.iterdir())
        session.run("raise ValueError('boom')")
    assert not session._sockets.exists() and not session.cwd.exists()


@pytest.mark.slow
@on_posix
def test_a_dead_kernel_restarts_on_the_same_sockets() -> None:
    from nbclient.exceptions import DeadKernelError

    with KernelSession(nbformat.v4.new_notebook(), timeout=60) as session:
        ip = session.client.km.ip
        with pytest.raises(DeadKernelError):
            session.run("import os; os._exit(1)")
        session.restart()
        assert session.json("_mlc_result = 1 + 1") == 2
        assert session.client.km.ip == ip and session.transport == "ipc"


@pytest.mark.slow
def test_tcp_fallback_still_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_kernel, "ipc_available", lambda: False)
    with KernelSession(nbformat.v4.new_notebook()) as session:
        assert session._sockets is None
        assert session.transport == "tcp"
        assert session.json("_mlc_result = 1 + 1") == 2


# ---------------------------------------------------------------- JupyterLab (``make lab``)


def _lab_config(monkeypatch: pytest.MonkeyPatch, runtime: str) -> Config:
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", runtime)
    return PyFileConfigLoader("jupyter_server_config.py", path=str(LAB_CONFIG)).load_config()


@on_posix
def test_lab_config_asks_for_ipc(monkeypatch: pytest.MonkeyPatch) -> None:
    assert _lab_config(monkeypatch, "/tmp/rt").KernelManager.transport == "ipc"


def test_lab_config_keeps_tcp_when_socket_names_would_be_too_long(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert "KernelManager" not in _lab_config(monkeypatch, "/tmp/" + "x" * 60)


def test_make_lab_loads_the_config() -> None:
    dry = subprocess.run(["make", "-n", "lab"], cwd=REPO, capture_output=True, text=True)
    assert f'JUPYTER_CONFIG_PATH="{LAB_CONFIG}' in dry.stdout, dry.stdout + dry.stderr


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _api(url: str, token: str, method: str = "GET", body: bytes | None = None) -> Any:
    req = urllib.request.Request(
        url, data=body, method=method, headers={"Authorization": f"token {token}"}
    )
    with urllib.request.urlopen(req, timeout=10) as resp:  # noqa: S310 (loopback only)
        text = resp.read()
    return json.loads(text) if text else None


@pytest.fixture
def lab_server(tmp_path: Path) -> Iterator[tuple[str, str, Path, Path]]:
    """JupyterLab on loopback with the repo's config, as ``make lab`` starts it."""
    runtime = Path(tempfile.mkdtemp(prefix="mlcrt-"))  # short: socket names must fit
    port, token = _free_port(), secrets.token_hex(16)
    env = {
        **os.environ,
        "JUPYTER_CONFIG_PATH": str(LAB_CONFIG),
        "JUPYTER_RUNTIME_DIR": str(runtime),
        "JUPYTERLAB_SETTINGS_DIR": str(tmp_path / "settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(tmp_path / "workspaces"),
    }
    root = ["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []
    log_path = tmp_path / "lab.log"
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1",
             f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
             f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={tmp_path}",
             "--LabApp.news_url=", "--ServerApp.terminals_enabled=False",
             "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate", *root],
            env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                _api(f"{base}/api/status", token)
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("JupyterLab did not start:\n" + log_path.read_text())
                time.sleep(0.5)
        yield base, token, runtime, log_path
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        shutil.rmtree(runtime, ignore_errors=True)


@pytest.mark.slow
@on_posix
def test_jupyterlab_kernel_uses_ipc_without_the_tcp_warning(
    lab_server: tuple[str, str, Path, Path],
) -> None:
    base, token, runtime, log_path = lab_server
    kernel = _api(f"{base}/api/kernels", token, "POST", b'{"name": "python3"}')["id"]
    info = json.loads((runtime / f"kernel-{kernel}.json").read_text())
    assert info["transport"] == "ipc" and info["ip"] == str(runtime / f"kernel-{kernel}-ipc")
    # the kernel has bound its five sockets: past the point where it would have warned
    sockets = [Path(f"{info['ip']}-{info[name]}") for name in info if name.endswith("_port")]
    deadline = time.monotonic() + 60
    while not all(p.is_socket() for p in sockets) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert len(sockets) == 5 and all(p.is_socket() for p in sockets), sockets
    _api(f"{base}/api/kernels/{kernel}", token, "DELETE")
    assert not any(p.exists() for p in sockets), "shutdown removes the socket files"
    log = log_path.read_text()
    assert "Kernel started" in log and "without encryption" not in log, log
