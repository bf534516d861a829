"""python -m benchmarks: the hand-written PyTorch loss it times Pixyz against, and cvae.fastpath's one-pass Pixyz
loss, both equal the plain Pixyz loss on the same batch and noise; and a --quick run reports every measurement."""
import copy
import json
import math
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from benchmarks.torch_step import torch_loss
from cvae.data import load_sample
from cvae.fastpath import OnePassELBO
from cvae.models import CVAE, one_hot

ROOT = Path(__file__).resolve().parent.parent
CASES = [("generator", "conv"), ("generator", "mlp"), ("classifier", "conv")]


@pytest.fixture(scope="module")
def batch():
    data = load_sample()
    return {"x": data.x_train[:64], "y": one_hot(data.y_train[:64])}


def loss_and_grads(model, loss_fn, seed=7):
    """The loss and its gradients in training mode (dropout on), with the random numbers from `seed`."""
    model.train()
    model.zero_grad()
    torch.manual_seed(seed)
    loss = loss_fn()
    loss.backward()
    return loss.detach(), [p.grad.clone() for p in model.parameters()]


@pytest.mark.parametrize("kind,arch", CASES)
def test_torch_loss_equals_pixyz_loss(kind, arch, batch):
    torch.manual_seed(0)
    model = CVAE(kind, arch)
    pixyz, pixyz_grads = loss_and_grads(model, lambda: model.loss.eval(batch))
    plain, plain_grads = loss_and_grads(model, lambda: torch_loss(model, batch["x"], batch["y"]))
    torch.testing.assert_close(plain, pixyz, rtol=1e-5, atol=1e-5)
    for a, b in zip(plain_grads, pixyz_grads):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("kind,arch", CASES)
def test_fastpath_loss_equals_pixyz_loss_with_one_encoder_pass(kind, arch, batch):
    torch.manual_seed(0)
    model = CVAE(kind, arch)
    fast = copy.deepcopy(model)
    one_pass_loss = OnePassELBO(fast.p, fast.q, fast.prior)
    pixyz, pixyz_grads = loss_and_grads(model, lambda: model.loss.eval(batch))
    calls = []
    fast.q.register_forward_hook(lambda *_: calls.append(1))
    one_pass, one_pass_grads = loss_and_grads(fast, lambda: one_pass_loss.eval(batch))
    assert len(calls) == 1
    torch.testing.assert_close(one_pass, pixyz, rtol=1e-6, atol=1e-6)
    for a, b in zip(one_pass_grads, pixyz_grads):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-7)
    assert str(one_pass_loss) == str(model.loss)


def is_number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


REPORTED = ["pixyz_vs_torch_step_ratio", "pixyz_step_ms", "torch_step_ms", "mlp_pixyz_vs_torch_step_ratio",
            "plain_pixyz_vs_torch_step_ratio", "slider_p95_ms_http", "sketch_p95_ms_http", "grid_p95_ms_http",
            "classifier_pixyz_vs_torch_step_ratio", "classifier_pixyz_step_ms", "classifier_torch_step_ms",
            "epoch_seconds_generator", "epoch_seconds_classifier", "data_share", "slider_p95_ms", "sketch_p95_ms",
            "grid_p95_ms", "load_errors", "load_p95_ms", "load_requests", "generate_p95_ms_while_training",
            "rss_mb_idle", "rss_growth_after_1000", "cuda"]


def test_quick_benchmark_reports_every_measurement():
    run = subprocess.run([sys.executable, "-m", "benchmarks", "--quick"], cwd=ROOT, capture_output=True, text=True,
                         timeout=240)
    assert run.returncode == 0, run.stderr[-2000:]
    result = json.loads(run.stdout.strip().splitlines()[-1])
    for key in REPORTED:
        assert key in result, key
        value = result[key]
        if value is None:
            assert result["skipped"].get(key), f"{key} is null without a reason"
        elif key == "cuda":
            assert all(is_number(result["cuda"][k]) for k in ("pixyz_vs_torch_step_ratio", "epoch_seconds_generator"))
        else:
            assert is_number(value), (key, value)
    assert result["quick"] is True
    assert result["epoch_images"] == 1000
    assert set(result["targets_met"]) >= {"pixyz_vs_torch_step_ratio", "slider_p95_ms", "load_errors"}
