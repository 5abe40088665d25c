"""The ledger is complete where it is kept: every claim id in a notebook is defined in
tests/claims/, every defined claim is tagged in its notebook, and a ledgered notebook (one
with a ``tests/claims/test_<stem>.py``) has no statement without a claim id."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import nbformat
import pytest

from mlcourse.authoring import solution_paths
from mlcourse.claims import REGISTRY, claim_ids, untagged_statements
from mlcourse.exercises._registry import package_root

HERE = Path(__file__).parent
SOLUTIONS = solution_paths(package_root())
LEDGERED = sorted(p.stem[len("test_") :] for p in HERE.glob("test_0*.py"))

# the claims register when their modules are imported: import them here too (under the
# names pytest gives them, so a full run finds them already imported), so that this file
# also passes when it runs alone
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))
for _module in sorted(HERE.glob("test_0*.py")):
    importlib.import_module(_module.stem)


def test_every_ledgered_notebook_exists():
    assert LEDGERED, "no notebook is ledgered yet"
    assert set(LEDGERED) <= set(SOLUTIONS), set(LEDGERED) - set(SOLUTIONS)


@pytest.mark.parametrize("stem", sorted(SOLUTIONS))
def test_claim_ids_in_a_notebook_are_defined_there(stem):
    nb = nbformat.read(SOLUTIONS[stem], as_version=4)
    tagged = claim_ids(nb)
    undefined = sorted(set(tagged) - set(REGISTRY))
    assert not undefined, f"{stem}: claim ids with no definition in tests/claims/: {undefined}"
    elsewhere = sorted(i for i in tagged if REGISTRY[i].notebook != stem)
    assert not elsewhere, f"{stem}: claims defined for another notebook: {elsewhere}"
    untagged = sorted(c.id for c in REGISTRY.values() if c.notebook == stem and c.id not in tagged)
    assert not untagged, f"{stem}: defined claims its prose does not carry: {untagged}"


@pytest.mark.parametrize("stem", LEDGERED)
def test_a_ledgered_notebook_states_nothing_without_a_claim(stem):
    nb = nbformat.read(SOLUTIONS[stem], as_version=4)
    loose = untagged_statements(nb)
    assert not loose, (
        f"{stem}: statements without a claim id (add <!-- claim: ID --> after each, defined "
        "in tests/claims/, or <!-- claim: none (why) --> when it states nothing):\n"
        + "\n".join(f"  cell {s.cell}: {s.text[:140]}" for s in loose)
    )


def test_the_lint_finds_numbers_and_comparisons_and_respects_marks():
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell(
            "# A title with 2.5 in it\n\nBoosting is better than the logistic regression. "
            "It scores 0.83 on the test set.\n<!-- claim: x-score -->\n\nRun `f(0.5)` now. "
            "Twice the players left.\n<!-- claim: none (an example) -->"
        )
    ]
    loose = [s.text for s in untagged_statements(nb)]
    assert loose == ["Boosting is better than the logistic regression."]
    assert claim_ids(nb) == {"x-score": [0]}


def test_the_first_worlds_allow_the_failures_the_full_ledger_allows():
    """``make test`` checks the first three worlds: a claim that holds in 9 of the 10 worlds
    of ``make claims`` must not fail there because its failing world is among the first."""
    from mlcourse.claims import WORLD_SEEDS, Claim, Finding, Verdict

    general = Claim("x-general", "00_start_here", "a statement", lambda w: Finding(0.0, True))
    ok, no = Finding(1.0, True), Finding(0.0, False)

    def verdict(holds: list[bool], c: Claim = general) -> Verdict:
        return Verdict(c, ok, tuple((f"w{i}", ok if h else no) for i, h in enumerate(holds)))

    assert len(WORLD_SEEDS) == 10
    assert verdict([False] + [True] * 9).ok  # 9 of 10: the full ledger passes it
    assert not verdict([False, False] + [True] * 8).ok
    assert verdict([False, True, True]).ok  # the same failing world, in the subset
    assert not verdict([False, False, True]).ok
    assert verdict([True, True, True]).ok
    specific = Claim("x-specific", "00_start_here", "s", general.measure, specific=True)
    assert verdict([False] * 10, specific).ok
    assert not Verdict(general, no, ()).ok  # the shipped data always counts
