"""Adversarial suite: one tiny submission per threat of design §6, graded in one batch.

For every submission we assert: no false pass (a wrong or missing answer is never
"correct"), the batch completes, the submission has a row with a clear status, and the host
is untouched (no file written outside the sandbox; solution, data, exercise module and
gradebook unchanged).

The second half attacks the trust argument of docs/grading.md ("Why a forged observation
cannot raise a score") with one exercise of each kind (``fakepkg/fake_adversarial.py``):
forged result lines, patching the exercise module, NumPy, scikit-learn, ``json`` and the
builtins, hunting the master seed, output floods, liar objects, reading secrets and forged
skops files. Each attack is graded beside an honest twin with the same answers.
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
from graderkit import (
    FAKEPKG,
    LOAD,
    SEED,
    SOLUTION,
    TEST_LIMITS,
    make_data,
    notebook_json,
    with_answer,
    write_submissions,
)

from mlcourse.exercises.spec import ProbeContext, exercise_seed
from mlcourse.grading.engine import GradeConfig, Summary, grade_batch
from mlcourse.grading.sandbox import Limits, bwrap_available

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


# =========================================================================================
# Attacks on the trust argument (docs/grading.md, section 3), against ``fake_adversarial``:
# one exercise of each kind (value, function on judge-chosen inputs, multiple choice, fitted
# estimator assessed on held-out players in the trusted inspector). Every attack has an
# honest twin: the same answers without the attack. For each attack the batch must give no
# score above the twin's, a row with a clear status for every submission, no change to any
# file outside the sandbox's scratch, and nothing secret in feedback, CSV or gradebook.
# =========================================================================================

ADV_NOTEBOOK = "98_adversarial"
ADV_IDS = ("q1_mean", "q2_double", "q3_choice", "q4_model")
#: the master seed of the adversarial batches: its decimal text must never leave the grader
ADV_MASTER = 7_391_245_700_318
ADV_LIMITS = Limits(
    cell_timeout=10.0,
    total_timeout=40.0,
    memory_mb=700,
    nproc=40,
    max_file_mb=4,
    scratch_mb=64,
    max_output_chars=10_000,
    max_result_bytes=40 * 2**20,
)
ADV_PRELOAD = (
    "numpy",
    "pandas",
    "IPython",
    "sklearn.linear_model",
    "sklearn.dummy",
    "sklearn.preprocessing",
    "skops.io",
    "mlcourse.exercises",
)
#: text that only the reference solution and the held-out players contain
REFERENCE_MARKER = "REFERENCEONLYMARKER"
HELDOUT_MARKER = "HELDOUTONLYMARKER"
#: markers a submission prints when it finds something it must not (never in feedback)
FOUND_MARKERS = ("MASTERSEEDFOUND", "SECRETREAD")
ADV_CANARY = f"/tmp/mlcourse-adv-canary-{uuid.uuid4().hex}"

ADV_LOAD = (
    LOAD + "\ntrain = pd.read_csv(os.path.join(os.environ['MLCOURSE_DATA_DIR'], 'train.csv'))"
)
ADV_RIGHT = {
    "q1_mean": "mean_score = float(df['score'].mean())",
    "q2_double": "def double(x):\n    return x * 2",
    "q3_choice": "answer_q3 = 'b'",
    "q4_model": (
        f"# {REFERENCE_MARKER}\nfrom sklearn.linear_model import LogisticRegression\n"
        "model = LogisticRegression().fit(train[['x1', 'x2']], train['y'])"
    ),
}
ADV_WRONG = {
    "q1_mean": "mean_score = 1.0",
    "q2_double": "def double(x):\n    return x + 1",
    "q3_choice": "answer_q3 = 'a'",
    "q4_model": (
        "from sklearn.dummy import DummyClassifier\n"
        "model = DummyClassifier().fit(train[['x1', 'x2']], train['y'])"
    ),
}


def _adv_cells(
    answers: dict[str, str], after: str | None = None, load: str = ADV_LOAD
) -> list[tuple[str, str | None]]:
    cells: list[tuple[str, str | None]] = [(load, None)]
    cells += [(answers[ex], ex) for ex in ADV_IDS]
    if after is not None:
        cells.append((after, None))
    return cells


def _adv_tables(seed: int, n: int) -> str:
    """Two features and a noisy label: a fitted logistic regression ranks well, a dummy not."""
    rng = np.random.default_rng(seed)
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    y = (x1 + 0.7 * x2 + rng.normal(0, 0.8, size=n) > 0).astype(int)
    rows = [f"{a:.6f},{b:.6f},{c}" for a, b, c in zip(x1, x2, y, strict=True)]
    return "x1,x2,y\n" + "\n".join(rows) + "\n"


def _adv_data(seed: int, directory: Path) -> None:
    make_data(seed, directory)
    (directory / "train.csv").write_text(_adv_tables(seed + 11, 300))
    for p in directory.iterdir():
        p.chmod(0o644)
    directory.chmod(0o755)


def _fake_heldout(out_dir: str | Path, seed: int, n_players: int = 400) -> dict[str, Path]:
    """Stands in for ``mlcourse.telemetry.write_heldout`` (players the notebook never sees)."""
    path = Path(out_dir) / "heldout.csv"
    lines = _adv_tables(seed + 23, n_players).splitlines()
    lines = [lines[0] + ",note"] + [f"{row},{HELDOUT_MARKER}" for row in lines[1:]]
    path.write_text("\n".join(lines) + "\n")
    return {"heldout": path}


@pytest.fixture(scope="module")
def adv_course(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("adv")
    solution = root / "solutions" / f"{ADV_NOTEBOOK}.ipynb"
    solution.parent.mkdir()
    solution.write_text(notebook_json(_adv_cells(ADV_RIGHT)))
    _adv_data(ADV_MASTER % 1000, root / "variant")
    _adv_data(0, root / "public")
    root.chmod(0o755)
    return {"root": root, "solution": solution, "variant": root / "variant"}


def _adv_grade(
    subs: Path, out: Path, course: dict[str, Path], monkeypatch: pytest.MonkeyPatch, **kw
) -> Summary:
    import mlcourse.telemetry

    monkeypatch.setattr(mlcourse.telemetry, "write_heldout", _fake_heldout)
    cfg = GradeConfig(
        submissions=subs,
        notebook="98",
        seed=ADV_MASTER,
        out=out,
        jobs=kw.pop("jobs", 2),
        isolation=kw.pop("isolation", "strict"),
        limits=ADV_LIMITS,
        exercises_module="fake_adversarial",
        exercises_path=(str(FAKEPKG),),
        solution=course["solution"],
        data_variant=course["variant"],
        progress=False,
        preload=ADV_PRELOAD,
        max_bytes=2 * 2**20,
        **kw,
    )
    return grade_batch(cfg)


def _public_answers(course: dict[str, Path]) -> dict[str, object]:
    """What a cheater can guess without solving: answers on the public data and public seed."""
    public_mean = float(np.loadtxt(course["root"] / "public" / "scores.csv", skiprows=1).mean())
    ctx = ProbeContext(seed=exercise_seed(0, ADV_NOTEBOOK, "q2_double"))
    x = np.concatenate([ctx.rng("double").normal(size=6), [-3.5, 1e-9, 1e6]])
    return {
        "q1_mean": public_mean,
        "q2_double": (2 * x).tolist(),
        "q3_choice": ["a", "b"],  # "any of them"
        # the shape of the assessed facts: the inspector must assess, not trust it
        "q4_model": {"auc": 1.0, "type": "LogisticRegression"},
    }


FORGE_HELPER = """
import json, os
def _forge(lines, extra=b''):
    data = b'garbage {{{\\n' + '\\n'.join(json.dumps(m) for m in lines).encode() + b'\\n' + extra
    fds = sorted({int(f) for f in os.listdir('/proc/self/fd')} | {1023})
    for fd in fds:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
        except OSError:
            pass
"""


def _forged_lines(values: dict[str, object], kind: str) -> list[dict[str, object]]:
    """Invented result lines: probes with chosen values, verdicts, ends, other ids, dupes."""
    lines: list[dict[str, object]] = []
    for ex, value in values.items():
        lines += [
            {"t": "verdict", "id": ex, "status": "correct", "score": 1.0, "points": 100},
            {"t": "probe", "id": ex, "status": "correct", "data": value},
            {"t": "probe", "id": ex, "status": "ok", "value": value, "score": 1},
            {"t": "probe", "id": ex, "status": "ok", "data": value},
            {"t": "result", "id": ex, "outcome": {"status": "correct", "score": 1.0}},
        ]
    for i in range(8):
        lines.append({"t": "cell_end", "i": i, "error": None, "seconds": 0.0})
    lines += [
        {"t": "probe", "id": "q9_bonus", "status": "ok", "data": 1},
        {"t": "probe", "id": "../q1_mean", "status": "ok", "data": 1},
        {"t": "probe", "id": 7, "status": "ok", "data": 1},
        {"t": "end"},
        {"t": "end", "score": 100},
    ]
    if kind == "shapes":
        lines += [
            {"t": "probe", "id": "q1_mean", "status": "ok", "data": {"value": 50.0, "ok": True}},
            {"t": "probe", "id": "q2_double", "status": "ok", "data": {"status": "ok"}},
            # a message of the student's choosing: shown (redacted), and escaped in HTML
            {
                "t": "probe",
                "id": "q2_double",
                "status": "answer_error",
                "message": "<script>alert('xss')</script><img src=x onerror=alert(1)>",
            },
            {"t": "probe", "id": "q3_choice", "status": "ok", "data": True},
            {"t": "probe", "id": "q4_model", "status": "ok", "data": {"skops": "!!notbase64"}},
        ]
    if kind == "huge":
        lines += [
            {"t": "probe", "id": "q1_mean", "status": "ok", "data": 1e308},
            {"t": "probe", "id": "q2_double", "status": "ok", "data": [1e308] * 20_000},
            {"t": "probe", "id": "q3_choice", "status": "ok", "data": "b" * 300_000},
            {"t": "probe", "id": "q4_model", "status": "ok", "data": {"skops": "QUFB" * 200_000}},
        ]
    return lines


def _forge_cell(values: dict[str, object], kind: str, then: str = "") -> str:
    lines = json.dumps(_forged_lines(values, kind))
    extra = "b'[' * 200000 + b'\\n' + b'1' * 5000 + b'\\n'" if kind == "huge" else "b''"
    return FORGE_HELPER + f"_forge(json.loads({lines!r}), {extra})\n{then}"


PATCH_EXERCISES = """
import sys, json, types
import mlcourse.exercises as mex
import mlcourse.exercises._runner as runner
import mlcourse.exercises.spec as spec
import mlcourse.exercises._helpers as helpers
FORGED = json.loads(@@FORGED@@)
mod = sys.modules['fake_adversarial']
for ex in mod.EXERCISES:
    object.__setattr__(ex, 'probe', lambda ns, ctx, _id=ex.id: FORGED[_id])
    object.__setattr__(ex, 'judge', lambda s, e: spec.Outcome.correct())
    object.__setattr__(ex, 'assess', None)
    object.__setattr__(ex, 'points', 1000.0)
mod._judge_mean = mod._judge_double = mod._judge_choice = lambda s, e: spec.Outcome.correct()
fake_mod = types.ModuleType('fake_adversarial')
fake_mod.EXERCISES = ()
sys.modules['fake_adversarial'] = fake_mod
sys.modules['mlcourse.exercises.nb01'] = fake_mod
runner.FORGED = FORGED
def _fake_probe_one(ex, namespace, ctx):
    return {'status': 'ok', 'value': FORGED.get(ex.id)}
runner.probe_one.__code__ = _fake_probe_one.__code__  # the harness's own reference
mex.probe_one = runner.probe_one
runner.to_plain = spec.to_plain = lambda obj, **kw: obj
runner.judge_result = mex.judge_result = lambda *a, **k: spec.Outcome.correct()
helpers.load_estimator = lambda *a, **k: None
helpers.refused_model_types = lambda *a, **k: set()
mean_score = 1.0
"""

PATCH_LIBRARIES = """
import math, numpy as np, sklearn, sklearn.metrics, sklearn.base
import sklearn.utils.validation as validation
from sklearn.dummy import DummyClassifier
np.array_equal = np.allclose = np.isclose = lambda *a, **k: True
math.isclose = lambda *a, **k: True
sklearn.metrics.roc_auc_score = lambda *a, **k: 1.0
validation.check_is_fitted = lambda *a, **k: None
sklearn.base.BaseEstimator.predict_proba = lambda self, X: np.tile([0.0, 1.0], (len(X), 1))
DummyClassifier.predict_proba = lambda self, X: np.tile([0.0, 1.0], (len(X), 1))
DummyClassifier.__eq__ = lambda self, other: True
mean_score = 1.0
"""

PATCH_JSON = """
import json
FORGED = json.loads(@@FORGED@@)
_real = json.JSONEncoder
class Evil(_real):
    # the harness's json.dumps builds its encoder from json.JSONEncoder: the wire is ours
    def encode(self, o):
        if type(o) is dict and o.get('t') == 'probe' and o.get('id') in FORGED:
            o = {'t': 'probe', 'id': o['id'], 'status': 'ok', 'data': FORGED[o['id']]}
        return _real.encode(self, o)
json.JSONEncoder = Evil
json._default_encoder = Evil()
json.dumps = lambda *a, **k: '{"t": "probe", "id": "q1_mean", "status": "ok", "data": 50.0}'
mean_score = 1.0
"""

PATCH_BUILTINS = """
import builtins
mean_score = 1.0
_real_type, _real_len, _real_isinstance = builtins.type, builtins.len, builtins.isinstance
builtins.isinstance = lambda *a: True
builtins.len = lambda x: 9
builtins.type = lambda *a: float if _real_len(a) == 1 else _real_type(*a)
builtins.callable = lambda x: True
"""

HUNT = """
import gc, hashlib, os, re, sys
TARGET = @@TARGET@@
found = set()
_rx = re.compile(r'\\d{4,}')
def _txt(s):
    found.update(_rx.findall(s[:100000]))
def _val(v, depth=0):
    t = type(v)
    if t is int:
        found.add(str(v))
    elif t is str:
        if len(v) >= 4:
            _txt(v)
    elif t is bytes or t is bytearray:
        _txt(bytes(v[:100000]).decode('latin-1'))
    elif depth < 1 and t is dict:
        for k, x in list(v.items())[:500]:
            _val(k, depth + 1)
            _val(x, depth + 1)
    elif depth < 1 and t in (list, tuple, set, frozenset):
        for x in list(v)[:500]:
            _val(x, depth + 1)
# every container the garbage collector knows (nested ones are listed on their own)
for o in gc.get_objects():
    try:
        t = type(o)
        if t in (dict, list, tuple, set):
            _val(o)
        elif t.__name__ == 'function':
            for c in o.__closure__ or ():
                _val(c.cell_contents)
            _val(o.__defaults__ or ())
        elif t.__name__ == 'cell':
            _val(o.cell_contents)
    except Exception:
        pass
# every frame of every thread, up to the harness (its per-exercise seeds are there)
in_frames = set()
for f in sys._current_frames().values():
    while f is not None:
        for v in list(f.f_locals.values()):
            _val(v)
            for x in list(v.values())[:500] if type(v) is dict else [v]:
                if type(x) is int and abs(x) > 9999:
                    in_frames.add(str(x))
        f = f.f_back
# the process's environment and command line, the zygote's, init's, every open descriptor
for p in ['/proc/self/environ', '/proc/self/cmdline', f'/proc/{os.getppid()}/cmdline',
          f'/proc/{os.getppid()}/environ', '/proc/1/cmdline', '/proc/1/environ']:
    try:
        _txt(open(p, 'rb').read().decode('latin-1'))
    except Exception:
        pass
for fd in os.listdir('/proc/self/fd'):
    try:
        os.set_blocking(int(fd), False)
        _txt(os.read(int(fd), 1 << 20).decode('latin-1'))
    except Exception:
        pass
_txt(' '.join(os.environ.values()))
hits = [s for s in found if hashlib.sha256(s.encode()).hexdigest() == TARGET]
if hits:
    raise RuntimeError('MASTERSEEDFOUND ' + ' '.join(hits))
rest = sorted(found - in_frames, key=lambda s: (-len(s), s))[:30]
everything = ' '.join([s[:40] for s in sorted(in_frames)] + [s[:40] for s in rest])
answer_q3 = 'found ' + everything
raise RuntimeError('HUNTDONE ' + everything)
"""

HUNT_FRAMES = """
import sys
def double(x):
    found = []
    f = sys._getframe()
    while f is not None:
        for k, v in list(f.f_locals.items()):
            if type(v) is int or k in ('seeds', 'ctx', 'seed'):
                found.append(f'{k}={v!r}')
        f = f.f_back
    raise ValueError('frames: ' + ' '.join(found) + ' inputs: ' + repr(x.tolist()))
"""

FLOOD = """
import logging, os, sys, warnings
from IPython.display import display
class Big:
    def __repr__(self):
        return 'x' * 10**7
    def _repr_html_(self):
        return 'y' * 10**7
sys.displayhook = lambda v: sys.stdout.write('z' * 10**7)
for _ in range(30):
    print('x' * 10**6)
    sys.stderr.write('y' * 10**6)
    sys.__stdout__.write('w' * 10**5)
    os.write(1, b'z' * 10**5)
    os.write(2, b'z' * 10**5)
    display(Big())
for i in range(3000):
    warnings.warn(f'warning {i}')
logging.getLogger().error('e' * 10**6)
mean_score = float(df['score'].mean())
Big()
"""

LIAR_A = {
    "q1_mean": """
class L(float):
    def __eq__(self, o): return True
    def __ne__(self, o): return False
    def __lt__(self, o): return False
    def __gt__(self, o): return False
    def __hash__(self): return 0
    def __bool__(self): return True
    def __float__(self): return 1.0
    def __abs__(self): return 0.0
mean_score = L(1.0)
""",
    "q2_double": """
import numpy as np
class A(np.ndarray):
    def __eq__(self, o): return np.ones(self.shape, bool)
    def __len__(self): return 9
    def __array__(self, dtype=None, copy=None): return np.zeros(9)
    def tolist(self): return [0.0] * 9
def double(x):
    return (np.asarray(x) * 0).view(A)
""",
    "q3_choice": """
class S(str):
    def __eq__(self, o): return True
    def __hash__(self): return hash('b')
    def strip(self, *a): return self
    def lower(self): return self
    def upper(self): return self
answer_q3 = S('a')
""",
    "q4_model": """
import numpy as np
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LogisticRegression
class Liar(DummyClassifier):
    def predict_proba(self, X):
        return np.tile([0.0, 1.0], (len(X), 1))
    def __eq__(self, o): return True
    @property
    def __class__(self): return LogisticRegression
model = Liar().fit(train[['x1', 'x2']], train['y'])
""",
}

LIAR_B = {
    "q1_mean": """
import pandas as pd
class Series(pd.Series):
    def __eq__(self, o): return True
    def __float__(self): return 50.0
Series.__module__ = 'pandas.core.series'
class D(dict):
    def __eq__(self, o): return True
mean_score = Series([1.0])
""",
    "q2_double": """
import numpy as np
class N:
    def __array__(self, dtype=None, copy=None): return np.zeros(9)
    def __len__(self): return 9
    def __eq__(self, o): return True
    def __float__(self): return 0.0
    def __iter__(self): return iter([0.0] * 9)
def double(x):
    return N()
""",
    "q3_choice": """
class S(str):
    def __eq__(self, o): return True
answer_q3 = {'b': S('b'), 'answer': 'a'}
""",
    "q4_model": """
from sklearn.linear_model import LogisticRegression
class Fake:
    @property
    def __class__(self): return LogisticRegression
    def __sklearn_is_fitted__(self): return True
    def fit(self, X, y): return self
    def predict_proba(self, X): return [[0.0, 1.0]] * len(X)
    def __getstate__(self): return {'coef_': 'lies', 'classes_': [0, 1]}
model = Fake()
""",
}


def _read_secrets_cell(paths: list[str], writes: list[str]) -> str:
    return (
        "import os\n"
        f"targets = {paths!r}\n"
        "leaks = []\n"
        "for p in targets:\n"
        "    try:\n"
        "        if os.path.isdir(p):\n"
        "            if [e for e in os.listdir(p) if not e.startswith('.')]:\n"
        "                leaks.append(p)\n"
        "        elif open(p, 'rb').read(200):\n"
        "            leaks.append(p)\n"
        "    except Exception:\n"
        "        pass\n"
        f"for p in {writes!r}:\n"
        "    try:\n"
        "        open(p, 'w').write('pwned')\n"
        "        leaks.append('wrote ' + p)\n"
        "    except Exception:\n"
        "        pass\n"
        "if leaks:\n"
        "    raise RuntimeError('SECRETREAD ' + ' | '.join(leaks))\n"
        "raise RuntimeError('NOTHINGREAD')\n"
    )


#: a host file the trusted inspector could reach: a model must not be able to change it
ADV_TRUNCATE = f"/tmp/mlcourse-adv-truncate-{uuid.uuid4().hex}"
FILE_GADGET = """
# library parts only, so the probe serialises it honestly: the first three steps turn the
# held-out rows into a path and open it for writing (truncating it) in the trusted process
import numpy as np
from sklearn.dummy import DummyClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer
model = Pipeline([
    ('a', FunctionTransformer(np.full_like, kw_args={'fill_value': @@TARGET@@, 'dtype': 'U200'})),
    ('b', FunctionTransformer(np.take, kw_args={'indices': 0})),
    ('c', FunctionTransformer(np.lib._datasource.open, kw_args={'mode': 'w'})),
    ('d', DummyClassifier()),
])
model.steps[-1][1].fit(train[['x1', 'x2']], train['y'])
for _, step in model.steps[:-1]:
    step.fit(None)
"""


#: issue 21: a genuine fitted dummy carrying a SciPy distribution object whose rebuild
#: (``rv_generic.__setstate__`` -> ``_attach_methods``) executes a string from its state
SCIPY_REBUILD = """
import copy
import scipy.stats
from sklearn.dummy import DummyClassifier
model = DummyClassifier().fit(train[['x1', 'x2']], train['y'])
payload = copy.copy(scipy.stats.norm)
payload._parse_arg_template = (
    "open(@@TARGET@@, 'w').write('pwned')\\n" + payload._parse_arg_template
)
model.payload = payload
"""


def _blob_cell(kind: str) -> str:
    """q4: a fitted dummy, and skops.io.dumps replaced so the probe sends a forged blob."""
    make = {
        "random": "blob = os.urandom(50_000)",
        "os_system": (
            "from sklearn.preprocessing import FunctionTransformer\n"
            "blob = _dumps(FunctionTransformer(func=os.system, "
            f"kw_args={{'command': 'touch {ADV_CANARY}'}}))"
        ),
        "eval": (
            "from sklearn.preprocessing import FunctionTransformer\n"
            "blob = _dumps(FunctionTransformer(func=eval, kw_args={}))"
        ),
        "file_gadget": "",
        "scipy_rebuild": "",
        "zip_bomb": (
            "import io, json, zipfile\n"
            "good = _dumps(model)\n"
            "src = zipfile.ZipFile(io.BytesIO(good))\n"
            "buf = io.BytesIO()\n"
            "with zipfile.ZipFile(buf, 'w', zipfile.ZIP_DEFLATED) as out:\n"
            "    for n in src.namelist():\n"
            "        data = src.read(n)\n"
            "        if n == 'schema.json':\n"
            "            data += b' ' * (200 * 2**20)\n"
            "        out.writestr(n, data)\n"
            "blob = buf.getvalue()"
        ),
    }[kind]
    if kind == "file_gadget":
        return FILE_GADGET.replace("@@TARGET@@", repr(ADV_TRUNCATE))
    if kind == "scipy_rebuild":
        return SCIPY_REBUILD.replace("@@TARGET@@", repr(ADV_CANARY))
    return (
        ADV_WRONG["q4_model"] + "\nimport os\nimport skops.io as sio\n_dumps = sio.dumps\n"
        f"{make}\nsio.dumps = lambda *a, **k: blob\n"
    )


def _adv_attacks(
    course: dict[str, Path], out: Path
) -> dict[str, tuple[list, list, dict[str, set[str]]]]:
    """name -> (attack cells, honest twin cells, {exercise: allowed statuses} ('*': others))."""
    public = _public_answers(course)
    forged = json.dumps(public)
    bad = {"incorrect", "error", "not_attempted", "not_run"}
    ok = {"correct"}
    wrong = _adv_cells(ADV_WRONG)
    right = _adv_cells(ADV_RIGHT)
    target = hashlib.sha256(str(ADV_MASTER).encode()).hexdigest()
    import mlcourse.exercises

    expected_dir = Path(mlcourse.exercises.__file__).resolve().parent / "expected"
    repo = Path(__file__).resolve().parents[2]
    secret_paths = [
        str(expected_dir),
        *(str(p) for p in sorted(expected_dir.glob("*.json"))),
        str(repo / "solutions"),
        *(str(p) for p in sorted((repo / "solutions").glob("*.ipynb"))[:3]),
        str(repo / ".git"),
        str(course["solution"]),
        str(course["solution"].parent),
        str(out / "gradebook.sqlite"),
        str(out / "private"),
        str(out / "grades.csv"),
        str(out / "feedback"),
        "/etc/shadow",
        "/root",
    ]
    writes = [
        str(expected_dir / "pwned.json"),
        str(FAKEPKG / "fake_adversarial.py"),
        str(course["solution"]),
        str(course["variant"] / "train.csv"),
        "/course/datasets/train.csv",
        str(out / "gradebook.sqlite"),
    ]
    return {
        "honest": (right, right, {"*": ok}),
        "forge_public": (
            _adv_cells(ADV_WRONG, _forge_cell(public, "public")),
            wrong,
            {"*": bad},
        ),
        "forge_shapes": (
            _adv_cells(ADV_WRONG, _forge_cell(public, "shapes")),
            wrong,
            {"*": bad},
        ),
        "forge_huge": (_adv_cells(ADV_WRONG, _forge_cell(public, "huge")), wrong, {"*": bad}),
        "forge_then_exit": (
            _adv_cells({**ADV_WRONG, "q2_double": _forge_cell(public, "public", "os._exit(0)")}),
            wrong,
            {"*": bad},
        ),
        "patch_exercises": (
            _adv_cells(
                {**ADV_WRONG, "q1_mean": PATCH_EXERCISES.replace("@@FORGED@@", repr(forged))}
            ),
            wrong,
            {"*": bad},
        ),
        "patch_libraries": (
            _adv_cells(
                {
                    **ADV_WRONG,
                    "q1_mean": PATCH_LIBRARIES,
                    "q2_double": "def double(x):\n    return x",
                    "q4_model": "from sklearn.dummy import DummyClassifier\n"
                    "model = DummyClassifier()",
                }
            ),
            _adv_cells({**ADV_WRONG, "q2_double": "def double(x):\n    return x"}),
            {"*": bad},
        ),
        "patch_json": (
            _adv_cells({**ADV_WRONG, "q1_mean": PATCH_JSON.replace("@@FORGED@@", repr(forged))}),
            wrong,
            {"*": bad},
        ),
        "patch_builtins": (_adv_cells({**ADV_WRONG, "q1_mean": PATCH_BUILTINS}), wrong, {"*": bad}),
        "hunt_seed": (
            _adv_cells(
                {
                    **ADV_WRONG,
                    "q1_mean": HUNT.replace("@@TARGET@@", repr(target)),
                    "q2_double": HUNT_FRAMES,
                    "q3_choice": "answer_q3 = 'found ' + everything",
                }
            ),
            wrong,
            {"*": bad},
        ),
        "flood_output": (
            _adv_cells(
                {
                    **ADV_RIGHT,
                    "q1_mean": FLOOD,
                    "q2_double": "def double(x):\n    print('p' * 60_000)\n    return x * 2",
                },
                after=FLOOD,
            ),
            right,
            {"*": ok},
        ),
        "flood_result_pipe": (
            _adv_cells(
                {
                    **ADV_RIGHT,
                    "q3_choice": FORGE_HELPER + "_forge([], b'x' * (48 * 2**20))\nanswer_q3 = 'b'",
                }
            ),
            right,
            {"q1_mean": ok, "q2_double": ok, "*": bad},
        ),
        "liar_a": (_adv_cells(LIAR_A), wrong, {"*": bad}),
        "liar_b": (_adv_cells(LIAR_B), wrong, {"*": bad}),
        "read_secrets": (
            _adv_cells({**ADV_WRONG, "q1_mean": _read_secrets_cell(secret_paths, writes)}),
            wrong,
            {"*": bad},
        ),
        "blob_random": (
            _adv_cells({**ADV_WRONG, "q4_model": _blob_cell("random")}),
            wrong,
            {"*": bad},
        ),
        "blob_os_system": (
            _adv_cells({**ADV_WRONG, "q4_model": _blob_cell("os_system")}),
            wrong,
            {"*": bad},
        ),
        "blob_eval": (_adv_cells({**ADV_WRONG, "q4_model": _blob_cell("eval")}), wrong, {"*": bad}),
        "blob_file_gadget": (
            _adv_cells({**ADV_WRONG, "q4_model": _blob_cell("file_gadget")}),
            wrong,
            {"*": bad},
        ),
        "blob_scipy_rebuild": (
            _adv_cells({**ADV_WRONG, "q4_model": _blob_cell("scipy_rebuild")}),
            wrong,
            {"*": bad},
        ),
        "blob_zip_bomb": (
            _adv_cells({**ADV_WRONG, "q4_model": _blob_cell("zip_bomb")}),
            wrong,
            {"*": bad},
        ),
        "blob_oversize": (
            _adv_cells(
                ADV_WRONG,
                after=FORGE_HELPER + "_forge([{'t': 'probe', 'id': 'q4_model', 'status': 'ok', "
                "'data': {'skops': 'QUFB' * (9 * 2**20), 'type': 'LogisticRegression'}}])",
            ),
            wrong,
            {"*": bad},
        ),
    }


def _adv_secrets(course: dict[str, Path]) -> list[str]:
    """Text that must never appear in feedback, CSV or gradebook."""
    seeds = [str(exercise_seed(ADV_MASTER, ADV_NOTEBOOK, ex)) for ex in ADV_IDS]
    ctx = ProbeContext(seed=exercise_seed(ADV_MASTER, ADV_NOTEBOOK, "q2_double"))
    hidden_input = repr(float(ctx.rng("double").normal(size=6)[0]))[:9]
    return [str(ADV_MASTER), *seeds, hidden_input, REFERENCE_MARKER, HELDOUT_MARKER, *FOUND_MARKERS]


def _protected_digests(course: dict[str, Path]) -> dict[Path, str]:
    # (the package's expected/*.json are not hashed: other work in a shared checkout may
    # regenerate them during the test; `read_secrets` checks that nothing lands there)
    files = [
        course["solution"],
        *sorted(course["variant"].iterdir()),
        *sorted(FAKEPKG.glob("*.py")),
        Path(ADV_TRUNCATE),
    ]
    return {p: _digest(p) for p in files}


def _exported_text(out: Path, con: sqlite3.Connection) -> str:
    parts = [p.read_text(errors="replace") for p in (out / "feedback").glob("*")]
    parts.append((out / "grades.csv").read_text())
    parts += [r[0] for r in con.execute("SELECT message FROM results")]
    parts += [r[0] or "" for r in con.execute("SELECT detail FROM submissions")]
    return "\n".join(parts)


def _run_attacks(
    names: list[str],
    course: dict[str, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    isolation: str,
) -> tuple[dict[str, dict], dict[str, tuple], str]:
    from mlcourse.exercises.spec import STATUSES

    out = tmp_path / "out"
    attacks = _adv_attacks(course, out)
    files, twin_of = {}, {}
    for name in names:
        attack, twin, _ = attacks[name]
        files[f"{name}.ipynb"] = notebook_json(attack)
        # attacks with the same answers share one honest twin
        twin_json = notebook_json(twin)
        twin_of[name] = "twin_" + hashlib.sha256(twin_json.encode()).hexdigest()[:8]
        files[f"{twin_of[name]}.ipynb"] = twin_json
    subs = write_submissions(tmp_path / "subs", files)
    Path(ADV_TRUNCATE).write_text("precious")
    before = _protected_digests(course)
    summary = _adv_grade(subs, out, course, monkeypatch, isolation=isolation)
    con = sqlite3.connect(summary.paths["gradebook"])
    rows = {}
    for sid, status, detail, score, key in con.execute(
        "SELECT student_id, status, detail, score, key FROM submissions"
    ):
        results = {
            ex: (st, msg)
            for ex, st, msg in con.execute(
                "SELECT exercise_id, status, message FROM results WHERE key = ?", (key,)
            )
        }
        rows[sid] = {"status": status, "detail": detail, "score": score, "results": results}
    assert sorted(rows) == sorted(Path(f).stem for f in files)
    problems = []
    for name in names:
        row, twin = rows[name], rows[twin_of[name]]
        assert row["status"] in {"graded", "stopped_early"}, (name, row)
        assert sorted(row["results"]) == sorted(ADV_IDS), name
        if row["score"] > twin["score"] + 1e-9:
            problems.append(f"{name}: scored {row['score']}, its honest twin {twin['score']}")
        expect = attacks[name][2]
        for ex, (status, message) in row["results"].items():
            assert status in STATUSES and message.strip(), (name, ex, status, message)
            if status not in expect.get(ex, expect["*"]):
                problems.append(f"{name}/{ex}: {status} ({message[:200]}) [{row['detail']}]")
    assert not problems, "\n".join(problems)
    assert _protected_digests(course) == before
    assert not Path(ADV_CANARY).exists()
    import mlcourse.exercises

    assert not (Path(mlcourse.exercises.__file__).parent / "expected" / "pwned.json").exists()
    text = _exported_text(out, con)
    con.close()
    return rows, attacks, text


def test_adversarial_attacks_strict(adv_course, tmp_path, monkeypatch):
    """Every attack of issue 10 under strict isolation (see docs/grading.md, section 3)."""
    if not _bwrap_works():
        pytest.skip("needs bubblewrap with user namespaces")
    names = [
        "honest",
        "forge_public",
        "forge_shapes",
        "forge_huge",
        "forge_then_exit",
        "patch_exercises",
        "patch_libraries",
        "patch_json",
        "patch_builtins",
        "hunt_seed",
        "flood_output",
        "flood_result_pipe",
        "liar_a",
        "liar_b",
        "read_secrets",
        "blob_random",
        "blob_os_system",
        "blob_eval",
        "blob_file_gadget",
        "blob_scipy_rebuild",
        "blob_zip_bomb",
        "blob_oversize",
    ]
    rows, _, text = _run_attacks(names, adv_course, tmp_path, monkeypatch, "strict")
    for secret in _adv_secrets(adv_course):
        assert secret not in text, secret
    html = "".join(p.read_text() for p in (tmp_path / "out" / "feedback").glob("*.html"))
    assert "<script>alert" not in html and "<img src=x" not in html
    # the attacks really ran: the seed hunt finished and found nothing; nothing was readable
    hunt = rows["hunt_seed"]["results"]["q1_mean"][1]
    assert "HUNTDONE" in hunt
    # the line quoted is the student's own line that raised (the cell starts with a blank line)
    assert "`raise RuntimeError('HUNTDONE ' + everything)`" in hunt
    assert "NOTHINGREAD" in rows["read_secrets"]["results"]["q1_mean"][1]
    # an output flood costs nothing: the same grade as the honest twin
    assert rows["flood_output"]["score"] == rows["honest"]["score"] == 6.0
    # issue 21: refused by the allow-list, and the message names the type
    scipy_msg = rows["blob_scipy_rebuild"]["results"]["q4_model"][1]
    assert "scipy.stats._continuous_distns.norm_gen" in scipy_msg, scipy_msg
    assert rows["flood_result_pipe"]["status"] == "stopped_early"
    assert "too much data" in rows["flood_result_pipe"]["detail"]
    assert rows["honest"]["score"] == 6.0


def test_strict_sandbox_hides_working_folder_and_output_folder(course, tmp_path, monkeypatch):
    """The grader's output folder and the folder it was started from stay out of the sandbox.

    ``python -m mlcourse grade`` puts the working folder (often the course checkout, with the
    default ``grades/`` output folder) on ``sys.path``; an output folder may also lie inside
    a mounted folder (here a custom ``--exercises-path``). Before the fix both were mounted
    read-only, so the gradebook, other students' feedback and ``private/`` (held-out players,
    reference results) were readable from student code.
    """
    import shutil
    import tempfile

    from mlcourse.grading.sandbox import Sandbox, SandboxConfig, _python_roots

    if not _bwrap_works():
        pytest.skip("needs bubblewrap with user namespaces")
    work = Path(tempfile.mkdtemp(prefix="mlcourse-checkout-", dir="/var/tmp"))
    try:
        for folder in (work / "grades" / "private", tmp_path / "pkg" / "grades" / "private"):
            folder.mkdir(parents=True)
            (folder / "heldout.csv").write_text(HELDOUT_MARKER)
            (folder.parent / "gradebook.sqlite").write_text(HELDOUT_MARKER)
            for p in (work, folder.parent, folder, *folder.parent.iterdir()):
                p.chmod(0o755)
        pkg = tmp_path / "pkg"
        pkg.chmod(0o755)
        shutil.copy(FAKEPKG / "fake_exercises.py", pkg / "fake_exercises.py")
        (pkg / "fake_exercises.py").chmod(0o644)
        monkeypatch.chdir(work)
        monkeypatch.syspath_prepend(str(work))
        assert work.resolve() not in [r.resolve() for r in _python_roots()]
        paths = [
            str(work / "grades" / "gradebook.sqlite"),
            str(work / "grades" / "private" / "heldout.csv"),
            str(pkg / "grades" / "gradebook.sqlite"),
            str(pkg / "grades" / "private" / "heldout.csv"),
        ]
        code = (
            "leaks = []\n"
            f"for p in {paths!r}:\n"
            "    try:\n        open(p).read()\n        leaks.append(p)\n"
            "    except OSError:\n        pass\n"
            f"control = bool(open({str(pkg / 'fake_exercises.py')!r}).read())\n"
            "raise RuntimeError(f'control={control} leaks={len(leaks)}')"
        )
        cfg = SandboxConfig(
            isolation="strict",
            data_dir=course["variant"],
            exercises_module="fake_exercises",
            extra_sys_path=(str(pkg),),
            limits=TEST_LIMITS,
            preload=("mlcourse.exercises.spec",),
            hidden=(str(pkg / "grades"),),
        )
        with Sandbox(cfg) as box:
            run = box.run("hide", [{"index": 0, "source": code, "probe": []}], {})
        assert "control=True leaks=0" in (run.cells[0]["error"] or ""), run.cells
    finally:
        shutil.rmtree(work, ignore_errors=True)


def test_adversarial_attacks_process(adv_course, tmp_path, monkeypatch):
    """The attacks that do not need a hidden filesystem, under process isolation too.

    Reading files and hunting the master seed in the grader's memory are not blocked by
    process isolation (docs/grading.md says so); forging, patching, liars, floods and forged
    estimators must still never raise a score, because judging happens outside.
    """
    names = [
        "honest",
        "forge_public",
        "forge_shapes",
        "patch_exercises",
        "patch_libraries",
        "patch_json",
        "patch_builtins",
        "flood_output",
        "liar_a",
        "liar_b",
        "blob_os_system",
        "blob_file_gadget",
        "blob_scipy_rebuild",
        "blob_zip_bomb",
    ]
    rows, _, text = _run_attacks(names, adv_course, tmp_path, monkeypatch, "process")
    for secret in _adv_secrets(adv_course):
        assert secret not in text, secret
    assert rows["honest"]["score"] == rows["flood_output"]["score"] == 6.0


#: rewrite a file the zygote keeps (same size, old time put back), change the mode of the
#: folders it keeps, set an extended attribute, add a key to the user keyring
SUBTLE_WRITE = """
import ctypes, os
planted = []
kept = [os.path.join(d, f) for d, _, fs in os.walk('/tmp') for f in fs]
for path in kept[:1]:
    st = os.stat(path)
    size = st.st_size
    with open(path, 'r+b') as fh:
        fh.write(b'LEFTBYA'[:size])
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    planted.append('file')
for folder, mode in (('/tmp/home', 0o700), ('/course/notebooks', 0o701)):
    try:
        os.chmod(folder, mode)
        planted.append('mode')
    except OSError:
        pass
try:
    os.setxattr('/tmp', 'user.left', b'A')
    planted.append('xattr')
except OSError:
    pass
libc = ctypes.CDLL(None, use_errno=True)
if libc.syscall(248, b'user', b'left-by-a', b'A', 1, ctypes.c_long(-4)) > 0:  # add_key
    planted.append('key')
try:  # a folder made read-only, with a file inside
    os.makedirs('/tmp/ro', exist_ok=True)
    open('/tmp/ro/left', 'w').write('A')
    os.chmod('/tmp/ro', 0o500)
    planted.append('read-only folder')
except OSError:
    pass
try:  # the kernel's settings (host root, seen from here)
    with open('/proc/sys/fs/lease-break-time', 'w') as fh:
        fh.write(open('/proc/sys/fs/lease-break-time').read())
    planted.append('sysctl')
except OSError:
    pass
raise RuntimeError(f'planted={len(planted)} {planted}')
"""
SUBTLE_READ = """
import ctypes, os
found = []
for d, _, fs in os.walk('/tmp'):
    for f in fs:
        try:
            if open(os.path.join(d, f), 'rb').read(7) == b'LEFTBYA':
                found.append('file')
        except OSError:
            pass
if os.stat('/tmp/home').st_mode & 0o777 == 0o700:
    found.append('mode home')
if os.stat('/course/notebooks').st_mode & 0o777 == 0o701:
    found.append('mode scratch')
try:
    if 'user.left' in os.listxattr('/tmp'):
        found.append('xattr')
except OSError:
    pass
libc = ctypes.CDLL(None, use_errno=True)
if libc.syscall(250, 10, ctypes.c_long(-4), b'user', b'left-by-a', 0) > 0:  # KEYCTL_SEARCH
    found.append('key')
if os.path.exists('/tmp/ro/left'):
    found.append('read-only folder')
raise RuntimeError(f'found={found}')
"""
#: each link starts the next and lives a little longer; after 1 s the chain kills every
#: process it can
CHAIN = """
import os, signal, time
start = time.monotonic()
if os.fork() == 0:
    while True:
        if os.fork():
            time.sleep(0.2)
            if time.monotonic() - start > 1.0:
                os.kill(-1, signal.SIGKILL)
            os._exit(0)
raise RuntimeError('chain started')
"""
AFTER_CHAIN = """
import time
time.sleep(2.2)
raise RuntimeError('survived 2 s')
"""


def _strict_box(course):
    """A strict warm sandbox on the fake course, one run after another."""
    from mlcourse.grading.sandbox import Sandbox, SandboxConfig

    cfg = SandboxConfig(
        isolation="strict",
        data_dir=course["variant"],
        exercises_module="fake_exercises",
        extra_sys_path=(str(FAKEPKG),),
        limits=TEST_LIMITS,
        preload=("mlcourse.exercises.spec",),
    )
    return Sandbox(cfg)


def test_strict_runs_leave_nothing_for_the_next(course):
    """What one submission writes to /tmp, $HOME or a hidden folder is gone for the next.

    All children of a warm sandbox share its private /tmp. Before the fix a submission could
    leave files there (and in the tmpfs over the package's expected answers) for the next
    submission the same sandbox ran.
    """
    import mlcourse.exercises

    if not _bwrap_works():
        pytest.skip("needs bubblewrap with user namespaces")
    expected = str(Path(mlcourse.exercises.__file__).resolve().parent / "expected")
    paths = [
        "/tmp/left-by-a",
        "/tmp/home/.config/left",
        f"{expected}/planted.json",
        "/tmp/bomb0",
        "/dev/shm/left-by-a",
        "/dev/left-by-a",
    ]
    # System V shared memory and POSIX message queues outlive a process in the sandbox's
    # IPC namespace: A creates a segment (key 0x5eed) and tries a queue; B looks for both
    ipc = (
        "import ctypes\nlibc = ctypes.CDLL(None, use_errno=True)\n"
        "shm = libc.shmget(0x5EED, 4096, 0o1666)\n"
        "mq = libc.mq_open(b'/left-by-a', os.O_CREAT | os.O_RDWR, 0o666, None)\n"
    )
    write = (
        "import os\nos.makedirs('/tmp/home/.config', exist_ok=True)\nwrote = []\n"
        f"for p in {paths!r}:\n"
        "    try:\n        open(p, 'w').write('A was here')\n        wrote.append(p)\n"
        "    except OSError:\n        pass\n"
        "mb = 0\ntry:\n    for i in range(200):\n"
        "        with open(f'/tmp/bomb{i}', 'wb') as fh:\n"
        "            fh.write(b'x' * 2**20)\n"
        "        mb += 1\nexcept OSError:\n    pass\n"
        "shm_mb = 0\ntry:\n    for i in range(200):\n"
        "        with open(f'/dev/shm/bomb{i}', 'wb') as fh:\n"
        "            fh.write(b'x' * 2**20)\n"
        "        shm_mb += 1\nexcept OSError:\n    pass\n"
        + ipc
        + "raise RuntimeError(f'wrote={len(wrote)} mb={mb} shm_mb={shm_mb} '\n"
        "                   f'ipc={shm >= 0},{mq >= 0}')"
    )
    read = (
        "import os\n"
        + ipc.replace("0o1666", "0").replace("os.O_CREAT | os.O_RDWR, 0o666", "os.O_RDONLY, 0")
        + f"found = sum(os.path.exists(p) for p in {paths!r})\n"
        "raise RuntimeError(f'found={found} ipc={shm >= 0},{mq >= 0}')"
    )
    with _strict_box(course) as box:
        a = box.run("a", [{"index": 0, "source": write, "probe": []}], {})
        b = box.run("b", [{"index": 0, "source": read, "probe": []}], {})
        # issue-21 review: channels the size-and-time baseline missed
        c = box.run("c", [{"index": 0, "source": SUBTLE_WRITE, "probe": []}], {})
        d = box.run("d", [{"index": 0, "source": SUBTLE_READ, "probe": []}], {})
        # second review: a fork chain that outruns a child-by-child cleanup, then kills
        e = box.run("e", [{"index": 0, "source": CHAIN, "probe": []}], {})
        f = box.run("f", [{"index": 0, "source": AFTER_CHAIN, "probe": []}], {})
    assert "chain started" in (e.cells[0]["error"] or ""), e.cells
    assert "survived 2 s" in (f.cells[0]["error"] or ""), (f.outcome, f.cells)
    assert "planted=" in (c.cells[0]["error"] or ""), c.cells
    assert "sysctl" not in (c.cells[0]["error"] or ""), c.cells  # /proc/sys is read-only
    assert "planted=0" not in (c.cells[0]["error"] or ""), c.cells  # the channels were there
    assert "found=[]" in (d.cells[0]["error"] or ""), d.cells
    # the hidden folder and /dev are read-only; /tmp and /dev/shm are capped like the
    # scratch folder (16 MB here); a System V segment can be made, no message queue
    err = a.cells[0]["error"] or ""
    assert "wrote=4 mb=" in err and "ipc=True,False" in err, a.cells
    assert int(err.split(" mb=")[1].split()[0]) < TEST_LIMITS.scratch_mb
    assert int(err.split("shm_mb=")[1].split()[0]) < TEST_LIMITS.scratch_mb
    # ... and the next submission finds none of it
    assert "found=0 ipc=False,False" in (b.cells[0]["error"] or ""), b.cells


RENICE = """
import os
zygote = os.getppid()
os.setpriority(os.PRIO_PROCESS, zygote, 19)
try:
    with open(f"/proc/{zygote}/autogroup", "w") as fh:
        fh.write("19")
except OSError:
    pass
raise RuntimeError(f"zygote nice {os.getpriority(os.PRIO_PROCESS, zygote)}")
"""
MY_NICE = """
import os
raise RuntimeError(f"my nice {os.getpriority(os.PRIO_PROCESS, 0)}")
"""


def test_a_run_that_renices_the_warm_sandbox_does_not_slow_the_next(course):
    """Attack round 3: a cell reniced the zygote (its parent) to 19, and every later run in
    that sandbox inherited the lower priority; under load the next student's cells could
    time out. The grader puts the priority back after the run, or starts a new zygote."""
    if not _bwrap_works():
        pytest.skip("needs bubblewrap with user namespaces")
    with _strict_box(course) as box:
        honest = box.run("a", [{"index": 0, "source": MY_NICE, "probe": []}], {})
        attack = box.run("b", [{"index": 0, "source": RENICE, "probe": []}], {})
        after = box.run("c", [{"index": 0, "source": MY_NICE, "probe": []}], {})
    # the sandbox inherits the grader's own niceness (0, unless the suite itself runs "nice")
    own = os.getpriority(os.PRIO_PROCESS, 0)
    assert "zygote nice 19" in (attack.cells[0]["error"] or ""), attack.cells
    assert f"my nice {own}" in (honest.cells[0]["error"] or ""), honest.cells
    assert f"my nice {own}" in (after.cells[0]["error"] or ""), after.cells
