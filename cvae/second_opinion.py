"""Model 1 as a predictor: Bayes' rule with the generator, and its judgement of "a digit or not".

For a picture x, the ELBO of model 1 under each digit y bounds log p(x|y):

    log p(x|y) >= E_q(z|x,y)[log p(x|z,y)] - KL(q(z|x,y) || p(z))                       (the plain bound)
    log p(x|y) >= E[log 1/K sum_k p(x|z_k,y) p(z_k) / q(z_k|x,y)],  z_k ~ q(z|x,y)       (importance-weighted)

The importance-weighted bound (Burda et al.) equals the plain one on average for K = 1 and tightens as K grows.
With a uniform p(y), Bayes' rule turns the ten bounds into a posterior over digits, p(y|x) ~ exp(-neg_elbo(x, y));
and the best of the ten says how well *any* digit's generator explains x: beyond a threshold calibrated on MNIST
test, x does not look like a digit to model 1.

Everything is one forward pass: the ten digits and the K samples of every picture are a single batch of
N x 10 x K through the decoder (the encoder runs N x 10). The same noise is used for the ten digits (common random
numbers), so that their bounds differ by what the digits explain, not by the draw.

The calibration (threshold, and how it was found) lives in the generator's JSON under METADATA_KEY; the shipped
generator's was made by `python -m cvae calibrate`, a generator trained on the Train tab gets its own from
`calibrate_trained` after its final test figures.
"""
import json
import math
from pathlib import Path

import torch
from torch.nn import functional as F

from .models import X_DIM, Y_DIM

METADATA_KEY = "second_opinion"
BOUNDS = ("iw", "elbo")
# z samples per digit (10 x K decoder rows per picture): on the shipped generator, K = 8, 4 and 2 flag digits and
# non-digits alike (docs/speed.md, "Figures behind the code's choices"), K = 8 at twice the cost of K = 4; a
# threshold belongs to the K it was set with.
SAMPLES = 4
BOUND = "iw"                # the importance-weighted bound: tighter than the plain one at the same cost
QUANTILE = 0.995            # of MNIST test digits' best -ELBO: the threshold (0.5 % of them beyond it)
CALIBRATION_IMAGES = 5000   # the first half of MNIST test; the other half stays held out to measure false alarms
TRAINED_CALIBRATION_IMAGES = 250  # a model trained on the Train tab: few, so that its verdict comes seconds after
SEED = 0                    # the noise of the z samples: the same drawing gets the same answer every time
BATCH_IMAGES = 100          # pictures per forward pass when many are measured (N x 10 x K decoder rows)


def _noise(n, samples, z_dim, seed, device):
    """(n, samples, z_dim) standard normal noise from `seed` (None: torch's global generator)."""
    if seed is None:
        return torch.randn(n, samples, z_dim, device=device)
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, samples, z_dim, generator=g).to(device)


def bound(generator, x, y, samples=SAMPLES, kind=BOUND, eps=None):
    """-(the bound on log p(x|y)) in nats for each row of x (N, 784) with its label weights y (N, 10): (N,).

    kind "elbo": the analytic KL(q || p(z)) minus the mean over `samples` z of log p(x|z,y) (the training loss, per
    picture); "iw": -log of the mean importance weight p(x|z,y) p(z) / q(z|x,y) over `samples` z. `eps` (N, samples,
    z_dim): the standard normal noise of the z samples (default: drawn from torch's generator, as Pixyz draws)."""
    if kind not in BOUNDS:
        raise ValueError(f"unknown bound {kind!r}; choose one of {', '.join(BOUNDS)}")
    n = len(x)
    q = generator.q(x, y)
    loc, scale = q["loc"], q["scale"]
    if eps is None:
        eps = torch.randn(n, samples, loc.shape[-1], device=loc.device)
    samples = eps.shape[1]
    z = loc[:, None] + scale[:, None] * eps                                  # (N, K, Z)
    logits = generator.p.logits(z.reshape(n * samples, -1), y.repeat_interleave(samples, 0)).float()
    x_rep = x.repeat_interleave(samples, 0)
    # log Bernoulli(x | sigmoid(logits)), as torch's Bernoulli(logits=...) computes it
    log_px = -F.binary_cross_entropy_with_logits(logits, x_rep, reduction="none").sum(-1).view(n, samples)
    if kind == "elbo":
        kl = (-torch.log(scale) + (scale ** 2 + loc ** 2 - 1) / 2).sum(-1)
        return kl - log_px.mean(1)
    log_pz = -(z ** 2).sum(-1) / 2 - z.shape[-1] * math.log(2 * math.pi) / 2
    log_qz = -(eps ** 2).sum(-1) / 2 - torch.log(scale).sum(-1)[:, None] - z.shape[-1] * math.log(2 * math.pi) / 2
    log_w = log_px + log_pz - log_qz
    return -(torch.logsumexp(log_w, 1) - math.log(samples))


@torch.no_grad()
def neg_elbo_per_digit(generator, x, samples=SAMPLES, kind=BOUND, seed=SEED, same_noise=False):
    """-ELBO(x, y) for all ten y, in nats: (N, 10), for pictures x (N, 28, 28) or (N, 784) in [0, 1]. One forward
    pass of N x 10 x `samples` decoder rows; the same noise (from `seed`; None: torch's generator) for every y, and
    with `same_noise` for every picture too (each picture's bounds as if it were measured alone)."""
    x = x.reshape(-1, X_DIM).float().to(generator.device)
    n = len(x)
    if same_noise:
        eps = _noise(1, samples, generator.z_dim, seed, generator.device).expand(n, -1, -1)
    else:
        eps = _noise(n, samples, generator.z_dim, seed, generator.device)
    digits = torch.eye(Y_DIM, device=generator.device)
    out = bound(generator, x.repeat_interleave(Y_DIM, 0), digits.repeat(n, 1), kind=kind,
                eps=eps.repeat_interleave(Y_DIM, 0))
    return out.view(n, Y_DIM)


def neg_elbo_many(generator, x, samples=SAMPLES, kind=BOUND, seed=SEED, batch_images=BATCH_IMAGES):
    """neg_elbo_per_digit over many pictures, `batch_images` at a time (each batch its own noise from seed + i)."""
    was_training = generator.training
    generator.eval()
    try:
        parts = [neg_elbo_per_digit(generator, x[i:i + batch_images], samples, kind,
                                    None if seed is None else seed + i)
                 for i in range(0, len(x), batch_images)]
    finally:
        generator.train(was_training)
    return torch.cat(parts).cpu() if parts else torch.zeros(0, Y_DIM)


def posterior(neg_elbo):
    """Bayes' rule with a uniform p(y): p(y|x) ~ exp(-neg_elbo(x, y)), over the last axis."""
    return torch.softmax(-neg_elbo, -1)


# ---------------------------------------------------------------------------------------------------------------
# The threshold

def calibrate(generator, x, quantile=QUANTILE, samples=SAMPLES, kind=BOUND, max_images=CALIBRATION_IMAGES,
              seed=SEED, labels=None):
    """The threshold of "not a digit" for `generator`: the `quantile` of the best -ELBO of real digits x (MNIST
    test; the first `max_images` of them). Returns what to store under METADATA_KEY in the generator's metadata:
    {"threshold", "quantile", "samples", "bound", "images", "seed", "data", ...}; with `labels`, also model 1's
    accuracy as a classifier on those images. The cost: max_images x 10 x samples decoder rows, about 10 ms a
    picture at K = 4 on two CPU threads (the shipped generator's 5,000 took 49 s on two quiet cores)."""
    if not 0 < quantile < 1:
        raise ValueError(f"the quantile must be between 0 and 1, got {quantile}")
    x = x[:max_images]
    if len(x) == 0:
        raise ValueError("calibration needs at least one image")
    scores = neg_elbo_many(generator, x, samples, kind, seed)
    best = scores.min(1).values
    threshold = float(torch.quantile(best.double(), quantile))
    out = {"threshold": round(threshold, 3), "quantile": quantile, "samples": samples, "bound": kind,
           "images": len(x), "seed": seed, "data": "MNIST test",
           "median_best_neg_elbo": round(float(best.median()), 3)}
    if labels is not None:
        out["classifier_accuracy"] = round(float((scores.argmin(1) == labels[:max_images].cpu()).float().mean()), 5)
    return out


def calibrate_trained(generator, x_test, y_test=None, max_images=TRAINED_CALIBRATION_IMAGES):
    """For a trainer, after its final test figures: the calibration of a freshly trained generator on the first
    `max_images` of its test images, to store as `generator.metadata[METADATA_KEY]` (saved with it in its JSON).
    The same bound, K and quantile as the shipped generator's; with `y_test`, model 1's accuracy as a classifier
    too. The generator is left in the mode it was in."""
    calibration = calibrate(generator, x_test, max_images=max_images, labels=y_test)
    calibration["data"] = f"the first {calibration['images']} test images of the run's data"
    return calibration


def store_calibration(folder, name, calibration):
    """Write `calibration` under METADATA_KEY into folder/NAME.json, the generator's metadata; its .safetensors is
    never touched. The JSON is replaced atomically (cvae.weights), and only when it describes the tensors beside it
    (its sha256), so that a threshold is never stored for other weights than it was measured on."""
    from .weights import WeightsError, _atomic_write, read_metadata, sha256
    json_path = Path(folder) / f"{name}.json"
    meta = read_metadata(json_path)
    if meta.get("kind") != "generator":
        raise WeightsError(json_path, f"a threshold belongs to a generator (model 1), this is a {meta.get('kind')}")
    st_path = Path(folder) / meta.get("tensors", f"{name}.safetensors")
    if not st_path.is_file() or meta.get("sha256") != sha256(st_path):
        raise WeightsError(json_path, f"it does not describe {st_path.name} (sha256 differs): not updated")
    meta[METADATA_KEY] = calibration
    _atomic_write(json_path, lambda tmp: Path(tmp).write_text(json.dumps(meta, indent=1) + "\n"))
    return json_path


def calibration_of(generator):
    """The calibration stored with `generator` (its metadata's METADATA_KEY), or None when it has none."""
    found = (getattr(generator, "metadata", None) or {}).get(METADATA_KEY)
    if isinstance(found, dict) and isinstance(found.get("threshold"), (int, float)) \
            and math.isfinite(found["threshold"]):
        return found
    return None


# ---------------------------------------------------------------------------------------------------------------
# One picture's second opinion

def second_opinion(generator, x28):
    """Model 1's opinion of one picture x28 (28, 28) in [0, 1] -> a dict:
    "neg_elbo" (10,) nats, "probs" (10,) the posterior, "best" the lowest -ELBO, "digit" its y, "threshold" (None
    when the generator has no calibration), "is_digit" (True, False, or None when there is no threshold to judge
    by), with the bound's kind and K the threshold was calibrated with (the defaults when uncalibrated)."""
    return second_opinions(generator, x28[None])[0]


def second_opinions(generator, x28s):
    """second_opinion of each picture of x28s (N, 28, 28) in one forward pass, each answered as if alone (the same
    noise for every picture)."""
    calibration = calibration_of(generator)
    samples = int(calibration.get("samples", SAMPLES)) if calibration else SAMPLES
    kind = calibration.get("bound", BOUND) if calibration else BOUND
    seed = int(calibration.get("seed", SEED)) if calibration else SEED
    was_training = generator.training
    generator.eval()
    try:
        scores = neg_elbo_per_digit(generator, x28s, samples, kind, seed, same_noise=True).cpu()
    finally:
        generator.train(was_training)
    threshold = calibration["threshold"] if calibration else None
    opinions = []
    for row in scores:
        best = float(row.min())
        opinions.append({"neg_elbo": row, "probs": posterior(row), "best": best, "digit": int(row.argmin()),
                         "threshold": threshold, "is_digit": None if threshold is None else best <= threshold,
                         "samples": samples, "bound": kind})
    return opinions
