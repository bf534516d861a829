"""python -m demo: serve the page at http://127.0.0.1:7860 with the shipped weights, on the best device, offline.

Every flag has an environment variable, for containers: CVAE_HOST, CVAE_PORT, CVAE_DEVICE, CVAE_WEIGHTS,
CVAE_RUNS, CVAE_MAX_TRAIN_MINUTES, CVAE_TRUSTED_PROXIES (and CVAE_DATA_DIR, read by cvae, for full MNIST to train
on; without it the bundled sample is used).
"""
import argparse
import ctypes
import os
import signal
import sys
from pathlib import Path

# Offline: no telemetry, no version check. Set before gradio is imported, which reads them.
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

MALLOC_ARENAS = 2  # glibc's malloc arenas for the server's threads (M_ARENA_MAX); MALLOC_ARENA_MAX overrides


def limit_malloc_arenas(arenas=MALLOC_ARENAS):
    """glibc gives each thread that allocates at the same time as another an arena of its own, up to 8 per core,
    and keeps what each arena once held: with gradio's pool of worker threads the server's resident memory climbed
    over its first few hundred requests, then wandered (docs/speed.md). Two arenas hold it flat (tests/test_soak.py).
    Set before the server starts its threads; elsewhere than glibc, nothing happens."""
    if os.environ.get("MALLOC_ARENA_MAX"):
        return
    try:
        ctypes.CDLL("libc.so.6").mallopt(-8, arenas)  # -8: M_ARENA_MAX
    except (OSError, AttributeError):
        pass


limit_malloc_arenas()

from cvae.models import pick_device  # noqa: E402
from cvae.weights import WEIGHTS_DIR, WeightsError  # noqa: E402

from . import elbo_panel  # noqa: E402
from . import runs as runs_module  # noqa: E402
from .app import build_app, launch, load_shipped  # noqa: E402
from .training import MAX_TRAIN_MINUTES, TrainingRunner  # noqa: E402


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
    p.add_argument("--max-train-minutes", type=float, default=env("CVAE_MAX_TRAIN_MINUTES", str(MAX_TRAIN_MINUTES)),
                   help="a training run's ceiling of wall time on this server, in minutes; 0 for none "
                        f"(CVAE_MAX_TRAIN_MINUTES; default {MAX_TRAIN_MINUTES:g})")
    p.add_argument("--trusted-proxies", default=env("CVAE_TRUSTED_PROXIES", ""),
                   help="comma-separated addresses or networks of reverse proxies whose X-Forwarded-For names the "
                        "visitor's address, for the per-address limits (CVAE_TRUSTED_PROXIES; default none)")
    p.add_argument("--data-dir", default=None, help="MNIST root for training (default: $CVAE_DATA_DIR; "
                                                    "without full MNIST the bundled sample is used)")
    return p.parse_args(argv)


def stop_on_sigterm():
    """SIGTERM (`kill`, a process manager, a container's stop) ends the server as Ctrl+C does: gradio closes it,
    and the files the app made (its pictures, gradio's copies) are removed on the way out, not left in /tmp."""
    def interrupt(signum, frame):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, interrupt)


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
    if args.max_train_minutes < 0:
        raise SystemExit("error: --max-train-minutes must be 0 (no limit) or more")
    try:
        runs_module.trusted_proxies = runs_module.parse_proxies(args.trusted_proxies)
    except ValueError as e:
        raise SystemExit(f"error: --trusted-proxies: {e}") from None
    runner = TrainingRunner(device, templates={"generator": generator, "classifier": classifier},
                            data_dir=args.data_dir, max_train_minutes=args.max_train_minutes)
    # The training data now, before anyone is served: loading it (torchvision's import, 70,000 images) holds the
    # interpreter for seconds, which on the first visitor's request slowed every other visitor's.
    data = runner.data()
    demo = build_app(generator, classifier, runner=runner, runs_dir=runs, shipped_dir=args.weights)
    which = "full MNIST" if data.source == "full" else "the bundled sample"
    print(f"Conditional VAE demo on {device} (training data: {which}, {len(data.x_train):,} images): "
          f"http://{args.host}:{args.port}", file=sys.stderr)
    stop_on_sigterm()
    # The test digits' figures the loss's terms are compared with, for the shipped models: measured before anyone
    # is served (seconds), as the training data is; measured beside the requests, they slowed every visitor's.
    for model in (generator, classifier):
        elbo_panel.reference(model, wait=True)
    launch(demo, args.host, args.port)


if __name__ == "__main__":
    main()
