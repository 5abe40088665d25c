"""``KernelSession.snapshot`` / ``restore`` (issue 27): a case run in a shared kernel starts
from the state the notebook left, whatever the case before it did to the namespace, the data
in it (in place) or the process settings."""

from __future__ import annotations

import nbformat
import pytest

from mlcourse.exercises._kernel import KernelSession

_NOTEBOOK = [
    "import os, random, warnings\nimport sklearn\n"
    "import numpy as np\nimport pandas as pd\nimport matplotlib.pyplot as plt",
    "frame = pd.DataFrame({'a': [1, 2, 3]})\nalias = frame\nrows = [1, 2]\n"
    "def total():\n    return int(frame.a.sum())\n"
    "rng = np.random.default_rng(0)\nnp.random.seed(1)\nrandom.seed(2)\n"
    "gen = (i for i in range(3))\nfig, ax = plt.subplots()",
]

_STATE = (
    "_mlc_result = {'total': total(), 'rows': rows, 'same': alias is frame,\n"
    "    'cols': list(frame.columns), 'extra': 'extra' in globals(),\n"
    "    'rng': float(rng.random()), 'np': float(np.random.random_sample()),\n"
    "    'py': random.random(), 'env': os.environ.get('MLC_SNAP'),\n"
    "    'out': sklearn.get_config()['transform_output'],\n"
    "    'filters': len(warnings.filters), 'ax': ax is fig.axes[0]}"
)

_MESS = (
    "frame.loc[0, 'a'] = 100\nframe['b'] = 1\nrows.append(3)\nalias = None\nextra = 1\n"
    "rng.random(5)\nnp.random.random_sample(5)\nrandom.random()\n"
    "os.environ['MLC_SNAP'] = 'x'\nsklearn.set_config(transform_output='pandas')\n"
    "warnings.simplefilter('ignore')\nnext(gen)\ndel total"
)


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_restore_brings_back_the_state_the_notebook_left():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in _NOTEBOOK])
    with KernelSession(nb) as session:
        session.run_notebook()
        took = session.snapshot()
        assert took["copied"] >= 4, took  # frame, alias, rows, rng
        first = session.json(_STATE)
        session.restore()  # restored before anything changed: the same state
        assert session.json(_STATE) == first
        session.run(_MESS)
        messed = session.json("_mlc_result = [int(frame.a.sum()), 'total' in globals()]")
        assert messed == [105, False]
        session.restore()
        again = session.json(_STATE)
        assert again == first
        # a generator cannot be copied: it is kept as it is (the case consumed it)
        assert session.json("_mlc_result = next(gen)") == 1
        assert first["same"] and first["ax"] and first["rows"] == [1, 2]
        assert first["cols"] == ["a"] and not first["extra"] and first["env"] is None


def _tiny_notebook(stem: str) -> nbformat.NotebookNode:
    cells = ["import os, time", f"name = {stem!r}\nrows = [1, 2]"]
    return nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])


_ROWS = "_mlc_result = [name, rows, 'extra' in globals()]"


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_the_pool_lends_the_notebook_state_and_recovers_from_broken_kernels(solved_kernels):
    """The suite's pool of solved kernels (conftest.py), on a two-cell notebook per stem."""
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    pool = type(solved_kernels)(limit=2, timeout=5)  # a pool of its own, same class
    pool.notebook = _tiny_notebook
    try:
        with pool.lend("a") as session:
            assert session.json(_ROWS) == ["a", [1, 2], False]
            session.run("rows.append(3)\nextra = 1")
        with pool.lend("a") as again:
            assert again is session, "one kernel per notebook"
            assert again.json(_ROWS) == ["a", [1, 2], False], "each case starts afresh"
        with pytest.raises(AssertionError), pool.lend("a"):
            raise AssertionError("a verdict breaks nothing")
        assert pool.runs == {"a": 1} and not pool.broken
        with pytest.raises(DeadKernelError), pool.lend("a") as session:
            session.run("os._exit(1)")
        with pool.lend("a") as restarted:
            assert restarted is session, "a dead kernel is restarted in place"
            assert restarted.json(_ROWS) == ["a", [1, 2], False]
        with pytest.raises(CellTimeoutError), pool.lend("a") as session:
            session.run("time.sleep(60)")
        with pool.lend("a") as replaced:
            assert replaced is not session, "a kernel whose cell timed out is replaced"
            assert replaced.json(_ROWS) == ["a", [1, 2], False]
        assert pool.runs == {"a": 3}
        for stem in ("b", "c"):
            with pool.lend(stem) as other:
                assert other.json(_ROWS)[0] == stem
        assert list(pool.open) == ["b", "c"], "at most `limit` kernels, least recent closed"
    finally:
        pool.close()
