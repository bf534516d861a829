"""The texts (demo/lang/LANG.json, read by demo/texts.py): each language is one JSON file of texts only; both languages
have the same keys and the same placeholders; the texts the page translates itself (static) have none; every message
a handler shows a visitor comes from the files; the visitor's language is told from the page's ?lang= (the Referer of
its events) or the browser's language."""
import ast
import json
import re
import string
from pathlib import Path
from types import SimpleNamespace

import pytest

from demo import handlers as h
from demo.texts import (EN, JA, LANG_DIR, LANGUAGES, TEXTS, every_language, in_every_language, language_of,
                        picture_font, say, static)

DEMO = Path(__file__).resolve().parent.parent / "demo"
# Messages for API callers only, in English as the API is (the page cannot send these values: its sliders, radios
# and pad keep within them): the checks of digits, z, sizes, seeds and counts, and /train's state.
API_ONLY = {("handlers.py", f) for f in ("check_digit", "check_z", "parse_z_text", "check_size", "check_seed",
                                         "check_count")} | {("api.py", "*")}


def placeholders(text):
    return sorted(name for _, name, _, _ in string.Formatter().parse(text) if name is not None)


def no_repeated_keys(pairs):
    """json.loads keeps the last of a repeated key without a word: here it is an error."""
    keys = [key for key, _ in pairs]
    assert len(keys) == len(set(keys)), sorted({key for key in keys if keys.count(key) > 1})
    return dict(pairs)


def test_each_language_is_one_json_file_of_texts_only():
    assert sorted(path.name for path in LANG_DIR.iterdir()) == sorted(f"{lang}.json" for lang in LANGUAGES)
    for lang in LANGUAGES:
        table = json.loads((LANG_DIR / f"{lang}.json").read_text(encoding="utf-8"), object_pairs_hook=no_repeated_keys)
        assert isinstance(table, dict) and table, lang
        assert all(isinstance(key, str) and isinstance(text, str) for key, text in table.items()), lang
        assert table == TEXTS[lang], lang


def test_both_languages_have_the_same_keys_and_placeholders():
    assert set(EN) == set(JA)
    for key in EN:
        assert placeholders(EN[key]) == placeholders(JA[key]), key
        assert JA[key].strip(), key


def test_the_japanese_is_japanese_and_uses_the_write_ups_words():
    japanese = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
    # Texts that are names or figures in both languages
    same = {key for key in EN if EN[key] == JA[key]}
    assert same <= {"budget_30s"} | set(), same  # none but names and figures
    wordless = {key for key in EN if not re.search(r"[A-Za-z]{2,}", re.sub(r"\{[^}]*\}", "", EN[key]))}
    untranslated = [key for key in EN if key not in same | wordless and not japanese.search(JA[key])]
    assert not untranslated
    words = " ".join(JA.values())
    for term in ("生成モデル1", "生成モデル2", "潜在変数 z", "手書き文字画像", "再構成画像", "標準正規分布",
                 "ベルヌーイ分布", "カテゴリカル分布", "予測器", "精度", "エポック", "ELBO"):
        assert term in words, term


def static_keys():
    """Every key the demo's modules pass to static(...)."""
    keys = set()
    for path in DEMO.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "static" and node.args:
                arg = node.args[0]
                if isinstance(arg, ast.Constant):
                    keys.add(arg.value)
                elif isinstance(arg, ast.JoinedStr):  # f"kind_{k}": every key it can be
                    prefix = arg.values[0].value if isinstance(arg.values[0], ast.Constant) else ""
                    keys |= {k for k in EN if k.startswith(prefix)}
    return keys


def test_static_texts_exist_and_have_no_placeholders():
    """The page's i18n reads static texts as ICU messages: a placeholder or a brace would be taken for a variable."""
    keys = static_keys()
    assert {"intro", "tab_generate", "draw_help", "start_training", "explore_help"} <= keys
    for key in keys:
        assert key in EN, key
        for lang in TEXTS:
            assert "{" not in TEXTS[lang][key] and "}" not in TEXTS[lang][key], (lang, key)
    with pytest.raises(KeyError):
        static("no such text")


def literal_messages():
    """(module, function, line) of every message a visitor can be shown that is written out in the code rather than
    looked up in the table: a string or f-string given to InputError(...), gr.Info/Warning/Error(...)."""
    found = []

    def visit(node, module, function):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and function == "*":
            function = node.name  # the module-level function (handlers inside build() count as build's)
        if isinstance(node, ast.Call) and node.args:
            callee = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            written = isinstance(node.args[0], (ast.Constant, ast.JoinedStr, ast.BinOp, ast.Name))
            if callee in ("InputError", "Info", "Warning", "Error") and written \
                    and not {(module, function), (module, "*")} & API_ONLY and (module, function) != ("handlers.py", "of"):
                found.append((module, function, node.lineno))
        for child in ast.iter_child_nodes(node):
            visit(child, module, function)

    for path in DEMO.glob("*.py"):
        visit(ast.parse(path.read_text()), path.name, "*")
    return sorted(found)


def test_every_message_a_visitor_sees_is_in_the_table():
    assert literal_messages() == []


def test_messages_in_the_visitors_language():
    error = h.InputError.of("not_a_drawing_because", reason=("drawing_brush", {"brush": 200}))
    assert error.message == "The drawing could not be read (the brush must be at most 200 px wide); clear the pad " \
                            "and draw again."
    assert error.in_language("ja") == "手書き文字画像を読み取れませんでした（ブラシの幅は 200 px までです）。" \
                                      "パッドを消して描き直してください。"
    with pytest.raises(h.InputError) as raised, h.said_in("ja"):
        raise h.InputError.of("draw_first")
    assert raised.value.message == JA["draw_first"]
    with pytest.raises(h.InputError) as raised, h.said_in("en"):
        raise h.InputError.of("draw_first")
    assert raised.value.message == EN["draw_first"]
    assert say("fr", "draw_first") == EN["draw_first"]  # another language: English


def request(**headers):
    return SimpleNamespace(headers=headers)


def test_the_visitors_language_from_the_page_or_the_browser():
    assert language_of(None) == "en"
    assert language_of(request(**{"accept-language": "ja-JP,ja;q=0.9,en;q=0.8"})) == "ja"
    assert language_of(request(**{"accept-language": "fr-FR,ja;q=0.5"})) == "en"
    assert language_of(request()) == "en"
    # The page's ?lang= (in its events' Referer) wins over the browser's language, both ways.
    assert language_of(request(referer="http://host/?lang=en&digit=3", **{"accept-language": "ja"})) == "en"
    assert language_of(request(referer="http://host/?digit=3&lang=ja", **{"accept-language": "en-US"})) == "ja"
    assert language_of(request(referer="http://host/?lang=xx", **{"accept-language": "ja"})) == "ja"


def test_texts_in_every_language_and_a_font_for_japanese_pictures():
    assert in_every_language("download_png") == ('<span lang="en">Download PNG</span>'
                                                 '<span lang="ja">PNGをダウンロード</span>')
    assert every_language(lambda lang: say(lang, "both_say", digit=3)).count('lang="') == 2
    assert picture_font("en") is None
    font = picture_font("ja")
    if font is None:
        pytest.skip("no Japanese font installed (apt-get install fonts-noto-cjk)")
    assert font.getname()[0].endswith("JP") and font.getbbox("生成モデル")[2] > 40


def test_the_loss_curves_are_named_in_the_visitors_language_and_keep_their_colours():
    from demo import train_tab
    snap = SimpleNamespace(tests=[{"step": 5, "test_loss": 1.0}], losses=[(1, 2.0), (5, 1.5)],
                           terms=[(1, 0.5, 1.5), (5, 0.4, 1.1)])
    curves = ("train", "test", "kl", "reconstruction")
    for lang, names in (("en", {EN[f"curve_{c}"] for c in curves}), ("ja", {JA[f"curve_{c}"] for c in curves})):
        frame = train_tab.loss_frame(snap, lang)
        assert set(frame["curve"]) == names == set(train_tab.curve_colours(lang))
    assert train_tab.curve_colours("ja")[JA["curve_train"]] == train_tab.CURVE_COLOURS["train"]
