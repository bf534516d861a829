from collections import Counter

import numpy as np
import pytest
import torch

from cvae.drawn_digits import (
    FORMS,
    MNIST_LIKE_SIDES,
    SKETCH_CANVASES,
    STYLES,
    TEMPLATES,
    make_drawn_digits,
    make_style_digits,
)
from cvae.evaluate import drawn_accuracy_by_style

PER_DIGIT = 4
MODES = {"layer": {"RGBA"}, "composite": {"RGB", "RGBA"}, "photo": {"RGB"}, "mnist_like": {"L"}}


@pytest.fixture(scope="module")
def samples():
    return make_drawn_digits(per_digit=PER_DIGIT, seed=0)


def pixels(sample):
    return np.asarray(sample.image)


def test_same_seed_same_pixels(samples):
    again = make_drawn_digits(per_digit=PER_DIGIT, seed=0)
    for a, b in zip(samples, again, strict=True):
        assert (a.digit, a.form, a.note, a.image.mode, a.image.size) == (b.digit, b.form, b.note, b.image.mode,
                                                                          b.image.size)
        assert np.array_equal(pixels(a), pixels(b))


def test_other_seed_other_drawings(samples):
    other = make_drawn_digits(per_digit=1, seed=1)
    assert [s.note for s in other] != [s.note for s in samples[:10]]


def test_smaller_set_is_a_prefix(samples):
    smaller = make_drawn_digits(per_digit=2, seed=0)
    assert [s.note for s in smaller] == [s.note for s in samples[:20]]


def test_labels_balanced_and_all_forms_present(samples):
    assert Counter(s.digit for s in samples) == {d: PER_DIGIT for d in range(10)}
    forms = Counter(s.form for s in samples)
    assert set(forms) == set(FORMS)
    assert max(forms.values()) - min(forms.values()) <= 10


def test_every_digit_has_several_templates():
    assert all(len(TEMPLATES[d]) >= 2 for d in range(10))


def test_modes_and_sizes(samples):
    sketch_sizes = {size for size, _ in SKETCH_CANVASES}
    for s in samples:
        assert s.image.mode in MODES[s.form], s.note
        if s.form == "mnist_like":
            assert s.image.width == s.image.height and s.image.width in MNIST_LIKE_SIDES, s.note
        else:
            assert s.image.size in sketch_sizes, s.note
        assert f"canvas={s.image.width}x{s.image.height}" in s.note


def test_not_blank_and_ink_as_described(samples):
    for s in samples:
        p = pixels(s).astype(int)
        if s.form == "layer":
            assert (p[..., :3] == 0).all() and p[..., 3].max() == 255, s.note
            assert (p[..., 3] == 0).mean() > 0.5, s.note  # mostly transparent
        elif s.form == "composite":
            grey = p[..., :3].mean(-1)
            assert grey.max() == 255 and grey.min() < 60, s.note
            if s.image.mode == "RGBA":
                assert (p[..., 3] == 255).all(), s.note
        elif s.form == "photo":
            grey = p.mean(-1)
            assert np.percentile(grey, 50) > 150 and grey.min() < np.percentile(grey, 50) - 60, s.note
        else:
            assert np.median(p) < 30 and p.max() > 150, s.note


def test_digit_fully_inside_the_canvas(samples):
    for s in samples:
        if s.form == "layer":
            ink = pixels(s)[..., 3] > 0
        elif s.form == "composite":
            ink = pixels(s)[..., 0] < 255
        else:
            continue
        assert not (ink[0].any() or ink[-1].any() or ink[:, 0].any() or ink[:, -1].any()), s.note


# ---------------------------------------------------------------------------------------------------------------
# The style-balanced set: common ways of writing a digit, measured one by one.

ISSUE_STYLES = ("1/flag", "1/flag_foot", "7/crossbar", "4/open", "9/straight_tail")  # flagged 1, 1 with a base, ...


@pytest.fixture(scope="module")
def styled():
    return make_style_digits(per_style=PER_DIGIT, seed=0)


def test_styles_are_named_variants():
    assert set(ISSUE_STYLES) <= set(STYLES)
    for style in STYLES:
        digit, variant = style.split("/")
        assert variant in TEMPLATES[int(digit)], style


def test_style_set_is_balanced_and_labelled(styled):
    assert Counter(s.note.split()[0] for s in styled) == {style: PER_DIGIT for style in STYLES}
    assert all(s.note.startswith(f"{s.digit}/") for s in styled)
    assert {s.form for s in styled} == set(FORMS)


def test_style_set_same_seed_same_pixels_and_prefix(styled):
    again = make_style_digits(per_style=PER_DIGIT, seed=0)
    for a, b in zip(styled, again, strict=True):
        assert a.note == b.note and np.array_equal(pixels(a), pixels(b))
    assert [s.note for s in make_style_digits(per_style=2, seed=0)] == [s.note for s in styled[:2 * len(STYLES)]]
    assert [s.note for s in make_style_digits(per_style=1, seed=1)] != [s.note for s in styled[:len(STYLES)]]


def test_style_set_is_not_the_drawn_set(styled, samples):
    assert not {s.note for s in styled} & {s.note for s in samples}


class ReadsEverythingAs:
    """A stand-in classifier that reads every image as one digit."""
    device = "cpu"

    def __init__(self, digit):
        self.digit = digit

    def predict_probs(self, x, generator=None):
        return torch.nn.functional.one_hot(torch.full((len(x),), self.digit), 10).float()


def test_accuracy_by_style():
    acc = drawn_accuracy_by_style(ReadsEverythingAs(1), per_style=2, seed=0)
    assert acc == {style: float(style.startswith("1/")) for style in STYLES}
    acc = drawn_accuracy_by_style(ReadsEverythingAs(7), per_style=1, seed=0, styles=["7/plain", "1/stick"])
    assert acc == {"7/plain": 1.0, "1/stick": 0.0}
