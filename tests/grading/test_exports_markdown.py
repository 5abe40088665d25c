"""Markdown feedback keeps what a submission shaped inert (attack rounds on issue 21 and on
the escaping of code spans): rendered by a CommonMark renderer, no payload yields raw HTML,
a link or image, a heading or a table break, and ordinary code spans read as typed."""

from __future__ import annotations

import re

import pytest

from mlcourse.grading.exports import _md, _md_code

mistune = pytest.importorskip("mistune")  # nbconvert's renderer, in the lock

#: payloads a student controls (exception messages, source lines, file names); from the
#: attack round: backtick runs CommonMark pairs differently, a backslash before <, \r as a
#: line break, reference definitions, block markers at the start of a message
PAYLOADS = [
    "![img](https://tracker.example/x.png) [see](http://e) a|b <b>\nnext",
    "<img src=https://evil.example/p.png>",
    "\\<img src=https://evil.example/p.png>",
    "\\\\<img src=x>",
    "`a``b`<img src=https://evil.example/p.png>`",
    "`a``b`![x](https://evil.example/p.png)`",
    "`x`` `<b>bold</b>`",
    "\\\\`a`<img src=https://evil.example/p.png>`",
    "``<img src=x>`",
    "\\`<img src=x>`",
    "`\r<script>alert(1)</script>\r`",
    "a\r# Score: 10 / 10\r",
    "# Score: 10 / 10",
    "[1]: https://evil.example/p.png",
    "![ok][1]",
    "> quoted",
    "1. listed",
    "---",
    "<!-- c --> <![CDATA[x]]> <?php x ?>",
]


def _render(text: str) -> str:
    return mistune.create_markdown(escape=False)(text)


def _unsafe(html: str) -> list[str]:
    tags = {t.lower() for t in re.findall(r"<\s*/?\s*([A-Za-z][A-Za-z0-9-]*)", html)}
    bad = sorted(tags - {"p", "code", "em", "strong"})
    if re.search(r"<[^>]*\b(src|href)\s*=", html, re.I) or "<!" in html or "<?" in html:
        bad.append("src/href/declaration")
    return bad


@pytest.mark.parametrize("payload", PAYLOADS)
def test_no_payload_renders_html_a_link_or_a_heading(payload: str) -> None:
    for text in (
        _md(payload),
        _md("This exercise's cell raised ValueError: " + payload),
        "graded file " + _md_code(payload),
    ):
        assert "\n" not in text and "\r" not in text
        assert not _unsafe(_render(text)), (payload, text, _render(text))


def test_code_spans_and_brackets_stay_readable() -> None:
    assert _md("`names[label]` must be an int") == "`names[label]` must be an int"
    # a real code span shows its characters literally: no entity to read as "&lt;"
    assert _md("at line 3: `x = df[df.a < 2]`") == "at line 3: `x = df[df.a < 2]`"
    assert "<code>x = df[df.a &lt; 2]</code>" in _render(_md("at line 3: `x = df[df.a < 2]`"))
    assert "&lt;" not in _md("raised SyntaxError (<stdin>, line 3)")


def test_a_file_name_is_one_literal_code_span() -> None:
    name = "a`<img src=x>`.ipynb"
    html = _render(_md_code(name))
    assert html.count("<code>") == 1 and "&lt;img src=x&gt;" in html
