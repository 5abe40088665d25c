"""The same batch on a Dask cluster: a LocalCluster of worker *processes* (not threads), each
running its own warm strict sandboxes, reached by its scheduler address as a real cluster is."""

from __future__ import annotations

import os
import sqlite3

import pytest
from graderkit import SOLUTION, notebook_json, with_answer, write_submissions

from mlcourse.grading.sandbox import bwrap_available

pytestmark = pytest.mark.slow


@pytest.mark.timeout(600)
def test_dask_workers_grade_like_the_local_pool_in_the_strict_sandbox(grade, tmp_path):
    distributed = pytest.importorskip("distributed")
    if not bwrap_available():
        pytest.skip("bubblewrap is not usable here (make doctor says why)")
    answers = {
        "ann.ipynb": SOLUTION,
        "ben.ipynb": with_answer("q3_choice", "answer_q3 = 'a'"),
        "cy.ipynb": with_answer("q1_mean", "mean_score = 0.0"),
        # the sandbox on the worker is the strict one: the host's files are not there
        "dee.ipynb": with_answer(
            "q2_double",
            "import os\nassert not os.path.exists('/etc/shadow'), 'host visible'\n"
            "def double(x):\n    return x * 2",
        ),
    }
    subs = write_submissions(tmp_path / "subs", {k: notebook_json(v) for k, v in answers.items()})
    local = grade(subs, out=tmp_path / "local", isolation="strict")
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        summary = grade(
            subs, out=tmp_path / "dask", executor="dask", scheduler=cluster.scheduler_address
        )
        with distributed.Client(cluster.scheduler_address) as client:
            pids = client.run(os.getpid)
    assert len(set(pids.values())) == 2  # two worker processes

    def scores(s):
        con = sqlite3.connect(s.paths["gradebook"])
        out = dict(con.execute("SELECT student_id, score FROM submissions"))
        isolation = {row[0] for row in con.execute("SELECT isolation FROM submissions")}
        con.close()
        return out, isolation

    dask_scores, dask_isolation = scores(summary)
    assert dask_scores == scores(local)[0] == {"ann": 4.0, "ben": 3.0, "cy": 2.0, "dee": 4.0}
    assert dask_isolation == {"strict"}
