"""What the jobs share: sizes for a full and a --quick run, timing statistics, progress on stderr, the data."""
import sys
import time
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Sizes:
    """How much each job measures. Each loop also stops at its time budget, so that a full run stays within
    5 minutes on a busy 2-core machine; the JSON says how many steps or requests were timed."""
    step_pairs: int             # interleaved Pixyz / PyTorch steps per architecture ...
    step_budget_s: float        # ... or fewer (at least 5) when they take longer than this
    step_warmup: int
    epoch_images: int | None    # None: the whole training set
    epoch_budget_s: float       # per model; past it the epoch is extrapolated from the steps timed
    slider_requests: int
    sketch_requests: int
    grid_requests: int
    latency_budget_s: float     # per kind of request
    raw_requests: int           # per kind, again by hand over one keep-alive connection (latency breakdown)
    rss_requests: int
    rss_budget_s: float
    load_clients: int
    load_seconds: float
    training_requests: int      # slider requests sent while the app trains ...
    training_budget_s: float    # ... for at most this long
    app_start_timeout_s: float
    visitors_seconds: float = 20  # each phase of the visitors job (benchmarks/visitors.py)


FULL = Sizes(step_pairs=40, step_budget_s=15, step_warmup=2, epoch_images=None, epoch_budget_s=30,
             slider_requests=100, sketch_requests=40, grid_requests=30, latency_budget_s=10, raw_requests=30,
             rss_requests=1000, rss_budget_s=60, load_clients=16, load_seconds=30, training_requests=40,
             training_budget_s=15, app_start_timeout_s=60)
QUICK = Sizes(step_pairs=3, step_budget_s=30, step_warmup=1, epoch_images=1000, epoch_budget_s=30,
              slider_requests=5, sketch_requests=3, grid_requests=3, latency_budget_s=30, raw_requests=3,
              rss_requests=20, rss_budget_s=30, load_clients=4, load_seconds=3, training_requests=3,
              training_budget_s=30, app_start_timeout_s=60, visitors_seconds=2)


def log(*parts):
    print("[benchmarks]", *parts, file=sys.stderr, flush=True)


def ms(seconds):
    return round(seconds * 1000, 2)


def p95_ms(seconds):
    return ms(float(np.percentile(seconds, 95))) if len(seconds) else None


def median_ms(seconds):
    return ms(float(np.median(seconds))) if len(seconds) else None


def timed(fn, *args, **kwargs):
    """(seconds, result) of one call."""
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    return time.perf_counter() - start, result


def load_data(device="cpu"):
    """Full MNIST from $CVAE_DATA_DIR (or the usual cache), else the bundled sample; never downloads."""
    import warnings

    from cvae.data import load_mnist
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return load_mnist(device=device, download=False)
