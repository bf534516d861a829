"""Pictures that are not digits, as a visitor of a digit demo draws them to test it: capital letters, scribbles and
shapes. For measuring model 1's "this doesn't look like a digit" (cvae.second_opinion). Deterministic for a seed.

    from cvae.non_digits import make_non_digits
    for item in make_non_digits(per_kind=60, seed=0):
        item.image, item.kind, item.name, item.note

Kinds:
  "letter"    a capital letter typed in one of the DejaVu fonts that matplotlib bundles (so they are there in any
              environment that has the project's requirements), rotated a little, on a sketch-sized canvas;
              letters written exactly as a digit is (O, I, S, Z) are left out: no judge could tell them apart;
  "scribble"  a random squiggle, a zigzag, a spiral, a hatching, a row of loops: the pen wandering;
  "shape"     a smiley, a box, a triangle, a star, a heart, an arrow, a house, a cross in a circle.

Scribbles and shapes are drawn as cvae.drawn_digits draws digits (its hand tremor, slant, placement, brush and ink
forms), so that they differ from the drawn digits by what they show, not by how they are drawn; their random
streams are their own (tag NON_DIGIT_STREAM), so none is one of the drawn digits' pictures.
"""
import string
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from .drawn_digits import FORMS, INK_FORMS, SKETCH_CANVASES, _handwritten, _place, curve, line, oval, render_strokes

KINDS = ("letter", "scribble", "shape")
LETTERS = [c for c in string.ascii_uppercase if c not in "OISZ"]
FONTS = ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSerif.ttf", "DejaVuSansMono.ttf", "DejaVuSans-Oblique.ttf",
         "DejaVuSerif-Bold.ttf")
NON_DIGIT_STREAM = 7_000    # in every random stream's seed: apart from cvae.drawn_digits' streams
SHAPES = ("smiley", "box", "triangle", "star", "heart", "arrow", "house", "crossed_circle")
SCRIBBLES = ("squiggle", "zigzag", "spiral", "hatching", "loops")


@dataclass
class NonDigit:
    image: Image.Image  # the input as a visitor would supply it (cvae.drawn_digits' ink forms)
    kind: str           # one of KINDS
    name: str           # the letter, or the scribble's or shape's name
    note: str           # how it was made


def font_path(name):
    """A font file bundled with matplotlib (a requirement of the project)."""
    import matplotlib
    return Path(matplotlib.get_data_path()) / "fonts" / "ttf" / name


# ---------------------------------------------------------------------------------------------------------------
# Shapes and scribbles as strokes in a unit box (x to the right, y down), as cvae.drawn_digits' templates are

def shape_strokes(name):
    if name == "smiley":
        return [oval(0.5, 0.5, 0.45, 0.45), oval(0.34, 0.36, 0.04, 0.05), oval(0.66, 0.36, 0.04, 0.05),
                oval(0.5, 0.55, 0.25, 0.2, start_deg=200, sweep_deg=140, samples=24)]
    if name == "box":
        return [line((0.05, 0.1), (0.95, 0.1), (0.95, 0.9), (0.05, 0.9), (0.05, 0.1))]
    if name == "triangle":
        return [line((0.5, 0.05), (0.95, 0.9), (0.05, 0.9), (0.5, 0.05))]
    if name == "star":
        angles = np.radians(-90 + 144 * np.arange(6))
        return [np.column_stack([0.5 + 0.48 * np.cos(angles), 0.52 + 0.48 * np.sin(angles)])]
    if name == "heart":
        return [curve((0.5, 0.3), (0.3, 0.08), (0.06, 0.2), (0.12, 0.5), (0.5, 0.95), (0.88, 0.5), (0.94, 0.2),
                      (0.7, 0.08), (0.5, 0.3))]
    if name == "arrow":
        return [line((0.05, 0.5), (0.95, 0.5)), line((0.65, 0.2), (0.95, 0.5), (0.65, 0.8))]
    if name == "house":
        return [line((0.15, 0.45), (0.15, 0.95), (0.85, 0.95), (0.85, 0.45), (0.15, 0.45), (0.5, 0.08),
                     (0.85, 0.45))]
    if name == "crossed_circle":
        return [oval(0.5, 0.5, 0.45, 0.45), line((0.2, 0.2), (0.8, 0.8)), line((0.8, 0.2), (0.2, 0.8))]
    raise ValueError(f"unknown shape {name!r}")


def scribble_strokes(name, rng):
    if name == "squiggle":  # the pen wandering through random points
        return [curve(*rng.uniform(0, 1, (int(rng.integers(6, 11)), 2)))]
    if name == "zigzag":
        n = int(rng.integers(4, 8))
        ys = np.where(np.arange(n) % 2 == 0, rng.uniform(0, 0.2, n), rng.uniform(0.8, 1, n))
        return [np.column_stack([np.linspace(0, 1, n), ys])]
    if name == "spiral":
        t = np.linspace(0, rng.uniform(3, 5) * np.pi, 120)
        r = 0.05 + 0.45 * t / t[-1]
        return [np.column_stack([0.5 + r * np.cos(t), 0.5 + r * np.sin(t)])]
    if name == "hatching":  # strokes side by side, as shading
        n = int(rng.integers(3, 6))
        tilt = rng.uniform(-0.3, 0.3)
        return [line((x, 0.1), (x + tilt, 0.9)) for x in np.linspace(0.1, 0.9, n) + rng.normal(0, 0.03, n)]
    if name == "loops":  # a row of cursive loops, "ellll"
        n = int(rng.integers(3, 6))
        t = np.linspace(0, 2 * np.pi * n, 40 * n)
        return [np.column_stack([t / t[-1] + 0.12 * np.sin(t), 0.5 - 0.4 * np.cos(t)])]
    raise ValueError(f"unknown scribble {name!r}")


def _drawn(strokes, rng, form):
    """Strokes drawn by hand onto a sketch canvas (as cvae.drawn_digits.draw_digit does), in ink `form`."""
    sizes, weights = zip(*SKETCH_CANVASES)
    canvas = sizes[rng.choice(len(sizes), p=weights)]
    brush_px = np.exp(rng.uniform(np.log(6), np.log(45))) * max(canvas) / 800
    placed, width, placement = _place(_handwritten(strokes, rng), rng, canvas, (0.15, 0.9), brush_px, 0.2)
    image, ink = INK_FORMS[form](render_strokes(placed, canvas, width), rng)
    return image, f"{placement} {ink}"


def _letter(letter, font_name, rng, form):
    """A typed capital letter, rotated a little, somewhere on an 800 x 800 canvas, in ink `form`."""
    size = int(rng.integers(180, 520))
    font = ImageFont.truetype(str(font_path(font_name)), size)
    glyph = Image.new("L", (2 * size, 2 * size), 0)
    ImageDraw.Draw(glyph).text((size // 2, size // 4), letter, fill=255, font=font)
    angle = rng.uniform(-12, 12)
    glyph = glyph.rotate(angle, resample=Image.BILINEAR)
    glyph = glyph.crop(glyph.getbbox())
    mask = Image.new("L", (800, 800), 0)
    x = int(rng.integers(0, max(1, 800 - glyph.width)))
    y = int(rng.integers(0, max(1, 800 - glyph.height)))
    mask.paste(glyph, (x, y))
    image, ink = INK_FORMS[form](mask, rng)
    return image, f"{font_name} {size}px rot={angle:+.0f}deg at ({x},{y}) {ink}"


def make_non_digits(per_kind: int = 60, seed: int = 0, kinds=KINDS) -> list[NonDigit]:
    """`per_kind` pictures of each kind, the letters, scribbles and shapes and the ink forms taking turns; item i
    of a kind depends only on (seed, kind, i)."""
    items = []
    for i in range(per_kind):
        for kind in kinds:
            rng = np.random.default_rng([seed, NON_DIGIT_STREAM, KINDS.index(kind), i])
            form = FORMS[i % len(FORMS)]
            if kind == "letter":
                name, font = LETTERS[i % len(LETTERS)], FONTS[(i // len(LETTERS)) % len(FONTS)]
                image, note = _letter(name, font, rng, form)
            elif kind == "scribble":
                name = SCRIBBLES[i % len(SCRIBBLES)]
                image, note = _drawn(scribble_strokes(name, rng), rng, form)
            elif kind == "shape":
                name = SHAPES[i % len(SHAPES)]
                image, note = _drawn(shape_strokes(name), rng, form)
            else:
                raise ValueError(f"unknown kind {kind!r}; choose from {', '.join(KINDS)}")
            items.append(NonDigit(image, kind, name, f"{kind}/{name} {form} {note}"))
    return items
