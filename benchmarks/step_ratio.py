"""Job: one training step in Pixyz against the same step in plain PyTorch, interleaved.

Pixyz: pixyz.models.Model.train on the one-pass ELBO (cvae.fastpath), exactly as cvae.train steps. PyTorch:
`torch_step.TorchStep`, on a copy of the same networks (same initial weights), the same batch of 128, the same Adam
and the same precision (cvae.train.mixed_precision): the ratio is what Pixyz itself costs. A third stepper, Pixyz's
own loss as it is (`model.loss`, whose encoder runs twice in Pixyz 0.3; fp32), shows what the one-pass loss and the
mixed precision buy together (`plain_pixyz_vs_torch_step_ratio`). train_speed.py compares the step with a plain
eager fp32 one. The steppers take turns (A, B, C, A, B, C, ...); a ratio is the median over rounds of (its time /
PyTorch time) in the same round, so that a change in the machine's load touches both sides of each ratio alike. Each
step gets a fresh copy of the batch, as in training (Pixyz memoises distribution parameters by input tensor).
"""
import copy
import statistics
import time

import torch
from cvae.models import CVAE, one_hot
from cvae.train import DEFAULTS, mixed_precision, pixyz_trainer

from .common import log, median_ms
from .torch_step import TorchStep

BATCH = 128
CASES = (("", "generator", "conv"), ("mlp_", "generator", "mlp"), ("classifier_", "classifier", "conv"))
KEYS = [prefix + key for prefix, _, _ in CASES
        for key in ("pixyz_vs_torch_step_ratio", "pixyz_step_ms", "torch_step_ms")]


def compare_steps(kind, arch, data, sizes, device="cpu", seed=0):
    torch.manual_seed(seed)
    model = CVAE(kind, arch).to(device)
    lr = DEFAULTS[arch]["lr"]
    plain = copy.deepcopy(model)
    pixyz = pixyz_trainer(model, lr)
    steppers = {"pixyz": pixyz,
                "torch": TorchStep(copy.deepcopy(model), lr, autocast=lambda: mixed_precision(device),
                                   fused=pixyz.optimizer.defaults["fused"]),
                "plain_pixyz": pixyz_trainer(plain, lr, loss=plain.loss)}
    times = interleaved_step_times(steppers, data, sizes, device)

    def ratio(a, b):
        return round(statistics.median(x / y for x, y in zip(times[a], times[b])), 4)

    return {"pixyz_vs_torch_step_ratio": ratio("pixyz", "torch"), "pixyz_step_ms": median_ms(times["pixyz"]),
            "torch_step_ms": median_ms(times["torch"]), "step_pairs": len(times["pixyz"]),
            "plain_pixyz_vs_torch_step_ratio": ratio("plain_pixyz", "torch"),
            "plain_pixyz_step_ms": median_ms(times["plain_pixyz"])}


def interleaved_step_times(steppers, data, sizes, device="cpu"):
    """{name: [seconds of each step]}: the steppers take turns on the same batch of BATCH training images (a fresh
    copy each step), after sizes.step_warmup rounds, for sizes.step_pairs rounds or at least 5 within
    sizes.step_budget_s."""
    batch = {"x": data.x_train[:BATCH].to(device), "y": one_hot(data.y_train[:BATCH], device)}
    fresh = lambda: {k: v.clone() for k, v in batch.items()}  # noqa: E731
    times = {name: [] for name in steppers}
    for _ in range(sizes.step_warmup):
        for stepper in steppers.values():
            stepper.train(fresh()).item()
    start, rounds = time.perf_counter(), lambda: len(next(iter(times.values())))
    while rounds() < sizes.step_pairs and (rounds() < 5 or time.perf_counter() - start < sizes.step_budget_s):
        for name, stepper in steppers.items():
            step_batch = fresh()
            t = time.perf_counter()
            stepper.train(step_batch).item()  # .item() waits for the device
            times[name].append(time.perf_counter() - t)
    return times


def run(data, sizes, device="cpu"):
    out = {"step_batch_size": BATCH}
    for prefix, kind, arch in CASES:
        result = compare_steps(kind, arch, data, sizes, device)
        log(f"{kind} {arch} step: pixyz {result['pixyz_step_ms']} ms, torch {result['torch_step_ms']} ms, "
            f"plain pixyz {result['plain_pixyz_step_ms']} ms, ratio {result['pixyz_vs_torch_step_ratio']} "
            f"over {result['step_pairs']} rounds")
        out.update({prefix + k: v for k, v in result.items()})
    return out
