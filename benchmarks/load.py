"""Job: 16 clients at once (threads, each its own Client) for 30 s, each sending generate and classify in turn."""
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from .common import log, p95_ms

KEYS = ["load_errors", "load_p95_ms", "load_requests"]


def run(app, requests, sizes):
    n = sizes.load_clients
    with ThreadPoolExecutor(n) as pool:
        clients = list(pool.map(lambda _: app.client(), range(n)))
    start = threading.Barrier(n)
    lock = threading.Lock()
    seconds, errors = [], []

    def hammer(index):
        client = clients[index]
        start.wait()
        end = time.perf_counter() + sizes.load_seconds
        i = index
        while time.perf_counter() < end:
            call = requests.generate if i % 2 == 0 else requests.classify
            t = time.perf_counter()
            try:
                call(client)
                with lock:
                    seconds.append(time.perf_counter() - t)
            except Exception as e:
                with lock:
                    errors.append(f"{call.__name__}: {type(e).__name__}: {e}"[:240])
            i += 1

    try:
        with ThreadPoolExecutor(n) as pool:
            list(pool.map(hammer, range(n)))
    finally:
        for client in clients:
            client.close()
    log(f"load: {len(seconds) + len(errors)} requests from {n} clients in {sizes.load_seconds:.0f} s, "
        f"{len(errors)} errors, p95 {p95_ms(seconds)} ms")
    skipped = {"load_p95_ms": "every request failed"} if not seconds else {}
    return {"load_errors": len(errors), "load_p95_ms": p95_ms(seconds), "load_requests": len(seconds) + len(errors),
            "load_clients": n, "load_seconds": sizes.load_seconds, "load_error_examples": sorted(set(errors))[:3],
            "skipped": skipped}
