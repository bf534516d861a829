"""cvae/elbo_terms.py: the two terms of -ELBO for given pictures, evaluated with the models' own Pixyz loss
objects, add up to the loss the models are trained with, on the same batch and noise."""
import pytest
import torch

from cvae.data import load_sample
from cvae.elbo_terms import elbo_terms, loss_terms, share_above, reference_figures
from cvae.models import one_hot


@pytest.fixture(scope="module")
def test_batch():
    sample = load_sample()
    return sample.x_test[:64], sample.y_test[:64]


@pytest.mark.parametrize("kind", ["generator", "classifier"])
def test_the_two_terms_add_up_to_the_models_loss_on_the_same_batch_and_noise(models, test_batch, kind):
    model = dict(zip(["generator", "classifier"], models))[kind]
    x, y = test_batch
    # The noise Pixyz's Expectation draws (Normal.rsample from torch's generator seeded 3), given to the terms.
    torch.manual_seed(3)
    eps = torch.distributions.Normal(torch.zeros(len(x), model.z_dim), torch.ones(len(x), model.z_dim)).rsample()
    state = torch.get_rng_state()
    terms = elbo_terms(model, x, y, eps=eps)
    assert torch.equal(torch.get_rng_state(), state)  # the global generator is left alone
    torch.manual_seed(3)
    with torch.inference_mode():
        loss = model.loss.eval({"x": x.reshape(-1, 784).float(), "y": one_hot(y)})
    assert torch.allclose(terms["neg_elbo"], terms["kl"] + terms["reconstruction"])
    assert terms["neg_elbo"].mean().item() == pytest.approx(loss.item(), rel=1e-5)
    assert torch.allclose(terms["kl_per_dim"].sum(1), terms["kl"], rtol=1e-4, atol=1e-4)
    assert (terms["kl"] >= 0).all() and (terms["reconstruction"] >= 0).all()
    assert terms["z_mean"].shape == terms["z_std"].shape == (64, model.z_dim) and (terms["z_std"] > 0).all()
    # The terms are the loss object's own parts, not a copy.
    kl, expectation = loss_terms(model)
    assert model.loss.loss1.loss1 is kl and model.loss.loss1.loss2 is expectation


def test_the_same_picture_gets_the_same_numbers_and_another_picture_others(generator, test_batch):
    x, y = test_batch
    first, again = elbo_terms(generator, x[:2], y[:2]), elbo_terms(generator, x[:2], y[:2])
    assert torch.equal(first["neg_elbo"], again["neg_elbo"])
    assert first["neg_elbo"][0] != first["neg_elbo"][1]
    # A picture given the wrong digit is explained worse by model 1.
    wrong = elbo_terms(generator, x[:16], (y[:16] + 1) % 10)
    assert (wrong["neg_elbo"] > elbo_terms(generator, x[:16], y[:16])["neg_elbo"]).float().mean() > 0.8


def test_a_picture_is_compared_with_the_test_digits_of_its_label(generator, test_batch):
    sample = load_sample()
    figures = reference_figures(generator, sample.x_test, sample.y_test)
    assert set(figures) == set(range(10))
    sevens = figures[7]
    assert torch.equal(sevens, sevens.sort().values)
    assert share_above(sevens, sevens[0] - 1) == 1.0 and share_above(sevens, sevens[-1] + 1) == 0.0
    assert share_above(sevens, sevens[len(sevens) // 2]) == pytest.approx(0.5, abs=0.05)
