"""The Draw tab: draw a digit (or upload a picture of one) and model 2 names it; model 1's encoder takes its style
and draws it as all ten digits."""
import gradio as gr

from . import handlers as h
from .shared import LIVE, PRIVATE, inference

HELP = """Draw a digit with the mouse (pick the **Brush** first). Model 2 reads it after every stroke; the
box on the right shows the 28 × 28 picture it actually saw. Below, model 1's encoder turns your drawing into a
style z and redraws it as all ten digits."""


def build(ctx):
    """Lay out the tab inside the current gr.Tab and wire its events; `ctx` is the app's demo.shared.Shared."""
    png = ctx.png

    @inference
    def read(session, image):
        """-> the label, the 28 x 28 picture model 2 saw, the style strip, and that 28 x 28 tensor (kept in
        ctx.last_drawing for the other tabs)."""
        x = h.to_model_input(image)
        label, seen, style = h.read_digit(ctx.model_of(session, "classifier"), ctx.model_of(session, "generator"), x)
        return label, png(seen), png(style), x

    def read_drawing(session, sketch):
        return read(session, sketch)

    def read_uploaded(session, upload):
        return read(session, h.read_upload(h.upload_path(upload)))

    gr.Markdown(HELP)
    with gr.Row(equal_height=False):
        with gr.Column(scale=3):
            # PIL, not numpy: cvae's preprocessing shrinks a PIL canvas in C (Image.reduce), 6 ms for
            # 800 x 800, against 44 ms for the same canvas as a float64 array, with the same 28 x 28.
            sketch = gr.Sketchpad(label="Your digit", type="pil", image_mode="RGBA",
                                  canvas_size=(800, 800), height=560, layers=False, transforms=(),
                                  brush=gr.Brush(default_size=28, colors=["#000000"], color_mode="fixed"),
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

    # Read after every stroke; uploads skip gradio's own decoding so open_image can refuse bad files.
    session = ctx.session
    outputs = [prediction, seen, style, ctx.last_drawing]
    sketch.change(read_drawing, [session, sketch], outputs, **LIVE)
    clear_button.click(lambda: (None, h.BLANK_MESSAGE, None, None), None, [sketch, prediction, seen, style],
                       **PRIVATE)
    upload.upload(read_uploaded, [session, upload], outputs, preprocess=False, **PRIVATE)
