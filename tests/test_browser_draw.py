"""The Draw tab in a real browser, used as a person would."""
import time

from browser import browser, page, screenshot, wait_settled, wait_until  # noqa: F401


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
