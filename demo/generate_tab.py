"""The Generate tab: pick a digit, drag the style sliders z, and model 1 redraws the digit while you drag; random or
zero z, 64 samples of the digit, the z as all ten digits, morphs, and the section "Explore the latent space"
(demo/explore.py)."""
from collections.abc import Callable
from dataclasses import dataclass

import gradio as gr

from . import explore
from . import handlers as h
from .bound import bound
from .page_files import page_file
from .shared import LIVE, RAW, inference
from .texts import DEFAULT, say, static

SLIDERS_PER_ROW = 4
SLIDERS_SHOWN = 16          # a wider z (the mlp's 64) puts the rest in a closed accordion
CSS = page_file("generate_tab.css")  # the tab's styles: demo/app.py gives them to gradio with the page's own


# ---------------------------------------------------------------------------------------------------------------
# Handlers: each takes the app's demo.shared.Shared (`ctx`) first, then what the page sends

def model(ctx, session):
    return ctx.model_of(session, "generator")


def pictures(ctx, g, digit, z):
    """The big picture and the strip as HTML with the PNGs inline (h.inline_picture): the page shows them from the
    answer itself, without a second request for a file. Both come from one decoder pass of z as every digit,
    batched with the other visitors' redraws waiting at the same moment (ctx.every_digit)."""
    digit = h.check_digit(digit)
    every_digit = ctx.every_digit(g, h.check_z(z, g.z_dim))
    # The pictures' alt texts in English: a slider's event carries no request to tell the visitor's language by.
    return (h.inline_picture(h.enlarge(every_digit[digit], 28), say(DEFAULT, "picture_alt", digit=digit),
                             f"cvae-digit-{digit}.png"),
            h.inline_picture(h.strip_image(every_digit, 1), say(DEFAULT, "z_as_every_digit"), "cvae-digits.png",
                             scale=3))


@inference
def redraw(ctx, session, digit, *z):
    return pictures(ctx, model(ctx, session), digit, z)


def set_z(ctx, session, digit, z):
    return [*z, *redraw(ctx, session, digit, *z)]


@inference
def random_style(ctx, session, digit):
    return set_z(ctx, session, digit, h.random_z(model(ctx, session)))


@inference
def zero_style(ctx, session, digit):
    return set_z(ctx, session, digit, [0.0] * ctx.z_dim)


@inference
def new_grid(ctx, session, digit):
    return ctx.png(h.sample_grid(model(ctx, session), digit))


@inference
def morph_to_digit(ctx, session, digit, to_digit, *z):
    return ctx.png(h.morph_digits(model(ctx, session), z, digit, to_digit))


@inference
def morph_to_random(ctx, session, digit, *z):
    g = model(ctx, session)
    return ctx.png(h.morph_z(g, digit, z, h.random_z(g)))


# ---------------------------------------------------------------------------------------------------------------
# The tab on the page

@dataclass
class Tab:
    """The tab's components that its events read or write, and the section's `refresh_views(event)`
    (demo/explore.py build)."""
    models_line: gr.Markdown
    digit: gr.Radio
    random_button: gr.Button
    zero_button: gr.Button
    sliders: list
    picture: gr.HTML
    strip: gr.HTML
    refresh_views: Callable
    grid: gr.Image
    grid_button: gr.Button
    morph: gr.Image
    to_digit: gr.Dropdown
    morph_digit_button: gr.Button
    morph_z_button: gr.Button


def build(ctx, page):
    """Lay out the tab inside the current gr.Tab and wire its events; `ctx` is the app's demo.shared.Shared, `page`
    the gr.Blocks (its load event opens shared links)."""
    wire(ctx, lay_out(ctx, page))


def slider_rows(sliders, first, last):
    """The sliders of z's dimensions first ... last - 1, SLIDERS_PER_ROW a row, appended to `sliders`."""
    for start in range(first, last, SLIDERS_PER_ROW):
        with gr.Row(elem_classes="z-row"):
            for i in range(start, min(start + SLIDERS_PER_ROW, last)):
                sliders.append(gr.Slider(-h.Z_LIMIT, h.Z_LIMIT, value=0.0, step=0.05, label=f"z{i + 1}",
                                         min_width=120, buttons=[], elem_id=f"z{i + 1}"))


def lay_out(ctx, page):
    """The tab's components, top to bottom, with the section "Explore the latent space" (demo/explore.py: laid out
    and wired between the strip and the samples) -> Tab."""
    z_dim, generator = ctx.z_dim, ctx.generator
    gr.Markdown(static("generate_help"))
    models_line = gr.Markdown(ctx.models_line(None, "generator", lang=None), elem_id="generate-models",
                              elem_classes="models-line")
    with gr.Row(equal_height=False, elem_id="generate-top"):
        with gr.Column(scale=3):
            digit = gr.Radio(list(range(10)), value=3, label=static("digit_y"), elem_id="digit")
            with gr.Row():
                random_button = gr.Button(static("random_z"), variant="primary", elem_id="random-z")
                zero_button = gr.Button(static("zero_z"), elem_id="zero-z")
            sliders = []
            with gr.Group():
                slider_rows(sliders, 0, min(z_dim, SLIDERS_SHOWN))
            if z_dim > SLIDERS_SHOWN:
                with gr.Accordion(static("more_z") + f" (z{SLIDERS_SHOWN + 1}–z{z_dim})", open=False):
                    slider_rows(sliders, SLIDERS_SHOWN, z_dim)
        with gr.Column(scale=2, min_width=300, elem_id="picture-column"):
            first_picture, first_strip = pictures(ctx, generator, 3, [0.0] * z_dim)
            picture = gr.HTML(first_picture, label=static("model1_draws"), show_label=True, container=True,
                              js_on_load=None, elem_id="picture", elem_classes="pixelated")
    strip = gr.HTML(first_strip, label=static("z_as_every_digit"), show_label=True, container=True, js_on_load=None,
                    elem_id="strip", elem_classes="pixelated")
    refresh_views = explore.build(ctx, page, digit, sliders, [picture, strip], bound(redraw, ctx))
    with gr.Row(equal_height=False):
        with gr.Column():
            grid = gr.Image(ctx.png(h.sample_grid(generator, 3, seed=0)), label=static("samples_64"),
                            type="filepath", height=470, interactive=False, buttons=["download"], elem_id="grid",
                            elem_classes=["pixelated", "label-above"])
            grid_button = gr.Button(static("new_samples"))
        with gr.Column():
            morph = gr.Image(ctx.png(h.morph_digits(generator, [0.0] * z_dim, 3, 8)), label=static("morph_frames"),
                             type="filepath", interactive=False, buttons=["download"], elem_id="morph",
                             elem_classes=["pixelated", "label-above"])
            to_digit = gr.Dropdown(list(range(10)), value=8, label=static("morph_into"))
            with gr.Row():
                morph_digit_button = gr.Button(static("morph_digit"))
                morph_z_button = gr.Button(static("morph_z"))
    return Tab(models_line, digit, random_button, zero_button, sliders, picture, strip, refresh_views, grid,
               grid_button, morph, to_digit, morph_digit_button, morph_z_button)


def wire(ctx, tab):
    """The tab's events, in the order the page's config lists them (the benchmarks and tests look them up so)."""
    session, digit, sliders, pictures_shown = ctx.session, tab.digit, tab.sliders, [tab.picture, tab.strip]
    # The picture follows the sliders while they move. These redraws are cheap and keep nothing: sent straight to
    # the handler (queue=False: one POST, not the queue's join and event stream).
    for slider in sliders:
        slider.input(bound(redraw, ctx), [session, digit, *sliders], pictures_shown, queue=False, **LIVE, **RAW)
    digit.change(bound(redraw, ctx), [session, digit, *sliders], pictures_shown, queue=False, **LIVE, **RAW)
    digit.change(bound(new_grid, ctx), [session, digit], tab.grid, **LIVE, **RAW)
    tab.refresh_views(tab.random_button.click(bound(random_style, ctx), [session, digit],
                                              [*sliders, *pictures_shown], queue=False, **LIVE, **RAW))
    tab.refresh_views(tab.zero_button.click(bound(zero_style, ctx), [session, digit], [*sliders, *pictures_shown],
                                            queue=False, **LIVE, **RAW))
    tab.grid_button.click(bound(new_grid, ctx), [session, digit], tab.grid, **LIVE, **RAW)
    tab.morph_digit_button.click(bound(morph_to_digit, ctx), [session, digit, tab.to_digit, *sliders], tab.morph,
                                 **LIVE, **RAW)
    tab.morph_z_button.click(bound(morph_to_random, ctx), [session, digit, *sliders], tab.morph, **LIVE, **RAW)
    ctx.on_model_change(bound(follow_model_change, ctx, tab))


def follow_model_change(ctx, tab, event):
    """After "Use in this session" / "Use the shipped models" (Train tab): what the visitor sees is redrawn at once
    by the model now in use, and the tab says which one it is."""
    session, inputs = ctx.session, [ctx.session, tab.digit, *tab.sliders]
    redrawn = event.success(bound(redraw, ctx), inputs, [tab.picture, tab.strip], queue=False, **LIVE, **RAW)
    tab.refresh_views(redrawn)
    redrawn.success(bound(new_grid, ctx), [session, tab.digit], tab.grid, **LIVE, **RAW)
    event.success(ctx.models_line_handler("generator"), session, tab.models_line, queue=False, **LIVE)
