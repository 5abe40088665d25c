"""`mlcourse release`: learner notebooks from solutions/, staleness, student edition."""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import nbformat
import pytest

from mlcourse import authoring
from mlcourse.authoring import learner_notebook, make_placeholder, render
from mlcourse.exercises import _expected, exercise_cells, judge_result, make_api
from mlcourse.exercises._cells import region_text, solution_regions
from mlcourse.exercises._expected import data_independent
from mlcourse.exercises._helpers import choice_judge, value_probe
from mlcourse.exercises._registry import exercises_for, notebook_modules, package_root

ROOT = package_root()
SOLUTIONS = authoring.solution_paths(ROOT)
META = "mlcourse"
VERDICT_WORDS = re.compile(r"\s*(correct|not quite|wrong|right|yes|no|incorrect)\s*[:.,;!]", re.I)


def _cell(source: str, ex_id: str | None = None, tags: list[str] | None = None, outputs=None):
    meta: dict = {}
    if ex_id:
        meta[META] = {"exercise": ex_id}
    if tags:
        meta["tags"] = tags
    cell = nbformat.v4.new_code_cell(source, metadata=meta)
    if outputs:
        cell.outputs = outputs
        cell.execution_count = 3
    return cell


FIXTURE_CELLS = [
    nbformat.v4.new_markdown_cell("# Demo\nCount the players."),
    _cell("players = list(range(12))\nprint('setup')"),
    _cell(
        "# Q1: how many players?\n# BEGIN SOLUTION\nimport math\n"
        "n_players = len(players)\nshare_even = sum(p % 2 == 0 for p in players) / n_players\n"
        "# END SOLUTION\nprint('answered')",
        "q1_count",
        outputs=[nbformat.v4.new_output("stream", name="stdout", text="answered\n")],
    ),
    _cell(
        'def double_all(xs: list[int]) -> list[int]:\n    """Double every item."""\n'
        "    return [2 * x for x in xs]",
        "q2_double",
        tags=["solution"],
    ),
    _cell(
        'def halve(x):\n    """Half of x."""\n    # BEGIN SOLUTION\n    return x / 2\n'
        "    # END SOLUTION",
        "q3_halve",
    ),
    _cell('q4 = "B"', "q4_choice", tags=["solution", "keep-me"]),
    nbformat.v4.new_markdown_cell(
        "Because the table has one row per player.", metadata={"tags": ["solution"]}
    ),
]


def fixture_solution() -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook(cells=[c.copy() for c in FIXTURE_CELLS])
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.metadata["widgets"] = {"noise": True}
    return nb


@pytest.fixture
def course(tmp_path, monkeypatch):
    """A tiny course root with one solution notebook (its stem has no exercises module)."""
    (tmp_path / "solutions").mkdir()
    sol = fixture_solution()
    sol.cells[2].outputs = []  # a committed solution carries no outputs
    sol.cells[2].execution_count = None
    nbformat.write(sol, tmp_path / "solutions" / "90_demo.ipynb")
    monkeypatch.setenv("MLCOURSE_ROOT", str(tmp_path))
    return tmp_path


def solution_lines(nb: nbformat.NotebookNode) -> set[str]:
    """Stripped, non-trivial lines of every solution region that appear nowhere else.

    Lines a placeholder keeps on purpose (a function's signature and docstring) and lines
    also written outside the regions are not solution text.
    """
    outside: set[str] = set()
    inside: set[str] = set()
    for cell in nb.cells:
        regions = solution_regions(cell)
        lines = cell.source.splitlines()
        covered = {i for r in regions for i in range(r.start, r.stop)}
        for r in regions:
            code = region_text(cell, r)
            inside.update(x.strip() for x in code.splitlines())
            if cell.cell_type == "code":
                kept = make_placeholder(code, "q", indented=bool(r.indent))
                outside.update(x.strip() for x in kept.splitlines())
        outside.update(x.strip() for i, x in enumerate(lines) if i not in covered)
    trivial = {"", ")", "]", "}", "pass", "...", "else:", "try:", "return", '"""'}
    return {
        x
        for x in inside - outside
        if x not in trivial and not x.startswith("#") and any(ch.isalnum() for ch in x)
    }


def surviving(solution: nbformat.NotebookNode, learner_text: str) -> list[str]:
    learner = nbformat.reads(learner_text, as_version=4)
    learner_lines = {x.strip() for c in learner.cells for x in c.source.splitlines()}
    return sorted(solution_lines(solution) & learner_lines)


def test_placeholders_keep_signatures_and_drop_solution_code():
    text = make_placeholder(
        "import numpy as np\nvals = [v * 2 for v in range(3)]\nfor i in range(2):\n"
        "    total = i\n\n@staticmethod\ndef f(a,\n      b=2):\n    '''Doc.'''\n    return a\n",
        "q7",
    )
    assert text.splitlines()[0].startswith("# Exercise q7:")
    assert "vals = ...  # your answer here" in text
    assert "total = ...  # your answer here" in text
    names = {line.split(" = ")[0] for line in text.splitlines() if " = ..." in line}
    assert names == {"vals", "total"}  # no comprehension or loop variables
    assert "import numpy" not in text and "return a" not in text
    assert (
        "@staticmethod\ndef f(a,\n      b=2):\n    '''Doc.'''\n    raise NotImplementedError"
        in text
    )
    with pytest.raises(authoring.ReleaseError, match="does not parse"):
        make_placeholder("x = (", "q1")


def test_learner_edition_runs_and_reads_not_attempted():
    learner = learner_notebook(fixture_solution(), "demo")
    ns: dict = {}
    for cell in learner.cells:
        if cell.cell_type == "code":
            exec(cell.source, ns)  # top to bottom, no traceback
    from mlcourse.exercises._helpers import equal_judge, value_probe
    from mlcourse.exercises.spec import Exercise

    def double_probe(ns_, ctx):
        return ns_["double_all"]([1, 2])

    def halve_probe(ns_, ctx):
        return ns_["halve"](4)

    exs = (
        Exercise(
            "q1_count",
            "90_demo",
            "c",
            1,
            ("n_players",),
            value_probe("n_players"),
            equal_judge("no"),
        ),
        Exercise("q2_double", "90_demo", "d", 1, ("double_all",), double_probe, equal_judge("no")),
        Exercise("q3_halve", "90_demo", "h", 1, ("halve",), halve_probe, equal_judge("no")),
    )
    check, _, _ = make_api("90_demo", exs)
    for ex in exs:
        assert check(ex.id, namespace=ns).status == "not_attempted", ex.id
    assert ns["q4"] is Ellipsis


def test_learner_edition_strips_outputs_solutions_and_noise():
    sol = fixture_solution()
    learner = learner_notebook(sol, "demo")
    assert all(c.get("outputs", []) == [] for c in learner.cells)
    assert all(c.get("execution_count") is None for c in learner.cells if c.cell_type == "code")
    # only the kernel and the fingerprint of the released sources (overwrite protection)
    assert set(learner.metadata) == {"kernelspec", "mlcourse"}
    assert set(learner.metadata["mlcourse"]) == {authoring.FINGERPRINT_KEY}
    assert exercise_cells(learner) == exercise_cells(sol)  # ids survive for the grader
    assert learner.cells[5].metadata["tags"] == ["keep-me"]
    assert "tags" not in learner.cells[3].metadata
    assert learner.cells[6].source == "_Write your answer here._"
    assert learner.cells[2].source.endswith("print('answered')")  # text outside markers kept
    assert surviving(sol, render(learner)) == []
    assert "n_players = len(players)" in render(sol)  # the check above can fail


def test_release_is_deterministic_and_check_detects_staleness(course, capsys):
    args = argparse.Namespace(check=True, student_edition=None, no_expected=True, only=None)
    assert authoring.run(args) == 1  # notebooks/ missing
    changed = authoring.release(course, expected=False)
    target = course / "notebooks" / "90_demo.ipynb"
    assert changed == [target]
    first = target.read_bytes()
    assert authoring.release(course, expected=False) == []
    assert target.read_bytes() == first
    json.loads(first)  # valid JSON
    assert nbformat.reads(first.decode(), as_version=4).nbformat == 4
    assert authoring.run(args) == 0
    sol = nbformat.read(course / "solutions" / "90_demo.ipynb", as_version=4)
    sol.cells[1].source = "players = list(range(13))"
    nbformat.write(sol, course / "solutions" / "90_demo.ipynb")
    assert authoring.run(args) == 1
    assert "notebooks/90_demo.ipynb" in capsys.readouterr().err


def test_release_refuses_solutions_with_outputs_or_broken_markers(course):
    nb = fixture_solution()  # cell 2 carries an output
    nbformat.write(nb, course / "solutions" / "90_demo.ipynb")
    with pytest.raises(authoring.ReleaseError, match="cell 2 carries outputs"):
        authoring.release(course, expected=False)
    nb.cells[2].outputs = []
    nb.cells[4].source = "def halve(x):\n    # BEGIN SOLUTION\n    return x / 2\n"
    nbformat.write(nb, course / "solutions" / "90_demo.ipynb")
    with pytest.raises(authoring.ReleaseError, match="cell 4.*never closed"):
        authoring.release(course, expected=False)


# ------------------------------------------------------------------ the real course files

needs_solutions = pytest.mark.skipif(not SOLUTIONS, reason="no solutions/*.ipynb yet")


@needs_solutions
@pytest.mark.parametrize("stem", sorted(SOLUTIONS))
def test_committed_learner_notebook_is_current_and_leak_free(stem):
    path = ROOT / "notebooks" / f"{stem}.ipynb"
    assert path.is_file(), f"notebooks/{stem}.ipynb is missing: run `mlcourse release`"
    text = path.read_text(encoding="utf-8")
    sol = nbformat.read(SOLUTIONS[stem], as_version=4)
    assert text == render(learner_notebook(sol)), "notebooks/ is stale: run `mlcourse release`"
    assert surviving(sol, text) == [], "solution lines survive in the learner notebook"


@needs_solutions
@pytest.mark.parametrize("folder", ["solutions", "notebooks"])
def test_committed_notebooks_carry_no_outputs(folder):
    for path in sorted((ROOT / folder).glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        for i, cell in enumerate(nb.cells):
            if cell.cell_type == "code":
                assert not cell.outputs, f"{folder}/{path.name} cell {i} has outputs"
                assert cell.execution_count is None, f"{folder}/{path.name} cell {i}"


@needs_solutions
def test_exercise_ids_match_their_modules():
    mods = notebook_modules()
    assert authoring.validate_solutions(ROOT) == []
    for stem in SOLUTIONS:
        assert stem in mods, f"solutions/{stem}.ipynb has no mlcourse.exercises.nb* module"


@needs_solutions
def test_stored_expected_answers_are_current():
    assert authoring.stale_expected(ROOT) == []


@needs_solutions
def test_release_check_cli_passes_on_the_repository():
    proc = subprocess.run(
        [sys.executable, "-m", "mlcourse", "release", "--check"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr


# ------------------------------------------------------------------------ student edition

#: fragments too generic to be anyone's answer: a bare call opener such as ``return pd.DataFrame(``
_GENERIC = re.compile(r"(return\s+)?[\w.]+[(\[{]")


def _cell_text(nb: nbformat.NotebookNode) -> str:
    return "\n".join(c.source for c in nb.cells)


def edition_leak_lines() -> dict[str, str]:
    """``{solution line: stem}``: what no file of a student edition may contain.

    Every stripped, non-trivial line of every solution region (:func:`solution_lines`), minus
    lines a learner notebook shows anyway (whole lines, or inside a longer line of it: an
    import the task gives, a hyper-parameter the task states, or a column list that a later
    notebook of the same topic uses in plain sight).
    """
    out: dict[str, str] = {}
    learner = authoring.learner_texts(ROOT)
    shown = "\n".join(_cell_text(nbformat.reads(text, as_version=4)) for text in learner.values())
    for stem, path in SOLUTIONS.items():
        for line in solution_lines(nbformat.read(path, as_version=4)):
            if line not in shown and not _GENERIC.fullmatch(line):
                out.setdefault(line, stem)
    return out


def _text_lines(path: Path) -> list[str] | None:
    """A shipped file's searchable lines (a notebook's cell sources), None for binary data."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return None  # compressed data files (datasets/*.csv.gz)
    if path.suffix == ".ipynb":
        return _cell_text(nbformat.reads(text, as_version=4)).splitlines()
    if path.suffix == ".json":  # JSON strings may hold code with escaped newlines
        strings: list[str] = []

        def walk(v):
            if isinstance(v, str):
                strings.extend(v.splitlines())
            elif isinstance(v, list):
                for x in v:
                    walk(x)
            elif isinstance(v, dict):
                for k, x in v.items():
                    walk(k)
                    walk(x)

        walk(json.loads(text))
        return strings
    return text.splitlines()


def find_leaks(dest: Path, leaks: dict[str, str]) -> list[str]:
    """``"file:line: solution text (stem)"`` for every solution line found in a shipped file."""
    found = []
    for f in sorted(dest.rglob("*")):
        if not f.is_file() or (lines := _text_lines(f)) is None:
            continue
        rel = f.relative_to(dest)
        for n, line in enumerate(lines, 1):
            for leak, stem in leaks.items():
                if leak in line:
                    found.append(f"{rel}:{n}: {leak!r} (solutions/{stem}.ipynb)")
    return found


@pytest.fixture(scope="module")
def edition(tmp_path_factory):
    """One student edition of the real course, shared by the tests below (read-only)."""
    if not SOLUTIONS:
        pytest.skip("no solutions/*.ipynb yet")
    return authoring.student_edition(tmp_path_factory.mktemp("student") / "edition", ROOT)


def _edition_env(dest: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"MLCOURSE_DATA_DIR"}}
    env.update(MLCOURSE_ROOT=str(dest), PYTHONPATH=str(dest / "src"))
    return env


def _plain(stem: str) -> dict:
    return json.loads((ROOT / "src/mlcourse/exercises/expected" / f"{stem}.json").read_text())


def _sealed(dest: Path, stem: str) -> dict:
    return json.loads((dest / "src/mlcourse/exercises/expected" / f"{stem}.json").read_text())


def _leaves(value) -> set[str]:
    """Every string and number of a plain value (dict keys excluded), as JSON text."""
    if isinstance(value, dict):
        return set().union(*(_leaves(v) for v in value.values())) if value else set()
    if isinstance(value, list):
        return set().union(*(_leaves(v) for v in value)) if value else set()
    return {json.dumps(value)}


def _sealed_ids(stem: str) -> list[str]:
    independent = data_independent(stem)
    return [ex.id for ex in exercises_for(stem) if ex.kind == "choice" or ex.id in independent]


@needs_solutions
def test_student_edition_ships_no_solution_line(edition):
    """Every file of the edition (.py, .json, .ipynb, .md, Makefile, ...) searched."""
    assert not (edition / "solutions").exists()
    assert not (edition / "tests").exists()  # catalogues are test data
    for nb in (edition / "notebooks").glob("*.ipynb"):
        assert "BEGIN SOLUTION" not in nb.read_text(), nb.name
    leaks = edition_leak_lines()
    assert leaks, "no solution lines to look for: the search below would prove nothing"
    found = find_leaks(edition, leaks)
    modules = sorted({x.split(":")[0] for x in found if "/exercises/nb" in x.split(":")[0]})
    assert not found, (
        f"{len(found)} solution line(s) ship in the student edition"
        + (f" (exercise modules: {', '.join(modules)})" if modules else "")
        + ":\n  "
        + "\n  ".join(found)
    )
    catalogue = [
        str(f.relative_to(edition))
        for f in edition.rglob("*.py")
        if re.search(r"\b(WrongAnswer|ValidAnswer)\(|wrong_answers=\(", f.read_text())
    ]
    assert not catalogue, f"catalogues ship in {catalogue}"


def test_the_leak_search_finds_a_planted_line(tmp_path):
    """The search above can fail: solution text in a .py string, a notebook, a JSON value."""
    leaks = {"n_players = len(players)": "90_demo", "return x / 2": "90_demo"}
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "nb90.py").write_text(
        '_T = "import math\\nn_players = len(players)"\n_U = """\n    return x / 2\n"""\n'
    )
    nbformat.write(fixture_solution(), tmp_path / "demo.ipynb")
    (tmp_path / "r.json").write_text(json.dumps({"v": "a\nn_players = len(players)\n"}))
    found = find_leaks(tmp_path, leaks)
    assert any(x.startswith("src/nb90.py:1:") for x in found), found
    assert any(x.startswith("src/nb90.py:3:") for x in found), found
    assert any(x.startswith("demo.ipynb:") and "n_players" in x for x in found), found
    assert any(x.startswith("r.json:") for x in found), found


@needs_solutions
def test_student_edition_stores_no_data_independent_answer(edition):
    """Choice letters and declared data-independent answers are sealed; the rest is plain."""
    for stem in SOLUTIONS:
        plain, sealed = _plain(stem), _sealed(edition, stem)
        assert sealed["data_fingerprint"] == plain["data_fingerprint"]
        ids = _sealed_ids(stem)
        for ex in exercises_for(stem):
            mine, theirs = sealed["results"][ex.id], plain["results"][ex.id]
            if ex.id not in ids:
                assert mine == theirs, f"{stem} {ex.id} changed in the edition"
                continue
            answer = _leaves(theirs["value"])
            shipped = _leaves(mine["value"])
            assert not answer & shipped, f"{stem} {ex.id}: {sorted(answer & shipped)} in plain"
            text = json.dumps(mine)
            if ex.kind == "choice":
                table = mine["value"]["table"]
                assert set(table) == {c.upper() for c in ex.choices}, ex.id  # every letter
                assert len({len(v) for v in table.values()}) == 1, f"{ex.id}: lengths differ"
                for letter in ex.choices:  # no letter in context anywhere in the entry
                    assert f'"{letter}"' not in text.replace(f'"{letter}": "', ""), ex.id
            else:
                for leaf in answer:
                    assert leaf not in text, f"{stem} {ex.id}: {leaf} readable in the edition"
    # the declarations name real exercises
    for (stem, ex_id), _shape in _expected.DATA_INDEPENDENT.items():
        assert ex_id in {e.id for e in exercises_for(stem)}, (stem, ex_id)


def _answer_patterns(stem: str) -> list[tuple[str, re.Pattern]]:
    """Regexes for a data-independent answer written *in context* (not just a letter alone)."""
    plain = _plain(stem)
    shapes = data_independent(stem)
    out = []
    for ex in exercises_for(stem):
        value = plain["results"][ex.id]["value"]
        if ex.kind == "choice":
            q = re.escape(str(value))
            name = re.escape(ex.reads[0])
            out.append((ex.id, re.compile(rf"\b{name}\s*=\s*[\"']{q}[\"']", re.I)))
            out.append((ex.id, re.compile(rf"\"value\"\s*:\s*\"{q}\"")))
        elif shapes.get(ex.id) == "per_key":
            for k, v in value.items():
                kv = rf"[\"']{re.escape(k)}[\"']\s*:\s*[\"']{re.escape(str(v))}[\"']"
                out.append((ex.id, re.compile(kv)))
    return out


@needs_solutions
def test_no_shipped_file_states_a_data_independent_answer(edition):
    """Every file searched for an answer in context: ``q4_answer = "B"``, ``"country": ...``."""
    patterns = [(stem, ex_id, p) for stem in SOLUTIONS for ex_id, p in _answer_patterns(stem)]
    found = []
    for f in sorted(edition.rglob("*")):
        if not f.is_file() or (lines := _text_lines(f)) is None:
            continue
        for n, line in enumerate(lines, 1):
            for stem, ex_id, pattern in patterns:
                if pattern.search(line):
                    found.append(f"{f.relative_to(edition)}:{n}: {stem} {ex_id}: {line.strip()}")
    assert not found, "answers stated in the edition:\n  " + "\n  ".join(found)


def _variants(ex, value) -> list:
    """The reference answer and answers near it (one part changed, dropped, added)."""
    out = [value]
    if ex.kind == "choice":
        return sorted(ex.choices)
    if isinstance(value, dict) and value:
        k = sorted(value)[0]
        out += [{**value, k: "nominal" if value[k] != "nominal" else "ordinal"}]
        out += [{kk: v for kk, v in value.items() if kk != k}, {**value, "extra": "x"}, {}]
    if isinstance(value, list) and value:
        out += [value[1:], sorted([*value, "not_a_leak"]), ["not_a_leak"], []]
    return out


@needs_solutions
def test_sealed_answers_get_the_verdicts_of_the_plain_record():
    """In-process: the judge on a sealed entry says what it says on the plain one."""
    checked = 0
    for stem in SOLUTIONS:
        plain = _plain(stem)
        sealed = _expected.seal_record(plain)
        for ex in exercises_for(stem):
            if ex.id not in _sealed_ids(stem):
                continue
            value = plain["results"][ex.id]["value"]
            for answer in _variants(ex, value):
                student = {"status": "ok", "value": answer}
                context = f"{stem}:{ex.id}"
                entry = _expected.unseal(sealed["results"][ex.id], student, context)
                got = judge_result(ex, student, entry)
                want = judge_result(ex, student, plain["results"][ex.id])
                assert got == want, (stem, ex.id, answer, got, want)
                checked += 1
    assert checked > 10


@needs_solutions
def test_check_in_the_student_edition_uses_the_sealed_answers(edition):
    """check() in the edition's own package: right letter correct, others not, no solution()."""
    cases = []
    for stem in SOLUTIONS:
        plain = _plain(stem)
        mod = notebook_modules()[stem].__name__
        for ex in exercises_for(stem):
            if ex.kind == "choice":
                right = plain["results"][ex.id]["value"]
                for letter in sorted(ex.choices):
                    cases.append((mod, ex.id, ex.reads[0], letter.lower(), letter == right))
            elif ex.id in data_independent(stem):  # the answer, then a near miss
                for i, answer in enumerate(_variants(ex, plain["results"][ex.id]["value"])):
                    cases.append((mod, ex.id, ex.reads[0], answer, i == 0))
    code = (
        "import json, sys, importlib\n"
        "import mlcourse\n"
        "assert mlcourse.__file__.startswith(sys.argv[1]), mlcourse.__file__\n"
        "out = []\n"
        "for mod, ex_id, name, letter, _ in json.loads(sys.argv[2]):\n"
        "    m = importlib.import_module(mod)\n"
        "    fb = m.check(ex_id, namespace={name: letter})\n"
        "    ex = next(e for e in m.EXERCISES if e.id == ex_id)\n"
        "    last = str(m.hint(ex_id, level=len(ex.hints))) if ex.hints else ''\n"
        "    out.append([fb.status, fb.message, last, str(m.solution(ex_id))])\n"
        "print(json.dumps(out))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, str(edition), json.dumps(cases)],
        capture_output=True,
        text=True,
        env=_edition_env(edition),
        cwd=edition,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    results = json.loads(proc.stdout.splitlines()[-1])
    assert cases
    for (_mod, ex_id, _name, letter, right), (status, message, last, sol) in zip(
        cases, results, strict=True
    ):
        assert (status == "correct") == right, (ex_id, letter, status, message)
        assert message, (ex_id, letter)
        assert "solution(" not in last, f"{ex_id}: the last hint points at solution()"
        assert "no solutions" in sol


@needs_solutions
def test_student_edition_is_a_clean_project(edition):
    for sub in ("notebooks", "datasets", "src/mlcourse", "README.md", "pyproject.toml"):
        assert (edition / sub).exists(), sub
    for sub in (
        "Makefile",
        "scripts/bootstrap.sh",
        "requirements.lock",
        "LICENSE",
        ".gitignore",
        "etc/jupyter/jupyter_server_config.py",  # kernels over IPC: no TCP warning
    ):
        assert (edition / sub).is_file(), sub
    assert ".venv/" in (edition / ".gitignore").read_text()
    readme = (edition / "README.md").read_text()
    assert "make lab" in readme and "make check-all NOTEBOOK=01" in readme
    # the Makefile offers what works there, nothing else
    makefile = (edition / "Makefile").read_text()
    targets = set(re.findall(r"^([a-z][\w-]*):", makefile, re.M))
    assert targets == {"help", "lab", "doctor", "check-all"}, targets
    for word in ("pytest", "release", "grade", "mutants", "--extra", "solutions"):
        assert word not in makefile, word
    proc = subprocess.run(["make", "help"], cwd=edition, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert all(f"make {t}" in proc.stdout for t in targets), proc.stdout
    dry = subprocess.run(
        ["make", "-n", "check-all", "NOTEBOOK=01"], cwd=edition, capture_output=True, text=True
    )
    assert "-m mlcourse.authoring check-all 01" in dry.stdout, dry.stdout + dry.stderr
    # runtime dependencies only
    pyproject = tomllib.loads((edition / "pyproject.toml").read_text())
    assert "optional-dependencies" not in pyproject["project"]
    course = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert pyproject["project"]["dependencies"] == course["project"]["dependencies"]
    lock = (edition / "requirements.lock").read_text()
    assert "--extra" not in lock
    pins = {re.split(r"[=\[ ;]", x)[0].lower() for x in lock.splitlines() if "==" in x}
    for dep in course["project"]["dependencies"]:
        assert re.split(r"[<>=\[ ]", dep)[0].lower() in pins, dep
    for dev in ("pytest", "pytest-xdist", "pytest-timeout", "playwright", "ruff", "dask"):
        assert dev not in pins, f"{dev} is a development or cluster extra"


def test_runtime_lock_keeps_what_runtime_packages_pull_in():
    lock = (ROOT / "requirements.lock").read_text()
    runtime = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    kept = authoring.runtime_lock(lock, runtime)

    def pins(text):
        return {x.split("==")[0].lower() for x in text.splitlines() if "==" in x and x[0] != " "}

    assert pins(kept) < pins(lock)
    assert "numpy" in pins(kept) and "pyzmq" in pins(kept)  # direct, and via ipykernel
    # closed: a dropped pin is pulled in by dropped pins (or the extras) only
    current = None
    for line in lock.splitlines():
        if line and line[0] not in " #":
            current = line.split("==")[0].lower()
        elif current not in pins(kept) and line.strip().startswith("#"):
            parent = line.strip().lstrip("#").strip().removeprefix("via").strip()
            if parent and "pyproject.toml" not in parent:
                assert parent.lower() not in pins(kept), (current, parent)


@needs_solutions
def test_last_hint_mentions_solution_only_where_the_solutions_are(tmp_path, monkeypatch):
    for with_solutions in (True, False):
        if not with_solutions:
            monkeypatch.setenv("MLCOURSE_ROOT", str(tmp_path))  # a root without solutions/
        for stem, mod in notebook_modules().items():
            for ex in mod.EXERCISES:
                if ex.hints:
                    last = str(mod.hint(ex.id, level=len(ex.hints)))
                    assert ("solution(" in last) == with_solutions, (stem, ex.id, last)
                    assert all("solution(" not in h for h in ex.hints), (stem, ex.id)


@needs_solutions
def test_choice_judges_explain_every_letter():
    """Feedback whose wording does not betray the key: every letter gets its sentence."""
    problems = []
    for stem in SOLUTIONS:
        for ex in exercises_for(stem):
            if ex.kind != "choice":
                continue
            explained = getattr(ex.judge, "explanations", None)
            if explained is None:
                problems.append(f"{stem} {ex.id}: the judge is not a choice_judge")
                continue
            missing = sorted(set(ex.choices) - set(explained))
            if missing:
                problems.append(f"{stem} {ex.id}: no explanation for {missing}")
            verdicty = [k for k, v in explained.items() if VERDICT_WORDS.match(v)]
            if verdicty:
                problems.append(f"{stem} {ex.id}: {verdicty} start with a verdict word")
    assert not problems, "choice feedback betrays the key:\n  " + "\n  ".join(problems)


def test_choice_judge_opens_a_sealed_table():
    from mlcourse.exercises.spec import Exercise

    judge = choice_judge({"A": "About rows.", "B": "About players.", "C": "About days."})
    ex = Exercise(
        "q9",
        "90_demo",
        "t",
        1,
        ("a",),
        value_probe("a"),
        judge,
        kind="choice",
        choices={"A": "a", "B": "b", "C": "c"},
    )
    sealed = _expected.seal_choice(ex, "B")
    assert "B" not in json.dumps(sealed).replace('"B": "', "")
    for letter in "ABC":
        assert judge(letter, sealed) == judge(letter, "B")
    assert judge("B", sealed).message == "About players."
    assert judge("Z", sealed).status == "incorrect"
    assert _expected.seal_choice(ex, "B")["salt"] != sealed["salt"]  # a fresh salt per build


@pytest.mark.slow
@needs_solutions
def test_check_all_runs_a_saved_notebook_in_the_edition(edition, tmp_path):
    stem = next(iter(SOLUTIONS))
    ex = next(e for e in exercises_for(stem) if e.kind == "choice")
    right = _plain(stem)["results"][ex.id]["value"]
    work = tmp_path / "work"
    shutil.copytree(edition, work, ignore=shutil.ignore_patterns("datasets"))
    (work / "datasets").symlink_to(edition / "datasets")
    path = work / "notebooks" / f"{stem}.ipynb"
    nb = nbformat.read(path, as_version=4)
    cell = nb.cells[exercise_cells(nb)[ex.id]]
    cell.source += f"\n{ex.reads[0]} = {right!r}"
    nb.cells.append(nbformat.v4.new_code_cell("raise ValueError('my own mistake')"))
    nbformat.write(nb, path)
    proc = subprocess.run(
        [sys.executable, "-m", "mlcourse.authoring", "check-all", stem.split("_")[0]],
        capture_output=True,
        text=True,
        env=_edition_env(work),
        cwd=work,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "ValueError: my own mistake" in out
    assert f"Correct \u2014 {ex.id}" in out, out
    others = [e for e in exercises_for(stem) if e.id != ex.id]
    assert all(e.id in out for e in others)
    assert f"1 of {len(others) + 1} exercises correct" in out


def test_student_edition_refuses_a_stale_course(course, tmp_path):
    with pytest.raises(authoring.ReleaseError, match="stale"):
        authoring.student_edition(tmp_path / "out", course)
    assert not (tmp_path / "out").exists()


def test_cli_rejects_a_non_empty_student_edition_folder(course, tmp_path, capsys):
    authoring.release(course, expected=False)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "x").write_text("x")
    args = argparse.Namespace(
        check=False, student_edition=Path(tmp_path / "out"), no_expected=False, only=None
    )
    assert authoring.run(args) == 1
    assert "not empty" in capsys.readouterr().err


def test_release_never_overwrites_a_learners_answers(course, capsys):
    """Issue 22: trying the course, then `make release`, silently overwrote the answers."""
    authoring.release(course, expected=False)
    target = course / "notebooks" / "90_demo.ipynb"
    # running the notebook (outputs, execution counts) is not an edit
    nb = nbformat.read(target, as_version=4)
    code = next(c for c in nb.cells if c.cell_type == "code")
    code.outputs = [nbformat.v4.new_output("stream", text="hi\n")]
    code.execution_count = 3
    nbformat.write(nb, target)
    assert authoring.edited_notebooks(course) == []
    # typing an answer is
    code.source += "\nmy_answer = 42"
    nbformat.write(nb, target)
    sol = nbformat.read(course / "solutions" / "90_demo.ipynb", as_version=4)
    sol.cells[1].source = "players = list(range(13))"  # the maintainer changes the solution
    nbformat.write(sol, course / "solutions" / "90_demo.ipynb")
    with pytest.raises(authoring.ReleaseError) as err:
        authoring.release(course, expected=False)
    text = str(err.value)
    assert "notebooks/90_demo.ipynb" in text and "cp -r notebooks" in text
    assert "make release FORCE=1" in text and ".venv/bin/mlcourse release --force" in text
    assert "my_answer = 42" in target.read_text()  # untouched
    args = argparse.Namespace(
        check=False, student_edition=None, no_expected=True, only=None, force=False
    )
    assert authoring.run(args) == 1
    assert "been edited" in capsys.readouterr().err
    with pytest.raises(authoring.ReleaseError, match="must not ship those answers"):
        authoring.student_edition(course / "edition", course)
    # --force writes the fresh learner edition
    assert authoring.release(course, expected=False, force=True) == [target]
    assert "my_answer" not in target.read_text()
    assert authoring.edited_notebooks(course) == []


def test_a_broken_learner_notebook_counts_as_edited(course):
    authoring.release(course, expected=False)
    (course / "notebooks" / "90_demo.ipynb").write_text("{ not json")
    assert authoring.edited_notebooks(course) == ["notebooks/90_demo.ipynb"]


# ------------------------------------------------- multiple choice: no key in any shipped file


def _explanation_heads() -> list[tuple[str, str]]:
    """``(exercise id, first 30 characters)`` of every choice explanation of the course."""
    heads = []
    for stem in SOLUTIONS:
        for ex in exercises_for(stem):
            for text in getattr(ex.judge, "explanations", {}).values():
                if len(text) >= 30:
                    heads.append((ex.id, text[:30]))
    return heads


@needs_solutions
def test_no_shipped_file_holds_a_choice_explanation(edition):
    """The explanations state the right option positively and rebut the others (issue 22):
    the edition's modules keep the letters, with empty texts."""
    heads = _explanation_heads()
    assert heads
    found = []
    for f in sorted(edition.rglob("*")):
        if not f.is_file() or (lines := _text_lines(f)) is None:
            continue
        text = "\n".join(lines)
        found += [f"{f.relative_to(edition)}: {ex_id}" for ex_id, head in heads if head in text]
    assert not found, found
    src = (ROOT / "src/mlcourse/exercises/nb02.py").read_text()
    assert any(head in src for _, head in heads)  # the search can find them


@needs_solutions
def test_an_edition_meant_for_grading_records_choices(tmp_path):
    dest = authoring.student_edition(tmp_path / "graded", ROOT, recorded_choices=True)
    cases = []
    for stem in SOLUTIONS:
        record = _sealed(dest, stem)
        mod = notebook_modules()[stem].__name__
        for ex in exercises_for(stem):
            if ex.kind != "choice":
                continue
            value = record["results"][ex.id]["value"]
            assert value == {"sealed": "recorded", "v": 1, "letters": sorted(ex.choices)}
            cases += [(mod, ex.id, ex.reads[0], letter) for letter in sorted(ex.choices)]
            cases.append((mod, ex.id, ex.reads[0], "Z"))
    code = (
        "import json, sys, importlib\n"
        "out = []\n"
        "for mod, ex_id, name, letter in json.loads(sys.argv[1]):\n"
        "    fb = importlib.import_module(mod).check(ex_id, namespace={name: letter})\n"
        "    out.append([fb.status, fb.message])\n"
        "print(json.dumps(out))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, json.dumps(cases)],
        capture_output=True,
        text=True,
        env=_edition_env(dest),
        cwd=dest,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    for (_, ex_id, _, letter), (status, message) in zip(
        cases, json.loads(proc.stdout.splitlines()[-1]), strict=True
    ):
        if letter == "Z":  # not offered: said so, as before
            assert status == "incorrect" and "not one of the offered letters" in message
        else:
            assert status == "recorded" and f"answer {letter} is recorded" in message, ex_id


def test_stripping_keeps_the_letters_and_refuses_what_it_cannot_strip():
    src = (
        "Q = _choice('q1', 'T', 'ans', {'A': 'Right: because.', 'B': 'No: wrong.'},\n"
        "            choices={'A': 'a', 'B': 'b'})\n"
        "x = rng.choice(a, 3, False, p)\n"
    )
    out = authoring.strip_choice_explanations(src)
    assert "Right: because" not in out and "{'A': '', 'B': ''}" in out
    assert "choices={'A': 'a', 'B': 'b'}" in out and "rng.choice(a, 3, False, p)" in out
    with pytest.raises(authoring.ReleaseError, match="dictionary literal"):
        authoring.strip_choice_explanations("Q = _choice('q1', 'T', 'ans', EXPLAINED)\n")


def test_a_right_option_that_stands_out_is_warned_about():
    from mlcourse.exercises.spec import Exercise, Outcome

    ex = Exercise(
        "q9", "90_demo", "T", 1.0, ("a",), lambda ns, ctx: None, lambda s, e: Outcome.correct(),
        kind="choice",
        choices={"A": "short", "B": "a long and careful option that hedges every word", "C": "x"},
    )  # fmt: skip
    record = {"results": {"q9": {"status": "ok", "value": "B"}}}
    [warning] = authoring.standout_warnings([ex], record)
    assert "q9" in warning and "(B, " in warning
    assert authoring.standout_warnings([ex], {"results": {"q9": {"value": "A"}}}) == []
