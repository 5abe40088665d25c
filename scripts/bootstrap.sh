#!/usr/bin/env bash
# Create or update .venv from requirements.lock (exact versions), then install mlcourse itself
# in editable mode. Uses uv when it can (from PATH, or bootstrapped into the venv from PyPI),
# otherwise plain pip. Called by the Makefile only when the lock or pyproject.toml changed.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}

pick_python() {
    for cand in "${PYTHON:-}" python3.11 python3.12 python3.13 python3; do
        [ -n "$cand" ] || continue
        if command -v "$cand" >/dev/null 2>&1 &&
            "$cand" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
            echo "$cand"
            return 0
        fi
    done
    echo "bootstrap: Python 3.11 or newer is needed; install it and run make again" >&2
    return 1
}

if [ ! -x "$VENV/bin/python" ]; then
    py=$(pick_python)
    echo "bootstrap: creating $VENV with $($py --version)"
    "$py" -m venv "$VENV"
fi

uv_bin=""
if command -v uv >/dev/null 2>&1; then
    uv_bin=$(command -v uv)
elif [ -x "$VENV/bin/uv" ]; then
    uv_bin="$VENV/bin/uv"
elif "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check uv >/dev/null 2>&1; then
    uv_bin="$VENV/bin/uv"
fi

if [ -n "$uv_bin" ]; then
    echo "bootstrap: installing requirements.lock with uv"
    # --compile-bytecode: compile once at install; otherwise every kernel and every grading
    # sandbox (read-only view of the environment) recompiles numpy, pandas, scikit-learn
    "$uv_bin" pip sync --quiet --compile-bytecode --python "$VENV/bin/python" requirements.lock
    "$uv_bin" pip install --quiet --python "$VENV/bin/python" --no-deps -e .
    # keep uv inside the venv so the next sync does not need the network to find it
    [ -x "$VENV/bin/uv" ] || "$uv_bin" pip install --quiet --python "$VENV/bin/python" uv
else
    echo "bootstrap: uv unavailable, installing requirements.lock with pip (slower)"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r requirements.lock
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps -e .
fi
