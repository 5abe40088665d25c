"""Stored expected answers and the fingerprint of the data they were computed on.

``mlcourse release`` executes each solution notebook, probes it with seed 0 on the public
data and writes ``expected/NN_name.json``::

    {
      "notebook": "00_start_here",
      "seed": 0,
      "data_fingerprint": "<sha256 over the data files>",
      "source_fingerprint": "<sha256 over the solution notebook's code and the nbNN module>",
      "results": {"q1_players": {"status": "ok", "value": 12000}, ...}
    }

``check`` compares the learner's probe result against ``results[id]``; when the data in use
has another fingerprint it says so in its feedback. A student edition's copy has its
data-independent answers sealed (:func:`seal_record`, notes at the end of this module).
"""

from __future__ import annotations

import ast
import copy
import hashlib
import hmac
import importlib
import inspect
import json
import re
import secrets
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._cells import load_notebook
from ._registry import data_dir, expected_dir, notebook_modules

if TYPE_CHECKING:
    from .spec import Exercise, Plain

_DATA_SUFFIXES = (".csv", ".csv.gz", ".parquet", ".json")
_fingerprint_cache: dict[tuple, str] = {}


def data_fingerprint(directory: Path | None = None) -> str:
    """SHA-256 over the names and contents of the data files in ``directory``.

    Covers every ``*.csv``, ``*.csv.gz``, ``*.parquet`` and ``*.json`` file directly in the
    folder (``SHA256SUMS`` and ``README.md`` are not data). Cached by file size and
    modification time, so repeated checks do not re-read tens of megabytes.
    Returns ``"missing"`` when the folder does not exist.
    """
    directory = Path(directory or data_dir())
    if not directory.is_dir():
        return "missing"
    files = sorted(
        p for p in directory.iterdir() if p.is_file() and p.name.endswith(_DATA_SUFFIXES)
    )
    key = tuple((p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in files)
    key = (str(directory.resolve()), *key)
    if key not in _fingerprint_cache:
        total = hashlib.sha256()
        for p in files:
            # hashlib.file_digest streams the file; no need to hold it in memory
            with p.open("rb") as fh:
                digest = hashlib.file_digest(fh, "sha256").hexdigest()
            total.update(f"{p.name}:{digest}\n".encode())
        _fingerprint_cache[key] = total.hexdigest()
    return _fingerprint_cache[key]


def source_fingerprint(stem: str, solution_path: Path) -> str:
    """SHA-256 over the solution notebook's code cells and the ``nbNN`` module's source, and
    the source of every other ``nbNN`` module it imports helpers from (the second notebook of
    a topic uses the first one's checker machinery).

    When any of them changes, the stored expected answers may be stale: ``mlcourse release
    --check`` and the tests compare this against the stored value.
    """
    nb = load_notebook(solution_path)
    h = hashlib.sha256()
    for cell in nb.cells:
        if cell.cell_type == "code":
            h.update(cell.source.encode())
            h.update(b"\0")
    source = inspect.getsource(notebook_modules()[stem])
    h.update(source.encode())
    for name in _sibling_imports(source):
        h.update(b"\0")
        h.update(inspect.getsource(importlib.import_module(f"{__package__}.{name}")).encode())
    return h.hexdigest()


def _sibling_imports(source: str) -> list[str]:
    """Names of the ``nbNN`` modules of this package that ``source`` imports from."""
    names = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module:
            name = node.module.rsplit(".", 1)[-1]
            inside = node.level == 1 or node.module.startswith(f"{__package__}.")
            if inside and re.fullmatch(r"nb\d+\w*", name) and name not in names:
                names.append(name)
    return names


def expected_path(stem: str) -> Path:
    """``src/mlcourse/exercises/expected/<stem>.json``."""
    return expected_dir() / f"{stem}.json"


@cache
def _load(path: Path, mtime_ns: int) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def load_expected(stem: str) -> dict[str, Any] | None:
    """The stored expected record of a notebook, or None when it was never computed."""
    path = expected_path(stem)
    if not path.is_file():
        return None
    return _load(path, path.stat().st_mtime_ns)


def dumps_expected(record: dict[str, Any]) -> str:
    """Stable JSON text (sorted keys, fixed indentation, trailing newline)."""
    return json.dumps(record, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


# --------------------------------------------------------------------- the student edition
#
# A student edition ships the package, so it ships the expected answers ``check()`` compares
# against. For most exercises that is harmless: the answer is a value computed from the public
# data (the grader uses other data and seeds, so copying it earns nothing) or the output of the
# reference on generated inputs. A *data-independent* answer is the same on every variant: a
# multiple-choice letter, the kind of each column, the names of the leaky columns. Reading it
# from the file would be reading the graded answer. The edition therefore stores them *sealed*:
#
# * a choice exercise (``kind == "choice"``) keeps its judge's whole verdict table: for every
#   offered letter, the verdict the learner gets (status, score and message), encrypted with a
#   keystream derived from that letter (HMAC-SHA256 keyed by the letter over a random salt),
#   every entry padded to one length. Reading the file without trying letters tells nothing;
#   trying a letter is exactly answering the question (``check()`` says the same);
# * another data-independent answer (declared in :data:`DATA_INDEPENDENT` or in the module's
#   ``DATA_INDEPENDENT``) keeps one keyed tag per part of the answer (the whole value, each
#   value of a dict, each item of a set-like list); ``check()`` rebuilds from the learner's own
#   answer the parts that match and gives the judge unmatched placeholders for the rest, so the
#   judge's verdict, partial credit and message are those of the plain record, and the file
#   reveals only what ``check()`` says about an answer one tries.
#
# In the repository nothing is sealed: ``check()`` and the grader use the plain record.

#: shapes of data-independent non-choice answers: ``(notebook, exercise id) -> shape``;
#: ``"value"`` (whole value), ``"per_key"`` (a dict judged key by key with ``==``) or
#: ``"set"`` (a list judged as a set of strings). A module may add its own in a
#: ``DATA_INDEPENDENT = {exercise_id: shape}`` mapping.
DATA_INDEPENDENT: dict[tuple[str, str], str] = {
    ("01_encoding_basics", "q1_column_kinds"): "per_key",
    ("05_churn_labels_features", "q7_leaky_columns"): "set",
}
SEAL_SHAPES = ("value", "per_key", "set")
SEAL_VERSION = 1
#: stands for a part of the answer the learner's answer does not match (never a real answer:
#: it starts with a NUL character, which no probe result equals)
UNMATCHED = "\x00sealed"
_PAD = 64


def _canon(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _letter_key(letter: str, salt: str, context: str) -> bytes:
    return hmac.new(letter.encode(), f"{salt}:{context}".encode(), "sha256").digest()


def _keystream(key: bytes, n: int) -> bytes:
    return hashlib.shake_256(b"mlcourse-verdict:" + key).digest(n)


def _xor(data: bytes, stream: bytes) -> bytes:
    return bytes(a ^ b for a, b in zip(data, stream, strict=True))


def _tag(salt: str, context: str, part: str, value: Any) -> str:
    msg = f"{context}:{part}:".encode() + _canon(value)
    return hmac.new(salt.encode(), msg, "sha256").hexdigest()[:32]


def data_independent(notebook: str) -> dict[str, str]:
    """``{exercise id: shape}`` of a notebook's data-independent non-choice answers."""
    out = {ex_id: shape for (nb, ex_id), shape in DATA_INDEPENDENT.items() if nb == notebook}
    mod = notebook_modules().get(notebook)
    out.update(getattr(mod, "DATA_INDEPENDENT", {}) or {})
    bad = {k: v for k, v in out.items() if v not in SEAL_SHAPES}
    if bad:
        raise ValueError(f"{notebook}: unknown DATA_INDEPENDENT shapes {bad}; use {SEAL_SHAPES}")
    return out


def seal_choice(ex: Exercise, expected: Plain, salt: str | None = None) -> dict[str, Any]:
    """The sealed verdict table of a choice exercise (see the module notes above).

    Every letter of ``ex.choices`` gets ``ex.judge(letter, expected)`` as
    ``{"status", "score", "message"}`` JSON, padded to a common length and XORed with a
    keystream derived from the letter; the table's keys are all the offered letters.
    """
    from .spec import Outcome

    salt = salt or secrets.token_hex(16)
    context = f"{ex.notebook}:{ex.id}"
    plain: dict[str, bytes] = {}
    for letter in sorted(ex.choices or {}):
        outcome = ex.judge(letter, expected)
        if not isinstance(outcome, Outcome):
            raise TypeError(f"{context}: the judge returned {outcome!r}, not an Outcome")
        verdict = {"message": outcome.message, "score": outcome.score, "status": outcome.status}
        plain[letter.upper()] = _canon(verdict)
    width = -(-max(len(v) for v in plain.values()) // _PAD) * _PAD + _PAD
    table = {
        letter: _xor(text.ljust(width), _keystream(_letter_key(letter, salt, context), width)).hex()
        for letter, text in plain.items()
    }
    return {
        "sealed": "verdicts",
        "v": SEAL_VERSION,
        "context": context,
        "salt": salt,
        "table": table,
    }


def open_verdict(sealed: Mapping[str, Any], letter: str, context: str) -> dict[str, Any] | None:
    """The verdict a sealed table stores for ``letter`` (``None`` when it holds no such entry)."""
    table = sealed.get("table")
    salt = sealed.get("salt")
    if not isinstance(table, Mapping) or not isinstance(salt, str):
        return None
    blob = table.get(letter)
    if not isinstance(blob, str):
        return None
    try:
        data = bytes.fromhex(blob)
        text = _xor(data, _keystream(_letter_key(letter, salt, context), len(data)))
        verdict = json.loads(text.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        return None
    return verdict if isinstance(verdict, dict) else None


def seal_value(ex: Exercise, expected: Plain, shape: str, salt: str | None = None) -> dict:
    """Keyed tags of a data-independent answer's parts (``shape`` in :data:`SEAL_SHAPES`)."""
    salt = salt or secrets.token_hex(16)
    context = f"{ex.notebook}:{ex.id}"
    out: dict[str, Any] = {"sealed": shape, "v": SEAL_VERSION, "salt": salt}
    if shape == "per_key":
        if not isinstance(expected, dict):
            raise TypeError(f"{context}: a per_key answer must be a dict")
        out["keys"] = {k: _tag(salt, context, k, v) for k, v in sorted(expected.items())}
    elif shape == "set":
        if not isinstance(expected, list):
            raise TypeError(f"{context}: a set answer must be a list")
        out["items"] = sorted({_tag(salt, context, "item", v) for v in expected})
    else:
        out["value"] = _tag(salt, context, "value", expected)
    return out


def unseal(expected: Any, student: Any, context: str) -> Any:
    """The expected entry ``check()`` judges with, rebuilt from a sealed one and the answer.

    ``expected`` is an entry of a record's ``results`` (``{"status": "ok", "value": ...}``),
    ``student`` the learner's probe result, ``context`` ``"notebook:exercise id"``. Plain
    entries and sealed choice tables come back unchanged (:func:`choice_judge` opens the
    table); for a sealed value the parts the learner's answer matches are the learner's own,
    the others :data:`UNMATCHED` placeholders.
    """
    if not isinstance(expected, Mapping) or not isinstance(expected.get("value"), Mapping):
        return expected
    sealed = expected["value"]
    shape, salt = sealed.get("sealed"), sealed.get("salt")
    if shape not in SEAL_SHAPES or not isinstance(salt, str):
        return expected
    value = student.get("value") if isinstance(student, Mapping) else None
    if shape == "per_key":
        mine = value if isinstance(value, dict) else {}
        rebuilt: Plain = {
            k: mine[k] if k in mine and _tag(salt, context, k, mine[k]) == tag else UNMATCHED
            for k, tag in (sealed.get("keys") or {}).items()
        }
    elif shape == "set":
        tags = set(sealed.get("items") or [])
        mine = value if isinstance(value, list) else []
        hits = sorted({v for v in mine if _tag(salt, context, "item", v) in tags}, key=_canon)
        rebuilt = [*hits, *(f"{UNMATCHED}-{i}" for i in range(len(tags) - len(hits)))]
    else:
        same = _tag(salt, context, "value", value) == sealed.get("value")
        rebuilt = value if same else UNMATCHED
    return {**expected, "value": rebuilt}


def record_choice(ex: Exercise) -> dict[str, Any]:
    """What an edition meant for grading stores for a choice exercise: the offered letters,
    no key and no verdicts. ``check()`` then answers "recorded" (see ``choice_judge``)."""
    return {"sealed": "recorded", "v": SEAL_VERSION, "letters": sorted(ex.choices or {})}


def seal_record(record: dict[str, Any], *, recorded_choices: bool = False) -> dict[str, Any]:
    """A student edition's copy of an expected record: data-independent answers sealed.

    With ``recorded_choices`` a choice exercise keeps no key at all (:func:`record_choice`):
    an edition meant for grading, where ``check()`` records the letter instead of judging it.
    """
    from ._registry import exercises_for

    stem = record["notebook"]
    shapes = data_independent(stem)
    out = copy.deepcopy(record)
    for ex in exercises_for(stem):
        entry = out.get("results", {}).get(ex.id)
        if not isinstance(entry, dict) or entry.get("status") != "ok":
            continue
        if ex.kind == "choice":
            entry["value"] = (
                record_choice(ex) if recorded_choices else seal_choice(ex, entry["value"])
            )
        elif ex.id in shapes:
            entry["value"] = seal_value(ex, entry["value"], shapes[ex.id])
    out["sealed"] = True
    if recorded_choices:
        out["choices"] = "recorded"
    return out
