"""Catalogue of ``03_hierarchical_clustering``: answers the checkers must reject and accept.

Test data, never shipped. ``code`` replaces the solution region of the exercise's cell in
``solutions/03_hierarchical_clustering.ipynb``; for the function exercises (q1, q3, q4) the
region is the function body.
"""

from __future__ import annotations

from mlcourse.exercises.spec import ValidAnswer, WrongAnswer

_CUT = "fcluster(Z, k, criterion='maxclust')"

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
}

EQUIVALENT: dict[str, dict[str, str]] = {}
