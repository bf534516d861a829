"""The Generate tab's section "Explore the latent space": a map of two z dimensions to click, a traversal chart of
every dimension, a real MNIST digit (or the visitor's drawing) put into z by model 1's encoder, where the test digits
lie in z, and a link to the current picture.

The story it tells: in a conditional VAE, z is the style and y is the digit. The handlers are small functions of
the model and what the page sends (tested in tests/test_explore.py); `build` lays out the section and wires it.
"""
import functools
import math
import random
import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import gradio as gr
import numpy as np
import pandas as pd
import torch
from PIL import Image, ImageDraw, ImageFont
from torch.nn import functional as F

from cvae.data import default_data_dir, load_sample
from cvae.models import Y_DIM
from cvae.second_opinion import second_opinion

from . import elbo_panel, posterior_view
from . import handlers as h
from .bound import bound
from .page_files import page_file
from .shared import LIVE, RAW, inference
from .texts import DEFAULT, EN, every_language, language_of, say, static

Z = h.Z_LIMIT
MAP_CELLS = 13              # 13 x 13 digits: one every 0.5 from -3 to +3 (one batched pass of 169)
TRAVERSAL_STEPS = 7         # -3, -2, ..., +3 for each dimension
FACTOR = 2                  # the map's and the chart's digits at 56 px
CELL = 28 * FACTOR
LABEL_WIDTH, HEADER_HEIGHT = 44, 20   # the traversal chart's row labels (z1 ...) and column labels (-3 ...)
EFFECT_FROM, EFFECT_TO = -2.0, 2.0    # a dimension's effect: the picture's change as it moves from -2 to +2
SCATTER_IMAGES = 2000       # test digits on the scatter plot
KNN = 5                     # neighbours in the overlap measure
SLIDER_STEP = 0.05
MAX_LINK_CHARS = 2000       # of a link's z: far more than 64 numbers need
MARK = (249, 115, 22)       # orange: the current z on the map and the chart
DIGIT_COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
                 "#bcbd22", "#17becf"]
HERE = "you are here"
HERE_RING, HERE_RADIUS = 8, 0.1
# Magenta: at least 3.8:1 against both the light page (white) and the dark one (#0b0f19), as marks need 3:1, and
# none of the digits' colours.
HERE_COLOUR = "#e600e6"
# The traversal chart's frame, dark in both themes (its digits are white on black): light labels at 11.9:1.
CHART_BACKGROUND, CHART_TEXT = "#1f2937", "#e5e7eb"
FONT = ImageFont.load_default(size=14)

SCATTER_HELP = EN["scatter_help"]


# ---------------------------------------------------------------------------------------------------------------
# Per-model caches: a visitor's own trained generator gets its own entries, dropped with the model.

_per_model = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def cached(model, key, compute):
    """compute() once per model and key. Two first requests may both compute; they get the same value."""
    with _lock:
        entry = _per_model.setdefault(model, {})
        if key in entry:
            return entry[key]
    value = compute()
    with _lock:
        return entry.setdefault(key, value)


def read_test_set(root):
    """MNIST's 10,000 test images (N, 784) in [0, 1] and labels from the raw files that torchvision keeps under
    root/MNIST/raw, or None when they are not there or not whole. Read here, not through cvae.data.load_mnist:
    importing torchvision alone weighs on the server's memory far more than the two small files it would read."""
    raw = Path(root) / "MNIST" / "raw"
    try:
        images = np.fromfile(raw / "t10k-images-idx3-ubyte", dtype=np.uint8)
        labels = np.fromfile(raw / "t10k-labels-idx1-ubyte", dtype=np.uint8)
    except OSError:
        return None
    n = int.from_bytes(images[4:8].tobytes(), "big") if len(images) >= 16 else -1
    if images[:4].tobytes() != b"\x00\x00\x08\x03" or labels[:4].tobytes() != b"\x00\x00\x08\x01" \
            or len(images) != 16 + n * 784 or len(labels) != 8 + n:
        return None
    return (torch.from_numpy(images[16:].reshape(n, 784).astype(np.float32) / 255),
            torch.from_numpy(labels[8:].astype(np.int64)))


@functools.lru_cache(maxsize=1)
def test_digits():
    """MNIST's test images (N, 784) and labels, loaded once: full MNIST's when it is on disk ($CVAE_DATA_DIR or the
    usual cache, as cvae.data finds it), else the bundled sample's 1,000; never downloaded."""
    full = read_test_set(default_data_dir())
    if full is not None:
        return full
    sample = load_sample()
    return sample.x_test, sample.y_test


# ---------------------------------------------------------------------------------------------------------------
# Checking what the page sends

def check_dimension(value, z_dim):
    """A z dimension as the dropdowns send it: its index 0 ... z_dim - 1 (or the label "z1" ... "zN")."""
    if isinstance(value, str) and value.strip().lower().startswith("z") and value.strip()[1:].isdigit():
        value = int(value.strip()[1:]) - 1
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < z_dim:
        raise h.InputError.of("pick_dimension", z_dim=z_dim, value=repr(value))
    return value


def check_dimensions(dim_x, dim_y, z_dim):
    dim_x, dim_y = check_dimension(dim_x, z_dim), check_dimension(dim_y, z_dim)
    if dim_x == dim_y:
        raise h.InputError.of("two_dimensions")
    return dim_x, dim_y


def as_z(z, z_dim):
    return z if isinstance(z, torch.Tensor) else h.check_z(z, z_dim)


def slider_value(v):
    """A number as a slider can show it: clamped to +-3 and on its 0.05 steps."""
    return round(round(min(Z, max(-Z, float(v))) / SLIDER_STEP) * SLIDER_STEP, 2)


# ---------------------------------------------------------------------------------------------------------------
# Which dimensions matter

def dimension_effects(generator):
    """How much each z dimension changes the picture: the mean absolute pixel change when it moves from -2 to +2,
    the others at 0, averaged over the ten digits. One batched pass of 2 x z_dim x 10 pictures, once per model."""
    def compute():
        n = generator.z_dim
        z = torch.zeros(2, n, Y_DIM, n)
        for d in range(n):
            z[0, d, :, d], z[1, d, :, d] = EFFECT_FROM, EFFECT_TO
        images = generator.draw(z.view(-1, n), torch.arange(Y_DIM).repeat(2 * n)).view(2, n, Y_DIM, -1)
        return (images[1] - images[0]).abs().mean((1, 2)).cpu().tolist()
    return cached(generator, "effects", compute)


def ranked_dimensions(generator):
    """The z dimensions, the one that changes the picture most first."""
    effects = dimension_effects(generator)
    return sorted(range(len(effects)), key=lambda d: -effects[d])


# ---------------------------------------------------------------------------------------------------------------
# The latent map

def map_values(cells=MAP_CELLS):
    return torch.linspace(-Z, Z, cells)


def nearest_step(value, values):
    return int((values - float(value)).abs().argmin())


def latent_map(generator, digit, z, dim_x, dim_y, cells=MAP_CELLS, posterior=None, drawn=None, density=None):
    """A cells x cells grid of model 1's `digit` with z's dimension dim_x running -3 ... +3 left to right and dim_y
    +3 ... -3 top to bottom (up is positive, as on the scatter plot), the others as in z; the cell nearest to z
    framed in orange. An RGB picture, CELL px per digit. `posterior` ({"mean", "std"} of q(z|x,y)) adds its mean
    and ellipses, `drawn` a z drawn from it, `density` (posterior means, (N, z_dim)) where those lie
    (demo/posterior_view.py)."""
    digit, z = h.check_digit(digit), as_z(z, generator.z_dim)
    dim_x, dim_y = check_dimensions(dim_x, dim_y, generator.z_dim)
    values = map_values(cells)
    grid = z.repeat(cells * cells, 1)
    grid[:, dim_x] = values.repeat(cells)                   # the column changes fastest
    grid[:, dim_y] = values.flip(0).repeat_interleave(cells)
    images = generator.draw(grid, [digit] * cells * cells).cpu()
    mosaic = images.view(cells, cells, 28, 28).permute(0, 2, 1, 3).reshape(cells * 28, cells * 28)
    picture = h.enlarge(mosaic, cells * CELL).convert("RGB")
    col = nearest_step(z[0, dim_x], values)
    row = cells - 1 - nearest_step(z[0, dim_y], values)
    geometry = posterior_view.MapGeometry(cells, CELL, Z)
    if density is not None:
        picture = posterior_view.draw_density(picture, geometry, density, dim_x, dim_y)
    ImageDraw.Draw(picture).rectangle([col * CELL, row * CELL, (col + 1) * CELL - 1, (row + 1) * CELL - 1],
                                      outline=MARK, width=3)
    if posterior is not None:
        posterior_view.draw_posterior(picture, geometry, posterior["mean"], posterior["std"], dim_x, dim_y, drawn)
    return picture


def map_click(z, dim_x, dim_y, index, cells=MAP_CELLS):
    """The map's pixel (x, y) that was clicked -> z with dim_x and dim_y moved there: linear between the cells'
    centres, as a slider can show it. The other dimensions stay."""
    z = [round(v, 4) for v in h.check_z(z, len(z))[0].tolist()]   # float32 back to the numbers sent
    dim_x, dim_y = check_dimensions(dim_x, dim_y, len(z))
    try:
        x, y = (float(v) for v in index)
    except (TypeError, ValueError):
        raise h.InputError.of("click_the_map") from None
    if not (math.isfinite(x) and math.isfinite(y)):
        raise h.InputError.of("click_the_map")
    step = 2 * Z / (cells - 1)
    z[dim_x] = slider_value(-Z + (x / CELL - 0.5) * step)
    z[dim_y] = slider_value(Z - (y / CELL - 0.5) * step)
    return z


# ---------------------------------------------------------------------------------------------------------------
# The traversal chart

def traversal_chart(generator, digit, z, steps=TRAVERSAL_STEPS):
    """One row per z dimension: `digit` with that dimension at -3 ... +3 and the others as in z, labelled z1 ...
    and -3 ... +3; in each row the step nearest to z's own value framed in orange. One batched pass."""
    digit, z = h.check_digit(digit), as_z(z, generator.z_dim)
    n = generator.z_dim
    values = torch.linspace(-Z, Z, steps)
    grid = z.repeat(n * steps, 1)
    grid[torch.arange(n * steps), torch.arange(n).repeat_interleave(steps)] = values.repeat(n)
    images = generator.draw(grid, [digit] * (n * steps)).cpu()
    mosaic = images.view(n, steps, 28, 28).permute(0, 2, 1, 3).reshape(n * 28, steps * 28)
    cells = h.enlarge(mosaic, (steps * CELL, n * CELL)).convert("RGB")
    chart = Image.new("RGB", (LABEL_WIDTH + cells.width, HEADER_HEIGHT + cells.height), CHART_BACKGROUND)
    chart.paste(cells, (LABEL_WIDTH, HEADER_HEIGHT))
    draw = ImageDraw.Draw(chart)
    for s, v in enumerate(values.tolist()):
        draw.text((LABEL_WIDTH + (s + 0.5) * CELL, HEADER_HEIGHT / 2), f"{v:+g}" if v else "0", fill=CHART_TEXT,
                  font=FONT, anchor="mm")
    for d in range(n):
        top = HEADER_HEIGHT + d * CELL
        draw.text((LABEL_WIDTH / 2, top + CELL / 2), f"z{d + 1}", fill=CHART_TEXT, font=FONT, anchor="mm")
        left = LABEL_WIDTH + nearest_step(z[0, d], values) * CELL
        draw.rectangle([left, top, left + CELL - 1, top + CELL - 1], outline=MARK, width=2)
    return chart


# ---------------------------------------------------------------------------------------------------------------
# Real digits in z

def encode_style(generator, x, digit):
    """A real digit's style: the mean of q(z|x,y) for its (28, 28) image x and digit, as the sliders can show it
    (clamped to +-3, on their steps)."""
    z = generator.encode(torch.as_tensor(x).reshape(1, 784), [h.check_digit(digit)])[0].cpu()
    return [slider_value(v) for v in z.tolist()]


def reconstruction(generator, x, digit):
    """Model 1's drawing of x: decoded from the posterior mean, as a 280 x 280 picture."""
    digit = h.check_digit(digit)
    z = generator.encode(torch.as_tensor(x).reshape(1, 784), [digit])
    return h.enlarge(generator.draw(z, [digit])[0], h.DEFAULT_SIZE)


def random_test_digit(images, labels, rng=random):
    """(index, (28, 28) image, label) of a random test digit."""
    i = rng.randrange(len(images))
    return i, images[i].view(28, 28), int(labels[i])


# ---------------------------------------------------------------------------------------------------------------
# Where the digits live in z

def posterior_means(generator, images, labels):
    """The means of q(z|x,y) of these digits, (N, z_dim): one batched pass, once per model and set of images. (The
    entry holds the images, so no other tensor can take their id while it lives.)"""
    return cached(generator, ("means", id(images)), lambda: (images, generator.encode(images, labels).cpu()))[1]


def knn_accuracy(points, labels, k=KNN):
    """How often a vote of a point's k nearest neighbours (itself left out) names its digit: 0.1 when the digits
    are mixed through z as chance mixes them, near 1 when each digit keeps to a region of its own."""
    distances = torch.cdist(points, points)
    distances.fill_diagonal_(float("inf"))
    nearest = distances.topk(k, largest=False).indices
    votes = F.one_hot(labels[nearest], Y_DIM).sum(1)
    return float((votes.argmax(1) == labels).float().mean())


def overlap(generator, images, labels, dim_x, dim_y):
    """(k-NN accuracy from the two dimensions shown, from all of z): cached per model and pair."""
    means = posterior_means(generator, images, labels)
    in_two = cached(generator, ("knn", id(images), dim_x, dim_y),
                    lambda: knn_accuracy(means[:, [dim_x, dim_y]], labels))
    return in_two, cached(generator, ("knn", id(images)), lambda: knn_accuracy(means, labels))


def overlap_text(generator, images, labels, dim_x, dim_y, lang=DEFAULT):
    in_two, in_all = overlap(generator, images, labels, dim_x, dim_y)
    return say(lang, "overlap", k=KNN, in_two=f"{in_two:.0%}", n=f"{len(labels):,}", x=dim_x + 1, y=dim_y + 1,
               in_all=f"{in_all:.0%}", z_dim=generator.z_dim)


def scatter_frame(means, labels, z, dim_x, dim_y):
    """The scatter plot's points: x, y (two z dimensions of each test digit's posterior mean) and its digit, in the
    order of the digits (the legend's order); then the current z as the series "you are here": its point and a
    ring of HERE_RING points around it, so that it stands out among thousands (the plot draws every point alike)."""
    z = z[0].tolist() if isinstance(z, torch.Tensor) else list(z)
    order = torch.argsort(labels, stable=True)
    angles = torch.arange(HERE_RING) * (2 * math.pi / HERE_RING)
    here_x = [float(z[dim_x])] + (float(z[dim_x]) + HERE_RADIUS * torch.cos(angles)).tolist()
    here_y = [float(z[dim_y])] + (float(z[dim_y]) + HERE_RADIUS * torch.sin(angles)).tolist()
    return pd.DataFrame({
        "x": means[order, dim_x].round(decimals=3).tolist() + here_x,
        "y": means[order, dim_y].round(decimals=3).tolist() + here_y,
        "digit": [str(int(d)) for d in labels[order]] + [HERE] * (1 + HERE_RING)})


def legend_html():
    """The scatter plot's legend, as the page's own text: it wraps on a narrow screen (the plot's own legend is one
    line, cut at the plot's edge on a phone) and takes the theme's text colour."""
    marks = ([(str(d), colour, "●") for d, colour in enumerate(DIGIT_COLOURS)]
             + [(every_language(lambda lang: say(lang, "you_are_here")), HERE_COLOUR, "◎")])
    return ('<div class="scatter-legend" role="list" aria-label="Legend">' + " ".join(
        f'<span role="listitem" style="white-space: nowrap; margin-right: 0.6em">'
        f'<span style="color: {colour}; font-size: 1.2em" aria-hidden="true">{mark}</span> {name}</span>'
        for name, colour, mark in marks) + "</div>")


# ---------------------------------------------------------------------------------------------------------------
# Links

def parse_link(params, z_dim):
    """A link's query (?digit=7&z=1.5,-1,...) -> (digit or None, z as z_dim numbers or None). Forgiving, as a link
    may be cut or edited by hand: a digit that is not 0-9 is ignored; z values that are not numbers (or NaN, inf) are
    0, others clamped to +-3; missing ones are 0, extra ones dropped."""
    digit, text = params.get("digit"), params.get("z")
    digit = digit.strip() if isinstance(digit, str) else None
    digit = int(digit) if digit and digit.isdigit() and int(digit) <= 9 else None
    if not isinstance(text, str):
        return digit, ([0.0] * z_dim if digit is not None else None)
    z = [0.0] * z_dim
    for i, part in enumerate(text[:MAX_LINK_CHARS].split(",")[:z_dim]):
        try:
            v = float(part)
        except ValueError:
            continue
        if math.isfinite(v):
            z[i] = slider_value(v)
    return digit, z


# In the page: the link to the current picture, written into the textbox and copied to the clipboard (an event's
# js). And arrow keys that move a slider release it, as a pointer would, once they rest for KEYS_REST_MS: one redraw
# of the views per pause, not one per key (js_on_load of a hidden gr.HTML). KEYS_REST_MS reaches the script by a
# placeholder (demo/page_files.py).
KEYS_REST_MS = 400
COPY_LINK_JS = page_file("explore_copy_link.js")
KEYS_FOLLOW_JS = page_file("explore_keys_follow.js", keys_rest_ms=KEYS_REST_MS)


# ---------------------------------------------------------------------------------------------------------------
# What the section's events show, as plain records (tested without a browser); build() puts them on the page

def scatter_view(generator, images, labels, dim_x, dim_y, z, lang=DEFAULT):
    """Where these digits lie in two z dimensions, with the current z: {"points": scatter_frame, "x_title",
    "y_title", "overlap": overlap_text (in the visitor's language `lang`; every language for None)}."""
    dim_x, dim_y = check_dimensions(dim_x, dim_y, generator.z_dim)
    means = posterior_means(generator, images, labels)
    return {"points": scatter_frame(means, labels, h.check_z(z, generator.z_dim), dim_x, dim_y),
            "x_title": f"z{dim_x + 1}", "y_title": f"z{dim_y + 1}",
            "overlap": (overlap_text(generator, images, labels, dim_x, dim_y, lang) if lang is not None else
                        every_language(lambda lang: overlap_text(generator, images, labels, dim_x, dim_y, lang)))}


def real_digit_view(generator, x, digit, note):
    """A real digit put into z: {"digit", "z": its style as the sliders show it, "real": the digit (280 px),
    "reconstruction": model 1's drawing of it, "note", "x": the (28, 28) picture}."""
    return {"digit": digit, "z": encode_style(generator, x, digit), "real": h.enlarge(x, h.DEFAULT_SIZE),
            "reconstruction": reconstruction(generator, x, digit), "note": note, "x": x}


def test_digit_view(generator, images, labels, rng=random, lang=DEFAULT):
    """"Load a real MNIST digit": a random test digit, as real_digit_view (its note in the visitor's `lang`)."""
    i, x, label = random_test_digit(images, labels, rng)
    return real_digit_view(generator, x, label, say(lang, "test_digit_note", i=i, digit=label))


def drawing_view(generator, classifier, drawing, lang=DEFAULT):
    """"Use my drawing": the visitor's last drawing (28 x 28, or None) read by model 2, as real_digit_view."""
    x = h.to_model_input(drawing)
    if x is None:
        raise h.InputError.of("draw_first")
    label, _ = h.classify(classifier, x)
    read = h.predicted_digit(label)
    note = say(lang, "drawing_note", digit=read)
    opinion = second_opinion(generator, x)
    if opinion["is_digit"] is False:  # model 1's second opinion (cvae/second_opinion.py)
        note += "\n\n⚠️ " + say(lang, "drawing_not_a_digit", best=f"{opinion['best']:.0f}",
                                  threshold=f"{opinion['threshold']:.0f}")
    return real_digit_view(generator, x, read, note)


def link_view(params, z_dim, digit):
    """A page opened from a link (its query `params`): {"digit", "z"} it sets (the page's `digit` where the link
    names none), or None for a page opened without one."""
    link_digit, z = parse_link(params, z_dim)
    if link_digit is None and z is None:
        return None
    return {"digit": digit if link_digit is None else link_digit, "z": z}


# ---------------------------------------------------------------------------------------------------------------
# The section on the page

VIEW = {**LIVE, "api_visibility": "undocumented"}   # callable by name (the benchmarks time them), not listed


@dataclass
class Section:
    """What the section's handlers read and set: the app's demo.shared.Shared (`ctx`); the tab's `digit`, `sliders`
    and `pictures` (its big picture and strip), which `redraw(session, digit, *z)` makes; MNIST's test digits
    (`images`, `labels`) and those on the scatter plot; and the section's own components, set as lay_out makes
    them."""
    ctx: object
    digit: gr.Radio
    sliders: list
    pictures: list
    redraw: Callable
    images: torch.Tensor
    labels: torch.Tensor
    scatter_images: torch.Tensor
    scatter_labels: torch.Tensor
    latent: gr.Image = None
    dim_x: gr.Dropdown = None
    dim_y: gr.Dropdown = None
    traversal: gr.Image = None
    real_button: gr.Button = None
    drawing_button: gr.Button = None
    real_image: gr.Image = None
    reconstructed: gr.Image = None
    real_note: gr.Markdown = None
    real_terms: gr.HTML = None
    q_button: gr.Button = None
    q_table: gr.HTML = None
    density_box: gr.Checkbox = None
    scatter: gr.ScatterPlot = None
    overlap_note: gr.Markdown = None
    link: gr.Textbox = None
    copy_button: gr.Button = None


def build(ctx, page, digit, sliders, pictures, redraw):
    """Lay out the section inside the current Blocks `page` and bind its events. `digit` and `sliders` are the
    tab's inputs; `pictures` its big picture and strip, which `redraw(session, digit, *z)` makes. Returns
    `refresh(event)`: redraws the section's views after an event of the tab that set z or the digit."""
    images, labels = test_digits()
    section = Section(ctx, digit, sliders, pictures, redraw, images, labels, images[:SCATTER_IMAGES],
                      labels[:SCATTER_IMAGES])
    lay_out(section)
    wire(section, page)
    return bound(refresh, section)


# ---------------------------------------------------------------------------------------------------------------
# Its layout

def lay_out(section):
    """The section's components, top to bottom, set on `section`: the map and the chart, a real digit in z, where
    the test digits lie, the link."""
    ctx, generator = section.ctx, section.ctx.generator
    top = ranked_dimensions(generator)[:2]
    zero = [0.0] * ctx.z_dim
    gr.Markdown(static("explore_help"), elem_id="explore")
    with gr.Row(equal_height=False):
        with gr.Column():
            section.latent = gr.Image(ctx.png(latent_map(generator, 3, zero, *top)), type="filepath",
                                      interactive=False, label=static("latent_map"), buttons=["download"],
                                      elem_id="latent-map", elem_classes=["pixelated", "label-above"])
            with gr.Row():
                choices = [(f"z{d + 1}", d) for d in range(ctx.z_dim)]
                section.dim_x = gr.Dropdown(choices, value=top[0], label=static("across"), elem_id="map-x")
                section.dim_y = gr.Dropdown(choices, value=top[1], label=static("up"), elem_id="map-y")
            gr.Markdown(every_language(lambda lang: say(lang, "preselected", x=top[0] + 1, y=top[1] + 1)))
            section.density_box = gr.Checkbox(False, label=static("show_density"), elem_id="show-density")
        with gr.Column():
            section.traversal = gr.Image(ctx.png(traversal_chart(generator, 3, zero)), type="filepath",
                                         interactive=False, label=static("what_each_slider_does"),
                                         buttons=["download"], elem_id="traversal",
                                         elem_classes=["pixelated", "label-above"])
    with gr.Row(equal_height=False):
        with gr.Column():
            lay_out_real_digit(section)
        with gr.Column():
            lay_out_scatter(section, top, zero)
    with gr.Row(equal_height=True):
        section.link = gr.Textbox(label=static("link_label"), placeholder=static("press_copy_link"),
                                  interactive=False, elem_id="share-link", scale=4)
        section.copy_button = gr.Button(static("copy_link"), elem_id="copy-link", scale=1)
    gr.HTML("", js_on_load=KEYS_FOLLOW_JS, container=False, elem_id="keys-follow")  # nothing shown


def lay_out_real_digit(section):
    """A real digit (or the visitor's drawing) put into z: its two buttons, the digit, model 1's drawing of it."""
    with gr.Row():
        section.real_button = gr.Button(static("load_real_digit"), variant="primary", elem_id="real-digit")
        section.drawing_button = gr.Button(static("use_my_drawing"), elem_id="my-drawing")
    with gr.Row():
        section.real_image = gr.Image(None, type="filepath", interactive=False, label=static("the_real_digit"),
                                      height=220, buttons=["download"], elem_id="real-image",
                                      elem_classes=["pixelated", "label-above"])
        section.reconstructed = gr.Image(None, type="filepath", interactive=False, label=static("reconstruction"),
                                         height=220, buttons=["download"], elem_id="reconstruction",
                                         elem_classes=["pixelated", "label-above"])
    section.real_note = gr.Markdown(static("real_note_empty"), elem_id="real-note")
    section.q_button = gr.Button(static("draw_from_q"), elem_id="draw-from-q")
    section.q_table = gr.HTML("", css_template=posterior_view.CSS, apply_default_css=False,
                              elem_id="q-draw")
    section.real_terms = gr.HTML("", css_template=elbo_panel.CSS, apply_default_css=False, elem_id="real-terms")


def lay_out_scatter(section, top, zero):
    """Where the test digits lie in the two dimensions `top`, with z at `zero`: the plot, its legend, the overlap."""
    first = scatter_view(section.ctx.generator, section.scatter_images, section.scatter_labels, *top, zero,
                         lang=None)
    gr.Markdown(every_language(lambda lang: say(lang, "where_digits_live", n=f"{len(section.scatter_labels):,}",
                                                 help=say(lang, "scatter_help"))))
    # No label on the plot: with one, its fixed height leaves no room for the legend.
    section.scatter = gr.ScatterPlot(first["points"], x="x", y="y", color="digit", x_title=first["x_title"],
                                     y_title=first["y_title"], x_lim=[-Z - 0.5, Z + 0.5], y_lim=[-Z - 0.5, Z + 0.5],
                                     color_map={**dict(zip(map(str, range(10)), DIGIT_COLOURS)), HERE: HERE_COLOUR},
                                     label=static("where_digits_live_title"), show_label=False, height=400,
                                     colors_in_legend=[], elem_id="where-digits-live")
    gr.HTML(legend_html(), elem_id="scatter-legend", container=False)
    section.overlap_note = gr.Markdown(first["overlap"], elem_id="overlap")


# ---------------------------------------------------------------------------------------------------------------
# Its events: each handler gets the section, then the visitor's models and the page's values; its answer goes to
# the components by name.

def model(section, session):
    return section.ctx.model_of(session, "generator")


def set_z(section, session, d, z):
    """The sliders set to z, and the pictures redrawn for digit d."""
    return dict(zip(section.sliders, z)) | dict(zip(section.pictures, section.redraw(session, d, *z)))


def show_real(section, session, view, label, lang=DEFAULT):
    """The picture put into z, model 1's drawing of it, its q(z|x,y) kept for the map, and the loss's two terms."""
    generator = model(section, session)
    terms = elbo_panel.terms_of(generator, view["x"], view["digit"], wait=False)
    session.posterior = {"digit": view["digit"], "mean": terms["z_mean"], "std": terms["z_std"]}
    session.q_drawn = None
    panels = elbo_panel.panels_html(generator, section.ctx.model_of(session, "classifier"), view["x"],
                                    view["digit"], lang)
    return ({section.digit: view["digit"],
             section.real_image: gr.update(value=section.ctx.png(view["real"]), label=label),
             section.reconstructed: section.ctx.png(view["reconstruction"]), section.real_note: view["note"],
             section.real_terms: panels, section.q_table: ""}
            | set_z(section, session, view["digit"], view["z"]))


def map_overlays(section, session, d):
    """What the map draws over its digits for this session: q of the picture put into z (when it is of digit d)
    and the z drawn from it; the test digits' posterior means of digit d when the switch is on."""
    out = {}
    posterior = session.posterior if session is not None else None
    if posterior is not None and posterior["digit"] == h.check_digit(d):
        out |= {"posterior": posterior, "drawn": session.q_drawn}
    if session is not None and session.show_density:
        generator = model(section, session)
        means = posterior_means(generator, section.images, section.labels)
        out["density"] = means[section.labels == h.check_digit(d)]
    return out


@inference
def map_view(section, session, d, dim_x, dim_y, *z):
    return section.ctx.png(latent_map(model(section, session), d, z, dim_x, dim_y,
                                      **map_overlays(section, session, d)))


@inference
def q_draw(section, session, dim_x, dim_y, request: gr.Request = None):
    """"Draw z from q": z = mu + sigma * eps for the picture put into z, the sliders moved there, and the numbers."""
    lang = language_of(request)
    posterior = session.posterior
    if posterior is None:
        with h.said_in(lang):
            raise h.InputError.of("put_a_digit_first")
    with h.said_in(lang):
        dim_x, dim_y = check_dimensions(dim_x, dim_y, len(posterior["mean"]))
    eps, z = posterior_view.draw_from_q(posterior["mean"], posterior["std"], np.random.default_rng())
    shown = [slider_value(v) for v in z]
    session.q_drawn = z
    table = posterior_view.draw_table_html(posterior["mean"], posterior["std"], eps, shown, dim_x, dim_y, lang)
    return {section.q_table: table} | set_z(section, session, posterior["digit"], shown)


def show_density(section, session, on):
    """The switch of the map's density of test digits: kept in the session (the map's redraw reads it)."""
    session.show_density = bool(on)


@inference
def traversal_view(section, session, d, *z):
    return section.ctx.png(traversal_chart(model(section, session), d, z))


@inference
def scatter_update(section, request: gr.Request, session, dim_x, dim_y, *z):
    lang = language_of(request)
    with h.said_in(lang):
        view = scatter_view(model(section, session), section.scatter_images, section.scatter_labels, dim_x, dim_y,
                            z, lang)
    return {section.scatter: gr.update(value=view["points"], x_title=view["x_title"], y_title=view["y_title"]),
            section.overlap_note: view["overlap"]}


@inference
def click_map(section, evt: gr.SelectData, session, d, dim_x, dim_y, *z):
    return set_z(section, session, d, map_click(z, dim_x, dim_y, evt.index))


@inference
def load_test_digit(section, session, request: gr.Request = None):
    lang = language_of(request)
    return show_real(section, session, test_digit_view(model(section, session), section.images, section.labels,
                                                       lang=lang), say(lang, "the_real_digit"), lang)


@inference
def use_drawing(section, session, request: gr.Request = None):
    lang = language_of(request)
    with h.said_in(lang):
        return show_real(section, session, drawing_view(model(section, session),
                                                        section.ctx.model_of(session, "classifier"),
                                                        session.last_drawing, lang), say(lang, "your_drawing"))


@inference
def open_link(section, session, d, dim_x, dim_y, request: gr.Request):
    view = link_view(request.query_params, section.ctx.z_dim, d)
    if view is None:
        return gr.skip()
    d, z = view["digit"], view["z"]
    return ({section.digit: d, section.latent: map_view(section, session, d, dim_x, dim_y, *z),
             section.traversal: traversal_view(section, session, d, *z)}
            | set_z(section, session, d, z) | scatter_update(section, request, session, dim_x, dim_y, *z))


def quiet_scatter(section):
    """An event's setting that keeps the scatter plot from being a "progress target": the page keeps a loading
    status for each component that has been one, and at every status change of any event it copies each such
    component's value: with the scatter plot's 2,000 points a copy that takes the browser's time several times per
    slider move (a Chrome trace showed it; docs/speed.md)."""
    return {"show_progress_on": [section.overlap_note]}


def inputs(section, *names):
    """The events' inputs: the visitor's session, then the section's components of these names, then the sliders."""
    return [section.ctx.session, *(getattr(section, name) for name in names), *section.sliders]


def wire(section, page):
    """The section's events, in the order the page's config lists them (the benchmarks and tests look them up so).
    The views follow z and the digit when a slider is let go (a drag stays fast: only the picture follows it), and
    after every event that sets them (refresh)."""
    s, released = section, [slider.release for slider in section.sliders]
    gr.on([*released, s.digit.input, s.dim_x.input, s.dim_y.input], bound(map_view, s),
          inputs(s, "digit", "dim_x", "dim_y"), s.latent, api_name="explore_map", **VIEW, **RAW)
    gr.on([*released, s.digit.input], bound(traversal_view, s), inputs(s, "digit"), s.traversal,
          api_name="explore_traversal", **VIEW, **RAW)
    gr.on([*released, s.dim_x.input, s.dim_y.input], bound(scatter_update, s), inputs(s, "dim_x", "dim_y"),
          [s.scatter, s.overlap_note], **quiet_scatter(s), **LIVE, **RAW)
    # A click on the map is answered at once with the sliders and the picture, without the queue's extra round
    # (as a slider move is); the views follow.
    refresh(s, s.latent.select(bound(click_map, s), inputs(s, "digit", "dim_x", "dim_y"), [*s.sliders, *s.pictures],
                               api_name="explore_map_click", queue=False, **VIEW, **RAW))
    real_outputs = [s.digit, *s.sliders, *s.pictures, s.real_image, s.reconstructed, s.real_note, s.real_terms,
                    s.q_table]
    refresh(s, s.real_button.click(bound(load_test_digit, s), [s.ctx.session], real_outputs,
                                   api_name="explore_real_digit", **VIEW, **RAW))
    refresh(s, s.drawing_button.click(bound(use_drawing, s), [s.ctx.session], real_outputs, **LIVE, **RAW))
    wire_posterior(s)
    page.load(bound(open_link, s), [s.ctx.session, s.digit, s.dim_x, s.dim_y],
              [s.digit, *s.sliders, *s.pictures, s.latent, s.traversal, s.scatter, s.overlap_note], **quiet_scatter(s),
              **LIVE, **RAW)
    s.copy_button.click(None, [s.digit, *s.sliders], s.link, js=COPY_LINK_JS)


def wire_posterior(section):
    """The posterior's events, after the section's others (so that those keep their places in the page's config)."""
    s = section
    refresh(s, s.q_button.click(bound(q_draw, s), [s.ctx.session, s.dim_x, s.dim_y], [s.q_table, *s.sliders,
                                                                                     *s.pictures],
                                api_name="explore_draw_from_q", **VIEW, **RAW))
    (s.density_box.input(bound(show_density, s), [s.ctx.session, s.density_box], None, **LIVE, **RAW)
     .then(bound(map_view, s), inputs(s, "digit", "dim_x", "dim_y"), s.latent, **LIVE, **RAW))


def refresh(section, event):
    """The section's views redrawn after `event` (one of the tab's that set z or the digit) succeeds."""
    s = section
    event.success(bound(map_view, s), inputs(s, "digit", "dim_x", "dim_y"), s.latent, **LIVE, **RAW)
    event.success(bound(traversal_view, s), inputs(s, "digit"), s.traversal, **LIVE, **RAW)
    event.success(bound(scatter_update, s), inputs(s, "dim_x", "dim_y"), [s.scatter, s.overlap_note],
                  **quiet_scatter(s), **LIVE, **RAW)
