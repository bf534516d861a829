"""python -m benchmarks: every measurement in one run; progress on stderr, then one JSON object, the last line on
stdout. Each measurement that cannot run is null, with the reason under "skipped"."""
import argparse
import json
import math
import os
import time

import torch

from . import browser, cuda, epoch, latency, load, memory, step_ratio, train_speed, visitors, while_training
from .app_server import App, Requests
from .common import FULL, QUICK, load_data, log

TARGETS = {  # key: the most it may be
    "pixyz_vs_torch_step_ratio": 1.10, "classifier_pixyz_vs_torch_step_ratio": 1.10, "data_share": 0.05,
    "slider_p95_ms": 50, "sketch_p95_ms": 100, "grid_p95_ms": 150, "load_errors": 0,
    "slider_p95_ms_http": 50, "sketch_p95_ms_http": 100, "grid_p95_ms_http": 150,
    "generate_p95_ms_while_training": 200, "rss_growth_after_1000": 0.05,
    "map_click_p95_ms_http": 50, "map_p95_ms_http": 150, "traversal_p95_ms_http": 150, "slider_p95_ms_browser": 100,
    "visitors10_slider_p95_ms": 100, "visitors10_drawing_p95_ms": 200, "visitors40_slider_p95_ms": 200,
    "visitors40_drawing_p95_ms": 600, "visitors10_errors": 0, "visitors40_errors": 0,
    "visitors10_costly_drawing_slowdown": 2, "visitors10_train_flood_slowdown": 2,
    "sketch_answer_p95_ms_browser": 100, "sketch_answer_p95_ms_http": 100, "second_opinion_p95_ms_http": 50,
    "terms_p95_ms_http": 50, "draw_from_q_p95_ms_http": 50, "posterior_map_p95_ms_http": 50,
}
TARGETS_AT_LEAST = {  # key: the least it may be
    "train_speedup_vs_eager_generator": 1.3, "train_speedup_vs_eager_classifier": 1.3,
}
# visitors last: its queue flood leaves trainings queued behind it
APP_JOBS = (latency, browser, memory, load, while_training, visitors)
JOBS = {job.__name__.split(".")[-1]: job for job in (step_ratio, train_speed, epoch, *APP_JOBS, cuda)}


def run_job(results, job, *args):
    """Merge what `job.run(*args)` measures into `results`; on failure its keys are null, with the reason."""
    start = time.perf_counter()
    try:
        out = job.run(*args)
    except Exception as e:
        log(f"{job.__name__} failed: {type(e).__name__}: {e}")
        out = {key: None for key in job.KEYS}
        out["skipped"] = {key: f"{job.__name__.split('.')[-1]} failed: {type(e).__name__}: {e}"[:400]
                          for key in job.KEYS}
    results["skipped"].update(out.pop("skipped", {}))
    results.update(out)
    results["job_seconds"][job.__name__.split(".")[-1]] = round(time.perf_counter() - start, 1)


def skip_or_run(results, skip_reason, job, *args, only=None):
    if only is not None and job not in only:
        skip_reason = skip_reason or f"--only {','.join(sorted(j.__name__.split('.')[-1] for j in only))} was given"
    if skip_reason:
        results.update({key: None for key in job.KEYS})
        results["skipped"].update({key: skip_reason for key in job.KEYS})
    else:
        run_job(results, job, *args)


def run_app_jobs(results, sizes, train_images, skip_reason=None, only=None):
    app = requests = None
    if only is not None and not set(APP_JOBS) & set(only):
        skip_reason = skip_reason or "--only names none of the app's jobs"
    try:
        if skip_reason is None:
            log("starting the app: python -m demo")
            app = App(sizes.app_start_timeout_s)
            requests = Requests(app, app.workdir, train_images)
    except Exception as e:
        skip_reason = f"the app could not be started: {type(e).__name__}: {e}"[:600]
    try:
        for job in APP_JOBS:
            skip_or_run(results, skip_reason, job, app, requests, sizes, only=only)
    finally:
        if app is not None:
            app.stop()


def check_targets(results):
    """key: whether its target is met (None: not measured)."""
    def met(key, limit, at_least=False):
        value = results.get(key)
        return None if value is None else value >= limit if at_least else value <= limit
    return {**{key: met(key, limit) for key, limit in TARGETS.items()},
            **{key: met(key, limit, at_least=True) for key, limit in TARGETS_AT_LEAST.items()}}


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="every part at a tiny size, to check that it works")
    parser.add_argument("--skip-app", action="store_true", help="leave out the parts that need the demo app")
    parser.add_argument("--skip-training", action="store_true", help="leave out the step ratios and epochs")
    parser.add_argument("--threads", type=int, help="torch threads for the training parts (default: torch's)")
    parser.add_argument("--only", metavar="JOB[,JOB]", help="run only these jobs (the others' keys are null, with "
                        f"the reason): {', '.join(JOBS)}")
    args = parser.parse_args(argv)
    only = None
    if args.only:
        unknown = set(args.only.split(",")) - set(JOBS)
        if unknown:
            parser.error(f"no such job: {', '.join(sorted(unknown))}; the jobs are {', '.join(JOBS)}")
        only = {JOBS[name] for name in args.only.split(",")}
    if args.threads:
        torch.set_num_threads(args.threads)
    sizes = QUICK if args.quick else FULL
    start = time.perf_counter()
    data = load_data()
    results = {"quick": args.quick, "data": data.source, "train_images": len(data.x_train),
               "cpu_count": os.cpu_count(), "torch_threads": torch.get_num_threads(), "torch": torch.__version__,
               "load_average_at_start": round(os.getloadavg()[0], 2), "skipped": {}, "job_seconds": {}}
    log(f"{'quick' if args.quick else 'full'} run on {data.source} MNIST, {torch.get_num_threads()} torch threads")
    skip_training = "--skip-training was given" if args.skip_training else None
    skip_or_run(results, skip_training, step_ratio, data, sizes, only=only)
    skip_or_run(results, skip_training, train_speed, data, sizes, only=only)
    skip_or_run(results, skip_training, epoch, data, sizes, only=only)
    run_app_jobs(results, sizes, len(data.x_train), "--skip-app was given" if args.skip_app else None, only=only)
    skip_or_run(results, skip_training, cuda, sizes, only=only)
    results["load_average_at_end"] = round(os.getloadavg()[0], 2)
    results["targets_met"] = check_targets(results)
    results["seconds"] = round(time.perf_counter() - start, 1)
    print(json.dumps(finite(results), default=str))


def finite(value):
    """NaN and infinities as null, so that the output is strict JSON."""
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite(v) for v in value]
    return None if isinstance(value, float) and not math.isfinite(value) else value


if __name__ == "__main__":
    main()
