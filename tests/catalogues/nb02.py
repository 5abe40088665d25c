"""Catalogue of ``02_hierarchical_clustering``: answers the checkers must reject and accept.

Test data, never shipped. ``code`` replaces the solution region of the exercise's cell in
``solutions/02_hierarchical_clustering.ipynb``; for the function exercises (q1, q3, q4, q6,
q7) the region is the function body.
"""

from __future__ import annotations

from mlcourse.exercises.spec import ValidAnswer, WrongAnswer

_CUT = "fcluster(Z, k, criterion='maxclust')"


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
    "q1_prepare": (
        WrongAnswer("no_log", "return StandardScaler().fit_transform(frame)", "heavy tails"),
        WrongAnswer(
            "no_scaling", "return np.log1p(frame.to_numpy(dtype=float))", "not standardised"
        ),
        WrongAnswer("unchanged", "return frame.to_numpy(dtype=float)", "unchanged"),
        WrongAnswer(
            "wrong_shape", "return np.log1p(frame.to_numpy(dtype=float)).ravel()", "2-D array"
        ),
        WrongAnswer(
            "log_not_log1p",
            "with np.errstate(divide='ignore'):\n"
            "    logged = np.log(frame.to_numpy(dtype=float))\n"
            "return (logged - logged.mean(axis=0)) / logged.std(axis=0)",
            "NaN or infinite",
        ),
        WrongAnswer(
            "min_max",
            "from sklearn.preprocessing import MinMaxScaler\n\n"
            "return MinMaxScaler().fit_transform(np.log1p(frame))",
            "min-max",
        ),
        WrongAnswer(
            "scaled_before_log",
            "return np.log1p(StandardScaler().fit_transform(frame))",
            "NaN or infinite",
        ),
        WrongAnswer(
            "min_max_before_log",
            "from sklearn.preprocessing import MinMaxScaler\n\n"
            "return StandardScaler().fit_transform(np.log1p(MinMaxScaler().fit_transform(frame)))",
            "differs from log1p-then-standardise",
        ),
        WrongAnswer(
            "square_root",
            "return StandardScaler().fit_transform(np.sqrt(frame))",
            "differs from log1p-then-standardise",
        ),
        WrongAnswer(
            "not_centred",
            "return StandardScaler(with_mean=False).fit_transform(np.log1p(frame))",
            "mean 0",
        ),
    ),
    "q2_spend_share": (
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
        WrongAnswer(
            "all_active_players",
            'spend_share = behaviour[FEATURES].var()["spend_cents"] / '
            "behaviour[FEATURES].var().sum()",
            "Not quite",
        ),
    ),
    "q3_average_tree": (
        WrongAnswer(
            "square_matrix",
            "return linkage(squareform(pdist(X)), method='average')",
            "square distance matrix",
        ),
        WrongAnswer("ward", "return linkage(pdist(X), method='ward')", "ward linkage"),
        WrongAnswer("single", "return linkage(pdist(X), method='single')", "single linkage"),
        WrongAnswer("complete", "return linkage(pdist(X), method='complete')", "complete linkage"),
        WrongAnswer("weighted", "return linkage(pdist(X), method='weighted')", "weighted linkage"),
        WrongAnswer(
            "squared_distances",
            "return linkage(pdist(X, 'sqeuclidean'), method='average')",
            "not squared",
        ),
        WrongAnswer(
            "city_block", "return linkage(pdist(X, 'cityblock'), method='average')", "city-block"
        ),
        WrongAnswer(
            "standardised_first",
            "return linkage(pdist(StandardScaler().fit_transform(X)), method='average')",
            "standardised X first",
        ),
        WrongAnswer(
            "labels_not_tree",
            "return fcluster(linkage(pdist(X), method='average'), 3, criterion='maxclust')",
            "linkage matrix",
        ),
    ),
    "q4_cut": (
        WrongAnswer("default_criterion", "return fcluster(Z, k) - 1", "criterion='maxclust'"),
        WrongAnswer(
            "distance_criterion",
            "return fcluster(Z, k, criterion='distance') - 1",
            "criterion='maxclust'",
        ),
        WrongAnswer("one_based", f"return {_CUT}", "subtract 1"),
        WrongAnswer("minus_two", f"return {_CUT} - 2", "labels of cut_into"),
        WrongAnswer("float_labels", f"return {_CUT} - 1.0", "labels must be integers"),
        WrongAnswer(
            "python_floats",
            f"return [float(label) - 1 for label in {_CUT}]",
            "labels must be integers",
        ),
        WrongAnswer(
            "height_off_by_one",
            "return fcluster(Z, Z[-(k - 1), 2], criterion='distance') - 1",
            "criterion='maxclust'",
        ),
    ),
    "q5_cophenetic": (
        WrongAnswer("best_segments", 'answer_q5 = "A"', "usefulness"),
        WrongAnswer("number_of_clusters", 'answer_q5 = "C"', "number of clusters"),
        WrongAnswer("not_a_letter", "answer_q5 = 2", "one letter"),
    ),
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
            "Number of labels is 1",
            status="error",
        ),
        WrongAnswer(
            "biggest_gap",
            "table = k_selection_table(X, Z, ks)\nreturn int(table['height_gap'].idxmax())",
            "biggest gap",
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
            "first k whose silhouette",
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
        WrongAnswer("ward_on_gower", _segments("gower_distances(frame)", "ward"), "Ward"),
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
            "Standardise",
        ),
        WrongAnswer(
            "single_linkage", _PENGUIN_ARI.format(X=_SCALED, method="single", k=3), "Ward tree"
        ),
        WrongAnswer(
            "complete_linkage",
            _PENGUIN_ARI.format(X=_SCALED, method="complete", k=3),
            "Ward tree",
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
            "Standardise",
        ),
    ),
}

VALID: dict[str, tuple[ValidAnswer, ...]] = {
    "q1_prepare": (
        ValidAnswer(
            "pandas_sample_sd",
            "logged = np.log1p(frame)\nreturn ((logged - logged.mean()) / logged.std()).to_numpy()",
        ),
        ValidAnswer(
            "numpy_population_sd",
            "x = np.log(frame.to_numpy(dtype=float) + 1)\n"
            "return (x - x.mean(axis=0)) / x.std(axis=0)",
        ),
        ValidAnswer(
            "log10_then_scale", "return StandardScaler().fit_transform(np.log10(1 + frame))"
        ),
    ),
    "q2_spend_share": (
        ValidAnswer(
            "numpy_population_variance",
            "v = sample[FEATURES].to_numpy(dtype=float).var(axis=0)\n"
            "spend_share = float(v[FEATURES.index('spend_cents')] / v.sum())",
        ),
        ValidAnswer(
            "loop",
            "total = 0.0\n"
            "for column in FEATURES:\n"
            "    total += sample[column].var()\n"
            "spend_share = sample['spend_cents'].var() / total",
        ),
    ),
    "q3_average_tree": (
        ValidAnswer("observations", "return linkage(X, method='average')"),
        ValidAnswer(
            "optimal_leaf_order",
            "return linkage(pdist(X), method='average', optimal_ordering=True)",
        ),
        ValidAnswer(
            "scikit_learn",
            "model = AgglomerativeClustering(\n"
            "    n_clusters=None, distance_threshold=0, linkage='average', compute_distances=True\n"
            ").fit(X)\n"
            "n = len(X)\n"
            "sizes = np.zeros(n - 1)\n"
            "for i, (a, b) in enumerate(model.children_):\n"
            "    sizes[i] = (1 if a < n else sizes[a - n]) + (1 if b < n else sizes[b - n])\n"
            "return np.column_stack([model.children_, model.distances_, sizes]).astype(float)",
        ),
    ),
    "q4_cut": (
        ValidAnswer(
            "cut_tree",
            "from scipy.cluster.hierarchy import cut_tree\n\nreturn cut_tree(Z, n_clusters=k)",
        ),
        ValidAnswer(
            "cut_at_height", "return fcluster(Z, cut_height(Z, k), criterion='distance') - 1"
        ),
        ValidAnswer("renumbered", f"return np.unique({_CUT}, return_inverse=True)[1]"),
    ),
    "q5_cophenetic": (ValidAnswer("lower_case", 'answer_q5 = "b"'),),
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
