"""Model 1's second opinion on the Draw tab in a real browser, as a visitor tries it: a digit drawn with the mouse
(both models name it, no warning), then, after the pad's clear, a zigzag scribble (model 1 says it doesn't look
like a digit; model 2's answer is still shown, marked as a guess)."""
import time

from browser import screenshot
from test_browser_draw import FRESH, PAUSE_S, check_answer, check_cleared, draw_strokes, open_draw_tab
from test_draw_second_opinion import ZIGZAG
from digit_strokes import DIGITS


def test_a_digit_then_a_scribble(page):
    open_draw_tab(page)
    draw_strokes(page, DIGITS[3])
    check_answer(page, 3)
    assert page.locator("#model1-answer").inner_text().strip() == "3"
    assert page.locator("#agreement").inner_text().strip() == "Both models say 3."
    assert page.locator("#not-digit").count() == 0 and page.locator("#guess").count() == 0
    screenshot(page, "draw_second_opinion_digit.png", for_readme=False)
    time.sleep(PAUSE_S)
    page.locator("#sketch .pad-clear").click()
    check_cleared(page)
    time.sleep(PAUSE_S)

    draw_strokes(page, ZIGZAG)
    page.wait_for_function(FRESH, polling=100, timeout=20_000)
    warning = page.locator("#not-digit")
    assert warning.is_visible() and "doesn't look like a digit to model 1" in warning.inner_text()
    assert page.locator("#guess").is_visible() and page.locator("#guess").inner_text().strip() == "only a guess"
    named = page.locator("#answer").inner_text().strip()  # model 2's answer is still there, as a digit
    assert named.isdigit() and page.locator("#answer").is_visible()
    assert "guess" in page.locator("#answer").get_attribute("class")
    assert page.locator("#agreement").count() == 0
    screenshot(page, "draw_second_opinion.png")
