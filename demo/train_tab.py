"""The Train tab: train a fresh model in the server's one training slot (demo/training.py is the worker), watch
its loss and samples, then use it in this session or save it under runs/."""
import time

import gradio as gr

from . import handlers as h
from .shared import PRIVATE
from .training import DEFAULTS, check_training_settings, save_run

HELP = """Train a fresh model and watch it learn. One training runs at a time on this server; other
visitors keep using the shipped models. When it finishes you can use it in *your* session, or save it under
`runs/`."""


def build(ctx, tab, runs_dir, shipped_dir):
    """Lay out the tab inside `tab` (the gr.Tab, whose select event loads the data) and wire its events."""
    runner = ctx.runner

    def tab_opened(current_size):
        data = runner.data()  # loaded here, once, on first use
        n = len(data.x_train)
        notice = f"⚠️ {data.notice}" if data.notice else f"Training data: full MNIST ({n:,} images)."
        return gr.update(maximum=n, value=min(current_size or DEFAULTS["train_size"], n)), notice

    def announce(kind, epochs, batch_size, lr, train_size):
        check_training_settings(kind, epochs, batch_size, lr, train_size, len(runner.data().x_train))
        return h.WAITING_MESSAGE if runner.busy else f"Starting: a fresh {kind}…"

    def train_in_page(kind, epochs, batch_size, lr, train_size, request: gr.Request):
        """Start a training (or wait for the slot) and show its progress every half second until it ends."""
        settings = check_training_settings(kind, epochs, batch_size, lr, train_size, len(runner.data().x_train))
        locked = gr.update(interactive=False)
        job = runner.start(settings, owner=request.session_hash)
        while job is None:  # another visitor's training still holds the slot
            yield (h.WAITING_MESSAGE, gr.skip(), gr.skip(), gr.skip(), "",
                   None, locked, locked)
            time.sleep(0.5)
            job = runner.start(settings, owner=request.session_hash)
        shown = {"preview": 0, "losses": 0, "epochs": 0}  # redraw only what changed: the page stays light
        yield (h.progress_text(job.snapshot()), h.loss_frame({"losses": []}),
               gr.update(value=None, visible=kind == "generator"), h.history_frame([]), "", None, locked, locked)
        try:
            while True:
                done = job.wait(0.5)
                job.touch()
                snap = job.snapshot()
                fresh = {"preview": snap["preview_version"], "losses": len(snap["losses"]),
                         "epochs": len(snap["history"])}
                changed = {k: fresh[k] != shown[k] for k in fresh}
                shown = fresh
                finished = done and snap["status"] == "done"
                yield (h.progress_text(snap),
                       h.loss_frame(snap) if changed["losses"] else gr.skip(),
                       ctx.png(snap["preview"]) if changed["preview"] else gr.skip(),
                       h.history_frame(snap["history"]) if changed["epochs"] else gr.skip(),
                       gr.skip(), job if finished else None,
                       gr.update(interactive=finished), gr.update(interactive=finished))
                if done:
                    return
        finally:
            if not job.done_event.is_set():  # the page went away mid-training: free the slot
                job.stop_event.set()

    def stop_in_page(request: gr.Request):
        if runner.stop(owner=request.session_hash):
            gr.Info("Stopping…", duration=2)
        else:
            gr.Info("Nothing of yours is training.", duration=3)

    def use_in_session(session, job):
        if job is None or job.model is None:
            raise h.InputError("There is no finished training to use yet.")
        session = {**(session or {}), job.kind: {"model": job.model, "id": job.run_id}}
        gr.Info(f"This session now uses your {job.kind} ({job.run_id}).")
        return session, ctx.summary(session)

    def back_to_shipped():
        return None, ctx.summary(None)

    def save_in_runs(job, name):
        folder = save_run(job, runs_dir, name, shipped_dir)
        # The folder's name only: where the server keeps its runs is not the visitor's business.
        return f"Saved as `{folder.name}/{job.kind}.safetensors` (+ `.json`) in the server's runs folder."

    gr.Markdown(HELP)
    data_notice = gr.Markdown("", elem_id="data-notice")
    with gr.Row():
        kind = gr.Radio(["generator", "classifier"], value="generator", label="Model")
        epochs = gr.Number(DEFAULTS["epochs"], label="Epochs", precision=0, minimum=1, maximum=50)
        batch_size = gr.Number(DEFAULTS["batch_size"], label="Batch size", precision=0, minimum=1,
                               maximum=4096)
        lr = gr.Number(DEFAULTS["lr"], label="Learning rate")
        train_size = gr.Slider(1, DEFAULTS["train_size"], value=DEFAULTS["train_size"], step=1,
                               label="Training images", elem_id="train-size", buttons=[])
    with gr.Row():
        start_button = gr.Button("Start training", variant="primary", elem_id="start")
        stop_button = gr.Button("Stop", variant="stop", elem_id="stop")
    progress = gr.Markdown("Not started.", elem_id="train-progress")
    with gr.Row(equal_height=False):
        loss_plot = gr.LinePlot(h.loss_frame({"losses": []}), x="step", y="loss", x_title="step",
                                y_title="loss", title="Training loss (negative ELBO per image)",
                                height=340, elem_id="loss-plot")
        preview = gr.Image(label="Samples now (a row per z, a column per digit)", type="filepath",
                           height=340, interactive=False, visible=False,
                           elem_classes="pixelated")
    history = gr.Dataframe(h.history_frame([]), label="Per epoch", interactive=False, elem_id="history")
    finished = gr.State(None)
    with gr.Row(equal_height=True):
        use_button = gr.Button("Use in this session", interactive=False, elem_id="use")
        run_name = gr.Textbox(placeholder="run name, e.g. my-generator", show_label=False,
                              container=False, scale=2)
        save_button = gr.Button("Save", interactive=False, elem_id="save")
        reset_button = gr.Button("Use the shipped models")
    saved = gr.Markdown("")
    in_use = gr.Markdown(ctx.summary(None), elem_id="in-use")

    # One training at a time per server (the "training" concurrency group); Stop is never queued behind it.
    session = ctx.session
    tab.select(tab_opened, train_size, [train_size, data_notice], show_progress="minimal", **PRIVATE)
    (start_button.click(announce, [kind, epochs, batch_size, lr, train_size], progress, concurrency_limit=None,
                        **PRIVATE)
     .success(train_in_page, [kind, epochs, batch_size, lr, train_size],
              [progress, loss_plot, preview, history, saved, finished, use_button, save_button],
              concurrency_limit=1, concurrency_id="training", show_progress="hidden", **PRIVATE))
    stop_button.click(stop_in_page, None, None, concurrency_limit=None, **PRIVATE)
    use_button.click(use_in_session, [session, finished], [session, in_use], **PRIVATE)
    save_button.click(save_in_runs, [finished, run_name], saved, **PRIVATE)
    reset_button.click(back_to_shipped, None, [session, in_use], **PRIVATE)
