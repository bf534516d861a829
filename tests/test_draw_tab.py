"""The Draw tab's handlers without a browser: the pad's value (strokes) into a picture, the answer as the page shows
it, bad pad values, and the request the page sends, over HTTP."""
import base64
import io
import json
import time
import uuid

import httpx
import numpy as np
import pytest
from PIL import Image

from demo import draw_tab, handlers as h
from digit_strokes import DIGITS, drawing, pad_value


def inline_picture(html, element_id):
    """The PNG that the answer's <img id=element_id> carries inline, as an array."""
    src = html.split(f'id="{element_id}" src="', 1)[1].split('"', 1)[0]
    assert src.startswith("data:image/png;base64,")
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(src.split(",", 1)[1]))))


@pytest.mark.parametrize("digit", sorted(DIGITS))
def test_each_traced_digit_is_read_as_itself(classifier, generator, digit):
    about, image = draw_tab.drawing_of(pad_value(digit, seq=12))
    assert about == "12" and image.mode == "L" and image.size == (draw_tab.RENDER_SIZE,) * 2
    html, x = draw_tab.read(classifier, generator, image, about, "drawing")
    assert 'data-about="12"' in html and f'<div class="answer-digit" id="answer">{digit}</div>' in html
    assert x.shape == (28, 28)
    seen = inline_picture(html, "seen")
    assert seen.shape == (28, 28) and np.abs(seen / 255 - x.numpy()).max() <= 1 / 255  # exactly what model 2 saw
    assert inline_picture(html, "style").shape == (32, 10 * 30 + 2)  # the style as all ten digits


def test_strokes_are_drawn_where_they_are_and_clamped_to_the_pad():
    value = drawing([[[280, 100], [280, 460]]], seq=3)
    ink = np.asarray(draw_tab.drawing_of(value)[1]) > 128
    columns = np.flatnonzero(ink.any(0))
    assert abs(columns.mean() - 140) < 1 and 9 <= len(columns) <= 13  # x = 280 of 560, an 11 px brush at 280
    rows = np.flatnonzero(ink.any(1))
    assert abs(rows.min() - 45) <= 6 and abs(rows.max() - 235) <= 6
    outside = drawing([[[-500, -500], [9000, 9000]]], seq=4)
    assert np.asarray(draw_tab.drawing_of(outside)[1]).max() == 255  # drawn along the diagonal, not refused


def test_an_empty_pad_asks_for_a_digit_and_a_dot_says_so(classifier, generator):
    about, image = draw_tab.drawing_of(drawing([], seq=8))
    assert (about, image) == ("8", None)
    html, x = draw_tab.read(classifier, generator, image, about, "drawing")
    assert x is None and 'data-about="8"' in html and h.BLANK_MESSAGE in html and 'id="answer"' not in html
    assert draw_tab.drawing_of(None) == ("0", None)
    dot = drawing([[[280, 280]]], seq=9)
    html, x = draw_tab.read(classifier, generator, draw_tab.drawing_of(dot)[1], "9", "drawing")
    assert x is None and "only a dot" in html and 'data-about="9"' in html


@pytest.mark.parametrize("value", [
    "strokes", 7, [], {"seq": 1}, {"seq": "1", "size": [560, 560], "brush": 22, "strokes": ""},
    {"seq": True, "size": [560, 560], "brush": 22, "strokes": ""},
    {"seq": 1, "size": [0, 560], "brush": 22, "strokes": ""},
    {"seq": 1, "size": [560, 560], "brush": float("nan"), "strokes": ""},
    *({"seq": 1, "size": [560, 560], "brush": 22, "strokes": strokes} for strokes in [
        [[[1, 2]]], None, "1,inf", "1,2,3", "1,2 ", "1,2;", ";", "1.5,2", "1,2 3", "1, 2", "1,2\n", "１,2",
        "123456,1", ";".join(["1,2"] * (draw_tab.MAX_STROKES + 1)), " ".join(["1,2"] * (draw_tab.MAX_POINTS + 1)),
        "1" * (draw_tab.MAX_STROKES_CHARS + 1)]),
])
def test_a_pad_value_that_is_not_a_drawing_is_refused_with_a_message(value):
    with pytest.raises(h.InputError, match="drawing could not be read"):
        draw_tab.drawing_of(value)


def test_the_answer_escapes_what_it_shows():
    html = draw_tab.reading_html('"><script>', message="<b>x</b>")
    assert "<script>" not in html and "<b>" not in html and 'data-about="&quot;&gt;&lt;script&gt;"' in html


def test_the_page_request_is_one_post_and_answers_about_the_drawing_sent(served_app):
    """What the page sends after a stroke, as it sends it (queue=False: POST /run/read_drawing), and its answer;
    bad values get an answer that says so, and the server serves on."""
    url = served_app[0].rstrip("/")
    with httpx.Client(timeout=30) as http:
        config = http.get(f"{url}/config").json()
        dependency = next(d for d in config["dependencies"] if d.get("api_name") == "read_drawing")
        assert dependency["queue"] is False

        def send(value):
            body = {"data": [None, value], "fn_index": dependency["id"], "session_hash": uuid.uuid4().hex[:10]}
            start = time.perf_counter()
            r = http.post(f"{url}/gradio_api/run/read_drawing", content=json.dumps(body),
                          headers={"content-type": "application/json"})
            return r, time.perf_counter() - start

        r, _ = send(pad_value(5, seq=41))
        assert r.status_code == 200
        reading = r.json()["data"][0]
        assert 'data-about="41"' in reading and 'id="answer">5<' in reading
        r, _ = send({"seq": 42, "size": [560, 560], "brush": 22, "strokes": "1,2 1,NaN"})
        assert r.status_code == 200 and "could not be read" in r.json()["data"][0]
        r, _ = send(pad_value(2, seq=43))
        assert 'id="answer">2<' in r.json()["data"][0]
