"""The data variant: the course data regenerated from a secret seed (answers copied from the
public data then fail).

The generator is pluggable: :func:`prepare_variant` takes any ``maker(seed, directory)``;
the default calls the simulator in :mod:`mlcourse.telemetry`.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

VariantMaker = Callable[[int, Path], None]


def variant_seed(seed: int) -> int:
    """The simulator seed derived from the instructor's grading seed."""
    digest = hashlib.sha256(f"mlcourse-variant:{seed}".encode()).digest()
    return int.from_bytes(digest[:4], "little")


def default_maker(seed: int, directory: Path) -> None:
    """Generate a smaller variant of the Lumen Isles data with :mod:`mlcourse.telemetry`."""
    from mlcourse.telemetry import make_variant

    make_variant(directory, seed=seed)


def prepare_variant(out: Path, seed: int, maker: VariantMaker | None = None) -> Path:
    """Create (once, atomically) ``out/data-variant-<id>/`` and return it.

    The directory is world-readable (the sandboxed user must read it) and is reused by later
    runs with the same seed.
    """
    vseed = variant_seed(seed)
    target = out / f"data-variant-{hashlib.sha256(str(vseed).encode()).hexdigest()[:12]}"

    def fill(tmp: Path) -> None:
        (maker or default_maker)(vseed, tmp)
        for root, _dirs, files in os.walk(tmp):
            os.chmod(root, 0o755)
            for f in files:
                os.chmod(os.path.join(root, f), 0o644)

    return _create_once(target, ".variant-", fill)


def prepare_heldout(private: Path, seed: int) -> Path:
    """Create (once, atomically) ``private/heldout-<id>/``: players the notebooks never see.

    Model exercises are scored on them by the trusted inspector. The folder lives in the
    grader's private folder (mode 0700), which is never mounted in the sandbox.
    """
    from mlcourse.telemetry import write_heldout

    vseed = variant_seed(seed)
    target = private / f"heldout-{hashlib.sha256(f'heldout:{vseed}'.encode()).hexdigest()[:12]}"
    return _create_once(target, ".heldout-", lambda tmp: write_heldout(tmp, vseed))


def _create_once(target: Path, prefix: str, fill: Callable[[Path], None]) -> Path:
    """``target`` as it is, or else filled by ``fill`` in a temporary folder beside it and
    moved into place in one step (an interrupted run leaves no half-made folder)."""
    if target.is_dir():
        return target
    tmp = Path(tempfile.mkdtemp(prefix=prefix, dir=target.parent))
    try:
        fill(tmp)
        os.replace(tmp, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target
