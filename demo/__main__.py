"""python -m demo: serve the page at http://127.0.0.1:7860 with the shipped weights, on the best device, offline.

Every flag has an environment variable, for containers: CVAE_HOST, CVAE_PORT, CVAE_DEVICE, CVAE_WEIGHTS,
CVAE_RUNS (and CVAE_DATA_DIR, read by cvae, for full MNIST to train on; without it the bundled sample is used).
"""
import argparse
import os
import sys
from pathlib import Path

# Offline: no telemetry, no version check. Set before gradio is imported, which reads them.
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from cvae.models import pick_device  # noqa: E402
from cvae.weights import WEIGHTS_DIR, WeightsError  # noqa: E402

from .app import build_app, launch, load_shipped  # noqa: E402
from .training import TrainingRunner  # noqa: E402


def parse_args(argv=None):
    env = os.environ.get
    p = argparse.ArgumentParser(prog="python -m demo", description=__doc__.splitlines()[0])
    p.add_argument("--host", default=env("CVAE_HOST", "127.0.0.1"),
                   help="address to listen on (CVAE_HOST; default 127.0.0.1; 0.0.0.0 for every interface)")
    p.add_argument("--port", type=int, default=env("CVAE_PORT", "7860"),  # argparse converts (and checks) it
                   help="port (CVAE_PORT; default 7860)")
    p.add_argument("--device", default=env("CVAE_DEVICE"),
                   help="cpu, cuda, cuda:1, mps (CVAE_DEVICE; default: cuda, then mps, then cpu)")
    p.add_argument("--weights", default=env("CVAE_WEIGHTS", str(WEIGHTS_DIR)),
                   help="folder with generator.* and classifier.* (CVAE_WEIGHTS; default: the shipped weights/)")
    p.add_argument("--runs", default=env("CVAE_RUNS", "runs"),
                   help="folder where trained runs are saved (CVAE_RUNS; default runs/)")
    p.add_argument("--data-dir", default=None, help="MNIST root for training (default: $CVAE_DATA_DIR; "
                                                    "without full MNIST the bundled sample is used)")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    runs = Path(args.runs).resolve()
    for shipped in {WEIGHTS_DIR, Path(args.weights).resolve()}:
        if runs == shipped or shipped in runs.parents:
            raise SystemExit(f"error: --runs must not be inside the weights folder {shipped}")
    try:
        device = pick_device(args.device)
        generator, classifier = load_shipped(args.weights, device)
    except WeightsError as e:
        raise SystemExit(f"error: cannot load the weights: {e}\n"
                         "Train them with `python -m cvae train --model generator` (and --model classifier), "
                         "or point --weights at a folder that has them.") from None
    except (RuntimeError, AssertionError) as e:  # an unknown or unavailable --device (torch asserts for CUDA)
        raise SystemExit(f"error: cannot use device {args.device!r}: {e}") from None
    runner = TrainingRunner(device, templates={"generator": generator, "classifier": classifier},
                            data_dir=args.data_dir)
    demo = build_app(generator, classifier, runner=runner, runs_dir=runs, shipped_dir=args.weights)
    print(f"Conditional VAE demo on {device}: http://{args.host}:{args.port}", file=sys.stderr)
    launch(demo, args.host, args.port)


if __name__ == "__main__":
    main()
