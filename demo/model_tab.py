"""The Model tab: the write-up, live. The two models' formulas as Pixyz prints them from the objects this session
uses (`prob_text`, `loss_text`), the code that defines them read from cvae/models.py, their networks and parameter
counts, the write-up's figures (results/reproduce/, `python -m cvae reproduce`) beside the same figures made by the
model in use, and model 2 as a predictor: p(y|x,z) for several z drawn from the prior.

None of it is in the page that loads: the tab lays itself out when it is opened (gr.render on its select event), so
that it always shows what the session uses (the shipped models, or the visitor's own after "Use in this session" on
the Train tab), and the page's start carries none of it (laid out with the page, its empty components cost the page's
script a share of its start that a visitor waits through: docs/speed.md). The figures are computed once per model and
kept while the model lives.
"""
import html
import inspect
import io
import random
import re
import textwrap
from pathlib import Path

import gradio as gr
import numpy as np
import torch
from PIL import Image
from torch import nn
from torch.nn import functional as F

from cvae import models as cvae_models
from cvae.fastpath import OnePassELBO
from cvae.models import X_DIM, Y_DIM
from cvae.preprocess import to_grid_image

from . import elbo_panel
from . import handlers as h
from .bound import bound
from .explore import cached, test_digits  # one cache per model for the page's views
from .page_files import page_file
from .pixyz_view import graph_svg, pixyz_texts
from .shared import PRIVATE, inference
from .texts import CJK_FONTS, DEFAULT, language_of, say, static

WRITEUP_DIR = Path(__file__).resolve().parent.parent / "results" / "reproduce"
WRITEUP_FIGURES = ("samples_5_epoch1.png", "samples_5_epoch10.png", "reconstructions_epoch1.png",
                   "reconstructions_epoch10.png", "classifier_accuracy.png", "classifier_accuracy.csv")
WRITEUP_SEED = 0            # cvae.reproduce draws its 64 z of the 5s from torch seed 0 ...
WRITEUP_Z_DIM = 64          # ... with the mlp's 64 numbers each
WRITEUP_ORIGINALS = 32      # and reconstructs MNIST's first 32 test digits, 8 a row, each row above its reconstruction
GRID_PAD = 2                # cvae.preprocess.to_grid_image's padding
SAMPLE_DIGIT = 5
# gr.Markdown renders $$...$$ with the KaTeX that gradio bundles (no network); said here so that it cannot change
# with gradio's defaults.
LATEX = [{"left": "$$", "right": "$$", "display": True}]
# The models, and each part's role in words: texts of demo/texts.py (model_title_KIND, role_KIND_PART, role_prior).
MODELS = (("generator", "model_title_generator"), ("classifier", "model_title_classifier"))
PARTS = ("q", "p", "prior", "loss")
# The ELBO, for the one line on why the loss is what it is: hand-written maths (a derivation, not an object).
BOUNDS = {
    "generator": r"\log p(x|y) \geq \mathbb{E}_{q(z|x,y)} \left[\log p(x|z,y) \right] - "
                 r"D_{KL} \left[q(z|x,y)||p_{prior}(z) \right]",
    "classifier": r"\log p(y|x) \geq \mathbb{E}_{q(z|x,y)} \left[\log p(y|x,z) \right] - "
                  r"D_{KL} \left[q(z|x,y)||p_{prior}(z) \right]",
}
PREDICT_DRAWS = h.CLASSIFY_SAMPLES  # the z that the Draw tab's answer averages over ...
PREDICT_SEED = h.CLASSIFY_SEED      # ... drawn as it draws them
Z_MATTERS_POOL, Z_MATTERS = 1000, 20  # "a test digit where z matters": one of the 20 of MNIST's first 1,000 test
                                      # digits whose answer moves most with z (most answers do not move at all)
FIGURES_CSS = page_file("model_tab_figures.css")
PREDICTOR_CSS = page_file("model_tab_predictor.css")


# ---------------------------------------------------------------------------------------------------------------
# Which models the session uses

def shipped(ctx, kind):
    """The shipped model of this kind: what a session without models of its own runs on."""
    return ctx.model_of(None, kind)


def in_use(ctx, session, lang=DEFAULT):
    """{kind: (model, what it is in words)} for the models this session runs on."""
    ids = ctx.model_ids(session)
    out = {}
    for kind in ("generator", "classifier"):
        model = ctx.model_of(session, kind)
        name = (say(lang, "the_shipped_model_id", id=ids[kind]) if model is shipped(ctx, kind)
                else say(lang, "your_model_run", id=ids[kind]))
        out[kind] = (model, name)
    return out


def last_drawing_of(session):
    """The 28 x 28 tensor of the visitor's last drawing or upload (demo.shared.Session.last_drawing), or None."""
    return getattr(session, "last_drawing", None)


def about_markdown(ctx, session, lang=DEFAULT):
    """Which models the tab describes: the shipped ones, or the visitor's own after "Use in this session"."""
    used = in_use(ctx, session, lang)
    lines = [say(lang, "about_model1", name=used["generator"][1]),
             say(lang, "about_model2", name=used["classifier"][1])]
    mine = any(model is not shipped(ctx, kind) for kind, (model, _) in used.items())
    note = say(lang, "about_mine") if mine else say(lang, "about_shipped")
    return say(lang, "about_heading") + "\n\n" + "\n".join(lines) + "\n\n" + note


# ---------------------------------------------------------------------------------------------------------------
# Formulas (from the live Pixyz objects) and the code beside them (from cvae/models.py)

def formula(model, part):
    """The LaTeX of one part as Pixyz prints it: a distribution's `prob_text`, or the loss's `loss_text`."""
    return model.loss.loss_text if part == "loss" else getattr(model, part).prob_text


def formula_markdown(model, part, lang=DEFAULT):
    """One part's formula as display maths, and a line on what it is (in the visitor's language `lang`)."""
    maths = f"$$\n{formula(model, part)}\n$$"
    if part == "loss":
        one_pass = OnePassELBO(model.p, model.q, model.prior).loss_text
        trainer = (say(lang, "same_formula") if one_pass == model.loss.loss_text
                   else say(lang, "prints_formula", formula=one_pass))
        return f"{maths}\n\n" + say(lang, "loss_role", bound=BOUNDS[model.kind], trainer=trainer)
    role = (say(lang, "role_prior", z_dim=model.z_dim) if part == "prior"
            else say(lang, f"role_{model.kind}_{part}"))
    return f"{maths}\n\n{role}"


def statement_at(source, start):
    """The statement of `source` that begins on the line containing `start`, to the line where its brackets close."""
    lines = source.splitlines()
    first = next(i for i, line in enumerate(lines) if start in line)
    depth, out = 0, []
    for line in lines[first:]:
        out.append(line)
        depth += line.count("(") - line.count(")") + line.count("[") - line.count("]")
        if depth <= 0:
            break
    return textwrap.dedent("\n".join(out))


def code_of(model, part):
    """The code that makes one part, read from cvae/models.py: the distribution's class; for the prior (a Pixyz
    Normal made in CVAE.__init__) and the loss (made in elbo_loss), the statement that makes it."""
    if part == "prior":
        return "# cvae/models.py, CVAE.__init__\n" + statement_at(inspect.getsource(cvae_models.CVAE), "self.prior =")
    if part == "loss":
        line = statement_at(inspect.getsource(cvae_models.elbo_loss), "return ")
        return "# cvae/models.py, elbo_loss(p, q, prior)\n" + line.replace("return ", "loss = ", 1)
    return inspect.getsource(type(getattr(model, part)))


def code_markdown(code):
    """Code as a Markdown block of Python (gr.Markdown highlights it: no code editor to load with the page)."""
    return f"```python\n{code.rstrip()}\n```"


# ---------------------------------------------------------------------------------------------------------------
# Networks and what the weights reached

def layer_text(module, lang=DEFAULT):
    """A layer in a few words: its kind and sizes (repr(module) spells out every default)."""
    kind = type(module).__name__
    if isinstance(module, nn.Linear):
        bias = "" if module.bias is not None else say(lang, "no_bias")
        return f"{kind} {module.in_features} → {module.out_features}{bias}"
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
        (k, _), (s, _) = module.kernel_size, module.stride
        return f"{kind} {module.in_channels} → {module.out_channels} {say(lang, 'channels')}, {k} × {k}" + (
            say(lang, "stride", s=s) if s != 1 else "")
    if isinstance(module, nn.BatchNorm2d):
        return f"{kind} ({module.num_features})"
    if isinstance(module, nn.MaxPool2d):
        return f"{kind} {module.kernel_size} × {module.kernel_size}"
    if isinstance(module, nn.Dropout):
        return f"{kind} {module.p}"
    return kind


def layer_rows(distribution, prefix, lang=DEFAULT):
    """(name, layer, parameters) for every layer of a distribution's networks: the modules with no children."""
    rows = []
    for name, module in distribution.named_modules():
        if name and not list(module.children()):
            count = sum(p.numel() for p in module.parameters(recurse=False))
            rows.append((f"{prefix}.{name}", layer_text(module, lang), count))
    return rows


def count_parameters(module):
    return sum(p.numel() for p in module.parameters())


def networks_markdown(model, title, lang=DEFAULT):
    """The model's layers with their parameter counts, its latent size, and what its weights reached."""
    out = [f"#### {title}",
           say(lang, "networks_summary", arch=model.arch, z_dim=model.z_dim, hidden=model.hidden,
               total=f"{count_parameters(model):,}", q=f"{count_parameters(model.q):,}", p_text=model.p.prob_text,
               p=f"{count_parameters(model.p):,}"),
           "", say(lang, "layer_header"), "|---|---|---:|"]
    for part in ("q", "p"):
        for name, layer, count in layer_rows(getattr(model, part), part, lang):
            out.append(f"| `{name}` | {layer} | {f'{count:,}' if count else ''} |")
    return "\n".join(out) + "\n\n" + metrics_markdown(model, lang)


def data_name(data, lang=DEFAULT):
    """The training data as a model's JSON names it ("full", "sample") in the visitor's language."""
    return say(lang, f"data_{data}") if data in ("full", "sample") else data


def metrics_markdown(model, lang=DEFAULT):
    """What the weights reached, from their JSON (the shipped weights, or a trained run's metadata)."""
    meta = getattr(model, "metadata", None) or {}
    training, history = meta.get("training") or {}, meta.get("history") or []
    parts = []
    if training.get("command"):
        parts.append(say(lang, "trained_with", command=training["command"], epochs=training.get("epochs"),
                         data=data_name(training.get("data"), lang), minutes=training.get("minutes"),
                         device=training.get("device")))
    elif meta.get("progress"):
        p = meta["progress"]
        parts.append(say(lang, "trained_on_tab", seconds=f"{p.get('train_seconds', 0):.0f}",
                         steps=f"{p.get('steps', 0):,}", data=data_name(training.get("data", "?"), lang))
                     + say(lang, "stopped_early_end" if p.get("partial") else "full_stop"))
    last = history[-1] if history else {}
    last = {**last, **(meta.get("test") or {})}
    figures = []
    if "test_loss" in last:
        figures.append(say(lang, "metric_test_loss", loss=f"{last['test_loss']:.2f}"))
    if "test_accuracy" in last:
        figures.append(say(lang, "metric_test_accuracy", accuracy=f"{last['test_accuracy'] * 100:.2f}"))
    if "train_accuracy" in last:
        figures.append(say(lang, "metric_train_accuracy", accuracy=f"{last['train_accuracy'] * 100:.2f}"))
    if figures:
        where = (say(lang, "after_epoch", epoch=last["epoch"]) if "epoch" in last and not meta.get("test")
                 else say(lang, "at_the_end"))
        parts.append(say(lang, "reached", where=where, figures=(", " if lang == DEFAULT else "、").join(figures)))
    return " ".join(parts) or say(lang, "no_metrics")


# ---------------------------------------------------------------------------------------------------------------
# Figures: the write-up's (results/reproduce/) beside the model in use's, computed once per model

def writeup_z(z_dim):
    """The write-up's 64 z of its 5s (cvae.reproduce: 64 x 64 numbers from torch seed 0), each cut to its first
    z_dim numbers where the model's z is shorter: the same draws, not the same points."""
    z = torch.randn(64, WRITEUP_Z_DIM, generator=torch.Generator().manual_seed(WRITEUP_SEED))
    return z[:, :z_dim] if z_dim <= WRITEUP_Z_DIM else torch.cat(
        [z, torch.randn(64, z_dim - WRITEUP_Z_DIM, generator=torch.Generator().manual_seed(WRITEUP_SEED + 1))], 1)


def samples_of_five(generator):
    return to_grid_image(generator.draw(writeup_z(generator.z_dim).to(generator.device), [SAMPLE_DIGIT] * 64))


def writeup_originals():
    """The originals the write-up reconstructed, read back from its figure (the top row of each pair of rows):
    (32, 784) in [0, 1], exactly MNIST's first 32 test digits, as the figure stores them."""
    grid = np.asarray(Image.open(WRITEUP_DIR / "reconstructions_epoch10.png").convert("L"), dtype=np.float32) / 255
    tiles = []
    for row in range(0, WRITEUP_ORIGINALS // 8 * 2, 2):
        for col in range(8):
            top, left = GRID_PAD + row * (28 + GRID_PAD), GRID_PAD + col * (28 + GRID_PAD)
            tiles.append(grid[top:top + 28, left:left + 28].reshape(X_DIM))
    return torch.from_numpy(np.stack(tiles))


def labels_of(originals, classifier):
    """The originals' digits: from MNIST's test set where they are found in it (full MNIST when it is on disk),
    else model 2's reading; and how many were read."""
    x_test, y_test = test_digits()
    labels, read = [], 0
    for x in originals:
        found = ((x_test - x).abs().amax(1) < 1e-6).nonzero()
        if len(found):
            labels.append(int(y_test[found[0, 0]]))
        else:
            g = torch.Generator(device=classifier.device).manual_seed(h.CLASSIFY_SEED)
            labels.append(int(classifier.predict_probs(x[None], h.CLASSIFY_SAMPLES, g)[0].argmax()))
            read += 1
    return torch.tensor(labels), read


def reconstructions(generator, x, labels, seed=WRITEUP_SEED):
    """As cvae.reproduce draws them: rows of 8 originals, each above its reconstruction, the mean of p(x|z,y) with
    z ~ q(z|x,y), drawn from `seed` with a generator of its own (the same figure every time, and the process's
    random numbers, which a training in another thread draws from, left alone)."""
    q = generator.q(x=x.to(generator.device), y=cvae_models.one_hot(labels, generator.device))
    noise = torch.randn(q["loc"].shape, generator=torch.Generator().manual_seed(seed)).to(generator.device)
    recon = generator.draw(q["loc"] + q["scale"] * noise, labels)
    rows = []
    for i in range(0, len(x), 8):
        rows += [x[i:i + 8].view(-1, 28, 28), recon[i:i + 8].cpu()]
    return to_grid_image(torch.cat(rows))


def writeup_accuracy():
    """The write-up recipe's model 2 accuracy per epoch (results/reproduce/classifier_accuracy.csv)."""
    lines = (WRITEUP_DIR / "classifier_accuracy.csv").read_text().strip().splitlines()
    rows = [dict(zip(lines[0].split(","), map(float, line.split(",")))) for line in lines[1:]]
    return [{"epoch": int(r["epoch"]), "train_accuracy": r["train_accuracy"], "test_accuracy": r["test_accuracy"]}
            for r in rows]


def accuracy_history(model):
    """The per-epoch accuracies in the model's JSON, when it measured them (the shipped classifier's does)."""
    history = (getattr(model, "metadata", None) or {}).get("history") or []
    return [m for m in history if "test_accuracy" in m]


def plot_font(lang):
    """Matplotlib's font for words in `lang`: its own for English, a Noto CJK font for Japanese (when installed)."""
    from matplotlib.font_manager import FontProperties
    found = [path for path in CJK_FONTS if lang != DEFAULT and Path(path).exists()]
    return FontProperties(fname=found[0]) if found else FontProperties()


def accuracy_plot(history, title, lang=DEFAULT):
    """Model 2's train and test accuracy per epoch: the write-up recipe's against `history`, as a PNG image, its
    words in the visitor's language `lang`."""
    from matplotlib.figure import Figure  # not pyplot: its global state is not for two requests at once
    writeup = writeup_accuracy()
    font = plot_font(lang)
    fig = Figure(figsize=(5.6, 3.4), dpi=110)
    ax = fig.subplots()
    for rows, name, colour in ((writeup, say(lang, "plot_writeup"), "tab:gray"), (history, title, "tab:blue")):
        if rows:
            epochs = [m["epoch"] for m in rows]
            ax.plot(epochs, [m["train_accuracy"] for m in rows], "o--", color=colour,
                    label=say(lang, "plot_train", name=name))
            ax.plot(epochs, [m["test_accuracy"] for m in rows], "s-", color=colour,
                    label=say(lang, "plot_test", name=name))
    ax.set_xlabel(say(lang, "plot_epoch"), fontproperties=font)
    ax.set_ylabel(say(lang, "plot_accuracy"), fontproperties=font)
    ax.set_title(say(lang, "plot_title"), fontproperties=font)
    ax.grid(alpha=0.3)
    font.set_size(7)
    ax.legend(prop=font)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return Image.open(io.BytesIO(buffer.getvalue()))


def file_data_url(path):
    return h.png_data_url(Image.open(path))


def markdown_code(text):
    """A name written for Markdown (`code` in backticks) as HTML."""
    return re.sub(r"`([^`]*)`", r"<code>\1</code>", html.escape(text))


def figure_html(src, caption, wide=False, plot=False, alt=None):
    return (f'<figure class="{"wide" if wide else ""}"><img src="{src}" class="{"plot" if plot else ""}" '
            f'alt="{html.escape(alt or caption, quote=True)}"><figcaption>{caption}</figcaption></figure>')


def writeup_figures_html():
    """The write-up's own figures as the repository ships them, inline (data: URLs), read once."""
    return cached(_writeup_key, "figures", lambda: {name: file_data_url(WRITEUP_DIR / name)
                                                    for name in WRITEUP_FIGURES if name.endswith(".png")})


class _Key:
    """A key for what is cached once for the whole server (weakref-able, lives as long as the module)."""


_writeup_key = _Key()


def generator_figures(generator, classifier, lang=DEFAULT):
    """The model in use's 64 samples of a 5 and its reconstructions of the write-up's originals (data: URLs), and
    what their captions must say: which z, and where the originals' digits came from."""
    def compute():
        originals = writeup_originals()
        labels, read = labels_of(originals, classifier)
        samples = h.png_data_url(samples_of_five(generator))
        recon = h.png_data_url(reconstructions(generator, originals, labels))
        return samples, recon, read
    samples, recon, read = cached(generator, "figures", compute)
    if generator.z_dim == WRITEUP_Z_DIM:
        same_z = say(lang, "same_z_writeup")
    elif generator.z_dim < WRITEUP_Z_DIM:
        same_z = say(lang, "same_z_shorter", z_dim=generator.z_dim)
    else:
        same_z = say(lang, "same_z_longer", more=generator.z_dim - WRITEUP_Z_DIM)
    labels_note = say(lang, "labels_from_mnist") if not read else say(lang, "labels_read", read=read)
    return samples, recon, same_z, labels_note


def figures_html(ctx, session, lang=DEFAULT):
    """The write-up's figures beside the model in use's: samples of a 5, reconstructions, model 2's accuracy."""
    used = in_use(ctx, session, lang)
    generator, gen_name = used["generator"]
    classifier, cls_name = used["classifier"]
    gen_name, cls_name = markdown_code(gen_name), markdown_code(cls_name)
    writeup = writeup_figures_html()
    samples, recon, same_z, labels_note = generator_figures(generator, shipped(ctx, "classifier"), lang)
    history = accuracy_history(classifier)
    shipped_classifier = shipped(ctx, "classifier")
    if history:
        plotted, plot_note = classifier, say(lang, "plot_note_json", name=cls_name)
    else:  # a model trained on the Train tab measures its accuracy at the end only
        history, plotted = accuracy_history(shipped_classifier), shipped_classifier
        plot_note = say(lang, "plot_note_shipped", name=cls_name)
    plot = h.png_data_url(cached(plotted, ("accuracy plot", lang), lambda: accuracy_plot(
        history, say(lang, "plot_shipped" if plotted is shipped_classifier else "plot_yours"), lang)))
    w = say(lang, "writeup_recipe")
    return f"""
<h4>{say(lang, "fig_samples_heading")}</h4>
<div class="figs">
{figure_html(writeup["samples_5_epoch1.png"], say(lang, "fig_after_1", recipe=w),
             alt="write-up samples of a 5, epoch 1")}
{figure_html(writeup["samples_5_epoch10.png"], say(lang, "fig_after_10"), alt="write-up samples of a 5, epoch 10")}
{figure_html(samples, say(lang, "fig_samples_yours", name=gen_name, same_z=same_z),
             alt="samples of a 5 by the model in use")}
</div>
<h4>{say(lang, "fig_recon_heading")}</h4>
<div class="figs">
{figure_html(writeup["reconstructions_epoch1.png"], say(lang, "fig_recon_1"), alt="write-up reconstructions, epoch 1")}
{figure_html(writeup["reconstructions_epoch10.png"], say(lang, "fig_recon_10"),
             alt="write-up reconstructions, epoch 10")}
{figure_html(recon, say(lang, "fig_recon_yours", name=gen_name, labels=labels_note),
             alt="reconstructions by the model in use")}
</div>
<h4>{say(lang, "fig_accuracy_heading")}</h4>
<div class="figs">
{figure_html(writeup["classifier_accuracy.png"], say(lang, "fig_accuracy_writeup"), wide=True, plot=True,
             alt="write-up accuracy per epoch")}
{figure_html(plot, say(lang, "fig_accuracy_both", note=plot_note), wide=True, plot=True,
             alt="accuracy per epoch, write-up and model in use")}
</div>"""


# ---------------------------------------------------------------------------------------------------------------
# Model 2 as a predictor: p(y|x,z) for several z from the prior

@torch.no_grad()
def predictions_over_z(classifier, x, draws=PREDICT_DRAWS, seed=PREDICT_SEED):
    """(draws, 10): p(y|x,z) for each z that the Draw tab's answer averages over, drawn as
    CVAE.predict_probs draws them (same generator, seed and order), so that their mean is that answer."""
    x = x.reshape(1, X_DIM).to(classifier.device)
    g = torch.Generator(device=classifier.device).manual_seed(seed)
    features = classifier.p.features(x)
    rows = [F.softmax(classifier.p.logits(x, classifier.sample_z(1, g), features), -1)[0] for _ in range(draws)]
    return torch.stack(rows).cpu()


def pick_test_digit(index=None):
    """(28 x 28 image, its digit, its index) of MNIST's test set (`index`, or a random one)."""
    x_test, y_test = test_digits()
    index = random.randrange(len(x_test)) if index is None else int(index) % len(x_test)
    return x_test[index].view(28, 28), int(y_test[index]), index


@torch.no_grad()
def answer_spread(classifier, x, draws=PREDICT_DRAWS, seed=PREDICT_SEED, batch=500):
    """For each image of x (N, 784): how far model 2's probability of its mean answer moves over `draws` draws of z
    from the prior (max - min). For ranking: the z here are drawn per image in a batch, not as the Draw tab draws."""
    g = torch.Generator(device=classifier.device).manual_seed(seed)
    out = []
    for part in x.split(batch):
        part = part.reshape(-1, X_DIM).to(classifier.device)
        features = classifier.p.features(part)
        probs = torch.stack([F.softmax(classifier.p.logits(part, classifier.sample_z(len(part), g), features), -1)
                             for _ in range(draws)])                          # (draws, N, 10)
        top = probs.mean(0).argmax(-1)
        at_top = probs.gather(2, top[None, :, None].expand(draws, -1, 1))[..., 0]
        out.append((at_top.amax(0) - at_top.amin(0)).cpu())
    return torch.cat(out)


def digits_where_z_matters(classifier):
    """The indices of the Z_MATTERS test digits, among MNIST's first Z_MATTERS_POOL, whose answer moves most with z
    (computed once per model, when first asked for: 1,000 images x 8 draws of z, too costly for every request)."""
    def compute():
        x_test, _ = test_digits()
        spread = answer_spread(classifier, x_test[:Z_MATTERS_POOL])
        return spread.argsort(descending=True)[:Z_MATTERS].tolist()
    return cached(classifier, "z matters", compute)


def predictor_html(classifier, x, about, lang=DEFAULT):
    """A picture, and model 2's p(y|x,z) for each draw of z: a row each, shaded by probability, then their mean."""
    probs = predictions_over_z(classifier, x)
    mean = probs.mean(0)
    top = int(mean.argmax())
    tops = probs.argmax(1)
    low, high = probs[:, top].min().item() * 100, probs[:, top].max().item() * 100  # in %

    def cells(row, bold=None):
        return "".join(f'<td style="background: rgba(99, 102, 241, {float(p):.3f})">'
                       + (f"<b>{p * 100:.1f}</b>" if d == bold else f"{p * 100:.1f}") + "</td>"
                       for d, p in enumerate(row))
    head = "<tr><th>z</th>" + "".join(f"<th>{d}</th>" for d in range(Y_DIM)) + "</tr>"
    body = "".join(f"<tr><td>z<sub>{i + 1}</sub></td>{cells(row, int(row.argmax()))}</tr>"
                   for i, row in enumerate(probs))
    body += f'<tr class="mean"><td>{say(lang, "mean")}</td>{cells(mean, top)}</tr>'
    agree = int((tops == top).sum())
    moves = say(lang, "answer_moves", top=top, agree=agree, n=len(probs), low=f"{low:.2f}", high=f"{high:.2f}",
                all=say(lang, "all_of_them") if agree == len(probs) else "")
    return f"""
<div style="display: flex; gap: 18px; align-items: flex-start" id="predictor-answer" data-top="{top}">
  <div><img src="{h.png_data_url(h.enlarge(x.view(28, 28), 28))}" alt="{html.escape(about, quote=True)}">
       <div class="caption">{html.escape(about)}</div></div>
  <div><table><caption class="caption">{say(lang, "predictor_caption", n=len(probs))}</caption>
       {head}{body}</table>
       <p>{moves} {say(lang, "mean_row", n=len(probs))}</p></div>
</div>"""


def predict(ctx, session, last_drawing, source, lang=DEFAULT):
    """The predictor's HTML for the visitor's last drawing (`source` "drawing", when there is one), a test digit
    where z matters to the model in use ("z matters"), or a random MNIST test digit."""
    classifier, name = in_use(ctx, session, lang)["classifier"]
    if source == "drawing" and last_drawing is not None:
        x, about = last_drawing, say(lang, "your_last_drawing")
    elif source == "z matters":
        x, digit, index = pick_test_digit(random.choice(digits_where_z_matters(classifier)))
        about = say(lang, "test_digit_z_matters", index=index, digit=digit, top=Z_MATTERS,
                    pool=f"{min(Z_MATTERS_POOL, len(test_digits()[0])):,}")
    else:
        x, digit, index = pick_test_digit()
        about = say(lang, "test_digit_labelled", index=index, digit=digit)
        if source == "drawing":
            about += say(lang, "nothing_drawn")
    in_use_line = say(lang, "model2_in_use", name=markdown_code(name))
    # The loss's two terms for this picture by both models, with its label (a drawing: model 2's reading).
    if source == "drawing" and last_drawing is not None:
        digit = int(predictions_over_z(classifier, x).mean(0).argmax())
    generator = in_use(ctx, session, lang)["generator"][0]
    terms = elbo_panel.panels_html(generator, classifier, x.view(28, 28), digit, lang)
    return (predictor_html(classifier, x, about, lang) + f'<p class="caption">{in_use_line}</p>'
            f'<div id="model-terms">{terms}</div>')


def pixyz_markdown(model, lang=DEFAULT):
    """What Pixyz prints of a model: the joint `p * prior` with its factorisation, and the loss (demo/pixyz_view.py),
    as Markdown with LaTeX."""
    texts = pixyz_texts(model)
    return (f'{say(lang, "pixyz_joint")}\n\n$${texts["joint"]}$$\n\n{say(lang, "pixyz_loss")}\n\n'
            f'$${texts["loss"]}$$')


# ---------------------------------------------------------------------------------------------------------------

def describe(ctx, session, lang=DEFAULT):
    """Everything the tab shows for this session, in the order `build` lays it out: what it describes, then for
    each model its formulas and code (PARTS), its networks, and the figures; in the visitor's language `lang`."""
    used = in_use(ctx, session, lang)
    out = [about_markdown(ctx, session, lang)]
    for kind, _ in MODELS:
        model = used[kind][0]
        for part in PARTS:
            out += [formula_markdown(model, part, lang), code_markdown(code_of(model, part))]
    out += [networks_markdown(used[kind][0], say(lang, title), lang) for kind, title in MODELS]
    out.append(figures_html(ctx, session, lang))
    return out


# ---------------------------------------------------------------------------------------------------------------
# The tab on the page: its handlers take the app's demo.shared.Shared (`ctx`) first, then what the page sends

@inference
def read_drawing(ctx, session, request: gr.Request = None):
    return predict(ctx, session, last_drawing_of(session), "drawing", language_of(request))


@inference
def read_test_digit(ctx, session, request: gr.Request = None):
    return predict(ctx, session, None, "test", language_of(request))


@inference
def read_hard_digit(ctx, session, request: gr.Request = None):
    return predict(ctx, session, None, "z matters", language_of(request))


def build(ctx, tab):
    """Lay out the tab inside `tab` (the gr.Tab): its content is laid out when the tab is opened (gr.render on the
    tab's select event), with what the session uses at that moment, so that the page's start carries none of it."""
    gr.Markdown(static("model_help"))
    gr.render(inputs=ctx.session, triggers=[tab.select], show_progress="minimal")(bound(content, ctx))


def content(ctx, session, request: gr.Request = None):
    """The tab's content for this session, in the visitor's language, and its predictor's buttons wired."""
    lang = language_of(request)
    with torch.inference_mode():
        shown = iter(describe(ctx, session, lang))
        answer = predict(ctx, session, last_drawing_of(session), "drawing", lang)
    gr.Markdown(next(shown), elem_id="model-about")
    for kind, title in MODELS:
        gr.Markdown("### " + say(lang, title))
        for part in PARTS:
            with gr.Row(equal_height=False):
                with gr.Column(scale=2, min_width=300):
                    gr.Markdown(next(shown), latex_delimiters=LATEX, elem_classes=["formula"],
                                elem_id=f"formula-{kind}-{part}")
                with gr.Column(scale=3, min_width=300):
                    # A Markdown block, not gr.Code: no code editor for the page to load.
                    gr.Markdown(next(shown), latex_delimiters=[], max_height=400, buttons=["copy"],
                                elem_classes=["code"], elem_id=f"code-{kind}-{part}")
    gr.Markdown(say(lang, "networks_heading"))
    with gr.Row(equal_height=False):
        for kind, _ in MODELS:
            with gr.Column(min_width=360):
                gr.Markdown(next(shown), elem_id=f"networks-{kind}")
    gr.Markdown(say(lang, "pixyz_heading"))
    with gr.Row(equal_height=False):
        for kind, title in MODELS:
            model = in_use(ctx, session, lang)[kind][0]
            with gr.Column(min_width=300):
                gr.Markdown(pixyz_markdown(model, lang), latex_delimiters=LATEX, elem_id=f"pixyz-{kind}")
                gr.HTML(graph_svg(model, say(lang, "graph_title", name=say(lang, title))),
                        css_template=elbo_panel.CSS, apply_default_css=False, elem_id=f"graph-{kind}")
    gr.Markdown(say(lang, "pixyz_graph_caption"))
    gr.Markdown(say(lang, "figures_heading"))
    gr.HTML(next(shown), css_template=FIGURES_CSS, apply_default_css=False, elem_id="model-figures")
    gr.Markdown(say(lang, "predictor_heading"))
    with gr.Row():
        drawing_button = gr.Button(say(lang, "my_last_drawing"), elem_id="predict-drawing")
        test_button = gr.Button(say(lang, "random_test_digit"), elem_id="predict-test")
        hard_button = gr.Button(say(lang, "z_matters_digit"), elem_id="predict-hard")
    predictor = gr.HTML(answer, css_template=PREDICTOR_CSS, apply_default_css=False, elem_id="predictor")
    drawing_button.click(bound(read_drawing, ctx), ctx.session, predictor, show_progress="minimal", **PRIVATE)
    test_button.click(bound(read_test_digit, ctx), ctx.session, predictor, show_progress="minimal", **PRIVATE)
    hard_button.click(bound(read_hard_digit, ctx), ctx.session, predictor, show_progress="minimal", **PRIVATE)
