"""The Train tab: train model 1 or model 2 in the server's one training slot (demo/training.py is the worker) within
a time budget, and watch it learn: the loss (train, and test every few seconds), the generator's samples of fixed z
and digits redrawn every second, the classifier's test accuracy and confusion matrix. Pause and resume; Stop keeps
what was trained. The trained model ("your model") can be used in this session, compared with the shipped one,
saved under runs/, downloaded, and trained on; saved runs and uploaded models load back into "your model"."""
import dataclasses
import functools

import gradio as gr
import numpy as np
import pandas as pd
import torch
from PIL import Image, ImageDraw

from cvae import evaluate as ev
from cvae.drawn_digits import make_drawn_digits
from cvae.models import Y_DIM
from cvae.preprocess import to_grid_image

from . import handlers as h
from .bound import bound
from .runs import (address_of, list_runs, load_run, load_upload, owner_key_for_page, owner_key_state, page_owner,
                   save_run, zip_model)
from .shared import PRIVATE, inference
from .texts import DEFAULT, language_of, picture_font, say, static
from .training import (BUDGETS, DEFAULTS, MAX_EPOCHS, START_FROM, TRAINING_EVENTS, TrainingSettings,
                       default_settings, start_model)

MAX_PLOT_POINTS = 400
CURVE_COLOURS = {"train": "#4f46e5", "test": "#f97316", "kl": "#16a34a", "reconstruction": "#db2777"}


def curve_colours(lang=DEFAULT):
    """The loss curves' colours by their names in `lang` (the plot's legend shows the names: demo/texts.py)."""
    return {say(lang, f"curve_{curve}"): colour for curve, colour in CURVE_COLOURS.items()}
WAITING_MESSAGE = say(DEFAULT, "waiting")
LEFT_THE_LINE = say(DEFAULT, "left_the_line")
# The budgets' and starting points' labels on the page (the names stay what /train takes).
BUDGET_KEYS = {"30 s": "budget_30s", "1 min": "budget_1min", "5 min": "budget_5min", "until N epochs": "budget_epochs"}
COMPARE_SEED, COMPARE_ROWS = 0, 3
CONFUSION_BACKGROUND, CONFUSION_CELL, CONFUSION_TEXT = "#1f2937", (55, 65, 81), "#e5e7eb"


# ---------------------------------------------------------------------------------------------------------------
# Handlers: small functions of a job's snapshot or a model, tested without a browser (tests/test_train_tab.py)

def waiting_text(place, seconds_left, lang=DEFAULT):
    """What a visitor waiting for the training slot sees: their place in the line and the time left."""
    where = (say(lang, "you_are_next") if place == 1 else say(lang, "one_ahead") if place == 2
             else say(lang, "many_ahead", n=place - 1))
    left = (say(lang, "time_left", duration=duration(seconds_left, lang)) if seconds_left is not None else "")
    return say(lang, "waiting_place", where=where, left=left)


def duration(seconds, lang=DEFAULT):
    seconds = round(seconds)
    return (say(lang, "minutes_seconds", minutes=seconds // 60, seconds=f"{seconds % 60:02d}") if seconds >= 60
            else say(lang, "seconds", seconds=seconds))


def kind_name(kind, lang=DEFAULT):
    """A kind of model as the visitor's language says it (English: generator, classifier; Japanese: 生成モデル1, 2)."""
    return say(lang, f"kind_{kind}")


def progress_text(snap, lang=DEFAULT):
    """One line about a training job's state, from TrainingJob.snapshot(), in the visitor's language `lang`."""
    status, kind = snap.status, kind_name(snap.kind, lang)
    if status == "starting":
        return say(lang, "training_loading", kind=kind)
    if status == "failed":
        return say(lang, "training_failed", error=snap.error)
    where = (say(lang, "where_step", step=f"{snap.global_step:,}", epoch=snap.epoch) if snap.global_step
             else say(lang, "where_start"))
    speed = say(lang, "speed", speed=f"{snap.images_per_s:,.0f}") if snap.images_per_s else ""
    loss = say(lang, "loss_now", loss=f"{snap.loss:.2f}") if snap.loss is not None else ""
    budget = BUDGETS[snap.budget]
    # A budget counts the wall time from Start (to Finished, the measurement included); N epochs, the training's.
    clock = (say(lang, "clock_budget", seconds=f"{snap.seconds:.0f}", budget=budget) if budget
             else say(lang, "clock_epochs", seconds=f"{snap.train_seconds:.0f}", percent=f"{snap.fraction * 100:.0f}",
                      epochs=snap.epochs))
    eta = say(lang, "eta", eta=f"{snap.eta_s:.0f}") if snap.eta_s is not None else ""
    if status == "running":
        return say(lang, "training_running", kind=kind, clock=clock, where=where, speed=speed, loss=loss, eta=eta)
    if status == "paused":
        return say(lang, "training_paused", where=where, clock=clock)
    if status == "measuring":
        return say(lang, "training_measuring", kind=kind, eta=eta)
    final = snap.final or {}
    figures = say(lang, "final_test_loss", loss=f"{final['test_loss']:.2f}") if "test_loss" in final else ""
    if "test_accuracy" in final:
        figures += say(lang, "final_test_accuracy", accuracy=f"{final['test_accuracy'] * 100:.2f}")
    ended = say(lang, "finished") if status == "done" else say(lang, "stopped_at", where=where)
    if snap.time_limit_s:
        ended += say(lang, "time_limit", limit=duration(snap.time_limit_s, lang))
    return say(lang, "training_ended", ended=ended, total=f"{snap.seconds:.0f}", seconds=f"{snap.train_seconds:.0f}",
               figures=figures)


def plotted_tests(snap):
    """The test points the curves show: those measured during the training. The one of the untrained model (step
    0) is left out: joined to the next, seconds of training later, it made a long straight line that looked like a
    fault of the plot."""
    return [t for t in snap.tests if t["step"] > 0]


def loss_frame(snap, lang=DEFAULT):
    """The loss curves as one DataFrame (step, loss, curve): the training loss, thinned to at most MAX_PLOT_POINTS
    points, the test loss measured every few seconds (plotted_tests), and the loss's two terms, KL and
    reconstruction, on the step's batch (their sum is the training loss); the curves named in `lang`."""
    tests = plotted_tests(snap)
    curves = [("train", thinned(snap.losses)), ("test", [(t["step"], t["test_loss"]) for t in tests]),
              ("kl", thinned([(step, kl) for step, kl, _ in snap.terms])),
              ("reconstruction", thinned([(step, rec) for step, _, rec in snap.terms]))]
    # Typed columns, also when empty: the plot takes a column of objects for categories, not numbers.
    return pd.DataFrame({"step": np.array([s for _, points in curves for s, _ in points], dtype=np.int64),
                         "loss": np.array([v for _, points in curves for _, v in points], dtype=np.float64),
                         "curve": pd.Series([say(lang, f"curve_{name}") for name, points in curves for _ in points],
                                            dtype="str")})


def thinned(points):
    """At most MAX_PLOT_POINTS of `points`, evenly spread, the first and the last kept."""
    if len(points) <= MAX_PLOT_POINTS:
        return points
    return [points[i] for i in np.linspace(0, len(points) - 1, MAX_PLOT_POINTS).round().astype(int)]


def step_report_text(report, kind, lang=DEFAULT):
    """What the last single step did: its batch's two terms and their sum, before and after it."""
    if report is None:
        return ""
    before, after = report["before"], report["after"]
    figures = {f"{name}_{when}": f"{terms[name]:.2f}" for when, terms in (("before", before), ("after", after))
               for name in ("kl", "reconstruction")}
    return say(lang, f"step_report_{kind}", images=report["images"], step=f"{report['step']:,}", **figures,
               sum_before=f"{before['kl'] + before['reconstruction']:.2f}",
               sum_after=f"{after['kl'] + after['reconstruction']:.2f}")


def accuracy_frame(snap):
    tests = [t for t in plotted_tests(snap) if "test_accuracy" in t]
    return pd.DataFrame({"step": np.array([t["step"] for t in tests], dtype=np.int64),
                         "accuracy": np.array([t["test_accuracy"] * 100 for t in tests], dtype=np.float64)})


def confusion_image(matrix, cell=34):
    """A 10 x 10 confusion matrix (rows: the true digit, columns: the digit read) as a picture: each row shaded
    by its share, the count written in every cell that is not zero."""
    if matrix is None:
        return None
    matrix = np.asarray(matrix)
    share = matrix / np.maximum(matrix.sum(1, keepdims=True), 1)
    margin = cell
    # Dark in both themes (a white picture glares on the dark page): light labels, cells from the dark background
    # towards blue (right) or red (mistakes).
    image = Image.new("RGB", (margin + Y_DIM * cell, margin + Y_DIM * cell), CONFUSION_BACKGROUND)
    draw = ImageDraw.Draw(image)
    for d in range(Y_DIM):
        draw.text((margin + d * cell + cell // 2 - 3, margin // 2 - 6), str(d), fill=CONFUSION_TEXT)
        draw.text((margin // 2 - 3, margin + d * cell + cell // 2 - 6), str(d), fill=CONFUSION_TEXT)
    for i in range(Y_DIM):
        for j in range(Y_DIM):
            right = i == j
            level = share[i, j] if right else min(1.0, share[i, j] * 10)  # mistakes are few: shown 10 x
            colour = tuple(int(b + level * (c - b)) for b, c in zip(CONFUSION_CELL,
                                                                      (70, 90, 220) if right else (220, 60, 60)))
            box = (margin + j * cell, margin + i * cell, margin + (j + 1) * cell - 1, margin + (i + 1) * cell - 1)
            draw.rectangle(box, fill=colour)
            if matrix[i, j]:
                text = str(int(matrix[i, j]))
                draw.text((box[0] + cell // 2 - 3 * len(text), box[1] + cell // 2 - 6), text, fill="white")
    return image


def describe(model, in_use=False, lang=DEFAULT):
    """What "your model" is, in one line, in the visitor's language `lang`."""
    if model is None:
        return say(lang, "no_model_yet")
    meta = getattr(model, "metadata", None) or {}
    progress, test = meta.get("progress") or {}, meta.get("test") or {}
    origin = meta.get("source_name") or meta.get("run_id") or say(lang, "a_model")
    parts = [say(lang, "your_model_is", kind=kind_name(model.kind, lang), origin=origin)]
    if progress:
        parts.append(say(lang, "trained_for", seconds=f"{progress.get('train_seconds', 0):.0f}",
                         steps=f"{progress.get('steps', 0):,}")
                     + (say(lang, "stopped_early") if progress.get("partial") else ""))
    if "test_accuracy" in test:
        parts.append(say(lang, "summary_accuracy", accuracy=f"{test['test_accuracy'] * 100:.2f}"))
    elif "test_loss" in test:
        parts.append(say(lang, "summary_loss", loss=f"{test['test_loss']:.2f}"))
    parts.append(say(lang, "in_use") if in_use else say(lang, "not_in_use"))
    return " · ".join(parts)


def fits_the_page(model, z_dim):
    """A generator drives the Generate tab's z_dim sliders: one with another z cannot be used there."""
    if model.kind == "generator" and model.z_dim != z_dim:
        raise h.InputError.of("z_mismatch", z_dim=model.z_dim, page_z_dim=z_dim)


def labelled_rows(rows, lang=DEFAULT):
    """[(label, PIL image)] stacked, each with its label on the left (in a font that has `lang`'s letters)."""
    width = max(image.width for _, image in rows) + 90
    out = Image.new("L", (width, sum(image.height + 6 for _, image in rows)), 255)
    draw, top, font = ImageDraw.Draw(out), 0, picture_font(lang)
    for label, image in rows:
        draw.text((6, top + image.height // 2 - 6), label, fill=0, font=font)
        out.paste(image, (90, top))
        top += image.height + 6
    return out


def compare_generators(shipped, yours, lang=DEFAULT):
    """The same z (COMPARE_ROWS draws with COMPARE_SEED) as every digit, by the shipped generator and by yours."""
    z = torch.randn(COMPARE_ROWS, shipped.z_dim, generator=torch.Generator().manual_seed(COMPARE_SEED))
    rows = []
    for name, model in (("row_shipped", shipped), ("row_yours", yours)):
        images = model.draw(z.repeat_interleave(Y_DIM, 0), list(range(Y_DIM)) * COMPARE_ROWS)
        rows.append((say(lang, name), h.enlarge_by(to_grid_image(images, nrow=Y_DIM), 2)))
    return labelled_rows(rows, lang)


def compare_classifiers(shipped, yours, drawing, drawn_set, lang=DEFAULT):
    """Markdown: both classifiers' reading of the visitor's last drawing, and their accuracy on the drawn set."""
    lines = []
    models = ((say(lang, "the_shipped_classifier"), shipped), (say(lang, "your_classifier"), yours))
    if drawing is not None:
        for name, model in models:
            label, _ = h.classify(model, drawing)
            d = h.predicted_digit(label)
            lines.append(say(lang, "last_drawing_read", name=name, digit=d, percent=f"{label[str(d)] * 100:.1f}"))
    else:
        lines.append(say(lang, "draw_to_compare"))
    x, y = drawn_set
    for name, model in models:
        acc = ev.reads(model, x, y).float().mean().item()
        lines.append(say(lang, "drawn_set_read", n=len(y), name=name, percent=f"{acc * 100:.1f}"))
    return "\n".join(lines)


def training_frames(job, every=0.5, lang=DEFAULT):
    """The live view of a training, as plain data: the first frame resets the views for the job's kind of model,
    then one frame every `every` s until the job ends, each holding only what changed since the last one sent
    ("progress" always; "losses", "samples", "accuracy", "confusion" when they changed) and the job's "state"
    (running, paused, done). Each frame marks the job as watched (an unwatched job stops: ABANDONED_AFTER_S). The
    progress lines are in the visitor's language `lang`."""
    snap = job.snapshot()
    yield {"progress": progress_text(snap, lang), "views_for": job.kind, "state": "running"}
    classifier = job.kind == "classifier"
    shown = {"preview": 0, "losses": 0, "tests": 0, "steps": 0}
    while True:
        done = job.wait(every)
        job.touch()
        snap = job.snapshot()
        fresh = {"preview": snap.preview_version, "losses": len(snap.losses), "tests": len(snap.tests),
                 "steps": snap.step_version}
        changed = {k: fresh[k] != shown[k] for k in fresh}
        shown = fresh
        frame = {"progress": progress_text(snap, lang),
                 "state": "done" if done else "paused" if job.pause_event.is_set() else "running"}
        # The plot keeps the curves of the first table it is sent: send none until all have points.
        if (changed["losses"] or changed["tests"]) and snap.losses and snap.terms and plotted_tests(snap):
            frame["losses"] = loss_frame(snap, lang)
        if changed["steps"]:
            frame["step_report"] = step_report_text(snap.step_report, job.kind, lang)
        if changed["preview"]:
            frame["samples"] = snap.preview
        if changed["tests"] and classifier:
            frame["confusion"] = confusion_image(snap.confusion)
            if plotted_tests(snap):
                frame["accuracy"] = accuracy_frame(snap)
        yield frame
        if done:
            return


def train_in_page(runner, shipped, settings, session, owner, wait_s=0.5, lang=DEFAULT):
    """The Start button: wait in line for the server's training slot (a frame with the visitor's place every
    `wait_s` s), train, and show it (training_frames); at the end the trained model is the visitor's (frame
    "yours"). `settings` are checked TrainingSettings; `session` is the visitor's demo.shared.Session."""
    init = start_model(settings.start, settings.kind, shipped, session)
    job = yield from runner.line_up(settings, owner, init, every=wait_s,
                                    show=lambda place, left: {"progress": waiting_text(place, left, lang),
                                                              "state": "waiting"})
    if job is None:  # the visitor pressed Stop while waiting
        yield {"progress": say(lang, "left_the_line"), "state": "done"}
        return
    try:
        for frame in training_frames(job, lang=lang):
            if frame["state"] == "done" and job.model is not None:
                session.yours = job.model
                frame["yours"] = job.model
            yield frame
    finally:
        if not job.done_event.is_set():  # the page went away mid-training: free the slot
            job.stop_event.set()


def announce(runner, shipped, settings, session, lang=DEFAULT):
    """What the page says at once when Start is pressed (before the training's own handler runs)."""
    start_model(settings.start, settings.kind, shipped, session)
    return say(lang, "waiting") if runner.busy else say(lang, "starting", start=say(lang, f"start_{settings.start}"),
                                                         kind=kind_name(settings.kind, lang))


def pause_or_resume(runner, owner):
    """The Pause/Resume button -> its new label, or None when nothing of `owner`'s is training."""
    job = runner.job
    paused = job is not None and job.pause_event.is_set()
    if not runner.pause(owner=owner, paused=not paused):
        return None
    return "Pause" if paused else "Resume"


def step_once(runner, owner):
    """The Step button: one training step of `owner`'s paused run; False when nothing of theirs is paused."""
    job = runner.job
    return job is not None and job.owner == owner and job.request_step()


def use_in_session(session, z_dim, lang=DEFAULT):
    """Use the visitor's own model instead of the shipped one of its kind."""
    yours = session.yours
    if yours is None:
        raise h.InputError.of("no_model_to_use")
    fits_the_page(yours, z_dim)
    session.use(yours)
    return say(lang, "now_uses", kind=kind_name(yours.kind, lang))


def save_in_runs(session, name, runs_dir, shipped_dir, owner=None, address=None, lang=DEFAULT):
    """Save the visitor's model under runs/NAME; the message says where. `address`: where the save came from
    (demo.runs.address_of), for the per-address limits."""
    yours = session.yours
    folder = save_run(yours, runs_dir, name, shipped_dir, owner=owner, address=address)
    # The folder's name only: where the server keeps its runs is not the visitor's business.
    return say(lang, "saved_as", file=f"{folder.name}/{yours.kind}.safetensors")


def named_as(model, source_name):
    model.metadata = {**model.metadata, "source_name": source_name}
    return model


def load_saved(runs_dir, choice, device, owner=None):
    return named_as(load_run(runs_dir, choice, device, owner=owner), f"runs/{choice}")


def load_uploaded(files, device):
    model = load_upload([h.upload_path(f) for f in files or []], device)
    return named_as(model, f"uploaded {model.metadata.get('run_id') or ''}".strip())


@functools.cache
def drawn_set():
    """The drawn-digit set as model input, made once, on first use (making it is costly)."""
    return ev.drawn_inputs(make_drawn_digits())


def compare(shipped, session, lang=DEFAULT):
    """Compare the visitor's model with the shipped one: (a picture or None, its Markdown)."""
    yours = session.yours
    if yours is None:
        raise h.InputError.of("no_model_to_compare")
    if yours.kind == "generator":
        fits_the_page(yours, shipped["generator"].z_dim)
        return (compare_generators(shipped["generator"], yours, lang), say(lang, "compare_generators"))
    return None, compare_classifiers(shipped["classifier"], yours, session.last_drawing, drawn_set(), lang)


EMPTY_LOSS_LABEL = say(DEFAULT, "loss_empty")
EMPTY_ACCURACY_LABEL = say(DEFAULT, "accuracy_empty")


def run_name_hint(kind, lang=DEFAULT):
    return say(lang, f"run_name_hint_{kind}")


BUTTONS = {  # a training's state -> (Start, Pause, Stop, Step) interactive, and Pause's label
    "waiting": (False, False, True, False, None),    # Stop leaves the line
    "running": (False, True, True, False, "Pause"),
    "paused": (False, True, True, True, "Resume"),
    "done": (True, False, False, False, "Pause"),
}


# ---------------------------------------------------------------------------------------------------------------
# The page: its components (lay_out), the handlers of its events (each given the TrainTab, then what gradio passes)
# and the block that binds them (build)

@dataclasses.dataclass(frozen=True)
class Page:
    """The tab's components, as lay_out makes them, by what they show; `state` is the gr.State of each visitor's
    demo.shared.Session."""
    state: gr.State
    data_notice: gr.Markdown
    kind: gr.Radio
    start_from: gr.Radio
    budget: gr.Radio
    epochs: gr.Number
    batch_size: gr.Number
    lr: gr.Number
    train_size: gr.Slider
    start_button: gr.Button
    pause_button: gr.Button
    stop_button: gr.Button
    step_button: gr.Button
    progress: gr.Markdown
    step_report: gr.Markdown
    loss_plot: gr.LinePlot
    samples: gr.Image
    accuracy_plot: gr.LinePlot
    confusion: gr.Image
    yours_text: gr.Markdown
    use_button: gr.Button
    compare_button: gr.Button
    download_button: gr.DownloadButton
    name: gr.Textbox
    save_button: gr.Button
    saved: gr.Markdown
    compared: gr.Image
    compared_text: gr.Markdown
    owner_key: gr.BrowserState
    runs_list: gr.Dropdown
    refresh_button: gr.Button
    load_button: gr.Button
    upload: gr.File
    in_use: gr.Markdown
    reset_button: gr.Button

    @property
    def settings(self):
        """The training's settings on the page, in the order the Start button's handlers take them."""
        return [self.kind, self.start_from, self.budget, self.epochs, self.batch_size, self.lr, self.train_size]

    @property
    def your_model(self):
        """What shows the visitor's model (your_model_update)."""
        return [self.yours_text, self.download_button, self.use_button, self.compare_button, self.save_button,
                self.name]

    @property
    def training_view(self):
        """What a training's frames change (frame_update)."""
        return [self.progress, self.loss_plot, self.samples, self.accuracy_plot, self.confusion, *self.your_model,
                self.state, self.start_button, self.pause_button, self.stop_button, self.step_button,
                self.step_report]


def lay_out(ctx):
    """The tab's components, top to bottom: the training's settings and buttons, its live view, then the visitor's
    model."""
    return Page(state=ctx.session, **lay_out_training(), **lay_out_your_model(ctx))


def lay_out_training():
    d = default_settings("generator")
    gr.Markdown(static("train_help"))
    c = {"data_notice": gr.Markdown("", elem_id="data-notice")}
    with gr.Row():
        c["kind"] = gr.Radio([(static(f"kind_{k}"), k) for k in ("generator", "classifier")], value="generator",
                             label=static("model"), elem_id="train-kind")
        c["start_from"] = gr.Radio([(static(f"start_{s}"), s) for s in START_FROM], value=DEFAULTS["start"],
                                   label=static("start_from"), elem_id="start-from")
        c["budget"] = gr.Radio([(static(BUDGET_KEYS[b]), b) for b in BUDGETS], value=DEFAULTS["budget"],
                               label=static("train_for"), elem_id="budget")
        c["epochs"] = gr.Number(DEFAULTS["epochs"], label=static("epochs_n"), precision=0, minimum=1,
                                maximum=MAX_EPOCHS, visible=BUDGETS[DEFAULTS["budget"]] is None, elem_id="epochs")
    with gr.Accordion(static("train_settings"), open=False):
        with gr.Row():
            c["batch_size"] = gr.Number(d.batch_size, label=static("batch_size"), precision=0, minimum=1,
                                        maximum=4096)
            c["lr"] = gr.Number(d.lr, label=static("peak_lr"))
            c["train_size"] = gr.Slider(1, 60_000, value=60_000, step=1, label=static("training_images"),
                                        elem_id="train-size", buttons=[])
    with gr.Row():
        c["start_button"] = gr.Button(static("start_training"), variant="primary", elem_id="start")
        c["pause_button"] = gr.Button(static("pause"), interactive=False, elem_id="pause")
        c["stop_button"] = gr.Button(static("stop"), variant="stop", interactive=False, elem_id="stop")
        c["step_button"] = gr.Button(static("step_one"), interactive=False, elem_id="step")
    c["progress"] = gr.Markdown(static("not_started"), elem_id="train-progress")
    c["step_report"] = gr.Markdown("", elem_id="step-report")
    with gr.Row(equal_height=False):
        c["loss_plot"] = gr.LinePlot(None, x="step", y="loss", color="curve", color_map=curve_colours(),
                                     x_title=static("step"), y_title=static("loss_y"), title=static("loss_title"),
                                     label=static("loss_empty"), height=340, elem_id="loss-plot")
        with gr.Column():
            # Labels above the pictures, not over them (gradio's label box would hide their top rows).
            c["samples"] = gr.Image(label=static("samples_now"), type="filepath", interactive=False, visible=True,
                                    elem_id="samples", elem_classes=["pixelated", "label-above"])
            c["accuracy_plot"] = gr.LinePlot(None, x="step", y="accuracy", title=static("test_accuracy_title"),
                                             x_title=static("step"), y_title="%", height=220, visible=False,
                                             label=static("accuracy_empty"), elem_id="accuracy-plot")
            c["confusion"] = gr.Image(label=static("confusion_label"), type="filepath", interactive=False,
                                      visible=False, elem_id="confusion", elem_classes="label-above")
    return c


def lay_out_your_model(ctx):
    gr.Markdown(static("your_model_heading"))
    c = {"yours_text": gr.Markdown(static("no_model_yet"), elem_id="your-model")}
    with gr.Row(equal_height=True):
        c["use_button"] = gr.Button(static("use_in_session"), interactive=False, elem_id="use")
        c["compare_button"] = gr.Button(static("compare_shipped"), interactive=False, elem_id="compare")
        c["download_button"] = gr.DownloadButton(static("download_zip"), interactive=False, elem_id="download")
    with gr.Row(equal_height=True):
        c["name"] = gr.Textbox(placeholder=static("run_name_hint_generator"), label=static("run_name"),
                               show_label=False, container=False, scale=2, elem_id="run-name")
        c["save_button"] = gr.Button(static("save_runs"), interactive=False, elem_id="save")
    c["saved"] = gr.Markdown("")
    c["compared"] = gr.Image(label=static("shipped_vs_yours"), type="filepath", interactive=False, visible=False,
                             elem_id="compared", elem_classes=["pixelated", "label-above"])
    c["compared_text"] = gr.Markdown("", elem_id="compared-text")
    c["owner_key"] = owner_key_state()  # this browser's key for its saved runs (demo/runs.py)
    with gr.Accordion(static("load_or_upload"), open=False):
        with gr.Row(equal_height=True):
            c["runs_list"] = gr.Dropdown([], label=static("saved_runs"), elem_id="runs", scale=3)
            c["refresh_button"] = gr.Button(static("refresh"), scale=0, elem_id="runs-refresh")
            c["load_button"] = gr.Button(static("load_as_yours"), elem_id="load", scale=1)
        c["upload"] = gr.File(label=static("upload_model"), file_count="multiple",
                              file_types=[".safetensors", ".json", ".zip"], elem_id="upload-model")
    with gr.Row(equal_height=True):
        c["in_use"] = gr.Markdown(ctx.summary(None, lang=None), elem_id="in-use")
        c["reset_button"] = gr.Button(static("use_shipped"), scale=0)
    return c


@dataclasses.dataclass(frozen=True)
class TrainTab:
    """What the tab's handlers work with besides the values gradio passes them: the app's demo.shared.Shared (its
    training runner, shipped models, pictures), the page's components, the runs folder, the shipped weights'
    folder (never written), and whether every run is the operator's own (python -m demo on their machine)."""
    ctx: object
    page: Page
    runs_dir: object
    shipped_dir: object
    local_operator: bool = False

    def owner_of(self, key):
        """Whose runs: this browser's key, checked (or the operator's own, on their machine)."""
        return page_owner(key, self.local_operator)

    def settings_of(self, kind, start, budget, epochs, batch_size, lr, train_size):
        """The page's training settings (Page.settings), checked."""
        asked = TrainingSettings(kind, budget, epochs, batch_size, lr, train_size, start)
        return asked.checked(len(self.ctx.runner.data().x_train))


def your_model_update(tab, session, lang):
    """The "your model" part of the page, for the visitor's model (None: nothing yet), in their language."""
    p, model = tab.page, session.yours
    ready = gr.update(interactive=model is not None)
    download = (str(zip_model(model, tab.ctx.files.new_path(f"{model.metadata.get('run_id') or model.kind}.zip")))
                if model is not None else None)
    return {p.yours_text: describe(model, session.uses(model), lang),
            p.download_button: gr.update(value=download, interactive=model is not None),
            p.use_button: ready, p.compare_button: ready, p.save_button: ready,
            p.name: gr.update(placeholder=run_name_hint(model.kind if model is not None else "generator", lang))}


def frame_update(tab, frame, session, lang):
    """A frame of training_frames (or train_in_page) -> the page's update, by component."""
    p = tab.page
    out = {p.progress: frame["progress"]}
    if "views_for" in frame:  # the views of this kind of model, empty (None: a plot given no rows first
        generator = frame["views_for"] == "generator"  # shows none of the rows it is given later)
        named = None if lang == DEFAULT else gr.update(value=None, color_map=curve_colours(lang))
        out |= {p.loss_plot: named, p.samples: gr.update(value=None, visible=generator),
                p.accuracy_plot: gr.update(value=None, visible=not generator),
                p.confusion: gr.update(value=None, visible=not generator)}
    for name, component in (("losses", p.loss_plot), ("accuracy", p.accuracy_plot)):
        if name in frame:
            out[component] = frame[name]
    for name, component in (("samples", p.samples), ("confusion", p.confusion)):
        if name in frame:
            out[component] = tab.ctx.png(frame[name]) if frame[name] is not None else None
    if "yours" in frame:
        out |= your_model_update(tab, session, lang) | {p.state: session}
    if "step_report" in frame:
        out[p.step_report] = frame["step_report"]
    if "views_for" in frame:
        out[p.step_report] = ""
    start_on, pause_on, stop_on, step_on, pause_label = BUTTONS[frame["state"]]
    pause_label = pause_label and say(lang, pause_label.lower())
    out |= {p.start_button: gr.update(interactive=start_on), p.stop_button: gr.update(interactive=stop_on),
            p.step_button: gr.update(interactive=step_on),
            p.pause_button: gr.update(interactive=pause_on, **({"value": pause_label} if pause_label else {}))}
    return out


def on_tab_opened(tab, current_size, key, request: gr.Request = None):
    with h.said_in(language_of(request)):
        return tab_opened(tab, current_size, key, language_of(request))


def tab_opened(tab, current_size, key, lang):
    """The tab's data notice, the training-set slider's range and the browser's saved runs, when it is opened."""
    data = tab.ctx.runner.data()  # loaded here, once, on first use
    n = len(data.x_train)
    if data.source == "sample":  # the notice, in the visitor's language
        notice = "⚠️ " + say(lang, "sample_notice", train=n, test=len(data.x_test))
    else:
        notice = f"⚠️ {data.notice}" if data.notice else say(lang, "full_mnist", n=f"{n:,}")
    return (gr.update(maximum=n, value=min(current_size or n, n)), notice,
            gr.update(choices=list_runs(tab.runs_dir, tab.owner_of(key))))


def defaults_for(kind):
    """The batch size and learning rate the page shows for `kind`."""
    d = default_settings(kind)
    return d.batch_size, d.lr


def epochs_shown(budget):
    return gr.update(visible=BUDGETS[budget] is None)


def on_start(tab, session, kind, start, budget, epochs, batch_size, lr, train_size, request: gr.Request = None):
    lang = language_of(request)
    with h.said_in(lang):
        settings = tab.settings_of(kind, start, budget, epochs, batch_size, lr, train_size)
        return announce(tab.ctx.runner, tab.ctx.shipped, settings, session, lang)


def one_training_each(tab, request: gr.Request, *inputs):
    """on_train's validator, run as the request joins the queue: one training request per visitor. gradio gives it
    the request first (where its annotated parameter is), then on_train's inputs, which it lets through."""
    with h.said_in(language_of(request)):
        tab.ctx.runner.reserve(request.session_hash)
    return [gr.skip()] * len(inputs)  # one answer per input, each "valid", and the session's state left as it is


def on_train(tab, session, kind, start, budget, epochs, batch_size, lr, train_size, request: gr.Request):
    lang, runner = language_of(request), tab.ctx.runner
    try:
        with h.said_in(lang):
            settings = tab.settings_of(kind, start, budget, epochs, batch_size, lr, train_size)
            for frame in train_in_page(runner, tab.ctx.shipped, settings, session, request.session_hash, lang=lang):
                yield frame_update(tab, frame, session, lang)
    finally:  # a request refused before it waited in line gives its visitor's reservation back
        runner.release(request.session_hash)


def on_pause(tab, request: gr.Request):
    lang = language_of(request)
    label = pause_or_resume(tab.ctx.runner, request.session_hash)
    if label is None:
        gr.Info(say(lang, "nothing_training"), duration=3)
        return gr.update(value=say(lang, "pause"))
    return gr.update(value=say(lang, label.lower()))


def on_step(tab, request: gr.Request):
    if not step_once(tab.ctx.runner, request.session_hash):
        gr.Info(say(language_of(request), "step_only_paused"), duration=3)


def on_stop(tab, request: gr.Request):
    lang = language_of(request)
    stopping = tab.ctx.runner.stop(owner=request.session_hash)
    gr.Info(say(lang, "stopping") if stopping else say(lang, "nothing_training"), duration=3)


def on_use(tab, session, request: gr.Request = None):
    lang = language_of(request)
    with h.said_in(lang):
        gr.Info(use_in_session(session, tab.ctx.z_dim, lang))
    return session, tab.ctx.summary(session, lang), describe(session.yours, in_use=True, lang=lang)


def on_back_to_shipped(tab, session, request: gr.Request = None):
    lang = language_of(request)
    session.use_shipped()
    return session, tab.ctx.summary(session, lang), describe(session.yours, lang=lang)


def on_save(tab, session, name, key, request: gr.Request = None):
    lang = language_of(request)
    with h.said_in(lang):
        owner = tab.owner_of(key)
        return (save_in_runs(session, name, tab.runs_dir, tab.shipped_dir, owner=owner, address=address_of(request),
                             lang=lang),
                gr.update(choices=list_runs(tab.runs_dir, owner)))


def on_refresh(tab, key):
    return gr.update(choices=list_runs(tab.runs_dir, tab.owner_of(key)))


def on_load(tab, session, choice, key, request: gr.Request = None):
    lang = language_of(request)
    with h.said_in(lang):
        session.yours = load_saved(tab.runs_dir, choice, tab.ctx.runner.device, owner=tab.owner_of(key))
    gr.Info(say(lang, "loaded_run", choice=choice))
    return your_model_update(tab, session, lang) | {tab.page.state: session}


def on_upload(tab, session, files, request: gr.Request = None):
    lang = language_of(request)
    with h.said_in(lang):
        session.yours = load_uploaded(files, tab.ctx.runner.device)
    gr.Info(say(lang, "uploaded_is_yours", kind=kind_name(session.yours.kind, lang)))
    return your_model_update(tab, session, lang) | {tab.page.state: session}


@inference
def on_compare(tab, session, request: gr.Request = None):
    lang = language_of(request)
    with h.said_in(lang):
        picture, text = compare(tab.ctx.shipped, session, lang)
    return gr.update(value=tab.ctx.png(picture) if picture else None, visible=picture is not None), text


def build(ctx, tab, runs_dir, shipped_dir, local_operator=False):
    """Lay out the tab inside `tab` (the gr.Tab, whose select event loads the data) and bind its handlers: their
    inputs come from the page, and their answers go to the components by name."""
    p = lay_out(ctx)
    this = TrainTab(ctx, p, runs_dir, shipped_dir, local_operator)
    # This browser's key for its saved runs: kept, or made on the first visit, before the runs are listed.
    (tab.select(owner_key_for_page, p.owner_key, p.owner_key, **PRIVATE)
     .then(bound(on_tab_opened, this), [p.train_size, p.owner_key], [p.train_size, p.data_notice, p.runs_list],
           show_progress="minimal", **PRIVATE))
    p.kind.change(defaults_for, p.kind, [p.batch_size, p.lr], **PRIVATE)
    p.budget.change(epochs_shown, p.budget, p.epochs, **PRIVATE)
    # One training at a time per server, the others' requests waiting in the runner's line (TRAINING_EVENTS); Pause
    # and Stop are never queued behind them.
    (p.start_button.click(bound(on_start, this), [p.state, *p.settings], p.progress, concurrency_limit=None,
                          **PRIVATE)
     .success(bound(on_train, this), [p.state, *p.settings], p.training_view,
              validator=bound(one_training_each, this), **TRAINING_EVENTS, show_progress="hidden", **PRIVATE))
    p.pause_button.click(bound(on_pause, this), None, p.pause_button, concurrency_limit=None, **PRIVATE)
    p.stop_button.click(bound(on_stop, this), None, None, concurrency_limit=None, **PRIVATE)
    p.step_button.click(bound(on_step, this), None, None, concurrency_limit=None, **PRIVATE)
    # Use and back to shipped: the other tabs redraw what they show with the models now in use (ctx.models_changed).
    ctx.models_changed(p.use_button.click(bound(on_use, this), p.state, [p.state, p.in_use, p.yours_text],
                                          **PRIVATE))
    p.compare_button.click(bound(on_compare, this), p.state, [p.compared, p.compared_text], **PRIVATE)
    p.save_button.click(bound(on_save, this), [p.state, p.name, p.owner_key], [p.saved, p.runs_list], **PRIVATE)
    p.refresh_button.click(bound(on_refresh, this), p.owner_key, p.runs_list, **PRIVATE)
    p.load_button.click(bound(on_load, this), [p.state, p.runs_list, p.owner_key], [*p.your_model, p.state],
                        **PRIVATE)
    p.upload.upload(bound(on_upload, this), [p.state, p.upload], [*p.your_model, p.state], **PRIVATE)
    ctx.models_changed(p.reset_button.click(bound(on_back_to_shipped, this), p.state,
                                            [p.state, p.in_use, p.yours_text], **PRIVATE))
