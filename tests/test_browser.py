"""Real-browser test: JupyterLab + Chromium run the solved start-here notebook.

Starts JupyterLab on a free loopback port with a random token, in a temporary folder that
holds a copy of ``solutions/00_start_here.ipynb``, opens it in Debian's Chromium through
Playwright, runs all cells from the Run menu, then asserts that no cell produced an error
and that the feedback of every warm-up exercise renders as correct. On failure a
screenshot is saved under ``test-artifacts/``.

Skipped (with the reason) only when Chromium is absent and ``CI`` is not set; in CI a
missing browser is a failure.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

from mlcourse.exercises._kernel import KERNEL_ENV
from mlcourse.exercises._registry import notebook_modules, package_root

ROOT = package_root()
CHROMIUM = Path("/usr/bin/chromium")
STEM = "00_start_here"
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.xdist_group(name="browser")]

if not CHROMIUM.exists() and not os.environ.get("CI"):
    pytestmark.append(
        pytest.mark.skip(reason=f"{CHROMIUM} not found (install Debian's chromium); CI is unset")
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=10) as resp:  # noqa: S310 (loopback only)
        return json.loads(resp.read())


@pytest.fixture
def lab(tmp_path):
    """A JupyterLab server on loopback serving a copy of the solved notebook."""
    assert CHROMIUM.exists(), f"{CHROMIUM} is missing; CI must install Debian's chromium"
    work = tmp_path / "work"
    work.mkdir()
    shutil.copy(ROOT / "solutions" / f"{STEM}.ipynb", work / f"{STEM}.ipynb")
    # render every cell (no virtual scrolling) so the DOM holds all outputs
    # and start the notebook's kernel without asking; no news pop-up
    settings = tmp_path / "settings" / "@jupyterlab"
    (settings / "notebook-extension").mkdir(parents=True)
    (settings / "notebook-extension" / "tracker.jupyterlab-settings").write_text(
        '{"windowingMode": "none", "autoStartDefaultKernel": true}'
    )
    (settings / "apputils-extension").mkdir()
    (settings / "apputils-extension" / "notification.jupyterlab-settings").write_text(
        '{"fetchNews": "false"}'
    )
    port, token = _free_port(), secrets.token_hex(16)
    # the repo's config, as `make lab` loads it: kernels talk over IPC sockets (no port
    # races), named in the runtime folder, which must be short for the names to fit
    runtime = tempfile.mkdtemp(prefix="mlcrt-")
    env = {
        **os.environ,
        **KERNEL_ENV,
        "JUPYTERLAB_SETTINGS_DIR": str(tmp_path / "settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(tmp_path / "workspaces"),
        "JUPYTER_RUNTIME_DIR": runtime,
        "JUPYTER_CONFIG_PATH": str(ROOT / "etc" / "jupyter"),
    }
    log = (tmp_path / "lab.log").open("w")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jupyterlab",
            "--no-browser",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={port}",
            "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={token}",
            f"--ServerApp.root_dir={work}",
            "--LabApp.news_url=",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
            "--ServerApp.terminals_enabled=False",
            *(["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []),
        ],
        cwd=work,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                _get_json(f"{base}/api/status?token={token}")
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    log.flush()
                    pytest.fail("JupyterLab did not start:\n" + (tmp_path / "lab.log").read_text())
                time.sleep(0.5)
        yield base, token
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
        shutil.rmtree(runtime, ignore_errors=True)


@pytest.mark.timeout(600)
def test_start_here_runs_in_jupyterlab(lab, request):
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import sync_playwright

    base, token = lab
    warmups = [ex.id for ex in notebook_modules()[STEM].EXERCISES]
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        try:
            page.goto(f"{base}/lab/tree/{STEM}.ipynb?token={token}", timeout=90_000)
            page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=90_000)
            # a kernel that is still starting ignores "Run All": retry until cells start running
            started = (
                "() => [...document.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt')]"
                ".some(e => /\\[(\\*|\\d+)\\]/.test(e.textContent))"
            )
            # wait until the kernel reports idle in the status bar: a kernel that is still
            # starting (slow on a loaded machine) ignores "Run All Cells"
            page.wait_for_function(
                "() => /\\|\\s*Idle/.test("
                "(document.querySelector('#jp-main-statusbar') || document.body).innerText)",
                timeout=180_000,
            )
            for _attempt in range(6):
                select = page.locator(".jp-Dialog .jp-mod-accept")  # "Select Kernel", if asked
                if select.count():
                    select.first.click()
                page.locator(".lm-MenuBar-item", has_text="Run").first.click()
                page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
                try:
                    page.wait_for_function(started, timeout=15_000)
                    break
                except PlaywrightTimeout:
                    page.keyboard.press("Escape")
            # every code cell gets an execution count once it has run
            page.wait_for_function(
                "() => { const p = [...document.querySelectorAll("
                "'.jp-CodeCell .jp-InputArea-prompt')];"
                " return p.length > 0 && p.every(e => /\\[\\d+\\]/.test(e.textContent)); }",
                timeout=120_000,
            )
            errors = page.locator(
                ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']",
                has_text="Traceback",
            )
            assert errors.count() == 0, "a cell shows an error:\n" + errors.first.inner_text()
            for ex_id in warmups:
                fb = page.locator(f".mlcourse-feedback[data-exercise='{ex_id}']").last
                fb.wait_for(timeout=10_000)
                assert fb.get_attribute("data-status") == "correct", (
                    f"{ex_id}: feedback reads {fb.inner_text()!r}"
                )
                assert fb.is_visible()
        except BaseException:
            ARTIFACTS.mkdir(exist_ok=True)
            shot = ARTIFACTS / f"{request.node.name}.png"
            page.screenshot(path=str(shot), full_page=True)
            print(f"screenshot saved to {shot}")
            raise
        finally:
            browser.close()
