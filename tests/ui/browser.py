"""Shared real-browser helpers for the UI tests: `streamlit run ui/app.py` on a free port, driven by Debian
chromium through Playwright. Test files import it as `from browser import ...` (pytest puts tests/ui on sys.path)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from ui.launch import stop, streamlit_command, wait_http
from vertical.core.net import free_port

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
REPO = Path(__file__).resolve().parents[2]

# every browser test module sets `pytestmark = BROWSER_MARKS`
BROWSER_MARKS = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="needs Debian chromium at /usr/bin/chromium (apt-get install chromium)"
    ),
]


def screenshot_path(tmp_path: Path, name: str) -> Path:
    """Where a test saves `name`: $VERTICAL_SCREENSHOT_DIR when set (docs/screenshots for the README), else tmp."""
    folder = Path(os.environ.get("VERTICAL_SCREENSHOT_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder / name


@contextmanager
def streamlit_page(api_url: str, tmp_path: Path, path: str = "", env: dict[str, str] | None = None) -> Iterator:
    """`streamlit run ui/app.py` on a free port (waits for /_stcore/health), and a chromium page on it.

    `env` adds variables for the Streamlit process (e.g. VERTICAL_WORKSPACE pointing at a built manifest)."""
    from playwright.sync_api import sync_playwright

    port = free_port()
    full_env = {
        **os.environ,
        "VERTICAL_API_URL": api_url,
        "VERTICAL_WORKSPACE": str(tmp_path / "workspace"),
        **(env or {}),
    }
    log_path = tmp_path / "streamlit.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            streamlit_command(port), env=full_env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            assert wait_http(f"http://127.0.0.1:{port}/_stcore/health", 90, proc), log_path.read_text()
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
                try:
                    page = browser.new_page(viewport={"width": 1280, "height": 1000})
                    page.goto(f"http://127.0.0.1:{port}/{path}", wait_until="domcontentloaded")
                    yield page
                finally:
                    browser.close()
        finally:
            stop(proc)
