"""The Draw tab: draw a digit (or upload a picture of one) and model 2 names it; model 1's encoder takes its style
and draws it as all ten digits.

The pad is a plain canvas of our own (demo/sketchpad.js in a gr.HTML), not gradio's Sketchpad: it is ready to draw
on load with a mouse, a finger or a pen, and it sends each change as its strokes (one short text) straight to
the server (`queue=False`: one POST, no queue round), so that the answer follows the stroke at once (its figures:
docs/speed.md). The answer is one piece of HTML with its pictures inline (no second request per picture) that names
the drawing it is about; demo/reading.js hides it whenever the pad holds a newer drawing. The pad's and the answer's
HTML, styles and scripts are files beside this one (demo/draw_tab_*.html, .css, .js).
"""
import asyncio
import html
import math
import re
from dataclasses import dataclass

import anyio
import gradio as gr
import numpy as np

from cvae.drawn_digits import render_strokes

from . import elbo_panel
from . import handlers as h
from .bound import bound
from .page_files import page_file
from .shared import PRIVATE, OneAtATime, inference
from .texts import DEFAULT, for_script, in_every_language, language_of, say, static

PAD_SIZE = 560              # the canvas's own pixels (it is scaled to fit the page)
RENDER_SIZE = 280           # the server draws the strokes at this size: plenty for a 28 x 28 answer
# What a drawing may be. The cost of drawing it must stay small whatever its numbers (it is read outside the queue,
# after every stroke): the pad's brush is taken in the pad's own pixels and the pad must be a pad (a 1-pixel pad
# once scaled a 200 px brush up 280 times, and one drawing held the CPU far longer than any visitor waits:
# docs/speed.md); the rendered brush is capped (wider is a blot, not a pen, and its cost grows with its area);
# points closer together than a quarter of the brush are not drawn (see drawing_of); and the total length of ink is
# capped (a digit is a few times across the pad).
# A digit drawn with a mouse is a few hundred points (the pad keeps one every 3 px: 2,000 are 11 pad widths of ink).
MAX_STROKES, MAX_POINTS = 200, 2_000
# The strokes come as one text, "x,y x,y ...;x,y ..." (whole pad pixels; ";" between strokes), not as lists of
# numbers: a body is parsed, and gradio walks through every value in it, on the server's event loop before any
# handler runs, and a client sending the largest drawing as numbers again and again slowed every other visitor's
# slider (docs/speed.md); one string is parsed at the speed of a copy. Its length is checked before anything else
# looks at it. See also demo/body_limit.py.
POINT = r"-?[0-9]{1,5},-?[0-9]{1,5}"  # ASCII digits only (\d takes every script's)
STROKE = re.compile(rf"{POINT}(?: {POINT})*")
MAX_STROKES_CHARS = MAX_POINTS * len("-99999,-99999 ") + MAX_STROKES
PAD_SIDES = (28, 4096)      # each side of the pad, in its own pixels (the page's is PAD_SIZE)
MAX_BRUSH = 200             # the brush's width, in the pad's pixels (the page's is 22)
MAX_RENDER_BRUSH = RENDER_SIZE / 8  # 35 px drawn (70 px on the page's 560 px pad): a wider one is drawn so
MAX_INK = 20 * RENDER_SIZE  # the strokes' total length, in rendered px: 20 times across the pad
MAX_SEQ = 2 ** 53           # the page's change counter (a JavaScript number)
# A drawing sent while the same visitor's last one is still being read (the page never does: one in flight) is
# answered with nothing after this pause: each costs the server its body's parse, and a client sending them
# back-to-back on several connections would otherwise take the event loop from everyone.
TURNED_AWAY_AFTER_S = 2.0
RENDER_SUPERSAMPLE = 2      # anti-aliasing: the 28 x 28 picture model 2 sees is made by area averaging anyway
# The pad's HTML and its stylesheet; PAD_SIZE and the buttons' words in every language reach the HTML by
# placeholders (demo/page_files.py).
PAD_HTML = page_file("draw_tab_pad.html", pad_size=PAD_SIZE, pad_undo=in_every_language("pad_undo"),
                     pad_redo=in_every_language("pad_redo"), clear=in_every_language("clear"),
                     **{key: html.escape(say(DEFAULT, key), quote=True) for key in
                        ("pad_label", "pad_undo_title", "pad_redo_title", "pad_clear_title", "pad_answer_title")})
PAD_CSS = page_file("draw_tab_pad.css")
READING_CSS = page_file("draw_tab_reading.css")
# The pad's script: its tooltips and its name for screen readers in the page's language (set as the pad is shown),
# then demo/sketchpad.js.
PAD_JS = (for_script("pad_label", "pad_undo_title", "pad_redo_title", "pad_clear_title", "pad_answer_title")
          + page_file("draw_tab_pad.js") + page_file("sketchpad.js"))
# The answer's script: the words it shows (the one over a stale answer too), then demo/reading.js.
READING_JS = (for_script("reading_wait", "badge_model2", "badge_guess") + page_file("draw_tab_reading.js")
              + page_file("reading.js"))
UPLOAD_JS = page_file("draw_tab_upload.js")  # an upload replaces the drawing on the pad
# The answer before any drawing, as the page is laid out (the same for every visitor): in every language.
FIRST_READING = ('<div class="reading" data-about="0"><p class="headline every-language" id="message">'
                 f'{in_every_language("draw_a_digit")}</p></div>')


# ---------------------------------------------------------------------------------------------------------------
# Handlers: small functions, tested without a browser (tests/test_draw_tab.py)

def drawing_of(value):
    """The pad's value -> (about, image): `about` names the drawing (its seq), `image` is the strokes drawn as ink
    on black at RENDER_SIZE (PIL "L"), or None when the pad is empty. Anything that is not a drawing, or more than
    the limits above allow -> InputError saying why. Its cost is bounded whatever its numbers (see the limits)."""
    if not isinstance(value, dict):
        if value in (None, ""):
            return "0", None
        raise h.InputError.of("not_a_drawing")
    seq, size, brush, strokes = (value.get(k) for k in ("seq", "size", "brush", "strokes"))

    def refuse_unless(ok, *reason):
        """`reason`: a key of demo/texts.py and its values."""
        if not ok:
            raise (h.InputError.of("not_a_drawing_because", reason=reason) if reason
                   else h.InputError.of("not_a_drawing"))

    refuse_unless(isinstance(seq, int) and not isinstance(seq, bool) and 0 <= seq <= MAX_SEQ)
    refuse_unless(isinstance(size, list) and len(size) == 2 and all(map(_number, size))
                  and all(PAD_SIDES[0] <= s <= PAD_SIDES[1] for s in size),
                  "drawing_pad_sides", {"low": PAD_SIDES[0], "high": PAD_SIDES[1]})
    refuse_unless(_number(brush) and 0 < brush <= MAX_BRUSH, "drawing_brush", {"brush": MAX_BRUSH})
    points, counts = _strokes(strokes, refuse_unless)
    if not len(points):
        return str(seq), None
    scale = RENDER_SIZE / max(size)
    brush = min(brush * scale, MAX_RENDER_BRUSH)
    # All strokes at once: the length of ink along them (none between strokes), and of each stroke only the points
    # where it has gone on by a quarter of the brush (or a pixel) since the last one drawn, and its two ends: the
    # ones between change the ink's outline by less than a pixel (the round brush covers them), and each point
    # drawn costs a dot of the brush's area.
    ends = np.cumsum(counts)
    starts = ends - counts
    p = np.clip(points, 0, size) * scale
    steps = np.hypot(*np.diff(p, axis=0).T)
    steps[ends[:-1] - 1] = 0.0
    along = np.concatenate([[0.0], np.cumsum(steps)])
    refuse_unless(along[-1] <= MAX_INK, "drawing_ink", {"times": MAX_INK // RENDER_SIZE})
    keep = np.diff(np.floor(along / max(1.0, brush / 4)), prepend=-1.0) > 0
    keep[starts] = keep[ends - 1] = True
    drawn = [p[a:b][keep[a:b]] for a, b in zip(starts, ends)]
    width, height = (max(1, round(v * scale)) for v in size)
    return str(seq), render_strokes(drawn, (width, height), brush, supersample=RENDER_SUPERSAMPLE)


def _number(v):
    """A finite int or float (JSON's 1e400 is read as inf; an integer of 400 digits overflows a float)."""
    if not isinstance(v, (int, float)) or isinstance(v, bool):
        return False
    try:
        return math.isfinite(v)
    except OverflowError:
        return False


def has_strokes(value):
    """Whether the pad's value holds any strokes (a cleared pad's does not)."""
    return isinstance(value, dict) and bool(value.get("strokes"))


def strokes_text(strokes):
    """Strokes as lists of (x, y) pad pixels -> the text that demo/sketchpad.js sends for them (rounded)."""
    return ";".join(" ".join(f"{round(x)},{round(y)}" for x, y in stroke) for stroke in strokes)


def _strokes(text, refuse_unless):
    """The pad's strokes text -> (all its points as an (n, 2) float array, the number of points of each stroke);
    refused (refuse_unless) when it is not such a text or holds more than the limits allow."""
    too_many = "drawing_points", {"strokes": MAX_STROKES, "points": f"{MAX_POINTS:,}"}
    refuse_unless(isinstance(text, str), "drawing_numbers", {})
    refuse_unless(len(text) <= MAX_STROKES_CHARS, *too_many)
    if not text:
        return np.zeros((0, 2)), np.zeros(0, int)
    strokes = text.split(";")
    counts = np.array([stroke.count(" ") + 1 for stroke in strokes])
    refuse_unless(len(strokes) <= MAX_STROKES and counts.sum() <= MAX_POINTS, *too_many)
    refuse_unless(all(STROKE.fullmatch(stroke) for stroke in strokes), "drawing_numbers", {})
    return np.array(re.split("[ ,;]", text), dtype=float).reshape(-1, 2), counts


def opinion_html(opinion, model2_digit, source="drawing", lang=DEFAULT):
    """Model 1's second opinion (cvae.second_opinion) as (the warning to show above model 2's answer, the lines to
    show below it): the warning when its best bound is beyond the threshold (it sees no digit at all); its top digits
    by Bayes' rule, and whether the two models agree; in the visitor's language `lang`."""
    if opinion is None:
        return "", ""
    probs = opinion["probs"].tolist()
    top = sorted(range(10), key=lambda d: -probs[d])[:2]
    named = " · ".join(f"{d}: {probs[d] * 100:.1f} %" for d in top if probs[d] >= 0.001 or d == top[0])
    warning = ""
    source, best = say(lang, f"source_{source}"), f"{opinion['best']:.0f}"
    parts = [f'<div class="model1" id="model1">{say(lang, "model1_reads")} '
             f'<b id="model1-answer">{opinion["digit"]}</b> <span class="caption">'
             f'{say(lang, "model1_detail", named=named, best=best)}</span></div>']
    if opinion["is_digit"] is False:
        said = say(lang, "not_a_digit", source=source, best=best, threshold=f"{opinion['threshold']:.0f}")
        warning = f'<div class="not-digit" id="not-digit">{said}</div>'
    elif opinion["digit"] == model2_digit:
        parts.append(f'<div class="agreement" id="agreement">{say(lang, "both_say", digit=model2_digit)}</div>')
    else:
        said = say(lang, "models_disagree", model2=model2_digit, model1=opinion["digit"])
        parts.append(f'<div class="agreement" id="agreement">{said}</div>')
    if opinion["is_digit"] is None:
        parts.append(f'<div class="caption" id="no-threshold">{say(lang, "no_threshold")}</div>')
    return warning, "".join(parts)


def reading_html(about, source="drawing", label=None, seen=None, style=None, message=h.BLANK_MESSAGE, opinion=None,
                 lang=DEFAULT):
    """The answer as the page shows it: model 2's top three digits, model 1's second opinion (`opinion`, from
    cvae.second_opinion: marks model 2's answer as a guess when model 1 sees no digit), the 28 x 28 picture model 2
    saw, and the style strip; or `message` when there is no answer (a blank pad, a dot). `about` names the drawing
    it is about; `lang` is the visitor's language."""
    about = html.escape(str(about), quote=True)
    if message is h.BLANK_MESSAGE:
        message = say(lang, "draw_a_digit")
    if label is None:
        return (f'<div class="reading" data-about="{about}">'
                f'<p class="headline" id="message">{html.escape(message)}</p></div>')
    top = sorted(label.items(), key=lambda kv: -kv[1])[:3]
    bars = "".join(f'<div class="bar"><b>{d}</b><span class="fill" style="width:{p * 100:.1f}%"></span>'
                   f'<span>{p * 100:.1f} %</span></div>' for d, p in top)
    guess = opinion is not None and opinion["is_digit"] is False
    headline = say(lang, "model2_reads", source=say(lang, f"source_{source}")) + (
        f' <span class="guess-tag" id="guess">{say(lang, "only_a_guess")}</span>' if guess else "")
    warning, model1 = opinion_html(opinion, int(top[0][0]), source, lang)
    return (f'<div class="reading" data-about="{about}">{warning}'
            f'<div class="headline">{headline}</div>'
            f'<div class="answer-digit{" guess" if guess else ""}" id="answer">{top[0][0]}</div>'
            f'<div class="bars">{bars}</div>{model1}'
            f'<div><img class="seen" id="seen" src="{h.png_data_url(seen)}" alt="{say(lang, "seen_alt")}">'
            f'<div class="caption">{say(lang, "seen_caption")}</div></div>'
            f'<div><img class="style" id="style" src="{h.png_data_url(style)}" alt="{say(lang, "style_alt")}">'
            f'<div class="caption">{say(lang, "style_caption")}</div></div></div>')


def read(classifier, generator, image, about, source, lang=DEFAULT, both_models=None):
    """Any picture -> (the reading's HTML in the visitor's language `lang`, the 28 x 28 tensor model 2 was given or
    None). A picture that cannot be read gets its reason in the reading, not an error: the visitor just draws on.
    `both_models(classifier, generator, x)` reads it: `read_alone` by default; the page's, demo.shared.Shared.read,
    in one batch with the other visitors' reads waiting at the same moment."""
    try:
        x = h.to_model_input(image)
    except h.InputError as e:
        return reading_html(about, message=e.in_language(lang), lang=lang), None
    if x is None:
        return reading_html(about, lang=lang), None
    label, style, opinion = (both_models or read_alone)(classifier, generator, x)
    return reading_html(about, source, label, h.enlarge(x, 28), h.strip_image(style, 1), opinion=opinion,
                        lang=lang), x


def read_alone(classifier, generator, x):
    """(model 2's label, x's style as every digit, model 1's second opinion) for one (28, 28) picture."""
    return h.read_batch([(classifier, generator, x)])[0]


def second_opinion_json(classifier, generator, image, both_models=None):
    """/second_opinion: both models on a picture, as JSON. `is_digit` is model 1's verdict (null when its generator
    has no calibrated threshold, e.g. one trained before thresholds were stored); `model1_probs` its posterior over
    digits by Bayes' rule with a uniform p(y); `neg_elbo` its bound for each digit, in nats; `threshold` (null
    without a calibration); `model2_probs` model 2's p(y|x). A blank picture -> InputError. `both_models` as
    for `read`."""
    x = h.to_model_input(image)
    if x is None:
        raise h.InputError.of("blank_picture")
    label, _, opinion = (both_models or read_alone)(classifier, generator, x)
    model1 = {str(d): float(p) for d, p in enumerate(opinion["probs"].tolist())}
    model2_digit = h.predicted_digit(label)
    return {"is_digit": opinion["is_digit"], "model1_probs": model1,
            "neg_elbo": {str(d): round(float(v), 4) for d, v in enumerate(opinion["neg_elbo"].tolist())},
            "threshold": opinion["threshold"], "model2_probs": label, "model1_digit": opinion["digit"],
            "model2_digit": model2_digit, "agree": opinion["digit"] == model2_digit,
            "best_neg_elbo": round(opinion["best"], 4), "bound": opinion["bound"], "samples": opinion["samples"]}


# ---------------------------------------------------------------------------------------------------------------
# The events' handlers: each takes the app's demo.shared.Shared (`ctx`) first, then what the page sends

def models(ctx, session):
    return ctx.model_of(session, "classifier"), ctx.model_of(session, "generator")


def remember(session, answer, x):
    """The answer for the page, and the visitor's Session keeping the 28 x 28 digit read (for other tabs)."""
    session.last_drawing = x
    return answer, session


@inference
def read_now(ctx, session, value, lang):
    try:
        about, image = drawing_of(value)
    except h.InputError as e:
        return remember(session, reading_html(value.get("seq") if isinstance(value, dict) else "0",
                                              message=e.in_language(lang), lang=lang), None)
    return remember(session, *read(*models(ctx, session), image, about, "drawing", lang, both_models=ctx.read))


async def read_drawing(ctx, reading_now, session, value, request: gr.Request = None):
    """The pad's drawing read. `reading_now` (a demo.shared.OneAtATime) turns away a client that sends drawings in
    parallel (the page never does)."""
    # Async, so that a drawing turned away waits without a thread, and the model's work runs in one.
    key = request.session_hash if request is not None else None
    if not reading_now.enter(key):
        await asyncio.sleep(TURNED_AWAY_AFTER_S)
        return gr.skip(), gr.skip()
    try:
        return await anyio.to_thread.run_sync(read_now, ctx, session, value, language_of(request))
    finally:
        reading_now.leave(key)


async def read_again(ctx, reading_now, session, value, request: gr.Request = None):
    """The pad's drawing read again (the models in use changed), in the visitor's language; an empty pad leaves the
    answer as it is (it may be an upload's)."""
    if not has_strokes(value):
        return gr.skip(), gr.skip()
    return await read_drawing(ctx, reading_now, session, value, request)


@inference
def read_uploaded(ctx, session, upload, request: gr.Request = None):
    lang = language_of(request)
    try:
        image = h.read_upload(h.upload_path(upload))
    except h.InputError as e:
        return remember(session, reading_html("upload", message=e.in_language(lang), lang=lang), None)
    return remember(session, *read(*models(ctx, session), image, "upload", "upload", lang, both_models=ctx.read))


@inference
def terms_of_reading(ctx, session, request: gr.Request = None):
    """The loss's two terms for the picture just read (the visitor's Session keeps it), by both models, with the
    digit model 2 read (demo/elbo_panel.py): sent just after the answer, so that it never delays model 2's digit."""
    x = session.last_drawing if session is not None else None
    if x is None:
        return ""
    classifier, generator = models(ctx, session)
    digit = h.predicted_digit(h.labels_of(classifier, x[None])[0])
    return elbo_panel.panels_html(generator, classifier, x, digit, language_of(request))


@inference
def second_opinion_api(ctx, session, image):
    image = h.read_upload(h.upload_path(image))
    return second_opinion_json(*models(ctx, session), image, both_models=ctx.read)


# ---------------------------------------------------------------------------------------------------------------
# The tab on the page

@dataclass
class Tab:
    """The tab's components that its events read or write, and `reading_now`: the visitors whose drawing is being
    read (demo.shared.OneAtATime), one record for the page."""
    models_line: gr.Markdown
    pad: gr.HTML
    reading: gr.HTML
    terms: gr.HTML
    upload: gr.Image
    reading_now: OneAtATime


def build(ctx):
    """Lay out the tab inside the current gr.Tab and wire its events; `ctx` is the app's demo.shared.Shared."""
    tab = lay_out(ctx)
    wire(ctx, tab)
    second_opinion_endpoint(ctx)


def lay_out(ctx):
    """The tab's components, top to bottom: its help, the models it runs on, the pad, the answer, the upload box."""
    gr.Markdown(static("draw_help"))
    models_line = gr.Markdown(ctx.models_line(None, "classifier", "generator", lang=None), elem_id="draw-models",
                              elem_classes="models-line")
    with gr.Row(equal_height=False):
        with gr.Column(scale=3):
            pad = gr.HTML(None, html_template=PAD_HTML, css_template=PAD_CSS, apply_default_css=False,
                          js_on_load=PAD_JS, elem_id="sketch")
        with gr.Column(scale=2, min_width=280):
            reading = gr.HTML(FIRST_READING, css_template=READING_CSS, apply_default_css=False,
                              js_on_load=READING_JS, elem_id="reading")
            upload = gr.Image(label=static("upload_digit"), type="filepath",
                              sources=["upload", "clipboard"], height=200, elem_id="upload")
    with gr.Accordion(static("elbo_terms_title"), open=True, elem_id="elbo-accordion"):
        gr.Markdown(static("elbo_terms_help"))
        terms = gr.HTML("", css_template=elbo_panel.CSS, apply_default_css=False, elem_id="elbo-terms")
    return Tab(models_line, pad, reading, terms, upload, OneAtATime())


def wire(ctx, tab):
    """The tab's events, in the order the page's config lists them (the benchmarks and tests look them up so)."""
    session = ctx.session
    # Every change of the pad is read at once: one POST (queue=False), and only the newest of the changes that
    # arrive while one is read (always_last).
    drawn = tab.pad.change(bound(read_drawing, ctx, tab.reading_now), [session, tab.pad], [tab.reading, session],
                           queue=False, trigger_mode="always_last", show_progress="hidden", api_name="read_drawing",
                           api_visibility="undocumented")
    # The pad's Clear (the page's one clear) sends the empty drawing, so the answer empties too, and empties the
    # upload box (demo/sketchpad.js).
    # An upload replaces the drawing: the pad is cleared, and the answer to show is the upload's. Uploads skip
    # gradio's own decoding so that open_image can refuse bad files with a clear message.
    uploaded = tab.upload.upload(bound(read_uploaded, ctx), [session, tab.upload], [tab.reading, session],
                                 preprocess=False, show_progress="minimal", js=UPLOAD_JS, **PRIVATE)
    ctx.on_model_change(bound(follow_model_change, ctx, tab))
    # The loss's two terms for what was just read, after its answer (last, so the events above keep their places).
    for event, name in ((drawn, {"api_name": "read_terms", "api_visibility": "undocumented"}), (uploaded, PRIVATE)):
        event.then(bound(terms_of_reading, ctx), session, tab.terms, queue=False, trigger_mode="always_last",
                   show_progress="hidden", **name)  # read_terms: by name, for the benchmarks


def follow_model_change(ctx, tab, event):
    """After "Use in this session" / "Use the shipped models" (Train tab): the drawing on the pad is read again by
    the models now in use, and the tab says which they are."""
    session = ctx.session
    (event.success(bound(read_again, ctx, tab.reading_now), [session, tab.pad], [tab.reading, session],
                   queue=False, show_progress="hidden", **PRIVATE)
     .then(bound(terms_of_reading, ctx), session, tab.terms, queue=False, show_progress="hidden", **PRIVATE))
    event.success(ctx.models_line_handler("classifier", "generator"), session, tab.models_line, queue=False,
                  show_progress="hidden", **PRIVATE)


def second_opinion_endpoint(ctx):
    """/second_opinion for scripts (as the endpoints of demo/api.py): both models' answers on a picture as JSON."""
    with gr.Column(visible=False):  # its input and output; not part of the page
        opinion_image = gr.Image(label="image", type="filepath")
        opinion = gr.JSON(label="opinion")
    gr.on([], bound(second_opinion_api, ctx), [ctx.session, opinion_image], opinion, api_name="second_opinion",
          preprocess=False,
          api_description="Model 1's second opinion on a picture of a digit, beside model 2's answer, as JSON: "
                          "`is_digit` (false: no digit's generator explains the picture, its best -ELBO is beyond "
                          "the threshold calibrated on MNIST test; null when the session's generator has no "
                          "calibrated threshold), `model1_probs` ({\"0\": p, ...}: Bayes' rule with model 1's "
                          "bounds and a uniform p(y)), `neg_elbo` ({\"0\": nats, ...}), `threshold` (nats), "
                          "`model2_probs` ({\"0\": p, ...}), and `model1_digit`, `model2_digit`, `agree`, "
                          "`best_neg_elbo`, `bound`, `samples`. A blank picture is refused with a message.")
