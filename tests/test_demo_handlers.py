"""The demo's shared handlers called directly, as the tabs call them: checks, pictures, reading digits and uploads."""
import math
import os
from pathlib import Path

import gradio as gr
import numpy as np
import pytest
from conftest import png_claiming
import torch
from PIL import Image

from demo import handlers as h


def blocks_are_flat(image, block):
    """Every block x block tile is one grey level: nearest-neighbour enlargement, no smoothing."""
    a = np.asarray(image)
    tiles = a.reshape(a.shape[0] // block, block, a.shape[1] // block, block)
    return bool((tiles.max(axis=(1, 3)) == tiles.min(axis=(1, 3))).all())


# --- Generate ---------------------------------------------------------------------------------------------------

def test_generate_picture_is_large_sharp_and_of_the_asked_size(generator):
    zero = [0.0] * generator.z_dim
    picture = h.generate_picture(generator, 3, zero)
    assert picture.size == (280, 280) and picture.mode == "L"
    assert blocks_are_flat(picture, 10)
    assert np.ptp(np.asarray(picture)) > 64  # a digit is drawn, not a flat field
    for size in (28, 100, 1024):
        assert h.generate_picture(generator, 3, zero, size).size == (size, size)


def test_zero_and_random_z(generator):
    z = h.random_z(generator, seed=1)
    assert len(z) == generator.z_dim and all(-h.Z_LIMIT <= v <= h.Z_LIMIT for v in z)
    assert z == h.random_z(generator, seed=1) and z != h.random_z(generator, seed=2)
    zero = h.generate_picture(generator, 5, [0.0] * generator.z_dim)
    assert np.abs(np.asarray(zero, float) - np.asarray(h.generate_picture(generator, 5, z), float)).mean() > 1
    # An empty z means zeros (the API's default).
    assert torch.equal(h.parse_z_text("", generator.z_dim), torch.zeros(1, generator.z_dim))


def test_out_of_range_z_is_clamped_to_the_sliders_range(generator):
    big = h.generate_picture(generator, 2, [100.0] + [0.0] * (generator.z_dim - 1))
    at_limit = h.generate_picture(generator, 2, [h.Z_LIMIT] + [0.0] * (generator.z_dim - 1))
    assert np.array_equal(np.asarray(big), np.asarray(at_limit))


def test_grid_of_64_strip_of_ten_and_morphs(generator):
    grid = h.sample_grid(generator, 7, seed=0)
    assert grid.size == ((8 * 30 + 2) * 2,) * 2  # 8 x 8 tiles of 28 px with 2 px gaps, doubled
    assert np.array_equal(np.asarray(grid), np.asarray(h.sample_grid(generator, 7, seed=0)))
    z = [0.0] * generator.z_dim
    strip = h.digits_strip(generator, z)
    assert strip.size == ((10 * 30 + 2) * 3, 32 * 3)
    morph = h.morph_digits(generator, z, 1, 7)
    assert morph.size == ((h.MORPH_FRAMES * 30 + 2) * 3, 32 * 3)
    # Tile i spans (2 + 30 i) * 3 ... + 84 px across; rows 6 ... 90.
    frames = np.asarray(morph)[6:90, 6:6 + 90 * h.MORPH_FRAMES].reshape(84, h.MORPH_FRAMES, 90)[:, :, :84]
    assert np.abs(frames[:, 0].astype(float) - frames[:, -1]).mean() > 5  # a 1 ends as a 7
    assert h.morph_z(generator, 4, z, h.random_z(generator, seed=3)).size == morph.size


@pytest.mark.parametrize("digit", [10, -1, 3.5, "x", None, float("nan"), True])
def test_a_digit_outside_0_to_9_is_refused(generator, digit):
    with pytest.raises(gr.Error, match="digit"):
        h.generate_picture(generator, digit, [0.0] * generator.z_dim)


@pytest.mark.parametrize("z", ["nan,0...", "inf,0...", "1,2,3", "[1, 2", '{"a": 1}', "a,b", "0," * 5000 + "0"])
def test_bad_z_is_refused_with_a_message(generator, z):
    z = z.replace(",0...", ",0" * (generator.z_dim - 1))  # NaN or inf among as many numbers as z has
    with pytest.raises(gr.Error) as e:
        h.parse_z_text(z, generator.z_dim)
    assert "z" in str(e.value.message)


def test_z_text_forms(generator):
    n = generator.z_dim
    assert h.parse_z_text(", ".join(["0.5"] * n), n).shape == (1, n)
    assert h.parse_z_text(str([0.5] * n), n).tolist() == [[0.5] * n]


@pytest.mark.parametrize("size", [0, 27, 1025, 10**9, float("inf"), 100.5])
def test_bad_sizes_and_counts_are_refused(generator, size):
    with pytest.raises(gr.Error, match="size"):
        h.generate_picture(generator, 3, [0.0] * generator.z_dim, size)
    with pytest.raises(gr.Error, match="samples"):
        h.sample_grid(generator, 3, n=10_000)


@pytest.mark.parametrize("seed", [-1, h.MAX_SEED + 1, 1.5, float("nan"), "x", True, None])
def test_a_seed_outside_0_to_max_is_refused(seed):
    with pytest.raises(gr.Error, match="seed"):
        h.check_seed(seed)


def test_grid_seeds_are_checked(generator):
    assert h.sample_grid(generator, 3, 4, seed="7").tobytes() == h.sample_grid(generator, 3, 4, seed=7).tobytes()
    with pytest.raises(gr.Error, match="seed"):
        h.sample_grid(generator, 3, seed=-5)


def test_each_picture_is_a_new_file_written_once(generator, tmp_path):
    from gradio.utils import get_upload_folder

    from demo.pictures import PictureStore
    store = PictureStore()
    assert Path(get_upload_folder()).resolve() in store.folder.parents  # gradio serves it as it is, no copy
    picture = h.generate_picture(generator, 3, [0.0] * generator.z_dim)
    first = store.save(picture)
    stat = os.stat(first)
    second = store.save(picture)  # the same picture again: another file; the first is not touched
    assert first != second and first in store and second in store
    assert Path(first).read_bytes() == Path(second).read_bytes()
    assert (os.stat(first).st_ino, os.stat(first).st_mtime_ns) == (stat.st_ino, stat.st_mtime_ns)
    with Image.open(first) as image:
        assert image.format == "PNG" and np.array_equal(np.asarray(image), np.asarray(picture))
    assert store.save(None) is None
    assert not [p for p in store.folder.iterdir() if p.name.startswith(".")]  # no half-written file left


# --- Draw -------------------------------------------------------------------------------------------------------

def test_a_drawn_one_reads_as_1(classifier, generator, drawn_one):
    label, seen = h.classify(classifier, drawn_one)
    assert h.predicted_digit(label) == 1, label
    assert math.isclose(sum(label.values()), 1, rel_tol=1e-4)
    assert seen.size == (280, 280) and blocks_are_flat(seen, 10)
    assert label == h.classify(classifier, drawn_one)[0]  # fixed prior draws: the same answer every time
    style = h.style_strip(generator, drawn_one, 1)
    assert style.size == ((10 * 30 + 2) * 3, 32 * 3)


def test_a_blank_canvas_asks_for_a_digit(classifier, generator):
    white = np.full((800, 800, 3), 255, np.uint8)
    assert h.classify(classifier, white) == (h.BLANK_MESSAGE, None)
    assert h.style_strip(generator, white, 3) is None


@pytest.mark.parametrize("mode", ["CMYK", "I;16", "P", "LA", "RGBA", "1", "F"])
def test_uploads_in_any_image_mode_are_read(classifier, drawn_one, tmp_path, mode):
    grey = drawn_one.convert("L")
    if mode == "I;16":
        image = Image.fromarray(np.asarray(grey).astype(np.uint16) * 257)
    elif mode == "LA":
        image = Image.merge("LA", (grey, Image.new("L", grey.size, 255)))
    else:
        image = drawn_one.convert(mode)
    path = tmp_path / ("one.tiff" if mode in ("CMYK", "F") else "one.png")
    image.save(path)
    label, _ = h.classify(classifier, h.read_upload(str(path)))
    assert h.predicted_digit(label) == 1, (mode, label)


@pytest.mark.parametrize("content,message", [
    (b"hello, not a picture", "could not be read as an image"),
    ("truncated", "could not be read as an image"),
    (png_claiming(20000, 20000), "too large"),
])
def test_bad_uploads_get_a_clear_message(drawn_one, tmp_path, content, message):
    path = tmp_path / "upload.png"
    if content == "truncated":
        drawn_one.save(path)
        content = path.read_bytes()[:400]
    path.write_bytes(content)
    with pytest.raises(gr.Error, match=message) as e:
        h.read_upload(str(path))
    assert str(tmp_path) not in e.value.message  # names the file, not the server's folders
