"""Shared test configuration."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import matplotlib
import pytest

matplotlib.use("Agg")
# Reproducible numbers: one BLAS/OpenMP thread per test worker (pytest-xdist runs two).
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")

REPO = Path(__file__).resolve().parent.parent
# checker test data (tests/catalogues) is imported as `catalogues`
if str(REPO / "tests") not in sys.path:
    sys.path.insert(0, str(REPO / "tests"))


@pytest.fixture(scope="session")
def repo() -> Path:
    """The repository root."""
    return REPO


class SolvedKernels:
    """One kernel per solution notebook on this worker: the notebook runs once, then every
    catalogue answer, mutant and seed of it is judged in that kernel (issue 27).

    :meth:`lend` gives the kernel back in the state the notebook left: after the first
    lending each one starts with :meth:`KernelSession.restore` (a snapshot taken right after
    the notebook ran). A kernel that died is restarted (:meth:`KernelSession.restart`) and a
    kernel whose client can no longer be trusted (a cell timed out, so nbclient still polls
    its output) is replaced; either way the notebook runs again. At most ``limit`` kernels
    stay open (an xdist group keeps a notebook's tests together on one worker).
    """

    def __init__(self, limit: int = 2, timeout: int = 120) -> None:
        self.limit, self.timeout = limit, timeout
        self.open: dict[str, Any] = {}  # stem -> KernelSession, least recently used first
        self.dirty: set[str] = set()
        self.broken: dict[str, str] = {}  # stem -> "dead" (restart) or "stale" (replace)
        self.failed: dict[str, str] = {}
        self.runs: dict[str, int] = {}  # notebook runs per stem (one, unless a case broke it)

    def _run(self, stem: str, session: Any) -> None:
        from mlcourse.exercises._kernel import NotebookError

        self.runs[stem] = self.runs.get(stem, 0) + 1
        try:
            session.run_notebook()
        except NotebookError as exc:
            self.failed[stem] = f"solutions/{stem}.ipynb does not run: {exc}"
            raise
        session.snapshot()
        self.dirty.discard(stem)

    def notebook(self, stem: str) -> Any:
        """The notebook a kernel runs: ``solutions/<stem>.ipynb``."""
        import nbformat

        from mlcourse.authoring import solution_paths
        from mlcourse.exercises._registry import package_root

        return nbformat.read(solution_paths(package_root())[stem], as_version=4)

    def _start(self, stem: str) -> Any:
        from mlcourse.exercises._kernel import KernelSession

        while len(self.open) >= self.limit:
            self.close(next(iter(self.open)))
        session = KernelSession(self.notebook(stem), timeout=self.timeout).__enter__()
        try:
            self._run(stem, session)
        except BaseException:
            session.__exit__(None, None, None)
            raise
        self.open[stem] = session
        return session

    def _ready(self, stem: str) -> Any:
        """The kernel of ``stem`` in the state its notebook left."""
        if stem in self.failed:  # do not rerun a broken notebook for every case
            pytest.fail(self.failed[stem])
        how = self.broken.pop(stem, "")
        if how == "dead" and stem in self.open:
            session = self.open[stem]
            session.restart()
            self._run(stem, session)
        elif how == "stale":
            self.close(stem)
        if stem not in self.open:
            return self._start(stem)
        session = self.open.pop(stem)
        self.open[stem] = session  # most recently used
        if stem in self.dirty:
            session.restore()
        return session

    @contextlib.contextmanager
    def lend(self, stem: str) -> Iterator[Any]:
        """The solved kernel of ``stem`` for one case; it counts as changed afterwards."""
        from nbclient.exceptions import DeadKernelError

        from mlcourse.exercises._kernel import NotebookError

        try:
            session = self._ready(stem)
        except Exception as exc:
            if stem not in self.failed:
                self.broken[stem] = "stale"
            pytest.fail(f"the kernel of {stem} could not be made ready: {exc}")
        self.dirty.add(stem)
        try:
            yield session
        except (AssertionError, NotebookError):  # a verdict or a cell that raised: kernel fine
            raise
        except DeadKernelError:
            self.broken[stem] = "dead"
            raise
        except BaseException:  # a timeout (a cell's or pytest-timeout's), a lost connection
            self.broken[stem] = "stale"
            raise

    def mark_broken(self, stem: str) -> None:
        """The lender saw the kernel become unusable (e.g. a lent mutants run timed out)."""
        self.broken[stem] = "stale"

    def close(self, stem: str | None = None) -> None:
        for name in [stem] if stem else list(self.open):
            session = self.open.pop(name, None)
            self.dirty.discard(name)
            if session is not None:
                try:
                    session.__exit__(None, None, None)
                except Exception:  # noqa: BLE001 - a dead kernel may not shut down cleanly
                    pass


@pytest.fixture(scope="session")
def solved_kernels() -> Iterator[SolvedKernels]:
    """This worker's solved notebook kernels (see :class:`SolvedKernels`)."""
    pool = SolvedKernels()
    yield pool
    pool.close()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--claim-worlds",
        type=int,
        default=3,
        help="simulated worlds each claim of the ledger is checked on (tests/claims/; at most 10)",
    )
