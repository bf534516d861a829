"""What every tab uses: the models a visitor's requests run on, the visitor's session, and the picture files.

The shipped generator (model 1) and classifier (model 2) serve every visitor; a visitor who trains a model and
chooses "Use in this session" gets it in their Session, and only they see it.
"""
import functools
import threading

import gradio as gr
import torch

from . import handlers as h
from .batching import Batcher
from .pictures import PictureStore
from .texts import DEFAULT, language_of, say, static
from .training import REQUESTS

KINDS = ("generator", "classifier")


def inference(fn):
    """Run a request's handler under torch.inference_mode: no autograd bookkeeping for the models' forward passes."""
    @functools.wraps(fn)
    def run(*args, **kwargs):
        with torch.inference_mode(), REQUESTS:
            return fn(*args, **kwargs)
    return run


def model_id(model):
    """How a page or /session_models names a model: 'shipped:<sha256>' for shipped weights, else its run id."""
    meta = getattr(model, "metadata", None) or {}
    if meta.get("run_id") or meta.get("source_name"):
        return meta.get("run_id") or meta["source_name"]
    return f"shipped:{meta['sha256'][:12]}" if meta.get("sha256") else "shipped"


class OneAtATime:
    """At most one request of each visitor in a handler at a time, for the handlers outside gradio's queue
    (queue=False), which no concurrency limit reaches: the page never sends a second before the first is answered
    (trigger_mode="always_last"), so a second one at once is a client's own flood, and it is turned away."""

    def __init__(self):
        self._busy, self._lock = set(), threading.Lock()

    def enter(self, key):
        """True when `key` (a session hash; None: no visitor to count) may go on; then leave(key) when done."""
        with self._lock:
            if key is not None and key in self._busy:
                return False
            self._busy.add(key)
            return True

    def leave(self, key):
        with self._lock:
            self._busy.discard(key)


class Session:
    """One visitor's own things, all in one gr.State (ctx.session) with one lifetime: the models they chose to use
    instead of the shipped ones (`using`, kind -> model), their own model from the Train tab (`yours`: trained,
    loaded or uploaded, in use or not), the 28 x 28 tensor of the digit they drew or uploaded last, and what the
    Generate tab's latent map shows of a posterior.

    Handlers change it in place and return it as an output, so that gradio restarts its time to live: every event
    of a visitor sees the same object, and two events at once (a drawing while a training ends) never undo each
    other's change, as copies written back would."""

    def __init__(self):
        self.using, self.yours, self.last_drawing = {}, None, None
        # The Generate tab's picture put into z: {"digit", "mean", "std"} of its q(z|x,y), the last z drawn from it,
        # and whether the latent map shows where the test digits lie.
        self.posterior, self.q_drawn, self.show_density = None, None, False

    def use(self, model):
        """Run this visitor's requests of model.kind on `model`."""
        self.using[model.kind] = model
        return self

    def use_shipped(self):
        self.using = {}
        return self

    def uses(self, model):
        return model is not None and self.using.get(model.kind) is model

    def own_model(self, kind):
        """The visitor's own model of this kind ("start from your model"): the Train tab's, else the one in use."""
        if self.yours is not None and self.yours.kind == kind:
            return self.yours
        return self.using.get(kind)


class Shared:
    """The shipped models, the server's training slot (`runner`), `files` (demo/pictures.py) and its `png`: PIL
    image -> the path of a PNG file written once, never rewritten; and, set when the page is laid out, `session`:
    the gr.State holding each visitor's Session."""

    def __init__(self, generator, classifier, runner):
        self.shipped = {"generator": generator, "classifier": classifier}
        self.runner = runner
        self.z_dim = generator.z_dim
        self.files = PictureStore()
        self.png = self.files.save
        self.session = None
        self._model_change_listeners = []
        # Everyone's reads and slider redraws, batched (demo/batching.py): one forward pass for all that wait.
        self._reads = Batcher(h.read_batch)
        self._every_digit = Batcher(h.every_digit_batch)

    def read(self, classifier, generator, x):
        """Both models on a (28, 28) picture, batched with the other visitors' reads waiting at the same moment:
        (model 2's label, x's style drawn as every digit (10, 28, 28), model 1's second opinion)."""
        return self._reads((classifier, generator, x))

    def every_digit(self, generator, z):
        """A checked z (1, z_dim) drawn as every digit (10, 28, 28), batched with the other visitors' redraws."""
        return self._every_digit((generator, z))

    @property
    def generator(self):
        return self.shipped["generator"]

    def model_of(self, session, kind):
        """The model of this kind that the visitor's requests run on: their own when they chose it, else shipped."""
        return (session.using.get(kind) if session is not None else None) or self.shipped[kind]

    def model_ids(self, session):
        return {kind: model_id(self.model_of(session, kind)) for kind in KINDS}

    def summary(self, session, lang=DEFAULT):
        """Which models this session uses, in the visitor's language `lang` (None, as the page is laid out: the
        page's own language, for a session on the shipped models)."""
        if lang is None and session is None:
            return static("session_uses_shipped")
        parts = []
        for kind in KINDS:
            model = self.model_of(session, kind)
            parts.append(say(lang, "session_part", kind=say(lang, f"kind_{kind}"),
                             which=say(lang, "shipped") if model is self.shipped[kind]
                             else say(lang, "your_run", run=model_id(model))))
        return say(lang, "session_uses", parts=" · ".join(parts))

    def models_line(self, session, *kinds, lang=DEFAULT):
        """Which models a tab runs on, in words: 'Model 1 (generator): shipped' or '… your run `ID`', in the
        visitor's language `lang` (None, as the page is laid out: the page's own language, the shipped models)."""
        if lang is None and session is None:
            return static("runs_on_shipped_" + "_".join(kinds))
        parts = []
        for kind in kinds:
            model = self.model_of(session, kind)
            parts.append(say(lang, "runs_on_part", name=say(lang, f"model_name_{kind}"),
                             which=say(lang, "the_shipped_one") if model is self.shipped[kind]
                             else say(lang, "your_run_bold", run=model_id(model))))
        return say(lang, "runs_on", parts=" · ".join(parts))

    def models_line_handler(self, *kinds):
        """An event's handler: the visitor's Session -> models_line in the visitor's language."""
        def line(session, request: gr.Request = None):
            return self.models_line(session, *kinds, lang=language_of(request))
        return line

    def on_model_change(self, listener):
        """A tab's `listener(event)` chains, after an event that changes the session's models (the Train tab's
        Use buttons), what redraws its views with the models now in use."""
        self._model_change_listeners.append(listener)

    def models_changed(self, event):
        for listener in self._model_change_listeners:
            listener(event)


# Event settings the tabs share. Numbers, sliders and choices reach the handlers as sent: the handlers check every
# value themselves (h.check_digit, check_z, check_size, ...), and gradio's own preprocessing would only add a hop to
# a worker thread per input (17 for a slider move) before the work starts.
PRIVATE = {"api_visibility": "private"}
LIVE = {"show_progress": "hidden", "trigger_mode": "always_last", **PRIVATE}
RAW = {"preprocess": False}
