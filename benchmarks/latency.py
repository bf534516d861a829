"""Job: the demo's response times over HTTP, one request at a time, with gradio_client (the targets): a slider move
(/generate), a sketch to name (/classify, an 800 x 800 PNG, uploaded each time), model 1's second opinion on the same
sketch (/second_opinion: `second_opinion_p95_ms_http`, target 50 ms), a grid of 64 samples (/grid); and,
for scale, a request that does no work (/session_models), with the measuring client and with gradio_client's
defaults.

Then the same requests by hand over one keep-alive connection (app_server.RawClient), as the browser makes them:
`slider_p95_ms_http` and the like, and `latency_breakdown_ms`, medians per kind, which splits each time into the
server's handler (as gradio reports it), the rest of the server's queue and HTTP, and what gradio_client adds.
gradio_client polls for the server's messages with 50 ms sleeps, so no request through it, not even one that does
no work (`noop_p95_ms`), answers in under about 50 ms.
"""
import time

from .common import log, median_ms, p95_ms, timed

KEYS = ["slider_p95_ms", "sketch_p95_ms", "grid_p95_ms", "second_opinion_p95_ms_http"]
RAW_BUDGET_S = 5  # per kind, for the breakdown


def time_requests(call, client, n, budget_s):
    seconds, start = [], time.perf_counter()
    while len(seconds) < n and time.perf_counter() - start < budget_s:
        seconds.append(timed(call, client)[0])
    return seconds


def noop(client):
    return client.predict(api_name="/session_models")


def run(app, requests, sizes):
    kinds = [("slider", requests.generate, requests.raw_generate, sizes.slider_requests),
             ("sketch", requests.classify, requests.raw_classify, sizes.sketch_requests)]
    out, skipped = {}, {}
    if "/second_opinion" in requests.endpoints:  # the same sketch, both models' answers as JSON
        kinds.append(("second_opinion", requests.second_opinion, requests.raw_second_opinion, sizes.sketch_requests))
    else:
        out["second_opinion_p95_ms_http"] = None
        skipped["second_opinion_p95_ms_http"] = "the app has no /second_opinion endpoint"
    if requests.grid_name:
        kinds.append(("grid", requests.grid, requests.raw_grid, sizes.grid_requests))
        out["grid_endpoint"] = requests.grid_name
    else:
        out["grid_p95_ms"] = None
        skipped["grid_p95_ms"] = "the app has no grid endpoint; it has " + ", ".join(requests.endpoints)
    client = app.client()
    medians = {}
    try:
        for _ in range(3):  # the first calls load models and fill caches
            for _, call, _, _ in kinds:
                call(client)
        for name, call, _, n in kinds:
            seconds = time_requests(call, client, n, sizes.latency_budget_s)
            out.update({f"{name}_p95_ms": p95_ms(seconds), f"{name}_median_ms": median_ms(seconds),
                        f"{name}_requests": len(seconds)})
            medians[name] = median_ms(seconds)
            log(f"{name}: p95 {p95_ms(seconds)} ms, median {median_ms(seconds)} ms over {len(seconds)} requests")
        if "/session_models" in requests.endpoints:  # does no work: what HTTP, gradio's queue and the client cost
            seconds = time_requests(noop, client, 20, 5)
            out.update({"noop_median_ms": median_ms(seconds), "noop_p95_ms": p95_ms(seconds)})
            medians["noop"] = median_ms(seconds)
            log(f"no-op request (/session_models): median {median_ms(seconds)} ms, p95 {p95_ms(seconds)} ms")
            default = app.client(ssl_verify=True)
            try:
                seconds = time_requests(noop, default, min(10, sizes.slider_requests), 5)
            finally:
                default.close()
            out["noop_median_ms_default_client"] = median_ms(seconds)
            log(f"no-op with gradio_client's defaults (ssl_verify=True): median {median_ms(seconds)} ms")
    finally:
        client.close()
    out["client"] = "gradio_client, ssl_verify=False on http://127.0.0.1 (see app_server.App.client)"
    http_keys = {name: f"{name}_p95_ms_http" for name, _, _, _ in kinds}  # the browser's way: no polling sleeps
    try:
        out["latency_breakdown_ms"] = breakdown(app, requests, kinds, medians, sizes.raw_requests)
        out.update({key: out["latency_breakdown_ms"][name]["server_http_p95"] for name, key in http_keys.items()})
    except Exception as e:  # the targets above stand without it
        for key in ["latency_breakdown_ms", *http_keys.values()]:
            out[key], skipped[key] = None, f"latency breakdown failed: {type(e).__name__}: {e}"[:300]
        log(f"latency breakdown failed: {type(e).__name__}: {e}")
    out["skipped"] = skipped
    return out


def breakdown(app, requests, kinds, client_medians, n):
    """Per kind, medians in ms: `handler` (the server's call of the app's function, as gradio times it),
    `server_http` (one keep-alive connection: join, the event's messages, the output files), `gradio_client` (the
    targets' client), and `client_overhead` (the difference between the last two)."""
    raw = app.raw_client()
    rows = {}
    try:
        calls = [(name, raw_call) for name, _, raw_call, _ in kinds]
        if "/session_models" in requests.endpoints:
            calls.append(("noop", requests.raw_noop))
        for _, raw_call in calls:
            raw_call(raw)  # warm
        for name, raw_call in calls:
            total, handler, start = [], [], time.perf_counter()
            while len(total) < n and time.perf_counter() - start < RAW_BUDGET_S:
                seconds, server_seconds, _ = raw_call(raw)
                total.append(seconds)
                if server_seconds is not None:
                    handler.append(server_seconds)
            row = {"handler": median_ms(handler), "server_http": median_ms(total), "server_http_p95": p95_ms(total),
                   "gradio_client": client_medians.get(name), "requests": len(total)}
            if row["gradio_client"] is not None:
                row["client_overhead"] = round(row["gradio_client"] - row["server_http"], 2)
            rows[name] = row
            log(f"{name} breakdown: {row}")
    finally:
        raw.close()
    return rows
