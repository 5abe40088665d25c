"""Checker test data: the answers each checker must reject and accept. Never shipped.

Import it as ``catalogues`` (``tests/conftest.py`` puts ``tests/`` on ``sys.path``; so does
``make mutants``). One module per exercises module, named like it (``tests/catalogues/nb01.py`` for
``mlcourse.exercises.nb01``), defining three dicts keyed by exercise id:

``WRONG``
    ``{exercise_id: (WrongAnswer(...), ...)}``: realistic mistakes; each must get its
    ``status`` and a message containing its ``message``.
``VALID``
    ``{exercise_id: (ValidAnswer(...), ...)}``: correct answers written differently from the
    reference (another API, a loop instead of groupby, ...); each must be judged ``correct``.
``EQUIVALENT``
    ``{exercise_id: {mutant_id: "one-line reason a reviewer can check"}}``: mutants of the
    reference answer that are truly equivalent (``make mutants`` prints the ids).

``code`` replaces the solution region of the exercise's cell in ``solutions/NN_*.ipynb``
(inside a ``def`` the region is the function body).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field

from mlcourse.exercises.spec import ValidAnswer, WrongAnswer


@dataclass(frozen=True)
class Catalogue:
    wrong: dict[str, tuple[WrongAnswer, ...]] = field(default_factory=dict)
    valid: dict[str, tuple[ValidAnswer, ...]] = field(default_factory=dict)
    equivalent: dict[str, dict[str, str]] = field(default_factory=dict)


def catalogue(module_name: str) -> Catalogue:
    """The catalogue of ``mlcourse.exercises.nbNN`` (or ``"nbNN"``); empty when there is none."""
    short = module_name.rsplit(".", 1)[-1]
    try:
        mod = importlib.import_module(f"catalogues.{short}")
    except ModuleNotFoundError as exc:
        if exc.name != f"catalogues.{short}":
            raise
        mod = None
    wrong = dict(getattr(mod, "WRONG", {}) or {})
    valid = dict(getattr(mod, "VALID", {}) or {})
    equivalent = dict(getattr(mod, "EQUIVALENT", {}) or {})
    return Catalogue(wrong, valid, equivalent)
