"""The inspector's replies are vetted: only text the checkers could have written passes."""

from __future__ import annotations

import pytest

from mlcourse.grading.replies import (
    MAX_TEXT,
    WITHHELD,
    WITHHELD_MESSAGE,
    ReplyVetter,
    allowed_class_words,
    checker_sources,
    match_template,
)

SOURCE = """
def f(name, cls, cols, task):
    a = f"`{name}` ends in a {cls}; the task asks for a LogisticRegression as the last step."
    b = f"`{name}` reaches the model through {cols}, but {task}."
    c = "the task one-hot encodes every column of NOMINAL with a OneHotEncoder (no other encoder)"
"""


@pytest.fixture(scope="module")
def vetter() -> ReplyVetter:
    return ReplyVetter([SOURCE], words={"country", "device_model", "model", "structure", "auc"})


def test_template_matching_is_left_to_right_and_anchored() -> None:
    tpl = ("`", None, "` ends in a ", None, "; the task asks.")
    assert match_template(tpl, "`m` ends in a Tree; the task asks.") == ["m", "Tree"]
    assert match_template(tpl, "`m` ends in a Tree; the task asks. PS secret") is None
    assert match_template(tpl, "x`m` ends in a Tree; the task asks.") is None


def test_real_messages_pass(vetter: ReplyVetter) -> None:
    ok = (
        "`model` ends in a RandomForestClassifier; the task asks for a LogisticRegression as "
        "the last step."
    )
    assert ReplyVetter([SOURCE], allowed_class_words()).text_ok(ok)
    task = (
        "the task one-hot encodes every column of NOMINAL with a OneHotEncoder (no other encoder)"
    )
    assert vetter.text_ok(f"`model` reaches the model through OneHotEncoder, but {task}.")
    assert vetter.text_ok("country")  # a known word alone (a column name, a class name)


@pytest.mark.parametrize(
    "text",
    [
        "x1,x2,y\n0.12,-1.3,1\n0.5,0.2,0",  # held-out rows
        "country 0.1234567890",  # a long number carries data
        "1 0 1 1 0 1 0 0 1 1 1 0",  # many numbers too
        "`model` ends in a 8104552930017; the task asks for a LogisticRegression as the last step.",
        "`model` ends in a country country country country country country country country "
        "country; the task asks for a LogisticRegression as the last step.",  # too many words
        "hello from the sandbox",
        "country " * (MAX_TEXT // 8 + 1),
    ],
)
def test_other_text_is_withheld(vetter: ReplyVetter, text: str) -> None:
    assert not vetter.text_ok(text)
    assert vetter.value({"structure": text}) == {"structure": WITHHELD}


def test_reply_keeps_numbers_and_replaces_messages(vetter: ReplyVetter) -> None:
    reply = vetter.reply(
        {"status": "answer_error", "message": "secret rows: 1,0,1", "value": {"auc": 0.8}}
    )
    assert reply == {"status": "answer_error", "message": WITHHELD_MESSAGE, "value": {"auc": 0.8}}
    forged_key = vetter.value({"a b c d e f": 1, "auc": [0.5, None, True, {"x": object()}]})
    assert forged_key == {WITHHELD: 1, "auc": [0.5, None, True, {WITHHELD: None}]}


def test_the_course_checkers_messages_are_templates() -> None:
    """The nb01 structure messages are read from the real exercise module."""
    v = ReplyVetter(checker_sources("mlcourse.exercises.nb01"), allowed_class_words())
    assert v.text_ok(
        "`onehot_model` ends in a HistGradientBoostingClassifier; the task asks for a "
        "LogisticRegression as the last step of the pipeline."
    )
    assert not v.text_ok(
        "`onehot_model` ends in a SECRET_ROWS_0101; the task asks for a "
        "LogisticRegression as the last step of the pipeline."
    )


@pytest.mark.parametrize(
    "text",
    [
        # issue-21 review: 1,190 CJK characters carried ~16.7 kbit in one "ends in a ..." gap
        "`model` ends in a 龍龍龍龍龍龍; the task asks for a LogisticRegression as the last step.",
        "`model` ends in a \uff2c\uff4f\uff47\uff49\uff53\uff54\uff49\uff43; the task asks "
        "for a LogisticRegression as the last step.",
        "`model` ends in a (((((((((((((((((((((((((((; the task asks for a LogisticRegression as "
        "the last step.",
        "country " + "." * 40,
    ],
)
def test_other_alphabets_and_punctuation_floods_are_withheld(
    vetter: ReplyVetter, text: str
) -> None:
    assert not vetter.text_ok(text)


def test_numbers_are_rounded_and_counted(vetter: ReplyVetter) -> None:
    assert vetter.value({"auc": 0.123456789}) == {"auc": 0.123457}
    assert vetter.value({"auc": 2**80}) == {"auc": float(f"{2.0**80:.6g}")}
    assert vetter.value({"auc": 1500}) == {"auc": 1500}
    many = vetter.value({"auc": [0.5] * 600})
    assert many["auc"][:512] == [0.5] * 512 and set(many["auc"][512:]) == {None}


def test_the_checkers_own_characters_pass() -> None:
    v = ReplyVetter(['x = f"{a} \u2014 {b} \u2265 0.5"'], {"model", "score"})
    assert v.text_ok("model \u2014 score \u2265 0.5")
    assert not v.text_ok("model \u2014 score \u2264 0.5")  # not written by these checkers
