"""Mutation testing of the checkers (``mlcourse.mutants``, ``make mutants``).

Fast tests: each operator on a small snippet, stable ids, deduplication, the per-exercise
cap, the report format. One kernel test runs a tiny fake exercise whose checker is weak and
requires the survivor to be reported. The slow test runs the real analysis on every notebook
and requires that no mutant survives.
"""

from __future__ import annotations

import ast
import json
import sys
import time
from pathlib import Path

import nbformat
import pytest

from mlcourse import mutants as mu
from mlcourse.exercises._kernel import KernelSession


def _details(src: str, operator: str, choices: tuple[str, ...] = ()) -> dict[str, str]:
    """``{detail: mutated source}`` of one operator's mutants of ``src``."""
    return {m.detail: m.source for m in mu.mutate_snippet(src, choices) if m.operator == operator}


def _same(a: str, b: str) -> bool:
    return ast.dump(ast.parse(a)) == ast.dump(ast.parse(b))


# --------------------------------------------------------------------------------------------
# operators
# --------------------------------------------------------------------------------------------


def test_const_moves_integers_and_scales_floats():
    got = _details("w = f(days=14, rate=0.5)\n", "const")
    assert set(got) == {"14->15", "14->13", "14->28", "14->0", "0.5->0.25", "0.5->1.0"}
    assert got["14->13"] == "w = f(days=13, rate=0.5)\n"


def test_const_skips_duplicates_of_the_original_and_neutral_keywords():
    assert set(_details("k = 0\n", "const")) == {"0->1", "0->-1"}
    assert set(_details("k = 1\n", "const")) == {"1->2", "1->0"}
    assert _details("m = M(random_state=0, n_jobs=2, verbose=1)\n", "const") == {}
    assert _details("m = M(random_state=0)\n", "kwarg") == {}


def test_cmp_flips_each_operator_of_a_chain():
    assert _details("ok = a < b\n", "cmp") == {"Lt->LtE": "ok = a <= b\n"}
    assert _details("ok = a >= b\n", "cmp") == {"GtE->Gt": "ok = a > b\n"}
    assert _details("ok = a == b\n", "cmp") == {"Eq->NotEq": "ok = a != b\n"}
    assert set(_details("ok = 0 < a <= 3\n", "cmp")) == {"Lt->LtE#0", "LtE->Lt#1"}


def test_bool_and_unary():
    assert _details("m = M(shuffle=True)\n", "bool") == {"True->False": "m = M(shuffle=False)\n"}
    assert _details("y = (~active).astype(int)\n", "unary") == {
        "-Invert": "y = (active).astype(int)\n"
    }


def test_str_swaps_known_parameter_values_only():
    got = _details('t = linkage(X, method="ward")\n', "str")
    assert set(got) == {"ward->average", "ward->complete", "ward->single"}
    assert got["ward->single"] == 't = linkage(X, method="single")\n', "quotes kept"
    assert _details('c = df["country"]\n', "str") == {}
    assert set(_details('f = fcluster(Z, 3, criterion="maxclust")\n', "str")) == {
        "maxclust->distance",
        "maxclust->inconsistent",
    }


def test_str_leaves_docstrings_and_fstrings_alone():
    src = 'def f(x):\n    """mean"""\n    return f"{x} mean"\n'
    assert _details(src, "str") == {}


def test_choice_replaces_the_letter_by_each_other_option():
    got = _details('answer = "B"\n', "choice", ("A", "B", "C"))
    assert got == {"B->A": 'answer = "A"\n', "B->C": 'answer = "C"\n'}


def test_class_swap_adds_the_import_and_drops_keywords_the_new_class_lacks():
    pytest.importorskip("sklearn")
    ms = [m for m in mu.mutate_snippet("m = LogisticRegression(max_iter=1000, C=2.0)\n")]
    by = {m.detail: m for m in ms if m.operator == "class"}
    rf = by["LogisticRegression->RandomForestClassifier"]
    assert rf.imports == ("from sklearn.ensemble import RandomForestClassifier",)
    assert _same(rf.source, "m = RandomForestClassifier()")
    hgb = by["LogisticRegression->HistGradientBoostingClassifier"]
    assert _same(hgb.source, "m = HistGradientBoostingClassifier(max_iter=1000)")
    enc = {m.detail for m in mu.mutate_snippet("e = TargetEncoder(cv=cv)\n")}
    assert "TargetEncoder->OneHotEncoder" in enc


def test_method_swaps():
    got = _details("s = x.mean() + x.nunique()\n", "method")
    assert set(got) == {"mean->median", "mean->sum", "nunique->count"}
    assert got["mean->median"] == "s = x.median() + x.nunique()\n"


def test_rows_swaps_every_train_name_in_one_call():
    got = _details("model.fit(X_train, y_train)\n", "rows")
    assert got == {"X_train->X_test,y_train->y_test": "model.fit(X_test, y_test)\n"}
    got = _details("m.fit(train[FEATURES], train.churned)\n", "rows")
    assert list(got.values()) == ["m.fit(test[FEATURES], test.churned)\n"]


def test_kwarg_removal():
    got = _details('e = OneHotEncoder(handle_unknown="ignore", min_frequency=20)\n', "kwarg")
    assert got == {
        "-handle_unknown": "e = OneHotEncoder(min_frequency=20)\n",
        "-min_frequency": 'e = OneHotEncoder(handle_unknown="ignore")\n',
    }
    src = "m = f(\n    a,\n    key=1,\n    other=2,\n)\n"
    got = _details(src, "kwarg")
    assert got["-key"] == "m = f(\n    a,\n    other=2,\n)\n", "the layout is kept"
    assert got["-other"] == "m = f(\n    a,\n    key=1,\n)\n"
    assert _details("g = G(only=True)\n", "kwarg") == {"-only": "g = G()\n"}


def test_drop_list_elements_dict_items_and_filter_operands():
    got = _details('cols = ["a", "b"]\n', "drop")
    assert got == {"-'a'": 'cols = ["b"]\n', "-'b'": 'cols = ["a"]\n'}
    got = _details('k = {\n    "x": 1,\n    "y": 2,\n}\n', "drop")
    assert got["-[x]"] == 'k = {\n    "y": 2,\n}\n', "an item alone on its line takes the line"
    got = _details('k = {"x": 1, "y": 2}\n', "drop")
    assert set(got) == {"-[x]", "-[y]"}
    got = _details("rows = df[(df.e == 1) & (df.t < 5)]\n", "drop")
    assert set(got.values()) == {"rows = df[df.e == 1]\n", "rows = df[df.t < 5]\n"}
    got = _details("cols = A + B + C\n", "drop")
    assert sorted(got.values()) == sorted(
        ["cols = A + B\n", "cols = C\n", "cols = A + C\n", "cols = B + C\n"]
    )


def test_arith():
    got = _details("p = a / (b * c)\n", "arith")
    assert set(got.values()) == {"p = a * (b * c)\n", "p = a / (b / c)\n"}


def test_delete_keeps_the_layout_and_fills_an_empty_body_with_pass():
    src = "def f(x):\n    y = x + 1\n    return y\n"
    got = _details(src, "delete")
    assert got == {"-Assign": "def f(x):\n    return y\n", "-Return": "def f(x):\n    y = x + 1\n"}
    assert _details("return x\n", "delete") == {"-Return": "pass\n"}
    # a docstring, an import and the top-level def itself are never deleted
    assert set(_details('def f():\n    """doc"""\n    import os\n    return 1\n', "delete")) == {
        "-Return"
    }


def test_region_inside_a_def_body_compiles_with_return():
    assert {m.operator for m in mu.mutate_snippet('return word.upper() + "!"\n')} == {
        "delete",
        "drop",
        "arith",
    }


def test_multiline_layout_is_kept_outside_the_mutated_span():
    src = "m = make(\n    Enc(min_frequency=20),\n    cols,\n)\n"
    got = _details(src, "const")
    assert got["20->21"] == "m = make(\n    Enc(min_frequency=21),\n    cols,\n)\n"


def test_operator_swaps_keep_the_rest_of_the_line_as_written():
    src = 'keep = (df["e"]  ==  "start") & (df.t < 5)\nn += 1\ns = df["v"].mean()\n'
    got = {m.detail: m.source.splitlines() for m in mu.mutate_snippet(src)}
    assert got["Eq->NotEq"][0] == 'keep = (df["e"]  !=  "start") & (df.t < 5)'
    assert got["Add->Sub"][1] == "n -= 1"
    assert got["mean->median"][2] == 's = df["v"].median()'
    ids = {(m.detail, m.col) for m in mu.mutate_snippet(src) if m.operator == "method"}
    assert ("mean->median", 12) in ids, "a method swap is located at the method's name"


def test_every_mutant_parses_and_differs_from_the_reference():
    src = (
        "def churn_labels(events, players, snapshot):\n"
        '    """doc"""\n'
        "    eligible = players[players.install_date <= snapshot - pd.Timedelta(days=7)]\n"
        "    w = events[(events.event == 'session_start') & (events.ts >= snapshot)]\n"
        "    return pd.Series((~eligible.player_id.isin(w.player_id)).astype(int))\n"
    )
    ms = mu.mutate_snippet(src)
    assert len(ms) >= 12
    dumps = [ast.dump(ast.parse(m.source)) for m in ms]
    assert ast.dump(ast.parse(src)) not in dumps
    assert len(set(dumps)) == len(dumps), "mutants are deduplicated"
    ids = [(m.operator, m.line, m.col, m.detail) for m in ms]
    assert len(set(ids)) == len(ids), "ids are unique"


def test_ids_are_stable_and_point_at_the_cell_line():
    cell = nbformat.v4.new_code_cell(
        "# BEGIN SOLUTION\nx = a < 2\n# END SOLUTION\n",
        metadata={"mlcourse": {"exercise": "q1"}},
    )
    first = [m.id for m in mu.exercise_mutants("q1", cell)]
    again = [m.id for m in mu.exercise_mutants("q1", cell)]
    assert first == again
    assert "q1:cmp@2:8:Lt->LtE" in first and "q1:const@2:8:2->3" in first
    body = nbformat.v4.new_code_cell(
        "def f(w):\n    # BEGIN SOLUTION\n    return w + 1\n    # END SOLUTION\n",
        metadata={"mlcourse": {"exercise": "q2"}},
    )
    ms = {m.id: m for m in mu.exercise_mutants("q2", body)}
    m = ms["q2:const@3:15:1->2"]
    assert m.source == "def f(w):\n    return w + 2"
    assert m.changed == "return w + 2"


def test_select_is_deterministic_and_covers_every_operator():
    cell = nbformat.v4.new_code_cell(
        "# BEGIN SOLUTION\nm = M(a=1, b=2, c=3, d=True)\nm.fit(X_train, y_train)\n# END SOLUTION",
        metadata={"mlcourse": {"exercise": "q"}},
    )
    ms = mu.exercise_mutants("q", cell)
    picked = mu.select(ms, 6)
    assert len(picked) == 6 and picked == mu.select(ms, 6)
    assert {m.operator for m in picked} >= {"const", "bool", "kwarg", "rows", "delete"}
    assert [m.id for m in picked] == [m.id for m in ms if m in picked], "source order kept"
    assert mu.select(ms, 1000) == ms
    assert {m.id for m in mu.select(ms, 3)} <= {m.id for m in picked}, "smaller cap: a subset"


def test_assigned_names():
    src = "import os\na, b = 1, 2\ndef f():\n    z = 3\nfor i in range(2):\n    c = i\n"
    assert mu._assigned_names(src) == ["a", "b", "f", "i", "c"]


def test_plan_of_every_notebook_has_unique_ids_and_no_stale_declaration():
    """No kernel: mutants of every real exercise, and the EQUIVALENT declarations' hygiene."""
    plans = mu.plan()
    assert plans, "no notebook with a solution and an exercises module"
    for p in plans:
        ids = [m.id for ex in p.exercises for m in ex.generated]
        assert len(ids) == len(set(ids)), f"{p.stem}: duplicate mutant ids"
        for ex in p.exercises:
            assert ex.generated, f"{p.stem} {ex.exercise}: no mutant at all"
            assert not ex.stale, f"{p.stem} {ex.exercise}: stale EQUIVALENT ids {ex.stale}"
            for mid, reason in ex.equivalent.items():
                assert isinstance(reason, str) and reason.strip(), f"{mid}: give a reason"
                assert "\n" not in reason.strip(), f"{mid}: the reason must be one line"
    listing = mu.list_plans(plans)
    assert listing.splitlines()[-1].endswith("declared equivalent)")


def test_declared_equivalents_are_matched_and_stale_ones_reported(monkeypatch):
    stem = "00_start_here"
    first = mu.plan([stem])[0].exercises[0]
    real = first.generated[0].id
    bogus = f"{first.exercise}:const@99:0:1->2"
    declared = {first.exercise: {real: "only the layout differs", bogus: "gone"}}
    monkeypatch.setattr(mu, "_equivalents", lambda module_name: declared)
    ex = mu.plan([stem])[0].exercises[0]
    assert ex.equivalent == {real: "only the layout differs"}
    assert ex.stale == [bogus]
    listing = mu.list_plans(mu.plan([stem], [first.exercise]))
    assert f"{real}  [equivalent: only the layout differs]" in listing
    assert f"STALE declaration {bogus}" in listing


# --------------------------------------------------------------------------------------------
# report
# --------------------------------------------------------------------------------------------


def _result(outcomes: list[str], stale: tuple[str, ...] = ()) -> mu.NotebookResult:
    rs = [
        mu.MutantResult(f"q1:const@2:4:{i}->{i + 1}", "q1", "const", f"x = {i + 1}", o)
        for i, o in enumerate(outcomes)
    ]
    return mu.NotebookResult("99_fake", [mu.ExerciseResult("q1", len(rs), rs, list(stale))])


def test_score_line_format():
    assert mu.score_line(3, 4) == "mutation score: 3 of 4 mutants killed (75.0 %)"
    assert mu.score_line(2, 3) == "mutation score: 2 of 3 mutants killed (66.7 %)"
    assert mu.score_line(0, 0) == "mutation score: 0 of 0 mutants killed (100.0 %)"


def test_report_lists_survivors_and_ends_with_the_score():
    text, killed, total, clean = mu.report([_result(["killed", "survived", "equivalent"])])
    assert (killed, total, clean) == (1, 2, False)
    assert "SURVIVED q1:const@2:4:1->2" in text and "x = 2" in text
    assert text.splitlines()[-1] == "mutation score: 1 of 2 mutants killed (50.0 %)"
    row = next(line for line in text.splitlines() if line.strip().startswith("q1 "))
    assert row.split() == ["q1", "3", "1", "1", "1"]


def test_report_flags_stale_declarations():
    text, _, _, clean = mu.report([_result(["killed"], stale=("q1:cmp@9:9:Lt->LtE",))])
    assert not clean and "q1:cmp@9:9:Lt->LtE" in text
    assert text.splitlines()[-1] == "mutation score: 1 of 1 mutants killed (100.0 %)"


# --------------------------------------------------------------------------------------------
# a tiny fake exercise in a real kernel
# --------------------------------------------------------------------------------------------

_FAKE_MODULE = """
from IPython import get_ipython

from mlcourse.exercises import Feedback, judge_result, probe_one
from mlcourse.exercises.spec import Exercise, Outcome, ProbeContext

NOTEBOOK = "99_fake"


def _probe(ns, ctx):
    return ns["double"](3)


def _judge(student, expected):
    # weak on purpose: only the sign is checked, so 2 * x -> 3 * x survives
    return Outcome.correct() if student > 0 else Outcome.incorrect("not positive")


EX = Exercise(
    id="q1_double", notebook=NOTEBOOK, title="double", points=1, reads=("double",),
    probe=_probe, judge=_judge, hints=("x",),
)
COUNT = Exercise(
    id="q2_count", notebook=NOTEBOOK, title="count", points=1, reads=("n",),
    probe=lambda ns, ctx: ns["n"], hints=("x",),
    judge=lambda s, e: Outcome.correct() if s == e else Outcome.incorrect("no"),
)
EXERCISES = (EX, COUNT)
EXPECTED = {"q1_double": 6, "q2_count": 3}


def check(exercise_id):
    ex = EX if exercise_id == "q1_double" else COUNT
    result = probe_one(ex, get_ipython().user_ns, ProbeContext(seed=0))
    outcome = judge_result(ex, result, {"status": "ok", "value": EXPECTED[ex.id]})
    return Feedback.from_outcome(ex.id, ex.title, outcome, ())
"""


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_fake_exercise_survivor_is_reported(tmp_path: Path):
    pkg = tmp_path / "fakepkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "nb99.py").write_text(_FAKE_MODULE)
    cell = nbformat.v4.new_code_cell(
        "def double(x):\n    # BEGIN SOLUTION\n    return 2 * x\n    # END SOLUTION",
        metadata={"mlcourse": {"exercise": "q1_double"}},
    )
    setup = nbformat.v4.new_code_cell(f"import sys; sys.path.insert(0, {str(tmp_path)!r})")
    path = tmp_path / "99_fake.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[setup, cell]), path)
    ms = mu.exercise_mutants("q1_double", cell)
    ex = mu.ExercisePlan("q1_double", ms, ms, {}, [], ["double"], cell.source)
    plan = mu.NotebookPlan("99_fake", str(path), [ex], module="fakepkg.nb99")
    res = mu.run_notebook_plan(plan, timeout=60)
    assert not res.error, res.error
    assert res.exercises[0].reference == "correct", res.exercises[0].reference_message
    outcomes = {r.id: r.outcome for r in res.exercises[0].mutants}
    assert outcomes["q1_double:const@3:11:2->3"] == "survived"
    # 2 -> 0 returns 0, which the judge rejects; without the return, double gives None
    assert outcomes["q1_double:const@3:11:2->0"] == "killed"
    assert outcomes["q1_double:delete@3:4:-Return"] == "killed"
    text, killed, total, clean = mu.report([res])
    assert not clean and "SURVIVED q1_double:const@3:11:2->3" in text
    assert "return 3 * x" in text
    assert text.splitlines()[-1] == mu.score_line(killed, total)
    # a mutant that never ends is killed by the timeout, and the kernel starts afresh
    count = nbformat.v4.new_code_cell(
        "# BEGIN SOLUTION\nn = 0\nwhile n < 3:\n    n += 1\n# END SOLUTION",
        metadata={"mlcourse": {"exercise": "q2_count"}},
    )
    nbformat.write(nbformat.v4.new_notebook(cells=[setup, cell, count]), path)
    ms = {m.detail: m for m in mu.exercise_mutants("q2_count", count)}
    hang, wrong = ms["Add->Sub"], ms["1->2"]
    # ... and a mutant wrongly declared equivalent is run and reported as rejected
    same = ms["Lt->LtE"]
    declared = {same.id: "wrongly declared"}
    ex2 = mu.ExercisePlan(
        "q2_count", [hang, wrong, same], [hang, wrong, same], declared, [], ["n"], count.source
    )
    plan = mu.NotebookPlan("99_fake", str(path), [ex2], module="fakepkg.nb99")
    # this time in a kernel the caller lends (as the generic checker tests could)
    with KernelSession(nbformat.read(path, as_version=4)) as lent:
        lent.run_notebook()
        res = mu.run_notebook_plan(plan, timeout=3, session=lent)
        # after the timeout a kernel of our own took over; the lent one must be closed
        assert res.lent_kernel_broken
        assert lent.client.timeout != 3, "the lender's timeout is given back"
    got = {r.id: (r.outcome, r.status) for r in res.exercises[0].mutants}
    assert got == {
        hang.id: ("killed", "timeout"),
        wrong.id: ("killed", "incorrect"),
        same.id: ("rejected_equivalent", "incorrect"),
    }
    text, killed, total, clean = mu.report([res])
    assert (killed, total, clean) == (2, 2, False)
    assert f"REJECTED EQUIVALENT {same.id}" in text


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_each_mutant_starts_from_the_state_the_notebook_left(tmp_path: Path):
    """A mutant that changes the notebook's data in place must not decide the next one's
    verdict: the runner restores its snapshot before every mutant (issue 27)."""
    pkg = tmp_path / "fakepkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "nb99.py").write_text(_FAKE_MODULE)
    setup = nbformat.v4.new_code_cell(f"import sys; sys.path.insert(0, {str(tmp_path)!r})")
    data = nbformat.v4.new_code_cell("data = [1, 2, 3]")
    count = nbformat.v4.new_code_cell(
        "# BEGIN SOLUTION\nn = len(data)\n# END SOLUTION",
        metadata={"mlcourse": {"exercise": "q2_count"}},
    )
    path = tmp_path / "99_fake.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[setup, data, count]), path)

    def mutant(detail: str, code: str) -> mu.Mutant:
        source = f"# BEGIN SOLUTION\n{code}\n# END SOLUTION"
        return mu.Mutant("q2_count", "delete", 2, 0, detail, source, code)

    grows = mutant("grows", "data.append(4)\nn = len(data)")  # 4: killed
    same = mutant("same", "n = len(list(data))")  # 3 on the notebook's data: survives
    ex = mu.ExercisePlan("q2_count", [grows, same], [grows, same], {}, [], ["n"], count.source)
    plan = mu.NotebookPlan("99_fake", str(path), [ex], module="fakepkg.nb99")
    res = mu.run_notebook_plan(plan, timeout=60)
    assert not res.error, res.error
    got = {r.id: r.outcome for r in res.exercises[0].mutants}
    assert got == {grows.id: "killed", same.id: "survived"}, "the second saw the first's data"


def test_only_reads_a_notebook_number_as_grade_does():
    """``--only 1`` names ``01_...`` as ``--notebook 1`` does elsewhere (and ``0`` names
    notebook 00, not every stem that starts with 0)."""
    from mlcourse.exercises import notebook_modules

    stems = list(notebook_modules())
    first = next(s for s in stems if s.startswith("01_"))
    for value in ("1", "01", "nb1", "nb01", first, first[:5]):
        assert [s for s in stems if mu._names_notebook(value, s)] == [first], value
    assert [s for s in stems if mu._names_notebook("0", s)] == [stems[0]]
    assert not [s for s in stems if mu._names_notebook("99", s)]
    assert [p.stem for p in mu.plan(["1"], cap=1, fit_cap=1)] == [first]


# --------------------------------------------------------------------------------------------
# the real analysis
# --------------------------------------------------------------------------------------------

#: mutants per model-fitting exercise in the test suite (``make mutants`` runs DEFAULT_FIT_CAP)
FIT_CAP = 6


def _stems() -> list[str]:
    from mlcourse.authoring import solution_paths
    from mlcourse.exercises import notebook_modules

    return [s for s in notebook_modules() if s in solution_paths()]


@pytest.mark.slow
@pytest.mark.timeout(900)
@pytest.mark.parametrize(
    "stem", [pytest.param(s, marks=pytest.mark.xdist_group(name=f"nb-{s}")) for s in _stems()]
)
def test_no_mutant_of_the_reference_survives(stem: str, tmp_path: Path, solved_kernels):
    """Every mutant of every exercise of ``stem`` is killed or declared equivalent.

    Cheaper than ``make mutants``: at most FIT_CAP mutants per model-fitting exercise (the
    deterministic selection makes them a subset of the ones ``make mutants`` runs). The
    mutants run in this worker's solved kernel of ``stem`` (the catalogue tests' one), lent
    in the state the notebook left; after a timeout the runner takes a kernel of its own and
    the lent one is replaced.
    """
    t0 = time.perf_counter()
    out = tmp_path / "mutants.json"
    argv = ["--only", stem, "--json", str(out), "--jobs", "1", "--fit-cap", str(FIT_CAP)]
    with solved_kernels.lend(stem) as session:
        rc = mu.main(argv, sessions={stem: session})
    data = json.loads(out.read_text())
    if any(nbr["lent_kernel_broken"] for nbr in data["notebooks"]):
        solved_kernels.mark_broken(stem)
    print(f"{stem}: mutation analysis took {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    assert data["notebooks"] and data["notebooks"][0]["stem"] == stem
    assert not data["survivors"], f"surviving mutants: {data['survivors']}"
    assert rc == 0, "see the report: a reference not judged correct or a stale declaration"
