"""The page in Japanese and in English, in a real browser (demo/texts.py): a Japanese visitor (a Chromium whose
language is ja-JP) meets every tab without a sentence of the English table on it, draws a digit and reads the answer
in Japanese, starts a 30 s training and watches its progress in Japanese; then switches to English with the page's
switch and sees the same in English. A `?lang=ja` link opens the page in Japanese in an English browser."""
import re
import time

from browser import SHOTS, screenshot, wait_until
from conftest import new_visitor
from demo.texts import EN, JA
from test_browser_draw import FRESH, trace

TABS = ("generate", "draw", "train", "model")
JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")  # kana and kanji


def english_sentences():
    """The pieces of the English table a Japanese page must not show: each text with its markup and placeholders
    taken out, where it differs from the Japanese; not names and formulas (a piece the Japanese table has too,
    e.g. MNIST or ELBO, or without a word of three letters)."""
    pieces, japanese = set(), " ".join(JA.values())
    for key, text in EN.items():
        if text == JA[key]:
            continue
        plain = re.sub(r"<[^>]+>|[*#`_]", " ", text)
        for piece in re.split(r"\{[^}]*\}|\n|\(|\)|:|;|·", plain):
            piece = " ".join(piece.split()).strip(" .,…")
            if re.search(r"[A-Za-z]{3,}", piece) and piece not in japanese:
                pieces.add(piece)
    return sorted(pieces, key=len, reverse=True)


ENGLISH = english_sentences()


HIDE_CODE = "pre, code, .katex, .katex-display { display: none !important; }"


def visible_text(page):
    """The page's visible text, but for code and formulas (the Model tab's Python and Pixyz's LaTeX stay as they
    are in both languages)."""
    style = page.add_style_tag(content=HIDE_CODE)
    try:
        return " ".join(page.locator("body").inner_text().split())
    finally:
        style.evaluate("s => s.remove()")


def english_on(page):
    """The English pieces on the page, each with a little of the text around it (to find it)."""
    text = visible_text(page)
    found = [re.search(r"(?<![A-Za-z0-9_-])" + re.escape(piece) + r"(?![A-Za-z0-9_:-])", text) for piece in ENGLISH]
    return [text[max(0, m.start() - 40):m.end() + 40] for m in found if m]


def open_tab(page, tab, texts=JA):
    page.get_by_role("tab", name=texts[f"tab_{tab}"], exact=True).click()
    time.sleep(1.5)


def draw_a_three(page):
    trace(page, 3)
    page.wait_for_function(FRESH, polling=100, timeout=20_000)
    return page.locator("#reading").inner_text()


def start_training(page, training):
    """A 30 s generator from scratch; -> the progress line once it trains (says `training`)."""
    page.locator("#budget label").first.click()  # 30 s
    page.locator("#start").click()
    try:
        wait_until(page, "(words) => document.querySelector('#train-progress').innerText.includes(words)",
                   arg=training, timeout=90_000)
    except Exception:
        raise AssertionError(f"not training after 90 s: {page.locator('#train-progress').inner_text()!r}") from None
    time.sleep(1)
    return page.locator("#train-progress").inner_text()


def test_a_japanese_visitor_then_english_by_the_switch(browser, served_app):
    page = new_visitor(browser, served_app[0], locale="ja-JP")
    try:
        assert page.title() == JA["page_title"]
        found = {}
        for tab in TABS:
            open_tab(page, tab)
            found[tab] = english_on(page)
            if tab == "generate":
                screenshot(page, "japanese.png")
        assert not any(found.values()), f"English on the Japanese page: {found}"

        open_tab(page, "draw")
        reading = draw_a_three(page)
        assert JA["model2_reads"].split("{")[0] in reading and JAPANESE.search(reading), reading
        assert page.locator("#answer").inner_text().strip() == "3"
        # The loss's two terms, just after, in the write-up's words.
        wait_until(page, "() => document.querySelector('#elbo-classifier') !== null", timeout=20_000)
        terms = page.locator("#elbo-terms").inner_text()
        assert all(word in terms for word in ("再構成", "KLダイバージェンス", "ELBO", "ナット")), terms
        assert not english_on(page)
        screenshot(page, "japanese_draw.png", for_readme=False)
        assert page.locator("#sketch canvas").get_attribute("aria-label") == JA["pad_label"]
        assert page.locator("#sketch .pad-undo").get_attribute("title") == JA["pad_undo_title"]

        open_tab(page, "train")
        line = start_training(page, "生成モデル1を学習中")
        assert "生成モデル1を学習中" in line and "秒" in line, line
        # The loss curves (once the first test is measured, a few seconds in), named in Japanese in their legend.
        wait_until(page, "() => document.querySelector('#loss-plot .vega-embed') !== null", timeout=60_000)
        time.sleep(1)
        page.locator("#loss-plot").screenshot(path=str(SHOTS / "japanese_loss_plot.png"))
        page.locator("#stop").click()
        wait_until(page, "() => /停止しました|完了/.test(document.querySelector('#train-progress').innerText)",
                   timeout=60_000)
        assert "あなたのモデル" in page.locator("#your-model").inner_text()
        assert not english_on(page), english_on(page)
        screenshot(page, "japanese_train.png", for_readme=False)

        # The page's switch: English, the same journey.
        page.locator("#language a[data-lang='en']").click()
        page.wait_for_selector("#picture img")
        assert "lang=en" in page.url and page.title() == EN["page_title"]
        assert page.get_by_role("tab", name="Generate", exact=True).is_visible()
        assert not JAPANESE.search(visible_text(page).replace("日本語", ""))
        page.get_by_role("tab", name="Draw", exact=True).click()
        time.sleep(1)
        reading = draw_a_three(page)
        assert "Model 2 reads your drawing as" in reading and "Both models say 3." in reading
        assert page.locator("#sketch canvas").get_attribute("aria-label") == "Drawing pad: draw a digit"
        page.get_by_role("tab", name="Train", exact=True).click()
        line = start_training(page, "Training the generator")
        assert "Training the generator" in line, line
        page.locator("#stop").click()
        wait_until(page, "() => /Stopped at|Finished/.test(document.querySelector('#train-progress').innerText)",
                   timeout=60_000)
        assert not JAPANESE.search(visible_text(page).replace("日本語", ""))
    finally:
        page.context.close()


def test_a_lang_link_opens_the_page_in_that_language(browser, served_app):
    page = new_visitor(browser, served_app[0] + "?lang=ja&digit=7", locale="en-US")
    try:
        assert page.title() == JA["page_title"]
        assert page.get_by_role("tab", name=JA["tab_draw"], exact=True).is_visible()
        assert not english_on(page)
        page.get_by_role("tab", name=JA["tab_draw"], exact=True).click()
        time.sleep(1)
        assert "生成モデル2" in draw_a_three(page)  # the server answers in the link's language too
    finally:
        page.context.close()
