"""House rules a maintainer relies on: functions short enough to change safely."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src"
MAX_LINES = 80


def _long_functions(src: Path = SRC) -> list[str]:
    found = []
    for path in sorted(src.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = node.end_lineno - node.lineno + 1
                if length > MAX_LINES:
                    where = path.relative_to(src.parent)
                    found.append(f"{where}:{node.lineno} {node.name} ({length} lines)")
    return found


def test_no_function_in_src_is_longer_than_80_lines() -> None:
    long = _long_functions()
    assert not long, (
        f"split these into named steps (at most {MAX_LINES} lines each, docstring included):\n"
        + "\n".join(long)
    )


def test_the_length_check_sees_a_long_function(tmp_path: Path) -> None:
    pkg = tmp_path / "src" / "pkg"
    pkg.mkdir(parents=True)
    body = "\n".join(f"    x{i} = {i}" for i in range(MAX_LINES))
    (pkg / "m.py").write_text(f"def short():\n    pass\n\n\ndef long():\n{body}\n")
    assert [line.split()[1] for line in _long_functions(tmp_path / "src")] == ["long"]
