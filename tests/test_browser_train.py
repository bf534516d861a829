"""The Train tab in a real browser, used as a person would."""
import time

from browser import browser, page, screenshot, wait_until  # noqa: F401


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
