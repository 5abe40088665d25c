"""Thin adapter between the grader and the exercise registry.

It looks exercise modules up by notebook number or stem (``mlcourse.exercises.nbNN``
declaring ``NOTEBOOK`` and ``EXERCISES``), or imports an explicit module (tests, custom
courses).
"""

from __future__ import annotations

import importlib
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlcourse.exercises.spec import Exercise


@dataclass(frozen=True)
class ExerciseSet:
    module: str
    notebook: str  # stem, e.g. "01_encoding_basics"
    exercises: tuple[Exercise, ...]
    #: an own assignment's :class:`~mlcourse.exercises.ready.Assignment` (None: the course)
    assignment: Any = None
    #: the file the module was imported from
    module_file: Path | None = None


def import_from(folder: str | Path, name: str) -> Any:
    """Import module ``name`` from ``folder`` (first on ``sys.path``), even when a module of
    that name was imported from elsewhere before (two assignments, each ``hw1_checks``)."""
    folder = str(Path(folder).resolve())
    if folder in sys.path:
        sys.path.remove(folder)
    sys.path.insert(0, folder)
    old = sys.modules.get(name)
    old_file = getattr(old, "__file__", None)
    if old is not None and (old_file is None or str(Path(old_file).resolve().parent) != folder):
        del sys.modules[name]
    importlib.invalidate_caches()
    return importlib.import_module(name)


def find_assignment(mod: Any) -> Any:
    """The :class:`~mlcourse.exercises.ready.Assignment` a checks module defines, or None."""
    from mlcourse.exercises.ready import Assignment

    found = [v for v in vars(mod).values() if isinstance(v, Assignment)]
    if len(found) > 1:
        raise ValueError(f"{mod.__name__} defines {len(found)} Assignment objects; keep one")
    return found[0] if found else None


def load_exercise_set(
    notebook: str | None, module: str | None = None, extra_path: tuple[str, ...] = ()
) -> ExerciseSet:
    """Find the exercises of ``notebook`` ("01", "nb01" or "01_encoding_basics"), or
    those of ``module`` (an own assignment's checks module: ``notebook`` may be None).

    >>> load_exercise_set("01").notebook  # doctest: +SKIP
    '01_encoding_basics'
    """
    for p in extra_path:
        if p not in sys.path:
            sys.path.insert(0, p)
    if module is None and not notebook:
        raise ValueError(
            "say what to grade: --notebook NN for a course notebook, or --exercises "
            "path/to/checks.py for an assignment of your own"
        )
    digits = _notebook_digits(notebook) if notebook else None
    if module is None:
        assert notebook is not None
        if digits is None:
            raise ValueError(
                f"--notebook {notebook!r}: give the notebook number, e.g. --notebook 01"
            )
        module = _module_of(notebook, digits)
    home = next((p for p in extra_path if (Path(p) / f"{module}.py").is_file()), None)
    try:
        mod = import_from(home, module) if home else importlib.import_module(module)
    except ModuleNotFoundError as exc:
        raise ValueError(
            f"no exercises found for notebook {notebook!r} (module {module} is missing: {exc})"
        ) from exc
    hw = find_assignment(mod)
    stem = getattr(mod, "NOTEBOOK", None) or (hw.notebook if hw is not None else None)
    exercises = tuple(getattr(mod, "EXERCISES", ()))
    if not stem or not exercises:
        raise ValueError(
            f"{module} must define NOTEBOOK (or an Assignment) and a non-empty EXERCISES tuple"
        )
    if any(not isinstance(ex, Exercise) for ex in exercises):
        raise ValueError(f"{module}.EXERCISES must contain Exercise objects only")
    named = notebook.removeprefix("nb") if notebook else ""
    if notebook and not stem.startswith(digits if named.isdigit() else named):
        raise ValueError(f"--notebook {notebook!r} does not match {module}'s notebook {stem!r}")
    file = getattr(mod, "__file__", None)
    return ExerciseSet(module, stem, exercises, hw, Path(file).resolve() if file else None)


def default_solution_path(stem: str) -> Path:
    """``solutions/<stem>.ipynb`` in the current directory or in the course checkout."""
    from mlcourse.exercises import solutions_dir

    candidates = [Path.cwd() / "solutions", solutions_dir()]
    for folder in candidates:
        path = folder / f"{stem}.ipynb"
        if path.exists():
            return path
    raise FileNotFoundError(
        f"the reference solution {stem}.ipynb was not found in {', '.join(map(str, candidates))}; "
        "pass it with --solution PATH"
    )


def _notebook_digits(notebook: str) -> str | None:
    """The two-digit number a ``--notebook`` value names: ``"01"``, ``"1"``, ``"nb01"``,
    ``"nb1"`` and ``"01_encoding_basics"`` all give ``"01"``; None when it names no number.

    >>> [_notebook_digits(n) for n in ("01", "1", "nb1", "07_survival", "x1")]
    ['01', '01', '01', '07', None]
    """
    match = re.match(r"(\d+)", notebook.removeprefix("nb"))
    return match.group(1).zfill(2) if match else None


def _module_of(notebook: str, digits: str) -> str:
    """The course module of notebook ``digits``: ``mlcourse.exercises.nb<digits>`` when it
    claims that notebook (imports one module, not all), else found among all of them."""
    from importlib.util import find_spec

    direct = f"mlcourse.exercises.nb{digits}"
    if find_spec(direct) is not None:
        stem = getattr(importlib.import_module(direct), "NOTEBOOK", "")
        if isinstance(stem, str) and stem.startswith(digits):
            return direct
    from mlcourse.exercises import notebook_modules

    matches = [m for stem, m in notebook_modules().items() if stem.startswith(digits)]
    if len(matches) != 1:
        known = ", ".join(notebook_modules()) or "(none)"
        raise ValueError(f"no exercises module for notebook {notebook!r}; known: {known}")
    return matches[0].__name__
