"""Checks of the example assignment hw1 (docs/assignments.md): one exercise of each kind."""

import numpy as np
import pandas as pd

from mlcourse.exercises.ready import Assignment

hw = Assignment("hw1", __file__, data="data", heldout="heldout")


def clip_inputs(rng: np.random.Generator) -> list[tuple]:
    """Arguments the judge calls ``clip_scores`` with: arrays with values outside the range,
    an empty array and a range that excludes everything."""
    cases = [(rng.normal(50, 30, size=int(rng.integers(1, 40))), 0.0, 100.0) for _ in range(8)]
    return [*cases, (np.array([]), 0.0, 100.0), (np.array([5.0, 150.0]), 60.0, 70.0)]


def load_test(folder):
    """The rows a fitted model is scored on: ``test.csv`` of the folder the judge gives
    (``data/`` in check(), the private ``heldout/`` when graded)."""
    test = pd.read_csv(folder / "test.csv")
    return test[["hours", "score"]], test["passed"]


EXERCISES = (
    hw.value(
        "q1_mean",
        "The mean score",
        "mean_score",
        hints=("`df['score']` is a Series; Series have a `.mean()` method.",),
    ),
    hw.table(
        "q2_summary",
        "Players and mean score per group",
        "summary",
        ignore_row_order=True,
        hints=(
            "Group by the `group` column and aggregate `score` twice.",
            "`df.groupby('group', as_index=False).agg(n=('score', 'size'), "
            "mean_score=('score', 'mean'))`",
        ),
    ),
    hw.function(
        "q3_clip",
        "Clip scores into a range",
        "clip_scores",
        clip_inputs,
        hints=("NumPy has a function for exactly this: `np.clip`.",),
    ),
    hw.model(
        "q4_model",
        "Predict who passes",
        "model",
        load_test,
        metric="accuracy",
        tolerance=0.03,
        hints=("Fit a `LogisticRegression` on `train[['hours', 'score']]` and `train['passed']`.",),
    ),
    hw.choice(
        "q5_why_test",
        "Why score the model on test.csv?",
        "answer_q5",
        {
            "A": "test.csv is larger, so the score is more precise; size is not the point here.",
            "B": "The model never saw these rows, so the score estimates how it does on new "
            "players; on its training rows it would look better than it is.",
            "C": "scores.csv has no `passed` column; it has one, so this is not the reason.",
        },
    ),
)
NOTEBOOK, DATA_DIR = hw.notebook, hw.data_dir
check, hint, solution = hw.api(EXERCISES)
