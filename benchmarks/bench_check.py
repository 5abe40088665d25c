"""How long ``check("id")`` takes in a learner's kernel, on the course data.

For every notebook with a solution notebook and an exercises module: execute the solution in
one kernel (nbclient), then time ``check(id)`` for each exercise inside that kernel — the
first call with empty caches (cold: hashes the data files for the fingerprint and reads
the expected answers) and the median of
five warm calls, beside the median time of the exercise's probe alone (the rest is the
framework: lookup, judging, feedback). Goal: well under one second per check.

Usage: ``python benchmarks/bench_check.py [STEM ...]``
"""

from __future__ import annotations

import sys
import time

import nbformat

from mlcourse.authoring import solution_paths
from mlcourse.exercises._kernel import KernelSession
from mlcourse.exercises._registry import notebook_modules

TIMER = """
import statistics as _st, time as _t
from {module} import check as _c
from {module} import EXERCISES as _EX
from mlcourse.exercises import _expected as _e
from mlcourse.exercises import data_dir as _dd
from mlcourse.exercises._runner import probe_one as _probe_one
from mlcourse.exercises.spec import ProbeContext as _PC
_ns, _ctx = get_ipython().user_ns, _PC(seed=0, data_dir=_dd())
_out = {{}}
for _id in {ids!r}:
    _e._fingerprint_cache.clear(); _e._load.cache_clear()  # cold: hash data, read JSON again
    _t0 = _t.perf_counter(); _fb = _c(_id); _cold = _t.perf_counter() - _t0
    _w, _p = [], []
    _ex = [e for e in _EX if e.id == _id][0]
    for _ in range(5):
        _t0 = _t.perf_counter(); _c(_id); _w.append(_t.perf_counter() - _t0)
        _t0 = _t.perf_counter(); _probe_one(_ex, _ns, _ctx); _p.append(_t.perf_counter() - _t0)
    _out[_id] = [_cold, _st.median(_w), _st.median(_p), _fb.status]
_mlc_result = _out
"""


def main(argv: list[str]) -> int:
    paths = solution_paths()
    stems = [s for s in notebook_modules() if s in paths and (not argv or s in argv)]
    if not stems:
        print("no notebook with both a solution and an exercises module")
        return 0
    worst = overhead = 0.0
    print(f"{'exercise':45s} {'cold ms':>9s} {'warm ms':>9s} {'probe ms':>9s}  status")
    for stem in stems:
        mod = notebook_modules()[stem]
        ids = [ex.id for ex in mod.EXERCISES]
        nb = nbformat.read(paths[stem], as_version=4)
        t0 = time.perf_counter()
        with KernelSession(nb) as session:
            session.run_notebook()
            run_s = time.perf_counter() - t0
            res = session.json(TIMER.format(module=mod.__name__, ids=ids))
        print(f"{stem}: solution notebook executed in {run_s:.1f} s")
        for ex_id, (cold, warm, probe, status) in res.items():
            worst = max(worst, cold, warm)
            overhead = max(overhead, warm - probe)
            print(f"  {ex_id:43s} {cold * 1e3:9.1f} {warm * 1e3:9.1f} {probe * 1e3:9.1f}  {status}")
    print(f"slowest check: {worst * 1e3:.1f} ms (goal: well under 1000 ms)")
    print(f"largest framework overhead (warm check minus its probe): {overhead * 1e3:.1f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
