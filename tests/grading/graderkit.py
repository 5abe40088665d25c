"""Helpers for the grader tests: a tiny fake exercise notebook, its data and its solution.

The fake notebook ("99_fake", module ``fake_exercises`` in ``fakepkg/``) has three
exercises: a value computed from the data (``q1_mean``), a function probed on hidden inputs
(``q2_double``) and a multiple-choice answer (``q3_choice``). Its data is one CSV
(``scores.csv``) whose numbers depend on the seed, like the real data variants.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from mlcourse.grading.sandbox import Limits

FAKEPKG = Path(__file__).parent / "fakepkg"
SEED = 4242

LOAD = (
    "import os\nimport pandas as pd\n"
    "df = pd.read_csv(os.path.join(os.environ['MLCOURSE_DATA_DIR'], 'scores.csv'))"
)
SOLUTION = [
    (LOAD, None),
    ("mean_score = float(df['score'].mean())", "q1_mean"),
    ("def double(x):\n    return x * 2", "q2_double"),
    ("answer_q3 = 'b'", "q3_choice"),
]
#: small limits keep the adversarial suite fast
TEST_LIMITS = Limits(
    cell_timeout=3.0,
    total_timeout=12.0,
    memory_mb=400,
    nproc=40,
    max_file_mb=4,
    scratch_mb=16,
    max_output_chars=10_000,
    max_result_bytes=2 * 2**20,
)


def make_data(seed: int, directory: Path) -> None:
    """Write the fake course data for ``seed`` (stands in for the telemetry variant)."""
    directory.mkdir(parents=True, exist_ok=True)
    scores = np.random.default_rng(seed).normal(50, 10, size=200).round(3)
    (directory / "scores.csv").write_text("score\n" + "\n".join(map(str, scores)) + "\n")


def notebook_json(cells: list[tuple[str, str | None]], nbformat_minor: int = 5) -> str:
    """A valid nbformat-4 notebook whose code cells carry the given exercise ids."""
    out = []
    for i, (source, ex) in enumerate(cells):
        meta: dict[str, Any] = {"mlcourse": {"exercise": ex}} if ex else {}
        cell = {
            "cell_type": "code",
            "execution_count": None,
            "metadata": meta,
            "outputs": [],
            "source": source,
        }
        if nbformat_minor >= 5:
            cell["id"] = f"cell-{i}"
        out.append(cell)
    nb = {
        "cells": out,
        "metadata": {
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}
        },
        "nbformat": 4,
        "nbformat_minor": nbformat_minor,
    }
    return json.dumps(nb, indent=1)


def with_answer(ex_id: str, source: str) -> list[tuple[str, str | None]]:
    """The solution with the cell of ``ex_id`` replaced by ``source``."""
    return [(source if ex == ex_id else src, ex) for src, ex in SOLUTION]


def write_submissions(folder: Path, subs: dict[str, str | bytes]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in subs.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return folder
