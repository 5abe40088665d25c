"""The same batch on a Dask cluster (a LocalCluster here; kept to two submissions)."""

from __future__ import annotations

import sqlite3

import pytest
from graderkit import SOLUTION, notebook_json, with_answer, write_submissions

pytestmark = pytest.mark.slow


def test_dask_executor_grades_like_the_local_pool(grade, tmp_path):
    distributed = pytest.importorskip("distributed")
    subs = write_submissions(
        tmp_path / "subs",
        {
            "ann.ipynb": notebook_json(SOLUTION),
            "ben.ipynb": notebook_json(with_answer("q3_choice", "answer_q3 = 'a'")),
        },
    )
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None
    ) as cluster:
        with distributed.Client(cluster) as client:
            summary = grade(
                subs, out=tmp_path / "dask", executor="dask", scheduler=client, isolation="process"
            )
    con = sqlite3.connect(summary.paths["gradebook"])
    scores = dict(con.execute("SELECT student_id, score FROM submissions"))
    assert scores == {"ann": 4.0, "ben": 3.0}
