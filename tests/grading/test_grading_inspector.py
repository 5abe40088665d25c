"""The inspector is contained (issue 21): code running where a model is loaded can at worst
mis-judge the submission that sent it.

``fake_hole`` executes a text from the observation inside its ``assess`` step, standing in for
an unknown loader bug. Submissions that use the hole try, from inside the inspector, to find
the master seed, change a host file, read the output folder (gradebook, reference results),
reach the network, leave files for the next inspection, forge another exercise's result,
leak the held-out players through feedback text, and kill the inspector. Each is graded
beside its honest twin.
"""

from __future__ import annotations

import os
import shutil
import socket
import sqlite3
import tempfile
import threading
from pathlib import Path

import numpy as np
import pytest
from graderkit import FAKEPKG, notebook_json, write_submissions
from test_grading_adversarial import _bwrap_works

from mlcourse.grading.engine import GradeConfig, grade_batch
from mlcourse.grading.replies import WITHHELD_MESSAGE
from mlcourse.grading.sandbox import Limits

pytestmark = pytest.mark.slow

MASTER = 8_104_552_930_017
HELDOUT_MARKER = "HELDOUTSECRETROW"
LIMITS = Limits(cell_timeout=20.0, total_timeout=60.0, memory_mb=700, nproc=40, scratch_mb=32)
PRELOAD = ("numpy", "pandas", "IPython", "sklearn.linear_model", "skops.io", "mlcourse.exercises")

LOAD = (
    "import os\nimport pandas as pd\n"
    "train = pd.read_csv(os.path.join(os.environ['MLCOURSE_DATA_DIR'], 'train.csv'))"
)
MODEL = (
    "from sklearn.linear_model import LogisticRegression\n"
    "model = LogisticRegression().fit(train[['x1', 'x2']], train['y'])"
)


def _table(seed: int, n: int, note: str = "") -> str:
    rng = np.random.default_rng(seed)
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    y = (x1 + 0.7 * x2 + rng.normal(0, 0.8, size=n) > 0).astype(int)
    extra = f",{note}" if note else ""
    rows = [f"{a:.6f},{b:.6f},{c}{extra}" for a, b, c in zip(x1, x2, y, strict=True)]
    return f"x1,x2,y{',note' if note else ''}\n" + "\n".join(rows) + "\n"


def _hole(sentinel: Path, out: Path, port: int) -> str:
    """What the hole runs in the inspector: every attempt sets a flag when it succeeds."""
    return f"""
import glob, os, socket, sys
flags = {{}}
seed_text = b"{MASTER}"
found = 0
for p in glob.glob('/proc/*/environ') + glob.glob('/proc/*/cmdline'):
    try:
        found |= seed_text in open(p, 'rb').read()
    except OSError:
        pass
found |= seed_text.decode() in repr(dict(os.environ))
flags['seed_found'] = int(found)
try:
    open({str(sentinel)!r}, 'w').write('pwned')
    flags['host_write'] = 1
except OSError:
    flags['host_write'] = 0
flags['out_visible'] = int(os.path.exists({str(out)!r}))
try:
    os.listdir({str(out / "private")!r})
    flags['private_read'] = 1
except OSError:
    flags['private_read'] = 0
try:
    socket.create_connection(('127.0.0.1', {port}), timeout=1).close()
    flags['network'] = 1
except OSError:
    flags['network'] = 0
planted = ('/tmp/planted', '/dev/shm/planted', '/tmp/home/planted')
flags['planted_seen'] = int(any(os.path.exists(p) for p in planted))
for p in planted:
    try:
        open(p, 'w').write('x')
    except OSError:
        pass
line = '{{"t": "probe", "id": "q2_other", "status": "ok", "data": 7.0}}\\n'
try:
    os.write(1023, line.encode())
except OSError:
    pass
flags['other_reply'] = 0
facts = {{"auc": 1.0, "flags": flags}}
"""


LEAK = """
import glob
rows = open(glob.glob(str(actx.heldout_dir) + '/*.csv')[0]).read()
raise AnswerError('held-out rows: ' + rows[:400])
"""
LEAK_FACT = """
import glob
rows = open(glob.glob(str(actx.heldout_dir) + '/*.csv')[0]).read()
facts = {"auc": 0.5, "flags": {}, "note": rows[:300]}
"""
KILL = """
import os, signal
os.kill(os.getppid(), signal.SIGKILL)
"""


def _cells(other: str, hole: str | None = None) -> list[tuple[str, str | None]]:
    model = MODEL + (f"\nhole_code = {hole!r}" if hole is not None else "")
    return [(LOAD, None), (model, "q1_model"), (other, "q2_other")]


@pytest.fixture()
def listener():
    """A TCP server on loopback the inspector must not reach."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    hits: list[int] = []

    def serve() -> None:
        while True:
            try:
                conn, _ = srv.accept()
            except OSError:
                return
            hits.append(1)
            conn.close()

    threading.Thread(target=serve, daemon=True).start()
    yield srv.getsockname()[1], hits
    srv.close()


def _hole_batch(tmp_path: Path, port: int, isolation: str) -> tuple[dict, str, Path]:
    """Grade the hole submissions beside their twins; (rows, exported text, sentinel)."""
    root = tmp_path / "course"
    (root / "variant").mkdir(parents=True)
    (root / "variant" / "train.csv").write_text(_table(11, 300))
    (root / "heldout").mkdir()
    (root / "heldout" / "heldout.csv").write_text(_table(23, 300, HELDOUT_MARKER))
    for path in (root, root / "variant", root / "variant" / "train.csv"):
        path.chmod(0o755 if path.is_dir() else 0o644)  # the variant is world-readable
    tmp_path.chmod(0o755)
    solution = root / "97_hole.ipynb"
    solution.write_text(notebook_json(_cells("other = 7.0")))
    sentinel = tmp_path / "sentinel.txt"
    sentinel.write_text("precious")
    out = tmp_path / "out"
    hole = _hole(sentinel, out, port)
    subs = {
        "honest": _cells("other = 7.0"),
        "twin_wrong_other": _cells("other = 0.0"),
        "hole_a": _cells("other = 0.0", hole),
        "hole_b": _cells("other = 0.0", hole),
        "leak_message": _cells("other = 7.0", LEAK),
        "leak_fact": _cells("other = 7.0", LEAK_FACT),
        "kill_inspector": _cells("other = 7.0", KILL),
        "honest_after": _cells("other = 7.0"),
    }
    folder = write_submissions(
        tmp_path / "subs", {f"{k}.ipynb": notebook_json(v) for k, v in subs.items()}
    )
    cfg = GradeConfig(
        submissions=folder,
        notebook="97",
        seed=MASTER,
        out=out,
        jobs=1,
        isolation=isolation,  # type: ignore[arg-type]
        limits=LIMITS,
        exercises_module="fake_hole",
        exercises_path=(str(FAKEPKG),),
        solution=solution,
        data_variant=root / "variant",
        heldout=root / "heldout",
        progress=False,
        preload=PRELOAD,
    )
    summary = grade_batch(cfg)
    con = sqlite3.connect(summary.paths["gradebook"])
    rows = {}
    for sid, key, score in con.execute("SELECT student_id, key, score FROM submissions"):
        res = dict(
            ((ex, (st, msg)) for ex, st, msg in con.execute(
                "SELECT exercise_id, status, message FROM results WHERE key = ?", (key,)
            ))
        )  # fmt: skip
        rows[sid] = (score, res)
    exported = "\n".join(
        [p.read_text(errors="replace") for p in (out / "feedback").glob("*")]
        + [(out / "grades.csv").read_text()]
        + [r[0] for r in con.execute("SELECT message FROM results")]
    )
    con.close()
    return rows, exported, sentinel


def _assert_contained(rows: dict, exported: str, sentinel: Path, flags_ok: str) -> None:
    assert rows["honest"][0] == 3.0 and rows["honest_after"][0] == 3.0, rows
    for name in ("hole_a", "hole_b"):
        score, res = rows[name]
        # the hole may forge its own model's facts, and nothing else
        assert res["q1_model"] == ("correct", flags_ok), res
        assert res["q2_other"][0] == "incorrect", res  # the forged q2 line was not taken
        assert score <= rows["twin_wrong_other"][0], (name, score)
    assert sentinel.read_text() == "precious"
    # text from the inspector that the checkers could not have written never reaches feedback
    assert rows["leak_message"][1]["q1_model"] == ("incorrect", WITHHELD_MESSAGE)
    assert HELDOUT_MARKER not in exported and str(MASTER) not in exported
    # killing the inspector costs that submission its model check, nobody else's
    assert rows["kill_inspector"][1]["q1_model"][0] in {"error", "incorrect"}
    assert rows["kill_inspector"][1]["q2_other"][0] == "correct"


@pytest.mark.skipif(not _bwrap_works(), reason="needs bubblewrap with user namespaces")
def test_code_in_the_inspector_is_contained(tmp_path: Path, monkeypatch, listener) -> None:
    port, hits = listener
    monkeypatch.setenv("MLCOURSE_GRADING_SEED", str(MASTER))  # in this process's environ
    rows, exported, sentinel = _hole_batch(tmp_path, port, "strict")
    _assert_contained(rows, exported, sentinel, "hole flags: none")
    assert hits == []


def _can_drop_privileges() -> bool:
    from mlcourse.grading.sandbox import _python_roots, _world_readable

    return os.geteuid() == 0 and all(_world_readable(p) for p in _python_roots())


@pytest.mark.skipif(
    not _can_drop_privileges(),
    reason="process isolation drops privileges only as root, with a Python every user can read",
)
def test_code_in_the_process_isolated_inspector_runs_as_its_own_user(
    tmp_path: Path, monkeypatch, listener
) -> None:
    """Process isolation (no bubblewrap): the inspector runs as a user of its own, neither
    root nor student code's nobody. It reaches the network and the host's /tmp (documented),
    but not the seed, the output folder or a file of the grader's."""
    port, _hits = listener
    monkeypatch.setenv("MLCOURSE_GRADING_SEED", str(MASTER))
    base = Path(tempfile.mkdtemp(prefix="mlcourse-hole-"))  # traversable by every user
    base.chmod(0o755)
    try:
        rows, exported, sentinel = _hole_batch(base, port, "process")
        assert sentinel.read_text() == "precious"
    finally:
        shutil.rmtree(base, ignore_errors=True)
    # no seed, no host file, nothing of private/: only the network, /tmp and the output
    # folder's existence may show up (process isolation hides no file)
    for name in ("hole_a", "hole_b"):
        message = rows[name][1]["q1_model"][1]
        assert "seed_found" not in message and "host_write" not in message, message
        assert "private_read" not in message, message
    assert HELDOUT_MARKER not in exported and str(MASTER) not in exported
    assert rows["honest"][0] == 3.0 and rows["honest_after"][0] == 3.0, rows


SCRIPT = """
import sys
sys.path.insert(0, {fakepkg!r})
sys.path.insert(0, {tests!r})
from pathlib import Path
from mlcourse.grading.engine import GradeConfig, grade_batch
from test_grading_inspector import LIMITS, PRELOAD
summary = grade_batch(GradeConfig(
    submissions=Path({subs!r}), notebook="97", seed=5, out=Path({out!r}), jobs=2,
    isolation={isolation!r}, limits=LIMITS, exercises_module="fake_hole",
    exercises_path=({fakepkg!r},), solution=Path({solution!r}),
    data_variant=Path({variant!r}), heldout=Path({heldout!r}), progress=False,
    preload=PRELOAD,
))
print("SCORES", sorted(summary.percents))
"""


def test_the_grading_api_works_from_a_script_without_a_main_guard(tmp_path: Path) -> None:
    """Helper processes used to re-import an unguarded script (multiprocessing's
    forkserver), and every model exercise failed; the inspector is a sandbox now."""
    import subprocess
    import sys

    from mlcourse.grading.sandbox import bwrap_available

    root = tmp_path / "course"
    (root / "variant").mkdir(parents=True)
    (root / "variant" / "train.csv").write_text(_table(11, 300))
    (root / "heldout").mkdir()
    (root / "heldout" / "heldout.csv").write_text(_table(23, 300))
    solution = root / "97_hole.ipynb"
    solution.write_text(notebook_json(_cells("other = 7.0")))
    subs = write_submissions(tmp_path / "subs", {"a.ipynb": notebook_json(_cells("other = 7.0"))})
    script = tmp_path / "grade_it.py"
    script.write_text(
        SCRIPT.format(
            fakepkg=str(FAKEPKG),
            tests=str(Path(__file__).parent),
            subs=str(subs),
            out=str(tmp_path / "out"),
            isolation="strict" if _bwrap_works() and bwrap_available() else "process",
            solution=str(solution),
            variant=str(root / "variant"),
            heldout=str(root / "heldout"),
        )
    )
    run = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=600, cwd=tmp_path
    )
    assert run.returncode == 0, run.stderr[-3000:]
    assert "SCORES [100.0]" in run.stdout, run.stdout[-2000:] + run.stderr[-2000:]


@pytest.mark.skipif(os.geteuid() != 0, reason="the inspector's own user exists only as root")
def test_the_process_isolated_inspector_gets_a_user_and_a_private_copy(tmp_path: Path) -> None:
    """Issue-21 review: as root under process isolation the inspector ran as root, so a
    model that loaded a planted pickle (a Pipeline cache) ran code as root."""
    from mlcourse.grading.inspector import Inspector
    from mlcourse.grading.sandbox import NOBODY

    held = tmp_path / "heldout"
    held.mkdir()
    (held / "heldout.csv").write_text("x1,x2,y\n0,0,1\n")
    insp = Inspector(
        "fake_hole", (str(FAKEPKG),), data_dir=tmp_path, heldout_dir=held, isolation="process"
    )
    try:
        uid = insp.config.process_uid
        assert uid not in (0, NOBODY)
        copy = Path(insp.config.heldout_dir)
        assert copy != held and (copy / "heldout.csv").read_text() == "x1,x2,y\n0,0,1\n"
        st = copy.stat()
        assert (st.st_uid, st.st_mode & 0o777) == (uid, 0o700)  # nobody cannot read it
    finally:
        insp.close()
    assert not copy.exists()
