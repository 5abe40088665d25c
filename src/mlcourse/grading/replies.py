"""Vetting the inspector's replies (trusted): only text the checkers could have written passes.

The inspector loads a learner's model inside a sandbox. If a hole in the loader ever let a
model run code there, the code could write any reply: forged facts (which can at worst
mis-judge that one submission) and forged *text*, which would reach the learner's feedback
and could carry what the sandbox can read (the held-out players). So every string of a reply
passes :class:`ReplyVetter` before a judge or a feedback file sees it:

* a string that matches a **message template** of the checkers (every f-string and string
  constant in the exercise modules, read with :mod:`ast`), whose placeholders hold only a
  few **known words** (words of the checkers' own strings, column names of the data, class
  names on the loader's allow-list, numbers), is kept;
* a short string of known words (a class name, a column name) is kept;
* anything else is replaced by :data:`WITHHELD`.

What a forged reply can still say is then a choice among the checkers' own messages with a
few known words and short plain numbers in their gaps (twelve at most in one message), in the
checkers' own alphabet: measured at about 400 bits a message (attack round 3), a few
hundred held-out labels per submission at most, not the held-out table.
Written here because no library vets free text against a program's own message templates.
"""

from __future__ import annotations

import ast
import builtins
import csv
import re
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

#: what replaces a string the checkers could not have written
WITHHELD = "[text withheld by the grader]"
#: the message shown instead of a withheld error message
WITHHELD_MESSAGE = (
    "checking your answer on held-out players failed; make sure it is the model the task "
    "asks for, fitted as the task says"
)
#: longest string of a reply that is looked at (longer ones are withheld)
MAX_TEXT = 1200
#: at most this many words in one placeholder, or in a string of known words only
MAX_GAP_WORDS = 8
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
#: a word or a number: numbers count as words, and a long one is not a known word
_TOKEN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|[0-9][0-9.eE+-]*")
#: a number as the checkers print them: digits, at most one decimal point
_PLAIN_NUMBER = re.compile(r"[0-9]+(\.[0-9]+)?")
#: at most this many words and numbers in all the gaps of one message together
MAX_MESSAGE_WORDS = 12
#: longest number a gap may hold (a shape, a count, a setting, a score with 3 decimals)
MAX_NUMBER_CHARS = 7
#: at most this many characters of punctuation and space around each word of a gap
_PUNCT_PER_WORD = 3
#: a reply may hold at most this many numbers; floats keep six significant digits
MAX_NUMBERS = 512
_SIGNIFICANT = 6
_MIN_CONSTANT = 12  # shorter string constants are words, not message templates

Template = tuple[str | None, ...]  # literal chunks and None for a placeholder


def _joined_template(node: ast.JoinedStr) -> Template:
    chunks: list[str | None] = []
    for part in node.values:
        if isinstance(part, ast.Constant) and isinstance(part.value, str):
            if chunks and isinstance(chunks[-1], str):
                chunks[-1] += part.value
            else:
                chunks.append(part.value)
        elif not chunks or chunks[-1] is not None:
            chunks.append(None)
    return tuple(chunks)


def templates_and_words(sources: Iterable[str]) -> tuple[set[Template], set[str]]:
    """Message templates and words of the string literals in Python ``sources``."""
    templates: set[Template] = set()
    words: set[str] = set()
    chars: set[str] = set()
    for source in sources:
        try:
            tree = ast.parse(source)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.JoinedStr):
                tpl = _joined_template(node)
                templates.add(tpl)
                words.update(w for chunk in tpl if chunk for w in _WORD.findall(chunk))
                chars.update(ch for chunk in tpl if chunk for ch in chunk)
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                words.update(_WORD.findall(node.value))
                chars.update(node.value)
                if len(node.value) >= _MIN_CONSTANT:
                    templates.add((node.value,))
    # the alphabet: printable ASCII and the few other characters the checkers write
    # (dashes, arrows, ≥): anything else in a reply (CJK, full-width letters) is withheld
    words.update(f"\0char:{ch}" for ch in chars if ord(ch) > 126)
    return templates, words


def match_template(template: Template, text: str) -> list[str] | None:
    """The placeholder contents when ``text`` fits ``template``, else ``None``.

    Left to right: each literal chunk must follow at the first place it occurs (the last one
    at the very end). Linear in the text, so a crafted reply cannot make it slow.
    """
    pos = 0
    gaps: list[str] = []
    pending = False
    last = max((i for i, c in enumerate(template) if c is not None), default=-1)
    for i, chunk in enumerate(template):
        if chunk is None:
            pending = True
            continue
        if not pending:
            if not text.startswith(chunk, pos):
                return None
            pos += len(chunk)
            continue
        if i == last and i == len(template) - 1:
            at = len(text) - len(chunk)
            if at < pos or not text.endswith(chunk):
                return None
        else:
            at = text.find(chunk, pos)
            if at < 0:
                return None
        gaps.append(text[pos:at])
        pos = at + len(chunk)
        pending = False
    if pending:
        gaps.append(text[pos:])
        pos = len(text)
    return gaps if pos == len(text) else None


class ReplyVetter:
    """Keeps the strings of an inspector reply that the checkers could have written.

    Parameters
    ----------
    sources
        The source text of every module whose messages an ``assess`` step may return.
    words
        Further known words: column names of the data, allowed class names.
    """

    def __init__(self, sources: Iterable[str], words: Iterable[str] = ()) -> None:
        self.templates, self.words = templates_and_words(sources)
        self.words |= set(words)
        self.words |= {n for n in dir(builtins) if n.endswith(("Error", "Exception", "Warning"))}
        # the longest literal first: the likeliest to reject a non-matching text at once
        self._ordered = sorted(
            self.templates, key=lambda t: -max((len(c) for c in t if c), default=0)
        )

    def alphabet_ok(self, text: str) -> bool:
        """Whether every character is printable ASCII or one the checkers themselves write."""
        return all(
            (32 <= ord(ch) <= 126) or ch == "\n" or f"\0char:{ch}" in self.words for ch in text
        )

    def known_words(self, text: str, max_words: int = MAX_GAP_WORDS) -> bool:
        """Whether ``text`` is a few known words, short numbers and a little punctuation."""
        found = _TOKEN.findall(text)
        if len(found) > max_words or not self.alphabet_ok(text):
            return False
        rest = len(text) - sum(len(w) for w in found)
        if rest > _PUNCT_PER_WORD * (len(found) + 1):
            return False
        return all(
            w in self.words
            if not w[0].isdigit()
            else len(w) <= MAX_NUMBER_CHARS and _PLAIN_NUMBER.fullmatch(w) is not None
            for w in found
        )

    def text_ok(self, text: str) -> bool:
        """Whether ``text`` is something the checkers could have written."""
        if len(text) > MAX_TEXT or not self.alphabet_ok(text):
            return False
        if self.known_words(text):
            return True
        for tpl in self._ordered:
            longest = max((c for c in tpl if c), key=len, default="")
            if longest and longest not in text:
                continue
            gaps = match_template(tpl, text)
            if gaps is None or not all(self._gap_ok(g) for g in gaps):
                continue
            filled = sum(len(_TOKEN.findall(g)) for g in gaps if (g,) not in self.templates)
            if filled <= MAX_MESSAGE_WORDS:
                return True
        return False

    def _gap_ok(self, gap: str) -> bool:
        if self.known_words(gap):
            return True
        # a whole constant message in a gap (a task text passed as an argument)
        return len(gap) <= MAX_TEXT and (gap,) in self.templates

    def value(self, value: Any, depth: int = 0, budget: list[int] | None = None) -> Any:
        """``value`` with every string that fails :meth:`text_ok` replaced by :data:`WITHHELD`
        (and dictionary keys likewise), floats cut to six significant digits, at most
        :data:`MAX_NUMBERS` numbers (the rest become ``None``); non-plain values ``None``."""
        budget = [MAX_NUMBERS] if budget is None else budget
        if depth > 40:
            return None
        if isinstance(value, str):
            return value if self.text_ok(value) else WITHHELD
        if value is None or isinstance(value, bool):
            return value
        if isinstance(value, int | float):
            budget[0] -= 1
            if budget[0] < 0:
                return None
            if isinstance(value, int) and abs(value) <= 10**9:
                return value  # counts and sizes stay exact
            return float(f"{float(value):.{_SIGNIFICANT}g}")
        if isinstance(value, list):
            return [self.value(v, depth + 1, budget) for v in value]
        if isinstance(value, dict):
            return {
                (k if isinstance(k, str) and self.known_words(k, 3) else WITHHELD): self.value(
                    v, depth + 1, budget
                )
                for k, v in value.items()
            }
        return None

    def reply(self, reply: dict[str, Any]) -> dict[str, Any]:
        """A vetted copy of one exercise's reply (``status``, ``message``, ``value``)."""
        out: dict[str, Any] = {"status": reply["status"], "message": ""}
        message = reply.get("message")
        if isinstance(message, str) and message:
            out["message"] = message if self.text_ok(message) else WITHHELD_MESSAGE
        if "value" in reply:
            out["value"] = self.value(reply["value"])
        return out


def checker_sources(exercises_module: str) -> list[str]:
    """Source text of the exercise framework and of ``exercises_module`` (imported already by
    the grader: an own assignment's checks module is the instructor's code)."""
    import mlcourse.exercises as package

    files = sorted(Path(package.__file__).resolve().parent.glob("*.py"))
    module = sys.modules.get(exercises_module)
    origin = getattr(module, "__file__", None)
    if origin:
        files.append(Path(origin))
    return [f.read_text(encoding="utf-8", errors="replace") for f in dict.fromkeys(files)]


def data_words(*folders: Path | None) -> set[str]:
    """Column names of the CSV tables in ``folders`` (header lines only)."""
    words: set[str] = set()
    for folder in folders:
        if folder is None or not Path(folder).is_dir():
            continue
        for table in sorted(Path(folder).glob("*.csv*"))[:50]:
            words |= _header_words(table)
    return words


def _header_words(table: Path) -> set[str]:
    import gzip

    opener = gzip.open if table.suffix == ".gz" else open
    try:
        with opener(table, "rt", encoding="utf-8", errors="replace", newline="") as fh:
            header = next(csv.reader(fh), [])
    except (OSError, EOFError, csv.Error):
        return set()
    return {w for col in header[:500] for w in _WORD.findall(col)}


def allowed_class_words() -> set[str]:
    """Short names and module words of the loader's allow-list."""
    from mlcourse.exercises._allowlist import ALLOWED_TYPES

    return {w for name in ALLOWED_TYPES for w in _WORD.findall(name)}
