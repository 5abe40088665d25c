"""Running probes on a learner's namespace and judging their plain results.

The result of one probe is a small JSON-able dict, the same in the notebook and in the
grader's sandbox::

    {"status": "ok", "value": <Plain>}
    {"status": "not_attempted", "message": "..."}
    {"status": "answer_error", "message": "..."}     # AnswerError: wrong type or shape
    {"status": "error", "message": "<the learner's traceback, shortened>"}

A probe's value is an *observation*; an exercise with an ``assess`` step turns it into the
facts its judge compares (:func:`assess_one`, trusted: held-out rows and labels live there).
"""

from __future__ import annotations

import math
import sys
import sysconfig
import traceback
from collections.abc import Iterable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from .spec import (
    AnswerError,
    AssessContext,
    Exercise,
    NotAttempted,
    Outcome,
    ProbeContext,
    exercise_seed,
    to_plain,
)

#: the text placeholders raise; ``check`` reports it as "not attempted"
PLACEHOLDER_MESSAGE = "replace this line with your code"

_PACKAGE_DIR = str(Path(__file__).resolve().parents[1])
_LIBRARY_DIRS = tuple(
    {
        str(Path(p).resolve())
        for key in ("stdlib", "platstdlib", "purelib", "platlib")
        if (p := sysconfig.get_paths().get(key))
    }
)


def _not_attempted_reason(ex: Exercise, namespace: Mapping[str, Any]) -> str | None:
    for name in ex.reads:
        if name not in namespace:
            return (
                f"`{name}` is not defined yet. Write your answer in the cell of exercise "
                f"{ex.id!r}, run that cell (and the cells above it), then check again."
            )
        if namespace[name] is Ellipsis:
            return f"`{name}` is still `...`: replace the `...` with your answer and run the cell."
    return None


def _validate_choice(ex: Exercise, namespace: Mapping[str, Any]) -> None:
    name = ex.reads[0]
    value = namespace[name]
    letters = sorted(ex.choices or {})
    shown = ", ".join(f'"{c}"' for c in letters)
    if type(value) is not str:
        raise AnswerError(
            f"`{name}` should be one letter in quotes, one of {shown} "
            f'(for example `{name} = "{letters[0]}"`), not a {type(value).__name__}.'
        )
    if value.strip().upper() not in {c.upper() for c in letters}:
        raise AnswerError(
            f"`{name}` is {value!r}, which is not one of the offered letters {shown}."
        )


def _is_library_frame(filename: str) -> bool:
    try:
        path = str(Path(filename).resolve())
    except (OSError, ValueError):
        return False
    return path.startswith(_PACKAGE_DIR) or path.startswith(_LIBRARY_DIRS)


def _cell_label(filename: str) -> str:
    # IPython compiles each cell into a temporary file such as /tmp/ipykernel_12/345.py;
    # saying "your notebook cell" is clearer than that path.
    if "ipykernel_" in filename or filename.startswith("<ipython-input"):
        return "your notebook cell"
    return filename


def short_traceback(exc: BaseException) -> str:
    """Format ``exc`` keeping only the learner's own frames (not mlcourse or libraries).

    When no frame is the learner's (the error happened inside a library called by the
    probe), the innermost frame is kept so the message still points somewhere.
    """
    frames = traceback.extract_tb(exc.__traceback__)
    mine = [f for f in frames if not _is_library_frame(f.filename)]
    if not mine and frames:
        mine = [frames[-1]]
    lines = ["Traceback (your code only):"]
    for f in mine:
        lines.append(f"  {_cell_label(f.filename)}, line {f.lineno}, in {f.name}")
        if f.line:
            lines.append(f"    {f.line.strip()}")
    lines.extend(s.rstrip("\n") for s in traceback.format_exception_only(type(exc), exc))
    return "\n".join(lines)


def probe_one(ex: Exercise, namespace: Mapping[str, Any], ctx: ProbeContext) -> dict[str, Any]:
    """Run one exercise's probe on ``namespace``; return the plain result dict.

    Never raises for anything the learner did; ``KeyboardInterrupt`` and ``SystemExit``
    propagate.
    """
    reason = _not_attempted_reason(ex, namespace)
    if reason is not None:
        return {"status": "not_attempted", "message": reason}
    try:
        if ex.kind == "choice":
            _validate_choice(ex, namespace)
        value = to_plain(ex.probe(namespace, ctx))
    except NotAttempted as exc:
        return {"status": "not_attempted", "message": str(exc) or "not attempted yet"}
    except NotImplementedError:
        return {
            "status": "not_attempted",
            "message": "your function still raises NotImplementedError: replace the "
            "`raise NotImplementedError(...)` line with your code and run the cell.",
        }
    except AnswerError as exc:
        return {"status": "answer_error", "message": str(exc)}
    except Exception as exc:  # the learner's error, reported as such
        return {"status": "error", "message": short_traceback(exc)}
    return {"status": "ok", "value": value}


def run_probes(
    exercises: str | Iterable[Exercise],
    namespace: Mapping[str, Any],
    ctx: ProbeContext | None = None,
) -> dict[str, dict[str, Any]]:
    """Probe every exercise of a notebook on one namespace.

    Parameters
    ----------
    exercises : str or iterable of Exercise
        A notebook stem (``"01_encoding_basics"``) or the exercises themselves.
    namespace : mapping
        The executed notebook's globals (``get_ipython().user_ns`` in a kernel).
    ctx : ProbeContext, optional
        *Master* seed and data folder; defaults to ``ProbeContext()`` (seed 0, public data).
        Each exercise is probed with its own seed, :func:`~.spec.exercise_seed` of it.

    Returns
    -------
    dict
        ``{exercise_id: {"status": ..., "value" | "message": ...}}``, JSON-able
        (``json.dumps`` works on it). ``status`` is ``"ok"``, ``"not_attempted"``,
        ``"answer_error"`` or ``"error"``.

    Examples
    --------
    >>> from mlcourse.exercises.spec import Exercise
    >>> ex = Exercise("q1", "demo", "Answer", 1, ("x",), lambda ns, ctx: ns["x"],
    ...               lambda s, e: Outcome.correct())
    >>> run_probes([ex], {"x": 3})
    {'q1': {'status': 'ok', 'value': 3}}
    """
    if isinstance(exercises, str):
        from ._registry import exercises_for

        exercises = exercises_for(exercises)
    ctx = ctx or ProbeContext()
    return {
        ex.id: probe_one(
            ex, namespace, replace(ctx, seed=exercise_seed(ctx.seed, ex.notebook, ex.id))
        )
        for ex in exercises
    }


def assess_one(ex: Exercise, result: Mapping[str, Any], actx: AssessContext) -> dict[str, Any]:
    """Apply the exercise's trusted ``assess`` step to one probe result (trusted side).

    Returns a result of the same shape as :func:`probe_one`'s. Results that are not ``ok``,
    and exercises without ``assess``, pass through unchanged. An :class:`AnswerError` becomes
    ``answer_error`` (e.g. an estimator the grader cannot load safely); any other exception,
    raised while the checker used the learner's object on held-out rows, becomes ``error``
    naming only the exception type (its text could echo held-out data).
    """
    if ex.assess is None or not isinstance(result, Mapping) or result.get("status") != "ok":
        return dict(result) if isinstance(result, Mapping) else {"status": "malformed"}
    try:
        value = to_plain(ex.assess(result.get("value"), actx))
    except AnswerError as exc:
        return {"status": "answer_error", "message": str(exc)}
    except Exception as exc:
        return {
            "status": "error",
            "message": f"your answer raised {type(exc).__name__} when the checker used it on "
            "held-out players; make sure it works on new rows too (unseen levels, missing "
            "values)",
        }
    return {"status": "ok", "value": value}


def judge_result(
    ex: Exercise, student: Mapping[str, Any] | None, expected: Mapping[str, Any] | None
) -> Outcome:
    """Turn a probe result and the reference's probe result into an :class:`Outcome`.

    ``student`` and ``expected`` are entries of :func:`run_probes` output (plain data,
    possibly read back from JSON). Pure: no learner code runs here. A malformed entry
    (e.g. forged by a submission) gives status ``"error"``, never an exception.
    """
    if not isinstance(student, Mapping) or student.get("status") not in {
        "ok",
        "not_attempted",
        "answer_error",
        "error",
    }:
        return Outcome("error", "the answer could not be read (malformed probe result)")
    status = student["status"]
    message = student.get("message")
    message = message if isinstance(message, str) else ""
    if status == "not_attempted":
        return Outcome("not_attempted", message)
    if status == "answer_error":
        return Outcome.incorrect(message)
    if status == "error":
        return Outcome("error", message)
    if not isinstance(expected, Mapping) or expected.get("status") != "ok":
        return Outcome(
            "checker_error",
            f"the expected answer of {ex.id!r} is not available; "
            "the course maintainer must run `mlcourse release`",
        )
    if not _is_plain(student.get("value")):
        return Outcome("error", "the answer could not be read (not plain data)")
    try:
        outcome = ex.judge(student.get("value"), expected.get("value"))
    except Exception as exc:  # a judge bug must not look like the learner's fault
        return Outcome(
            "checker_error",
            f"the checker of {ex.id!r} failed ({type(exc).__name__}); this is not your "
            "fault: please report it",
        )
    if not isinstance(outcome, Outcome):
        return Outcome(
            "checker_error", f"the checker of {ex.id!r} returned {type(outcome).__name__}"
        )
    return outcome


def _is_plain(value: Any, depth: int = 0) -> bool:
    if depth > 60:
        return False
    t = type(value)
    if value is None or t in (bool, int, str):
        return True
    if t is float:
        return math.isfinite(value)
    if t is list:
        return all(_is_plain(v, depth + 1) for v in value)
    if t is dict:
        return all(type(k) is str and _is_plain(v, depth + 1) for k, v in value.items())
    return False


def current_namespace(depth: int = 2) -> dict[str, Any]:
    """The learner's namespace: IPython's ``user_ns`` in a kernel, else the caller's globals.

    ``depth`` counts frames from this function's caller's caller (the learner's code that
    called ``check``).
    """
    try:
        from IPython import get_ipython

        shell = get_ipython()
    except ImportError:  # IPython is a dependency, but a bare interpreter is fine too
        shell = None
    if shell is not None:
        return shell.user_ns
    return sys._getframe(depth).f_globals
