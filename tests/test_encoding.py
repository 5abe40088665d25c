"""Unit tests for mlcourse.encoding (small synthetic frames; no shipped data needed)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from sklearn.compose import make_column_transformer  # noqa: E402
from sklearn.ensemble import HistGradientBoostingClassifier  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.metrics import roc_auc_score  # noqa: E402
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, TargetEncoder  # noqa: E402

from mlcourse import encoding  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture
def players() -> pd.DataFrame:
    """A frame with one column of each kind, and a payer-like target driven by `tier`."""
    rng = np.random.default_rng(0)
    n = 600
    tier = rng.choice(["low", "mid", "high"], size=n)
    return pd.DataFrame(
        {
            "player_id": [f"p{i:04d}" for i in range(n)],
            "platform": rng.choice(["ios", "android", "web"], size=n, p=[0.5, 0.4, 0.1]),
            "push_opt_in": rng.random(n) < 0.3,
            "age_band": pd.Categorical(
                rng.choice(["18-24", "25-34", "35+"], size=n),
                categories=["18-24", "25-34", "35+"],
                ordered=True,
            ),
            "device": [f"dev{int(v)}" for v in rng.zipf(1.6, size=n) % 80],
            "tier": tier,
            "const": "x",
            "empty": pd.Series([np.nan] * n, dtype=object),
            "spend": rng.gamma(1.0, 3.0, size=n),
            "install_date": pd.Timestamp("2026-01-01")
            + pd.to_timedelta(rng.integers(0, 60, size=n), unit="D"),
        }
    )


@pytest.fixture
def xy() -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(1)
    n = 400
    X = pd.DataFrame(
        {
            "signal": rng.choice(list("abcd"), size=n),
            "noise": rng.choice(list("uvwxyz"), size=n),
        }
    )
    p = X["signal"].map({"a": 0.1, "b": 0.3, "c": 0.6, "d": 0.9}).to_numpy()
    y = (rng.random(n) < p).astype(int)
    return X, y


# --------------------------------------------------------------------------- column_report


def test_column_report_suggests_each_kind(players):
    rep = encoding.column_report(players, high_cardinality=10, id_like=3)
    assert list(rep.index) == list(players.columns)
    assert rep["kind"].to_dict() == {
        "player_id": "id_like",
        "platform": "nominal",
        "push_opt_in": "binary",
        "age_band": "ordinal",
        "device": "high_cardinality",
        "tier": "nominal",
        "const": "constant",
        "empty": "all_missing",
        "spend": "numeric",
        "install_date": "datetime",
    }
    assert set(rep["kind"]) <= set(encoding.KINDS)


def test_column_report_statistics_match_pandas(players):
    rep = encoding.column_report(players, rare_count=5)
    counts = players["device"].value_counts()
    assert rep.loc["device", "n_levels"] == players["device"].nunique()
    assert rep.loc["device", "top_share"] == pytest.approx(counts.iloc[0] / len(players))
    assert rep.loc["device", "rare_levels"] == int((counts < 5).sum())
    assert rep.loc["device", "rare_row_share"] == pytest.approx(
        counts[counts < 5].sum() / len(players)
    )
    assert rep.loc["device", "rows_per_level"] == pytest.approx(len(players) / counts.size)
    assert rep.loc["empty", "missing_share"] == 1.0
    assert rep.loc["platform", "missing_share"] == 0.0


def test_column_report_thresholds_change_the_verdict(players):
    low = encoding.column_report(players[["device"]], high_cardinality=10, id_like=1.0)
    high = encoding.column_report(players[["device"]], high_cardinality=1000, id_like=1.0)
    assert low.loc["device", "kind"] == "high_cardinality"
    assert high.loc["device", "kind"] == "nominal"


def test_column_report_integer_ids_are_id_like_and_integer_measures_numeric():
    rng = np.random.default_rng(0)
    n = 2000
    df = pd.DataFrame(
        {"player_id": np.arange(100_000, 100_000 + n), "level": rng.integers(0, 60, n)}
    )
    rep = encoding.column_report(df)
    assert rep["kind"].to_dict() == {"player_id": "id_like", "level": "numeric"}


def test_column_report_ignores_unused_categories_and_missing_values():
    s = pd.Categorical(["a", "b", None, "a"], categories=["a", "b", "c", "d"])
    rep = encoding.column_report(pd.DataFrame({"c": s}))
    assert rep.loc["c", "n_levels"] == 2
    assert rep.loc["c", "missing_share"] == pytest.approx(0.25)
    assert rep.loc["c", "kind"] == "binary"


@pytest.mark.parametrize(
    ("bad", "error", "match"),
    [
        (pd.DataFrame(), ValueError, "no columns"),
        (pd.DataFrame({"a": pd.Series([], dtype=object)}), ValueError, "no rows"),
        (pd.Series(["a", "b"]), TypeError, "to_frame"),
        (np.array([["a"], ["b"]]), TypeError, "DataFrame"),
    ],
)
def test_column_report_rejects_bad_input(bad, error, match):
    with pytest.raises(error, match=match):
        encoding.column_report(bad)


def test_column_report_rejects_bad_parameters_and_duplicate_columns(players):
    with pytest.raises(ValueError, match="id_like"):
        encoding.column_report(players, id_like=0)
    dup = pd.DataFrame([[1, 2]], columns=["a", "a"])
    with pytest.raises(ValueError, match="more than once"):
        encoding.column_report(dup)


# --------------------------------------------------------------------------- split_by_time_column


def test_split_by_time_column_holds_out_latest_rows(players):
    y = np.arange(len(players))
    X_tr, X_te, y_tr, y_te = encoding.split_by_time_column(
        players, y, "install_date", test_share=0.3
    )
    assert len(X_tr) + len(X_te) == len(players)
    assert X_tr["install_date"].max() < X_te["install_date"].min()
    assert 0.2 < len(X_te) / len(players) < 0.4
    # y stays aligned with X by position in the original frame
    assert (y_tr.to_numpy() == players.index.get_indexer(X_tr.index)).all()
    assert (y_te.index == X_te.index).all()


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"time_column": "nope"}, KeyError, "not a column"),
        ({"time_column": "install_date", "test_share": 1.0}, ValueError, "test_share"),
        ({"time_column": "const"}, ValueError, "all rows share"),
    ],
)
def test_split_by_time_column_rejects_bad_arguments(players, kwargs, error, match):
    with pytest.raises(error, match=match):
        encoding.split_by_time_column(players, np.zeros(len(players)), **kwargs)


def test_split_by_time_column_rejects_misaligned_target_and_missing_times(players):
    with pytest.raises(ValueError, match="one value per row"):
        encoding.split_by_time_column(players, np.zeros(3), "install_date")
    broken = players.assign(install_date=players["install_date"].where(players.index > 0))
    with pytest.raises(ValueError, match="missing values"):
        encoding.split_by_time_column(broken, np.zeros(len(players)), "install_date")


# --------------------------------------------------------------------------- unseen_levels


def test_unseen_levels_counts_levels_and_rows():
    train = pd.DataFrame({"d": ["a", "b", "a"], "p": ["x", "y", "x"]})
    test = pd.DataFrame({"d": ["a", "c", "c", "e", None], "p": ["x", "y", "x", "y", "x"]})
    rep = encoding.unseen_levels(train, test)
    assert rep.loc["d", "unseen_levels"] == 2
    assert rep.loc["d", "unseen_row_share"] == pytest.approx(3 / 5)
    assert rep.loc["d", "examples"] == ["c", "e"]
    assert rep.loc["p", "unseen_levels"] == 0


def test_unseen_levels_rejects_bad_input():
    tr = pd.DataFrame({"a": ["x"]})
    with pytest.raises(KeyError, match="both train and test"):
        encoding.unseen_levels(tr, pd.DataFrame({"b": ["x"]}), columns=["a"])
    with pytest.raises(ValueError, match="share no column"):
        encoding.unseen_levels(tr, pd.DataFrame({"b": ["x"]}))
    with pytest.raises(ValueError, match="no rows"):
        encoding.unseen_levels(tr, pd.DataFrame({"a": pd.Series([], dtype=object)}))


# --------------------------------------------------------------------------- compare_encoders


def test_compare_encoders_returns_tidy_paired_table(xy):
    X, y = xy
    encoders = {
        "onehot": make_column_transformer((OneHotEncoder(handle_unknown="ignore"), ["signal"])),
        "noise only": make_column_transformer((OneHotEncoder(handle_unknown="ignore"), ["noise"])),
    }
    models = {"logreg": LogisticRegression()}
    table = encoding.compare_encoders(encoders, models, X, y, cv=3)
    assert list(table.columns) == [
        "encoder",
        "model",
        "fold",
        "train_score",
        "test_score",
        "fit_time",
    ]
    assert len(table) == 2 * 3
    means = table.groupby("encoder")["test_score"].mean()
    assert means["onehot"] > 0.75  # the signal column carries the target
    assert abs(means["noise only"] - 0.5) < 0.1  # noise cannot beat chance by much
    again = encoding.compare_encoders(encoders, models, X, y, cv=3)
    pd.testing.assert_frame_equal(table.drop(columns="fit_time"), again.drop(columns="fit_time"))


def test_compare_encoders_passthrough_and_target_encoder(xy):
    X, y = xy
    Xc = X.astype("category")
    table = encoding.compare_encoders(
        {
            "native": "passthrough",
            "target": make_column_transformer((TargetEncoder(cv=3), ["signal", "noise"])),
        },
        {"hgb": HistGradientBoostingClassifier(max_iter=20, random_state=0)},
        Xc,
        y,
        cv=2,
    )
    assert set(table["encoder"]) == {"native", "target"}
    assert table["test_score"].between(0.6, 1.0).all()


def test_compare_encoders_rejects_bad_input(xy):
    X, y = xy
    enc = {"ord": OrdinalEncoder()}
    with pytest.raises(TypeError, match="parentheses"):
        encoding.compare_encoders({"ord": OrdinalEncoder}, {"lr": LogisticRegression()}, X, y)
    with pytest.raises(ValueError, match="at least one"):
        encoding.compare_encoders({}, {"lr": LogisticRegression()}, X, y)
    with pytest.raises(ValueError, match="one value per row"):
        encoding.compare_encoders(enc, {"lr": LogisticRegression()}, X, y[:5])
    with pytest.raises(ValueError, match="entirely missing"):
        encoding.compare_encoders(enc, {"lr": LogisticRegression()}, X.assign(gone=np.nan), y, cv=2)
    with pytest.raises(ValueError, match="no rows"):
        encoding.compare_encoders(enc, {"lr": LogisticRegression()}, X.iloc[:0], y[:0])


def test_compare_encoders_names_the_failing_pair(xy):
    X, y = xy
    # strings straight into a logistic regression cannot work: the error must say which pair
    with pytest.raises(RuntimeError, match="'raw' with model 'lr'"):
        encoding.compare_encoders({"raw": "passthrough"}, {"lr": LogisticRegression()}, X, y, cv=2)


# --------------------------------------------------------------------------- plots


def test_plot_scores_draws_points_and_bayes_line():
    ax = encoding.plot_scores(
        {"honest": [0.70, 0.72, 0.71], "leaky": 0.95}, bayes_auc=0.8, title="Leak"
    )
    assert ax.get_title() == "Leak"
    assert ax.get_xlabel()
    assert [t.get_text() for t in ax.get_yticklabels()] == ["honest", "leaky"]
    vlines = [line for line in ax.get_lines() if line.get_xdata()[0] == line.get_xdata()[-1]]
    assert any(np.allclose(line.get_xdata(), 0.8) for line in vlines)
    assert "0.800" in ax.get_legend().get_texts()[0].get_text()


def test_plot_scores_shares_one_axis_from_chance_and_shades_the_noise_band():
    ax = encoding.plot_scores({"a": 0.7, "b": 0.75}, bayes_auc=0.78, band=(0.75, 0.80))
    assert ax.get_xlim() == (0.45, 1.0)
    texts = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "chance 0.5" in texts and any(t.startswith("noise band 0.750") for t in texts)
    assert len(ax.patches) == 1  # the shaded band
    # a score outside the axis widens it instead of disappearing
    assert encoding.plot_scores({"a": 0.4}).get_xlim()[0] < 0.4
    # differences: no fixed axis, a zero line
    ax = encoding.plot_scores(
        {"d": [-0.01, 0.02]}, xlim=None, reference=0.0, reference_label="no difference"
    )
    assert "no difference 0" in [t.get_text() for t in ax.get_legend().get_texts()]


def test_auc_redraws_scores_each_redrawn_label_set_like_roc_auc_score():
    rng = np.random.default_rng(1)
    p = rng.random(300) * 0.4
    s = np.round(p + rng.normal(0, 0.05, 300), 2)  # ties count one half
    aucs = encoding.auc_redraws(p, s, n_draws=7, seed=3, chunk=3)
    draws = np.random.default_rng(3)
    labels = np.vstack([draws.random((3, 300)) < p, draws.random((3, 300)) < p])
    labels = np.vstack([labels, draws.random((1, 300)) < p])
    assert np.allclose(aucs, [roc_auc_score(y, s) for y in labels])
    assert np.array_equal(aucs, encoding.auc_redraws(p, s, n_draws=7, seed=3, chunk=3))


def test_auc_redraws_of_the_truth_scatter_around_the_bayes_limit():
    from mlcourse.telemetry import bayes_auc

    p = np.random.default_rng(0).beta(1, 8, 3000)
    aucs = encoding.auc_redraws(p, n_draws=400)
    assert abs(aucs.mean() - bayes_auc(p)) < 3 * aucs.std() / np.sqrt(400)
    assert 0.2 < np.mean(aucs > bayes_auc(p)) < 0.8


def test_auc_redraws_rejects_bad_input():
    with pytest.raises(ValueError, match="probabilities"):
        encoding.auc_redraws(np.array([0.2, 1.5]))
    with pytest.raises(ValueError, match="one per row"):
        encoding.auc_redraws(np.array([0.2, 0.5]), np.array([1.0]))
    with pytest.raises(ValueError, match="at least 1"):
        encoding.auc_redraws(np.array([0.2, 0.5]), n_draws=0)


def test_paired_bootstrap_pairs_the_resamples():
    rng = np.random.default_rng(0)
    y = rng.random(500) < 0.3
    good = y + rng.normal(0, 1.0, 500)
    scores = {"base": rng.random(500), "good": good, "same": good.copy()}
    t = encoding.paired_bootstrap(y, scores, "base", n_boot=300, seed=1, chunk=70)
    assert list(t.index) == ["base", "good", "same"]
    for k, v in scores.items():
        assert t.loc[k, "auc"] == pytest.approx(roc_auc_score(y, v))
    assert t.loc["base", ["diff", "diff_low", "diff_high"]].tolist() == [0.0, 0.0, 0.0]
    assert t.loc["good", "diff_low"] > 0 and t.loc["good", "share_above"] == 1.0
    assert t.loc["good"].equals(t.loc["same"])  # same scores, same resamples
    pd.testing.assert_frame_equal(
        t, encoding.paired_bootstrap(y, scores, "base", n_boot=300, seed=1, chunk=70)
    )


def test_paired_bootstrap_rejects_bad_input():
    y = np.array([0, 1, 0, 1])
    with pytest.raises(ValueError, match="containing 'x'"):
        encoding.paired_bootstrap(y, {"a": np.arange(4.0)}, "x")
    with pytest.raises(ValueError, match="both classes"):
        encoding.paired_bootstrap(np.zeros(4), {"a": np.arange(4.0)}, "a")
    with pytest.raises(ValueError, match="one per label"):
        encoding.paired_bootstrap(y, {"a": np.arange(3.0)}, "a")


def test_plot_scores_rejects_bad_input():
    with pytest.raises(ValueError, match="non-empty"):
        encoding.plot_scores({})
    with pytest.raises(ValueError, match="finite"):
        encoding.plot_scores({"a": [0.5, np.nan]})


def test_plot_comparison_one_series_per_model(xy):
    table = pd.DataFrame(
        {
            "encoder": ["a", "a", "b", "b"] * 2,
            "model": ["m1"] * 4 + ["m2"] * 4,
            "test_score": [0.6, 0.62, 0.7, 0.72, 0.65, 0.66, 0.75, 0.76],
        }
    )
    ax = encoding.plot_comparison(table, bayes_auc=0.8)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert sorted(labels) == ["Bayes limit 0.800", "chance 0.5", "m1", "m2"]
    assert ax.get_xlim() == (0.45, 1.0)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["a", "b"]
    assert ax.get_title() and ax.get_xlabel()


def test_plot_comparison_rejects_wrong_table():
    with pytest.raises(ValueError, match="compare_encoders"):
        encoding.plot_comparison(pd.DataFrame({"x": [1]}))
    with pytest.raises(ValueError, match="empty"):
        encoding.plot_comparison(pd.DataFrame(columns=["encoder", "model", "test_score"]))


def test_compare_encoders_runs_only_the_requested_pairs(xy):
    X, y = xy
    Xc = X.astype("category")
    encoders = {
        "native": "passthrough",
        "onehot": make_column_transformer((OneHotEncoder(handle_unknown="ignore"), ["signal"])),
    }
    models = {
        "logreg": LogisticRegression(),
        "hgb": HistGradientBoostingClassifier(max_iter=10, random_state=0),
    }
    pairs = [("onehot", "logreg"), ("native", "hgb")]
    table = encoding.compare_encoders(encoders, models, Xc, y, cv=2, pairs=pairs)
    assert sorted(set(zip(table["encoder"], table["model"], strict=True))) == sorted(pairs)
    with pytest.raises(ValueError, match="pairs must name"):
        encoding.compare_encoders(encoders, models, Xc, y, cv=2, pairs=[("onehot", "svm")])


# ------------------------------------------------------------------ nb01 and nb02 checkers
# The kernel-level tests (reference passes, wrong answers fail, learner edition runs) live in
# tests/test_exercise_catalogue.py; these run the probes and judges in-process, without data.


def _fit_rows() -> pd.DataFrame:
    from mlcourse.telemetry import AGE_BANDS, DIFFICULTIES

    return pd.DataFrame(
        {
            "age_band": pd.Categorical(
                [*AGE_BANDS, None], categories=list(AGE_BANDS), ordered=True
            ),
            "difficulty": pd.Categorical(
                ["easy", "normal", "hard", "easy", "hard", "normal", "easy"],
                categories=list(DIFFICULTIES),
                ordered=True,
            ),
        }
    )


def _ordinal_verdict(encoder):
    from mlcourse.exercises import nb01
    from mlcourse.exercises.spec import ProbeContext
    from mlcourse.telemetry import AGE_BANDS, DIFFICULTIES

    rows = _fit_rows()
    reference = OrdinalEncoder(
        categories=[[*AGE_BANDS, np.nan], [*DIFFICULTIES, np.nan]], encoded_missing_value=-1
    ).fit(rows)
    ctx = ProbeContext(seed=3)
    expected = nb01._probe_ordinal({"ordinal_encoder": reference}, ctx)
    student = nb01._probe_ordinal({"ordinal_encoder": encoder.fit(rows)}, ctx)
    return nb01._judge_ordinal(student, expected)


def test_nb01_ordinal_judge_explains_each_mistake():
    from mlcourse.telemetry import AGE_BANDS

    ages = [*AGE_BANDS, np.nan]
    ok = OrdinalEncoder(
        categories=[ages, ["easy", "normal", "hard", np.nan]], encoded_missing_value=-1
    )
    assert _ordinal_verdict(ok).status == "correct"
    nine = OrdinalEncoder(
        categories=[ages, ["easy", "normal", "hard", np.nan]], encoded_missing_value=9
    )
    assert "asks for -1" in _ordinal_verdict(nine).message  # the task fixes the missing code
    alpha = _ordinal_verdict(OrdinalEncoder(encoded_missing_value=-1))
    assert alpha.status == "incorrect" and "alphabetical order" in alpha.message
    rev = OrdinalEncoder(
        categories=[ages, ["hard", "normal", "easy", np.nan]], encoded_missing_value=-1
    )
    assert "reverse" in _ordinal_verdict(rev).message
    nan = OrdinalEncoder(categories=[ages, ["easy", "normal", "hard", np.nan]])
    assert "NaN" in _ordinal_verdict(nan).message


def test_nb01_ordinal_probe_rejects_unfitted_and_wrong_width():
    from mlcourse.exercises import nb01
    from mlcourse.exercises.spec import AnswerError, ProbeContext

    with pytest.raises(AnswerError, match="not fitted"):
        nb01._probe_ordinal({"ordinal_encoder": OrdinalEncoder()}, ProbeContext())
    one_column = make_column_transformer((OrdinalEncoder(), ["difficulty"])).fit(_fit_rows())
    with pytest.raises(AnswerError, match="exactly the two columns"):
        nb01._probe_ordinal({"ordinal_encoder": one_column}, ProbeContext())


def _shrunk_verdict(fn):
    from mlcourse.exercises import nb02
    from mlcourse.exercises.spec import ProbeContext

    def reference(levels, y, m):
        g = y.groupby(levels)
        n = g.size()
        return (n * g.mean() + m * y.mean()) / (n + m)

    ctx = ProbeContext(seed=11)
    expected = nb02._probe_shrunk({"shrunk_mean": reference}, ctx)
    return nb02._judge_shrunk(nb02._probe_shrunk({"shrunk_mean": fn}, ctx), expected)


def test_nb02_shrunk_mean_judge_matches_target_encoder_and_spots_mistakes():
    def via_sklearn(levels, y, m):
        te = TargetEncoder(smooth=m, target_type="binary").fit(levels.to_frame(), y)
        return pd.Series(te.encodings_[0], index=te.categories_[0])

    assert _shrunk_verdict(via_sklearn).status == "correct"
    plain = _shrunk_verdict(lambda levels, y, m: y.groupby(levels).mean())
    assert "plain per-level means" in plain.message

    def swapped(levels, y, m):
        g = y.groupby(levels)
        n = g.size()
        return (m * g.mean() + n * y.mean()) / (n + m)

    assert "swapped" in _shrunk_verdict(swapped).message
    as_dict = _shrunk_verdict(lambda levels, y, m: dict(via_sklearn(levels, y, m).items()))
    assert as_dict.status == "correct"


def test_nb02_shrunk_mean_probe_rejects_wrong_return_types():
    from mlcourse.exercises import nb02
    from mlcourse.exercises.spec import AnswerError, ProbeContext

    with pytest.raises(AnswerError, match="pandas Series"):
        nb02._probe_shrunk({"shrunk_mean": lambda lv, y, m: np.zeros(3)}, ProbeContext())
    with pytest.raises(AnswerError, match="should be a function"):
        nb02._probe_shrunk({"shrunk_mean": 3}, ProbeContext())


def test_nb01_kinds_judge_gives_partial_credit_and_names_columns():
    from mlcourse.exercises import nb01
    from mlcourse.exercises.spec import AnswerError, ProbeContext

    expected = {"country": "nominal", "campaign_id": "id_like", "push_opt_in": "binary"}
    wrong = dict(expected, campaign_id="high_cardinality")
    out = nb01._judge_kinds(wrong, expected)
    assert out.status == "partly_correct" and "campaign_id" in out.message
    # the many-level columns carry half the points (the judgement q1 is about), the rest the
    # other half: a wrong campaign_id (the only judged column here) costs 0.5, a wrong
    # country 0.25 (one of two other columns)
    assert out.score == pytest.approx(0.5, abs=1e-3)
    other = nb01._judge_kinds(dict(expected, country="ordinal"), expected)
    assert other.score == pytest.approx(0.75, abs=1e-3)
    assert "missing keys" in nb01._judge_kinds({"country": "nominal"}, expected).message
    with pytest.raises(AnswerError, match="not one of the kinds"):
        nb01._probe_kinds({"column_kinds": {"country": "categorical"}}, ProbeContext())


def _model_facts(**changes):
    good = {
        "structure": None,
        "unseen_error": False,
        "fresh_ok": True,
        "heldout_auc": 0.72,
        "heldout_eauc": 0.755,
        "heldout_sd": 0.033,
        "heldout_bayes": 0.78,
        "test_auc": 0.76,
        "test_sd": 0.013,
        "bayes_test": 0.778,
        "train_auc": 0.81,
        "train_sd": 0.009,
        "test_only_levels": 0,
        "refit_train_auc": 0.81,
        "refit_test_auc": 0.76,
    }
    return {**good, **changes}


def test_nb01_model_judge_verdicts():
    from mlcourse.exercises import nb01

    judge = nb01._judge_model("m", cross_fit=True)
    ref = _model_facts()
    assert judge(ref, ref).status == "correct"
    assert judge({"structure": "`x` is wrong"}, ref).message == "`x` is wrong"
    assert "never saw" in judge({"structure": None, "unseen_error": True}, ref).message
    assert "between 0 and 1" in judge(_model_facts(fresh_ok=False), ref).message
    leak = judge(_model_facts(test_only_levels=12), ref)
    assert "fitted on the test rows" in leak.message and "12" in leak.message
    # above the Bayes limit by more than two noise SDs: a leak, said as such
    above = judge(_model_facts(test_auc=0.81, refit_test_auc=0.81), ref)
    assert "Bayes limit" in above.message and "fitted on the test rows" in above.message
    assert judge(_model_facts(test_auc=0.80, refit_test_auc=0.80), ref).status == "correct"
    refit = judge(_model_facts(test_auc=0.79, refit_test_auc=0.75), ref)
    assert "fitted on the test rows" in refit.message
    crossfit = judge(_model_facts(train_auc=0.84), ref)
    assert "not cross-fitted" in crossfit.message
    # memorisation: the gap between the train AUC and the held-out players' (never the test
    # rows') against the reference's, beyond three noise SDs of it, not a column count
    wide = judge(_model_facts(train_auc=0.99, refit_train_auc=0.99), ref)
    assert "memorises" in wide.message
    assert "0.76" not in wide.message  # no score on the notebook's test rows
    assert judge(_model_facts(train_auc=0.84, refit_train_auc=0.84), ref).status == "correct"
    weak = judge(_model_facts(heldout_eauc=0.70), ref)
    assert weak.status == "partly_correct" and weak.score == 0.5
    assert "0.755" not in weak.message  # never the reference's value
    # more label noise (a small data variant) widens the tolerance
    assert judge(_model_facts(heldout_eauc=0.70, heldout_sd=0.06), ref).status == "correct"


def test_nb01_expected_auc_and_noise():
    from mlcourse.exercises import nb01
    from mlcourse.telemetry import bayes_auc

    rng = np.random.default_rng(0)
    p = rng.beta(1, 20, size=3000)
    assert nb01._expected_auc(p, p) == pytest.approx(bayes_auc(p), abs=1e-12)
    assert nb01._expected_auc(p, -p) == pytest.approx(1 - bayes_auc(p), abs=1e-12)
    assert nb01._expected_auc(p, np.zeros_like(p)) == pytest.approx(0.5)
    sd = nb01._auc_noise_sd(p, p, np.random.default_rng(1))
    # the textbook approximation sqrt(A (1 - A) / n_positives) gives the same scale
    rough = np.sqrt(0.75 * 0.25 / p.sum())
    assert 0.5 * rough < sd < 2 * rough


def _payer_frame(n: int = 600, seed: int = 0) -> tuple[pd.DataFrame, pd.Series]:
    """The ten attributes of the payer task on a small synthetic frame."""
    from mlcourse.exercises import nb01

    rng = np.random.default_rng(seed)
    cols = {}
    for c in nb01.ATTRIBUTES:
        if c == "push_opt_in":
            cols[c] = rng.random(n) < 0.4
        elif c in nb01.ORDINAL:
            cols[c] = pd.Categorical(rng.choice(["a", "b", "c"], n), ["a", "b", "c"], ordered=True)
        else:
            k = 40 if c in nb01.HIGH_CARDINALITY else 4
            cols[c] = pd.Categorical(rng.choice([f"{c}{i}" for i in range(k)], n))
    X = pd.DataFrame(cols)
    y = pd.Series((rng.random(n) < 0.2).astype(int))
    return X, y


def test_nb01_structure_reads_encoders_per_column():
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import Pipeline, make_pipeline

    from mlcourse.exercises import nb01

    X, y = _payer_frame()
    cols = list(nb01.NOMINAL + nb01.ORDINAL + nb01.HIGH_CARDINALITY)
    low, high = list(nb01.NOMINAL + nb01.ORDINAL), list(nb01.HIGH_CARDINALITY)

    def fit(*steps):
        return make_pipeline(*steps).fit(X, y)

    onehot = fit(
        make_column_transformer((OneHotEncoder(handle_unknown="ignore"), cols)),
        LogisticRegression(),
    )
    assert nb01._structure_onehot(onehot, "m") is None
    by_hand = Pipeline(
        [
            ("ct", ColumnTransformer([("a", OneHotEncoder(), low), ("b", OneHotEncoder(), high)])),
            ("lr", LogisticRegression()),
        ]
    ).fit(X, y)
    assert nb01._structure_onehot(by_hand, "m") is None
    codes = fit(make_column_transformer((OrdinalEncoder(), cols)), LogisticRegression())
    assert "through OrdinalEncoder" in nb01._structure_onehot(codes, "m")
    te = fit(
        make_column_transformer((OneHotEncoder(), low), (TargetEncoder(), high)),
        LogisticRegression(),
    )
    assert "through TargetEncoder" in nb01._structure_onehot(te, "m")
    assert nb01._structure_te(te, "m") is None
    dropped = fit(make_column_transformer((OneHotEncoder(), cols[:-1])), LogisticRegression())
    assert "`campaign_id` never reaches the model" in nb01._structure_onehot(dropped, "m")
    assert "TargetEncoder inside the pipeline" in nb01._structure_te(onehot, "m")
    boosted = fit(
        make_column_transformer((OneHotEncoder(sparse_output=False), cols)),
        HistGradientBoostingClassifier(max_iter=5),
    )
    assert "asks for a LogisticRegression" in nb01._structure_onehot(boosted, "m")


def test_nb01_structure_native_categories():
    from sklearn.pipeline import make_pipeline

    from mlcourse.exercises import nb01

    X, y = _payer_frame()
    high = list(nb01.HIGH_CARDINALITY)

    def native(**kw):
        return make_pipeline(
            make_column_transformer(
                (TargetEncoder(), high), remainder="passthrough", verbose_feature_names_out=False
            ).set_output(transform="pandas"),
            HistGradientBoostingClassifier(max_leaf_nodes=8, min_samples_leaf=50, max_iter=5, **kw),
        ).fit(X, y)

    assert nb01._structure_native(native(), "m") is None
    assert (
        nb01._structure_native(
            native(categorical_features=[False, False] + [True] * 7 + [False]), "m"
        )
        is None
    )
    only_push = make_pipeline(
        make_column_transformer(
            (TargetEncoder(), high),
            (OrdinalEncoder(), list(nb01.NOMINAL[:-1] + nb01.ORDINAL)),
            remainder="passthrough",
            verbose_feature_names_out=False,
        ).set_output(transform="pandas"),
        HistGradientBoostingClassifier(
            max_leaf_nodes=8, min_samples_leaf=50, max_iter=5, categorical_features=["push_opt_in"]
        ),
    ).fit(X, y)
    assert "not declared categorical" in nb01._structure_native(only_push, "m")
    none = make_pipeline(
        make_column_transformer(
            (OrdinalEncoder(), list(nb01.ATTRIBUTES)), verbose_feature_names_out=False
        ).set_output(transform="pandas"),
        HistGradientBoostingClassifier(max_leaf_nodes=8, min_samples_leaf=50, max_iter=5),
    ).fit(X, y)
    assert "treats every column as a number" in nb01._structure_native(none, "m")
    other = make_pipeline(
        make_column_transformer((TargetEncoder(), high), remainder="passthrough").set_output(
            transform="pandas"
        ),
        HistGradientBoostingClassifier(max_iter=5),
    )
    assert "fixes the booster's settings" in nb01._structure_native(other.fit(X, y), "m")


def test_nb01_test_only_levels_catch_a_fit_on_all_rows():
    from dataclasses import replace

    from sklearn.pipeline import make_pipeline

    from mlcourse.exercises import nb01

    X, y = _payer_frame()
    X_train, X_test = X.iloc[:400].copy(), X.iloc[400:].copy()
    X_test["campaign_id"] = X_test["campaign_id"].cat.add_categories(["late1", "late2"])
    X_test.iloc[:5, list(X.columns).index("campaign_id")] = "late1"
    X_test.iloc[5:7, list(X.columns).index("campaign_id")] = "late2"
    task = nb01.PayerTask(X_train, X_test, y[:400], y[400:], np.zeros(400), np.zeros(200), {})
    test_only = {
        c: frozenset(X_test[c].dropna().astype(str)) - frozenset(X_train[c].dropna().astype(str))
        for c in X.columns
    }
    task = replace(task, test_only=test_only)
    cols = list(nb01.NOMINAL + nb01.ORDINAL + nb01.HIGH_CARDINALITY)

    def model(X_fit, y_fit):
        m = make_pipeline(
            make_column_transformer((OneHotEncoder(handle_unknown="ignore"), cols)),
            LogisticRegression(),
        )
        return m.fit(X_fit, y_fit)

    honest = nb01._routes(model(X_train, y[:400]), "m")
    assert nb01._test_only_levels(honest, task) == 0
    leaky = nb01._routes(model(pd.concat([X_train, X_test]), y), "m")
    assert nb01._test_only_levels(leaky, task) == 2


# --------------------------------------------------------------------------- the gap, the truth


def test_split_by_time_column_gap_drops_the_training_rows_just_before_the_cut():
    X = pd.DataFrame({"day": np.arange(20) % 10, "c": list("ab") * 10})
    y = np.arange(20) % 2
    X_tr, X_te, y_tr, y_te = encoding.split_by_time_column(X, y, "day", test_share=0.3, gap=3)
    plain = encoding.split_by_time_column(X, y, "day", test_share=0.3)
    assert X_te.equals(plain[1]) and y_te.equals(plain[3])  # the test part is the same
    assert sorted(set(X_tr["day"])) == [0, 1, 2, 3, 4]  # cut at 7: days 5 and 6 left out
    assert y_tr.index.equals(X_tr.index)
    with pytest.raises(ValueError, match="leaves no training row"):
        encoding.split_by_time_column(X, y, "day", test_share=0.3, gap=100)


def test_split_by_time_column_gap_on_timestamps():
    t = pd.date_range("2026-01-01", periods=30, freq="D", tz="UTC")
    X = pd.DataFrame({"t": t})
    X_tr, X_te, *_ = encoding.split_by_time_column(
        X, np.zeros(30), "t", test_share=0.2, gap=pd.Timedelta(days=7)
    )
    assert X_te["t"].min() - X_tr["t"].max() == pd.Timedelta(days=7)  # the last label known


def _expected_auc_bruteforce(p, s):
    """Every ordered pair (i, j), i = j included, as in telemetry.bayes_auc_bruteforce."""
    num = sum(
        p[i] * (1 - p[j]) * ((s[i] > s[j]) + 0.5 * (s[i] == s[j]))
        for i in range(len(p))
        for j in range(len(p))
    )
    return num / (sum(p) * sum(1 - q for q in p))


def _expected_log_loss_by_enumeration(p, q):
    """The log loss averaged over every one of the 2^n label vectors, weighted by its
    probability under p."""
    from itertools import product

    total = 0.0
    for y in product((0, 1), repeat=len(p)):
        weight = np.prod([pi if yi else 1 - pi for pi, yi in zip(p, y, strict=True)])
        loss = np.mean(
            [-np.log(qi) if yi else -np.log(1 - qi) for qi, yi in zip(q, y, strict=True)]
        )
        total += weight * loss
    return total


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_expected_auc_and_log_loss_match_brute_force(seed):
    from mlcourse.telemetry import bayes_auc

    rng = np.random.default_rng(seed)
    p = rng.uniform(0.01, 0.6, 9)
    s = np.round(rng.normal(size=9), 1)  # ties on purpose
    s[3] = s[5]
    q = rng.uniform(0.02, 0.9, 9)
    assert encoding.expected_auc(p, s) == pytest.approx(_expected_auc_bruteforce(p, s), abs=1e-12)
    assert encoding.expected_auc(p, p) == pytest.approx(bayes_auc(p), abs=1e-12)
    assert encoding.expected_log_loss(p, q) == pytest.approx(
        _expected_log_loss_by_enumeration(p, q), abs=1e-12
    )


def test_expected_auc_is_what_redrawn_labels_average_to():
    rng = np.random.default_rng(4)
    p = rng.beta(1, 20, 3000)
    s = p + rng.normal(0, 0.02, 3000)
    draws = encoding.auc_redraws(p, s, n_draws=400, seed=1)
    se = draws.std() / np.sqrt(draws.size)
    assert abs(draws.mean() - encoding.expected_auc(p, s)) < 4 * se + 1e-3


def test_truth_scores_table():
    rng = np.random.default_rng(5)
    p = rng.beta(1, 10, 500)
    y = (rng.random(500) < p).astype(int)
    good, flat = p * 0.9, np.full(500, p.mean())
    t = encoding.truth_scores(p, {"good": good, "flat": flat}, y, n_draws=50)
    assert list(t.index) == ["good", "flat", "truth"]
    assert list(t.columns) == [
        "auc",
        "log_loss",
        "auc_noise_sd",
        "expected_auc",
        "expected_log_loss",
    ]
    assert t.loc["good", "auc"] == pytest.approx(roc_auc_score(y, good))
    assert t.loc["flat", "expected_auc"] == 0.5
    assert t.loc["good", "expected_auc"] == pytest.approx(t.loc["truth", "expected_auc"])
    assert t.loc["truth", "expected_log_loss"] < t.loc["good", "expected_log_loss"]
    assert (t["auc_noise_sd"] > 0).iloc[[0, 2]].all()
    one = encoding.truth_scores(p, good, n_draws=0)
    assert list(one.columns) == ["expected_auc", "expected_log_loss"]
    assert list(one.index) == ["model", "truth"]


@pytest.mark.parametrize(
    "args, match",
    [
        ((np.array([0.2, 1.5]), {"m": np.array([0.1, 0.2])}), "probabilities"),
        ((np.array([0.2, 0.5]), {"m": np.array([0.1])}), "one per row"),
        ((np.array([0.2, 0.5]), {"truth": np.array([0.1, 0.2])}), "last row"),
        ((np.array([0.2, 0.5]), {"m": np.array([0.1, 0.2])}, np.array([0, 2])), "0/1"),
    ],
)
def test_truth_scores_rejects_bad_input(args, match):
    with pytest.raises(ValueError, match=match):
        encoding.truth_scores(*args, n_draws=0)


def test_column_report_looks_from_the_rows_side():
    # 10 levels of 1 row and one level of 90: a mean of 9.1 rows per level, yet 90 % of the
    # rows sit in a level of 90 rows
    s = pd.Series(["big"] * 90 + [f"tiny{i}" for i in range(10)])
    rep = encoding.column_report(pd.DataFrame({"c": s}))
    assert rep.loc["c", "rows_per_level"] == pytest.approx(100 / 11)
    assert rep.loc["c", "median_level_rows"] == 90
    assert rep.loc["c", "small_level_row_share"] == pytest.approx(0.1)
    assert rep.loc["c", "kind"] == "id_like"  # the crude rule reads the mean


def test_auc_redraws_same_seed_same_labels():
    """Two calls with the same seed score on the same labels: the differences are paired."""
    rng = np.random.default_rng(5)
    p = rng.uniform(0.05, 0.5, 300)
    a, b = p + rng.normal(0, 0.01, 300), p + rng.normal(0, 0.01, 300)
    diff = encoding.auc_redraws(p, a, n_draws=50, seed=3) - encoding.auc_redraws(
        p, b, n_draws=50, seed=3
    )
    rng_y = np.random.default_rng(3)
    ys = (rng_y.random((50, 300)) < p).astype(int)
    brute = [roc_auc_score(y, a) - roc_auc_score(y, b) for y in ys]
    np.testing.assert_allclose(diff, brute, atol=1e-12)
