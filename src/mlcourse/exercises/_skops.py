"""``skops.io``, imported without scanning every scikit-learn module.

At import, skops builds default lists of trusted types from
``sklearn.utils.all_estimators()``, which imports all of scikit-learn (measured here, about
10x the time of the rest of the import: seconds in every grading sandbox, every kernel that
calls ``check()`` on a model), and from a scan of every public name of NumPy and
``scipy.special`` for ufuncs (another 0.6 s). The course never relies on those lists: the
loader names every type it trusts (:mod:`mlcourse.exercises._allowlist`, passed to
``skops.io.loads(trusted=...)``) and the probe only writes files. So both scans are skipped
while skops is imported. Written here because skops offers no switch for them.

Import this module (``from mlcourse.exercises._skops import sio``) instead of ``skops.io``;
the grader's sandboxes preload it.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
import threading
from types import ModuleType
from typing import Any

_lock = threading.Lock()
_UTILS = "skops.io._utils"


def _no_types(*args: Any, **kwargs: Any) -> list[str]:
    return []


class _Loader(importlib.abc.Loader):
    """Runs ``skops.io._utils`` as usual, then stubs its ufunc scan (restored afterwards)."""

    def __init__(self, real: Any) -> None:
        self.real = real

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self.real.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        self.real.exec_module(module)
        module._mlcourse_real_scan = module.get_public_type_names  # type: ignore[attr-defined]
        module.get_public_type_names = _no_types  # type: ignore[attr-defined]


class _Finder(importlib.abc.MetaPathFinder):
    def find_spec(self, name: str, path: Any, target: Any = None) -> Any:
        if name != _UTILS:
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is not None and spec.loader is not None:
            spec.loader = _Loader(spec.loader)
        return spec


def _restore_scan() -> None:
    """Put the real ``get_public_type_names`` back wherever skops bound the stub."""
    utils = sys.modules.get(_UTILS)
    real = getattr(utils, "_mlcourse_real_scan", None)
    if real is None:
        return
    for name in (_UTILS, "skops.io._trusted_types"):
        module = sys.modules.get(name)
        if getattr(module, "get_public_type_names", None) is _no_types:
            module.get_public_type_names = real  # type: ignore[union-attr]


def _import() -> object:
    with _lock:
        loaded = sys.modules.get("skops.io")
        if loaded is not None:
            return loaded
        import sklearn.utils

        real = sklearn.utils.all_estimators
        sklearn.utils.all_estimators = _no_types  # type: ignore[assignment]
        finder = _Finder()
        sys.meta_path.insert(0, finder)
        try:
            import skops.io as module
        finally:
            sys.meta_path.remove(finder)
            sklearn.utils.all_estimators = real
            _restore_scan()
        return module


sio = _import()

__all__ = ["sio"]
