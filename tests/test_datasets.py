"""Tests of the data loaders: dtypes, data directory resolution, checksums and clear errors."""

from __future__ import annotations

import gzip
import io
import shutil
from pathlib import Path

import pandas as pd
import pytest

from mlcourse import datasets, telemetry

REPO_DATA = Path(__file__).resolve().parents[1] / "datasets"
LOADERS = {
    "players": datasets.load_players,
    "events": datasets.load_events,
    "churn_truth": datasets.load_churn_truth,
    "payer_truth": datasets.load_payer_truth,
    "penguins": datasets.load_penguins,
}


@pytest.fixture(autouse=True)
def _no_env(monkeypatch):
    monkeypatch.delenv(datasets.DATA_ENV_VAR, raising=False)
    monkeypatch.delenv(datasets.ROOT_ENV_VAR, raising=False)


@pytest.fixture(scope="module")
def variant_dir(tmp_path_factory) -> Path:
    """A small, complete data directory made by the generator (pristine: copy before editing)."""
    out = tmp_path_factory.mktemp("variant")
    telemetry.make_variant(out, seed=99, n_players=300)
    return out


@pytest.fixture
def work_dir(variant_dir, tmp_path) -> Path:
    out = tmp_path / "data"
    shutil.copytree(variant_dir, out)
    return out


def _rewrite(path: Path, text: str) -> None:
    with gzip.GzipFile(path, "wb", mtime=0) as fh:
        fh.write(text.encode())


def _read_text(path: Path) -> str:
    with gzip.open(path, "rt") as fh:
        return fh.read()


# ---------------------------------------------------------------------------------------------
# the shipped data
# ---------------------------------------------------------------------------------------------
def test_shipped_files_verify():
    checks = datasets.verify()
    assert [c.name for c in checks] == [
        "players.csv.gz",
        "events.csv.gz",
        "churn_truth.csv.gz",
        "payer_truth.csv.gz",
        "penguins.csv",
    ]
    assert all(c.ok for c in checks), [c.message for c in checks if not c.ok]


def test_shipped_data_is_small_enough_to_ship():
    total = sum(p.stat().st_size for p in REPO_DATA.iterdir() if p.is_file())
    assert total < 25e6


def test_players_dtypes():
    pl = datasets.load_players()
    assert pl["player_id"].dtype == "int64" and pl["player_id"].is_unique
    for col in ("install_date", "last_seen_at"):
        assert pl[col].dtype == "datetime64[ns, UTC]"
    assert pl["push_opt_in"].dtype == bool
    assert pl["lifetime_spend"].dtype == "float64"
    assert list(pl["difficulty"].cat.categories) == ["easy", "normal", "hard"]
    assert pl["difficulty"].cat.ordered and pl["age_band"].cat.ordered
    assert list(pl["age_band"].cat.categories) == list(datasets.AGE_BANDS)
    for col in (
        "country",
        "platform",
        "device_model",
        "acquisition_channel",
        "campaign_id",
        "starter_hero",
        "language",
        "account_status",
    ):
        assert isinstance(pl[col].dtype, pd.CategoricalDtype), col
        assert not pl[col].cat.ordered, col
    # the documented shape of the categorical columns
    assert 20 <= pl["country"].nunique() <= 30
    assert pl["platform"].nunique() == 3
    assert 350 <= pl["device_model"].nunique() <= 500
    assert pl["acquisition_channel"].nunique() == 8
    assert pl["campaign_id"].nunique() >= 1000
    organic = pl["acquisition_channel"] == "organic"
    assert pl.loc[organic, "campaign_id"].isna().all()
    assert pl.loc[~organic, "campaign_id"].notna().all()
    assert 0.05 < pl["age_band"].isna().mean() < 0.2
    # some device models appear only in later cohorts
    first_seen = pl.groupby("device_model", observed=True)["install_date"].min()
    assert (first_seen > pd.Timestamp("2026-03-01", tz="UTC")).sum() >= 5


def test_events_dtypes_and_order():
    ev = datasets.load_events()
    assert len(ev) > 1_000_000
    assert ev["ts"].dtype == "datetime64[ns, UTC]"
    assert ev["player_id"].dtype == "int64" and ev["session_id"].dtype == "int64"
    assert list(ev["event"].cat.categories) == list(datasets.EVENT_TYPES)
    assert ev["level"].dtype == "Int64" and ev["success"].dtype == "boolean"
    assert ev["value"].dtype == "float64"
    assert isinstance(ev["item"].dtype, pd.CategoricalDtype)
    assert ev["ts"].is_monotonic_increasing


def test_truth_and_penguins_dtypes():
    ct = datasets.load_churn_truth()
    assert ct["snapshot"].dtype == "datetime64[ns, UTC]"
    assert (ct["snapshot"] == ct["snapshot"].dt.normalize()).all()
    assert ct["churned"].dtype == bool and ct["p_churn"].between(0, 1).all()
    pt = datasets.load_payer_truth()
    assert pt["is_payer"].dtype == bool and len(pt) == len(datasets.load_players())
    pg = datasets.load_penguins()
    assert pg.shape == (344, 8)
    assert list(pg["species"].cat.categories) == ["Adelie", "Chinstrap", "Gentoo"]
    assert pg["body_mass_g"].dtype == "float64"


# ---------------------------------------------------------------------------------------------
# data_dir
# ---------------------------------------------------------------------------------------------
def test_data_dir_defaults_to_the_repository():
    assert datasets.data_dir() == REPO_DATA.resolve()


def test_data_dir_honours_the_environment(monkeypatch, variant_dir):
    monkeypatch.setenv(datasets.DATA_ENV_VAR, str(variant_dir))
    assert datasets.data_dir() == variant_dir.resolve()
    assert len(datasets.load_payer_truth()) == 300


def test_data_dir_from_environment_must_exist(monkeypatch, tmp_path):
    monkeypatch.setenv(datasets.DATA_ENV_VAR, str(tmp_path / "nope"))
    with pytest.raises(datasets.DataDirNotFoundError, match=datasets.DATA_ENV_VAR):
        datasets.data_dir()


def test_missing_repository_data_says_to_reclone(monkeypatch, tmp_path):
    monkeypatch.setattr(datasets, "_repo_datasets", lambda: tmp_path / "datasets")
    with pytest.raises(datasets.DataDirNotFoundError, match="re-clone"):
        datasets.data_dir()


def test_course_root_honours_mlcourse_root(monkeypatch, tmp_path, variant_dir):
    """With MLCOURSE_ROOT set, the loaders and the checkers read the same <root>/datasets."""
    from mlcourse.exercises import _registry

    shutil.copytree(variant_dir, tmp_path / "datasets")
    monkeypatch.setenv(datasets.ROOT_ENV_VAR, str(tmp_path))
    assert datasets.course_root() == tmp_path.resolve() == _registry.package_root()
    assert datasets.data_dir() == (tmp_path / "datasets").resolve() == _registry.data_dir()
    assert len(datasets.load_players()) == 300  # the variant, not the shipped 30,000
    assert _registry.heldout_dir() == (tmp_path / "datasets" / "heldout").resolve()


def test_a_root_without_data_names_mlcourse_root(monkeypatch, tmp_path):
    monkeypatch.setenv(datasets.ROOT_ENV_VAR, str(tmp_path))
    with pytest.raises(datasets.DataDirNotFoundError, match="MLCOURSE_ROOT is set to"):
        datasets.data_dir()


def test_data_dir_default_folder_and_its_precedence(monkeypatch, tmp_path, variant_dir):
    """An own assignment's data/ folder is the default; MLCOURSE_DATA_DIR still wins."""
    own = tmp_path / "hw" / "data"
    own.mkdir(parents=True)
    assert datasets.data_dir(default=own) == own.resolve()
    with pytest.raises(datasets.DataDirNotFoundError, match="does not exist"):
        datasets.data_dir(default=tmp_path / "hw" / "nope")
    # a checks module names its folder at import, before the grader has made the data
    assert datasets.data_dir(tmp_path / "nope", must_exist=False) == (tmp_path / "nope").resolve()
    monkeypatch.setenv(datasets.DATA_ENV_VAR, str(variant_dir))
    assert datasets.data_dir(default=own) == variant_dir.resolve()


def test_assignment_data_dir_uses_the_same_resolver(monkeypatch, tmp_path, variant_dir):
    from mlcourse.exercises.ready import Assignment

    (tmp_path / "data").mkdir()
    hw = Assignment("hw9", tmp_path / "hw9_checks.py", data="data")
    assert hw.data_dir == (tmp_path / "data").resolve()
    assert Assignment("hw9", tmp_path / "hw9_checks.py").data_dir is None
    later = Assignment("hw9", tmp_path / "hw9_checks.py", data="made_later")
    assert later.data_dir == (tmp_path / "made_later").resolve()  # no error before it exists
    monkeypatch.setenv(datasets.DATA_ENV_VAR, str(variant_dir))
    assert hw.data_dir == variant_dir.resolve() == datasets.data_dir()


def test_the_resolver_does_not_import_pandas():
    """The grader and check() import the resolver; reading a table is what needs pandas."""
    import subprocess
    import sys

    code = (
        "import sys, mlcourse.datasets as d; d.data_dir(); d.course_root(); "
        "print(sorted({'pandas', 'pyarrow'} & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# ---------------------------------------------------------------------------------------------
# damaged files
# ---------------------------------------------------------------------------------------------
def test_missing_file(work_dir):
    (work_dir / "events.csv.gz").unlink()
    with pytest.raises(datasets.DataFileMissingError, match=r"events\.csv\.gz is missing"):
        datasets.load_events(work_dir)
    status = {c.name: c.status for c in datasets.verify(work_dir)}
    assert status["events.csv.gz"] == "missing" and status["players.csv.gz"] == "ok"


def test_missing_checksum_list(work_dir):
    (work_dir / "SHA256SUMS").unlink()
    with pytest.raises(datasets.DataFileMissingError, match="SHA256SUMS"):
        datasets.load_players(work_dir)
    # loading without verification still works
    assert len(datasets.load_players(work_dir, verify=False)) == 300


def test_altered_file_is_detected(work_dir):
    path = work_dir / "churn_truth.csv.gz"
    text = _read_text(path)
    _rewrite(path, text.replace(",1\n", ",0\n", 1))  # flip one label: a valid file
    with pytest.raises(datasets.ChecksumMismatchError, match="modified") as info:
        datasets.load_churn_truth(work_dir)
    assert "telemetry generate" in str(info.value)  # advice for a generated directory
    assert {c.name: c.status for c in datasets.verify(work_dir)}["churn_truth.csv.gz"] == "modified"


def test_alteration_with_same_size_is_detected_after_a_clean_load(work_dir):
    path = work_dir / "payer_truth.csv.gz"
    datasets.load_payer_truth(work_dir)  # caches the verified checksum
    data = bytearray(path.read_bytes())
    data[-20] ^= 0xFF  # same size, different content (and a new mtime)
    path.write_bytes(bytes(data))
    with pytest.raises(datasets.DataError):
        datasets.load_payer_truth(work_dir)


def test_truncated_gzip(work_dir):
    path = work_dir / "events.csv.gz"
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(datasets.CorruptFileError, match="truncated"):
        datasets.load_events(work_dir)
    assert {c.name: c.status for c in datasets.verify(work_dir)}["events.csv.gz"] == "corrupt"


def _edit_and_reseal(work_dir: Path, name: str, edit) -> None:
    """Change a table and update SHA256SUMS, as if someone regenerated the sums by hand."""
    path = work_dir / name
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    frame = edit(frame)
    buf = io.StringIO()
    frame.to_csv(buf, index=False)
    _rewrite(path, buf.getvalue())
    telemetry.write_sha256sums(work_dir)


def test_missing_column(work_dir):
    _edit_and_reseal(work_dir, "players.csv.gz", lambda f: f.drop(columns="difficulty"))
    with pytest.raises(datasets.MalformedDataError, match="difficulty"):
        datasets.load_players(work_dir)


def test_value_of_wrong_type(work_dir):
    def edit(f):
        f.loc[3, "player_id"] = "abc"
        return f

    _edit_and_reseal(work_dir, "payer_truth.csv.gz", edit)
    with pytest.raises(datasets.MalformedDataError, match="wrong type"):
        datasets.load_payer_truth(work_dir)


def test_unknown_category(work_dir):
    def edit(f):
        f.loc[0, "platform"] = "xbox"
        return f

    _edit_and_reseal(work_dir, "players.csv.gz", edit)
    with pytest.raises(datasets.MalformedDataError, match="xbox"):
        datasets.load_players(work_dir)


def test_empty_required_value(work_dir):
    def edit(f):
        f.loc[5, "ts"] = ""
        return f

    _edit_and_reseal(work_dir, "events.csv.gz", edit)
    with pytest.raises(datasets.MalformedDataError, match="'ts'"):
        datasets.load_events(work_dir)


def test_probability_out_of_range(work_dir):
    def edit(f):
        f.loc[0, "p_churn"] = "1.5"
        return f

    _edit_and_reseal(work_dir, "churn_truth.csv.gz", edit)
    with pytest.raises(datasets.MalformedDataError, match="outside"):
        datasets.load_churn_truth(work_dir)


def test_repeated_loads_hash_once(work_dir, monkeypatch):
    calls = []
    real = datasets.hashlib.sha256

    def counting(*args):
        calls.append(1)
        return real(*args)

    monkeypatch.setattr(datasets.hashlib, "sha256", counting)
    datasets.load_players(work_dir)
    datasets.load_players(work_dir)
    datasets.verify(work_dir)
    assert len(calls) == 5  # players once, then the four other files once in verify()
