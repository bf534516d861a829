"""Training from the web page: one training at a time per server, in a worker thread, with its progress kept where
the page's handler can read it. A trained model belongs to the visitor who trained it; other visitors keep the
shipped models.

The Train tab's handler starts a job and reads job.snapshot() every half second. Pause holds the worker between two
steps (the model, the optimizer's state, the curves and the samples stay as they are); Stop ends the run within a
step and keeps the model trained so far, marked as partial. A job whose page stopped polling (the tab was closed)
stops by itself after ABANDONED_AFTER_S, paused or not, and frees the slot; so does a run at the server's ceiling of
time (MAX_TRAIN_MINUTES). Visitors who want the slot while it is busy wait in a line (TrainingRunner.line_up), one
place each, and see their place and the time left.
"""
import copy
import dataclasses
import math
import os
import threading
import time
import traceback
import uuid

import numpy as np
import torch

from cvae.data import load_mnist
from cvae.elbo_terms import elbo_terms
from cvae.evaluate import neg_elbo
from cvae.models import KINDS, Y_DIM
from cvae.preprocess import to_grid_image
from cvae.second_opinion import METADATA_KEY, calibrate_trained
from cvae.train import LIMITS, SHORT_RUN, Hooks, TrainSettings, new_model, train

from .handlers import InputError

# A budget is the visitor's wall time from Start to Finished: the training's steps get what is left of it once
# the evaluations for the page and the final measurement on the test set are set aside (TrainingJob.plan).
BUDGETS = {"30 s": 30, "1 min": 60, "5 min": 300, "until N epochs": None}
# Where a training starts: a fresh model, a copy of the shipped one, or a copy of the visitor's own. The names are
# what the page and /train send; the labels are what the page shows (and /train takes them too).
START_FROM = ("fresh", "shipped", "yours")
START_LABELS = {"fresh": "a fresh model", "shipped": "the shipped model", "yours": "your model"}
DEFAULTS = {"budget": "1 min", "epochs": 3, "start": "fresh"}
MAX_EPOCHS = 50             # a web visitor holds the server's only training slot: keep a run within reach
PREVIEW_EVERY_S = 1.0       # the generator's samples are redrawn this often during training
TERMS_EVERY_S = 0.5         # the loss's two terms on the step's batch, this often (of training), for the curves
EVAL_EVERY_S = 6.0          # the test loss (and accuracy) on EVAL_IMAGES test images, this often (of training)
EVAL_IMAGES = 1000
MIN_TRAINING_SHARE = 0.5    # of a budget, for the training's steps, whatever the estimates say
# A visitor's training is watched by their page or API call: each frame it is sent marks it as seen. gradio stops
# asking for frames once the client has gone (its event is no longer alive), so a run nobody watches any more stops
# after this long, and so does a place in the line for the slot.
ABANDONED_AFTER_S = 15.0
MAX_TRAIN_MINUTES = 10.0    # a run's ceiling of wall time on a shared server (python -m demo --max-train-minutes)
MAX_WAITING = 8             # visitors waiting in line for the slot; one more is told to come back later
RESERVED_FOR_S = 30.0       # a training request let into gradio's queue holds its visitor's place this long
# The page's and /train's training events, in one gradio concurrency group: each runs at once (gradio's queue never
# holds one back), and the runner's line decides who trains: the one training, those waiting in line, and two more
# being told at once that they have a request already, or that the line is full.
TRAINING_EVENTS = {"concurrency_id": "training", "concurrency_limit": MAX_WAITING + 3}
TRAINING_NICE = 10          # the training thread's scheduling priority (Linux): below the requests' (0)


class RequestsInFlight:
    """How many requests are in a model's handler now (demo.shared.inference counts them), so that the training
    steps out of their way."""

    def __init__(self):
        self.count, self._idle = 0, threading.Condition()

    def __enter__(self):
        with self._idle:
            self.count += 1

    def __exit__(self, *exc):
        with self._idle:
            self.count -= 1
            if not self.count:
                self._idle.notify_all()

    def wait_idle(self, timeout):
        with self._idle:
            self._idle.wait_for(lambda: not self.count, timeout)


REQUESTS = RequestsInFlight()
# Between two training steps, the training waits this long at most for the requests in a model's handler to leave:
# the cores are theirs first (with a CPU-bound thread beside them, even at a low priority, their answers take
# longer), and the training is never starved. On a quiet server it does not wait at all.
STEP_WAIT_S = 0.05


def request_threads():
    """torch threads for the requests (sliders, drawings, the API): all cores but one, at least one."""
    return max(1, (os.cpu_count() or 2) - 1)


def limit_threads():
    """Set `request_threads` once for the process; threads started later (gradio's workers) take it. The training
    worker sets its own (`training_threads`)."""
    torch.set_num_threads(request_threads())


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


@dataclasses.dataclass(frozen=True)
class TrainingSettings:
    """A training the Train tab or /train asks for: the kind of model, the time budget (a name of BUDGETS), the
    epochs (which count only with the budget "until N epochs"), the batch size, the peak learning rate, the
    training images (the first N; None: all) and where it starts from (START_FROM, or its label in START_LABELS).
    As sent, its values may be anything; `checked` gives clean ones. The page, /train and the runner pass it
    around as one object; dataclasses.asdict gives what /train answers and a run's metadata record."""
    kind: str
    budget: str
    epochs: int
    batch_size: int
    lr: float
    train_size: int | None
    start: str = "fresh"

    def checked(self, available):
        """These settings, clean, with at most `available` training images; or gr.Error saying what is wrong."""
        if not isinstance(self.kind, str) or self.kind not in KINDS:
            raise InputError.of("model_kind", kinds=", ".join(KINDS), value=repr(self.kind))
        if not isinstance(self.budget, str) or self.budget not in BUDGETS:
            raise InputError.of("budget_kind", budgets=", ".join(BUDGETS), value=repr(self.budget))
        by_label = {label: name for name, label in START_LABELS.items()}
        start = by_label.get(self.start, self.start) if isinstance(self.start, str) else None
        if start not in START_FROM:
            raise InputError.of("bad_start", starts=" or ".join(START_LABELS.values()), value=repr(self.start))
        limits = {"epochs": (1, MAX_EPOCHS), "batch_size": LIMITS["batch_size"], "lr": LIMITS["lr"],
                  "train_size": (1, available)}
        names = {key: (f"setting_{key}", {}) for key in limits}  # the settings' names: texts of demo/texts.py
        values = {"epochs": self.epochs if BUDGETS[self.budget] is None else 1, "batch_size": self.batch_size,
                  "lr": self.lr, "train_size": self.train_size}
        for key, v in values.items():
            lo, hi = limits[key]
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or not lo <= v <= hi:
                raise InputError.of("setting_range", setting=names[key], low=f"{lo:g}", high=f"{hi:g}", value=repr(v))
            if key != "lr" and int(v) != v:
                raise InputError.of("setting_whole", setting=names[key], value=repr(v))
        return TrainingSettings(self.kind, self.budget, int(values["epochs"]), int(self.batch_size), float(self.lr),
                                int(self.train_size), start)

    def for_cvae(self):
        """What cvae.train.train runs for these (checked) settings: the short run of their kind (SHORT_RUN's
        schedule and augmentation) for their budget's seconds, or for their epochs."""
        short, budget_s = SHORT_RUN[self.kind], BUDGETS[self.budget]
        return TrainSettings(epochs=self.epochs if budget_s is None else None, batch_size=self.batch_size,
                             lr=self.lr, schedule=short["schedule"], augment=short["augment"],
                             train_size=self.train_size, budget_s=budget_s, seed=0)


def default_settings(kind):
    """What the page starts with (and /train runs when given only the model): the short run of cvae.train, on all
    the training images."""
    return TrainingSettings(kind, DEFAULTS["budget"], DEFAULTS["epochs"], SHORT_RUN[kind]["batch_size"],
                            SHORT_RUN[kind]["lr"], None, DEFAULTS["start"])


def check_training_settings(kind, budget, epochs, batch_size, lr, train_size, available, start="fresh"):
    """What the Train tab or /train sends -> clean TrainingSettings, or gr.Error saying what is wrong. `epochs`
    counts only with the budget "until N epochs"."""
    return TrainingSettings(kind, budget, epochs, batch_size, lr, train_size, start).checked(available)


def start_model(start, kind, shipped, session):
    """The model a training of `kind` goes on from (a copy of it is trained), or None for a fresh one; asked by the
    Train tab and /train alike. `shipped`: kind -> the shipped model; `session`: the visitor's demo.shared.Session."""
    if start == "shipped":
        return shipped[kind]
    if start == "yours":
        own = session.own_model(kind) if session is not None else None
        if own is None:
            raise InputError.of("no_own_model", kind=(f"kind_{kind}", {}))
        return own
    return None


@dataclasses.dataclass(frozen=True)
class Snapshot:
    """A consistent copy of a job's progress at one moment, for the page (TrainingJob.snapshot)."""
    run_id: str
    kind: str
    status: str                 # starting, running, paused, measuring, done, stopped, failed
    settings: TrainingSettings
    epoch: int                  # of the training data, 1-based once training
    step: int                   # within the epoch, of `steps`
    steps: int
    global_step: int
    loss: float | None          # the last step's
    fraction: float             # of the run done
    train_seconds: float        # of training steps
    train_budget_s: float | None  # the seconds of training steps the budget leaves (TrainingJob.plan)
    eta_s: float | None         # seconds to Finished, the final measurement included
    images_per_s: float
    seconds: float              # since the job was made, all included
    losses: list                # (global step, training loss) for every step
    tests: list                 # {"step", "test_loss"[, "test_accuracy"]} every few seconds of training
    history: list               # one dict of metrics per finished epoch
    preview: object             # the generator's samples of fixed z (PIL image) or None
    preview_version: int        # counts the previews drawn
    confusion: object           # the classifier's last confusion matrix (10 x 10) or None
    terms: list                 # (global step, KL, reconstruction) of a step's batch, every TERMS_EVERY_S
    step_report: dict | None    # the last single step (the Step button): its batch's terms before and after it
    step_version: int           # counts the single steps done
    final: dict | None          # the test figures on the whole test set, at the end
    error: str | None
    data_source: str | None
    time_limit_s: float | None  # the server's ceiling of wall time, when the run was stopped by it; else None

    @property
    def budget(self):
        return self.settings.budget

    @property
    def epochs(self):
        return self.settings.epochs


class TrainingJob:
    """One training run: its settings, its progress and its model. The worker records what happens through the
    record_* methods and the page reads snapshot(); the job's lock is taken here only."""

    def __init__(self, settings, owner, device, start_model=None, max_seconds=None):
        self.settings, self.owner, self.device = settings, owner, device
        self.max_seconds = max_seconds      # the server's ceiling of wall time for a run, or None
        self.kind = settings.kind
        self.start_model = start_model
        self.run_id = f"{self.kind}-{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:6]}"
        self.stop_event, self.done_event, self.pause_event = threading.Event(), threading.Event(), threading.Event()
        self._lock = threading.Lock()
        self.status = "starting"
        self.epoch = self.step = self.steps = self.global_step = self.images = 0
        self.fraction = self.train_seconds = self.watch_seconds = 0.0  # training; measuring and drawing for the page
        self.train_budget_s, self.watch_share = None, 0.0  # set by plan(), for a budget of time
        self.measure_s, self.measuring_since = 0.0, None  # the final measurement: its estimate, when it began
        self.loss, self.error, self.model, self.data_source, self.final = None, None, None, None, None
        self.losses, self.tests, self.history = [], [], []
        self.preview, self.preview_version, self.confusion = None, 0, None
        self.terms, self.step_report, self.step_version = [], None, 0
        self.single_steps, self.stepping = 0, False  # steps asked for while paused; whether one is being run
        self.started = self.last_seen = time.monotonic()
        self.ended, self.hit_time_limit = None, False

    # What the worker records --------------------------------------------------------------------------------------

    def record_begin(self):
        """The run begins (the last run's calibration over): its clock, and its budget's, start now."""
        with self._lock:
            self.started = time.monotonic()

    def record_start(self, data_source):
        with self._lock:
            self.status, self.data_source = "running", data_source

    def record_step(self, info):
        """One training step, as cvae.train.train's on_step reports it."""
        with self._lock:
            self.epoch, self.step, self.steps, self.loss = info["epoch"], info["step"], info["steps"], info["loss"]
            self.fraction, self.train_seconds = info["done"], info["seconds"]
            self.global_step += 1
            self.images += info["images"]
            self.losses.append((self.global_step, info["loss"]))

    def record_terms(self, terms):
        """The two terms of the last step's batch (batch_terms), a point of the curves."""
        with self._lock:
            self.terms.append((self.global_step, terms["kl"], terms["reconstruction"]))

    def record_single_step(self, before, after, images):
        """A single step is done: its batch's terms `before` and `after` it (batch_terms); the run pauses again."""
        with self._lock:
            self.step_report = {"before": before, "after": after, "images": images, "step": self.global_step}
            self.step_version += 1
            self.stepping = False

    def record_epoch(self, metrics):
        with self._lock:
            self.history.append(dict(metrics))

    def record_test(self, figures, confusion=None):
        """A point of the test curve (and for the classifier its confusion matrix)."""
        with self._lock:
            self.tests.append(figures)
            if confusion is not None:
                self.confusion = confusion

    def record_preview(self, picture):
        with self._lock:
            self.preview, self.preview_version = picture, self.preview_version + 1

    def record_measuring(self):
        with self._lock:
            self.status, self.measuring_since = "measuring", time.monotonic()

    def plan(self, eval_s, test_images, preview_s=0.0):
        """The seconds of training steps that the budget leaves, given what an evaluation of EVAL_IMAGES took
        (`eval_s`) and a preview of the samples (`preview_s`): the budget less the time spent so far, the final
        measurement on `test_images` and the evaluations and previews for the page while it trains; at least
        MIN_TRAINING_SHARE of the budget. None for a run of N epochs. Also what eta_s counts for the measurement."""
        self.measure_s = eval_s * test_images / EVAL_IMAGES + preview_s
        budget = BUDGETS[self.settings.budget]
        if budget is None:
            return None
        self.watch_share = eval_s / EVAL_EVERY_S + (preview_s / PREVIEW_EVERY_S if self.kind == "generator" else 0)
        left = budget - (time.monotonic() - self.started) - self.measure_s
        self.train_budget_s = max(MIN_TRAINING_SHARE * budget, left / (1 + self.watch_share))
        return self.train_budget_s

    def record_end(self, model, final, stopped, time_limit=False):
        with self._lock:
            self.hit_time_limit = time_limit
            self.final, self.model = final, model
            self.status = "stopped" if stopped else "done"

    def record_failure(self, error):
        with self._lock:
            self.status, self.error = "failed", error

    def record_exit(self):
        with self._lock:
            self.ended = time.monotonic()
        self.done_event.set()

    # What the page asks -------------------------------------------------------------------------------------------

    def touch(self):
        """The page is still watching."""
        self.last_seen = time.monotonic()

    def abandoned(self):
        return time.monotonic() - self.last_seen > ABANDONED_AFTER_S

    def out_of_time(self):
        return self.max_seconds is not None and time.monotonic() - self.started > self.max_seconds

    def should_stop(self):
        return self.stop_event.is_set() or self.abandoned() or self.out_of_time()

    def request_step(self):
        """One training step while the run is paused (the Step button); True when the run is paused to take it."""
        with self._lock:
            if self.status != "paused" or not self.pause_event.is_set():
                return False
            self.single_steps += 1
            return True

    def should_pause(self):
        paused = self.pause_event.is_set() and not self.should_stop()
        with self._lock:
            if paused and self.single_steps:  # one step asked for: it runs, and the run stays paused
                self.single_steps -= 1
                self.stepping = True
                return False
            if self.status in ("running", "paused"):
                self.status = "paused" if paused else "running"
        return paused

    def eta_s(self):
        """Seconds to Finished: the training time left (for a budget, of the plan's), plus what drawing for the page
        takes per second of training (the plan's estimate; for N epochs, what it has taken so far), plus the final
        measurement (its estimate); while measuring, its estimate less what of it has passed."""
        if self.ended is not None:
            return 0.0
        if self.measuring_since is not None:
            return max(0.0, self.measure_s - (time.monotonic() - self.measuring_since))
        if self.fraction <= 0 or self.train_seconds <= 0:
            return None
        budget = BUDGETS[self.settings.budget]
        if budget is not None:  # as the plan counted it (a pause adds its own length)
            left = max(0.0, self.train_budget_s - self.train_seconds) * (1 + self.watch_share) + self.measure_s
        else:
            left = self.train_seconds * (1 - self.fraction) / self.fraction
            left = left * (1 + self.watch_seconds / self.train_seconds) + self.measure_s
        if self.max_seconds is not None:
            left = min(left, max(0.0, self.max_seconds - (time.monotonic() - self.started)))
        return left

    def snapshot(self):
        """A consistent copy of the progress, for the page."""
        with self._lock:
            now = self.ended or time.monotonic()  # a finished job's clock stops
            return Snapshot(
                run_id=self.run_id, kind=self.kind, status=self.status, settings=self.settings,
                epoch=self.epoch, step=self.step, steps=self.steps, global_step=self.global_step, loss=self.loss,
                fraction=self.fraction, train_seconds=self.train_seconds, train_budget_s=self.train_budget_s,
                eta_s=self.eta_s(),
                images_per_s=self.images / self.train_seconds if self.train_seconds > 0 else 0.0,
                seconds=now - self.started, losses=list(self.losses), tests=list(self.tests),
                history=[dict(m) for m in self.history], preview=self.preview,
                preview_version=self.preview_version, confusion=self.confusion, terms=list(self.terms),
                step_report=self.step_report, step_version=self.step_version, final=self.final, error=self.error,
                data_source=self.data_source,
                time_limit_s=self.max_seconds if self.status == "stopped" and self.hit_time_limit else None)

    def wait(self, timeout):
        return self.done_event.wait(timeout)

    def result(self):
        """What /train answers: the run id, its settings, its progress and its final test figures."""
        return {"run_id": self.run_id, "model": self.kind, "status": self.status,
                "settings": dataclasses.asdict(self.settings),
                "data": self.data_source, "progress": self.progress(), "test": self.final,
                "history": [dict(m) for m in self.history]}

    def progress(self):
        return {"partial": self.status == "stopped", "steps": self.global_step, "images": self.images,
                "epochs": round(self.images / max(1, self.settings.train_size), 3),
                "train_seconds": round(self.train_seconds, 1),
                "seconds": round((self.ended or time.monotonic()) - self.started, 1)}


def batch_terms(model, batch):
    """The loss's two terms on a training batch {"x", "y" (one-hot)}, averaged, the model as it is now
    (cvae.elbo_terms: the model's own Pixyz loss objects): {"kl", "reconstruction"}, in nats."""
    t = elbo_terms(model, batch["x"], batch["y"].argmax(1))
    return {"kl": float(t["kl"].mean()), "reconstruction": float(t["reconstruction"].mean())}


class RunWatch:
    """What the page sees of a run while it trains, measured between its steps: the generator's samples every
    PREVIEW_EVERY_S, the test loss every EVAL_EVERY_S of training, the loss's two terms on the step's batch every
    TERMS_EVERY_S; and a single step's before and after. Its time is the job's watch_seconds, not training's."""

    def __init__(self, job, model, eval_set, preview_z, evaluate, preview):
        self.job, self.model, self.eval_set, self.preview_z = job, model, eval_set, preview_z
        self.evaluate, self.preview = evaluate, preview
        self.last = {"preview": -math.inf, "eval": 0.0, "terms": -math.inf}
        self.before = None

    def first_look(self):
        """The untrained model's test loss and samples: -> the seconds each took (what plans the budget)."""
        began = time.monotonic()
        self.job.record_test(*self.evaluate(self.job, self.model, *self.eval_set))
        eval_s, preview_s = time.monotonic() - began, 0.0
        if self.job.kind == "generator":
            began = self.last["preview"] = time.monotonic()
            self.job.record_preview(self.preview(self.model, self.preview_z))
            preview_s = time.monotonic() - began
        return eval_s, preview_s

    def before_step(self, batch):
        if self.job.stepping:  # a single step: its batch's terms before it
            self.before = batch_terms(self.model, batch)

    def on_step(self, info):
        job, now = self.job, time.monotonic()
        job.record_step(info)
        stepping = job.stepping
        if stepping or info["seconds"] - self.last["terms"] >= TERMS_EVERY_S:
            self.last["terms"] = info["seconds"]
            after = batch_terms(self.model, info["batch"])
            job.record_terms(after)
        if job.kind == "generator" and (stepping or now - self.last["preview"] > PREVIEW_EVERY_S):
            self.last["preview"] = now
            job.record_preview(self.preview(self.model, self.preview_z))
        if info["seconds"] - self.last["eval"] >= EVAL_EVERY_S:
            self.last["eval"] = info["seconds"]
            job.record_test(*self.evaluate(job, self.model, *self.eval_set))
        if stepping:
            job.record_single_step(self.before, after, info["images"])
        job.watch_seconds += time.monotonic() - now
        REQUESTS.wait_idle(STEP_WAIT_S)  # between steps: requests first
        time.sleep(0)  # and hand the GIL to a waiting one now, not at the next switch


class TrainingRunner:
    """The server's one training slot, the training data (loaded once, on first use, shared by all jobs) and the
    sizes the new models take from the shipped ones (so a trained generator fits the page's sliders)."""

    def __init__(self, device="cpu", templates=None, load_data=None, data_dir=None,
                 max_train_minutes=MAX_TRAIN_MINUTES):
        self.device = torch.device(device)
        self.max_seconds = None if not max_train_minutes else max_train_minutes * 60
        self.templates = templates or {}
        # The demo runs offline: full MNIST if it is on disk (CVAE_DATA_DIR), else the bundled sample.
        self._load_data = load_data or (lambda: load_mnist(data_dir, self.device, download=False))
        self._data, self._data_lock = None, threading.Lock()
        self._slot = threading.Lock()
        self.job = None
        self._line, self._line_lock = {}, threading.Lock()   # owner -> when last seen, in order of arrival
        self._leaving = set()                                # owners who asked to leave the line
        self._reserved = {}     # owner -> when a training request of theirs was let into gradio's queue
        self._calibrating = None  # the thread measuring the last trained generator's threshold, once started

    def data(self):
        with self._data_lock:
            if self._data is None:
                self._data = self._load_data().to(self.device)
            return self._data

    @property
    def busy(self):
        return self._slot.locked()

    def start(self, settings, owner=None, start_model=None):
        """Start a job in a worker thread, or return None while another one holds the slot. `start_model` is the
        model to go on training (a copy is trained); None trains a fresh one."""
        if not self._slot.acquire(blocking=False):
            return None
        try:
            job = TrainingJob(settings, owner, self.device, start_model, self.max_seconds)
            self.job = job
            threading.Thread(target=self._run, args=(job,), name=f"train-{job.run_id}", daemon=True).start()
            return job
        except BaseException:
            self._slot.release()
            raise

    def start_when_free(self, settings, owner=None, start_model=None, timeout=None):
        """Start a job as soon as the slot is free (checked every half second), or None after `timeout` s."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            job = self.start(settings, owner, start_model)
            if job is not None or (deadline is not None and time.monotonic() > deadline):
                return job
            time.sleep(0.5)

    def line_up(self, settings, owner, start_model=None, show=lambda place, left: (place, left), every=0.5):
        """Wait in the line for the slot and start `owner`'s job when it is their turn: a generator that yields
        show(place in line (1: next), seconds left of the running job or None) every `every` s while others go
        first, and returns the job, or None when the visitor left the line (stop). One request per visitor: a
        second one while theirs waits or runs, or one more than MAX_WAITING in line, gets InputError at once. A
        place whose generator is no longer advanced (its client has gone) is given up after ABANDONED_AFTER_S."""
        with self._line_lock:
            self._reserved.pop(owner, None)  # this is the request that reserve() let in
            self._refuse_a_second_request(owner)
            self._line[owner] = time.monotonic()
        try:
            while True:
                with self._line_lock:
                    if owner in self._leaving:
                        return None
                    self._line[owner] = time.monotonic()
                    self._drop_stale_places()
                    place = list(self._line).index(owner) + 1
                if place == 1:
                    job = self.start(settings, owner, start_model)
                    if job is not None:
                        return job
                yield show(place, self.time_left())
                time.sleep(every)
        finally:
            with self._line_lock:
                self._line.pop(owner, None)
                self._leaving.discard(owner)

    def reserve(self, owner):
        """Let one training request of `owner` into gradio's queue, or InputError at once: the events' validator,
        run when the request joins the queue, so that a flood of requests from one visitor never fills it (each
        one after the first is refused at the door, before it takes a place in the queue)."""
        with self._line_lock:
            self._refuse_a_second_request(owner)
            self._reserved[owner] = time.monotonic()

    def release(self, owner):
        """Give back a reservation that no line_up took (its request failed before it waited)."""
        with self._line_lock:
            self._reserved.pop(owner, None)

    def _refuse_a_second_request(self, owner):
        now = time.monotonic()
        self._drop_stale_places()
        for other, when in list(self._reserved.items()):
            if now - when > RESERVED_FOR_S:  # let in, but never run (cancelled while queued)
                del self._reserved[other]
        if owner in self._line or owner in self._reserved or self._own_job(owner) is not None:
            raise InputError.of("one_training")
        if len(self._line) >= MAX_WAITING:
            raise InputError.of("line_full", n=len(self._line))

    def _drop_stale_places(self):
        now = time.monotonic()
        for owner, seen in list(self._line.items()):
            if now - seen > ABANDONED_AFTER_S:
                del self._line[owner]

    def time_left(self):
        """Seconds left of the running job (its ETA, within the server's ceiling), or None when not known."""
        job = self.job
        if job is None or job.done_event.is_set():
            return None
        return job.eta_s() if job.eta_s() is not None else (
            None if self.max_seconds is None else max(0.0, self.max_seconds - (time.monotonic() - job.started)))

    def _own_job(self, owner):
        job = self.job
        if job is None or job.done_event.is_set() or (owner is not None and job.owner != owner):
            return None
        return job

    def stop(self, owner=None):
        """Stop the running job if `owner` started it, or take `owner` out of the line; True when there was one."""
        with self._line_lock:
            if owner is not None and owner in self._line:
                self._leaving.add(owner)
                return True
        job = self._own_job(owner)
        if job is not None:
            job.stop_event.set()
        return job is not None

    def pause(self, owner=None, paused=True):
        """Pause (or resume) the running job if `owner` started it; True when there was one."""
        job = self._own_job(owner)
        if job is not None:
            (job.pause_event.set if paused else job.pause_event.clear)()
        return job is not None

    def new_model(self, kind):
        """A fresh model of the short run's architecture; a generator with the shipped one's z (the page's
        sliders)."""
        sizes = dict(SHORT_RUN[kind]["model"])
        if kind == "generator" and kind in self.templates:
            sizes["z_dim"] = self.templates[kind].z_dim
        return new_model(kind, **sizes).to(self.device)

    def _run(self, job):
        try:
            yield_to_requests()
            # One thread of training work at a time (training_threads): the last run's calibration ends first.
            if self._calibrating is not None:
                self._calibrating.join()
            job.record_begin()
            data = self.data()
            s = job.settings
            model = (copy.deepcopy(job.start_model).to(self.device) if job.start_model is not None
                     else self.new_model(job.kind))
            model.metadata = {}
            eval_idx = torch.randperm(len(data.x_test), generator=torch.Generator().manual_seed(0))[:EVAL_IMAGES]
            eval_x, eval_y = data.x_test[eval_idx.to(data.x_test.device)], data.y_test[eval_idx.to(data.y_test.device)]
            preview_z = model.sample_z(8, torch.Generator(device=self.device).manual_seed(0))
            watch = RunWatch(job, model, (eval_x, eval_y), preview_z, self._evaluate, self._preview)

            # Where the test curve starts, and the first samples: their times plan the budget (TrainingJob.plan).
            eval_s, preview_s = watch.first_look()
            settings = s.for_cvae()
            train_budget_s = job.plan(eval_s, len(data.x_test), preview_s)
            if train_budget_s is not None:
                settings = dataclasses.replace(settings, budget_s=train_budget_s)
            job.record_start(data.source)
            train(model, data, settings, measure_epochs=False, progress=False,
                  hooks=Hooks(before_step=watch.before_step, on_step=watch.on_step, on_epoch=job.record_epoch,
                              should_stop=job.should_stop, should_pause=job.should_pause))
            time_limit = job.out_of_time() and not job.stop_event.is_set()
            stopped = job.stop_event.is_set() or job.abandoned() or time_limit
            job.record_measuring()
            model.eval()
            if job.kind == "generator":
                job.record_preview(self._preview(model, preview_z))
            final, confusion = self._evaluate(job, model, data.x_test, data.y_test)
            job.record_test(final, confusion)
            model.metadata = {"run_id": job.run_id, "progress": job.progress() | {"partial": stopped},
                              "test": final, "history": job.history,
                              "training": {**dataclasses.asdict(s), "data": data.source, "device": str(self.device),
                                           "source": "demo", "schedule": settings.schedule}}
            job.record_end(model, final, stopped, time_limit)
            if job.kind == "generator":
                # Not a daemon (a thread takes its maker's by default): a process that exits waits for it, some
                # seconds, where torch would abort the process under a daemon thread still computing.
                self._calibrating = threading.Thread(target=self._calibrate, args=(model, data),
                                                     name=f"calibrate-{job.run_id}", daemon=False)
                self._calibrating.start()
        except Exception as e:  # shown on the page; the server goes on serving, and its log says where
            traceback.print_exc()
            job.record_failure(f"{type(e).__name__}: {e}")
        finally:
            job.record_exit()
            self._slot.release()

    @staticmethod
    def _calibrate(model, data):
        """A trained generator's own threshold for model 1's "not a digit" (cvae/second_opinion.py), in its metadata
        (and so in its JSON when saved): measured after the run has ended, beside the requests, so that its trainer
        does not wait for it (the next run starts training once it is done); until it is there, the page gives
        model 1's answer without a verdict."""
        yield_to_requests()
        try:
            calibration = calibrate_trained(model, data.x_test, data.y_test)
        except Exception:  # the model is still the visitor's; only its verdict is missing, and the log says why
            traceback.print_exc()
            return
        model.metadata = {**model.metadata, METADATA_KEY: calibration}

    @staticmethod
    def _evaluate(job, model, x, y):
        """The test loss (and for the classifier its accuracy, z from the prior, and confusion matrix) on x, y:
        (a point of the test curve, the confusion matrix or None). The model is left in the mode it was in."""
        was_training = model.training
        model.eval()
        confusion = None
        try:
            with torch.no_grad():
                out = {"step": job.global_step, "test_loss": neg_elbo(model, x, y)}
                if job.kind == "classifier":
                    g = torch.Generator(device=model.device).manual_seed(0)
                    predicted = torch.cat([model.predict_probs(x[i:i + 1000], generator=g).argmax(-1)
                                           for i in range(0, len(x), 1000)]).cpu()
                    confusion = np.zeros((Y_DIM, Y_DIM), np.int64)
                    np.add.at(confusion, (y.cpu().numpy(), predicted.numpy()), 1)
                    out["test_accuracy"] = float(np.trace(confusion) / len(x))
        finally:
            model.train(was_training)
        return out, confusion

    @staticmethod
    def _preview(model, z):
        """8 samples of each digit (a row per z, a column per digit), from the model as it is now."""
        was_training = model.training
        model.eval()
        try:
            images = model.draw(z.repeat_interleave(Y_DIM, 0), list(range(Y_DIM)) * len(z))
        finally:
            model.train(was_training)
        grid = to_grid_image(images, nrow=Y_DIM)
        return grid.resize((grid.width * 2, grid.height * 2), 0)  # 0: nearest neighbour, crisp pixels
