"""An assignment of one's own, from the docs' example folder to graded submissions.

``docs/examples/hw1`` is the worked example of ``docs/assignments.md``: a value, a
DataFrame, a function, a fitted model and a multiple-choice exercise. These tests build it
with ``mlcourse assignment build``, use ``check()``/``hint()``/``solution()`` in the student
folder, and grade a small class with ``mlcourse grade --exercises`` (no ``--notebook``, no
data variant).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
import pytest

from mlcourse.assignment import AssignmentError, build
from mlcourse.exercises.ready import Assignment, _frame_plain
from mlcourse.exercises.spec import AnswerError, ProbeContext
from mlcourse.grading.sandbox import bwrap_available

EXAMPLE = Path(__file__).resolve().parents[1] / "docs" / "examples" / "hw1"


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """The example copied to a fresh folder and built once."""
    home = tmp_path_factory.mktemp("own") / "hw1"
    shutil.copytree(EXAMPLE, home, ignore=shutil.ignore_patterns("student", "*.expected.json"))
    for path in [home, *home.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    home.parent.chmod(0o755)
    build(home / "hw1_checks.py")
    return home


def _cells(home: Path) -> dict[str, str]:
    nb = nbformat.read(home / "hw1.ipynb", as_version=4)
    return {
        c.metadata["mlcourse"]["exercise"]: c.source
        for c in nb.cells
        if c.get("metadata", {}).get("mlcourse", {}).get("exercise")
    }


def _submission(home: Path, answers: dict[str, str]) -> str:
    nb = nbformat.read(home / "hw1.ipynb", as_version=4)
    for cell in nb.cells:
        ex = cell.get("metadata", {}).get("mlcourse", {}).get("exercise")
        if ex in answers:
            cell.source = answers[ex]
    return nbformat.writes(nb)


# ------------------------------------------------------------------------------ build


@pytest.mark.slow
def test_build_writes_a_student_folder_without_answers(built):
    student = built / "student"
    names = sorted(p.name for p in student.iterdir())
    assert names == [".mlcourse-student", "data", "hw1.expected.json", "hw1.ipynb", "hw1_checks.py"]
    assert not (student / "heldout").exists()  # the private rows stay with the instructor
    text = (student / "hw1.ipynb").read_text()
    for line in ('float(df[\\"score\\"].mean())', "np.clip", "LogisticRegression().fit"):
        assert line not in text, line
    record = json.loads((student / "hw1.expected.json").read_text())
    assert record["edition"] == "student" and record["sealed"] is True
    choice = record["results"]["q5_why_test"]["value"]
    assert choice["sealed"] == "verdicts" and sorted(choice["table"]) == ["A", "B", "C"]
    plain = json.loads((built / "hw1.expected.json").read_text())
    assert plain["results"]["q5_why_test"]["value"] == "B"
    assert "edition" not in plain
    # the checks module ships without the explanations, which would betray the key
    shipped = (student / "hw1_checks.py").read_text()
    assert "The model never saw these rows" not in shipped
    assert "The model never saw these rows" in (built / "hw1_checks.py").read_text()
    assert "{'A': '', 'B': '', 'C': ''}" in shipped


@pytest.mark.slow
def test_a_student_folder_meant_for_grading_records_the_choice(built, tmp_path):
    report = build(built / "hw1_checks.py", tmp_path / "graded", recorded_choices=True)
    record = json.loads((report.student / "hw1.expected.json").read_text())
    assert record["results"]["q5_why_test"]["value"] == {
        "sealed": "recorded",
        "v": 1,
        "letters": ["A", "B", "C"],
    }
    code = (
        "import sys\nsys.path.insert(0, sys.argv[1])\nimport hw1_checks\n"
        "for letter in 'ABZ':\n"
        "    fb = hw1_checks.check('q5_why_test', namespace={'answer_q5': letter})\n"
        "    print(fb.status)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, str(report.student)],
        capture_output=True,
        text=True,
        cwd=report.student,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["recorded", "recorded", "incorrect"]


@pytest.mark.slow
def test_check_hint_and_solution_in_the_student_folder(built):
    """check() judges against the sealed answers; solution() says the instructor has it."""
    code = r"""
import json, sys
import numpy as np, pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.tree import DecisionTreeClassifier
import hw1_checks as m
df = pd.read_csv(m.DATA_DIR / "scores.csv")
X, y = df[["hours", "score"]], df["passed"]
summary = df.groupby("group", as_index=False).agg(n=("score", "size"), mean_score=("score", "mean"))
cases = {
  "q1_mean": [{"mean_score": df["score"].mean()}, {"mean_score": df["score"].median()}],
  "q2_summary": [{"summary": summary.iloc[::-1].reset_index(drop=True)},
                 {"summary": summary.drop(columns="n")}],
  "q3_clip": [{"clip_scores": lambda s, lo, hi: np.where(s < lo, lo, np.where(s > hi, hi, s))},
              {"clip_scores": lambda s, lo, hi: np.minimum(s, hi)}],
  "q4_model": [{"model": LogisticRegression(C=10).fit(X, y)},
               {"model": DecisionTreeClassifier(random_state=0).fit(X, y)}],
  "q5_why_test": [{"answer_q5": "b"}, {"answer_q5": "A"}],
}
out = {k: [m.check(k, namespace=ns).status for ns in v] for k, v in cases.items()}
out["not_attempted"] = m.check("q1_mean", namespace={"mean_score": ...}).status
out["solution"] = str(m.solution("q1_mean"))
out["last_hint"] = str(m.hint("q2_summary", level=2))
print(json.dumps(out))
"""
    student = built / "student"
    proc = subprocess.run(
        [sys.executable, "-c", code],
        cwd=student,
        env={**os.environ, "PYTHONPATH": str(student)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout.splitlines()[-1])
    for ex_id in ("q1_mean", "q2_summary", "q3_clip", "q4_model", "q5_why_test"):
        assert out[ex_id] == ["correct", "incorrect"], (ex_id, out[ex_id])
    assert out["not_attempted"] == "not_attempted"
    assert "instructor keeps them" in out["solution"]
    assert "solution(" not in out["last_hint"] and "instructor" in out["last_hint"]


@pytest.mark.slow
def test_the_student_notebook_runs_and_reads_not_attempted(built):
    from mlcourse.exercises._kernel import KernelSession

    student = built / "student"
    nb = nbformat.read(student / "hw1.ipynb", as_version=4)
    with KernelSession(nb, cwd=student) as session:
        session.run_notebook()  # every check() cell runs on the placeholders
        got = session.json(
            "_mlc_result = [check(i).status for i in "
            "('q1_mean', 'q2_summary', 'q3_clip', 'q4_model', 'q5_why_test')]"
        )
        solved = session.json(
            "mean_score = float(df['score'].mean())\n"
            "_mlc_result = [check('q1_mean').status, str(solution('q1_mean'))]"
        )
    assert got == ["not_attempted"] * 5
    assert solved[0] == "correct" and "instructor keeps them" in solved[1]


def test_build_refuses_what_would_break_the_assignment(tmp_path):
    home = tmp_path / "hw1"
    shutil.copytree(EXAMPLE, home, ignore=shutil.ignore_patterns("student", "*.expected.json"))
    nb = nbformat.read(home / "hw1.ipynb", as_version=4)
    for cell in nb.cells:
        if cell.get("metadata", {}).get("mlcourse", {}).get("exercise") == "q1_mean":
            cell.source = "mean_score = float(df['score'].mean())"  # markers forgotten
    nbformat.write(nb, home / "hw1.ipynb")
    with pytest.raises(AssignmentError, match="no # BEGIN SOLUTION"):
        build(home / "hw1_checks.py")
    (home / "hw1.ipynb").unlink()
    with pytest.raises(AssignmentError, match="solution notebook .* is missing"):
        build(home / "hw1_checks.py")
    (home / "plain.py").write_text("EXERCISES = ()\n")
    with pytest.raises(AssignmentError, match="defines no Assignment"):
        build(home / "plain.py")


@pytest.mark.slow
def test_build_refuses_a_solution_that_fails_its_own_checks(tmp_path):
    home = tmp_path / "hw1"
    shutil.copytree(EXAMPLE, home, ignore=shutil.ignore_patterns("student", "*.expected.json"))
    nb = nbformat.read(home / "hw1.ipynb", as_version=4)
    for cell in nb.cells:
        if cell.get("metadata", {}).get("mlcourse", {}).get("exercise") == "q5_why_test":
            cell.source = "# BEGIN SOLUTION\nanswer_q5 = 'Z'\n# END SOLUTION"
    nbformat.write(nb, home / "hw1.ipynb")
    with pytest.raises(AssignmentError, match="q5_why_test"):
        build(home / "hw1_checks.py")
    assert not (home / "student").exists()


# ------------------------------------------------------------------------------ grading


@pytest.mark.slow
@pytest.mark.timeout(600)
def _scipy_rebuild_cell(canary: Path) -> str:
    """A right model carrying a SciPy distribution whose rebuild (``__setstate__``) executes
    a string from its state: here, creating ``canary``."""
    code = f"open({str(canary)!r}, 'w').write('pwned')\n"
    return (
        "import copy, scipy.stats\n"
        "from sklearn.linear_model import LogisticRegression\n"
        "model = LogisticRegression().fit(df[['hours', 'score']], df['passed'])\n"
        "payload = copy.copy(scipy.stats.norm)\n"
        f"payload._parse_arg_template = {code!r} + payload._parse_arg_template\n"
        "model.payload = payload\n"
    )


def test_grade_an_own_assignment_end_to_end(built, tmp_path, monkeypatch):
    from mlcourse.cli import main

    cells = _cells(built)
    right = _submission(built, {})
    subs = tmp_path / "subs"
    answers = {
        "ann": right,
        # written differently, all correct
        "ben": _submission(
            built,
            {
                "q1_mean": "mean_score = df.score.sum() / len(df)",
                "q2_summary": "summary = (df.groupby('group')['score'].agg(n='size', "
                "mean_score='mean').reset_index().sort_values('n'))",
                "q3_clip": "def clip_scores(scores, low, high):\n"
                "    return np.minimum(np.maximum(np.asarray(scores, float), low), high)",
            },
        ),
        # wrong in four ways
        "cy": _submission(
            built,
            {
                "q1_mean": "mean_score = df['score'].median()",
                "q2_summary": "summary = df.groupby('group', as_index=False)['score'].mean()",
                "q3_clip": "def clip_scores(scores, low, high):\n"
                "    return np.minimum(scores, high)",
                "q5_why_test": "answer_q5 = 'A'",
            },
        ),
        # reads the instructor's folder (solution, expected answers): nothing is there
        "dee": _submission(
            built,
            {
                "q1_mean": "import json\nmean_score = json.load(open("
                f"{str(built / 'hw1.expected.json')!r}))['results']['q1_mean']['value']",
                "q5_why_test": "answer_q5 = 'B' if __import__('os').path.exists("
                f"{str(built / 'hw1.ipynb')!r}) else 'A'",
            },
        ),
        # issue 21: right answers, and a model carrying a SciPy object whose rebuild runs code
        "eve": _submission(built, {"q4_model": _scipy_rebuild_cell(tmp_path / "scipy-canary")}),
    }
    for name, text in answers.items():
        (subs / name).mkdir(parents=True)
        (subs / name / "hw1.ipynb").write_text(text)
    isolation = "strict" if bwrap_available() else "process"
    monkeypatch.setenv("MLCOURSE_GRADING_SEED", "4711")
    out = tmp_path / "out"
    code = main(
        ["grade", str(subs), "--exercises", str(built / "hw1_checks.py"), "--out", str(out),
         "--isolation", isolation, "--jobs", "2", "--quiet"]
    )  # fmt: skip
    assert code == 0
    rows = {r["student_id"]: r for r in pd.read_csv(out / "grades.csv").to_dict("records")}
    assert rows["ann"]["score"] == 5 and rows["ben"]["score"] == 5
    assert (rows["cy"]["score"], rows["cy"]["q4_model"]) == (1, 1)
    # the attack scores below its honest twin (ann), names the refused type, ran nothing
    assert rows["eve"]["score"] == 4 and rows["eve"]["q4_model"] == 0
    feedback = "".join(p.read_text() for p in (out / "feedback").glob("eve*.md"))
    assert "norm_gen" in feedback
    assert not (tmp_path / "scipy-canary").exists()
    if isolation == "strict":
        assert rows["dee"]["q1_mean"] == 0 and rows["dee"]["q5_why_test"] == 0
    assert not list(out.glob("data-variant-*"))  # the assignment's own data, nothing generated
    assert "q1_mean" in cells


# ------------------------------------------------------------------------------ ready-made


def _judge(ex, student, expected):
    return ex.judge(student, expected)


def test_table_compares_columns_rows_and_values_with_tolerance():
    hw = Assignment("t", "/nowhere/t_checks.py")
    ex = hw.table("q", "T", "tab", ignore_row_order=True, rtol=1e-3)
    ctx = ProbeContext()
    want = pd.DataFrame({"g": ["a", "b"], "m": [1.0, 2.0]})
    exp = ex.probe({"tab": want}, ctx)
    same = ex.probe({"tab": want.iloc[::-1].reset_index(drop=True)}, ctx)
    close = ex.probe({"tab": want.assign(m=[1.0005, 2.0])}, ctx)
    off = ex.probe({"tab": want.assign(m=[1.1, 2.0])}, ctx)
    short = ex.probe({"tab": want.iloc[:1]}, ctx)
    extra = ex.probe({"tab": want.assign(z=0)}, ctx)
    assert _judge(ex, same, exp).status == "correct"
    assert _judge(ex, close, exp).status == "correct"
    assert "1 of 2 rows" in _judge(ex, off, exp).message
    assert "1 row, not the number" in _judge(ex, short, exp).message
    assert "unexpected columns ['z']" in _judge(ex, extra, exp).message
    ordered = hw.table("q", "T", "tab")
    assert ordered.judge(same, exp).status == "incorrect"
    labelled = hw.table("q", "T", "tab")
    by_label = ordered.probe({"tab": want.set_index("g")}, ctx)
    assert labelled.judge(by_label, by_label).status == "correct"


def test_table_probe_takes_exact_dataframes_and_datetimes():
    class Fake(pd.DataFrame):
        pass

    with pytest.raises(AnswerError, match="DataFrame"):
        _frame_plain(Fake({"a": [1]}), "tab")
    with pytest.raises(AnswerError, match="DataFrame"):
        _frame_plain({"a": [1]}, "tab")
    plain = _frame_plain(pd.DataFrame({"t": pd.to_datetime(["2026-01-02"]), "x": [np.nan]}), "t")
    assert plain["rows"] == [["2026-01-02", "nan"]]
    json.dumps(plain)


def test_function_is_called_on_copies_of_seeded_inputs():
    hw = Assignment("t", "/nowhere/t_checks.py")

    def inputs(rng):
        return [(rng.normal(size=5),) for _ in range(4)]

    ex = hw.function("q", "F", "f", inputs)

    def sneaky(a):
        a[:] = 0  # changes its input: the next call still gets fresh data
        return a

    ref = ex.probe({"f": lambda a: a * 0}, ProbeContext(seed=1))
    assert ex.judge(ex.probe({"f": sneaky}, ProbeContext(seed=1)), ref).status == "correct"
    other = ex.probe({"f": lambda a: a}, ProbeContext(seed=1))
    assert "on 4 of 4 test inputs" in ex.judge(other, ref).message
    assert ex.probe({"f": abs}, ProbeContext(seed=2)) != ex.probe({"f": abs}, ProbeContext(seed=1))
    with pytest.raises(AnswerError, match="should be a function"):
        ex.probe({"f": 3}, ProbeContext())
    assert ex.judge([1], ref).status == "incorrect"  # a forged observation of the wrong size


def test_model_judge_needs_the_score_and_the_kind():
    hw = Assignment("t", "/nowhere/t_checks.py")
    ex = hw.model("q", "M", "model", lambda folder: (None, None), tolerance=0.02)
    ref = {"score": 0.80, "kind": "sklearn.LogisticRegression"}
    assert ex.judge({"score": 0.79, "kind": "sklearn.LogisticRegression"}, ref).status == "correct"
    low = ex.judge({"score": 0.70, "kind": "sklearn.LogisticRegression"}, ref)
    assert low.status == "incorrect" and "0.700" in low.message and "0.80" not in low.message
    assert ex.judge({"score": 0.9, "kind": "sklearn.SVC"}, ref).status == "incorrect"


def test_the_example_folder_carries_no_build_output():
    """The docs' example is the instructor's source only: build output is made by the
    reader (and ignored by git)."""
    assert not (EXAMPLE / "student").exists() and not list(EXAMPLE.glob("*.expected.json"))


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_a_gradescope_bundle_of_an_own_assignment(built, tmp_path):
    """The bundle carries the checks module alone, the assignment's data and private rows,
    and grades a submission on Gradescope's layout."""
    import zipfile

    from mlcourse.grading.gradescope import build_bundle

    bundle = build_bundle(
        tmp_path / "hw1.zip",
        None,
        4711,
        exercises_module="hw1_checks",
        exercises_path=built,
        isolation="process",
    )
    with zipfile.ZipFile(bundle) as zf:
        names = set(zf.namelist())
        env = zf.read("mlcourse-grading.env").decode()
        zf.extractall(tmp_path / "autograder" / "source")
    assert {n for n in names if n.startswith("exercises/")} == {"exercises/hw1_checks.py"}
    assert {"data-variant/scores.csv", "data-variant/test.csv", "heldout/test.csv"} <= names
    assert "NOTEBOOK=hw1" in env and "HELDOUT=heldout" in env
    root = tmp_path / "autograder"
    (root / "submission").mkdir()
    (root / "submission" / "hw1.ipynb").write_text(_submission(built, {}))
    proc = subprocess.run(
        ["bash", str(root / "source" / "run_autograder")],
        env={**os.environ, "AUTOGRADER_ROOT": str(root), "MLCOURSE_PYTHON": sys.executable},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    results = json.loads((root / "results" / "results.json").read_text())
    assert results["score"] == 5.0, (root / "work" / "grader.log").read_text()
    # issue 21 through the Gradescope entry point: the SciPy rebuild attack beside its twin
    attack = tmp_path / "attack" / "autograder"
    shutil.copytree(root / "source", attack / "source")
    (attack / "submission").mkdir()
    canary = tmp_path / "scipy-canary"
    (attack / "submission" / "hw1.ipynb").write_text(
        _submission(built, {"q4_model": _scipy_rebuild_cell(canary)})
    )
    proc = subprocess.run(
        ["bash", str(attack / "source" / "run_autograder")],
        env={**os.environ, "AUTOGRADER_ROOT": str(attack), "MLCOURSE_PYTHON": sys.executable},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    attacked = json.loads((attack / "results" / "results.json").read_text())
    assert attacked["score"] == 4.0 < results["score"]
    assert "norm_gen" in json.dumps(attacked) and not canary.exists()
