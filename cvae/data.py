"""MNIST as tensors on the device, with a bundled real sample for machines without the data set or a network.

The whole set is held as one float tensor per split: training batches are slices of a shuffled index, and the
classifier's augmentation runs on the batch (see `augment`), so nothing per sample happens in the loop.
"""
import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as F

SAMPLE_FILE = Path(__file__).with_name("mnist_sample.npz")
SAMPLE_NOTICE = ("Full MNIST not found and it could not be downloaded: using the bundled sample of real MNIST "
                 "({n_train} training, {n_test} test images). Results on it are not comparable to full MNIST.")


@dataclass
class MNIST:
    x_train: torch.Tensor  # (N, 784) float in [0, 1]
    y_train: torch.Tensor  # (N,) long
    x_test: torch.Tensor
    y_test: torch.Tensor
    source: str            # "full" or "sample"
    notice: str = ""       # shown to the user when the data is not the full set

    def to(self, device):
        return MNIST(self.x_train.to(device), self.y_train.to(device), self.x_test.to(device),
                     self.y_test.to(device), self.source, self.notice)


def default_data_dir(data_dir=None):
    """--data-dir, else $CVAE_DATA_DIR, else a per-user cache folder."""
    if data_dir:
        return Path(data_dir)
    if os.environ.get("CVAE_DATA_DIR"):
        return Path(os.environ["CVAE_DATA_DIR"])
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache) / "cvae" / "mnist"


def _as_tensors(images, labels):
    x = torch.as_tensor(np.asarray(images), dtype=torch.uint8).reshape(-1, 784).float().div_(255)
    return x, torch.as_tensor(np.asarray(labels)).long()


def _load_torchvision(root, download):
    from torchvision.datasets import MNIST as TorchvisionMNIST
    train = TorchvisionMNIST(root, train=True, download=download)
    test = TorchvisionMNIST(root, train=False, download=download)
    return _as_tensors(train.data, train.targets) + _as_tensors(test.data, test.targets)


def load_sample():
    with np.load(SAMPLE_FILE) as f:
        parts = _as_tensors(f["x_train"], f["y_train"]) + _as_tensors(f["x_test"], f["y_test"])
    notice = SAMPLE_NOTICE.format(n_train=len(parts[0]), n_test=len(parts[2]))
    return MNIST(*parts, source="sample", notice=notice)


def load_mnist(data_dir=None, device="cpu", download=True, allow_sample=True):
    """MNIST through torchvision from `default_data_dir(data_dir)`, downloading it when it is missing and the
    network allows; failing both, the bundled sample, with a visible notice."""
    root = default_data_dir(data_dir)
    try:
        data = MNIST(*_load_torchvision(root, download=False), source="full")
    except (RuntimeError, OSError):
        data = None
        if download:
            try:
                data = MNIST(*_load_torchvision(root, download=True), source="full")
            except Exception as e:  # no network, no space, a mirror down: all end in the sample
                reason = f"{type(e).__name__}: {e}"
        else:
            reason = "download disabled"
        if data is None:
            if not allow_sample:
                raise FileNotFoundError(f"MNIST is not at {root} and could not be downloaded ({reason})")
            data = load_sample()
            warnings.warn(data.notice, stacklevel=2)
    return data.to(device)


def make_sample(data, n_train=4000, n_test=1000, seed=0, path=SAMPLE_FILE):
    """Cut a class-balanced sample from the full set and write it as compressed uint8 (scripts/make_mnist_sample.py)."""
    rng = np.random.default_rng(seed)

    def pick(y, n):
        y = y.cpu().numpy()
        idx = np.concatenate([rng.permutation(np.flatnonzero(y == d))[: n // 10] for d in range(10)])
        return np.sort(idx)

    i_tr, i_te = pick(data.y_train, n_train), pick(data.y_test, n_test)
    to_u8 = lambda x: (x.cpu().numpy() * 255).round().astype(np.uint8).reshape(-1, 28, 28)  # noqa: E731
    np.savez_compressed(path, x_train=to_u8(data.x_train[i_tr]), y_train=data.y_train[i_tr].cpu().numpy().astype(np.uint8),
                        x_test=to_u8(data.x_test[i_te]), y_test=data.y_test[i_te].cpu().numpy().astype(np.uint8))
    return path


def batches(n, batch_size, shuffle=True, generator=None, device="cpu"):
    """Index tensors of one epoch's batches."""
    order = torch.randperm(n, generator=generator).to(device) if shuffle else torch.arange(n, device=device)
    return order.split(batch_size)


def _pixel_centres(device):
    """(3, 784): the x and y of each pixel's centre in [-1, 1] (align_corners=False), and a row of ones."""
    c = (torch.arange(28, device=device) * 2 + 1) / 28 - 1
    return torch.stack([c.repeat(28), c.repeat_interleave(28), torch.ones(784, device=device)])


def augment(x, generator=None):
    """Random affine (rotation, scale, shear, shift) and stroke width, on a whole batch at once: what a person's
    drawing differs from MNIST by, after `to_mnist_image` has normalised size and position."""
    n, dev = len(x), x.device
    u = lambda lo, hi: torch.rand(n, generator=generator).mul(hi - lo).add(lo).to(dev)  # noqa: E731
    angle, scale, shear = u(-0.26, 0.26), u(0.85, 1.15), u(-0.3, 0.3)
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.stack([torch.stack([cos, shear * cos - sin, u(-0.12, 0.12)], -1),
                         torch.stack([sin, shear * sin + cos, u(-0.12, 0.12)], -1)], 1)       # (n, 2, 3)
    # Where each output pixel samples the input, in grid_sample's [-1, 1] coordinates: what F.affine_grid gives
    # for theta, as one plain matrix product with the pixel centres (F.affine_grid's batched product, and the same
    # sum written out with broadcasting, each cost more than the whole rest of the augmentation).
    grid = (theta.reshape(2 * n, 3) @ _pixel_centres(dev)).view(n, 2, 28, 28).permute(0, 2, 3, 1)
    img = F.grid_sample(x.view(n, 1, 28, 28), grid, align_corners=False, padding_mode="zeros")
    # Stroke width: a third of the images thicker (3 x 3 dilation), a third thinner (2 x 2 erosion), a third as they
    # are; which third is random, as the images come in random order. Maxima of shifted copies: the same as
    # max_pool2d, and many times faster on the CPU.
    k = n // 3
    p = F.pad(img[:k], (1, 1, 1, 1))
    rows = torch.maximum(torch.maximum(p[..., :, :-2], p[..., :, 1:-1]), p[..., :, 2:])
    thick = torch.maximum(torch.maximum(rows[..., :-2, :], rows[..., 1:-1, :]), rows[..., 2:, :])
    mid = img[k:2 * k]
    rows = torch.minimum(mid[..., :, :-1], mid[..., :, 1:])
    thin = F.pad(torch.minimum(rows[..., :-1, :], rows[..., 1:, :]), (0, 1, 0, 1))
    img = torch.cat([thick, torch.maximum(thin, 0.5 * mid), img[2 * k:]])
    return img.reshape(n, 784)
