"""``KernelSession.snapshot`` / ``restore`` (issue 27): a case run in a shared kernel starts
from the state the notebook left, whatever the case before it did to the namespace, the data
in it (in place) or the process settings.

The first test drives a session directly; the second the suite's pool of solved kernels
(``SolvedKernels`` in conftest.py), which every catalogue, mutants and stability test uses:
one case makes a mess, the next one must see the solved state.
"""

from __future__ import annotations

import nbformat
import pytest

from mlcourse.exercises._kernel import KernelSession

_NOTEBOOK = [
    "import os, random, sys, time, warnings\nimport sklearn\n"
    "import numpy as np\nimport pandas as pd\nimport matplotlib\nimport matplotlib.pyplot as plt",
    "frame = pd.DataFrame({'a': [1, 2, 3]})\nalias = frame\nrows = [1, 2]\n"
    "nested = {'frame': frame, 'rows': rows}\n"
    "def total():\n    return int(frame.a.sum())\n"
    "rng = np.random.default_rng(0)\nnp.random.seed(1)\nrandom.seed(2)\n"
    "gen = (i for i in range(3))\nfig, ax = plt.subplots()",
]

#: everything a case could change that the next case would see
_STATE = (
    "_mlc_result = {'total': total(), 'rows': rows, 'same': alias is frame,\n"
    "    'nested': nested['frame'] is frame and nested['rows'] is rows,\n"
    "    'cols': list(frame.columns), 'extra': 'extra' in globals(),\n"
    "    'rng': float(rng.random()), 'np': float(np.random.random_sample()),\n"
    "    'py': random.random(), 'env': os.environ.get('MLC_SNAP'),\n"
    "    'out': sklearn.get_config()['transform_output'],\n"
    "    'filters': len(warnings.filters), 'ax': ax is fig.axes[0],\n"
    "    'cwd': os.getcwd(), 'path': sys.path[-1], 'rows_opt': pd.get_option('display.max_rows'),\n"
    "    'lw': matplotlib.rcParams['lines.linewidth'], 'err': np.geterr()['divide'],\n"
    "    'prec': np.get_printoptions()['precision']}"
)

#: a case that changes all of it: in place, by rebinding, by deleting, process-wide
_MESS = (
    "frame.loc[0, 'a'] = 100\nframe['b'] = 1\nrows.append(3)\nalias = None\nextra = 1\n"
    "rng.random(5)\nnp.random.random_sample(5)\nrandom.random()\n"
    "os.environ['MLC_SNAP'] = 'x'\nsklearn.set_config(transform_output='pandas')\n"
    "warnings.simplefilter('ignore')\nnext(gen)\ndel total\nos.chdir('/')\n"
    "sys.path.append('/nowhere')\npd.set_option('display.max_rows', 3)\n"
    "matplotlib.rcParams['lines.linewidth'] = 9.0\nnp.seterr(divide='raise')\n"
    "np.set_printoptions(precision=2)\nframe"  # the last value goes to Out
)


def _notebook(cells: list[str]) -> nbformat.NotebookNode:
    return nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_restore_brings_back_the_state_the_notebook_left():
    with KernelSession(_notebook(_NOTEBOOK)) as session:
        session.run_notebook()
        assert not session.has_snapshot
        took = session.snapshot()
        assert session.has_snapshot
        assert took["copied"] >= 5, took  # frame, alias, rows, nested, rng
        first = session.json(_STATE)
        session.restore()  # restored before anything changed: the same state
        assert session.json(_STATE) == first
        session.run(_MESS)
        messed = session.json(_STATE.replace("total()", "0"))
        changed = {k for k in first if k != "total" and messed[k] != first[k]}
        # the mess really changed every one of them (else the test below proves nothing)
        assert changed == set(first) - {"total", "nested", "ax"}, changed
        assert session.json("_mlc_result = ['total' in globals(), len(Out)]") == [False, 1]
        session.restore()
        again = session.json(_STATE)
        assert again == first
        assert session.json("_mlc_result = [len(Out), int(frame.a.sum())]") == [0, 6]
        # a generator cannot be copied: it is kept as it is (the case consumed it)
        assert session.json("_mlc_result = next(gen)") == 1
        assert first["same"] and first["nested"] and first["ax"] and first["rows"] == [1, 2]
        assert first["cols"] == ["a"] and not first["extra"] and first["env"] is None
        # a restarted kernel has lost its snapshot
        session.restart()
        assert not session.has_snapshot


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_the_pool_lends_the_notebook_state_and_recovers_from_broken_kernels(solved_kernels):
    """The suite's pool of solved kernels (conftest.py): each lending starts from the state
    the notebook left, whatever the case before did; broken kernels are restarted or
    replaced and their notebook runs again."""
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    pool = type(solved_kernels)(limit=2, timeout=120)  # a pool of its own, same class
    pool.notebook = lambda stem: _notebook([*_NOTEBOOK, f"name = {stem!r}"])
    try:
        with pool.lend("a") as session:
            first = session.json(_STATE)
            session.run(_MESS)
        with pool.lend("a") as again:
            assert again is session, "one kernel per notebook"
            assert again.json(_STATE) == first, "each case starts from the solved state"
        with pytest.raises(AssertionError), pool.lend("a") as session:
            session.run("frame.loc[1, 'a'] = -5")
            raise AssertionError("a verdict breaks nothing")
        assert pool.runs == {"a": 1} and not pool.broken
        with pool.lend("a") as session:
            assert session.json(_STATE) == first
        with pytest.raises(DeadKernelError), pool.lend("a") as session:
            session.run("os._exit(1)")
        with pool.lend("a") as restarted:
            assert restarted is session, "a dead kernel is restarted in place"
            assert restarted.json(_STATE) == first
        with pytest.raises(CellTimeoutError), pool.lend("a") as session:
            session.client.timeout = 2
            session.run("time.sleep(60)")
        with pool.lend("a") as replaced:
            assert replaced is not session, "a kernel whose cell timed out is replaced"
            # a new kernel works in a folder of its own; all else as the notebook left it
            assert replaced.json(_STATE) == {**first, "cwd": str(replaced.cwd)}
        assert pool.runs == {"a": 3}
        for stem in ("b", "c"):
            with pool.lend(stem) as other:
                assert other.json("_mlc_result = name") == stem
        assert list(pool.open) == ["b", "c"], "at most `limit` kernels, least recent closed"
    finally:
        pool.close()
