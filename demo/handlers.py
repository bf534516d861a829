"""The demo's handlers: small functions from what a visitor (or an API caller) sends to what the page shows.

Each takes the model it needs as an argument, checks its inputs, and calls cvae for everything numerical, so
it can be tested without a browser. A user's mistake raises gr.Error with a message for that user.
"""
import base64
import contextlib
import html
import io
import json
import math
import random
from pathlib import Path

import gradio as gr
import torch
from PIL import Image

from cvae.models import Y_DIM, one_hot
from cvae.preprocess import ImageError, open_image, to_grid_image, to_mnist_image
from cvae.second_opinion import second_opinions

from .texts import DEFAULT, in_every_language, say

Z_LIMIT = 3.0               # the sliders' range: the prior N(0, I) puts almost all of its mass within +-3
DEFAULT_SIZE = 280          # the big picture's edge in px: 28 x 10, so every model pixel is a 10 x 10 block
MIN_SIZE, MAX_SIZE = 28, 1024
GRID_SAMPLES, MAX_GRID_SAMPLES = 64, 256
MORPH_FRAMES, MAX_MORPH_FRAMES = 10, 32
CLASSIFY_SAMPLES = 8        # p(y|x,z) averaged over this many prior draws of z ...
CLASSIFY_SEED = 0           # ... always the same ones, so a drawing gets the same answer every time
MAX_Z_TEXT = 20_000         # characters of an API caller's z; far more than 64 numbers need
MAX_SEED = 2**31 - 1        # a seed of the grid's prior draws: 0 ... MAX_SEED
# Model 2's answer to a blank picture: the text draw_a_digit in English, as the API says it (/classify gives it to
# gr.Label). It is also the mark of "no answer": the Draw tab, given this very object (`is`), says the text in the
# visitor's language instead.
BLANK_MESSAGE = say(DEFAULT, "draw_a_digit")
# The download link under a picture, in every language (the page shows its own): the pictures are redrawn while a
# slider moves, and their answer spends nothing on the visitor's language.
DOWNLOAD_LINK = in_every_language("download_png")


class InputError(gr.Error):
    """A visitor's or API caller's mistake: shown to them as a gr.Error, without a traceback in the server's log
    (gradio prints one for every gr.Error unless told not to, and a log full of them hides the real faults)."""

    def __init__(self, message, key=None, **values):
        super().__init__(message, print_exception=False)
        self.key, self.values = key, values

    @classmethod
    def of(cls, key, **values):
        """The error whose message is demo/texts.py's `key`: English as raised (API callers read it so), and in the
        visitor's language from `in_language`. A value that is itself (key, {values}) is a text of the table too."""
        error = cls(key, key, **values)
        error.message = error.in_language(DEFAULT)
        error.args = (error.message,)
        return error

    def in_language(self, lang):
        """The message in `lang` (as raised, for an error without a key)."""
        if self.key is None:
            return self.message
        values = {name: say(lang, v[0], **v[1]) if isinstance(v, tuple) else v for name, v in self.values.items()}
        return say(lang, self.key, **values)


@contextlib.contextmanager
def said_in(lang):
    """An InputError raised inside (one made with InputError.of) reaches the visitor in their language `lang`."""
    try:
        yield
    except InputError as e:
        if e.key is None or lang == DEFAULT:
            raise
        raise InputError(e.in_language(lang), e.key, **e.values) from None


# ---------------------------------------------------------------------------------------------------------------
# Checking what a visitor or API caller sends

def check_digit(digit):
    """0..9 as an int, from an int, a whole float or a digit string; else gr.Error."""
    if isinstance(digit, str) and digit.strip().isdigit():
        digit = int(digit.strip())
    if isinstance(digit, bool) or not isinstance(digit, (int, float)) or not math.isfinite(digit) \
            or int(digit) != digit or not 0 <= digit <= 9:
        raise InputError(f"The digit must be a whole number from 0 to 9, got {digit!r}.")
    return int(digit)


def check_z(values, z_dim):
    """A list of z_dim finite numbers -> a (1, z_dim) float tensor, clamped to the sliders' range.
    Out-of-range numbers are clamped (the picture stays meaningful); NaN, inf and wrong lengths are refused."""
    if values is None:
        values = []
    values = list(values)
    if len(values) == 0:
        return torch.zeros(1, z_dim)
    if len(values) != z_dim:
        raise InputError(f"z needs {z_dim} numbers (one per latent dimension), got {len(values)}.")
    out = []
    for i, v in enumerate(values):
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            try:
                v = float(v)
            except (TypeError, ValueError):
                raise InputError(f"z[{i}] must be a number, got {v!r}.") from None
        if not math.isfinite(v):
            raise InputError(f"z[{i}] must be a finite number, got {v!r}.")
        out.append(min(Z_LIMIT, max(-Z_LIMIT, float(v))))
    return torch.tensor([out], dtype=torch.float32)


def parse_z_text(text, z_dim):
    """An API caller's z: a JSON list or comma/space-separated numbers; empty means all zeros."""
    if text is None:
        text = ""
    if not isinstance(text, str):
        return check_z(text, z_dim)
    text = text.strip()
    if len(text) > MAX_Z_TEXT:
        raise InputError(f"z is too long; send {z_dim} numbers.")
    if not text:
        return torch.zeros(1, z_dim)
    if text.startswith("["):
        try:
            values = json.loads(text)
        except json.JSONDecodeError as e:
            raise InputError(f"z is not a valid JSON list of numbers ({e.msg}).") from None
        if not isinstance(values, list):
            raise InputError("z must be a list of numbers.")
    else:
        values = [v for v in text.replace(",", " ").split()]
    return check_z(values, z_dim)


def check_size(size):
    if isinstance(size, bool) or not isinstance(size, (int, float)) or not math.isfinite(size) \
            or int(size) != size or not MIN_SIZE <= size <= MAX_SIZE:
        raise InputError(f"The size must be a whole number of pixels from {MIN_SIZE} to {MAX_SIZE}, got {size!r}.")
    return int(size)


def check_seed(seed):
    """A whole number from 0 to MAX_SEED (a whole float or digit string too); else gr.Error."""
    if isinstance(seed, str) and seed.strip().isdigit():
        seed = int(seed.strip())
    if isinstance(seed, bool) or not isinstance(seed, (int, float)) or not math.isfinite(seed) \
            or int(seed) != seed or not 0 <= seed <= MAX_SEED:
        raise InputError(f"The seed must be a whole number from 0 to {MAX_SEED}, got {seed!r}.")
    return int(seed)


def check_count(n, limit, what):
    if isinstance(n, bool) or not isinstance(n, (int, float)) or not math.isfinite(n) or int(n) != n \
            or not 1 <= n <= limit:
        raise InputError(f"The number of {what} must be from 1 to {limit}, got {n!r}.")
    return int(n)


# ---------------------------------------------------------------------------------------------------------------
# Pictures

def enlarge(image, size):
    """A (28, 28) tensor in [0, 1] or a PIL image -> PIL "L" of size x size with hard pixel edges (nearest
    neighbour): the model's pixels shown as crisp blocks, never smoothed into a blur."""
    if isinstance(image, torch.Tensor):
        image = Image.fromarray((image.detach().cpu().clamp(0, 1) * 255).round().byte().numpy(), mode="L")
    if isinstance(size, int):
        size = (size, size)
    return image.resize(size, Image.NEAREST)


def enlarge_by(image, factor):
    return image.resize((image.width * factor, image.height * factor), Image.NEAREST)


def generate_picture(generator, digit, z, size=DEFAULT_SIZE):
    """Model 1's picture of `digit` at latent point `z` (a list of numbers), size x size px."""
    digit, size = check_digit(digit), check_size(size)
    z = check_z(z, generator.z_dim) if not isinstance(z, torch.Tensor) else z
    return enlarge(generator.draw(z, [digit])[0], size)


def digits_strip(generator, z, factor=3):
    """The same z drawn as all ten digits, side by side: z is the style, y the digit."""
    z = check_z(z, generator.z_dim) if not isinstance(z, torch.Tensor) else z
    return strip_image(every_digit(generator, z.reshape(1, -1))[0], factor)


def every_digit(generator, z):
    """Each row of z (N, z_dim) drawn as all ten digits: (N, 10, 28, 28), in one decoder pass."""
    return generator.draw(z.repeat_interleave(Y_DIM, 0), list(range(Y_DIM)) * len(z)).view(len(z), Y_DIM, 28, 28)


def strip_image(images, factor=3):
    """Ten pictures (10, 28, 28) side by side, `factor` times larger."""
    return enlarge_by(to_grid_image(images, nrow=Y_DIM), factor)


def random_z(generator, seed=None):
    """A draw from the prior N(0, I), clamped to the sliders' range and rounded, as a list of floats."""
    seed = random.randrange(2**31) if seed is None else int(seed)
    g = torch.Generator(device=generator.device).manual_seed(seed)
    z = generator.sample_z(1, g)[0].clamp(-Z_LIMIT, Z_LIMIT).cpu()
    return [round(v, 2) for v in z.tolist()]  # what a slider shows and can be set to


def sample_grid(generator, digit, n=GRID_SAMPLES, seed=None, factor=2):
    """n samples of `digit` with z ~ N(0, I) drawn with `seed` (a random one when None), as an 8-wide grid."""
    digit, n = check_digit(digit), check_count(n, MAX_GRID_SAMPLES, "samples")
    seed = random.randrange(MAX_SEED + 1) if seed is None else check_seed(seed)
    z = generator.sample_z(n, torch.Generator(device=generator.device).manual_seed(seed))
    return enlarge_by(to_grid_image(generator.draw(z, [digit] * n), nrow=8), factor)


def morph_digits(generator, z, from_digit, to_digit, frames=MORPH_FRAMES, factor=3):
    """One style z, its label sliding from one digit to another: a strip of `frames` pictures."""
    a, b = check_digit(from_digit), check_digit(to_digit)
    frames = check_count(frames, MAX_MORPH_FRAMES, "frames")
    z = check_z(z, generator.z_dim) if not isinstance(z, torch.Tensor) else z
    t = torch.linspace(0, 1, frames)[:, None]
    weights = (1 - t) * one_hot([a]) + t * one_hot([b])
    images = generator.draw(z.expand(frames, -1), weights)
    return enlarge_by(to_grid_image(images, nrow=frames), factor)


def morph_z(generator, digit, z_from, z_to, frames=MORPH_FRAMES, factor=3):
    """One digit, its style sliding in a straight line from z_from to z_to."""
    digit = check_digit(digit)
    frames = check_count(frames, MAX_MORPH_FRAMES, "frames")
    z0, z1 = check_z(z_from, generator.z_dim), check_z(z_to, generator.z_dim)
    t = torch.linspace(0, 1, frames)[:, None]
    images = generator.draw((1 - t) * z0 + t * z1, [digit] * frames)
    return enlarge_by(to_grid_image(images, nrow=frames), factor)


def png_data_url(image):
    """A PIL image as a data: URL of its PNG."""
    buffer = io.BytesIO()
    image.save(buffer, "PNG", compress_level=1)  # level 1: these pictures are tiny, and speed is what counts
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def inline_picture(image, alt, download_name, scale=DEFAULT_SIZE // 28):
    """HTML for a gr.HTML output: the model's small picture inline in the page's answer (a data: URL, so the page
    needs no second request for a file), shown larger by CSS with hard pixel edges (class "pixelated" on the
    component), and a link that downloads it `scale` x larger."""
    return (f'<img src="{png_data_url(image)}" alt="{html.escape(alt)}" width="{image.width}" '
            f'height="{image.height}">'
            f'<a class="download every-language" href="{png_data_url(enlarge_by(image, scale))}" '
            f'download="{html.escape(download_name)}">{DOWNLOAD_LINK}</a>')


# ---------------------------------------------------------------------------------------------------------------
# Reading a drawing or an upload

def read_upload(path):
    """An uploaded file -> a PIL image; a file that is not a usable image -> gr.Error saying why."""
    if not path:
        return None
    try:
        return open_image(path)
    except ImageError as e:  # the message names the server's copy of the file: show the visitor its name only
        message = str(e).replace(str(path), Path(path).name)
        raise InputError.of("upload_unusable", reason=message) from None


def upload_path(value):
    """The path in an upload event's value: a str, or the FileData dict that gradio passes when the event skips
    preprocessing (it does, so that a broken image reaches open_image and gets a clear message)."""
    if isinstance(value, dict):
        return value.get("path")
    return value or None


def to_model_input(image):
    """Any picture (a Sketchpad value, a PIL image, an array) -> (28, 28) tensor, or None when blank.
    A tensor is taken to be that already."""
    if image is None or isinstance(image, torch.Tensor):
        return image
    try:
        return to_mnist_image(image)
    except ImageError as e:
        raise InputError.of("image_unusable", reason=e) from None


def classify(classifier, image):
    """-> (label, seen): `label` is {digit: probability} for gr.Label, or BLANK_MESSAGE when there is no ink;
    `seen` is the 28 x 28 image the model was given, enlarged, or None. `image` is any picture, or the
    (28, 28) tensor that to_model_input made of one."""
    x = to_model_input(image)
    if x is None:
        return BLANK_MESSAGE, None
    return labels_of(classifier, x[None])[0], enlarge(x, DEFAULT_SIZE)


def labels_of(classifier, xs):
    """Model 2's reading of each picture of xs (N, 28, 28): {digit: probability} dicts, each as if read alone (the
    same draws of z for every picture)."""
    g = torch.Generator(device=classifier.device).manual_seed(CLASSIFY_SEED)
    probs = classifier.predict_probs(xs, samples=CLASSIFY_SAMPLES, generator=g, same_noise=True).cpu()
    return [{str(d): float(p) for d, p in enumerate(row)} for row in probs]


def predicted_digit(label):
    return int(max(label, key=label.get)) if isinstance(label, dict) else None


def style_strip(generator, image, digit, factor=3):
    """Style transfer: z = the mean of q(z|x, y) from model 1's encoder, drawn as all ten digits."""
    x = to_model_input(image)
    if x is None or digit is None:
        return None
    return strip_image(every_digit(generator, generator.encode(x[None], [check_digit(digit)]))[0], factor)


# --- Batches: the requests of many visitors in one forward pass (demo/batching.py) ----------------------------------

def _by_models(items, n):
    """The indices of `items` grouped by their first `n` entries (the models they run on): [(models, indices)]."""
    groups = {}
    for i, item in enumerate(items):
        groups.setdefault(tuple(id(m) for m in item[:n]), (item[:n], []))[1].append(i)
    return list(groups.values())


@torch.inference_mode()
def read_batch(items):
    """[(classifier, generator, x)], x a (28, 28) picture -> [(model 2's label, x's style z drawn as every digit
    (10, 28, 28), model 1's second opinion)], each as if read alone: per pair of models, one pass of each."""
    out = [None] * len(items)
    for (classifier, generator), indices in _by_models(items, 2):
        xs = torch.stack([items[i][2] for i in indices])
        labels = labels_of(classifier, xs)
        styles = every_digit(generator, generator.encode(xs, [predicted_digit(label) for label in labels]))
        for i, label, style, opinion in zip(indices, labels, styles, second_opinions(generator, xs)):
            out[i] = (label, style, opinion)
    return out


@torch.inference_mode()
def every_digit_batch(items):
    """[(generator, z)], z checked (1, z_dim) -> [z drawn as every digit (10, 28, 28)]: one pass per generator."""
    out = [None] * len(items)
    for (generator,), indices in _by_models(items, 1):
        for i, images in zip(indices, every_digit(generator, torch.cat([items[i][1] for i in indices]))):
            out[i] = images
    return out
