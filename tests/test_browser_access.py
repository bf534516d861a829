"""Every visitor, in a real browser: a phone (390 x 844, touch), a keyboard only, the dark and the light theme, and a
visitor who trains a model and uses it. Each sees the result of what they do without hunting for it (the picture
while a slider moves or the map is tapped, the answer's digit after a stroke), a focus ring on the control they are
on, text and marks they can read in either theme, and which model each tab runs on."""
import io
import os
import shutil
import time
from pathlib import Path

from PIL import Image

from cvae.weights import WEIGHTS_DIR

from browser import DOCS_SHOTS, SHOTS, screenshot, wait_until
from colours import contrast, luminance
from test_browser_draw import FRESH, trace

PHONE = {"viewport": {"width": 390, "height": 844}, "has_touch": True, "is_mobile": True, "device_scale_factor": 2}
HERE_COLOUR = (0xe6, 0x00, 0xe6)   # demo/explore.py HERE_COLOUR

IN_VIEW = """sel => { const b = document.querySelector(sel).getBoundingClientRect();
  return b.width > 0 && b.top >= 0 && b.left >= 0 && b.bottom <= innerHeight && b.right <= innerWidth; }"""
# In the page: when the last key went up, and when the map and the chart were last redrawn.
FOLLOW_WATCH = """() => {
  window.__shown = {};
  document.addEventListener('keyup', () => { window.__last_key = performance.now(); }, true);
  for (const sel of ['#latent-map', '#traversal']) {
    let last = document.querySelector(sel + ' img').src;
    new MutationObserver(() => {
      const img = document.querySelector(sel + ' img');
      if (img && img.src !== last) { last = img.src; window.__shown[sel] = performance.now(); }
    }).observe(document.querySelector(sel), {subtree: true, childList: true, attributes: true});
  }
}"""
NO_SIDEWAYS_SCROLL = "() => document.scrollingElement.scrollWidth <= innerWidth"
# The contrast of an element's text with what is behind it (WCAG 2: relative luminance), from computed styles: its
# colour, and the first ancestor's background that is not transparent.
CONTRAST = """sel => {
  const rgb = s => s.match(/[\\d.]+/g).map(Number);
  const lum = c => { const [r, g, b] = c.slice(0, 3).map(v => { v /= 255;
    return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; }); return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
  const el = document.querySelector(sel);
  let back = null;
  for (let e = el; e && !back; e = e.parentElement) {
    const c = rgb(getComputedStyle(e).backgroundColor);
    if (c.length < 4 || c[3] > 0.5) back = c;
  }
  back = back || [255, 255, 255];
  const [a, b] = [lum(rgb(getComputedStyle(el).color)), lum(back)].sort((x, y) => y - x);
  return (a + 0.05) / (b + 0.05);
}"""


def visit(browser, url, **options):
    context = browser.new_context(**({"viewport": {"width": 1280, "height": 900}} | options))
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.goto(url)
    page.wait_for_selector("#picture img")
    return page


def src(page, selector):
    return page.locator(selector).get_attribute("src")


def touch_drag(page, start, end, steps=8):
    cdp = page.context.new_cdp_session(page)
    send = lambda kind, ps: cdp.send("Input.dispatchTouchEvent", {  # noqa: E731
        "type": kind, "touchPoints": [{"x": x, "y": y} for x, y in ps]})
    send("touchStart", [start])
    for i in range(1, steps + 1):
        send("touchMove", [(start[0] + (end[0] - start[0]) * i / steps, start[1] + (end[1] - start[1]) * i / steps)])
    send("touchEnd", [])
    cdp.detach()


def centre(page, selector):
    page.locator(selector).evaluate("e => e.scrollIntoView({block: 'center'})")
    time.sleep(0.3)
    box = page.locator(selector).bounding_box()
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2, box


def test_on_a_phone_the_result_stays_in_view_and_nothing_is_cut(browser, served_app):
    page = visit(browser, served_app[0], **PHONE)
    try:
        assert page.evaluate(NO_SIDEWAYS_SCROLL)
        # A finger drags z5: the picture it redraws is on the screen (it sticks to the screen's edge).
        before = src(page, "#picture img")
        x, y, box = centre(page, "#z5 input[type=range]")
        touch_drag(page, (x, y), (x + box["width"] * 0.4, y))
        wait_until(page, "b => document.querySelector('#picture img').src !== b", before, timeout=10_000)
        assert page.evaluate(IN_VIEW, "#picture img"), "the picture is off the screen while its slider moves"
        page.screenshot(path=SHOTS / "phone.png")
        if Path(os.environ.get("CVAE_WEIGHTS") or WEIGHTS_DIR).resolve() == WEIGHTS_DIR.resolve():
            shutil.copyfile(SHOTS / "phone.png", DOCS_SHOTS / "phone.png")  # for the README: the shipped models

        # A tap on the latent map, far below the sliders: the picture is on the screen too.
        before = src(page, "#picture img")
        x, y, _ = centre(page, "#latent-map img")
        page.touchscreen.tap(x - 60, y + 60)
        wait_until(page, "b => document.querySelector('#picture img').src !== b", before, timeout=10_000)
        assert page.evaluate(IN_VIEW, "#picture img"), "the picture is off the screen after a tap on the map"
        # The scatter's legend wraps: every digit and "you are here" inside the screen.
        centre(page, "#scatter-legend")
        items = page.locator("#scatter-legend [role=listitem]")
        assert items.count() == 11 and "you are here" in items.nth(10).inner_text()
        for i in range(11):
            box = items.nth(i).bounding_box()
            assert 0 <= box["x"] and box["x"] + box["width"] <= 390, items.nth(i).inner_text()
        assert page.evaluate(NO_SIDEWAYS_SCROLL)

        # Draw with a finger: the answer's digit is on the screen, beside the pad's buttons (each >= 44 px tall).
        page.get_by_role("tab", name="Draw", exact=True).tap()
        page.wait_for_selector("#sketch canvas")
        centre(page, "#sketch canvas")
        trace(page, 3, "touch")
        page.wait_for_function(FRESH, polling=100, timeout=20_000)
        wait_until(page, "() => document.querySelector('#pad-answer-digit') !== null", timeout=5_000)
        assert page.locator("#pad-answer-digit").inner_text() == page.locator("#answer").inner_text() == "3"
        assert page.evaluate(IN_VIEW, "#pad-answer-digit"), "the answer's digit is off the screen after a stroke"
        for name in ("Undo", "Redo", "Clear"):
            assert page.locator("#sketch .pad-tools").get_by_role("button", name=name).bounding_box()["height"] >= 44
        assert page.evaluate(NO_SIDEWAYS_SCROLL)
        page.screenshot(path=SHOTS / "phone-draw.png")
        # The loss's two terms for it, just after: each model's panel within the screen, its bars too.
        wait_until(page, "() => document.querySelector('#elbo-classifier') !== null", timeout=20_000)
        centre(page, "#elbo-generator")
        for panel in ("#elbo-generator", "#elbo-classifier", "#elbo-generator .kl-bars", "#elbo-classifier .kl-bars"):
            box = page.locator(panel).bounding_box()
            assert 0 <= box["x"] and box["x"] + box["width"] <= 390, panel
        assert page.evaluate(NO_SIDEWAYS_SCROLL)
        page.screenshot(path=SHOTS / "phone-terms.png")
        page.get_by_role("tab", name="Train", exact=True).tap()
        page.wait_for_selector("#start")
        assert page.evaluate(NO_SIDEWAYS_SCROLL)
        # The narrowest and widest phones too, on every tab.
        for width in (360, 430):
            page.set_viewport_size({"width": width, "height": 844})
            for tab in ("Generate", "Draw", "Train"):
                page.get_by_role("tab", name=tab, exact=True).tap()
                time.sleep(0.3)
                assert page.evaluate(NO_SIDEWAYS_SCROLL), f"{tab} is wider than a {width} px screen"
    finally:
        page.context.close()


def test_a_keyboard_visitor_sees_where_they_are_and_the_views_follow_the_keys(browser, served_app):
    page = visit(browser, served_app[0])
    try:
        # Tab from Zero z to z1's slider: it has a focus ring.
        page.locator("#zero-z").focus()
        for _ in range(4):
            page.keyboard.press("Tab")
            if page.evaluate("() => document.activeElement.matches('#z1 input[type=range]')"):
                break
        assert page.evaluate("() => document.activeElement.matches('#z1 input[type=range]')")
        ring = page.evaluate("""() => { const s = getComputedStyle(document.activeElement);
            return [s.outlineStyle, parseFloat(s.outlineWidth), s.boxShadow]; }""")
        assert (ring[0] != "none" and ring[1] >= 2) or ring[2] != "none", ring
        picture = src(page, "#picture img")
        page.evaluate(FOLLOW_WATCH)
        for _ in range(5):
            page.keyboard.press("ArrowRight")
            time.sleep(0.05)
        assert float(page.locator("#z1 input[type=number]").input_value()) == 0.25
        wait_until(page, "b => document.querySelector('#picture img').src !== b", picture, timeout=5_000)
        # Until both have been redrawn and nothing has changed for 1.5 s: the views show the final z.
        wait_until(page, "() => window.__shown['#latent-map'] && window.__shown['#traversal'] && performance.now() - "
                         "Math.max(window.__last_key, window.__shown['#latent-map'], window.__shown['#traversal'])"
                         " > 1500", timeout=10_000)
        followed = page.evaluate("() => Math.max(window.__shown['#latent-map'], window.__shown['#traversal']) - "
                                 "window.__last_key") / 1000
        print(f"map and chart followed {followed:.2f} s after the last key")
        assert followed < 1.5, f"the views followed the keys {followed:.2f} s after the last one"
        screenshot(page, "keyboard-focus.png", for_readme=False)

        # The selected digit's radio shows the ring too (each digit is a stop of its own: Tab from the 2 to the 3).
        page.locator("#digit input[value='2']").focus()
        page.keyboard.press("Tab")
        assert page.evaluate("() => document.activeElement.matches('#digit input[value=\"3\"][aria-checked=true]')")
        assert page.evaluate("""() => { const s = getComputedStyle(document.activeElement.closest('label'));
            return s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2; }""")

        # The pad: a stroke, Undo pressed with the keyboard; Undo is disabled now and the focus is on Redo.
        page.get_by_role("tab", name="Draw", exact=True).click()
        trace(page, 1, "mouse")
        page.wait_for_function(FRESH, polling=100, timeout=20_000)
        undo = page.locator("#sketch .pad-undo")
        undo.focus()
        page.keyboard.press("Enter")
        wait_until(page, "() => document.querySelector('#sketch .pad-undo').disabled")
        assert page.evaluate("() => document.activeElement.matches('#sketch .pad-redo')")
        ring = page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle")
        assert ring != "none"
    finally:
        page.context.close()


def check_draw_answer_contrast(page):
    page.get_by_role("tab", name="Draw", exact=True).click()
    trace(page, 7, "mouse")
    page.wait_for_function(FRESH, polling=100, timeout=20_000)
    for selector in ("#reading .headline", "#reading .caption", "#model1", "#draw-models p", "#sketch .pad-answer"):
        ratio = page.evaluate(CONTRAST, selector)
        assert ratio >= 4.5, f"{selector}: {ratio:.2f}:1"


def test_the_dark_theme_shows_marks_and_text_a_visitor_can_read(browser, served_app):
    page = visit(browser, served_app[0].rstrip("/") + "/?__theme=dark")
    try:
        assert page.evaluate("() => document.body.classList.contains('dark') || "
                             "document.querySelector('.dark') !== null")
        time.sleep(1)
        screenshot(page, "dark.png", for_readme=False)
        for selector in ("#generate-models p", "#picture a.download", "#scatter-legend", "#overlap p"):
            ratio = page.evaluate(CONTRAST, selector)
            assert ratio >= 4.5, f"{selector}: {ratio:.2f}:1"
        # "You are here" on the scatter plot: its magenta marks are drawn, and stand out from the plot's background.
        shot = Image.open(io.BytesIO(page.locator("#where-digits-live").screenshot())).convert("RGB")
        colours = shot.getcolors(shot.width * shot.height)
        background = max(colours)[1]
        here = sum(n for n, c in colours if all(abs(a - b) < 40 for a, b in zip(c, HERE_COLOUR)))
        assert here >= 20, "no 'you are here' marker on the scatter plot"
        assert contrast(HERE_COLOUR, background) >= 3, f"marker vs plot background {background}"
        # The traversal chart is dark, not a white sheet on the dark page.
        chart = Image.open(io.BytesIO(page.locator("#traversal img").screenshot())).convert("RGB")
        assert luminance(chart.getpixel((2, 2))) < 0.1
        check_draw_answer_contrast(page)
        # The pad is dark paper with light ink, not a white sheet.
        paper = page.evaluate("() => Array.from(document.querySelector('#sketch canvas').getContext('2d')"
                              ".getImageData(2, 2, 1, 1).data)")
        assert luminance(paper) < 0.05, paper
        screenshot(page, "dark-draw.png", for_readme=False)
    finally:
        page.context.close()


def test_the_light_theme_draw_answer_is_readable(browser, served_app):
    page = visit(browser, served_app[0].rstrip("/") + "/?__theme=light")
    try:
        check_draw_answer_contrast(page)
        screenshot(page, "light-draw.png", for_readme=False)
    finally:
        page.context.close()


def test_use_in_this_session_redraws_at_once_and_every_tab_names_your_model(browser, served_app):
    page = visit(browser, served_app[0])
    try:
        assert "shipped" in page.locator("#generate-models").inner_text()
        shipped_picture = src(page, "#picture img")
        page.get_by_role("tab", name="Train", exact=True).click()
        wait_until(page, "() => document.querySelector('#data-notice').innerText.trim() !== ''")
        page.locator("#budget").get_by_text("30 s").click()
        page.get_by_role("button", name="Start training", exact=True).click()
        wait_until(page, "() => document.querySelector('#train-progress').innerText.includes('Finished')",
                   timeout=120_000)
        assert page.get_by_placeholder("run name, e.g. my-generator").count() == 1
        page.get_by_role("button", name="Use in this session", exact=True).click()
        wait_until(page, "() => document.querySelector('#in-use').innerText.includes('your run')")
        # Generate: a new picture without a slider touched, and the tab says whose model draws it.
        page.get_by_role("tab", name="Generate", exact=True).click()
        wait_until(page, "b => document.querySelector('#picture img').src !== b", shipped_picture, timeout=10_000)
        wait_until(page, "() => document.querySelector('#generate-models').innerText.includes('your')")
        page.get_by_role("tab", name="Draw", exact=True).click()
        assert "your" in page.locator("#draw-models").inner_text()
        page.get_by_role("tab", name="Model", exact=True).click()
        wait_until(page, "() => document.querySelector('#model-about')?.innerText.includes('your model (run')",
                   timeout=30_000)
        # Back to the shipped models: the shipped picture again, at once.
        page.get_by_role("tab", name="Train", exact=True).click()
        page.get_by_role("button", name="Use the shipped models", exact=True).click()
        page.get_by_role("tab", name="Generate", exact=True).click()
        wait_until(page, "b => document.querySelector('#picture img').src === b", shipped_picture, timeout=10_000)
        assert "shipped" in page.locator("#generate-models").inner_text()
    finally:
        page.context.close()
