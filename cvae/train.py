"""Training with pixyz.models.Model: batches are slices of tensors already on the device."""
import contextlib
import math
import time

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
# classifier 1-2 points on drawn digits). tests/test_short_run.py checks what the default minute gives.
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


def train(model, data, epochs=None, batch_size=None, lr=None, seed=0, train_size=None, augment_data=None,
          schedule=None, budget_s=None, extra=None, measure_epochs=True, progress=True, on_step=None,
          on_epoch=None, should_stop=None, should_pause=None):
    """Train `model` (a CVAE) on `data` (an MNIST) for `epochs`, or for `budget_s` seconds of training steps; returns
    the per-epoch metrics (test loss and, for the classifier, accuracy, when `measure_epochs`).

    The learning-rate `schedule` (SCHEDULES) spans the whole run: its steps, or the budget's seconds. `extra`, an
    (x, y) pair of more training images (e.g. cvae.style_data.style_digits), is shuffled in with MNIST's.
    Hooks for a UI: on_step(info) after every step, info = {epoch, step, steps, loss, images (in the step), done
    (the share of the run done, 0-1), seconds (of training steps so far)}; on_epoch(metrics); should_stop() ends
    the run within a step, the model keeping what it learnt; while should_pause() is true, the run waits between
    two steps, its clock stopped.
    """
    d = DEFAULTS[model.arch]
    epochs, batch_size, lr = epochs or d["epochs"], batch_size or d["batch_size"], lr or d["lr"]
    schedule = schedule or d["schedule"]
    augment_data = d["augment"] and model.kind == "classifier" if augment_data is None else augment_data
    n = len(data.x_train) if train_size is None else int(train_size)
    check_settings(epochs, batch_size, lr, n, len(data.x_train))
    if schedule not in SCHEDULES:
        raise ValueError(f"unknown schedule {schedule!r}; choose one of {', '.join(SCHEDULES)}")
    if budget_s is not None and not (isinstance(budget_s, (int, float)) and 0 < budget_s <= 24 * 3600):
        raise ValueError(f"the time budget must be a number of seconds up to a day, got {budget_s!r}")
    epochs, batch_size = int(epochs), int(batch_size)

    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed)
    x_train, y_train = data.x_train[:n], data.y_train[:n]
    if extra is not None:
        x_train = torch.cat([x_train, extra[0].to(x_train.device, x_train.dtype)])
        y_train = torch.cat([y_train, extra[1].to(y_train.device, y_train.dtype)])
    device = x_train.device
    trainer = pixyz_trainer(model, lr)
    steps = math.ceil(len(x_train) / batch_size)
    history, seconds, done, step_count, stopped = [], 0.0, 0.0, 0, False
    model.train()
    for epoch in range(1, LIMITS["epochs"][1] + 1 if budget_s else epochs + 1):
        start, total, seen = time.perf_counter(), 0.0, 0
        order = batches(len(x_train), batch_size, generator=g, device=device)
        bar = tqdm(order, total=steps, disable=not progress, leave=False,
                   desc=f"{model.kind} epoch {epoch}" + ("" if budget_s else f"/{epochs}"))
        for step, idx in enumerate(bar, 1):
            while should_pause is not None and should_pause() and not (should_stop and should_stop()):
                time.sleep(0.05)
            if should_stop is not None and should_stop():
                stopped = True
                break
            step_start = time.perf_counter()
            for group in trainer.optimizer.param_groups:
                group["lr"] = lr * learning_rate_factor(schedule, done)
            if not augment_data:
                x = x_train[idx]
            else:  # AUGMENT_AHEAD batches in one call: its fixed costs, larger than its work, shared out
                if (step - 1) % AUGMENT_AHEAD == 0:
                    ahead = torch.cat(order[step - 1:step - 1 + AUGMENT_AHEAD])
                    augmented = iter(augment(x_train[ahead], g).split(batch_size))
                x = next(augmented)
            loss = trainer.train({"x": x, "y": one_hot(y_train[idx], device)}).item()
            seconds += time.perf_counter() - step_start
            step_count += 1
            done = min(1.0, seconds / budget_s) if budget_s else step_count / (epochs * steps)
            total, seen = total + loss * len(idx), seen + len(idx)
            bar.set_postfix(loss=f"{loss:.3f}")
            if on_step is not None:
                on_step({"epoch": epoch, "step": step, "steps": steps, "loss": loss, "images": len(idx),
                         "done": done, "seconds": seconds})
            if done >= 1.0:
                break
        if seen:
            metrics = {"epoch": epoch, "train_loss": total / seen, "seconds": time.perf_counter() - start}
            if measure_epochs:
                metrics.update(measure(model, data, train_size=n))
            history.append(metrics)
            if progress:
                tqdm.write(format_metrics(model.kind, metrics))
            if on_epoch is not None:
                on_epoch(metrics)
        if stopped or done >= 1.0:
            break
    model.eval()
    return history


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
    # Adam was a quarter of the step); torch has it for CPU and CUDA.
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
