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
has another fingerprint it says so in its feedback.
"""

from __future__ import annotations

import base64
import hashlib
import inspect
import json
import zlib
from functools import cache
from pathlib import Path
from typing import Any

from ._cells import load_notebook
from ._registry import data_dir, expected_dir, notebook_modules

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
    """SHA-256 over the solution notebook's code cells and the ``nbNN`` module's source.

    When either changes, the stored expected answers may be stale: ``mlcourse release
    --check`` and the tests compare this against the stored value.
    """
    nb = load_notebook(solution_path)
    h = hashlib.sha256()
    for cell in nb.cells:
        if cell.cell_type == "code":
            h.update(cell.source.encode())
            h.update(b"\0")
    h.update(inspect.getsource(notebook_modules()[stem]).encode())
    return h.hexdigest()


def expected_path(stem: str) -> Path:
    """``src/mlcourse/exercises/expected/<stem>.json``."""
    return expected_dir() / f"{stem}.json"


@cache
def _load(path: Path, mtime_ns: int) -> dict[str, Any]:
    record = json.loads(path.read_text(encoding="utf-8"))
    if isinstance(record, dict) and set(record) == {"encoded"}:  # a student edition's copy
        record = json.loads(zlib.decompress(base64.b64decode(record["encoded"])))
    return record


def encode_record(text: str) -> str:
    """The student edition's form of an expected record: the same data, not readable at a glance.

    The answers are values a learner could compute anyway, and grading uses other data
    and seeds; encoding only keeps them out of plain sight (and out of casual greps).
    """
    blob = base64.b64encode(zlib.compress(text.encode("utf-8"), 9)).decode("ascii")
    return json.dumps({"encoded": blob}) + "\n"


def load_expected(stem: str) -> dict[str, Any] | None:
    """The stored expected record of a notebook, or None when it was never computed."""
    path = expected_path(stem)
    if not path.is_file():
        return None
    return _load(path, path.stat().st_mtime_ns)


def dumps_expected(record: dict[str, Any]) -> str:
    """Stable JSON text (sorted keys, fixed indentation, trailing newline)."""
    return json.dumps(record, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
