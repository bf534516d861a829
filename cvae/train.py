"""Training with pixyz.models.Model: batches are slices of tensors already on the device."""
import contextlib
import dataclasses
import math
import time
from collections.abc import Callable

import torch
from pixyz.models import Model
from tqdm.auto import tqdm

from .data import augment, batches
from .evaluate import accuracy, neg_elbo
from .fastpath import OnePassELBO
from .models import CVAE, one_hot

# The reference (mlp) trains as the write-up did; the shipped conv models add a cosine learning-rate decay and,
# for the classifier, augmentation towards drawn digits.
DEFAULTS = {
    "mlp": {"epochs": 10, "batch_size": 128, "lr": 1e-3, "schedule": "constant", "augment": False},
    "conv": {"epochs": 15, "batch_size": 128, "lr": 2e-3, "schedule": "cosine", "augment": True},
}
LIMITS = {"epochs": (1, 200), "batch_size": (1, 4096), "lr": (1e-6, 1.0)}
SCHEDULES = ("constant", "cosine", "one_cycle")
AUGMENT_AHEAD = 8           # batches augmented in one call
ONE_CYCLE_WARMUP = 0.05
# The Train tab's short run (and /train's default), within a time budget on one CPU thread: the shipped
# architectures, a one-cycle schedule over the budget's seconds, no augmentation (in runs this short it cost the
# classifier accuracy on drawn digits: docs/speed.md). tests/test_short_run.py checks what the default minute gives.
SHORT_RUN = {
    "generator": {"model": {"arch": "conv"}, "batch_size": 128, "lr": 2e-3, "schedule": "one_cycle",
                  "augment": False},
    "classifier": {"model": {"arch": "conv", "z_dim": 16}, "batch_size": 128, "lr": 2e-3, "schedule": "one_cycle",
                   "augment": False},
}


def check_settings(epochs, batch_size, lr, train_size=None, available=None):
    """Raise ValueError with a plain message when a training setting is out of range."""
    for name, value in (("epochs", epochs), ("batch_size", batch_size), ("lr", lr)):
        lo, hi = LIMITS[name]
        if value is None or not isinstance(value, (int, float)) or not math.isfinite(value) or not lo <= value <= hi:
            raise ValueError(f"{name.replace('_', ' ')} must be between {lo:g} and {hi:g}, got {value!r}")
        if name != "lr" and int(value) != value:
            raise ValueError(f"{name.replace('_', ' ')} must be a whole number, got {value!r}")
    if train_size is not None and available is not None and not 1 <= train_size <= available:
        raise ValueError(f"training-set size must be between 1 and {available}, got {train_size!r}")


@dataclasses.dataclass(frozen=True)
class TrainSettings:
    """How `train` trains a model. What is left out (None, or 0 for the first three) is the model's architecture's
    DEFAULTS; `augment` left out augments the classifier where its architecture's DEFAULTS do."""
    epochs: int | None = None
    batch_size: int | None = None
    lr: float | None = None             # the peak of the schedule
    schedule: str | None = None         # one of SCHEDULES, spanning the whole run
    augment: bool | None = None         # the training images augmented towards drawn digits (cvae.data.augment)
    train_size: int | None = None       # the first N training images; None: all
    budget_s: float | None = None       # train for this many seconds of training steps instead of `epochs`
    seed: int = 0                       # the batches' order, the augmentation and the noise

    def for_model(self, model, available):
        """These settings with the defaults for `model` filled in, checked against `available` training images;
        ValueError with a plain message when one is out of range."""
        d = DEFAULTS[model.arch]
        s = dataclasses.replace(
            self, epochs=self.epochs or d["epochs"], batch_size=self.batch_size or d["batch_size"],
            lr=self.lr or d["lr"], schedule=self.schedule or d["schedule"],
            augment=d["augment"] and model.kind == "classifier" if self.augment is None else self.augment,
            train_size=available if self.train_size is None else int(self.train_size))
        check_settings(s.epochs, s.batch_size, s.lr, s.train_size, available)
        if s.schedule not in SCHEDULES:
            raise ValueError(f"unknown schedule {s.schedule!r}; choose one of {', '.join(SCHEDULES)}")
        if s.budget_s is not None and not (isinstance(s.budget_s, (int, float)) and 0 < s.budget_s <= 24 * 3600):
            raise ValueError(f"the time budget must be a number of seconds up to a day, got {s.budget_s!r}")
        return dataclasses.replace(s, epochs=int(s.epochs), batch_size=int(s.batch_size))


@dataclasses.dataclass(frozen=True)
class Hooks:
    """What a UI watches and steers a run with, each optional: before_step(batch) just before a step, batch = its
    inputs {"x", "y" (one-hot)}; on_step(info) after every step, info = {epoch, step, steps, loss, images (in the
    step), done (the share of the run done, 0-1), seconds (of training steps so far), batch}; on_epoch(metrics);
    should_stop() ends the run within a step, the model keeping what it learnt; while should_pause() is true, the
    run waits between two steps, its clock stopped."""
    before_step: Callable[[dict], None] | None = None
    on_step: Callable[[dict], None] | None = None
    on_epoch: Callable[[dict], None] | None = None
    should_stop: Callable[[], bool] | None = None
    should_pause: Callable[[], bool] | None = None


@dataclasses.dataclass
class RunClock:
    """Where a run is: its steps so far, the seconds of training steps they took, the share of the run done (0-1:
    of its steps, or of its budget's seconds) and whether it was stopped."""
    settings: TrainSettings
    steps_per_epoch: int
    steps: int = 0
    seconds: float = 0.0
    done: float = 0.0
    stopped: bool = False

    def count(self, seconds):
        """One more step, of `seconds`."""
        s = self.settings
        self.steps, self.seconds = self.steps + 1, self.seconds + seconds
        self.done = (min(1.0, self.seconds / s.budget_s) if s.budget_s
                     else self.steps / (s.epochs * self.steps_per_epoch))

    @property
    def over(self):
        return self.stopped or self.done >= 1.0


def train(model, data, settings=TrainSettings(), *, extra=None, hooks=Hooks(), measure_epochs=True, progress=True):
    """Train `model` (a CVAE) on `data` (an MNIST) as `settings` say: for their epochs, or for their budget's seconds
    of training steps; returns the per-epoch metrics (test loss and, for the classifier, accuracy, when
    `measure_epochs`). `extra`, an (x, y) pair of more training images (e.g. cvae.style_data.style_digits), is
    shuffled in with MNIST's. `hooks` watch and steer the run (Hooks); `progress` shows tqdm's bars."""
    s = settings.for_model(model, len(data.x_train))
    torch.manual_seed(s.seed)
    g = torch.Generator().manual_seed(s.seed)
    x_train, y_train = data.x_train[:s.train_size], data.y_train[:s.train_size]
    if extra is not None:
        x_train = torch.cat([x_train, extra[0].to(x_train.device, x_train.dtype)])
        y_train = torch.cat([y_train, extra[1].to(y_train.device, y_train.dtype)])
    trainer = pixyz_trainer(model, s.lr)
    clock = RunClock(s, steps_per_epoch=math.ceil(len(x_train) / s.batch_size))
    history = []
    model.train()
    for epoch in range(1, LIMITS["epochs"][1] + 1 if s.budget_s else s.epochs + 1):
        start = time.perf_counter()
        total, seen = train_epoch(model, trainer, (x_train, y_train), g, epoch, clock, hooks, progress)
        if seen:
            metrics = {"epoch": epoch, "train_loss": total / seen, "seconds": time.perf_counter() - start}
            if measure_epochs:
                metrics.update(measure(model, data, train_size=s.train_size))
            history.append(metrics)
            if progress:
                tqdm.write(format_metrics(model.kind, metrics))
            if hooks.on_epoch is not None:
                hooks.on_epoch(metrics)
        if clock.over:
            break
    model.eval()
    return history


def train_epoch(model, trainer, train_set, g, epoch, clock, hooks, progress):
    """One pass over `train_set` (x, y) in an order drawn with `g`, or what is left of the run: -> (the sum of the
    steps' losses, each times its images; the images seen)."""
    s, (x_train, y_train), device = clock.settings, train_set, train_set[0].device
    order = batches(len(x_train), s.batch_size, generator=g, device=device)
    inputs = augmented(x_train, order, s.batch_size, g) if s.augment else (x_train[idx] for idx in order)
    bar = tqdm(order, total=clock.steps_per_epoch, disable=not progress, leave=False,
               desc=f"{model.kind} epoch {epoch}" + ("" if s.budget_s else f"/{s.epochs}"))
    total, seen = 0.0, 0
    for step, idx in enumerate(bar, 1):
        if not wait_while_paused(hooks):
            clock.stopped = True
            break
        step_start = time.perf_counter()
        for group in trainer.optimizer.param_groups:
            group["lr"] = s.lr * learning_rate_factor(s.schedule, clock.done)
        batch = {"x": next(inputs), "y": one_hot(y_train[idx], device)}
        hook_s = 0.0
        if hooks.before_step is not None:  # what it takes is the UI's, not the step's
            hook_start = time.perf_counter()
            hooks.before_step(batch)
            hook_s = time.perf_counter() - hook_start
        loss = trainer.train(batch).item()
        clock.count(time.perf_counter() - step_start - hook_s)
        total, seen = total + loss * len(idx), seen + len(idx)
        bar.set_postfix(loss=f"{loss:.3f}")
        if hooks.on_step is not None:
            hooks.on_step({"epoch": epoch, "step": step, "steps": clock.steps_per_epoch, "loss": loss,
                           "images": len(idx), "done": clock.done, "seconds": clock.seconds, "batch": batch})
        if clock.done >= 1.0:
            break
    return total, seen


def wait_while_paused(hooks):
    """Between two steps: wait while hooks.should_pause() says so (and no stop is asked); False when the run is to
    stop."""
    while hooks.should_pause is not None and hooks.should_pause() and not (hooks.should_stop and hooks.should_stop()):
        time.sleep(0.05)
    return not (hooks.should_stop is not None and hooks.should_stop())


def augmented(x_train, order, batch_size, g):
    """The images of `order`'s batches, augmented (cvae.data.augment) as each one is asked for, AUGMENT_AHEAD
    batches in one call: its fixed costs, larger than its work, shared out."""
    for first in range(0, len(order), AUGMENT_AHEAD):
        yield from augment(x_train[torch.cat(order[first:first + AUGMENT_AHEAD])], g).split(batch_size)


def learning_rate_factor(schedule, done):
    """The learning rate, as a share of its peak, with `done` (0-1) of the run behind: constant; cosine decay to
    0; or one cycle, a warm-up from 0 over the first ONE_CYCLE_WARMUP of the run, then cosine decay to 0."""
    if schedule == "cosine":
        return 0.5 * (1 + math.cos(math.pi * done))
    if schedule == "one_cycle":
        if done < ONE_CYCLE_WARMUP:
            return max(done / ONE_CYCLE_WARMUP, 0.01)
        return 0.5 * (1 + math.cos(math.pi * (done - ONE_CYCLE_WARMUP) / (1 - ONE_CYCLE_WARMUP)))
    return 1.0


def pixyz_trainer(model, lr, loss=None):
    """pixyz.models.Model with Adam over p and q, as `train` steps it. The loss is model.loss with one encoder pass
    per step (cvae.fastpath): the same maths and noise (tests/test_benchmarks.py), less time; its forward pass runs
    under `mixed_precision`. A `loss` passed in runs as it is (fp32)."""
    device = model.device
    if loss is None:
        loss = OnePassELBO(model.p, model.q, model.prior, autocast=lambda: mixed_precision(device))
    # fused: Adam's update as one kernel per parameter instead of a dozen elementwise passes (on one CPU thread,
    # Adam's update is a large share of the step: docs/speed.md); torch has it for CPU and CUDA.
    fused = {"fused": True} if device.type in ("cpu", "cuda") else {}
    return Model(loss=loss, distributions=[model.p, model.q], optimizer=torch.optim.Adam,
                 optimizer_params={"lr": lr, **fused})


def mixed_precision(device):
    """The context the training step's forward pass runs under: bf16 autocast where `device` computes bf16 in
    hardware, else one that changes nothing (fp32). The distributions' parameters stay fp32 (cvae.models), so only
    the networks' layers round to bf16; evaluation (cvae.evaluate) stays fp32.

    - CPU: x86 with AVX512-BF16 or AMX (`cpu_has_bf16`); without them oneDNN emulates bf16, slower than fp32, so
      those CPUs train in fp32.
    - CUDA: compute capability 8.0 (Ampere) and later. bf16, not fp16: fp16 needs a GradScaler around backward and
      the optimizer step, which pixyz.models.Model.train does itself.
    - Anything else (mps): fp32.
    """
    device = torch.device(device)
    if device.type == "cpu" and cpu_has_bf16():
        return torch.autocast("cpu", dtype=torch.bfloat16)
    if device.type == "cuda" and torch.cuda.get_device_capability(device) >= (8, 0):
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()


def cpu_has_bf16():
    """Whether this CPU computes bf16 in hardware: x86 AVX512-BF16 or AMX."""
    if hasattr(torch.cpu, "get_capabilities"):  # public in recent torch
        capabilities = torch.cpu.get_capabilities()
        return bool(capabilities.get("avx512_bf16") or capabilities.get("amx_bf16"))
    # older torch: its private checks; where they are missing too, training stays fp32
    checks = (getattr(torch.cpu, name, None) for name in ("_is_avx512_bf16_supported", "_is_amx_tile_supported"))
    return any(check() for check in checks if check is not None)


def measure(model, data, train_size=None):
    """Test loss, and for the classifier train and test accuracy with z from the prior."""
    out = {"test_loss": neg_elbo(model, data.x_test, data.y_test)}
    if model.kind == "classifier":
        g = torch.Generator().manual_seed(0)
        n = len(data.x_train) if train_size is None else train_size
        out["train_accuracy"] = accuracy(model, data.x_train[:n], data.y_train[:n], generator=g)
        out["test_accuracy"] = accuracy(model, data.x_test, data.y_test, generator=g)
    return out


def format_metrics(kind, m):
    text = f"{kind} epoch {m['epoch']}: train loss {m['train_loss']:.3f}, test loss {m['test_loss']:.3f}"
    if "test_accuracy" in m:
        text += f", train acc {m['train_accuracy']:.4f}, test acc {m['test_accuracy']:.4f}"
    return text + f" ({m['seconds']:.1f} s)"


def new_model(kind, arch="conv", **sizes):
    return CVAE(kind, arch, **sizes)
