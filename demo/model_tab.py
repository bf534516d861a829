"""The Model tab: the write-up, live. The two models' formulas as Pixyz prints them from the objects this session
uses (`prob_text`, `loss_text`), the code that defines them read from cvae/models.py, their networks and parameter
counts, the write-up's figures (results/reproduce/, `python -m cvae reproduce`) beside the same figures made by the
model in use, and model 2 as a predictor: p(y|x,z) for several z drawn from the prior.

None of it is in the page that loads: the tab lays itself out when it is opened (gr.render on its select event), so
that it always shows what the session uses (the shipped models, or the visitor's own after "Use in this session" on
the Train tab), and the page's start carries none of it (laid out with the page, its empty components cost the page
~0.2 s of script on a busy machine). The figures are computed once per model and kept while the model lives.
"""
import html
import inspect
import io
import random
import re
import textwrap
import threading
import weakref
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

from . import handlers as h
from .explore import test_digits
from .shared import PRIVATE, inference

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
HELP = """The two models behind the other tabs, **as this session runs them**: each distribution's formula as Pixyz
prints it from the live object, the code that defines it, the networks inside, and the write-up's figures beside
the same figures made by the model in use. Pixyz's point: the code reads like the formulas."""
MODELS = (("generator", "Model 1 — draws a digit: p(x|z,y)"), ("classifier", "Model 2 — reads a digit: p(y|x,z)"))
PARTS = ("q", "p", "prior", "loss")
ROLES = {
    ("generator", "q"): "**The encoder** (inference model): a Normal over the style z, its mean and scale computed "
                        "by a network from the image x and its digit y.",
    ("generator", "p"): "**The decoder** (generative model): one Bernoulli per pixel of x, its probability drawn "
                        "by a network from the style z and the digit y.",
    ("classifier", "q"): "**The encoder**: a Normal over z, computed from the image x and its digit y, trained "
                         "with p. Since x nearly always tells y, z carries little, and model 2's answers draw z "
                         "from the prior instead.",
    ("classifier", "p"): "**The reader**: a Categorical over the ten digits y, computed by a network from the image "
                         "x and a z.",
    "prior": "**The prior**: the standard Normal N(0, I) over the {z_dim} numbers of z. New digits start from a z "
             "drawn from it, and so do model 2's answers.",
}
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
FIGURES_CSS = """
.figs { display: flex; flex-wrap: wrap; gap: 14px; align-items: flex-start; margin-bottom: 18px; }
figure { margin: 0; width: 250px; }
figure.wide { width: 500px; max-width: 100%; }
img { width: 100%; image-rendering: pixelated; border-radius: 4px; }
img.plot { image-rendering: auto; background: #fff; }
figcaption { font-size: 0.85em; color: var(--body-text-color-subdued); }
"""
PREDICTOR_CSS = """
table { border-collapse: collapse; font-size: 0.85em; }
td, th { padding: 2px 6px; text-align: right; }
tr.mean td { border-top: 2px solid var(--border-color-primary); font-weight: 700; }
img { width: 112px; height: 112px; image-rendering: pixelated; border-radius: 4px; }
.caption { font-size: 0.85em; color: var(--body-text-color-subdued); }
"""


# ---------------------------------------------------------------------------------------------------------------
# Which models the session uses

def shipped(ctx, kind):
    """The shipped model of this kind: what a session without models of its own runs on."""
    return ctx.model_of(None, kind)


def in_use(ctx, session):
    """{kind: (model, what it is in words)} for the models this session runs on."""
    ids = ctx.model_ids(session)
    out = {}
    for kind in ("generator", "classifier"):
        model = ctx.model_of(session, kind)
        name = (f"the shipped model (`{ids[kind]}`)" if model is shipped(ctx, kind)
                else f"your model (run `{ids[kind]}`)")
        out[kind] = (model, name)
    return out


def last_drawing_of(session):
    """The 28 x 28 tensor of the visitor's last drawing or upload (demo.shared.Session.last_drawing), or None."""
    return getattr(session, "last_drawing", None)


def about_markdown(ctx, session):
    """Which models the tab describes: the shipped ones, or the visitor's own after "Use in this session"."""
    used = in_use(ctx, session)
    lines = [f"- **Model 1** (generator): {used['generator'][1]}",
             f"- **Model 2** (classifier): {used['classifier'][1]}"]
    mine = any(model is not shipped(ctx, kind) for kind, (model, _) in used.items())
    note = ("Your model (trained, loaded or uploaded on the Train tab) is in use through *Use in this session*; "
            "the Generate and Draw tabs run on it too." if mine else
            "Train your own on the Train tab and choose *Use in this session*: this tab will then describe it.")
    return "**This tab describes the models this session uses:**\n\n" + "\n".join(lines) + "\n\n" + note


# ---------------------------------------------------------------------------------------------------------------
# Formulas (from the live Pixyz objects) and the code beside them (from cvae/models.py)

def formula(model, part):
    """The LaTeX of one part as Pixyz prints it: a distribution's `prob_text`, or the loss's `loss_text`."""
    return model.loss.loss_text if part == "loss" else getattr(model, part).prob_text


def formula_markdown(model, part):
    """One part's formula as display maths, and a line on what it is."""
    maths = f"$$\n{formula(model, part)}\n$$"
    if part == "loss":
        one_pass = OnePassELBO(model.p, model.q, model.prior).loss_text
        trainer = ("prints the same formula" if one_pass == model.loss.loss_text
                   else f"prints `{one_pass}`")
        return (f"{maths}\n\n**The loss**: minus the ELBO, averaged over a batch. The ELBO bounds the data's "
                f"log-likelihood from below,\n\n$$\n{BOUNDS[model.kind]}\n$$\n\nso minimising KL − E[log p] "
                "pushes that bound up: the expectation rewards explaining the data, the KL keeps q close to the "
                f"prior. (The trainer's one-pass version of it, `cvae.fastpath.OnePassELBO`, {trainer}.)")
    role = ROLES.get((model.kind, part)) or ROLES[part].format(z_dim=model.z_dim)
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

def layer_text(module):
    """A layer in a few words: its kind and sizes (repr(module) spells out every default)."""
    kind = type(module).__name__
    if isinstance(module, nn.Linear):
        bias = "" if module.bias is not None else ", no bias"
        return f"{kind} {module.in_features} → {module.out_features}{bias}"
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
        (k, _), (s, _) = module.kernel_size, module.stride
        return f"{kind} {module.in_channels} → {module.out_channels} channels, {k} × {k}" + (
            f", stride {s}" if s != 1 else "")
    if isinstance(module, nn.BatchNorm2d):
        return f"{kind} ({module.num_features})"
    if isinstance(module, nn.MaxPool2d):
        return f"{kind} {module.kernel_size} × {module.kernel_size}"
    if isinstance(module, nn.Dropout):
        return f"{kind} {module.p}"
    return kind


def layer_rows(distribution, prefix):
    """(name, layer, parameters) for every layer of a distribution's networks: the modules with no children."""
    rows = []
    for name, module in distribution.named_modules():
        if name and not list(module.children()):
            count = sum(p.numel() for p in module.parameters(recurse=False))
            rows.append((f"{prefix}.{name}", layer_text(module), count))
    return rows


def count_parameters(module):
    return sum(p.numel() for p in module.parameters())


def networks_markdown(model, title):
    """The model's layers with their parameter counts, its latent size, and what its weights reached."""
    out = [f"#### {title}",
           f"Architecture **{model.arch}**, latent z of **{model.z_dim}** numbers, hidden width {model.hidden}; "
           f"**{count_parameters(model):,}** parameters: q(z|x,y) {count_parameters(model.q):,}, "
           f"{model.p.prob_text} {count_parameters(model.p):,}, the prior p(z) none (N(0, I) is fixed).",
           "", "| layer | | parameters |", "|---|---|---:|"]
    for part in ("q", "p"):
        for name, layer, count in layer_rows(getattr(model, part), part):
            out.append(f"| `{name}` | {layer} | {f'{count:,}' if count else ''} |")
    return "\n".join(out) + "\n\n" + metrics_markdown(model)


def metrics_markdown(model):
    """What the weights reached, from their JSON (the shipped weights, or a trained run's metadata)."""
    meta = getattr(model, "metadata", None) or {}
    training, history = meta.get("training") or {}, meta.get("history") or []
    parts = []
    if training.get("command"):
        parts.append(f"Trained with `{training['command']}` ({training.get('epochs')} epochs on {training.get('data')}"
                     f" MNIST, {training.get('minutes')} min on {training.get('device')}).")
    elif meta.get("progress"):
        p = meta["progress"]
        parts.append(f"Trained on the Train tab: {p.get('train_seconds', 0):.0f} s, {p.get('steps', 0):,} steps on "
                     f"{training.get('data', '?')} MNIST" + (", stopped early." if p.get("partial") else "."))
    last = history[-1] if history else {}
    last = {**last, **(meta.get("test") or {})}
    figures = []
    if "test_loss" in last:
        figures.append(f"test loss (negative ELBO) **{last['test_loss']:.2f}** nats")
    if "test_accuracy" in last:
        figures.append(f"test accuracy **{last['test_accuracy'] * 100:.2f} %**")
    if "train_accuracy" in last:
        figures.append(f"train accuracy {last['train_accuracy'] * 100:.2f} %")
    if figures:
        where = f"after epoch {last['epoch']}" if "epoch" in last and not meta.get("test") else "at the end"
        parts.append(f"Reached {where}: " + ", ".join(figures) + ".")
    return " ".join(parts) or "*These weights came without metrics.*"


# ---------------------------------------------------------------------------------------------------------------
# Figures: the write-up's (results/reproduce/) beside the model in use's, computed once per model

_per_model = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def cached(model, key, compute):
    """compute() once per model and key, kept as long as the model lives (a visitor's model goes with its session)."""
    with _lock:
        entry = _per_model.setdefault(model, {})
        if key in entry:
            return entry[key]
    value = compute()
    with _lock:
        return entry.setdefault(key, value)


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


def accuracy_plot(history, title):
    """Model 2's train and test accuracy per epoch: the write-up recipe's against `history`, as a PNG image."""
    from matplotlib.figure import Figure  # not pyplot: its global state is not for two requests at once
    writeup = writeup_accuracy()
    fig = Figure(figsize=(5.6, 3.4), dpi=110)
    ax = fig.subplots()
    for rows, name, colour in ((writeup, "write-up recipe (mlp)", "tab:gray"), (history, title, "tab:blue")):
        if rows:
            epochs = [m["epoch"] for m in rows]
            ax.plot(epochs, [m["train_accuracy"] for m in rows], "o--", color=colour, label=f"{name}, train")
            ax.plot(epochs, [m["test_accuracy"] for m in rows], "s-", color=colour, label=f"{name}, test")
    ax.set_xlabel("epoch")
    ax.set_ylabel("accuracy (z from the prior)")
    ax.set_title("Model 2: accuracy per epoch")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
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


def generator_figures(generator, classifier):
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
        same_z = "the write-up's very z (64 draws of 64 numbers, torch seed 0)"
    elif generator.z_dim < WRITEUP_Z_DIM:
        same_z = (f"the write-up's 64 draws (torch seed 0) cut to their first {generator.z_dim} numbers: this z has "
                  f"{generator.z_dim} dimensions, the write-up's 64, so “the same z” can only mean the same draws, "
                  "not the same points")
        same_z += ", and the same place in z does not mean the same style in two models trained apart"
    else:
        same_z = (f"the write-up's 64 draws (torch seed 0), each given {generator.z_dim - WRITEUP_Z_DIM} more "
                  "numbers: this z is longer than the write-up's")
    labels_note = ("their digits from MNIST's test set" if not read else
                   f"{read} of their 32 digits read by the shipped model 2, as full MNIST is not on disk to look "
                   "them up")
    return samples, recon, same_z, labels_note


def figures_html(ctx, session):
    """The write-up's figures beside the model in use's: samples of a 5, reconstructions, model 2's accuracy."""
    used = in_use(ctx, session)
    generator, gen_name = used["generator"]
    classifier, cls_name = used["classifier"]
    gen_name, cls_name = markdown_code(gen_name), markdown_code(cls_name)
    writeup = writeup_figures_html()
    samples, recon, same_z, labels_note = generator_figures(generator, shipped(ctx, "classifier"))
    history = accuracy_history(classifier)
    shipped_classifier = shipped(ctx, "classifier")
    if history:
        plotted, plot_note = classifier, f"{cls_name}, from its JSON"
    else:  # a model trained on the Train tab measures its accuracy at the end only
        history, plotted = accuracy_history(shipped_classifier), shipped_classifier
        plot_note = ("the shipped classifier, from its JSON (" + cls_name + " in use has no per-epoch accuracy: the "
                     "Train tab measures it at the end; see the networks above)")
    plot = h.png_data_url(cached(plotted, "accuracy plot", lambda: accuracy_plot(history, "shipped classifier"
                                                                                 if plotted is shipped_classifier
                                                                                 else "your classifier")))
    w = "the write-up's recipe (<code>python -m cvae reproduce</code>: the mlp, 10 epochs on full MNIST)"
    return f"""
<h4>64 samples of a 5</h4>
<div class="figs">
{figure_html(writeup["samples_5_epoch1.png"], f"After 1 epoch of {w}.", alt="write-up samples of a 5, epoch 1")}
{figure_html(writeup["samples_5_epoch10.png"], "After 10 epochs of the write-up's recipe.",
             alt="write-up samples of a 5, epoch 10")}
{figure_html(samples, f"Model 1 in use, {gen_name}: z from {same_z}.", alt="samples of a 5 by the model in use")}
</div>
<h4>Reconstructions: originals on top, reconstructions under them</h4>
<div class="figs">
{figure_html(writeup["reconstructions_epoch1.png"], "The write-up's recipe after 1 epoch.",
             alt="write-up reconstructions, epoch 1")}
{figure_html(writeup["reconstructions_epoch10.png"], "The write-up's recipe after 10 epochs.",
             alt="write-up reconstructions, epoch 10")}
{figure_html(recon, f"Model 1 in use, {gen_name}: the same originals (MNIST's first 32 test digits, read back from "
             f"the write-up's figure; {labels_note}); z drawn from q(z|x,y) with seed 0.",
             alt="reconstructions by the model in use")}
</div>
<h4>Model 2: accuracy per epoch (z from the prior)</h4>
<div class="figs">
{figure_html(writeup["classifier_accuracy.png"], "The write-up's recipe (results/reproduce/).", wide=True, plot=True,
             alt="write-up accuracy per epoch")}
{figure_html(plot, f"The write-up's recipe (grey) and {plot_note} (blue).", wide=True, plot=True,
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
    (computed once per model, when first asked for: 1,000 images x 8 draws of z, a few seconds on a busy CPU)."""
    def compute():
        x_test, _ = test_digits()
        spread = answer_spread(classifier, x_test[:Z_MATTERS_POOL])
        return spread.argsort(descending=True)[:Z_MATTERS].tolist()
    return cached(classifier, "z matters", compute)


def predictor_html(classifier, x, about):
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
    body += f'<tr class="mean"><td>mean</td>{cells(mean, top)}</tr>'
    agree = int((tops == top).sum())
    moves = (f"The answer is {top} for {agree} of the {len(probs)} draws of z"
             + (" — all of them" if agree == len(probs) else "") + f"; its probability moves between {low:.2f} % and "
             f"{high:.2f} % with z.")
    return f"""
<div style="display: flex; gap: 18px; align-items: flex-start" id="predictor-answer" data-top="{top}">
  <div><img src="{h.png_data_url(h.enlarge(x.view(28, 28), 28))}" alt="{html.escape(about, quote=True)}">
       <div class="caption">{html.escape(about)}</div></div>
  <div><table><caption class="caption">p(y|x,z) in %, for {len(probs)} z drawn from the prior p(z)</caption>
       {head}{body}</table>
       <p>{moves} The mean row is what the Draw tab reports: it averages the same {len(probs)} draws.</p></div>
</div>"""


def predict(ctx, session, last_drawing, source):
    """The predictor's HTML for the visitor's last drawing (`source` "drawing", when there is one), a test digit
    where z matters to the model in use ("z matters"), or a random MNIST test digit."""
    classifier, name = in_use(ctx, session)["classifier"]
    if source == "drawing" and last_drawing is not None:
        x, about = last_drawing, "Your last drawing (as model 2 sees it, 28 × 28)"
    elif source == "z matters":
        x, digit, index = pick_test_digit(random.choice(digits_where_z_matters(classifier)))
        about = (f"MNIST test digit #{index}, labelled {digit}: one of the {Z_MATTERS} of the first "
                 f"{min(Z_MATTERS_POOL, len(test_digits()[0])):,} test digits whose answer moves most with z")
    else:
        x, digit, index = pick_test_digit()
        about = f"MNIST test digit #{index}, labelled {digit}"
        if source == "drawing":
            about += " — nothing drawn yet on the Draw tab"
    return predictor_html(classifier, x, about) + f'<p class="caption">Model 2 in use: {markdown_code(name)}.</p>'


# ---------------------------------------------------------------------------------------------------------------

def describe(ctx, session):
    """Everything the tab shows for this session, in the order `build` lays it out: what it describes, then for
    each model its formulas and code (PARTS), its networks, and the figures."""
    used = in_use(ctx, session)
    out = [about_markdown(ctx, session)]
    for kind, _ in MODELS:
        model = used[kind][0]
        for part in PARTS:
            out += [formula_markdown(model, part), code_markdown(code_of(model, part))]
    out += [networks_markdown(used[kind][0], title) for kind, title in MODELS]
    out.append(figures_html(ctx, session))
    return out


def build(ctx, tab):
    """Lay out the tab inside `tab` (the gr.Tab): its content is laid out when the tab is opened (gr.render on the
    tab's select event), with what the session uses at that moment, so that the page's start carries none of it."""
    @inference
    def read_drawing(session):
        return predict(ctx, session, last_drawing_of(session), "drawing")

    @inference
    def read_test_digit(session):
        return predict(ctx, session, None, "test")

    @inference
    def read_hard_digit(session):
        return predict(ctx, session, None, "z matters")

    gr.Markdown(HELP)

    @gr.render(inputs=ctx.session, triggers=[tab.select], show_progress="minimal")
    def content(session):
        with torch.inference_mode():
            shown = iter(describe(ctx, session))
            answer = predict(ctx, session, last_drawing_of(session), "drawing")
        gr.Markdown(next(shown), elem_id="model-about")
        for kind, title in MODELS:
            gr.Markdown(f"### {title}")
            for part in PARTS:
                with gr.Row(equal_height=False):
                    with gr.Column(scale=2, min_width=300):
                        gr.Markdown(next(shown), latex_delimiters=LATEX, elem_classes=["formula"],
                                    elem_id=f"formula-{kind}-{part}")
                    with gr.Column(scale=3, min_width=300):
                        # A Markdown block, not gr.Code: no code editor (~130 KB) to load.
                        gr.Markdown(next(shown), latex_delimiters=[], max_height=400, buttons=["copy"],
                                    elem_classes=["code"], elem_id=f"code-{kind}-{part}")
        gr.Markdown("### The networks")
        with gr.Row(equal_height=False):
            for kind, _ in MODELS:
                with gr.Column(min_width=360):
                    gr.Markdown(next(shown), elem_id=f"networks-{kind}")
        gr.Markdown("### The write-up's figures beside the model in use's")
        gr.HTML(next(shown), css_template=FIGURES_CSS, apply_default_css=False, elem_id="model-figures")
        gr.Markdown("### Model 2 as a predictor\nA generative model can predict: p(y|x,z) for one picture and "
                    "several z drawn from the prior shows how much the answer moves with the style z.")
        with gr.Row():
            drawing_button = gr.Button("My last drawing", elem_id="predict-drawing")
            test_button = gr.Button("A random test digit", elem_id="predict-test")
            hard_button = gr.Button("A test digit where z matters", elem_id="predict-hard")
        predictor = gr.HTML(answer, css_template=PREDICTOR_CSS, apply_default_css=False, elem_id="predictor")
        drawing_button.click(read_drawing, ctx.session, predictor, show_progress="minimal", **PRIVATE)
        test_button.click(read_test_digit, ctx.session, predictor, show_progress="minimal", **PRIVATE)
        hard_button.click(read_hard_digit, ctx.session, predictor, show_progress="minimal", **PRIVATE)
