"""Training with pixyz.models.Model: batches are slices of tensors already on the device."""
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


class Stopped(Exception):
    """Training was asked to stop; the model passed in is left as it was before training started."""


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
          schedule=None, progress=True, on_step=None, on_epoch=None, should_stop=None):
    """Train `model` (a CVAE) on `data` (an MNIST); returns the per-epoch metrics.

    on_step(epoch, step, steps, loss), on_epoch(metrics) and should_stop() let a UI follow and stop it; when
    should_stop() turns true, `Stopped` is raised within a step.
    """
    d = DEFAULTS[model.arch]
    epochs, batch_size, lr = epochs or d["epochs"], batch_size or d["batch_size"], lr or d["lr"]
    schedule = schedule or d["schedule"]
    augment_data = d["augment"] and model.kind == "classifier" if augment_data is None else augment_data
    n = len(data.x_train) if train_size is None else int(train_size)
    check_settings(epochs, batch_size, lr, n, len(data.x_train))
    epochs, batch_size = int(epochs), int(batch_size)

    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed)
    x_train, y_train = data.x_train[:n], data.y_train[:n]
    device = x_train.device
    trainer = pixyz_trainer(model, lr)
    steps = math.ceil(n / batch_size)
    sched = (torch.optim.lr_scheduler.CosineAnnealingLR(trainer.optimizer, epochs * steps)
             if schedule == "cosine" else None)
    history = []
    for epoch in range(1, epochs + 1):
        start, total, seen = time.perf_counter(), 0.0, 0
        bar = tqdm(batches(n, batch_size, generator=g, device=device), total=steps, disable=not progress,
                   desc=f"{model.kind} epoch {epoch}/{epochs}", leave=False)
        for step, idx in enumerate(bar, 1):
            if should_stop is not None and should_stop():
                raise Stopped()
            x = x_train[idx]
            if augment_data:
                x = augment(x, g)
            loss = trainer.train({"x": x, "y": one_hot(y_train[idx], device)}).item()
            if sched is not None:
                sched.step()
            total, seen = total + loss * len(idx), seen + len(idx)
            bar.set_postfix(loss=f"{loss:.3f}")
            if on_step is not None:
                on_step(epoch, step, steps, loss)
        metrics = {"epoch": epoch, "train_loss": total / seen, "seconds": time.perf_counter() - start}
        metrics.update(measure(model, data, train_size=n))
        history.append(metrics)
        if progress:
            tqdm.write(format_metrics(model.kind, metrics))
        if on_epoch is not None:
            on_epoch(metrics)
    model.eval()
    return history


def pixyz_trainer(model, lr, loss=None):
    """pixyz.models.Model with Adam over p and q, as `train` steps it. The loss is model.loss with one encoder pass
    per step (cvae.fastpath): the same maths and noise (tests/test_benchmarks.py), less time."""
    loss = OnePassELBO(model.p, model.q, model.prior) if loss is None else loss
    return Model(loss=loss, distributions=[model.p, model.q], optimizer=torch.optim.Adam,
                 optimizer_params={"lr": lr})


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
