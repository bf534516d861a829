"""What the browser tests share (tests/test_browser_*.py): headless Debian Chromium through Playwright (the tests
that import this module are skipped without it, or fail where CVAE_REQUIRE_BROWSER=1 says it must be there), the
`browser` and `page` fixtures (conftest.py), waiting helpers, and screenshots: into artifacts/screenshots/ and, when
the page shows the shipped models, docs/screenshots/ for the README."""
import os
import shutil
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


def wait_until(page, condition, arg=None, timeout=30_000):
    """Poll a JavaScript condition on a timer: a page busy redrawing may not give animation frames for a while."""
    page.wait_for_function(condition, arg=arg, polling=200, timeout=timeout)


def screenshot(page, name, for_readme=True):
    """Into artifacts/, and into docs/ for the README when the page shows the shipped models (not stand-ins) and
    the caller says it shows what the README means to show."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SHOTS / name, full_page=True)
    if for_readme and Path(os.environ.get("CVAE_WEIGHTS") or WEIGHTS_DIR).resolve() == WEIGHTS_DIR.resolve():
        DOCS_SHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(SHOTS / name, DOCS_SHOTS / name)


