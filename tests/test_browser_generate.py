"""The Generate tab in a real browser, used as a person would."""
import time

from browser import browser, page, screenshot, wait_until  # noqa: F401


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
