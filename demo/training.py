"""Training from the web page: one training at a time per server, in a worker thread, with its progress kept where
the page's handler can read it. A finished model belongs to the visitor who trained it (their session); other
visitors keep the shipped models.

The Train tab's handler starts a job and reads job.snapshot() every half second; Stop sets job.stop_event,
and cvae.train raises Stopped within one step of it. A job whose page stopped polling (the tab was closed)
stops by itself after ABANDONED_AFTER_S.
"""
import math
import os
import re
import threading
import time
import traceback
import uuid
from pathlib import Path

import torch

from cvae.data import load_mnist
from cvae.models import KINDS, Y_DIM
from cvae.preprocess import to_grid_image
from cvae.train import LIMITS, Stopped, check_settings, new_model, train
from cvae.weights import WEIGHTS_DIR, save_weights

from .handlers import InputError

DEFAULTS = {"epochs": 1, "batch_size": 128, "lr": 1e-3, "train_size": 10_000}
MAX_EPOCHS = 50             # a web visitor holds the server's only training slot: keep a run within reach
PREVIEW_EVERY_S = 1.0       # the generator's sample grid is redrawn this often during training
ABANDONED_AFTER_S = 30.0    # no one has looked at the job for this long: its page is gone, so stop it
RUN_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


TRAINING_NICE = 10          # the training thread's scheduling priority (Linux): below the requests' (0)


def limit_threads():
    """torch threads for the requests (sliders, drawings, the API): all cores but one. Set once for the process;
    threads started later (gradio's workers) take it. The training worker sets its own (`training_threads`)."""
    torch.set_num_threads(max(1, (os.cpu_count() or 2) - 1))


def training_threads():
    """torch threads of the training worker: all cores but two, at least one. On 2 cores it trains on one core and
    leaves the other to the requests and gradio's event loop, so Generate and Draw stay responsive."""
    return max(1, (os.cpu_count() or 2) - 2)


def yield_to_requests():
    """Called in the training worker, before it trains: its own torch threads (torch.set_num_threads is per thread
    with OpenMP) and, where the OS allows, a lower scheduling priority for this thread only (Linux: a thread id
    is a PRIO_PROCESS target), so that a request waiting for a core gets it first."""
    torch.set_num_threads(training_threads())
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), TRAINING_NICE)
    except (AttributeError, OSError):  # not Linux, or not allowed: the thread count alone has to do
        pass


def check_training_settings(kind, epochs, batch_size, lr, train_size, available):
    """What the Train tab or /train sends -> clean settings, or gr.Error saying what is wrong."""
    if kind not in KINDS:
        raise InputError(f"The model must be one of {', '.join(KINDS)}, got {kind!r}.")
    limits = {"epochs": (1, MAX_EPOCHS), "batch_size": LIMITS["batch_size"], "lr": LIMITS["lr"],
              "train_size": (1, available)}
    names = {"epochs": "number of epochs", "batch_size": "batch size", "lr": "learning rate",
             "train_size": "training-set size"}
    values = {"epochs": epochs, "batch_size": batch_size, "lr": lr, "train_size": train_size}
    for key, v in values.items():
        lo, hi = limits[key]
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or not lo <= v <= hi:
            raise InputError(f"The {names[key]} must be between {lo:g} and {hi:g}, got {v!r}.")
        if key != "lr" and int(v) != v:
            raise InputError(f"The {names[key]} must be a whole number, got {v!r}.")
    try:  # cvae's own check, in case its limits are ever narrower than the page's
        check_settings(epochs, batch_size, lr, int(train_size), available)
    except ValueError as e:
        raise InputError(f"{e}.") from None
    return {"kind": kind, "epochs": int(epochs), "batch_size": int(batch_size), "lr": float(lr),
            "train_size": int(train_size)}


class TrainingJob:
    """One training run: its settings, its progress (written by the worker, read by the page) and its result."""

    def __init__(self, settings, owner, device):
        self.settings, self.owner, self.device = settings, owner, device
        self.kind = settings["kind"]
        self.run_id = f"{self.kind}-{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:6]}"
        self.stop_event, self.done_event = threading.Event(), threading.Event()
        self._lock = threading.Lock()
        self.status = "starting"          # starting, running, done, stopped, failed
        self.epoch = self.step = self.steps = self.global_step = self.images = 0
        self.loss, self.error, self.model, self.data_source = None, None, None, None
        self.losses, self.history = [], []
        self.preview, self.preview_version = None, 0
        self.started = self.last_seen = time.monotonic()
        self.train_started = self.ended = None

    def touch(self):
        """The page is still watching."""
        self.last_seen = time.monotonic()

    def should_stop(self):
        return self.stop_event.is_set() or time.monotonic() - self.last_seen > ABANDONED_AFTER_S

    def snapshot(self):
        """A consistent copy of the progress, for the page."""
        with self._lock:
            now = self.ended or time.monotonic()  # a finished job's clock stops
            elapsed = now - (self.train_started or self.started)
            return {"run_id": self.run_id, "kind": self.kind, "status": self.status, "epoch": self.epoch,
                    "epochs": self.settings["epochs"], "step": self.step, "steps": self.steps, "loss": self.loss,
                    "images_per_s": self.images / elapsed if self.images and elapsed > 0 else 0.0,
                    "seconds": now - self.started, "losses": list(self.losses),
                    "history": [dict(m) for m in self.history], "error": self.error,
                    "preview": self.preview, "preview_version": self.preview_version,
                    "data_source": self.data_source}

    def wait(self, timeout):
        return self.done_event.wait(timeout)

    def result(self):
        """What /train answers: the run id and its per-epoch metrics."""
        return {"run_id": self.run_id, "model": self.kind, "status": self.status, "settings": self.settings,
                "data": self.data_source, "history": [dict(m) for m in self.history]}


class TrainingRunner:
    """The server's one training slot, the training data (loaded once, on first use, shared by all jobs) and the
    sizes the new models take from the shipped ones (so a trained generator fits the page's sliders)."""

    def __init__(self, device="cpu", templates=None, load_data=None, data_dir=None):
        self.device = torch.device(device)
        self.templates = templates or {}
        # The demo runs offline: full MNIST if it is on disk (CVAE_DATA_DIR), else the bundled sample.
        self._load_data = load_data or (lambda: load_mnist(data_dir, self.device, download=False))
        self._data, self._data_lock = None, threading.Lock()
        self._slot = threading.Lock()
        self.job = None

    def data(self):
        with self._data_lock:
            if self._data is None:
                self._data = self._load_data().to(self.device)
            return self._data

    @property
    def busy(self):
        return self._slot.locked()

    def start(self, settings, owner=None):
        """Start a job in a worker thread, or return None while another one holds the slot."""
        if not self._slot.acquire(blocking=False):
            return None
        try:
            job = TrainingJob(settings, owner, self.device)
            self.job = job
            threading.Thread(target=self._run, args=(job,), name=f"train-{job.run_id}", daemon=True).start()
            return job
        except BaseException:
            self._slot.release()
            raise

    def start_when_free(self, settings, owner=None, on_wait=None, timeout=None):
        """Start a job as soon as the slot is free; on_wait() is called every half second while waiting."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            job = self.start(settings, owner)
            if job is not None:
                return job
            if deadline is not None and time.monotonic() > deadline:
                return None
            if on_wait is not None:
                on_wait()
            time.sleep(0.5)

    def stop(self, owner=None):
        """Stop the running job if `owner` started it; True when there was one to stop."""
        job = self.job
        if job is None or job.done_event.is_set() or (owner is not None and job.owner != owner):
            return False
        job.stop_event.set()
        return True

    def new_model(self, kind):
        t = self.templates.get(kind)
        sizes = {"arch": t.arch, "z_dim": t.z_dim, "hidden": t.hidden} if t is not None else {}
        return new_model(kind, **sizes).to(self.device)

    def _run(self, job):
        try:
            yield_to_requests()
            data = self.data()
            s = job.settings
            check_settings(s["epochs"], s["batch_size"], s["lr"], s["train_size"], len(data.x_train))
            model = self.new_model(job.kind)
            preview_z = model.sample_z(8, torch.Generator(device=self.device).manual_seed(0))
            last_preview = [0.0]

            def on_step(epoch, step, steps, loss):
                with job._lock:
                    job.epoch, job.step, job.steps, job.loss = epoch, step, steps, loss
                    job.global_step += 1
                    job.images += min(s["batch_size"], s["train_size"] - (step - 1) * s["batch_size"])
                    job.losses.append((job.global_step, loss))
                if job.kind == "generator" and time.monotonic() - last_preview[0] > PREVIEW_EVERY_S:
                    last_preview[0] = time.monotonic()
                    self._draw_preview(job, model, preview_z)
                time.sleep(0)  # between steps: hand the GIL to a waiting request now, not at the next switch

            def on_epoch(metrics):
                with job._lock:
                    job.history.append(dict(metrics))

            with job._lock:
                job.status, job.data_source = "running", data.source
                job.train_started = time.monotonic()
            train(model, data, s["epochs"], s["batch_size"], s["lr"], seed=0, train_size=s["train_size"],
                  progress=False, on_step=on_step, on_epoch=on_epoch, should_stop=job.should_stop)
            if job.kind == "generator":
                self._draw_preview(job, model, preview_z)
            with job._lock:
                # A stop asked for during the last epoch's evaluation still counts: the visitor said stop.
                job.status = "stopped" if job.stop_event.is_set() else "done"
                job.model = model if job.status == "done" else None
        except Stopped:
            with job._lock:
                job.status = "stopped"
        except Exception as e:  # shown on the page; the server goes on serving, and its log says where
            traceback.print_exc()
            with job._lock:
                job.status, job.error = "failed", f"{type(e).__name__}: {e}"
        finally:
            with job._lock:
                job.ended = time.monotonic()
            job.done_event.set()
            self._slot.release()

    @staticmethod
    def _draw_preview(job, model, z):
        """8 samples of each digit (a row per z, a column per digit), from the model as it is now."""
        was_training = model.training
        model.eval()
        try:
            images = model.draw(z.repeat_interleave(Y_DIM, 0), list(range(Y_DIM)) * len(z))
        finally:
            model.train(was_training)
        grid = to_grid_image(images, nrow=Y_DIM)
        grid = grid.resize((grid.width * 2, grid.height * 2), 0)  # 0: nearest neighbour, crisp pixels
        with job._lock:
            job.preview, job.preview_version = grid, job.preview_version + 1


def run_name(name):
    """A visitor's name for a saved run -> a safe folder name, or gr.Error. Spaces become dashes; anything that
    could leave runs/ (separators, '..', a leading dot) is refused rather than rewritten."""
    name = "-".join(str(name or "").split())
    if not RUN_NAME.fullmatch(name) or ".." in name:
        raise InputError("Name the run with letters, digits, '-', '_' or '.' (up to 64, starting with a letter "
                       "or digit), e.g. my-generator-3-epochs.")
    return name


def save_run(job, runs_dir, name, shipped_dir=WEIGHTS_DIR):
    """Write runs_dir/NAME/KIND.safetensors + KIND.json; never into the shipped weights folder, never over a run."""
    if job is None or job.model is None:
        raise InputError("There is no finished training to save yet.")
    runs_dir = Path(runs_dir).resolve()
    folder = (runs_dir / run_name(name)).resolve()
    shipped = Path(shipped_dir).resolve()
    if folder.parent != runs_dir or folder == shipped or shipped in folder.parents:
        raise InputError("Runs are saved under the runs folder, never into the shipped weights.")
    if (folder / f"{job.kind}.json").exists():
        raise InputError(f"A run named {folder.name!r} already has a {job.kind}; choose another name.")
    meta = {"run_id": job.run_id, "training": {**job.settings, "data": job.data_source, "device": str(job.device),
                                               "source": "demo"},
            "history": job.history}
    save_weights(job.model, folder, job.kind, meta)
    return folder
