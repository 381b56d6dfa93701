"""Headless Chromium for the browser tests: found or installed once, driven by Playwright.

Debian's ``chromium`` package is the browser (Playwright's own download cannot
reach its servers here). Where ``/usr/bin/chromium`` is missing, the session
installs it with ``apt-get install -y chromium`` when it runs as root with apt
(CI does); elsewhere every browser test skips and says why. Screenshots and
page dumps go to ``test-artifacts/browser/`` (git-ignored) for a person to look at.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser_support import BrowserPage

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts" / "browser"
CHROMIUM = Path("/usr/bin/chromium")
#: Flags that keep Chromium quiet and offline in a container (Playwright adds --headless and a
#: fresh profile directory of its own: it refuses a --user-data-dir argument to `launch`).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1400, "height": 1000}


def _install_chromium() -> str | None:
    """``apt-get install -y chromium`` as root; returns why it could not, or None on success."""
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        return "installing it needs root and apt-get"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update", "-q"], ["apt-get", "install", "-y", "-q", "chromium"]):
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=900, check=False)
        if done.returncode != 0:
            return f"`{' '.join(command)}` failed: {(done.stderr or done.stdout)[-500:]}"
    return None


@pytest.fixture(scope="session")
def chromium_executable() -> Path:
    """Debian's Chromium, installed on first use where this session may."""
    if not CHROMIUM.is_file():
        why = _install_chromium()
        if why is not None or not CHROMIUM.is_file():
            pytest.skip(f"browser tests need Debian's chromium at {CHROMIUM} ({why or 'not installed'})")
    return CHROMIUM


@pytest.fixture(scope="session")
def browser(chromium_executable: Path) -> Iterator[Any]:
    """One headless Chromium for the whole session."""
    sync_api = pytest.importorskip(
        "playwright.sync_api",
        reason="Playwright is not installed (pip install -c constraints.txt -e '.[dev]')",
    )
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(chromium_executable), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def browser_page(browser: Any) -> Iterator[BrowserPage]:
    """A fresh page (own cookies and storage) that can reach only 127.0.0.1 and local files."""
    context = browser.new_context(viewport=VIEWPORT, device_scale_factor=1)
    result = BrowserPage(context.new_page())
    result.page.set_default_timeout(60_000)
    context.route("**/*", result.route_local_only)
    try:
        yield result
    finally:
        context.close()


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    """``test-artifacts/browser/``: screenshots kept after the run."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
