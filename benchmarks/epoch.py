"""Job: one training epoch of each shipped (conv) model as cvae.train.train runs it, and the share of it spent on
data (drawing the epoch's batches, indexing, moving, one-hot, augmenting).

The real `cvae.train.train` runs, with three hooks put into that module: its pixyz Model marks when each step's
data is ready, `batches` is timed, and the end-of-epoch evaluation (`measure`, not part of the loop) is skipped.
A step's data time runs from `should_stop()`, called at the top of each step, to `Model.train`. When an epoch
would outrun the budget, it is stopped there and its time extrapolated from the steps timed.
"""
import math
import time
from contextlib import contextmanager

import torch

import cvae.train as cvae_train
from cvae.models import CVAE

from .common import log

KEYS = ["epoch_seconds_generator", "epoch_seconds_classifier", "data_share"]


@contextmanager
def hooks(clock, sync):
    original = cvae_train.Model, cvae_train.batches, cvae_train.measure

    class TimedModel(cvae_train.Model):
        def train(self, *args, **kwargs):
            sync()
            clock["data"] += time.perf_counter() - clock["step_start"]
            return super().train(*args, **kwargs)

    def timed_batches(*args, **kwargs):
        sync()
        clock["epoch_start"] = start = time.perf_counter()
        result = original[1](*args, **kwargs)
        sync()
        clock["data"] += time.perf_counter() - start
        return result

    cvae_train.Model, cvae_train.batches, cvae_train.measure = TimedModel, timed_batches, lambda *a, **k: {}
    try:
        yield
    finally:
        cvae_train.Model, cvae_train.batches, cvae_train.measure = original


def time_epoch(kind, data, images, budget_s, device="cpu"):
    n = len(data.x_train) if images is None else min(images, len(data.x_train))
    steps = math.ceil(n / cvae_train.DEFAULTS["conv"]["batch_size"])
    sync = torch.cuda.synchronize if torch.device(device).type == "cuda" else (lambda: None)
    clock = {"data": 0.0, "steps": 0}

    def should_stop():
        sync()
        clock["step_start"] = now = time.perf_counter()
        return now - clock["epoch_start"] > budget_s

    def on_step(info):
        clock["steps"], clock["end"] = info["step"], time.perf_counter()
        clock.setdefault("first_step_end", clock["end"])

    model = CVAE(kind, "conv").to(device)
    with hooks(clock, sync):
        cvae_train.train(model, data, cvae_train.TrainSettings(epochs=1, train_size=n), progress=False,
                         hooks=cvae_train.Hooks(on_step=on_step, should_stop=should_stop))
    loop_s = clock["end"] - clock["epoch_start"]
    done = clock["steps"]
    if done < steps:  # the first step pays for warming up once; the rest go at the pace of steps 2..done
        per_step = (clock["end"] - clock["first_step_end"]) / (done - 1) if done > 1 else loop_s
        seconds = loop_s + (steps - done) * per_step
    else:
        seconds = loop_s
    return {"seconds": round(seconds, 2), "data_share": round(clock["data"] / loop_s, 4), "steps_timed": done,
            "steps": steps, "images": n}


def run(data, sizes, device="cpu"):
    out = {"epoch_images": None, "epoch_seconds_extrapolated_from_steps": {}}
    for kind in ("generator", "classifier"):
        r = time_epoch(kind, data, sizes.epoch_images, sizes.epoch_budget_s, device)
        extrapolated = r["steps_timed"] if r["steps_timed"] < r["steps"] else None
        log(f"{kind} epoch: {r['seconds']} s ({r['steps']} steps of 128"
            + (f", extrapolated from {extrapolated}" if extrapolated else "") + f"), data share {r['data_share']}")
        out[f"epoch_seconds_{kind}"] = r["seconds"]
        out[f"data_share_{kind}"] = r["data_share"]
        out["epoch_seconds_extrapolated_from_steps"][kind] = extrapolated
        out["epoch_images"] = r["images"]
    out["data_share"] = max(out["data_share_generator"], out["data_share_classifier"])
    return out
