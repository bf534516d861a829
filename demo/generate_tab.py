"""The Generate tab: pick a digit, drag the style sliders z, and model 1 redraws the digit while you drag; random or
zero z, 64 samples of the digit, the z as all ten digits, and morphs."""
import gradio as gr

from . import handlers as h
from .shared import LIVE, RAW, inference

SLIDERS_PER_ROW = 4
SLIDERS_SHOWN = 16          # a wider z (the mlp's 64) puts the rest in a closed accordion
HELP = """Pick a digit, then drag the sliders: each is one dimension of the style **z**, and the
picture is redrawn as you drag. The digit never changes — z only carries the *style* (slant, thickness, width)."""


def build(ctx):
    """Lay out the tab inside the current gr.Tab and wire its events; `ctx` is the app's demo.shared.Shared."""
    png, z_dim, generator = ctx.png, ctx.z_dim, ctx.generator

    def model(session):
        return ctx.model_of(session, "generator")

    @inference
    def redraw(session, digit, *z):
        g = model(session)
        return png(h.generate_picture(g, digit, z)), png(h.digits_strip(g, z))

    def set_z(session, digit, z):
        return [*z, *redraw(session, digit, *z)]

    @inference
    def random_style(session, digit):
        return set_z(session, digit, h.random_z(model(session)))

    @inference
    def zero_style(session, digit):
        return set_z(session, digit, [0.0] * z_dim)

    @inference
    def new_grid(session, digit):
        return png(h.sample_grid(model(session), digit))

    @inference
    def morph_to_digit(session, digit, to_digit, *z):
        return png(h.morph_digits(model(session), z, digit, to_digit))

    @inference
    def morph_to_random(session, digit, *z):
        g = model(session)
        return png(h.morph_z(g, digit, z, h.random_z(g)))

    gr.Markdown(HELP)
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

    # The picture follows the sliders while they move.
    session = ctx.session
    for slider in sliders:
        slider.input(redraw, [session, digit, *sliders], [picture, strip], **LIVE, **RAW)
    digit.change(redraw, [session, digit, *sliders], [picture, strip], **LIVE, **RAW)
    digit.change(new_grid, [session, digit], grid, **LIVE, **RAW)
    random_button.click(random_style, [session, digit], [*sliders, picture, strip], **LIVE, **RAW)
    zero_button.click(zero_style, [session, digit], [*sliders, picture, strip], **LIVE, **RAW)
    grid_button.click(new_grid, [session, digit], grid, **LIVE, **RAW)
    morph_digit_button.click(morph_to_digit, [session, digit, to_digit, *sliders], morph, **LIVE, **RAW)
    morph_z_button.click(morph_to_random, [session, digit, *sliders], morph, **LIVE, **RAW)
