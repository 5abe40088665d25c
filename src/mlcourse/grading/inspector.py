"""The inspector: runs the exercises' ``assess`` steps on observations, inside a sandbox.

A sandboxed run returns *observations* (plain JSON). Some observations are objects the judge
must look at closely, e.g. a learner's fitted pipeline serialised with skops: its structure is
read and its predictions on held-out players are computed by the exercise's ``assess`` step,
never in the student's process.

Loading such an object is the one place where data a student shaped becomes objects, so it
is contained twice:

1. the loader builds only allow-listed types whose rebuild was reviewed
   (:mod:`mlcourse.exercises._allowlist`);
2. the ``assess`` steps run in a warm sandbox of their own (the same zygote and bubblewrap
   set-up as student code, :mod:`mlcourse.grading.sandbox`, in ``assess`` mode): user
   ``nobody`` in its own user, PID, network and IPC namespaces, a read-only view of the
   Python installation, the data variant and the held-out players, nothing else of the host
   (no gradebook, no reference results, no solutions), an environment without the seed, and
   the grader's processes invisible (own PID namespace, so no ``/proc/<grader>/environ``).
   Each submission's observations are assessed in a fresh child forked from the zygote, so
   what one submission's objects did cannot reach another's.

Replies come back as size-capped JSON lines; only ``ok``/``answer_error``/``error`` replies
for the exercises asked about are taken, and every string in them is vetted
(:mod:`mlcourse.grading.replies`) before it reaches a judge or a feedback file. A child that
fails, overruns or sends nothing gives each of its exercises an ``error`` result instead of
stopping the batch.
"""

from __future__ import annotations

import itertools
import os
import shutil
import sys
import tempfile
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlcourse.grading.replies import (
    ReplyVetter,
    allowed_class_words,
    checker_sources,
    data_words,
)
from mlcourse.grading.sandbox import (
    NOBODY,
    Isolation,
    Limits,
    Sandbox,
    SandboxConfig,
    free_uid,
)

#: largest reply accepted from one inspection (bytes of JSON lines)
MAX_REPLY_BYTES = 8 * 2**20

#: what the inspector's zygote imports once (forks are then cheap)
INSPECTOR_PRELOAD = (
    "numpy",
    "pandas",
    "scipy",
    "scipy.stats",
    "sklearn",
    "sklearn.base",
    "sklearn.compose",
    "sklearn.pipeline",
    "sklearn.preprocessing",
    "sklearn.impute",
    "sklearn.linear_model",
    "sklearn.ensemble",
    "sklearn.tree",
    "sklearn.neighbors",
    "sklearn.metrics",
    "sklearn.model_selection",
    "sklearn.calibration",
    "mlcourse.exercises._skops",
    "mlcourse.exercises",
)


def _inspector_preload(notebook_preload: tuple[str, ...] | None) -> tuple[str, ...]:
    """What the inspector's zygote imports: the notebook sandboxes' libraries (the model's
    classes live there) without the shell and plotting ones, then skops and the framework;
    :data:`INSPECTOR_PRELOAD` when the caller has no list."""
    if notebook_preload is None:
        return INSPECTOR_PRELOAD
    skip = ("IPython", "matplotlib")
    kept = [m for m in notebook_preload if not m.startswith(skip)]
    return tuple(dict.fromkeys((*kept, "mlcourse.exercises._skops", "mlcourse.exercises")))


FAILED = (
    "checking your answer on held-out players failed (it ran out of time or memory, or "
    "crashed); make sure it is the model the task asks for"
)


@dataclass(frozen=True)
class InspectLimits:
    #: one submission's assess steps (loading, refits, predictions): an honest submission of
    #: notebook 01 as it was before its split into 01 and 02 (three models, two refitted;
    #: now q3 in 01, q5 and q7 in 02) takes about ten seconds on an idle 2-core
    #: machine and several times that under load; a model built to be slow (a Python metric
    #: in a neighbours search) holds the one inspector, and the submissions behind it, for
    #: at most this long (it was 300 s)
    timeout: float = 180.0
    memory_mb: int = 4096

    def sandbox_limits(self) -> Limits:
        return Limits(
            cell_timeout=self.timeout,
            total_timeout=self.timeout,
            memory_mb=self.memory_mb,
            max_file_mb=16,
            scratch_mb=64,
            max_output_chars=10_000,
            max_result_bytes=MAX_REPLY_BYTES,
            max_job_bytes=256 * 2**20,
        )


class Inspector:
    """Assess observations of one exercises module in a warm sandbox (one child a call).

    Start it from a long-lived thread (bubblewrap's ``--die-with-parent`` fires when the
    thread that spawned it exits); :meth:`assess` is safe to call from several threads.

    Examples
    --------
    >>> insp = Inspector("mlcourse.exercises.nb01", data_dir=Path("variant"),
    ...                  heldout_dir=Path("private/heldout"))  # doctest: +SKIP
    >>> insp.assess({"q3_onehot_model": result}, {"q3_onehot_model": actx})  # doctest: +SKIP
    {'q3_onehot_model': {'status': 'ok', 'value': {...}}}
    """

    def __init__(
        self,
        exercises_module: str,
        extra_sys_path: tuple[str, ...] = (),
        limits: InspectLimits | None = None,
        *,
        data_dir: Path,
        heldout_dir: Path | None,
        isolation: Isolation = "strict",
        hidden: tuple[str, ...] = (),
        preload: tuple[str, ...] | None = None,
    ) -> None:
        self.module = exercises_module
        self.limits = limits or InspectLimits()
        self.data_dir = Path(data_dir).resolve()
        self.heldout_dir = Path(heldout_dir).resolve() if heldout_dir else None
        self._copy: Path | None = None
        uid = NOBODY
        if isolation == "process" and os.geteuid() == 0:
            # its own user, with its own copy of the held-out players: student code (user
            # nobody) cannot read them, and the inspector cannot read private/ or the seed
            uid = free_uid()
            mounted = self._private_copy(self.heldout_dir, uid) if self.heldout_dir else None
        else:
            mounted = self.heldout_dir
        self.config = SandboxConfig(
            isolation=isolation,
            data_dir=self.data_dir,
            exercises_module=exercises_module,
            extra_sys_path=tuple(extra_sys_path),
            limits=self.limits.sandbox_limits(),
            preload=_inspector_preload(preload),
            hidden=hidden,
            mode="assess",
            heldout_dir=mounted,
            process_uid=uid,
        )
        self._box: Sandbox | None = None
        self._lock = threading.Lock()
        self._jobs = itertools.count()
        self._vetter: ReplyVetter | None = None
        self._vetter_lock = threading.Lock()
        self._ready = False

    @property
    def label(self) -> str:
        """How the inspector is isolated (``strict``, ``process (as nobody)``, ...)."""
        return self._box.label if self._box is not None else self.config.isolation

    def warm(self) -> None:
        """Start the sandbox now, so that its imports run while the caller does other work;
        the reply vetter (it reads the checkers' sources) is built meanwhile in a thread."""
        with self._lock:
            if self._box is None:
                self._box = Sandbox(self.config, wait=False)
        threading.Thread(target=self.vetter, daemon=True).start()

    def _ready_box(self) -> Sandbox:
        if self._box is None:
            self._box = Sandbox(self.config, wait=False)
        if self._box.proc is not None and self._box.ctrl is not None and not self._ready:
            self._box.wait_ready()
            self._ready = True
        return self._box

    def vetter(self) -> ReplyVetter:
        """The reply vetter (built once: it reads the checkers' sources)."""
        with self._vetter_lock:
            if self._vetter is None:
                words = allowed_class_words() | data_words(self.data_dir, self.heldout_dir)
                self._vetter = ReplyVetter(checker_sources(self.module), words)
            return self._vetter

    def assess(
        self, results: Mapping[str, Mapping[str, Any]], contexts: Mapping[str, Any]
    ) -> dict[str, dict[str, Any]]:
        """Assess every ``ok`` result whose exercise has an ``assess`` step.

        ``results`` maps exercise id to a probe result (``{"status": ..., "value": ...}``);
        ``contexts`` maps the same ids to their :class:`~mlcourse.exercises.AssessContext`
        (its seed is used; the folders are the inspector's own). Returns the results with
        assessed values; the others are returned unchanged.
        """
        out = {k: dict(v) for k, v in results.items()}
        todo = {k: v for k, v in out.items() if v.get("status") == "ok" and k in contexts}
        for ex_id, refusal in self._refused(todo).items():
            out[ex_id] = refusal  # said by trusted code: it may name the refused types
            del todo[ex_id]
        if not todo:
            return out
        tasks = {k: {"result": v, "seed": int(contexts[k].seed)} for k, v in todo.items()}
        with self._lock:
            box = self._ready_box()
            run = box.run(f"assess-{next(self._jobs)}", [], {}, assess=tasks)
        vetter = self.vetter()
        for ex_id in todo:
            got = run.probes.get(ex_id)
            if isinstance(got, dict) and got.get("status") in {"ok", "answer_error", "error"}:
                reply = {"status": got["status"], "message": got.get("message", "")}
                if got["status"] == "ok":
                    reply["value"] = got.get("data")
                out[ex_id] = vetter.reply(reply)
            else:
                out[ex_id] = {"status": "error", "message": FAILED}
        return out

    def _refused(self, todo: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
        """Model files refused by the allow-list, checked here before the sandbox sees them.

        Reading a file's types builds nothing (:func:`~mlcourse.exercises._helpers.
        refused_model_types` reads the zip directory and ``schema.json``), so it is safe in
        the grader's process, and the refusal can name the types: a message from the sandbox
        could not (the reply vetter withholds words it does not know). Only names are checked
        here (reviewing a listed class's hooks imports its library: seconds in this process,
        on the way to the first grade); the sandbox's loader reviews the hooks as well.
        """
        import base64
        import binascii

        from mlcourse.exercises._helpers import refused_model_types
        from mlcourse.exercises.spec import AnswerError

        exercises = {ex.id: ex for ex in getattr(sys.modules.get(self.module), "EXERCISES", ())}
        refused = {}
        for ex_id, result in todo.items():
            value, ex = result.get("value"), exercises.get(ex_id)
            if ex is None or not isinstance(value, dict) or not isinstance(value.get("skops"), str):
                continue
            name = f"`{ex.reads[0]}`" if ex.reads else "your model"
            try:
                blob = base64.b64decode(value["skops"], validate=True)
                extra = frozenset(getattr(ex.assess, "extra_types", ()) or ())
                refused_model_types(blob, name, extra, review_hooks=False)
            except (binascii.Error, ValueError):
                continue  # the sandbox's loader says it cannot be read
            except AnswerError as exc:
                refused[ex_id] = {"status": "answer_error", "message": str(exc)}
            except Exception:  # anything else: the sandbox's loader decides, never a crash here
                continue
        return refused

    def _private_copy(self, heldout: Path, uid: int) -> Path:
        """The held-out players copied into a folder only ``uid`` can read (process
        isolation as root); removed by :meth:`close`."""
        self._copy = Path(tempfile.mkdtemp(prefix="mlcourse-inspector-"))
        os.chmod(self._copy, 0o711)  # traversable, not listable
        target = self._copy / "heldout"
        shutil.copytree(heldout, target)
        for path in [target, *target.rglob("*")]:
            os.chown(path, uid, uid, follow_symlinks=False)
        os.chmod(target, 0o700)
        return target

    def close(self) -> None:
        """Stop the sandbox; remove the private copy of the held-out players."""
        with self._lock:
            if self._box is not None:
                self._box.close()
                self._box = None
                self._ready = False
            if self._copy is not None:
                shutil.rmtree(self._copy, ignore_errors=True)
                self._copy = None


def heldout_context(seed: int, data_dir: Path | None, heldout_dir: Path | None) -> Any:
    """An :class:`~mlcourse.exercises.AssessContext` (imported lazily)."""
    from mlcourse.exercises.spec import AssessContext

    return AssessContext(seed=seed, data_dir=data_dir, heldout_dir=heldout_dir)


__all__ = ["FAILED", "InspectLimits", "Inspector", "heldout_context"]
