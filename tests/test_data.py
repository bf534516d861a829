"""MNIST loading: the full set when present, else the bundled real sample with a visible notice."""
import os
import warnings

import pytest
import torch
from torch.nn import functional as F

from cvae.data import SAMPLE_FILE, augment, batches, default_data_dir, load_mnist, load_sample


def test_bundled_sample_is_small_real_and_balanced():
    assert SAMPLE_FILE.stat().st_size <= 3_000_000
    data = load_sample()
    assert data.x_train.shape == (4000, 784) and data.x_test.shape == (1000, 784)
    assert data.x_train.dtype == torch.float32 and 0 <= data.x_train.min() and data.x_train.max() == 1
    assert torch.bincount(data.y_train).tolist() == [400] * 10
    assert data.source == "sample" and "bundled sample" in data.notice


def test_offline_fallback_warns(tmp_path):
    with pytest.warns(UserWarning, match="bundled sample"):
        data = load_mnist(tmp_path, download=False)
    assert data.source == "sample"
    with pytest.raises(FileNotFoundError):
        load_mnist(tmp_path, download=False, allow_sample=False)


def test_data_dir_order(tmp_path, monkeypatch):
    monkeypatch.setenv("CVAE_DATA_DIR", str(tmp_path / "env"))
    assert default_data_dir(tmp_path / "flag") == tmp_path / "flag"
    assert default_data_dir() == tmp_path / "env"
    monkeypatch.delenv("CVAE_DATA_DIR")
    assert "cvae" in str(default_data_dir())


@pytest.mark.skipif(not os.environ.get("CVAE_DATA_DIR"), reason="full MNIST not configured (set CVAE_DATA_DIR)")
def test_full_mnist_from_data_dir():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no fallback notice
        data = load_mnist(download=False)
    assert data.source == "full" and data.notice == ""
    assert data.x_train.shape == (60000, 784) and data.x_test.shape == (10000, 784)
    assert torch.bincount(data.y_train)[:3].tolist() == [5923, 6742, 5958]


def test_batches_cover_an_epoch_once():
    idx = torch.cat(batches(1000, 128, generator=torch.Generator().manual_seed(0)))
    assert sorted(idx.tolist()) == list(range(1000))


def test_augment_keeps_shape_range_and_ink():
    x = load_sample().x_train[:64]
    a = augment(x, torch.Generator().manual_seed(0))
    assert a.shape == x.shape and 0 <= a.min() and a.max() <= 1
    assert not torch.equal(a, x)
    assert (a.sum(1) > 0.3 * x.sum(1)).all()  # no digit is pushed off the image or erased


def test_augment_samples_where_affine_grid_says(monkeypatch):
    """augment writes out F.affine_grid's sampling grid by hand (for speed); it must be the same grid."""
    import cvae.data
    seen = {}
    grid_sample = F.grid_sample

    def recording_grid_sample(img, grid, **kw):
        seen["grid"] = grid
        return grid_sample(img, grid, **kw)

    monkeypatch.setattr(cvae.data.F, "grid_sample", recording_grid_sample)
    augment(torch.rand(7, 784), torch.Generator().manual_seed(1))
    g = torch.Generator().manual_seed(1)  # the same draws, in augment's order
    u = lambda lo, hi: torch.rand(7, generator=g).mul(hi - lo).add(lo)  # noqa: E731
    angle, scale, shear = u(-0.26, 0.26), u(0.85, 1.15), u(-0.3, 0.3)
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.stack([torch.stack([cos, shear * cos - sin, u(-0.12, 0.12)], -1),
                         torch.stack([sin, shear * sin + cos, u(-0.12, 0.12)], -1)], 1)
    expected = F.affine_grid(theta, (7, 1, 28, 28), align_corners=False)
    torch.testing.assert_close(seen["grid"], expected, atol=1e-6, rtol=0)


def test_augment_handles_batches_smaller_than_three():
    for n in (1, 2):
        assert augment(torch.rand(n, 784)).shape == (n, 784)
