"""The CVAE's training step written by hand in plain PyTorch, on the model's own networks: the reference that
the Pixyz step is timed against, and that tests/test_benchmarks.py checks against the Pixyz loss."""
from contextlib import nullcontext

import torch
from torch.nn import functional as F


def torch_loss(model, x, y):
    """-ELBO averaged over the batch: analytic KL(q(z|x,y) || N(0, I)) plus -log p, with z = loc + scale * eps
    drawn as torch.distributions.Normal.rsample draws it (so a seeded run matches Pixyz's)."""
    q = model.q.forward(x, y)  # the encoder's networks, called directly
    loc, scale = q["loc"], q["scale"]
    z = loc + torch.randn_like(loc) * scale
    kl = 0.5 * (scale.pow(2) + loc.pow(2) - 1 - 2 * scale.log()).sum(-1)
    if model.kind == "generator":
        neg_log_p = F.binary_cross_entropy_with_logits(model.p.logits(z, y), x, reduction="none").sum(-1)
    else:
        neg_log_p = F.cross_entropy(model.p.logits(x, z), y.argmax(-1), reduction="none")
    return (kl + neg_log_p).mean()


class TorchStep:
    """One Adam step on `torch_loss`, as pixyz.models.Model.train does on the Pixyz loss. By default a plain eager
    fp32 step with torch's default Adam; `autocast` (a function returning the context the forward pass runs under)
    and `fused` make it the step cvae.train.pixyz_trainer takes, written by hand."""

    def __init__(self, model, lr, autocast=nullcontext, fused=False):
        self.model, self.autocast = model, autocast
        self.modules = torch.nn.ModuleList([model.p, model.q])
        self.optimizer = torch.optim.Adam(self.modules.parameters(), lr=lr, fused=fused)

    def train(self, batch):
        self.modules.train()
        self.optimizer.zero_grad()
        with self.autocast():
            loss = torch_loss(self.model, batch["x"], batch["y"])
        loss.backward()
        self.optimizer.step()
        return loss
