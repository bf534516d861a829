"""The Generate tab's "Explore the latent space" (demo/explore.py) without a browser: the latent map and its clicks,
the traversal chart, the effect ranking, real digits in z, the overlap of the digits in z, and links; and its
events over HTTP, as the page sends them."""
import base64
import io
import random

import numpy as np
import pytest
import torch
from PIL import Image

from demo import explore as e
from demo import handlers as h


@pytest.fixture(scope="module")
def sample():
    from cvae.data import load_sample
    data = load_sample()
    return data.x_test, data.y_test


def zeros(generator):
    return [0.0] * generator.z_dim


def cell(picture, col, row):
    """One digit of the map or chart as a (28, 28) tensor in [0, 1] (red channel; the digits are grey)."""
    box = picture.crop((col * e.CELL, row * e.CELL, (col + 1) * e.CELL, (row + 1) * e.CELL)).getchannel("R")
    return pixels(box.resize((28, 28), Image.NEAREST))


def pixels(image):
    return torch.from_numpy(np.asarray(image, dtype=np.float32) / 255)


# ---------------------------------------------------------------------------------------------------------------
# Which dimensions matter

def test_the_effect_ranking_puts_a_dimension_the_decoder_ignores_last_and_a_loud_one_first():
    from cvae.models import CVAE
    torch.manual_seed(0)
    model = CVAE("generator", "conv").eval()
    weight = model.p.net.z_to_hidden.linear.weight      # columns: z index * 10 + digit (ClassLinear)
    with torch.no_grad():
        weight[:, 3 * 10:4 * 10] = 0                    # z4 reaches nothing
        weight[:, 6 * 10:7 * 10] *= 20                  # z7 reaches everything, loudly
    effects = e.dimension_effects(model)
    assert len(effects) == model.z_dim and effects[3] == 0 and all(v >= 0 for v in effects)
    ranked = e.ranked_dimensions(model)
    assert ranked[0] == 6 and ranked[-1] == 3
    assert e.dimension_effects(model) is effects        # measured once per model


def test_the_shipped_generators_dimensions_differ_in_effect(generator):
    effects = e.dimension_effects(generator)
    ranked = e.ranked_dimensions(generator)
    assert sorted(ranked) == list(range(generator.z_dim))
    assert [effects[d] for d in ranked] == sorted(effects, reverse=True)
    assert effects[ranked[0]] > 0.05                    # moving it from -2 to +2 changes the picture


# ---------------------------------------------------------------------------------------------------------------
# The latent map

def test_the_map_is_a_grid_of_the_digit_over_two_dimensions_with_the_current_z_framed(generator):
    z = zeros(generator)
    z[2], z[5], z[7] = 1.0, -2.0, 1.5
    picture = e.latent_map(generator, 7, z, 2, 5)
    side = e.MAP_CELLS * e.CELL
    assert picture.size == (side, side) and picture.mode == "RGB"
    # z3 = 1.0 is column (1 + 3) / 0.5 = 8; z6 = -2.0 is row 12 - (-2 + 3) / 0.5 = 10 (up is positive)
    assert picture.getpixel((8 * e.CELL + e.CELL // 2, 10 * e.CELL)) == e.MARK
    assert picture.getpixel((2 * e.CELL + e.CELL // 2, 2 * e.CELL)) != e.MARK
    # the top-left cell is z3 = -3, z6 = +3, the other dimensions as in z
    corner = torch.tensor([z])
    corner[0, 2], corner[0, 5] = -3.0, 3.0
    assert (cell(picture, 0, 0) - generator.draw(corner, [7])[0]).abs().max() < 0.01


def test_the_map_keeps_the_other_dimensions_and_the_digit(generator):
    z = zeros(generator)
    base = e.latent_map(generator, 4, z, 0, 1).tobytes()
    z[5] = 2.5
    assert e.latent_map(generator, 4, z, 0, 1).tobytes() != base
    assert e.latent_map(generator, 9, zeros(generator), 0, 1).tobytes() != base


@pytest.mark.parametrize("dims", [(1, 1), (0, 10), (-1, 2), (True, 2), ("z0", 1), (0.5, 1), (None, 1)])
def test_the_map_refuses_dimensions_that_are_not_two_of_z(generator, dims):
    with pytest.raises(h.InputError):
        e.latent_map(generator, 3, zeros(generator), *dims)


def test_a_dimension_may_be_named_as_the_dropdown_shows_it():
    assert e.check_dimensions("z3", "Z10", 10) == (2, 9)


def centre(col, row):
    """The pixel at the centre of the map's cell in this column and row."""
    return col * e.CELL + e.CELL / 2, row * e.CELL + e.CELL / 2


def test_a_click_on_a_cells_centre_moves_the_two_sliders_to_its_values():
    z = [0.3] * 10
    moved = e.map_click(z, 2, 5, centre(8, 10))
    assert moved[2] == 1.0 and moved[5] == -2.0
    assert [v for i, v in enumerate(moved) if i not in (2, 5)] == [0.3] * 8
    assert e.map_click(z, 0, 1, centre(0, 0))[:2] == [-3.0, 3.0]
    assert e.map_click(z, 0, 1, centre(12, 12))[:2] == [3.0, -3.0]
    assert e.map_click(z, 0, 1, centre(6, 6))[:2] == [0.0, 0.0]


def test_a_click_between_cells_lands_between_their_values_on_the_sliders_steps():
    side = e.MAP_CELLS * e.CELL
    x, y = e.map_click([0.0] * 10, 0, 1, (side * 0.6, side * 0.3))[:2]
    assert 0 < x < 1 and 0 < y < 2
    assert round(x / 0.05, 6).is_integer() and round(y / 0.05, 6).is_integer()


def test_a_click_on_the_maps_edge_or_beyond_is_clamped_to_the_sliders_range():
    assert e.map_click([0.0] * 10, 0, 1, (0, 0))[:2] == [-3.0, 3.0]
    assert e.map_click([0.0] * 10, 0, 1, (10_000, 10_000))[:2] == [3.0, -3.0]


@pytest.mark.parametrize("index", [None, (1,), ("a", 2), (float("nan"), 3), (float("inf"), 0)])
def test_a_click_without_a_point_gets_a_message(index):
    with pytest.raises(h.InputError):
        e.map_click([0.0] * 10, 0, 1, index)


# ---------------------------------------------------------------------------------------------------------------
# The traversal chart

def test_the_chart_has_a_labelled_row_per_dimension_from_minus_3_to_plus_3(generator):
    z = zeros(generator)
    z[4] = 1.2
    chart = e.traversal_chart(generator, 2, z)
    n = generator.z_dim
    assert chart.size == (e.LABEL_WIDTH + e.TRAVERSAL_STEPS * e.CELL, e.HEADER_HEIGHT + n * e.CELL)
    cells = chart.crop((e.LABEL_WIDTH, e.HEADER_HEIGHT, chart.width, chart.height))
    # row z5, first step: z5 = -3, the others as in z
    expected = torch.tensor([z])
    expected[0, 4] = -3.0
    assert (cell(cells, 0, 4) - generator.draw(expected, [2])[0]).abs().max() < 0.01
    # every row has its label (dark text on the white label column), and the header its step values
    for d in range(n):
        label = chart.crop((0, e.HEADER_HEIGHT + d * e.CELL, e.LABEL_WIDTH, e.HEADER_HEIGHT + (d + 1) * e.CELL))
        assert pixels(label.convert("L")).min() < 0.4, f"row {d} has no label"
    assert pixels(chart.crop((e.LABEL_WIDTH, 0, chart.width, e.HEADER_HEIGHT)).convert("L")).min() < 0.4
    # z5 = 1.2 is nearest to the step +1 (the 5th): framed in orange
    assert chart.getpixel((e.LABEL_WIDTH + 4 * e.CELL + e.CELL // 2, e.HEADER_HEIGHT + 4 * e.CELL)) == e.MARK


def test_the_chart_follows_the_digit_and_z(generator):
    base = e.traversal_chart(generator, 2, zeros(generator)).tobytes()
    assert e.traversal_chart(generator, 5, zeros(generator)).tobytes() != base
    assert e.traversal_chart(generator, 2, [1.0] * generator.z_dim).tobytes() != base
    with pytest.raises(h.InputError):
        e.traversal_chart(generator, 11, zeros(generator))


# ---------------------------------------------------------------------------------------------------------------
# Real digits in z

def test_a_real_digits_style_is_its_posterior_mean_as_the_sliders_show_it(generator, sample):
    images, labels = sample
    _, x, label = e.random_test_digit(images, labels, random.Random(3))
    z = e.encode_style(generator, x, label)
    mean = generator.encode(x.reshape(1, 784), [label])[0].clamp(-3, 3)
    assert len(z) == generator.z_dim
    assert all(round(v / 0.05, 6).is_integer() for v in z)
    assert max(abs(a - b) for a, b in zip(z, mean.tolist())) <= 0.025 + 1e-6


def test_the_reconstruction_looks_like_the_real_digit(generator, sample):
    images, labels = sample
    for i in (0, 1, 2):
        x, label = images[i].view(28, 28), int(labels[i])
        picture = e.reconstruction(generator, x, label)
        assert picture.size == (h.DEFAULT_SIZE, h.DEFAULT_SIZE)
        small = pixels(picture.resize((28, 28), Image.NEAREST))
        other = images[(labels != label).nonzero()[0, 0]].view(28, 28)
        assert (small - x).abs().mean() < 0.5 * (small - other).abs().mean()


def test_a_random_test_digit_comes_with_its_label(sample):
    images, labels = sample
    i, x, label = e.random_test_digit(images, labels, random.Random(0))
    assert x.shape == (28, 28) and torch.equal(x.flatten(), images[i]) and label == int(labels[i])


# ---------------------------------------------------------------------------------------------------------------
# Where the digits live

def test_knn_accuracy_is_1_for_separate_digits_and_near_chance_for_mixed_ones():
    g = torch.Generator().manual_seed(0)
    labels = torch.arange(10).repeat(100)
    separate = torch.randn(1000, 2, generator=g) * 0.1 + labels[:, None] * 5.0
    assert e.knn_accuracy(separate, labels) == 1.0
    mixed = torch.randn(1000, 2, generator=g)
    assert 0.0 <= e.knn_accuracy(mixed, labels) < 0.2


def test_the_digits_overlap_in_the_shipped_generators_top_two_dimensions(generator, sample):
    """For a CVAE the digit is in y, not in z: from the two dimensions shown, a nearest-neighbour vote does not
    tell the digits apart much better than chance (10 %)."""
    images, labels = sample
    dim_x, dim_y = e.ranked_dimensions(generator)[:2]
    in_two, in_all = e.overlap(generator, images, labels, dim_x, dim_y)
    print(f"k-NN digit accuracy on {len(labels)} test digits: {in_two:.1%} from z{dim_x + 1}, z{dim_y + 1}; "
          f"{in_all:.1%} from all of z")
    assert in_two < 0.3
    assert e.posterior_means(generator, images, labels) is e.posterior_means(generator, images, labels)
    assert "guessing gives 10 %" in e.overlap_text(generator, images, labels, dim_x, dim_y)


def test_the_scatter_has_every_test_digit_in_order_and_the_current_z_last(generator, sample):
    images, labels = sample
    means = e.posterior_means(generator, images, labels)
    z = zeros(generator)
    z[1], z[3] = 1.25, -0.5
    frame = e.scatter_frame(means, labels, z, 1, 3)
    n = len(labels)
    assert list(frame.columns) == ["x", "y", "digit"] and len(frame) == n + 1 + e.HERE_RING
    assert list(frame["digit"][:n]) == sorted(str(int(d)) for d in labels)
    here = frame[n:]
    assert set(here["digit"]) == {e.HERE} and here.iloc[0].tolist() == [1.25, -0.5, e.HERE]
    assert ((here["x"] - 1.25) ** 2 + (here["y"] + 0.5) ** 2).max() ** 0.5 <= e.HERE_RADIUS + 1e-6
    first = int(torch.argsort(labels, stable=True)[0])
    assert abs(frame["x"][0] - float(means[first, 1])) < 1e-3 and abs(frame["y"][0] - float(means[first, 3])) < 1e-3


# ---------------------------------------------------------------------------------------------------------------
# Links

@pytest.mark.parametrize("query,expected", [
    ({}, (None, None)),
    ({"digit": "7"}, (7, [0.0] * 10)),
    ({"digit": " 2 "}, (2, [0.0] * 10)),
    ({"digit": "x"}, (None, None)),
    ({"digit": "12"}, (None, None)),
    ({"digit": "-1"}, (None, None)),
    ({"digit": "7.5", "z": "1"}, (None, [1.0] + [0.0] * 9)),
    ({"digit": "3", "z": ""}, (3, [0.0] * 10)),
    ({"digit": "3", "z": "1.5,-1"}, (3, [1.5, -1.0] + [0.0] * 8)),
    ({"z": "nan,1e9,-1e9,inf,abc,,0.333"}, (None, [0.0, 3.0, -3.0, 0.0, 0.0, 0.0, 0.35, 0.0, 0.0, 0.0])),
    ({"z": ",".join(["1"] * 500)}, (None, [1.0] * 10)),
])
def test_a_link_sets_what_it_can_and_ignores_or_clamps_the_rest(query, expected):
    assert e.parse_link(query, 10) == expected


def test_a_huge_link_is_read_quickly():
    digit, z = e.parse_link({"digit": "4", "z": "1," * 1_000_000}, 10)
    assert digit == 4 and z == [1.0] * 10


# ---------------------------------------------------------------------------------------------------------------
# The inline pictures of the tab (demo.handlers)

def test_an_inline_picture_is_the_png_itself_and_a_larger_download():
    image = h.enlarge(torch.rand(28, 28), 28)
    markup = h.inline_picture(image, "a <digit>", "digit.png")
    src = markup.split('src="')[1].split('"')[0]
    shown = Image.open(io.BytesIO(base64.b64decode(src.split(",", 1)[1])))
    assert shown.size == (28, 28) and shown.tobytes() == image.tobytes()
    href = markup.split('href="')[1].split('"')[0]
    download = Image.open(io.BytesIO(base64.b64decode(href.split(",", 1)[1])))
    assert download.size == (280, 280) and 'download="digit.png"' in markup
    assert "a &lt;digit&gt;" in markup


# ---------------------------------------------------------------------------------------------------------------
# The section's events over HTTP, as the page sends them

@pytest.fixture(scope="module")
def raw(served_app):
    from benchmarks.app_server import RawClient
    client = RawClient(served_app[0])
    try:
        yield client
    finally:
        client.close()


def test_a_map_click_answers_with_the_sliders_and_the_picture_without_the_queue(raw):
    assert raw.endpoints["explore_map_click"][2] is False          # one POST, as a slider move
    z = [0.5] * 10
    _, _, out = raw.call("/explore_map_click", 3, 0, 1, *z, event_data={"index": [0, 0], "value": None})
    assert out[:2] == [-3.0, 3.0] and out[2:10] == [0.5] * 8
    assert out[10].startswith("<img src=\"data:image/png;base64,")
    with pytest.raises(Exception, match="two different"):
        raw.call("/explore_map_click", 3, 1, 1, *z, event_data={"index": [0, 0], "value": None})


def test_the_map_and_the_chart_are_redrawn_by_name(raw):
    for name, args in [("/explore_map", (3, 0, 1, *[0.0] * 10)), ("/explore_traversal", (3, *[0.0] * 10))]:
        _, _, out = raw.call(name, *args)
        assert out[0]["url"]
    with pytest.raises(Exception, match="digit"):
        raw.call("/explore_traversal", "x", *[0.0] * 10)


def test_the_test_digits_load_once(served_app):
    images, labels = e.test_digits()
    assert images.shape[1] == 784 and len(images) == len(labels) >= 1000
    assert 0 <= float(images.min()) and float(images.max()) <= 1 and set(labels.tolist()) == set(range(10))
    assert e.test_digits() is e.test_digits()


def write_idx(folder, images, labels, image_magic=b"\x00\x00\x08\x03"):
    raw = folder / "MNIST" / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    n = len(labels)
    (raw / "t10k-images-idx3-ubyte").write_bytes(image_magic + n.to_bytes(4, "big") + (28).to_bytes(4, "big") * 2
                                                 + bytes(images))
    (raw / "t10k-labels-idx1-ubyte").write_bytes(b"\x00\x00\x08\x01" + n.to_bytes(4, "big") + bytes(labels))


def test_mnists_raw_test_files_are_read_as_torchvision_leaves_them(tmp_path):
    pixels = (np.arange(3 * 784) % 256).astype(np.uint8)
    write_idx(tmp_path, pixels, [7, 0, 3])
    images, labels = e.read_test_set(tmp_path)
    assert images.shape == (3, 784) and labels.tolist() == [7, 0, 3]
    assert torch.allclose(images.flatten(), torch.from_numpy(pixels).float() / 255)


def test_missing_or_broken_raw_files_are_not_read(tmp_path):
    assert e.read_test_set(tmp_path) is None
    write_idx(tmp_path, np.zeros(2 * 784 - 5, dtype=np.uint8), [1, 2])                  # cut short
    assert e.read_test_set(tmp_path) is None
    write_idx(tmp_path, np.zeros(2 * 784, dtype=np.uint8), [1, 2], image_magic=b"PK\x03\x04")
    assert e.read_test_set(tmp_path) is None
