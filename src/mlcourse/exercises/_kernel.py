"""Run a notebook in one Jupyter kernel (nbclient), then run more code in the same kernel.

Used by ``mlcourse release`` (to probe the reference solution) and by the generic checker
tests (one kernel per notebook: run it once, then try each wrong answer in place).

Transport: where the platform has Unix-domain sockets (Linux, macOS) each kernel talks over
IPC sockets in its own private temporary folder, so kernels started side by side (pytest-xdist
workers, a restart) can never race for the same TCP port; elsewhere it falls back to TCP.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import tempfile
from pathlib import Path
from typing import Any

import nbformat
import zmq
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError
from nbclient.util import run_sync
from traitlets.config import Config

#: fixed thread counts and hash seed so kernel runs are reproducible on any machine
KERNEL_ENV = {
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "PYTHONHASHSEED": "0",
}
_MARK = "<<mlcourse-json>>"
#: longest socket path allowed (sun_path: 104 bytes on macOS, 108 on Linux), with a margin
_MAX_SOCKET_PATH = 100


def ipc_available() -> bool:
    """True where kernels can use IPC (Unix-domain socket) transport: not on Windows."""
    return sys.platform != "win32" and hasattr(socket, "AF_UNIX") and bool(zmq.has("ipc"))


def kernel_transport_config(folder: Path | None) -> Config:
    """``KernelManager`` settings: IPC sockets in ``folder`` (private to one kernel), else TCP.

    The connection file and the sockets (``kernel-1`` ... ``kernel-5``) all live in
    ``folder``; with ``folder`` None, or a path too long for a socket, the default (TCP on
    loopback, ports chosen by jupyter_client) stays.
    """
    config = Config()
    if folder is None or len(str(folder / "kernel-99")) > _MAX_SOCKET_PATH:
        return config
    config.KernelManager.transport = "ipc"
    config.KernelManager.ip = str(folder / "kernel")
    config.KernelManager.connection_file = str(folder / "kernel.json")
    return config


class NotebookError(RuntimeError):
    """A cell of a notebook raised; the message names the cell and shows the error."""


class KernelSession:
    """A live kernel that executed a notebook and accepts more cells.

    Examples
    --------
    >>> with KernelSession(nb) as session:  # doctest: +SKIP
    ...     session.run_notebook()
    ...     session.json("import json; print(json.dumps(1 + 1))")
    2
    """

    def __init__(
        self, nb: nbformat.NotebookNode, cwd: Path | None = None, timeout: int = 120
    ) -> None:
        self.nb = nb
        self._tmp = None if cwd else tempfile.TemporaryDirectory(prefix="mlcourse-kernel-")
        self.cwd = Path(cwd) if cwd else Path(self._tmp.name)
        # a short private (0700) folder for the connection file and the IPC sockets
        self._ipc = (
            tempfile.TemporaryDirectory(prefix="mlck-", ignore_cleanup_errors=True)
            if ipc_available()
            else None
        )
        self._sockets = Path(self._ipc.name) if self._ipc is not None else None
        self.client = NotebookClient(
            nb,
            timeout=timeout,
            kernel_name="python3",
            resources={"metadata": {"path": str(self.cwd)}},
            # the kernel's own log only: on the TCP fallback ipykernel 7 warns at every start
            # that loopback TCP is unencrypted, which buries real messages in the output
            extra_arguments=["--IPKernelApp.log_level=ERROR"],
            config=kernel_transport_config(self._sockets),
        )
        self._ctx: Any = None
        #: True once :meth:`snapshot` was taken (and the kernel not restarted since)
        self.has_snapshot = False
        #: ``"ipc"`` (Unix-domain sockets in a private folder) or ``"tcp"`` (the fallback)
        self.transport = "tcp"

    def __enter__(self) -> KernelSession:
        self._ctx = self.client.setup_kernel(env={**os.environ, **KERNEL_ENV}, cwd=str(self.cwd))
        try:
            self._ctx.__enter__()
        except BaseException:
            self._remove_folders()
            raise
        self.transport = str(self.client.km.transport)
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self._ctx.__exit__(*exc)
        finally:
            self._remove_folders()

    def _remove_folders(self) -> None:
        if self._ipc is not None:
            self._ipc.cleanup()
        if self._tmp is not None:
            self._tmp.cleanup()

    def restart(self) -> None:
        """Restart the kernel in place: same transport, sockets, folder and environment.

        Everything the kernel held is lost; run the notebook again if its state is needed.
        """
        self.has_snapshot = False
        run_sync(self.client.km.restart_kernel)(now=True)
        run_sync(self.client.kc.wait_for_ready)(timeout=self.client.startup_timeout)

    def snapshot(self, name: str = "solved") -> dict[str, int]:
        """Remember the kernel's state (its namespace and process settings) to go back to.

        Deep copies of the notebook's variables (a model, a data frame, a list; modules,
        functions, classes and matplotlib objects are kept as they are) and the process
        settings a cell may change: the global random states of ``random`` and NumPy,
        scikit-learn's ``set_config``, pandas' options, matplotlib's ``rcParams``, NumPy's
        error and print settings, the warning filters, ``os.environ``, the working directory
        and ``sys.path``. Returns ``{"copied": n, "kept": m}``. Take it right after
        :meth:`run_notebook`; :meth:`restore` then gives every later case the state the
        notebook left. Snapshots are kept by ``name`` (``"solved"``, the default, sets
        :attr:`has_snapshot`); another name leaves that one alone.
        """
        took = self.json(
            f"{_SNAPSHOT_HELPERS}\n_mlc_snapshots[{name!r}] = _mlc_Snapshot()\n"
            f"_mlc_result = _mlc_snapshots[{name!r}].take()"
        )
        if name == "solved":
            self.has_snapshot = True
        return took

    def restore(self, name: str = "solved") -> None:
        """Go back to the snapshot ``name``: names the cells bound since are removed, the
        remembered ones get fresh copies of their values, the process settings are put back
        and the output history (``Out``) is emptied. IPython's own names (``In``, ``_i3``
        ...) and ``_mlc*`` helpers stay.
        """
        self.run(f"_mlc_snapshots[{name!r}].restore()")

    def forget(self, name: str) -> None:
        """Drop the snapshot ``name`` (its copies hold memory)."""
        if name == "solved":
            self.has_snapshot = False
        self.run(f"globals().get('_mlc_snapshots', {{}}).pop({name!r}, None)")

    def run_notebook_again(self, env: dict[str, str] | None = None) -> None:
        """Run every code cell again in this kernel, the notebook's names cleared first and
        ``env`` set in the kernel's ``os.environ`` (e.g. ``MLCOURSE_DATA_DIR`` pointing at a
        data variant): the notebook's state on other data without starting a kernel.
        Imported modules stay imported (caches of :mod:`mlcourse` are keyed by the data
        folder); :meth:`restore` goes back to the snapshot, the environment included.
        """
        self.run(
            f"{_SNAPSHOT_HELPERS}\n_mlc_clear()\n__import__('os').environ.update({env or {}!r})"
        )
        self.run_notebook()

    def run_notebook(self) -> None:
        """Execute every code cell in order; raise :class:`NotebookError` on the first error."""
        for i, cell in enumerate(self.nb.cells):
            if cell.cell_type != "code":
                continue
            try:
                self.client.execute_cell(cell, i)
            except CellExecutionError as exc:
                raise NotebookError(f"cell {i} raised:\n{cell.source}\n---\n{exc}") from exc

    def run(self, source: str) -> nbformat.NotebookNode:
        """Execute ``source`` as an extra cell; return the executed cell (with outputs)."""
        cell = nbformat.v4.new_code_cell(source)
        # nbclient stores the executed cell at its index, so lend it a slot at the end
        self.nb.cells.append(cell)
        try:
            self.client.execute_cell(cell, len(self.nb.cells) - 1)
        except CellExecutionError as exc:
            raise NotebookError(f"extra cell raised:\n{source}\n---\n{exc}") from exc
        finally:
            cell = self.nb.cells.pop()
        return cell

    def json(self, source: str) -> Any:
        """Execute ``source``, which must assign ``_mlc_result``; return that value.

        The value travels as JSON on one marked output line, so anything else the cell
        prints (a learner's function may print) does not get in the way.
        """
        cell = self.run(
            f"{source}\nimport json as _mlc_json\nprint({_MARK!r} + _mlc_json.dumps(_mlc_result))"
        )
        text = "".join(o.get("text", "") for o in cell.outputs if o.get("output_type") == "stream")
        marked = [line for line in text.splitlines() if line.startswith(_MARK)]
        if not marked:
            raise NotebookError(f"no result from the kernel; its output was:\n{text}")
        return json.loads(marked[-1][len(_MARK) :])

    def probe(
        self, stem: str, seed: int = 0, data_dir: str | None = None, assess: bool = True
    ) -> dict[str, Any]:
        """Run :func:`mlcourse.exercises.run_probes` for notebook ``stem`` in the kernel.

        With ``assess`` (the default) each result then goes through its exercise's trusted
        ``assess`` step (:func:`mlcourse.exercises.assess_one`, held-out players of
        ``data_dir``), as ``check`` does: the expected answers are facts, not observations.
        """
        folder = "None" if data_dir is None else f"__import__('pathlib').Path({str(data_dir)!r})"
        code = (
            "from mlcourse.exercises import run_probes as _mlc_rp\n"
            "from mlcourse.exercises.spec import ProbeContext as _mlc_PC\n"
            f"_mlc_ctx = _mlc_PC(seed={int(seed)}, data_dir={folder})\n"
            f"_mlc_result = _mlc_rp({stem!r}, get_ipython().user_ns, _mlc_ctx)\n"
        )
        if assess:
            code += (
                "from mlcourse.exercises import assess_one as _mlc_as\n"
                "from mlcourse.exercises._registry import exercises_for as _mlc_ef\n"
                "from mlcourse.exercises._registry import data_dir as _mlc_dd\n"
                "from mlcourse.exercises._registry import heldout_dir as _mlc_hd\n"
                "from mlcourse.exercises.spec import AssessContext as _mlc_AC\n"
                "from mlcourse.exercises.spec import exercise_seed as _mlc_es\n"
                f"_mlc_dir = {folder} or _mlc_dd()\n"
                "_mlc_result = {_e.id: _mlc_as(_e, _mlc_result[_e.id], _mlc_AC(\n"
                f"    seed=_mlc_es({int(seed)}, _e.notebook, _e.id), data_dir=_mlc_dir,\n"
                f"    heldout_dir=_mlc_hd(_mlc_dir))) for _e in _mlc_ef({stem!r})}}\n"
            )
        return self.json(code)

    def check(self, stem: str, exercise_id: str) -> dict[str, Any]:
        """Run the notebook's ``check(exercise_id)`` in the kernel; return its feedback fields."""
        module = _module_for(stem)
        code = (
            f"from {module} import check as _mlc_check\n"
            f"_mlc_fb = _mlc_check({exercise_id!r})\n"
            "_mlc_result = {'status': _mlc_fb.status, 'message': _mlc_fb.message,"
            " 'notes': list(_mlc_fb.notes), 'html': _mlc_fb._repr_html_(), 'text': str(_mlc_fb)}\n"
        )
        return self.json(code)


#: the kernel side of :meth:`KernelSession.snapshot` and :meth:`KernelSession.restore`
_SNAPSHOT_HELPERS = """
class _mlc_Snapshot:
    import copy as _copy, os as _os, random as _random, re as _re, sys as _sys
    import types as _types, warnings as _warnings
    _OWN = _re.compile(r"^(_mlc.*|_i+|_i\\d+|_\\d+|_+|__\\w+__|In|Out|_ih|_oh|_dh)$")
    _ATOMIC = (_types.ModuleType, _types.FunctionType, _types.BuiltinFunctionType, type)

    def __init__(self):
        self.copies, self.kept, self.state = {}, {}, {}

    def _names(self, ns):
        hidden = get_ipython().user_ns_hidden
        return [k for k in ns if not self._OWN.match(k)
                and not (k in hidden and hidden[k] is ns[k])]

    def _by_reference(self, v):
        if isinstance(v, self._ATOMIC):
            return True
        mod = type(v).__module__ or ""
        if mod.startswith("matplotlib"):
            return True
        np = self._sys.modules.get("numpy")
        return (np is not None and isinstance(v, np.ndarray) and v.dtype == object
                and v.size > 0 and (type(v.flat[0]).__module__ or "").startswith("matplotlib"))

    def take(self):
        ns = get_ipython().user_ns
        self.copies, self.kept, memo = {}, {}, {}
        for k in self._names(ns):
            v = ns[k]
            if self._by_reference(v):
                self.kept[k] = v
                continue
            before = dict(memo)
            try:
                self.copies[k] = self._copy.deepcopy(v, memo)
            except Exception:  # a generator, a lock, an open file: kept as it is
                memo.clear()
                memo.update(before)
                self.kept[k] = v
        self.state = self._process_state()
        return {"copied": len(self.copies), "kept": len(self.kept)}

    def _process_state(self):
        mods = self._sys.modules
        state = {"random": self._random.getstate(), "environ": dict(self._os.environ),
                 "cwd": self._os.getcwd(), "path": list(self._sys.path),
                 "filters": list(self._warnings.filters)}
        if "numpy" in mods:
            np = mods["numpy"]
            state["numpy"] = np.random.get_state()
            state["numpy_err"] = np.geterr()
            state["numpy_print"] = np.get_printoptions()
        if "sklearn" in mods:
            state["sklearn"] = mods["sklearn"].get_config()
        if "pandas" in mods:
            state["pandas"] = self._pandas_options(mods["pandas"])
        if "matplotlib" in mods:
            state["rc"] = dict(mods["matplotlib"].rcParams)
        return state

    def _pandas_options(self, pd):
        with self._warnings.catch_warnings():
            self._warnings.simplefilter("ignore")
            return {k: pd.get_option(k) for k in pd._config.config._registered_options}

    def restore(self):
        if not self.state:
            raise RuntimeError("restore() without a snapshot: call snapshot() first")
        ns = get_ipython().user_ns
        for k in self._names(ns):
            if k not in self.copies and k not in self.kept:
                del ns[k]
        memo = {}
        for k, v in self.copies.items():
            ns[k] = self._copy.deepcopy(v, memo)
        ns.update(self.kept)
        s, mods = self.state, self._sys.modules
        self._random.setstate(s["random"])
        if self._os.environ != s["environ"]:
            self._os.environ.clear()
            self._os.environ.update(s["environ"])
        self._os.chdir(s["cwd"])
        self._sys.path[:] = s["path"]
        self._warnings.filters[:] = s["filters"]
        getattr(self._warnings, "_filters_mutated", lambda: None)()
        if "numpy" in s:
            np = mods["numpy"]
            np.random.set_state(s["numpy"])
            np.seterr(**s["numpy_err"])
            if np.get_printoptions() != s["numpy_print"]:
                np.set_printoptions(**s["numpy_print"])
        if "sklearn" in s:
            mods["sklearn"].set_config(**s["sklearn"])
        with self._warnings.catch_warnings():  # deprecated options and rcParams warn
            self._warnings.simplefilter("ignore")
            if "pandas" in s:
                pd = mods["pandas"]
                for k, v in self._pandas_options(pd).items():
                    if k in s["pandas"] and _mlc_differs(v, s["pandas"][k]):
                        pd.set_option(k, s["pandas"][k])
            if "rc" in s:
                rc = mods["matplotlib"].rcParams
                changed = {k: v for k, v in s["rc"].items() if _mlc_differs(rc.get(k), v)}
                if changed:
                    rc.update(changed)
        # the output history (Out, _5, _) would keep every case's results alive: emptied
        out, hook = ns.get("Out"), get_ipython().displayhook
        if isinstance(out, dict) and out:
            for n in list(out):
                ns.pop(f"_{n}", None)
            out.clear()
        for name in ("_", "__", "___"):
            if name in ns:
                ns[name] = ""
            setattr(hook, name, "")


def _mlc_differs(a, b):
    try:
        return bool(a != b)
    except Exception:  # an array-valued setting: compare as text
        return repr(a) != repr(b)


def _mlc_clear():
    ns = get_ipython().user_ns
    for k in _mlc_Snapshot()._names(ns):
        del ns[k]


_mlc_snapshots = globals().get("_mlc_snapshots", {})
"""


def _module_for(stem: str) -> str:
    from ._registry import notebook_modules

    return notebook_modules()[stem].__name__
