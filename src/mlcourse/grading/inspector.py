"""The trusted inspector: runs the exercises' ``assess`` steps in fresh processes.

A sandboxed run returns *observations* (plain JSON). Some observations are objects the judge
must look at closely, e.g. a learner's fitted pipeline serialised with skops: its structure is
read and its predictions on held-out players are computed here, never in the student's
process. Each submission's observations are assessed in a fresh process forked from a
forkserver that imported the libraries once (``multiprocessing``'s ``forkserver`` start
method, standard library), so nothing one submission's objects did can reach another's, the
grader's own process never deserialises a learner's object, and held-out labels never enter
the sandbox.

Results come back as JSON bytes (never pickle), size-capped; the child runs under CPU,
memory and wall-clock limits, and a child that fails or overruns gives each of its exercises
an ``error`` result instead of stopping the batch.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import resource
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: largest JSON reply accepted from one inspection
MAX_REPLY_BYTES = 64 * 2**20
_PRELOAD = ["numpy", "pandas", "sklearn", "skops.io", "mlcourse.exercises"]


@dataclass(frozen=True)
class InspectLimits:
    timeout: float = 300.0
    memory_mb: int = 6144


def _context(exercises_module: str) -> multiprocessing.context.BaseContext:
    ctx = multiprocessing.get_context("forkserver")
    # the preload only makes forks cheap; the child imports what it needs itself
    ctx.set_forkserver_preload([*_PRELOAD, exercises_module])
    return ctx


class Inspector:
    """Assess observations of one exercises module in fresh trusted processes.

    Examples
    --------
    >>> insp = Inspector("mlcourse.exercises.nb01")  # doctest: +SKIP
    >>> insp.assess({"q3_onehot_model": result}, {"q3_onehot_model": actx})  # doctest: +SKIP
    {'q3_onehot_model': {'status': 'ok', 'value': {...}}}
    """

    def __init__(
        self,
        exercises_module: str,
        extra_sys_path: tuple[str, ...] = (),
        limits: InspectLimits | None = None,
    ) -> None:
        self.module = exercises_module
        self.extra_sys_path = tuple(extra_sys_path)
        self.limits = limits or InspectLimits()
        self._ctx = _context(exercises_module)

    def assess(
        self, results: Mapping[str, Mapping[str, Any]], contexts: Mapping[str, Any]
    ) -> dict[str, dict[str, Any]]:
        """Assess every ``ok`` result whose exercise has an ``assess`` step.

        ``results`` maps exercise id to a probe result (``{"status": ..., "value": ...}``);
        ``contexts`` maps the same ids to their :class:`~mlcourse.exercises.AssessContext`.
        Returns the results with assessed values; the others are returned unchanged.
        """
        out = {k: dict(v) for k, v in results.items()}
        todo = {k: v for k, v in out.items() if v.get("status") == "ok" and k in contexts}
        if not todo:
            return out
        reader, writer = self._ctx.Pipe(duplex=False)
        tasks = {k: (v, contexts[k]) for k, v in todo.items()}
        proc = self._ctx.Process(
            target=_child,
            args=(self.module, self.extra_sys_path, tasks, writer, self.limits),
            daemon=True,
        )
        proc.start()
        writer.close()
        reply: dict[str, Any] | None = None
        try:
            if reader.poll(self.limits.timeout):
                raw = reader.recv_bytes(MAX_REPLY_BYTES)
                parsed = json.loads(raw)
                reply = parsed if isinstance(parsed, dict) else None
        except (EOFError, OSError, ValueError):
            reply = None
        finally:
            reader.close()
            proc.join(5)
            if proc.is_alive():
                proc.kill()
                proc.join()
        for ex_id in todo:
            got = reply.get(ex_id) if reply else None
            if isinstance(got, dict) and got.get("status") in {"ok", "answer_error", "error"}:
                out[ex_id] = got
            else:
                out[ex_id] = {
                    "status": "error",
                    "message": "checking your answer on held-out players failed (it ran out of "
                    "time or memory, or crashed); make sure it is the model the task asks for",
                }
        return out

    def warm(self) -> None:
        """Start the forkserver now, so that its imports run while the caller does other
        work (the first :meth:`assess` would otherwise wait for them)."""
        from multiprocessing import forkserver

        forkserver.ensure_running()

    def close(self) -> None:
        """Nothing to release: every inspection is its own process."""


def _child(
    module: str,
    extra_sys_path: tuple[str, ...],
    tasks: dict[str, tuple[dict[str, Any], Any]],
    writer: Any,
    limits: InspectLimits,
) -> None:  # pragma: no cover - runs in the forked inspector process
    for path in reversed(extra_sys_path):
        if path not in sys.path:
            sys.path.insert(0, path)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = "1"
    cpu = int(limits.timeout) + 5
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))
    mem = limits.memory_mb * 2**20
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard == resource.RLIM_INFINITY or hard > mem:
        resource.setrlimit(
            resource.RLIMIT_AS, (mem, mem if hard == resource.RLIM_INFINITY else hard)
        )
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    import importlib

    from mlcourse.exercises import assess_one

    exercises = {ex.id: ex for ex in importlib.import_module(module).EXERCISES}
    reply: dict[str, Any] = {}
    for ex_id, (result, actx) in tasks.items():
        ex = exercises.get(ex_id)
        if ex is None:
            continue
        try:
            reply[ex_id] = assess_one(ex, result, actx)
        except MemoryError:
            reply[ex_id] = {"status": "error", "message": "checking your answer ran out of memory"}
    try:
        data = json.dumps(reply, allow_nan=False).encode()
    except (TypeError, ValueError):
        data = b"{}"
    writer.send_bytes(data)
    writer.close()


def heldout_context(seed: int, data_dir: Path | None, heldout_dir: Path | None) -> Any:
    """An :class:`~mlcourse.exercises.AssessContext` (imported lazily)."""
    from mlcourse.exercises.spec import AssessContext

    return AssessContext(seed=seed, data_dir=data_dir, heldout_dir=heldout_dir)
