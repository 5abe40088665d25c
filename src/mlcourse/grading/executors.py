"""Where sandboxed runs happen: a local pool of warm sandboxes, or a Dask cluster.

Both executors take the same jobs and give back :class:`~mlcourse.grading.sandbox.RunResult`
objects (built by trusted code from the sandbox's JSON), in completion order.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from typing import Any

from mlcourse.grading.sandbox import RunResult, SandboxConfig, SandboxPool


@dataclass(frozen=True)
class Job:
    """One notebook to run. ``seeds`` maps exercise id to that exercise's own seed
    (:func:`mlcourse.exercises.spec.exercise_seed`); the master seed never enters a job."""

    job_id: str
    cells: list[dict[str, Any]]
    seeds: dict[str, int]


def _safe_run(pool: SandboxPool, job: Job) -> RunResult:
    try:
        return pool.run(job.job_id, job.cells, job.seeds)
    except Exception as exc:  # the grader's own failure must still give a row
        return RunResult(
            "grader_error", f"the grader failed to run it ({type(exc).__name__})", {}, {}, 0.0
        )


class LocalExecutor:
    """``jobs`` warm sandboxes on this machine."""

    def __init__(self, config: SandboxConfig, jobs: int, wait: bool = True) -> None:
        self.pool = SandboxPool(config, jobs, wait=wait)
        self.threads = ThreadPoolExecutor(max_workers=jobs)

    def wait_ready(self) -> None:
        """Wait for the sandboxes' imports (SandboxError when they cannot start)."""
        self.pool.wait_ready()

    def run(self, jobs: list[Job]) -> Iterator[tuple[Job, RunResult]]:
        futures = {self.threads.submit(_safe_run, self.pool, job): job for job in jobs}
        for fut in as_completed(futures):
            yield futures[fut], fut.result()

    def close(self) -> None:
        self.threads.shutdown(wait=True, cancel_futures=True)
        self.pool.close()


# One sandbox pool per Dask worker process, created on first use.
_WORKER_POOLS: dict[str, SandboxPool] = {}
_WORKER_LOCK = threading.Lock()


def _dask_run(config: SandboxConfig, job: Job) -> RunResult:  # pragma: no cover - on workers
    from distributed import get_worker

    key = repr(config)
    with _WORKER_LOCK:
        pool = _WORKER_POOLS.get(key)
        if pool is None:
            pool = SandboxPool(config, max(1, get_worker().state.nthreads))
            _WORKER_POOLS[key] = pool
    return _safe_run(pool, job)


class DaskExecutor:
    """The same runs on a Dask cluster (``--executor dask --scheduler ADDR``).

    Workers need the same installation and must see the data variant at the same path
    (shared filesystem). Only the trusted job description and the trusted RunResult travel
    through Dask; student output reaches the workers' harness only as JSON.
    """

    def __init__(self, config: SandboxConfig, scheduler: str | Any) -> None:
        from distributed import Client

        self.config = config
        self.client = scheduler if isinstance(scheduler, Client) else Client(scheduler)
        self.own_client = not isinstance(scheduler, Client)

    def wait_ready(self) -> None:
        """Nothing to wait for here: each worker starts its sandboxes on its first job."""

    def run(self, jobs: list[Job]) -> Iterator[tuple[Job, RunResult]]:
        from distributed import as_completed as dask_completed

        futures = {
            self.client.submit(
                _dask_run, self.config, job, pure=False, key=f"grade-{job.job_id}"
            ): job
            for job in jobs
        }
        for fut in dask_completed(list(futures)):
            job = futures[fut]
            try:
                yield job, fut.result()
            except Exception as exc:
                yield (
                    job,
                    RunResult(
                        "grader_error",
                        f"the cluster failed to run it ({type(exc).__name__})",
                        {},
                        {},
                        0.0,
                    ),
                )

    def close(self) -> None:
        import contextlib

        with contextlib.suppress(Exception):
            self.client.run(close_worker_pools)
        if self.own_client:
            self.client.close()


def close_worker_pools() -> None:
    """Stop the warm sandboxes of this (Dask worker) process."""
    with _WORKER_LOCK:
        for pool in _WORKER_POOLS.values():
            pool.close()
        _WORKER_POOLS.clear()
