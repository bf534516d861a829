"""The write-up's formula in numbers for given pictures: -ELBO = KL(q(z|x,y) || p(z)) - E_q[log p(.|.)], each term
evaluated on its own with the very Pixyz loss objects the model is trained with (cvae.models.elbo_loss builds them;
`model.loss` holds them), not a second copy of the maths.

Model 1 (generator): the reconstruction term is -E_q[log p(x|z,y)], how well z drawn from q redraws the picture.
Model 2 (classifier): it is -E_q[log p(y|x,z)], how surely the model names the digit y given x and such a z.
"""
import threading

import torch
from torch.distributions import kl_divergence

from .models import X_DIM, one_hot

SEED = 0                    # the z that E_q draws: the same picture gets the same numbers every time
TEST_BATCH = 100            # test digits per pass for the reference figures: each pass holds the lock below

# Pixyz evaluates a loss by setting each distribution's parameters on the distribution object itself (set_dist):
# two threads evaluating at once would mix their pictures.
_one_at_a_time = threading.Lock()


def loss_terms(model):
    """The two terms of model.loss, mean(KL - E), as Pixyz built them: (KullbackLeibler(q, prior),
    Expectation(q, LogProb(p)))."""
    difference = model.loss.loss1   # MeanLoss of a SubLoss
    return difference.loss1, difference.loss2


@torch.inference_mode()
def elbo_terms(model, x, digits, seed=SEED, eps=None):
    """The terms of -ELBO for each picture of x (N, 28, 28) or (N, 784) in [0, 1] with its digit (N whole digits):
    a dict of tensors on the CPU: `reconstruction` (N,) = -E_q[log p], `kl` (N,), `neg_elbo` (N,) their sum, in
    nats; `kl_per_dim` (N, Z) the KL split over the z dimensions (it sums to `kl`); `z_mean`, `z_std` (N, Z): the
    posterior q(z|x,y). E_q is estimated with one z drawn from q, z = mu + sigma * eps, as the Expectation draws it in
    training, but with `eps` (N, Z) given, or drawn from a generator of its own seeded with `seed`: torch's global
    one, which a training in another thread draws from, is left alone. Its integrand is the Expectation's own
    LogProb(p)."""
    kl, expectation = loss_terms(model)
    inputs = {"x": x.reshape(-1, X_DIM).float().to(model.device), "y": one_hot(digits, model.device)}
    was_training = model.training
    model.eval()
    try:
        with _one_at_a_time:
            kl_value = kl.eval(inputs)
            # The distributions the KL term has just set: torch's own KL of each dimension (their sum is kl_value).
            z_mean, z_std = model.q.dist.loc, model.q.dist.scale
            kl_per_dim = kl_divergence(model.q.dist, model.prior.dist).expand_as(z_mean)
            if eps is None:
                eps = torch.randn(z_mean.shape, generator=torch.Generator().manual_seed(seed)).to(z_mean.device)
            reconstruction = -expectation.f.eval({**inputs, "z": z_mean + z_std * eps})
    finally:
        model.train(was_training)
    out = {"reconstruction": reconstruction, "kl": kl_value, "neg_elbo": kl_value + reconstruction,
           "kl_per_dim": kl_per_dim, "z_mean": z_mean, "z_std": z_std}
    return {k: v.detach().float().cpu() for k, v in out.items()}


def reference_figures(model, x_test, y_test, seed=SEED):
    """-ELBO of each test digit by its own label, sorted, per digit: {digit: (n,) tensor}. What a picture's figure
    is compared with ("lower than 80 % of test 7s")."""
    values = torch.cat([elbo_terms(model, x_test[i:i + TEST_BATCH], y_test[i:i + TEST_BATCH], seed)["neg_elbo"]
                        for i in range(0, len(x_test), TEST_BATCH)])
    labels = torch.as_tensor(y_test).cpu()
    return {d: values[labels == d].sort().values for d in range(10) if (labels == d).any()}


def share_above(sorted_values, value):
    """The share of `sorted_values` (a sorted 1-D tensor) above `value`: 0.8 means lower than 80 % of them."""
    if len(sorted_values) == 0:
        return None
    below_or_equal = torch.searchsorted(sorted_values, torch.tensor(float(value)), right=True).item()
    return 1 - below_or_equal / len(sorted_values)
