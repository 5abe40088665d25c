"""The batch: intake → variant → reference → sandboxed runs → judge → gradebook → exports.

Example
-------
>>> cfg = GradeConfig(submissions=Path("subs"), notebook="01", seed=123, out=Path("grades"))
>>> summary = grade_batch(cfg)  # doctest: +SKIP
>>> summary.counts  # doctest: +SKIP
{'graded': 38, 'rejected': 2}
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TextIO

from mlcourse.exercises import judge_result, map_exercise_cells
from mlcourse.grading import GRADER_VERSION
from mlcourse.grading.executors import DaskExecutor, Job, LocalExecutor
from mlcourse.grading.exercises_adapter import (
    ExerciseSet,
    default_solution_path,
    load_exercise_set,
)
from mlcourse.grading.exports import export_all
from mlcourse.grading.gradebook import (
    ExerciseRow,
    Gradebook,
    IdentityRow,
    SubmissionRow,
    seed_fingerprint,
    submission_key,
)
from mlcourse.grading.inspector import Inspector
from mlcourse.grading.intake import (
    MAX_NOTEBOOK_BYTES,
    Submission,
    collect_submissions,
    job_cells,
)
from mlcourse.grading.judge import judge_run, rejected_rows
from mlcourse.grading.lms import (
    Person,
    Roster,
    attention_lines,
    lms_lines,
    load_roster,
    person,
    roster_report,
)
from mlcourse.grading.sandbox import (
    DEFAULT_PRELOAD,
    SKOPS_PRELOAD,
    Limits,
    RunResult,
    SandboxConfig,
)
from mlcourse.grading.variant import VariantMaker, prepare_heldout, prepare_variant


class ReferenceError(RuntimeError):
    """The reference solution does not pass on the data variant: fix the course, not students."""


@dataclass
class GradeConfig:
    submissions: Path
    notebook: str
    seed: int
    out: Path
    jobs: int = 2
    executor: Literal["local", "dask"] = "local"
    scheduler: Any = None
    isolation: Literal["strict", "process"] = "strict"
    limits: Limits = field(default_factory=Limits)
    exercises_module: str | None = None
    exercises_path: tuple[str, ...] = ()
    solution: Path | None = None
    data_variant: Path | None = None
    #: held-out players for assess steps (default: generated from the seed into private/)
    heldout: Path | None = None
    variant_maker: VariantMaker | None = None
    max_bytes: int = MAX_NOTEBOOK_BYTES
    progress: bool = True
    stream: TextIO | None = None
    #: libraries the warm sandbox imports once (default: numpy, pandas, scikit-learn, ...)
    preload: tuple[str, ...] | None = None
    #: naming rules of the submissions: "canvas", "moodle", "auto" (detect) or "none"
    lms: str = "auto"
    #: class roster CSV joined to the submissions (names, emails, SIS ids, sections)
    roster: Path | None = None
    #: assignment column of canvas.csv (default: the notebook's stem)
    assignment: str | None = None
    #: rescale the LMS exports' grades to this maximum (default: the notebook's points)
    max_grade: float | None = None
    #: draw the score-distribution figure (a Gradescope run of one submission does not)
    figure: bool = True
    #: prepare the variant, held-out players and the reference's facts (cached in
    #: ``out/private``), grade nothing: what a Gradescope image does once in ``setup.sh``
    prepare_only: bool = False


@dataclass
class Summary:
    keys: list[str]
    counts: dict[str, int]
    exercise_counts: dict[str, int]
    skipped: int
    graded_now: int
    percents: list[float]
    paths: dict[str, Path]
    seconds: float
    warnings: list[str] = field(default_factory=list)
    #: LMS, roster and attention lines (students whose submission failed), printed last
    notes: list[str] = field(default_factory=list)
    #: the notebook graded, e.g. "01_encoding_basics"
    notebook: str = ""
    #: seconds per phase: imports (process start to the batch), setup (exercises, data),
    #: intake, warm-up wait, reference, first grade (process start to the first graded row)
    phases: dict[str, float] = field(default_factory=dict)

    def text(self) -> str:
        lines = [
            f"{len(self.keys)} submissions ({self.graded_now} graded now, "
            f"{self.skipped} already in the gradebook) in {self.seconds:.1f} s"
        ]
        lines.append("by status: " + ", ".join(f"{k} {v}" for k, v in sorted(self.counts.items())))
        lines.append(
            "exercises: " + ", ".join(f"{k} {v}" for k, v in sorted(self.exercise_counts.items()))
        )
        if self.percents:
            p = self.percents
            lines.append(
                f"score %: mean {statistics.fmean(p):.1f}, median "
                f"{statistics.median(p):.1f}, min {min(p):.1f}, max {max(p):.1f}"
            )
        for name, path in self.paths.items():
            lines.append(f"{name}: {path}")
        if self.phases:
            lines.append("time: " + ", ".join(f"{k} {v:.1f} s" for k, v in self.phases.items()))
        lines.extend(self.notes)
        lines.extend(f"WARNING: {w}" for w in self.warnings)
        return "\n".join(lines)


class Progress:
    """A tiny text progress bar on stderr (one line rewritten on a terminal, else a few lines).

    The ETA counts only notebooks that still have to run: their number times the mean wall
    time of the runs finished so far (before the first one, the reference run's time),
    divided by the workers running in parallel. Rejected files and history rows take no
    time and do not shorten it.
    """

    def __init__(
        self, total: int, stream: TextIO, enabled: bool = True, runs: int = 0, workers: int = 1
    ) -> None:
        self.total, self.stream, self.enabled = total, stream, enabled and total > 0
        self.done = 0
        self.counts: Counter[str] = Counter()
        self.start = time.monotonic()
        self.tty = hasattr(stream, "isatty") and stream.isatty()
        self.last_pct = -1
        self.runs, self.workers = runs, max(1, workers)
        self.runs_done = 0
        self.run_seconds = 0.0
        self.prior: float | None = None  # seconds of one run before any finished (reference)

    def eta(self) -> float | None:
        left = self.runs - self.runs_done
        if left <= 0:
            return 0.0
        rounds = -(-left // self.workers)  # the last runs go in parallel, not in fractions
        if self.runs_done:
            per_run = self.run_seconds / self.runs_done
            eta = per_run * rounds
            if self.runs_done >= self.workers:  # throughput, once every worker has finished one
                elapsed = time.monotonic() - self.start
                eta = max(eta, elapsed / self.runs_done * left)
            return eta
        if self.prior is not None:
            return self.prior * rounds
        return None

    def update(self, status: str, run_seconds: float | None = None) -> None:
        self.done += 1
        self.counts[status] += 1
        if run_seconds is not None:
            self.runs_done += 1
            self.run_seconds += run_seconds
        if not self.enabled:
            return
        if run_seconds is None and self.runs_done == 0 and self.done < self.total:
            return  # rejected files and history rows before any run: no line, no fake ETA
        pct = int(100 * self.done / self.total)
        if not self.tty and pct // 10 == self.last_pct // 10 and self.done != self.total:
            return
        self.last_pct = pct
        width = 30
        fill = int(width * self.done / self.total)
        eta = self.eta()
        tally = " ".join(f"{k} {v}" for k, v in sorted(self.counts.items()))
        if self.done == self.total:
            when = f"done in {_duration(time.monotonic() - self.start)}"
        else:
            when = "eta --" if eta is None else f"eta {_duration(eta)}"
        line = (
            f"grading [{'#' * fill}{'.' * (width - fill)}] {self.done}/{self.total} {tally}  {when}"
        )
        end = "\r" if self.tty and self.done != self.total else "\n"
        self.stream.write(line + end)
        self.stream.flush()


def _duration(seconds: float) -> str:
    seconds = max(0.0, seconds)
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _identity_row(sub: Submission) -> IdentityRow | None:
    ident = sub.identity
    if ident is None:
        return None
    return IdentityRow(
        ident.lms, ident.lms_id, ident.name, ident.late, ident.submission_id, sub.superseded_by
    )


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def checker_fingerprint(exset: ExerciseSet) -> str:
    """SHA-256 over the code that decides verdicts.

    That is the exercises module, the exercise framework (``mlcourse/exercises/_*.py``,
    ``spec.py``, ``__init__.py``) and the lesson modules a checker may call
    (``mlcourse/*.py``). Part of every cache and gradebook key, so fixing a checker regrades.
    """
    import importlib

    import mlcourse

    pkg = Path(mlcourse.__file__).resolve().parent
    framework = pkg / "exercises"
    files = sorted(pkg.glob("*.py")) + sorted(
        p for p in framework.glob("*.py") if p.name.startswith("_") or p.name == "spec.py"
    )
    mod_file = getattr(importlib.import_module(exset.module), "__file__", None)
    if mod_file:
        files.append(Path(mod_file).resolve())
    h = hashlib.sha256(GRADER_VERSION.encode())
    for path in dict.fromkeys(files):
        h.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


@dataclass(frozen=True)
class Judging:
    """What every verdict of a batch depends on, besides the submission itself."""

    exset: ExerciseSet
    variant: Path
    heldout: Path | None
    seeds: dict[str, int]  # per-exercise seeds (keyed hash of the master seed)
    fingerprint: str  # checker code + solution + data + held-out data + seed fingerprint

    def contexts(self) -> dict[str, Any]:
        from mlcourse.exercises import AssessContext

        return {
            ex.id: AssessContext(self.seeds[ex.id], self.variant, self.heldout)
            for ex in self.exset.exercises
            if ex.assess is not None
        }


def assessed_probes(run: RunResult, judging: Judging, inspector: Any) -> dict[str, dict]:
    """The run's probe results with every ``assess`` step applied (trusted, fresh process)."""
    results = {}
    for ex_id, probe in run.probes.items():
        entry = {"status": probe.get("status"), "message": probe.get("message", "")}
        if "data" in probe:
            entry["value"] = probe["data"]
        results[ex_id] = entry
    contexts = judging.contexts()
    if inspector is not None and contexts:
        results = inspector.assess(results, contexts)
    out = {}
    for ex_id, entry in results.items():
        probe = dict(run.probes.get(ex_id, {}))
        probe["status"], probe["message"] = entry.get("status"), entry.get("message", "")
        probe.pop("data", None)
        if "value" in entry:
            probe["data"] = entry["value"]
        out[ex_id] = probe
    return out


def reference_expected(
    executor: Any, judging: Judging, solution: Path, cache_dir: Path, inspector: Any = None
) -> dict[str, Any]:
    """Assessed probe data of the reference solution on the variant, judged against itself.

    Cached per fingerprint (checker code, solution, data, held-out data, seed). Raises
    :class:`ReferenceError` when the reference does not pass: a course bug must not look like
    a class of wrong answers.
    """
    exset = judging.exset
    raw = solution.read_bytes()
    key = hashlib.sha256(
        b"\0".join([raw, judging.fingerprint.encode(), exset.module.encode()])
    ).hexdigest()[:24]
    cache = cache_dir / f"reference-{key}.json"
    if cache.exists():
        return json.loads(cache.read_text())
    import nbformat

    nb = nbformat.reads(raw.decode("utf-8"), as_version=4)
    ids = [ex.id for ex in exset.exercises]
    cells = map_exercise_cells(nb, ids)
    missing = [ex for ex, st in cells.status.items() if st == "missing"]
    if missing:
        raise ReferenceError(f"the reference solution {solution} has no cell for {missing}")
    [(_, run)] = list(executor.run([Job("reference", job_cells(nb, cells), judging.seeds)]))
    probes = assessed_probes(run, judging, inspector)
    expected = {}
    problems = []
    for ex in exset.exercises:
        probe = probes.get(ex.id)
        if probe is None or probe["status"] != "ok":
            why = probe["message"] if probe else (run.detail or "not reached")
            problems.append(f"{ex.id}: {why}")
            continue
        expected[ex.id] = probe["data"]
        # the reference must be judged correct against itself on this variant
        own = judge_result(
            ex, {"status": "ok", "value": probe["data"]}, {"status": "ok", "value": probe["data"]}
        )
        if own.status != "correct":
            problems.append(f"{ex.id}: judged {own.status} against itself ({own.message})")
    if problems:
        raise ReferenceError(
            "the reference solution does not pass on the data variant, so nothing can be "
            "graded; fix the solution or the exercise module:\n  " + "\n  ".join(problems)
        )
    tmp = cache.with_suffix(".tmp")
    tmp.write_text(json.dumps(expected))
    os.replace(tmp, cache)
    return expected


def _grade_one(
    sub: Submission, exset: ExerciseSet, run: RunResult, expected: dict[str, Any], cells: Any
) -> tuple[str, str, list[Any]]:
    sources = {i: c.source for i, c in enumerate(sub.nb.cells)} if sub.nb is not None else {}
    rows = judge_run(exset.exercises, cells, run, expected, sources)
    if run.outcome == "completed":
        status, detail = "graded", ""
    elif run.outcome == "grader_error":
        status, detail = "grader_error", run.detail
    else:
        status, detail = "stopped_early", f"the notebook stopped early: {run.detail}"
    notes = list(sub.notes)
    if cells.unknown:
        notes.append(f"cells with unknown exercise ids were ignored: {', '.join(cells.unknown)}")
    if notes:
        detail = "; ".join([detail, *notes]) if detail else "; ".join(notes)
    return status, detail, rows


def _heldout(cfg: GradeConfig, exset: ExerciseSet, private: Path) -> Path | None:
    """Where the assess steps find rows the learners never saw (``None``: none needed)."""
    if not any(ex.assess is not None for ex in exset.exercises):
        return None
    if cfg.heldout:
        heldout: Path | None = Path(cfg.heldout)
    elif exset.assignment is not None:
        heldout = exset.assignment.heldout_dir  # the instructor's private rows, or the data
    else:
        heldout = prepare_heldout(private, cfg.seed)
    if heldout is not None and not heldout.is_dir():
        raise FileNotFoundError(f"the held-out players folder {heldout} is not a folder")
    return heldout


def _variant(cfg: GradeConfig, exset: ExerciseSet, out: Path) -> Path:
    """The data every submission runs on: given, an own assignment's, or made from the seed."""
    hw = exset.assignment
    if cfg.data_variant:
        return Path(cfg.data_variant)
    if hw is None:
        return prepare_variant(out, cfg.seed, cfg.variant_maker)
    if hw.make_data is not None:
        return prepare_variant(out, cfg.seed, lambda vseed, folder: hw.make_data(vseed, folder))
    if hw.data is not None:
        return hw.home / hw.data
    empty = out / "no-data"  # the assignment reads no data: nothing to generate
    empty.mkdir(exist_ok=True)
    os.chmod(empty, 0o755)
    return empty


def _judging(
    cfg: GradeConfig,
    exset: ExerciseSet,
    solution: Path,
    variant: Path,
    heldout: Path | None,
    seed_hash: str,
) -> Judging:
    """Per-exercise seeds and the batch's fingerprint."""
    from mlcourse.exercises import data_fingerprint, exercise_seed

    seeds = {ex.id: exercise_seed(cfg.seed, exset.notebook, ex.id) for ex in exset.exercises}
    parts = [
        checker_fingerprint(exset),
        hashlib.sha256(solution.read_bytes()).hexdigest(),
        data_fingerprint(variant),
        data_fingerprint(heldout) if heldout else "-",
        seed_hash,
    ]
    fingerprint = hashlib.sha256("\0".join(parts).encode()).hexdigest()
    return Judging(exset, variant.resolve(), heldout, seeds, fingerprint)


def _solution_imports(solution: Path, skip: str) -> tuple[str, ...]:
    """Top-level modules a solution notebook imports (and this environment has): what the
    sandboxes of an own assignment preload, instead of the course's whole list."""
    import ast

    # read as plain JSON: importing nbformat here would delay the sandboxes' start
    try:
        cells = json.loads(Path(solution).read_text(encoding="utf-8"))["cells"]
    except Exception:
        return ()
    names: list[str] = []
    for cell in cells if isinstance(cells, list) else ():
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else str(source)
        code = "\n".join(
            line for line in source.splitlines() if not line.lstrip().startswith(("%", "!"))
        )
        try:
            tree = ast.parse(code)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names += [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names.append(node.module)
    out = []
    for name in dict.fromkeys(names):
        if name.split(".")[0] == skip:
            continue
        if _module_exists(name):
            out.append(name)
    return ("IPython", *out)


def _module_exists(name: str) -> bool:
    """Whether ``name`` can be imported here, found on disk without importing it or its
    parents (``importlib.util.find_spec("sklearn.linear_model")`` imports scikit-learn: seconds
    in the grader's own process before the sandboxes even start)."""
    from importlib.machinery import PathFinder

    path: list[str] | None = None
    for i, part in enumerate(name.split(".")):
        if not part.isidentifier():
            return False
        loaded = sys.modules.get(".".join(name.split(".")[: i + 1]))
        if loaded is not None:
            path = list(getattr(loaded, "__path__", []) or [])
            continue
        try:
            spec = PathFinder.find_spec(part, path) if i or path else _top_spec(part)
        except (ImportError, ValueError):
            return False
        if spec is None:
            return False
        path = list(spec.submodule_search_locations or [])
    return True


def _top_spec(name: str) -> Any:
    """The spec of a top-level module from every finder (built-ins and frozen ones too)."""
    for finder in sys.meta_path:
        find = getattr(finder, "find_spec", None)
        spec = find(name, None) if find is not None else None
        if spec is not None:
            return spec
    return None


def _stage_module(exset: ExerciseSet) -> Path:
    """A folder holding only the checks module of an own assignment: the sandboxes import it
    from there, so its folder (the solution, the expected answers, held-out rows) is never
    mounted."""
    if exset.module_file is None:
        raise ValueError(f"{exset.module} has no file to grade with")
    stage = Path(tempfile.mkdtemp(prefix="mlcourse-checks-"))
    os.chmod(stage, 0o755)
    target = stage / exset.module_file.name
    shutil.copy2(exset.module_file, target)
    os.chmod(target, 0o644)
    return stage


def _import_matplotlib() -> None:
    """Import matplotlib (Agg) for the score figure; a failure shows when the figure is drawn.

    Runs in a thread at the lowest priority (Linux threads have their own nice value): the
    figure is drawn last, grading needs the cores first."""
    with contextlib.suppress(OSError, AttributeError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot  # noqa: F401
    except Exception:  # pragma: no cover - reported by score_figure
        pass


def _process_age() -> float | None:
    """Seconds since this process started (Linux ``/proc``), for the imports phase."""
    try:
        stat = Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()
        uptime = float(Path("/proc/uptime").read_text().split()[0])
        return max(0.0, uptime - int(stat[19]) / os.sysconf("SC_CLK_TCK"))
    except (OSError, ValueError, IndexError):
        return None


@dataclass
class _Batch:
    """What every phase of :func:`grade_batch` shares: the config, the clock, the messages."""

    cfg: GradeConfig
    stream: TextIO
    t0: float  # monotonic time at the start of the batch
    age: float | None  # seconds from process start to the batch (None: unknown)
    phases: dict[str, float]  # becomes ``Summary.phases``

    def say(self, line: str) -> None:
        """A status line on the stream (unless ``cfg.progress`` is off)."""
        if self.cfg.progress:
            self.stream.write(line + "\n")
            self.stream.flush()

    def lap(self, phase: str, since: float) -> None:
        """Time the phase that began at ``since`` (monotonic seconds)."""
        self.phases[phase] = round(time.monotonic() - since, 3)


@dataclass
class _Target:
    """What a batch grades against, resolved from the config before any sandbox starts."""

    roster: Roster | None
    exset: ExerciseSet
    solution: Path
    out: Path
    private: Path  # ``out/private`` (mode 0700): caches and held-out rows, never mounted
    variant: Path
    heldout: Path | None

    @property
    def hw(self) -> Any:
        """The own assignment being graded (``None``: a course notebook)."""
        return self.exset.assignment


@dataclass
class _Workers:
    """The processes and folders a batch starts and must stop again, even on an error."""

    executor: Any
    stage: Path | None  # the staged checks module of an own assignment
    inspector: Inspector | None = None
    sandbox: SandboxConfig | None = None  # how the notebook sandboxes run

    def close(self) -> None:
        """Stop the sandboxes and the inspector; remove the staged checks module."""
        self.executor.close()
        if self.inspector is not None:
            self.inspector.close()
        if self.stage is not None:
            shutil.rmtree(self.stage, ignore_errors=True)


@dataclass
class _Plan:
    """The submissions of a batch, who made them, and which still need a gradebook row."""

    subs: list[Submission]
    keys: list[str]  # one gradebook key a submission, in the order of ``subs``
    people: dict[str, Person]
    todo: list[tuple[str, Submission]]  # not in the gradebook yet, each key once

    @property
    def n_runs(self) -> int:
        """How many notebooks of ``todo`` go to a sandbox."""
        return sum(1 for _, sub in self.todo if sub.error is None and not sub.superseded_by)


@dataclass
class _Recorder:
    """Writes a batch's gradebook rows and ticks its progress bar."""

    batch: _Batch
    gb: Gradebook
    exset: ExerciseSet
    version: str  # grader version + fingerprint prefix
    seed_hash: str
    progress: Progress
    labels: set[str] = field(default_factory=set)  # isolation labels the runs reported

    def record(
        self,
        key: str,
        sub: Submission,
        status: str,
        detail: str,
        rows: list[Any],
        seconds: float,
        isolation: str = "",
        ran: bool = False,
    ) -> None:
        """Write one submission's row; ``ran``: it ran in a sandbox (first grade, ETA)."""
        b = self.batch
        if isolation:
            self.labels.add(isolation)
        score = round(sum(r.score for r in rows), 6)
        max_score = float(sum(ex.points for ex in self.exset.exercises))
        self.gb.write(
            SubmissionRow(
                key,
                sub.student_id,
                sub.source,
                sub.content_hash,
                self.exset.notebook,
                self.version,
                self.seed_hash,
                isolation or b.cfg.isolation,
                status,
                detail,
                score,
                max_score,
                round(seconds, 3),
                _now(),
            ),
            rows,
            _identity_row(sub),
        )
        if ran and "first grade" not in b.phases:
            b.phases["first grade"] = round(time.monotonic() - b.t0 + (b.age or 0.0), 3)
        self.progress.update(status, seconds if ran else None)


def _start(cfg: GradeConfig) -> _Batch:
    """Start the clock and refuse a config that cannot work before anything is done."""
    t0 = time.monotonic()
    age = _process_age()
    phases: dict[str, float] = {"imports": round(age, 3)} if age is not None else {}
    stream = cfg.stream or sys.stderr
    if cfg.jobs < 1:
        raise ValueError(f"--jobs must be at least 1, got {cfg.jobs}")
    if not cfg.prepare_only and not Path(cfg.submissions).exists():
        raise FileNotFoundError(
            f"no submissions at {cfg.submissions}; pass a folder of .ipynb files or a .zip "
            "exported from your LMS"
        )
    return _Batch(cfg, stream, t0, age, phases)


def _solution(cfg: GradeConfig, exset: ExerciseSet) -> Path:
    """The reference solution notebook: given, an own assignment's, or the course's."""
    if cfg.solution:
        solution = Path(cfg.solution)
    elif exset.assignment is not None:
        solution = exset.assignment.solution_path
    else:
        solution = default_solution_path(exset.notebook)
    if not solution.is_file():
        raise FileNotFoundError(f"the reference solution {solution} does not exist")
    return solution


def _resolve_target(b: _Batch) -> _Target:
    """Setup phase: roster, exercises, solution, output folders, data variant, held-out rows."""
    cfg = b.cfg
    roster = load_roster(Path(cfg.roster)) if cfg.roster else None  # fail before any work
    exset = load_exercise_set(cfg.notebook, cfg.exercises_module, cfg.exercises_path)
    hw = exset.assignment
    solution = _solution(cfg, exset)
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    private = out / "private"
    private.mkdir(exist_ok=True)
    os.chmod(private, 0o700)
    if not cfg.data_variant and hw is None:
        b.say("preparing the data variant from the seed (made once, then reused) ...")
    variant = _variant(cfg, exset, out)
    if not variant.is_dir():
        raise FileNotFoundError(f"the data variant {variant} is not a folder")
    if any(ex.assess is not None for ex in exset.exercises) and not cfg.heldout and hw is None:
        b.say("preparing the held-out players (made once, then reused) ...")
    heldout = _heldout(cfg, exset, private)
    b.lap("setup", b.t0)
    return _Target(roster, exset, solution, out, private, variant, heldout)


def _sandbox_config(cfg: GradeConfig, t: _Target, stage: Path | None) -> SandboxConfig:
    """How the sandboxes run: the data, the checks module, the limits, what stays hidden."""
    hw = t.hw
    sys_path = (str(stage),) if stage else tuple(str(Path(p).resolve()) for p in cfg.exercises_path)
    preload = cfg.preload
    if preload is None and hw is not None:
        preload = _solution_imports(t.solution, t.exset.module)
    if preload is None and any(ex.assess is not None for ex in t.exset.exercises):
        preload = DEFAULT_PRELOAD
    if preload is not None and any(ex.assess is not None for ex in t.exset.exercises):
        # model probes write skops files: import skops once, in the zygote, not per child
        preload = tuple(dict.fromkeys((*preload, SKOPS_PRELOAD)))
    return SandboxConfig(
        isolation=cfg.isolation,
        data_dir=t.variant.resolve(),
        exercises_module=t.exset.module,
        extra_sys_path=sys_path,
        limits=cfg.limits,
        # the output folder (gradebook, private/), the held-out players and an assignment's
        # own folder stay hidden even when they lie inside a mounted folder
        hidden=tuple(
            str(p.resolve())
            for p in (t.out, t.heldout, hw.home if hw is not None else None)
            if p is not None
        ),
        **({"preload": preload} if preload is not None else {}),
    )


def _spawn(cfg: GradeConfig, t: _Target) -> _Workers:
    """Start the sandboxes now: they import their libraries while intake and fingerprints run."""
    # an own assignment's checks module is imported from a folder that holds nothing else
    stage = _stage_module(t.exset) if t.hw is not None else None
    sandbox_cfg = _sandbox_config(cfg, t, stage)
    if cfg.executor == "dask":
        executor: Any = DaskExecutor(sandbox_cfg, cfg.scheduler)
    else:
        executor = LocalExecutor(sandbox_cfg, 1 if cfg.prepare_only else cfg.jobs, False)
    return _Workers(executor, stage, sandbox=sandbox_cfg)


def _warm_inspector(judging: Judging, workers: _Workers) -> None:
    """Start the inspector's sandbox (the assess steps), if any exercise has one.

    It is isolated like the notebook sandboxes, with the held-out players mounted too.
    """
    sandbox = workers.sandbox
    if not judging.contexts() or sandbox is None:
        return
    workers.inspector = Inspector(
        judging.exset.module,
        sandbox.extra_sys_path,
        data_dir=judging.variant,
        heldout_dir=judging.heldout,
        isolation=sandbox.isolation,
        hidden=sandbox.hidden,
        preload=sandbox.preload,
    )
    workers.inspector.warm()  # its imports run beside the sandboxes'


def _intake(b: _Batch, exset: ExerciseSet, roster: Any = None) -> list[Submission]:
    """Intake phase: the submitted notebooks (none when only preparing). The roster decides
    which of two names that clean up to one id keeps it."""
    cfg = b.cfg
    t_intake = time.monotonic()
    subs = (
        []
        if cfg.prepare_only
        else collect_submissions(
            Path(cfg.submissions),
            max_bytes=cfg.max_bytes,
            lms=cfg.lms,
            notebook=exset.notebook,
            roster=roster,
        )
    )
    b.lap("intake", t_intake)
    return subs


def _plan(subs: list[Submission], t: _Target, version: str, seed_hash: str, gb: Gradebook) -> _Plan:
    """Key every submission, find its student, and keep those the gradebook does not have."""
    keys: list[str] = []
    todo: list[tuple[str, Submission]] = []
    people: dict[str, Person] = {}
    for sub in subs:
        # a history row has its own key: if it becomes the latest again, it is graded
        label = version + ("+superseded" if sub.superseded_by else "")
        key = submission_key(
            sub.student_id, sub.source, sub.content_hash, t.exset.notebook, label, seed_hash
        )
        keys.append(key)
        people[key] = person(sub.identity, sub.student_id, t.roster)
        if not gb.has(key) and key not in {k for k, _ in todo}:
            todo.append((key, sub))
    return _Plan(subs, keys, people, todo)


def _record_unrunnable(rec: _Recorder, plan: _Plan) -> list[tuple[str, Submission, Any]]:
    """Record superseded and rejected submissions; the rest, with their cells, still run."""
    exercises = rec.exset.exercises
    ids = [ex.id for ex in exercises]
    runnable = []
    for key, sub in plan.todo:
        if sub.superseded_by:
            why = f"superseded by the newer submission {sub.superseded_by}"
            rec.record(key, sub, "superseded", why, rejected_rows(exercises, why), 0.0)
        elif sub.error is not None:
            rec.record(
                key,
                sub,
                "rejected",
                f"{sub.error}: {sub.message}",
                rejected_rows(exercises, sub.message),
                0.0,
            )
        else:
            runnable.append((key, sub, map_exercise_cells(sub.nb, ids)))
    return runnable


def _prepare_reference(
    b: _Batch, t: _Target, workers: _Workers, judging: Judging, progress: Progress
) -> dict[str, Any]:
    """Wait for the warm sandboxes, then run (or load) the reference solution's facts."""
    t_warm = time.monotonic()
    workers.executor.wait_ready()
    b.lap("warm-up wait", t_warm)
    b.say("running the reference solution on the variant (once; cached in private/) ...")
    t_ref = time.monotonic()
    expected = reference_expected(
        workers.executor, judging, t.solution, t.private, workers.inspector
    )
    b.lap("reference", t_ref)
    if time.monotonic() - t_ref > 0.5:  # not cached: a first guess at one run's time
        progress.prior = time.monotonic() - t_ref
    return expected


def _run_all(
    workers: _Workers,
    judging: Judging,
    rec: _Recorder,
    runnable: list[tuple[str, Submission, Any]],
    expected: dict[str, Any],
) -> None:
    """Grading loop: run the notebooks in the sandboxes, judge each run, record its row."""
    by_job = {}
    jobs = []
    for key, sub, cells in runnable:
        job_id = key[:16]
        by_job[job_id] = (key, sub, cells)
        jobs.append(Job(job_id, job_cells(sub.nb, cells), judging.seeds))
    exset = rec.exset
    figure = rec.batch.cfg.figure and not rec.batch.cfg.prepare_only
    for job, run in workers.executor.run(jobs):
        key, sub, cells = by_job[job.job_id]
        try:
            run.probes = assessed_probes(run, judging, workers.inspector)
            status, detail, rows = _grade_one(sub, exset, run, expected, cells)
        except Exception as exc:  # never lose a row to a grader bug
            status, detail = "grader_error", f"the grader failed ({type(exc).__name__})"
            rows = rejected_rows(exset.exercises, "the grader failed on this notebook")
        rec.record(key, sub, status, detail, rows, run.seconds, run.isolation, ran=True)
        if figure:
            # the parent mostly waits for the sandboxes: it imports matplotlib for the score
            # figure meanwhile, once the first grade is out (before, the warm-up needs the CPU)
            threading.Thread(target=_import_matplotlib, daemon=True).start()
            figure = False


def _grade(b: _Batch, t: _Target, workers: _Workers) -> tuple[_Plan, _Recorder]:
    """Fingerprint, intake, plan, then grade what is not in the gradebook yet."""
    cfg = b.cfg
    seed_hash = seed_fingerprint(cfg.seed)
    judging = _judging(cfg, t.exset, t.solution, t.variant, t.heldout, seed_hash)
    _warm_inspector(judging, workers)
    subs = _intake(b, t.exset, t.roster)
    version = f"{GRADER_VERSION}+{judging.fingerprint[:12]}"
    gb = Gradebook(t.out / "gradebook.sqlite")
    plan = _plan(subs, t, version, seed_hash, gb)
    n_runs = plan.n_runs
    parallel = 1 if cfg.executor == "dask" else max(1, min(cfg.jobs, n_runs))
    progress = Progress(len(plan.todo), b.stream, cfg.progress, runs=n_runs, workers=parallel)
    rec = _Recorder(b, gb, t.exset, version, seed_hash, progress)
    runnable = _record_unrunnable(rec, plan)
    if runnable or cfg.prepare_only:
        expected = _prepare_reference(b, t, workers, judging, progress)
        n = len(runnable)
        if cfg.prepare_only:
            b.say(f"prepared: the reference's facts are cached in {t.private}")
        else:
            b.say(f"grading {n} notebook{'s' if n != 1 else ''}, {parallel} at a time ...")
        progress.start = time.monotonic()
        _run_all(workers, judging, rec, runnable, expected)
    return plan, rec


@dataclass
class _Tally:
    """The gradebook rows of a batch, counted for the summary."""

    counts: Counter[str] = field(default_factory=Counter)  # submissions by status
    ex_counts: Counter[str] = field(default_factory=Counter)  # exercises by status
    percents: list[float] = field(default_factory=list)
    graded_rows: list[tuple[SubmissionRow, Person]] = field(default_factory=list)
    exercise_rows: dict[str, list[ExerciseRow]] = field(default_factory=dict)  # by key


def _tally(gb: Gradebook, plan: _Plan) -> _Tally:
    """Count the batch's rows by status; history rows count once and are not a grade."""
    tally = _Tally()
    for key in dict.fromkeys(plan.keys):
        row = gb.submission(key)
        if row is None:
            continue
        tally.counts[row.status] += 1
        if row.status == "superseded":  # history: neither counted nor exported as the grade
            continue
        tally.graded_rows.append((row, plan.people[key]))
        tally.percents.append(100 * row.score / row.max_score if row.max_score else 0.0)
        tally.exercise_rows[key] = rows = gb.exercises(key)
        for e in rows:
            tally.ex_counts[e.status] += 1
    return tally


def _isolation_warnings(labels: set[str]) -> list[str]:
    """A warning for each weak isolation the student code actually ran with."""
    return [
        f"student code ran with isolation '{label}': it could read and change this user's "
        "files and reach the network; use --isolation strict for untrusted submissions"
        for label in sorted(labels)
        if label in ("process (as root)", "process (as user)")
    ]


def _summary(b: _Batch, t: _Target, plan: _Plan, rec: _Recorder) -> Summary:
    """Recording phase's end: exports, counts, LMS / roster / attention notes, warnings."""
    gb = rec.gb
    report = export_all(
        gb,
        plan.keys,
        t.out,
        people=plan.people,
        assignment=b.cfg.assignment or t.exset.notebook,
        max_grade=b.cfg.max_grade,
        roster_given=t.roster is not None,
        figure=b.cfg.figure,
    )
    paths = {"gradebook": gb.path, **report.paths}
    tally = _tally(gb, plan)
    gb.close()
    notes = lms_lines(plan.subs, report.notes, t.roster)
    if t.roster is not None:
        notes += roster_report(
            [
                (sub.student_id, plan.people[key])
                for key, sub in zip(plan.keys, plan.subs, strict=True)
            ],
            t.roster,
        )
    notes += attention_lines(tally.graded_rows, tally.exercise_rows)
    return Summary(
        plan.keys,
        dict(tally.counts),
        dict(tally.ex_counts),
        len(plan.subs) - len(plan.todo),
        len(plan.todo),
        tally.percents,
        paths,
        time.monotonic() - b.t0,
        _isolation_warnings(rec.labels) + report.warnings,
        notes,
        t.exset.notebook,
        b.phases,
    )


def grade_batch(cfg: GradeConfig) -> Summary:
    """Grade every submission in ``cfg.submissions``; safe to rerun (finished work is skipped).

    The sandboxes start importing their libraries as soon as the data and the exercises are
    known, so their warm-up overlaps intake, fingerprints and the gradebook lookups.
    ``Summary.phases`` says where the time went.
    """
    b = _start(cfg)
    t = _resolve_target(b)
    workers = _spawn(cfg, t)
    try:
        plan, rec = _grade(b, t, workers)
    finally:
        workers.close()
    if cfg.prepare_only:
        rec.gb.close()
        return Summary(
            [], {}, {}, 0, 0, [], {"prepared": t.private}, time.monotonic() - b.t0,
            notebook=t.exset.notebook, phases=b.phases,
        )  # fmt: skip
    return _summary(b, t, plan, rec)
