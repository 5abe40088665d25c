"""Reruns and crashes of the grader itself: identical grades, skipped work, SIGKILL resume."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from graderkit import FAKEPKG, SEED, SOLUTION, notebook_json, with_answer, write_submissions

pytestmark = pytest.mark.slow


def _grades(db: Path) -> list[tuple]:
    con = sqlite3.connect(db)
    rows = con.execute(
        "SELECT s.student_id, s.status, s.score, r.exercise_id, r.status, r.score, r.message "
        "FROM submissions s JOIN results r ON r.key = s.key ORDER BY 1, 4"
    ).fetchall()
    con.close()
    return rows


def test_rerun_skips_finished_work_and_fresh_run_gives_identical_grades(grade, tmp_path):
    subs = write_submissions(
        tmp_path / "subs",
        {
            "ann.ipynb": notebook_json(SOLUTION),
            "ben.ipynb": notebook_json(
                with_answer("q2_double", "def double(x):\n    return x + x + 1")
            ),
            "cid.ipynb": notebook_json(with_answer("q3_choice", "answer_q3 = 'a'")),
        },
    )
    first = grade(subs, out=tmp_path / "a", isolation="process")
    assert first.graded_now == 3
    again = grade(subs, out=tmp_path / "a", isolation="process")
    assert (again.graded_now, again.skipped) == (0, 3)
    fresh = grade(subs, out=tmp_path / "b", isolation="process")
    assert _grades(first.paths["gradebook"]) == _grades(fresh.paths["gradebook"])
    assert [r[4] for r in _grades(fresh.paths["gradebook"]) if r[0] == "ben"] == [
        "correct",
        "incorrect",
        "correct",
    ]


def test_sigkill_mid_batch_then_resume_loses_and_doubles_nothing(course, tmp_path):
    slow_cell = "import time\ntime.sleep(0.6)\n" + SOLUTION[1][0]
    n = 6
    subs = write_submissions(
        tmp_path / "subs",
        {f"s{i}.ipynb": notebook_json(with_answer("q1_mean", slow_cell)) for i in range(n)},
    )
    out = tmp_path / "out"
    cmd = [
        sys.executable,
        "-m",
        "mlcourse",
        "grade",
        str(subs),
        "--notebook",
        "99",
        "--seed",
        str(SEED),
        "--out",
        str(out),
        "--jobs",
        "1",
        "--isolation",
        "process",
        "--exercises-module",
        "fake_exercises",
        "--exercises-path",
        str(FAKEPKG),
        "--solution",
        str(course["solution"]),
        "--data-variant",
        str(course["variant"]),
        "--quiet",
        "--preload",
        "numpy,pandas,IPython,mlcourse.exercises",
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    db = out / "gradebook.sqlite"
    deadline = time.monotonic() + 120
    done = 0
    while time.monotonic() < deadline and proc.poll() is None:
        if db.exists():
            try:
                con = sqlite3.connect(db, timeout=1)
                done = con.execute("SELECT COUNT(*) FROM submissions").fetchone()[0]
                con.close()
            except sqlite3.OperationalError:
                done = 0
            if done >= 2:
                break
        time.sleep(0.05)
    assert proc.poll() is None, proc.stderr.read().decode()[-2000:]
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    con = sqlite3.connect(db)
    partial = con.execute("SELECT COUNT(*) FROM submissions").fetchone()[0]
    # whatever was written is whole: 3 exercise rows per submission row
    assert con.execute("SELECT COUNT(*) FROM results").fetchone()[0] == 3 * partial
    con.close()
    assert 2 <= partial < n

    rerun = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    assert f"{n - partial} graded now, {partial} already in the gradebook" in rerun.stdout
    rows = _grades(db)
    assert len(rows) == 3 * n
    assert {r[1] for r in rows} == {"graded"} and {r[4] for r in rows} == {"correct"}
    con = sqlite3.connect(db)
    assert con.execute("SELECT COUNT(DISTINCT key) FROM submissions").fetchone()[0] == n
