"""The Generate tab in a real browser, used as a person would."""
import time

from playwright.sync_api import TimeoutError as PlaywrightTimeout

from browser import screenshot, wait_until

Z_DIM = 10  # the shipped generator's sliders


def slider_values(page):
    return [float(page.locator(f"#z{i} input[type=number]").input_value()) for i in range(1, Z_DIM + 1)]


def checked_digit(page):
    return page.evaluate("() => document.querySelector('#digit input[type=radio]:checked')?.value")


def src(page, selector):
    return page.locator(selector).get_attribute("src")


def wait_for_new(page, selector, before, timeout=30_000):
    """Until the picture at `selector` is another than `before`."""
    wait_until(page, "([sel, before]) => (document.querySelector(sel)?.src || before) !== before",
               [selector, before], timeout=timeout)


def test_dragging_a_style_slider_redraws_the_picture_while_dragging(page):
    picture = page.locator("#picture img")
    before = picture.get_attribute("src")
    slider = page.locator("#z1 input[type=range]")
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
    assert float(page.locator("#z1 input[type=number]").input_value()) > 1
    assert page.locator("#picture a[download]").count() == 1        # the picture can still be downloaded
    page.get_by_role("button", name="Random z", exact=True).click()
    time.sleep(1)
    screenshot(page, "generate.png")


def test_a_link_opens_the_digit_and_style_it_names_and_copy_link_gives_it_back(page, served_app):
    url = served_app[0].rstrip("/") + "/"
    map_before, chart_before = src(page, "#latent-map img"), src(page, "#traversal img")
    page.goto(url + "?digit=7&z=1.5,-1,nan,1e9")
    wait_until(page, "() => document.querySelector('#digit input:checked')?.value === '7' && "
                     "document.querySelector('#z4 input[type=number]').value === '3'")
    assert slider_values(page) == [1.5, -1, 0, 3, 0, 0, 0, 0, 0, 0]   # nan ignored, 1e9 clamped, the rest 0
    wait_until(page, "() => document.querySelector('#picture img').alt.includes('7')")
    wait_for_new(page, "#latent-map img", map_before)                    # the views show the 7 in that style
    wait_for_new(page, "#traversal img", chart_before)
    assert page.locator(".toast-body").count() == 0

    time.sleep(0.5)
    page.get_by_role("button", name="Copy link", exact=True).click()
    link = page.locator("#share-link input, #share-link textarea").first
    wait_until(page, "() => (document.querySelector('#share-link input, #share-link textarea')?.value || '')"
                     ".includes('digit=7')")
    assert link.input_value() == url + "?digit=7&z=1.5,-1,0,3,0,0,0,0,0,0"

    # A broken link opens the page as it is, without an error.
    page.goto(url + "?digit=x&z=" + ",".join(["oops"] * 500))
    page.wait_for_selector("#picture img")
    time.sleep(2)
    assert checked_digit(page) == "3" and slider_values(page) == [0.0] * Z_DIM
    assert page.locator(".toast-body").count() == 0


def wait_for_shown(page, selector):
    """Until the picture at `selector` has loaded: the page reads a click on a picture in its own pixels, and loads
    pictures lazily (a click on one not yet loaded is not an event)."""
    wait_until(page, "sel => { const img = document.querySelector(sel); return img && img.complete && "
                     "img.naturalWidth > 0; }", selector)


def click_map(page, fx, fy, tries=3):
    """Click the latent map at (fx, fy) of its size until the picture is redrawn, as a person clicks again when a
    click seems lost (once in CI, on a busy machine, a click on the page still settling redrew nothing)."""
    for _ in range(tries):
        wait_for_shown(page, "#latent-map img")
        before = src(page, "#picture img")
        box = page.locator("#latent-map img").bounding_box()
        page.mouse.click(box["x"] + box["width"] * fx, box["y"] + box["height"] * fy)
        try:
            wait_for_new(page, "#picture img", before, timeout=10_000)
            return
        except PlaywrightTimeout:
            page.locator("#latent-map").scroll_into_view_if_needed()
    raise AssertionError(f"{tries} clicks on the latent map, and the picture was never redrawn")


def wait_for_sliders(page, condition, timeout_s=10):
    """Until the slider values satisfy `condition` (the picture and the sliders may change in different frames);
    -> the values."""
    deadline = time.monotonic() + timeout_s
    while not condition(values := slider_values(page)) and time.monotonic() < deadline:
        page.wait_for_timeout(200)
    return values


def test_clicking_the_latent_map_moves_two_sliders_and_redraws_the_picture(page):
    across = int(page.locator("#map-x input").input_value().lstrip("z")) - 1
    up = int(page.locator("#map-y input").input_value().lstrip("z")) - 1
    map_before = src(page, "#latent-map img")
    page.locator("#latent-map").scroll_into_view_if_needed()
    wait_for_shown(page, "#latent-map img")
    page.wait_for_timeout(1500)  # a person's pause; the page's layout settles after the scroll (sticky columns)
    click_map(page, 0.92, 0.08)                                            # near the top right
    values = wait_for_sliders(page, lambda v: v[across] > 2 and v[up] > 2)
    assert values[across] > 2 and values[up] > 2, values                   # right is +, up is +
    assert all(v == 0 for i, v in enumerate(values) if i not in (across, up)), values
    wait_for_new(page, "#latent-map img", map_before)                      # redrawn, the new point framed

    page.wait_for_timeout(800)
    click_map(page, 0.08, 0.92)                                            # bottom left
    values = wait_for_sliders(page, lambda v: v[across] < -2 and v[up] < -2)
    assert values[across] < -2 and values[up] < -2, values


def test_a_real_digit_goes_into_the_sliders_and_keeps_its_style_as_another_digit(page):
    page.locator("#real-digit").scroll_into_view_if_needed()
    picture_before = src(page, "#picture img")
    page.locator("#real-digit").click()
    page.wait_for_selector("#real-image img")
    page.wait_for_selector("#reconstruction img")
    wait_for_new(page, "#picture img", picture_before)
    style = slider_values(page)
    assert any(v != 0 for v in style)                                      # a real person's style, not zeros
    note = page.locator("#real-note").inner_text()
    label = note.split(", a ")[1][0]                                       # "MNIST test digit #12, a 7. ..."
    assert checked_digit(page) == label, (note, checked_digit(page))

    # The same hand, another digit: the sliders stay, the picture changes.
    other = "0" if label != "0" else "1"
    picture_before = src(page, "#picture img")
    page.locator("#digit").get_by_text(other, exact=True).click()
    wait_for_new(page, "#picture img", picture_before)
    assert slider_values(page) == style and checked_digit(page) == other
    page.get_by_role("button", name="Copy link", exact=True).click()      # the link names this picture
    wait_until(page, "() => (document.querySelector('#share-link input, #share-link textarea')?.value || '')"
                     ".includes('digit=')")
    link = page.locator("#share-link input, #share-link textarea").first.input_value()
    assert f"?digit={other}&z=" in link and [float(v) for v in link.split("&z=")[1].split(",")] == style
    time.sleep(2)
    screenshot(page, "explore.png")

    # Without a drawing, "Use my drawing" says what to do.
    page.locator("#my-drawing").click()
    page.wait_for_selector(".toast-body")
    assert "Draw a digit" in page.locator(".toast-body").first.inner_text()


ELLIPSE, DRAWN, PRIOR = (34, 211, 238), (250, 204, 21), (74, 222, 128)  # demo/posterior_view.py's colours


def map_pixels(page, colour):
    """How many pixels of the latent map as shown are exactly `colour` (its marks: the digits are greys)."""
    import base64
    import io

    import numpy as np
    from PIL import Image
    data = page.evaluate("async () => { const r = await fetch(document.querySelector('#latent-map img').src);"
                         " const b = new Uint8Array(await r.arrayBuffer()); let s = '';"
                         " for (let i = 0; i < b.length; i += 8192) s += String.fromCharCode(...b.subarray(i, i + 8192));"
                         " return btoa(s); }")
    picture = np.asarray(Image.open(io.BytesIO(base64.b64decode(data))).convert("RGB"))
    return int((picture == np.array(colour)).all(-1).sum())


def q_draw_rows(page):
    """The draw from q as the page shows it: [(mu, sigma, eps, z)] per z dimension."""
    rows = page.locator("#q-draw-table tr[data-dim]")
    return [tuple(float(rows.nth(i).locator(f"td.{c}").inner_text()) for c in ("mu", "sigma", "eps", "z"))
            for i in range(rows.count())]


def test_a_real_digit_in_z_shows_its_posterior_its_two_terms_and_draws_from_it(page):
    page.locator("#real-digit").scroll_into_view_if_needed()
    map_before = src(page, "#latent-map img")
    page.locator("#real-digit").click()
    page.wait_for_selector("#real-image img")
    label = page.locator("#real-note").inner_text().split(", a ")[1][0]
    # Its loss, term by term, by both models.
    wait_until(page, "(d) => document.querySelector('#real-terms #elbo-generator')?.dataset.digit === d", label)
    assert float(page.locator("#real-terms #generator-neg-elbo").inner_text()) > 0
    # q(z|x,y) on the map: its mean and its 1- and 2-sigma ellipses.
    wait_for_new(page, "#latent-map img", map_before)
    wait_until(page, "() => document.querySelector('#latent-map img').complete")
    assert map_pixels(page, ELLIPSE) > 100 and map_pixels(page, DRAWN) == 0
    mean_style = slider_values(page)

    drawn = []
    for _ in range(3):  # draws from q: the sliders move to z = mu + sigma * eps, the picture follows
        page.locator("#draw-from-q").scroll_into_view_if_needed()
        picture_before, map_before = src(page, "#picture img"), src(page, "#latent-map img")
        page.locator("#draw-from-q").click()
        wait_for_new(page, "#picture img", picture_before)
        rows = q_draw_rows(page)
        assert len(rows) == Z_DIM
        for mu, sigma, eps, z in rows:
            assert sigma > 0 and abs(max(-3, min(3, mu + sigma * eps)) - z) <= 0.03, (mu, sigma, eps, z)
        values = slider_values(page)
        assert values == [z for *_, z in rows] and values != mean_style
        assert all(abs(z - mu) <= 4 * sigma + 0.03 for mu, sigma, _, z in rows)  # within q's spread
        wait_for_new(page, "#latent-map img", map_before)
        wait_until(page, "() => document.querySelector('#latent-map img').complete")
        assert map_pixels(page, DRAWN) > 10 and map_pixels(page, ELLIPSE) > 100  # the draw marked on the map
        drawn.append(values)
        page.wait_for_timeout(900)  # a person looks at it
    assert len({tuple(v) for v in drawn}) == 3
    # Where the prior has holes: the test digits of this digit in z against N(0, I).
    map_before = src(page, "#latent-map img")
    page.locator("#show-density").scroll_into_view_if_needed()
    page.locator("#show-density input").check()
    wait_for_new(page, "#latent-map img", map_before)
    wait_until(page, "() => document.querySelector('#latent-map img').complete")
    assert map_pixels(page, PRIOR) > 100
    page.locator("#latent-map").scroll_into_view_if_needed()
    screenshot(page, "explore_posterior.png", for_readme=False)
