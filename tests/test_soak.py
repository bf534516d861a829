"""Reliability: a bounded soak of `python -m demo` as it is started for real (a subprocess, default address): a fixed
number of mixed requests, good and bad, from several clients at once. Every good request must succeed; every bad
one must come back as a clean error message (gradio_client's AppError with the app's words), never a server fault
(an exception that is not the app's gr.Error reaches a client as "has not enabled verbose error reporting") or a
traceback in the server's log; and the server's resident memory must stay flat once it is warm.
"""
import concurrent.futures
import math
import os
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import psutil
import pytest
from conftest import png_claiming
from gradio_client import handle_file
from gradio_client.exceptions import AppError
from PIL import Image

from benchmarks.app_server import App, AppError as RawError, served_z_dim
from demo import handlers as h

THREADS = 6
REQUESTS = 300
WARMUP = 300                   # the server's first requests fill its caches and allocator pools: not a leak
MAX_RETRIED = 3               # answers that gradio_client lost in its own stream race (see `predict`), per soak
MAX_RSS_GROWTH = 0.05          # of the server's resident memory after the warm-up
SERVER_FAULT = "verbose error reporting"   # what gradio_client says for an exception that is not a gr.Error
LOG_FAULTS = ("Traceback", "LocalProtocolError", "Too little data", "Exception in ASGI", "RemoteProtocolError")


@pytest.fixture(scope="module")
def server():
    """`python -m demo --port PORT` with the default address (CVAE_HOST unset), until the module ends."""
    saved = os.environ.pop("CVAE_HOST", None)
    try:
        app = App(timeout_s=120)
    finally:
        if saved is not None:
            os.environ["CVAE_HOST"] = saved
    try:
        yield app
    finally:
        app.stop()


@pytest.fixture(scope="module")
def uploads(drawn_one, tmp_path_factory):
    """Files to classify: the drawn 1 in odd image modes (good), a blank page (good: 'draw a digit'), and files that
    are no usable image (bad)."""
    folder = tmp_path_factory.mktemp("soak")
    files = {}

    def save(name, image, **kw):
        image.save(folder / name, **kw)
        files[name] = str(folder / name)

    grey = drawn_one.convert("L")
    save("one.png", drawn_one)
    save("one_rgba.png", drawn_one.convert("RGBA"))
    save("one_p.png", drawn_one.convert("P"))
    save("one_1bit.png", drawn_one.convert("1"))
    save("one_la.png", Image.merge("LA", (grey, Image.new("L", grey.size, 255))))
    save("one_i16.png", Image.fromarray(np.asarray(grey).astype(np.uint16) * 257))
    save("one_cmyk.tiff", drawn_one.convert("CMYK"))
    save("one.jpg", drawn_one, quality=85)
    save("blank.png", Image.new("RGB", (800, 800), "white"))
    for name, content in {"note.png": b"not a picture at all", "empty.png": b"",
                          "truncated.png": (folder / "one.png").read_bytes()[:400],
                          "bomb.png": png_claiming(20000, 20000), "text.jpg": b"GIF89a but not really"}.items():
        (folder / name).write_bytes(content)
        files[name] = str(folder / name)
    return files


def catalogue(z_dim, uploads, n, seed):
    """n requests (api_name, args, expected): expected is 'ok', 'blank', or the word the error message must hold."""
    rng = random.Random(seed)

    def z():
        return ", ".join(f"{rng.gauss(0, 1):.3f}" for _ in range(z_dim))

    good = [
        lambda: ("/generate", (rng.randrange(10), z(), rng.choice([28, 100, 280, 512])), "ok"),
        lambda: ("/generate", (3, "", 280), "ok"),  # identical answers from several clients at once
        lambda: ("/generate", (rng.randrange(10), "[" + z() + "]", 280), "ok"),
        lambda: ("/grid", (rng.randrange(10), rng.randrange(1000), rng.choice([1, 9, 64])), "ok"),
        lambda: ("/classify", (rng.choice([k for k in uploads if k.startswith("one")]),), "ok"),
        lambda: ("/classify", ("blank.png",), "blank"),
        lambda: ("/session_models", (), "ok"),
    ]
    bad = [
        lambda: ("/generate", (rng.choice([12, -1, 3.5, "x", "", None, [3]]), "", 280), "digit"),
        lambda: ("/generate", (3, rng.choice(["nan" + ",0" * (z_dim - 1), "a,b", "1,2", '{"a": 1}', "[1, 2",
                                              "0," * 8000 + "0", "inf" + ",0" * (z_dim - 1)]), 280), "z"),
        lambda: ("/generate", (3, "", rng.choice([10**9, 5000, 0, 27, 100.5, "280px"])), "size"),
        lambda: ("/grid", (3, 0, rng.choice([0, 257, 10**6])), "samples"),
        lambda: ("/grid", (3, rng.choice([-1, 2**40]), 64), "seed"),
        lambda: ("/grid", (12, 0, 64), "digit"),
        lambda: ("/classify", (rng.choice(["note.png", "empty.png", "truncated.png", "text.jpg"]),),
                 "could not be read"),
        lambda: ("/classify", ("bomb.png",), "too large"),
        # NaN and infinities, which gradio_client cannot send (JSON has none): by hand, as JSON's NaN and Infinity.
        lambda: ("raw:/generate", (rng.choice([math.nan, math.inf, -math.inf]), "", 280), "digit"),
        lambda: ("raw:/generate", (3, "", rng.choice([math.nan, math.inf])), "size"),
        lambda: ("raw:/grid", (3, rng.choice([math.nan, math.inf]), 64), "seed"),
        lambda: ("raw:/grid", (3, 0, rng.choice([math.nan, math.inf])), "samples"),
    ]
    return [rng.choice(good)() if rng.random() < 0.6 else rng.choice(bad)() for _ in range(n)]


def predict(client, args, api_name, retried):
    """client.predict, once more when gradio_client itself dropped the answer: its one event stream per client is
    closed by the server's close_stream when no event is pending, and a submission registered just before the
    reader saw it is ended with a CancelledError on the client's side (the server answered it; its log is checked
    for faults below). Each such retry is counted in `retried`, and the test allows only a few."""
    try:
        return client.predict(*args, api_name=api_name)
    except concurrent.futures.CancelledError:
        retried.append(api_name)
        return client.predict(*args, api_name=api_name)


def send(clients, request, uploads, retried):
    """-> None when the answer is what was expected, else what went wrong."""
    client, raw = clients
    api_name, args, expected = request
    if api_name == "/classify":
        args = (handle_file(uploads[args[0]]),)
    try:
        if api_name.startswith("raw:"):
            api_name = api_name[4:]
            out = raw.call(api_name, *args)[2]
        else:
            out = predict(client, args, api_name, retried)
    except (AppError, RawError) as e:
        message = str(e)
        if expected in ("ok", "blank") or SERVER_FAULT in message or "Traceback" in message \
                or expected not in message:
            return f"{api_name}{args}: AppError {message[:200]!r}, expected {expected!r}"
        return None
    except Exception as e:  # a transport error, a 5xx, a broken download: never acceptable
        return f"{api_name}{args}: {type(e).__name__}: {str(e)[:200]}"
    if expected not in ("ok", "blank"):
        return f"{api_name}{args}: answered {str(out)[:120]}, expected an error about {expected!r}"
    if api_name == "/generate":
        with Image.open(out) as image:
            if image.size != (args[2], args[2]):
                return f"{api_name}{args}: a picture of {image.size}"
    elif api_name == "/grid":
        with Image.open(out) as image:
            rows = -(-args[2] // 8)
            if image.size != ((min(8, args[2]) * 30 + 2) * 2, (rows * 30 + 2) * 2):
                return f"{api_name}{args}: a grid of {image.size}"
    elif api_name == "/classify":
        label, seen = out
        if expected == "blank":
            if label.get("label") != h.BLANK_MESSAGE or seen is not None:
                return f"{api_name}{args}: {label} for a blank page"
        elif label.get("label") not in list("0123456789") or len(label.get("confidences", [])) != 10 \
                or Image.open(seen).size != (280, 280):
            return f"{api_name}{args}: {str(label)[:120]}"
    return None


def soak(clients, requests, uploads):
    """Send `requests` from the clients at once, a thread each; -> (problems, seconds). More than MAX_RETRIED
    answers lost by gradio_client (see `predict`) is a problem too."""
    lock, problems, todo, retried = threading.Lock(), [], iter(requests), []

    def worker(client):
        while True:
            with lock:
                request = next(todo, None)
            if request is None:
                return
            problem = send(client, request, uploads, retried)
            if problem:
                with lock:
                    problems.append(problem)

    start = time.perf_counter()
    with ThreadPoolExecutor(len(clients)) as pool:
        list(pool.map(worker, clients))
    if len(retried) > MAX_RETRIED:
        problems.append(f"gradio_client lost {len(retried)} answers (more than {MAX_RETRIED}): {retried[:5]}")
    return problems, time.perf_counter() - start


@pytest.fixture
def clients(server):
    """THREADS visitors: each a gradio_client Client, and a RawClient for what gradio_client cannot send."""
    pairs = [(server.client(), server.raw_client()) for _ in range(THREADS)]
    try:
        yield pairs
    finally:
        for client, raw in pairs:
            client.close()
            raw.close()


def test_soak_of_mixed_requests_has_no_server_error_and_flat_memory(server, clients, uploads):
    z_dim = served_z_dim()  # of the generator the server loaded ($CVAE_WEIGHTS, else weights/)
    problems, _ = soak(clients, catalogue(z_dim, uploads, WARMUP, seed=1), uploads)
    assert not problems, problems[:5]
    time.sleep(1)
    rss_before = server.rss_mb()

    requests = catalogue(z_dim, uploads, REQUESTS, seed=2)
    problems, seconds = soak(clients, requests, uploads)
    time.sleep(1)
    rss_after = server.rss_mb()
    bad = sum(r[2] not in ("ok", "blank") for r in requests)
    growth = (rss_after - rss_before) / rss_before
    print(f"soak: {REQUESTS} requests ({bad} bad) from {THREADS} clients in {seconds:.1f} s; "
          f"server RSS {rss_before:.0f} -> {rss_after:.0f} MB ({growth:+.1%})")
    assert not problems, f"{len(problems)} of {REQUESTS} answers were wrong: {problems[:5]}"
    log = server.log_path.read_text(errors="replace")
    faults = [line for line in log.splitlines() if any(f in line for f in LOG_FAULTS)]
    assert not faults, faults[:5]
    assert growth < MAX_RSS_GROWTH


def test_the_server_listens_on_127_0_0_1_by_default(server):
    listening = [c.laddr for p in [psutil.Process(server.proc.pid), *psutil.Process(server.proc.pid).children(True)]
                 for c in p.net_connections(kind="inet") if c.status == psutil.CONN_LISTEN]
    assert listening and all(address.ip == "127.0.0.1" for address in listening), listening
    assert any(address.port == server.port for address in listening)


def test_sigterm_stops_the_server_and_removes_its_pictures(server):
    """Last in this module: it stops the module's server. SIGTERM ends it as Ctrl+C does (demo/__main__.py), so the
    folder of pictures that it made in gradio's cache goes with it."""
    import httpx
    config = httpx.get(server.url + "config").json()
    picture = next(c["props"]["value"]["path"] for c in config["components"]
                   if c["props"].get("elem_id") == "grid")
    folder = os.path.dirname(picture)
    assert os.path.basename(folder).startswith("cvae-demo-") and os.path.isdir(folder)
    server.proc.terminate()
    assert server.proc.wait(30) == 0
    assert not os.path.exists(folder)
