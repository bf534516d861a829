"""The shipped weights meet the quality targets on the full MNIST test set (CI has it: CVAE_DATA_DIR)."""
import json

import pytest
import torch

from cvae import evaluate as ev
from cvae.data import load_mnist
from cvae.weights import WEIGHTS_DIR, load_weights, sha256


@pytest.fixture(scope="module")
def mnist():
    data = load_mnist(download=False, allow_sample=True)
    if data.source != "full":
        pytest.skip("full MNIST is not present (set CVAE_DATA_DIR); the targets are defined on its test set")
    return data


@pytest.fixture(scope="module")
def shipped():
    return {name: load_weights(WEIGHTS_DIR, name) for name in ("generator", "classifier", "judge")}


def test_shipped_files_match_their_metadata():
    for name in ("generator", "classifier", "judge"):
        meta = json.loads((WEIGHTS_DIR / f"{name}.json").read_text())
        assert meta["sha256"] == sha256(WEIGHTS_DIR / f"{name}.safetensors"), name


def test_classifier_accuracy_with_z_from_the_prior(mnist, shipped):
    acc = ev.accuracy(shipped["classifier"], mnist.x_test, mnist.y_test, generator=torch.Generator().manual_seed(0))
    assert acc >= 0.993


def test_generator_test_neg_elbo(mnist, shipped):
    torch.manual_seed(0)
    assert ev.neg_elbo(shipped["generator"], mnist.x_test, mnist.y_test) <= 93.0


def test_generator_draws_the_digit_asked_for(mnist, shipped):
    judge = shipped["judge"]
    assert (judge.predict(mnist.x_test) == mnist.y_test).float().mean() >= 0.99  # the judge itself is sound
    acc, per_digit = ev.generation_accuracy(shipped["generator"], judge, per_digit=100, seed=0)
    assert acc >= 0.99, per_digit


def test_drawn_digits_that_are_not_mnist(shipped):
    assert ev.drawn_accuracy(shipped["classifier"], per_digit=30, seed=0) >= 0.96


def test_common_ways_of_writing_digits_are_read(shipped):
    """The flagged 1, the 1 with a base, the crossed 7, the open 4 and the 9 with a straight stem (30 of each)."""
    by_style = ev.drawn_accuracy_by_style(shipped["classifier"], per_style=30, seed=0)
    assert set(by_style) >= {"1/flag", "1/flag_foot", "7/crossbar", "4/open", "9/straight_tail"}
    assert min(by_style.values()) >= 0.9, by_style
