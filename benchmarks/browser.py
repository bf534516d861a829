"""Job: the Generate and Draw tabs as the page uses them: their requests over HTTP, as the page sends them, and a
slider move and a drawing as a visitor feels them, in headless Chromium (Debian's /usr/bin/chromium through
Playwright).

`map_click_p95_ms_http`, `map_p95_ms_http`, `traversal_p95_ms_http`: a click on the latent map (answered with the
sliders and the picture, without the queue), the map redrawn, the traversal chart redrawn (each through the queue,
with the output file fetched); `sketch_answer_p95_ms_http`: the Draw pad's strokes read (one POST, no queue);
`terms_p95_ms_http`: the loss's two terms for the drawing just read, by both models (the request the page sends
just after the answer); `draw_from_q_p95_ms_http`: "Draw z from q(z|x,y)" for a real digit put into z;
`posterior_map_p95_ms_http`: the latent map redrawn with that posterior's ellipses and the z drawn; each called by
name with app_server.RawClient, one at a time.

`slider_*_ms_browser`: from a z slider's `input` event to the new picture loaded and decoded in the page, over
`MOVES` moves of the slider with the keyboard (ArrowRight on the focused range input), MOVE_GAP_S apart so that each
move is a request of its own. Stamped in the page: a listener on the slider's `input` event stamps
performance.now(); a MutationObserver sees the picture's <img> change, awaits img.decode() and stamps again.

`first_picture_ms_browser` (median) and `first_picture_p95_ms_browser`: a new visitor's page, from navigation start
to the Generate tab's first picture loaded and decoded, over FIRST_PICTURES visits, each in a browser context of its
own (an empty cache, as a first visit), stamped in the page by a script that runs before the page's own. Every tab is
laid out in the page that loads, so this is where a tab that costs the page's start shows (the Model tab fills
itself when it is opened, not here).

`sketch_answer_*_ms_browser`: from the last mouse-up of a digit drawn on the Draw pad with the mouse to the answer
about that drawing shown, over SKETCHES digits, cleared between them; `sketch_answer_breakdown_ms_browser` splits the
median into the page's wait before it sends the request, the request (the browser's resource timing) and the rest.

Each browser measurement is a function (page, count) -> {key: value}, run on a fresh page of its own (a new
visitor), listed in MEASUREMENTS with the keys it reports. Without chromium or Playwright their keys are null, with
the reason under "skipped"; the HTTP keys are measured either way.
"""
import time
from contextlib import contextmanager
from pathlib import Path

from .common import QUICK, log, median_ms, ms, p95_ms

CHROMIUM = Path("/usr/bin/chromium")
BROWSER_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                "--disable-sync"]
MOVES, QUICK_MOVES = 40, 5
MOVE_GAP_S = 0.25           # longer than an answer takes, so that every move is its own request
SETTLE_S = 10               # the last answers may take this long on a busy machine
PAGE_TIMEOUT_MS = 60_000    # a cold page in software rendering on 2 busy cores

# In the page: stamp every input event of `slider`, and the moment the picture under `picture` has changed and is
# decoded; every move still waiting gets that stamp (a move whose request was folded into a later one, by the
# event's trigger_mode "always_last", waits for the picture that answers the later one, as a visitor does).
WATCH_JS = """([sliderSel, pictureSel]) => {
    const slider = document.querySelector(sliderSel), root = document.querySelector(pictureSel);
    const moves = window.__moves = [];
    slider.addEventListener('input', () => moves.push({start: performance.now(), end: null}));
    let shown = root.querySelector('img')?.src;
    const check = async () => {
        const img = root.querySelector('img');
        if (!img || !img.src || img.src === shown) return;
        shown = img.src;
        const waiting = moves.filter(m => m.end === null);
        try { await img.decode(); } catch (e) { return; }    // replaced by a newer picture before it decoded
        const now = performance.now();
        waiting.forEach(m => { if (m.end === null) m.end = now; });
    };
    new MutationObserver(check).observe(root, {subtree: true, childList: true, attributes: true,
                                               attributeFilter: ['src']});
}"""


def slider_to_picture(page, moves):
    """A z slider moved `moves` times with the keyboard: input event -> new picture decoded, in ms."""
    slider = "#z1 input[type=range]" if page.locator("#z1 input[type=range]").count() else "input[type=range]"
    page.evaluate(WATCH_JS, [slider, "#picture"])
    page.focus(slider)
    for _ in range(3):  # warm: the first requests of a session set it up
        page.keyboard.press("ArrowRight")
        time.sleep(MOVE_GAP_S * 2)
    page.evaluate("() => window.__moves.length = 0")
    for _ in range(moves):
        page.keyboard.press("ArrowRight")
        time.sleep(MOVE_GAP_S)
    deadline = time.monotonic() + SETTLE_S
    while time.monotonic() < deadline and page.evaluate("() => window.__moves.some(m => m.end === null)"):
        time.sleep(0.1)
    stamps = page.evaluate("() => window.__moves")
    seconds = [(m["end"] - m["start"]) / 1000 for m in stamps if m["end"] is not None]
    result = {"slider_p95_ms_browser": p95_ms(seconds), "slider_median_ms_browser": median_ms(seconds),
              "slider_moves_browser": len(stamps), "slider_unanswered_browser": len(stamps) - len(seconds)}
    log(f"slider in the browser: {result}")
    return result


# In the page: stamp every pointerup on the Draw pad, and the moment the answer about the drawing on the pad is
# shown (the reading names the drawing it is about and is not marked stale: demo/reading.js).
SKETCH_WATCH_JS = """() => {
    performance.clearResourceTimings();  // the page's own files fill the buffer's 250 entries
    performance.setResourceTimingBufferSize(10000);
    const canvas = document.querySelector('#sketch canvas'), root = document.querySelector('#reading');
    const marks = window.__marks = [];
    canvas.addEventListener('pointerup', () => marks.push({up: performance.now(), shown: null}), true);
    new MutationObserver(() => {
        const r = root.querySelector('.reading'), last = marks[marks.length - 1];
        if (!last || last.shown !== null || !r || root.querySelector('.stale') || !r.querySelector('#answer')) return;
        if (r.dataset.about === canvas.dataset.seq) last.shown = performance.now();
    }).observe(root, {subtree: true, childList: true, attributes: true, characterData: true});
}"""
# The requests the page made for the drawing (the pad's event, queue=False: POST /run/predict): when each started
# after the last pointerup, how long it took, and its answer's size.
SKETCH_REQUESTS_JS = """(since) => performance.getEntriesByType('resource')
    .filter(e => e.name.includes('/gradio_api/run/') && e.startTime >= since)
    .map(e => [e.startTime - since, e.duration, e.transferSize, e.encodedBodySize])"""
SKETCHES, QUICK_SKETCHES = 30, 4
SKETCH_GAP_S = 1.0          # between a drawing's answer and the next drawing


def trace(page, strokes, size=560):
    """Draw `strokes` (in the pad's pixels) with the mouse, as tests/test_browser_draw.py does."""
    box = page.locator("#sketch canvas").bounding_box()
    scale = box["width"] / size
    for stroke in strokes:
        points = [(box["x"] + x * scale, box["y"] + y * scale) for x, y in stroke]
        page.mouse.move(*points[0])
        page.mouse.down()
        for p in points[1:]:
            page.mouse.move(*p, steps=2)
        page.mouse.up()


def sketch_to_answer(page, drawings):
    """Digits drawn on the Draw pad with the mouse, cleared between them: last mouse-up -> the answer about that
    drawing shown, in ms; and where that time goes (the median wait before the page sends the request, the request
    itself, and from its end to the answer shown)."""
    from .app_server import pad_strokes
    page.get_by_role("tab", name="Draw", exact=True).click()
    page.wait_for_selector("#sketch canvas")
    page.evaluate(SKETCH_WATCH_JS)
    times, to_request, request, sizes = [], [], [], []
    for i in range(drawings + 2):  # the first two warm up
        trace(page, pad_strokes(i % 10))
        deadline = time.monotonic() + SETTLE_S
        while time.monotonic() < deadline and page.evaluate("() => window.__marks.at(-1).shown === null"):
            time.sleep(0.05)
        last = page.evaluate("() => window.__marks.at(-1)")
        if i >= 2 and last["shown"] is not None:
            times.append(last["shown"] - last["up"])
            sent = page.evaluate(SKETCH_REQUESTS_JS, last["up"])
            if sent:
                to_request.append(sent[-1][0])
                request.append(sent[-1][1])
                sizes.append(sent[-1][3])
        page.locator("#sketch .pad-clear").click()
        time.sleep(SKETCH_GAP_S)
    s = lambda values_ms: [v / 1000 for v in values_ms]  # noqa: E731  (the page stamps ms; common's take seconds)
    rest = [t - a - b for t, a, b in zip(times, to_request, request)]
    result = {"sketch_answer_p95_ms_browser": p95_ms(s(times)), "sketch_answer_median_ms_browser": median_ms(s(times)),
              "sketch_answer_drawings_browser": drawings, "sketch_unanswered_browser": drawings - len(times),
              "sketch_answer_breakdown_ms_browser": {
                  "mouse_up_to_request": median_ms(s(to_request)), "request": median_ms(s(request)),
                  "request_end_to_shown": median_ms(s(rest)),
                  "answer_bytes": int(sorted(sizes)[len(sizes) // 2]) if sizes else None}}
    log(f"drawing -> answer in the browser: {result}")
    return result


# In the page, before its own scripts: stamp the moment the Generate tab's first picture is decoded, in ms since
# navigation start (a picture replaced before it decoded is not it: the next one is waited for).
FIRST_PICTURE_JS = """(() => {
    let pending = null;
    const check = () => {
        const img = document.querySelector('#picture img');
        if (window.__firstPicture !== undefined || !img || !img.src || img === pending) return;
        pending = img;
        img.decode().then(() => { window.__firstPicture ??= performance.now(); }, () => { pending = null; check(); });
    };
    new MutationObserver(check).observe(document, {subtree: true, childList: true, attributes: true,
                                                   attributeFilter: ['src']});
})();"""
FIRST_PICTURES, QUICK_FIRST_PICTURES = 10, 2


def page_to_first_picture(browser, url, visits):
    """`visits` new visitors' pages, one at a time, each in a browser context of its own: navigation start -> the
    first picture decoded, in ms (one visit before them warms the server)."""
    times = []
    for _ in range(visits + 1):
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        try:
            context.add_init_script(FIRST_PICTURE_JS)
            page = context.new_page()
            page.set_default_timeout(PAGE_TIMEOUT_MS)
            page.goto(url)
            page.wait_for_function("() => window.__firstPicture !== undefined", polling=100,
                                   timeout=PAGE_TIMEOUT_MS)
            times.append(page.evaluate("() => window.__firstPicture") / 1000)
        finally:
            context.close()
    times = times[1:]
    result = {"first_picture_ms_browser": median_ms(times), "first_picture_p95_ms_browser": p95_ms(times),
              "first_picture_visits_browser": len(times)}
    log(f"a new visitor's first picture in the browser: {result}")
    return result


FIRST_PICTURE_KEYS = ["first_picture_ms_browser", "first_picture_p95_ms_browser"]
MEASUREMENTS = [(slider_to_picture, ["slider_p95_ms_browser", "slider_median_ms_browser"]),
                (sketch_to_answer, ["sketch_answer_p95_ms_browser", "sketch_answer_median_ms_browser"])]
HTTP_KEYS = ["map_click_p95_ms_http", "map_p95_ms_http", "traversal_p95_ms_http", "sketch_answer_p95_ms_http",
             "terms_p95_ms_http", "draw_from_q_p95_ms_http", "posterior_map_p95_ms_http"]
BROWSER_KEYS = [key for _, keys in MEASUREMENTS for key in keys] + FIRST_PICTURE_KEYS
KEYS = HTTP_KEYS + BROWSER_KEYS
HTTP_BUDGET_S = 10          # per kind of request


def explore_over_http(app, requests, n):
    """The latent-space views' requests, `n` of each (or fewer, within HTTP_BUDGET_S): p95 and median in ms."""
    kinds = [("map_click", requests.raw_map_click), ("map", requests.raw_map), ("traversal", requests.raw_traversal),
             ("sketch_answer", requests.raw_read_drawing), ("terms", requests.raw_read_terms),
             ("draw_from_q", requests.raw_draw_from_q), ("posterior_map", requests.raw_posterior_map)]
    raw, out = app.raw_client(), {}
    try:
        for _, call in kinds:  # warm: a session's first calls set it up
            call(raw)
            call(raw)
        for name, call in kinds:
            seconds, start = [], time.perf_counter()
            while len(seconds) < n and time.perf_counter() - start < HTTP_BUDGET_S:
                seconds.append(call(raw)[0])
            out.update({f"{name}_p95_ms_http": p95_ms(seconds), f"{name}_median_ms_http": median_ms(seconds),
                        f"{name}_requests_http": len(seconds)})
            log(f"{name} over HTTP: p95 {p95_ms(seconds)} ms, median {median_ms(seconds)} ms, {len(seconds)} requests")
    finally:
        raw.close()
    return out


def browser_missing():
    """Why the browser measurements cannot run here, or None."""
    if not CHROMIUM.exists():
        return f"no browser at {CHROMIUM} (apt-get install -y chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright is missing (pip install playwright)"
    return None


@contextmanager
def browser_session():
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=BROWSER_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@contextmanager
def fresh_page(browser, url):
    """A new visitor's page on the app, once its picture is shown."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.set_default_timeout(PAGE_TIMEOUT_MS)
    try:
        start = time.perf_counter()
        page.goto(url)
        page.wait_for_selector("#picture img")
        log(f"page loaded in {ms(time.perf_counter() - start):.0f} ms")
        yield page
    finally:
        page.close()


def run(app, requests, sizes):
    out = explore_over_http(app, requests, sizes.raw_requests)
    reason = browser_missing()
    if reason:
        return {**out, **{key: None for key in BROWSER_KEYS}, "skipped": {key: reason for key in BROWSER_KEYS}}
    count = {slider_to_picture: QUICK_MOVES if sizes == QUICK else MOVES,
             sketch_to_answer: QUICK_SKETCHES if sizes == QUICK else SKETCHES}
    with browser_session() as browser:
        for measure, _ in MEASUREMENTS:
            with fresh_page(browser, app.url) as page:
                out.update(measure(page, count[measure]))
        out.update(page_to_first_picture(browser, app.url, QUICK_FIRST_PICTURES if sizes == QUICK else FIRST_PICTURES))
    return out
