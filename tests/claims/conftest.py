"""The claims ledger's runner (see mlcourse.claims): ``make test`` checks every claim on the
shipped data and the first three simulated worlds; ``make claims`` (``--claim-worlds 10``)
on all ten, and prints one line per claim and a total."""

from __future__ import annotations

import pytest

from mlcourse.authoring import solution_paths
from mlcourse.claims import (
    REGISTRY,
    WORLD_SEEDS,
    Verdict,
    repo_cache,
    shipped_world,
    simulated_world,
)
from mlcourse.exercises._registry import package_root

_VERDICTS: list[Verdict] = []


@pytest.fixture(scope="session")
def worlds(request: pytest.FixtureRequest) -> dict:
    # the option is declared in tests/conftest.py (pytest reads options there at start-up)
    n = min(max(request.config.getoption("--claim-worlds", 3), 0), len(WORLD_SEEDS))
    return {
        "shipped": shipped_world(),
        "simulated": [simulated_world(seed, repo_cache()) for seed in WORLD_SEEDS[:n]],
    }


@pytest.fixture
def record_verdict():
    return _VERDICTS.append


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:  # noqa: ARG001
    if not _VERDICTS:
        return
    tr = terminalreporter
    tr.section("claims ledger")
    for v in sorted(_VERDICTS, key=lambda v: v.claim.id):
        tr.write_line(v.line())
    ok = sum(v.ok for v in _VERDICTS)
    n_worlds = len(_VERDICTS[0].worlds)
    tr.write_line(
        f"{ok} of {len(_VERDICTS)} claims hold (shipped data and {n_worlds} simulated worlds; "
        f"{len(REGISTRY)} claims defined)"
    )
    ledgered = sorted({c.notebook for c in REGISTRY.values()})
    rest = sorted(set(solution_paths(package_root())) - set(ledgered))
    tr.write_line(
        f"notebooks ledgered: {', '.join(ledgered)}; not yet: {', '.join(rest) or 'none'}"
    )
