"""``mlcourse release``: build the learner notebooks (and a student edition) from solutions/.

``solutions/NN_name.ipynb`` is the single source. A release

1. writes ``notebooks/NN_name.ipynb``: every solution region replaced by a placeholder,
   outputs stripped, byte-identical on every rerun;
2. executes each solution notebook in a kernel, probes every exercise with seed 0 on the
   public data and writes ``src/mlcourse/exercises/expected/NN_name.json`` (what ``check``
   compares against), with fingerprints of the data and of the solution source.

Placeholders (see docs/authoring.md) keep the learner notebook runnable top to bottom:

* ``name = <solution>``                  -> ``name = ...  # your answer here``
* ``def f(...): <body>``                 -> signature and docstring kept, body
  ``raise NotImplementedError("replace this line with your code")``
* a class                                -> header, docstring, methods as above
* an indented region (inside a function) -> ``raise NotImplementedError(...)``
* imports, expressions, loops, prints    -> dropped (names they bind get ``= ...``)

``check`` reports ``...`` and ``NotImplementedError`` as "not attempted".

Usage::

    mlcourse release                         # notebooks/ + expected answers
    mlcourse release --check                 # exit 1 when notebooks/ or expected/ is stale
    mlcourse release --student-edition DIR   # a classroom copy without solutions
"""

from __future__ import annotations

import argparse
import ast
import copy
import hashlib
import json
import re
import shutil
import sys
from pathlib import Path
from typing import Any

import nbformat

from mlcourse.exercises import (
    PLACEHOLDER_MESSAGE,
    cell_exercise_id,
    data_dir,
    data_fingerprint,
    dumps_expected,
    exercise_cell_problems,
    exercises_for,
    expected_path,
    is_solution_cell,
    load_expected,
    notebook_modules,
    package_root,
    region_text,
    replace_regions,
    seal_record,
    solution_regions,
    source_fingerprint,
)
from mlcourse.exercises.spec import SOLUTION_TAG

ANSWER_COMMENT = "# your answer here"
_RAISE = f'raise NotImplementedError("{PLACEHOLDER_MESSAGE}")'
_MARKDOWN_PLACEHOLDER = "_Write your answer here._"
# notebook-level metadata kept in learner notebooks (the rest is editor noise)
_KEEP_NB_METADATA = ("kernelspec", "language_info")
#: ``metadata["mlcourse"][FINGERPRINT_KEY]`` of a learner edition: a hash of its cells'
#: sources as released. A notebook whose sources no longer match it was edited by someone
#: (a learner's answers), and ``release`` will not overwrite it without ``--force``.
FINGERPRINT_KEY = "released_sources"


class ReleaseError(RuntimeError):
    """A solution notebook cannot be released; the message says where and why."""


# ---------------------------------------------------------------------------- placeholders


def _bound_names(node: ast.AST) -> list[str]:
    """Names bound at module level by a statement (not inside nested functions/classes)."""
    names: list[str] = []

    def visit(n: ast.AST) -> None:
        scoped = (
            ast.FunctionDef,
            ast.AsyncFunctionDef,
            ast.ClassDef,
            ast.Lambda,
            ast.comprehension,
        )
        if isinstance(n, scoped):
            return
        if isinstance(n, ast.For | ast.AsyncFor):  # the loop variable is not an answer
            for child in [n.iter, *n.body, *n.orelse]:
                visit(child)
            return
        if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store):
            names.append(n.id)
        if isinstance(n, ast.Import | ast.ImportFrom):
            return
        for child in ast.iter_child_nodes(n):
            visit(child)

    visit(node)
    return names


def _def_placeholder(node: ast.AST, lines: list[str]) -> str:
    """Keep a def's decorators, signature and docstring; the body raises."""
    assert isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
    first = node.decorator_list[0].lineno if node.decorator_list else node.lineno
    body = node.body
    has_doc = (
        isinstance(body[0], ast.Expr)
        and isinstance(body[0].value, ast.Constant)
        and isinstance(body[0].value.value, str)
    )
    if body[0].lineno == node.lineno:  # one-line def: no separate header lines to keep
        stub = copy.deepcopy(node)
        stub.body = [ast.parse(_RAISE).body[0]]
        # ast.unparse quotes with '...'; use the double quotes of the rest of the course
        return ast.unparse(stub).replace(repr(PLACEHOLDER_MESSAGE), f'"{PLACEHOLDER_MESSAGE}"')
    keep_until = body[0].end_lineno if has_doc else body[0].lineno - 1
    header = lines[first - 1 : keep_until]
    # the header's last line may end before the body starts (comments between are dropped)
    indent = " " * body[0].col_offset
    if isinstance(node, ast.ClassDef):
        members = [
            _def_placeholder(m, lines)
            for m in body
            if isinstance(m, ast.FunctionDef | ast.AsyncFunctionDef)
        ]
        out = list(header)
        dedent = body[0].col_offset
        for m in members:
            out.append("")
            out.extend(indent + x if x else x for x in _dedent(m, dedent).splitlines())
        if not members:
            out.append(indent + "pass" if has_doc else indent + "...")
        return "\n".join(out)
    return "\n".join([*header, indent + _RAISE])


def _dedent(text: str, n: int) -> str:
    return "\n".join(line[n:] if line[:n].strip() == "" else line for line in text.splitlines())


def make_placeholder(code: str, exercise_id: str | None = None, indented: bool = False) -> str:
    """The learner's placeholder for one solution region's ``code``.

    Examples
    --------
    >>> print(make_placeholder("import numpy as np\\nn = len(players)\\nshare = n / 2", "q1"))
    # Exercise q1: replace each ... with your answer.
    n = ...  # your answer here
    share = ...  # your answer here
    """
    if indented:
        return f"{ANSWER_COMMENT}\n{_RAISE}"
    try:
        tree = ast.parse(code)
    except SyntaxError as exc:
        raise ReleaseError(f"the solution region does not parse as Python ({exc})") from exc
    lines = code.splitlines()
    blocks: list[tuple[bool, str]] = []  # (is a definition, text)
    seen: set[str] = set()
    for stmt in tree.body:
        if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            blocks.append((True, _def_placeholder(stmt, lines)))
            seen.add(stmt.name)
            continue
        for name in _bound_names(stmt):
            if name not in seen:
                seen.add(name)
                blocks.append((False, f"{name} = ...  {ANSWER_COMMENT}"))
    out: list[str] = []
    for i, (is_def, text) in enumerate(blocks):
        if i and (is_def or blocks[i - 1][0]):  # two blank lines around definitions (PEP 8)
            out.extend(["", ""])
        out.append(text)
    n_names = sum(line.endswith(ANSWER_COMMENT) for line in out)
    has_defs = any("raise NotImplementedError(" in line for line in out)
    if has_defs and n_names:
        task = "replace each ... and each NotImplementedError line with your code."
    elif has_defs:
        task = "replace the NotImplementedError line(s) with your code."
    else:
        task = f"replace {'each' if n_names > 1 else 'the'} ... with your answer."
    head = f"# Exercise {exercise_id}: {task}" if exercise_id else f"# {task.capitalize()}"
    return "\n".join([head, *out])


# --------------------------------------------------------------------- learner notebooks


def learner_notebook(nb: nbformat.NotebookNode, name: str = "notebook") -> nbformat.NotebookNode:
    """A learner edition of a solution notebook (placeholders, no outputs, no solution tag)."""
    out = copy.deepcopy(nb)
    out.metadata = nbformat.NotebookNode(
        {k: out.metadata[k] for k in _KEEP_NB_METADATA if k in out.metadata}
    )
    for i, cell in enumerate(out.cells):
        _clean_cell(cell)
        try:
            regions = solution_regions(cell)
        except ValueError as exc:
            raise ReleaseError(f"{name}, cell {i}: {exc}") from exc
        if regions:
            ex_id = cell_exercise_id(cell)
            if cell.cell_type == "markdown":
                cell.source = _MARKDOWN_PLACEHOLDER
            else:
                try:
                    texts = [
                        make_placeholder(region_text(cell, r), ex_id, indented=bool(r.indent))
                        for r in regions
                    ]
                except ReleaseError as exc:
                    raise ReleaseError(f"{name}, cell {i}: {exc}") from exc
                cell.source = replace_regions(cell, texts)
        tags = [t for t in cell.metadata.get("tags", []) if t != SOLUTION_TAG]
        if tags:
            cell.metadata["tags"] = tags
        else:
            cell.metadata.pop("tags", None)
    out.metadata["mlcourse"] = {FINGERPRINT_KEY: sources_fingerprint(out)}
    return out


def sources_fingerprint(nb: Any) -> str:
    """A hash of the notebook's cell kinds and sources (outputs and metadata left out)."""
    digest = hashlib.sha256()
    for cell in nb.get("cells", []):
        source = cell.get("source", "")
        text = "".join(source) if isinstance(source, list) else str(source)
        digest.update(f"{cell.get('cell_type')}\0{text}\0".encode())
    return digest.hexdigest()[:32]


def edited_notebooks(root: Path | None = None) -> list[str]:
    """Learner notebooks in ``notebooks/`` whose cells changed since they were released.

    Running a notebook (outputs) does not count; a changed, added or removed cell does. A
    notebook without a fingerprint counts as edited when it differs from what ``release``
    writes now. A file that is not a readable notebook counts as edited (it may still hold
    someone's work).
    """
    root = root or package_root()
    wanted = learner_texts(root)
    edited = []
    for path in sorted((root / "notebooks").glob("*.ipynb")):
        try:
            nb = json.loads(path.read_text(encoding="utf-8"))
            recorded = nb.get("metadata", {}).get("mlcourse", {}).get(FINGERPRINT_KEY)
        except (OSError, UnicodeDecodeError, ValueError, AttributeError):
            edited.append(f"notebooks/{path.name}")
            continue
        if recorded is None:
            fresh = wanted.get(path.stem)
            same = fresh is not None and sources_fingerprint(json.loads(fresh)) == (
                sources_fingerprint(nb)
            )
            if not same:
                edited.append(f"notebooks/{path.name}")
        elif recorded != sources_fingerprint(nb):
            edited.append(f"notebooks/{path.name}")
    return edited


def edited_message(edited: list[str], what: str) -> str:
    """What to do about learner notebooks with someone's work in them."""
    names = ", ".join(edited)
    return (
        f"{names} {'has' if len(edited) == 1 else 'have'} been edited since the last release "
        f"(answers typed into the learner edition), and {what}. To keep that work, copy the "
        "notebooks elsewhere first (e.g. `cp -r notebooks my-answers`). Then run "
        "`make release FORCE=1` (or `.venv/bin/mlcourse release --force`) to write fresh "
        "learner editions over them."
    )


def _clean_cell(cell: nbformat.NotebookNode) -> None:
    for key in ("execution", "collapsed", "scrolled", "ExecuteTime"):
        cell.metadata.pop(key, None)
    if cell.cell_type == "code":
        cell.outputs = []
        cell.execution_count = None


def render(nb: nbformat.NotebookNode) -> str:
    """Serialise a notebook deterministically (nbformat 4, sorted keys, trailing newline)."""
    nbformat.validate(nb)
    return nbformat.writes(nb, version=4) + "\n"


def solution_paths(root: Path | None = None) -> dict[str, Path]:
    """``{stem: solutions/stem.ipynb}`` for every solution notebook."""
    root = root or package_root()
    return {p.stem: p for p in sorted((root / "solutions").glob("*.ipynb"))}


def learner_texts(root: Path | None = None) -> dict[str, str]:
    """``{stem: learner notebook text}`` for every solution notebook (nothing written)."""
    out: dict[str, str] = {}
    for stem, path in solution_paths(root).items():
        nb = nbformat.read(path, as_version=4)
        out[stem] = render(learner_notebook(nb, path.name))
    return out


def validate_solutions(root: Path | None = None, only: list[str] | None = None) -> list[str]:
    """Problems between solution notebooks and exercise modules (ids, outputs)."""
    problems: list[str] = []
    mods = notebook_modules()
    for stem, path in solution_paths(root).items():
        if only and stem not in only:
            continue
        nb = nbformat.read(path, as_version=4)
        if stem in mods:
            problems += [
                f"{path.name}: {p}" for p in exercise_cell_problems(nb, mods[stem].EXERCISES)
            ]
        for i, cell in enumerate(nb.cells):
            if cell.cell_type == "code" and cell.outputs:
                problems.append(f"{path.name}: cell {i} carries outputs; clear them")
            if is_solution_cell(cell) and cell.cell_type not in ("code", "markdown"):
                problems.append(f"{path.name}: cell {i} is a raw cell tagged solution")
    return problems


# ----------------------------------------------------------------------- expected answers


def compute_expected(stem: str, path: Path, timeout: int = 300) -> dict[str, Any]:
    """Execute a solution notebook, probe it (seed 0, public data), assess and build the record.

    :meth:`KernelSession.probe` probes with per-exercise seeds derived from the public seed 0
    and applies the ``assess`` steps on the public data and ``datasets/heldout``, exactly as
    ``check()`` does on a learner's answer.
    """
    from mlcourse.exercises import KernelSession

    nb = nbformat.read(path, as_version=4)
    folder = data_dir()
    with KernelSession(nb, timeout=timeout) as session:
        session.run_notebook()
        results = session.probe(stem, seed=0, data_dir=str(folder))
    return {
        "notebook": stem,
        "seed": 0,
        "data_fingerprint": data_fingerprint(folder),
        "source_fingerprint": source_fingerprint(stem, path),
        "results": results,
    }


def stale_expected(root: Path | None = None) -> list[str]:
    """Notebooks whose stored expected answers do not match the current sources or data."""
    stale: list[str] = []
    mods = notebook_modules()
    for stem, path in solution_paths(root).items():
        if stem not in mods:
            continue
        record = load_expected(stem)
        if record is None:
            stale.append(f"{expected_path(stem).name}: missing")
            continue
        if record.get("source_fingerprint") != source_fingerprint(stem, path):
            stale.append(f"{expected_path(stem).name}: {path.name} or its exercises module changed")
        if record.get("data_fingerprint") != data_fingerprint():
            stale.append(f"{expected_path(stem).name}: computed on other data files")
    return stale


# --------------------------------------------------------------------------- the release


def release(
    root: Path | None = None,
    *,
    expected: bool = True,
    only: list[str] | None = None,
    force: bool = False,
) -> list[Path]:
    """Write notebooks/ (and the expected answers); return the files that changed.

    Raises :class:`ReleaseError` when a learner notebook it would rewrite has been edited
    (:func:`edited_notebooks`), unless ``force``.
    """
    root = root or package_root()
    problems = validate_solutions(root, only)
    if problems:
        raise ReleaseError("fix the solution notebooks first:\n  " + "\n  ".join(problems))
    edited = [e for e in edited_notebooks(root) if not only or Path(e).stem in only]
    if edited and not force:
        raise ReleaseError(edited_message(edited, "`release` would overwrite that work"))
    changed: list[Path] = []
    (root / "notebooks").mkdir(exist_ok=True)
    for stem, text in learner_texts(root).items():
        if only and stem not in only:
            continue
        changed += _write_if_changed(root / "notebooks" / f"{stem}.ipynb", text)
    if expected:
        mods = notebook_modules()
        for stem, path in solution_paths(root).items():
            if stem not in mods or (only and stem not in only):
                continue
            print(f"executing {path.name} to compute the expected answers ...", flush=True)
            record = compute_expected(stem, path)
            bad = {k: v for k, v in record["results"].items() if v["status"] != "ok"}
            if bad:
                raise ReleaseError(
                    f"the reference solution in {path.name} does not answer every exercise:\n"
                    + "\n".join(
                        f"  {k}: {v['status']}: {v.get('message', '')}" for k, v in bad.items()
                    )
                )
            target = expected_path(stem)
            target.parent.mkdir(exist_ok=True)
            changed += _write_if_changed(target, dumps_expected(record))
            for warning in standout_warnings(exercises_for(stem), record):
                print(f"warning: {path.name}: {warning}", file=sys.stderr)
    return changed


def _write_if_changed(path: Path, text: str) -> list[Path]:
    if path.is_file() and path.read_text(encoding="utf-8") == text:
        return []
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text, encoding="utf-8", newline="\n")
    tmp.replace(path)
    return [path]


def stale_notebooks(root: Path | None = None) -> list[str]:
    """Learner notebooks that differ from what ``release`` would write (or are missing)."""
    root = root or package_root()
    stale = []
    wanted = learner_texts(root)
    for stem, text in wanted.items():
        path = root / "notebooks" / f"{stem}.ipynb"
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            stale.append(f"notebooks/{stem}.ipynb")
    for path in sorted((root / "notebooks").glob("*.ipynb")):
        if path.stem not in wanted:
            stale.append(f"notebooks/{path.name} (no solutions/{path.name})")
    return stale


# ---------------------------------------------------------------------- student edition

#: calls that build a multiple-choice exercise, and the position of their explanations
_CHOICE_CALLS = {"_choice": 3, "choice_exercise": 4, "choice": 3}


def strip_choice_explanations(source: str) -> str:
    """``source`` with the explanations of every multiple-choice exercise emptied.

    The explanations are what ``check()`` says for each letter; written in a module's source,
    the right letter's reads differently from the others, so a shipped module must not hold
    them. An edition does not need them: its sealed verdict table carries each letter's
    message (and an edition with recorded choices says none). Finds calls to ``_choice``,
    ``choice_exercise`` and ``<assignment>.choice`` (positional or ``explanations=``); a
    dictionary literal keeps its letters with empty texts (the letters are public).

    Raises
    ------
    ReleaseError
        When the explanations are not written as a dictionary literal in the call (they
        could not be removed).
    """
    tree = ast.parse(source)
    offsets = [0]
    for line in source.splitlines(keepends=True):
        offsets.append(offsets[-1] + len(line))
    edits: list[tuple[int, int, str]] = []
    for node in ast.walk(tree):
        arg = _explanations_arg(node)
        if arg is None:
            continue
        if not isinstance(arg, ast.Dict) or any(k is None for k in arg.keys):
            raise ReleaseError(
                f"line {arg.lineno}: write a multiple-choice exercise's explanations as a "
                "dictionary literal in the call, so that the edition can leave them out"
            )
        letters = ", ".join(f"{ast.unparse(k)}: ''" for k in arg.keys if k is not None)
        start = offsets[arg.lineno - 1] + _char_col(source, offsets, arg.lineno, arg.col_offset)
        end_line, end_col = arg.end_lineno or arg.lineno, arg.end_col_offset or 0
        end = offsets[end_line - 1] + _char_col(source, offsets, end_line, end_col)
        edits.append((start, end, "{" + letters + "}"))
    for start, end, text in sorted(edits, reverse=True):
        source = source[:start] + text + source[end:]
    return source


def _explanations_arg(node: ast.AST) -> ast.expr | None:
    """The explanations argument of a call that builds a choice exercise (else ``None``)."""
    if not isinstance(node, ast.Call):
        return None
    func = node.func
    name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
    if name not in _CHOICE_CALLS:
        return None
    for kw in node.keywords:
        if kw.arg == "explanations":
            return kw.value
    pos = _CHOICE_CALLS[name]
    arg = node.args[pos] if len(node.args) > pos else None
    if isinstance(func, ast.Attribute) and not isinstance(arg, ast.Dict):
        return None  # `rng.choice(a, size, replace, p)` and the like: not an exercise
    return arg


def _char_col(source: str, offsets: list[int], lineno: int, byte_col: int) -> int:
    """ast's column is in UTF-8 bytes; the character column on that line."""
    line = source[offsets[lineno - 1] : offsets[lineno]]
    return len(line.encode("utf-8")[:byte_col].decode("utf-8", errors="ignore"))


def standout_warnings(exercises: Any, record: dict[str, Any], ratio: float = 1.3) -> list[str]:
    """Choice exercises whose right option is much longer than every other option.

    A learner who cannot answer still picks the longest, most careful option; when that is
    the right one, the question tests nothing.
    """
    warnings = []
    results = record.get("results", {})
    for ex in exercises:
        if ex.kind != "choice" or not ex.choices:
            continue
        key = results.get(ex.id, {}).get("value")
        if not isinstance(key, str) or key.upper() not in {k.upper() for k in ex.choices}:
            continue
        texts = {k.upper(): str(v) for k, v in ex.choices.items()}
        right = len(texts[key.upper()])
        others = [len(v) for k, v in texts.items() if k != key.upper()]
        if others and right > ratio * max(others):
            warnings.append(
                f"{ex.id}: the right option ({key.upper()}, {right} characters) is much longer "
                f"than every other one (at most {max(others)}): a learner can pick it by its "
                "length; make the options alike"
            )
    return warnings


#: files copied unchanged into a student edition (the lock and pyproject.toml are rewritten)
_EDITION_FILES = (
    "environment.yml",
    "LICENSE",
    "scripts/bootstrap.sh",
    "etc/jupyter/jupyter_server_config.py",
)
#: pyproject.toml tables a student edition leaves out (development and cluster extras, tests)
_EDITION_DROPPED_TABLES = ("project.optional-dependencies", "tool.pytest.ini_options")
_STUDENT_README = """\
# Lumen Isles: classical machine learning on game telemetry (student edition)

## Set up (once)

You need Python 3.11 or newer and `make`:

    make lab        # first run builds .venv from requirements.lock, then opens JupyterLab

Without `make`: `python -m venv .venv`, then
`.venv/bin/python -m pip install -r requirements.lock` and
`.venv/bin/python -m pip install --no-deps -e .`, then
`.venv/bin/jupyter lab notebooks/00_start_here.ipynb` (on Windows: `.venv\\Scripts\\python`).
With conda: `conda env create -f environment.yml && conda activate mlcourse && jupyter lab`.
`make doctor` checks the installation.

## Work

Open the notebooks in order, starting with `notebooks/00_start_here.ipynb`. In every
notebook, `check("id")` tells you whether an answer is right, `hint("id")` helps, and
`hint("id", level=2)` helps more. This edition has no worked solutions: ask your instructor.

Save your notebook, then `make check-all NOTEBOOK=01` runs it from the top in a fresh kernel
and prints the verdict of every exercise, as a last look before you hand it in.

## Commands

| command | what it does |
|---|---|
| `make lab` | open the course in JupyterLab (`PORT=8889`, `LAB_ARGS=--no-browser` to adjust) |
| `make doctor` | check the installation (paste the output into a question to your instructor) |
| `make check-all NOTEBOOK=01` | run your saved notebook and every check of its exercises |
| `make help` | list these commands |

Contents: `notebooks/` (the course), `datasets/` (the Lumen Isles data, nothing to
download), `src/mlcourse/` (the helper package the notebooks import).
"""
# Only targets that work without solutions, tests or development tools.
_STUDENT_MAKEFILE = """\
# Lumen Isles, student edition. `make help` lists the commands. The environment (.venv) is
# built from requirements.lock (runtime packages only) on first use.
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.mlcourse-installed
PORT   ?= 8888
# extra JupyterLab flags, e.g. LAB_ARGS=--no-browser; root (containers) needs --allow-root
LAB_ARGS ?=
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root)

.DEFAULT_GOAL := help
.PHONY: help lab doctor check-all

$(STAMP): requirements.lock pyproject.toml scripts/bootstrap.sh
\t@VENV=$(VENV) bash scripts/bootstrap.sh
\t@touch $@

help:  ## list the commands
\t@awk -F ':.*## ' '/^[a-z][a-z-]*:.*## /{printf "  make %-10s %s\\n", $$1, $$2}' $(MAKEFILE_LIST)

lab: $(STAMP)  ## open the course in JupyterLab
\tJUPYTER_CONFIG_PATH="$(CURDIR)/etc/jupyter$${JUPYTER_CONFIG_PATH:+:$$JUPYTER_CONFIG_PATH}" \\
\t\t$(VENV)/bin/jupyter lab --port=$(PORT) $(ROOT_FLAG) --ServerApp.root_dir="$(CURDIR)" \\
\t\t--LabApp.default_url=/lab/tree/notebooks/00_start_here.ipynb $(LAB_ARGS)

doctor: $(STAMP)  ## check the installation
\t$(PY) -m mlcourse doctor

check-all: $(STAMP)  ## NOTEBOOK=01: run your saved notebook, then every check of it
\t@test -n "$(NOTEBOOK)" || { echo "say which notebook: make check-all NOTEBOOK=01"; exit 2; }
\t$(PY) -m mlcourse.authoring check-all $(NOTEBOOK)
"""
_STUDENT_GITIGNORE = """\
# environment, caches and editor state (your notebooks are yours to commit)
.venv/
__pycache__/
*.py[cod]
*.egg-info/
.ipynb_checkpoints/
.pytest_cache/
.ruff_cache/
.DS_Store
"""


def _normalise_name(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def runtime_lock(lock_text: str, runtime: list[str], exclude: tuple[str, ...] = ()) -> str:
    """The part of a ``uv pip compile`` lock that the ``runtime`` requirements need.

    The course's lock also pins the development and cluster extras. Every pin's ``# via``
    annotation names the packages that pull it in; a pin is kept when it is a runtime
    requirement or when a kept pin pulls it in (``mlcourse (pyproject.toml)`` alone does not
    count: the extras come from there too). Versions and markers are kept as they are.
    Packages named in ``exclude`` are left out, and so is what only they pull in.

    Examples
    --------
    >>> lock = "a==1\\n    # via mlcourse (pyproject.toml)\\nb==2\\n    # via a\\n"
    >>> lock += "c==3\\n    # via mlcourse (pyproject.toml)\\n"
    >>> print(runtime_lock(lock, ["a>=1"]), end="")
    # runtime packages of mlcourse only (filtered from the course's requirements.lock)
    a==1
        # via mlcourse (pyproject.toml)
    b==2
        # via a
    """
    from packaging.requirements import Requirement

    blocks: list[tuple[str, list[str], set[str]]] = []  # (name, lines, parents)
    for line in lock_text.splitlines():
        if line and not line[0].isspace() and not line.startswith("#"):
            name = re.split(r"[\[=<>!~; ]", line, maxsplit=1)[0]
            blocks.append((_normalise_name(name), [line], set()))
        elif blocks and line.strip().startswith("#"):
            blocks[-1][1].append(line)
            parent = line.strip().lstrip("#").strip().removeprefix("via").strip()
            if parent and "(pyproject.toml)" not in parent:
                blocks[-1][2].add(_normalise_name(parent.split()[0]))
    dropped = {_normalise_name(n) for n in exclude}
    keep = {_normalise_name(Requirement(r).name) for r in runtime} - dropped
    changed = True
    while changed:
        changed = False
        for name, _lines, parents in blocks:
            if name not in keep and name not in dropped and parents & keep:
                keep.add(name)
                changed = True
    out = ["# runtime packages of mlcourse only (filtered from the course's requirements.lock)"]
    for name, lines, _parents in blocks:
        if name in keep:
            out.extend(lines)
    return "\n".join(out) + "\n"


def _runtime_pyproject(text: str) -> str:
    """``pyproject.toml`` without the tables a student edition does not use."""
    out: list[str] = []
    skipping = False
    for line in text.splitlines():
        header = re.match(r"^\[([^\[\]]+)\]\s*$", line)
        if header:
            skipping = header.group(1).strip() in _EDITION_DROPPED_TABLES
        if not skipping:
            out.append(line)
    return "\n".join(out).rstrip("\n") + "\n"


def _runtime_requirements(pyproject_text: str) -> list[str]:
    import tomllib

    return list(tomllib.loads(pyproject_text).get("project", {}).get("dependencies", []))


def student_edition(
    dest: Path, root: Path | None = None, *, recorded_choices: bool = False
) -> Path:
    """Write a classroom copy: learner notebooks, datasets, package source, a clean project.

    No solution notebook and no solution text is copied: ``solution("id")`` in this
    edition answers that the instructor keeps the solutions, and the last hint does not
    point at it. The expected answers ship with their data-independent ones (multiple-choice
    letters and the answers a module declares in ``DATA_INDEPENDENT``) sealed
    (:func:`~mlcourse.exercises.seal_record`): ``check()`` works as before, reading
    the files reveals nothing. The project around it is what a learner needs: a Makefile with
    ``lab``, ``doctor``, ``check-all`` and ``help``, the runtime part of the lock, a
    ``pyproject.toml`` without development extras, a ``.gitignore`` and a README.

    No shipped file reveals a multiple-choice key: the exercise modules are shipped without
    the per-letter explanations (:func:`strip_choice_explanations`). With
    ``recorded_choices`` (an edition meant for grading) the expected answers hold no key at
    all and ``check()`` answers "recorded" for those questions.
    """
    root = root or package_root()
    dest = Path(dest).resolve()
    if dest.exists() and any(dest.iterdir()):
        raise ReleaseError(f"{dest} is not empty; choose a new folder or remove it first")
    edited = edited_notebooks(root)
    if edited:
        raise ReleaseError(edited_message(edited, "a student edition must not ship those answers"))
    stale = stale_notebooks(root)
    if stale:
        raise ReleaseError(
            "notebooks/ is stale; run `make release` (or `.venv/bin/mlcourse release`) "
            "first: " + ", ".join(stale)
        )
    dest.mkdir(parents=True, exist_ok=True)
    ignore = shutil.ignore_patterns(
        "__pycache__", "*.pyc", "*.egg-info", ".ipynb_checkpoints", "*.tmp"
    )
    shutil.copytree(root / "notebooks", dest / "notebooks", ignore=ignore)
    if (root / "datasets").is_dir():
        shutil.copytree(root / "datasets", dest / "datasets", ignore=ignore)
    shutil.copytree(root / "src" / "mlcourse", dest / "src" / "mlcourse", ignore=ignore)
    for name in _EDITION_FILES:
        if (root / name).is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(root / name, dest / name)
    pyproject = (root / "pyproject.toml").read_text(encoding="utf-8")
    (dest / "pyproject.toml").write_text(_runtime_pyproject(pyproject), encoding="utf-8")
    if (root / "requirements.lock").is_file():
        lock = runtime_lock(
            (root / "requirements.lock").read_text(encoding="utf-8"),
            _runtime_requirements(pyproject),
        )
        (dest / "requirements.lock").write_text(lock, encoding="utf-8")
    for path in sorted((dest / "src" / "mlcourse" / "exercises" / "expected").glob("*.json")):
        record = json.loads(path.read_text(encoding="utf-8"))
        sealed = seal_record(record, recorded_choices=recorded_choices)
        path.write_text(dumps_expected(sealed), encoding="utf-8")
    for path in sorted((dest / "src" / "mlcourse" / "exercises").glob("nb*.py")):
        text = path.read_text(encoding="utf-8")
        path.write_text(strip_choice_explanations(text), encoding="utf-8")
    (dest / "README.md").write_text(_STUDENT_README, encoding="utf-8")
    (dest / "Makefile").write_text(_STUDENT_MAKEFILE, encoding="utf-8")
    (dest / ".gitignore").write_text(_STUDENT_GITIGNORE, encoding="utf-8")
    return dest


# ------------------------------------------------------------------------------ time model

#: the time model of docs/authoring.md ("How long a notebook takes")
WORDS_PER_MINUTE = 150
CODE_CELL_MINUTES = 1.0
CODE_EXERCISE_MINUTES = 8.0
CHOICE_EXERCISE_MINUTES = 2.0
#: the most a notebook's core may take, and how far its stated time may stray from the model
MAX_CORE_MINUTES = 60.0
STATED_TOLERANCE_MINUTES = 10.0

_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
#: a heading that opens a part counted apart: "... (optional)", "Going further ...",
#: "Further reading"
_OPTIONAL_HEADING = re.compile(
    r"\(optional\)$|^(\d+(\.\d+)*\.?\s+)?(going further|further reading)\b", re.I
)
_WORD = re.compile(r"\w")
_BARE_CALL = re.compile(r"^(check|hint|solution)\(.*\)\s*;?$")
_STATED = re.compile(r"\*\*Time[:.]?\*\*[:.]?\s*about\s+(\d+)\s+minutes", re.I)


def _prose_words(text: str) -> int:
    """Words of markdown: whitespace-separated tokens holding a letter or a digit (so the
    pipes and dashes of a table, or a lone ``$``, are not words). HTML comments (the claims
    ledger's ids) are not read by the learner and not counted."""
    text = re.sub(r"<!--.*?-->", " ", text, flags=re.DOTALL)
    return sum(1 for token in text.split() if _WORD.search(token))


def _is_bare_call(source: str) -> bool:
    """A code cell that only calls ``check``/``hint``/``solution`` (comments allowed)."""
    lines = [ln.strip() for ln in source.splitlines()]
    lines = [ln for ln in lines if ln and not ln.startswith("#")]
    return bool(lines) and all(_BARE_CALL.match(ln) for ln in lines)


def lesson_parts(nb: Any) -> list[tuple[int, str, bool]]:
    """The notebook cut at its headings: ``(cell index, text, optional)`` for every piece of
    markdown (a markdown cell is cut where a heading starts) and every code cell (text: its
    source).

    A heading that ends in "(optional)" or starts (after its number, as in "6. ") with "Going
    further" or "Further reading" opens an optional part; it runs to the next heading of the
    same or a higher level (fewer or as many ``#``), so its own subheadings stay optional.
    """
    parts: list[tuple[int, str, bool]] = []
    optional_level = 0  # the level of the heading that opened the optional part, 0: none
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "markdown":
            parts.append((i, cell.source, optional_level > 0))
            continue
        piece: list[str] = []
        for line in cell.source.splitlines():
            match = _HEADING.match(line)
            if match:
                if piece:
                    parts.append((i, "\n".join(piece), optional_level > 0))
                piece = []
                level = len(match.group(1))
                if optional_level and level <= optional_level:
                    optional_level = 0
                if not optional_level and _OPTIONAL_HEADING.search(match.group(2).strip()):
                    optional_level = level
            piece.append(line)
        if piece:
            parts.append((i, "\n".join(piece), optional_level > 0))
    return parts


def optional_cells(nb: Any) -> set[int]:
    """Indices of the cells that lie wholly in optional parts (see :func:`lesson_parts`)."""
    flags: dict[int, list[bool]] = {}
    for i, _, optional in lesson_parts(nb):
        flags.setdefault(i, []).append(optional)
    return {i for i, f in flags.items() if all(f)}


def time_model(nb: Any, exercises: Any = ()) -> tuple[float, float]:
    """Minutes a learner needs for a notebook: ``(core, optional)``.

    Prose at :data:`WORDS_PER_MINUTE`; :data:`CODE_CELL_MINUTES` per code cell, except a
    cell that only calls ``check``/``hint``/``solution`` (nothing) and an exercise cell
    (:data:`CODE_EXERCISE_MINUTES`, or :data:`CHOICE_EXERCISE_MINUTES` for a multiple-choice
    question). ``exercises`` are the notebook's :class:`~mlcourse.exercises.spec.Exercise`
    objects (their ``kind``); an exercise cell whose id is not among them counts as code.
    Parts under an optional heading (:func:`lesson_parts`) make up the second number.

    >>> nb = nbformat.v4.new_notebook(cells=[
    ...     nbformat.v4.new_markdown_cell("# Title\\n" + "word " * 300),
    ...     nbformat.v4.new_code_cell("x = 1"),
    ...     nbformat.v4.new_code_cell('check("q1")'),
    ...     nbformat.v4.new_markdown_cell("## Going further\\n" + "word " * 148),
    ...     nbformat.v4.new_code_cell("y = 2")])
    >>> time_model(nb)
    (3.0, 2.0)
    """
    kinds = {ex.id: ex.kind for ex in exercises}
    minutes = [0.0, 0.0]
    for i, text, optional in lesson_parts(nb):
        cell = nb.cells[i]
        if cell.cell_type == "markdown":
            cost = _prose_words(text) / WORDS_PER_MINUTE
        elif cell.cell_type != "code" or _is_bare_call(text):
            cost = 0.0
        elif cell_exercise_id(cell):
            choice = kinds.get(cell_exercise_id(cell)) == "choice"
            cost = CHOICE_EXERCISE_MINUTES if choice else CODE_EXERCISE_MINUTES
        else:
            cost = CODE_CELL_MINUTES
        minutes[optional] += cost
    return round(minutes[0], 1), round(minutes[1], 1)


def stated_minutes(nb: Any) -> int | None:
    """The time the notebook's opening states ("**Time:** about N minutes"), or None."""
    for cell in nb.cells[:3]:
        if cell.cell_type == "markdown" and (match := _STATED.search(cell.source)):
            return int(match.group(1))
    return None


def time_problems(nb: Any, exercises: Any = (), name: str = "notebook") -> list[str]:
    """What the time model finds wrong: a core over :data:`MAX_CORE_MINUTES`, a stated time
    missing or off by more than :data:`STATED_TOLERANCE_MINUTES`, an exercise in an
    optional part (an exercise is never optional)."""
    core, optional = time_model(nb, exercises)
    problems = []
    if core > MAX_CORE_MINUTES:
        problems.append(
            f"{name}: the time model gives {core:.0f} minutes without the optional parts, "
            f"over {MAX_CORE_MINUTES:.0f}; split it or mark depth as optional"
        )
    stated = stated_minutes(nb)
    if stated is None:
        problems.append(f'{name}: the opening does not state "**Time:** about N minutes"')
    elif abs(stated - core) > STATED_TOLERANCE_MINUTES:
        problems.append(
            f"{name}: the opening states about {stated} minutes, the time model gives "
            f"{core:.0f} (optional parts: {optional:.0f} more)"
        )
    skipped = optional_cells(nb)
    for i, cell in enumerate(nb.cells):
        if i in skipped and cell_exercise_id(cell):
            problems.append(f"{name}: exercise {cell_exercise_id(cell)} sits in an optional part")
    return problems


def _names(source: str) -> tuple[set[str], set[str]] | None:
    """``(bound, read)`` names of a code cell, or None when it does not parse."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None
    bound, read = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (bound if isinstance(node.ctx, ast.Store) else read).add(node.id)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            bound.add(node.name)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            bound |= {(a.asname or a.name).split(".")[0] for a in node.names}
    return bound, read


def needs_optional(nb: Any, name: str = "notebook") -> list[str]:
    """Core code cells that read a name only an optional part defines: a learner who skips
    the optional part would find the notebook broken there."""
    skipped = optional_cells(nb)
    from_optional: set[str] = set()
    problems = []
    for i, cell in enumerate(nb.cells):
        names = _names(cell.source) if cell.cell_type == "code" else None
        if names is None:
            continue
        bound, read = names
        if i in skipped:
            from_optional |= bound
            continue
        missing = sorted((read - bound) & from_optional)
        if missing:
            problems.append(f"{name}: cell {i} reads {', '.join(missing)} from an optional part")
        from_optional -= bound
    return problems


# ------------------------------------------------------------------------------ check-all


def _notebook_stem(notebook: str, root: Path) -> str:
    """``"01"``, ``"1"``, ``"01_encoding_basics"`` or a path -> the notebook's stem."""
    name = Path(notebook).name.removesuffix(".ipynb")
    stems = sorted(p.stem for p in (root / "notebooks").glob("*.ipynb"))
    if name in stems:
        return name
    matches = [
        s for s in stems if name.isdigit() and s.split("_")[0].lstrip("0") == name.lstrip("0")
    ]
    if len(matches) != 1:
        raise ReleaseError(f"no notebook {notebook!r}; the notebooks are {', '.join(stems)}")
    return matches[0]


def check_all(notebook: str, root: Path | None = None, timeout: int = 600) -> list[dict[str, Any]]:
    """Run a learner's saved notebook in a fresh kernel, then every check of its exercises.

    Prints each cell that raised (the run goes on, as the checks of later exercises still
    mean something) and each exercise's feedback as ``check()`` shows it; returns the
    feedback fields (``status``, ``message``, ``text``, ...) in exercise order.
    """
    from nbclient.exceptions import CellExecutionError

    from mlcourse.exercises import KernelSession

    root = root or package_root()
    given = Path(notebook)
    stem = _notebook_stem(notebook, root)
    path = given if given.suffix == ".ipynb" and given.is_file() else root / "notebooks" / stem
    path = path.with_suffix(".ipynb")
    nb = nbformat.read(path, as_version=4)
    exercises = exercises_for(stem)
    print(f"running {path.name} in a fresh kernel ...", flush=True)
    results: list[dict[str, Any]] = []
    with KernelSession(nb, cwd=path.parent, timeout=timeout) as session:
        for i, cell in enumerate(list(nb.cells)):
            if cell.cell_type != "code":
                continue
            try:
                session.client.execute_cell(cell, i)
            except CellExecutionError as exc:
                text = re.sub(r"\x1b\[[0-9;]*m", "", str(exc))  # the kernel's colours
                last = [x for x in text.strip().splitlines() if x.strip()]
                print(f"cell {i} raised: {last[-1] if last else exc}", flush=True)
        for ex in exercises:
            fields = session.check(stem, ex.id)
            results.append(fields)
            print(f"\n{fields['text']}", flush=True)
    done = sum(r["status"] == "correct" for r in results)
    print(f"\n{done} of {len(results)} exercises correct in {path.name}.")
    return results


def print_times(root: Path | None = None) -> int:
    """Print the time model of every solution notebook; 1 when one breaks its rules."""
    mods, bad = notebook_modules(), 0
    for stem, path in solution_paths(root).items():
        nb = nbformat.read(path, as_version=4)
        exercises = mods[stem].EXERCISES if stem in mods else ()
        core, optional = time_model(nb, exercises)
        stated = stated_minutes(nb)
        print(f"{stem:28s} core {core:5.1f} min, optional {optional:5.1f} min, stated {stated}")
        for problem in time_problems(nb, exercises, path.name) + needs_optional(nb, path.name):
            print(f"  {problem}")
            bad = 1
    return bad


def main(argv: list[str] | None = None) -> int:
    """``python -m mlcourse.authoring check-all NOTEBOOK`` (``make check-all NOTEBOOK=01``)
    and ``python -m mlcourse.authoring times`` (the time model of every notebook)."""
    parser = argparse.ArgumentParser(prog="python -m mlcourse.authoring")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("check-all", help="run a saved notebook and every check of it")
    p.add_argument("notebook", help="the notebook's number (01), stem or path")
    sub.add_parser("times", help="the time model of every solution notebook (docs/authoring.md)")
    args = parser.parse_args(argv)
    if args.command == "times":
        return print_times()
    try:
        check_all(args.notebook)
    except ReleaseError as exc:
        print(f"check-all: {exc}", file=sys.stderr)
        return 2
    return 0


# ------------------------------------------------------------------------------------ CLI


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``mlcourse release``."""
    parser.add_argument(
        "--check",
        action="store_true",
        help="change nothing; exit 1 when notebooks/ or the expected answers are stale",
    )
    parser.add_argument(
        "--student-edition",
        metavar="DIR",
        type=Path,
        help="write a classroom edition (no solutions) into the new folder DIR",
    )
    parser.add_argument(
        "--no-expected",
        action="store_true",
        help="only rebuild notebooks/ (do not execute the solutions to compute expected answers)",
    )
    parser.add_argument(
        "--only", metavar="STEM", action="append", help="release only this notebook (repeatable)"
    )
    parser.add_argument(
        "--recorded-choices",
        action="store_true",
        help="with --student-edition: an edition meant for grading; check() records "
        "multiple-choice answers instead of judging them, and no file holds their key",
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="overwrite learner notebooks even when someone edited them (back them up first)",
    )


def run(args: argparse.Namespace) -> int:
    """Entry point of ``mlcourse release``; returns the exit status."""
    try:
        if args.check:
            stale = stale_notebooks() + validate_solutions() + stale_expected()
            if stale:
                print("stale (run `mlcourse release`):", *stale, sep="\n  ", file=sys.stderr)
                return 1
            print("notebooks/ and the expected answers are up to date.")
            return 0
        if args.student_edition:
            dest = student_edition(
                args.student_edition, recorded_choices=getattr(args, "recorded_choices", False)
            )
            print(f"student edition written to {dest}")
            return 0
        changed = release(
            expected=not args.no_expected, only=args.only, force=getattr(args, "force", False)
        )
    except ReleaseError as exc:
        print(f"mlcourse release: {exc}", file=sys.stderr)
        return 1
    for path in changed:
        print(f"wrote {path.relative_to(package_root())}")
    if not changed:
        print("everything was already up to date.")
    return 0


__all__ = [
    "ReleaseError",
    "add_arguments",
    "edited_notebooks",
    "check_all",
    "exercises_for",
    "learner_notebook",
    "make_placeholder",
    "release",
    "render",
    "run",
    "runtime_lock",
    "stale_expected",
    "stale_notebooks",
    "stated_minutes",
    "student_edition",
    "time_model",
    "time_problems",
]


if __name__ == "__main__":
    sys.exit(main())
