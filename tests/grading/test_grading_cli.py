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
