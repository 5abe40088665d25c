"""Catalogue of ``04_segments_at_scale``: answers the checkers must reject and accept.

Test data, never shipped. ``code`` replaces the solution region of the exercise's cell in
``solutions/04_segments_at_scale.ipynb``; for the function exercises (q6, q7) the region is
the function body.
"""

from __future__ import annotations

from mlcourse.exercises.spec import ValidAnswer, WrongAnswer

from .nb03 import _CUT


def _best_k(score: str, pick: str = "argmax") -> str:
    """A q6 body that scores every k's maxclust cut with ``score`` and picks with ``pick``."""
    return f"scores = [{score} for k in ks]\nreturn int(ks[int(np.{pick}(scores))])"


def _segments(distances: str, method: str = "complete") -> str:
    """A q7 body: a ``method`` tree on ``distances`` (an expression of ``frame``), cut in k."""
    tree = f"tree = linkage({distances}, method={method!r})\n"
    return tree + "return fcluster(tree, k, criterion='maxclust')"


_PENGUIN_ARI = (
    "penguin_ari = adjusted_rand_score(penguins['species'], "
    "fcluster(linkage({X}, method={method!r}), {k}, criterion='maxclust'))"
)

_SCALED = "StandardScaler().fit_transform(penguins[MEASUREMENTS])"

WRONG: dict[str, tuple[WrongAnswer, ...]] = {
    "q6_best_k": (
        WrongAnswer(
            "position",
            f"scores = [silhouette_score(X, {_CUT}) for k in ks]\nreturn int(np.argmax(scores))",
            "position",
        ),
        WrongAnswer(
            "lowest_score",
            _best_k(f"silhouette_score(X, {_CUT})", "argmin"),
            "the lowest silhouette",
        ),
        WrongAnswer(
            "default_criterion",
            _best_k("silhouette_score(X, fcluster(Z, k))"),
            "reads k as an inconsistency threshold",
        ),
        WrongAnswer(
            "biggest_gap",
            "table = k_selection_table(X, Z, ks)\nreturn int(table['height_gap'].idxmax())",
            "picked by the biggest dendrogram gap",
        ),
        WrongAnswer(
            "calinski_harabasz",
            "from sklearn.metrics import calinski_harabasz_score\n\n"
            + _best_k(f"calinski_harabasz_score(X, {_CUT})"),
            "Calinski-Harabasz",
        ),
        WrongAnswer(
            "davies_bouldin",
            "from sklearn.metrics import davies_bouldin_score\n\n"
            + _best_k(f"davies_bouldin_score(X, {_CUT})", "argmin"),
            "Davies-Bouldin",
        ),
        WrongAnswer(
            "elbow",
            "ks_sorted = sorted(ks)\n"
            "wss = []\n"
            "for k in ks_sorted:\n"
            f"    labels = {_CUT}\n"
            "    wss.append(sum(((X[labels == c] - X[labels == c].mean(axis=0)) ** 2).sum()\n"
            "                   for c in np.unique(labels)))\n"
            "bend = np.diff(wss, 2)\n"
            "return int(ks_sorted[1 + int(np.argmax(bend))])",
            "elbow",
        ),
        WrongAnswer("largest_k", "return int(max(ks))", "read off the list"),
        WrongAnswer("last_k", "return int(ks[-1])", "read off the list"),
        WrongAnswer(
            "first_peak",
            "best = ks[0]\n"
            "best_score = silhouette_score(X, fcluster(Z, best, criterion='maxclust'))\n"
            "for k in ks[1:]:\n"
            f"    score = silhouette_score(X, {_CUT})\n"
            "    if score < best_score:\n"
            "        break\n"
            "    best, best_score = k, score\n"
            "return int(best)",
            "the first local peak of the silhouette",
        ),
        WrongAnswer(
            "ignores_the_tree_kmeans",
            _best_k(
                "silhouette_score(X, KMeans(n_clusters=k, n_init=4, random_state=0).fit_predict(X))"
            ),
            "not cuts of the tree Z",
        ),
        WrongAnswer(
            "ignores_the_tree_ward",
            _best_k("silhouette_score(X, AgglomerativeClustering(n_clusters=k).fit_predict(X))"),
            "not cuts of the tree Z",
        ),
        WrongAnswer(
            "squared_distances",
            "D = squareform(pdist(X, 'sqeuclidean'))\n"
            + _best_k(f"silhouette_score(D, {_CUT}, metric='precomputed')"),
            "squared distances",
        ),
        WrongAnswer(
            "cosine_distances",
            _best_k(f"silhouette_score(X, {_CUT}, metric='cosine')"),
            "cosine distances",
        ),
        WrongAnswer(
            "standardised_first",
            "Xs = StandardScaler().fit_transform(X)\n" + _best_k(f"silhouette_score(Xs, {_CUT})"),
            "rescaled X",
        ),
        WrongAnswer(
            "ignores_the_tree_single",
            "own = linkage(X, method='single')\n"
            + _best_k("silhouette_score(X, fcluster(own, k, criterion='maxclust'))"),
            "not cuts of the tree Z",
        ),
    ),
    "q7_mixed_segments": (
        WrongAnswer(
            "ward_on_gower", _segments("gower_distances(frame)", "ward"), "not sums of squares"
        ),
        WrongAnswer(
            "ward_on_sqrt_gower",
            _segments("np.sqrt(gower_distances(frame))", "ward"),
            "square root of the Gower distances",
        ),
        WrongAnswer(
            "square_gower",
            _segments("squareform(gower_distances(frame))"),
            "square Gower matrix",
        ),
        WrongAnswer(
            "average_linkage",
            _segments("gower_distances(frame)", "average"),
            "average linkage",
        ),
        WrongAnswer(
            "single_linkage", _segments("gower_distances(frame)", "single"), "single linkage"
        ),
        WrongAnswer(
            "default_criterion",
            "return fcluster(linkage(gower_distances(frame), method='complete'), k)",
            "instead of 3",
        ),
        WrongAnswer(
            "numeric_columns_only",
            _segments("gower_distances(frame.select_dtypes('number'))"),
            "ignore the categorical columns",
        ),
        WrongAnswer(
            "ordinal_as_number",
            _segments("gower_distances(frame.assign(difficulty=frame['difficulty'].cat.codes))"),
            "ordered difficulty as a number",
        ),
        WrongAnswer(
            "no_range_division",
            "n = len(frame)\n"
            "total = np.zeros(n * (n - 1) // 2)\n"
            "for column in frame.columns:\n"
            "    if pd.api.types.is_numeric_dtype(frame[column]):\n"
            "        x = frame[[column]].to_numpy(dtype=float)\n"
            "        total += pdist(x, 'cityblock')\n"
            "    else:\n"
            "        codes = pd.Categorical(frame[column]).codes[:, None].astype(float)\n"
            "        total += pdist(codes, 'hamming')\n" + _segments("total / frame.shape[1]"),
            "range",
        ),
        WrongAnswer(
            "one_hot_euclidean",
            _segments("pdist(pd.get_dummies(frame, dtype=float).to_numpy())"),
            "one-hot",
        ),
    ),
    "q8_memory": (
        WrongAnswer("square", "gb_all_players = 8 * len(players) ** 2 / 1e9", "n * (n - 1) / 2"),
        WrongAnswer("half_square", "gb_all_players = 8 * len(players) ** 2 / 2 / 1e9", "not exact"),
        WrongAnswer(
            "gib",
            "gb_all_players = 8 * len(players) * (len(players) - 1) / 2 / 2**30",
            "GiB",
        ),
        WrongAnswer(
            "float32",
            "gb_all_players = 4 * len(players) * (len(players) - 1) / 2 / 1e9",
            "8 bytes",
        ),
        WrongAnswer(
            "sample_only",
            "gb_all_players = 8 * len(sample) * (len(sample) - 1) / 2 / 1e9",
            "every player",
        ),
        WrongAnswer(
            "bytes", "gb_all_players = 8 * len(players) * (len(players) - 1) / 2", "in bytes"
        ),
    ),
    "q9_penguins": (
        WrongAnswer(
            "unscaled",
            _PENGUIN_ARI.format(
                X="penguins[MEASUREMENTS].to_numpy(dtype=float)", method="ward", k=3
            ),
            "outweighs the measurements in millimetres",
        ),
        WrongAnswer(
            "single_linkage",
            _PENGUIN_ARI.format(X=_SCALED, method="single", k=3),
            "that of single",
        ),
        WrongAnswer(
            "complete_linkage",
            _PENGUIN_ARI.format(X=_SCALED, method="complete", k=3),
            "that of complete linkage",
        ),
        WrongAnswer(
            "average_linkage",
            _PENGUIN_ARI.format(X=_SCALED, method="average", k=3),
            "that of average linkage",
        ),
        WrongAnswer(
            "centroid_linkage",
            _PENGUIN_ARI.format(X=_SCALED, method="centroid", k=3),
            "centroid linkage",
        ),
        WrongAnswer(
            "weighted_linkage",
            _PENGUIN_ARI.format(X=_SCALED, method="weighted", k=3),
            "that of weighted linkage",
        ),
        WrongAnswer(
            "default_criterion",
            "penguin_ari = adjusted_rand_score(penguins['species'], "
            f"fcluster(linkage({_SCALED}, method='ward'), 3))",
            "inconsistency threshold",
        ),
        WrongAnswer(
            "kmeans",
            "labels = KMeans(n_clusters=3, n_init=10, random_state=0).fit_predict(\n"
            f"    {_SCALED}\n"
            ")\n"
            "penguin_ari = adjusted_rand_score(penguins['species'], labels)",
            "look like k-means",
        ),
        WrongAnswer(
            "four_clusters", _PENGUIN_ARI.format(X=_SCALED, method="ward", k=4), "3 clusters"
        ),
        WrongAnswer(
            "min_max",
            "from sklearn.preprocessing import MinMaxScaler\n\n"
            + _PENGUIN_ARI.format(
                X="MinMaxScaler().fit_transform(penguins[MEASUREMENTS])", method="ward", k=3
            ),
            "rather than rescale each column",
        ),
    ),
}

VALID: dict[str, tuple[ValidAnswer, ...]] = {
    "q6_best_k": (
        ValidAnswer(
            "selection_table", "return int(k_selection_table(X, Z, ks)['silhouette'].idxmax())"
        ),
        ValidAnswer(
            "loop",
            "best, best_score = None, -2.0\n"
            "for k in ks:\n"
            f"    score = silhouette_score(X, {_CUT})\n"
            "    if score > best_score:\n"
            "        best, best_score = k, score\n"
            "return int(best)",
        ),
        ValidAnswer(
            "cut_tree_zero_based",
            "from scipy.cluster.hierarchy import cut_tree\n\n"
            "return int(max(ks, key=lambda k: silhouette_score(X, cut_tree(Z, n_clusters=k)"
            ".ravel())))",
        ),
        ValidAnswer(
            "precomputed_distances",
            "D = squareform(pdist(X))\n"
            + _best_k(f"silhouette_score(D, {_CUT}, metric='precomputed')"),
        ),
    ),
    "q7_mixed_segments": (
        ValidAnswer(
            "scikit_learn",
            "model = AgglomerativeClustering(n_clusters=k, metric='precomputed', "
            "linkage='complete')\n"
            "return model.fit_predict(squareform(gower_distances(frame)))",
        ),
        ValidAnswer(
            "hand_made_gower",
            "n = len(frame)\n"
            "total = np.zeros(n * (n - 1) // 2)\n"
            "for column in frame.columns:\n"
            "    if pd.api.types.is_numeric_dtype(frame[column]):\n"
            "        x = frame[[column]].to_numpy(dtype=float)\n"
            "        total += pdist(x, 'cityblock') / (x.max() - x.min())\n"
            "    else:\n"
            "        codes = pd.Categorical(frame[column]).codes[:, None].astype(float)\n"
            "        total += pdist(codes, 'hamming')\n" + _segments("total / frame.shape[1]"),
        ),
        ValidAnswer(
            "zero_based",
            "tree = linkage(gower_distances(frame), method='complete')\n"
            "return fcluster(tree, k, criterion='maxclust') - 1",
        ),
    ),
    "q8_memory": (
        ValidAnswer("helper", "gb_all_players = condensed_memory_bytes(len(players)) / 1e9"),
        ValidAnswer(
            "distinct_ids",
            "n = players['player_id'].nunique()\ngb_all_players = n * (n - 1) // 2 * 8 / 10**9",
        ),
    ),
    "q9_penguins": (
        ValidAnswer(
            "pandas_sample_sd",
            "m = penguins[MEASUREMENTS]\n"
            + _PENGUIN_ARI.format(X="((m - m.mean()) / m.std()).to_numpy()", method="ward", k=3),
        ),
        ValidAnswer(
            "scikit_learn",
            "labels = AgglomerativeClustering(n_clusters=3, linkage='ward').fit_predict(\n"
            f"    {_SCALED}\n"
            ")\n"
            "penguin_ari = adjusted_rand_score(labels, penguins['species'])",
        ),
    ),
}

EQUIVALENT: dict[str, dict[str, str]] = {}
