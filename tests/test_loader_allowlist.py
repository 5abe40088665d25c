"""The model loader builds only allow-listed types whose rebuild was reviewed (issue 21)."""

from __future__ import annotations

import base64
import io
import json
import operator
import zipfile

import numpy as np
import pandas as pd
import pytest
import skops.io as sio
from sklearn.compose import make_column_transformer
from sklearn.dummy import DummyClassifier
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import TimeSeriesSplit, TunedThresholdClassifierCV
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, TargetEncoder

from mlcourse.exercises._allowlist import (
    ALLOWED_TYPES,
    ESTIMATORS,
    HOOKS,
    hook_problems,
    rebuild_problem,
    resolve,
)
from mlcourse.exercises._helpers import load_estimator, refused_model_types
from mlcourse.exercises.spec import AnswerError


def _frame(n: int = 200) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(0)
    X = pd.DataFrame(
        {
            "country": pd.Categorical(rng.choice(list("abc"), n)),
            "device": pd.Categorical(rng.choice([f"d{i}" for i in range(30)], n)),
            "spend": rng.random(n),
        }
    )
    return X, (rng.random(n) < 0.3).astype(int)


def _obs(model: object) -> dict[str, str]:
    return {"skops": base64.b64encode(sio.dumps(model)).decode("ascii")}


def _course_models() -> dict[str, object]:
    cats = ["country", "device"]
    ohe = OneHotEncoder(handle_unknown="ignore")
    return {
        "one-hot + logistic": make_pipeline(
            make_column_transformer((ohe, cats), remainder="passthrough"), LogisticRegression()
        ),
        "target encoding": make_pipeline(
            make_column_transformer(
                (TargetEncoder(), ["device"]), (OneHotEncoder(), ["country"]), remainder="drop"
            ),
            LogisticRegression(C=0.1),
        ),
        "native categories": HistGradientBoostingClassifier(
            categorical_features="from_dtype", max_leaf_nodes=8, max_iter=5
        ),
        "forest": make_pipeline(
            make_column_transformer((ohe, cats), remainder="passthrough"),
            RandomForestClassifier(n_estimators=3, random_state=0),
        ),
        "log1p": make_pipeline(
            make_column_transformer((FunctionTransformer(np.log1p), ["spend"]), (ohe, cats)),
            KNeighborsClassifier(),
        ),
        "tuned threshold": TunedThresholdClassifierCV(
            make_pipeline(make_column_transformer((ohe, cats)), LogisticRegression()),
            cv=TimeSeriesSplit(3),
        ),
    }


def test_every_listed_type_exists_and_its_rebuild_was_reviewed() -> None:
    """Fails when a library upgrade removes a listed class or gives it a new rebuild path
    (``__setstate__``, ``__reduce__``, ``__new__``, ``__getattr__``, ...): read the new code,
    then add its owner to ``REVIEWED_OWNERS``."""
    problems = {name: rebuild_problem(name) for name in sorted(ALLOWED_TYPES)}
    assert {k: v for k, v in problems.items() if v} == {}
    assert len(ESTIMATORS) > 150


def test_hook_review_sees_a_new_setstate() -> None:
    class Sneaky(LogisticRegression):
        def __setstate__(self, state: dict) -> None:  # pragma: no cover - never called
            exec(state["code"])

    problems = hook_problems(Sneaky)
    assert any(p.startswith("__setstate__ from") for p in problems), problems
    assert "__setstate__" in HOOKS


@pytest.mark.parametrize("kind", sorted(_course_models()))
def test_models_the_course_asks_for_load(kind: str) -> None:
    X, y = _frame()
    model = _course_models()[kind].fit(X, y)
    back = load_estimator(_obs(model), "`model`")
    np.testing.assert_allclose(back.predict_proba(X), model.predict_proba(X))


def test_a_scipy_class_that_runs_code_on_rebuild_is_refused_and_named() -> None:
    """The attack of issue 21: a DummyClassifier carrying a scipy distribution object, whose
    rebuild executes a string from its state."""
    from scipy import stats

    X, y = _frame()
    model = DummyClassifier().fit(X, y)
    model.payload = stats.norm
    with pytest.raises(AnswerError, match=r"scipy\.stats\._continuous_distns\.norm_gen"):
        load_estimator(_obs(model), "`model`")


@pytest.mark.parametrize(
    ("func", "shown"),
    [(np.load, "numpy.load"), (np.fromfile, "numpy.fromfile"), (print, "builtins.print")],
)
def test_functions_off_the_list_are_refused(func: object, shown: str) -> None:
    X, y = _frame()
    model = make_pipeline(FunctionTransformer(np.log1p), DummyClassifier()).fit(X[["spend"]], y)
    model.steps[0][1].func = func  # as a file can say: the function is never called here
    with pytest.raises(AnswerError, match=shown.replace(".", r"\.")):
        refused_model_types(sio.dumps(model), "`model`")


def test_node_kinds_that_call_methods_are_refused() -> None:
    X, y = _frame()
    model = DummyClassifier().fit(X, y)
    model.getter = operator.attrgetter("spend")
    with pytest.raises(AnswerError, match="OperatorFuncNode"):
        refused_model_types(sio.dumps(model), "`model`")


def _rewrite_schema(blob: bytes, edit) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(blob)) as src, zipfile.ZipFile(out, "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "schema.json":
                data = json.dumps(edit(json.loads(data))).encode()
            dst.writestr(item, data)
    return out.getvalue()


def test_a_forged_type_name_is_refused_without_importing_it() -> None:
    X, y = _frame()
    blob = sio.dumps(DummyClassifier().fit(X, y))

    def forge(schema: dict) -> dict:
        schema["__module__"], schema["__class__"] = "mlcourse_attack_module", "Payload"
        return schema

    import sys

    with pytest.raises(AnswerError, match="mlcourse_attack_module.Payload"):
        load_estimator({"skops": base64.b64encode(_rewrite_schema(blob, forge)).decode()}, "m")
    assert "mlcourse_attack_module" not in sys.modules


def test_a_deeply_nested_schema_is_refused_cleanly() -> None:
    X, y = _frame()
    blob = sio.dumps(DummyClassifier().fit(X, y))

    def nest(schema: dict) -> dict:
        for _ in range(400):
            schema = {"__loader__": "ListNode", "content": [schema]}
        return schema

    with pytest.raises(AnswerError, match="nested"):
        refused_model_types(_rewrite_schema(blob, nest), "`model`")


def test_extra_types_pass_the_same_review() -> None:
    assert rebuild_problem("sklearn.utils._bunch.Bunch") == "not on the allow-list"
    extra = frozenset({"sklearn.utils._bunch.Bunch"})
    assert rebuild_problem("sklearn.utils._bunch.Bunch", extra).startswith("unreviewed")
    assert resolve("sklearn.linear_model.LogisticRegression") is LogisticRegression


def test_a_cache_folder_on_a_genuine_pipeline_is_refused(tmp_path) -> None:
    """Attack of the issue-21 review: Pipeline(memory=folder) loads pickles from the folder
    when the checker refits it (code ran as root under process isolation)."""
    X, y = _frame()
    model = make_pipeline(
        make_column_transformer((OneHotEncoder(handle_unknown="ignore"), ["country"])),
        LogisticRegression(),
        memory=str(tmp_path / "cache"),
    ).fit(X, y)
    with pytest.raises(AnswerError, match="sets `memory` on its Pipeline, which makes it read"):
        load_estimator(_obs(model), "`model`")


def test_a_file_that_reuses_one_node_exponentially_is_refused_quickly() -> None:
    """Attack of the issue-21 review: a small file whose reused nodes expand to 10^8 nodes
    held the inspector for its whole time limit inside skops' own type check."""
    import time

    node: dict = {"__class__": "list", "__module__": "builtins", "__loader__": "ListNode",
                  "__id__": 0, "content": []}  # fmt: skip
    for depth in range(1, 9):
        again = {"__loader__": "CachedNode", "__id__": node["__id__"]}
        node = {
            "__class__": "list",
            "__module__": "builtins",
            "__loader__": "ListNode",
            "__id__": depth,
            "content": [node] + [dict(again) for _ in range(9)],
        }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr("schema.json", json.dumps({**node, "protocol": 2}))
    blob = out.getvalue()
    assert len(blob) < 20_000
    start = time.perf_counter()
    with pytest.raises(AnswerError, match="far larger"):
        refused_model_types(blob, "`model`")
    assert time.perf_counter() - start < 5


def test_a_vectorizer_that_opens_its_values_as_paths_is_refused() -> None:
    """Second review: CountVectorizer(input="filename") read a held-out file in the inspector."""
    from sklearn.feature_extraction.text import CountVectorizer

    model = make_pipeline(CountVectorizer(), DummyClassifier()).fit(["ab cd", "cd ef"], [0, 1])
    model.steps[0][1].input = "filename"
    with pytest.raises(AnswerError, match="sets `input` on its CountVectorizer"):
        load_estimator(_obs(model), "`model`")
