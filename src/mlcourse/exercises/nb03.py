"""Exercises of notebook 03, "Hierarchical clustering I: linkages and dendrograms".

Function exercises are probed on inputs made from ``ctx.rng(...)``, so the grader re-evaluates
them with its own seed; value exercises are recomputed by the reference solution on the
grader's data variant. Clusterings are compared up to relabelling (adjusted Rand index), so
0- and 1-based labels are both fine where the task allows any numbering.

Probes return observations only: the learner's values and the outputs of the learner's
functions on the generated inputs (some probes also echo those inputs). Every comparison and
every diagnosis happens in the judges, which read the generated inputs from the *expected*
observation (the reference solution's, probed with the same seed), never from the learner's:
they recompute the usual mistakes (no ``log1p``, a square matrix passed to ``linkage``, Ward on
Gower distances, the biggest dendrogram gap instead of the silhouette, ...) to say which one
was made, without running learner code. Each input generator's docstring says which wrong
answers it is built to catch. The catalogues of right and wrong answers are test data in
``tests/catalogues/nb03.py``. The helpers the two clustering notebooks share live here;
:mod:`mlcourse.exercises.nb04` imports them.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import Any

import numpy as np
import pandas as pd
from scipy.cluster import hierarchy
from scipy.spatial.distance import pdist, squareform
from sklearn.metrics import adjusted_rand_score

from mlcourse.exercises import make_api
from mlcourse.exercises._helpers import (
    choice_exercise,
    exercise,
    learner_function,
    learner_number,
    unreadable,
)
from mlcourse.exercises.spec import AnswerError, Exercise, Outcome, Plain, Probe, ProbeContext

NOTEBOOK = "03_hierarchical_clustering"

# ----------------------------------------------------------------------------- shared bits


def _array(value: Any, what: str, ndim: int) -> np.ndarray:
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise AnswerError(f"{what} should be a numeric array, got {type(value).__name__}") from None
    if arr.ndim != ndim:
        raise AnswerError(f"{what} should be a {ndim}-D array, but it has shape {arr.shape}")
    if not np.isfinite(arr).all():
        raise AnswerError(f"{what} contains NaN or infinity")
    return arr


def _label_array(value: Any, n: int, what: str) -> np.ndarray:
    """The learner's labels as an array of ``n`` whole numbers (integers or whole floats)."""
    arr = np.asarray(value)
    if arr.ndim == 2 and arr.shape[1] == 1:  # e.g. scipy's cut_tree: one column of labels
        arr = arr[:, 0]
    if arr.shape != (n,):
        raise AnswerError(f"{what} should hold one label per row ({n}), got shape {arr.shape}")
    if arr.dtype.kind not in "iu" and not (
        arr.dtype.kind == "f" and np.isfinite(arr).all() and (arr == np.round(arr)).all()
    ):
        raise AnswerError(f"{what} should hold whole-number cluster labels")
    return arr


def _labels_as_given(value: Any, n: int, what: str) -> list[int] | list[float]:
    """Cluster labels as the learner's array holds them: integers as ``int``, whole floats as
    ``float`` (which stay floats in the observation's JSON), for a judge that needs labels
    usable as indices."""
    arr = _label_array(value, n, what)
    return [int(v) for v in arr] if arr.dtype.kind in "iu" else [float(v) for v in arr]


def _number_probe(name: str) -> Probe:
    """A probe that returns the learner's ``name``: one finite number."""
    wrong_type = f"`{name}` should be a single number, not {{type}}"
    not_finite = f"`{name}` is {{value}}; it should be a finite number"

    def probe(ns: Mapping[str, Any], ctx: ProbeContext) -> Plain:
        return learner_number(ns[name], wrong_type, not_finite=not_finite)

    probe.__name__ = f"number_probe_{name}"
    return probe


def _number_exercise(
    id: str,
    title: str,
    name: str,
    judge: Callable[[float, float], Outcome],
    hints: tuple[str, ...],
    notebook: str = NOTEBOOK,
) -> Exercise:
    """An exercise of ``notebook`` whose answer is one finite number in ``name``
    (:func:`_number_probe`); ``judge`` compares two numbers, and anything else cannot be read."""

    def on_numbers(student: Plain, expected: Plain) -> Outcome:
        if not isinstance(student, int | float) or not isinstance(expected, int | float):
            return unreadable()
        return judge(student, expected)

    return exercise(notebook, id, title, (name,), _number_probe(name), on_numbers, hints=hints)


def _arrays_close(a: Any, b: Any, atol: float) -> bool:
    """Whether two arrays have the same shape and equal entries within ``atol``."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=0, atol=atol))


def _close_up_to_ddof(out: np.ndarray, target: np.ndarray, n: int, atol: float) -> bool:
    """``out`` equals ``target`` within ``atol``, or ``target`` standardised with the sample sd
    (ddof=1) instead of the population sd: smaller by the factor sqrt((n - 1) / n)."""
    return _arrays_close(out, target, atol) or _arrays_close(
        out, target * math.sqrt((n - 1) / n), atol
    )


def _standardise(a: np.ndarray) -> np.ndarray:
    sd = a.std(axis=0)
    return (a - a.mean(axis=0)) / np.where(sd > 0, sd, 1.0)


def _ok(student: Plain) -> bool:
    return isinstance(student, dict)


def _same_partition(a: Sequence[int], b: Sequence[int]) -> bool:
    """True when two labellings are the same partition (any numbering)."""
    return len(a) == len(b) and adjusted_rand_score(a, b) > 1 - 1e-9


# ----------------------------------------------------------------------------- q1 prepare

Q1_COLUMNS = (
    "active_days",
    "sessions_per_active_day",
    "levels_played",
    "ads_viewed",
    "spend",
)


def _q1_input(ctx: ProbeContext) -> pd.DataFrame:
    """Heavy-tailed counts with zeros and planted extremes, in the columns' own units.

    Built to catch: ``np.log`` instead of ``np.log1p`` (the zeros give -inf), no log at all
    (the extremes dominate), min-max or robust scaling instead of standardising, scaling
    *before* the log (negative values), ``log`` of ``x + 2`` or square roots (different
    shape of the tails). Every column has at least two distinct values, so a standardised
    column is always defined.
    """
    rng = ctx.rng("q1_prepare")
    n = 120
    spend = np.where(rng.random(n) < 0.15, rng.choice([199, 499, 999, 1999], n), 0)
    frame = pd.DataFrame(
        {
            "active_days": rng.integers(1, 28, n),
            "sessions_per_active_day": np.round(1 + rng.lognormal(0, 0.6, n), 2),
            "levels_played": rng.negative_binomial(2, 0.08, n),
            "ads_viewed": rng.negative_binomial(1, 0.15, n),
            "spend": spend,
        }
    )
    # planted: zeros in every count column, one whale, one very long session day
    frame.loc[0, ["levels_played", "ads_viewed", "spend"]] = 0
    frame.loc[1, ["levels_played", "spend"]] = [1500, 19_999]
    frame.loc[2, "sessions_per_active_day"] = 25.0
    return frame


def _q1_probe(ns: Mapping[str, Any], ctx: ProbeContext) -> Plain:
    """``prepare`` on :func:`_q1_input`; the observation echoes the input frame."""
    prepare = learner_function(ns, "prepare")
    frame = _q1_input(ctx)
    out = prepare(frame.copy())
    try:
        arr = np.asarray(out, dtype=float)
    except (TypeError, ValueError):
        raise AnswerError(
            f"prepare(frame) should return a numeric 2-D array, got {type(out).__name__}"
        ) from None
    if arr.ndim != 2:
        raise AnswerError(f"prepare(frame) should be a 2-D array, but it has shape {arr.shape}")
    if arr.shape != frame.shape:
        raise AnswerError(
            f"prepare(frame) should return one row per player and one column per feature "
            f"{frame.shape}, got {arr.shape}"
        )
    if not np.isfinite(arr).all():
        raise AnswerError(
            "prepare(frame) returned NaN or infinite values. np.log(0) is -inf and the log of "
            "a negative number is NaN: take np.log1p of the raw values, before scaling."
        )
    return {
        "input": frame.to_numpy(dtype=float).tolist(),
        "output": np.round(arr, 8).tolist(),
    }


def _q1_judge(student: Plain, expected: Plain) -> Outcome:
    if not (_ok(student) and _ok(expected)) or "output" not in student:
        return unreadable()
    raw = np.asarray(expected["input"], dtype=float)  # the reference's echo: trusted
    out = np.asarray(student["output"], dtype=float)
    want = np.asarray(expected["output"], dtype=float)
    n = len(raw)
    if out.shape != want.shape:
        return unreadable()
    # StandardScaler divides by the population sd (ddof=0); pandas' .std() by the sample sd
    # (ddof=1): both standardise, and differ by the constant factor sqrt((n - 1) / n).
    if _close_up_to_ddof(out, want, n, 1e-6):
        return Outcome.correct(
            "Correct: log1p tames the long tails, then every column has mean 0 "
            "and standard deviation 1."
        )
    logged = np.log1p(raw)
    span = np.ptp(logged, axis=0)
    diagnoses = (
        (
            _standardise(raw),
            "Your columns are standardised, but the heavy tails are still there: apply "
            "np.log1p to the counts and the spend before scaling.",
        ),
        (
            logged,
            "You applied log1p, but the columns are not standardised yet: follow it with "
            "StandardScaler so every column has mean 0 and standard deviation 1.",
        ),
        (raw, "prepare returned the features unchanged: apply np.log1p, then StandardScaler."),
        (
            (logged - logged.min(axis=0)) / np.where(span > 0, span, 1.0),
            "You scaled every column to the range [0, 1] (min-max). The task asks to "
            "standardise: mean 0 and standard deviation 1 per column (StandardScaler).",
        ),
    )
    for candidate, message in diagnoses:
        if _close_up_to_ddof(out, candidate, n, 1e-4):
            return Outcome.incorrect(message)
    centred = np.allclose(out.mean(axis=0), 0, atol=1e-6)
    sd = out.std(axis=0)
    if not (
        centred
        and (np.allclose(sd, 1, atol=1e-6) or np.allclose(sd, math.sqrt((n - 1) / n), atol=1e-6))
    ):
        return Outcome.incorrect(
            "After prepare every column should have mean 0 and standard deviation 1 "
            "(StandardScaler), computed from np.log1p of the features."
        )
    return Outcome.incorrect(
        "Your output is standardised but differs from log1p-then-standardise of each column; "
        "use np.log1p on the raw values of the frame you are given (not np.log, not a square "
        "root, not after scaling), then StandardScaler."
    )


#: this notebook's exercises: ``_exercise(id, title, reads, probe, judge, ...)`` and
#: ``_choice(id, title, name, explanations, ...)`` (see :mod:`._helpers`)
_exercise, _choice = partial(exercise, NOTEBOOK), partial(choice_exercise, NOTEBOOK)

Q1 = _exercise(
    "q1_prepare",
    "Prepare heavy-tailed features for distances",
    ("prepare",),
    _q1_probe,
    _q1_judge,
    hints=(
        "Two steps: compress the long tails, then put every column on the same scale.",
        "np.log1p(frame) handles the zeros; StandardScaler() gives mean 0 and sd 1 per column.",
        "A FunctionTransformer wrapping np.log1p, followed by a StandardScaler, in a pipeline "
        "that you fit_transform on the frame.",
    ),
)

# ----------------------------------------------------------------------------- q2 spend share


def _q2_judge(student: float, expected: float) -> Outcome:
    # the share is close to 1, so compare its complement too: the rows used (the sample, not
    # the whole table) change only the fifth decimal of the share, but a large part of 1 - share
    if math.isclose(student, expected, rel_tol=1e-9) and math.isclose(
        1 - student, 1 - expected, rel_tol=1e-6, abs_tol=1e-15
    ):
        return Outcome.correct(
            "Correct: one column in cents carries nearly all of the variance, so it decides "
            "every Euclidean distance."
        )
    if math.isclose(student, 100 * expected, rel_tol=1e-4):
        return Outcome.incorrect("Give the share as a fraction between 0 and 1, not a percentage.")
    if student > 1 or student < 0:
        return Outcome.incorrect("A share of the total variance must lie between 0 and 1.")
    return Outcome.incorrect(
        "Not quite: divide the variance of `spend_cents` by the sum of the variances of all "
        "raw (unscaled) columns of `sample[FEATURES]`."
    )


Q2 = _number_exercise(
    "q2_spend_share",
    "How much of the variance is spend in cents?",
    "spend_share",
    _q2_judge,
    hints=(
        "Squared Euclidean distance adds up squared differences column by column; a column's "
        "variance says how much it contributes on average.",
        "raw = sample[FEATURES]; raw.var() gives one variance per column.",
        "Divide the variance of spend_cents by the total of the seven variances.",
    ),
)

# ----------------------------------------------------------------------------- q3 tree


def _q3_input(ctx: ProbeContext) -> np.ndarray:
    """30 rows in three columns of unequal scale: groups of 3, 7 and 14 rows, a chain, outliers.

    Built to catch: another linkage (single follows the chain, complete and Ward split the big
    group, weighted/WPGMA weighs the small groups differently, centroid and median reorder
    merges), the square distance matrix passed to ``linkage``, squared or city-block
    distances, and standardising the columns first (the scales differ by a factor of four).
    """
    rng = ctx.rng("q3_average_tree")
    scale = np.array([1.0, 2.0, 0.5])
    small = rng.normal(size=(3, 3)) * 0.3 + [6.0, 0.0, 0.0]
    middle = rng.normal(size=(7, 3)) * 0.8 + [0.0, 6.0, 1.0]
    big = rng.normal(size=(14, 3)) * 1.5 + [-4.0, -3.0, 0.0]
    t = np.linspace(0.15, 0.85, 4)[:, None]
    chain = (1 - t) * [6.0, 0.0, 0.0] + t * [0.0, 6.0, 1.0] + rng.normal(size=(4, 3)) * 0.2
    outliers = rng.normal(size=(2, 3)) * 0.5 + [[10.0, -8.0, 3.0], [-9.0, 9.0, -2.0]]
    X = np.vstack([small, middle, big, chain, outliers]) * scale
    return np.round(X[rng.permutation(len(X))], 4)


def _q3_probe(ns: Mapping[str, Any], ctx: ProbeContext) -> Plain:
    """``average_tree`` on :func:`_q3_input`: the whole returned linkage matrix."""
    tree = learner_function(ns, "average_tree")
    X = _q3_input(ctx)
    Z = np.asarray(tree(X.copy()))
    if Z.ndim == 1:
        raise AnswerError(
            "average_tree(X) returned a 1-D array, which looks like cluster labels; return the "
            "linkage matrix itself (shape (n - 1, 4)), the result of linkage(...)."
        )
    Z = _array(Z, "average_tree(X)", 2)
    if Z.shape != (len(X) - 1, 4):
        raise AnswerError(
            f"average_tree(X) should return a linkage matrix of shape (n - 1, 4) = "
            f"{(len(X) - 1, 4)}, got {Z.shape}; return the result of linkage(...)."
        )
    return {"input": X.tolist(), "Z": np.round(Z, 10).tolist()}


def _cophenetic(Z: Any) -> np.ndarray | None:
    """The cophenetic distances of a linkage matrix (``None`` when it is not a valid tree).

    They describe the tree itself, whatever the order of the merges' children or the
    numbering of the clusters, so another valid way of building the same tree passes.
    """
    Z = np.asarray(Z, dtype=float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if not hierarchy.is_valid_linkage(Z):
            return None
        try:
            return hierarchy.cophenet(Z)
        except (ValueError, TypeError, IndexError):
            return None


def _q3_judge(student: Plain, expected: Plain) -> Outcome:
    if not (_ok(student) and _ok(expected)) or "Z" not in student:
        return unreadable()
    X = np.asarray(expected["input"], dtype=float)  # the reference's echo: trusted
    got = _cophenetic(student["Z"])
    if got is None:
        return Outcome.incorrect(
            "average_tree(X) does not return a valid linkage matrix (each row: two cluster "
            "ids, a height, a size); return what scipy's linkage(...) gives."
        )
    want = _cophenetic(expected["Z"])
    if want is not None and _arrays_close(got, want, 1e-6):
        return Outcome.correct()

    def tree_of(y: Any, method: str) -> np.ndarray:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return hierarchy.cophenet(hierarchy.linkage(y, method=method))

    d = pdist(X)
    if _arrays_close(got, tree_of(squareform(d), "average"), 1e-6):
        return Outcome.incorrect(
            "You passed the square distance matrix to linkage, which then treats its rows as "
            "feature vectors: pass the condensed vector from pdist(X) instead."
        )
    for method in ("single", "complete", "ward", "centroid", "median", "weighted"):
        if _arrays_close(got, tree_of(d, method), 1e-6):
            return Outcome.incorrect(
                f"Your tree uses {method} linkage; the exercise asks for method='average'."
            )
    if _arrays_close(got, tree_of(pdist(X, "sqeuclidean"), "average"), 1e-6):
        return Outcome.incorrect("Use plain Euclidean distances (pdist's default), not squared.")
    if _arrays_close(got, tree_of(pdist(X, "cityblock"), "average"), 1e-6):
        return Outcome.incorrect("Use Euclidean distances (pdist's default), not city-block.")
    if _arrays_close(got, tree_of(pdist(_standardise(X)), "average"), 1e-6):
        return Outcome.incorrect(
            "You standardised X first; build the tree on the rows of X as they are given."
        )
    return Outcome.incorrect(
        "The tree differs from average linkage on Euclidean distances of the rows of X: "
        "build it from pdist(X) with method='average', on the X you are given."
    )


Q3 = _exercise(
    "q3_average_tree",
    "An average-linkage tree from condensed distances",
    ("average_tree",),
    _q3_probe,
    _q3_judge,
    hints=(
        "linkage wants the condensed distance vector, the form pdist returns.",
        "d = pdist(X)  # n*(n-1)/2 distances; then linkage(d, method=...)",
        "The method name for average linkage is 'average'; return the linkage matrix itself.",
    ),
)

# ----------------------------------------------------------------------------- q4 cut


def _q4_cases(ctx: ProbeContext) -> list[tuple[np.ndarray, list[int]]]:
    """Trees to cut, each with the numbers of clusters asked for.

    * a Ward tree of five blobs, merge heights in the tens (k = 1, 2, 3, 5, 8): at t = k,
      ``criterion="distance"`` cuts at a height that gives another number of clusters, and
      the default ``"inconsistent"`` almost always gives one cluster;
    * an average tree of small-scale points with duplicated rows (merges at height 0), every
      height below 1 (k = 2, 4, 6): ``"distance"`` at t = k gives one cluster, and the ties at
      height 0 sit far below every cut, so every exact method agrees;
    * a complete tree of unevenly spread groups (k = 2, 3, 4, 7), where cutting a re-built
      Ward or average tree gives other clusters.

    The labels must run from 0 to k - 1 and be integers (the task says so: ``names[label]``
    must work), which catches fcluster's 1-based numbering and float labels such as
    ``fcluster(...) - 1.0``.
    """
    rng = ctx.rng("q4_cut")
    centres = rng.uniform(-10, 10, size=(5, 2))
    blobs = np.vstack([c + rng.normal(scale=0.8, size=(12, 2)) for c in centres])
    small = rng.normal(scale=0.05, size=(24, 3)) + np.repeat(rng.uniform(0, 0.6, (4, 3)), 6, 0)
    small = np.vstack([small, small[:5]])  # five duplicated rows
    spread = np.vstack(
        [
            rng.normal(scale=s, size=(m, 2)) + c
            for s, m, c in (
                (0.3, 6, (0, 0)),
                (1.5, 14, (6, 1)),
                (0.6, 9, (2, 7)),
                (2.5, 10, (9, 9)),
            )
        ]
    )
    return [
        (hierarchy.linkage(blobs, method="ward"), [1, 2, 3, 5, 8]),
        (hierarchy.linkage(pdist(small), method="average"), [2, 4, 6]),
        (hierarchy.linkage(spread, method="complete"), [2, 3, 4, 7]),
    ]


def _q4_probe(ns: Mapping[str, Any], ctx: ProbeContext) -> Plain:
    """``cut_into(Z, k)`` for every tree and k of :func:`_q4_cases`: the labels as returned."""
    cut = learner_function(ns, "cut_into")
    out = []
    for Z, ks in _q4_cases(ctx):
        n = len(Z) + 1
        out.append({str(k): _labels_as_given(cut(Z.copy(), k), n, f"cut_into(Z, {k})") for k in ks})
    return out


def _q4_judge(student: Plain, expected: Plain) -> Outcome:
    if not isinstance(student, list) or not isinstance(expected, list):
        return unreadable()
    if len(student) != len(expected):
        return unreadable()
    for got, want in zip(student, expected, strict=True):
        if not isinstance(got, dict) or set(got) != set(want):
            return unreadable()
        for key in sorted(want, key=int):
            k = int(key)
            s, e = got[key], want[key]
            if not isinstance(s, list):
                return unreadable()
            odd = [v for v in s if type(v) is not int]
            if odd:
                return Outcome.incorrect(
                    f"cut_into(Z, {k}) returns floating-point labels (such as {odd[0]!r}), but "
                    "cluster labels must be integers so that they can index a list: names[label] "
                    "raises a TypeError for a float, even for one equal to a whole number. "
                    "Return integer labels."
                )
            found = len(set(s))
            if found != k:
                return Outcome.incorrect(
                    f"cut_into(Z, {k}) gave {found} cluster{'s' if found != 1 else ''} instead "
                    f"of {k}. fcluster's default criterion is 'inconsistent' and "
                    "criterion='distance' reads t as a height: use criterion='maxclust' to ask "
                    "for a number of clusters."
                )
            if not _same_partition(s, e):
                return Outcome.incorrect(
                    f"cut_into(Z, {k}) has {k} clusters, but not the ones the tree Z gives: cut "
                    "Z itself (do not re-cluster) with fcluster(..., criterion='maxclust')."
                )
            if sorted(set(s)) == list(range(1, k + 1)) and k > 0:
                return Outcome.incorrect(
                    "The clusters are right, but the labels run from 1 to k (fcluster's "
                    "numbering): subtract 1 so that they run from 0 to k - 1 and can index a "
                    "list of names."
                )
            if sorted(set(s)) != list(range(k)):
                wanted = "all be 0" if k == 1 else f"be 0, 1, ..., {k - 1}"
                return Outcome.incorrect(f"The labels of cut_into(Z, {k}) should {wanted}.")
    return Outcome.correct()


Q4 = _exercise(
    "q4_cut",
    "Cut a tree into k clusters, labels 0 to k-1",
    ("cut_into",),
    _q4_probe,
    _q4_judge,
    hints=(
        "fcluster cuts a tree; look at its criterion argument (and its default!).",
        "fcluster(Z, k, criterion='maxclust') gives k clusters numbered from 1 (fewer only when "
        "merges tie at the cut height).",
        "fcluster numbers clusters from 1; the task wants them from 0.",
    ),
)

# ----------------------------------------------------------------------------- q5 concept

Q5_CHOICES = {
    "A": "That linkage gives the most useful player segments.",
    "B": "Its tree keeps the pairwise distances between players best; that is not the same "
    "as giving well-separated or useful clusters.",
    "C": "The data contain exactly as many clusters as that linkage finds.",
    "D": "The other linkages are invalid for this data.",
}

Q5 = _choice(
    "q5_cophenetic",
    "What cophenetic correlation measures",
    "answer_q5",
    {
        "A": "Cophenetic correlation compares tree heights with the original distances; it "
        "says nothing about usefulness (a linkage can win it while putting almost "
        "everyone in one cluster).",
        "B": "Cophenetic correlation compares the heights at which the tree merges each "
        "pair with their original distance: it measures how faithfully the tree keeps the "
        "distances, not whether its clusters are well separated or useful.",
        "C": "Cophenetic correlation is computed on the whole tree, before any cut, so it "
        "cannot tell you the number of clusters.",
        "D": "Single, complete and average linkage are valid for any distance; only Ward, "
        "centroid and median need Euclidean distances.",
    },
    hints=(
        "cophenet(Z, d) correlates two things: the original distances d and the heights at "
        "which each pair of points is first merged in the tree.",
        "Look again at the cluster sizes in the table next to each method's cophenetic "
        "correlation.",
    ),
    choices=Q5_CHOICES,
    convert=lambda v: v.strip().upper() if type(v) is str else v,
)

EXERCISES: tuple[Exercise, ...] = (Q1, Q2, Q3, Q4, Q5)

check, hint, solution = make_api(NOTEBOOK, EXERCISES)
