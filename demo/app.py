"""The page: three tabs (Generate, Draw, Train) and the named API endpoints, laid out in `build_app`.

Models: the shipped generator (model 1) and classifier (model 2) serve every visitor; a visitor who trains a
model and chooses "Use in this session" gets it in their gr.State, and only they see it.
"""
import functools
import os
import time

# gradio's queue keeps a record of every event for its monitoring page (which this app does not open) and, after
# each event, summarises all of them in a pandas DataFrame: up to 10,000 records per request, a cost and a memory
# that grow with the server's uptime. Read when the queue is made (demo.queue() in build_app); a deployment may
# still set them.
os.environ.setdefault("GRADIO_ANALYTICS_MAX_EVENTS", "200")
os.environ.setdefault("GRADIO_ANALYTICS_CACHE_FREQUENCY", "1000")

import gradio as gr  # noqa: E402
import torch  # noqa: E402

from cvae.weights import WEIGHTS_DIR, load_weights  # noqa: E402

from . import handlers as h  # noqa: E402
from .pictures import PictureStore  # noqa: E402
from .training import DEFAULTS, TrainingRunner, check_training_settings, limit_threads, save_run  # noqa: E402

SLIDERS_PER_ROW = 4
SLIDERS_SHOWN = 16          # a wider z (the mlp's 64) puts the rest in a closed accordion
API_TRAIN_WAIT_S = 600      # /train waits this long for another visitor's training, then gives up politely
SESSION_TTL_S = 3 * 3600    # a session's trained models are dropped after this long without use
LAUNCH_SETTINGS = {
    "max_file_size": "10mb",
    "share": False,
    "show_error": False,         # only gr.Error messages reach the visitor, never a traceback
    "footer_links": ["api"],
    "run_history": False,
    # gradio keeps a copy of the page's configuration for every session (~200 KB here; each gradio_client Client
    # and each page load is one) until this many newer ones push it out: 10,000 by default, ~2 GB.
    "state_session_capacity": 1000,
}
QUEUE_SETTINGS = {"default_concurrency_limit": 4, "max_size": 64}
# Every picture the app sends is a file of its own in gradio's cache (demo/pictures.py); gradio deletes the app's
# files older than 10 minutes, every minute (the page fetches a picture at once; the download button within that).
DELETE_CACHE = (60, 600)
# The default theme's font as gradio ships it (the page loads nothing from outside), but regular and bold only:
# the semibold file that gradio ships is a small subset, and headings set in it lose letters ("VAE" -> "V?E").
THEME = gr.themes.Default(primary_hue="indigo", secondary_hue="slate", radius_size="md",
                          font=[gr.themes.LocalFont("Source Sans Pro", weights=(400, 700)), "ui-sans-serif",
                                "system-ui", "sans-serif"])
CSS = """
.pixelated img, .pixelated canvas { image-rendering: pixelated; image-rendering: crisp-edges; }
#title { text-align: center; }
#title p { font-size: 1.05em; }
.z-row { gap: 6px !important; }
"""

INTRO = """
# ✍️ Conditional VAE on MNIST
<p>Two conditional VAEs: <b>model 1</b> draws a digit <i>y</i> in a style <i>z</i> — p(x | z, y);
<b>model 2</b> reads a digit — p(y | x, z). Play with the style, draw your own digits, or train a model.</p>
"""
GENERATE_HELP = """Pick a digit, then drag the sliders: each is one dimension of the style **z**, and the
picture is redrawn as you drag. The digit never changes — z only carries the *style* (slant, thickness, width)."""
DRAW_HELP = """Draw a digit with the mouse (pick the **Brush** first). Model 2 reads it after every stroke; the
box on the right shows the 28 × 28 picture it actually saw. Below, model 1's encoder turns your drawing into a
style z and redraws it as all ten digits."""
TRAIN_HELP = """Train a fresh model and watch it learn. One training runs at a time on this server; other
visitors keep using the shipped models. When it finishes you can use it in *your* session, or save it under
`runs/`."""


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


def load_shipped(folder=WEIGHTS_DIR, device="cpu"):
    """The two shipped models; raises cvae.weights.WeightsError naming the file and the fault."""
    return load_weights(folder, "generator", device), load_weights(folder, "classifier", device)


def build_app(generator, classifier, runner=None, runs_dir="runs", shipped_dir=WEIGHTS_DIR):
    """The whole page. `generator` and `classifier` are the shipped models; `runner` the server's training slot
    (made here when not given); trained runs are saved under `runs_dir`."""
    runner = runner or TrainingRunner(generator.device, templates={"generator": generator,
                                                                   "classifier": classifier})
    shipped = {"generator": {"model": generator, "id": model_id(generator)},
               "classifier": {"model": classifier, "id": model_id(classifier)}}
    z_dim = generator.z_dim
    pictures = PictureStore()
    png = pictures.save  # PIL image -> the path of a PNG file written once, never rewritten (demo/pictures.py)

    def model_of(session, kind):
        return ((session or {}).get(kind) or shipped[kind])["model"]

    def session_summary(session):
        parts = []
        for kind in ("generator", "classifier"):
            entry = (session or {}).get(kind)
            parts.append(f"**{kind}**: " + (f"your run `{entry['id']}`" if entry else "shipped"))
        return "This session uses " + " · ".join(parts)

    # --- Generate ---------------------------------------------------------------------------------------------
    @inference
    def redraw(session, digit, *z):
        g = model_of(session, "generator")
        return png(h.generate_picture(g, digit, z)), png(h.digits_strip(g, z))

    def set_z(session, digit, z):
        return [*z, *redraw(session, digit, *z)]

    @inference
    def random_style(session, digit):
        return set_z(session, digit, h.random_z(model_of(session, "generator")))

    @inference
    def zero_style(session, digit):
        return set_z(session, digit, [0.0] * z_dim)

    @inference
    def new_grid(session, digit):
        return png(h.sample_grid(model_of(session, "generator"), digit))

    @inference
    def morph_to_digit(session, digit, to_digit, *z):
        return png(h.morph_digits(model_of(session, "generator"), z, digit, to_digit))

    @inference
    def morph_to_random(session, digit, *z):
        g = model_of(session, "generator")
        return png(h.morph_z(g, digit, z, h.random_z(g)))

    # --- Draw -------------------------------------------------------------------------------------------------
    def reading(label, seen, style):
        return label, png(seen), png(style)

    @inference
    def read_drawing(session, sketch):
        return reading(*h.read_digit(model_of(session, "classifier"), model_of(session, "generator"), sketch))

    @inference
    def read_uploaded(session, upload):
        return reading(*h.read_digit(model_of(session, "classifier"), model_of(session, "generator"),
                                     h.read_upload(h.upload_path(upload))))

    # --- Train ------------------------------------------------------------------------------------------------
    def train_tab_opened(current_size):
        data = runner.data()  # loaded here, once, on first use
        n = len(data.x_train)
        notice = f"⚠️ {data.notice}" if data.notice else f"Training data: full MNIST ({n:,} images)."
        return gr.update(maximum=n, value=min(current_size or DEFAULTS["train_size"], n)), notice

    def announce(kind, epochs, batch_size, lr, train_size):
        check_training_settings(kind, epochs, batch_size, lr, train_size, len(runner.data().x_train))
        return (h.WAITING_MESSAGE if runner.busy
                else f"Starting: a fresh {kind}…")

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
                       png(snap["preview"]) if changed["preview"] else gr.skip(),
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
        return session, session_summary(session)

    def back_to_shipped():
        return None, session_summary(None)

    def save_in_runs(job, name):
        folder = save_run(job, runs_dir, name, shipped_dir)
        # The folder's name only: where the server keeps its runs is not the visitor's business.
        return f"Saved as `{folder.name}/{job.kind}.safetensors` (+ `.json`) in the server's runs folder."

    # --- API (named endpoints with simple signatures for gradio_client) --------------------------------------
    @inference
    def api_generate(session, digit, z, size):
        g = model_of(session, "generator")
        return png(h.generate_picture(g, digit, h.parse_z_text(z, g.z_dim),
                                      h.DEFAULT_SIZE if size is None else size))

    @inference
    def api_classify(session, image):
        label, seen = h.classify(model_of(session, "classifier"), h.read_upload(h.upload_path(image)))
        return label, png(seen)

    @inference
    def api_grid(session, digit, seed, n):
        return png(h.sample_grid(model_of(session, "generator"), digit, h.GRID_SAMPLES if n is None else n,
                                 0 if seed is None else seed))

    def api_train(session, model, epochs, batch_size, lr, train_size, request: gr.Request):
        settings = check_training_settings(model, epochs, batch_size, lr, train_size, len(runner.data().x_train))
        job = runner.start_when_free(settings, owner=request.session_hash, timeout=API_TRAIN_WAIT_S)
        if job is None:
            raise h.InputError("Another visitor's training is still running; try again later.")
        while not job.wait(0.5):
            job.touch()
        if job.status != "done":
            raise h.InputError(f"Training {job.status}" + (f": {job.error}" if job.error else "."))
        return job.result(), {**(session or {}), job.kind: {"model": job.model, "id": job.run_id}}

    def api_session_models(session):
        return {kind: ((session or {}).get(kind) or shipped[kind])["id"] for kind in ("generator", "classifier")}

    private = {"api_visibility": "private"}
    live = {"show_progress": "hidden", "trigger_mode": "always_last", **private}
    # Numbers, sliders and choices reach the handlers as sent: the handlers check every value themselves
    # (h.check_digit, check_z, check_size, ...), and gradio's own preprocessing would only add a hop to a worker
    # thread per input (17 for a slider move) before the work starts.
    raw = {"preprocess": False}

    with gr.Blocks(title="Conditional VAE · MNIST", delete_cache=DELETE_CACHE, analytics_enabled=False) as demo:
        session = gr.State(None, time_to_live=SESSION_TTL_S)
        gr.Markdown(INTRO, elem_id="title")

        with gr.Tabs():
            with gr.Tab("Generate", id="generate"):
                gr.Markdown(GENERATE_HELP)
                with gr.Row(equal_height=False):
                    with gr.Column(scale=3):
                        digit = gr.Radio(list(range(10)), value=3, label="Digit y")
                        with gr.Row():
                            random_button = gr.Button("Random z", variant="primary", elem_id="random-z")
                            zero_button = gr.Button("Zero z", elem_id="zero-z")
                        sliders = []

                        def slider_rows(first, last):
                            for start in range(first, last, SLIDERS_PER_ROW):
                                with gr.Row(elem_classes="z-row"):
                                    for i in range(start, min(start + SLIDERS_PER_ROW, last)):
                                        sliders.append(gr.Slider(-h.Z_LIMIT, h.Z_LIMIT, value=0.0, step=0.05,
                                                                 label=f"z{i + 1}", min_width=120, buttons=[]))

                        with gr.Group():
                            slider_rows(0, min(z_dim, SLIDERS_SHOWN))
                        if z_dim > SLIDERS_SHOWN:
                            with gr.Accordion(f"More style dimensions (z{SLIDERS_SHOWN + 1}–z{z_dim})", open=False):
                                slider_rows(SLIDERS_SHOWN, z_dim)
                    with gr.Column(scale=2, min_width=300):
                        picture = gr.Image(png(h.generate_picture(generator, 3, [0.0] * z_dim)),
                                           label="Model 1 draws", type="filepath", height=340, interactive=False,
                                           buttons=["download"], elem_id="picture", elem_classes="pixelated")
                strip = gr.Image(png(h.digits_strip(generator, [0.0] * z_dim)), label="This z as every digit",
                                 type="filepath", interactive=False, buttons=["download"],
                                 elem_id="strip", elem_classes="pixelated")
                with gr.Row(equal_height=False):
                    with gr.Column():
                        grid = gr.Image(png(h.sample_grid(generator, 3, seed=0)), label="64 samples of the digit "
                                        "(z from the prior)", type="filepath", height=400,
                                        interactive=False, buttons=["download"], elem_id="grid",
                                        elem_classes="pixelated")
                        grid_button = gr.Button("New samples")
                    with gr.Column():
                        morph = gr.Image(png(h.morph_digits(generator, [0.0] * z_dim, 3, 8)),
                                         label="Morph (10 frames)", type="filepath", interactive=False,
                                         buttons=["download"],
                                         elem_id="morph", elem_classes="pixelated")
                        to_digit = gr.Dropdown(list(range(10)), value=8, label="Morph the digit into")
                        with gr.Row():
                            morph_digit_button = gr.Button("Morph digit → digit")
                            morph_z_button = gr.Button("Morph z → random z")

            with gr.Tab("Draw", id="draw"):
                gr.Markdown(DRAW_HELP)
                with gr.Row(equal_height=False):
                    with gr.Column(scale=3):
                        # PIL, not numpy: cvae's preprocessing shrinks a PIL canvas in C (Image.reduce), 6 ms for
                        # 800 x 800, against 44 ms for the same canvas as a float64 array, with the same 28 x 28.
                        sketch = gr.Sketchpad(label="Your digit", type="pil", image_mode="RGBA",
                                              canvas_size=(800, 800), height=560, layers=False, transforms=(),
                                              brush=gr.Brush(default_size=28, colors=["#000000"],
                                                             color_mode="fixed"),
                                              elem_id="sketch")
                        clear_button = gr.Button("Clear", elem_id="clear")
                    with gr.Column(scale=2, min_width=280):
                        prediction = gr.Label(h.BLANK_MESSAGE, num_top_classes=3, label="Model 2 reads",
                                              elem_id="prediction")
                        seen = gr.Image(label="What model 2 saw (28 × 28)", type="filepath",
                                        height=220, interactive=False, elem_id="seen", elem_classes="pixelated")
                        upload = gr.Image(label="…or upload a picture of a digit", type="filepath",
                                          sources=["upload", "clipboard"], height=200, elem_id="upload")
                style = gr.Image(label="Your style as every digit (model 1, z from its encoder)", type="filepath",
                                 interactive=False, elem_id="style", elem_classes="pixelated")

            with gr.Tab("Train", id="train") as train_tab:
                gr.Markdown(TRAIN_HELP)
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
                in_use = gr.Markdown(session_summary(None), elem_id="in-use")

        with gr.Column(visible=False):  # inputs and outputs of the API endpoints; not part of the page
            api_digit = gr.Number(3, label="digit")
            api_z = gr.Textbox("", label="z")
            api_size = gr.Number(h.DEFAULT_SIZE, label="size")
            api_seed = gr.Number(0, label="seed")
            api_n = gr.Number(h.GRID_SAMPLES, label="n")
            api_picture = gr.Image(label="picture", type="filepath")
            api_image = gr.Image(label="image", type="filepath")
            api_label = gr.Label(label="label")
            api_seen = gr.Image(label="seen", type="filepath")
            api_model = gr.Textbox("generator", label="model")
            api_epochs = gr.Number(DEFAULTS["epochs"], label="epochs")
            api_batch_size = gr.Number(DEFAULTS["batch_size"], label="batch_size")
            api_lr = gr.Number(DEFAULTS["lr"], label="lr")
            api_train_size = gr.Number(DEFAULTS["train_size"], label="train_size")
            api_metrics = gr.JSON(label="metrics")
            api_models = gr.JSON(label="models")

        # Generate: the picture follows the sliders while they move.
        for slider in sliders:
            slider.input(redraw, [session, digit, *sliders], [picture, strip], **live, **raw)
        digit.change(redraw, [session, digit, *sliders], [picture, strip], **live, **raw)
        digit.change(new_grid, [session, digit], grid, **live, **raw)
        random_button.click(random_style, [session, digit], [*sliders, picture, strip], **live, **raw)
        zero_button.click(zero_style, [session, digit], [*sliders, picture, strip], **live, **raw)
        grid_button.click(new_grid, [session, digit], grid, **live, **raw)
        morph_digit_button.click(morph_to_digit, [session, digit, to_digit, *sliders], morph, **live, **raw)
        morph_z_button.click(morph_to_random, [session, digit, *sliders], morph, **live, **raw)

        # Draw: read after every stroke; uploads skip gradio's own decoding so open_image can refuse bad files.
        sketch.change(read_drawing, [session, sketch], [prediction, seen, style], **live)
        clear_button.click(lambda: (None, h.BLANK_MESSAGE, None, None), None, [sketch, prediction, seen, style],
                           **private)
        upload.upload(read_uploaded, [session, upload], [prediction, seen, style], preprocess=False, **private)

        # Train: one training at a time per server (the "training" concurrency group); Stop is never queued
        # behind it.
        train_tab.select(train_tab_opened, train_size, [train_size, data_notice], show_progress="minimal",
                         **private)
        (start_button.click(announce, [kind, epochs, batch_size, lr, train_size], progress, concurrency_limit=None,
                            **private)
         .success(train_in_page, [kind, epochs, batch_size, lr, train_size],
                  [progress, loss_plot, preview, history, saved, finished, use_button, save_button],
                  concurrency_limit=1, concurrency_id="training", show_progress="hidden", **private))
        stop_button.click(stop_in_page, None, None, concurrency_limit=None, **private)
        use_button.click(use_in_session, [session, finished], [session, in_use], **private)
        save_button.click(save_in_runs, [finished, run_name], saved, **private)
        reset_button.click(back_to_shipped, None, [session, in_use], **private)

        gr.on([], api_generate, [session, api_digit, api_z, api_size], api_picture, api_name="generate", **raw,
              api_description="Model 1's picture of `digit` (0-9) at latent point `z` (z_dim numbers, comma-"
                              "separated or a JSON list; empty = zeros; clamped to ±3), a `size` x `size` px PNG "
                              f"({h.MIN_SIZE}-{h.MAX_SIZE}).")
        gr.on([], api_classify, [session, api_image], [api_label, api_seen], api_name="classify", preprocess=False,
              api_description="Model 2's reading of a picture of a digit: the ten probabilities, and the 28 x 28 "
                              "image it saw. A blank picture answers 'draw a digit'.")
        gr.on([], api_grid, [session, api_digit, api_seed, api_n], api_picture, api_name="grid", **raw,
              api_description=f"`n` (1-{h.MAX_GRID_SAMPLES}) samples of `digit` (0-9) by model 1, z ~ N(0, I) drawn "
                              f"with `seed` (0-{h.MAX_SEED}): an 8-wide PNG grid, 28 px digits doubled (the page's "
                              "64 samples).")
        gr.on([], api_train, [session, api_model, api_epochs, api_batch_size, api_lr, api_train_size],
              [api_metrics, session], api_name="train", concurrency_limit=1, concurrency_id="training",
              api_description="Train a fresh `model` ('generator' or 'classifier'); returns the run id and the "
                              "per-epoch metrics, and the calling session then uses the trained model.")
        gr.on([], api_session_models, [session], api_models, api_name="session_models",
              api_description="The ids of the models this session uses ('shipped:...' or a run id).")

    demo.queue(**QUEUE_SETTINGS)
    return demo


def launch(demo, host="127.0.0.1", port=7860, **overrides):
    """Serve `demo` with the demo's settings: no share link, clean errors, a file-size limit, no extra paths."""
    limit_threads()
    return demo.launch(server_name=host, server_port=port, theme=THEME, css=CSS, allowed_paths=[],
                       **{**LAUNCH_SETTINGS, **overrides})
