"""Hand-drawn-looking digits that are not MNIST, for testing and tuning on what people really draw.

A classifier (and the preprocessing in front of it) that scores well on MNIST can still fail on a digit drawn in
a web sketchpad or photographed on paper: the digit is small or huge, off-centre, slanted, drawn with a thin or
a fat brush, given as a transparent layer, dark ink on white, or a greyish photo. This module renders such
inputs from hand-designed stroke templates (2-3 ways of writing each digit), so that code can be checked and
tuned against them without any real user data. Everything is deterministic for a given seed.

    from cvae.drawn_digits import make_drawn_digits
    for sample in make_drawn_digits(per_digit=30, seed=0):
        sample.image, sample.digit, sample.form, sample.note

`make_style_digits(per_style=30)` draws the same number of each common style in STYLES (a flagged 1, a crossed 7,
an open 4, ...), so that accuracy can be measured per style.

Ink forms (spread evenly over the set):
  "layer"      RGBA, black ink (0, 0, 0, alpha) with anti-aliased alpha on a fully transparent background,
               as Gradio's Sketchpad gives a layer;
  "composite"  dark ink on white, RGB or opaque RGBA;
  "photo"      RGB photo/scan of pen on paper: off-white paper with a brightness gradient, noise, blue or black
               ink of uneven darkness, blurred and JPEG-compressed;
  "mnist_like" "L" image, light ink on a dark background, 28x28 up to 200x200.
"""
import io
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

FORMS = ("layer", "composite", "photo", "mnist_like")
SKETCH_CANVASES = [((800, 800), 0.55), ((400, 400), 0.15), ((600, 300), 0.15), ((1000, 1000), 0.15)]
MNIST_LIKE_SIDES = (28, 28, 28, 56, 64, 100, 128, 200)


@dataclass
class DrawnDigit:
    image: Image.Image  # the input as a user would supply it (see the ink forms above)
    digit: int          # 0..9, the true label
    form: str           # one of FORMS
    note: str           # how it was drawn, e.g. "7/crossbar slant=+12deg rot=-3deg size=0.60 width=18px ..."


# ---------------------------------------------------------------------------------------------------------------
# Stroke templates. Points are (x, y) with y pointing down, the digit about 1 tall and 0.6 wide. A template is a
# list of strokes (pen down .. pen up), each an (N, 2) array; curves are centripetal Catmull-Rom splines through
# the given points, sampled densely.

def line(*points):
    return np.array(points, dtype=float)


def curve(*points, samples=12):
    """A smooth curve through `points` (centripetal Catmull-Rom, so it neither overshoots nor forms cusps)."""
    p = np.array(points, dtype=float)
    p = np.vstack([2 * p[0] - p[1], p, 2 * p[-1] - p[-2]])
    pieces = [_catmull_rom(*p[i - 1:i + 3], samples) for i in range(1, len(p) - 2)]
    return np.vstack(pieces + [p[-2:-1]])


def _catmull_rom(p0, p1, p2, p3, samples):
    def knot(t, a, b):
        return t + max(np.hypot(*(b - a)), 1e-6) ** 0.5
    t0 = 0.0
    t1 = knot(t0, p0, p1)
    t2 = knot(t1, p1, p2)
    t3 = knot(t2, p2, p3)
    t = np.linspace(t1, t2, samples, endpoint=False)[:, None]
    a1 = ((t1 - t) * p0 + (t - t0) * p1) / (t1 - t0)
    a2 = ((t2 - t) * p1 + (t - t1) * p2) / (t2 - t1)
    a3 = ((t3 - t) * p2 + (t - t2) * p3) / (t3 - t2)
    b1 = ((t2 - t) * a1 + (t - t0) * a2) / (t2 - t0)
    b2 = ((t3 - t) * a2 + (t - t1) * a3) / (t3 - t1)
    return ((t2 - t) * b1 + (t - t1) * b2) / (t2 - t1)


def oval(cx, cy, rx, ry, start_deg=90, sweep_deg=360, samples=72):
    """An ellipse arc, counter-clockwise as seen on screen, starting at `start_deg` (90 = top)."""
    t = np.radians(start_deg + np.linspace(0, sweep_deg, samples))
    return np.column_stack([cx + rx * np.cos(t), cy - ry * np.sin(t)])


def join(*parts):
    """One stroke made of several pieces, each starting where the previous one ends."""
    return np.vstack([parts[0]] + [part[1:] for part in parts[1:]])


NINE_LOOP = curve((0.56, 0.14), (0.34, 0.01), (0.1, 0.08), (0.04, 0.3), (0.2, 0.46), (0.45, 0.4), (0.56, 0.22),
                  (0.57, 0.1))
SEVEN_STEM = curve((0.62, 0.04), (0.45, 0.38), (0.33, 0.7), (0.28, 1.0))

# Common ways of writing a digit that an MNIST-trained classifier tends to misread; each is a variant below, and
# `make_style_digits` draws the same number of each.
STYLES = {
    "1/flag": "a 1 with a flag (continental)",
    "1/flag_foot": "a 1 with a flag and a base",
    "7/crossbar": "a crossed 7",
    "4/open": "an open 4 (the top not closed)",
    "4/open_slanted": "an open 4 with a slanted first stroke",
    "9/straight_tail": "a 9 with a straight stem",
}

TEMPLATES = {
    0: {
        "oval": [curve((0.36, 0.02), (0.12, 0.12), (0.02, 0.5), (0.12, 0.88), (0.32, 1.0), (0.52, 0.86),
                       (0.6, 0.46), (0.5, 0.1), (0.3, 0.03), (0.2, 0.09))],
        "tilted": [curve((0.5, 0.03), (0.24, 0.1), (0.06, 0.48), (0.08, 0.88), (0.22, 1.0), (0.42, 0.88),
                         (0.58, 0.42), (0.56, 0.1), (0.44, 0.02), (0.34, 0.06))],
        "open": [curve((0.44, 0.08), (0.22, 0.04), (0.04, 0.36), (0.08, 0.82), (0.3, 1.0), (0.54, 0.84),
                       (0.6, 0.44), (0.54, 0.16))],
    },
    1: {
        "stick": [line((0.08, 0.0), (0.0, 1.0))],
        "flag": [join(curve((0.0, 0.26), (0.12, 0.14), (0.26, 0.0)), line((0.26, 0.0), (0.24, 1.0)))],
        "flag_foot": [join(curve((0.0, 0.24), (0.13, 0.13), (0.27, 0.0)), line((0.27, 0.0), (0.26, 0.98))),
                      line((0.04, 1.0), (0.5, 0.99))],
    },
    2: {
        "plain": [join(curve((0.04, 0.24), (0.18, 0.05), (0.38, 0.0), (0.56, 0.12), (0.56, 0.34), (0.36, 0.6),
                             (0.04, 0.97)), line((0.04, 0.97), (0.64, 0.95)))],
        "loop": [join(curve((0.04, 0.22), (0.2, 0.04), (0.42, 0.01), (0.56, 0.16), (0.52, 0.38), (0.3, 0.64),
                            (0.1, 0.86), (0.06, 0.98), (0.18, 0.98), (0.2, 0.86), (0.1, 0.84), (0.2, 0.96),
                            (0.4, 0.99), (0.66, 0.95)))],
        "z_like": [join(curve((0.04, 0.2), (0.22, 0.02), (0.46, 0.03), (0.56, 0.22), (0.46, 0.44)),
                        line((0.46, 0.44), (0.04, 0.98), (0.62, 0.97)))],
    },
    3: {
        "round": [join(curve((0.04, 0.14), (0.24, 0.01), (0.48, 0.05), (0.52, 0.25), (0.24, 0.46)),
                       curve((0.24, 0.46), (0.5, 0.55), (0.58, 0.78), (0.4, 0.97), (0.16, 0.99), (0.02, 0.86)))],
        "flat_top": [join(line((0.04, 0.02), (0.56, 0.02), (0.24, 0.4)),
                          curve((0.24, 0.4), (0.5, 0.48), (0.6, 0.74), (0.42, 0.97), (0.16, 0.99), (0.02, 0.86)))],
    },
    4: {
        "open": [line((0.1, 0.0), (0.04, 0.62), (0.66, 0.6)), line((0.5, 0.02), (0.48, 1.0))],
        "closed": [line((0.46, 0.0), (0.02, 0.66), (0.66, 0.66)), line((0.46, 0.0), (0.46, 1.0))],
        "open_slanted": [line((0.26, 0.0), (0.02, 0.6), (0.66, 0.6)), line((0.54, 0.22), (0.5, 1.0))],
    },
    5: {
        "two_strokes": [join(line((0.12, 0.02), (0.08, 0.42)),
                             curve((0.08, 0.42), (0.3, 0.35), (0.52, 0.45), (0.58, 0.7), (0.42, 0.95),
                                   (0.18, 0.98), (0.02, 0.88))),
                        line((0.12, 0.02), (0.6, 0.0))],
        "one_stroke": [join(line((0.6, 0.02), (0.14, 0.03), (0.1, 0.46)),
                            curve((0.1, 0.46), (0.34, 0.37), (0.55, 0.5), (0.56, 0.78), (0.36, 0.98),
                                  (0.04, 0.9)))],
    },
    6: {
        "curled": [curve((0.52, 0.02), (0.26, 0.2), (0.08, 0.5), (0.08, 0.8), (0.25, 0.99), (0.48, 0.92),
                         (0.56, 0.7), (0.4, 0.52), (0.18, 0.55), (0.08, 0.72))],
        "straight_stem": [join(line((0.48, 0.0), (0.1, 0.64)),
                               curve((0.1, 0.64), (0.12, 0.88), (0.3, 1.0), (0.5, 0.9), (0.55, 0.7),
                                     (0.38, 0.55), (0.18, 0.6), (0.1, 0.68)))],
    },
    7: {
        "plain": [join(line((0.02, 0.06), (0.62, 0.04)), SEVEN_STEM)],
        "crossbar": [join(line((0.02, 0.06), (0.62, 0.04)), SEVEN_STEM), line((0.18, 0.52), (0.58, 0.5))],
        "hooked": [join(line((0.02, 0.2), (0.03, 0.05), (0.62, 0.04)), SEVEN_STEM)],
    },
    8: {
        "one_stroke": [curve((0.52, 0.12), (0.3, 0.0), (0.08, 0.12), (0.12, 0.32), (0.45, 0.58), (0.55, 0.82),
                             (0.32, 0.99), (0.06, 0.85), (0.12, 0.62), (0.42, 0.38), (0.52, 0.18), (0.49, 0.09))],
        "two_loops": [oval(0.3, 0.23, 0.2, 0.22, start_deg=-80, sweep_deg=370),
                      oval(0.3, 0.71, 0.27, 0.28, start_deg=95, sweep_deg=365)],
    },
    9: {
        "straight_tail": [join(NINE_LOOP, line((0.57, 0.1), (0.54, 1.0)))],
        "curved_tail": [join(NINE_LOOP, curve((0.57, 0.1), (0.56, 0.5), (0.46, 0.86), (0.26, 1.0),
                                              (0.06, 0.92)))],
    },
}


# ---------------------------------------------------------------------------------------------------------------
# Randomising a template into one handwritten digit (coordinates in pixels of the canvas).

def _resample(stroke, step=0.008):
    """Points every `step` along the stroke, so that wobble and drawing see a dense, even polyline."""
    lengths = np.hypot(*np.diff(stroke, axis=0).T)
    arc = np.concatenate([[0.0], np.cumsum(lengths)])
    at = np.linspace(0.0, arc[-1], max(2, int(arc[-1] / step) + 1))
    return np.column_stack([np.interp(at, arc, stroke[:, 0]), np.interp(at, arc, stroke[:, 1])]), at


def _handwritten(strokes, rng):
    """The template with its shape bent a little (a smooth field over the plane), hand tremor along each
    stroke, and strokes that do not quite meet."""
    waves = [(rng.normal(0, 3, 2), rng.uniform(0, 2 * np.pi), rng.uniform(0.01, 0.03) * rng.choice([-1, 1], 2))
             for _ in range(3)]
    result = []
    for stroke in strokes:
        points, arc = _resample(stroke)
        for direction, phase, amplitude in waves:
            points = points + amplitude * np.sin(points @ direction + phase)[:, None]
        for axis in (0, 1):
            freq, phase = rng.uniform(1.5, 5), rng.uniform(0, 2 * np.pi)
            points[:, axis] += rng.uniform(0.002, 0.008) * np.sin(2 * np.pi * freq * arc + phase)
        if len(strokes) > 1:
            points = points + rng.normal(0, 0.012, 2)
        result.append(points)
    return result


def _place(strokes, rng, canvas, height_range, brush_px, brush_max_fraction):
    """Slant, rotate, stretch, scale and move the strokes onto the canvas; returns pixel strokes, brush width
    and a note. The brush is `brush_px` wide, but at most `brush_max_fraction` of the digit height."""
    canvas_w, canvas_h = canvas
    points = np.vstack(strokes)
    top_left, bottom_right = points.min(0), points.max(0)
    centre = (top_left + bottom_right) / 2
    height = bottom_right[1] - top_left[1]
    slant, rotation = rng.uniform(-20, 20), rng.uniform(-10, 10)
    aspect = rng.uniform(0.75, 1.3)
    size = rng.uniform(*height_range)
    shear = np.array([[aspect, -np.tan(np.radians(slant))], [0.0, 1.0]])  # +slant leans the top to the right
    r = np.radians(rotation)
    turn = np.array([[np.cos(r), -np.sin(r)], [np.sin(r), np.cos(r)]])  # +rotation is clockwise on screen
    matrix = turn @ shear * (size * canvas_h / height)
    placed = [(s - centre) @ matrix.T for s in strokes]

    width = min(brush_px, brush_max_fraction * size * canvas_h)
    extent = np.vstack(placed)
    low, high = extent.min(0) - width / 2, extent.max(0) + width / 2
    room = np.array([canvas_w, canvas_h]) - 2
    shrink = min(1.0, *(room / (high - low)))  # keep it fully inside the canvas
    placed, low, high, width = [s * shrink for s in placed], low * shrink, high * shrink, width * shrink
    lowest, highest = 1 - low, np.array([canvas_w, canvas_h]) - 1 - high
    highest = np.maximum(lowest, highest)  # a digit shrunk to fit exactly can be a rounding error too big
    offset = np.array([rng.uniform(lowest[0], highest[0]), rng.uniform(lowest[1], highest[1])])
    placed = [s + offset for s in placed]

    extent = np.vstack(placed)
    centre_x, centre_y = (extent.min(0) + extent.max(0)) / 2 / np.array([canvas_w, canvas_h])
    drawn_height = (extent[:, 1].max() - extent[:, 1].min()) / canvas_h
    note = (f"slant={slant:+.0f}deg rot={rotation:+.0f}deg aspect={aspect:.2f} size={drawn_height:.2f} "
            f"width={width:.1f}px pos=({centre_x:.2f},{centre_y:.2f}) canvas={canvas_w}x{canvas_h}")
    return placed, width, note


def render_strokes(strokes, size=800, width=20, supersample=None):
    """Anti-aliased ink coverage ("L", 0 = paper, 255 = ink) of pixel-coordinate strokes with a round brush.

    `size` is a side or a (width, height) pair. Drawn at `supersample` times the size and box-downscaled.
    """
    canvas_w, canvas_h = (size, size) if np.isscalar(size) else size
    if supersample is None:
        supersample = 8 if max(canvas_w, canvas_h) <= 100 else 4 if max(canvas_w, canvas_h) <= 400 else 2
    big = Image.new("L", (canvas_w * supersample, canvas_h * supersample), 0)
    draw = ImageDraw.Draw(big)
    brush = max(1, round(width * supersample))
    radius = brush / 2
    for stroke in strokes:
        points = [tuple(p) for p in (np.asarray(stroke, dtype=float) * supersample)]
        if len(points) > 1:
            draw.line(points, fill=255, width=brush)
        for x, y in points:  # a round pen: PIL's wide-line joints leave slivers, the dots cover them
            draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=255)
    return big.reduce(supersample)


# ---------------------------------------------------------------------------------------------------------------
# Ink forms: the coverage mask turned into the image a user would supply.

def _as_layer(mask, rng):
    black = Image.new("L", mask.size, 0)
    return Image.merge("RGBA", (black, black, black, mask)), "black layer"


def _as_composite(mask, rng):
    ink = int(rng.integers(0, 50))
    alpha = np.asarray(mask, dtype=np.float32) / 255
    grey = Image.fromarray(np.round(255 - alpha * (255 - ink)).astype(np.uint8))
    if rng.random() < 0.5:
        return grey.convert("RGB"), f"ink={ink} on white RGB"
    return grey.convert("RGBA"), f"ink={ink} on white opaque RGBA"


def _as_photo(mask, rng):
    canvas_w, canvas_h = mask.size
    paper = rng.uniform(195, 245) + np.array([rng.uniform(0, 8), 0.0, -rng.uniform(0, 10)], dtype=np.float32)
    angle, strength = rng.uniform(0, 2 * np.pi), rng.uniform(0.08, 0.3)
    across = np.linspace(-0.5, 0.5, canvas_w, dtype=np.float32) * np.float32(strength * np.cos(angle))
    down = np.linspace(-0.5, 0.5, canvas_h, dtype=np.float32) * np.float32(strength * np.sin(angle))
    light = 1 + down[:, None, None] + across[None, :, None]  # a brightness gradient in a random direction
    if rng.random() < 0.5:
        ink, pen = np.array([rng.uniform(20, 50), rng.uniform(35, 70), rng.uniform(120, 170)]), "blue"
    else:
        ink, pen = np.full(3, rng.uniform(20, 50)), "black"
    pressure = Image.fromarray((rng.uniform(0.6, 1.0, (6, 6)) * 255).astype(np.uint8))
    pressure = pressure.resize(mask.size, Image.BICUBIC)  # the pen pressing harder here and lighter there
    alpha = (np.asarray(mask, dtype=np.float32) * np.asarray(pressure, dtype=np.float32) / 65025)[..., None]
    pixels = (paper + alpha * (ink - paper).astype(np.float32)) * light
    pixels += rng.standard_normal((canvas_h, canvas_w, 1), dtype=np.float32) * np.float32(rng.uniform(2, 6))
    image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "RGB")
    blur = rng.uniform(0.4, 1.2) * max(canvas_w, canvas_h) / 800
    image = image.filter(ImageFilter.GaussianBlur(blur))
    quality = int(rng.integers(55, 86))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality)
    buffer.seek(0)
    image = Image.open(buffer).convert("RGB")
    return image, f"{pen} pen paper={paper.mean():.0f} gradient={strength:.2f} blur={blur:.1f} jpeg={quality}"


def _as_mnist_like(mask, rng):
    background, ink = int(rng.integers(0, 25)), int(rng.integers(200, 256))
    alpha = np.asarray(mask, dtype=np.float32) / 255
    return Image.fromarray(np.round(background + alpha * (ink - background)).astype(np.uint8), "L"), \
        f"ink={ink} on {background}"


INK_FORMS = {"layer": _as_layer, "composite": _as_composite, "photo": _as_photo, "mnist_like": _as_mnist_like}


# ---------------------------------------------------------------------------------------------------------------

def draw_digit(digit, form, rng, variant=None):
    """One randomised drawing of `digit` in ink form `form`, of the named `variant` or one picked at random."""
    if variant is None:
        names = sorted(TEMPLATES[digit])
        variant = names[rng.integers(len(names))]
    strokes = _handwritten(TEMPLATES[digit][variant], rng)
    if form == "mnist_like":
        side = int(rng.choice(MNIST_LIKE_SIDES))
        canvas, height_range = (side, side), (0.5, 0.8)
        brush_px, brush_max_fraction = np.inf, rng.uniform(0.09, 0.17)
    else:
        sizes, weights = zip(*SKETCH_CANVASES)
        canvas, height_range = sizes[rng.choice(len(sizes), p=weights)], (0.15, 0.9)
        # 6..45 px on an 800 px canvas (scaled with the canvas), log-uniform; a fat brush only on a big digit
        brush_px = np.exp(rng.uniform(np.log(6), np.log(45))) * max(canvas) / 800
        brush_max_fraction = 0.2
    placed, width, placement = _place(strokes, rng, canvas, height_range, brush_px, brush_max_fraction)
    mask = render_strokes(placed, canvas, width)
    image, ink = INK_FORMS[form](mask, rng)
    return DrawnDigit(image, digit, form, f"{digit}/{variant} {placement} {ink}")


def make_drawn_digits(per_digit: int = 30, seed: int = 0) -> list[DrawnDigit]:
    """`per_digit` drawings of each digit 0-9, the ink forms taking turns; the same seed gives the same pixels.

    Sample i of digit d depends only on (seed, d, i), so a smaller `per_digit` gives a subset of a larger one.
    """
    samples = []
    for i in range(per_digit):
        for digit in range(10):
            rng = np.random.default_rng([seed, digit, i])
            samples.append(draw_digit(digit, FORMS[(i + digit) % len(FORMS)], rng))
    return samples


def make_style_digits(per_style: int = 30, seed: int = 0, styles=STYLES) -> list[DrawnDigit]:
    """`per_style` drawings of each named style (by default STYLES), the ink forms taking turns.

    A test set apart from `make_drawn_digits` (its own random streams), so that each common way of writing a
    digit gets enough samples to measure; sample i of a style depends only on (seed, style, i).
    """
    samples = []
    for i in range(per_style):
        for k, style in enumerate(styles):
            digit, variant = style.split("/")
            rng = np.random.default_rng([seed, 100, *map(ord, style), i])  # by name: the same whatever the list
            samples.append(draw_digit(int(digit), FORMS[(i + k) % len(FORMS)], rng, variant))
    return samples
