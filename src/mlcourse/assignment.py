"""``mlcourse assignment build``: turn an assignment of your own into a student folder.

From ``hw1/hw1_checks.py`` (an :class:`~mlcourse.exercises.ready.Assignment` and its
exercises) and the solution notebook beside it (``hw1/hw1.ipynb``: exercise ids in cell
metadata, ``# BEGIN SOLUTION`` / ``# END SOLUTION`` markers), it

1. runs the solution (its folder as working directory) and probes every exercise as
   ``check()`` does: each must be judged correct against itself;
2. writes the expected answers ``hw1/hw1.expected.json`` (``check()`` in the instructor's
   copy uses them);
3. writes the student folder ``hw1/student/``: the notebook with placeholders instead of
   solutions, the checks module, the expected answers with every multiple-choice verdict
   sealed (``solution()`` there says the instructor keeps the solutions) and the data folder.

Grading then needs no other step: ``mlcourse grade SUBMISSIONS --exercises hw1/hw1_checks.py
--seed-file ... --out ...`` (see ``docs/assignments.md``).

Example
-------
    mlcourse assignment build hw1/hw1_checks.py
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

#: marks a folder this command wrote (only such a folder is replaced by the next build)
MARKER = ".mlcourse-student"


class AssignmentError(RuntimeError):
    """The assignment cannot be built; the message says what to fix."""


@dataclass
class BuildReport:
    notebook: str
    expected: Path
    student: Path
    exercises: list[tuple[str, float]]
    warnings: list[str] = field(default_factory=list)

    def text(self, checks: Path) -> str:
        points = sum(p for _, p in self.exercises)
        lines = [
            f"{self.notebook}: {len(self.exercises)} exercises, {points:g} points, the solution "
            "passes every check",
            f"expected answers: {self.expected}",
            f"student folder:   {self.student} (give this folder to your students)",
            "grade with:       mlcourse grade SUBMISSIONS --exercises "
            f"{checks} --seed-file SEED_FILE --out OUT",
        ]
        lines += [f"WARNING: {w}" for w in self.warnings]
        return "\n".join(lines)


def load_checks(checks: Path) -> tuple[ModuleType, Any]:
    """Import a checks module from its file; return it and its Assignment."""
    from mlcourse.exercises.spec import Exercise
    from mlcourse.grading.exercises_adapter import find_assignment, import_from

    checks = Path(checks).expanduser().resolve()
    if checks.suffix != ".py" or not checks.is_file():
        raise AssignmentError(f"{checks} is not a checks module (a .py file)")
    try:
        mod = import_from(checks.parent, checks.stem)
    except Exception as exc:
        why = f"{type(exc).__name__}: {exc}"
        raise AssignmentError(f"importing {checks.name} failed: {why}") from exc
    hw = find_assignment(mod)
    if hw is None:
        raise AssignmentError(
            f"{checks.name} defines no Assignment: start it with "
            '`hw = Assignment("hw1", __file__)` (see docs/assignments.md)'
        )
    exercises = getattr(mod, "EXERCISES", None)
    if not isinstance(exercises, tuple) or not exercises:
        raise AssignmentError(f"{checks.name} must define EXERCISES, a non-empty tuple")
    for ex in exercises:
        if not isinstance(ex, Exercise):
            raise AssignmentError(f"{checks.name}: EXERCISES holds {ex!r}, not an exercise")
        if ex.notebook != hw.notebook:
            raise AssignmentError(
                f"{checks.name}: exercise {ex.id} belongs to {ex.notebook!r}, not {hw.notebook!r}"
            )
    return mod, hw


def _solution_lines(nb: Any) -> list[str]:
    from mlcourse.exercises import solution_regions

    lines = []
    for cell in nb.cells:
        source = cell.source.splitlines()
        for region in solution_regions(cell):
            for line in source[region.start : region.stop]:
                text = line.strip()
                if len(text) >= 12 and not text.startswith("#"):
                    lines.append(text)
    return lines


def build(
    checks: Path, out: Path | None = None, timeout: int = 300, *, recorded_choices: bool = False
) -> BuildReport:
    """Validate and run the solution, write the expected answers and the student folder.

    The student folder's checks module holds no multiple-choice explanation, and its expected
    answers no readable key (sealed verdicts; with ``recorded_choices`` no key at all, and
    ``check()`` answers "recorded" for those questions).
    """
    from mlcourse.authoring import standout_warnings

    mod, hw = load_checks(checks)
    checks = Path(checks).expanduser().resolve()
    nb, learner = _validated_solution(mod, hw, checks)
    results = _reference_results(hw, checks, timeout)
    _require_self_correct(mod.EXERCISES, results)
    record = _write_expected(hw, results)
    student = Path(out).expanduser().resolve() if out else hw.home / "student"
    _write_student_folder(student, mod.EXERCISES, hw, checks, learner, record, recorded_choices)
    return BuildReport(
        hw.notebook,
        hw.expected_path,
        student,
        [(ex.id, ex.points) for ex in mod.EXERCISES],
        _leaked_solution_lines(nb, student) + standout_warnings(mod.EXERCISES, record),
    )


def _validated_solution(mod: ModuleType, hw: Any, checks: Path) -> tuple[Any, Any]:
    """The solution notebook, checked (exercise cells, solution markers), and its learner copy."""
    import nbformat

    from mlcourse.authoring import ReleaseError, learner_notebook
    from mlcourse.exercises import cell_exercise_id, exercise_cell_problems, solution_regions

    solution = hw.solution_path
    if not solution.is_file():
        raise AssignmentError(
            f"the solution notebook {solution} is missing: name it after the Assignment "
            f"({hw.notebook!r}) and keep it beside {checks.name}"
        )
    nb = nbformat.read(solution, as_version=4)
    problems = exercise_cell_problems(nb, mod.EXERCISES)
    for i, cell in enumerate(nb.cells):
        ex_id = cell_exercise_id(cell)
        if ex_id and cell.cell_type == "code" and not solution_regions(cell):
            problems.append(
                f"cell {i} ({ex_id}) has no # BEGIN SOLUTION / # END SOLUTION markers: the "
                "student notebook would show its answer"
            )
    if problems:
        raise AssignmentError(f"{solution.name}:\n  " + "\n  ".join(problems))
    try:
        learner = learner_notebook(nb, solution.name)
    except ReleaseError as exc:
        raise AssignmentError(str(exc)) from exc
    return nb, learner


def _reference_results(hw: Any, checks: Path, timeout: int) -> dict[str, Any]:
    """Run the solution in a kernel (its folder as working directory) and probe every
    exercise as ``check()`` does; the probed results by exercise id."""
    import nbformat

    from mlcourse.exercises import KernelSession, NotebookError

    solution = hw.solution_path
    saved = os.environ.pop("MLCOURSE_DATA_DIR", None)  # the kernel reads the assignment's data
    try:
        run_nb = nbformat.read(solution, as_version=4)
        with KernelSession(run_nb, cwd=hw.home, timeout=timeout) as s:
            s.run_notebook()
            return s.json(
                f"import sys as _mlc_sys\n_mlc_sys.path.insert(0, {str(hw.home)!r})\n"
                "from mlcourse.exercises.ready import reference_results as _mlc_rr\n"
                f"_mlc_result = _mlc_rr({checks.stem!r}, get_ipython().user_ns)\n"
            )
    except NotebookError as exc:
        raise AssignmentError(f"the solution {solution.name} does not run:\n{exc}") from exc
    finally:
        if saved is not None:
            os.environ["MLCOURSE_DATA_DIR"] = saved


def _require_self_correct(exercises: Sequence[Any], results: Mapping[str, Any]) -> None:
    """Raise unless every exercise was probed and is judged correct against itself."""
    from mlcourse.exercises import judge_result

    failures = []
    for ex in exercises:
        got = results.get(ex.id, {})
        if got.get("status") != "ok":
            failures.append(f"{ex.id}: {got.get('status')}: {got.get('message', '')}")
            continue
        own = judge_result(ex, got, got)
        if own.status != "correct":
            failures.append(f"{ex.id}: judged {own.status} against itself ({own.message})")
    if failures:
        raise AssignmentError(
            "the solution does not pass its own checks:\n  " + "\n  ".join(failures)
        )


def _write_expected(hw: Any, results: dict[str, Any]) -> dict[str, Any]:
    """Write the instructor's expected answers; return the record written."""
    from mlcourse.exercises import data_fingerprint, dumps_expected

    data = hw.data_dir
    record = {
        "notebook": hw.notebook,
        "seed": 0,
        "data_fingerprint": data_fingerprint(data) if data is not None else None,
        "results": results,
    }
    hw.expected_path.write_text(dumps_expected(record), encoding="utf-8")
    return record


def _write_student_folder(
    student: Path,
    exercises: Sequence[Any],
    hw: Any,
    checks: Path,
    learner: Any,
    record: Mapping[str, Any],
    recorded_choices: bool = False,
) -> None:
    """(Re)write the student folder: marker, learner notebook, checks module, the expected
    answers with every multiple-choice verdict sealed, and the data folder."""
    import nbformat

    from mlcourse.authoring import strip_choice_explanations
    from mlcourse.exercises import dumps_expected, record_choice, seal_choice

    if student.exists() and any(student.iterdir()) and not (student / MARKER).exists():
        raise AssignmentError(
            f"{student} exists and was not written by `mlcourse assignment build`; choose "
            "another --out or empty it"
        )
    if student.exists():
        shutil.rmtree(student)
    student.mkdir(parents=True)
    (student / MARKER).write_text("written by mlcourse assignment build\n")
    nbformat.write(learner, student / hw.solution_path.name)
    text = checks.read_text(encoding="utf-8")
    (student / checks.name).write_text(strip_choice_explanations(text), encoding="utf-8")
    sealed = {**record, "results": {k: dict(v) for k, v in record["results"].items()}}
    for ex in exercises:
        if ex.kind == "choice":
            entry = sealed["results"][ex.id]
            entry["value"] = (
                record_choice(ex) if recorded_choices else seal_choice(ex, entry["value"])
            )
    sealed.update(sealed=True, edition="student")
    if recorded_choices:
        sealed["choices"] = "recorded"
    (student / hw.expected_path.name).write_text(dumps_expected(sealed), encoding="utf-8")
    if hw.data is not None and (hw.home / hw.data).is_dir():
        shutil.copytree(hw.home / hw.data, student / hw.data)


def _leaked_solution_lines(nb: Any, student: Path) -> list[str]:
    """A warning for each solution line found in a file of the student folder."""
    warnings = []
    shipped = {p.name: p.read_text(errors="replace") for p in student.iterdir() if p.is_file()}
    for line in _solution_lines(nb):
        for name, text in shipped.items():
            if line in text:
                warnings.append(f"the solution line `{line}` appears in the student's {name}")
    return warnings


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    b = sub.add_parser(
        "build", help="run the solution, store its answers, write the student folder"
    )
    b.add_argument("checks", type=Path, help="the checks module, e.g. hw1/hw1_checks.py")
    b.add_argument("--out", type=Path, help="student folder (default: student/ beside the module)")
    b.add_argument("--timeout", type=int, default=300, help="seconds per cell of the solution")
    b.add_argument(
        "--recorded-choices",
        action="store_true",
        help="a student folder meant for grading: check() records multiple-choice answers "
        "instead of judging them, and no file holds their key",
    )


def run(args: argparse.Namespace) -> int:
    try:
        report = build(
            args.checks,
            args.out,
            args.timeout,
            recorded_choices=getattr(args, "recorded_choices", False),
        )
    except AssignmentError as exc:
        print(f"mlcourse assignment: {exc}", file=sys.stderr)
        return 2
    print(report.text(args.checks))
    return 0
