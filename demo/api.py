"""The named API endpoints for gradio_client: /generate, /classify, /grid, /elbo_terms, /train, /session_models. Their inputs
and outputs are hidden components; each endpoint calls the same handlers as the page."""
import dataclasses

import gradio as gr

from . import elbo_panel
from . import handlers as h
from .bound import bound
from .shared import KINDS, RAW, inference
from .training import (BUDGETS, DEFAULTS, START_FROM, START_LABELS, TRAINING_EVENTS, TrainingSettings,
                       default_settings, start_model)


@inference
def generate(ctx, session, digit, z, size):
    g = ctx.model_of(session, "generator")
    return ctx.png(h.generate_picture(g, digit, h.parse_z_text(z, g.z_dim), h.DEFAULT_SIZE if size is None else size))


@inference
def classify(ctx, session, image):
    label, seen = h.classify(ctx.model_of(session, "classifier"), h.read_upload(h.upload_path(image)))
    return label, ctx.png(seen)


@inference
def grid(ctx, session, digit, seed, n):
    return ctx.png(h.sample_grid(ctx.model_of(session, "generator"), digit, h.GRID_SAMPLES if n is None else n,
                                 0 if seed is None else seed))


@inference
def elbo_terms(ctx, session, image, digit, model):
    """/elbo_terms: the two terms of -ELBO for an uploaded picture and a digit, as JSON (demo/elbo_panel.py)."""
    kind = model or "generator"
    if not isinstance(kind, str) or kind not in KINDS:
        raise h.InputError.of("model_kind", kinds=", ".join(KINDS), value=repr(model))
    return elbo_panel.terms_json(ctx.model_of(session, kind), h.read_upload(h.upload_path(image)), digit)


def one_training_each(runner, request: gr.Request, *inputs):
    """/train's validator, run as a request joins the queue: one training request per visitor. gradio gives it the
    request first (where its annotated parameter is), then /train's inputs, which it lets through as they are."""
    runner.reserve(request.session_hash)
    return [gr.skip()] * len(inputs)  # one answer per input, each "valid", and the session's state left as it is


def train(ctx, session, model, budget, epochs, batch_size, lr, train_size, start, request: gr.Request):
    """/train, given its inputs' values as gradio passes them. The page's defaults fill in what is left out (None, 0
    or ""): the short run of the model asked for."""
    try:
        asked = TrainingSettings(model, budget, epochs, batch_size, lr, train_size, start)
        yield from train_run(ctx, session, asked, request.session_hash)
    finally:  # a request refused before it waited in line gives its visitor's reservation back
        ctx.runner.release(request.session_hash)


def with_defaults(asked, shipped, available):
    """The settings /train was sent, what it left out (None, 0 or "") taken from the page's defaults for the model
    asked for (the generator's, for a model that is none of `shipped`'s kinds), and all `available` images."""
    known = isinstance(asked.kind, str) and asked.kind in shipped
    d = dataclasses.replace(default_settings(asked.kind if known else "generator"), train_size=available)
    given = {name: getattr(asked, name) for name in ("budget", "epochs", "batch_size", "lr", "train_size", "start")}
    return dataclasses.replace(asked, **{name: getattr(d, name) if v is None or v == 0 or v == "" else v
                                         for name, v in given.items()})


def train_run(ctx, session, asked, owner):
    """Train as `asked` (TrainingSettings as sent) for `owner`: frames of the place in line, then of the progress,
    then the run's result and the session's models, which now use the trained one."""
    runner = ctx.runner
    available = len(runner.data().x_train)
    settings = with_defaults(asked, ctx.shipped, available).checked(available)
    init = start_model(settings.start, settings.kind, ctx.shipped, session)
    job = yield from runner.line_up(settings, owner, init,
                                    show=lambda place, left: ({"status": "waiting", "place": place,
                                                               "seconds_left": left}, gr.skip()))
    # Each frame sent marks the job as watched: once the client has gone, gradio asks for no more, and the
    # job stops by itself (training.ABANDONED_AFTER_S).
    while not job.wait(0.5):
        job.touch()
        yield {"status": job.status, "run_id": job.run_id, "progress": job.progress()}, gr.skip()
    if job.model is None:
        raise h.InputError(f"Training {job.status}" + (f": {job.error}" if job.error else "."))
    session.yours = job.model
    yield job.result(), session.use(job.model)


def session_models(ctx, session):
    return ctx.model_ids(session)


def build(ctx):
    """Add the endpoints to the current gr.Blocks; `ctx` is the app's demo.shared.Shared."""
    state = ctx.session  # the gr.State of each visitor's Session
    with gr.Column(visible=False):  # inputs and outputs of the API endpoints; not part of the page
        digit = gr.Number(3, label="digit")
        z = gr.Textbox("", label="z")
        size = gr.Number(h.DEFAULT_SIZE, label="size")
        seed = gr.Number(0, label="seed")
        n = gr.Number(h.GRID_SAMPLES, label="n")
        picture = gr.Image(label="picture", type="filepath")
        image = gr.Image(label="image", type="filepath")
        label = gr.Label(label="label")
        seen = gr.Image(label="seen", type="filepath")
        model = gr.Textbox("generator", label="model")
        # 0 or "": the page's default (for the model asked for), so that /train given only the model runs it
        budget = gr.Textbox("", label="budget")
        epochs = gr.Number(0, label="epochs")
        batch_size = gr.Number(0, label="batch_size")
        lr = gr.Number(0, label="lr")
        train_size = gr.Number(0, label="train_size")
        start = gr.Textbox("", label="start")
        metrics = gr.JSON(label="metrics")
        models = gr.JSON(label="models")

    gr.on([], bound(generate, ctx), [state, digit, z, size], picture, api_name="generate", **RAW,
          api_description="Model 1's picture of `digit` (0-9) at latent point `z` (z_dim numbers, comma-"
                          "separated or a JSON list; empty = zeros; clamped to ±3), a `size` x `size` px PNG "
                          f"({h.MIN_SIZE}-{h.MAX_SIZE}).")
    gr.on([], bound(classify, ctx), [state, image], [label, seen], api_name="classify", preprocess=False,
          api_description="Model 2's reading of a picture of a digit: the ten probabilities, and the 28 x 28 "
                          "image it saw. A blank picture answers 'draw a digit'.")
    gr.on([], bound(grid, ctx), [state, digit, seed, n], picture, api_name="grid", **RAW,
          api_description=f"`n` (1-{h.MAX_GRID_SAMPLES}) samples of `digit` (0-9) by model 1, z ~ N(0, I) drawn "
                          f"with `seed` (0-{h.MAX_SEED}): an 8-wide PNG grid, 28 px digits doubled (the page's "
                          "64 samples).")
    gr.on([], bound(train, ctx), [state, model, budget, epochs, batch_size, lr, train_size, start], [metrics, state],
          api_name="train", validator=bound(one_training_each, ctx.runner), **TRAINING_EVENTS, **RAW,
          api_description="Train `model` ('generator' or 'classifier') as the Train tab does; every other "
                          "argument may be left out (or 0, or empty) for the page's default: `budget` one of "
                          f"{', '.join(repr(b) for b in BUDGETS)} (default {DEFAULTS['budget']!r}), `epochs` (for "
                          "the budget 'until N epochs'), `batch_size`, `lr` (the peak learning rate), `train_size` "
                          f"(training images), `start` one of {', '.join(repr(s) for s in START_FROM)} (or "
                          f"{', '.join(repr(s) for s in START_LABELS.values())}). Returns the "
                          "run id, its settings, progress and test figures; the calling session then uses the "
                          "trained model.")
    gr.on([], bound(session_models, ctx), [state], models, api_name="session_models",
          api_description="The ids of the models this session uses ('shipped:...' or a run id).")
    gr.on([], bound(elbo_terms, ctx), [state, image, digit, model], metrics, api_name="elbo_terms", preprocess=False,
          api_description="The two terms of the loss for a picture read as `digit` (0-9) by `model` ('generator', "
                          "the default, or 'classifier'): {neg_elbo, reconstruction (-E_q[log p(x|z,y)], or "
                          "-E_q[log p(y|x,z)] for the classifier), kl, kl_per_dim, z_mean, z_std (q(z|x,y)), digit, "
                          "share_above (the share of MNIST's test digits of that digit with a higher -ELBO)}, in "
                          "nats. A blank picture, one that is not an image, or a digit out of 0-9 is refused.")
