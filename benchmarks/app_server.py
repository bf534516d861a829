"""The demo in a subprocess (`python -m demo --port PORT`), clients for it, and the requests the HTTP jobs send."""
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

import numpy as np
import psutil

from .common import log

ROOT = Path(__file__).resolve().parent.parent


class AppError(Exception):
    """The app could not be started or reached; the message says why."""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class App:
    """`python -m demo --port PORT` from the repository root, until `stop()`."""

    def __init__(self, timeout_s):
        self.workdir = Path(tempfile.mkdtemp(prefix="cvae-bench-"))
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.log_path = self.workdir / "app.log"
        # Trained runs go to a scratch folder; $CVAE_WEIGHTS, when set, names the weights to serve.
        env = {"CVAE_RUNS": str(self.workdir / "runs"), **os.environ, "GRADIO_ANALYTICS_ENABLED": "False",
               "PYTHONUNBUFFERED": "1"}
        with open(self.log_path, "wb") as out:
            self.proc = subprocess.Popen([sys.executable, "-m", "demo", "--port", str(self.port)], cwd=ROOT,
                                         env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        try:
            self._wait(timeout_s)
        except BaseException:
            self.stop()
            raise

    def _wait(self, timeout_s):
        start = time.perf_counter()
        while time.perf_counter() - start < timeout_s:
            if self.proc.poll() is not None:
                raise AppError(f"`python -m demo` exited with code {self.proc.returncode}: {self.log_tail()}")
            try:
                with urllib.request.urlopen(self.url, timeout=2) as r:
                    if r.status == 200:
                        self.client().close()
                        log(f"app answers at {self.url} after {time.perf_counter() - start:.1f} s")
                        return
            except Exception:  # not listening yet
                time.sleep(0.5)
        raise AppError(f"`python -m demo` did not answer within {timeout_s:.0f} s: {self.log_tail()}")

    def log_tail(self, chars=600):
        text = self.log_path.read_text(errors="replace").strip() if self.log_path.exists() else ""
        return " ".join(text[-chars:].split()) or "(no output)"

    def client(self, ssl_verify=False):
        """A gradio_client Client for the app. ssl_verify=False: the app is plain HTTP on 127.0.0.1, so nothing is
        verified either way, but with the default (True) gradio_client builds a fresh TLS context (the certifi
        bundle) for each of the 3 to 4 HTTP connections that it opens per call: CPU of the measuring client's own
        per request, on the cores that the server needs (docs/speed.md). The latency job also times a no-op
        with the default, for reference."""
        from gradio_client import Client
        return Client(self.url, verbose=False, analytics_enabled=False, download_files=str(self.workdir / "files"),
                      ssl_verify=ssl_verify)

    def raw_client(self):
        return RawClient(self.url)

    def rss_mb(self):
        """Resident memory of the server process and its children, in MB."""
        proc = psutil.Process(self.proc.pid)
        return sum(p.memory_info().rss for p in [proc, *proc.children(recursive=True)]) / 2 ** 20

    def endpoints(self):
        client = self.client()
        try:
            return client.view_api(print_info=False, return_format="dict")["named_endpoints"]
        finally:
            client.close()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.workdir, ignore_errors=True)


class RawClient:
    """gradio's queue protocol by hand over one keep-alive HTTP connection: POST /queue/join, the event's messages
    from GET /queue/data (server-sent events), then GET of each output file, as a browser does. It splits a
    request's time into what the server takes and what gradio_client adds (its new connections, and the 50 ms
    sleeps with which it polls for messages)."""

    def __init__(self, url):
        import httpx
        self.url = url.rstrip("/")
        self.http = httpx.Client(timeout=60)
        self.session = uuid.uuid4().hex[:12]
        config = self.http.get(f"{self.url}/config").json()
        types = {c["id"]: c.get("type") for c in config["components"]}
        self.endpoints = {d["api_name"]: (d["id"], [types.get(i) for i in d["inputs"]], d.get("queue") is not False)
                          for d in config["dependencies"] if d.get("api_name")}

    def upload(self, path):
        with open(path, "rb") as f:
            r = self.http.post(f"{self.url}/gradio_api/upload", files={"files": (Path(path).name, f, "image/png")})
        r.raise_for_status()
        return {"path": r.json()[0], "orig_name": Path(path).name, "meta": {"_type": "gradio.FileData"}}

    def call(self, api_name, *args, event_data=None):
        """-> (seconds, seconds the server's handler took as gradio reports it, output data); a failed call raises
        AppError with the app's message. The session's state inputs are filled in as gradio_client does (None: the
        server keeps the state). Unlike gradio_client (and httpx), NaN and infinities are sent, as JSON's NaN and
        Infinity, as Python's json writes them: a server must cope with any body it is sent. An event that skips
        the queue (queue=False) is sent as the page sends it: one POST to /run/<api_name>. `event_data`: what the
        page sends with the event, e.g. {"index": [x, y], "value": None} for a click on an image (gr.SelectData)."""
        fn_index, inputs, queued = self.endpoints[api_name.lstrip("/")]
        values = iter(args)
        data = [None if kind == "state" else next(values) for kind in inputs]
        body = json.dumps({"data": data, "fn_index": fn_index, "session_hash": self.session,
                           "event_data": event_data, "trigger_id": None})
        start = time.perf_counter()
        out = self._queued(api_name, body) if queued else self._direct(api_name, body)
        for value in out["data"]:
            if isinstance(value, dict) and value.get("url"):
                self.http.get(value["url"]).raise_for_status().read()
        return time.perf_counter() - start, out.get("duration"), out["data"]

    def _queued(self, api_name, body):
        """POST /queue/join, then the event's messages from GET /queue/data: the output of process_completed."""
        r = self.http.post(f"{self.url}/gradio_api/queue/join", content=body,
                           headers={"content-type": "application/json"})
        r.raise_for_status()
        event_id, out = r.json()["event_id"], None
        with self.http.stream("GET", f"{self.url}/gradio_api/queue/data",
                              params={"session_hash": self.session}) as response:
            buffer = b""
            for chunk in response.iter_bytes():
                buffer += chunk
                while b"\n\n" in buffer and out is None:
                    line, buffer = buffer.split(b"\n\n", 1)
                    if line.startswith(b"data:"):
                        message = json.loads(line[5:])
                        if message.get("event_id") == event_id and message["msg"] == "process_completed":
                            out = message
                if out is not None:
                    break
        if out is None or not out.get("success"):
            raise AppError((out or {}).get("output", {}).get("error") or f"{api_name} failed: {str(out)[:300]}")
        return out["output"]

    def _direct(self, api_name, body):
        r = self.http.post(f"{self.url}/gradio_api/run/{api_name.lstrip('/')}", content=body,
                           headers={"content-type": "application/json"})
        if r.status_code != 200:
            raise AppError((r.json() if r.headers.get("content-type", "").startswith("application/json") else {})
                           .get("error") or f"{api_name} failed: HTTP {r.status_code} {r.text[:300]}")
        return r.json()

    def close(self):
        self.http.close()


class Requests:
    """The requests a person's use of the demo sends: a slider move, a sketch to classify, a grid of samples."""

    def __init__(self, app, workdir, train_images):
        self.endpoints = app.endpoints()
        self.train_images = train_images  # how many the app has to train on (it reads the same data)
        self.rng = np.random.default_rng(0)
        self.z_dim = served_z_dim()
        self.sketch = str(make_sketch(Path(workdir) / "sketch.png"))
        self.grid_name = next((n for n in ("/grid", "/sample_grid", "/samples") if n in self.endpoints), None) \
            or next((n for n in self.endpoints if "grid" in n), None)

    def z_string(self):
        return ", ".join(f"{v:.3f}" for v in self.rng.normal(size=self.z_dim))

    def generate(self, client, digit=3):
        return client.predict(digit, self.z_string(), 280, api_name="/generate")

    def classify(self, client):
        from gradio_client import handle_file
        return client.predict(handle_file(self.sketch), api_name="/classify")

    def grid(self, client, digit=3, seed=0):
        args = fill_args(self.endpoints[self.grid_name]["parameters"], digit=digit, n=64, seed=seed)
        return client.predict(*args, api_name=self.grid_name)

    # The same requests through RawClient: (seconds, the server handler's seconds, output).
    def raw_generate(self, raw, digit=3):
        return raw.call("/generate", digit, self.z_string(), 280)

    def raw_classify(self, raw):
        return raw.call("/classify", raw.upload(self.sketch))

    def raw_grid(self, raw, digit=3, seed=0):
        args = fill_args(self.endpoints[self.grid_name]["parameters"], digit=digit, n=64, seed=seed)
        return raw.call(self.grid_name, *args)

    def raw_noop(self, raw):
        return raw.call("/session_models")

    # Model 1's second opinion on the same sketch (demo/draw_tab.py): ten digits x K z samples in one forward.
    def second_opinion(self, client):
        from gradio_client import handle_file
        return client.predict(handle_file(self.sketch), api_name="/second_opinion")

    def raw_second_opinion(self, raw):
        return raw.call("/second_opinion", raw.upload(self.sketch))

    # The Generate tab's latent-space views, called by name as the page sends them (demo/explore.py): a click on
    # the map (answered with the sliders and the picture), the map and the traversal chart redrawn.
    def z_values(self):
        return [round(float(v), 2) for v in self.rng.normal(size=self.z_dim).clip(-3, 3)]

    def raw_map_click(self, raw, digit=3, map_px=728):  # the map: 13 x 13 digits of 56 px; any pixel will do
        x, y = self.rng.integers(0, map_px, size=2).tolist()
        return raw.call("/explore_map_click", digit, 0, 1, *self.z_values(), event_data={"index": [x, y],
                                                                                        "value": None})

    def raw_map(self, raw, digit=3):
        return raw.call("/explore_map", digit, 0, 1, *self.z_values())

    def raw_traversal(self, raw, digit=3):
        return raw.call("/explore_traversal", digit, *self.z_values())

    def raw_read_terms(self, raw):
        """The Draw tab's request just after an answer: the loss's two terms for the drawing just read, by both
        models (its drawing read first, untimed)."""
        self.raw_read_drawing(raw)
        return raw.call("/read_terms")

    def raw_draw_from_q(self, raw):
        """The Generate tab's "Draw z from q(z|x,y)" for a real digit put into z (once per session, untimed)."""
        if getattr(raw, "posterior_digit", None) is None:
            digit = raw.call("/explore_real_digit")[2][0]
            raw.posterior_digit = digit.get("value") if isinstance(digit, dict) else digit
        return raw.call("/explore_draw_from_q", 0, 1)

    def raw_posterior_map(self, raw):
        """The latent map redrawn with the posterior's mean, ellipses and the last z drawn from it."""
        if getattr(raw, "posterior_digit", None) is None:
            self.raw_draw_from_q(raw)
        return raw.call("/explore_map", raw.posterior_digit, 0, 1, *self.z_values())

    def raw_read_drawing(self, raw):
        """The Draw tab's request after a stroke: the pad's strokes (a digit of cvae.drawn_digits' templates)."""
        self.seq = getattr(self, "seq", 0) + 1
        return raw.call("/read_drawing", pad_value(self.seq % 10, self.seq))


def pad_strokes(digit, size=560, margin=0.15):
    """The first template of `digit` in cvae.drawn_digits, as strokes in the Draw pad's pixels (it is 560 px)."""
    from cvae.drawn_digits import TEMPLATES
    strokes = TEMPLATES[digit][sorted(TEMPLATES[digit])[0]]
    return [[[round(size * (margin + (1 - 2 * margin) * x)), round(size * (margin + (1 - 2 * margin) * y))]
             for x, y in stroke[::2]] for stroke in strokes]


def pad_value(digit, seq, size=560):
    """The pad's value for `digit`, its strokes as the text demo/sketchpad.js writes (demo.draw_tab.strokes_text,
    written out here: the load client does not import the app)."""
    text = ";".join(" ".join(f"{x},{y}" for x, y in stroke) for stroke in pad_strokes(digit, size))
    return {"seq": seq, "size": [size, size], "brush": 22, "strokes": text}


def served_z_dim():
    """z_dim of the generator the app serves: from its weights' JSON ($CVAE_WEIGHTS, else weights/)."""
    from cvae.models import ARCHS
    from cvae.weights import WEIGHTS_DIR
    try:
        meta = json.loads((Path(os.environ.get("CVAE_WEIGHTS") or WEIGHTS_DIR) / "generator.json").read_text())
        return int(meta["z_dim"])
    except (OSError, ValueError, KeyError, TypeError):
        return ARCHS["conv"]["z_dim"]


def fill_args(parameters, digit, n, seed):
    """Positional arguments for an endpoint, chosen by parameter name (digit, number of samples, seed)."""
    args = []
    for p in parameters:
        name = (p.get("parameter_name") or p.get("label") or "").lower()
        if "digit" in name:
            args.append(digit)
        elif "seed" in name:
            args.append(seed)
        elif name in ("n", "count", "samples", "number", "n_samples", "num_samples") or "sample" in name:
            args.append(n)
        elif p.get("parameter_has_default"):
            args.append(p.get("parameter_default"))
        else:
            raise AppError(f"cannot fill parameter {name!r} of the grid endpoint")
    return args


def make_sketch(path):
    """An 800 x 800 PNG of a drawn 5, dark ink on white, as a sketchpad gives it."""
    from PIL import Image

    from cvae.drawn_digits import draw_digit
    image = draw_digit(5, "composite", np.random.default_rng([0, 5, 0])).image.convert("RGB")
    if image.size != (800, 800):
        canvas = Image.new("RGB", (800, 800), "white")
        image.thumbnail((800, 800))
        canvas.paste(image, ((800 - image.width) // 2, (800 - image.height) // 2))
        image = canvas
    image.save(path)
    return path
