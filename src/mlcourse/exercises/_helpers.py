"""Small ready-made probes and judges for the common exercise shapes.

Use them in ``nbNN`` modules when they fit; write your own probe/judge when they do not
(a probe may call the learner's function on inputs from ``ctx.rng(...)``, transform fresh
rows with a fitted pipeline, ...). Judges see plain data only and never put the expected
value into a message.

The notebook modules also share their building blocks from here: the exercise constructors
(:func:`exercise`, :func:`choice_exercise`), the checks of a learner's function or number
(:func:`learner_function`, :func:`learner_number`), the comparisons of plain data
(:func:`plain_close`, :func:`values_close`, :func:`missing_and_extra`, :func:`key_problem`)
and the verdict on an unreadable observation (:func:`unreadable`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np

from .spec import AnswerError, Exercise, Judge, Outcome, Plain, Probe, ProbeContext, to_plain


def exercise(
    notebook: str,
    id: str,
    title: str,
    reads: tuple[str, ...],
    probe: Probe,
    judge: Judge,
    *,
    points: float = 1,
    hints: tuple[str, ...] = (),
    **extra: Any,
) -> Exercise:
    """An :class:`~.spec.Exercise` of ``notebook``: what the learner sees (``title``), what
    the checker reads and how it judges, then ``points`` (1 unless given) and ``hints``.

    ``extra`` holds the other fields of :class:`~.spec.Exercise` (``assess``, ``kind``,
    ``choices``). A notebook module binds its notebook once:
    ``_exercise = functools.partial(exercise, NOTEBOOK)``.
    """
    return Exercise(id, notebook, title, points, reads, probe, judge, hints, **extra)


def choice_exercise(
    notebook: str,
    id: str,
    title: str,
    name: str,
    explanations: Mapping[str, str],
    *,
    choices: Mapping[str, str],
    convert: Callable[[Any], Any] | None = None,
    points: float = 1,
    hints: tuple[str, ...] = (),
) -> Exercise:
    """A multiple-choice :func:`exercise`: the letter in ``name`` (after ``convert``, by
    default :func:`typed_letter`), judged by :func:`choice_judge` with ``explanations``;
    ``choices`` are the options shown."""
    probe, judge = value_probe(name, convert or typed_letter), choice_judge(explanations)
    extra = {"kind": "choice", "choices": choices}
    return exercise(notebook, id, title, (name,), probe, judge, points=points, hints=hints, **extra)


def typed_letter(answer: Any) -> Any:
    """A multiple-choice answer without the blanks around it, in capitals (``" b"`` -> ``"B"``).

    Anything but a string raises (an ``AttributeError``: the learner's answer is not text).
    """
    return answer.strip().upper()


def value_probe(name: str, convert: Callable[[Any], Any] | None = None) -> Probe:
    """A probe that returns ``to_plain(namespace[name])`` (after ``convert``, if given).

    Examples
    --------
    >>> value_probe("n_players")({"n_players": 12}, ProbeContext())
    12
    """

    def probe(ns: Mapping[str, Any], ctx: ProbeContext) -> Plain:
        value = ns[name]
        return to_plain(convert(value) if convert else value)

    probe.__name__ = f"value_probe_{name}"
    return probe


def learner_function(ns: Mapping[str, Any], name: str, wrong: str | None = None) -> Callable:
    """``ns[name]`` when it is callable, else :class:`AnswerError` with ``wrong``.

    Without ``wrong`` the message is "`name` should be a function (def name(...): ...), not a
    value."
    """
    fn = ns[name]
    if not callable(fn):
        raise AnswerError(
            wrong or f"`{name}` should be a function (def {name}(...): ...), not a value."
        )
    return fn


def learner_number(
    value: Any, wrong_type: str, *, not_finite: str | None = None, subclasses: bool = True
) -> float:
    """One number from the learner (a Python or NumPy integer or float) as a ``float``.

    Raises :class:`AnswerError` with ``wrong_type.format(type=<type name>)`` for anything
    else, True/False included; with ``subclasses=False`` also for subclasses of ``int`` and
    ``float`` other than NumPy's. With ``not_finite``, NaN and infinity are refused too, with
    ``not_finite.format(value=<the float>)``.

    Examples
    --------
    >>> learner_number(np.int64(3), "not a number: {type}")
    3.0
    >>> learner_number(True, "`n` should be a number, not {type}")
    Traceback (most recent call last):
    ...
    mlcourse.exercises.spec.AnswerError: `n` should be a number, not bool
    """
    if subclasses:
        number = not isinstance(value, bool) and isinstance(
            value, int | float | np.integer | np.floating
        )
    else:
        number = type(value) in (int, float) or isinstance(value, np.floating | np.integer)
    if not number:
        raise AnswerError(wrong_type.format(type=type(value).__name__))
    value = float(value)
    if not_finite is not None and not math.isfinite(value):
        raise AnswerError(not_finite.format(value=value))
    return value


def unreadable() -> Outcome:
    """The verdict on an observation of the wrong shape (the probe did not make it)."""
    return Outcome("error", "the answer could not be read; run the exercise cell again")


def _kind(v: Plain) -> str:
    if isinstance(v, bool):
        return "True/False"
    if isinstance(v, int | float):
        return "a number"
    if isinstance(v, str):
        return "a string" if v not in {"nan", "inf", "-inf"} else "a number"
    if isinstance(v, list):
        return f"a list of {len(v)} item{'s' if len(v) != 1 else ''}"
    if isinstance(v, dict):
        return "a dict"
    return "None"


def _shape_problem(student: Plain, expected: Plain, what: str) -> str | None:
    ks, ke = _kind(student), _kind(expected)
    if ks != ke:
        return f"{what} should be {ke}, but yours is {ks}."
    if isinstance(expected, dict):
        assert isinstance(student, dict)
        return key_problem(student, expected, what)
    return None


def missing_and_extra(
    student: Iterable[Any], expected: Iterable[Any], *, sort: bool = True
) -> tuple[list[Any], list[Any]]:
    """The keys (or items) of ``expected`` that ``student`` lacks, and those it has too many.

    Each list keeps the order of its own side unless ``sort``.

    Examples
    --------
    >>> missing_and_extra({"b": 1, "c": 2}, {"c": 0, "a": 0})
    (['a'], ['b'])
    """
    student, expected = list(student), list(expected)
    missing = [k for k in expected if k not in student]
    extra = [k for k in student if k not in expected]
    return (sorted(missing), sorted(extra)) if sort else (missing, extra)


def key_problem(
    student: Mapping[str, Any],
    expected: Mapping[str, Any],
    what: str,
    *,
    sort: bool = True,
    extra_note: str = "",
) -> str | None:
    """What is wrong with the keys of a learner's dict, or ``None`` when they are right.

    ``"{what} has missing keys [...] and unexpected keys [...]{extra_note}."``: the key lists
    sorted unless ``sort`` is false (then in each dict's order); ``extra_note`` follows the
    unexpected keys, e.g. ``" (classify only the ten attributes)"``.

    Examples
    --------
    >>> key_problem({"a": 1, "z": 2}, {"a": 0, "b": 0}, "`kinds`")
    "`kinds` has missing keys ['b'] and unexpected keys ['z']."
    """
    missing, extra = missing_and_extra(student, expected, sort=sort)
    if not missing and not extra:
        return None
    parts = []
    if missing:
        parts.append(f"missing keys {missing}")
    if extra:
        parts.append(f"unexpected keys {extra}{extra_note}")
    return f"{what} has {' and '.join(parts)}."


def equal_judge(wrong: str, what: str = "Your answer") -> Judge:
    """Exact equality (after the type/shape checks), with ``wrong`` as the reason."""

    def judge(student: Plain, expected: Plain) -> Outcome:
        problem = _shape_problem(student, expected, what)
        if problem:
            return Outcome.incorrect(problem)
        return Outcome.correct() if student == expected else Outcome.incorrect(wrong)

    return judge


def plain_close(a: Plain, b: Plain, rtol: float, atol: float) -> bool:
    """Whether two plain values are equal, numbers within ``rtol``/``atol`` (``math.isclose``).

    Dicts need the same keys and lists the same length, compared item by item; True/False
    and everything that is not a number must be equal.

    Examples
    --------
    >>> plain_close({"a": [1.0, "x"]}, {"a": [1.0 + 1e-12, "x"]}, 1e-9, 0.0)
    True
    >>> plain_close("1", 1, 1e-9, 0.0), plain_close([1.0], [1.0, 2.0], 1e-9, 0.0)
    (False, False)
    """
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(plain_close(a[k], b[k], rtol, atol) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(
            plain_close(x, y, rtol, atol) for x, y in zip(a, b, strict=True)
        )
    if isinstance(a, bool) or isinstance(b, bool):
        return a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return math.isclose(a, b, rel_tol=rtol, abs_tol=atol)
    return a == b


def values_close(
    student: Mapping[str, Any], expected: Mapping[str, Any], rtol: float = 1e-9, atol: float = 1e-12
) -> bool:
    """Whether ``student`` holds, under every key of ``expected``, a number close to its value.

    For dicts of numbers whose keys the judge has already compared; ``math.isclose`` with
    ``rtol``/``atol`` on every pair.
    """
    return all(math.isclose(student[k], expected[k], rel_tol=rtol, abs_tol=atol) for k in expected)


def close_judge(wrong: str, rtol: float = 1e-6, atol: float = 1e-9, what: str = "Your answer"):
    """Numbers (or lists/dicts of numbers) equal within ``rtol``/``atol``."""

    def judge(student: Plain, expected: Plain) -> Outcome:
        problem = _shape_problem(student, expected, what)
        if problem:
            return Outcome.incorrect(problem)
        return (
            Outcome.correct()
            if plain_close(student, expected, rtol, atol)
            else (Outcome.incorrect(wrong))
        )

    return judge


def choice_judge(
    explanations: Mapping[str, str], default: str = "That is not the best option."
) -> Judge:
    """Judge a multiple-choice letter; ``explanations[letter]`` is what that letter's answer gets.

    Give an explanation for *every* offered letter, the right one included, and write them
    alike: one or two sentences on what the option says about the question, without
    "Correct"/"Not quite" (the feedback shows the verdict). Then neither the module's source
    nor the feedback betrays the key: the right letter's explanation does not stand out, and
    ``check()`` answers every letter with a sentence worth reading. A letter without an
    explanation gets ``"Correct!"`` when right and ``default`` when wrong.

    The probe should return the letter (``value_probe(name, str.upper)`` does). In a student
    edition ``expected`` is the sealed verdict table (:func:`~._expected.seal_choice`): the
    judge opens the entry of the learner's letter and returns the verdict stored there.

    Examples
    --------
    >>> judge = choice_judge({"A": "Rows are events.", "B": "A player has many rows."})
    >>> judge("a", "A").status, judge("B", "A").message
    ('correct', 'A player has many rows.')
    """

    def judge(student: Plain, expected: Plain) -> Outcome:
        if not isinstance(student, str):
            return Outcome.incorrect('Answer with one letter in quotes, e.g. "A".')
        letter = student.strip().upper()
        if isinstance(expected, dict) and expected.get("sealed") == "recorded":
            return _recorded(expected, letter)
        if isinstance(expected, dict) and expected.get("sealed") == "verdicts":
            return _sealed_verdict(expected, letter, default)
        if letter == str(expected).strip().upper():
            return Outcome.correct(explanations.get(letter, "Correct!"))
        return Outcome.incorrect(explanations.get(letter, default))

    judge.explanations = dict(explanations)  # type: ignore[attr-defined]
    return judge


def _recorded(expected: dict[str, Plain], letter: str) -> Outcome:
    """An edition meant for grading: the letter is kept, not judged (no key is shipped)."""
    letters = [str(x) for x in expected.get("letters") or []]  # type: ignore[union-attr]
    if letters and letter not in letters:
        return Outcome.incorrect(f"Answer with one of the letters {', '.join(letters)}.")
    return Outcome(
        "recorded",
        f"Your answer {letter} is recorded. This question is graded with the notebook you hand "
        "in; change the letter in the cell above if you change your mind.",
        0.0,
    )


def _sealed_verdict(sealed: dict[str, Plain], letter: str, default: str) -> Outcome:
    """The verdict a student edition's sealed table stores for ``letter``."""
    from ._expected import open_verdict

    context = sealed.get("context")
    verdict = open_verdict(sealed, letter, str(context)) if isinstance(context, str) else None
    if verdict is None:
        return Outcome.incorrect(default)
    score = verdict.get("score")
    return Outcome(
        verdict.get("status", "incorrect"),
        str(verdict.get("message", "")),
        float(score) if isinstance(score, int | float) else 0.0,
    )


# --------------------------------------------------------------------------- fitted estimators
#
# An estimator exercise never reports a metric from the learner's process. The probe sends the
# fitted estimator itself, serialised with skops (no pickle); the trusted ``assess`` step loads
# it with :func:`load_estimator`, which refuses every type outside scikit-learn, NumPy and
# SciPy, then inspects its structure and computes its predictions on held-out rows. In the
# grader that happens in a fresh process no student code ran in.

#: largest serialised estimator accepted (bytes, before base64)
MAX_ESTIMATOR_BYTES = 24 * 2**20
#: deepest nesting of a model file's schema (a pipeline of pipelines is a few dozen levels)
MAX_SCHEMA_DEPTH = 200
#: most nodes a model file may expand to once every reused node is counted where it is used
#: (a fitted forest of 500 trees is a few thousand); skops' own checks walk that expansion
MAX_EXPANDED_NODES = 200_000
#: parameters that make a genuine estimator read or write files, with the values that do: a
#: ``Pipeline(memory=...)`` loads pickles from its cache folder when it is refitted; a text
#: vectorizer with ``input="filename"`` opens every value it transforms as a path
_FILE_PARAMETERS: dict[str, Callable[[Any], bool]] = {
    "memory": lambda value: value is not None,
    "input": lambda value: value in ("filename", "file"),
}


def estimator_probe(name: str, *, require_fitted: bool = True) -> Probe:
    """A probe that sends ``namespace[name]``, a fitted scikit-learn estimator, as skops bytes.

    Returns ``{"skops": <base64 text>, "type": <class name>}``. The class name is only a
    hint for messages: :func:`load_estimator` reads the real structure from the bytes.

    Raises
    ------
    AnswerError
        When the object is not an estimator, is not fitted, or cannot be serialised by skops
        (e.g. it holds a lambda): the message says how to fix it.
    """

    def probe(ns: Mapping[str, Any], ctx: ProbeContext) -> Plain:
        import base64

        model = ns[name]
        _require_estimator(model, name, require_fitted)
        try:
            from ._skops import sio

            blob = sio.dumps(model)
        except Exception as exc:
            raise AnswerError(
                f"`{name}` cannot be saved for checking ({type(exc).__name__}). Build it from "
                "scikit-learn parts only (no lambdas or functions defined in the notebook)."
            ) from None
        if len(blob) > MAX_ESTIMATOR_BYTES:
            raise AnswerError(
                f"`{name}` takes {len(blob) / 2**20:.0f} MB when saved, far more than this "
                "exercise needs: it is not the model the task asks for."
            )
        return {"skops": base64.b64encode(blob).decode("ascii"), "type": type(model).__name__}

    probe.__name__ = f"estimator_probe_{name}"
    return probe


def _require_estimator(model: Any, name: str, require_fitted: bool) -> None:
    from sklearn.base import BaseEstimator
    from sklearn.exceptions import NotFittedError
    from sklearn.utils.validation import check_is_fitted

    if isinstance(model, type) or not isinstance(model, BaseEstimator):
        raise AnswerError(
            f"`{name}` should be a scikit-learn estimator or Pipeline (yours is a "
            f"{type(model).__name__})."
        )
    if require_fitted:
        try:
            check_is_fitted(model)
        except NotFittedError:
            raise AnswerError(
                f"`{name}` is not fitted yet: call `{name}.fit(...)` in the exercise's cell, "
                "as the task says."
            ) from None


def load_estimator(
    observation: Plain, name: str = "your model", extra_types: frozenset[str] = frozenset()
) -> Any:
    """Load an estimator sent by :func:`estimator_probe`, building only allow-listed types.

    Every type and function the file names, and every skops node kind it uses, is read from
    the file's ``schema.json`` and checked against :mod:`mlcourse.exercises._allowlist`
    before anything is built (skops' own defaults are not relied on). ``extra_types``: an own
    assignment's additional types, reviewed the same way.

    Raises
    ------
    AnswerError
        When the observation is not a serialised estimator, or names a type that is not on
        the allow-list (the message names it).
    """
    import base64
    import binascii

    if not isinstance(observation, dict) or not isinstance(observation.get("skops"), str):
        raise AnswerError(f"{name} could not be read back for checking; run its cell again.")
    text = observation["skops"]
    if len(text) > MAX_ESTIMATOR_BYTES * 4 // 3 + 8:
        raise AnswerError(f"{name} is far larger than this exercise needs.")
    try:
        blob = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise AnswerError(f"{name} could not be read back for checking.") from None
    names = refused_model_types(blob, name, extra_types)
    from ._skops import sio

    try:
        model = sio.loads(blob, trusted=sorted(names))
    except Exception:
        raise AnswerError(f"{name} could not be read back for checking.") from None
    refused_parameters(model, name)
    return model


def refused_model_types(
    blob: bytes,
    name: str = "your model",
    extra_types: frozenset[str] = frozenset(),
    *,
    review_hooks: bool = True,
) -> set[str]:
    """Check a skops file against the allow-list without building anything.

    Returns the set of type names the file uses (all allowed); raises :class:`AnswerError`
    naming the first refused ones otherwise. Reads only the zip directory and
    ``schema.json``: no object is created, so this is safe anywhere, also outside a sandbox.
    With ``review_hooks=False`` only the names are checked (nothing is imported: the grader's
    own quick pre-check); the loader always reviews the listed classes' rebuild hooks too,
    which imports their modules.
    """
    from ._allowlist import ALLOWED_NODE_KINDS, name_problem, rebuild_problem

    problem = rebuild_problem if review_hooks else name_problem

    schema = _model_schema(blob, name)
    types: set[str] = set()
    kinds: set[str] = set()
    _schema_names(schema, types, kinds, 0, name)
    if _expanded_size(schema) > MAX_EXPANDED_NODES:
        raise AnswerError(f"{name} is far larger than this exercise needs.")
    bad_kinds = sorted(k for k in kinds if k not in ALLOWED_NODE_KINDS)
    refused = sorted(t for t in types if problem(t, frozenset(extra_types)))
    if bad_kinds or refused:
        # the names come from the file: cut, so a forged one cannot flood the feedback
        shown = [t if len(t) <= 120 else t[:117] + "..." for t in refused]
        shown += [f"a {k[:40]}" for k in bad_kinds]
        raise AnswerError(
            f"{name} contains parts the grader does not load ({', '.join(shown[:3])}"
            f"{', ...' if len(shown) > 3 else ''}): build it from scikit-learn estimators "
            "and transformers, with NumPy functions only where a function is needed."
        )
    return types


def _model_schema(blob: bytes, name: str) -> Any:
    """The parsed ``schema.json`` of a skops file, after the size checks."""
    import io
    import json
    import zipfile

    _check_unpacked_size(blob, name)
    try:
        with zipfile.ZipFile(io.BytesIO(blob)) as archive:
            raw = archive.read("schema.json")
        return json.loads(raw)
    except Exception:  # a forged member: encrypted (RuntimeError), unknown compression
        # (NotImplementedError), a bad stream (zlib.error), not JSON, too deep ...
        raise AnswerError(f"{name} could not be read back for checking.") from None


def _expanded_size(schema: Any) -> int:
    """How many nodes the schema has once every ``CachedNode`` counts its target again.

    skops refers to an object saved before by its ``__id__``; a file that reuses one node
    ten times, nine levels deep, is small but expands to 10^9 nodes, and skops' own checks
    walk that expansion. A reference cycle counts as too large.
    """
    nodes: dict[Any, Any] = {}
    stack = [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if node.get("__loader__") not in (None, "CachedNode") and "__id__" in node:
                nodes.setdefault(node["__id__"], node)
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    memo: dict[Any, int] = {}
    busy: set[Any] = set()

    def size(node: Any) -> int:
        if isinstance(node, list):
            return sum(size(v) for v in node)
        if not isinstance(node, dict):
            return 0
        if node.get("__loader__") == "CachedNode":
            ref = node.get("__id__")
            if ref in busy or ref not in nodes:
                return MAX_EXPANDED_NODES + 1
            if ref not in memo:
                busy.add(ref)
                memo[ref] = size(nodes[ref])
                busy.discard(ref)
            return memo[ref]
        return 1 + sum(min(size(v), MAX_EXPANDED_NODES + 1) for v in node.values())

    try:
        return size(schema)
    except RecursionError:
        return MAX_EXPANDED_NODES + 1


def refused_parameters(model: Any, name: str = "your model") -> None:
    """Refuse a loaded estimator any part of which would read or write files.

    The allow-list checks types; a genuine estimator can still carry a setting that makes
    the checker touch the disk: ``Pipeline(memory="/some/folder")`` loads pickles from that
    folder when the checker refits it. Raises :class:`AnswerError` naming the setting.
    """
    from sklearn.base import BaseEstimator

    seen: set[int] = set()
    todo = [model]
    while todo:
        obj = todo.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        if isinstance(obj, BaseEstimator):
            for key, touches_files in _FILE_PARAMETERS.items():
                if key in obj.__dict__ and touches_files(obj.__dict__[key]):
                    raise AnswerError(
                        f"{name} sets `{key}` on its {type(obj).__name__}, which makes it "
                        f"read or write files: not allowed here. Leave `{key}` at its default."
                    )
            todo.extend(obj.__dict__.values())
        elif isinstance(obj, list | tuple | set):
            todo.extend(obj)
        elif isinstance(obj, dict):
            todo.extend(obj.values())


def _schema_names(node: Any, types: set[str], kinds: set[str], depth: int, name: str) -> None:
    """Collect every ``module.Class`` and ``__loader__`` a skops schema names."""
    if depth > MAX_SCHEMA_DEPTH:
        raise AnswerError(f"{name} is nested far deeper than this exercise needs.")
    if isinstance(node, dict):
        loader = node.get("__loader__")
        if loader is not None:
            kinds.add(str(loader))
        if "__class__" in node or "__module__" in node:
            types.add(f"{node.get('__module__')}.{node.get('__class__')}")
        for value in node.values():
            _schema_names(value, types, kinds, depth + 1, name)
    elif isinstance(node, list):
        for value in node:
            _schema_names(value, types, kinds, depth + 1, name)


def _check_unpacked_size(blob: bytes, name: str) -> None:
    """Refuse a skops file whose members unpack to far more than an estimator needs.

    skops writes its members uncompressed, so an honest file unpacks to about its own size;
    a small compressed file that unpacks to gigabytes (a "zip bomb") would cost the trusted
    checker minutes and gigabytes before it could refuse it. ``zipfile`` never reads past a
    member's declared size, so checking the declared sizes bounds the work.
    """
    import io
    import zipfile

    try:
        with zipfile.ZipFile(io.BytesIO(blob)) as archive:
            members = archive.infolist()
    except Exception:  # a forged directory: BadZipFile, but also RuntimeError, NotImplementedError
        raise AnswerError(f"{name} could not be read back for checking.") from None
    if len(members) > 100_000 or sum(m.file_size for m in members) > 2 * MAX_ESTIMATOR_BYTES:
        raise AnswerError(f"{name} is far larger than this exercise needs.")
