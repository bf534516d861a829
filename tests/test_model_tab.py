"""The Model tab's handlers (demo/model_tab.py) without a browser: the formulas it shows are the Pixyz texts of the
models the session runs on, the code is cvae/models.py's own source, the write-up's figures are in git, the live
figures start from the write-up's z and originals, and the predictor's mean is the Draw tab's answer."""
import inspect
import re
import subprocess
from pathlib import Path

import pytest
import torch

from cvae import models as cvae_models
from cvae.data import default_data_dir
from cvae.models import CVAE
from cvae.preprocess import to_grid_image
from demo import handlers as h
from demo import model_tab as m
from demo.explore import read_test_set
from demo.shared import Session, Shared

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def ctx(generator, classifier):
    return Shared(generator, classifier, None)


def session_using(*models):
    """A visitor's session that uses `models` instead of the shipped ones, as the Train tab's "Use in this session"
    leaves it."""
    session = Session()
    for model in models:
        session.use(model)
    return session


def formulas_shown(shown):
    """The LaTeX of each $$...$$ block in the tab's outputs, in order."""
    return [block.strip() for text in shown if isinstance(text, str) for block in re.findall(r"\$\$(.*?)\$\$", text,
                                                                                             re.S)]


def mine(kind, arch):
    torch.manual_seed(0)
    model = CVAE(kind, arch).eval()
    model.q.name = "q_{mine}"  # Pixyz prints the live name: a formula shown that was not read from this model fails
    model.metadata = {"run_id": f"run-{kind}"}
    return model


def test_the_formulas_shown_are_the_pixyz_texts_of_the_sessions_models(ctx, generator, classifier):
    shown = m.describe(ctx, None)
    assert "the shipped model" in shown[0] and "your model" not in shown[0]
    expected = []
    for model in (generator, classifier):
        expected += [model.q.prob_text, model.p.prob_text, model.prior.prob_text, model.loss.loss_text,
                     m.BOUNDS[model.kind]]
    assert formulas_shown(shown) == expected
    assert "x|z,y" in generator.p.prob_text and "y|x,z" in classifier.p.prob_text

    yours = mine("generator", "mlp"), mine("classifier", "mlp")
    shown = m.describe(ctx, session_using(*yours))
    expected = []
    for model in yours:
        expected += [model.q.prob_text, model.p.prob_text, model.prior.prob_text, model.loss.loss_text,
                     m.BOUNDS[model.kind]]
    assert formulas_shown(shown) == expected
    assert expected[0] == "q_{mine}(z|x,y)" and "q_{mine}" in expected[3]
    assert "your model (run `run-generator`)" in shown[0] and "your model (run `run-classifier`)" in shown[0]
    networks = shown[1 + 2 * 2 * len(m.PARTS)]
    assert "Architecture **mlp**, latent z of **64** numbers" in networks
    assert f"**{sum(p.numel() for p in yours[0].parameters()):,}** parameters" in networks


def test_the_trainers_one_pass_loss_prints_the_same_formula(generator):
    assert "prints the same formula" in m.formula_markdown(generator, "loss")


def test_the_code_shown_is_the_source_of_cvae_models(generator, classifier):
    assert m.code_of(generator, "q") == inspect.getsource(cvae_models.Encoder)
    assert m.code_of(generator, "p") == inspect.getsource(cvae_models.Generator)
    assert m.code_of(classifier, "p") == inspect.getsource(cvae_models.Classifier)
    assert m.code_of(generator, "p").startswith("class Generator(Bernoulli):")
    loss_line = next(line.strip() for line in inspect.getsource(cvae_models.elbo_loss).splitlines()
                     if line.strip().startswith("return "))
    assert m.code_of(generator, "loss").splitlines()[-1] == loss_line.replace("return ", "loss = ")
    assert "(KullbackLeibler(q, prior) - Expectation(q, LogProb(p))).mean()" in m.code_of(classifier, "loss")
    prior = m.code_of(generator, "prior").split("\n", 1)[1]
    assert prior.startswith("self.prior = Normal(") and prior.endswith(')')
    shown = m.describe(Shared(generator, classifier, None), None)
    assert f"```python\n{inspect.getsource(cvae_models.Generator).rstrip()}\n```" in shown
    flat = lambda text: " ".join(text.split())  # noqa: E731
    assert flat(prior) in flat(inspect.getsource(cvae_models.CVAE))


def test_the_networks_list_every_parameter(generator, classifier):
    for model in (generator, classifier):
        rows = m.layer_rows(model.q, "q") + m.layer_rows(model.p, "p")
        assert sum(count for *_, count in rows) == sum(p.numel() for p in model.parameters())
    text = m.networks_markdown(classifier, "Model 2")
    assert "| `p.features.net.0` | Conv2d 1 → 16 channels, 5 × 5 | 416 |" in text
    assert "latent z of **16** numbers" in text
    assert f"test accuracy **{classifier.metadata['history'][-1]['test_accuracy'] * 100:.2f} %**" in text


def test_the_writeup_figures_are_in_git():
    listed = subprocess.run(["git", "ls-files", "results/reproduce"], cwd=ROOT, capture_output=True, text=True,
                            check=True).stdout.split()
    for name in m.WRITEUP_FIGURES:
        assert f"results/reproduce/{name}" in listed, name


def test_the_originals_read_back_are_the_writeups():
    originals = m.writeup_originals()
    assert originals.shape == (32, 784) and 0 <= originals.min() and originals.max() <= 1
    full = read_test_set(default_data_dir())
    if full is None:
        pytest.skip("full MNIST is not on disk to compare with (set CVAE_DATA_DIR)")
    assert torch.equal(originals, full[0][:32])  # exactly: the figure stores MNIST's own bytes
    labels, read = m.labels_of(originals, None)
    assert read == 0 and labels.tolist() == full[1][:32].tolist()


def test_the_live_samples_start_from_the_writeups_z(generator):
    z = torch.randn(64, 64, generator=torch.Generator().manual_seed(0))
    assert torch.equal(m.writeup_z(generator.z_dim), z[:, :generator.z_dim])
    assert torch.equal(m.writeup_z(64), z)
    expected = to_grid_image(generator.draw(z[:, :generator.z_dim], [5] * 64))
    assert m.samples_of_five(generator).tobytes() == expected.tobytes()


def test_the_reconstructions_are_the_same_every_time_and_leave_the_processs_random_numbers_alone(generator):
    originals = m.writeup_originals()
    labels = torch.tensor([7, 2, 1, 0, 4, 1, 4, 9] * 4)
    state = torch.get_rng_state()
    first = m.reconstructions(generator, originals, labels)
    assert torch.equal(torch.get_rng_state(), state)  # a training in another thread draws from it
    assert first.tobytes() == m.reconstructions(generator, originals, labels).tobytes()
    assert first.size == (8 * 30 + 2, 8 * 30 + 2)


def test_the_figures_are_the_writeups_beside_the_live_ones(ctx, generator):
    page = m.figures_html(ctx, None)
    images = re.findall(r'<img src="(data:image/png;base64,[^"]+)"', page)
    assert len(images) == 8  # 2 + 1 samples, 2 + 1 reconstructions, 1 + 1 accuracy plots
    assert images[0] == m.file_data_url(m.WRITEUP_DIR / "samples_5_epoch1.png")
    assert f"cut to their first {generator.z_dim} numbers" in page
    assert "the shipped model (<code>shipped:" in page and "from its JSON (blue)" in page


def test_the_predictors_mean_is_the_draw_tabs_answer(classifier):
    x, digit, index = m.pick_test_digit(0)
    probs = m.predictions_over_z(classifier, x)
    assert probs.shape == (h.CLASSIFY_SAMPLES, 10)
    label, _ = h.classify(classifier, x)
    torch.testing.assert_close(probs.mean(0), torch.tensor([label[str(d)] for d in range(10)]), rtol=0, atol=1e-6)
    # An untrained model 2's answer moves with z: each row is its own draw.
    fresh = mine("classifier", "mlp")
    rows = m.predictions_over_z(fresh, x)
    assert not torch.allclose(rows[0], rows[1])
    page = m.predictor_html(classifier, x, "test digit")
    assert page.count("<tr>") == 1 + h.CLASSIFY_SAMPLES and 'class="mean"' in page


def test_the_predictor_reads_the_last_drawing_else_a_test_digit(ctx):
    drawing = torch.zeros(28, 28)
    drawing[4:24, 13:15] = 1
    assert "Your last drawing" in m.predict(ctx, None, drawing, "drawing")
    assert "nothing drawn yet" in m.predict(ctx, None, None, "drawing")
    assert "MNIST test digit #" in m.predict(ctx, None, None, "test")


def test_a_test_digit_where_z_matters_moves_with_z(classifier):
    """Most answers do not move with z at all; the digits picked for "where z matters" do, with the very z that the
    Draw tab averages over."""
    def moves(index):
        probs = m.predictions_over_z(classifier, m.pick_test_digit(index)[0])
        at_top = probs[:, probs.mean(0).argmax()]
        return float(at_top.max() - at_top.min())
    picked = m.digits_where_z_matters(classifier)
    assert len(picked) == m.Z_MATTERS and len(set(picked)) == m.Z_MATTERS
    assert all(0 <= i < m.Z_MATTERS_POOL for i in picked)
    assert moves(picked[0]) > 0.05 and moves(0) < 0.01
