"""Command line and configuration errors: clear messages, exit code 2, nothing half-done."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mlcourse.cli import main
from mlcourse.grading import sandbox
from mlcourse.grading.sandbox import Limits, Sandbox, SandboxConfig, SandboxError
from mlcourse.grading.variant import prepare_variant, variant_seed


def test_strict_isolation_refuses_without_bubblewrap(monkeypatch, tmp_path):
    monkeypatch.setattr(sandbox, "BWRAP", str(tmp_path / "no-bwrap"))
    cfg = SandboxConfig(isolation="strict", data_dir=tmp_path, exercises_module="x")
    with pytest.raises(SandboxError, match="apt-get install bubblewrap"):
        Sandbox(cfg)


def test_grade_cli_reports_missing_bubblewrap_with_exit_code_2(
    monkeypatch, tmp_path, capsys, course
):
    from graderkit import FAKEPKG, SOLUTION, notebook_json

    monkeypatch.setattr(sandbox, "BWRAP", str(tmp_path / "no-bwrap"))
    (tmp_path / "subs").mkdir()
    (tmp_path / "subs" / "a.ipynb").write_text(notebook_json(SOLUTION))
    code = main(
        [
            "grade",
            str(tmp_path / "subs"),
            "--notebook",
            "99",
            "--seed",
            "1",
            "--out",
            str(tmp_path / "out"),
            "--exercises-module",
            "fake_exercises",
            "--exercises-path",
            str(FAKEPKG),
            "--solution",
            str(course["solution"]),
            "--data-variant",
            str(course["variant"]),
            "--quiet",
        ]
    )
    assert code == 2
    assert "--isolation process" in capsys.readouterr().err


def test_grade_cli_dask_needs_a_scheduler(tmp_path, capsys):
    code = main(
        [
            "grade",
            str(tmp_path),
            "--notebook",
            "01",
            "--seed",
            "1",
            "--out",
            str(tmp_path / "o"),
            "--executor",
            "dask",
        ]
    )
    assert code == 2 and "--scheduler" in capsys.readouterr().err


def test_unknown_notebook_is_a_clear_error(tmp_path, capsys):
    code = main(
        [
            "grade",
            str(tmp_path),
            "--notebook",
            "77",
            "--seed",
            "1",
            "--out",
            str(tmp_path / "o"),
            "--isolation",
            "process",
        ]
    )
    assert code == 2 and "77" in capsys.readouterr().err


def test_limits_must_be_positive():
    with pytest.raises(ValueError, match="cell_timeout"):
        Limits(cell_timeout=0)


def test_variant_is_made_once_world_readable_and_depends_on_the_seed(tmp_path):
    calls = []

    def maker(seed: int, directory: Path) -> None:
        calls.append(seed)
        (directory / "scores.csv").write_text(f"score\n{seed}\n")

    first = prepare_variant(tmp_path, 7, maker)
    again = prepare_variant(tmp_path, 7, maker)
    other = prepare_variant(tmp_path, 8, maker)
    assert first == again != other and len(calls) == 2
    assert calls[0] == variant_seed(7) != 7  # the simulator never sees the grading seed
    assert first.stat().st_mode & 0o777 == 0o755
    assert (first / "scores.csv").stat().st_mode & 0o777 == 0o644


def test_a_failing_variant_maker_leaves_nothing_behind(tmp_path):
    def broken(seed: int, directory: Path) -> None:
        (directory / "half.csv").write_text("x")
        raise RuntimeError("simulator failed")

    with pytest.raises(RuntimeError, match="simulator failed"):
        prepare_variant(tmp_path, 1, broken)
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize(
    "line",
    [
        b'{"t": "verdict", "id": "q1", "status": "correct", "score": 1}',
        b'{"t": "probe", "id": "q1", "status": "correct", "data": 1}',
        b'{"t": "probe", "id": 7, "status": "ok", "data": 1}',
        b"[" * 100_000,
        b'{"t": "probe", "id": "q1", "status": "ok", "data": ' + b"9" * 5000 + b"}",
        b"\xff\xfe garbage",
        b'["t", "probe"]',
    ],
)
def test_result_lines_that_are_not_well_formed_messages_are_ignored(line):
    from mlcourse.grading.sandbox import _handle_line

    cells: dict = {}
    probes: dict = {}
    assert _handle_line(line, cells, probes) is None
    assert probes == {} and cells == {}


def test_a_probe_message_keeps_only_plain_fields():
    from mlcourse.grading.sandbox import _handle_line

    probes: dict = {}
    line = b'{"t": "probe", "id": "q1", "status": "ok", "data": [1, 2.5], "score": 1, "message": 3}'
    assert _handle_line(line, {}, probes) == "probe"
    assert probes == {"q1": {"status": "ok", "message": "", "data": [1, 2.5]}}


def _seed_args(**kw):
    import argparse

    return argparse.Namespace(seed=kw.get("seed"), seed_file=kw.get("seed_file"))


def test_the_seed_comes_from_a_file_or_the_environment_and_leaves_no_trace(tmp_path, monkeypatch):
    from mlcourse.grading.cli import SEED_ENV, SeedError, read_seed

    warnings: list[str] = []
    seed_file = tmp_path / "seed"
    seed_file.write_text("271828\n")
    seed_file.chmod(0o600)
    assert read_seed(_seed_args(seed_file=seed_file), warnings.append) == 271828
    assert warnings == []
    seed_file.chmod(0o644)
    assert read_seed(_seed_args(seed_file=seed_file), warnings.append) == 271828
    assert "chmod 600" in warnings.pop()
    monkeypatch.setenv(SEED_ENV, " 31415 ")
    assert read_seed(_seed_args(), warnings.append) == 31415
    assert SEED_ENV not in os.environ  # no sandbox, inspector or worker inherits it
    assert warnings == []
    assert read_seed(_seed_args(seed=7), warnings.append) == 7
    message = warnings.pop()
    assert "process list" in message and "--seed-file" in message
    with pytest.raises(SeedError, match="--seed-file PATH .* MLCOURSE_GRADING_SEED"):
        read_seed(_seed_args(), warnings.append)
    seed_file.write_text("27182B")
    with pytest.raises(SeedError, match="does not hold an integer") as err:
        read_seed(_seed_args(seed_file=seed_file), warnings.append)
    assert "27182B" not in str(err.value)  # a mistyped seed is never echoed
    with pytest.raises(SeedError, match="does not exist"):
        read_seed(_seed_args(seed_file=tmp_path / "nope"), warnings.append)


def test_grade_without_a_seed_is_refused_before_any_work(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("MLCOURSE_GRADING_SEED", raising=False)
    code = main(["grade", str(tmp_path), "--notebook", "01", "--out", str(tmp_path / "o")])
    assert code == 2
    assert "--seed-file" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_grade_needs_submissions_unless_it_only_prepares(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("MLCOURSE_GRADING_SEED", "5")
    code = main(["grade", "--notebook", "01", "--out", str(tmp_path / "o")])
    assert code == 2 and "--prepare-only" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_seed_on_the_command_line_warns(tmp_path, capsys):
    code = main(
        ["grade", str(tmp_path), "--notebook", "77", "--seed", "1", "--out", str(tmp_path / "o")]
    )
    err = capsys.readouterr().err
    assert code == 2 and "WARNING: --seed puts the secret seed in the process list" in err


def test_a_malformed_roster_stops_the_batch_with_its_reason(tmp_path, capsys, course):
    from graderkit import FAKEPKG

    roster = tmp_path / "roster.csv"
    roster.write_text("Name,Email\nAda,ada@x\n")
    seed = tmp_path / "seed"
    seed.write_text("1")
    seed.chmod(0o600)
    code = main(
        [
            "grade", str(tmp_path), "--notebook", "99", "--seed-file", str(seed),
            "--out", str(tmp_path / "o"), "--roster", str(roster),
            "--exercises-module", "fake_exercises", "--exercises-path", str(FAKEPKG),
            "--solution", str(course["solution"]), "--data-variant", str(course["variant"]),
        ]
    )  # fmt: skip
    assert code == 2 and "no LMS id column" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_makefile_grade_reads_a_seed_file_and_refuses_seed(tmp_path):
    import subprocess

    repo = Path(__file__).resolve().parents[2]
    dry = subprocess.run(
        ["make", "-n", "-s", "grade", "SUBMISSIONS=s.zip", "NOTEBOOK=01", "SEED_FILE=/k/seed"],
        cwd=repo, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert "--seed-file /k/seed" in dry.stdout and "--seed " not in dry.stdout
    refused = subprocess.run(
        ["make", "-n", "grade", "SUBMISSIONS=s.zip", "NOTEBOOK=01", "SEED=271828"],
        cwd=repo, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert refused.returncode != 0 and "SEED_FILE" in refused.stderr
    assert "271828" not in refused.stdout + refused.stderr


def test_makefile_grade_passes_the_canvas_assignment_column_and_max_grade():
    """The quick start updates an existing Canvas column (without --assignment, Canvas's
    import creates a new assignment); names with spaces and quotes reach the CLI intact."""
    import shlex
    import subprocess

    repo = Path(__file__).resolve().parents[2]
    name = "Ada's Notebook 01 (4711)"
    dry = subprocess.run(
        ["make", "-n", "-s", "grade", "SUBMISSIONS=s.zip", "NOTEBOOK=01", "SEED_FILE=/k/seed",
         f"ASSIGNMENT={name}", "MAX_GRADE=10"],
        cwd=repo, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert dry.returncode == 0, dry.stderr
    argv = shlex.split(dry.stdout.strip().splitlines()[-1])
    assert argv[argv.index("--assignment") + 1] == name
    assert argv[argv.index("--max-grade") + 1] == "10"
    plain = subprocess.run(
        ["make", "-n", "-s", "grade", "SUBMISSIONS=s.zip", "NOTEBOOK=01", "SEED_FILE=/k/seed"],
        cwd=repo, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert "--assignment" not in plain.stdout and "--max-grade" not in plain.stdout


@pytest.mark.slow
def test_grade_cli_canvas_round_trip_with_the_seed_in_the_environment(
    tmp_path, capsys, course, monkeypatch
):
    import csv
    import zipfile

    from graderkit import FAKEPKG, SEED, SOLUTION, notebook_json

    archive = tmp_path / "submissions.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("lovelaceada_LATE_10001_90001_99_fake.ipynb", notebook_json(SOLUTION))
        zf.writestr("hoppergrace_10002_90002_99_fake.ipynb", "{")
    roster = tmp_path / "roster.csv"
    roster.write_text("ID,Name,SIS User ID\n10001,Ada Lovelace,S1\n10003,Alan Turing,S3\n")
    monkeypatch.setenv("MLCOURSE_GRADING_SEED", str(SEED))
    out = tmp_path / "out"
    code = main(
        [
            "grade", str(archive), "--notebook", "99", "--out", str(out), "--lms", "canvas",
            "--roster", str(roster), "--assignment", "Notebook 99 (4711)", "--max-grade", "10",
            "--isolation", "process", "--jobs", "1", "--quiet",
            "--exercises-module", "fake_exercises", "--exercises-path", str(FAKEPKG),
            "--solution", str(course["solution"]), "--data-variant", str(course["variant"]),
        ]
    )  # fmt: skip
    captured = capsys.readouterr()
    assert code == 0, captured.err
    printed = (captured.out + captured.err).replace(str(tmp_path), "TMP")
    assert str(SEED) not in printed and "WARNING: --seed" not in captured.err
    rows = list(csv.DictReader((out / "canvas.csv").open(encoding="utf-8")))
    assert [(r["Student"], r["ID"], r["SIS User ID"], r["Notebook 99 (4711)"]) for r in rows] == [
        ("Ada Lovelace", "10001", "S1", "10"),
        ("hoppergrace", "10002", "", "0"),
    ]
    assert "roster rows without a submission: Alan Turing (10003)" in captured.out
    assert "submissions without a roster row: hoppergrace (10002)" in captured.out
    assert "rejected: hoppergrace (10002): not_json" in captured.out
