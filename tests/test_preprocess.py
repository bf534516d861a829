"""to_mnist_image: the same digit gives the same 28 x 28 wherever, however large and in whatever ink form it is
drawn; blank and broken inputs give clear answers."""
import io
import struct
import zlib

import numpy as np
import pytest
import torch
from PIL import Image

from cvae.drawn_digits import INK_FORMS, TEMPLATES, render_strokes
from cvae.preprocess import ImageError, open_image, to_mnist_image

SEVEN = TEMPLATES[7]["crossbar"]


def drawn(strokes, canvas=800, height=400, left=200, top=200, width=None):
    """The strokes (unit box) scaled to `height` px at (left, top), brush proportional to the size."""
    pixel_strokes = [np.asarray(s) * height + (left, top) for s in strokes]
    return render_strokes(pixel_strokes, canvas, width or height / 14)


def composite(mask):
    return Image.fromarray(255 - np.asarray(mask))


def diff(a, b):
    return (a - b).abs().mean().item()


def test_output_is_mnist_shaped():
    x = to_mnist_image(composite(drawn(SEVEN)))
    assert x.shape == (28, 28) and x.dtype == torch.float32
    assert 0 <= x.min() and x.max() <= 1 and x.max() > 0.9
    rows, cols = torch.nonzero(x > 0.1, as_tuple=True)
    assert max(rows.max() - rows.min(), cols.max() - cols.min()) + 1 <= 21  # the longer side fits 20 px
    mass = x.sum()
    cy = (x.sum(1) * torch.arange(28)).sum() / mass
    cx = (x.sum(0) * torch.arange(28)).sum() / mass
    assert abs(cy - 13.5) <= 1 and abs(cx - 13.5) <= 1  # centred by centre of mass


def test_same_digit_at_another_place_size_and_form():
    reference = to_mnist_image(composite(drawn(SEVEN)))
    variants = {
        "moved to a corner": composite(drawn(SEVEN, left=20, top=380)),
        "small": composite(drawn(SEVEN, height=120, left=600, top=50)),
        "large": composite(drawn(SEVEN, height=740, left=120, top=30)),
        "thin brush": composite(drawn(SEVEN, width=8)),
        "rgba layer": INK_FORMS["layer"](drawn(SEVEN), np.random.default_rng(0))[0],
        "light on dark": Image.fromarray(np.asarray(drawn(SEVEN))),
        "smaller canvas": composite(drawn(SEVEN, canvas=(500, 300), height=250, left=300, top=20)),
        "numpy rgb": np.stack([np.asarray(composite(drawn(SEVEN)))] * 3, -1),
    }
    for name, image in variants.items():
        assert diff(to_mnist_image(image), reference) < 0.06, name
    other_digit = to_mnist_image(composite(drawn(TEMPLATES[0]["oval"])))
    assert diff(other_digit, reference) > 0.1  # the comparison can tell digits apart


def test_photo_of_ink_on_paper():
    reference = to_mnist_image(composite(drawn(SEVEN)))
    photo, _ = INK_FORMS["photo"](drawn(SEVEN), np.random.default_rng(1))
    assert diff(to_mnist_image(photo), reference) < 0.08


@pytest.mark.parametrize("image", [
    Image.new("L", (800, 800), 255), Image.new("RGBA", (800, 800), (0, 0, 0, 0)),
    Image.new("RGB", (800, 800), (30, 30, 30)), np.zeros((28, 28)), Image.new("L", (1, 1), 0),
], ids=["white", "transparent", "dark", "zeros", "one pixel"])
def test_blank_gives_none(image):
    assert to_mnist_image(image) is None


def test_single_dot_is_refused_with_a_message():
    dot = drawn([np.array([[0.5, 0.5], [0.5, 0.5]])], width=30)
    with pytest.raises(ImageError, match="dot"):
        to_mnist_image(composite(dot))


def test_line_across_the_whole_canvas():
    line = render_strokes([np.array([[0, 400], [800, 400]])], 800, 20)
    x = to_mnist_image(composite(line))
    assert x is not None and x.shape == (28, 28)


def test_sketchpad_values():
    layer = INK_FORMS["layer"](drawn(SEVEN), np.random.default_rng(0))[0]
    reference = to_mnist_image(layer)
    white = Image.new("RGBA", (800, 800), (255, 255, 255, 255))
    assert diff(to_mnist_image({"composite": None, "layers": [layer], "background": white}), reference) < 0.06
    assert diff(to_mnist_image({"composite": None, "layers": [np.asarray(layer)], "background": None}),
                reference) < 0.06
    assert to_mnist_image({"composite": None, "layers": [], "background": white}) is None
    assert to_mnist_image({"composite": None, "layers": [], "background": None}) is None
    assert to_mnist_image({"background": white, "layers": [], "composite": white}) is None


@pytest.mark.parametrize("mode", ["CMYK", "I;16", "I", "P", "LA", "1", "F", "RGBA"])
def test_unusual_modes(mode):
    reference = to_mnist_image(composite(drawn(SEVEN)))
    image = composite(drawn(SEVEN))
    if mode == "I;16":
        image = Image.fromarray(np.asarray(image).astype(np.uint16) * 257).convert("I;16")
    else:
        image = image.convert(mode)
    assert diff(to_mnist_image(image), reference) < 0.08, mode


def png_bytes(image):
    buf = io.BytesIO()
    image.save(buf, "PNG")
    return buf.getvalue()


def png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def huge_png(side, real_data):
    """A greyscale PNG that says it is side x side; with real_data, all of its (zero) rows compressed: a bomb."""
    header = png_chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0))
    if real_data:
        z, row, parts = zlib.compressobj(9), bytes(side + 1), []
        parts = [z.compress(row) for _ in range(side)] + [z.flush()]
        data = b"".join(parts)
    else:
        data = zlib.compress(bytes(side + 1))
    return b"\x89PNG\r\n\x1a\n" + header + png_chunk(b"IDAT", data) + png_chunk(b"IEND", b"")


@pytest.mark.parametrize("content, pattern", [
    (huge_png(20000, real_data=False), "too large"),
    (huge_png(20000, real_data=True), "too large"),
    (b"this is not an image at all", "could not be read"),
    (png_bytes(Image.new("L", (400, 400), 128))[:200], "could not be read"),
], ids=["huge", "decompression bomb", "not an image", "truncated png"])
def test_broken_uploads(tmp_path, content, pattern):
    path = tmp_path / "upload.png"
    path.write_bytes(content)
    with pytest.raises(ImageError, match=pattern):
        open_image(path)


def test_arrays_that_are_not_images():
    for bad in [np.zeros((4, 4, 7)), np.array([]), np.full((8, 8), np.nan), np.zeros((2, 2, 2, 2))]:
        with pytest.raises(ImageError):
            to_mnist_image(bad)
