"""Load the course data with the right dtypes, after checking that the files are intact.

Every table lives in one *data directory* (:func:`data_dir`, the one resolver the loaders, the
checkers and the grader share): by default the course's ``datasets/`` folder, or the directory
named by the environment variable ``MLCOURSE_DATA_DIR`` (the grader uses it to point the
notebooks at a data variant). The directory holds a ``SHA256SUMS`` file; a loader
verifies the checksum of its file before reading it (cached per path, size and modification
time, so loading again is cheap) and raises a :class:`DataError` subclass with a message that
says what is wrong and how to fix it.

Example
-------
>>> from mlcourse.datasets import load_players, load_events
>>> players = load_players()  # doctest: +SKIP
>>> players["difficulty"].cat.ordered  # doctest: +SKIP
True
"""

from __future__ import annotations

import gzip
import hashlib
import os
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported where a table is read: the path resolver stays cheap to import
    import pandas as pd
    import pyarrow as pa

__all__ = [
    "DATA_ENV_VAR",
    "PLAYER_ATTRIBUTES",
    "ROOT_ENV_VAR",
    "DataError",
    "DataDirNotFoundError",
    "DataFileMissingError",
    "ChecksumMismatchError",
    "CorruptFileError",
    "MalformedDataError",
    "FileCheck",
    "course_root",
    "data_dir",
    "verify",
    "load_players",
    "load_events",
    "load_churn_truth",
    "load_payer_truth",
    "load_penguins",
]

DATA_ENV_VAR = "MLCOURSE_DATA_DIR"
ROOT_ENV_VAR = "MLCOURSE_ROOT"
SUMS_FILE = "SHA256SUMS"

# Levels fixed by the simulator's world. They live here, not in mlcourse.telemetry, so that
# loading does not import the simulator; the simulator imports them from here.
PLATFORMS = ("android", "ios", "web")
DIFFICULTIES = ("easy", "normal", "hard")
AGE_BANDS = ("13-17", "18-24", "25-34", "35-44", "45-54", "55+")
ACCOUNT_STATUSES = ("active", "dormant", "lapsed")
#: the categorical attributes of a player, in the column order of players.csv.gz: the one list
#: the loader's schema, the simulator's writer and the notebook 01 checks use
PLAYER_ATTRIBUTES = (
    "country",
    "platform",
    "device_model",
    "acquisition_channel",
    "campaign_id",
    "age_band",
    "difficulty",
    "starter_hero",
    "language",
    "push_opt_in",
)
EVENT_TYPES = (
    "session_start",
    "level_end",
    "ad_view",
    "purchase",
    "friend_invite",
    "tutorial_complete",
)


# ---------------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------------
class DataError(Exception):
    """Base class: something is wrong with the course data. The message says how to fix it."""


class DataDirNotFoundError(DataError):
    """No data directory: neither ``MLCOURSE_DATA_DIR`` nor the repository's ``datasets/``."""


class DataFileMissingError(DataError):
    """A data file (or the ``SHA256SUMS`` list) is not in the data directory."""


class ChecksumMismatchError(DataError):
    """A data file's SHA-256 differs from the one recorded in ``SHA256SUMS``."""


class CorruptFileError(DataError):
    """A data file cannot be decompressed or read (for example a truncated download)."""


class MalformedDataError(DataError):
    """A data file reads, but its columns or values are not what the course expects."""


# ---------------------------------------------------------------------------------------------
# Where the data is
# ---------------------------------------------------------------------------------------------
def course_root() -> Path:
    """The folder that holds the course (``src/``, ``datasets/``, ``solutions/``...).

    ``$MLCOURSE_ROOT`` when set (a course installed away from its folders), else the folder two
    levels above the package: the course is installed in editable mode from ``src/``.
    """
    env = os.environ.get(ROOT_ENV_VAR, "").strip()
    if env:
        return Path(env).expanduser().resolve()
    return Path(__file__).resolve().parents[2]


def _repo_datasets() -> Path:
    return course_root() / "datasets"


def data_dir(default: str | Path | None = None, *, must_exist: bool = True) -> Path:
    """The data directory every loader, checker and grader reads: the one resolver.

    In order: ``$MLCOURSE_DATA_DIR`` when set (the grader points it at a data variant);
    else ``default`` when given (an own assignment's ``data/`` folder); else
    ``<course root>/datasets``, where the course root is ``$MLCOURSE_ROOT`` when set, else the
    folder that holds ``src/`` (see :func:`course_root`).

    Parameters
    ----------
    default : path, optional
        The folder to use when ``$MLCOURSE_DATA_DIR`` is not set.
    must_exist : bool, default True
        With False, return the chosen folder even when it does not exist yet (a checks module
        names its data folder when imported, possibly before the grader has made the data).

    Raises
    ------
    DataDirNotFoundError
        If the chosen directory does not exist; the message names the setting that chose it.

    Examples
    --------
    >>> data_dir().name  # doctest: +SKIP
    'datasets'
    """
    path, why_missing = _chosen_data_dir(default)
    if must_exist and not path.is_dir():
        raise DataDirNotFoundError(why_missing)
    return path


def _chosen_data_dir(default: str | Path | None) -> tuple[Path, str]:
    """The folder :func:`data_dir` picks, and what to say if it does not exist."""
    env = os.environ.get(DATA_ENV_VAR, "").strip()
    if env:
        return Path(env).expanduser().resolve(), (
            f"{DATA_ENV_VAR} is set to {env!r}, but that is not a directory. Point it at a "
            f"folder made by `mlcourse telemetry generate --out DIR`, or unset it "
            f"(`unset {DATA_ENV_VAR}`) to use the course's own datasets/ folder."
        )
    if default is not None:
        path = Path(default).expanduser().resolve()
        return path, (
            f"the data folder {path} does not exist. Create it (an assignment's data sits "
            f"next to its checks module) or set {DATA_ENV_VAR} to a data directory."
        )
    path = _repo_datasets()
    root = os.environ.get(ROOT_ENV_VAR, "").strip()
    where = f"{ROOT_ENV_VAR} is set to {root!r}" if root else f"{DATA_ENV_VAR} is not set"
    return path, (
        f"cannot find the course data: {path} does not exist and {where}. "
        "The data ships with the repository: work from a full clone of the course "
        f"(re-clone it if datasets/ is gone), or set {DATA_ENV_VAR} to a data directory."
    )


def _resolve_dir(directory: str | Path | None) -> Path:
    """``directory`` as a Path, or the default :func:`data_dir` when it is None."""
    return Path(directory) if directory is not None else data_dir()


def _fix_hint(directory: Path) -> str:
    if directory.resolve() == _repo_datasets().resolve():
        return (
            "Restore the shipped file with `git checkout -- datasets/` or regenerate it with "
            "`make data` (re-clone the course if neither works)."
        )
    return (
        f"Regenerate this data directory with `mlcourse telemetry generate --out {directory}` "
        f"(with the seed it was made from), or unset {DATA_ENV_VAR} to use the shipped data."
    )


# ---------------------------------------------------------------------------------------------
# Checksums
# ---------------------------------------------------------------------------------------------
_HASH_CACHE: dict[tuple[str, int, int], str] = {}


def _sha256(path: Path) -> str:
    stat = path.stat()
    key = (str(path.resolve()), stat.st_mtime_ns, stat.st_size)
    digest = _HASH_CACHE.get(key)
    if digest is None:
        h = hashlib.sha256()
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
        digest = h.hexdigest()
        _HASH_CACHE[key] = digest
    return digest


def _read_sums(directory: Path) -> dict[str, str]:
    path = directory / SUMS_FILE
    if not path.is_file():
        raise DataFileMissingError(
            f"{path} is missing, so the data files cannot be checked. {_fix_hint(directory)}"
        )
    sums: dict[str, str] = {}
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        parts = line.split()
        if len(parts) != 2 or len(parts[0]) != 64:
            raise MalformedDataError(
                f"{path}, line {n}: expected '<sha256>  <file name>', got {line!r}. "
                f"{_fix_hint(directory)}"
            )
        sums[parts[1].lstrip("*")] = parts[0].lower()
    return sums


def _gzip_problem(path: Path) -> str | None:
    """A description of why ``path`` is not a complete gzip stream, or None if it is."""
    try:
        with gzip.open(path, "rb") as fh:
            while fh.read(1 << 22):
                pass
    except (EOFError, OSError, zlib.error) as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


def _check_file(directory: Path, name: str, sums: dict[str, str]) -> None:
    path = directory / name
    if not path.is_file():
        raise DataFileMissingError(f"data file {path} is missing. {_fix_hint(directory)}")
    expected = sums.get(name)
    if expected is None:
        raise DataFileMissingError(
            f"{name} is not listed in {directory / SUMS_FILE}, so it cannot be checked. "
            f"{_fix_hint(directory)}"
        )
    actual = _sha256(path)
    if actual != expected:
        problem = _gzip_problem(path) if name.endswith(".gz") else None
        if problem is not None:
            raise CorruptFileError(
                f"{path} is truncated or damaged (it does not decompress: {problem}). "
                f"{_fix_hint(directory)}"
            )
        raise ChecksumMismatchError(
            f"{path} has been modified: its SHA-256 is {actual[:12]}..., but {SUMS_FILE} "
            f"records {expected[:12]}.... The course's numbers are only right on the "
            f"unmodified data. {_fix_hint(directory)}"
        )


@dataclass(frozen=True)
class FileCheck:
    """The result of checking one data file (see :func:`verify`).

    ``status`` is one of ``"ok"``, ``"missing"``, ``"modified"``, ``"corrupt"``,
    ``"unlisted"`` or ``"malformed"``; ``message`` explains it and says how to fix it.
    """

    name: str
    path: Path
    status: str
    message: str

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def detail(self) -> str:
        """Alias of ``message`` (the doctor's wording)."""
        return self.message


_STATUS = {
    DataFileMissingError: "missing",
    ChecksumMismatchError: "modified",
    CorruptFileError: "corrupt",
    MalformedDataError: "malformed",
}


def verify(data_dir: str | Path | None = None) -> list[FileCheck]:
    """Check every data file of a data directory against its ``SHA256SUMS``.

    Parameters
    ----------
    data_dir : path, optional
        Defaults to :func:`data_dir`.

    Returns
    -------
    list of FileCheck, one per expected file (the four telemetry tables and penguins), plus one
    per extra file listed in ``SHA256SUMS``. Never raises for a bad file: the problem is in the
    result. (A missing directory still raises :class:`DataDirNotFoundError`.)

    Example
    -------
    >>> all(check.ok for check in verify())  # doctest: +SKIP
    True
    """
    directory = _resolve_dir(data_dir)
    if not directory.is_dir():
        raise DataDirNotFoundError(f"{directory} is not a directory")
    try:
        sums = _read_sums(directory)
    except DataError as exc:
        return [FileCheck(SUMS_FILE, directory / SUMS_FILE, _STATUS[type(exc)], str(exc))]
    names = list(FILES.values()) + sorted(set(sums) - set(FILES.values()))
    results = []
    for name in names:
        path = directory / name
        try:
            _check_file(directory, name, sums)
        except DataError as exc:
            status = _STATUS.get(type(exc), "malformed")
            if isinstance(exc, DataFileMissingError) and path.is_file():
                status = "unlisted"
            results.append(FileCheck(name, path, status, str(exc)))
        else:
            results.append(FileCheck(name, path, "ok", "checksum matches SHA256SUMS"))
    return results


# ---------------------------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------------------------
FILES = {
    "players": "players.csv.gz",
    "events": "events.csv.gz",
    "churn_truth": "churn_truth.csv.gz",
    "payer_truth": "payer_truth.csv.gz",
    "penguins": "penguins.csv",
}
# column types by name; :func:`_arrow_types` turns them into Arrow types when a file is read
_SCHEMAS: dict[str, dict[str, str]] = {
    "players": {
        "player_id": "int64",
        "install_date": "timestamp",
        **{c: "bool" if c == "push_opt_in" else "string" for c in PLAYER_ATTRIBUTES},
        "last_seen_at": "timestamp",
        "account_status": "string",
        "lifetime_spend": "float64",
    },
    "events": {
        "player_id": "int64",
        "ts": "timestamp",
        "event": "string",
        "session_id": "int64",
        "level": "int64",
        "success": "bool",
        "value": "float64",
        "item": "string",
    },
    "churn_truth": {
        "player_id": "int64",
        "snapshot": "date32",
        "p_churn": "float64",
        "churned": "bool",
    },
    "payer_truth": {"player_id": "int64", "p_payer": "float64", "is_payer": "bool"},
    "penguins": {
        "species": "string",
        "island": "string",
        "bill_length_mm": "float64",
        "bill_depth_mm": "float64",
        "flipper_length_mm": "float64",
        "body_mass_g": "float64",
        "sex": "string",
        "year": "int64",
    },
}
# columns that may be empty; every other column must be filled on every row
_NULLABLE = {
    "players": {"campaign_id", "age_band"},
    "events": {"session_id", "level", "success", "value", "item"},
    "churn_truth": set(),
    "payer_truth": set(),
    "penguins": {"bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g", "sex"},
}
# categorical columns: fixed levels (tuple), observed levels (None); ordered when in _ORDERED
_FIXED_LEVELS = {"platform": PLATFORMS, "age_band": AGE_BANDS, "difficulty": DIFFICULTIES}
_CATEGORIES: dict[str, dict[str, tuple[str, ...] | None]] = {
    "players": {
        **{c: _FIXED_LEVELS.get(c) for c in PLAYER_ATTRIBUTES if c != "push_opt_in"},
        "account_status": ACCOUNT_STATUSES,
    },
    "events": {"event": EVENT_TYPES, "item": None},
    "churn_truth": {},
    "payer_truth": {},
    "penguins": {
        "species": ("Adelie", "Chinstrap", "Gentoo"),
        "island": ("Biscoe", "Dream", "Torgersen"),
        "sex": ("female", "male"),
    },
}
_ORDERED = {("players", "age_band"), ("players", "difficulty")}
_PROBABILITIES = {"churn_truth": "p_churn", "payer_truth": "p_payer"}


def _arrow_types(table: str) -> dict[str, pa.DataType]:
    """The Arrow type of each column of ``table``, from its :data:`_SCHEMAS` entry."""
    import pyarrow as pa

    types = {
        "int64": pa.int64(),
        "float64": pa.float64(),
        "string": pa.string(),
        "bool": pa.bool_(),
        "date32": pa.date32(),
        "timestamp": pa.timestamp("s", tz="UTC"),
    }
    return {col: types[name] for col, name in _SCHEMAS[table].items()}


def _read_csv(table: str, path: Path, directory: Path) -> pd.DataFrame:
    import pyarrow as pa
    import pyarrow.csv as pacsv

    schema = _arrow_types(table)
    try:
        header = pacsv.open_csv(
            path, read_options=pacsv.ReadOptions(block_size=1 << 16)
        ).schema.names
    except (pa.ArrowInvalid, OSError, EOFError, zlib.error) as exc:
        raise CorruptFileError(
            f"{path} cannot be read as CSV ({exc}). {_fix_hint(directory)}"
        ) from exc
    missing = [c for c in schema if c not in header]
    if missing:
        raise MalformedDataError(
            f"{path} lacks the column(s) {missing} (it has {header}). {_fix_hint(directory)}"
        )
    try:
        tbl = pacsv.read_csv(
            path,
            convert_options=pacsv.ConvertOptions(
                column_types=schema,
                include_columns=list(schema),
                strings_can_be_null=True,
                true_values=["true", "True", "1"],
                false_values=["false", "False", "0"],
            ),
        )
    except pa.ArrowInvalid as exc:
        raise MalformedDataError(
            f"{path} has a value of the wrong type: {exc}. {_fix_hint(directory)}"
        ) from exc
    except (OSError, EOFError, zlib.error) as exc:
        raise CorruptFileError(
            f"{path} is truncated or damaged ({exc}). {_fix_hint(directory)}"
        ) from exc
    for col in schema:
        if col not in _NULLABLE[table] and tbl.column(col).null_count:
            raise MalformedDataError(
                f"{path}: column {col!r} has {tbl.column(col).null_count} empty value(s); "
                f"every row needs one. {_fix_hint(directory)}"
            )
    return _to_pandas(table, tbl, path, directory)


def _to_pandas(table: str, tbl: pa.Table, path: Path, directory: Path) -> pd.DataFrame:
    import pyarrow as pa

    cats = _CATEGORIES[table]
    # dictionary-encode categorical columns in Arrow: much faster than pandas on 10^6 rows
    for col in cats:
        i = tbl.schema.get_field_index(col)
        tbl = tbl.set_column(i, col, tbl.column(col).dictionary_encode())
    mapper = None
    if table == "events":
        import pandas as pd

        mapper = {pa.int64(): pd.Int64Dtype(), pa.bool_(): pd.BooleanDtype()}.get
    df = tbl.to_pandas(types_mapper=mapper)
    for col, levels in cats.items():
        df[col] = _categorical(df[col], levels, (table, col) in _ORDERED, path, directory)
    _fix_dtypes(table, df)
    _check_values(table, df, path, directory)
    return df


def _categorical(
    values: pd.Series, levels: tuple[str, ...] | None, ordered: bool, path: Path, directory: Path
) -> pd.Series:
    """``values`` as a categorical on the documented ``levels`` (observed ones when None)."""
    import pandas as pd

    if not isinstance(values.dtype, pd.CategoricalDtype):
        values = values.astype("category")
    observed = [str(x) for x in values.cat.categories]
    if levels is None:
        levels = tuple(sorted(observed))
    else:
        unexpected = sorted(set(observed) - set(levels))
        if unexpected:
            raise MalformedDataError(
                f"{path}: column {values.name!r} has unexpected value(s) {unexpected[:5]}; "
                f"allowed: {list(levels)}. {_fix_hint(directory)}"
            )
    # recode the (Arrow-built) categorical onto the documented levels without going
    # through Python objects
    return values.cat.set_categories(list(levels), ordered=ordered)


def _fix_dtypes(table: str, df: pd.DataFrame) -> None:
    """Nanosecond UTC timestamps everywhere, and plain int64 ids in the event log."""
    import pandas as pd

    for col, dtype in df.dtypes.items():
        if isinstance(dtype, pd.DatetimeTZDtype):
            df[col] = df[col].astype("datetime64[ns, UTC]")
    if table == "churn_truth":
        df["snapshot"] = (
            pd.to_datetime(df["snapshot"]).dt.tz_localize("UTC").astype("datetime64[ns, UTC]")
        )
    if table == "events":
        # player_id and session_id are always present: plain int64 is friendlier than Int64
        df["player_id"] = df["player_id"].astype("int64")
        df["session_id"] = df["session_id"].astype("int64")


def _check_values(table: str, df: pd.DataFrame, path: Path, directory: Path) -> None:
    """Probabilities within [0, 1] and one row per player where the table promises it."""
    prob = _PROBABILITIES.get(table)
    if prob is not None and not df[prob].between(0.0, 1.0).all():
        raise MalformedDataError(
            f"{path}: column {prob!r} has values outside [0, 1]. {_fix_hint(directory)}"
        )
    if (
        "player_id" in df
        and table in {"players", "payer_truth"}
        and df["player_id"].duplicated().any()
    ):
        raise MalformedDataError(f"{path}: player_id is not unique. {_fix_hint(directory)}")


def _load(table: str, data_dir: str | Path | None, check: bool) -> pd.DataFrame:
    directory = _resolve_dir(data_dir)
    if not directory.is_dir():
        raise DataDirNotFoundError(f"data directory {directory} does not exist")
    name = FILES[table]
    path = directory / name
    if check:
        _check_file(directory, name, _read_sums(directory))
    elif not path.is_file():
        raise DataFileMissingError(f"data file {path} is missing. {_fix_hint(directory)}")
    return _read_csv(table, path, directory)


def load_players(data_dir: str | Path | None = None, *, verify: bool = True) -> pd.DataFrame:
    """One row per player: attributes at install plus three export-time columns.

    Dtypes: ``player_id`` int64; ``install_date``, ``last_seen_at`` datetime64[ns, UTC];
    ``age_band`` and ``difficulty`` ordered categoricals; ``country``, ``platform``,
    ``device_model``, ``acquisition_channel``, ``campaign_id`` (missing for organic installs),
    ``starter_hero``, ``language``, ``account_status`` categoricals; ``push_opt_in`` bool;
    ``lifetime_spend`` float64 (USD). See ``datasets/README.md`` for the meaning of each column.

    Parameters
    ----------
    data_dir : path, optional
        Defaults to :func:`data_dir` (``$MLCOURSE_DATA_DIR`` or the repository's datasets/).
    verify : bool
        Check the file's SHA-256 against ``SHA256SUMS`` first (cached; default True).

    Example
    -------
    >>> players = load_players()  # doctest: +SKIP
    >>> list(players["difficulty"].cat.categories)  # doctest: +SKIP
    ['easy', 'normal', 'hard']
    """
    return _load("players", data_dir, verify)


def load_events(data_dir: str | Path | None = None, *, verify: bool = True) -> pd.DataFrame:
    """The raw event log, one row per event, sorted by ``ts`` then ``player_id``.

    Dtypes: ``player_id``, ``session_id`` int64; ``ts`` datetime64[ns, UTC]; ``event`` and
    ``item`` categoricals; ``level`` Int64 and ``success`` boolean (both nullable: only
    ``level_end`` rows have them); ``value`` float64 (USD, NaN where not applicable).
    """
    return _load("events", data_dir, verify)


def load_churn_truth(data_dir: str | Path | None = None, *, verify: bool = True) -> pd.DataFrame:
    """Ground truth of the churn task: one row per labelled (player, snapshot).

    Columns: ``player_id`` int64, ``snapshot`` datetime64[ns, UTC] (midnight), ``p_churn``
    float64 (the true churn probability given the point-in-time features), ``churned`` bool.
    """
    return _load("churn_truth", data_dir, verify)


def load_payer_truth(data_dir: str | Path | None = None, *, verify: bool = True) -> pd.DataFrame:
    """Ground truth of the payer task: one row per player.

    Columns: ``player_id`` int64, ``p_payer`` float64 (the true probability of a purchase within
    7 days of install, given the attributes at install), ``is_payer`` bool.
    """
    return _load("payer_truth", data_dir, verify)


def load_penguins(data_dir: str | Path | None = None, *, verify: bool = True) -> pd.DataFrame:
    """Palmer penguins (344 rows, CC0): ``species``, ``island``, ``sex`` categoricals,
    four float64 measurements (NaN where missing) and ``year``."""
    return _load("penguins", data_dir, verify)
