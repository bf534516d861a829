"""What every tab uses: the models a visitor's requests run on, the visitor's session, and the picture files.

The shipped generator (model 1) and classifier (model 2) serve every visitor; a visitor who trains a model and
chooses "Use in this session" gets it in their gr.State, and only they see it.
"""
import functools

import torch

from .pictures import PictureStore

KINDS = ("generator", "classifier")


def inference(fn):
    """Run a request's handler under torch.inference_mode: no autograd bookkeeping for the models' forward passes."""
    @functools.wraps(fn)
    def run(*args, **kwargs):
        with torch.inference_mode():
            return fn(*args, **kwargs)
    return run


def model_id(model):
    meta = getattr(model, "metadata", None) or {}
    return f"shipped:{meta['sha256'][:12]}" if meta.get("sha256") else "shipped"


class Shared:
    """The shipped models, the server's training slot (`runner`), `files` (demo/pictures.py) and its `png`: PIL
    image -> the path of a PNG file written once, never rewritten; and, set when the page is laid out, the
    visitor's gr.State: `session` (the models they trained and use) and `last_drawing` (the 28 x 28 tensor of the
    digit they drew or uploaded last, or None)."""

    def __init__(self, generator, classifier, runner):
        self.shipped = {"generator": {"model": generator, "id": model_id(generator)},
                        "classifier": {"model": classifier, "id": model_id(classifier)}}
        self.runner = runner
        self.z_dim = generator.z_dim
        self.files = PictureStore()
        self.png = self.files.save
        self.session = self.last_drawing = None

    @property
    def generator(self):
        return self.shipped["generator"]["model"]

    def model_of(self, session, kind):
        """The session's own model of this kind, else the shipped one."""
        return ((session or {}).get(kind) or self.shipped[kind])["model"]

    def model_ids(self, session):
        return {kind: ((session or {}).get(kind) or self.shipped[kind])["id"] for kind in KINDS}

    @staticmethod
    def summary(session):
        parts = []
        for kind in KINDS:
            entry = (session or {}).get(kind)
            parts.append(f"**{kind}**: " + (f"your run `{entry['id']}`" if entry else "shipped"))
        return "This session uses " + " · ".join(parts)


# Event settings the tabs share. Numbers, sliders and choices reach the handlers as sent: the handlers check every
# value themselves (h.check_digit, check_z, check_size, ...), and gradio's own preprocessing would only add a hop to
# a worker thread per input (17 for a slider move) before the work starts.
PRIVATE = {"api_visibility": "private"}
LIVE = {"show_progress": "hidden", "trigger_mode": "always_last", **PRIVATE}
RAW = {"preprocess": False}
