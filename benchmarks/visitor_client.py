"""The visitors of the load job (benchmarks/visitors.py), in a process of their own so that the measuring client
does not share the server's interpreter: `python -m benchmarks.visitor_client URL --visitors N --seconds S
[--abuser costly-drawing|train-flood]` prints one JSON object, the times of every answer.

Each visitor sends what the page sends, as the page sends it: a z slider moved (the slider's `input` event) and a
drawing read (the pad's `change` event), in turn, each one POST to /gradio_api/run/predict with the event's
fn_index (queue=False), and the next one only when the answer has come (the page has one request in flight per
event: trigger_mode="always_last"). Each visitor is a thread with a keep-alive connection and a session of its own.

The abuser, when there is one, runs at the same time:
  costly-drawing  one client (one session) on ABUSER_IN_FLIGHT connections, each sending the costliest drawing
                  the pad's limits allow, again and again;
  train-flood     one session joining /train FLOOD_JOINS times at once through the queue (more than it holds),
                  and again when they are answered; meanwhile one more visitor asks for /grid (through the queue)
                  every GRID_GAP_S, to see whether the queue still serves others.
"""
import argparse
import json
import math
import sys
import threading
import time
import uuid

import httpx
import numpy as np

from .app_server import pad_value

ABUSER_IN_FLIGHT = 4        # one client may open several connections; the page would have one
FLOOD_JOINS = 100           # more than the queue holds (max_size 64): it is full, whatever else is in it
GRID_GAP_S = 1.0
TIMEOUT_S = 30


def page_events(url):
    """(slider events, the drawing event, the /train and /grid events) from the page's configuration: each
    (fn_index, [input component dicts])."""
    config = httpx.get(f"{url}/config", timeout=TIMEOUT_S).json()
    components = {c["id"]: c for c in config["components"]}

    def event(d):
        return d["id"], [components[i] for i in d["inputs"]]

    def target(d):
        return [(components.get(t[0], {}).get("props", {}).get("elem_id"), t[1]) for t in d["targets"]]

    sliders = [event(d) for d in config["dependencies"] if d.get("queue") is False
               and any(elem and elem.startswith("z") and elem[1:].isdigit() and kind == "input"
                       for elem, kind in target(d))]
    drawing = next(event(d) for d in config["dependencies"] if ("sketch", "change") in target(d))
    named = {d.get("api_name"): event(d) for d in config["dependencies"] if d.get("api_name")}
    return sliders, drawing, named.get("train"), named.get("grid")


def slider_data(inputs, rng):
    """The slider event's inputs as the page sends them: the session's state as null (the server keeps it), the
    digit, each z slider where the visitor has dragged it (the slider's step is 0.05)."""
    data = []
    for c in inputs:
        kind = c["type"]
        if kind == "state":
            data.append(None)
        elif kind == "slider":
            data.append(round(float(rng.uniform(-3, 3)) / 0.05) * 0.05)
        elif kind == "radio":
            data.append(int(rng.integers(10)))
        else:
            data.append(c.get("props", {}).get("value"))
    return data


def costliest_drawing(seq):
    """The costliest drawing the pad's limits allow (demo/draw_tab.py): every stroke and point, each point a pad
    pixel from the last (whole pixels: the pad's own), on the smallest pad where that much ink is within the cap
    (so the largest scale), with the widest brush. (Made by the job, which has the app's modules loaded, and handed
    to the load client in a file: --costly-drawing; tests/test_drawing_limits.py reads it too.)"""
    from demo import draw_tab
    strokes, points = draw_tab.MAX_STROKES, draw_tab.MAX_POINTS // draw_tab.MAX_STROKES
    size = max(draw_tab.PAD_SIDES[0],
               math.ceil(strokes * (points - 1) * draw_tab.RENDER_SIZE / (0.95 * draw_tab.MAX_INK)))
    rng = np.random.default_rng(0)
    walks = []
    for _ in range(strokes):
        steps = np.array([[1, 0], [-1, 0], [0, 1], [0, -1]])[rng.integers(4, size=points - 1)]
        walk = size // 2 + np.cumsum(np.concatenate([[[0, 0]], steps]), axis=0)
        walks.append(np.clip(walk, 0, size).tolist())
    return {"seq": seq, "size": [size, size], "brush": draw_tab.MAX_BRUSH, "strokes": draw_tab.strokes_text(walks)}


class Record:
    """Thread-safe lists of answer times (s) per kind, and error messages."""

    def __init__(self):
        self.lock = threading.Lock()
        self.times, self.errors = {}, []

    def add(self, kind, seconds=None, error=None):
        with self.lock:
            if error is None:
                self.times.setdefault(kind, []).append(seconds)
            else:
                self.errors.append(f"{kind}: {error}"[:200])


def post(http, url, fn_index, data, session):
    body = json.dumps({"data": data, "fn_index": fn_index, "session_hash": session, "event_data": None,
                       "trigger_id": None})
    r = http.post(f"{url}/gradio_api/run/predict", content=body, headers={"content-type": "application/json"})
    if r.status_code != 200 or "data" not in r.json():
        raise RuntimeError(f"HTTP {r.status_code} {r.text[:120]}")


def visitor(url, index, sliders, drawing, clock, record, start):
    """One visitor: slider moves and drawings in turn, one request in flight, until `end`."""
    rng = np.random.default_rng(index)
    session = uuid.uuid4().hex[:10]
    seq = 0

    def send():
        nonlocal seq
        kind = "slider" if seq % 2 == 0 else "drawing"
        seq += 1
        if kind == "slider":
            fn_index, inputs = sliders[int(rng.integers(len(sliders)))]
            data = slider_data(inputs, rng)
        else:
            fn_index, data = drawing[0], [None, pad_value(int(rng.integers(10)), seq)]
        return kind, lambda: post(http, url, fn_index, data, session)

    with httpx.Client(timeout=TIMEOUT_S) as http:
        for _ in range(2):  # before the clock: the page's first requests make the visitor's session
            try:
                send()[1]()
            except Exception as e:
                record.add("warm-up", error=f"{type(e).__name__}: {e}")
        start.wait()
        end = clock.end
        while time.perf_counter() < end:
            kind, request = send()
            t = time.perf_counter()
            try:
                request()
            except Exception as e:
                record.add(kind, error=f"{type(e).__name__}: {e}")
                continue
            record.add(kind, time.perf_counter() - t)


def costly_drawer(url, drawing, body, session, clock, record, start):
    with httpx.Client(timeout=TIMEOUT_S) as http:
        start.wait()
        end = clock.end
        while time.perf_counter() < end:
            t = time.perf_counter()
            try:
                post(http, url, drawing[0], [None, body], session)
                record.add("abuser", time.perf_counter() - t)
            except Exception as e:
                record.add("abuser", error=f"{type(e).__name__}: {e}")


def queued_call(http, url, fn_index, data, session):
    """One event through the queue, as the page sends it: join, then its messages until process_completed."""
    body = json.dumps({"data": data, "fn_index": fn_index, "session_hash": session, "event_data": None,
                       "trigger_id": None})
    r = http.post(f"{url}/gradio_api/queue/join", content=body, headers={"content-type": "application/json"})
    if r.status_code != 200:
        raise RuntimeError(f"join: HTTP {r.status_code} {r.text[:120]}")
    event_id = r.json()["event_id"]
    with http.stream("GET", f"{url}/gradio_api/queue/data", params={"session_hash": session}) as response:
        for line in response.iter_lines():
            if line.startswith("data:"):
                message = json.loads(line[5:])
                if message.get("event_id") == event_id and message.get("msg") == "process_completed":
                    if not message.get("success"):
                        raise RuntimeError(str((message.get("output") or {}).get("error"))[:120])
                    return


def train_flooder(url, train, clock, record, start, counts):
    """FLOOD_JOINS joins of /train from one session, and again once they are all answered, until `end`."""
    fn_index, inputs = train
    settings = {"model": "generator", "budget": "until N epochs", "epochs": 1, "batch_size": 64, "lr": 1e-3,
                "train_size": 256}
    data = [None if c["type"] == "state" else settings.get(c.get("props", {}).get("label"),
                                                           c.get("props", {}).get("value")) for c in inputs]
    session = uuid.uuid4().hex[:10]
    body = json.dumps({"data": data, "fn_index": fn_index, "session_hash": session, "event_data": None,
                       "trigger_id": None})
    with httpx.Client(timeout=TIMEOUT_S) as http:
        start.wait()
        end = clock.end
        while time.perf_counter() < end:
            joined = 0
            for _ in range(FLOOD_JOINS):
                r = http.post(f"{url}/gradio_api/queue/join", content=body,
                              headers={"content-type": "application/json"})
                key = "accepted" if r.status_code == 200 else f"http_{r.status_code}"
                counts[key] = counts.get(key, 0) + 1
                joined += r.status_code == 200
            answered = 0
            try:  # read the session's messages until every accepted join is answered, or the phase ends
                with http.stream("GET", f"{url}/gradio_api/queue/data", params={"session_hash": session},
                                 timeout=max(1.0, end - time.perf_counter())) as response:
                    for line in response.iter_lines():
                        if line.startswith("data:") and json.loads(line[5:]).get("msg") == "process_completed":
                            answered += 1
                        if answered >= joined or time.perf_counter() >= end:
                            break
            except httpx.HTTPError:
                pass
            counts["answered"] = counts.get("answered", 0) + answered
            if joined == 0:
                time.sleep(0.2)


def grid_asker(url, grid, clock, record, start):
    fn_index, inputs = grid
    values = {"digit": 3, "seed": 0, "n": 64}
    data = [None if c["type"] == "state" else values.get(c.get("props", {}).get("label"),
                                                         c.get("props", {}).get("value")) for c in inputs]
    session = uuid.uuid4().hex[:10]
    with httpx.Client(timeout=TIMEOUT_S) as http:
        start.wait()
        end = clock.end
        while time.perf_counter() < end:
            t = time.perf_counter()
            try:
                queued_call(http, url, fn_index, data, session)
                record.add("grid", time.perf_counter() - t)
            except Exception as e:
                record.add("grid", error=f"{type(e).__name__}: {e}")
            time.sleep(max(0.0, GRID_GAP_S - (time.perf_counter() - t)))


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.visitor_client", description=__doc__)
    parser.add_argument("url")
    parser.add_argument("--visitors", type=int, required=True)
    parser.add_argument("--seconds", type=float, required=True)
    parser.add_argument("--abuser", choices=["none", "costly-drawing", "train-flood"], default="none")
    parser.add_argument("--costly-drawing", help="a JSON file: the drawing the costly-drawing abuser sends")
    args = parser.parse_args(argv)
    url = args.url.rstrip("/")
    sliders, drawing, train, grid = page_events(url)
    record, counts, clock = Record(), {}, Clock()
    workers = [(visitor, (url, i, sliders, drawing)) for i in range(args.visitors)]
    if args.abuser == "costly-drawing":
        with open(args.costly_drawing) as f:
            body = json.load(f)
        session = uuid.uuid4().hex[:10]  # one client: its connections share its session
        workers += [(costly_drawer, (url, drawing, body, session))] * ABUSER_IN_FLIGHT
    elif args.abuser == "train-flood":
        workers += [(grid_asker, (url, grid)), (train_flooder, (url, train))]
    def go():  # every thread has its connection (and the abuser its drawing): the clock starts now
        clock.end = time.perf_counter() + args.seconds

    start = threading.Barrier(len(workers) + 1, action=go)
    threads = [threading.Thread(target=fn, args=(*fn_args, clock, record, start)
                                + ((counts,) if fn is train_flooder else ()), daemon=True)
               for fn, fn_args in workers]
    for t in threads:
        t.start()
    start.wait()
    began = time.perf_counter()
    for t in threads:
        t.join(max(0.0, clock.end - time.perf_counter()) + TIMEOUT_S + 5)
    print(json.dumps({"times": record.times, "errors": record.errors, "wall_s": time.perf_counter() - began,
                      "flood": counts, "visitors": args.visitors, "abuser": args.abuser}))


class Clock:
    """When the workers stop: set as they are let go (the start barrier's action)."""
    end = 0.0


if __name__ == "__main__":
    sys.exit(main())
