"""The Lumen Isles simulator: synthetic telemetry of a free-to-play game with known ground truth.

The simulator works in three stages (course design §3):

1. **Latent traits** per player (engagement, decay, skill, sociability, spender propensity) drive
   the observed behaviour: installs spread over time, daily sessions decaying like a power law of
   the player's age, level attempts with difficulty spikes, ads, invites and purchases.
2. **Labels from observable features.** At each snapshot ``s`` every labelled player (installed at
   least ``min_tenure_days`` before ``s`` and not churned before) gets
   ``churned ~ Bernoulli(sigmoid(churn_logit(features, s)))`` where the features are the
   point-in-time features of ``docs/architecture.md`` computed from the events generated so far.
   The true probability is therefore the Bayes posterior given those features.
   The payer label is drawn the same way from the categorical attributes:
   ``is_payer ~ Bernoulli(sigmoid(payer_logit(players)))``.
3. **Consistent outcomes.** A churned player never plays again (churn is absorbing); a player who
   is not churned gets at least one ``session_start`` in ``[s, s + churn_window_days)``. A payer
   makes a purchase within ``payer_window_days`` of install, a non-payer makes none in that window.

Everything is vectorised over players with NumPy and driven by one
:class:`numpy.random.Generator` seeded from :attr:`SimConfig.seed`, so the same configuration
gives the same tables (and, written with :func:`write_tables`, the same bytes).

Example
-------
>>> from mlcourse.telemetry import SimConfig, simulate, bayes_auc
>>> sim = simulate(SimConfig(n_players=500, seed=1))
>>> sorted(sim.tables())
['churn_truth', 'events', 'payer_truth', 'players']
>>> 0.5 <= bayes_auc(sim.payer_truth["p_payer"].to_numpy()) <= 1.0
True
"""

from __future__ import annotations

import datetime as dt
import functools
import gzip
import hashlib
import io
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

# The schema (levels and file names) is the loaders' contract; the simulator writes to it.
from mlcourse.datasets import (
    AGE_BANDS,
    DIFFICULTIES,
    EVENT_TYPES,
    FILES,
    PLATFORMS,
    PLAYER_ATTRIBUTES,
)

__all__ = [
    "SimConfig",
    "SimResult",
    "simulate",
    "bayes_auc",
    "bayes_auc_bruteforce",
    "churn_logit",
    "churn_logit_table",
    "payer_logit",
    "retention",
    "write_tables",
    "make_variant",
    "FEATURE_COLUMNS",
    "TABLE_FILES",
]

DAY = 86_400
#: numeric point-in-time churn features, in the order of docs/architecture.md
NUMERIC_FEATURES = (
    "tenure_days",
    "recency_days",
    "sessions_7d",
    "sessions_prev_7d",
    "sessions_total",
    "fail_rate_7d",
    "max_level",
    "spend_total",
    "ads_7d",
    "invites_total",
)
FEATURE_COLUMNS = (*NUMERIC_FEATURES, "platform", "difficulty")
#: table name -> file name inside a data directory
#: table name -> file name of the simulated tables (the loaders' file list, minus penguins)
TABLE_FILES = {name: file for name, file in FILES.items() if name != "penguins"}
_EV = {name: code for code, name in enumerate(EVENT_TYPES)}

# ---------------------------------------------------------------------------------------------
# The world: category levels and their effects. These are fixed (not drawn from the seed) so
# that every data variant has the same schema and the same ground-truth functions.
# ---------------------------------------------------------------------------------------------
STARTER_HEROES = ("Ember", "Tide", "Grove", "Spark", "Shade")
CHANNELS = (
    "organic",
    "facebook_ads",
    "google_ads",
    "tiktok_ads",
    "unity_ads",
    "applovin",
    "apple_search_ads",
    "influencer",
)
_CHANNEL_SHARE = np.array([0.34, 0.17, 0.15, 0.11, 0.07, 0.06, 0.04, 0.06])
_CHANNEL_PREFIX = ("", "fb", "gg", "tt", "un", "al", "as", "inf")
_CAMPAIGNS_PER_CHANNEL = (0, 700, 650, 550, 400, 350, 250, 300)

# country: (share, language, ios share, web share, payer effect, engagement effect)
COUNTRIES: dict[str, tuple[float, str, float, float, float, float]] = {
    "US": (0.200, "en", 0.55, 0.10, 0.55, 0.00),
    "BR": (0.100, "pt", 0.15, 0.08, -0.30, 0.10),
    "IN": (0.090, "en", 0.06, 0.10, -0.90, 0.05),
    "DE": (0.060, "de", 0.38, 0.12, 0.30, -0.05),
    "GB": (0.050, "en", 0.50, 0.10, 0.30, 0.00),
    "FR": (0.045, "fr", 0.38, 0.12, 0.15, -0.05),
    "ID": (0.045, "id", 0.08, 0.06, -0.70, 0.10),
    "MX": (0.045, "es", 0.18, 0.08, -0.25, 0.05),
    "JP": (0.040, "ja", 0.65, 0.05, 0.80, 0.05),
    "KR": (0.030, "ko", 0.30, 0.05, 0.50, 0.10),
    "TR": (0.030, "tr", 0.15, 0.08, -0.40, 0.05),
    "PH": (0.030, "en", 0.10, 0.06, -0.60, 0.10),
    "VN": (0.025, "vi", 0.20, 0.05, -0.60, 0.05),
    "TH": (0.025, "th", 0.25, 0.05, -0.30, 0.05),
    "IT": (0.025, "it", 0.30, 0.10, 0.05, -0.05),
    "ES": (0.025, "es", 0.25, 0.10, 0.05, -0.05),
    "PL": (0.020, "pl", 0.20, 0.12, -0.10, 0.00),
    "CA": (0.020, "en", 0.50, 0.10, 0.40, 0.00),
    "AU": (0.018, "en", 0.55, 0.08, 0.45, 0.00),
    "NL": (0.015, "nl", 0.40, 0.12, 0.20, -0.05),
    "SE": (0.012, "sv", 0.45, 0.12, 0.25, -0.05),
    "AR": (0.012, "es", 0.15, 0.08, -0.40, 0.05),
    "CO": (0.012, "es", 0.15, 0.08, -0.35, 0.05),
    "EG": (0.010, "ar", 0.10, 0.08, -0.80, 0.05),
    "SA": (0.010, "ar", 0.45, 0.05, 0.60, 0.00),
}
COUNTRY_CODES = tuple(COUNTRIES)
LANGUAGES = tuple(sorted({v[1] for v in COUNTRIES.values()}))

# payer-logit effects (see payer_logit)
_PAYER_BASE = -4.5
_PAYER_SCALE = 1.3  # multiplies every effect below
_PAYER_PLATFORM = {"android": 0.0, "ios": 0.55, "web": -0.45}
# country x platform interactions: a linear model on one-hot columns cannot add these up
_PAYER_COUNTRY_PLATFORM = {
    ("IN", "ios"): 1.10,
    ("ID", "ios"): 0.80,
    ("BR", "ios"): 0.60,
    ("EG", "ios"): 0.70,
    ("JP", "android"): -0.60,
    ("US", "web"): -0.70,
    ("KR", "ios"): 0.40,
}
_PAYER_CHANNEL = {
    "organic": 0.20,
    "facebook_ads": 0.00,
    "google_ads": 0.10,
    "tiktok_ads": -0.35,
    "unity_ads": -0.25,
    "applovin": -0.10,
    "apple_search_ads": 0.55,
    "influencer": 0.30,
}
_PAYER_AGE = {
    "13-17": -0.90,
    "18-24": -0.25,
    "25-34": 0.20,
    "35-44": 0.35,
    "45-54": 0.15,
    "55+": -0.10,
}
_PAYER_AGE_MISSING = -0.20
_PAYER_DIFFICULTY = {"easy": -0.10, "normal": 0.0, "hard": 0.25}
_PAYER_PUSH = 0.30
_PAYER_PREMIUM_DEVICE = 0.45
_PAYER_TIKTOK_TEEN = -0.60  # extra effect of (tiktok_ads, 13-17)


# ---------------------------------------------------------------------------------------------
# Configuration and result
# ---------------------------------------------------------------------------------------------
def _default_snapshots() -> tuple[dt.date, ...]:
    first = dt.date(2026, 2, 1)
    return tuple(first + dt.timedelta(days=14 * k) for k in range(9))


@dataclass(frozen=True)
class SimConfig:
    """Configuration of one Lumen Isles world. The defaults produce the shipped data.

    Parameters
    ----------
    n_players : int
        Number of players (installs) in the whole log.
    seed : int
        Seed of the random generator; the same config gives the same tables.
    install_start, install_end : datetime.date
        Installs happen on days in ``[install_start, install_end)`` (UTC).
    log_end : datetime.date
        The log covers ``[install_start, log_end)``; the export time of the leaky
        ``players`` columns is ``log_end`` at midnight UTC.
    patch_date : datetime.date
        A game patch: from this day on, behaviour changes (new difficulty spike, more ads)
        and the churn function changes (drift).
    snapshots : tuple of datetime.date
        Snapshot dates (midnight UTC) at which churn labels are drawn; at least
        ``churn_window_days`` apart, the last one ``churn_window_days`` before ``log_end``.
    churn_window_days : int
        Length of the inactivity window that defines churn.
    min_tenure_days : int
        A player is labelled at ``s`` only if installed at least this many days before ``s``.
    payer_window_days : int
        ``is_payer`` means a purchase within this many days of install.

    Example
    -------
    >>> cfg = SimConfig(n_players=1000, seed=3)
    >>> cfg.snapshots[0].isoformat()
    '2026-02-01'
    """

    n_players: int = 30_000
    seed: int = 0
    install_start: dt.date = dt.date(2026, 1, 1)
    install_end: dt.date = dt.date(2026, 5, 24)
    log_end: dt.date = dt.date(2026, 6, 7)
    patch_date: dt.date = dt.date(2026, 4, 1)
    snapshots: tuple[dt.date, ...] = field(default_factory=_default_snapshots)
    churn_window_days: int = 14
    min_tenure_days: int = 7
    payer_window_days: int = 7

    def __post_init__(self) -> None:
        if not isinstance(self.n_players, int | np.integer) or self.n_players < 50:
            raise ValueError(f"n_players must be an integer >= 50, got {self.n_players!r}")
        if not isinstance(self.seed, int | np.integer) or self.seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {self.seed!r}")
        if not self.install_start < self.install_end <= self.log_end:
            raise ValueError(
                "dates must satisfy install_start < install_end <= log_end, got "
                f"{self.install_start}, {self.install_end}, {self.log_end}"
            )
        snaps = tuple(self.snapshots)
        if not snaps:
            raise ValueError("snapshots must contain at least one date")
        object.__setattr__(self, "snapshots", snaps)
        w = self.churn_window_days
        for a, b in zip(snaps, snaps[1:], strict=False):
            if (b - a).days < w:
                raise ValueError(
                    f"snapshots {a} and {b} are closer than churn_window_days={w}; space them "
                    "at least that far apart so each label window ends before the next snapshot"
                )
        if snaps[0] <= self.install_start + dt.timedelta(days=self.min_tenure_days):
            raise ValueError(f"first snapshot {snaps[0]} leaves no player with enough tenure")
        if snaps[-1] + dt.timedelta(days=w) > self.log_end:
            raise ValueError(
                f"the label window of the last snapshot {snaps[-1]} ends after log_end "
                f"{self.log_end}; move log_end to at least {snaps[-1] + dt.timedelta(days=w)}"
            )
        if self.min_tenure_days < self.payer_window_days:
            raise ValueError("min_tenure_days must be >= payer_window_days")

    # convenient integer views (days since install_start)
    def day_of(self, d: dt.date) -> int:
        """Days from ``install_start`` to ``d``."""
        return (d - self.install_start).days

    @property
    def epoch0(self) -> int:
        """Unix time (seconds) of ``install_start`` at midnight UTC."""
        return int(dt.datetime.combine(self.install_start, dt.time(), dt.UTC).timestamp())

    @property
    def export_time(self) -> pd.Timestamp:
        """Time at which the leaky ``players`` columns are measured (``log_end`` midnight)."""
        return pd.Timestamp(self.log_end, tz="UTC")


@dataclass
class SimResult:
    """The output of :func:`simulate`.

    Attributes
    ----------
    players, events, churn_truth, payer_truth : pandas.DataFrame
        The four published tables, in the schema of ``datasets/README.md``.
    features : pandas.DataFrame
        The point-in-time features of every labelled (player, snapshot) with ``p_churn`` and
        ``churned``: exactly what the churn label was drawn from.
    traits : pandas.DataFrame
        The latent traits per player (engagement, decay, skill, social, spender).
    config : SimConfig
    """

    players: pd.DataFrame
    events: pd.DataFrame
    churn_truth: pd.DataFrame
    payer_truth: pd.DataFrame
    features: pd.DataFrame
    traits: pd.DataFrame
    config: SimConfig

    def tables(self) -> dict[str, pd.DataFrame]:
        """The four published tables by name."""
        return {
            "players": self.players,
            "events": self.events,
            "churn_truth": self.churn_truth,
            "payer_truth": self.payer_truth,
        }


# ---------------------------------------------------------------------------------------------
# Ground-truth functions
# ---------------------------------------------------------------------------------------------
def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(x, dtype=float)))


def _premium_devices() -> frozenset[str]:
    return frozenset(name for name, premium in _DEVICE_PREMIUM.items() if premium)


def payer_logit(players: pd.DataFrame) -> np.ndarray:
    """True logit of ``P(is_payer)`` given the categorical attributes of each player.

    Uses ``country``, ``platform``, ``acquisition_channel``, ``age_band``, ``difficulty``,
    ``push_opt_in`` and ``device_model`` (premium devices pay a little more), with
    country x platform and channel x age interactions. ``campaign_id``, ``starter_hero`` and
    ``language`` carry no effect of their own.

    Parameters
    ----------
    players : pandas.DataFrame
        The players table (as loaded, or as simulated).

    Returns
    -------
    numpy.ndarray of float, one logit per row.
    """
    needed = {"country", "platform", "acquisition_channel", "age_band", "difficulty"}
    missing = (needed | {"push_opt_in", "device_model"}) - set(players.columns)
    if missing:
        raise ValueError(f"payer_logit needs the players columns {sorted(missing)}")

    def col(name: str) -> np.ndarray:
        return players[name].astype(object).to_numpy()

    country, platform = col("country"), col("platform")
    channel, age = col("acquisition_channel"), col("age_band")
    h = np.zeros(len(players))
    h += np.array([COUNTRIES[c][4] for c in country])
    h += np.array([_PAYER_PLATFORM[p] for p in platform])
    h += np.array(
        [_PAYER_COUNTRY_PLATFORM.get((c, p), 0.0) for c, p in zip(country, platform, strict=True)]
    )
    h += np.array([_PAYER_CHANNEL[c] for c in channel])
    h += np.array(
        [
            _PAYER_AGE.get(a, _PAYER_AGE_MISSING) if isinstance(a, str) else _PAYER_AGE_MISSING
            for a in age
        ]
    )
    h += np.array([_PAYER_DIFFICULTY[d] for d in col("difficulty")])
    h += _PAYER_PUSH * players["push_opt_in"].to_numpy(dtype=bool)
    premium = _premium_devices()
    h += _PAYER_PREMIUM_DEVICE * np.array([m in premium for m in col("device_model")])
    teen = np.array([a == "13-17" for a in age])
    h += _PAYER_TIKTOK_TEEN * (teen & (channel == "tiktok_ads"))
    return _PAYER_BASE + _PAYER_SCALE * h


def churn_logit(
    features: pd.DataFrame,
    snapshot: dt.date | pd.Timestamp | str,
    patch_date: dt.date = SimConfig.patch_date,
) -> np.ndarray:
    """True logit of ``P(churned)`` given the point-in-time features at ``snapshot``.

    ``features`` needs the columns :data:`FEATURE_COLUMNS`. The function has saturating and
    threshold effects and interactions (difficulty x fail rate, a level wall, payer x recency,
    ads fatigue, web x new player), so gradient boosting can reach the Bayes limit where a
    linear model on the raw features cannot. From ``patch_date`` on the function changes (drift):
    the level wall moves from levels 18-20 to 30-32, hard mode frustrates less, ads annoy more.

    Returns
    -------
    numpy.ndarray of float, one logit per row.
    """
    missing = set(FEATURE_COLUMNS) - set(features.columns)
    if missing:
        raise ValueError(f"churn_logit needs the feature columns {sorted(missing)}")
    post = pd.Timestamp(snapshot).date() >= patch_date

    def num(name: str) -> np.ndarray:
        return features[name].to_numpy(dtype=float)

    tenure, rec = num("tenure_days"), num("recency_days")
    s7, sp7 = num("sessions_7d"), num("sessions_prev_7d")
    fail, lvl = num("fail_rate_7d"), num("max_level")
    spend, ads, inv = num("spend_total"), num("ads_7d"), num("invites_total")
    platform = features["platform"].astype(object).to_numpy()
    difficulty = features["difficulty"].astype(object).to_numpy()

    g = np.full(len(features), -1.6)
    g += 3.2 * (1.0 - np.exp(-rec / 3.0))  # saturating recency effect
    g -= 0.55 * np.log1p(s7)
    g += 1.2 * np.tanh(np.log1p(sp7) - np.log1p(s7))  # declining activity
    g += 1.0 * np.exp(-(tenure - 7.0) / 10.0)  # fragile new players
    hard_w, norm_w = (1.0, 0.6) if post else (3.0, 1.0)
    g += np.where(difficulty == "hard", hard_w, np.where(difficulty == "normal", norm_w, -0.4)) * (
        fail - 0.3
    )
    wall = (lvl >= 30) & (lvl <= 32) if post else (lvl >= 18) & (lvl <= 20)
    g += 2.0 * wall
    payer = spend > 0
    g -= 0.3 * payer + 1.5 * (payer & (rec < 5.0))
    ads_w = 0.4 if post else 0.25
    g += ads_w * np.maximum(ads - 10.0, 0.0) - 0.06 * np.minimum(ads, 10.0)
    g -= 0.5 * (inv >= 1) + 0.4 * (inv >= 3)
    g += np.where(platform == "web", 0.4 + 1.2 * (tenure < 21), 0.0)
    g -= 0.2 * (platform == "ios")
    return g


def bayes_auc(p: np.ndarray) -> float:
    """Population ROC-AUC of the Bayes classifier, given the true probabilities ``p``.

    With labels ``y_i ~ Bernoulli(p_i)`` independently, the expected numbers of positive and
    negative pairs ranked right give

    ``sum_ij p_i (1 - p_j) [1(p_i > p_j) + 1/2 1(p_i = p_j)] / (sum_i p_i * sum_j (1 - p_j))``

    (the sum runs over all i, j, including i = j). Computed in O(n log n) by sorting; ties count
    half. No model can have a higher expected AUC on data drawn from these probabilities.

    Example
    -------
    >>> bayes_auc(np.array([0.0, 1.0]))
    1.0
    >>> bayes_auc(np.array([0.3, 0.3, 0.3]))
    0.5
    """
    p = np.asarray(p, dtype=float).ravel()
    if p.size == 0 or not np.all(np.isfinite(p)) or p.min() < 0 or p.max() > 1:
        raise ValueError("bayes_auc needs a non-empty array of probabilities in [0, 1]")
    values, inverse = np.unique(p, return_inverse=True)  # sorted distinct values
    pos = np.bincount(inverse, weights=p)  # expected positives per distinct value
    neg = np.bincount(inverse, weights=1.0 - p)  # expected negatives per distinct value
    neg_below = np.cumsum(neg) - neg  # expected negatives with a strictly smaller p
    num = float(np.sum(pos * (neg_below + 0.5 * neg)))
    den = float(pos.sum() * neg.sum())
    if den == 0.0:
        raise ValueError("bayes_auc is undefined when every p is 0 or every p is 1")
    return num / den


def bayes_auc_bruteforce(p: np.ndarray) -> float:
    """O(n^2) reference implementation of :func:`bayes_auc` (for tests on small inputs)."""
    p = np.asarray(p, dtype=float).ravel()
    pi, pj = p[:, None], p[None, :]
    w = pi * (1.0 - pj)
    num = np.sum(w * ((pi > pj) + 0.5 * (pi == pj)))
    return float(num / (p.sum() * (1.0 - p).sum()))


def _to_seconds(ts: pd.Series) -> np.ndarray:
    """UTC timestamps -> int64 Unix seconds."""
    t = pd.to_datetime(ts, utc=True)
    return (t.astype("datetime64[s, UTC]").astype("int64")).to_numpy()


def retention(
    players: pd.DataFrame,
    events: pd.DataFrame,
    day: int,
    log_end: dt.date | pd.Timestamp | None = None,
) -> float:
    """Day-``day`` retention: share of installers with a ``session_start`` on day ``day``.

    Day ``k`` is the calendar day (UTC) ``k`` days after the install date. Only players whose
    day ``k`` lies inside the log (before ``log_end``, default: the day after the last event)
    count.
    """
    inst_day = _to_seconds(players["install_date"]) // DAY
    end_day = (
        (_to_seconds(events["ts"]).max() // DAY + 1)
        if log_end is None
        else (pd.Timestamp(log_end).value // 10**9 // DAY)
    )
    eligible = inst_day + day < end_day
    sess = events["event"].astype(object).to_numpy() == "session_start"
    ev_pid = events["player_id"].to_numpy(dtype=np.int64)[sess]
    ev_day = _to_seconds(events["ts"])[sess] // DAY
    pid = players["player_id"].to_numpy(dtype=np.int64)
    lookup = pd.Series(inst_day, index=pid)
    hit = ev_day - lookup.reindex(ev_pid).to_numpy() == day
    returned = np.isin(pid, np.unique(ev_pid[hit]))
    return float(returned[eligible].mean())


# ---------------------------------------------------------------------------------------------
# The world's fixed catalogues (devices, campaigns)
# ---------------------------------------------------------------------------------------------
#: Android model lines: (name prefix, first number, last number, premium)
_ANDROID_LINES = (
    ("Galaxy S", 18, 26, True),
    ("Galaxy A", 10, 36, False),
    ("Galaxy M", 20, 36, False),
    ("Galaxy Z Flip", 3, 7, True),
    ("Pixel ", 4, 10, True),
    ("Pixel a", 4, 9, False),
    ("Redmi Note ", 8, 15, False),
    ("Redmi ", 8, 14, False),
    ("Xiaomi ", 11, 15, True),
    ("POCO X", 3, 7, False),
    ("Oppo A", 15, 60, False),
    ("Oppo Reno ", 6, 12, False),
    ("Vivo Y", 20, 40, False),
    ("Vivo V", 20, 30, False),
    ("Moto G", 40, 85, False),
    ("Moto Edge ", 30, 50, False),
    ("OnePlus ", 8, 13, True),
    ("OnePlus Nord ", 2, 4, False),
    ("Realme ", 8, 13, False),
    ("Realme C", 50, 67, False),
    ("Huawei P", 40, 60, True),
    ("Tecno Spark ", 10, 20, False),
    ("Infinix Hot ", 20, 40, False),
    ("Nokia G", 20, 60, False),
    ("Honor X", 6, 9, False),
    ("Sony Xperia ", 1, 10, True),
)
#: the newest models (highest number in a line): they appear only in later cohorts
_NEWEST_DEVICES = frozenset(
    {
        "Galaxy S26",
        "Galaxy A36",
        "Galaxy M36",
        "Galaxy Z Flip7",
        "Pixel 10",
        "Pixel 9a",
        "Redmi Note 15",
        "Redmi 14",
        "Xiaomi 15",
        "POCO X7",
        "Oppo Reno 12",
        "OnePlus 13",
        "OnePlus Nord 4",
        "Realme 13",
        "iPhone 17",
        "iPhone 17 Plus",
        "iPhone 17 Pro",
        "iPhone 17 Pro Max",
        "iPhone 17 mini",
        "iPhone 17e",
        "iPad Pro 11",
        "iPad Air 11",
        "iPad 11",
        "Honor X9",
        "Tecno Spark 20",
        "Moto G85",
        "Moto Edge 50",
        "Vivo V30",
        "Vivo Y40",
        "Realme C67",
    }
)


def _device_models() -> list[tuple[str, str, bool]]:
    """Every device model as (name, platform, premium): Android lines, iPhones, iPads, browsers."""
    models = []
    for prefix, lo, hi, prem in _ANDROID_LINES:
        for num in range(lo, hi + 1):
            name = f"Pixel {num}a" if prefix == "Pixel a" else f"{prefix}{num}"
            models.append((name, "android", prem))
    for gen in range(11, 18):
        for suffix in ("", " Plus", " Pro", " Pro Max", " mini", "e"):
            models.append(
                (f"iPhone {gen}{suffix}", "ios", suffix in (" Pro", " Pro Max") or gen >= 16)
            )
    for gen in range(6, 12):
        for kind in ("iPad ", "iPad Air ", "iPad Pro "):
            models.append((f"{kind}{gen}", "ios", kind == "iPad Pro "))
    for browser in ("Chrome", "Safari", "Firefox", "Edge", "Opera", "Samsung Internet"):
        for osname in ("Windows", "macOS", "Linux", "ChromeOS"):
            models.append((f"{browser} on {osname}", "web", osname == "macOS"))
    return models


def _device_catalogue() -> tuple[list[str], list[str], np.ndarray, np.ndarray, dict[str, bool]]:
    """Fixed device catalogue: names, platforms, popularity weights, release day offsets.

    Built from a constant seed so every variant shares the same levels. The last item maps
    each name to whether it is a premium device.
    """
    rng = np.random.default_rng(20260101)
    models = _device_models()
    names = [name for name, _, _ in models]
    plats = [plat for _, plat, _ in models]
    premium = {name: prem for name, _, prem in models}
    n = len(names)
    # popularity: Zipf-like within platform, drawn once
    ranks = rng.permutation(n) + 1
    weight = 1.0 / ranks**1.1
    # newest models appear only in later cohorts (released 40 to 120 days after install_start)
    release = np.zeros(n, dtype=np.int64)
    for i, name in enumerate(names):
        if name in _NEWEST_DEVICES:
            release[i] = int(rng.integers(40, 120))
            weight[i] = max(weight[i], 0.02)
    return names, plats, weight, release, premium


_DEVICES, _DEVICE_PLATFORM, _DEVICE_WEIGHT, _DEVICE_RELEASE, _DEVICE_PREMIUM = _device_catalogue()


def _campaign_catalogue() -> tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray]]:
    """Per paid channel: campaign ids, popularity weights and active day ranges (fixed)."""
    rng = np.random.default_rng(7)
    ids, weights, starts = [], [], []
    for c, (prefix, k) in enumerate(zip(_CHANNEL_PREFIX, _CAMPAIGNS_PER_CHANNEL, strict=True)):
        if k == 0:
            ids.append(np.array([], dtype=object))
            weights.append(np.array([]))
            starts.append(np.array([], dtype=np.int64))
            continue
        codes = rng.choice(np.arange(10_000, 99_999), size=k, replace=False)
        ids.append(np.array([f"{prefix}-{c}{code}" for code in codes], dtype=object))
        weights.append(rng.pareto(1.2, size=k) + 0.05)
        starts.append(rng.integers(-30, 150, size=k))
    return ids, weights, starts


_CAMPAIGNS = _campaign_catalogue()


# ---------------------------------------------------------------------------------------------
# Stage 1: players and latent traits
# ---------------------------------------------------------------------------------------------
@dataclass
class _Traits:
    """Hidden per-player quantities behind the behaviour (row i is player i, by install time)."""

    engagement: np.ndarray  # scale of the daily session rate
    decay: np.ndarray  # power-law exponent of the session rate in the player's age
    skill: np.ndarray  # raises the chance to beat a level
    social: np.ndarray  # chance of an invite per session
    spender: np.ndarray  # logit of a regular purchase (after the first week), plus 2.6
    levels_per_session: np.ndarray  # mean level attempts per session
    ad_affinity: np.ndarray  # multiplies the chance of an ad after an attempt
    tutorial: np.ndarray  # completes the tutorial in the first session
    p_payer: np.ndarray  # true P(is_payer)
    is_payer: np.ndarray
    install_day: np.ndarray  # days from install_start
    install_tod: np.ndarray  # second of the install day

    def public(self) -> dict[str, np.ndarray]:
        """The traits published in :attr:`SimResult.traits`, by name."""
        names = ("engagement", "decay", "skill", "social", "spender")
        return {name: getattr(self, name) for name in names}


def _make_players(cfg: SimConfig, rng: np.random.Generator) -> tuple[pd.DataFrame, _Traits]:
    """Draw the players (sorted by install time) with their attributes and latent traits.

    The ``players`` frame has ``player_id``, ``install_sec`` (seconds from ``install_start``)
    and the columns of :data:`mlcourse.datasets.PLAYER_ATTRIBUTES`, in that order.
    """
    install_day, install_tod = _draw_installs(cfg, rng)
    player_id = 100_000 + rng.permutation(900_000)[: cfg.n_players]
    country_idx, attrs = _draw_geography(rng, cfg.n_players)
    channel_idx = _draw_channels(rng, attrs["platform"])
    attrs["acquisition_channel"] = np.array(CHANNELS, dtype=object)[channel_idx]
    attrs["campaign_id"] = _draw_campaigns(rng, channel_idx, install_day)
    attrs["device_model"] = _draw_devices(rng, attrs["platform"], install_day)
    attrs.update(_draw_profile(rng, attrs["platform"]))
    players = pd.DataFrame(
        {
            "player_id": player_id,
            "install_sec": install_day * DAY + install_tod,
            **{name: attrs[name] for name in PLAYER_ATTRIBUTES},
        }
    )
    eng_shift = _engagement_shift(country_idx, attrs["acquisition_channel"], attrs["platform"])
    traits = _draw_traits(rng, payer_logit(players), eng_shift, install_day, install_tod)
    return players, traits


def _draw_installs(cfg: SimConfig, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Install day and second of the day of every player, in install order."""
    n = cfg.n_players
    n_install_days = (cfg.install_end - cfg.install_start).days
    days = np.arange(n_install_days)
    # install volume: slow growth, weekend bumps and two user-acquisition pushes
    w = 1.0 + days / n_install_days + 0.25 * (((days + cfg.install_start.weekday()) % 7) >= 5)
    w += 1.2 * np.exp(-0.5 * ((days - 45) / 6.0) ** 2) + 0.9 * np.exp(
        -0.5 * ((days - 110) / 5.0) ** 2
    )
    install_day = np.sort(rng.choice(n_install_days, size=n, p=w / w.sum()))
    install_tod = rng.integers(0, 23 * 3600, size=n)
    order = np.lexsort((install_tod, install_day))
    return install_day[order], install_tod[order]


def _draw_geography(rng: np.random.Generator, n: int) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Country (and its index in COUNTRY_CODES), platform and language of ``n`` players."""
    cshare = np.array([v[0] for v in COUNTRIES.values()])
    country_idx = rng.choice(len(COUNTRY_CODES), size=n, p=cshare / cshare.sum())
    country = np.array(COUNTRY_CODES, dtype=object)[country_idx]
    ios_share = np.array([COUNTRIES[c][2] for c in COUNTRY_CODES])[country_idx]
    web_share = np.array([COUNTRIES[c][3] for c in COUNTRY_CODES])[country_idx]
    u = rng.random(n)
    platform = np.where(
        u < web_share, "web", np.where(u < web_share + ios_share, "ios", "android")
    ).astype(object)
    lang_native = np.array([COUNTRIES[c][1] for c in COUNTRY_CODES], dtype=object)[country_idx]
    language = np.where(rng.random(n) < 0.82, lang_native, "en").astype(object)
    return country_idx, {"country": country, "platform": platform, "language": language}


def _draw_channels(rng: np.random.Generator, platform: np.ndarray) -> np.ndarray:
    """Acquisition channel index (into CHANNELS) per player; some channels skip some platforms."""
    n = platform.size
    ch_p = np.tile(_CHANNEL_SHARE, (n, 1))
    ch_p[platform != "ios", CHANNELS.index("apple_search_ads")] = 0.0
    ch_p[platform == "web", CHANNELS.index("unity_ads")] = 0.0
    ch_p[platform == "web", CHANNELS.index("applovin")] = 0.0
    ch_p /= ch_p.sum(axis=1, keepdims=True)
    channel_idx = (rng.random(n)[:, None] > np.cumsum(ch_p, axis=1)).sum(axis=1)
    return np.minimum(channel_idx, len(CHANNELS) - 1)


def _draw_campaigns(
    rng: np.random.Generator, channel_idx: np.ndarray, install_day: np.ndarray
) -> np.ndarray:
    """Campaign id per player (None for organic installs), among the campaigns live at install."""
    campaign = np.full(channel_idx.size, None, dtype=object)
    cids, cweights, cstarts = _CAMPAIGNS
    for c in range(1, len(CHANNELS)):
        rows = np.flatnonzero(channel_idx == c)
        if rows.size == 0:
            continue
        # a campaign is live for ~60 days from its start: pick among the live ones
        live = np.abs(install_day[rows][:, None] - (cstarts[c][None, :] + 30)) <= 30
        wts = live * cweights[c][None, :] + 1e-9
        campaign[rows] = cids[c][np.minimum(_pick_weighted(rng, wts), cids[c].size - 1)]
    return campaign


def _pick_weighted(rng: np.random.Generator, wts: np.ndarray) -> np.ndarray:
    """One column index per row of ``wts``, drawn with probability proportional to the row."""
    cum = np.cumsum(wts, axis=1)
    return (rng.random(wts.shape[0])[:, None] * cum[:, -1:] > cum).sum(axis=1)


def _draw_devices(
    rng: np.random.Generator, platform: np.ndarray, install_day: np.ndarray
) -> np.ndarray:
    """Device model per player: one of its platform's models released by the install day."""
    dev_plat = np.array(_DEVICE_PLATFORM, dtype=object)
    device = np.empty(platform.size, dtype=object)
    for plat in PLATFORMS:
        rows = np.flatnonzero(platform == plat)
        cand = np.flatnonzero(dev_plat == plat)
        avail = install_day[rows][:, None] >= _DEVICE_RELEASE[cand][None, :]
        wts = avail * _DEVICE_WEIGHT[cand][None, :]
        # recent devices gain share in later cohorts
        pick = _pick_weighted(rng, wts)
        device[rows] = np.array(_DEVICES, dtype=object)[cand[np.minimum(pick, cand.size - 1)]]
    return device


def _draw_profile(rng: np.random.Generator, platform: np.ndarray) -> dict[str, np.ndarray]:
    """Age band (12 % missing), difficulty, starter hero and push opt-in of every player."""
    n = platform.size
    age_p = np.array([0.10, 0.27, 0.27, 0.17, 0.11, 0.08])
    age_band = np.array(AGE_BANDS, dtype=object)[rng.choice(6, size=n, p=age_p)]
    age_band[rng.random(n) < 0.12] = None
    difficulty = np.array(DIFFICULTIES, dtype=object)[rng.choice(3, size=n, p=[0.27, 0.58, 0.15])]
    starter_hero = np.array(STARTER_HEROES, dtype=object)[
        rng.choice(5, size=n, p=[0.28, 0.24, 0.2, 0.16, 0.12])
    ]
    push_p = np.select([platform == "ios", platform == "android"], [0.45, 0.72], 0.2)
    return {
        "age_band": age_band,
        "difficulty": difficulty,
        "starter_hero": starter_hero,
        "push_opt_in": rng.random(n) < push_p,
    }


def _engagement_shift(
    country_idx: np.ndarray, channel: np.ndarray, platform: np.ndarray
) -> np.ndarray:
    """Shift of the log-engagement by country, acquisition channel and platform."""
    eng_shift = np.array([COUNTRIES[c][5] for c in COUNTRY_CODES])[country_idx]
    eng_shift += np.select(
        [
            channel == "organic",
            channel == "influencer",
            channel == "unity_ads",
            channel == "tiktok_ads",
        ],
        [0.15, 0.1, -0.2, -0.1],
        0.0,
    )
    eng_shift += np.where(platform == "web", -0.25, 0.0)
    return eng_shift


def _draw_traits(
    rng: np.random.Generator,
    h: np.ndarray,
    eng_shift: np.ndarray,
    install_day: np.ndarray,
    install_tod: np.ndarray,
) -> _Traits:
    """Draw the payer label from the payer logit ``h``, then the latent traits (in this order)."""
    n = h.size
    p_payer = _sigmoid(h)
    is_payer = rng.random(n) < p_payer
    # keyword arguments are evaluated from left to right: this is the order of the draws
    return _Traits(
        engagement=np.exp(rng.normal(-0.25 + eng_shift + 0.4 * is_payer, 0.95, size=n)),
        decay=np.clip(rng.normal(0.95, 0.35, size=n), 0.15, 2.2),
        skill=rng.normal(0.0, 1.0, size=n),
        social=rng.beta(0.6, 12.0, size=n),
        spender=np.clip(h + 2.0 * is_payer + rng.normal(0, 0.6, size=n), -8, 3),
        levels_per_session=np.exp(rng.normal(np.log(2.2), 0.35, size=n)),
        ad_affinity=np.exp(rng.normal(0.0, 0.5, size=n)),
        tutorial=rng.random(n) < 0.9,
        p_payer=p_payer,
        is_payer=is_payer,
        install_day=install_day,
        install_tod=install_tod,
    )


# ---------------------------------------------------------------------------------------------
# Stage 2 and 3: the day loop
# ---------------------------------------------------------------------------------------------
_LEVEL_SPIKES_PRE = (18, 19, 20)
_LEVEL_SPIKES_POST = (30, 31, 32)
_DIFF_BONUS = {"easy": 1.2, "normal": 0.3, "hard": -0.6}
_PURCHASE_ITEMS = ("starter_bundle", "gems_small", "gems_medium", "gems_large", "season_pass")
_PURCHASE_PRICE = np.array([1.99, 4.99, 9.99, 19.99, 9.99])
_AD_ITEMS = ("rewarded_revive", "interstitial")


def _hardness(level: np.ndarray, post: bool) -> np.ndarray:
    spikes = _LEVEL_SPIKES_POST if post else _LEVEL_SPIKES_PRE
    h = 0.045 * level - 0.4
    return h + 1.6 * np.isin(level, spikes)


class _EventBuffer:
    """Collects per-day event arrays; concatenated once at the end."""

    def __init__(self) -> None:
        self.parts: dict[str, list[np.ndarray]] = {
            k: [] for k in ("p", "ts", "ev", "sid", "level", "success", "value", "item", "seq")
        }

    def add(
        self,
        p: np.ndarray,
        ts: np.ndarray,
        ev: int,
        sid: np.ndarray,
        level: np.ndarray | None = None,
        success: np.ndarray | None = None,
        value: np.ndarray | None = None,
        item: np.ndarray | None = None,
        seq: int = 0,
    ) -> None:
        """Append events: player index, Unix seconds, event code, session id, params."""
        n = len(p)
        if n == 0:
            return
        self.parts["p"].append(np.asarray(p, np.int64))
        self.parts["ts"].append(np.asarray(ts, np.int64))
        self.parts["ev"].append(np.full(n, ev, np.int8))
        self.parts["sid"].append(np.asarray(sid, np.int64))
        self.parts["level"].append(
            np.full(n, -1, np.int32) if level is None else np.asarray(level, np.int32)
        )
        self.parts["success"].append(
            np.full(n, -1, np.int8) if success is None else np.asarray(success, np.int8)
        )
        self.parts["value"].append(
            np.full(n, np.nan) if value is None else np.asarray(value, float)
        )
        self.parts["item"].append(
            np.full(n, -1, np.int8) if item is None else np.asarray(item, np.int8)
        )
        self.parts["seq"].append(np.broadcast_to(np.asarray(seq, np.int32), (n,)).copy())

    def arrays(self) -> dict[str, np.ndarray]:
        return {k: np.concatenate(v) for k, v in self.parts.items()}


@dataclass
class _Counters:
    """Per-player counters of the day loop: what the point-in-time features are made of.

    The ``*_day`` arrays are (player, day); times are seconds from ``install_start``.
    """

    install_sec: np.ndarray
    sess_day: np.ndarray  # sessions
    lvl_day: np.ndarray  # level attempts
    fail_day: np.ndarray  # failed level attempts
    ads_day: np.ndarray  # ad views
    sess_total: np.ndarray
    level: np.ndarray  # next level to beat
    spend: np.ndarray
    invites: np.ndarray
    last_sess: np.ndarray  # start of the latest session

    @classmethod
    def zeros(cls, install_sec: np.ndarray, n_days: int) -> _Counters:
        """Counters of players who have not played yet."""
        n = install_sec.size
        return cls(
            install_sec=install_sec,
            sess_day=np.zeros((n, n_days), np.int16),
            lvl_day=np.zeros((n, n_days), np.int16),
            fail_day=np.zeros((n, n_days), np.int16),
            ads_day=np.zeros((n, n_days), np.int16),
            sess_total=np.zeros(n, np.int64),
            level=np.ones(n, np.int64),
            spend=np.zeros(n),
            invites=np.zeros(n, np.int64),
            last_sess=np.zeros(n, np.int64),
        )


@dataclass
class _Sessions:
    """Sessions (of one day, or of a payer's first week), sorted by player and start."""

    p: np.ndarray  # player index
    start: np.ndarray  # Unix seconds
    dur: np.ndarray  # seconds
    sid: np.ndarray  # session id

    @classmethod
    def empty(cls) -> _Sessions:
        return cls(*(np.zeros(0, np.int64) for _ in range(4)))


@dataclass
class _SimState:
    """What the phases of the day loop share: the world, the generator and the running state."""

    cfg: SimConfig
    rng: np.random.Generator
    players: pd.DataFrame
    tr: _Traits
    counters: _Counters
    by_day: np.ndarray  # by_day[d]: players installed before day d (players sorted by install)
    diff_bonus: np.ndarray  # level-success bonus of each player's difficulty
    alive: np.ndarray  # not churned (churn is absorbing)
    forced_day: np.ndarray  # day of the session a "not churned" label promises (-1: none)
    buf: _EventBuffer = field(default_factory=_EventBuffer)
    sessions: list[_Sessions] = field(default_factory=list)  # one entry per day played
    truth_rows: list[pd.DataFrame] = field(default_factory=list)  # labelled features per snapshot
    next_sid: int = 1  # next session id

    @classmethod
    def begin(
        cls, cfg: SimConfig, rng: np.random.Generator, players: pd.DataFrame, tr: _Traits
    ) -> _SimState:
        """The state before day 0."""
        n, n_days = cfg.n_players, cfg.day_of(cfg.log_end)
        difficulty = players["difficulty"].to_numpy()
        return cls(
            cfg=cfg,
            rng=rng,
            players=players,
            tr=tr,
            counters=_Counters.zeros(players["install_sec"].to_numpy(), n_days),
            by_day=np.searchsorted(tr.install_day, np.arange(n_days + 1)),
            diff_bonus=np.array([_DIFF_BONUS[x] for x in difficulty]),
            alive=np.ones(n, bool),
            forced_day=np.full(n, -1, np.int64),
        )


@dataclass
class _Day:
    """The sessions played on day ``d`` and the timing of their level attempts."""

    d: int
    post: bool  # on or after the patch
    act: np.ndarray  # players with a session planned today
    nses: np.ndarray  # sessions played by each of them
    sessions: _Sessions
    first: np.ndarray  # per session: the player's first one today
    new: np.ndarray  # per session: played on the install day
    m: np.ndarray  # per session: number of level attempts
    offset: np.ndarray  # per attempt: seconds from its session's start to its end


@dataclass
class _Attempts:
    """The level attempts of one day, grouped by player in time order."""

    p: np.ndarray  # player index
    sess: np.ndarray  # index of the session within the day
    t: np.ndarray  # Unix seconds of the end of the attempt
    level: np.ndarray
    success: np.ndarray


def _features_now(
    st: _Counters, idx: np.ndarray, d: int, s_sec: int, players: pd.DataFrame
) -> pd.DataFrame:
    """Point-in-time features of players ``idx`` at the start of day ``d`` from the daily
    counters of the day loop (the same numbers :func:`mlcourse.churn.build_features` gets from
    the log; a test checks that they agree).
    """
    lo7, lo14 = max(d - 7, 0), max(d - 14, 0)
    sess = st.sess_day
    lvl7 = st.lvl_day[idx, lo7:d].sum(axis=1)
    fail7 = st.fail_day[idx, lo7:d].sum(axis=1)
    return pd.DataFrame(
        {
            "tenure_days": (s_sec - st.install_sec[idx]) / DAY,
            "recency_days": (s_sec - st.last_sess[idx]) / DAY,
            "sessions_7d": sess[idx, lo7:d].sum(axis=1).astype(np.int64),
            "sessions_prev_7d": sess[idx, lo14:lo7].sum(axis=1).astype(np.int64),
            "sessions_total": st.sess_total[idx],
            "fail_rate_7d": np.divide(fail7, lvl7, out=np.zeros(len(idx)), where=lvl7 > 0),
            "max_level": st.level[idx] - 1,
            "spend_total": np.round(st.spend[idx], 2),
            "ads_7d": st.ads_day[idx, lo7:d].sum(axis=1).astype(np.int64),
            "invites_total": st.invites[idx],
            "platform": players["platform"].to_numpy()[idx],
            "difficulty": players["difficulty"].to_numpy()[idx],
        }
    )


def simulate(config: SimConfig | None = None) -> SimResult:
    """Run the simulator and return the tables with their ground truth.

    After drawing the players (:func:`_make_players`), every day of the log runs the same
    phases in the same order: the first-week purchases of the payers whose first week has
    just ended, the churn labels when the day is a snapshot, then the day's play (sessions,
    level attempts, ads, invites, tutorials, regular purchases) and its counters. The order
    of the random draws is part of the data: changing it changes every table.

    Parameters
    ----------
    config : SimConfig, optional
        Defaults to ``SimConfig()``, the shipped data.

    Returns
    -------
    SimResult
    """
    cfg = SimConfig() if config is None else config
    rng = np.random.default_rng(cfg.seed)
    players, tr = _make_players(cfg, rng)
    st = _SimState.begin(cfg, rng, players, tr)
    n_days = cfg.day_of(cfg.log_end)
    snap_days = {cfg.day_of(s): s for s in cfg.snapshots}
    for d in range(n_days):
        if d >= cfg.payer_window_days:
            _first_week_purchases(st, d)
        if d in snap_days:
            _label_churn(st, d, snap_days[d])
        _play_day(st, d)
    # the first weeks still open at the end of the log (their sessions are all played)
    for d in range(n_days, n_days + cfg.payer_window_days):
        _first_week_purchases(st, d)
    return _assemble(cfg, players, tr, st.buf, st.truth_rows)


# purchase item probabilities: a payer's first purchase, and every later one (no starter bundle)
_FIRST_ITEM_P = (0.45, 0.3, 0.12, 0.05, 0.08)
_LATER_ITEM_P = (0.0, 0.45, 0.3, 0.15, 0.1)


def _first_week_purchases(st: _SimState, d: int) -> None:
    """First-week purchases of the payers installed on day ``d - payer_window_days``.

    Every payer buys in one of the sessions of that week, some (30 %) a second time.
    """
    w = st.cfg.payer_window_days
    lo, hi = st.by_day[d - w], st.by_day[d - w + 1]
    who = np.arange(lo, hi)[st.tr.is_payer[lo:hi]]
    if who.size == 0:
        return
    week = _sessions_of(st, who, range(d - w, min(d, len(st.sessions))))
    for k in range(2):  # one purchase for every payer, a second one for some
        pick = _one_session_each(st.rng, week.p)
        if k == 1:
            pick = pick[st.rng.random(pick.size) < 0.3]
        item = st.rng.choice(5, size=pick.size, p=_FIRST_ITEM_P if k == 0 else _LATER_ITEM_P)
        _add_purchases(st, week, pick, item, seq=50)


def _sessions_of(st: _SimState, who: np.ndarray, days: range) -> _Sessions:
    """The sessions of players ``who`` on ``days``."""
    target = np.zeros(st.cfg.n_players, bool)
    target[who] = True
    parts = [st.sessions[k] for k in days]
    sp = np.concatenate([q.p for q in parts])
    m = target[sp]
    return _Sessions(
        p=sp[m],
        start=np.concatenate([q.start for q in parts])[m],
        dur=np.concatenate([q.dur for q in parts])[m],
        sid=np.concatenate([q.sid for q in parts])[m],
    )


def _one_session_each(rng: np.random.Generator, sp: np.ndarray) -> np.ndarray:
    """Index of one session per player, drawn uniformly among the sessions ``sp`` lists."""
    key = rng.random(sp.size)
    o = np.lexsort((key, sp))
    first = np.ones(o.size, bool)
    first[1:] = sp[o][1:] != sp[o][:-1]
    return o[first]


def _add_purchases(
    st: _SimState, sessions: _Sessions, pick: np.ndarray, item: np.ndarray, seq: int
) -> None:
    """Purchases of ``item`` at a random time in the sessions ``pick`` selects, and the spend."""
    price = _PURCHASE_PRICE[item]
    t = sessions.start[pick] + st.rng.integers(5, sessions.dur[pick] + 1)
    sp = sessions.p[pick]
    st.buf.add(sp, t, _EV["purchase"], sessions.sid[pick], value=price, item=item, seq=seq)
    np.add.at(st.counters.spend, sp, price)


def _label_churn(st: _SimState, d: int, snapshot: dt.date) -> None:
    """Draw the churn labels at snapshot day ``d`` from the point-in-time features.

    A churned player plays no more; every other labelled player is promised a session within
    ``churn_window_days``.
    """
    cfg, n_in = st.cfg, st.by_day[d]
    install_sec = st.counters.install_sec
    elig = np.flatnonzero(st.alive[:n_in] & (install_sec[:n_in] <= (d - cfg.min_tenure_days) * DAY))
    feats = _features_now(st.counters, elig, d, d * DAY, st.players)
    p = _sigmoid(churn_logit(feats, snapshot, cfg.patch_date))
    churned = st.rng.random(elig.size) < p
    st.alive[elig[churned]] = False
    stay = elig[~churned]
    st.forced_day[stay] = d + st.rng.integers(0, cfg.churn_window_days, size=stay.size)
    feats.insert(0, "player_id", st.players["player_id"].to_numpy()[elig])
    feats.insert(1, "snapshot", pd.Timestamp(snapshot, tz="UTC"))
    feats["p_churn"] = p
    feats["churned"] = churned
    st.truth_rows.append(feats)


def _play_day(st: _SimState, d: int) -> None:
    """Day ``d`` of every player still playing: each phase writes its events to the buffer."""
    post = d >= st.cfg.day_of(st.cfg.patch_date)
    act, nses, new = _session_counts(st, d, post)
    if act.size == 0:
        st.sessions.append(_Sessions.empty())
        return
    day = _schedule_sessions(st, d, post, act, nses, new)
    att = _play_levels(st, day)
    ad = _show_ads(st, day, att)
    inv = _invites_and_tutorials(st, day)
    _regular_purchases(st, day)
    _count_day(st, day, att, ad, inv)


def _session_counts(st: _SimState, d: int, post: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Players with a session on day ``d``, how many each, and whether it is the install day.

    The rate decays like a power law of the player's age, a little higher after the patch
    and on weekends; a player promised a session by a churn label gets at least one.
    """
    tr, cfg = st.tr, st.cfg
    act = np.flatnonzero(st.alive[: st.by_day[d + 1]])
    age = d - tr.install_day[act]
    new = age == 0
    rate = tr.engagement[act] * (1.0 + np.maximum(age, 1)) ** (-tr.decay[act])
    rate *= (1.08 if post else 1.0) * (1.15 if (d + cfg.install_start.weekday()) % 7 >= 5 else 1.0)
    nses = st.rng.poisson(np.where(new, 0.6 * tr.engagement[act], rate))
    nses = np.minimum(nses + new, 10)
    nses = np.where(st.forced_day[act] == d, np.maximum(nses, 1), nses)
    keep = nses > 0
    return act[keep], nses[keep], new[keep]


def _schedule_sessions(
    st: _SimState, d: int, post: bool, act: np.ndarray, nses: np.ndarray, new: np.ndarray
) -> _Day:
    """Start times, level attempts and lengths of the day's sessions; logs ``session_start``."""
    install_tod = st.tr.install_tod
    sp = np.repeat(act, nses)
    lo = np.repeat(np.where(new, install_tod[act], 0), nses)
    tod = st.rng.integers(lo, 23 * 3600)
    o = np.lexsort((tod, sp))
    sp, tod = sp[o], tod[o]
    first = np.ones(sp.size, bool)
    first[1:] = sp[1:] != sp[:-1]
    newrep = np.repeat(new, nses)
    # a new player's first session starts at the install
    tod = np.where(first & newrep, np.repeat(install_tod[act], nses), tod)
    m, offset, sess_dur = _attempt_offsets(st, sp)
    tod = _without_overlaps(tod, sess_dur, first)
    # sessions pushed past the end of the day are not played (never a player's first one)
    fits = tod + sess_dur + 5 < DAY
    att_fits = np.repeat(fits, m)
    sp, tod, first, newrep, m, sess_dur = (x[fits] for x in (sp, tod, first, newrep, m, sess_dur))
    start = st.cfg.epoch0 + d * DAY + tod
    sid = st.next_sid + np.arange(sp.size)
    st.next_sid += sp.size
    st.buf.add(sp, start, _EV["session_start"], sid, seq=0)
    return _Day(
        d=d,
        post=post,
        act=act,
        nses=np.bincount(sp, minlength=st.cfg.n_players)[act],
        sessions=_Sessions(p=sp, start=start, dur=sess_dur, sid=sid),
        first=first,
        new=newrep,
        m=m,
        offset=offset[att_fits],
    )


def _attempt_offsets(st: _SimState, sp: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Level attempts per session, end of each attempt from its session's start, session length."""
    m = np.minimum(st.rng.poisson(st.tr.levels_per_session[sp]) + 1, 12)
    dur = st.rng.integers(45, 241, size=int(m.sum()))
    cum = np.cumsum(dur)
    last_att = np.cumsum(m) - 1
    first_att = last_att - m + 1
    offset = cum - np.repeat(cum[first_att] - dur[first_att], m)
    return m, offset, offset[last_att]


def _without_overlaps(tod: np.ndarray, sess_dur: np.ndarray, first: np.ndarray) -> np.ndarray:
    """Start times moved so that the sessions of a player do not overlap.

    Each one starts at least a minute after the previous one ended, i.e.
    ``start'_i = max(start_i, start'_(i-1) + length_(i-1) + 60)``, solved in closed form with
    a running maximum per player (groups kept apart by offsets).
    """
    gap = sess_dur + 65
    group = np.cumsum(first) - 1
    excl = np.cumsum(gap) - gap
    before = excl - excl[np.flatnonzero(first)][group]
    shift = group * 10 * DAY
    return before + np.maximum.accumulate(tod - before + shift) - shift


def _attempt_ranks(ap: np.ndarray) -> np.ndarray:
    """Position of each attempt within its player's day (``ap`` grouped by player)."""
    pfirst = np.ones(ap.size, bool)
    pfirst[1:] = ap[1:] != ap[:-1]
    grp_start = np.maximum.accumulate(np.where(pfirst, np.arange(ap.size), 0))
    return np.arange(ap.size) - grp_start


def _play_levels(st: _SimState, day: _Day) -> _Attempts:
    """Level attempts of the day, played in order: a success moves the player to the next level."""
    ses = day.sessions
    ap = np.repeat(ses.p, day.m)
    asess = np.repeat(np.arange(ses.p.size), day.m)
    t_att = ses.start[asess] + day.offset
    # sequential progress within the player-day: loop over attempt rank
    rank = _attempt_ranks(ap)
    by_rank = np.argsort(rank, kind="stable")
    bounds = np.searchsorted(rank[by_rank], np.arange(rank.max() + 2))
    lvl = np.empty(ap.size, np.int64)
    succ = np.empty(ap.size, bool)
    u = st.rng.random(ap.size)
    level = st.counters.level
    for r in range(rank.max() + 1):
        ix = by_rank[bounds[r] : bounds[r + 1]]
        pl = ap[ix]
        cur = level[pl]
        pr = _sigmoid(1.3 + st.tr.skill[pl] + st.diff_bonus[pl] - _hardness(cur, day.post))
        ok = u[ix] < pr
        lvl[ix] = cur
        succ[ix] = ok
        level[pl] = cur + ok
    st.buf.add(ap, t_att, _EV["level_end"], ses.sid[asess], level=lvl, success=succ, seq=1)
    return _Attempts(p=ap, sess=asess, t=t_att, level=lvl, success=succ)


def _show_ads(st: _SimState, day: _Day, att: _Attempts) -> np.ndarray:
    """Ads after attempts (rewarded after a failure, interstitial after a success); the mask."""
    post, succ, rng = day.post, att.success, st.rng
    p_ad = np.where(succ, 0.10 if post else 0.06, 0.45 if post else 0.32)
    p_ad = np.minimum(p_ad * st.tr.ad_affinity[att.p], 0.95)
    ad = rng.random(att.p.size) < p_ad
    ad_item = np.where(succ[ad], 1, 0)
    ad_val = np.round(
        np.where(
            ad_item == 0, rng.uniform(0.008, 0.03, ad.sum()), rng.uniform(0.002, 0.01, ad.sum())
        ),
        4,
    )
    st.buf.add(
        att.p[ad],
        att.t[ad] + 5,
        _EV["ad_view"],
        day.sessions.sid[att.sess][ad],
        value=ad_val,
        item=ad_item + 10,
        seq=2,
    )
    return ad


def _invites_and_tutorials(st: _SimState, day: _Day) -> np.ndarray:
    """Friend invites (mask over sessions, returned) and tutorials of the day's sessions."""
    ses = day.sessions
    sp, start, sid = ses.p, ses.start, ses.sid
    inv = st.rng.random(sp.size) < st.tr.social[sp]
    st.buf.add(
        sp[inv],
        start[inv] + st.rng.integers(5, 40, inv.sum()),
        _EV["friend_invite"],
        sid[inv],
        seq=3,
    )
    tut = day.first & day.new & st.tr.tutorial[sp]
    st.buf.add(sp[tut], start[tut] + 2, _EV["tutorial_complete"], sid[tut], seq=4)
    return inv


def _regular_purchases(st: _SimState, day: _Day) -> None:
    """Purchases after the first week, driven by the spender trait (one chance per session)."""
    sp = day.sessions.p
    old = (day.d - st.tr.install_day[sp]) > st.cfg.payer_window_days
    p_buy = _sigmoid(st.tr.spender[sp] - 2.6) * old
    buy = st.rng.random(sp.size) < p_buy
    item = st.rng.choice(5, size=buy.sum(), p=_LATER_ITEM_P)
    _add_purchases(st, day.sessions, buy, item, seq=5)


def _count_day(st: _SimState, day: _Day, att: _Attempts, ad: np.ndarray, inv: np.ndarray) -> None:
    """Add the day to the counters the features are computed from; keep its sessions."""
    c, d, n = st.counters, day.d, st.cfg.n_players
    sp, start = day.sessions.p, day.sessions.start
    c.sess_day[day.act, d] = day.nses
    c.sess_total[day.act] += day.nses
    last = np.ones(sp.size, bool)
    last[:-1] = sp[1:] != sp[:-1]
    c.last_sess[sp[last]] = start[last] - st.cfg.epoch0
    c.lvl_day[:, d] = np.bincount(att.p, minlength=n)
    c.fail_day[:, d] = np.bincount(att.p[~att.success], minlength=n)
    c.ads_day[:, d] = np.bincount(att.p[ad], minlength=n)
    c.invites += np.bincount(sp[inv], minlength=n)
    st.sessions.append(day.sessions)


def _assemble(
    cfg: SimConfig,
    players: pd.DataFrame,
    tr: _Traits,
    buf: _EventBuffer,
    truth_rows: list[pd.DataFrame],
) -> SimResult:
    a = buf.arrays()
    pid = players["player_id"].to_numpy()
    order = np.lexsort((a["seq"], a["sid"], pid[a["p"]], a["ts"]))
    a = {k: v[order] for k, v in a.items()}
    item_names = np.array([*_PURCHASE_ITEMS, *([None] * 5), *_AD_ITEMS], dtype=object)
    level = pd.array(np.where(a["level"] >= 0, a["level"], 0), dtype="Int64")
    level[a["level"] < 0] = pd.NA
    success = pd.array(a["success"] == 1, dtype="boolean")
    success[a["success"] < 0] = pd.NA
    events = pd.DataFrame(
        {
            "player_id": pid[a["p"]],
            "ts": pd.to_datetime(a["ts"], unit="s", utc=True),
            "event": pd.Categorical.from_codes(
                a["ev"].astype(np.int64), categories=list(EVENT_TYPES)
            ),
            "session_id": a["sid"],
            "level": level,
            "success": success,
            "value": a["value"],
            "item": pd.Series(
                np.where(a["item"] >= 0, item_names[np.maximum(a["item"], 0)], None), dtype="string"
            ),
        }
    )

    export = cfg.epoch0 + cfg.day_of(cfg.log_end) * DAY
    n = len(players)
    p_idx = a["p"]
    last_seen = np.full(n, -1, np.int64)
    np.maximum.at(last_seen, p_idx, a["ts"])
    is_buy = a["ev"] == _EV["purchase"]
    lifetime = np.round(np.bincount(p_idx[is_buy], weights=a["value"][is_buy], minlength=n), 2)
    idle = (export - last_seen) / DAY
    status = np.where(idle <= 7, "active", np.where(idle <= 30, "dormant", "lapsed"))

    out = players.drop(columns="install_sec").copy()
    out.insert(
        1,
        "install_date",
        pd.to_datetime(players["install_sec"].to_numpy() + cfg.epoch0, unit="s", utc=True),
    )
    out["last_seen_at"] = pd.to_datetime(last_seen, unit="s", utc=True)
    out["account_status"] = status
    out["lifetime_spend"] = lifetime

    feats = pd.concat(truth_rows, ignore_index=True)
    churn_truth = feats[["player_id", "snapshot", "p_churn", "churned"]].copy()
    payer_truth = pd.DataFrame({"player_id": pid, "p_payer": tr.p_payer, "is_payer": tr.is_payer})
    traits = pd.DataFrame(
        {
            "player_id": pid,
            **tr.public(),
        }
    )
    return SimResult(out, events, churn_truth, payer_truth, feats, traits, cfg)


# ---------------------------------------------------------------------------------------------
# Writing: byte-for-byte reproducible gzip CSV
# ---------------------------------------------------------------------------------------------
def _fmt_ts(ts: pd.Series) -> np.ndarray:
    """ISO 8601 UTC to the second, e.g. ``2026-01-01T00:01:58Z``.

    Hand-rolled with two lookup tables (dates, times of day) because the general formatters
    (``strftime``, ``np.datetime_as_string``) take seconds on 10^6 rows.
    """
    sec = ts.astype("datetime64[s, UTC]").astype("int64").to_numpy()
    day, tod = np.divmod(sec, DAY)
    days = np.arange(day.min(), day.max() + 1)
    date_lut = np.array(
        [d.isoformat() for d in pd.to_datetime(days * DAY, unit="s").date], dtype=object
    )
    return date_lut[day - day.min()] + _time_of_day_strings()[tod]


@functools.cache
def _time_of_day_strings() -> np.ndarray:
    """``'T00:00:00Z'`` ... ``'T23:59:59Z'``, indexed by second of the day."""
    h, rem = np.divmod(np.arange(DAY), 3600)
    m, sc = np.divmod(rem, 60)
    return np.array(
        [f"T{a:02d}:{b:02d}:{c:02d}Z" for a, b, c in zip(h, m, sc, strict=True)], dtype=object
    )


def _fmt_float(x: np.ndarray, decimals: int) -> np.ndarray:
    """Fixed formatting: ``decimals`` digits, trailing zeros and NaN dropped (deterministic)."""
    out = np.full(x.shape, "", dtype=object)
    ok = np.isfinite(x)
    out[ok] = [f"{v:.{decimals}f}".rstrip("0").rstrip(".") for v in x[ok]]
    return out


def _fmt_attribute(values: pd.Series, name: str) -> pd.Series | np.ndarray:
    """A player attribute as written: ``push_opt_in`` as true/false, the others as strings
    with missing values empty.
    """
    if name == "push_opt_in":
        return np.where(values, "true", "false")
    return values.astype(object).where(values.notna(), "").astype(str)


def _csv_frames(result: SimResult) -> dict[str, pd.DataFrame]:
    """The tables as frames of strings, exactly as written to disk."""
    pl = result.players
    players = pd.DataFrame(
        {
            "player_id": pl["player_id"].astype(str),
            "install_date": _fmt_ts(pl["install_date"]),
            **{c: _fmt_attribute(pl[c], c) for c in PLAYER_ATTRIBUTES},
            "last_seen_at": _fmt_ts(pl["last_seen_at"]),
            "account_status": pl["account_status"].astype(str),
            "lifetime_spend": _fmt_float(pl["lifetime_spend"].to_numpy(float), 2),
        }
    )
    ev = result.events

    def obj(values: np.ndarray) -> pd.Series:
        # keep Python strings as object: pandas would otherwise convert them to its Arrow
        # string dtype, which costs seconds on 10^6 rows and changes nothing in the file
        return pd.Series(values, dtype=object, copy=False)

    events = pd.DataFrame(
        {
            "player_id": ev["player_id"].to_numpy(np.int64),
            "ts": obj(_fmt_ts(ev["ts"])),
            "event": ev["event"].reset_index(drop=True),
            "session_id": ev["session_id"].to_numpy(np.int64),
            "level": ev["level"].astype("Int64").reset_index(drop=True),
            "success": ev["success"].astype("Int8").reset_index(drop=True),
            "value": obj(_fmt_float(ev["value"].to_numpy(float), 4)),
            "item": ev["item"].reset_index(drop=True),
        }
    )
    ct = result.churn_truth
    churn = pd.DataFrame(
        {
            "player_id": ct["player_id"].astype(str),
            "snapshot": pd.to_datetime(ct["snapshot"]).dt.strftime("%Y-%m-%d"),
            "p_churn": [f"{v:.6f}" for v in ct["p_churn"].to_numpy(float)],
            "churned": np.where(ct["churned"], "1", "0"),
        }
    )
    pt = result.payer_truth
    payer = pd.DataFrame(
        {
            "player_id": pt["player_id"].astype(str),
            "p_payer": [f"{v:.6f}" for v in pt["p_payer"].to_numpy(float)],
            "is_payer": np.where(pt["is_payer"], "1", "0"),
        }
    )
    return {"players": players, "events": events, "churn_truth": churn, "payer_truth": payer}


def _write_gzip_csv(frame: pd.DataFrame, path: Path) -> None:
    text = io.StringIO()
    frame.to_csv(text, index=False, lineterminator="\n")
    raw = text.getvalue().encode("utf-8")
    tmp = path.with_suffix(path.suffix + ".tmp")
    with (
        open(tmp, "wb") as fh,
        gzip.GzipFile(filename="", mode="wb", fileobj=fh, mtime=0, compresslevel=6) as gz,
    ):
        gz.write(raw)
    tmp.replace(path)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def write_sha256sums(out_dir: Path) -> Path:
    """Write ``SHA256SUMS`` (``sha256sum`` format) for every data file in ``out_dir``."""
    out_dir = Path(out_dir)
    names = sorted(
        p.name
        for p in out_dir.iterdir()
        if p.is_file() and (p.name.endswith(".csv.gz") or p.name.endswith(".csv"))
    )
    lines = [f"{_sha256(out_dir / name)}  {name}\n" for name in names]
    target = out_dir / "SHA256SUMS"
    target.write_text("".join(lines), encoding="utf-8")
    return target


def write_tables(
    result: SimResult, out_dir: str | Path, penguins_from: str | Path | None = None
) -> dict[str, Path]:
    """Write the four tables as gzip CSV (mtime 0, fixed formatting) plus ``SHA256SUMS``.

    Parameters
    ----------
    result : SimResult
    out_dir : path
        Created if needed. Existing table files are replaced.
    penguins_from : path, optional
        A ``penguins.csv`` to copy in (so the directory is a complete data directory).

    Returns
    -------
    dict mapping table name (and ``"SHA256SUMS"``) to the written path.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    for name, frame in _csv_frames(result).items():
        path = out / TABLE_FILES[name]
        _write_gzip_csv(frame, path)
        written[name] = path
    if penguins_from is not None:
        src = Path(penguins_from)
        if src.resolve() != (out / "penguins.csv").resolve():
            shutil.copyfile(src, out / "penguins.csv")
        written["penguins"] = out / "penguins.csv"
    written["SHA256SUMS"] = write_sha256sums(out)
    return written


def make_variant(
    out_dir: str | Path, seed: int, n_players: int = 5_000, **overrides: object
) -> dict[str, Path]:
    """Write a data variant (another seed, by default smaller) into ``out_dir``.

    The directory gets the four tables, ``penguins.csv`` (copied from the shipped data when
    available) and its own ``SHA256SUMS``, so ``MLCOURSE_DATA_DIR=out_dir`` makes every loader
    read it.

    Example
    -------
    >>> paths = make_variant("/tmp/variant-42", seed=42, n_players=2000)  # doctest: +SKIP
    """
    cfg = SimConfig(n_players=n_players, seed=seed, **overrides)  # type: ignore[arg-type]
    result = simulate(cfg)
    penguins = _shipped_penguins()
    return write_tables(result, out_dir, penguins_from=penguins)


#: players in a held-out folder (the in-notebook checks and the grader score models on them)
HELDOUT_PLAYERS = 5_000


def heldout_seed(seed: int) -> int:
    """The simulator seed of the held-out players that go with data made from ``seed``."""
    import hashlib

    digest = hashlib.sha256(f"mlcourse-heldout:{int(seed)}".encode()).digest()
    return int.from_bytes(digest[:4], "little")


def write_heldout(
    out_dir: str | Path, seed: int, n_players: int = HELDOUT_PLAYERS
) -> dict[str, Path]:
    """Write held-out players (same world, :func:`heldout_seed` of ``seed``) into ``out_dir``.

    Model exercises are scored on these players: the lessons never load them, so a model
    fitted in a notebook cannot have seen them. Same files and format as a data directory.
    """
    cfg = SimConfig(n_players=n_players, seed=heldout_seed(seed))
    return write_tables(simulate(cfg), out_dir)


def _shipped_penguins() -> Path | None:
    """The repository's penguins.csv (else the current data directory's), if there is one."""
    from mlcourse import datasets

    candidates = [datasets.course_root() / "datasets" / "penguins.csv"]
    try:
        candidates.append(datasets.data_dir() / "penguins.csv")
    except datasets.DataError:
        pass
    return next((path for path in candidates if path.is_file()), None)


def churn_logit_table(
    table: pd.DataFrame, patch_date: dt.date = SimConfig.patch_date
) -> np.ndarray:
    """:func:`churn_logit` for a table of rows from several snapshots (column ``snapshot``)."""
    if "snapshot" not in table.columns:
        raise ValueError("churn_logit_table needs a 'snapshot' column")
    out = np.empty(len(table))
    for snap, rows in table.groupby("snapshot", sort=False).indices.items():
        out[rows] = churn_logit(table.iloc[rows], snap, patch_date)
    return out
