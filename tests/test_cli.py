"""The `mlcourse` command dispatcher and `mlcourse doctor`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from mlcourse import cli, doctor


def test_help_lists_every_command(capsys):
    assert cli.main(["--help"]) == 0
    out = capsys.readouterr().out
    for name in cli.COMMANDS:
        assert name in out


def test_help_is_plain_text_without_markup(capsys):
    """reST markup (``name``, :func:`x`) reads as noise in a terminal."""
    outputs = []
    assert cli.main(["--help"]) == 0
    outputs.append(capsys.readouterr().out)
    for name in cli.COMMANDS:
        with pytest.raises(SystemExit):
            cli.main([name, "--help"])
        outputs.append(capsys.readouterr().out)
    for out in outputs:
        assert "``" not in out and ":func:" not in out and ":class:" not in out, out


def test_unknown_command_is_a_clear_error(capsys):
    assert cli.main(["grdae"]) == 2
    err = capsys.readouterr().err
    assert "unknown command 'grdae'" in err and "grade" in err


def test_every_command_module_has_the_interface():
    import importlib

    for name, (module, _help) in cli.COMMANDS.items():
        mod = importlib.import_module(module)
        assert callable(mod.add_arguments) and callable(mod.run), name


def test_read_lock_parses_pins_and_ignores_comments(tmp_path: Path):
    lock = tmp_path / "requirements.lock"
    lock.write_text(
        "# header\nNumPy==2.0.1\n    # via pandas\ndask[distributed]==2024.8.0\n"
        "pywinpty==3.1.2 ; os_name == 'nt' and os_name == 'posix'\n"
        "zipp==4.1.2 ; python_full_version >= '3.0'\n"
    )
    assert doctor.read_lock(lock) == {"numpy": "2.0.1", "dask": "2024.8.0", "zipp": "4.1.2"}


def test_doctor_flags_a_package_that_differs_from_the_lock(tmp_path: Path):
    lock = tmp_path / "requirements.lock"
    lock.write_text("numpy==0.0.1\n")
    lines = list(doctor.check_packages(lock))
    numpy_line = next(r for r in lines if r.name == "numpy")
    assert numpy_line.status == "FAIL" and "lock wants 0.0.1" in numpy_line.detail
    summary = lines[-1]
    assert summary.status == "FAIL" and "1 of 1 packages differ" in summary.detail


def test_doctor_passes_on_this_installation():
    res = subprocess.run(
        [sys.executable, "-m", "mlcourse", "doctor"], capture_output=True, text=True, timeout=120
    )
    assert res.returncode == 0, res.stdout + res.stderr
    lines = res.stdout.strip().splitlines()
    assert all(line[:4].strip() in {"OK", "INFO"} for line in lines), res.stdout
    names = " ".join(lines)
    for what in ("python", "numpy", "lock file", "data", "jupyter-lab", "kernel", "bubblewrap"):
        assert what in names


def test_doctor_checks_that_bubblewrap_can_start_a_sandbox(tmp_path: Path, monkeypatch):
    from mlcourse.grading import sandbox

    # missing: a warning (learners do not need it) that says how to install it
    monkeypatch.setattr(sandbox, "BWRAP", str(tmp_path / "no-bwrap"))
    [line] = list(doctor.check_bubblewrap())
    assert line.status == "WARN" and line.ok and "apt-get install bubblewrap" in line.detail
    # installed but refused by the machine (no user namespaces): the reason is shown
    fake = tmp_path / "bwrap"
    fake.write_text("#!/bin/sh\necho 'bwrap: setting up uid map: Permission denied' >&2\nexit 1\n")
    fake.chmod(0o755)
    monkeypatch.setattr(sandbox, "BWRAP", str(fake))
    [line] = list(doctor.check_bubblewrap())
    assert line.status == "WARN" and "uid map: Permission denied" in line.detail
    assert "user namespaces" in line.detail
    if Path("/usr/bin/bwrap").exists():  # CI installs it: the real one starts a sandbox
        monkeypatch.setattr(sandbox, "BWRAP", "/usr/bin/bwrap")
        [line] = list(doctor.check_bubblewrap())
        assert line.status == "OK", line.detail


def test_doctor_warns_when_libraries_have_no_bytecode(tmp_path: Path, monkeypatch):
    import sysconfig

    site = tmp_path / "site-packages"
    (site / "sklearn").mkdir(parents=True)
    (site / "sklearn" / "base.py").write_text("x = 1\n")
    real = sysconfig.get_paths
    monkeypatch.setattr(sysconfig, "get_paths", lambda: {**real(), "purelib": str(site)})
    [line] = list(doctor.check_bytecode())
    assert line.status == "WARN" and "sklearn" in line.detail and line.ok
    import py_compile

    py_compile.compile(str(site / "sklearn" / "base.py"), doraise=True)
    [line] = list(doctor.check_bytecode())
    assert line.status == "OK"


def test_a_notebook_number_works_with_or_without_its_leading_zero():
    """``--notebook 1`` names the same notebook as ``01`` (grading and check-all)."""
    import pytest

    from mlcourse.authoring import _notebook_stem
    from mlcourse.exercises import notebook_stems, package_root
    from mlcourse.grading.exercises_adapter import load_exercise_set

    stems = notebook_stems()
    first = next(s for s in stems if s.startswith("01_"))
    for name in ("1", "01", "nb1", "nb01", first):
        assert load_exercise_set(name).notebook == first
        if name[0].isdigit():
            assert _notebook_stem(name, package_root()) == first
    assert load_exercise_set(str(len(stems) - 1)).notebook == stems[-1]
    with pytest.raises(ValueError, match="does not match"):
        load_exercise_set("01_not_this_one")
