"""Job: the server's resident memory at idle, and how much it grows over 1,000 requests (generate and classify
in turn, from 4 clients)."""
import itertools
import time
from concurrent.futures import ThreadPoolExecutor

from .common import log

KEYS = ["rss_mb_idle", "rss_growth_after_1000"]
CLIENTS = 4


def run(app, requests, sizes):
    time.sleep(1)
    idle = app.rss_mb()
    numbers = itertools.count()  # next() on it is atomic under the GIL
    deadline = time.perf_counter() + sizes.rss_budget_s

    def send(_):
        client, sent, failed = app.client(), 0, 0
        try:
            while (i := next(numbers)) < sizes.rss_requests and time.perf_counter() < deadline:
                try:
                    (requests.generate if i % 2 == 0 else requests.classify)(client)
                    sent += 1
                except Exception:  # counted; the load job reports what the errors are
                    failed += 1
        finally:
            client.close()
        return sent, failed

    with ThreadPoolExecutor(CLIENTS) as pool:
        sent, failed = map(sum, zip(*pool.map(send, range(CLIENTS))))
    time.sleep(1)
    after = app.rss_mb()
    log(f"rss: {idle:.0f} MB idle, {after:.0f} MB after {sent} requests ({failed} failed)")
    return {"rss_mb_idle": round(idle, 1), "rss_mb_after": round(after, 1),
            "rss_growth_after_1000": round((after - idle) / idle, 4), "rss_growth_requests": sent,
            "rss_request_errors": failed}
