"""Job: the demo's response times over HTTP, one request at a time: a slider move (/generate), a sketch to name
(/classify, an 800 x 800 PNG), a grid of 64 samples; and, for scale, a request that does no work."""
import time

from .common import log, median_ms, p95_ms, timed

KEYS = ["slider_p95_ms", "sketch_p95_ms", "grid_p95_ms"]


def time_requests(call, client, n, budget_s):
    seconds, start = [], time.perf_counter()
    while len(seconds) < n and time.perf_counter() - start < budget_s:
        seconds.append(timed(call, client)[0])
    return seconds


def run(app, requests, sizes):
    kinds = [("slider", requests.generate, sizes.slider_requests),
             ("sketch", requests.classify, sizes.sketch_requests)]
    out, skipped = {}, {}
    if requests.grid_name:
        kinds.append(("grid", requests.grid, sizes.grid_requests))
        out["grid_endpoint"] = requests.grid_name
    else:
        out["grid_p95_ms"] = None
        skipped["grid_p95_ms"] = "the app has no grid endpoint; it has " + ", ".join(requests.endpoints)
    client = app.client()
    try:
        for _ in range(3):  # the first calls load models and fill caches
            for _, call, _ in kinds:
                call(client)
        for name, call, n in kinds:
            seconds = time_requests(call, client, n, sizes.latency_budget_s)
            out.update({f"{name}_p95_ms": p95_ms(seconds), f"{name}_median_ms": median_ms(seconds),
                        f"{name}_requests": len(seconds)})
            log(f"{name}: p95 {p95_ms(seconds)} ms, median {median_ms(seconds)} ms over {len(seconds)} requests")
        if "/session_models" in requests.endpoints:  # does no work: what HTTP and gradio's queue cost alone
            seconds = time_requests(lambda c: c.predict(api_name="/session_models"), client, 20, 5)
            out["noop_median_ms"] = median_ms(seconds)
            log(f"no-op request (/session_models): median {median_ms(seconds)} ms")
    finally:
        client.close()
    out["skipped"] = skipped
    return out
