"""Fixtures for the grader tests (helpers live in ``graderkit.py``)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from graderkit import FAKEPKG, SEED, SOLUTION, TEST_LIMITS, make_data, notebook_json

from mlcourse.grading.engine import GradeConfig, Summary, grade_batch


@pytest.fixture(scope="session")
def course(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("course")
    solution = root / "solutions" / "99_fake.ipynb"
    solution.parent.mkdir()
    solution.write_text(notebook_json(SOLUTION))
    variant = root / "variant"
    make_data(SEED + 1, variant)
    public = root / "public"
    make_data(0, public)
    for p in (root, variant):
        p.chmod(0o755)
    (variant / "scores.csv").chmod(0o644)
    return {"root": root, "solution": solution, "variant": variant, "public": public}


@pytest.fixture
def grade(course: dict[str, Path], tmp_path: Path) -> Callable[..., Summary]:
    """``grade(submissions_dir, **overrides)`` runs a batch on the fake notebook."""

    def run(submissions: Path, **kw: Any) -> Summary:
        cfg = GradeConfig(
            submissions=submissions,
            notebook="99",
            seed=SEED,
            out=kw.pop("out", tmp_path / "out"),
            jobs=kw.pop("jobs", 2),
            isolation=kw.pop("isolation", "strict"),
            limits=kw.pop("limits", TEST_LIMITS),
            exercises_module="fake_exercises",
            exercises_path=(str(FAKEPKG),),
            solution=course["solution"],
            data_variant=course["variant"],
            progress=False,
            preload=kw.pop("preload", ("numpy", "pandas", "IPython", "mlcourse.exercises.spec")),
            **kw,
        )
        return grade_batch(cfg)

    return run
