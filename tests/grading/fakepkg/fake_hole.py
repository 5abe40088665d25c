"""An exercise module with a deliberate hole in its ``assess`` step (notebook "97_hole").

It stands in for an unknown bug in the model loader: when the observation carries a
``"hole"`` text, ``assess`` executes it. The containment tests of the inspector
(``tests/grading/test_grading_inspector.py``) use it to check that code running in the
inspector can at worst mis-judge the submission that sent it: no secret, no host file, no
other submission's result, no network, nothing kept for the next inspection.

Data: ``train.csv`` (``x1``, ``x2``, ``y``) in the variant; held-out players:
``heldout.csv`` with the same columns.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from mlcourse.exercises._helpers import estimator_probe, load_estimator
from mlcourse.exercises.spec import (
    AnswerError,
    AssessContext,
    Exercise,
    Outcome,
    Plain,
    ProbeContext,
)

NOTEBOOK = "97_hole"
FEATURES = ["x1", "x2"]
#: what the hole reports (the judge shows them; every one must stay 0)
FLAGS = (
    "seed_found",
    "host_write",
    "out_visible",
    "private_read",
    "network",
    "planted_seen",
    "other_reply",
)
_send_model = estimator_probe("model")


def _probe(ns: Mapping[str, Any], ctx: ProbeContext) -> Plain:
    observation = dict(_send_model(ns, ctx))  # type: ignore[arg-type]
    hole = ns.get("hole_code")
    if isinstance(hole, str):
        observation["hole"] = hole
    return observation


def _assess(observation: Plain, actx: AssessContext) -> Plain:
    import pandas as pd
    from sklearn.metrics import roc_auc_score

    model = load_estimator(observation, "`model`")
    if isinstance(observation, dict) and isinstance(observation.get("hole"), str):
        scope: dict[str, Any] = {"actx": actx, "AnswerError": AnswerError}
        exec(observation["hole"], scope)  # the deliberate hole
        return scope.get("facts")
    assert actx.heldout_dir is not None
    held = pd.read_csv(Path(actx.heldout_dir) / "heldout.csv")
    proba = np.asarray(model.predict_proba(held[FEATURES]), dtype=float)
    return {"auc": float(roc_auc_score(held["y"], proba[:, -1])), "flags": {}}


def _judge(student: Plain, expected: Plain) -> Outcome:
    if type(student) is not dict or type(student.get("auc")) is not float:
        return Outcome.incorrect("`model` could not be scored on new players.")
    flags = student.get("flags") if type(student.get("flags")) is dict else {}
    raised = [f"{k}={int(flags[k])}" for k in FLAGS if type(flags.get(k)) is int and flags[k]]
    if raised:
        return Outcome.incorrect(f"hole flags: {' '.join(raised)}")
    auc, want = student["auc"], float(expected["auc"])  # type: ignore[index]
    if math.isfinite(auc) and auc >= want - 0.03:
        return Outcome.correct("hole flags: none")
    return Outcome.incorrect("Your model ranks new players poorly; hole flags: none")


def _probe_other(ns: Mapping[str, Any], ctx: ProbeContext) -> Plain:
    return float(ns.get("other", 0.0))


def _judge_other(student: Plain, expected: Plain) -> Outcome:
    if student == expected:
        return Outcome.correct()
    return Outcome.incorrect("`other` is not the expected number.")


EXERCISES = (
    Exercise("q1_model", NOTEBOOK, "A fitted model", 2.0, ("model",), _probe, _judge,
             assess=_assess),
    Exercise("q2_other", NOTEBOOK, "A number", 1.0, ("other",), _probe_other, _judge_other),
)  # fmt: skip
