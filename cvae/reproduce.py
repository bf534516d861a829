"""`python -m cvae reproduce`: the write-up's results with the reference mlp on full MNIST.

Model 1: 64 samples of the digit 5 and originals above their reconstructions, after epoch 1 and after the last.
Model 2: train/test accuracy per epoch (z from the prior) as a table and a plot.
"""
import json
from pathlib import Path

import torch

from .models import one_hot
from .preprocess import to_grid_image
from .train import Hooks, TrainSettings, new_model, train


def reconstructions(model, x, labels):
    """Rows of 8 originals, each above its reconstruction: mean of p(x|z,y) with z ~ q(z|x,y)."""
    model.eval()
    with torch.no_grad():
        z = model.q.sample({"x": x, "y": one_hot(labels, x.device)})["z"]
        recon = model.draw(z, labels)
    rows = []
    for i in range(0, len(x), 8):
        rows += [x[i:i + 8].view(-1, 28, 28), recon[i:i + 8]]
    return torch.cat(rows)


def reproduce(out, data, epochs=10, seed=0):
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    if data.notice:
        print(f"notice: {data.notice}")
    z_fixed = torch.randn(64, 64, generator=torch.Generator().manual_seed(seed))
    originals, labels = data.x_test[:32], data.y_test[:32]
    keep = {1, epochs}

    generator = new_model("generator", "mlp").to(data.x_train.device)

    def on_generator_epoch(m):
        if m["epoch"] in keep:
            generator.eval()
            to_grid_image(generator.draw(z_fixed, [5] * 64)).save(out / f"samples_5_epoch{m['epoch']}.png")
            to_grid_image(reconstructions(generator, originals, labels)).save(
                out / f"reconstructions_epoch{m['epoch']}.png")
            generator.train()

    settings = TrainSettings(epochs=epochs, seed=seed)
    gen_history = train(generator, data, settings, hooks=Hooks(on_epoch=on_generator_epoch))
    classifier = new_model("classifier", "mlp").to(data.x_train.device)
    cls_history = train(classifier, data, settings)

    lines = ["| epoch | train accuracy | test accuracy |", "|---:|---:|---:|"]
    lines += [f"| {m['epoch']} | {m['train_accuracy']:.4f} | {m['test_accuracy']:.4f} |" for m in cls_history]
    (out / "classifier_accuracy.md").write_text("\n".join(lines) + "\n")
    (out / "classifier_accuracy.csv").write_text("epoch,train_accuracy,test_accuracy\n" + "".join(
        f"{m['epoch']},{m['train_accuracy']:.4f},{m['test_accuracy']:.4f}\n" for m in cls_history))
    plot_accuracy(cls_history, out / "classifier_accuracy.png")
    summary = {"data": data.source, "epochs": epochs, "seed": seed, "generator": gen_history,
               "classifier": cls_history, **compare_targets(generator, classifier, seed)}
    (out / "summary.json").write_text(json.dumps(summary, indent=1) + "\n")
    print("\n".join(lines))
    print(f"wrote the figures to {out}")
    return summary


def compare_targets(generator, classifier, seed):
    """The reference's figures for the shipped models' two other targets (README, Results)."""
    from .evaluate import drawn_accuracy, generation_accuracy
    from .weights import WEIGHTS_DIR, load_weights
    out = {"classifier_drawn_accuracy": drawn_accuracy(classifier, seed=seed)}
    if (WEIGHTS_DIR / "judge.json").exists():
        judge = load_weights(WEIGHTS_DIR, "judge", generator.device)
        out["generator_sample_accuracy"] = generation_accuracy(generator, judge, seed=seed)[0]
    return out


def plot_accuracy(history, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    epochs = [m["epoch"] for m in history]
    fig, ax = plt.subplots(figsize=(5, 3.2), dpi=120)
    ax.plot(epochs, [m["train_accuracy"] for m in history], "o-", label="train")
    ax.plot(epochs, [m["test_accuracy"] for m in history], "s-", label="test")
    ax.set_xlabel("epoch")
    ax.set_ylabel("accuracy (z from the prior)")
    ax.set_title("Model 2 (mlp reference)")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
