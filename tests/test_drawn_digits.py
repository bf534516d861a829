from collections import Counter

import numpy as np
import pytest

from cvae.drawn_digits import FORMS, MNIST_LIKE_SIDES, SKETCH_CANVASES, TEMPLATES, make_drawn_digits

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
