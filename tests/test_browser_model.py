"""The Model tab in a real browser, as a reader of the write-up uses it: open it and read the formulas (rendered by
the KaTeX that gradio bundles, nothing fetched from outside), the code beside them, the figures; ask model 2 about
a test digit and about a drawing; then train a 30 s generator, use it, and see the tab describe it."""
import time
from urllib.parse import urlparse

from browser import screenshot, wait_until
from digit_strokes import DIGITS

PAUSE_S = 2.0
FORMULAS = 10               # per model: q, p, the prior, the loss and the ELBO bound under it


def open_visitor(browser, url):
    """A new visitor's page, every request it makes noted from the first one on."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(30_000)
    requests = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(url)
    page.wait_for_selector("#picture img")
    return page, requests


def open_model_tab(page):
    page.get_by_role("tab", name="Model", exact=True).click()
    wait_until(page, f"() => document.querySelectorAll('.formula .katex').length >= {FORMULAS} && "
               "document.querySelectorAll('#model-figures img').length > 0", timeout=60_000)
    time.sleep(1)


def test_the_formulas_code_and_figures_of_the_models_in_use(browser, served_app, generator, classifier):
    url = served_app[0]
    page, requests = open_visitor(browser, url)
    try:
        open_model_tab(page)
        assert "the shipped model" in page.locator("#model-about").inner_text()
        # Each formula is KaTeX's, of the TeX that Pixyz prints for the live objects; no raw $$ is left on the page.
        for kind, model in (("generator", generator), ("classifier", classifier)):
            for part, tex in (("q", model.q.prob_text), ("p", model.p.prob_text), ("prior", model.prior.prob_text),
                              ("loss", model.loss.loss_text)):
                box = page.locator(f"#formula-{kind}-{part}")
                assert box.locator(".katex").count() >= 1, (kind, part)
                sources = box.locator("annotation[encoding='application/x-tex']").all_text_contents()
                assert sources[0].strip() == tex, (kind, part, sources)
        assert page.locator(".formula .katex-display").count() == FORMULAS
        assert "$$" not in page.locator("body").inner_text()
        # The code beside them.
        assert "class Generator(Bernoulli):" in page.locator("#code-generator-p").inner_text()
        assert "class Classifier(Categorical):" in page.locator("#code-classifier-p").inner_text()
        assert "(KullbackLeibler(q, prior) - Expectation(q, LogProb(p))).mean()" in \
            page.locator("#code-generator-loss").inner_text()
        assert "parameters" in page.locator("#networks-generator").inner_text()
        # Pixyz's own view: what it prints for the joint and the loss, and its graph of the variables, drawn.
        from demo.pixyz_view import pixyz_texts
        for kind, model in (("generator", generator), ("classifier", classifier)):
            sources = page.locator(f"#pixyz-{kind} annotation[encoding='application/x-tex']").all_text_contents()
            texts = pixyz_texts(model)
            assert [t.strip() for t in sources] == [texts["joint"], texts["loss"]], (kind, sources)
            graph = page.locator(f"#graph-{kind} svg")
            graph.scroll_into_view_if_needed()
            nodes = graph.locator("circle").evaluate_all("cs => cs.map(c => c.dataset.node).sort()")
            assert nodes == ["x", "y", "z"] and graph.locator("path.q").count() == 2, (kind, nodes)
        observed = {"generator": "x", "classifier": "y"}  # the variable each model explains is observed, z is not
        for kind, var in observed.items():
            fill = page.locator(f"#graph-{kind} circle[data-node='{var}']").get_attribute("fill")
            assert fill != "none" and page.locator(f"#graph-{kind} circle[data-node='z']").get_attribute("fill") == \
                "none"
        # Every figure loads.
        page.locator("#model-figures").scroll_into_view_if_needed()
        wait_until(page, "() => [...document.querySelectorAll('#model-figures img')].every(i => i.complete)")
        widths = page.evaluate("() => [...document.querySelectorAll('#model-figures img')].map(i => i.naturalWidth)")
        assert len(widths) == 8 and all(w > 0 for w in widths), widths
        # Model 2 as a predictor: a test digit (nothing drawn yet), then another one.
        assert "nothing drawn yet" in page.locator("#predictor").inner_text()
        assert page.locator("#predictor-answer tr").count() == 1 + 8 + 1
        time.sleep(PAUSE_S)
        first = page.locator("#predictor img").get_attribute("alt")
        page.get_by_role("button", name="A random test digit", exact=True).click()
        wait_until(page, "(first) => document.querySelector('#predictor img')?.alt !== first", first)
        # The loss's two terms for the example, by both models, with its label.
        label = page.locator("#predictor img").get_attribute("alt").split("labelled ")[-1][:1]
        assert page.locator("#model-terms #elbo-generator").get_attribute("data-digit") == label
        assert float(page.locator("#model-terms #generator-neg-elbo").inner_text()) > 0
        page.get_by_role("button", name="A test digit where z matters", exact=True).click()
        wait_until(page, "() => document.querySelector('#predictor').innerText.includes('moves most with z')")
        page.locator("#model-about").scroll_into_view_if_needed()
        time.sleep(PAUSE_S)
        screenshot(page, "model.png")
        # Nothing left 127.0.0.1: the page, its scripts, fonts and KaTeX are all served by the app.
        host = urlparse(url).hostname
        outside = [u for u in requests if not u.startswith(("data:", "blob:")) and urlparse(u).hostname != host]
        assert host == "127.0.0.1" and not outside, outside
    finally:
        page.context.close()


def draw(page, digit):
    box = page.locator("#sketch canvas").bounding_box()
    for stroke in DIGITS[digit]:
        points = [(box["x"] + box["width"] * (0.15 + 0.7 * x), box["y"] + box["height"] * (0.15 + 0.7 * y))
                  for x, y in stroke]
        page.mouse.move(*points[0])
        page.mouse.down()
        for p in points[1:]:
            page.mouse.move(*p, steps=2)
        page.mouse.up()


def test_model_2_reads_the_visitors_last_drawing(page):
    page.get_by_role("tab", name="Draw", exact=True).click()
    page.wait_for_selector("#sketch canvas")
    draw(page, 7)
    wait_until(page, "() => document.querySelector('#answer')?.innerText.trim() === '7'")
    time.sleep(PAUSE_S)
    open_model_tab(page)
    assert "Your last drawing" in page.locator("#predictor").inner_text()
    mean = page.locator("#predictor tr.mean").inner_text()
    assert page.locator("#predictor-answer").get_attribute("data-top") == "7", mean


def test_after_training_and_using_a_generator_the_tab_describes_it(page):
    open_model_tab(page)
    shipped_samples = page.locator("#model-figures img").nth(2).get_attribute("src")
    page.get_by_role("tab", name="Train", exact=True).click()
    wait_until(page, "() => document.querySelector('#data-notice').innerText.trim() !== ''")
    page.locator("#budget").get_by_text("30 s", exact=True).click()
    time.sleep(1)
    page.get_by_role("button", name="Start training", exact=True).click()
    wait_until(page, "() => document.querySelector('#train-progress').innerText.includes('Finished')",
               timeout=180_000)
    page.get_by_role("button", name="Use in this session", exact=True).click()
    wait_until(page, "() => document.querySelector('#in-use').innerText.includes('your run')")
    time.sleep(PAUSE_S)
    open_model_tab(page)
    wait_until(page, "() => document.querySelector('#model-about').innerText.includes('your model')")
    about = page.locator("#model-about").inner_text()
    assert "Model 1 (generator): your model (run" in about and "Model 2 (classifier): the shipped model" in about
    assert page.locator("#model-figures img").nth(2).get_attribute("src") != shipped_samples  # drawn by yours
    assert page.locator(".formula .katex-display").count() == FORMULAS
    screenshot(page, "model-yours.png", for_readme=False)
