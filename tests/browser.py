"""What the browser tests share (tests/test_browser_*.py): headless Debian Chromium through Playwright, a fresh page
per test on the app served by conftest's `served_app`, waiting helpers, and screenshots: into artifacts/screenshots/
and, when the page shows the shipped models, docs/screenshots/ for the README."""
import os
import shutil
import time
from pathlib import Path

import pytest

from cvae.weights import WEIGHTS_DIR

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parent.parent
SHOTS = ROOT / "artifacts" / "screenshots"
DOCS_SHOTS = ROOT / "docs" / "screenshots"
BROWSER_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                "--disable-sync"]

# CI sets CVAE_REQUIRE_BROWSER=1: there a missing browser fails the run instead of skipping the browser tests.
if os.environ.get("CVAE_REQUIRE_BROWSER") == "1":
    from playwright import sync_api
    assert CHROMIUM.exists(), "CVAE_REQUIRE_BROWSER=1 but there is no /usr/bin/chromium (apt-get install -y chromium)"
else:
    sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is missing: pip install playwright")
    if not CHROMIUM.exists():
        pytest.skip("no browser at /usr/bin/chromium: apt-get install -y chromium", allow_module_level=True)


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=BROWSER_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(browser, served_app):
    """A fresh page (a new visitor) per test: without a GPU the Sketchpad's canvas is drawn in software and keeps
    a headless page busy long after its tab is left."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.set_default_timeout(30_000)
    page.goto(served_app[0])
    page.wait_for_selector("#picture img")
    try:
        yield page
    finally:
        page.close()


def wait_until(page, condition, arg=None, timeout=30_000):
    """Poll a JavaScript condition on a timer: a page busy redrawing may not give animation frames for a while."""
    page.wait_for_function(condition, arg=arg, polling=200, timeout=timeout)


def wait_settled(page, selector, quiet_s=3.0, timeout_s=30.0):
    """Wait until an image has stopped changing: the Sketchpad sends its picture more than once per stroke, the
    first time sometimes mid-stroke, so the first answer can be about part of the drawing."""
    last, since, deadline = None, time.monotonic(), time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        src = page.locator(selector).get_attribute("src")
        if src != last:
            last, since = src, time.monotonic()
        elif time.monotonic() - since > quiet_s:
            return
        time.sleep(0.2)


def screenshot(page, name):
    """Into artifacts/, and into docs/ for the README when the page shows the shipped models (not stand-ins)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SHOTS / name, full_page=True)
    if Path(os.environ.get("CVAE_WEIGHTS") or WEIGHTS_DIR).resolve() == WEIGHTS_DIR.resolve():
        DOCS_SHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(SHOTS / name, DOCS_SHOTS / name)


