"""The real course through the grader: notebook 00 on a freshly simulated data variant."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from mlcourse.exercises import solutions_dir
from mlcourse.grading.engine import GradeConfig, grade_batch

pytestmark = pytest.mark.slow

STEM = "00_start_here"


@pytest.mark.skipif(not (solutions_dir() / f"{STEM}.ipynb").exists(), reason="no solution 00")
def test_notebook_00_solution_passes_and_learner_edition_is_not_attempted(tmp_path):
    from mlcourse.telemetry import make_variant

    solution = solutions_dir() / f"{STEM}.ipynb"
    learner = solutions_dir().parent / "notebooks" / f"{STEM}.ipynb"
    subs = tmp_path / "subs"
    subs.mkdir()
    (subs / "solved.ipynb").write_bytes(solution.read_bytes())
    (subs / "untouched.ipynb").write_bytes(learner.read_bytes())

    def small_variant(seed: int, directory: Path) -> None:
        make_variant(directory, seed=seed, n_players=1500)

    summary = grade_batch(
        GradeConfig(
            submissions=subs,
            notebook="00",
            seed=31337,
            out=tmp_path / "out",
            jobs=2,
            isolation="process",
            variant_maker=small_variant,
            progress=False,
        )
    )
    con = sqlite3.connect(summary.paths["gradebook"])
    rows = con.execute(
        "SELECT s.student_id, r.status FROM submissions s JOIN results r ON r.key = s.key"
    ).fetchall()
    assert {st for sid, st in rows if sid == "solved"} == {"correct"}
    assert {st for sid, st in rows if sid == "untouched"} == {"not_attempted"}
    assert summary.counts == {"graded": 2}
