"""Job: the Generate tab as the page uses it: the latent-space views' requests over HTTP, as the page sends them,
and a slider move as a visitor feels it, in headless Chromium (Debian's /usr/bin/chromium through Playwright).

`map_click_p95_ms_http`, `map_p95_ms_http`, `traversal_p95_ms_http`: a click on the latent map (answered with the
sliders and the picture, without the queue), the map redrawn, the traversal chart redrawn (each through the queue,
with the output file fetched), called by name with app_server.RawClient, one at a time, random z each time.

`slider_*_ms_browser`: from a z slider's `input` event to the new picture loaded and decoded in the page, over
`MOVES` moves of the slider with the keyboard (ArrowRight on the focused range input), MOVE_GAP_S apart so that each
move is a request of its own. Stamped in the page: a listener on the slider's `input` event stamps
performance.now(); a MutationObserver sees the picture's <img> change, awaits img.decode() and stamps again.

Each browser measurement is a function (page, moves) -> {key: value}, run on a fresh page of its own (a new
visitor), listed in MEASUREMENTS with the keys it reports: another one (the Draw tab's last mouse-up -> answer
shown, say) is one more function and entry. Without chromium or Playwright their keys are null, with the reason
under "skipped"; the HTTP keys are measured either way.
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


MEASUREMENTS = [(slider_to_picture, ["slider_p95_ms_browser", "slider_median_ms_browser"])]
HTTP_KEYS = ["map_click_p95_ms_http", "map_p95_ms_http", "traversal_p95_ms_http"]
KEYS = HTTP_KEYS + [key for _, keys in MEASUREMENTS for key in keys]
HTTP_BUDGET_S = 10          # per kind of request


def explore_over_http(app, requests, n):
    """The latent-space views' requests, `n` of each (or fewer, within HTTP_BUDGET_S): p95 and median in ms."""
    kinds = [("map_click", requests.raw_map_click), ("map", requests.raw_map), ("traversal", requests.raw_traversal)]
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
        browser_keys = [key for _, keys in MEASUREMENTS for key in keys]
        return {**out, **{key: None for key in browser_keys}, "skipped": {key: reason for key in browser_keys}}
    moves = QUICK_MOVES if sizes == QUICK else MOVES
    with browser_session() as browser:
        for measure, _ in MEASUREMENTS:
            with fresh_page(browser, app.url) as page:
                out.update(measure(page, moves))
    return out
