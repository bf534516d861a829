"""The Generate tab: pick a digit, drag the style sliders z, and model 1 redraws the digit while you drag; random or
zero z, 64 samples of the digit, the z as all ten digits, morphs, and the section "Explore the latent space"
(demo/explore.py)."""
import gradio as gr

from . import explore
from . import handlers as h
from .shared import LIVE, RAW, inference
from .texts import static

SLIDERS_PER_ROW = 4
SLIDERS_SHOWN = 16          # a wider z (the mlp's 64) puts the rest in a closed accordion


def build(ctx, page):
    """Lay out the tab inside the current gr.Tab and wire its events; `ctx` is the app's demo.shared.Shared, `page`
    the gr.Blocks (its load event opens shared links)."""
    png, z_dim, generator = ctx.png, ctx.z_dim, ctx.generator

    def model(session):
        return ctx.model_of(session, "generator")

    def pictures(g, digit, z):
        """The big picture and the strip as HTML with the PNGs inline (h.inline_picture): the page shows them from
        the answer itself, without a second request for a file. Both come from one decoder pass of z as every
        digit, batched with the other visitors' redraws waiting at the same moment (ctx.every_digit)."""
        digit = h.check_digit(digit)
        every_digit = ctx.every_digit(g, h.check_z(z, g.z_dim))
        return (h.inline_picture(h.enlarge(every_digit[digit], 28), f"Model 1's {digit}", f"cvae-digit-{digit}.png"),
                h.inline_picture(h.strip_image(every_digit, 1), "This z as every digit", "cvae-digits.png", scale=3))

    @inference
    def redraw(session, digit, *z):
        return pictures(model(session), digit, z)

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

            def slider_rows(first, last):
                for start in range(first, last, SLIDERS_PER_ROW):
                    with gr.Row(elem_classes="z-row"):
                        for i in range(start, min(start + SLIDERS_PER_ROW, last)):
                            sliders.append(gr.Slider(-h.Z_LIMIT, h.Z_LIMIT, value=0.0, step=0.05,
                                                     label=f"z{i + 1}", min_width=120, buttons=[],
                                                     elem_id=f"z{i + 1}"))

            with gr.Group():
                slider_rows(0, min(z_dim, SLIDERS_SHOWN))
            if z_dim > SLIDERS_SHOWN:
                with gr.Accordion(static("more_z") + f" (z{SLIDERS_SHOWN + 1}–z{z_dim})", open=False):
                    slider_rows(SLIDERS_SHOWN, z_dim)
        with gr.Column(scale=2, min_width=300, elem_id="picture-column"):
            first_picture, first_strip = pictures(generator, 3, [0.0] * z_dim)
            picture = gr.HTML(first_picture, label=static("model1_draws"), show_label=True, container=True,
                              js_on_load=None, elem_id="picture", elem_classes="pixelated")
    strip = gr.HTML(first_strip, label=static("z_as_every_digit"), show_label=True, container=True, js_on_load=None,
                    elem_id="strip", elem_classes="pixelated")
    refresh_views = explore.build(ctx, page, digit, sliders, [picture, strip], redraw)
    with gr.Row(equal_height=False):
        with gr.Column():
            grid = gr.Image(png(h.sample_grid(generator, 3, seed=0)), label=static("samples_64"), type="filepath",
                            height=470,
                            interactive=False, buttons=["download"], elem_id="grid",
                            elem_classes=["pixelated", "label-above"])
            grid_button = gr.Button(static("new_samples"))
        with gr.Column():
            morph = gr.Image(png(h.morph_digits(generator, [0.0] * z_dim, 3, 8)),
                             label=static("morph_frames"), type="filepath", interactive=False,
                             buttons=["download"],
                             elem_id="morph", elem_classes=["pixelated", "label-above"])
            to_digit = gr.Dropdown(list(range(10)), value=8, label=static("morph_into"))
            with gr.Row():
                morph_digit_button = gr.Button(static("morph_digit"))
                morph_z_button = gr.Button(static("morph_z"))

    # The picture follows the sliders while they move. These redraws are cheap and keep nothing: sent straight to
    # the handler (queue=False: one POST, not the queue's join and event stream).
    session = ctx.session
    for slider in sliders:
        slider.input(redraw, [session, digit, *sliders], [picture, strip], queue=False, **LIVE, **RAW)
    digit.change(redraw, [session, digit, *sliders], [picture, strip], queue=False, **LIVE, **RAW)
    digit.change(new_grid, [session, digit], grid, **LIVE, **RAW)
    refresh_views(random_button.click(random_style, [session, digit], [*sliders, picture, strip], queue=False,
                                      **LIVE, **RAW))
    refresh_views(zero_button.click(zero_style, [session, digit], [*sliders, picture, strip], queue=False,
                                    **LIVE, **RAW))
    grid_button.click(new_grid, [session, digit], grid, **LIVE, **RAW)
    morph_digit_button.click(morph_to_digit, [session, digit, to_digit, *sliders], morph, **LIVE, **RAW)
    morph_z_button.click(morph_to_random, [session, digit, *sliders], morph, **LIVE, **RAW)

    # "Use in this session" / "Use the shipped models" (Train tab): what the visitor sees is redrawn at once by the
    # model now in use, and the tab says which one it is.
    def follow_model_change(event):
        redrawn = event.success(redraw, [session, digit, *sliders], [picture, strip], queue=False, **LIVE, **RAW)
        refresh_views(redrawn)
        redrawn.success(new_grid, [session, digit], grid, **LIVE, **RAW)
        event.success(ctx.models_line_handler("generator"), session, models_line, queue=False, **LIVE)
    ctx.on_model_change(follow_model_change)
