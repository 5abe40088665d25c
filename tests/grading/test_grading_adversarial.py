"""Adversarial suite: one tiny submission per threat of design §6, graded in one batch.

For every submission we assert: no false pass (a wrong or missing answer is never
"correct"), the batch completes, the submission has a row with a clear status, and the host
is untouched (no file written outside the sandbox; solution, data, exercise module and
gradebook unchanged).
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import subprocess
import uuid
from pathlib import Path

import numpy as np
import pytest
from graderkit import FAKEPKG, LOAD, SEED, SOLUTION, notebook_json, with_answer, write_submissions

from mlcourse.exercises.spec import ProbeContext
from mlcourse.grading.sandbox import bwrap_available

pytestmark = pytest.mark.slow

CANARY = f"/tmp/mlcourse-canary-{uuid.uuid4().hex}"
PUBLIC_MEAN_CELL = "mean_score = {public_mean!r}"  # hard-coded from the public data

WRONG_Q1 = "mean_score = 1.0"


def _bwrap_works() -> bool:
    if not bwrap_available():
        return False
    try:
        r = subprocess.run(
            ["/usr/bin/bwrap", "--ro-bind", "/", "/", "--unshare-all", "true"],
            capture_output=True,
            timeout=20,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return r.returncode == 0


def _nb(cells: list[tuple[str, str | None]]) -> str:
    return notebook_json(cells)


def _threats(
    course: dict[str, Path], out: Path
) -> dict[str, tuple[str | bytes, dict[str, set[str]]]]:
    """name -> (file content, {exercise: allowed statuses}); '*' covers unlisted exercises."""
    public_mean = float(np.loadtxt(course["public"] / "scores.csv", skiprows=1).mean())
    solution, gradebook = str(course["solution"]), str(out / "gradebook.sqlite")
    fake_module = str(FAKEPKG / "fake_exercises.py")
    root, private = str(course["root"]), str(out / "private")
    ok = {"correct"}
    bad = {"incorrect", "error", "not_attempted", "not_run"}
    v3 = {
        "nbformat": 3,
        "nbformat_minor": 0,
        "metadata": {"name": ""},
        "worksheets": [
            {
                "cells": [
                    {
                        "cell_type": "code",
                        "input": src,
                        "language": "python",
                        "outputs": [],
                        "metadata": {"mlcourse": {"exercise": ex}} if ex else {},
                    }
                    for src, ex in SOLUTION
                ],
                "metadata": {},
            }
        ],
    }
    v5 = json.loads(_nb(SOLUTION))
    v5["nbformat"] = 5
    return {
        "honest": (_nb(SOLUTION), {"*": ok}),
        "infinite_loop": (
            _nb(with_answer("q1_mean", "while True:\n    pass")),
            {"q1_mean": bad, "*": ok},
        ),
        "swallowed_timeout": (
            _nb(
                with_answer(
                    "q1_mean",
                    "import signal\nsignal.signal(signal.SIGALRM, "
                    "signal.SIG_IGN)\nwhile True:\n    try:\n        pass\n"
                    "    except BaseException:\n        pass",
                )
            ),
            {"q1_mean": bad, "*": {"not_run"}},
        ),
        "memory_bomb": (
            _nb(
                with_answer(
                    "q1_mean", "blocks = []\nwhile True:\n    blocks.append(bytearray(50 * 2**20))"
                )
            ),
            {"q1_mean": bad, "*": ok},
        ),
        "fork_bomb": (
            _nb(
                with_answer(
                    "q1_mean",
                    "import os, time\nfor _ in range(10000):\n    try:\n"
                    "        if os.fork() == 0:\n            time.sleep(60)\n"
                    "            os._exit(0)\n    except OSError:\n        break\n"
                    "mean_score = 1.0",
                )
            ),
            # stops at the process limit, or the watchdog kills the run (root: no RLIMIT_NPROC)
            {"q1_mean": bad, "*": ok | {"not_run"}},
        ),
        "disk_bomb": (
            _nb(
                with_answer(
                    "q1_mean",
                    "i = 0\nwhile True:\n    with open(f'f{i}', 'wb') as fh:"
                    "\n        for _ in range(8):\n            fh.write(b'x' * 2**20)\n"
                    "    i += 1",
                )
            ),
            {"q1_mean": bad, "*": ok},
        ),
        "output_bomb": (
            _nb(
                with_answer(
                    "q1_mean",
                    "import os, sys\nfor _ in range(20000):\n"
                    "    print('x' * 10000)\n    sys.stderr.write('y' * 10000)\n"
                    "    os.write(1, b'z' * 10000)\nmean_score = 1.0",
                )
            ),
            {"q1_mean": bad, "*": ok},
        ),
        "sys_exit": (
            _nb(with_answer("q2_double", "import sys\nsys.exit(0)")),
            {"q2_double": bad, "*": ok},
        ),
        "os_exit": (
            _nb(with_answer("q2_double", "import os\nos._exit(0)")),
            {"q1_mean": ok, "q2_double": bad, "q3_choice": {"not_run"}},
        ),
        "segfault": (
            _nb(with_answer("q2_double", "import ctypes\nctypes.string_at(0)")),
            {"q1_mean": ok, "q2_double": bad, "q3_choice": {"not_run"}},
        ),
        "kernel_death": (
            _nb(
                with_answer("q3_choice", "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)")
            ),
            {"q3_choice": bad, "*": ok},
        ),
        "kill_the_zygote": (
            _nb(
                with_answer(
                    "q3_choice",
                    "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\nanswer_q3 = 'a'",
                )
            ),
            {"q3_choice": bad, "*": ok},
        ),
        "monkeypatch_libraries": (
            _nb(
                SOLUTION[:1]
                + [
                    (
                        "import numpy as np, math, json\nnp.allclose = lambda *a, **k: True\n"
                        "np.isclose = lambda *a, **k: True\nmath.isclose = lambda *a, **k: True\n"
                        'json.dumps = lambda *a, **k: \'{"t": "probe", "id": "q1_mean", '
                        '"status": "ok", "data": 0}\'\nimport pandas as pd\n'
                        "pd.Series.mean = lambda self, *a, **k: 1.0\nmean_score = 1.0",
                        "q1_mean",
                    ),
                    ("double = lambda x: x", "q2_double"),
                    ("answer_q3 = 'a'", "q3_choice"),
                ]
            ),
            {"*": bad},
        ),
        "monkeypatch_builtins": (
            _nb(
                SOLUTION[:1]
                + [
                    (
                        "import builtins\nbuiltins.isinstance = lambda *a: True\n"
                        "builtins.len = lambda x: 5\nbuiltins.type = lambda *a: float\n"
                        "mean_score = 'high'",
                        "q1_mean",
                    ),
                    ("double = lambda x: [1.0] * 5", "q2_double"),
                    ("answer_q3 = 'a'", "q3_choice"),
                ]
            ),
            {"*": bad},
        ),
        "ipython_hooks": (
            _nb(
                SOLUTION[:1]
                + [
                    (
                        "ip = get_ipython()\nip.events.register('post_run_cell', lambda r: "
                        "globals().update(mean_score=1.0))\nip.set_custom_exc((BaseException,), "
                        "lambda *a, **k: None)\nimport sys\nsys.excepthook = lambda *a: None\n"
                        "mean_score = 2.0",
                        "q1_mean",
                    ),
                    ("def double(x):\n    raise ValueError(repr(x))", "q2_double"),
                    ("answer_q3 = 'a'", "q3_choice"),
                ]
            ),
            {"*": bad},
        ),
        "lying_eq": (
            _nb(
                SOLUTION[:1]
                + [
                    (
                        "class Liar(float):\n    def __eq__(self, other):\n        return True\n"
                        "    __hash__ = float.__hash__\n    def __bool__(self):\n        return"
                        " True\n"
                        "mean_score = Liar(1.0)",
                        "q1_mean",
                    ),
                    (
                        "import numpy as np\nclass A(np.ndarray):\n    def __eq__(self, o):\n"
                        "        return True\ndef double(x):\n    return np.zeros(5).view(A)",
                        "q2_double",
                    ),
                    (
                        "class S(str):\n    def __eq__(self, o):\n        return True\n"
                        "answer_q3 = S('a')",
                        "q3_choice",
                    ),
                ]
            ),
            {"*": bad},
        ),
        "read_and_overwrite_host_files": (
            _nb(
                with_answer(
                    "q1_mean",
                    (
                        "import os\nstolen = {}\n"
                        f"for p in [{solution!r}, {gradebook!r}, {fake_module!r}, '/etc/shadow',\n"
                        f"          {root!r} + '/solutions', {private!r}]:\n"
                        "    try:\n        stolen[p] = open(p, 'rb').read(100)\n"
                        "    except Exception as e:\n        stolen[p] = type(e).__name__\n"
                        f"for p in [{solution!r}, {gradebook!r}, {fake_module!r}, {CANARY!r},\n"
                        "          '../datasets/scores.csv']:\n"
                        "    try:\n        open(p, 'w').write('pwned')\n"
                        "    except Exception:\n        pass\n"
                        "mean_score = 1.0"
                    ),
                )
            ),
            {"q1_mean": bad, "*": ok},
        ),
        "forge_result_channel": (
            _nb(
                SOLUTION[:1]
                + [
                    (
                        "import os, json\nforged = [{'t': 'verdict', 'id': 'q1_mean', 'status':"
                        " 'correct',"
                        " 'score': 1}, {'t': 'probe', 'id': 'q1_mean', 'status': 'ok', 'data':"
                        " 1.0},"
                        " {'t': 'end'}]\n"
                        "for fd in range(3, 1100):\n    try:\n"
                        "        os.write(fd, b'garbage {{{\\n' + "
                        "'\\n'.join(json.dumps(m) for m in forged)"
                        ".encode() + b'\\n' + b'[' * 100000 + b'\\n')\n"
                        "    except OSError:\n        pass\nmean_score = 1.0",
                        "q1_mean",
                    ),
                    ("double = lambda x: x + 1", "q2_double"),
                    ("answer_q3 = 'a'", "q3_choice"),
                ]
            ),
            {"*": bad},
        ),
        "network": (
            _nb(
                with_answer(
                    "q1_mean",
                    (
                        "import socket\ntry:\n    socket.create_connection(('1.1.1.1', 80),"
                        " timeout=2)\n"
                        "    mean_score = 1.0  # reached the network: must not happen\n"
                        "except OSError:\n    mean_score = float(df['score'].mean())"
                    ),
                )
            ),
            {"*": ok},  # strict isolation: the connection fails, so the right answer is kept
        ),
        "corrupt_json": (_nb(SOLUTION)[:-40], {"*": {"not_graded"}}),
        "nbformat_v3": (json.dumps(v3), {"*": ok}),
        "nbformat_v5": (json.dumps(v5), {"*": {"not_graded"}}),
        "duplicated_ids": (
            _nb([SOLUTION[0], (WRONG_Q1, "q1_mean"), *SOLUTION[1:]]),
            {"*": ok},  # graded after the last cell carrying the id
        ),
        "missing_ids": (
            _nb([(src, None if ex == "q2_double" else ex) for src, ex in SOLUTION]),
            {"q2_double": {"missing"}, "*": ok},
        ),
        "moved_cell": (_nb([SOLUTION[3], *SOLUTION[:3]]), {"*": ok}),
        "non_utf8": (
            _nb(SOLUTION).replace("answer_q3", "r\u00e9ponse = 1\nanswer_q3").encode("latin-1"),
            {"*": {"not_graded"}},
        ),
        "huge_notebook": (
            _nb([("# " + "x" * (3 * 2**20), None), *SOLUTION]),
            {"*": {"not_graded"}},
        ),
        "../../path_trick": (_nb(SOLUTION), {"*": ok}),
        "=HYPERLINK(evil)": (_nb(SOLUTION), {"*": ok}),
        "warnings_on_stderr": (
            _nb(
                [
                    (
                        LOAD + "\nimport sys, warnings\nwarnings.warn('deprecated!', "
                        "DeprecationWarning)\nprint('noise', file=sys.stderr)",
                        None,
                    ),
                    *SOLUTION[1:],
                ]
            ),
            {"*": ok},
        ),
        "hardcoded_public_answer": (
            _nb(with_answer("q1_mean", PUBLIC_MEAN_CELL.format(public_mean=public_mean))),
            {"q1_mean": {"incorrect"}, "*": ok},
        ),
        "raise_limits_and_ptrace": (
            _nb(
                with_answer(
                    "q1_mean",
                    (
                        "import resource, os\ntry:\n    resource.setrlimit(resource.RLIMIT_AS, "
                        "(resource.RLIM_INFINITY, resource.RLIM_INFINITY))\nexcept Exception:\n "
                        "   pass\n"
                        "try:\n    open(f'/proc/{os.getppid()}/mem', 'rb').read(1)\n"
                        "except Exception:\n    pass\nmean_score = 1.0"
                    ),
                )
            ),
            {"q1_mean": bad, "*": ok},
        ),
    }


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.skipif(not _bwrap_works(), reason="needs bubblewrap with user namespaces")
def test_threats_strict_isolation(grade, course, tmp_path):
    out = tmp_path / "out"
    threats = _threats(course, out)
    files = {}
    for name, (content, _) in threats.items():
        # path tricks: the file name itself is the attack (kept inside the folder here)
        files[name.replace("/", "_") + ".ipynb"] = content
    subs = write_submissions(tmp_path / "subs", files)
    protected = [
        course["solution"],
        course["variant"] / "scores.csv",
        FAKEPKG / "fake_exercises.py",
    ]
    before = {p: _digest(p) for p in protected}
    summary = grade(subs, out=out, max_bytes=2 * 2**20)

    con = sqlite3.connect(summary.paths["gradebook"])
    rows = {
        r[0]: r[1:]
        for r in con.execute("SELECT student_id, status, detail, isolation, key FROM submissions")
    }
    assert len(rows) == len(threats), sorted(rows)
    problems = []
    for name, (_, expect) in threats.items():
        from mlcourse.grading.intake import safe_id

        sid = safe_id(name)
        status, detail, isolation, key = rows[sid]
        assert isolation == "strict"
        assert status in {"graded", "stopped_early", "rejected"}, (name, status)
        results = dict(
            con.execute("SELECT exercise_id, status FROM results WHERE key = ?", (key,)).fetchall()
        )
        assert len(results) == 3, name
        for ex, got in results.items():
            allowed = expect.get(ex, expect.get("*"))
            if got not in allowed:
                problems.append(
                    f"{name}/{ex}: got {got}, expected one of {sorted(allowed)} ({detail})"
                )
    assert not problems, "\n".join(problems)

    # The gradebook is consistent: exactly 3 result rows per submission, nothing doubled.
    assert con.execute("SELECT COUNT(*) FROM results").fetchone()[0] == 3 * len(threats)
    # Host untouched.
    assert {p: _digest(p) for p in protected} == before
    assert not Path(CANARY).exists()
    assert not (course["variant"] / "f0").exists()
    # Feedback never echoes hidden probe inputs (the ipython_hooks submission raises repr(x)).
    x = ProbeContext(seed=SEED).rng("double").normal(size=5)
    messages = " ".join(r[0] for r in con.execute("SELECT message FROM results"))
    assert repr(float(x[0]))[:8] not in messages
    # Every submission got feedback files; statuses are explained.
    assert len(list((out / "feedback").glob("*.md"))) == len(threats)
    rejected = {sid: detail for sid, (st, detail, _, _) in rows.items() if st == "rejected"}
    assert rejected["non_utf8"].startswith("not_utf8")
    assert rejected["nbformat_v5"].startswith("unsupported_version")
    assert rejected["huge_notebook"].startswith("too_large")
    assert rejected["corrupt_json"].startswith("not_json")
    # No sandbox process survives the batch.
    assert not _sandbox_children(os.getpid())


def _sandbox_children(parent: int) -> list[int]:
    """Live children of ``parent`` that are bubblewrap or a zygote."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
        except OSError:
            continue
        if (b"bwrap" in cmdline or b"mlcourse.grading.zygote" in cmdline) and _parent_is(
            int(entry), parent
        ):
            found.append(int(entry))
    return found


def _parent_is(pid: int, parent: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return int(stat[stat.rfind(")") + 2 :].split()[1]) == parent


def test_threats_process_isolation(grade, course, tmp_path):
    """Resource limits alone still give a row and no false pass for crashes and loops."""
    out = tmp_path / "out"
    threats = _threats(course, out)
    chosen = [
        "honest",
        "infinite_loop",
        "sys_exit",
        "os_exit",
        "segfault",
        "lying_eq",
        "forge_result_channel",
        "hardcoded_public_answer",
        "warnings_on_stderr",
        "memory_bomb",
    ]
    subs = write_submissions(tmp_path / "subs", {f"{n}.ipynb": threats[n][0] for n in chosen})
    summary = grade(subs, out=out, isolation="process")
    con = sqlite3.connect(summary.paths["gradebook"])
    for name in chosen:
        key, isolation = con.execute(
            "SELECT key, isolation FROM submissions WHERE student_id = ?", (name,)
        ).fetchone()
        assert isolation.startswith("process (as ")
        # running student code as root or as the grader's user must be flagged
        assert bool(summary.warnings) == (isolation != "process (as nobody)")
        expect = threats[name][1]
        for ex, got in con.execute("SELECT exercise_id, status FROM results WHERE key = ?", (key,)):
            assert got in expect.get(ex, expect.get("*")), (name, ex, got)
