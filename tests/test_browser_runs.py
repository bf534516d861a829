"""Saved runs in a real browser, as two visitors use them: Alice uploads a model, saves it, reloads the page and
finds and loads her run again (her browser keeps its key); Bob, in a browser of his own, does not see it."""
import time

import httpx
import pytest

from browser import screenshot, wait_until
from conftest import new_visitor
from demo.runs import zip_model

PAUSE_S = 1.5


@pytest.fixture
def wired(served_app):
    config = httpx.get(served_app[0].rstrip("/") + "/config").json()
    assert any(c["type"] == "browserstate" for c in config["components"]), "the Train tab keeps no browser key"
    return served_app[0]


def open_runs(page):
    page.get_by_role("tab", name="Train", exact=True).click()
    wait_until(page, "() => document.querySelector('#data-notice').innerText.trim() !== ''")
    page.get_by_text("Load a saved run, or upload a model").click()
    time.sleep(PAUSE_S)


def listed_runs(page):
    """The saved runs the page's list offers (left open)."""
    page.locator("#runs input").click()
    time.sleep(0.5)
    return page.get_by_role("option").all_inner_texts()


def test_a_run_is_found_again_after_a_reload_and_only_by_its_browser(browser, wired, generator, tmp_path):
    model_zip = zip_model(generator, tmp_path / "alices.zip")
    alice = new_visitor(browser, wired)
    try:
        open_runs(alice)
        alice.locator("#upload-model input[type=file]").set_input_files(str(model_zip))
        wait_until(alice, "() => document.querySelector('#your-model').innerText.includes('uploaded')")
        time.sleep(PAUSE_S)
        alice.get_by_placeholder("run name, e.g. my-generator").fill("alices run")
        alice.locator("#save").click()
        wait_until(alice, "() => document.body.innerText.includes('Saved as')")
        time.sleep(PAUSE_S)

        alice.reload()
        alice.wait_for_selector("#picture img")
        open_runs(alice)
        assert "alices-run · generator" in listed_runs(alice)
        alice.get_by_role("option", name="alices-run · generator").click()
        alice.locator("#load").click()
        wait_until(alice, "() => document.querySelector('#your-model').innerText.includes('runs/alices-run/generator')")
        screenshot(alice, "runs-alice.png", for_readme=False)

        bob = new_visitor(browser, wired)
        try:
            open_runs(bob)
            assert "alices-run · generator" not in listed_runs(bob)
            screenshot(bob, "runs-bob.png", for_readme=False)
        finally:
            bob.context.close()
    finally:
        alice.context.close()
