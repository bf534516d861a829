"""What the Train tab's runs give, as the app runs them (its worker, its default settings, one training thread), on
full MNIST: per model and time budget, the steps made and the quality reached. One JSON line per run.

    CVAE_DATA_DIR=../shared/mnist python scripts/short_runs.py [--budgets "30 s" "1 min" "5 min"] [--models ...]

The generator's quality: the share of its samples (100 per digit, z ~ N(0, I), seed 0) that the independent judge
reads as the digit asked for, and its test -ELBO; the classifier's: its MNIST test accuracy (z from the prior) and
its accuracy on the drawn digits. tests/test_short_run.py asserts the targets for the default budget.
"""
import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402

from cvae import evaluate as ev  # noqa: E402
from cvae.data import load_mnist  # noqa: E402
from cvae.weights import WEIGHTS_DIR, load_weights  # noqa: E402
from demo.training import BUDGETS, TrainingRunner, check_training_settings, default_settings  # noqa: E402


def run(runner, kind, budget):
    """The app's default run of `kind` within `budget`; -> the finished job."""
    data = runner.data()
    d = default_settings(kind)
    settings = check_training_settings(kind, budget, d.epochs, d.batch_size, d.lr, len(data.x_train),
                                       len(data.x_train), d.start)
    job = runner.start_when_free(settings, owner="short_runs")
    while not job.wait(0.5):
        job.touch()  # as the page does: a job nobody watches stops
    if job.status != "done":
        raise SystemExit(f"the {kind} run ended {job.status}: {job.error}")
    return job


def quality(kind, model, data, judge):
    if kind == "generator":
        accuracy, _ = ev.generation_accuracy(model, judge, per_digit=100, seed=0)
        return {"judge_reads_asked_digit": round(accuracy, 4),
                "test_neg_elbo": round(ev.neg_elbo(model, data.x_test, data.y_test), 2)}
    g = torch.Generator().manual_seed(0)
    return {"test_accuracy": round(ev.accuracy(model, data.x_test, data.y_test, generator=g), 4),
            "drawn_accuracy": round(ev.drawn_accuracy(model), 4)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budgets", nargs="+", default=["30 s", "1 min", "5 min"], choices=list(BUDGETS)[:3])
    parser.add_argument("--models", nargs="+", default=["generator", "classifier"],
                        choices=["generator", "classifier"])
    args = parser.parse_args()
    data = load_mnist(download=False, allow_sample=False)
    runner = TrainingRunner("cpu", load_data=lambda: data)
    judge = load_weights(WEIGHTS_DIR, "judge")
    for kind in args.models:
        for budget in args.budgets:
            job = run(runner, kind, budget)
            snap = job.snapshot()
            print(json.dumps({"model": kind, "budget": budget, "steps": snap.global_step,
                              "train_seconds": round(snap.train_seconds, 1),
                              "wall_seconds": round(snap.seconds, 1), **quality(kind, job.model, data, judge),
                              "load_average": round(os.getloadavg()[0], 2), "time": time.strftime("%H:%M")}),
                  flush=True)


if __name__ == "__main__":
    main()
