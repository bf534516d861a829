"""Model 1's second opinion on the Draw tab without a browser: the answer beside model 2's for digits traced on the
pad and for scribbles, shapes and a letter, and the /second_opinion endpoint's JSON over HTTP."""
import math

import pytest
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError
from PIL import Image

from cvae.models import CVAE
from demo import draw_tab, handlers as h
from digit_strokes import DIGITS, arc, drawing, pad_value, to_pad

# Not digits, as a visitor draws them on the pad (strokes of points in a unit box, as digit_strokes.DIGITS). Best -ELBO
# of the shipped model 1 (threshold 174 nats): zigzag 264, star 263, smiley 315, W 362, hash sign 375. Some slip
# through, as expected: a stick-figure A (146, read as an 8) and a round spiral (81, a 6) look like digits to it.
ZIGZAG = [[(0.05, 0.2), (0.2, 0.8), (0.35, 0.2), (0.5, 0.8), (0.65, 0.2), (0.8, 0.8), (0.95, 0.2)]]
STAR = [[(0.5 + 0.45 * math.cos(math.radians(-90 + 144 * i)), 0.52 + 0.45 * math.sin(math.radians(-90 + 144 * i)))
         for i in range(6)]]
SMILEY = [arc(0.5, 0.5, 0.45, 0.45, 0, 360, 40), arc(0.35, 0.35, 0.04, 0.04, 0, 360, 8),
          arc(0.65, 0.35, 0.04, 0.04, 0, 360, 8), arc(0.5, 0.5, 0.25, 0.25, 30, 150, 12)]
LETTER_W = [[(0.05, 0.1), (0.27, 0.9), (0.5, 0.3), (0.73, 0.9), (0.95, 0.1)]]
HASH = [[(0.35, 0.05), (0.3, 0.95)], [(0.7, 0.05), (0.65, 0.95)], [(0.05, 0.35), (0.95, 0.35)],
        [(0.05, 0.65), (0.95, 0.65)]]
NON_DIGITS = {"zigzag": ZIGZAG, "star": STAR, "smiley": SMILEY, "W": LETTER_W, "hash": HASH}


def drawn(strokes, seq=5):
    value = drawing([to_pad(s) for s in strokes], seq)
    return draw_tab.drawing_of(value)[1]


@pytest.mark.parametrize("digit", sorted(DIGITS))
def test_a_traced_digit_gets_both_models_agreeing_and_no_warning(classifier, generator, digit):
    html, _ = draw_tab.read(classifier, generator, draw_tab.drawing_of(pad_value(digit))[1], "1", "drawing")
    assert f'id="model1-answer">{digit}</b>' in html
    assert f"Both models say {digit}." in html
    assert 'id="not-digit"' not in html and 'id="guess"' not in html
    assert f'<div class="answer-digit" id="answer">{digit}</div>' in html


@pytest.mark.parametrize("name", sorted(NON_DIGITS))
def test_a_scribble_is_not_a_digit_to_model_1_and_model_2_only_guesses(classifier, generator, name):
    html, x = draw_tab.read(classifier, generator, drawn(NON_DIGITS[name]), "5", "drawing")
    assert x is not None
    assert 'id="not-digit"' in html and "doesn't look like a digit to model 1" in html
    assert 'id="guess"' in html and 'class="answer-digit guess" id="answer"' in html  # model 2's answer stays
    assert 'id="model1-answer"' in html and 'id="seen"' in html


def test_a_generator_without_a_threshold_gives_no_verdict_and_says_so(classifier, generator):
    untrained = CVAE("generator", "conv", z_dim=generator.z_dim).eval()  # no metadata, so no threshold
    html, _ = draw_tab.read(classifier, untrained, drawn(ZIGZAG), "5", "drawing")
    assert 'id="no-threshold"' in html and 'id="not-digit"' not in html and 'id="guess"' not in html
    assert 'id="model1-answer"' in html


def test_the_json_for_scripts(classifier, generator):
    out = draw_tab.second_opinion_json(classifier, generator, drawn(ZIGZAG))
    assert out["is_digit"] is False and out["best_neg_elbo"] > out["threshold"]
    digit = draw_tab.second_opinion_json(classifier, generator, draw_tab.drawing_of(pad_value(7))[1])
    assert digit["is_digit"] is True and digit["model1_digit"] == digit["model2_digit"] == 7 and digit["agree"]
    assert set(digit["model1_probs"]) == set(digit["neg_elbo"]) == set(digit["model2_probs"]) == set("0123456789")
    assert sum(digit["model1_probs"].values()) == pytest.approx(1, abs=1e-5)
    assert min(digit["neg_elbo"], key=digit["neg_elbo"].get) == "7"
    with pytest.raises(h.InputError, match="blank"):
        draw_tab.second_opinion_json(classifier, generator, Image.new("RGB", (100, 100), "white"))


@pytest.fixture(scope="module")
def client(served_app):
    return Client(served_app[0], verbose=False)


def test_the_endpoint_over_http(client, tmp_path):
    pad_picture = lambda strokes: Image.eval(drawn(strokes), lambda v: 255 - v)  # noqa: E731  dark ink on white
    pad_picture(ZIGZAG).save(tmp_path / "zigzag.png")
    pad_picture(DIGITS[3]).save(tmp_path / "three.png")
    out = client.predict(handle_file(str(tmp_path / "zigzag.png")), api_name="/second_opinion")
    assert out["is_digit"] is False and isinstance(out["threshold"], float)
    assert set(out["model1_probs"]) == set(out["neg_elbo"]) == set(out["model2_probs"]) == set("0123456789")
    assert all(isinstance(v, float) for v in out["neg_elbo"].values())
    three = client.predict(handle_file(str(tmp_path / "three.png")), api_name="/second_opinion")
    assert three["is_digit"] is True and three["model1_digit"] == three["model2_digit"] == 3
    assert max(three["model1_probs"], key=three["model1_probs"].get) == "3"
    assert max(three["model2_probs"], key=three["model2_probs"].get) == "3"
    Image.new("RGB", (200, 200), "white").save(tmp_path / "blank.png")
    with pytest.raises(AppError, match="blank"):
        client.predict(handle_file(str(tmp_path / "blank.png")), api_name="/second_opinion")
