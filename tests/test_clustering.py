"""Unit tests for mlcourse.clustering (small synthetic data made here, no shipped data)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from scipy.cluster import hierarchy
from scipy.spatial.distance import pdist, squareform
from sklearn.datasets import make_blobs
from sklearn.metrics import adjusted_rand_score, silhouette_score
from sklearn.utils.estimator_checks import check_estimator

from mlcourse import clustering as cl


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture
def blobs():
    X, y = make_blobs(n_samples=120, centers=3, cluster_std=0.5, random_state=3)
    return X, y


# ------------------------------------------------------------------ player_behaviour


def _events() -> pd.DataFrame:
    rows = [
        # player 1: two sessions on day 1, one on day 3, a purchase, a level, an ad
        (1, "2024-01-01 08:00", "session_start", 0.0),
        (1, "2024-01-01 20:00", "session_start", 0.0),
        (1, "2024-01-01 20:05", "level_end", 0.0),
        (1, "2024-01-03 09:00", "session_start", 0.0),
        (1, "2024-01-03 09:10", "purchase", 1.99),
        (1, "2024-01-03 09:11", "ad_view", 0.0),
        # player 2: one session, an invite; then events after the snapshot that must be ignored
        (2, "2024-01-02 12:00", "session_start", 0.0),
        (2, "2024-01-02 12:01", "friend_invite", 0.0),
        (2, "2024-01-05 12:00", "session_start", 0.0),
        (2, "2024-01-05 12:01", "purchase", 99.0),
        # player 3: only before the window
        (3, "2023-11-01 12:00", "session_start", 0.0),
    ]
    ev = pd.DataFrame(rows, columns=["player_id", "ts", "event", "value"])
    ev["ts"] = pd.to_datetime(ev["ts"])
    return ev


def test_player_behaviour_counts_only_events_before_snapshot():
    f = cl.player_behaviour(_events(), "2024-01-04", days=28)
    assert list(f.index) == [1, 2]
    assert f.loc[1, "sessions"] == 3
    assert f.loc[1, "active_days"] == 2
    assert f.loc[1, "sessions_per_active_day"] == pytest.approx(1.5)
    assert f.loc[1, "levels_played"] == 1
    assert f.loc[1, "ads_viewed"] == 1
    assert f.loc[1, "purchases"] == 1
    assert f.loc[1, "spend"] == pytest.approx(1.99)
    assert f.loc[1, "recency_days"] == pytest.approx(15 / 24)
    # the purchase of 99.0 on 2024-01-05 is after the snapshot
    assert f.loc[2, "spend"] == 0.0
    assert f.loc[2, "sessions"] == 1
    assert f.loc[2, "invites"] == 1


def test_player_behaviour_given_players_fills_inactive_with_zero():
    f = cl.player_behaviour(_events(), "2024-01-04", days=7, players=[3, 1])
    assert list(f.index) == [3, 1]
    assert f.loc[3, "sessions"] == 0
    assert f.loc[3, "recency_days"] == 7.0
    assert f.loc[3, "sessions_per_active_day"] == 0.0


def test_player_behaviour_bad_input():
    ev = _events()
    with pytest.raises(ValueError, match="missing the column"):
        cl.player_behaviour(ev.drop(columns="value"), "2024-01-04")
    with pytest.raises(TypeError, match="pd.to_datetime"):
        cl.player_behaviour(ev.assign(ts=ev["ts"].astype(str)), "2024-01-04")
    with pytest.raises(ValueError, match="positive"):
        cl.player_behaviour(ev, "2024-01-04", days=0)


# ------------------------------------------------------------------ Gower


def test_gower_matches_hand_computed_example():
    X = pd.DataFrame(
        {
            "spend": [0.0, 10.0, 4.0],  # range 10
            "sessions": [1, 3, 2],  # range 2
            "platform": ["ios", "android", "ios"],
        }
    )
    # pair (0,1): (10/10 + 2/2 + 1) / 3 = 1
    # pair (0,2): (4/10 + 1/2 + 0) / 3 = 0.3
    # pair (1,2): (6/10 + 1/2 + 1) / 3 = 0.7
    d = cl.gower_distances(X)
    np.testing.assert_allclose(d, [1.0, 0.3, 0.7])
    # condensed and usable by linkage: the two closest rows merge first
    Z = hierarchy.linkage(d, method="average")
    assert sorted(Z[0, :2].astype(int).tolist()) == [0, 2]


def test_gower_weights_missing_and_explicit_categorical():
    X = pd.DataFrame({"a": [0.0, 1.0, np.nan], "level": [1, 2, 1]})
    d = cl.gower_distances(X, categorical=["level"], weights={"a": 3.0})
    # (0,1): (3*1 + 1*1)/4; (0,2): a missing -> only level: 0; (1,2): level differs: 1
    np.testing.assert_allclose(d, [1.0, 0.0, 1.0])
    squareform(d)  # valid condensed vector


def test_gower_bad_input():
    with pytest.raises(TypeError, match="DataFrame"):
        cl.gower_distances(np.zeros((3, 2)))
    with pytest.raises(ValueError, match="at least 2 rows"):
        cl.gower_distances(pd.DataFrame({"a": [1.0]}))
    with pytest.raises(ValueError, match="not in X"):
        cl.gower_distances(pd.DataFrame({"a": [1.0, 2.0]}), categorical=["b"])
    with pytest.raises(ValueError, match="share no non-missing"):
        cl.gower_distances(pd.DataFrame({"a": [1.0, np.nan, 2.0], "b": [np.nan, 1.0, 2.0]}))


def test_condensed_memory_bytes():
    assert cl.condensed_memory_bytes(4) == 8 * 6
    assert len(pdist(np.zeros((50, 1)))) * 8 == cl.condensed_memory_bytes(50)
    with pytest.raises(ValueError):
        cl.condensed_memory_bytes(-1)


# ------------------------------------------------------------------ dendrograms


def test_cut_height_gives_requested_number_of_clusters(blobs):
    X, _ = blobs
    Z = hierarchy.linkage(X, "ward")
    for k in [1, 2, 3, 5, 10]:
        h = cl.cut_height(Z, k)
        assert len(np.unique(hierarchy.fcluster(Z, h, criterion="distance"))) == k


def test_cut_height_bad_input(blobs):
    X, _ = blobs
    Z = hierarchy.linkage(X, "ward")
    with pytest.raises(ValueError, match="from 1 to 120"):
        cl.cut_height(Z, 0)
    with pytest.raises(ValueError, match="not a linkage matrix"):
        cl.cut_height(np.ones((3, 3)), 2)


def test_plot_dendrogram_draws_cut_line_and_colours(blobs):
    X, _ = blobs
    Z = hierarchy.linkage(X, "ward")
    ax = cl.plot_dendrogram(Z, n_clusters=3, title="blobs")
    h = cl.cut_height(Z, 3)
    assert any(np.allclose(line.get_ydata(), h) for line in ax.get_lines())
    assert ax.get_title(loc="left") == "blobs" and ax.get_ylabel() == "merge height"
    # the cut is labelled above the axes, where it cannot cover a branch
    (cut_label,) = [t for t in ax.texts if t.get_text().startswith("cut at")]
    assert cut_label.get_text().endswith("3 clusters") and cut_label.get_position()[1] > 1
    colours = {tuple(c.get_edgecolor()[0]) for c in ax.collections}
    assert len(colours) >= 3 + 1  # three cluster colours and the grey above the cut
    with pytest.raises(ValueError, match="not both"):
        cl.plot_dendrogram(Z, n_clusters=3, height=1.0)


def test_plot_dendrogram_small_panels_keep_leaf_sizes(blobs):
    X, _ = blobs
    ax = cl.plot_dendrogram(hierarchy.linkage(X, "single"), n_clusters=3, p=8, leaf_font_size=7)
    sizes = [t.get_text() for t in ax.get_xticklabels()]
    assert len(sizes) == 8 and all(s.startswith("(") or s.isdigit() for s in sizes)


# ------------------------------------------------------------------ Euclidean test


def test_embedding_eigenvalues_tell_euclidean_from_not():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3))
    eig = cl.embedding_eigenvalues(pdist(X))
    assert eig[0] > -1e-9 * eig[-1]  # Euclidean: nothing clearly negative
    assert np.sum(eig > 1e-9 * eig[-1]) == 3  # rank = dimension of the points
    # city-block distances on 3 points of a plane are Euclidean-embeddable; on a 4-cycle not
    square = np.array([[0, 0], [1, 0], [1, 1], [0, 1]], dtype=float)
    assert cl.embedding_eigenvalues(pdist(square, "cityblock"))[0] < -0.1
    frame = pd.DataFrame(
        {"x": rng.uniform(size=60), "c": rng.choice(list("abc"), 60), "o": rng.integers(0, 3, 60)}
    )
    d = cl.gower_distances(frame)
    assert cl.embedding_eigenvalues(d)[0] < -1e-3
    assert cl.embedding_eigenvalues(np.sqrt(d))[0] > -1e-9
    with pytest.raises(ValueError):
        cl.embedding_eigenvalues(np.ones((3, 3)))


# ------------------------------------------------------------------ stability


def test_subsample_stability_high_for_real_clusters_low_for_a_continuum():
    X, _ = make_blobs(n_samples=150, centers=3, cluster_std=0.4, random_state=1)
    table = cl.subsample_stability(X, ks=[2, 3], n_pairs=4, random_state=0)
    assert list(table.columns) == ["pair", "k", "ari", "ami", "shared"]
    assert len(table) == 8 and (table["shared"] < 120).all()
    assert table.loc[table["k"] == 3, "ari"].min() > 0.95
    uniform = np.random.default_rng(0).uniform(size=(150, 2))
    cont = cl.subsample_stability(uniform, ks=[6], n_pairs=4, random_state=0)
    assert cont["ari"].median() < 0.9
    again = cl.subsample_stability(X, ks=[2, 3], n_pairs=4, random_state=0)
    pd.testing.assert_frame_equal(table, again)
    with pytest.raises(ValueError, match="fraction"):
        cl.subsample_stability(X, fraction=1.0)
    with pytest.raises(ValueError, match="k must"):
        cl.subsample_stability(X[:10], ks=[9])


def test_segment_stability_per_segment_jaccard_and_hennig_verdicts():
    X, _ = make_blobs(n_samples=150, centers=3, cluster_std=0.4, random_state=1)
    table = cl.segment_stability(X, 3, n_subsamples=5, random_state=0)
    assert list(table.columns) == ["size", "jaccard", "dissolved", "verdict"]
    assert table.index.name == "segment" and list(table.index) == [1, 2, 3]
    ward = hierarchy.fcluster(hierarchy.linkage(X, "ward"), 3, criterion="maxclust")
    assert table["size"].tolist() == np.bincount(ward)[1:].tolist()  # the full-data cut
    assert (table["jaccard"] > 0.99).all() and (table["verdict"] == "highly stable").all()
    assert (table["dissolved"] == 0).all()
    # precomputed distances give the same table as the rows
    same = cl.segment_stability(pdist(X), 3, metric="precomputed", n_subsamples=5, random_state=0)
    pd.testing.assert_frame_equal(table, same)
    # one real group cut into six: most pieces dissolve on other subsamples
    uniform = np.random.default_rng(0).uniform(size=(150, 2))
    cont = cl.segment_stability(uniform, 6, method="average", n_subsamples=8, random_state=0)
    assert cont["jaccard"].min() < 0.75 and cont["dissolved"].max() > 0
    again = cl.segment_stability(uniform, 6, method="average", n_subsamples=8, random_state=0)
    pd.testing.assert_frame_equal(cont, again)


@pytest.mark.parametrize(
    ("jaccard", "verdict"),
    [
        (0.9, "highly stable"),
        (0.8, "stable"),
        (0.7, "pattern"),
        (0.55, "not trusted"),
        (0.5, "not trusted"),
    ],
)
def test_hennig_verdict_cutoffs(jaccard, verdict):
    assert cl._hennig_verdict(jaccard) == verdict


def test_segment_stability_rejects_bad_arguments():
    X = np.random.default_rng(0).normal(size=(20, 2))
    with pytest.raises(ValueError, match="metric"):
        cl.segment_stability(X, 2, metric="cosine")
    with pytest.raises(ValueError, match="fraction"):
        cl.segment_stability(X, 2, fraction=1.0)
    with pytest.raises(ValueError, match="n_subsamples"):
        cl.segment_stability(X, 2, n_subsamples=0)
    with pytest.raises(ValueError, match="n_clusters"):
        cl.segment_stability(X, 16)
    with pytest.raises(ValueError, match="2-D"):
        cl.segment_stability(X[:, 0], 2)


# ------------------------------------------------------------------ tables


def test_linkage_table_shows_single_linkage_chaining():
    rng = np.random.default_rng(0)
    X, _ = make_blobs(n_samples=200, centers=4, cluster_std=1.2, random_state=0)
    X = np.vstack([X, rng.uniform(X.min(), X.max(), size=(6, 2))])  # a few stray points
    t = cl.linkage_table(X, n_clusters=4)
    assert list(t.index) == ["single", "complete", "average", "ward"]
    assert all(sum(s) == len(X) for s in t["sizes"])
    assert t.loc["single", "sizes"][0] > t.loc["ward", "sizes"][0]  # one giant cluster
    ward = hierarchy.fcluster(hierarchy.linkage(X, "ward"), 4, criterion="maxclust")
    assert t.loc["ward", "silhouette"] == pytest.approx(silhouette_score(X, ward))
    assert t["cophenetic_corr"].between(-1, 1).all()


def test_linkage_table_with_distances_refuses_ward():
    X = pd.DataFrame({"a": [0.0, 1.0, 5.0, 6.0, 9.0], "b": list("xxyyy")})
    d = cl.gower_distances(X)
    t = cl.linkage_table(distances=d, n_clusters=2)
    assert list(t.index) == ["single", "complete", "average"]
    with pytest.raises(ValueError, match="Euclidean"):
        cl.linkage_table(distances=d, n_clusters=2, methods=["ward"])
    with pytest.raises(ValueError, match="squareform"):
        cl.linkage_table(distances=squareform(d), n_clusters=2)
    with pytest.raises(ValueError, match="exactly one"):
        cl.linkage_table()


def test_k_selection_table(blobs):
    X, _ = blobs
    Z = hierarchy.linkage(X, "ward")
    t = cl.k_selection_table(X, Z, ks=[2, 3, 4])
    assert list(t.index) == [2, 3, 4]
    assert t["silhouette"].idxmax() == 3
    assert t["height_gap"].idxmax() in (2, 3)
    assert (t["height_gap"] >= 0).all()
    with pytest.raises(ValueError, match="one row per leaf"):
        cl.k_selection_table(X[:10], Z)


def test_segment_profiles_and_plot():
    X = pd.DataFrame({"sessions": [1.0, 2.0, 10.0, 12.0, 11.0], "spend": [0, 0, 5, 7, 6]})
    p = cl.segment_profiles(X, [1, 1, 2, 2, 2])
    assert list(p.index) == [1, 2, "all"]
    assert p.loc[2, "size"] == 3 and p.loc[2, "share"] == pytest.approx(0.6)
    assert p.loc[2, "sessions"] == 11.0 and p.loc["all", "sessions"] == 10.0
    assert cl.segment_profiles(X, [1, 1, 2, 2, 2], stat="mean").loc[1, "sessions"] == 1.5
    ax = cl.plot_segment_profiles(X, [1, 1, 2, 2, 2], names={1: "casual", 2: "core"})
    assert [t.get_text() for t in ax.get_yticklabels()][0].startswith("casual")
    assert ax.figure.axes[-1].get_ylabel().endswith("/ IQR")  # no zero-IQR column here
    zero_iqr = X.assign(invites=[0, 0, 0, 0, 3])
    ax = cl.plot_segment_profiles(zero_iqr, [1, 1, 2, 2, 2])
    assert "SD where the IQR is 0: invites" in ax.figure.axes[-1].get_ylabel()
    with pytest.raises(ValueError, match="one entry per row"):
        cl.segment_profiles(X, [1, 2])
    with pytest.raises(ValueError, match="stat"):
        cl.segment_profiles(X, [1, 1, 2, 2, 2], stat="mode")


# ------------------------------------------------------------------ MicroClusterSegmenter


def test_segmenter_passes_sklearn_estimator_checks():
    results = check_estimator(cl.MicroClusterSegmenter(n_clusters=2, n_micro=20), on_fail=None)
    failed = [(r["check_name"], str(r["exception"])) for r in results if r["status"] == "failed"]
    assert not failed


def test_segmenter_recovers_blobs_and_agrees_with_full_ward():
    X, y = make_blobs(n_samples=4000, centers=4, cluster_std=0.8, random_state=1)
    seg = cl.MicroClusterSegmenter(n_clusters=4, n_micro=60, random_state=0).fit(X)
    assert adjusted_rand_score(y, seg.labels_) > 0.95
    full = hierarchy.fcluster(hierarchy.linkage(X[:1500], "ward"), 4, criterion="maxclust")
    assert adjusted_rand_score(full, seg.labels_[:1500]) > 0.9
    # predict on the training data reproduces labels_; new points get a segment in range
    np.testing.assert_array_equal(seg.predict(X), seg.labels_)
    assert set(np.unique(seg.predict(X[:50] + 0.01))) <= set(range(4))
    assert seg.linkage_matrix_.shape == (59, 4)
    assert seg.micro_sizes_.sum() == len(X)
    assert seg.transform(X[:5]).shape == (5, 4)


def test_weighted_ward_with_unit_weights_is_scipy_ward():
    P = np.random.default_rng(0).normal(size=(40, 3))
    Z = cl._weighted_ward(P, np.ones(40))
    ref = hierarchy.linkage(P, "ward")
    np.testing.assert_allclose(Z[:, 2], ref[:, 2])
    np.testing.assert_array_equal(
        hierarchy.fcluster(Z, 4, criterion="maxclust"),
        hierarchy.fcluster(ref, 4, criterion="maxclust"),
    )


def test_weighted_ward_counts_weights():
    # a heavy centre at 0, light centres at 1 and 2.2: plain Ward merges 0 and 1 first
    # (closest), but the weight of 0 makes that merge costlier, so 1 and 2 merge first.
    P = np.array([[0.0], [1.0], [2.2]])
    Z = cl._weighted_ward(P, np.array([100.0, 1.0, 1.0]))
    assert Z[0, :2].tolist() == [1.0, 2.0]
    assert hierarchy.linkage(P, "ward")[0, :2].tolist() == [0.0, 1.0]


def test_segmenter_is_reproducible():
    X, _ = make_blobs(n_samples=800, centers=3, random_state=2)
    a = cl.MicroClusterSegmenter(3, n_micro=30, random_state=7).fit(X).labels_
    b = cl.MicroClusterSegmenter(3, n_micro=30, random_state=7).fit(X).labels_
    np.testing.assert_array_equal(a, b)


def test_segmenter_bad_input():
    X = np.zeros((10, 2))
    with pytest.raises(ValueError, match="less than n_clusters"):
        cl.MicroClusterSegmenter(n_clusters=20).fit(X)
    with pytest.raises(ValueError, match="n_micro"):
        cl.MicroClusterSegmenter(n_clusters=5, n_micro=3).fit(X)
    with pytest.raises(ValueError, match="linkage"):
        cl.MicroClusterSegmenter(linkage="wards").fit(X)
    with pytest.raises(ValueError, match="positive whole number"):
        cl.MicroClusterSegmenter(n_clusters=2.5).fit(X)


# --------------------------------------------------------------------------------------------
# Probe data of the nb03 and nb04 checkers: it must tell the asked rule from its rivals
# --------------------------------------------------------------------------------------------

CHECKER_SEEDS = range(10)


def test_nb04_cluster_scores_match_scikit_learn(blobs):
    from sklearn.metrics import calinski_harabasz_score, davies_bouldin_score

    from mlcourse.exercises import nb04

    X, _ = blobs
    D = squareform(pdist(X))
    for k in (2, 3, 5):
        labels = hierarchy.fcluster(hierarchy.linkage(X, "ward"), k, criterion="maxclust")
        assert nb04._silhouette(D, labels) == pytest.approx(silhouette_score(X, labels))
        assert nb04._calinski_harabasz(X, labels) == pytest.approx(
            calinski_harabasz_score(X, labels)
        )
        assert nb04._davies_bouldin(X, labels) == pytest.approx(davies_bouldin_score(X, labels))


@pytest.mark.parametrize("seed", CHECKER_SEEDS)
def test_nb04_q6_cases_separate_every_rival_rule(seed):
    from mlcourse.exercises import nb04
    from mlcourse.exercises.spec import ProbeContext

    cases = nb04._q6_cases(ProbeContext(seed=seed))
    told: set[str] = set()
    for case, (_, _, method, ks, rivals) in zip(cases, nb04._Q6_DESIGNS, strict=True):
        X = case["X"]
        Z = hierarchy.linkage(X, method=method)
        assert nb04._q6_margin(X, Z, ks) >= 0.005
        rules = nb04._q6_rules(X, Z, ks)
        scores = [silhouette_score(X, hierarchy.fcluster(Z, k, criterion="maxclust")) for k in ks]
        assert rules["silhouette"] == ks[int(np.argmax(scores))]  # as scikit-learn says
        told |= {r for r in rules if rules[r] != rules["silhouette"]}
        assert all(rules[r] != rules["silhouette"] for r in rivals), (case["name"], rules)
    assert told == set(rules) - {"silhouette"}


@pytest.mark.parametrize("seed", CHECKER_SEEDS)
def test_nb04_q7_input_separates_every_mistake(seed):
    from mlcourse.exercises import nb04
    from mlcourse.exercises.spec import ProbeContext

    frame = nb04._q7_input(ProbeContext(seed=seed))
    for k in nb04.Q7_KS:
        rivals = nb04._q7_rivals(frame, k)
        right = rivals.pop("complete")
        same = [
            name for name, labels in rivals.items() if adjusted_rand_score(labels, right) > 1 - 1e-9
        ]
        assert not same, (k, same)


@pytest.mark.parametrize("seed", CHECKER_SEEDS)
def test_nb03_q3_input_separates_other_linkages(seed):
    from mlcourse.exercises import nb03
    from mlcourse.exercises.spec import ProbeContext

    X = nb03._q3_input(ProbeContext(seed=seed))
    want = hierarchy.cophenet(hierarchy.linkage(pdist(X), "average"))
    for method in ("single", "complete", "ward", "weighted", "centroid", "median"):
        other = hierarchy.cophenet(hierarchy.linkage(pdist(X), method))
        assert np.abs(other - want).max() > 1e-3, method


@pytest.mark.parametrize("seed", CHECKER_SEEDS)
def test_nb03_q4_trees_defeat_the_wrong_criteria(seed):
    from mlcourse.exercises import nb03
    from mlcourse.exercises.spec import ProbeContext

    for Z, ks in nb03._q4_cases(ProbeContext(seed=seed)):
        for k in ks:
            by_count = hierarchy.fcluster(Z, k, criterion="maxclust")
            assert len(np.unique(by_count)) == k
            tree_cut = hierarchy.cut_tree(Z, n_clusters=k).ravel()
            assert adjusted_rand_score(by_count, tree_cut) == pytest.approx(1.0)
    # across the trees, t = k read as a height or an inconsistency never gives k clusters
    for Z, ks in nb03._q4_cases(ProbeContext(seed=seed)):
        wrong = [
            k
            for k in ks
            if len(np.unique(hierarchy.fcluster(Z, k, criterion="distance"))) == k
            and len(np.unique(hierarchy.fcluster(Z, k))) == k
        ]
        assert len(wrong) < len(ks)


@pytest.mark.parametrize("seed", CHECKER_SEEDS)
def test_nb03_q1_input_separates_the_wrong_preparations(seed):
    from sklearn.preprocessing import MinMaxScaler, StandardScaler

    from mlcourse.exercises import nb03
    from mlcourse.exercises.spec import ProbeContext

    frame = nb03._q1_input(ProbeContext(seed=seed))
    right = StandardScaler().fit_transform(np.log1p(frame))
    assert (frame == 0).any().sum() >= 3  # np.log gives -inf
    rivals = {
        "no_log": StandardScaler().fit_transform(frame),
        "min_max": MinMaxScaler().fit_transform(np.log1p(frame)),
        "sqrt": StandardScaler().fit_transform(np.sqrt(frame)),
        "log_x_plus_2": StandardScaler().fit_transform(np.log(frame + 2)),
        "min_max_first": StandardScaler().fit_transform(
            np.log1p(MinMaxScaler().fit_transform(frame))
        ),
    }
    for name, other in rivals.items():
        assert np.abs(other - right).max() > 0.05, name
