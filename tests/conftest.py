"""Shared fixtures of the demo's tests: the shipped models, a runner on the bundled MNIST sample (small and fast,
whatever CVAE_DATA_DIR says), a drawn "1", and one served app for the API and browser tests."""
import os
import io
import socket
import struct
import zlib
from pathlib import Path

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # offline: before gradio is imported

import pytest  # noqa: E402
from PIL import Image, ImageDraw  # noqa: E402

from demo.training import limit_threads  # noqa: E402

limit_threads()  # as the server does: torch leaves a core free (and the tests stay light on a busy machine)


@pytest.fixture(scope="session")
def models():
    """The shipped generator and classifier (CVAE_WEIGHTS points elsewhere, e.g. at stand-ins)."""
    from cvae.weights import WEIGHTS_DIR, WeightsError
    from demo.app import load_shipped
    folder = Path(os.environ.get("CVAE_WEIGHTS") or WEIGHTS_DIR)
    try:
        return load_shipped(folder, "cpu")
    except WeightsError as e:
        pytest.fail(f"the demo's tests need trained weights in {folder} ({e}); train them with "
                    "`python -m cvae train`, or set CVAE_WEIGHTS to a folder that has them")


@pytest.fixture(scope="session")
def generator(models):
    return models[0]


@pytest.fixture(scope="session")
def classifier(models):
    return models[1]


@pytest.fixture(scope="session")
def runner(models):
    """The server's training slot, on the bundled sample of MNIST (small and fast), or on full MNIST where
    CVAE_TEST_FULL_MNIST=1, for the README's Train screenshot of a real default run (run tests/test_browser_train.py
    alone so: the other tests count on the sample's sizes)."""
    from cvae.data import load_mnist, load_sample
    from demo.training import TrainingRunner
    generator, classifier = models
    full = os.environ.get("CVAE_TEST_FULL_MNIST") == "1"
    return TrainingRunner("cpu", templates={"generator": generator, "classifier": classifier},
                          load_data=(lambda: load_mnist(download=False)) if full else load_sample)


@pytest.fixture(scope="session")
def drawn_one():
    """A "1" as a person draws it on the 800 x 800 Sketchpad: a thick black vertical stroke on white."""
    image = Image.new("RGB", (800, 800), "white")
    ImageDraw.Draw(image).line([(410, 140), (395, 660)], fill="black", width=48)
    return image


@pytest.fixture(scope="session")
def served_app(models, runner, tmp_path_factory):
    """The app served in this process on a free port; yields (url, runs folder, the gr.Blocks). Closed at the end."""
    from demo.app import build_app, launch
    runs = tmp_path_factory.mktemp("runs")
    generator, classifier = models
    app = build_app(generator, classifier, runner=runner, runs_dir=runs)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    _, url, _ = launch(app, "127.0.0.1", port, prevent_thread_lock=True, quiet=True)
    try:
        yield url, runs, app
    finally:
        app.close()


@pytest.fixture(scope="module")
def browser():
    """Headless Debian Chromium (tests/browser.py says where it is, and skips or fails without it)."""
    from browser import BROWSER_ARGS, CHROMIUM, sync_api
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=BROWSER_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def new_visitor(browser, url, **options):
    """A new visitor's page (in a browser context of its own, with Playwright's context `options`) on the app at
    `url`, once its first picture is shown."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, **options)
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.goto(url)
    page.wait_for_selector("#picture img")
    return page


@pytest.fixture
def page(browser, served_app):
    """A fresh page (a new visitor) per test."""
    page = new_visitor(browser, served_app[0])
    try:
        yield page
    finally:
        page.context.close()


def pytest_configure(config):
    # gradio 6.31's queue calls pandas options that pandas 3 deprecates: gradio's to fix, not noise to read here.
    for message in ("'future.no_silent_downcasting' is deprecated", "The copy keyword is deprecated"):
        config.addinivalue_line("filterwarnings", f"ignore:{message}")


def png_claiming(width, height):
    """(A helper, not a fixture: imported by the tests that upload bombs.) A tiny PNG whose header says width x height: a decompression bomb that costs nothing to make."""
    data = io.BytesIO()
    Image.new("L", (8, 8)).save(data, "PNG")
    raw = bytearray(data.getvalue())
    raw[16:24] = struct.pack(">II", width, height)
    raw[29:33] = struct.pack(">I", zlib.crc32(bytes(raw[12:29])))
    return bytes(raw)
