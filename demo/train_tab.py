"""The Train tab: train model 1 or model 2 in the server's one training slot (demo/training.py is the worker) within
a time budget, and watch it learn: the loss (train, and test every few seconds), the generator's samples of fixed z
and digits redrawn every second, the classifier's test accuracy and confusion matrix. Pause and resume; Stop keeps
what was trained. The trained model ("your model") can be used in this session, compared with the shipped one,
saved under runs/, downloaded, and trained on; saved runs and uploaded models load back into "your model"."""
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
from .runs import (list_runs, load_run, load_upload, owner_key_for_page, owner_key_state, page_owner, save_run,
                   zip_model)
from .shared import PRIVATE, inference
from .training import (BUDGETS, DEFAULTS, MAX_EPOCHS, START_FROM, START_LABELS, TRAINING_EVENTS,
                       check_training_settings, default_settings, start_model)

HELP = """Train a model of your own and watch it learn: with the defaults a fresh **generator** draws every digit
recognisably within a minute, and a fresh **classifier** reads about 99 % of the test digits right. Pause and
resume at any time; **Stop** keeps what it has learnt so far. Then use it in this session (the Generate and Draw
tabs run on it), compare it with the shipped model, save it, download it, or train it further. One training runs at
a time on this server; other visitors keep using the shipped models."""
MAX_PLOT_POINTS = 400
CURVE_COLOURS = {"train": "#4f46e5", "test": "#f97316"}
WAITING_MESSAGE = "Waiting for another visitor's training to finish…"
LEFT_THE_LINE = "You left the line: nothing was trained."
COMPARE_SEED, COMPARE_ROWS = 0, 3


# ---------------------------------------------------------------------------------------------------------------
# Handlers: small functions of a job's snapshot or a model, tested without a browser (tests/test_train_tab.py)

def waiting_text(place, seconds_left):
    """What a visitor waiting for the training slot sees: their place in the line and the time left."""
    where = "you are next" if place == 1 else f"{place - 1} {'visitor is' if place == 2 else 'visitors are'} ahead of you"
    left = f", about {duration(seconds_left)} left of the one running" if seconds_left is not None else ""
    return f"{WAITING_MESSAGE[:-1]}: {where}{left}."


def duration(seconds):
    seconds = round(seconds)
    return f"{seconds // 60} min {seconds % 60:02d} s" if seconds >= 60 else f"{seconds} s"


def progress_text(snap):
    """One line about a training job's state, from TrainingJob.snapshot()."""
    status, kind = snap.status, snap.kind
    if status == "starting":
        return f"Loading data and building the {kind}…"
    if status == "failed":
        return f"**Training failed:** {snap.error}"
    where = f"step {snap.global_step:,} · epoch {snap.epoch}" if snap.global_step else "the start"
    speed = f" · {snap.images_per_s:,.0f} images/s" if snap.images_per_s else ""
    loss = f" · loss {snap.loss:.2f}" if snap.loss is not None else ""
    budget = BUDGETS[snap.budget]
    clock = (f"{snap.train_seconds:.0f} s of {budget} s" if budget
             else f"{snap.train_seconds:.0f} s, {snap.fraction * 100:.0f} % of {snap.epochs} epochs")
    eta = f" · about {snap.eta_s:.0f} s left" if snap.eta_s is not None else ""
    if status == "running":
        return f"**Training the {kind}:** {clock} · {where}{speed}{loss}{eta}"
    if status == "paused":
        return (f"**Paused** at {where} ({clock}). The model, the optimizer and the curves are kept: resume when "
                "you like.")
    if status == "measuring":
        return f"**Measuring** the {kind} on the 10,000 test images…"
    final = snap.final or {}
    figures = f"test loss {final['test_loss']:.2f}" if "test_loss" in final else ""
    if "test_accuracy" in final:
        figures += f", test accuracy {final['test_accuracy'] * 100:.2f} %"
    ended = "Finished" if status == "done" else f"Stopped at {where}, keeping what it learnt so far"
    if snap.time_limit_s:
        ended += f" (the server's limit is {duration(snap.time_limit_s)} a run)"
    return f"**{ended}** ({snap.train_seconds:.0f} s of training): {figures}. It is now *your model* below."


def loss_frame(snap):
    """The loss curves as one DataFrame (step, loss, curve): the training loss, thinned to at most MAX_PLOT_POINTS
    points, and the test loss measured every few seconds."""
    losses = snap.losses
    if len(losses) > MAX_PLOT_POINTS:
        idx = np.linspace(0, len(losses) - 1, MAX_PLOT_POINTS).round().astype(int)
        losses = [losses[i] for i in idx]
    steps = [s for s, _ in losses] + [t["step"] for t in snap.tests]
    values = [v for _, v in losses] + [t["test_loss"] for t in snap.tests]
    # Typed columns, also when empty: the plot takes a column of objects for categories, not numbers.
    return pd.DataFrame({"step": np.array(steps, dtype=np.int64), "loss": np.array(values, dtype=np.float64),
                         "curve": pd.Series(["train"] * len(losses) + ["test"] * len(snap.tests), dtype="str")})


def accuracy_frame(snap):
    tests = [t for t in snap.tests if "test_accuracy" in t]
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
    image = Image.new("RGB", (margin + Y_DIM * cell, margin + Y_DIM * cell), "white")
    draw = ImageDraw.Draw(image)
    for d in range(Y_DIM):
        draw.text((margin + d * cell + cell // 2 - 3, margin // 2 - 6), str(d), fill="black")
        draw.text((margin // 2 - 3, margin + d * cell + cell // 2 - 6), str(d), fill="black")
    for i in range(Y_DIM):
        for j in range(Y_DIM):
            right = i == j
            level = share[i, j] if right else min(1.0, share[i, j] * 10)  # mistakes are few: shown 10 x
            colour = tuple(int(255 - level * (255 - c)) for c in ((70, 90, 220) if right else (220, 60, 60)))
            box = (margin + j * cell, margin + i * cell, margin + (j + 1) * cell - 1, margin + (i + 1) * cell - 1)
            draw.rectangle(box, fill=colour)
            if matrix[i, j]:
                text = str(int(matrix[i, j]))
                draw.text((box[0] + cell // 2 - 3 * len(text), box[1] + cell // 2 - 6), text,
                          fill="white" if level > 0.6 else "black")
    return image


def describe(model, in_use=False):
    """What "your model" is, in one line."""
    if model is None:
        return "*No model of yours yet: train one, or load one below.*"
    meta = getattr(model, "metadata", None) or {}
    progress, test = meta.get("progress") or {}, meta.get("test") or {}
    origin = meta.get("source_name") or meta.get("run_id") or "a model"
    parts = [f"**Your model**: a {model.kind} (`{origin}`)"]
    if progress:
        parts.append(f"{progress.get('train_seconds', 0):.0f} s, {progress.get('steps', 0):,} steps"
                     + (", stopped early" if progress.get("partial") else ""))
    if "test_accuracy" in test:
        parts.append(f"test accuracy {test['test_accuracy'] * 100:.2f} %")
    elif "test_loss" in test:
        parts.append(f"test loss {test['test_loss']:.2f}")
    parts.append("in use in this session" if in_use else "not in use yet")
    return " · ".join(parts)


def fits_the_page(model, z_dim):
    """A generator drives the Generate tab's z_dim sliders: one with another z cannot be used there."""
    if model.kind == "generator" and model.z_dim != z_dim:
        raise h.InputError(f"This generator has a {model.z_dim}-dimensional z; the page's sliders need {z_dim}. "
                           "It can still be saved and downloaded.")


def labelled_rows(rows):
    """[(label, PIL image)] stacked, each with its label on the left."""
    width = max(image.width for _, image in rows) + 90
    out = Image.new("L", (width, sum(image.height + 6 for _, image in rows)), 255)
    draw, top = ImageDraw.Draw(out), 0
    for label, image in rows:
        draw.text((6, top + image.height // 2 - 6), label, fill=0)
        out.paste(image, (90, top))
        top += image.height + 6
    return out


def compare_generators(shipped, yours):
    """The same z (COMPARE_ROWS draws with COMPARE_SEED) as every digit, by the shipped generator and by yours."""
    z = torch.randn(COMPARE_ROWS, shipped.z_dim, generator=torch.Generator().manual_seed(COMPARE_SEED))
    rows = []
    for name, model in (("shipped", shipped), ("yours", yours)):
        images = model.draw(z.repeat_interleave(Y_DIM, 0), list(range(Y_DIM)) * COMPARE_ROWS)
        rows.append((name, h.enlarge_by(to_grid_image(images, nrow=Y_DIM), 2)))
    return labelled_rows(rows)


def compare_classifiers(shipped, yours, drawing, drawn_set):
    """Markdown: both classifiers' reading of the visitor's last drawing, and their accuracy on the drawn set."""
    lines = []
    models = (("the shipped classifier", shipped), ("your classifier", yours))
    if drawing is not None:
        for name, model in models:
            label, _ = h.classify(model, drawing)
            d = h.predicted_digit(label)
            lines.append(f"- Your last drawing: {name} reads **{d}** ({label[str(d)] * 100:.1f} %)")
    else:
        lines.append("- Draw a digit on the Draw tab to see both read it.")
    x, y = drawn_set
    for name, model in models:
        acc = ev.reads(model, x, y).float().mean().item()
        lines.append(f"- {len(y)} drawn digits that are not MNIST: {name} reads **{acc * 100:.1f} %** right")
    return "\n".join(lines)


def training_frames(job, every=0.5):
    """The live view of a training, as plain data: the first frame resets the views for the job's kind of model,
    then one frame every `every` s until the job ends, each holding only what changed since the last one sent
    ("progress" always; "losses", "samples", "accuracy", "confusion" when they changed) and the job's "state"
    (running, paused, done). Each frame marks the job as watched (an unwatched job stops: ABANDONED_AFTER_S)."""
    snap = job.snapshot()
    yield {"progress": progress_text(snap), "views_for": job.kind, "state": "running"}
    classifier = job.kind == "classifier"
    shown = {"preview": 0, "losses": 0, "tests": 0}
    while True:
        done = job.wait(every)
        job.touch()
        snap = job.snapshot()
        fresh = {"preview": snap.preview_version, "losses": len(snap.losses), "tests": len(snap.tests)}
        changed = {k: fresh[k] != shown[k] for k in fresh}
        shown = fresh
        frame = {"progress": progress_text(snap),
                 "state": "done" if done else "paused" if job.pause_event.is_set() else "running"}
        # The plot keeps the curves of the first table it is sent: send none until both have points.
        if (changed["losses"] or changed["tests"]) and snap.losses and snap.tests:
            frame["losses"] = loss_frame(snap)
        if changed["preview"]:
            frame["samples"] = snap.preview
        if changed["tests"] and classifier:
            frame["accuracy"], frame["confusion"] = accuracy_frame(snap), confusion_image(snap.confusion)
        yield frame
        if done:
            return


def train_in_page(runner, shipped, settings, session, owner, wait_s=0.5):
    """The Start button: wait in line for the server's training slot (a frame with the visitor's place every
    `wait_s` s), train, and show it (training_frames); at the end the trained model is the visitor's (frame "yours"). `settings` are checked
    (check_training_settings); `session` is the visitor's demo.shared.Session."""
    init = start_model(settings["start"], settings["kind"], shipped, session)
    job = yield from runner.line_up(settings, owner, init, every=wait_s,
                                    show=lambda place, left: {"progress": waiting_text(place, left),
                                                              "state": "waiting"})
    if job is None:  # the visitor pressed Stop while waiting
        yield {"progress": LEFT_THE_LINE, "state": "done"}
        return
    try:
        for frame in training_frames(job):
            if frame["state"] == "done" and job.model is not None:
                session.yours = job.model
                frame["yours"] = job.model
            yield frame
    finally:
        if not job.done_event.is_set():  # the page went away mid-training: free the slot
            job.stop_event.set()


def announce(runner, shipped, settings, session):
    """What the page says at once when Start is pressed (before the training's own handler runs)."""
    start_model(settings["start"], settings["kind"], shipped, session)
    return WAITING_MESSAGE if runner.busy else f"Starting: {START_LABELS[settings['start']]} ({settings['kind']})…"


def pause_or_resume(runner, owner):
    """The Pause/Resume button -> its new label, or None when nothing of `owner`'s is training."""
    job = runner.job
    paused = job is not None and job.pause_event.is_set()
    if not runner.pause(owner=owner, paused=not paused):
        return None
    return "Pause" if paused else "Resume"


def use_in_session(session, z_dim):
    """Use the visitor's own model instead of the shipped one of its kind."""
    yours = session.yours
    if yours is None:
        raise h.InputError("There is no model of yours to use yet.")
    fits_the_page(yours, z_dim)
    session.use(yours)
    return f"This session now uses your {yours.kind}: the Generate and Draw tabs run on it."


def save_in_runs(session, name, runs_dir, shipped_dir, owner=None):
    """Save the visitor's model under runs/NAME; the message says where."""
    yours = session.yours
    folder = save_run(yours, runs_dir, name, shipped_dir, owner=owner)
    # The folder's name only: where the server keeps its runs is not the visitor's business.
    return f"Saved as `{folder.name}/{yours.kind}.safetensors` (+ `.json`) in the server's runs folder."


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
    """The drawn-digit set as model input, made once (it takes a few seconds)."""
    return ev.drawn_inputs(make_drawn_digits())


def compare(shipped, session):
    """Compare the visitor's model with the shipped one: (a picture or None, its Markdown)."""
    yours = session.yours
    if yours is None:
        raise h.InputError("There is no model of yours to compare yet.")
    if yours.kind == "generator":
        fits_the_page(yours, shipped["generator"].z_dim)
        return (compare_generators(shipped["generator"], yours),
                "The same three z, as every digit: the **shipped** generator above, **yours** below.")
    return None, compare_classifiers(shipped["classifier"], yours, session.last_drawing, drawn_set())


BUTTONS = {  # a training's state -> (Start, Pause, Stop) interactive, and Pause's label
    "waiting": (False, False, True, None),    # Stop leaves the line
    "running": (False, True, True, "Pause"),
    "paused": (False, True, True, "Resume"),
    "done": (True, False, False, "Pause"),
}


# ---------------------------------------------------------------------------------------------------------------

def build(ctx, tab, runs_dir, shipped_dir, local_operator=False):
    """Lay out the tab inside `tab` (the gr.Tab, whose select event loads the data) and bind its handlers."""
    runner, shipped, state = ctx.runner, ctx.shipped, ctx.session  # state: the gr.State of each visitor's Session

    d = default_settings("generator")
    gr.Markdown(HELP)
    data_notice = gr.Markdown("", elem_id="data-notice")
    with gr.Row():
        kind = gr.Radio(["generator", "classifier"], value="generator", label="Model", elem_id="train-kind")
        start_from = gr.Radio([(START_LABELS[s], s) for s in START_FROM], value=DEFAULTS["start"],
                              label="Start from", elem_id="start-from")
        budget = gr.Radio(list(BUDGETS), value=DEFAULTS["budget"], label="Train for", elem_id="budget")
        epochs = gr.Number(DEFAULTS["epochs"], label="Epochs (N)", precision=0, minimum=1, maximum=MAX_EPOCHS,
                           visible=BUDGETS[DEFAULTS["budget"]] is None, elem_id="epochs")
    with gr.Accordion("Batch size, learning rate, training images", open=False):
        with gr.Row():
            batch_size = gr.Number(d["batch_size"], label="Batch size", precision=0, minimum=1, maximum=4096)
            lr = gr.Number(d["lr"], label="Peak learning rate")
            train_size = gr.Slider(1, 60_000, value=60_000, step=1, label="Training images", elem_id="train-size",
                                   buttons=[])
    with gr.Row():
        start_button = gr.Button("Start training", variant="primary", elem_id="start")
        pause_button = gr.Button("Pause", interactive=False, elem_id="pause")
        stop_button = gr.Button("Stop", variant="stop", interactive=False, elem_id="stop")
    progress = gr.Markdown("Not started.", elem_id="train-progress")
    with gr.Row(equal_height=False):
        loss_plot = gr.LinePlot(None, x="step", y="loss", color="curve", color_map=CURVE_COLOURS, x_title="step",
                                y_title="negative ELBO per image", title="Loss: train, and test every few seconds",
                                height=340, elem_id="loss-plot")
        with gr.Column():
            # Labels above the pictures, not over them (gradio's label box would hide their top rows).
            samples = gr.Image(label="Samples now: a row per z, a column per digit (the same z all along)",
                               type="filepath", interactive=False, visible=True, elem_id="samples",
                               elem_classes=["pixelated", "label-above"])
            accuracy_plot = gr.LinePlot(None, x="step", y="accuracy", title="Test accuracy", x_title="step",
                                        y_title="%", height=220, visible=False, elem_id="accuracy-plot")
            confusion = gr.Image(label="Confusion matrix on test digits (rows: true digit, columns: read as)",
                                 type="filepath", interactive=False, visible=False, elem_id="confusion",
                                 elem_classes="label-above")

    gr.Markdown("### Your model")
    yours_text = gr.Markdown(describe(None), elem_id="your-model")
    with gr.Row(equal_height=True):
        use_button = gr.Button("Use in this session", interactive=False, elem_id="use")
        compare_button = gr.Button("Compare with the shipped model", interactive=False, elem_id="compare")
        download_button = gr.DownloadButton("Download (.zip)", interactive=False, elem_id="download")
    with gr.Row(equal_height=True):
        name = gr.Textbox(placeholder="run name, e.g. my-generator", show_label=False, container=False, scale=2)
        save_button = gr.Button("Save under runs/", interactive=False, elem_id="save")
    saved = gr.Markdown("")
    compared = gr.Image(label="Shipped vs yours", type="filepath", interactive=False, visible=False,
                        elem_id="compared", elem_classes="pixelated")
    compared_text = gr.Markdown("", elem_id="compared-text")
    owner_key = owner_key_state()  # this browser's key for its saved runs (demo/runs.py)
    with gr.Accordion("Load a saved run, or upload a model", open=False):
        with gr.Row(equal_height=True):
            runs_list = gr.Dropdown([], label="Saved runs", elem_id="runs", scale=3)
            refresh_button = gr.Button("Refresh", scale=0, elem_id="runs-refresh")
            load_button = gr.Button("Load as your model", elem_id="load", scale=1)
        upload = gr.File(label="…or upload NAME.safetensors + NAME.json (or the .zip this page downloads)",
                         file_count="multiple", file_types=[".safetensors", ".json", ".zip"], elem_id="upload-model")
    with gr.Row(equal_height=True):
        in_use = gr.Markdown(ctx.summary(None), elem_id="in-use")
        reset_button = gr.Button("Use the shipped models", scale=0)

    # Binding: the handlers above get their inputs from the page, and their answers go to the components by name.
    your_model = [yours_text, download_button, use_button, compare_button, save_button]
    training_view = [progress, loss_plot, samples, accuracy_plot, confusion, *your_model, state, start_button,
                     pause_button, stop_button]

    def your_model_update(session):
        """The "your model" part of the page, for the visitor's model (None: nothing yet)."""
        model = session.yours
        ready = gr.update(interactive=model is not None)
        download = (str(zip_model(model, ctx.files.new_path(f"{model.metadata.get('run_id') or model.kind}.zip")))
                    if model is not None else None)
        return {yours_text: describe(model, session.uses(model)),
                download_button: gr.update(value=download, interactive=model is not None),
                use_button: ready, compare_button: ready, save_button: ready}

    def frame_update(frame, session):
        """A frame of training_frames (or train_in_page) -> the page's update, by component."""
        out = {progress: frame["progress"]}
        if "views_for" in frame:  # the views of this kind of model, empty (None: a plot given no rows first
            generator = frame["views_for"] == "generator"  # shows none of the rows it is given later)
            out |= {loss_plot: None, samples: gr.update(value=None, visible=generator),
                    accuracy_plot: gr.update(value=None, visible=not generator),
                    confusion: gr.update(value=None, visible=not generator)}
        for name, component in (("losses", loss_plot), ("accuracy", accuracy_plot)):
            if name in frame:
                out[component] = frame[name]
        for name, component in (("samples", samples), ("confusion", confusion)):
            if name in frame:
                out[component] = ctx.png(frame[name]) if frame[name] is not None else None
        if "yours" in frame:
            out |= your_model_update(session) | {state: session}
        start_on, pause_on, stop_on, pause_label = BUTTONS[frame["state"]]
        out |= {start_button: gr.update(interactive=start_on), stop_button: gr.update(interactive=stop_on),
                pause_button: gr.update(interactive=pause_on, **({"value": pause_label} if pause_label else {}))}
        return out

    def settings_of(kind, start, budget, epochs, batch_size, lr, train_size):
        return check_training_settings(kind, budget, epochs, batch_size, lr, train_size,
                                       len(runner.data().x_train), start)

    def owner_of(key):
        """Whose runs: this browser's key, checked (or the operator's own, on their machine)."""
        return page_owner(key, local_operator)

    def on_tab_opened(current_size, key):
        data = runner.data()  # loaded here, once, on first use
        n = len(data.x_train)
        notice = f"⚠️ {data.notice}" if data.notice else f"Training data: full MNIST ({n:,} images)."
        return (gr.update(maximum=n, value=min(current_size or n, n)), notice,
                gr.update(choices=list_runs(runs_dir, owner_of(key))))

    def on_start(session, kind, start, budget, epochs, batch_size, lr, train_size):
        return announce(runner, shipped, settings_of(kind, start, budget, epochs, batch_size, lr, train_size),
                        session)

    def one_training_each(session, kind, start, budget, epochs, batch_size, lr, train_size, request: gr.Request):
        """on_train's validator, run as the request joins the queue: one training request per visitor."""
        runner.reserve(request.session_hash)
        return [gr.skip()] * 8  # one answer per input, each "valid", and the session's state left as it is

    def on_train(session, kind, start, budget, epochs, batch_size, lr, train_size, request: gr.Request):
        try:
            settings = settings_of(kind, start, budget, epochs, batch_size, lr, train_size)
            for frame in train_in_page(runner, shipped, settings, session, request.session_hash):
                yield frame_update(frame, session)
        finally:  # a request refused before it waited in line gives its visitor's reservation back
            runner.release(request.session_hash)

    def on_pause(request: gr.Request):
        label = pause_or_resume(runner, request.session_hash)
        if label is None:
            gr.Info("Nothing of yours is training.", duration=3)
            return gr.update(value="Pause")
        return gr.update(value=label)

    def on_stop(request: gr.Request):
        stopping = runner.stop(owner=request.session_hash)
        gr.Info("Stopping: the model keeps what it has learnt." if stopping else "Nothing of yours is training.",
                duration=3)

    def on_use(session):
        gr.Info(use_in_session(session, ctx.z_dim))
        return session, ctx.summary(session), describe(session.yours, in_use=True)

    def on_back_to_shipped(session):
        session.use_shipped()
        return session, ctx.summary(session), describe(session.yours)

    def on_save(session, name, key):
        owner = owner_of(key)
        return (save_in_runs(session, name, runs_dir, shipped_dir, owner=owner),
                gr.update(choices=list_runs(runs_dir, owner)))

    def on_load(session, choice, key):
        session.yours = load_saved(runs_dir, choice, runner.device, owner=owner_of(key))
        gr.Info(f"Loaded {choice} as your model.")
        return your_model_update(session) | {state: session}

    def on_upload(session, files):
        session.yours = load_uploaded(files, runner.device)
        gr.Info(f"Your uploaded {session.yours.kind} is now your model.")
        return your_model_update(session) | {state: session}

    @inference
    def on_compare(session):
        picture, text = compare(shipped, session)
        return gr.update(value=ctx.png(picture) if picture else None, visible=picture is not None), text

    settings = [kind, start_from, budget, epochs, batch_size, lr, train_size]
    # This browser's key for its saved runs: kept, or made on the first visit, before the runs are listed.
    (tab.select(owner_key_for_page, owner_key, owner_key, **PRIVATE)
     .then(on_tab_opened, [train_size, owner_key], [train_size, data_notice, runs_list], show_progress="minimal",
           **PRIVATE))
    kind.change(lambda k: (default_settings(k)["batch_size"], default_settings(k)["lr"]), kind, [batch_size, lr],
                **PRIVATE)
    budget.change(lambda b: gr.update(visible=BUDGETS[b] is None), budget, epochs, **PRIVATE)
    # One training at a time per server, the others' requests waiting in the runner's line (TRAINING_EVENTS); Pause
    # and Stop are never queued behind them.
    (start_button.click(on_start, [state, *settings], progress, concurrency_limit=None, **PRIVATE)
     .success(on_train, [state, *settings], training_view, validator=one_training_each, **TRAINING_EVENTS,
              show_progress="hidden", **PRIVATE))
    pause_button.click(on_pause, None, pause_button, concurrency_limit=None, **PRIVATE)
    stop_button.click(on_stop, None, None, concurrency_limit=None, **PRIVATE)
    use_button.click(on_use, state, [state, in_use, yours_text], **PRIVATE)
    compare_button.click(on_compare, state, [compared, compared_text], **PRIVATE)
    save_button.click(on_save, [state, name, owner_key], [saved, runs_list], **PRIVATE)
    refresh_button.click(lambda key: gr.update(choices=list_runs(runs_dir, owner_of(key))), owner_key, runs_list,
                         **PRIVATE)
    load_button.click(on_load, [state, runs_list, owner_key], [*your_model, state], **PRIVATE)
    upload.upload(on_upload, [state, upload], [*your_model, state], **PRIVATE)
    reset_button.click(on_back_to_shipped, state, [state, in_use, yours_text], **PRIVATE)
