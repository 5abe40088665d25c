"""Markdown feedback keeps what a submission shaped inert (second attack round on issue 21)."""

from __future__ import annotations

from mlcourse.grading.exports import _md


def test_no_image_link_table_break_or_html_survives() -> None:
    text = _md("![img](https://tracker.example/x.png) [see](http://e) a|b <b>\nnext")
    assert "](" not in text and "![img]\\(" in text
    assert "a\\|b" in text and "\n" not in text
    assert "<" not in text.replace("\\<", ""), text  # every < outside a code span escaped


def test_code_spans_and_brackets_stay_readable() -> None:
    assert _md("`names[label]` must be an int") == "`names[label]` must be an int"


def test_code_spans_read_as_typed_and_near_misses_stay_escaped() -> None:
    # a real code span shows its characters literally: no entity to read as "&lt;"
    assert _md("at line 3: `x = df[df.a < 2]`") == "at line 3: `x = df[df.a < 2]`"
    assert "&lt;" not in _md("raised SyntaxError (<stdin>, line 3)")
    # not code spans in CommonMark, so what follows is Markdown: its < must be escaped
    for text in ("``<img src=x>`", "\\`<img src=x>`", "`<img src=x>``"):
        out = _md(text)
        assert "<img" not in out.replace("\\<img", ""), (text, out)
