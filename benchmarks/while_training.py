"""Job: slider requests (/generate) while the app trains a generator on a small subset (/train)."""
import time

from .common import log, median_ms, p95_ms, timed

KEYS = ["generate_p95_ms_while_training"]
RUNNING = ("PROCESSING", "ITERATING", "PROGRESS", "LOG")
SETTLE_S = 3.0  # after /train starts: the app loads the data and enters its loop


def run(app, requests, sizes):
    if "/train" not in requests.endpoints:
        return {"generate_p95_ms_while_training": None,
                "skipped": {"generate_p95_ms_while_training": "the app has no /train endpoint"}}
    # the page's default run of the generator (a time budget), on at most 20,000 training images
    train_args = {"model": "generator", "train_size": min(20000, requests.train_images)}
    trainer, client = app.client(), app.client()
    try:
        job = trainer.submit(**train_args, api_name="/train")
        deadline = time.perf_counter() + 30
        while job.status().code.name not in RUNNING and not job.done() and time.perf_counter() < deadline:
            time.sleep(0.1)
        time.sleep(SETTLE_S)
        seconds, start = [], time.perf_counter()
        while (len(seconds) < sizes.training_requests and not job.done()
               and time.perf_counter() - start < sizes.training_budget_s):
            took, _ = timed(requests.generate, client)
            if not job.done():
                seconds.append(took)
        failed = job.done() and job.exception() is not None
        if failed or not seconds:
            reason = (f"/train failed: {type(job.exception()).__name__}: {job.exception()}"[:300] if failed
                      else "training ended before a request could be timed")
            return {"generate_p95_ms_while_training": None, "skipped": {"generate_p95_ms_while_training": reason}}
        job.cancel()
        log(f"while training: p95 {p95_ms(seconds)} ms over {len(seconds)} requests")
        return {"generate_p95_ms_while_training": p95_ms(seconds),
                "generate_median_ms_while_training": median_ms(seconds), "requests_while_training": len(seconds),
                "train_request": train_args}
    finally:
        trainer.close()
        client.close()
