"""Structure is read from genuine objects only (issue 21, item 6).

skops restores every attribute a file declares, also on a genuine scikit-learn object, so a
submission can send a ``LinearDiscriminantAnalysis`` carrying a ``steps`` list, a
``DummyClassifier`` carrying ``transformers_``, or a genuine ``ColumnTransformer`` or
booster whose fitted state names other columns than it really uses. Each attack is sent
through the real path (``estimator_probe`` -> skops bytes -> ``load_estimator``) beside its
honest twin, and must not be judged as the structure it claims.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import make_column_transformer
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
from sklearn.dummy import DummyClassifier
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler, TargetEncoder

from mlcourse.datasets import data_dir
from mlcourse.exercises import nb01, nb02
from mlcourse.exercises._helpers import estimator_probe, load_estimator
from mlcourse.exercises.ready import Assignment
from mlcourse.exercises.spec import AnswerError, AssessContext, ProbeContext


def _observe(model) -> dict:
    """What the untrusted probe sends for ``model``: its skops bytes."""
    return estimator_probe("model")({"model": model}, ProbeContext())


def _loaded(model):
    """``model`` as the trusted side sees it: serialised by skops and loaded back."""
    return load_estimator(_observe(model))


# ------------------------------------------------------------------------ own assignment


def _own_model_exercise(tmp_path: Path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 4))
    y = (X @ [1.5, -1.0, 0.5, 0.0] + rng.normal(scale=0.8, size=400) > 0).astype(int)
    folder = tmp_path / "data"
    folder.mkdir()
    pd.DataFrame(X, columns=list("abcd")).assign(y=y).to_csv(folder / "rows.csv", index=False)

    def test(where: Path):
        rows = pd.read_csv(where / "rows.csv")
        return rows[list("abcd")].to_numpy(), rows["y"].to_numpy()

    hw = Assignment("t", tmp_path / "t_checks.py", data="data")
    ex = hw.model("q_model", "A logistic regression", "model", test, metric="accuracy")
    actx = AssessContext(seed=0, data_dir=folder, heldout_dir=folder)

    def verdict(model):
        return ex.judge(ex.assess(_observe(model), actx), expected)

    expected = ex.assess(_observe(LogisticRegression().fit(X, y)), actx)
    return verdict, X, y


def test_own_assignment_reads_the_final_step_of_genuine_pipelines_only(tmp_path):
    verdict, X, y = _own_model_exercise(tmp_path)
    lda = LinearDiscriminantAnalysis().fit(X, y)
    lda.steps = [("m", LogisticRegression().fit(X, y))]  # restored by skops on the real LDA
    lying = verdict(lda)
    assert lying.status == "incorrect"
    assert "LinearDiscriminantAnalysis" in lying.message
    # the honest twins: a Pipeline, nested or not, ending in the asked-for class
    assert verdict(make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)).status == (
        "correct"
    )
    nested = make_pipeline(make_pipeline(StandardScaler(), make_pipeline(LogisticRegression())))
    assert verdict(nested.fit(X, y)).status == "correct"
    # and a genuine Pipeline ending in another class is judged by that class
    other = make_pipeline(StandardScaler(), LinearDiscriminantAnalysis()).fit(X, y)
    assert verdict(other).status == "incorrect"


# ------------------------------------------------------------------------ notebook 01


@pytest.fixture(scope="module")
def task() -> nb01.PayerTask:
    return nb01.payer_task()


@pytest.fixture(scope="module")
def onehot_model(task):
    """q3's reference pipeline, fitted."""
    model = make_pipeline(
        make_column_transformer(
            (
                OneHotEncoder(handle_unknown="infrequent_if_exist", min_frequency=20),
                nb01.NOMINAL + nb01.ORDINAL + nb01.HIGH_CARDINALITY,
            ),
        ),
        LogisticRegression(max_iter=1000),
    )
    return model.fit(task.X_train, task.y_train)


def _native(task, categorical: tuple[str, ...] | None = None, min_samples_leaf: int = 50):
    """q7's reference pipeline (native categories from the dtype), or with ``categorical``
    ordinal-encoded to plain numbers and the booster told nothing about categories; the
    booster grown with ``min_samples_leaf``."""
    if categorical is None:
        ct = make_column_transformer(
            (TargetEncoder(), nb01.HIGH_CARDINALITY),
            remainder="passthrough",
            verbose_feature_names_out=False,
        )
    else:
        ct = make_column_transformer(
            (TargetEncoder(), nb01.HIGH_CARDINALITY),
            (OrdinalEncoder(), categorical),
            verbose_feature_names_out=False,
        )
    booster = HistGradientBoostingClassifier(
        max_leaf_nodes=8,
        min_samples_leaf=min_samples_leaf,
        random_state=0,
        categorical_features="from_dtype" if categorical is None else None,
    )
    return make_pipeline(ct.set_output(transform="pandas"), booster).fit(task.X_train, task.y_train)


def _q3_assess(model) -> dict:
    (ex,) = [e for e in nb01.EXERCISES if e.id == "q3_onehot_model"]
    heldout = data_dir() / "heldout"
    return ex.assess(_observe(model), AssessContext(seed=0, data_dir=None, heldout_dir=heldout))


def test_the_honest_reference_pipelines_pass_the_structure_checks(task, onehot_model):
    assert nb01._structure_onehot(_loaded(onehot_model), "m") is None
    assert nb01._structure_native(_loaded(_native(task)), "m") is None


def test_a_fake_steps_attribute_on_a_genuine_classifier_is_not_a_pipeline(task, onehot_model):
    X = pd.get_dummies(task.X_train[["platform", "difficulty"]]).astype(float)
    lr = LogisticRegression().fit(X, task.y_train)
    lr.steps = onehot_model.steps  # the honest pipeline's parts, never used by lr
    lr.feature_names_in_ = np.asarray(task.X_train.columns, dtype=object)
    facts = _q3_assess(lr)
    assert isinstance(facts["structure"], str) and "no encoder" in facts["structure"]
    assert nb01._judge_model("model")(facts, {}).status == "incorrect"


def test_column_transformer_state_on_a_classifier_is_not_a_column_transformer(task, onehot_model):
    dummy = DummyClassifier(strategy="prior").fit(task.X_train, task.y_train)
    ct = onehot_model.steps[0][1]
    dummy.steps = onehot_model.steps
    dummy.transformers_ = ct.transformers_
    dummy._transformer_to_input_indices = ct._transformer_to_input_indices
    facts = _q3_assess(dummy)
    assert isinstance(facts["structure"], str) and "DummyClassifier" in facts["structure"]
    assert nb01._judge_model("model")(facts, {}).status == "incorrect"


def test_a_column_transformer_must_route_the_columns_it_lists(task):
    """A genuine ColumnTransformer skips an entry whose stored column list is empty, whatever
    ``_transformer_to_input_indices`` says: a forged entry claiming one-hot for columns that
    are really dropped must not pass (the pipeline still predicts)."""
    kept = nb01.NOMINAL + nb01.ORDINAL
    model = make_pipeline(
        make_column_transformer((OneHotEncoder(handle_unknown="ignore"), kept)),
        LogisticRegression(max_iter=1000),
    ).fit(task.X_train, task.y_train)
    ct = model.steps[0][1]
    fake = OneHotEncoder(handle_unknown="ignore").fit(task.X_train[list(nb01.HIGH_CARDINALITY)])
    columns = list(task.X_train.columns)
    ct.transformers_.append(("fake", fake, []))
    ct._transformer_to_input_indices["fake"] = [columns.index(c) for c in nb01.HIGH_CARDINALITY]
    assert model.predict_proba(task.X_test.iloc[:5]).shape == (5, 2)
    with pytest.raises(AnswerError, match="not in a state that fitting it leaves"):
        nb01._structure_onehot(_loaded(model), "m")


def test_a_booster_claiming_categories_it_treats_as_numbers_does_not_pass(task):
    plain = nb01.NOMINAL + nb01.ORDINAL
    model = _native(task, categorical=plain)
    assert "every column as a number" in nb01._structure_native(_loaded(model), "m")
    booster = model.steps[-1][1]
    booster.is_categorical_ = np.asarray(
        [c in plain and c not in nb01.BINARY for c in booster.feature_names_in_]
    )
    assert model.predict_proba(task.X_test.iloc[:5]).shape == (5, 2)
    with pytest.raises(AnswerError, match="not in a state that fitting it leaves"):
        nb01._structure_native(_loaded(model), "m")


def test_a_booster_column_split_by_a_threshold_is_not_categorical(task):
    """The trees decide: a column with a numeric split is not native categorical, whatever
    ``is_categorical_`` and the preprocessor say."""
    model = _loaded(_native(task))
    booster = model.steps[-1][1]
    inputs = list(booster.feature_names_in_)
    assert {"country", "platform"} <= nb01._native_categorical(booster, inputs, "m")
    position = int(np.flatnonzero(booster.is_categorical_).tolist().index(inputs.index("country")))
    for trees in booster._predictors:
        for tree in trees:
            on_country = (tree.nodes["feature_idx"] == position) & ~tree.nodes["is_leaf"].astype(
                bool
            )
            tree.nodes["is_categorical"][on_country] = 0
    declared = nb01._native_categorical(booster, inputs, "m")
    assert "country" not in declared and "platform" in declared
    assert "country" in nb01._structure_native(model, "m")


def test_a_booster_input_name_list_must_match_the_step_before_it(task):
    model = _native(task)
    booster = model.steps[-1][1]
    booster.feature_names_in_ = booster.feature_names_in_[::-1].copy()
    with pytest.raises(AnswerError, match="not in a state that fitting it leaves"):
        nb01._structure_native(_loaded(model), "m")


def _q7_verdict(model, expected: dict | None = None):
    """q7's real assess (skops bytes -> load -> structure -> predictions) and its judge
    against ``expected`` (the honest reference's facts; its own facts when None). q7 lives in
    notebook 02 since the split; its structure checks are nb01's, which nb02 imports."""
    (ex,) = [e for e in nb02.EXERCISES if e.id == "q7_native_model"]
    actx = AssessContext(seed=0, data_dir=None, heldout_dir=data_dir() / "heldout")
    facts = ex.assess(_observe(model), actx)
    return facts, ex.judge(facts, facts if expected is None else expected)


def test_booster_settings_are_judged_from_its_trees_not_its_attributes():
    """Attack D1: fit with ``min_samples_leaf=40``, then set the attribute to 50.
    ``get_params`` believes the attribute; the grown trees do not. (q7 is judged on the
    training rows that end a label window before the cut, as notebook 02 fits it.)"""
    task = nb01.payer_task(gap_days=nb02.LABEL_DAYS)
    reference, honest = _q7_verdict(_native(task))
    assert honest.status == "correct"
    forged = _native(task, min_samples_leaf=40)
    forged.steps[-1][1].min_samples_leaf = 50  # only the attribute: the trees had 40
    assert forged.steps[-1][1].get_params()["min_samples_leaf"] == 50
    facts, lying = _q7_verdict(forged, reference)
    assert lying.status == "incorrect"
    assert "fitted with other settings than it states" in lying.message
    assert "min_samples_leaf=50" in facts["structure"]
    # the honest twin, stating its real 40, is told about the parameter as before
    twin = _q7_verdict(_native(task, min_samples_leaf=40), reference)[1]
    assert twin.status == "incorrect" and "yours has min_samples_leaf=40" in twin.message


def test_booster_leaf_counts_must_add_up_through_each_tree(task):
    """Raising the leaf counts of a tree grown with 40 breaks the sums that growing leaves
    (every split's count is its children's): refused as not fitted."""
    model = _native(task, min_samples_leaf=40)
    booster = model.steps[-1][1]
    booster.min_samples_leaf = 50
    for trees in booster._predictors:
        for tree in trees:
            leaf = tree.nodes["is_leaf"].astype(bool)
            tree.nodes["count"][leaf] = np.maximum(tree.nodes["count"][leaf], 50)
    with pytest.raises(AnswerError, match="not in a state that fitting it leaves"):
        nb01._structure_native(_loaded(model), "m")


def test_booster_with_more_leaves_than_it_states_is_refused():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(3000, 3))
    y = (X.sum(axis=1) + rng.normal(size=3000) > 0).astype(int)
    grown = HistGradientBoostingClassifier(max_leaf_nodes=16, min_samples_leaf=50, max_iter=5)
    booster = _loaded(grown.fit(X, y))
    booster.max_leaf_nodes = 8
    problem = nb01._grown_settings_problem(booster, "m")
    assert problem and "more than 8 leaves (max_leaf_nodes=8)" in problem
    assert "training rows" not in problem
    honest = HistGradientBoostingClassifier(max_leaf_nodes=8, min_samples_leaf=50, max_iter=5)
    assert nb01._grown_settings_problem(_loaded(honest.fit(X, y)), "m") is None
