"""Checker test data for ``mlcourse.exercises.nb02`` (notebook 02, encoding II).

``code`` replaces the solution region of the exercise's cell in
``solutions/02_target_encoding.ipynb``; for ``q4_shrunk_mean`` the region is the body of
``shrunk_mean``. Never shipped to students.
"""

from __future__ import annotations

from mlcourse.exercises.spec import ValidAnswer, WrongAnswer

from .nb01 import _MAX_ITER, ALL_ROWS, ORD_CODES

TE = (
    "te_model = make_pipeline(\n"
    "    make_column_transformer(\n"
    "        (OneHotEncoder(handle_unknown='ignore'), NOMINAL + ORDINAL),\n"
    "        ({te}, HIGH_CARDINALITY),\n"
    "    ),\n"
    "    LogisticRegression(max_iter=1000),\n"
    ")\n"
    "te_model.fit({fit})"
)

NATIVE = (
    "native_model = make_pipeline(\n"
    "    make_column_transformer(\n"
    "        (TargetEncoder(cv=cv), HIGH_CARDINALITY),\n"
    "        remainder='passthrough',\n"
    "        verbose_feature_names_out=False,\n"
    "    ).set_output(transform='pandas'),\n"
    "    HistGradientBoostingClassifier({hgb}),\n"
    ")\n"
    "native_model.fit({fit})"
)

HGB = "max_leaf_nodes=8, min_samples_leaf=50, random_state=0"

WRONG: dict[str, tuple[WrongAnswer, ...]] = {
    "q4_shrunk_mean": (
        WrongAnswer("plain_mean", "return y.groupby(levels).mean()", "plain per-level means"),
        WrongAnswer(
            "weights_swapped",
            "g = y.groupby(levels)\nn = g.size()\nreturn (m * g.mean() + n * y.mean()) / (n + m)",
            "weights are swapped",
        ),
        WrongAnswer(
            "mean_of_level_means",
            "g = y.groupby(levels)\nn = g.size()\n"
            "return (n * g.mean() + m * g.mean().mean()) / (n + m)",
            "mean of the level means",
        ),
        WrongAnswer(
            "m_rounded_to_int",
            "m = int(m)\ng = y.groupby(levels)\nn = g.size()\n"
            "return (n * g.mean() + m * y.mean()) / (n + m)",
            "keep it as it is given",
        ),
        WrongAnswer(
            "global_mean_one_half",
            "g = y.groupby(levels)\nn = g.size()\nreturn (n * g.mean() + m * 0.5) / (n + m)",
            "not the shrunk mean",
        ),
        WrongAnswer(
            "unused_levels_kept",
            "g = y.groupby(levels, observed=False)\nn = g.size()\n"
            "return ((n * g.mean() + m * y.mean()) / (n + m)).fillna(y.mean())",
            "one value per level that occurs",
        ),
        WrongAnswer(
            "positional_mix_up",
            "levels = levels.reset_index(drop=True)\ng = y.groupby(levels)\nn = g.size()\n"
            "return (n * g.mean() + m * y.mean()) / (n + m)",
            "",
        ),
        WrongAnswer(
            "returns_numpy",
            "g = y.groupby(levels)\nn = g.size()\n"
            "return ((n * g.mean() + m * y.mean()) / (n + m)).to_numpy()",
            "should return a pandas Series",
        ),
        WrongAnswer(
            "forgot_return",
            "g = y.groupby(levels)\nn = g.size()\n"
            "encoded = (n * g.mean() + m * y.mean()) / (n + m)",
            "forget the `return`",
        ),
    ),
    "q5_te_model": (
        WrongAnswer(
            "fitted_on_all_rows",
            TE.format(te="TargetEncoder(cv=cv)", fit=ALL_ROWS),
            "fitted on the test rows",
        ),
        WrongAnswer(
            "onehot_everything",
            "te_model = make_pipeline(\n"
            "    make_column_transformer(\n"
            "        (OneHotEncoder(handle_unknown='ignore'), "
            "NOMINAL + ORDINAL + HIGH_CARDINALITY),\n"
            "    ),\n"
            "    LogisticRegression(max_iter=1000),\n"
            ")\n"
            "te_model.fit(X_train, y_train)",
            "TargetEncoder inside the pipeline",
        ),
        WrongAnswer(
            "ordinal_instead_of_target",
            TE.format(te=ORD_CODES, fit="X_train, y_train"),
            "TargetEncoder inside the pipeline",
        ),
        WrongAnswer(
            "encoded_outside_the_pipeline",
            "encoder = TargetEncoder(cv=cv)\n"
            "X_encoded = X_train.copy()\n"
            "X_encoded[HIGH_CARDINALITY] = encoder.fit_transform(X_train[HIGH_CARDINALITY], "
            "y_train)\n"
            "te_model = make_pipeline(\n"
            "    make_column_transformer(\n"
            "        (OneHotEncoder(handle_unknown='ignore'), NOMINAL + ORDINAL),\n"
            "        remainder='passthrough',\n"
            "    ),\n"
            "    LogisticRegression(max_iter=1000),\n"
            ")\n"
            "te_model.fit(X_encoded, y_train)",
            "TargetEncoder inside the pipeline",
        ),
        WrongAnswer(
            "frozen_encoder_fitted_outside",
            "from sklearn.frozen import FrozenEstimator\n"
            "encoder = TargetEncoder(cv=cv).fit(X_train[HIGH_CARDINALITY], y_train)\n"
            + TE.format(te="FrozenEstimator(encoder)", fit="X_train, y_train"),
            "is not cross-fitted",
        ),
        WrongAnswer(
            "steps_fitted_by_hand",
            TE.format(te="TargetEncoder(cv=cv)", fit="X_train, y_train").rsplit("\n", 1)[0]
            + "\nencoder = te_model[0].fit(X_train, y_train)\n"
            "te_model[-1].fit(encoder.transform(X_train), y_train)",
            "not cross-fitted",
        ),
    ),
    "q6_leak_meaning": (
        WrongAnswer("better_than_truth", 'answer_leak = "A"', "No model can beat"),
        WrongAnswer("luck", 'answer_leak = "C"', "Luck moves"),
        WrongAnswer("target_encoding_best", 'answer_leak = "D"', "saw its own label"),
        WrongAnswer("not_a_letter", "answer_leak = 2", "one letter in quotes"),
    ),
    "q7_native_model": (
        WrongAnswer(
            "codes_as_numbers",
            "native_model = make_pipeline(\n"
            f"    make_column_transformer(({ORD_CODES}, NOMINAL + ORDINAL + HIGH_CARDINALITY)),\n"
            f"    HistGradientBoostingClassifier({HGB}),\n"
            ")\n"
            "native_model.fit(X_train, y_train)",
            "treats every column as a number",
        ),
        WrongAnswer(
            "one_boolean_column_categorical",
            "native_model = make_pipeline(\n"
            "    make_column_transformer(\n"
            "        (TargetEncoder(cv=cv), HIGH_CARDINALITY),\n"
            f"        ({ORD_CODES}, NOMINAL[:-1] + ORDINAL),\n"
            "        remainder='passthrough',\n"
            "        verbose_feature_names_out=False,\n"
            "    ).set_output(transform='pandas'),\n"
            f"    HistGradientBoostingClassifier({HGB}, categorical_features=['push_opt_in']),\n"
            ")\n"
            "native_model.fit(X_train, y_train)",
            "not declared categorical",
        ),
        WrongAnswer(
            "other_booster_settings",
            NATIVE.format(hgb="random_state=0", fit="X_train, y_train"),
            "fixes the booster's settings",
        ),
        WrongAnswer(
            "settings_set_after_fitting",
            NATIVE.format(
                hgb="max_leaf_nodes=8, min_samples_leaf=40, random_state=0", fit="X_train, y_train"
            )
            + "\nnative_model[-1].min_samples_leaf = 50",
            "fitted with other settings than it states",
        ),
        WrongAnswer(
            "fitted_on_all_rows",
            NATIVE.format(hgb=HGB, fit=ALL_ROWS),
            "fitted on the test rows",
        ),
    ),
    "q8_comparison": (
        WrongAnswer("target_always_wins", 'answer_comparison = "A"', "interval of the mean paired"),
        WrongAnswer("highest_test_auc_wins", 'answer_comparison = " d "', "one draw of labels"),
        WrongAnswer("boosting_always_wins", 'answer_comparison = "C"', "not ahead of one-hot"),
        WrongAnswer("not_offered", 'answer_comparison = "E"', "not one of the offered letters"),
    ),
}

VALID: dict[str, tuple[ValidAnswer, ...]] = {
    "q4_shrunk_mean": (
        ValidAnswer(
            "loop",
            "global_mean = y.mean()\n"
            "out = {}\n"
            "for level in levels.unique():\n"
            "    rows = y[levels == level]\n"
            "    n = len(rows)\n"
            "    out[level] = (n * rows.mean() + m * global_mean) / (n + m)\n"
            "return pd.Series(out)",
        ),
        ValidAnswer(
            "dict_comprehension",
            "g = y.mean()\n"
            "return {lev: (len(grp) * grp.mean() + m * g) / (len(grp) + m)\n"
            "        for lev, grp in y.groupby(levels, observed=True)}",
        ),
        ValidAnswer(
            "agg_sum_count",
            "stats = y.groupby(levels).agg(['sum', 'count'])\n"
            "return (stats['sum'] + m * y.mean()) / (stats['count'] + m)",
        ),
        ValidAnswer(
            "arrays_from_value_counts",
            "means = y.groupby(levels, observed=True).mean()\n"
            "counts = levels.value_counts().reindex(means.index).to_numpy()\n"
            "lam = counts / (counts + m)\n"
            "return pd.Series(lam * means.to_numpy() + (1 - lam) * y.mean(), index=means.index)",
        ),
        ValidAnswer(
            "pandas_map",
            "lv = levels.astype(object)\n"
            "n = lv.map(lv.value_counts()).astype(float)\n"
            "total = lv.map(y.groupby(lv).sum()).astype(float)\n"
            "per_row = (total + m * y.mean()) / (n + m)\n"
            "return per_row.groupby(lv).first()",
        ),
    ),
    "q5_te_model": (
        ValidAnswer(
            "fixed_smoothing",
            TE.format(te="TargetEncoder(smooth=20.0, cv=cv)", fit="X_train, y_train"),
        ),
        ValidAnswer("three_folds", TE.format(te="TargetEncoder(cv=3)", fit="X_train, y_train")),
        ValidAnswer(
            "column_transformer_by_hand",
            "from sklearn.compose import ColumnTransformer\n"
            "from sklearn.model_selection import KFold\n"
            "from sklearn.pipeline import Pipeline\n"
            "te_model = Pipeline([\n"
            "    ('encode', ColumnTransformer([\n"
            "        ('onehot', OneHotEncoder(handle_unknown='ignore'), NOMINAL + ORDINAL),\n"
            "        ('target', TargetEncoder(cv=KFold(4, shuffle=True, random_state=1)), "
            "HIGH_CARDINALITY),\n"
            "    ])),\n"
            "    ('model', LogisticRegression(max_iter=1000)),\n"
            "])\n"
            "te_model.fit(X_train, y_train)",
        ),
    ),
    "q6_leak_meaning": (ValidAnswer("lower_case_with_spaces", 'answer_leak = " b "'),),
    "q7_native_model": (
        ValidAnswer(
            "categorical_columns_by_name",
            NATIVE.format(
                hgb=HGB + ", categorical_features=NOMINAL[:-1] + ORDINAL", fit="X_train, y_train"
            ),
        ),
        ValidAnswer(
            "categorical_columns_as_mask",
            "# booster input: device_model, campaign_id, then the remaining eight in order\n"
            "mask = [False, False] + [True] * 7 + [False]\n"
            + NATIVE.format(hgb=HGB + ", categorical_features=mask", fit="X_train, y_train"),
        ),
        ValidAnswer(
            "ordinal_codes_declared_categorical",
            "native_model = make_pipeline(\n"
            "    make_column_transformer(\n"
            "        (TargetEncoder(cv=cv), HIGH_CARDINALITY),\n"
            f"        ({ORD_CODES}, NOMINAL[:-1] + ORDINAL),\n"
            "        remainder='passthrough',\n"
            "    ),\n"
            f"    HistGradientBoostingClassifier({HGB}, "
            "categorical_features=[False, False] + [True] * 7 + [False]),\n"
            ")\n"
            "native_model.fit(X_train, y_train)",
        ),
    ),
    "q8_comparison": (ValidAnswer("lower_case", 'answer_comparison = "b"'),),
}

EQUIVALENT: dict[str, dict[str, str]] = {
    "q5_te_model": {
        "q5_te_model:str@4:38:ignore->infrequent_if_exist": "same model: without "
        "min_frequency or max_categories there is no infrequent group, so an unseen level "
        "gets all zeros exactly as with 'ignore'",
        "q5_te_model:kwarg@5:9:-cv": "valid answer: the task allows another cv "
        "(TargetEncoder() cross-fits with 5 folds inside Pipeline.fit; VALID three_folds)",
        "q5_te_model:kwarg@7:4:-max_iter": _MAX_ITER.format(n=23) + " (default 100)",
        "q5_te_model:const@7:32:1000->1001": _MAX_ITER.format(n=23),
        "q5_te_model:const@7:32:1000->999": _MAX_ITER.format(n=23),
        "q5_te_model:const@7:32:1000->2000": _MAX_ITER.format(n=23),
    },
    "q7_native_model": {
        "q7_native_model:kwarg@3:4:-verbose_feature_names_out": "same model: only the output "
        "column names gain a transformer__ prefix; the booster gets the same columns, in the "
        "same order, with the same dtypes",
        "q7_native_model:bool@6:34:False->True": "same model: only the output column names "
        "gain a transformer__ prefix; the booster gets the same columns, in the same order, "
        "with the same dtypes",
        "q7_native_model:kwarg@4:9:-cv": "valid answer: the task allows another cv "
        "(TargetEncoder() cross-fits with 5 folds inside Pipeline.fit)",
    },
}
