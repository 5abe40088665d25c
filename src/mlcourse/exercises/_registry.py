"""Discovery of the per-notebook exercise modules and of the course's folders.

Every module ``mlcourse.exercises.nbNN`` (``NN`` digits, optionally followed by more
characters, e.g. ``nb00`` or ``nb03``) declares ``NOTEBOOK`` (the stem of its solution
notebook) and ``EXERCISES`` (a tuple of :class:`~mlcourse.exercises.spec.Exercise`).
Nothing else needs registering: adding ``nb04.py`` and ``solutions/04_x.ipynb`` is enough.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from functools import cache
from pathlib import Path
from types import ModuleType

from mlcourse.datasets import course_root, data_dir

from .spec import Exercise

_MODULE_RE = re.compile(r"^nb\d+\w*$")
_PACKAGE = "mlcourse.exercises"


def package_root() -> Path:
    """The folder that holds ``src/`` (a checkout or a student edition).

    The same folder :func:`mlcourse.datasets.data_dir` finds the data in
    (``$MLCOURSE_ROOT`` or two levels above the package): see
    :func:`mlcourse.datasets.course_root`.
    """
    return course_root()


def solutions_dir() -> Path:
    """``<root>/solutions`` (may not exist: a student edition has no solutions)."""
    return package_root() / "solutions"


def notebooks_dir() -> Path:
    """``<root>/notebooks``, the learner editions."""
    return package_root() / "notebooks"


def heldout_dir(data: Path | None = None) -> Path:
    """Held-out players for the in-notebook checks of model exercises: ``<data>/heldout``.

    The lessons never load this folder, so a model judged on it is judged on players it
    cannot have seen. ``mlcourse telemetry generate`` writes it beside the course data.
    """
    return Path(data if data is not None else data_dir()) / "heldout"


def expected_dir() -> Path:
    """Where ``mlcourse release`` stores the expected answers (package data)."""
    return Path(__file__).resolve().parent / "expected"


@cache
def notebook_modules() -> dict[str, ModuleType]:
    """Import every ``mlcourse.exercises.nb*`` module, keyed by its ``NOTEBOOK`` stem.

    Returns
    -------
    dict
        ``{"00_start_here": <module mlcourse.exercises.nb00>, ...}`` sorted by stem.

    Raises
    ------
    TypeError
        When a module lacks ``NOTEBOOK``/``EXERCISES`` or two modules claim one notebook.

    Examples
    --------
    >>> "00_start_here" in notebook_modules()  # doctest: +SKIP
    True
    """
    pkg = importlib.import_module(_PACKAGE)
    found: dict[str, ModuleType] = {}
    for info in pkgutil.iter_modules(pkg.__path__):
        if not _MODULE_RE.match(info.name):
            continue
        mod = importlib.import_module(f"{_PACKAGE}.{info.name}")
        stem = getattr(mod, "NOTEBOOK", None)
        exercises = getattr(mod, "EXERCISES", None)
        if not isinstance(stem, str) or not isinstance(exercises, tuple):
            raise TypeError(
                f"{mod.__name__} must define NOTEBOOK (str, the solution notebook's stem) and "
                "EXERCISES (a tuple of Exercise)"
            )
        if stem in found:
            raise TypeError(
                f"{mod.__name__} and {found[stem].__name__} both declare NOTEBOOK = {stem!r}"
            )
        _validate_exercises(mod.__name__, stem, exercises)
        found[stem] = mod
    return dict(sorted(found.items()))


def _validate_exercises(modname: str, stem: str, exercises: tuple) -> None:
    seen: set[str] = set()
    for ex in exercises:
        if not isinstance(ex, Exercise):
            raise TypeError(f"{modname}.EXERCISES must hold Exercise objects, got {ex!r}")
        if ex.notebook != stem:
            raise ValueError(
                f"{modname}: exercise {ex.id!r} says notebook={ex.notebook!r}, "
                f"but the module's NOTEBOOK is {stem!r}"
            )
        if ex.id in seen:
            raise ValueError(f"{modname}: exercise id {ex.id!r} is declared twice")
        seen.add(ex.id)


def notebook_stems() -> list[str]:
    """Stems of every notebook that has an exercises module, sorted."""
    return list(notebook_modules())


def exercises_for(stem: str) -> tuple[Exercise, ...]:
    """The :class:`Exercise` objects of one notebook, in declaration order.

    Parameters
    ----------
    stem : str
        Notebook stem such as ``"01_encoding_basics"``; a file name such as
        ``"01_encoding_basics.ipynb"`` is accepted too.

    Raises
    ------
    KeyError
        With the list of known stems when ``stem`` is unknown.
    """
    stem = Path(stem).name.removesuffix(".ipynb")
    mods = notebook_modules()
    if stem not in mods:
        raise KeyError(
            f"no exercises module declares NOTEBOOK = {stem!r}; known notebooks: "
            f"{', '.join(mods) or '(none)'}"
        )
    return mods[stem].EXERCISES


def exercise_by_id(exercises: tuple[Exercise, ...], exercise_id: str) -> Exercise:
    """Look an exercise up by id, with a helpful error listing the valid ids."""
    for ex in exercises:
        if ex.id == exercise_id:
            return ex
    ids = ", ".join(repr(e.id) for e in exercises) or "(none)"
    raise KeyError(f"there is no exercise {exercise_id!r} here; the exercises are {ids}")
