"""Markdown feedback keeps what a submission shaped inert (second attack round on issue 21)."""

from __future__ import annotations

from mlcourse.grading.exports import _md


def test_no_image_link_table_break_or_html_survives() -> None:
    text = _md("![img](https://tracker.example/x.png) [see](http://e) a|b <b>\nnext")
    assert "](" not in text and "![img]\\(" in text
    assert "a\\|b" in text and "<b>" not in text and "\n" not in text


def test_code_spans_and_brackets_stay_readable() -> None:
    assert _md("`names[label]` must be an int") == "`names[label]` must be an int"
