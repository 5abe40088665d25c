"""The exercise model shared by the in-notebook checker and the batch grader.

This module is the contract between three parts of the course:

* the **solution notebooks** (``solutions/NN_name.ipynb``): every exercise cell carries
  ``cell.metadata["mlcourse"] = {"exercise": "<id>"}``; solution text is marked either by the
  cell tag ``"solution"`` (whole cell) or by ``# BEGIN SOLUTION`` / ``# END SOLUTION`` lines;
* the **in-notebook checker** (``check("id")`` in the learner's kernel): runs ``probe`` on the
  learner's namespace, then ``judge`` against the expected plain data computed from the
  reference solution on the public data;
* the **batch grader**: runs ``probe`` inside the sandbox after the submission executed (with a
  secret seed and a data variant), ships the plain result out as JSON, and calls ``judge``
  outside the sandbox against the reference solution probed the same way.

``probe`` is the only function that touches learner objects. It must turn them into
:data:`Plain` data with :func:`to_plain`, which checks exact types, so an object whose
``__eq__`` or ``__bool__`` lies never reaches ``judge``. ``judge`` sees plain data only and is
pure: the same inputs give the same :class:`Outcome`.
"""

from __future__ import annotations

import hashlib
import hmac
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Literal, TypeAlias, get_args

import numpy as np

Plain: TypeAlias = None | bool | int | float | str | list["Plain"] | dict[str, "Plain"]
#: The verdict on one exercise, shared by ``check()`` in the notebook and the batch grader.
#:
#: ``correct`` full marks; ``partly_correct`` some credit (``0 < score < 1``); ``incorrect``
#: no credit, with the reason; ``not_attempted`` the placeholder is still there; ``error`` the
#: learner's own code raised (the exception is shown); ``checker_error`` the checker itself
#: failed, not the learner's fault; ``recorded`` an edition meant for grading keeps the answer
#: without judging it (multiple choice, the instructor's option). The grader adds ``missing``
#: (no cell carries the id), ``not_run`` (the notebook stopped before the exercise) and
#: ``not_graded`` (file rejected).
Status: TypeAlias = Literal[
    "correct",
    "partly_correct",
    "incorrect",
    "not_attempted",
    "error",
    "checker_error",
    "recorded",
    "missing",
    "not_run",
    "not_graded",
]
STATUSES: tuple[str, ...] = get_args(Status)

#: metadata key on exercise cells: ``cell.metadata[METADATA_KEY]["exercise"] == id``
METADATA_KEY = "mlcourse"
#: cell tag marking a whole cell as solution
SOLUTION_TAG = "solution"
BEGIN_SOLUTION = "# BEGIN SOLUTION"
END_SOLUTION = "# END SOLUTION"


class NotAttempted(Exception):
    """Raised by a probe when the learner has not answered yet (placeholder still there)."""


class AnswerError(Exception):
    """Raised by a probe when an answer has the wrong type or shape.

    The message is shown to the learner as the reason for "incorrect"; write it as advice
    (what is wrong and how to fix it), never containing the expected value.
    """


@dataclass(frozen=True)
class Outcome:
    """The verdict on one exercise.

    ``score`` is the fraction of the exercise's points earned (0.0 to 1.0); partial credit
    is allowed where the judge says so.
    """

    status: Status
    message: str
    score: float = 0.0

    def __post_init__(self) -> None:
        if not 0.0 <= self.score <= 1.0:
            raise ValueError(f"score must lie in [0, 1], got {self.score}")
        if self.status not in STATUSES:
            raise ValueError(f"unknown status {self.status!r}; use one of {STATUSES}")

    @classmethod
    def correct(cls, message: str = "Correct!") -> Outcome:
        return cls("correct", message, 1.0)

    @classmethod
    def incorrect(cls, message: str, score: float = 0.0) -> Outcome:
        """No credit, or some credit: a score above 0 gives status ``partly_correct``."""
        return cls("partly_correct" if score > 0 else "incorrect", message, score)


def exercise_seed(master_seed: int, notebook: str, exercise_id: str) -> int:
    """The seed one exercise's probe gets: a keyed hash (HMAC-SHA256) of the master seed.

    The grader's master seed never enters the sandbox; each exercise's probe sees only its
    own derived seed, from which neither the master seed nor another exercise's seed can be
    recovered. In the notebook the master seed is 0 (public).

    Examples
    --------
    >>> a = exercise_seed(0, "00_start_here", "q1_players")
    >>> a == exercise_seed(0, "00_start_here", "q1_players")
    True
    >>> a == exercise_seed(1, "00_start_here", "q1_players")
    False
    """
    mac = hmac.new(str(int(master_seed)).encode(), f"{notebook}:{exercise_id}".encode(), "sha256")
    return int.from_bytes(mac.digest()[:8], "little") >> 1


@dataclass(frozen=True)
class _SeededContext:
    """The fields and the random generator that probe and assess contexts share."""

    #: prepended to the seed before hashing, so each kind of context draws its own numbers
    _RNG_PREFIX: ClassVar[str] = ""

    seed: int = 0
    data_dir: Path | None = None

    def rng(self, key: str) -> np.random.Generator:
        """A generator determined by the seed and ``key`` (the same key, the same numbers)."""
        digest = hashlib.sha256(f"{self._RNG_PREFIX}{self.seed}:{key}".encode()).digest()
        return np.random.default_rng(int.from_bytes(digest[:8], "little"))


@dataclass(frozen=True)
class ProbeContext(_SeededContext):
    """What a probe may use besides the learner's namespace.

    ``seed`` is the exercise's own seed (:func:`exercise_seed` of the master seed: 0 for the
    public checks in the notebook, the instructor's secret in the grader); derive every
    generated input from :meth:`rng` so that the learner's probe and the reference probe see
    the same inputs.
    """


@dataclass(frozen=True)
class AssessContext(_SeededContext):
    """What a trusted ``assess`` step may use: never available to the learner's code.

    ``data_dir`` is the data the notebook ran on (the learner saw it); ``heldout_dir`` holds
    players the learner's code never saw, with their labels and true probabilities (in the
    notebook ``datasets/heldout``, in the grader a private folder made from the secret seed).
    ``seed`` is the exercise's seed, as in :class:`ProbeContext`; :meth:`rng` draws other
    numbers than a probe's for the same key.
    """

    _RNG_PREFIX: ClassVar[str] = "assess:"

    heldout_dir: Path | None = None


@dataclass(frozen=True)
class WrongAnswer:
    """A realistic mistake, used by the generic tests (test data: never shipped).

    ``code`` replaces the solution region of the exercise's cell in the solution notebook;
    the checker must then answer ``status`` with a message containing ``message``
    (case-insensitive substring). Catalogues live in ``tests/catalogues/nbNN.py``.
    """

    name: str
    code: str
    message: str
    status: Status = "incorrect"


@dataclass(frozen=True)
class ValidAnswer:
    """A correct answer written differently from the reference; the checker must accept it.

    ``code`` replaces the solution region like :class:`WrongAnswer`; ``status`` is what the
    checker must answer (``"correct"`` unless the task gives partial credit on purpose).
    """

    name: str
    code: str
    status: Status = "correct"


Probe = Callable[[Mapping[str, Any], ProbeContext], Plain]
Judge = Callable[[Plain, Plain], Outcome]
Assess = Callable[[Plain, AssessContext], Plain]


@dataclass(frozen=True)
class Exercise:
    """One graded exercise.

    Parameters
    ----------
    id : str
        Unique within its notebook, e.g. ``"q1_column_kinds"``; the same string is in the
        exercise cell's metadata.
    notebook : str
        Stem of the notebook, e.g. ``"01_encoding_basics"``.
    title : str
        Short human title shown in feedback.
    points : float
        Weight in the grade.
    reads : tuple of str
        Names the exercise reads from the learner's namespace (variables, functions,
        fitted estimators). A missing name or one still bound to ``...`` means "not attempted".
    probe : callable
        ``probe(namespace, ctx) -> Plain``. Runs where the learner's code runs, so everything
        it returns is an *observation the learner could forge*: values, outputs of the
        learner's functions on inputs from ``ctx.rng``, a fitted estimator serialised with
        :func:`~mlcourse.exercises._helpers.estimator_probe`. Never a conclusion (a metric,
        a flag, "is fitted"). Raises :class:`NotAttempted` or :class:`AnswerError`; any other
        exception is the learner's error.
    judge : callable
        ``judge(student, expected) -> Outcome`` on plain data only (trusted).
    assess : callable, optional
        ``assess(observation, actx) -> Plain`` (trusted): turns an observation into the facts
        the judge compares, using what the learner never had (:class:`AssessContext`: held-out
        rows and their labels). In the grader it runs in a fresh process that no student code
        ran in (it may deserialise a learner's estimator); in the notebook, in the kernel.
        Every metric is computed here or in ``judge``, never in ``probe``.
    hints : tuple of str
        Tiered hints, mildest first.
    kind : {"code", "choice"}
        ``"choice"`` for multiple-choice concept questions.
    choices : mapping, optional
        For ``kind="choice"``: option letter -> text.
    """

    id: str
    notebook: str
    title: str
    points: float
    reads: tuple[str, ...]
    probe: Probe
    judge: Judge
    hints: tuple[str, ...] = ()
    kind: Literal["code", "choice"] = "code"
    choices: Mapping[str, str] | None = None
    assess: Assess | None = None

    def __post_init__(self) -> None:
        if not self.id or not self.id.replace("_", "").isalnum():
            raise ValueError(f"exercise id must be a non-empty identifier, got {self.id!r}")
        if self.points <= 0:
            raise ValueError(f"{self.id}: points must be positive, got {self.points}")
        if not self.reads:
            raise ValueError(f"{self.id}: declare at least one name in `reads`")
        if self.kind == "choice" and not self.choices:
            raise ValueError(f"{self.id}: a choice exercise needs `choices`")


def to_plain(obj: Any, *, max_items: int = 1_000_000, _depth: int = 0) -> Plain:
    """Convert a learner's value to :data:`Plain` data, checking exact types.

    Accepts Python scalars, NumPy scalars and arrays (numeric, bool or string), lists,
    tuples, dicts with ``str`` keys, and pandas Series / Index (values only). Anything else
    raises :class:`AnswerError`. Subclasses of built-in types are refused, because their
    ``__eq__`` or ``__bool__`` could lie. Non-finite floats become strings ``"nan"``,
    ``"inf"``, ``"-inf"`` so the result is valid JSON.

    Examples
    --------
    >>> to_plain(np.array([1.5, 2.0]))
    [1.5, 2.0]
    >>> to_plain({"a": (1, True)})
    {'a': [1, True]}
    """
    if _depth > 50:
        raise AnswerError("the answer is nested too deeply")
    t = type(obj)
    if obj is None or t is bool or t is str or t is int:
        return obj
    if t is float:
        return _plain_float(obj)
    if isinstance(obj, np.generic) and t.__module__ == "numpy":
        return to_plain(obj.item(), max_items=max_items, _depth=_depth + 1)
    if t is np.ndarray:
        return _plain_array(obj, max_items, _depth)
    if t is list or t is tuple:
        if len(obj) > max_items:
            raise AnswerError(f"the answer has {len(obj)} items; that is far more than expected")
        return [to_plain(v, max_items=max_items, _depth=_depth + 1) for v in obj]
    if t is dict:
        return _plain_dict(obj, max_items, _depth)
    if _is_pandas_vector(t):
        return to_plain(
            np.asarray(obj.to_numpy(dtype=object)), max_items=max_items, _depth=_depth + 1
        )
    raise AnswerError(
        f"an answer of type {t.__module__}.{t.__qualname__} cannot be checked here; "
        "use a plain value (number, string, list, dict, NumPy array)"
    )


def _plain_array(obj: np.ndarray, max_items: int, depth: int) -> Plain:
    """A NumPy array of numbers, True/False or strings (any other dtype is refused)."""
    if obj.size > max_items:
        raise AnswerError(f"the answer has {obj.size} items; that is far more than expected")
    if obj.dtype.kind in "biuf":
        return (
            [to_plain(v, _depth=depth + 1) for v in obj.tolist()]
            if obj.ndim
            else (to_plain(obj.item(), _depth=depth + 1))
        )
    if obj.dtype.kind in "UO":
        return [to_plain(v, max_items=max_items, _depth=depth + 1) for v in obj.tolist()]
    raise AnswerError(f"arrays of dtype {obj.dtype} are not accepted as answers")


def _plain_dict(obj: dict, max_items: int, depth: int) -> dict[str, Plain]:
    """A dict with ``str`` keys, its values converted."""
    out: dict[str, Plain] = {}
    for k, v in obj.items():
        if type(k) is not str:
            raise AnswerError("dictionary keys must be strings")
        out[k] = to_plain(v, max_items=max_items, _depth=depth + 1)
    return out


def _is_pandas_vector(t: type) -> bool:
    """True for exactly pandas' Series, Index or CategoricalIndex (not a subclass or a fake
    class that only claims their module and name)."""
    import sys

    pd = sys.modules.get("pandas")
    return pd is not None and t in (pd.Series, pd.Index, pd.CategoricalIndex)


def _plain_float(x: float) -> Plain:
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return x
