"""Every text the app shows, in English and in Japanese: one data file per language, demo/lang/en.json and
demo/lang/ja.json (key -> text, the same keys in both, grouped by tab in the files' order), the way gradio keeps its
own (js/core/src/lang/*.json). This module reads them and says them; the files hold nothing but texts.

Two ways a text reaches the visitor:
- the page's texts (labels, buttons, Markdown, radio choices, tab names) go to the page as keys, `static(key)`, and
  the page's own i18n (gr.I18n, given to launch) shows each in the language the page is shown in. The page's i18n
  (svelte-i18n) reads them as ICU messages, so they have no `{...}` placeholders;
- the server's texts (readings, progress lines, notes, messages) are said here in the visitor's language,
  `say(lang, key, **values)`, their str.format placeholders filled by the caller; `language_of(request)` tells that
  language from the event's request.
Texts still reach the page in other ways, kept only until their callers move to one of these two (issue 26; add
none): every language at once, in spans of which the page's stylesheet shows its own (`in_every_language`,
`every_language`, `EVERY_LANGUAGE_CSS`), and a table for a component's script (`for_script`).

A visitor's language: `?lang=ja` / `?lang=en` in the page's address (the page's switch sets it; every event's
request carries the page's address as its Referer), else the first language of the browser (Accept-Language, which
is also what the page's own i18n follows). English is the default.

The Japanese uses the write-up's own words (生成モデル1, 潜在変数 z, 手書き文字画像, 再構成画像, 標準正規分布, ...);
formulas stay formulas.
"""
import functools
import json
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import gradio as gr
from PIL import ImageFont

LANGUAGES = ("en", "ja")  # the page's spans and stylesheet list them in this order
DEFAULT = "en"
LANG_DIR = Path(__file__).resolve().parent / "lang"


def load_texts(lang):
    """The texts of `lang`, {key: text}, from demo/lang/LANG.json."""
    return json.loads((LANG_DIR / f"{lang}.json").read_text(encoding="utf-8"))


TEXTS = {lang: load_texts(lang) for lang in LANGUAGES}
EN, JA = TEXTS["en"], TEXTS["ja"]
# The page's own i18n: the static texts, looked up in the browser in the language the page is shown in.
I18N = gr.I18n(**TEXTS)


def static(key):
    """A static text for a component's label, value or choices: the page shows it in its own language."""
    if key not in EN:
        raise KeyError(f"no text {key!r} in demo/lang/en.json")
    return I18N(key)


def say(lang, key, **values):
    """The text `key` in `lang` (English when `lang` is not one of LANGUAGES), its placeholders filled."""
    text = TEXTS.get(lang, EN)[key]
    return text.format(**values) if values else text


def in_every_language(key):
    """HTML with the text in every language, each in a span of its `lang`; the page's stylesheet (EVERY_LANGUAGE_CSS)
    shows the one of the page's language. For answers too frequent to spend anything on the visitor's language
    (the Generate tab's picture, redrawn while a slider moves)."""
    return "".join(f'<span lang="{lang}">{texts[key]}</span>' for lang, texts in TEXTS.items())


EVERY_LANGUAGE_CSS = "".join(
    f'html[lang|="{lang}"] .every-language [lang]:not([lang="{lang}"]) {{ display: none; }}\n'
    for lang in LANGUAGES) + "".join(
    f'html:not([lang|="{lang}"]) .every-language [lang="{lang}"] {{ display: none; }}\n'
    for lang in LANGUAGES if lang != DEFAULT)


# Fonts with Japanese letters for the words the app draws into pictures (PIL's own font has none): Debian's
# fonts-noto-cjk (apt-get install fonts-noto-cjk; .ci/run installs it).
CJK_FONTS = ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
             "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc")


@functools.cache
def picture_font(lang, size=13):
    """A PIL font for words in `lang` drawn into a picture: None (PIL's default) for English; for Japanese, a Noto
    CJK font (its Japanese face), or PIL's default when none is installed (the words then show as boxes)."""
    if lang == DEFAULT:
        return None
    for path in CJK_FONTS:
        if Path(path).exists():
            for index in range(10):  # the collection's faces: the Japanese one
                try:
                    font = ImageFont.truetype(path, size, index=index)
                except OSError:
                    break
                if font.getname()[0].endswith(" JP"):
                    return font
    return None


def every_language(render):
    """HTML with `render(lang)` for every language, each in a span of its `lang`, of which the page shows its own
    (EVERY_LANGUAGE_CSS): for texts with figures laid out with the page, the same for every visitor."""
    return ('<span class="every-language">'
            + "".join(f'<span lang="{lang}">{render(lang)}</span>' for lang in LANGUAGES) + "</span>")


def for_script(*keys):
    """JavaScript that gives a component's script (js_on_load) these texts: `say(key)` in the page's language."""
    table = {lang: {key: TEXTS[lang][key] for key in keys} for lang in LANGUAGES}
    return (f"const TEXTS = {json.dumps(table, ensure_ascii=False)};\n"
            "const say = (key) => (TEXTS[(document.documentElement.lang || 'en').split('-')[0]] || TEXTS.en)[key];\n")


def language_of(request):
    """The visitor's language from an event's gr.Request: the page's `?lang=` (in its Referer), else the browser's
    first language (Accept-Language); English without a request (tests, scripts)."""
    if request is None:
        return DEFAULT
    headers = request.headers
    chosen = parse_qs(urlsplit(headers.get("referer", "")).query).get("lang")
    if chosen and chosen[-1] in TEXTS:
        return chosen[-1]
    first = headers.get("accept-language", "").split(",")[0].split(";")[0].strip().lower()
    return first.split("-")[0] if first.split("-")[0] in TEXTS else DEFAULT
