"""The shipped generator as a second opinion meets the issue's targets (full MNIST test: CI has it, CVAE_DATA_DIR):
model 1 as a classifier >= 98 % on MNIST test; "not a digit" for real digits <= 1 % of MNIST test (the half its
threshold was not calibrated on) and <= 2 % of the drawn digits (every style); >= 60 % of cvae.non_digits flagged.
`python -m cvae evaluate --json` reports the same figures on the whole held-out half."""
import pytest
import torch

from cvae import second_opinion as so
from cvae.data import load_mnist
from cvae.drawn_digits import make_drawn_digits, make_style_digits
from cvae.evaluate import drawn_inputs
from cvae.non_digits import KINDS, make_non_digits
from cvae.preprocess import to_mnist_image
from cvae.weights import WEIGHTS_DIR, load_weights

EVERY = 4   # every 4th MNIST test image: 2,500, half of them held out from the calibration, ~2 min on two cores


@pytest.fixture(scope="module")
def generator():
    model = load_weights(WEIGHTS_DIR, "generator")
    assert so.calibration_of(model) is not None, "weights/generator.json has no threshold: python -m cvae calibrate"
    return model


def best_and_digit(generator, x):
    calibration = so.calibration_of(generator)
    scores = so.neg_elbo_many(generator, x, calibration["samples"], calibration["bound"], calibration["seed"])
    return scores.min(1).values, scores.argmin(1)


def test_model_1_names_mnist_digits_and_rarely_calls_one_not_a_digit(generator):
    data = load_mnist(download=False, allow_sample=True)
    if data.source != "full":
        pytest.skip("full MNIST is not present (set CVAE_DATA_DIR); the targets are defined on its test set")
    index = torch.arange(0, len(data.x_test), EVERY)
    best, digit = best_and_digit(generator, data.x_test[index])
    accuracy = (digit == data.y_test[index].cpu()).float().mean().item()
    assert accuracy >= 0.98, accuracy
    calibration = so.calibration_of(generator)
    held_out = index >= calibration["images"]  # the threshold was set on the first `images` test images
    assert held_out.sum() >= 1000
    false_alarms = (best[held_out] > calibration["threshold"]).float().mean().item()
    assert false_alarms <= 0.01, false_alarms


def test_drawn_digits_are_rarely_called_not_a_digit(generator):
    x, _ = drawn_inputs(make_drawn_digits(per_digit=30, seed=0) + make_style_digits(per_style=30, seed=0))
    best, _ = best_and_digit(generator, x)
    false_alarms = (best > so.calibration_of(generator)["threshold"]).float().mean().item()
    assert false_alarms <= 0.02, false_alarms


def test_most_non_digits_are_flagged(generator):
    items = make_non_digits(per_kind=60, seed=0)
    x = torch.stack([to_mnist_image(item.image) for item in items])
    best, _ = best_and_digit(generator, x)
    flagged = best > so.calibration_of(generator)["threshold"]
    by_kind = {kind: flagged[[i for i, item in enumerate(items) if item.kind == kind]].float().mean().item()
               for kind in KINDS}
    assert flagged.float().mean().item() >= 0.6, by_kind
    assert min(by_kind.values()) >= 0.4, by_kind  # no kind is left mostly unflagged
