"""Catalogue of ``06_churn_models_decisions``: answers the checkers must reject (WRONG) and
accept (VALID).

Test data, never shipped. ``code`` replaces the solution region of the exercise's cell in
``solutions/06_churn_models_decisions.ipynb``; for q8 the region is the whole ``def``, for q6
the cell that builds and fits ``churn_model``.
"""

from __future__ import annotations

from mlcourse.exercises.spec import ValidAnswer, WrongAnswer

_HGB_PIPELINE = (
    "churn_model = make_pipeline(\n"
    "    make_column_transformer((OrdinalEncoder(), CATEGORICAL), remainder='passthrough'),\n"
    "    HistGradientBoostingClassifier(categorical_features=[0, 1], max_leaf_nodes=8,\n"
    "                                   max_iter=120, early_stopping=False, random_state=0),\n"
    ")\n"
)


def _fit_on(rows: str) -> str:
    return f"{_HGB_PIPELINE}churn_model.fit({rows}[FEATURES], {rows}.churned)\n"


#: q6 asks for *a* leak-free model fitted on ``train`` within two noise standard deviations of
#: the reference on held-out players, and fixes no estimator or hyper-parameter. The mutants
#: below change only an encoder, a hyper-parameter or which of the two categorical columns is
#: declared categorical (an ordinal code split by trees instead): other valid answers, not
#: different answers (the mutation report shows their held-out AUCs, 0.841 to 0.864).
_Q6_VALID = "a correct answer in the task's words: a leak-free model fitted on train only, "

WRONG: dict[str, tuple[WrongAnswer, ...]] = {
    "q6_churn_model": (
        WrongAnswer(
            "with_a_leak",
            "churn_model = make_pipeline(\n"
            "    make_column_transformer((OneHotEncoder(handle_unknown='ignore'),\n"
            "                             ['platform', 'difficulty', 'account_status']),\n"
            "                            remainder=StandardScaler()),\n"
            "    LogisticRegression(max_iter=1000))\n"
            "leaky_train = train.merge(players[['player_id', 'account_status']], "
            "on='player_id')\n"
            "churn_model.fit(leaky_train[[*FEATURES, 'account_status']], "
            "leaky_train.churned)",
            "not point-in-time features",
        ),
        WrongAnswer(
            "constant",
            "from sklearn.dummy import DummyClassifier\n"
            "churn_model = DummyClassifier().fit(train[FEATURES], train.churned)",
            "below the reference model",
        ),
        WrongAnswer(
            "not_fitted",
            "churn_model = make_pipeline(make_column_transformer(\n"
            "    (OrdinalEncoder(), ['platform', 'difficulty']), remainder='passthrough'),\n"
            "    HistGradientBoostingClassifier(random_state=0))",
            "not fitted",
        ),
        WrongAnswer("fitted_on_test_rows", _fit_on("test"), "fitted on test rows"),
        WrongAnswer(
            "fitted_on_train_and_test",
            "both = pd.concat([train, test])\n" + _fit_on("both"),
            "fitted on test rows",
        ),
        WrongAnswer("fitted_on_all_rows", _fit_on("data"), "fitted on test rows"),
        WrongAnswer(
            "two_features_only",
            "churn_model = HistGradientBoostingClassifier(random_state=0)\n"
            "churn_model.fit(train[['tenure_days', 'spend_total']], train.churned)",
            "below the reference model",
        ),
        WrongAnswer(
            "logistic_regression",
            "churn_model = make_pipeline(\n"
            "    make_column_transformer((OneHotEncoder(handle_unknown='ignore'), CATEGORICAL),\n"
            "                            remainder=StandardScaler()),\n"
            "    LogisticRegression(max_iter=1000))\n"
            "churn_model.fit(train[FEATURES], train.churned)",
            "below the reference model",
            status="partly_correct",
        ),
    ),
    "q8_offer_threshold": (
        WrongAnswer(
            "default_half",
            "def offer_threshold(offer_cost, saved_value, success_rate):\n    return 0.5",
            "ignores the costs",
        ),
        WrongAnswer(
            "no_success_rate",
            "def offer_threshold(offer_cost, saved_value, success_rate):\n"
            "    return offer_cost / saved_value",
            "success rate",
        ),
        WrongAnswer(
            "upside_down",
            "def offer_threshold(offer_cost, saved_value, success_rate):\n"
            "    return success_rate * saved_value / offer_cost",
            "upside down",
        ),
        WrongAnswer(
            "net_gain",
            "def offer_threshold(offer_cost, saved_value, success_rate):\n"
            "    return offer_cost / (offer_cost + success_rate * saved_value)",
            "cost / (cost + success rate x value)",
        ),
        WrongAnswer(
            "cost_off_the_value",
            "def offer_threshold(offer_cost, saved_value, success_rate):\n"
            "    return offer_cost / (success_rate * (saved_value - offer_cost))",
            "the cost is paid either way",
        ),
        WrongAnswer(
            "rate_in_the_numerator",
            "def offer_threshold(offer_cost, saved_value, success_rate):\n"
            "    return offer_cost * success_rate / saved_value",
            "rises with the success rate",
        ),
        WrongAnswer(
            "rounded_to_two_decimals",
            "def offer_threshold(offer_cost, saved_value, success_rate):\n"
            "    return round(offer_cost / (success_rate * saved_value), 2)",
            "within a rounding step",
        ),
        WrongAnswer(
            "two_percent_off",
            "def offer_threshold(offer_cost, saved_value, success_rate):\n"
            "    return 0.98 * offer_cost / (success_rate * saved_value)",
            "do not match the break-even point",
        ),
    ),
    "q9_drift": (
        WrongAnswer("keep_the_model", 'drift_choice = "A"', "says nothing about the order"),
        WrongAnswer("date_feature", 'drift_choice = "C"', "last training dates"),
        WrongAnswer("lower_threshold", 'drift_choice = "D"', "cannot change their order"),
    ),
}

VALID: dict[str, tuple[ValidAnswer, ...]] = {
    "q6_churn_model": (
        ValidAnswer(
            "boosting_other_hyper_parameters",
            "churn_model = make_pipeline(\n"
            "    make_column_transformer((OrdinalEncoder(), CATEGORICAL),\n"
            "                            remainder='passthrough'),\n"
            "    HistGradientBoostingClassifier(categorical_features=[0, 1], learning_rate=0.05,\n"
            "                                   max_leaf_nodes=15, max_iter=200,\n"
            "                                   early_stopping=False, random_state=1),\n"
            ")\n"
            "churn_model.fit(train[FEATURES], train.churned)\n",
        ),
        ValidAnswer(
            "boosting_on_pandas_categories",
            "churn_model = HistGradientBoostingClassifier(categorical_features='from_dtype',\n"
            "                                             max_leaf_nodes=10, max_iter=150,\n"
            "                                             l2_regularization=1.0, random_state=0)\n"
            "churn_model.fit(train[FEATURES], train.churned)\n",
        ),
        ValidAnswer(
            "boosting_one_hot_defaults",
            "churn_model = make_pipeline(\n"
            "    make_column_transformer((OneHotEncoder(handle_unknown='ignore',"
            " sparse_output=False), CATEGORICAL), remainder='passthrough'),\n"
            "    HistGradientBoostingClassifier(random_state=0),\n"
            ")\n"
            "churn_model.fit(train[FEATURES], train.churned)\n",
        ),
    ),
    "q8_offer_threshold": (
        ValidAnswer(
            "clipped_to_one",
            "def offer_threshold(offer_cost, saved_value, success_rate):\n"
            "    return min(1.0, offer_cost / success_rate / saved_value)\n",
        ),
        ValidAnswer(
            "four_significant_digits",
            "def offer_threshold(offer_cost, saved_value, success_rate):\n"
            "    return float(f'{offer_cost / (success_rate * saved_value):.4g}')\n",
        ),
        ValidAnswer(
            "numpy_float",
            "def offer_threshold(offer_cost, saved_value, success_rate):\n"
            "    return np.float64(offer_cost) / np.multiply(success_rate, saved_value)\n",
        ),
    ),
}

EQUIVALENT: dict[str, dict[str, str]] = {
    "q6_churn_model": {
        "q6_churn_model:class@3:29:OrdinalEncoder->OneHotEncoder": _Q6_VALID
        + "one-hot instead of ordinal codes for the two categorical columns",
        "q6_churn_model:class@4:4:HistGradientBoostingClassifier->RandomForestClassifier": (
            _Q6_VALID + "a random forest of 8-leaf trees (held-out AUC within the stated band)"
        ),
        "q6_churn_model:kwarg@4:4:-categorical_features": _Q6_VALID
        + "ordinal codes of platform and difficulty split as numbers",
        "q6_churn_model:kwarg@4:4:-max_leaf_nodes": _Q6_VALID + "default 31-leaf trees",
        "q6_churn_model:kwarg@4:4:-max_iter": _Q6_VALID + "100 trees instead of 120",
        "q6_churn_model:kwarg@4:4:-early_stopping": _Q6_VALID
        + "early stopping on a validation split (the default)",
        "q6_churn_model:drop@5:29:-0": _Q6_VALID + "platform code split as a number",
        "q6_churn_model:drop@5:29:-1": _Q6_VALID + "difficulty code (ordered levels) as a number",
        "q6_churn_model:const@5:30:0->1": _Q6_VALID + "platform code split as a number",
        "q6_churn_model:const@5:33:1->0": _Q6_VALID
        + "difficulty code (ordered levels) as a number",
        "q6_churn_model:const@6:23:8->16": _Q6_VALID + "16-leaf trees instead of 8",
        "q6_churn_model:const@6:23:8->9": _Q6_VALID + "9-leaf trees instead of 8",
        "q6_churn_model:const@6:23:8->7": _Q6_VALID + "7-leaf trees instead of 8",
        "q6_churn_model:const@7:17:120->121": _Q6_VALID + "one tree more",
        "q6_churn_model:const@7:17:120->119": _Q6_VALID + "one tree fewer",
        "q6_churn_model:const@7:17:120->240": _Q6_VALID + "240 trees at the same learning rate",
        "q6_churn_model:bool@8:23:False->True": _Q6_VALID + "early stopping on a validation split",
    },
}
