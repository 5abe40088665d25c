"""Exercises of notebook 04, "Hierarchical clustering II: choosing k, mixed data and scale".

Built like :mod:`mlcourse.exercises.nb03` (the helpers shared by the two clustering notebooks
live there): function exercises are probed on inputs made from ``ctx.rng(...)``, value
exercises are recomputed by the reference solution on the grader's data variant, and
clusterings are compared up to relabelling. The judges read the generated inputs from the
*expected* observation and recompute the usual mistakes (the biggest dendrogram gap instead of
the silhouette, Ward on Gower distances, ...) to say which one was made. The catalogues of
right and wrong answers are test data in ``tests/catalogues/nb04.py``.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from functools import partial
from typing import Any

import numpy as np
import pandas as pd
from scipy.cluster import hierarchy
from scipy.spatial.distance import pdist, squareform
from sklearn.metrics import adjusted_rand_score

from mlcourse.clustering import gower_distances
from mlcourse.exercises import make_api
from mlcourse.exercises._helpers import exercise, learner_function, unreadable
from mlcourse.exercises.nb03 import (
    _label_array,
    _number_exercise,
    _number_probe,
    _ok,
    _same_partition,
    _standardise,
)
from mlcourse.exercises.spec import AnswerError, Exercise, Outcome, Plain, ProbeContext

NOTEBOOK = "04_segments_at_scale"

#: this notebook's exercises: ``_exercise(id, title, reads, probe, judge, ...)`` (see
#: :mod:`._helpers`)
_exercise = partial(exercise, NOTEBOOK)


# ----------------------------------------------------------------------- cuts and scores


def _labels(value: Any, n: int, what: str) -> list[int]:
    """Cluster labels where any whole numbers do (compared up to relabelling)."""
    return [int(v) for v in _label_array(value, n, what)]


def _maxclust(Z: np.ndarray, k: int) -> np.ndarray:
    return hierarchy.fcluster(Z, k, criterion="maxclust")


def _tree_cuts(Z: np.ndarray, ks: Sequence[int]) -> list[np.ndarray]:
    """Labels of the k-cluster cut of ``Z`` for every k of ``ks``: the first n - k merges.

    The same partitions as ``fcluster(Z, k, criterion="maxclust")`` when no two merges tie
    at the cut (true for the continuous probe data here), without fcluster's per-call
    validation, which dominates the time of a probe that cuts hundreds of trees.
    """
    n = len(Z) + 1
    label = np.arange(n)
    leaves: dict[int, list[int]] = {i: [i] for i in range(n)}
    wanted = {int(k): None for k in ks}
    out: dict[int, np.ndarray] = {}
    if n in wanted:
        out[n] = label.copy()
    for i, (a, b) in enumerate(Z[:, :2].astype(int)):
        merged = leaves.pop(a) + leaves.pop(b)
        leaves[n + i] = merged
        label[merged] = n + i
        if n - i - 1 in wanted:
            out[n - i - 1] = label.copy()
    return [out[int(k)] for k in ks]


def _silhouette(D: np.ndarray, labels: np.ndarray) -> float:
    """Mean silhouette for a square distance matrix (as scikit-learn; singletons score 0)."""
    labels = np.asarray(labels)
    levels = np.unique(labels)
    if not 1 < len(levels) < len(labels):
        return float("nan")
    member = labels[:, None] == levels[None, :]
    sizes = member.sum(axis=0)
    sums = D @ member
    own = member.argmax(axis=1)
    idx = np.arange(len(labels))
    own_size = sizes[own]
    a = np.where(own_size > 1, sums[idx, own] / np.maximum(own_size - 1, 1), 0.0)
    mean_other = sums / sizes
    mean_other[idx, own] = np.inf
    b = mean_other.min(axis=1)
    s = np.where(own_size > 1, (b - a) / np.maximum(np.maximum(a, b), 1e-300), 0.0)
    return float(s.mean())


def _dispersions(X: np.ndarray, labels: np.ndarray) -> tuple[float, float, list[np.ndarray]]:
    """Between- and within-cluster sums of squares, and the cluster centres."""
    centre = X.mean(axis=0)
    between = within = 0.0
    centres = []
    for c in np.unique(labels):
        part = X[labels == c]
        m = part.mean(axis=0)
        centres.append(m)
        between += len(part) * float(((m - centre) ** 2).sum())
        within += float(((part - m) ** 2).sum())
    return between, within, centres


def _calinski_harabasz(X: np.ndarray, labels: np.ndarray) -> float:
    n, k = len(X), len(np.unique(labels))
    between, within, _ = _dispersions(X, labels)
    return float("nan") if k < 2 or within == 0 else between * (n - k) / (within * (k - 1))


def _davies_bouldin(X: np.ndarray, labels: np.ndarray) -> float:
    levels = np.unique(labels)
    if len(levels) < 2:
        return float("nan")
    _, _, centres = _dispersions(X, labels)
    spread = [
        float(np.linalg.norm(X[labels == c] - m, axis=1).mean())
        for c, m in zip(levels, centres, strict=True)
    ]
    worst = []
    for i in range(len(levels)):
        worst.append(
            max(
                (spread[i] + spread[j]) / max(float(np.linalg.norm(centres[i] - centres[j])), 1e-12)
                for j in range(len(levels))
                if j != i
            )
        )
    return float(np.mean(worst))


# ----------------------------------------------------------------------------- q6 best k


def _q6_rules(
    X: np.ndarray, Z: np.ndarray, ks: Sequence[int], *, kmeans: bool = False
) -> dict[str, int]:
    """The k each rival rule picks for ``best_k_silhouette(X, Z, ks)`` (NumPy and SciPy only).

    ``silhouette`` is the rule the task asks for; every other entry is a realistic mistake:
    the position of the best score, the lowest score, the biggest dendrogram gap, the
    Calinski-Harabasz or Davies-Bouldin score, the elbow of the within-cluster sum of
    squares, a k read off ``ks`` alone (largest, smallest, first, last), the first local peak
    instead of the best, the silhouette of cuts of a tree the learner built again from ``X``
    (ignoring ``Z``), and the silhouette with squared, cosine or standardised distances.
    ``kmeans=True`` (in the judge only) adds the silhouette of k-means clusterings.
    """
    ks = [int(k) for k in ks]
    n = len(X)
    D = squareform(pdist(X))
    cuts = _tree_cuts(Z, ks)
    sil = [_silhouette(D, c) for c in cuts]
    best = int(np.argmax(sil))
    heights = Z[:, 2]
    gaps = [heights[n - k] - heights[n - k - 1] for k in ks]
    i = 0
    while i + 1 < len(ks) and sil[i + 1] >= sil[i]:
        i += 1
    rules = {
        "silhouette": ks[best],
        "position": best,
        "lowest_silhouette": ks[int(np.argmin(sil))],
        "gap": ks[int(np.argmax(gaps))],
        "calinski_harabasz": ks[int(np.argmax([_calinski_harabasz(X, c) for c in cuts]))],
        "davies_bouldin": ks[int(np.argmin([_davies_bouldin(X, c) for c in cuts]))],
        "largest_k": max(ks),
        "smallest_k": min(ks),
        "first_k": ks[0],
        "last_k": ks[-1],
        "first_peak": ks[i],
    }
    order = sorted(range(len(ks)), key=lambda j: ks[j])
    if len(ks) >= 3:
        wss = [_dispersions(X, cuts[j])[1] for j in order]
        bend = [wss[j - 1] - 2 * wss[j] + wss[j + 1] for j in range(1, len(order) - 1)]
        rules["elbow"] = ks[order[1 + int(np.argmax(bend))]]
    for method in ("ward", "average", "complete", "single"):
        own = hierarchy.linkage(X, method=method)
        scores = [_silhouette(D, cut) for cut in _tree_cuts(own, ks)]
        rules[f"own_{method}_tree"] = ks[int(np.argmax(scores))]
    for name, other in (
        ("sqeuclidean", D**2),
        ("cosine", squareform(pdist(X, "cosine"))),
        ("standardised", squareform(pdist(_standardise(X)))),
    ):
        scores = [_silhouette(other, c) for c in cuts]
        rules[f"silhouette_{name}"] = ks[int(np.argmax(scores))]
    if kmeans:  # judge only: scikit-learn's k-means must not shape the probe data
        from sklearn.cluster import KMeans

        scores = [
            _silhouette(D, KMeans(n_clusters=k, n_init=10, random_state=0).fit_predict(X))
            for k in ks
        ]
        rules["kmeans"] = ks[int(np.argmax(scores))]
    return rules


def _q6_margin(X: np.ndarray, Z: np.ndarray, ks: Sequence[int]) -> float:
    """How far the best silhouette is ahead of the runner-up."""
    D = squareform(pdist(X))
    sil = sorted(_silhouette(D, cut) for cut in _tree_cuts(Z, ks))
    return sil[-1] - sil[-2]


def _q6_nested(rng: np.random.Generator) -> np.ndarray:
    """Two far-apart groups of three tight clusters each."""
    parts = []
    for g in range(2):
        for j in range(3):
            angle = 2 * np.pi * j / 3 + rng.uniform(-0.2, 0.2)
            centre = np.array([40.0 * g, 7 * np.cos(angle), 7 * np.sin(angle)])
            parts.append(centre + rng.normal(scale=0.6, size=(int(rng.integers(8, 13)), 3)))
    return np.vstack(parts)


def _q6_bridge(rng: np.random.Generator) -> np.ndarray:
    """Two blobs joined by a thin bridge of points, and a third blob farther away."""
    a = rng.normal(scale=0.7, size=(20, 2))
    b = rng.normal(scale=0.7, size=(20, 2)) + [9, 0]
    t = np.linspace(1.2, 7.8, 8)
    bridge = np.c_[t, rng.normal(scale=0.15, size=8)]
    c = rng.normal(scale=0.7, size=(15, 2)) + [4.5, 14]
    return np.vstack([a, b, bridge, c])


def _q6_stripes(rng: np.random.Generator) -> np.ndarray:
    """Three long parallel stripes."""
    return np.vstack(
        [np.c_[rng.uniform(0, 20, 20), 4 * j + rng.normal(scale=0.4, size=20)] for j in range(3)]
    )


def _q6_line(rng: np.random.Generator) -> np.ndarray:
    """Three groups on a line, the middle one placed where the squared-distance silhouette
    and the Euclidean one pick different k (found by scanning its position)."""
    a, b, c = (rng.normal(size=(15, 2)) for _ in range(3))
    far = 30.0
    for gap in rng.permutation(np.linspace(5.0, 12.0, 57)):
        X = np.vstack([a, b + [gap, 0.0], c + [far, 0.0]])
        Z = hierarchy.linkage(X, method="ward")
        D = squareform(pdist(X))
        cuts = _tree_cuts(Z, _Q6_LINE_KS)
        plain = int(np.argmax([_silhouette(D, cut) for cut in cuts]))
        squared = int(np.argmax([_silhouette(D**2, cut) for cut in cuts]))
        if plain != squared:
            return X
    return X


_Q6_LINE_KS = [2, 3, 4, 5, 6]

#: (name, generator, linkage method of Z, ks, rival rules this case must tell apart)
_Q6_DESIGNS = (
    (
        "nested",
        _q6_nested,
        "ward",
        [2, 3, 4, 5, 6, 7, 8],
        ("gap", "smallest_k", "first_k", "largest_k", "last_k", "first_peak", "position"),
    ),
    (
        "bridge",
        _q6_bridge,
        "single",
        [2, 3, 4, 5, 6],
        ("own_ward_tree", "own_average_tree", "own_complete_tree", "elbow", "calinski_harabasz"),
    ),
    (
        "stripes",
        _q6_stripes,
        "complete",
        [4, 2, 7, 3, 5, 6],
        (
            "own_single_tree",
            "davies_bouldin",
            "lowest_silhouette",
            "largest_k",
            "silhouette_standardised",
        ),
    ),
    (
        "line",
        _q6_line,
        "ward",
        _Q6_LINE_KS,
        ("silhouette_sqeuclidean", "silhouette_cosine"),
    ),
)


def _q6_cases(ctx: ProbeContext) -> list[dict[str, Any]]:
    """Data sets, trees and lists of k on which rival rules for k disagree with the silhouette.

    Built to catch every rule of :func:`_q6_rules` other than the silhouette:

    * ``nested`` (Ward tree, ks 2..8): two far-apart groups of three tight clusters; the
      biggest dendrogram gap, the first local peak and the smallest k say 2, the silhouette
      the six tight clusters, the largest k 8;
    * ``bridge`` (a *single*-linkage tree): two blobs joined by a bridge and a far blob; the
      cuts of Z differ from those of a Ward, average or complete tree (or k-means) built
      again from X, so a rule that ignores Z picks another k; Calinski-Harabasz and the elbow
      disagree too;
    * ``stripes`` (complete tree, ks in shuffled order): long parallel stripes; a re-built
      single tree, Davies-Bouldin and the lowest score disagree, and the unsorted ks catch
      positions and ``ks[-1]``;
    * ``line`` (Ward tree): three groups on a line, the middle one where the silhouette with
      squared distances picks another k; cosine distances disagree too (standardised ones
      on ``stripes``).

    Each draw is repeated (up to 40 times, deterministically from the seed) until the rules
    named for the case all differ from the silhouette's k and the best silhouette leads the
    runner-up by at least 0.005, so that equivalent implementations never tie.
    """
    rng = ctx.rng("q6_best_k")
    cases = []
    for name, make, method, ks, rivals in _Q6_DESIGNS:
        best: tuple[int, np.ndarray] | None = None
        for _ in range(40):
            X = np.round(make(rng), 6)
            Z = hierarchy.linkage(X, method=method)
            rules = _q6_rules(X, Z, ks)
            # a draw without a clear best silhouette ranks below every draw with one
            told = sum(rules[r] != rules["silhouette"] for r in rivals)
            told = told if _q6_margin(X, Z, ks) >= 0.005 else -1
            if best is None or told > best[0]:
                best = (told, X)
            if told == len(rivals):
                break
        assert best is not None
        cases.append({"name": name, "X": best[1], "method": method, "ks": list(ks)})
    return cases


def _q6_probe(ns: Mapping[str, Any], ctx: ProbeContext) -> Plain:
    """``best_k_silhouette(X, Z, ks)`` on each case of :func:`_q6_cases`; echoes X and ks."""
    best_k = learner_function(ns, "best_k_silhouette")
    out = []
    for case in _q6_cases(ctx):
        X = case["X"]
        Z = hierarchy.linkage(X, method=case["method"])
        try:
            k = best_k(X.copy(), Z, list(case["ks"]))
        except ValueError as err:
            if "Number of labels is 1" not in str(err):
                raise
            raise AnswerError(
                "silhouette_score was given a cut with a single cluster. fcluster(Z, k) "
                "without a criterion reads k as an inconsistency threshold, not as a number "
                "of clusters: a cut into k clusters needs criterion='maxclust'."
            ) from err
        if isinstance(k, bool) or not isinstance(k, int | np.integer):
            raise AnswerError(
                f"best_k_silhouette should return one whole number k, got {type(k).__name__}"
            )
        out.append(
            {
                "name": case["name"],
                "X": X.tolist(),
                "method": case["method"],
                "ks": list(case["ks"]),
                "k": int(k),
            }
        )
    return out


_Q6_ADVICE = (
    (
        "position",
        "You returned the position of the best score in ks, not the k itself: return the "
        "element of ks at that position.",
    ),
    (
        "own_ward_tree",
        "Your k comes from clusters that are not cuts of the tree Z you are given (a tree or "
        "k-means you built again from X): cut Z itself with fcluster(Z, k, "
        "criterion='maxclust').",
    ),
    ("own_average_tree", "own_ward_tree"),
    ("own_complete_tree", "own_ward_tree"),
    ("own_single_tree", "own_ward_tree"),
    (
        "gap",
        "Your k is where the dendrogram has its biggest gap between merges; the exercise asks "
        "for the k whose cut has the highest silhouette_score(X, labels).",
    ),
    (
        "calinski_harabasz",
        "Your k has the best Calinski-Harabasz score; the exercise asks for the highest "
        "silhouette (silhouette_score(X, labels)).",
    ),
    (
        "davies_bouldin",
        "Your k has the best Davies-Bouldin score; the exercise asks for the highest "
        "silhouette (silhouette_score(X, labels)).",
    ),
    (
        "elbow",
        "Your k is the elbow of the within-cluster sum of squares; the exercise asks for the "
        "highest silhouette (silhouette_score(X, labels)).",
    ),
    ("kmeans", "own_ward_tree"),
    (
        "silhouette_sqeuclidean",
        "Your silhouette uses squared distances; the exercise asks for silhouette_score's "
        "default, plain Euclidean distances between the rows of X.",
    ),
    (
        "silhouette_cosine",
        "Your silhouette uses cosine distances; the exercise asks for silhouette_score's "
        "default, plain Euclidean distances between the rows of X.",
    ),
    (
        "silhouette_standardised",
        "You rescaled X before scoring the cuts; compute the silhouette on X as it is given.",
    ),
    (
        "lowest_silhouette",
        "Your k has the lowest silhouette, not the highest: use the position of the maximum.",
    ),
    (
        "first_peak",
        "Your function stops at the first k whose silhouette is higher than the next one's; "
        "compare every k in ks and return the one with the highest silhouette overall.",
    ),
    (
        "largest_k",
        "Your function returns a k read off the list (the largest, smallest, first or last), "
        "whatever the data: compute the silhouette of every k's cut and return the best k.",
    ),
    ("smallest_k", "largest_k"),
    ("first_k", "largest_k"),
    ("last_k", "largest_k"),
)


#: a short name for each rule of :data:`_Q6_ADVICE` whose message is a diagnosis of its own
_Q6_NAMES = {
    "gap": "the biggest dendrogram gap",
    "calinski_harabasz": "the Calinski-Harabasz score",
    "davies_bouldin": "the Davies-Bouldin score",
    "elbow": "the elbow of the within-cluster sum of squares",
    "own_ward_tree": "a tree or k-means built again from X",
    "silhouette_sqeuclidean": "the silhouette on squared distances",
    "silhouette_cosine": "the silhouette on cosine distances",
    "silhouette_standardised": "the silhouette of rescaled X",
    "lowest_silhouette": "the lowest silhouette",
    "first_peak": "the first local peak of the silhouette",
    "largest_k": "a k read off ks alone",
    "position": "the position of the best score",
}


def _q6_judge(student: Plain, expected: Plain) -> Outcome:
    if not isinstance(student, list) or not isinstance(expected, list):
        return unreadable()
    if len(student) != len(expected) or not all(isinstance(s, dict) for s in student):
        return unreadable()
    got = [s.get("k") for s in student]
    wrong = [i for i, e in enumerate(expected) if got[i] != e["k"]]
    if not wrong:
        return Outcome.correct()
    first = expected[wrong[0]]
    ks = first["ks"]
    if got[wrong[0]] not in ks and got[wrong[0]] != ks.index(first["k"]):
        return Outcome.incorrect(f"best_k_silhouette returned {got[wrong[0]]}, which is not in ks.")
    rules = []
    for e in expected:  # the reference's echoes of X, Z's method and ks: trusted
        X = np.asarray(e["X"], dtype=float)
        rules.append(_q6_rules(X, hierarchy.linkage(X, method=e["method"]), e["ks"], kmeans=True))
    advice = dict(_Q6_ADVICE)
    # the rules that explain every answer; when the probe data cannot tell two of them
    # apart, the message names both
    texts = [
        advice.get(text, text)
        for rule, text in _Q6_ADVICE
        if all(rules[i].get(rule) == got[i] for i in range(len(expected)))
    ]
    texts = list(dict.fromkeys(texts))
    if len(texts) == 1:
        return Outcome.incorrect(texts[0])
    if texts:  # the probe data cannot tell these rules apart: say so, in one message
        names = [
            _Q6_NAMES[text if text in advice else rule]  # an alias names its target's rule
            for rule, text in _Q6_ADVICE
            if all(rules[i].get(rule) == got[i] for i in range(len(expected)))
        ]
        return Outcome.incorrect(
            f"Your k is the one picked by {' or by '.join(dict.fromkeys(names))} (on these "
            "test data they agree), not the k whose cut has the highest silhouette: score "
            "every k's cut of Z with silhouette_score(X, labels) and return the best k."
        )
    return Outcome.incorrect(
        f"For ks = {ks} your k is not the one with the highest silhouette: for each k "
        "cut Z with fcluster(Z, k, criterion='maxclust') and compute "
        "silhouette_score(X, labels)."
    )


Q6 = _exercise(
    "q6_best_k",
    "The number of clusters by the silhouette rule",
    ("best_k_silhouette",),
    _q6_probe,
    _q6_judge,
    hints=(
        "Loop over ks: cut the tree into k clusters, score the cut, keep the best k.",
        "fcluster(Z, k, criterion='maxclust') gives the labels of one cut; "
        "silhouette_score(X, labels) scores it.",
        "np.argmax of the list of scores gives a position in ks; return the k at that "
        "position, as an int.",
    ),
)

# ----------------------------------------------------------------------------- q7 Gower

Q7_KS = (3, 5)


def _q7_frame(rng: np.random.Generator, n: int = 45) -> pd.DataFrame:
    group = rng.integers(0, 3, n)
    sessions = rng.gamma(2, 3, n) + 8 * group
    spend = np.where((group == 2) | (rng.random(n) < 0.15), rng.gamma(2, 400, n), 0.0)
    platform = np.array(["ios", "android", "web"])[
        np.where(rng.random(n) < 0.7, group, rng.integers(0, 3, n))
    ]
    levels = np.array(["easy", "normal", "hard"])
    difficulty = levels[np.where(rng.random(n) < 0.6, 2 - group, rng.integers(0, 3, n))]
    return pd.DataFrame(
        {
            "sessions": np.round(sessions, 6),
            "spend_cents": np.round(spend, 2),
            "platform": platform,
            "difficulty": pd.Categorical(difficulty, categories=list(levels), ordered=True),
        }
    )


def _q7_rivals(frame: pd.DataFrame, k: int) -> dict[str, list[int]]:
    """The k-cluster labels of the right recipe (``complete``) and of its usual mistakes."""
    d = gower_distances(frame)
    out = {"complete": _maxclust(hierarchy.linkage(d, method="complete"), k)}
    for method in ("ward", "average", "single", "weighted"):
        out[method] = _maxclust(hierarchy.linkage(d, method=method), k)
    out["ward_sqrt"] = _maxclust(hierarchy.linkage(np.sqrt(d), method="ward"), k)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out["square"] = _maxclust(hierarchy.linkage(squareform(d), method="complete"), k)
    numeric = frame.select_dtypes("number")
    out["numeric_only"] = _maxclust(
        hierarchy.linkage(gower_distances(numeric), method="complete"), k
    )
    raw_terms = np.zeros_like(d)  # Gower without dividing numeric differences by the range
    for column in frame.columns:
        if column in numeric:
            raw_terms += pdist(frame[[column]].to_numpy(dtype=float), "cityblock")
        else:
            codes = pd.Categorical(frame[column]).codes[:, None].astype(float)
            raw_terms += pdist(codes, "hamming")
    out["no_range"] = _maxclust(hierarchy.linkage(raw_terms / frame.shape[1], method="complete"), k)
    ordinal = frame.assign(difficulty=frame["difficulty"].cat.codes.astype(float))
    out["ordinal_as_number"] = _maxclust(
        hierarchy.linkage(gower_distances(ordinal), method="complete"), k
    )
    onehot = pd.get_dummies(frame, dtype=float).to_numpy()
    out["one_hot_euclidean"] = _maxclust(hierarchy.linkage(pdist(onehot), method="complete"), k)
    return {name: [int(v) for v in labels] for name, labels in out.items()}


def _q7_input(ctx: ProbeContext) -> pd.DataFrame:
    """45 players: two numeric columns of very different ranges, a nominal and an ordinal one.

    ``sessions`` (tens) and ``spend_cents`` (thousands, mostly 0) are continuous, so no two
    Gower distances tie and every exact implementation of the recipe gives the same tree.
    ``platform`` is nominal text; ``difficulty`` an *ordered* categorical, which the course's
    Gower distance treats like any categorical (same or different).

    Built to catch, for both k = 3 and k = 5: Ward (on Gower or on its square root),
    average, single or weighted linkage instead of complete, the square matrix passed to
    ``linkage``, dropping the categorical columns, a hand-made Gower that does not divide
    by each column's range, one that turns the ordinal column into numbers, and one-hot
    columns with Euclidean distances. Draws are repeated (deterministically, up to 40 times)
    until every such mistake gives other clusters than the right recipe and the cut heights
    are clearly apart.
    """
    rng = ctx.rng("q7_mixed_segments")
    for _ in range(40):
        frame = _q7_frame(rng)
        if _q7_separates(frame):
            break
    return frame


def _q7_separates(frame: pd.DataFrame) -> bool:
    """Whether every mistake of :func:`_q7_rivals` gives other clusters, for every k."""
    n = len(frame)
    heights = hierarchy.linkage(gower_distances(frame), method="complete")[:, 2]
    if any(heights[n - k] - heights[n - k - 1] < 1e-3 for k in Q7_KS):
        return False  # the cut must not sit on (nearly) tied merges
    for k in Q7_KS:
        rivals = _q7_rivals(frame, k)
        right = rivals.pop("complete")
        if any(_same_partition(v, right) for v in rivals.values()):
            return False
    return True


def _q7_probe(ns: Mapping[str, Any], ctx: ProbeContext) -> Plain:
    """``mixed_segments(frame, k)`` for k = 3 and 5 on :func:`_q7_input`; echoes the frame."""
    segment = learner_function(ns, "mixed_segments")
    frame = _q7_input(ctx)
    labels = {
        str(k): _labels(segment(frame.copy(), k), len(frame), f"mixed_segments(frame, {k})")
        for k in Q7_KS
    }
    return {
        "input": {
            c: [str(v) if c in ("platform", "difficulty") else v for v in frame[c]]
            for c in frame.columns
        },
        "labels": labels,
    }


_Q7_ADVICE = {
    "ward": "This is Ward linkage on the Gower distances: valid as a generalised Ward "
    "criterion, but its heights are not sums of squares, and the exercise asks for "
    "method='complete'.",
    "ward_sqrt": "This is Ward linkage on the square root of the Gower distances: legitimate "
    "(see Pitfall 5), but this exercise fixes complete linkage on the Gower distances "
    "themselves.",
    "square": "You passed the square Gower matrix to linkage; pass the condensed vector that "
    "gower_distances returns.",
    "average": "This is average linkage on the Gower distances; the exercise asks for "
    "method='complete'.",
    "single": "This is single linkage on the Gower distances; the exercise asks for "
    "method='complete'.",
    "weighted": "This is weighted linkage on the Gower distances; the exercise asks for "
    "method='complete'.",
    "numeric_only": "Your segments ignore the categorical columns: compute Gower distances on "
    "all columns of frame.",
    "no_range": "Your distance does not divide each numeric difference by the column's range, "
    "so spend in cents outweighs everything: use gower_distances(frame).",
    "ordinal_as_number": "Your distance treats the ordered difficulty as a number; the course's "
    "Gower distance counts every categorical column, ordered or not, as same (0) or different "
    "(1): use gower_distances(frame).",
    "one_hot_euclidean": "These are Euclidean distances of one-hot columns, not Gower "
    "distances: use gower_distances(frame).",
}


def _q7_judge(student: Plain, expected: Plain) -> Outcome:
    if not (_ok(student) and _ok(expected)) or not isinstance(student.get("labels"), dict):
        return unreadable()
    got, want = student["labels"], expected["labels"]
    if set(got) != set(want):
        return unreadable()
    keys = sorted(want, key=int)
    for key in keys:
        k = int(key)
        if len(set(got[key])) != k:
            return Outcome.incorrect(
                f"mixed_segments(frame, {k}) gave {len(set(got[key]))} clusters instead of {k}: "
                "cut with fcluster(Z, k, criterion='maxclust')."
            )
    wrong = [key for key in keys if not _same_partition(got[key], want[key])]
    if not wrong:
        return Outcome.correct()
    spec = expected["input"]  # the reference's echo: trusted
    frame = pd.DataFrame(spec)[["sessions", "spend_cents", "platform", "difficulty"]]
    frame["difficulty"] = pd.Categorical(
        frame["difficulty"], categories=["easy", "normal", "hard"], ordered=True
    )
    rivals = {key: _q7_rivals(frame, int(key)) for key in keys}
    # the mistakes that explain every k, else those that explain the first wrong k; when the
    # probe data cannot tell two of them apart, the message names both
    for tried in (keys, wrong[:1]):
        texts = [
            message
            for name, message in _Q7_ADVICE.items()
            if all(_same_partition(got[key], rivals[key][name]) for key in tried)
        ]
        if texts:
            return Outcome.incorrect(" Or: ".join(dict.fromkeys(texts)))
    return Outcome.incorrect(
        "Your segments differ from a complete-linkage tree on the Gower distances of all "
        "columns of frame, cut into k clusters with criterion='maxclust'."
    )


Q7 = _exercise(
    "q7_mixed_segments",
    "Segments of mixed numeric and categorical data",
    ("mixed_segments",),
    _q7_probe,
    _q7_judge,
    hints=(
        "Three steps: Gower distances, a tree with a linkage that is valid for them, a cut.",
        "gower_distances(frame) is already condensed; complete linkage works with any distance.",
        "Cut the complete-linkage tree with criterion='maxclust' (any numbering of the "
        "clusters is fine).",
    ),
)

# ----------------------------------------------------------------------------- q8 memory


#: bytes in a gigabyte, the unit of the answer, and in a gibibyte (a near miss)
GB, GIB = 1e9, 2**30


def _q8_judge(student: float, expected: float) -> Outcome:
    # exact up to rounding: n * n / 2 or (n - 2) are off by about 1 / n only
    if math.isclose(student, expected, rel_tol=1e-9):
        return Outcome.correct()
    ratio = student / expected if expected else float("inf")
    if math.isclose(ratio, 1.0, rel_tol=1e-3):
        return Outcome.incorrect(
            "Very close, but not exact: the condensed vector holds exactly n * (n - 1) / 2 "
            "distances (not n * n / 2), 8 bytes each, and 1 GB is 1e9 bytes."
        )
    if math.isclose(ratio, 2.0, rel_tol=0.01):
        return Outcome.incorrect(
            "That is the full n x n matrix; the condensed form stores each pair once: "
            "n * (n - 1) / 2 distances."
        )
    if math.isclose(ratio, 0.5, rel_tol=0.01):
        return Outcome.incorrect("Each distance is a float64: 8 bytes, not 4.")
    if math.isclose(ratio, GB / GIB, rel_tol=0.001):
        return Outcome.incorrect("Use GB = 10**9 bytes here, not GiB (2**30 bytes).")
    if math.isclose(ratio, GB, rel_tol=0.01):
        return Outcome.incorrect("That is in bytes; divide by 1e9 to get GB.")
    return Outcome.incorrect(
        "Not quite: count every player in `players` (not just the sample), then "
        "8 bytes * n * (n - 1) / 2, in GB (1e9 bytes)."
    )


Q8 = _number_exercise(
    "q8_memory",
    "The memory wall for every player",
    "gb_all_players",
    _q8_judge,
    hints=(
        "The condensed distance vector has one float64 per pair of players.",
        "n = len(players); pairs = n * (n - 1) / 2; each pair takes 8 bytes.",
        "Multiply the number of pairs by 8 bytes and divide by 1e9.",
    ),
    notebook=NOTEBOOK,
)

# ----------------------------------------------------------------------------- q9 penguins


#: the other linkages a learner may build instead of Ward
Q9_LINKAGES = ("average", "complete", "single", "centroid", "median", "weighted")


def _q9_rivals(frame: pd.DataFrame, species: pd.Series) -> dict[str, list[float]]:
    """The ARIs of the right recipe's usual mistakes on ``frame`` (the four measurements)."""
    from sklearn.cluster import KMeans

    raw = frame.to_numpy(dtype=float)
    scaled = _standardise(raw)
    span = raw.max(axis=0) - raw.min(axis=0)
    min_max = (raw - raw.min(axis=0)) / np.where(span > 0, span, 1.0)

    def ari(labels: np.ndarray) -> float:
        return float(adjusted_rand_score(species, labels))

    ward = hierarchy.linkage(scaled, method="ward")
    out = {
        "unscaled": [ari(_maxclust(hierarchy.linkage(raw, method="ward"), 3))],
        "min_max": [ari(_maxclust(hierarchy.linkage(min_max, method="ward"), 3))],
        "default_criterion": [ari(hierarchy.fcluster(ward, 3))],
        "other_k": [ari(_maxclust(ward, k)) for k in (2, 4, 5)],
    }
    for method in Q9_LINKAGES:
        out[method] = [ari(_maxclust(hierarchy.linkage(scaled, method=method), 3))]
    out["kmeans"] = [  # k-means depends on its starts: the values of a few usual calls
        ari(KMeans(n_clusters=3, n_init=n_init, random_state=seed).fit_predict(scaled))
        for seed in range(5)
        for n_init in (1, 10)
    ]
    return out


def _q9_probe(ns: Mapping[str, Any], ctx: ProbeContext) -> Plain:
    """``penguin_ari``, and the ARIs of the usual mistakes on the notebook's penguins."""
    value = _number_probe("penguin_ari")(ns, ctx)
    try:
        penguins, columns = ns["penguins"], list(ns["MEASUREMENTS"])
        rivals = _q9_rivals(penguins[columns], penguins["species"])
    except (KeyError, TypeError, ValueError):  # the learner changed the data: no diagnosis
        rivals = {}
    return {"ari": value, "rivals": rivals}


#: what each mistake of :func:`_q9_rivals` means, in the order they are told apart
_Q9_ADVICE = {
    "unscaled": "Standardise the four measurements first: unscaled, body mass in grams "
    "outweighs the measurements in millimetres and the clusters follow weight.",
    "min_max": "Standardise (mean 0, standard deviation 1) rather than rescale each column "
    "to [0, 1]: the lesson's recipe is StandardScaler.",
    "default_criterion": "Your cut has a single cluster (an ARI of 0): fcluster(Z, 3) with its "
    "default criterion reads 3 as an inconsistency threshold, not as a number of clusters.",
    "other_k": "Cut the tree into 3 clusters, one per species (criterion='maxclust').",
    "kmeans": "Your clusters look like k-means; the exercise asks for a Ward tree cut into 3.",
}


def _q9_judge(student: Plain, expected: Plain) -> Outcome:
    if not isinstance(student, dict) or not isinstance(expected, dict):
        return unreadable()
    value, target = student.get("ari"), expected.get("ari")
    if not isinstance(value, int | float) or not isinstance(target, int | float):
        return unreadable()
    if math.isclose(value, target, abs_tol=1e-6):
        return Outcome.correct(
            "Correct: once the measurements are on one scale, Ward's three clusters line up "
            "well with the three species."
        )
    if not -1 <= value <= 1:
        return Outcome.incorrect("An adjusted Rand index lies between -1 and 1.")
    rivals = expected.get("rivals", {})  # the reference's: trusted

    def matches(name: str) -> bool:
        return any(math.isclose(value, r, abs_tol=1e-6) for r in rivals.get(name, ()))

    for name, text in _Q9_ADVICE.items():
        if name == "kmeans":  # linkages first: a tree is closer to the task than k-means
            linkages = [m for m in Q9_LINKAGES if matches(m)]
            if linkages:  # on these penguins single and centroid give the same clusters
                return Outcome.incorrect(
                    f"Build a Ward tree: your ARI is that of {' or '.join(linkages)} linkage "
                    "on the standardised measurements."
                )
        if matches(name):
            return Outcome.incorrect(text)
    return Outcome.incorrect(
        "Not quite. Standardise the four measurements, build a Ward tree, cut it into 3 "
        "clusters with criterion='maxclust' and compare with adjusted_rand_score(species, "
        "labels)."
    )


Q9 = _exercise(
    "q9_penguins",
    "Penguins: do the clusters find the species?",
    ("penguin_ari",),
    _q9_probe,
    _q9_judge,
    hints=(
        "Same recipe as for the players: scale, tree, cut, compare with the known answer.",
        "StandardScaler on the four MEASUREMENTS, linkage with method='ward', then fcluster "
        "with criterion='maxclust'.",
        "adjusted_rand_score(penguins['species'], labels) does not care how clusters are numbered.",
    ),
)

EXERCISES: tuple[Exercise, ...] = (Q6, Q7, Q8, Q9)

check, hint, solution = make_api(NOTEBOOK, EXERCISES)
