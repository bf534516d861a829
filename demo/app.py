"""The page: the tabs (Generate, Draw, Train), each laid out and wired in a module of its own (demo/*_tab.py), and
the named API endpoints (demo/api.py), assembled in `build_app`; `launch` serves it with the demo's settings."""
import gc
import os

# gradio's queue keeps a record of every event for its monitoring page (which this app does not open) and, after
# each event, summarises all of them in a pandas DataFrame: up to 10,000 records per request, a cost and a memory
# that grow with the server's uptime. Read when the queue is made (demo.queue() in build_app); a deployment may
# still set them.
os.environ.setdefault("GRADIO_ANALYTICS_MAX_EVENTS", "200")
os.environ.setdefault("GRADIO_ANALYTICS_CACHE_FREQUENCY", "1000")

import gradio as gr  # noqa: E402
from starlette.middleware import Middleware  # noqa: E402

from cvae.weights import WEIGHTS_DIR, load_weights  # noqa: E402

from . import api, draw_tab, generate_tab, model_tab, train_tab  # noqa: E402
from .texts import EN, EVERY_LANGUAGE_CSS, I18N, JA, static  # noqa: E402
from .body_limit import BodyLimit  # noqa: E402
from .page_files import page_file  # noqa: E402
from .page_language import PageLanguage  # noqa: E402
from .shared import Session, Shared  # noqa: E402
from .training import TrainingRunner, limit_threads  # noqa: E402

LAUNCH_SETTINGS = {
    "max_file_size": "10mb",
    "share": False,
    "show_error": False,         # only gr.Error messages reach the visitor, never a traceback
    "footer_links": ["api"],
    "run_history": False,
    # gradio keeps a copy of the page's configuration for every session (each gradio_client Client and each page
    # load is one) until this many newer ones push it out: at its default of 10,000, gigabytes of the server's
    # memory (docs/speed.md, "Figures behind the code's choices").
    "state_session_capacity": 1000,
}
QUEUE_SETTINGS = {"default_concurrency_limit": 4, "max_size": 64}
SESSION_TTL_S = 3 * 3600    # a visitor's Session (their models, their drawing) is dropped after this long unchanged
# Every picture the app sends is a file of its own in gradio's cache (demo/pictures.py); gradio deletes the app's
# files older than 10 minutes, every minute (the page fetches a picture at once; the download button within that).
DELETE_CACHE = (60, 600)
# The default theme's font as gradio ships it (the page loads nothing from outside), but regular and bold only:
# the semibold file that gradio ships is a small subset, and headings set in it lose letters ("VAE" -> "V?E").
THEME = gr.themes.Default(primary_hue="indigo", secondary_hue="slate", radius_size="md",
                          font=[gr.themes.LocalFont("Source Sans Pro", weights=(400, 700)), "ui-sans-serif",
                                "system-ui", "sans-serif"])
# The page's own styles and the Generate tab's (gradio takes a page's stylesheet at launch, below).
CSS = page_file("app.css") + generate_tab.CSS


def load_shipped(folder=WEIGHTS_DIR, device="cpu"):
    """The two shipped models; raises cvae.weights.WeightsError naming the file and the fault."""
    return load_weights(folder, "generator", device), load_weights(folder, "classifier", device)


def language_switch():
    """The page's language switch (demo/language.js): links that reopen the page with ?lang= (the languages' own
    names). The page's title in each language reaches the HTML by placeholders (demo/page_files.py)."""
    return gr.HTML(None, html_template=page_file("language.html", title_en=EN["page_title"],
                                                 title_ja=JA["page_title"]),
                   css_template=page_file("language.css"), apply_default_css=False,
                   js_on_load=page_file("language.js"), elem_id="language")


def build_app(generator, classifier, runner=None, runs_dir="runs", shipped_dir=WEIGHTS_DIR):
    """The whole page: the tabs, each laid out and wired in its own module, and the API endpoints.
    `generator` and `classifier` are the shipped models; `runner` the server's training slot (made here when not
    given); trained runs are saved under `runs_dir`."""
    runner = runner or TrainingRunner(generator.device, templates={"generator": generator,
                                                                   "classifier": classifier})
    ctx = Shared(generator, classifier, runner)
    with gr.Blocks(title=EN["page_title"], delete_cache=DELETE_CACHE, analytics_enabled=False) as demo:
        ctx.session = gr.State(Session(), time_to_live=SESSION_TTL_S)
        language_switch()
        gr.Markdown(static("intro"), elem_id="title")
        with gr.Tabs():
            with gr.Tab(static("tab_generate"), id="generate"):
                generate_tab.build(ctx, demo)
            with gr.Tab(static("tab_draw"), id="draw"):
                draw_tab.build(ctx)
            with gr.Tab(static("tab_train"), id="train") as train:
                train_tab.build(ctx, train, runs_dir, shipped_dir)
            with gr.Tab(static("tab_model"), id="model") as model:
                model_tab.build(ctx, model)
        api.build(ctx)
    demo.queue(**QUEUE_SETTINGS)
    return demo


def launch(demo, host="127.0.0.1", port=7860, **overrides):
    """Serve `demo` with the demo's settings: no share link, clean errors, a file-size limit, a cap on the body of
    every other request (demo/body_limit.py), no extra paths; and the objects made so far out of the cyclic
    garbage collector's way."""
    limit_threads()
    # torch, gradio and the models are hundreds of thousands of objects that live as long as the server. Python's
    # full collection walked them all with the GIL held, every visitor waiting; a request that makes many objects
    # (a large drawing is tens of thousands of lists) set one off every other time, and took many times as long
    # for it (docs/speed.md). Frozen, they are never walked again.
    gc.collect()
    gc.freeze()
    app_kwargs = {"middleware": [Middleware(BodyLimit), Middleware(PageLanguage)]}  # a fresh dict: gradio adds to it
    return demo.launch(server_name=host, server_port=port, theme=THEME, css=CSS + EVERY_LANGUAGE_CSS,
                       allowed_paths=[], i18n=I18N, app_kwargs=app_kwargs, **{**LAUNCH_SETTINGS, **overrides})
