"""Shared test configuration."""

from __future__ import annotations

import os
import sys
from pathlib import Path

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


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--claim-worlds",
        type=int,
        default=3,
        help="simulated worlds each claim of the ledger is checked on (tests/claims/; at most 10)",
    )
