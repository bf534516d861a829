"""Job: the training step that the app and `python -m cvae train` run, against a plain eager PyTorch fp32 step of
the same network, in images per second.

Fast: `cvae.train.pixyz_trainer` (pixyz.models.Model on the one-pass ELBO, its forward pass under
`cvae.train.mixed_precision`, fused Adam; the classifier's conv weights channels-last), stepped as
`cvae.train.train` steps it. Eager: `torch_step.TorchStep` in fp32 with torch's default Adam and memory layout, on a
copy of the same networks (same initial weights). The networks are the shipped ones' (sizes from weights/*.json),
the batch is 128 real training images, fresh tensors each step (Pixyz memoises distribution parameters by input
tensor). The two take turns (A, B, A, B, ...); the speedup is the median over rounds of (eager time / fast time) in
the same round, so that a change in the machine's load touches both.

Measured at the app's training threads (`demo.training.training_threads`: 1 on 2 cores), the main keys, and at this
run's torch threads (torch's default unless --threads: what `python -m cvae train` uses, 2 on 2 cores), the keys
ending in `_cli`. `train_precision` says what `mixed_precision` chose here (bfloat16, or float32 where the CPU has
no bf16 in hardware).
"""
import copy
import statistics

import torch
from cvae.train import DEFAULTS, mixed_precision, pixyz_trainer
from cvae.weights import WEIGHTS_DIR, build, read_metadata

from .common import log
from .step_ratio import BATCH, interleaved_step_times
from .torch_step import TorchStep

KINDS = ("generator", "classifier")
SETTINGS = (("", "app"), ("_cli", "cli"))  # key suffix, whose thread count
KEYS = ["train_threads", "train_threads_cli", "train_precision"] + [
    f"{key}_{kind}{suffix}" for suffix, _ in SETTINGS for kind in KINDS
    for key in ("train_speedup_vs_eager", "train_images_per_s", "eager_images_per_s")]


def shipped_network(kind, seed=0):
    """A freshly initialised model of the shipped architecture and sizes (the app's Train tab trains these too)."""
    torch.manual_seed(seed)
    return build(read_metadata(WEIGHTS_DIR / f"{kind}.json"))


def compare(kind, data, sizes, device="cpu"):
    """(speedup, fast images/s, eager images/s, rounds) at the current torch thread count."""
    model = shipped_network(kind).to(device)
    lr = DEFAULTS[model.arch]["lr"]
    # The eager reference has torch's default (contiguous) layout, as a plain PyTorch step has it; the classifier's
    # channels-last conv weights (cvae.models.ConvFeatures) count as part of the fast step.
    eager = copy.deepcopy(model).to(memory_format=torch.contiguous_format)
    steppers = {"eager": TorchStep(eager, lr), "fast": pixyz_trainer(model, lr)}
    times = interleaved_step_times(steppers, data, sizes, device)
    speedup = statistics.median(e / f for e, f in zip(times["eager"], times["fast"]))
    per_s = {name: BATCH / statistics.median(t) for name, t in times.items()}
    return round(speedup, 3), round(per_s["fast"], 1), round(per_s["eager"], 1), len(times["fast"])


def run(data, sizes, device="cpu"):
    from demo.training import training_threads  # here, so that the other jobs run when the demo cannot be imported
    threads = {"app": training_threads(), "cli": torch.get_num_threads()}
    precision = mixed_precision(device)
    out = {"train_threads": threads["app"], "train_threads_cli": threads["cli"],
           "train_precision": str(getattr(precision, "fast_dtype", torch.float32)).removeprefix("torch."),
           "train_speed_rounds": {}}
    before = torch.get_num_threads()
    try:
        for suffix, whose in SETTINGS:
            torch.set_num_threads(threads[whose])
            for kind in KINDS:
                speedup, fast, eager, rounds = compare(kind, data, sizes, device=device)
                log(f"{kind} training step at {threads[whose]} threads ({whose}): {fast} images/s, eager fp32 "
                    f"{eager} images/s, speedup {speedup} over {rounds} rounds")
                out[f"train_speedup_vs_eager_{kind}{suffix}"] = speedup
                out[f"train_images_per_s_{kind}{suffix}"] = fast
                out[f"eager_images_per_s_{kind}{suffix}"] = eager
                out["train_speed_rounds"][kind + suffix] = rounds
    finally:
        torch.set_num_threads(before)
    return out
