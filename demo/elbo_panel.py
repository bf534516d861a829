"""The two terms of the loss, live (cvae/elbo_terms.py): for the picture in front of the visitor and its digit, the
reconstruction term and the KL term in nats, their sum (-ELBO), how it compares with MNIST's test digits of that
digit, and the KL split over the z dimensions as a small bar chart; for model 1 and for model 2. Pure functions of
the models and the picture, used by the tabs and by /elbo_terms (demo/api.py)."""
import html
import os
import threading
import weakref

from cvae.elbo_terms import elbo_terms, reference_figures, share_above

from . import handlers as h
from .page_files import page_file
from .texts import DEFAULT, say

CSS = page_file("elbo_panel.css")

BAR_W, BAR_GAP, BARS_H = 14, 3, 60
ALL_LABELLED = 16           # up to this many z dimensions each bar is labelled (z1 ...), else every 8th


_figures = weakref.WeakKeyDictionary()    # model -> its test digits' figures (reference_figures)
_measuring = weakref.WeakSet()             # models whose figures a thread is measuring
_lock = threading.Lock()


def reference(model, wait=True):
    """MNIST's test digits' -ELBO for this model, per digit (sorted), measured once per model (a few seconds of a
    core). Not `wait`: None until they are there, measured in a thread of their own at nice 19, so that no visitor
    waits for them (the page shows the comparison once they are); one such thread at a time for the whole server,
    so that visitors bringing many models of their own cannot take its cores (a model whose turn it is not gets
    its figures on a later request)."""
    with _lock:
        if model in _figures:
            return _figures[model]
        if not wait:
            if _measuring:
                return None
            _measuring.add(model)
    if wait:
        return _measure(model)
    # Not a daemon: a process that exits waits for it (seconds), where torch would abort the process under a daemon
    # thread still computing.
    threading.Thread(target=_measure, args=(model, True), name="elbo-reference", daemon=False).start()
    return None


def _measure(model, in_background=False):
    from .explore import test_digits  # here: demo/explore.py shows these panels too
    try:
        if in_background:  # Linux gives each thread its own nice: the visitors' requests go first
            try:
                os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)
            except (AttributeError, OSError):
                pass
        images, labels = test_digits()
        figures = reference_figures(model, images, labels)
        with _lock:
            return _figures.setdefault(model, figures)
    finally:
        if in_background:
            with _lock:
                _measuring.discard(model)


def terms_of(model, x, digit, wait=True):
    """The terms for one (28, 28) picture with its digit: floats and lists, and `share_above` (the share of the
    test digits of `digit` whose -ELBO is higher than this picture's; None while not measured and not `wait`)."""
    t = elbo_terms(model, x[None], [digit])
    neg_elbo = float(t["neg_elbo"][0])
    figures = reference(model, wait)
    return {"neg_elbo": neg_elbo, "reconstruction": float(t["reconstruction"][0]), "kl": float(t["kl"][0]),
            "kl_per_dim": t["kl_per_dim"][0].tolist(), "z_mean": t["z_mean"][0].tolist(),
            "z_std": t["z_std"][0].tolist(), "digit": int(digit),
            "share_above": None if figures is None else share_above(figures.get(int(digit), []), neg_elbo)}


def terms_json(model, image, digit):
    """/elbo_terms: the terms for an uploaded picture and a digit, as JSON. A blank picture, one that is not an
    image, or a digit out of 0-9 -> InputError saying so."""
    digit = h.check_digit(digit)
    x = h.to_model_input(image)
    if x is None:
        raise h.InputError.of("blank_picture")
    out = terms_of(model, x, digit, wait=False)  # share_above null until the model's test figures are measured
    return {"model": model.kind, **{k: _rounded(v) for k, v in out.items()}}


def _rounded(value):
    if isinstance(value, float):
        return round(value, 4)
    if isinstance(value, list):
        return [round(v, 4) for v in value]
    return value


def kl_bars_svg(kl_per_dim, title):
    """The KL of each z dimension as bars (the tallest full height), labelled z1 ... zN."""
    n, top = len(kl_per_dim), max(max(kl_per_dim), 1e-9)
    width = n * (BAR_W + BAR_GAP)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="kl-bars" role="img" viewBox="0 0 {width} '
             f'{BARS_H + 16}" width="{width}" height="{BARS_H + 16}"><title>{html.escape(title)}</title>']
    for i, value in enumerate(kl_per_dim):
        bar = max(1.0, BARS_H * value / top)
        x = i * (BAR_W + BAR_GAP)
        parts.append(f'<rect x="{x}" y="{BARS_H - bar:.1f}" width="{BAR_W}" height="{bar:.1f}" '
                     f'fill="currentColor" data-dim="{i + 1}" data-kl="{value:.3f}"><title>z{i + 1}: '
                     f'{value:.2f}</title></rect>')
        if n <= ALL_LABELLED or i % 8 == 0:
            parts.append(f'<text x="{x + BAR_W / 2}" y="{BARS_H + 13}" font-size="10" text-anchor="middle" '
                         f'fill="currentColor">z{i + 1}</text>')
    parts.append("</svg>")
    return "".join(parts)


def nats(value):
    """A figure in nats as the panel shows it: model 1's are tens of nats, model 2's often thousandths."""
    return f"{value:.1f}" if abs(value) >= 10 else f"{value:.3f}" if abs(value) >= 0.01 else f"{value:.1e}"


def panel_html(terms, kind, lang=DEFAULT):
    """One model's panel: its two terms and their sum in nats, the comparison with the test digits, the KL bars."""
    digit = terms["digit"]
    name = say(lang, f"model_name_{kind}")
    rows = [(say(lang, f"elbo_reconstruction_{kind}"), terms["reconstruction"], "reconstruction"),
            (say(lang, "elbo_kl"), terms["kl"], "kl"),
            (say(lang, "elbo_sum"), terms["neg_elbo"], "neg-elbo")]
    table = "".join(f'<tr class="{cls}"><th>{html.escape(label)}</th><td id="{kind}-{cls}">{nats(value)}</td>'
                    f'<td>{say(lang, "nats")}</td></tr>' for label, value, cls in rows)
    share = terms["share_above"]
    compare = ("" if share is None else
               f'<p class="elbo-compare" id="{kind}-compare">'
               f'{say(lang, "elbo_lower_than", share=f"{share * 100:.0f}", digit=digit)}</p>')
    bars_title = say(lang, "elbo_kl_dims")
    return (f'<div class="elbo-panel" id="elbo-{kind}" data-digit="{digit}">'
            f'<div class="elbo-title">{html.escape(say(lang, "elbo_heading", name=name, digit=digit))}</div>'
            f'<table class="elbo-terms">{table}</table>{compare}'
            f'<div class="caption">{html.escape(bars_title)} · '
            f'{say(lang, "elbo_kl_tallest", value=nats(max(terms["kl_per_dim"])))}</div>'
            f'{kl_bars_svg(terms["kl_per_dim"], bars_title)}'
            f'</div>')


def panels_html(generator, classifier, x, digit, lang=DEFAULT, wait=False):
    """Both models' panels for the picture x (28, 28) read as `digit`; '' without a picture. The comparison with
    the test digits shows once their figures are measured (`wait`: measured first)."""
    if x is None or digit is None:
        return ""
    return (f'<div class="elbo-panels">{panel_html(terms_of(generator, x, digit, wait), "generator", lang)}'
            f'{panel_html(terms_of(classifier, x, digit, wait), "classifier", lang)}</div>')
