"""The training loss with q(z|x,y) evaluated once per step: the same maths, and the same noise, as `elbo_loss`.

`(KullbackLeibler(q, prior) - Expectation(q, LogProb(p))).mean()` runs the encoder twice in Pixyz 0.3: the KL
term builds q's distribution, then the prior's, and Pixyz's one-entry cache of distribution parameters
(`pixyz.utils.CACHE_SIZE = 1`) drops q's when the prior's comes in, so the Expectation runs the encoder again to
draw z. That second forward and its backward cost time over the same step in plain PyTorch, the more so the
larger the encoder's share of the step (`python -m benchmarks`, `plain_pixyz_vs_torch_step_ratio`). `OnePassELBO`
is a Pixyz loss that builds q once, takes the analytic KL and the reparameterised z from that one distribution, and
asks p for log p as the plain loss does; it draws the same random numbers in the same order, so on the same batch
and seed it gives the same loss and gradients.
`cvae.train.pixyz_trainer` trains with it, its forward pass under `cvae.train.mixed_precision` (bf16 autocast where
the hardware has bf16; the loss then equals the fp32 one to bf16 rounding, tests/test_benchmarks.py).
"""
from contextlib import nullcontext

from pixyz.losses import Expectation, KullbackLeibler, LogProb
from pixyz.losses.losses import Loss
from pixyz.utils import get_dict_values
from torch.distributions import kl_divergence


class OnePassELBO(Loss):
    """KL(q(z|x,y) || p(z)) - E_q(z|x,y)[log p], averaged over the batch, with one encoder pass."""

    def __init__(self, p, q, prior, autocast=nullcontext):
        """`autocast`: a function returning the context the forward pass runs under (cvae.train.mixed_precision);
        the backward pass runs outside it, as torch.autocast asks."""
        z = q.var[0]
        super().__init__(input_var=sorted(set(q.input_var) | set(p.input_var) - {z}))
        self.p, self.q, self.prior = p, q, prior
        self.autocast = autocast

    @property
    def _symbol(self):
        return (KullbackLeibler(self.q, self.prior) - Expectation(self.q, LogProb(self.p))).mean()._symbol

    def forward(self, x_dict, **kwargs):
        with self.autocast():
            self.q.set_dist(get_dict_values(x_dict, self.q.input_var, return_dict=True))
            q = self.q.dist
            self.prior.set_dist({})
            kl = kl_divergence(q, self.prior.dist)
            kl = kl.sum(dim=list(range(1, kl.dim())))
            z = {self.q.var[0]: q.rsample()}
            log_p = self.p.get_log_prob({**x_dict, **z})
            return (kl - log_p).mean(), z

