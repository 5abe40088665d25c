"""Exercises of notebook 02, "Hierarchical clustering: what kinds of players are there?".

Function exercises are probed on fresh inputs drawn from ``ctx.rng(...)``, so the grader
re-evaluates them with its own seed; value exercises are recomputed by the reference solution
on the grader's data variant. Clusterings are compared up to relabelling (adjusted Rand
index). Probes return their generated inputs next to the learner's outputs, so that the
judges can recognise the usual mistakes (no ``log1p``, a square matrix passed to ``linkage``,
Ward on Gower distances, ...) and say so, without ever running learner code.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from scipy.cluster import hierarchy
from scipy.spatial.distance import pdist, squareform
from sklearn.metrics import adjusted_rand_score

from mlcourse.clustering import gower_distances
from mlcourse.exercises import make_api
from mlcourse.exercises._helpers import choice_judge, value_probe
from mlcourse.exercises.spec import (
    AnswerError,
    Exercise,
    Outcome,
    Plain,
    ProbeContext,
    WrongAnswer,
)

NOTEBOOK = "02_hierarchical_clustering"

# ----------------------------------------------------------------------------- shared bits


def _function(ns: Mapping[str, Any], name: str) -> Any:
    fn = ns[name]
    if not callable(fn):
        raise AnswerError(f"`{name}` should be a function (def {name}(...): ...), not a value.")
    return fn


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


def _labels(value: Any, n: int, what: str) -> list[int]:
    arr = np.asarray(value)
    if arr.shape != (n,):
        raise AnswerError(f"{what} should hold one label per row ({n}), got shape {arr.shape}")
    if arr.dtype.kind not in "iu" and not (
        arr.dtype.kind == "f" and np.isfinite(arr).all() and (arr == np.round(arr)).all()
    ):
        raise AnswerError(f"{what} should hold whole-number cluster labels")
    return [int(v) for v in arr]


def _number(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise AnswerError(f"`{name}` should be a single number, not {type(value).__name__}")
    value = float(value)
    if not math.isfinite(value):
        raise AnswerError(f"`{name}` is {value}; it should be a finite number")
    return value


def _close(a: Any, b: Any, atol: float) -> bool:
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=0, atol=atol))


def _standardise(a: np.ndarray) -> np.ndarray:
    sd = a.std(axis=0)
    return (a - a.mean(axis=0)) / np.where(sd > 0, sd, 1.0)


def _ok(student: Plain) -> bool:
    return isinstance(student, dict)


def _malformed() -> Outcome:
    return Outcome("error", "the answer could not be read; run the exercise cell again")


# ----------------------------------------------------------------------------- q1 prepare

Q1_COLUMNS = (
    "active_days",
    "sessions_per_active_day",
    "levels_played",
    "ads_viewed",
    "spend",
)


def _q1_input(ctx: ProbeContext) -> pd.DataFrame:
    rng = ctx.rng("q1_prepare")
    n = 120
    spend = np.where(rng.random(n) < 0.1, rng.choice([199, 499, 999, 1999], n), 0)
    return pd.DataFrame(
        {
            "active_days": rng.integers(1, 28, n),
            "sessions_per_active_day": np.round(1 + rng.lognormal(0, 0.6, n), 2),
            "levels_played": rng.negative_binomial(2, 0.08, n),
            "ads_viewed": rng.negative_binomial(1, 0.15, n),
            "spend": spend,
        }
    )


def _q1_probe(ns: Mapping[str, Any], ctx: ProbeContext) -> Plain:
    prepare = _function(ns, "prepare")
    frame = _q1_input(ctx)
    out = prepare(frame.copy())
    arr = _array(out, "prepare(frame)", 2)
    if arr.shape != frame.shape:
        raise AnswerError(
            f"prepare(frame) should return one row per player and one column per feature "
            f"{frame.shape}, got {arr.shape}"
        )
    return {
        "input": frame.to_numpy(dtype=float).tolist(),
        "output": np.round(arr, 6).tolist(),
    }


def _q1_judge(student: Plain, expected: Plain) -> Outcome:
    if not (_ok(student) and _ok(expected)):
        return _malformed()
    raw = np.asarray(student["input"], dtype=float)
    out = np.asarray(student["output"], dtype=float)
    # 0.02 accepts pandas' .std() (ddof=1) as well as StandardScaler (ddof=0)
    if _close(out, expected["output"], 0.02):
        return Outcome.correct(
            "Correct: log1p tames the long tails, then every column has mean 0 "
            "and standard deviation 1."
        )
    if _close(out, _standardise(raw), 0.02):
        return Outcome.incorrect(
            "Your columns are standardised, but the heavy tails are still there: apply "
            "np.log1p to the counts and the spend before scaling."
        )
    if _close(out, np.log1p(raw), 1e-4):
        return Outcome.incorrect(
            "You applied log1p, but the columns are not standardised yet: follow it with "
            "StandardScaler so every column has mean 0 and standard deviation 1."
        )
    if _close(out, raw, 1e-4):
        return Outcome.incorrect(
            "prepare returned the features unchanged: apply np.log1p, then StandardScaler."
        )
    sd = out.std(axis=0)
    if not np.allclose(sd, 1, atol=0.02):
        return Outcome.incorrect(
            "After prepare every column should have standard deviation 1 (StandardScaler), "
            "and the values should come from np.log1p of the features."
        )
    return Outcome.incorrect(
        "Your output is standardised but differs from log1p-then-standardise of each column; "
        "use np.log1p(frame) and StandardScaler().fit_transform on the frame you are given."
    )


Q1 = Exercise(
    id="q1_prepare",
    notebook=NOTEBOOK,
    title="Prepare heavy-tailed features for distances",
    points=1,
    reads=("prepare",),
    probe=_q1_probe,
    judge=_q1_judge,
    hints=(
        "Two steps: compress the long tails, then put every column on the same scale.",
        "np.log1p(frame) handles the zeros; StandardScaler() gives mean 0 and sd 1 per column.",
        "make_pipeline(FunctionTransformer(np.log1p), StandardScaler()).fit_transform(frame)",
    ),
    wrong_answers=(
        WrongAnswer(
            "no_log",
            "return StandardScaler().fit_transform(frame)",
            "heavy tails",
        ),
        WrongAnswer(
            "no_scaling",
            "return np.log1p(frame.to_numpy(dtype=float))",
            "not standardised",
        ),
        WrongAnswer(
            "unchanged",
            "return frame.to_numpy(dtype=float)",
            "unchanged",
        ),
        WrongAnswer(
            "wrong_shape",
            "return np.log1p(frame.to_numpy(dtype=float)).ravel()",
            "2-D array",
        ),
    ),
)

# ----------------------------------------------------------------------------- q2 spend share


def _q2_probe(ns: Mapping[str, Any], ctx: ProbeContext) -> Plain:
    return _number(ns["spend_share"], "spend_share")


def _q2_judge(student: Plain, expected: Plain) -> Outcome:
    if not isinstance(student, int | float) or not isinstance(expected, int | float):
        return _malformed()
    if math.isclose(student, expected, rel_tol=1e-4, abs_tol=1e-6):
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


Q2 = Exercise(
    id="q2_spend_share",
    notebook=NOTEBOOK,
    title="How much of the variance is spend in cents?",
    points=1,
    reads=("spend_share",),
    probe=_q2_probe,
    judge=_q2_judge,
    hints=(
        "Squared Euclidean distance adds up squared differences column by column; a column's "
        "variance says how much it contributes on average.",
        "raw = sample[FEATURES]; raw.var() gives one variance per column.",
        'spend_share = raw.var()["spend_cents"] / raw.var().sum()',
    ),
    wrong_answers=(
        WrongAnswer(
            "scaled_features",
            "X_sc = prepare(sample[FEATURES])\n"
            "v = X_sc.var(axis=0)\n"
            "spend_share = v[FEATURES.index('spend_cents')] / v.sum()",
            "raw (unscaled)",
        ),
        WrongAnswer(
            "std_not_var",
            'spend_share = sample[FEATURES].std()["spend_cents"] / sample[FEATURES].std().sum()',
            "variance",
        ),
        WrongAnswer(
            "percent",
            'spend_share = 100 * sample[FEATURES].var()["spend_cents"] / '
            "sample[FEATURES].var().sum()",
            "fraction",
        ),
    ),
)

# ----------------------------------------------------------------------------- q3 tree


def _q3_input(ctx: ProbeContext) -> np.ndarray:
    rng = ctx.rng("q3_average_tree")
    return np.round(rng.normal(size=(30, 3)) * [1.0, 2.0, 0.5], 4)


def _q3_probe(ns: Mapping[str, Any], ctx: ProbeContext) -> Plain:
    tree = _function(ns, "average_tree")
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
    return {"input": X.tolist(), "heights": np.round(Z[:, 2], 8).tolist()}


def _q3_judge(student: Plain, expected: Plain) -> Outcome:
    if not (_ok(student) and _ok(expected)):
        return _malformed()
    X = np.asarray(student["input"])
    h = np.asarray(student["heights"])
    if _close(h, expected["heights"], 1e-6):
        return Outcome.correct()

    def heights(y: Any, method: str) -> np.ndarray:
        return hierarchy.linkage(y, method=method)[:, 2]

    d = pdist(X)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        square = heights(squareform(d), "average")
    if _close(h, square, 1e-6):
        return Outcome.incorrect(
            "You passed the square distance matrix to linkage, which then treats its rows as "
            "feature vectors: pass the condensed vector from pdist(X) instead."
        )
    for method in ("single", "complete", "ward", "centroid", "median", "weighted"):
        if _close(h, heights(d, method), 1e-6):
            return Outcome.incorrect(
                f"Your tree uses {method} linkage; the exercise asks for method='average'."
            )
    if _close(h, heights(pdist(X, "sqeuclidean"), "average"), 1e-6):
        return Outcome.incorrect("Use plain Euclidean distances (pdist's default), not squared.")
    return Outcome.incorrect(
        "The merge heights differ from average linkage on Euclidean distances of the rows of X: "
        "use linkage(pdist(X), method='average') on the X you are given."
    )


Q3 = Exercise(
    id="q3_average_tree",
    notebook=NOTEBOOK,
    title="An average-linkage tree from condensed distances",
    points=1,
    reads=("average_tree",),
    probe=_q3_probe,
    judge=_q3_judge,
    hints=(
        "linkage wants the condensed distance vector, the form pdist returns.",
        "d = pdist(X)  # n*(n-1)/2 distances; then linkage(d, method=...)",
        "return linkage(pdist(X), method='average')",
    ),
    wrong_answers=(
        WrongAnswer(
            "square_matrix",
            "return linkage(squareform(pdist(X)), method='average')",
            "square distance matrix",
        ),
        WrongAnswer(
            "ward",
            "return linkage(pdist(X), method='ward')",
            "ward linkage",
        ),
        WrongAnswer(
            "labels_not_tree",
            "return fcluster(linkage(pdist(X), method='average'), 3, criterion='maxclust')",
            "linkage matrix",
        ),
    ),
)

# ----------------------------------------------------------------------------- q4 cut

Q4_KS = (2, 3, 5)


def _q4_input(ctx: ProbeContext) -> np.ndarray:
    rng = ctx.rng("q4_cut")
    centres = rng.uniform(-10, 10, size=(5, 2))
    return np.vstack([c + rng.normal(scale=0.8, size=(12, 2)) for c in centres])


def _q4_probe(ns: Mapping[str, Any], ctx: ProbeContext) -> Plain:
    cut = _function(ns, "cut_into")
    X = _q4_input(ctx)
    Z = hierarchy.linkage(X, method="ward")
    out = {}
    for k in Q4_KS:
        out[str(k)] = _labels(cut(Z.copy(), k), len(X), f"cut_into(Z, {k})")
    return out


def _q4_judge(student: Plain, expected: Plain) -> Outcome:
    if not (_ok(student) and _ok(expected)) or set(student) != set(expected):
        return _malformed()
    for key in sorted(expected, key=int):
        k = int(key)
        s, e = student[key], expected[key]
        found = len(set(s))
        if found != k:
            return Outcome.incorrect(
                f"cut_into(Z, {k}) gave {found} cluster{'s' if found != 1 else ''} instead of {k}. "
                "fcluster's default criterion is 'inconsistent' and criterion='distance' reads t "
                "as a height: use criterion='maxclust' to ask for a number of clusters."
            )
        if adjusted_rand_score(s, e) < 1.0 - 1e-9:
            return Outcome.incorrect(
                f"cut_into(Z, {k}) has {k} clusters, but not the ones the tree Z gives: cut Z "
                "itself (do not re-cluster) with fcluster(..., criterion='maxclust')."
            )
        if sorted(set(s)) == list(range(1, k + 1)):
            return Outcome.incorrect(
                "The clusters are right, but the labels run from 1 to k (fcluster's numbering): "
                "subtract 1 so that they run from 0 to k - 1 and can index a list of names."
            )
        if sorted(set(s)) != list(range(k)):
            return Outcome.incorrect(
                f"The labels of cut_into(Z, {k}) should be 0, 1, ..., {k - 1}."
            )
    return Outcome.correct()


Q4 = Exercise(
    id="q4_cut",
    notebook=NOTEBOOK,
    title="Cut a tree into k clusters, labels 0 to k-1",
    points=1,
    reads=("cut_into",),
    probe=_q4_probe,
    judge=_q4_judge,
    hints=(
        "fcluster cuts a tree; look at its criterion argument (and its default!).",
        "fcluster(Z, k, criterion='maxclust') gives exactly k clusters, numbered from 1.",
        "return fcluster(Z, k, criterion='maxclust') - 1",
    ),
    wrong_answers=(
        WrongAnswer(
            "default_criterion",
            "return fcluster(Z, k) - 1",
            "criterion='maxclust'",
        ),
        WrongAnswer(
            "distance_criterion",
            "return fcluster(Z, k, criterion='distance') - 1",
            "criterion='maxclust'",
        ),
        WrongAnswer(
            "one_based",
            "return fcluster(Z, k, criterion='maxclust')",
            "subtract 1",
        ),
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

Q5 = Exercise(
    id="q5_cophenetic",
    notebook=NOTEBOOK,
    title="What cophenetic correlation measures",
    points=1,
    reads=("answer_q5",),
    probe=value_probe("answer_q5", lambda v: v.strip().upper() if type(v) is str else v),
    judge=choice_judge(
        {
            "A": "Cophenetic correlation compares tree heights with the original distances; it "
            "says nothing about usefulness (a linkage can win it while putting almost "
            "everyone in one cluster).",
            "C": "Cophenetic correlation is computed on the whole tree, before any cut, so it "
            "cannot tell you the number of clusters.",
            "D": "Single, complete and average linkage are valid for any distance; only Ward, "
            "centroid and median need Euclidean distances.",
        }
    ),
    hints=(
        "cophenet(Z, d) correlates two things: the original distances d and the heights at "
        "which each pair of points is first merged in the tree.",
        "Look again at the cluster sizes in the table next to each method's cophenetic "
        "correlation.",
    ),
    kind="choice",
    choices=Q5_CHOICES,
    wrong_answers=(
        WrongAnswer("best_segments", 'answer_q5 = "A"', "usefulness"),
        WrongAnswer("not_a_letter", "answer_q5 = 2", "one letter"),
    ),
)

# ----------------------------------------------------------------------------- q6 best k


def _q6_cases(ctx: ProbeContext) -> list[tuple[np.ndarray, list[int]]]:
    rng = ctx.rng("q6_best_k")
    cases = []
    for n_centres, ks in (
        (3, [2, 3, 4, 5, 6]),
        (5, [3, 4, 5, 6, 7]),
        (4, [4, 2, 6, 3]),
    ):
        centres = rng.uniform(-12, 12, size=(n_centres, 3))
        X = np.vstack([c + rng.normal(scale=1.0, size=(15, 3)) for c in centres])
        cases.append((X, ks))
    return cases


def _q6_probe(ns: Mapping[str, Any], ctx: ProbeContext) -> Plain:
    best_k = _function(ns, "best_k_silhouette")
    out = []
    for X, ks in _q6_cases(ctx):
        Z = hierarchy.linkage(X, method="ward")
        k = best_k(X.copy(), Z, list(ks))
        if isinstance(k, bool) or not isinstance(k, int | np.integer):
            raise AnswerError(
                f"best_k_silhouette should return one whole number k, got {type(k).__name__}"
            )
        out.append({"ks": list(ks), "k": int(k)})
    return out


def _q6_judge(student: Plain, expected: Plain) -> Outcome:
    if not isinstance(student, list) or not isinstance(expected, list):
        return _malformed()
    for s, e in zip(student, expected, strict=True):
        if s["k"] == e["k"]:
            continue
        if s["k"] == s["ks"].index(e["k"]):
            return Outcome.incorrect(
                "You returned the position of the best score in ks, not the k itself: "
                "return ks[np.argmax(scores)]."
            )
        if s["k"] not in s["ks"]:
            return Outcome.incorrect(f"best_k_silhouette returned {s['k']}, which is not in ks.")
        return Outcome.incorrect(
            f"For ks = {s['ks']} your k is not the one with the highest silhouette: for each k "
            "cut Z with fcluster(Z, k, criterion='maxclust') and compute "
            "silhouette_score(X, labels)."
        )
    return Outcome.correct()


Q6 = Exercise(
    id="q6_best_k",
    notebook=NOTEBOOK,
    title="The number of clusters by the silhouette rule",
    points=1,
    reads=("best_k_silhouette",),
    probe=_q6_probe,
    judge=_q6_judge,
    hints=(
        "Loop over ks: cut the tree into k clusters, score the cut, keep the best k.",
        "silhouette_score(X, fcluster(Z, k, criterion='maxclust'))",
        "scores = [silhouette_score(X, fcluster(Z, k, criterion='maxclust')) for k in ks]\n"
        "return int(ks[int(np.argmax(scores))])",
    ),
    wrong_answers=(
        WrongAnswer(
            "position",
            "scores = [silhouette_score(X, fcluster(Z, k, criterion='maxclust')) for k in ks]\n"
            "return int(np.argmax(scores))",
            "position",
        ),
        WrongAnswer(
            "lowest_score",
            "scores = [silhouette_score(X, fcluster(Z, k, criterion='maxclust')) for k in ks]\n"
            "return int(ks[int(np.argmin(scores))])",
            "highest silhouette",
        ),
        WrongAnswer(
            "default_criterion",
            "scores = [silhouette_score(X, fcluster(Z, k)) for k in ks]\n"
            "return int(ks[int(np.argmax(scores))])",
            "Number of labels is 1",
            status="error",
        ),
    ),
)

# ----------------------------------------------------------------------------- q7 Gower


def _q7_input(ctx: ProbeContext) -> pd.DataFrame:
    rng = ctx.rng("q7_mixed_segments")
    n = 45
    group = rng.integers(0, 3, n)
    return pd.DataFrame(
        {
            "sessions": np.round(rng.gamma(2, 3, n) + 8 * group, 1),
            "spend": np.round(np.where(group == 2, rng.gamma(2, 5, n), 0.0), 2),
            "platform": np.array(["ios", "android", "web"])[
                np.where(rng.random(n) < 0.7, group, rng.integers(0, 3, n))
            ],
            "difficulty": rng.choice(["easy", "normal", "hard"], n),
        }
    )


def _q7_probe(ns: Mapping[str, Any], ctx: ProbeContext) -> Plain:
    segment = _function(ns, "mixed_segments")
    frame = _q7_input(ctx)
    labels = _labels(segment(frame.copy(), 3), len(frame), "mixed_segments(frame, 3)")
    return {"input": {c: frame[c].tolist() for c in frame.columns}, "labels": labels}


def _q7_judge(student: Plain, expected: Plain) -> Outcome:
    if not (_ok(student) and _ok(expected)):
        return _malformed()
    s = student["labels"]
    if len(set(s)) != 3:
        return Outcome.incorrect(
            f"mixed_segments(frame, 3) gave {len(set(s))} clusters instead of 3: cut with "
            "fcluster(Z, k, criterion='maxclust')."
        )
    if adjusted_rand_score(s, expected["labels"]) > 1 - 1e-9:
        return Outcome.correct()
    frame = pd.DataFrame(student["input"])
    d = gower_distances(frame)

    def cut(Z: np.ndarray) -> np.ndarray:
        return hierarchy.fcluster(Z, 3, criterion="maxclust")

    if adjusted_rand_score(s, cut(hierarchy.linkage(d, method="ward"))) > 1 - 1e-9:
        return Outcome.incorrect(
            "This is Ward linkage on Gower distances. Ward's merge rule assumes Euclidean "
            "distances, and Gower distances are not: use method='complete'."
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sq = cut(hierarchy.linkage(squareform(d), method="complete"))
    if adjusted_rand_score(s, sq) > 1 - 1e-9:
        return Outcome.incorrect(
            "You passed the square Gower matrix to linkage; pass the condensed vector that "
            "gower_distances returns."
        )
    for method in ("average", "single", "weighted"):
        if adjusted_rand_score(s, cut(hierarchy.linkage(d, method=method))) > 1 - 1e-9:
            return Outcome.incorrect(
                f"This is {method} linkage on the Gower distances; the exercise asks for "
                "method='complete'."
            )
    numeric = frame.select_dtypes("number").to_numpy(dtype=float)
    if adjusted_rand_score(s, cut(hierarchy.linkage(numeric, method="complete"))) > 1 - 1e-9:
        return Outcome.incorrect(
            "Your segments ignore the categorical columns: compute gower_distances(frame) on "
            "all columns."
        )
    return Outcome.incorrect(
        "Your segments differ from complete linkage on the Gower distances of all columns: "
        "linkage(gower_distances(frame), method='complete'), then fcluster with 'maxclust'."
    )


Q7 = Exercise(
    id="q7_mixed_segments",
    notebook=NOTEBOOK,
    title="Segments of mixed numeric and categorical data",
    points=1,
    reads=("mixed_segments",),
    probe=_q7_probe,
    judge=_q7_judge,
    hints=(
        "Three steps: Gower distances, a tree with a linkage that is valid for them, a cut.",
        "gower_distances(frame) is already condensed; complete linkage works with any distance.",
        "Z = linkage(gower_distances(frame), method='complete')\n"
        "return fcluster(Z, k, criterion='maxclust')",
    ),
    wrong_answers=(
        WrongAnswer(
            "ward_on_gower",
            "Z = linkage(gower_distances(frame), method='ward')\n"
            "return fcluster(Z, k, criterion='maxclust')",
            "Ward",
        ),
        WrongAnswer(
            "square_gower",
            "Z = linkage(squareform(gower_distances(frame)), method='complete')\n"
            "return fcluster(Z, k, criterion='maxclust')",
            "square Gower matrix",
        ),
        WrongAnswer(
            "average_linkage",
            "return fcluster(linkage(gower_distances(frame), method='average'), k, "
            "criterion='maxclust')",
            "method='complete'",
        ),
        WrongAnswer(
            "default_criterion",
            "return fcluster(linkage(gower_distances(frame), method='complete'), k)",
            "instead of 3",
        ),
    ),
)

# ----------------------------------------------------------------------------- q8 memory


def _q8_probe(ns: Mapping[str, Any], ctx: ProbeContext) -> Plain:
    return _number(ns["gb_all_players"], "gb_all_players")


def _q8_judge(student: Plain, expected: Plain) -> Outcome:
    if not isinstance(student, int | float) or not isinstance(expected, int | float):
        return _malformed()
    if math.isclose(student, expected, rel_tol=1e-3):
        return Outcome.correct()
    ratio = student / expected if expected else float("inf")
    if math.isclose(ratio, 2.0, rel_tol=0.01):
        return Outcome.incorrect(
            "That is the full n x n matrix; the condensed form stores each pair once: "
            "n * (n - 1) / 2 distances."
        )
    if math.isclose(ratio, 0.5, rel_tol=0.01):
        return Outcome.incorrect("Each distance is a float64: 8 bytes, not 4.")
    if math.isclose(ratio, 1e9 / 2**30, rel_tol=0.001):
        return Outcome.incorrect("Use GB = 10**9 bytes here, not GiB (2**30 bytes).")
    if math.isclose(ratio, 1e9, rel_tol=0.01):
        return Outcome.incorrect("That is in bytes; divide by 1e9 to get GB.")
    return Outcome.incorrect(
        "Not quite: count every player in `players` (not just the sample), then "
        "8 bytes * n * (n - 1) / 2, in GB (1e9 bytes)."
    )


Q8 = Exercise(
    id="q8_memory",
    notebook=NOTEBOOK,
    title="The memory wall for every player",
    points=1,
    reads=("gb_all_players",),
    probe=_q8_probe,
    judge=_q8_judge,
    hints=(
        "The condensed distance vector has one float64 per pair of players.",
        "n = len(players); pairs = n * (n - 1) / 2; each pair takes 8 bytes.",
        "gb_all_players = 8 * n * (n - 1) / 2 / 1e9",
    ),
    wrong_answers=(
        WrongAnswer("square", "gb_all_players = 8 * len(players) ** 2 / 1e9", "n * (n - 1) / 2"),
        WrongAnswer(
            "gib",
            "gb_all_players = 8 * len(players) * (len(players) - 1) / 2 / 2**30",
            "GiB",
        ),
        WrongAnswer(
            "sample_only",
            "gb_all_players = 8 * len(sample) * (len(sample) - 1) / 2 / 1e9",
            "every player",
        ),
    ),
)

# ----------------------------------------------------------------------------- q9 penguins


def _q9_probe(ns: Mapping[str, Any], ctx: ProbeContext) -> Plain:
    return _number(ns["penguin_ari"], "penguin_ari")


def _q9_judge(student: Plain, expected: Plain) -> Outcome:
    if not isinstance(student, int | float) or not isinstance(expected, int | float):
        return _malformed()
    if math.isclose(student, expected, abs_tol=1e-6):
        return Outcome.correct(
            "Correct: once the measurements are on one scale, Ward's three clusters line up "
            "well with the three species."
        )
    if not -1 <= student <= 1:
        return Outcome.incorrect("An adjusted Rand index lies between -1 and 1.")
    return Outcome.incorrect(
        "Not quite. Standardise the four measurements first (body mass is in grams, "
        "the others in millimetres), build a Ward tree, cut it into 3 clusters with "
        "criterion='maxclust' and compare with adjusted_rand_score(species, labels)."
    )


Q9 = Exercise(
    id="q9_penguins",
    notebook=NOTEBOOK,
    title="Penguins: do the clusters find the species?",
    points=1,
    reads=("penguin_ari",),
    probe=_q9_probe,
    judge=_q9_judge,
    hints=(
        "Same recipe as for the players: scale, tree, cut, compare with the known answer.",
        "StandardScaler().fit_transform(penguins[MEASUREMENTS]), linkage(..., 'ward'), "
        "fcluster(Z, 3, criterion='maxclust').",
        "adjusted_rand_score(penguins['species'], labels) does not care how clusters are numbered.",
    ),
    wrong_answers=(
        WrongAnswer(
            "unscaled",
            "Zp = linkage(penguins[MEASUREMENTS].to_numpy(dtype=float), method='ward')\n"
            "penguin_ari = adjusted_rand_score(penguins['species'], "
            "fcluster(Zp, 3, criterion='maxclust'))",
            "Standardise",
        ),
        WrongAnswer(
            "single_linkage",
            "Zp = linkage(StandardScaler().fit_transform(penguins[MEASUREMENTS]), "
            "method='single')\n"
            "penguin_ari = adjusted_rand_score(penguins['species'], "
            "fcluster(Zp, 3, criterion='maxclust'))",
            "Ward tree",
        ),
    ),
)

EXERCISES: tuple[Exercise, ...] = (Q1, Q2, Q3, Q4, Q5, Q6, Q7, Q8, Q9)

check, hint, solution = make_api(NOTEBOOK, EXERCISES)
