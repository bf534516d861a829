"""Training images of common ways of writing digits that MNIST has few of: a 1 with a flag or a base, a crossed 7,
an open 4, a 9 with a straight stem, and a few more (a hooked 7, a closed 4, a 2 with a loop, ...).

The classifier misread a continental (flagged) 1 as a 7; these images, appended to MNIST in training, teach it
the styles. They are drawn from stroke templates of their own, written apart from the test set's
(cvae.drawn_digits.TEMPLATES, which must stay a test set): every template here is a function of random
parameters (flag length and angle, where a crossbar sits, how wide a 4 is open, ...), so each image has its own
shape, which is then slanted, rotated, stretched, wobbled (the drawn set's rendering helpers), drawn with a random
brush on a small canvas with noise, and brought to 28 x 28 by `to_mnist_image`, as a drawing in the app is.

    from cvae.style_data import style_digits
    x, y = style_digits(6000, seed=0)   # x: (6000, 784) float in [0, 1], y: (6000,) long, digits taking turns
"""
import numpy as np
import torch

from .drawn_digits import _handwritten, _place, curve, join, line, oval, render_strokes
from .preprocess import to_mnist_image

# ---------------------------------------------------------------------------------------------------------------
# Templates: f(u) -> strokes, where u(lo, hi) is a random number in [lo, hi) (the midpoint for the nominal shape).
# Points are (x, y), y down, the digit about 1 tall and 0.6 wide, as in cvae.drawn_digits.


def _along(a, b, t):
    return (a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1]))


def one_flag(u, base=False, flag=True):
    top = (u(0.26, 0.4), u(0.0, 0.03))
    foot = (top[0] + u(-0.08, 0.04), 1.0)
    strokes = [line(top, foot)]
    if flag:
        # Steeper and shorter than a 7's top bar: that is what tells them apart.
        length, angle = u(0.18, 0.45), np.radians(u(33, 65))
        start = (top[0] - length * np.cos(angle), top[1] + length * np.sin(angle))
        bow = u(-0.04, 0.03)  # the flag is often a little curved
        mid = _along(start, top, 0.5)
        mid = (mid[0] - bow * np.sin(angle), mid[1] - bow * np.cos(angle))
        strokes = [join(curve(start, mid, top, samples=8), strokes[0])]
    if base:
        left, right = u(0.12, 0.3), u(0.12, 0.3)
        strokes.append(line((foot[0] - left, 1.0 + u(-0.02, 0.02)), (foot[0] + right, 1.0 + u(-0.02, 0.02))))
    return strokes


def one_stick(u):
    top, foot = (u(0.25, 0.4), 0.0), (u(0.2, 0.35), 1.0)
    return [curve(top, (_along(top, foot, 0.5)[0] + u(-0.03, 0.03), 0.5), foot)]


def seven(u, cross=False, hook=False, curved=False):
    left = (u(0.0, 0.08), u(0.02, 0.1))
    right = (u(0.5, 0.68), left[1] - u(-0.05, 0.09))  # the bar about level, often rising a little
    foot = (u(0.12, 0.36), 1.0)
    if curved:  # the stem bowed out to the right, as many write it in one sweep
        mid = _along(right, foot, 0.45)
        stem = curve(right, (mid[0] + u(0.02, 0.07), mid[1]), foot)
    else:
        stem = line(right, foot)
    bar = line(left, right)
    if hook:  # a short down-stroke before the bar
        bar = line((left[0] + u(-0.02, 0.03), left[1] + u(0.09, 0.22)), left, right)
    strokes = [join(bar, stem)]
    if cross:
        centre = _along(right, foot, u(0.38, 0.58))
        half, tilt = u(0.12, 0.24), u(-0.04, 0.04)
        strokes.append(line((centre[0] - half * u(0.8, 1.2), centre[1] + tilt), (centre[0] + half, centre[1] - tilt)))
    return strokes


def four(u, closed=False, slanted=False):
    bar_y = u(0.52, 0.7)
    stem_x = u(0.4, 0.52)
    end = (u(0.6, 0.74), bar_y + u(-0.05, 0.02))
    if closed:  # the diagonal starts at the top of the stem
        top = (stem_x + u(-0.03, 0.02), 0.0)
        return [line(top, (u(0.0, 0.06), bar_y), end), line((top[0] + u(-0.02, 0.02), top[1]), (stem_x, 1.0))]
    if slanted:
        top = (u(0.18, 0.32), 0.0)
        corner = (u(0.0, 0.06), bar_y)
    else:
        top = (u(0.04, 0.14), 0.0)
        corner = (top[0] + u(-0.06, 0.01), bar_y)
    stem = line((stem_x + u(-0.02, 0.04), u(0.0, 0.28)), (stem_x + u(-0.05, 0.02), 1.0))
    return [line(top, corner, end), stem]


def nine(u, tail="straight", two_strokes=False):
    rx, ry = u(0.2, 0.3), u(0.17, 0.25)
    cx, cy = 0.32, ry
    side = (cx + rx, cy)  # the stem comes down from the loop's right side
    foot_x = side[0] + u(-0.1, 0.03)
    if tail == "straight":
        stem = line(side, (foot_x, 1.0))
    else:  # curling to the left at the bottom
        stem = curve(side, (side[0] - u(0.0, 0.03), 0.6), (foot_x - u(0.02, 0.08), 0.9), (foot_x - u(0.2, 0.35), 1.0))
    loop = oval(cx, cy, rx, ry, start_deg=u(-5, 25), sweep_deg=u(345, 375), samples=40)
    if two_strokes:
        return [oval(cx, cy, rx, ry, start_deg=u(60, 120), sweep_deg=u(355, 380), samples=40),
                line((side[0] + u(-0.02, 0.02), cy - ry * u(0.4, 0.9)), (foot_x, 1.0))]
    return [join(loop, stem)]


def zero(u):
    rx = u(0.2, 0.32)
    return [oval(0.32, 0.5, rx, 0.5, start_deg=u(70, 110), sweep_deg=u(350, 385), samples=48)]


def two(u, loop=False):
    start = (u(0.02, 0.1), u(0.15, 0.3))
    arch = [start, (u(0.22, 0.32), 0.0), (u(0.5, 0.6), u(0.1, 0.2))]
    corner = (u(0.0, 0.06), 1.0)
    end = (u(0.58, 0.7), 1.0 + u(-0.04, 0.01))
    if loop:  # a small loop where the diagonal meets the base
        r = u(0.06, 0.1)
        return [join(curve(*arch, (u(0.28, 0.4), 0.58), (corner[0] + r, 1.0 - r), (corner[0] + 2 * r, 1.0 - 2 * r),
                           (corner[0] + 2.5 * r, 1.0 - r), (corner[0] + r, 1.0), (end[0] * 0.5, 0.99)),
                     line((end[0] * 0.5, 0.99), end))]
    return [join(curve(*arch, (u(0.3, 0.42), 0.55), corner), line(corner, end))]


def three(u, flat=False):
    waist = (u(0.18, 0.3), u(0.42, 0.52))
    lower = curve(waist, (u(0.52, 0.62), u(0.62, 0.72)), (u(0.38, 0.5), u(0.94, 1.0)), (u(0.0, 0.08), u(0.84, 0.94)))
    if flat:  # a flat top and a diagonal down to the waist
        upper = line((u(0.02, 0.1), 0.0), (u(0.56, 0.66), u(-0.02, 0.03)), waist)
    else:
        upper = curve((u(0.0, 0.08), u(0.1, 0.2)), (u(0.28, 0.36), 0.0), (u(0.5, 0.6), u(0.16, 0.24)), waist)
    return [join(upper, lower)]


def five(u):
    corner = (u(0.06, 0.14), 0.0)
    belly_top = (corner[0] + u(-0.05, 0.0), u(0.4, 0.5))
    belly = curve(belly_top, (u(0.4, 0.5), u(0.38, 0.46)), (u(0.58, 0.66), u(0.68, 0.76)), (u(0.36, 0.46), 1.0),
                  (u(0.0, 0.08), u(0.88, 0.96)))
    return [join(line(corner, belly_top), belly), line(corner, (u(0.56, 0.68), u(-0.03, 0.02)))]


def six(u):
    return [curve((u(0.5, 0.6), 0.0), (u(0.16, 0.26), u(0.28, 0.38)), (u(0.02, 0.1), u(0.7, 0.8)),
                  (u(0.28, 0.36), 1.0), (u(0.54, 0.62), u(0.74, 0.82)), (u(0.32, 0.4), u(0.52, 0.6)),
                  (u(0.06, 0.14), u(0.66, 0.74)))]


def eight(u, two_loops=False):
    if two_loops:
        return [oval(0.32, 0.24, u(0.16, 0.22), 0.24, start_deg=u(-100, -60), sweep_deg=u(355, 375), samples=32),
                oval(0.32, 0.73, u(0.22, 0.3), 0.27, start_deg=u(70, 110), sweep_deg=u(355, 375), samples=40)]
    return [curve((u(0.5, 0.58), u(0.08, 0.16)), (0.32, 0.0), (u(0.08, 0.14), u(0.18, 0.26)), (0.32, 0.47),
                  (u(0.56, 0.64), u(0.72, 0.8)), (0.32, 1.0), (u(0.02, 0.1), u(0.74, 0.82)), (0.32, 0.5),
                  (u(0.52, 0.6), u(0.2, 0.28)), (u(0.5, 0.58), u(0.08, 0.14)))]


# digit -> {variant: (template, weight)}; the weights favour the styles the classifier misreads.
TRAINING_TEMPLATES = {
    0: {"oval": (zero, 1)},
    1: {"flag": (one_flag, 5), "flag_base": (lambda u: one_flag(u, base=True), 3),
        "base": (lambda u: one_flag(u, base=True, flag=False), 1), "stick": (one_stick, 1)},
    2: {"plain": (two, 1), "loop": (lambda u: two(u, loop=True), 1)},
    3: {"round": (three, 1), "flat_top": (lambda u: three(u, flat=True), 1)},
    4: {"open": (four, 3), "open_slanted": (lambda u: four(u, slanted=True), 2),
        "closed": (lambda u: four(u, closed=True), 2)},
    5: {"plain": (five, 1)},
    6: {"plain": (six, 1)},
    7: {"plain": (seven, 2), "crossbar": (lambda u: seven(u, cross=True), 3),
        "hook": (lambda u: seven(u, hook=True), 2),
        "crossbar_hook": (lambda u: seven(u, cross=True, hook=True), 1),
        "curved": (lambda u: seven(u, curved=True), 1)},
    8: {"one_stroke": (eight, 1), "two_loops": (lambda u: eight(u, two_loops=True), 1)},
    9: {"straight": (nine, 3), "straight_two_strokes": (lambda u: nine(u, two_strokes=True), 1),
        "curved_tail": (lambda u: nine(u, tail="curved"), 1)},
}


def nominal(digit, variant):
    """The template's strokes with every random parameter at the middle of its range."""
    return TRAINING_TEMPLATES[digit][variant][0](lambda lo, hi: (lo + hi) / 2)


# ---------------------------------------------------------------------------------------------------------------

def style_drawing(digit, rng, variant=None):
    """One 28 x 28 training image of `digit` ((28, 28) float in [0, 1]) and the variant it was drawn from."""
    variants = TRAINING_TEMPLATES[digit]
    if variant is None:
        names = list(variants)
        weights = np.array([variants[name][1] for name in names], dtype=float)
        variant = names[rng.choice(len(names), p=weights / weights.sum())]
    strokes = variants[variant][0](rng.uniform)
    side = int(rng.integers(112, 201))
    brush = np.exp(rng.uniform(np.log(0.05), np.log(0.16)))  # of the digit's height: a pen to a fat marker
    placed, width, _ = _place(_handwritten(strokes, rng), rng, (side, side), (0.4, 0.9), np.inf, brush)
    ink = np.asarray(render_strokes(placed, side, width, supersample=2), dtype=np.float32) / 255
    background, level = rng.uniform(0.0, 0.12), rng.uniform(0.7, 1.0)
    image = background + ink * (level - background) + rng.normal(0, rng.uniform(0.0, 0.05), ink.shape)
    image = np.clip(image, 0, 1)
    if rng.random() < 0.5:  # dark ink on paper goes through the other path of `ink_map`
        image = 1 - image
    return to_mnist_image(image), variant


def style_digits(n: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """`n` training images: x (n, 784) float in [0, 1], y (n,) long, the digits taking turns (y[i] = i % 10).

    Image i depends only on (seed, i), so a smaller `n` gives a prefix of a larger one.
    """
    x = torch.zeros(n, 784)
    for i in range(n):
        image, _ = style_drawing(i % 10, np.random.default_rng([seed, i]))
        x[i] = image.reshape(784)
    return x, torch.arange(n) % 10
