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

from benchmarks.__main__ import check_targets
from benchmarks.torch_step import torch_loss
from cvae.data import load_sample
from cvae.fastpath import OnePassELBO
from cvae.models import CVAE, one_hot
from cvae.train import cpu_has_bf16, mixed_precision, pixyz_trainer

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


def bf16_autocast():
    return torch.autocast("cpu", dtype=torch.bfloat16)


@pytest.mark.parametrize("kind,arch", CASES)
def test_bf16_loss_equals_fp32_pixyz_loss_to_bf16_rounding(kind, arch, batch):
    """The training step's loss under bf16 autocast (forced here, so that any CPU checks it) against the fp32 Pixyz
    loss, same batch and noise. bf16 keeps 8 significant bits: one rounding is off by up to 2^-9 (2e-3) relative.
    Each layer rounds its inputs and weights so, but sums in fp32, and the distributions' parameters and log p stay
    fp32 (cvae.models), so the loss may be off by at most about one such rounding: rtol 4e-3 (measured: below
    1e-4). The gradient as a whole within 5 % (measured: under 1.5 %; single parameters whose true gradient is
    about 0, the conv biases just before a batch norm, are all rounding noise, hence the whole)."""
    torch.manual_seed(0)
    model = CVAE(kind, arch)
    fast = copy.deepcopy(model)
    bf16_loss = OnePassELBO(fast.p, fast.q, fast.prior, autocast=bf16_autocast)
    fresh = lambda: {k: v.clone() for k, v in batch.items()}  # noqa: E731  (Pixyz memoises by input tensor)
    fp32, fp32_grads = loss_and_grads(model, lambda: model.loss.eval(fresh()))
    bf16, bf16_grads = loss_and_grads(fast, lambda: bf16_loss.eval(fresh()))
    assert bf16.dtype == torch.float32
    torch.testing.assert_close(bf16, fp32, rtol=4e-3, atol=0)
    fp32_grad, bf16_grad = torch.cat([g.flatten() for g in fp32_grads]), torch.cat([g.flatten() for g in bf16_grads])
    assert (bf16_grad - fp32_grad).norm() <= 0.05 * fp32_grad.norm()
    # The distributions' parameters are fp32 under autocast too: at initialisation the logits are small and a bf16
    # sigmoid would still pass the check above; after training they are large, and bf16 rounds sigmoid to 0 or 1.
    with bf16_autocast():
        q = fast.q(x=batch["x"], y=batch["y"])
        p = fast.p(**{name: {**batch, "z": q["loc"]}[name] for name in fast.p.cond_var})
    assert all(v.dtype == torch.float32 for v in [*q.values(), *p.values()])


def test_training_step_runs_its_networks_in_bf16_where_the_cpu_has_it(batch):
    """pixyz_trainer's loss runs under mixed_precision: bf16 layers on a CPU with AVX512-BF16 or AMX, fp32 else."""
    model = CVAE("generator", "conv")
    dtypes = []
    model.q.net.register_forward_hook(lambda module, args, out: dtypes.append(out.dtype))
    pixyz_trainer(model, 1e-3).train({k: v.clone() for k, v in batch.items()})
    assert dtypes == [torch.bfloat16 if cpu_has_bf16() else torch.float32]
    assert not torch.is_autocast_enabled("cpu")  # left as it was
    assert not isinstance(mixed_precision("meta"), torch.autocast)  # a device with no bf16 path trains in fp32


def test_targets_at_least_and_at_most():
    met = check_targets({"train_speedup_vs_eager_generator": 1.5, "train_speedup_vs_eager_classifier": 1.2,
                         "data_share": 0.01, "slider_p95_ms": 80})
    assert met["train_speedup_vs_eager_generator"] is True and met["train_speedup_vs_eager_classifier"] is False
    assert met["data_share"] is True and met["slider_p95_ms"] is False and met["load_errors"] is None


def is_number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


REPORTED = ["pixyz_vs_torch_step_ratio", "pixyz_step_ms", "torch_step_ms", "mlp_pixyz_vs_torch_step_ratio",
            "plain_pixyz_vs_torch_step_ratio", "slider_p95_ms_http", "sketch_p95_ms_http", "grid_p95_ms_http",
            "classifier_pixyz_vs_torch_step_ratio", "classifier_pixyz_step_ms", "classifier_torch_step_ms",
            "epoch_seconds_generator", "epoch_seconds_classifier", "data_share", "slider_p95_ms", "sketch_p95_ms",
            "grid_p95_ms", "load_errors", "load_p95_ms", "load_requests", "generate_p95_ms_while_training",
            "rss_mb_idle", "rss_growth_after_1000", "cuda",
            "train_speedup_vs_eager_generator", "train_speedup_vs_eager_classifier", "train_images_per_s_generator",
            "eager_images_per_s_generator", "train_speedup_vs_eager_generator_cli",
            "train_speedup_vs_eager_classifier_cli", "train_threads", "train_threads_cli",
            "map_click_p95_ms_http", "map_p95_ms_http", "traversal_p95_ms_http", "slider_p95_ms_browser",
            "slider_median_ms_browser", "sketch_answer_p95_ms_http", "sketch_answer_p95_ms_browser",
            "sketch_answer_median_ms_browser", "first_picture_ms_browser", "first_picture_p95_ms_browser"]
REPORTED += ["second_opinion_p95_ms_http"]  # model 1's second opinion over HTTP (benchmarks/latency.py)

REPORTED += [f"visitors{n}_{figure}" for n in (10, 40)  # many visitors at once (benchmarks/visitors.py)
             for figure in ("slider_p50_ms", "slider_p95_ms", "drawing_p95_ms", "errors", "answers_per_s")]
REPORTED += ["visitors10_costly_drawing_slider_p95_ms", "visitors10_costly_drawing_slowdown",
             "visitors10_train_flood_slider_p95_ms", "visitors10_train_flood_slowdown"]


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
    assert set(result["targets_met"]) >= {"pixyz_vs_torch_step_ratio", "slider_p95_ms", "load_errors",
                                          "train_speedup_vs_eager_generator", "train_speedup_vs_eager_classifier"}
