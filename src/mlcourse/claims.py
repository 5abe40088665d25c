"""The claims ledger: every quantitative or comparative statement of a lesson, checked
against the data it was made on, other simulated worlds, and the simulator's truth.

A statement in a notebook's prose carries a claim id in an HTML comment, which Jupyter does
not show::

    The day after the last install is one of those days, and no new player arrives any
    more to make up for it: the largest drop of the whole log.
    <!-- claim: 00-cliff -->

``tests/claims/test_<stem>.py`` defines each claim with :func:`claim`: a function that
measures the statement on one :class:`World` and returns a :class:`Finding` (the figure,
whether the statement holds on it, and, where the simulator knows the answer, whether the
estimate agrees with the truth). The ledger runs each claim

* on the shipped data (the world the notebook prints), where it must hold;
* on other simulated worlds of grader size (:data:`WORLD_SEEDS`), where it must hold in at
  least 90 % of them, unless the claim is declared ``specific`` (its prose says the result is
  particular to this data);
* against the truth wherever its finding reports one.

A sentence with a number or a comparison word and no claim id is reported by
:func:`untagged_statements`; a sentence that only looks like a claim (an instruction, a
definition) is marked ``<!-- claim: none (why) -->``.

``make claims`` runs the whole ledger (:data:`WORLD_SEEDS`, ten worlds) and prints one line
per claim; ``make test`` runs it on the shipped data and the first three worlds.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: simulator seeds of the worlds a claim is checked on besides the shipped data
WORLD_SEEDS = (101, 102, 103, 104, 105, 106, 107, 108, 109, 110)
#: players per world: the size of the data variants the grader makes
WORLD_PLAYERS = 5_000
#: share of the worlds in which a general claim must hold
MIN_AGREEMENT = 0.9

MARK = re.compile(r"<!--\s*claim:\s*(?P<id>[^\s>]+?)(?:\s+\((?P<why>[^)]*)\))?\s*-->")
_CODE = re.compile(r"`[^`]*`|\$[^$]*\$|\[([^\]]*)\]\([^)]*\)")
_NUMBER = re.compile(
    r"\b\d+(?:[.,]\d+)?\s?(?:%|percent|times\b)|\b\d+\.\d+\b|\b(?:twice|half|double|triple)\b",
    re.IGNORECASE,
)
_COMPARISON = re.compile(
    r"\b(?:better|worse|best|worst|higher|lower|more than|less than|fewer|larger|smaller|"
    r"beats?|outperforms?|no difference|leaks?|leaky|improves?|far from|close to|"
    r"overfits?|underestimates?|overestimates?|biased|roughly|most players|a few)\b",
    re.IGNORECASE,
)
#: a sentence ends at . ! ? : before a capital, or right after a claim comment
_SENTENCE_END = re.compile(r"(?<=[.!?:])\s+(?=[A-Z*(\"'])|(?<=-->)\s+")


@dataclass(frozen=True)
class Finding:
    """What a claim measured on one world.

    Parameters
    ----------
    value : float
        The figure the statement is about (a ratio, a share, a difference).
    holds : bool
        Whether the statement is true on this world.
    truth : bool or None
        Whether the estimate the lesson teaches agrees with the simulator's truth within its
        stated uncertainty; ``None`` where the truth says nothing about it.
    shown : str
        The figure as the ledger prints it (``f"{value:.2f}"`` when empty).
    """

    value: float
    holds: bool
    truth: bool | None = None
    shown: str = ""

    def text(self) -> str:
        return self.shown or (f"{self.value:.3g}" if math.isfinite(self.value) else "n/a")


@dataclass(frozen=True)
class Claim:
    """A statement of a notebook and the function that measures it on a world."""

    id: str
    notebook: str
    statement: str
    measure: Callable[[World], Finding]
    specific: bool = False  # the prose says it holds on this data, not in general


#: every claim defined so far, by id (tests/claims/ fills it)
REGISTRY: dict[str, Claim] = {}


def claim(
    claim_id: str, notebook: str, statement: str, *, specific: bool = False
) -> Callable[[Callable[[World], Finding]], Callable[[World], Finding]]:
    """Register the decorated function as the measure of claim ``claim_id``.

    Example
    -------
    >>> @claim("00-example", "00_start_here", "most players play few sessions")
    ... def _(world):
    ...     n = world.sessions_per_player()
    ...     return Finding(n.median(), n.median() < n.mean())  # doctest: +SKIP
    """

    def register(fn: Callable[[World], Finding]) -> Callable[[World], Finding]:
        if claim_id in REGISTRY and REGISTRY[claim_id].measure is not fn:
            raise ValueError(f"claim {claim_id!r} is defined twice")
        REGISTRY[claim_id] = Claim(claim_id, notebook, statement, fn, specific)
        return fn

    return register


@dataclass
class World:
    """One dataset a claim is measured on: the shipped data, or a simulated world.

    The tables are loaded once and shared by every claim (treat them as read-only).
    """

    name: str
    data_dir: Path | None  # None: the shipped data (``mlcourse.datasets.data_dir()``)
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)

    def _load(self, what: str) -> Any:
        if what not in self._cache:
            from mlcourse import datasets

            loader = getattr(datasets, f"load_{what}")
            self._cache[what] = loader(self.data_dir) if self.data_dir else loader()
        return self._cache[what]

    def players(self) -> Any:
        return self._load("players")

    def events(self) -> Any:
        return self._load("events")

    def churn_truth(self) -> Any:
        return self._load("churn_truth")

    def payer_truth(self) -> Any:
        return self._load("payer_truth")

    def sessions(self) -> Any:
        """The ``session_start`` rows of the log."""
        if "sessions" not in self._cache:
            events = self.events()
            self._cache["sessions"] = events[events["event"] == "session_start"]
        return self._cache["sessions"]


def shipped_world() -> World:
    return World("shipped", None)


def simulated_world(seed: int, cache: Path) -> World:
    """The world of simulator seed ``seed`` (made once into ``cache``, then reused)."""
    from mlcourse.grading.variant import _create_once
    from mlcourse.telemetry import make_variant

    cache.mkdir(parents=True, exist_ok=True)
    target = cache / f"world-{seed}-{WORLD_PLAYERS}"
    try:
        _create_once(
            target, ".world-", lambda tmp: make_variant(tmp, seed=seed, n_players=WORLD_PLAYERS)
        )
    except OSError:
        if not target.is_dir():  # another process made it first: use theirs
            raise
    return World(f"seed {seed}", target)


@dataclass(frozen=True)
class Verdict:
    """A claim run on the shipped data and ``len(worlds)`` simulated worlds."""

    claim: Claim
    shipped: Finding
    worlds: tuple[tuple[str, Finding], ...]

    @property
    def agreeing(self) -> int:
        return sum(f.holds for _, f in self.worlds)

    @property
    def needed(self) -> int:
        """Worlds the claim must hold in: all but the failures the full ledger allows.

        ``make claims`` (all of ``WORLD_SEEDS``) allows ``(1 - MIN_AGREEMENT)`` of them to
        fail; a run on the first few worlds (``make test``) allows the same number, so a claim
        that passes the full ledger never fails the subset because its failing world is
        among the first.
        """
        if self.claim.specific:
            return 0
        allowed = len(WORLD_SEEDS) - math.ceil(MIN_AGREEMENT * len(WORLD_SEEDS))
        return max(0, len(self.worlds) - allowed)

    @property
    def truth(self) -> bool | None:
        known = [f.truth for f in (self.shipped, *(f for _, f in self.worlds))]
        known = [t for t in known if t is not None]
        return all(known) if known else None

    @property
    def ok(self) -> bool:
        return self.shipped.holds and self.agreeing >= self.needed and self.truth is not False

    def problems(self) -> list[str]:
        out = []
        if not self.shipped.holds:
            out.append(f"does not hold on the shipped data ({self.shipped.text()})")
        if self.agreeing < self.needed:
            failed = ", ".join(f"{n}: {f.text()}" for n, f in self.worlds if not f.holds)
            out.append(
                f"holds in {self.agreeing} of {len(self.worlds)} worlds, needs {self.needed} "
                f"(failed: {failed}); if it is particular to this data, say so in the prose "
                "and declare the claim specific=True"
            )
        if self.truth is False:
            wrong = [n for n, f in (("shipped", self.shipped), *self.worlds) if f.truth is False]
            out.append(f"disagrees with the simulator's truth on {', '.join(wrong)}")
        return out

    def line(self) -> str:
        mark = "ok  " if self.ok else "FAIL"
        worlds = f"{self.agreeing}/{len(self.worlds)} worlds"
        worlds += " (specific to this data)" if self.claim.specific else ""
        truth = {None: "truth: n/a", True: "truth: agrees", False: "truth: DISAGREES"}
        return (
            f"{mark} {self.claim.id}: shipped {self.shipped.text()} "
            f"({'holds' if self.shipped.holds else 'FAILS'}), {worlds}, {truth[self.truth]}"
        )


def judge(c: Claim, shipped: World, worlds: list[World]) -> Verdict:
    """Measure claim ``c`` on the shipped data and on each simulated world."""
    return Verdict(c, c.measure(shipped), tuple((w.name, c.measure(w)) for w in worlds))


def notebook_claims(notebook: str) -> list[str]:
    """The ids of the claims defined for ``notebook``, sorted."""
    return sorted(c.id for c in REGISTRY.values() if c.notebook == notebook)


# -- the prose side ----------------------------------------------------------------------------


def _prose(source: str) -> Iterator[str]:
    """The sentences of a Markdown cell that can state something: no headings, tables,
    list of objectives or the opening's **Time:**/**Prerequisites:** lines; code spans, math
    and link targets removed."""
    kept = []
    for line in source.splitlines():
        bare = line.strip()
        if bare.startswith(("#", "|", "**Time:**", "**Prerequisites:**", "**Next:**")):
            continue
        kept.append(line)
    text = _CODE.sub(lambda m: m.group(1) or " ", "\n".join(kept))
    for paragraph in re.split(r"\n\s*\n|\n\s*[-*] |\n\s*\d+\. ", text):
        yield from (s.strip() for s in _SENTENCE_END.split(" ".join(paragraph.split())) if s)


@dataclass(frozen=True)
class Statement:
    """A sentence of a notebook's prose that states something, and the claim ids on it."""

    cell: int
    text: str
    ids: tuple[str, ...]


def statements(nb: Any) -> list[Statement]:
    """Every sentence of the notebook's Markdown with a number or a comparison word, or with
    a claim id (``none`` for a sentence marked as no claim)."""
    out = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "markdown":
            continue
        for sentence in _prose(_attach_marks(cell.source)):
            ids = tuple(m.group("id") for m in MARK.finditer(sentence))
            bare = MARK.sub("", sentence)
            if ids or _NUMBER.search(bare) or _COMPARISON.search(bare):
                out.append(Statement(i, " ".join(bare.split()), ids))
    return out


def _attach_marks(source: str) -> str:
    """Move each claim comment onto the end of the sentence before it (a comment on a line of
    its own, after the sentence, is the usual way to write one)."""
    return re.sub(r"\s*\n\s*(<!--\s*claim:)", r" \1", source)


def untagged_statements(nb: Any) -> list[Statement]:
    """The statements of ``nb`` that carry no claim id (see the module docstring)."""
    return [s for s in statements(nb) if not s.ids]


def claim_ids(nb: Any) -> dict[str, list[int]]:
    """Claim id -> the Markdown cells that carry it (``none`` marks not included)."""
    out: dict[str, list[int]] = {}
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown":
            for m in MARK.finditer(cell.source):
                if m.group("id") != "none":
                    out.setdefault(m.group("id"), []).append(i)
    return out


@functools.cache
def repo_cache() -> Path:
    """Where simulated worlds are kept between runs: ``$MLCOURSE_CLAIMS_CACHE`` or the
    repository's ``.cache/claims``."""
    import os

    env = os.environ.get("MLCOURSE_CLAIMS_CACHE")
    if env:
        return Path(env)
    from mlcourse.exercises._registry import package_root

    return package_root() / ".cache" / "claims"
