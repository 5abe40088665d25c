"""The in-notebook API (check / hint / solution), the registry and the grader-facing helpers."""

from __future__ import annotations

import json
import sys
import textwrap

import nbformat
import numpy as np
import pytest
from catalogues import catalogue

import mlcourse.exercises as exercises
from mlcourse.exercises import (
    Feedback,
    exercise_cell_problems,
    exercise_cells,
    judge_result,
    make_api,
    run_probes,
)
from mlcourse.exercises._expected import data_fingerprint
from mlcourse.exercises._helpers import choice_judge, close_judge, equal_judge, value_probe
from mlcourse.exercises._registry import notebook_modules
from mlcourse.exercises.spec import AnswerError, Exercise, ProbeContext

SECRET = 987_654_321  # an expected value that must never appear in feedback


def _plus_one_probe(ns, ctx):
    f = ns["plus_one"]
    xs = ctx.rng("plus_one").integers(0, 100, size=5).tolist()
    return [f(x) for x in xs]


COUNT = Exercise(
    "q1_count",
    "demo",
    "Count the players",
    1,
    ("n_players",),
    value_probe("n_players"),
    equal_judge("That is not the number of players: count the rows of the table."),
    hints=("One row is one player.", "Use len(players).", "n_players = len(players)"),
)
FUNC = Exercise(
    "q2_plus_one",
    "demo",
    "Write plus_one",
    1,
    ("plus_one",),
    _plus_one_probe,
    equal_judge("plus_one gives wrong results on some inputs."),
)
CHOICE = Exercise(
    "q3_choice",
    "demo",
    "Pick one",
    1,
    ("q3",),
    value_probe("q3", lambda s: s.strip().upper()),
    choice_judge({"A": "A is about something else."}),
    kind="choice",
    choices={"A": "first", "B": "second", "C": "third"},
)
ALL = (COUNT, FUNC, CHOICE)
EXPECTED = {
    "notebook": "demo",
    "seed": 0,
    "data_fingerprint": "will be patched",
    "results": {
        "q1_count": {"status": "ok", "value": SECRET},
        "q2_plus_one": run_probes([FUNC], {"plus_one": lambda x: x + 1})["q2_plus_one"],
        "q3_choice": {"status": "ok", "value": "B"},
    },
}


@pytest.fixture
def api(monkeypatch, tmp_path):
    """check/hint/solution for the demo exercises, with the expected answers patched in."""
    record = dict(EXPECTED, data_fingerprint=data_fingerprint(tmp_path))
    monkeypatch.setattr(exercises, "load_expected", lambda stem: record)
    monkeypatch.setenv("MLCOURSE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("MLCOURSE_ROOT", str(tmp_path))
    return make_api("demo", ALL)


def test_run_probes_reports_every_state_as_json():
    def broken(x):
        return x / 0

    ns = {"n_players": np.int64(12), "plus_one": broken}
    res = run_probes(ALL, ns)
    assert res["q1_count"] == {"status": "ok", "value": 12}
    assert res["q2_plus_one"]["status"] == "error"
    assert "ZeroDivisionError" in res["q2_plus_one"]["message"]
    assert res["q3_choice"]["status"] == "not_attempted"
    assert "`q3` is not defined" in res["q3_choice"]["message"]
    json.dumps(res)  # plain data only


def test_traceback_is_shortened_to_the_learners_frames():
    def helper(x):
        raise ValueError("bad input")

    def plus_one(x):
        return helper(x)

    msg = run_probes([FUNC], {"plus_one": plus_one})["q2_plus_one"]["message"]
    assert "in plus_one" in msg and "in helper" in msg
    assert "ValueError: bad input" in msg
    assert "mlcourse" not in msg  # no frame of the probe machinery


def test_placeholders_read_as_not_attempted():
    def plus_one(x):
        raise NotImplementedError("replace this line with your code")

    res = run_probes(ALL, {"n_players": ..., "plus_one": plus_one, "q3": ...})
    assert {r["status"] for r in res.values()} == {"not_attempted"}
    assert "still `...`" in res["q1_count"]["message"]
    assert "NotImplementedError" in res["q2_plus_one"]["message"]


def test_objects_that_lie_about_equality_are_refused():
    class Liar(int):
        def __eq__(self, other):
            return True

        __hash__ = int.__hash__

    res = run_probes([COUNT], {"n_players": Liar(3)})
    assert res["q1_count"]["status"] == "answer_error"
    outcome = judge_result(COUNT, res["q1_count"], EXPECTED["results"]["q1_count"])
    assert outcome.status == "incorrect"


@pytest.mark.parametrize(
    ("answer", "status", "fragment"),
    [
        ("B", "correct", ""),
        (" b ", "correct", ""),
        ("A", "incorrect", "about something else"),
        ("D", "incorrect", "not one of the offered letters"),
        (2, "incorrect", "one letter in quotes"),
    ],
)
def test_choice_answers_are_validated(api, answer, status, fragment):
    check, _, _ = api
    fb = check("q3_choice", namespace={"q3": answer})
    assert fb.status == status
    assert fragment.lower() in fb.message.lower()


def test_check_never_shows_the_expected_value(api):
    check, _, _ = api
    fb = check("q1_count", namespace={"n_players": 5})
    assert fb.status == "incorrect"
    assert "count the rows" in fb.message
    for text in (str(fb), repr(fb), fb._repr_html_()):
        assert str(SECRET) not in text and f"{SECRET:,}" not in text


def test_check_correct_and_feedback_renders(api):
    check, _, _ = api
    fb = check("q1_count", namespace={"n_players": SECRET})
    assert fb and fb.status == "correct" and fb.score == 1.0
    html = fb._repr_html_()
    assert "mlcourse-correct" in html and "data-exercise='q1_count'" in html
    assert str(fb).startswith("\u2714 Correct")
    func = check("q2_plus_one", namespace={"plus_one": lambda x: x + 1})
    assert func.status == "correct"
    wrong = check("q2_plus_one", namespace={"plus_one": lambda x: x + 2})
    assert wrong.status == "incorrect" and "wrong results" in wrong.message


def test_check_reads_the_callers_globals_outside_ipython(api):
    check, _, _ = api
    # outside a kernel, check() reads the globals of the code that called it
    src = "n_players = 987654321\nfb = check('q1_count')\n"
    ns = {"check": check}
    exec(compile(src, "<learner>", "exec"), ns)
    assert ns["fb"].status == "correct"


def test_error_feedback_is_escaped_html(api):
    check, _, _ = api

    def plus_one(x):
        raise ValueError("<script>alert(1)</script>")

    fb = check("q2_plus_one", namespace={"plus_one": plus_one})
    assert fb.status == "error" and not fb
    assert "<script>" not in fb._repr_html_()
    assert "&lt;script&gt;" in fb._repr_html_()


def test_backticked_names_render_as_code_and_stay_escaped():
    from mlcourse.exercises._feedback import Feedback

    fb = Feedback("q1", "Title", "incorrect", "Use `players` not `<b>x</b>`; a lone ` stays.")
    html = fb._repr_html_()
    assert "<code>players</code>" in html
    assert "<code>&lt;b&gt;x&lt;/b&gt;</code>" in html and "<b>" not in html
    assert "a lone ` stays" in html
    assert "`players`" in str(fb)  # plain text keeps the backticks


def test_check_warns_when_the_data_fingerprint_differs(api, tmp_path):
    check, _, _ = api
    (tmp_path / "players.csv").write_text("player_id\n1\n")
    fb = check("q1_count", namespace={"n_players": SECRET})
    assert fb.status == "correct"
    assert fb.notes and "differ from the ones the expected answers were computed on" in fb.notes[0]
    assert "Note:" in str(fb)


def test_check_when_expected_answers_are_missing(monkeypatch):
    monkeypatch.setattr(exercises, "load_expected", lambda stem: None)
    check, _, _ = make_api("demo", ALL)
    fb = check("q1_count", namespace={"n_players": 3})
    assert fb.status == "checker_error" and "mlcourse release" in fb.message


def test_unknown_exercise_lists_the_valid_ids(api):
    check, hint, solution = api
    fb = check("q9", namespace={})
    assert fb.status == "error" and "'q1_count'" in fb.message
    assert "'q3_choice'" in str(hint("q9"))
    assert "no exercise" in str(solution("q9"))


def test_hints_are_tiered(api):
    _, hint, _ = api
    first = str(hint("q1_count"))
    assert "Hint 1 of 3" in first and "One row is one player." in first
    assert "level=2" in first
    assert "last hint" in str(hint("q1_count", level=3))
    assert "There are 3 hints" in str(hint("q1_count", level=4))
    assert "no hints" in str(hint("q2_plus_one"))


def test_solution_reads_the_solution_notebook_when_present(api, tmp_path):
    _, _, solution = api
    assert "no solutions" in str(solution("q1_count"))
    (tmp_path / "solutions").mkdir()
    cell = nbformat.v4.new_code_cell(
        "# BEGIN SOLUTION\nn_players = len(players)\n# END SOLUTION",
        metadata={"mlcourse": {"exercise": "q1_count"}},
    )
    nbformat.write(nbformat.v4.new_notebook(cells=[cell]), tmp_path / "solutions" / "demo.ipynb")
    panel = solution("q1_count")
    assert "n_players = len(players)" in str(panel)
    assert "BEGIN SOLUTION" not in str(panel)
    assert "<pre" in panel._repr_html_()


def test_exercise_cells_and_their_problems():
    def cell(ex_id):
        return nbformat.v4.new_code_cell("x = 1", metadata={"mlcourse": {"exercise": ex_id}})

    nb = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_markdown_cell("hi"), cell("q1_count"), cell("q2_plus_one")]
    )
    assert exercise_cells(nb) == {"q1_count": 1, "q2_plus_one": 2}
    problems = exercise_cell_problems(nb, ALL)
    assert problems == ["exercise 'q3_choice' has no cell with that id in its metadata"]
    nb.cells += [cell("q1_count"), cell("zz")]
    with pytest.raises(ValueError, match="'q1_count' is on cells 1 and 3"):
        exercise_cells(nb)
    assert exercise_cells(nb, strict=False)["q1_count"] == 3  # the last cell answers
    text = "\n".join(exercise_cell_problems(nb, ALL))
    assert "duplicated (cells 1 and 3)" in text and "'zz', unknown to the module" in text
    # untrusted metadata of the wrong shape is ignored, not a crash
    nb.cells.append(nbformat.v4.new_code_cell("", metadata={"mlcourse": "q1"}))
    assert "q1" not in exercise_cells(nb, strict=False)
    # a markdown cell never answers an exercise, and authoring is told so
    tagged = {"mlcourse": {"exercise": "q3"}}
    nb.cells.append(nbformat.v4.new_markdown_cell("", metadata=tagged))
    assert "q3" not in exercise_cells(nb, strict=False)
    assert any(
        "markdown cell carrying exercise id 'q3'" in p for p in exercise_cell_problems(nb, ALL)
    )


def test_authoring_checker_and_grader_map_cells_by_one_rule():
    """Release, solution(), mutants and the grader all read exercise_cells' rule."""
    from mlcourse.exercises import map_exercise_cells
    from mlcourse.grading.intake import job_cells

    def code(src, ex_id=None, meta=None):
        meta = meta if meta is not None else ({"mlcourse": {"exercise": ex_id}} if ex_id else {})
        return nbformat.v4.new_code_cell(src, metadata=meta)

    nb = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_markdown_cell("q", metadata={"mlcourse": {"exercise": "q2_plus_one"}}),
            code("n_players = 1", "q1_count"),
            code("def plus_one(x): return x + 1", "q2_plus_one"),
            code("n_players = 12", "q1_count"),
            code("", meta={"mlcourse": {"exercise": 3}}),
            code("q3 = 'b'", "q3_choice"),
        ]
    )
    ids = [e.id for e in ALL]
    by_checker = exercise_cells(nb, strict=False)
    mapped = map_exercise_cells(nb, ids)
    assert by_checker == mapped.cell_of == {"q1_count": 3, "q2_plus_one": 2, "q3_choice": 5}
    assert mapped.status == {"q1_count": "duplicated", "q2_plus_one": "ok", "q3_choice": "ok"}
    probed = {ex: job["index"] for job in job_cells(nb, mapped) for ex in job["probe"]}
    assert probed == by_checker
    assert [job["index"] for job in job_cells(nb, mapped)] == [1, 2, 3, 4, 5]  # code cells only


def test_solution_source_drops_exactly_the_marker_lines():
    from mlcourse.exercises import solution_regions, solution_source

    cell = nbformat.v4.new_code_cell(
        "def f(x):\n    # BEGIN SOLUTION\n    return x + 1\n    # END SOLUTION\n"
        "y = '# BEGIN SOLUTION'"
    )
    assert len(solution_regions(cell)) == 1
    assert solution_source(cell) == "def f(x):\n    return x + 1\ny = '# BEGIN SOLUTION'"
    tagged = nbformat.v4.new_code_cell("x = 1", metadata={"tags": ["solution"]})
    assert solution_source(tagged) == "x = 1"


def test_judge_result_survives_forged_results():
    for forged in (None, {"status": "correct"}, {"status": "ok", "value": object()}, []):
        assert judge_result(COUNT, forged, EXPECTED["results"]["q1_count"]).status == "error"


def test_close_judge_tolerates_rounding_only():
    judge = close_judge("off", rtol=1e-6)
    assert judge(0.30000000000000004, 0.3).status == "correct"
    assert judge([1.0, 2.0], [1.0, 2.1]).status == "incorrect"
    assert "a list of 2 items" in judge([1.0, 2.0], [1.0, 2.0, 3.0]).message
    assert "missing keys ['b']" in judge({"a": 1.0}, {"a": 1.0, "b": 2.0}).message


def test_every_registered_module_is_wired():
    for stem, mod in notebook_modules().items():
        assert mod.NOTEBOOK == stem
        for name in ("check", "hint", "solution"):
            assert callable(getattr(mod, name)), f"{mod.__name__} lacks {name}"
        cat = catalogue(mod.__name__)
        ids = {ex.id for ex in mod.EXERCISES}
        for ex in mod.EXERCISES:
            assert ex.notebook == stem
            for wa in cat.wrong.get(ex.id, ()):
                assert wa.status in {"incorrect", "partly_correct", "not_attempted", "error"}
            for va in cat.valid.get(ex.id, ()):
                assert va.status in {"correct", "partly_correct"}
        stray = (set(cat.wrong) | set(cat.valid) | set(cat.equivalent)) - ids
        assert not stray, f"tests/catalogues for {mod.__name__} name unknown exercises {stray}"


def test_partial_credit_reads_partly_correct():
    from mlcourse.exercises.spec import Outcome

    assert Outcome.incorrect("close", score=0.5).status == "partly_correct"
    assert Outcome.incorrect("wrong").status == "incorrect"
    fb = Feedback("q1", "Title", "partly_correct", "close", 0.5)
    assert "Partly correct (50% of the points)" in str(fb)
    assert "mlcourse-partly_correct" in fb._repr_html_()


def test_a_new_module_is_discovered_without_wiring(tmp_path, monkeypatch):
    (tmp_path / "nb98.py").write_text(
        textwrap.dedent(
            """
            from mlcourse.exercises import make_api
            from mlcourse.exercises._helpers import equal_judge, value_probe
            from mlcourse.exercises.spec import Exercise
            NOTEBOOK = "98_extra"
            EXERCISES = (Exercise("q1", NOTEBOOK, "T", 1, ("x",), value_probe("x"),
                                  equal_judge("no")),)
            check, hint, solution = make_api(NOTEBOOK, EXERCISES)
            """
        )
    )
    monkeypatch.setattr(exercises, "__path__", [*exercises.__path__, str(tmp_path)])
    notebook_modules.cache_clear()
    try:
        assert exercises.exercises_for("98_extra")[0].id == "q1"
        assert exercises.exercises_for("98_extra.ipynb")[0].id == "q1"
    finally:
        monkeypatch.undo()
        notebook_modules.cache_clear()
        sys.modules.pop("mlcourse.exercises.nb98", None)
    with pytest.raises(KeyError, match="known notebooks"):
        exercises.exercises_for("98_extra")


def test_to_plain_refusal_reaches_the_learner_as_advice():
    ex = Exercise("q", "demo", "t", 1, ("x",), value_probe("x"), equal_judge("no"))
    res = run_probes([ex], {"x": {1: 2}})["q"]
    assert res == {"status": "answer_error", "message": "dictionary keys must be strings"}
    assert isinstance(AnswerError("x"), Exception)
    assert ProbeContext().rng("k").integers(10) == ProbeContext().rng("k").integers(10)


def test_feedback_is_plain_text_outside_jupyter():
    fb = Feedback("q1", "Title", "not_attempted", "`x` is still `...`")
    assert str(fb) == repr(fb)
    assert "Not attempted yet" in str(fb) and "<" not in str(fb)
