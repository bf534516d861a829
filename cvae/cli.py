"""python -m cvae <command>: train, evaluate, calibrate, generate, classify, reproduce."""
import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

from . import evaluate as ev
from .data import load_mnist
from .models import ARCHS, pick_device
from .preprocess import ImageError, open_image, to_mnist_image, to_grid_image
from .second_opinion import SAMPLES as SECOND_OPINION_SAMPLES
from .train import DEFAULTS, Hooks, TrainSettings, new_model, train
from .weights import WEIGHTS_DIR, WeightsError, load_weights, save_weights

MAX_SAMPLES = 1024


def add_common(p):
    p.add_argument("--device", help="cpu, cuda, mps, ... (default: cuda, then mps, then cpu)")
    p.add_argument("--data-dir", help="MNIST root (default: $CVAE_DATA_DIR, else a per-user cache folder)")


def cmd_train(args):
    if not 0 <= args.style_data <= 1_000_000:
        raise SystemExit("error: --style-data must be 0 to 1000000")
    if Path(args.out).resolve() == WEIGHTS_DIR and not args.overwrite_shipped:
        raise SystemExit(f"refusing to write into the shipped weights folder {WEIGHTS_DIR}; "
                         "pass --overwrite-shipped to replace them on purpose")
    device = pick_device(args.device)
    data = load_mnist(args.data_dir, device)
    if data.notice:
        print(f"notice: {data.notice}", file=sys.stderr)
    torch.manual_seed(args.seed)
    start = time.time()
    history = []

    def metadata(settings):
        return {"training": {**settings, "seed": args.seed, "device": str(device), "data": data.source,
                             "train_images": len(data.x_train), "minutes": round((time.time() - start) / 60, 2),
                             "command": "python -m cvae " + " ".join(sys.argv[1:])},
                "history": history}

    if args.model == "judge":
        from .judge import train_judge
        settings = {"epochs": args.epochs or 8, "schedule": "cosine"}
        model, history = train_judge(data, epochs=settings["epochs"], seed=args.seed)
    else:
        model = new_model(args.model, args.arch, z_dim=args.z_dim).to(device)
        settings = {**DEFAULTS[args.arch], **{k: v for k, v in (("epochs", args.epochs), ("batch_size", args.batch_size),
                                                                  ("lr", args.lr)) if v is not None}}
        settings["augment"] = settings["augment"] and args.model == "classifier"
        extra = None
        if args.style_data:  # drawings of common styles (flagged 1, crossed 7, ...) appended to MNIST
            from .style_data import style_digits
            settings["style_data"] = args.style_data
            extra = style_digits(args.style_data, seed=args.seed)

        def save_epoch(metrics):  # a long run stopped early keeps its last finished epoch
            history.append(metrics)
            save_weights(model, args.out, args.name, metadata(settings))

        train(model, data, TrainSettings(epochs=settings["epochs"], batch_size=settings["batch_size"],
                                         lr=settings["lr"], augment=settings["augment"], seed=args.seed),
              extra=extra, hooks=Hooks(on_epoch=save_epoch))
    meta = metadata(settings)
    paths = save_weights(model, args.out, args.name, meta)
    print(f"wrote {paths[0]} and {paths[1]}")


def load_or_exit(folder, name, device):
    try:
        return load_weights(folder, name, device)
    except WeightsError as e:
        raise SystemExit(f"error: cannot load weights: {e}") from None


def cmd_evaluate(args):
    if not 1 <= args.per_digit <= 10000:
        raise SystemExit("error: --per-digit must be 1 to 10000")
    device = pick_device(args.device)
    data = load_mnist(args.data_dir, device)
    gen = load_or_exit(args.weights, "generator", device)
    cls = load_or_exit(args.weights, "classifier", device)
    torch.manual_seed(args.seed)
    g = torch.Generator().manual_seed(args.seed)
    out = {"data": data.source, "test_images": len(data.x_test),
           "generator_test_neg_elbo": ev.neg_elbo(gen, data.x_test, data.y_test),
           "classifier_test_accuracy": ev.accuracy(cls, data.x_test, data.y_test, generator=g)}
    judge_dir = Path(args.weights) if (Path(args.weights) / "judge.json").exists() else WEIGHTS_DIR
    if (judge_dir / "judge.json").exists():
        judge = load_or_exit(judge_dir, "judge", device)
        out["judge_test_accuracy"] = (judge.predict(data.x_test) == data.y_test).float().mean().item()
        out["generator_sample_accuracy"], out["generator_sample_accuracy_per_digit"] = \
            ev.generation_accuracy(gen, judge, per_digit=args.per_digit, seed=args.seed)
    out["classifier_drawn_accuracy"] = ev.drawn_accuracy(cls, seed=args.seed)
    out["classifier_drawn_accuracy_by_style"] = ev.drawn_accuracy_by_style(cls, seed=args.seed)
    if not args.skip_second_opinion:  # model 1 as a classifier and a judge of "a digit or not"
        out.update(ev.second_opinion_figures(gen, data.x_test, data.y_test, seed=args.seed))
    if args.json:
        print(json.dumps(out))
    else:
        if data.notice:
            print(f"notice: {data.notice}")
        for k, v in out.items():
            print(f"{k}: {v:.4f}" if isinstance(v, float) else f"{k}: {v}")


def cmd_calibrate(args):
    from .second_opinion import calibrate, store_calibration
    if not 1 <= args.images <= 1_000_000:
        raise SystemExit("error: --images must be 1 to 1000000")
    if not 0 < args.quantile < 1:
        raise SystemExit("error: --quantile must be between 0 and 1")
    if not 1 <= args.samples <= 1024:
        raise SystemExit("error: --samples must be 1 to 1024")
    device = pick_device(args.device)
    data = load_mnist(args.data_dir, device)
    gen = load_or_exit(args.weights, "generator", device)
    start = time.time()
    calibration = calibrate(gen, data.x_test, quantile=args.quantile, samples=args.samples, kind=args.bound,
                            max_images=args.images, seed=args.seed, labels=data.y_test)
    calibration["data"] = f"MNIST test ({data.source}), its first {calibration['images']} images"
    calibration["seconds"] = round(time.time() - start, 1)
    calibration["command"] = "python -m cvae " + " ".join(sys.argv[1:])
    try:
        path = store_calibration(args.weights, "generator", calibration)
    except WeightsError as e:
        raise SystemExit(f"error: {e}") from None
    print(json.dumps(calibration))
    print(f"wrote the threshold into {path}", file=sys.stderr)


def cmd_generate(args):
    if not 0 <= args.digit <= 9:
        raise SystemExit("error: --digit must be 0 to 9")
    if not 1 <= args.n <= MAX_SAMPLES:
        raise SystemExit(f"error: --n must be 1 to {MAX_SAMPLES}")
    out = Path(args.out)
    if out.suffix.lower() not in (".png", ".npy"):
        raise SystemExit("error: --out must end in .png (a grid image) or .npy (an array)")
    device = pick_device(args.device)
    gen = load_or_exit(args.weights, "generator", device)
    z = gen.sample_z(args.n, torch.Generator(device=device).manual_seed(args.seed))
    images = gen.draw(z, [args.digit] * args.n).cpu()
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix.lower() == ".npy":
        np.save(out, images.numpy().astype(np.float32))
    else:
        to_grid_image(images).save(out)
    print(f"wrote {args.n} samples of {args.digit} to {out}")


def cmd_classify(args):
    device = pick_device(args.device)
    cls = load_or_exit(args.weights, "classifier", device)
    results, failed = [], False
    for file in args.images:
        try:
            x = to_mnist_image(open_image(file))
        except ImageError as e:
            results.append({"file": file, "digit": None, "probs": None, "error": str(e)})
            failed = True
            continue
        if x is None:
            results.append({"file": file, "digit": None, "probs": None, "message": "blank image: no digit found"})
            continue
        probs = cls.predict_probs(x, samples=args.samples, generator=torch.Generator(device=device).manual_seed(0))[0]
        results.append({"file": file, "digit": int(probs.argmax()), "probs": [round(p, 6) for p in probs.tolist()]})
    if args.json:
        print(json.dumps(results))
    else:
        for r in results:
            if r["digit"] is None:
                print(f"{r['file']}: {r.get('error') or r.get('message')}")
            else:
                top = sorted(range(10), key=lambda d: -r["probs"][d])[:3]
                print(f"{r['file']}: {r['digit']}  (" + ", ".join(f"{d}: {r['probs'][d]:.3f}" for d in top) + ")")
    return 1 if failed else 0


def cmd_reproduce(args):
    from .reproduce import reproduce
    reproduce(args.out, load_mnist(args.data_dir, pick_device(args.device)), epochs=args.epochs, seed=args.seed)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m cvae", description="Conditional VAEs on MNIST, in Pixyz.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("train", help="train model 1 (generator) or model 2 (classifier)")
    p.add_argument("--model", choices=["generator", "classifier", "judge"], required=True,
                   help="judge: the independent CNN that measures the generator")
    p.add_argument("--arch", choices=list(ARCHS), default="conv")
    p.add_argument("--z-dim", type=int)
    p.add_argument("--epochs", type=int)
    p.add_argument("--batch-size", type=int)
    p.add_argument("--lr", type=float)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--style-data", type=int, default=0, metavar="N",
                   help="append N drawings of common writing styles (cvae.style_data) to the training set")
    p.add_argument("--out", default="runs/cli", help="folder for NAME.safetensors and NAME.json")
    p.add_argument("--name", help="file name stem (default: the model kind)")
    p.add_argument("--overwrite-shipped", action="store_true", help="allow --out weights")
    add_common(p)
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("evaluate", help="test -ELBO, accuracy, generated-digit accuracy")
    p.add_argument("--weights", default=str(WEIGHTS_DIR))
    p.add_argument("--json", action="store_true")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--per-digit", type=int, default=100, help="generated samples per digit for the judge to read")
    p.add_argument("--skip-second-opinion", action="store_true",
                   help="leave out model 1 as a classifier and judge of 'a digit or not' (minutes on a CPU)")
    add_common(p)
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("calibrate", help="model 1's threshold of 'not a digit', into the generator's JSON")
    p.add_argument("--weights", default=str(WEIGHTS_DIR), help="folder of generator.json (only the JSON is written)")
    p.add_argument("--images", type=int, default=5000, help="the first N MNIST test images (the rest stay held out)")
    p.add_argument("--quantile", type=float, default=0.995, help="of their best -ELBO: the threshold")
    p.add_argument("--samples", type=int, default=SECOND_OPINION_SAMPLES, help="z samples per digit (K)")
    p.add_argument("--bound", choices=["iw", "elbo"], default="iw",
                   help="iw: importance-weighted; elbo: the plain bound with the analytic KL")
    p.add_argument("--seed", type=int, default=0)
    add_common(p)
    p.set_defaults(func=cmd_calibrate)

    p = sub.add_parser("generate", help="samples of one digit, z ~ N(0, I)")
    p.add_argument("--digit", type=int, required=True)
    p.add_argument("--n", type=int, default=64)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", required=True, help=".png grid or .npy array (N, 28, 28)")
    p.add_argument("--weights", default=str(WEIGHTS_DIR))
    add_common(p)
    p.set_defaults(func=cmd_generate)

    p = sub.add_parser("classify", help="name the digit in image files")
    p.add_argument("images", nargs="+")
    p.add_argument("--json", action="store_true")
    p.add_argument("--samples", type=int, default=8, help="z draws from the prior to average over")
    p.add_argument("--weights", default=str(WEIGHTS_DIR))
    add_common(p)
    p.set_defaults(func=cmd_classify)

    p = sub.add_parser("reproduce", help="the write-up's figures with the mlp reference on full MNIST")
    p.add_argument("--out", default="results/reproduce")
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--seed", type=int, default=0)
    add_common(p)
    p.set_defaults(func=cmd_reproduce)

    args = parser.parse_args(argv)
    return args.func(args) or 0
