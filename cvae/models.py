"""The two conditional VAEs of the write-up, in Pixyz.

x: a 28 x 28 image in [0, 1], flattened to 784; y: the digit, one-hot (10); z: the latent.

Model 1 (generator):  p(x|z,y) Bernoulli, q(z|x,y) Normal, p(z) = N(0, I).
Model 2 (classifier): p(y|x,z) Categorical, q(z|x,y) Normal, p(z) = N(0, I).
Both minimise  KL(q(z|x,y) || p(z)) - E_q[log p(.|.)]  (see `elbo_loss`).

Two architectures: "mlp", the write-up's reference (784+10 -> 512 -> 512 -> loc, softplus scale; Z=64),
and "conv", the shipped default, Z=10 so that every latent dimension shows on a slider and z ~ N(0, I) rarely
lands where no digit was seen (the shipped classifier has Z=16, its JSON says so):
- model 1: an MLP encoder whose last layer is the digit's own (`ClassLinear`), and a conv decoder whose first
  layer is the digit's own and which sees y again at 7 x 7 and 14 x 14, so that a z drawn from the prior
  cannot overrule the digit asked for;
- model 2: a LeNet-sized CNN for p(y|x,z) (trained with augmentation towards drawn digits), an MLP encoder.
"""
import torch
from torch import nn
from torch.nn import functional as F
from pixyz.distributions import Bernoulli, Categorical, Normal
from pixyz.losses import Expectation, KullbackLeibler, LogProb

X_DIM, Y_DIM = 784, 10
KINDS = ("generator", "classifier")
ARCHS = {
    "mlp": {"z_dim": 64, "hidden": 512},
    "conv": {"z_dim": 10, "hidden": 512},
}


def mlp(n_in, hidden, n_out):
    return nn.Sequential(nn.Linear(n_in, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(),
                         nn.Linear(hidden, n_out))


class ClassLinear(nn.Module):
    """A linear layer with its own weights for each digit: the one-hot y picks W_y and b_y. Written as one Linear
    over the outer product [h, 1] (x) y, so that a batch of mixed digits is a single matrix product.

    Why: with shared weights, a style feature such as "round" lands in the same region of z for every digit, and
    that region is a hole for digits that are rarely round (7). A z drawn there from the prior then makes the
    generator draw a 0 when asked for a 7. With per-digit maps into and out of z, each digit fills the prior on
    its own, and far more of the samples are read as the digit asked for, at the same ELBO (docs/speed.md)."""

    def __init__(self, n_in, n_out):
        super().__init__()
        self.linear = nn.Linear((n_in + 1) * Y_DIM, n_out, bias=False)

    def forward(self, h, y):
        h = torch.cat([h, torch.ones_like(h[:, :1])], -1)
        return self.linear((h[:, :, None] * y[:, None, :]).flatten(1))


class ConvFeatures(nn.Module):
    """28 x 28 image -> a feature vector: a LeNet-sized CNN, cheap enough to train on two CPU cores."""

    def __init__(self, out_dim):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(1, 16, 5, padding=2), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),    # 14 x 14
            nn.Conv2d(16, 32, 5, padding=2), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),   # 7 x 7
            nn.Flatten(), nn.Linear(32 * 49, out_dim), nn.ReLU(), nn.Dropout(0.25))
        # Channels-last (NHWC) conv weights: oneDNN's convolutions, forward and backward, fp32 and bf16, run faster
        # so on CPU, in training and in prediction (docs/speed.md).
        # A layout only: the parameters' names, shapes and values are unchanged, loading copies into this layout,
        # and cvae.weights saves contiguous tensors.
        self.net.to(memory_format=torch.channels_last)

    def forward(self, x):
        return self.net(x.view(-1, 1, 28, 28))


class ConvDrawer(nn.Module):
    """(z, y) -> 784 logits. y is given again as feature maps at 7 x 7 and 14 x 14, so the digit's
    identity is in every layer and z is left to carry the style."""

    def __init__(self, z_dim, hidden, width=64):
        super().__init__()
        self.width = width
        self.z_to_hidden = ClassLinear(z_dim, hidden)
        self.fc = nn.Sequential(nn.ReLU(), nn.Linear(hidden, width * 49), nn.ReLU())
        self.up1 = nn.Sequential(nn.ConvTranspose2d(width + Y_DIM, width // 2, 4, 2, 1), nn.ReLU())   # 14 x 14
        self.up2 = nn.Sequential(nn.Conv2d(width // 2 + Y_DIM, width // 2, 3, padding=1), nn.ReLU(),
                                 nn.ConvTranspose2d(width // 2, 1, 4, 2, 1))                       # 28 x 28

    def forward(self, z, y):
        h = self.fc(self.z_to_hidden(z, y)).view(-1, self.width, 7, 7)
        h = self.up1(torch.cat([h, y[:, :, None, None].expand(-1, -1, 7, 7)], 1))
        h = self.up2(torch.cat([h, y[:, :, None, None].expand(-1, -1, 14, 14)], 1))
        return h.view(-1, X_DIM)


class Encoder(Normal):
    """q(z|x,y)"""

    def __init__(self, z_dim, hidden, per_digit=False):
        super().__init__(var=["z"], cond_var=["x", "y"], name="q")
        self.per_digit = per_digit
        if per_digit:  # the MLP trunk, then a last layer of its own for each digit (see ClassLinear)
            self.net = mlp(X_DIM + Y_DIM, hidden, hidden)[:-1]
            self.to_z = ClassLinear(hidden, 2 * z_dim)
        else:
            self.net = mlp(X_DIM + Y_DIM, hidden, 2 * z_dim)

    def forward(self, x, y):
        h = self.net(torch.cat([x, y], -1))
        # .float(): under bf16 autocast (cvae.train.mixed_precision) the networks run in bf16, but a distribution's
        # parameters stay fp32, so that log-probabilities and the KL are computed as precisely as without it.
        # On fp32 tensors .float() returns the tensor itself.
        loc, scale = (self.to_z(h, y) if self.per_digit else h).float().chunk(2, -1)
        return {"loc": loc, "scale": F.softplus(scale)}


class Generator(Bernoulli):
    """p(x|z,y)"""

    def __init__(self, arch, z_dim, hidden):
        super().__init__(var=["x"], cond_var=["z", "y"], name="p")
        self.net = mlp(z_dim + Y_DIM, hidden, X_DIM) if arch == "mlp" else ConvDrawer(z_dim, hidden)
        self.arch = arch

    def logits(self, z, y):
        return self.net(torch.cat([z, y], -1)) if self.arch == "mlp" else self.net(z, y)

    def forward(self, z, y):
        # fp32 (see Encoder.forward): a bf16 sigmoid rounds to exactly 0 or 1 past |logit| ~ 6, and log p with it.
        return {"probs": torch.sigmoid(self.logits(z, y).float())}


class Classifier(Categorical):
    """p(y|x,z)"""

    def __init__(self, arch, z_dim, hidden):
        super().__init__(var=["y"], cond_var=["x", "z"], name="p")
        if arch == "mlp":
            self.features, n_feat = nn.Identity(), X_DIM
        else:
            self.features, n_feat = ConvFeatures(out_dim=hidden), hidden
        self.net = mlp(n_feat + z_dim, hidden, Y_DIM)

    def logits(self, x, z, features=None):
        """`features` of x may be passed in, when several z are tried with one x."""
        return self.net(torch.cat([self.features(x) if features is None else features, z], -1))

    def forward(self, x, z):
        # fp32 (see Encoder.forward): bf16 probabilities do not sum to 1 closely enough for Pixyz's Categorical.
        return {"probs": F.softmax(self.logits(x, z).float(), -1)}


def elbo_loss(p, q, prior):
    """KL(q(z|x,y) || p(z)) - E_q(z|x,y)[log p], averaged over the batch: the negative ELBO, in nats."""
    return (KullbackLeibler(q, prior) - Expectation(q, LogProb(p))).mean()


class CVAE(nn.Module):
    """One of the two models: its distributions p, q, the prior, and the loss that trains them."""

    def __init__(self, kind="generator", arch="conv", z_dim=None, hidden=None):
        super().__init__()
        if kind not in KINDS:
            raise ValueError(f"unknown model {kind!r}; choose one of {', '.join(KINDS)}")
        if arch not in ARCHS:
            raise ValueError(f"unknown architecture {arch!r}; choose one of {', '.join(ARCHS)}")
        self.kind, self.arch = kind, arch
        self.z_dim = int(z_dim or ARCHS[arch]["z_dim"])
        self.hidden = int(hidden or ARCHS[arch]["hidden"])
        # Per-digit maps into z matter for model 1, whose pictures start from z ~ p(z); model 2's z carries next to
        # nothing (x tells y), and its plain MLP encoder is what the shipped classifier was trained with.
        self.q = Encoder(self.z_dim, self.hidden, per_digit=arch == "conv" and kind == "generator")
        self.p = (Generator if kind == "generator" else Classifier)(arch, self.z_dim, self.hidden)
        # Pixyz keeps the prior's loc and scale as buffers, so .to(device) moves them with the rest.
        self.prior = Normal(loc=torch.tensor(0.), scale=torch.tensor(1.), var=["z"],
                            features_shape=[self.z_dim], name="p_{prior}")
        # Pixyz losses are nn.Modules too; kept out of this module's tree, since they only refer to p, q and the
        # prior, which it holds already (else state_dict would list every tensor twice).
        self.__dict__["loss"] = elbo_loss(self.p, self.q, self.prior)

    @property
    def config(self):
        return {"kind": self.kind, "arch": self.arch, "z_dim": self.z_dim, "hidden": self.hidden}

    @property
    def device(self):
        return self.prior.loc.device

    def sample_z(self, n, generator=None):
        """z ~ N(0, I), drawn with `generator` (on whatever device it lives), returned on the model's device."""
        device = generator.device if generator is not None else self.device
        return torch.randn(n, self.z_dim, generator=generator, device=device).to(self.device)

    @torch.no_grad()
    def draw(self, z, digits):
        """Model 1's picture: the Bernoulli means p(x|z,y), as (N, 28, 28) in [0, 1]. `digits` are whole digits,
        or (N, 10) label weights (a morph between two digits is y sliding between two one-hot vectors)."""
        digits = torch.as_tensor(digits)
        y = digits.float().to(self.device) if digits.dim() == 2 else one_hot(digits, self.device)
        return self.p(z.to(self.device), y)["probs"].view(-1, 28, 28)

    @torch.no_grad()
    def predict_probs(self, x, samples=1, generator=None, same_noise=False):
        """Model 2's prediction: p(y|x,z) with z drawn from the prior, averaged over `samples` draws. `same_noise`:
        every picture gets the draws one picture alone would get (a batch of visitors' pictures, each answered as
        if read alone)."""
        x = x.reshape(-1, X_DIM).to(self.device)
        features = self.p.features(x)  # they do not depend on z
        probs = 0
        for _ in range(samples):
            z = self.sample_z(1, generator).expand(len(x), -1) if same_noise else self.sample_z(len(x), generator)
            probs = probs + F.softmax(self.p.logits(x, z, features), -1)
        return probs / samples

    @torch.no_grad()
    def encode(self, x, digits):
        """The mean of q(z|x,y): the style of x as a point in z."""
        y = one_hot(digits, self.device)
        return self.q(x.reshape(-1, X_DIM).to(self.device), y)["loc"]


def one_hot(digits, device=None):
    digits = torch.as_tensor(digits, device=device).long().reshape(-1)
    return F.one_hot(digits, Y_DIM).float()


def pick_device(name=None):
    """cuda, then mps, then cpu; `name` ("cpu", "cuda:1", ...) overrides."""
    if name:
        return torch.device(name)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")
