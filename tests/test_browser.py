"""The page in a real browser (headless Chromium through Playwright), used as a person would: drag a style slider,
draw a digit, start and stop a training. Screenshots of the three tabs go to artifacts/screenshots/ and, for the
README, docs/screenshots/."""
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


def test_dragging_a_style_slider_redraws_the_picture_while_dragging(page):
    picture = page.locator("#picture img")
    before = picture.get_attribute("src")
    slider = page.locator("input[type=range]").first
    box = slider.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    start = time.monotonic()
    page.mouse.move(x + box["width"] * 0.4, y, steps=10)
    # Still holding the mouse button: the picture has already followed the slider.
    wait_until(page, "before => document.querySelector('#picture img').src !== before", before)
    print(f"picture redrawn {time.monotonic() - start:.2f} s into the drag")
    page.mouse.up()
    assert float(page.locator("input[type=number]").first.input_value()) > 1
    page.get_by_role("button", name="Random z", exact=True).click()
    time.sleep(1)
    screenshot(page, "generate.png")


def test_drawing_a_digit_shows_a_prediction(page):
    page.get_by_role("tab", name="Draw", exact=True).click()
    assert "draw a digit" in page.locator("#prediction").inner_text()
    page.get_by_role("button", name="Brush", exact=True).click()
    canvas = page.locator("#sketch canvas").first.bounding_box()
    cx, cy = canvas["x"] + canvas["width"] / 2, canvas["y"] + canvas["height"] / 2
    side = min(canvas["width"], canvas["height"]) * 0.6
    # A 7: the bar, then the stem.
    for (x0, y0), (x1, y1) in [((-0.3, -0.4), (0.3, -0.4)), ((0.3, -0.4), (-0.05, 0.45))]:
        page.mouse.move(cx + x0 * side, cy + y0 * side)
        page.mouse.down()
        page.mouse.move(cx + x1 * side, cy + y1 * side, steps=10)
        page.mouse.up()
    start = time.monotonic()
    wait_until(page, "() => !document.querySelector('#prediction').innerText.includes('draw a digit')")
    print(f"prediction shown {time.monotonic() - start:.2f} s after the last stroke")
    page.wait_for_selector("#seen img")
    page.wait_for_selector("#style img")
    wait_settled(page, "#seen img")
    lines = [line.strip() for line in page.locator("#prediction").inner_text().splitlines() if line.strip()]
    reading = lines[lines.index("Model 2 reads") + 1]  # the label's heading, then its top guess
    assert reading in list("0123456789"), lines
    screenshot(page, "draw.png")


def test_a_training_can_be_started_and_stopped(page):
    page.get_by_role("tab", name="Train", exact=True).click()
    wait_until(page, "() => document.querySelector('#data-notice').innerText.trim() !== ''")
    page.locator("#train-size input[type=number]").fill("4000")
    page.locator("#train-size input[type=number]").press("Enter")
    page.get_by_label("Epochs").fill("10")
    page.get_by_label("Batch size").fill("32")
    page.get_by_role("button", name="Start training", exact=True).click()
    progress = page.locator("#train-progress")
    # Let it run some 60 steps (a few seconds), so the loss curve and the generator's samples have something to show.
    wait_until(page, "() => / step ([6-9]\\d|\\d{3,})\\//.test(document.querySelector('#train-progress').innerText)",
               timeout=60_000)
    assert "images/s" in progress.inner_text()
    page.get_by_role("button", name="Stop", exact=True).click()
    start = time.monotonic()

    wait_until(page, "() => document.querySelector('#train-progress').innerText.includes('Stopped')")
    print(f"stopped message {time.monotonic() - start:.2f} s after the click")
    assert "keeps the model it had" in progress.inner_text()
    assert page.locator("#use").is_disabled()  # nothing to use: a stopped run keeps no model
    time.sleep(2.5)  # the "Stopping…" note fades
    screenshot(page, "train.png")
