"""Model 1 as a predictor (cvae.second_opinion): its bound against the Pixyz loss, the importance-weighted bound's
tightening with K, the ten digits in one batch, Bayes' rule, the calibration and where it is stored, and the
non-digit set (cvae.non_digits)."""
import json
import shutil

import numpy as np
import pytest
import torch

from cvae import second_opinion as so
from cvae.data import load_sample
from cvae.drawn_digits import make_drawn_digits
from cvae.models import CVAE, one_hot
from cvae.non_digits import KINDS, LETTERS, make_non_digits
from cvae.preprocess import to_mnist_image
from cvae.weights import WEIGHTS_DIR, WeightsError, load_weights, save_weights, sha256


@pytest.fixture(scope="module")
def sample():
    data = load_sample()
    return data.x_test[:200].reshape(-1, 784), data.y_test[:200]


@pytest.mark.parametrize("arch", ["conv", "mlp"])
def test_the_plain_bound_is_the_pixyz_loss(generator, sample, arch):
    """One z sample per picture from torch's generator, as Pixyz draws it: the same noise, the same number."""
    model = generator if arch == "conv" else CVAE("generator", "mlp").eval()
    x, y = sample[0], one_hot(sample[1])
    with torch.no_grad():
        torch.manual_seed(3)
        pixyz = model.loss.eval({"x": x, "y": y})
        torch.manual_seed(3)
        ours = so.bound(model, x, y, samples=1, kind="elbo")
    assert ours.shape == (len(x),)
    torch.testing.assert_close(ours.mean(), pixyz, rtol=1e-5, atol=1e-4)


def test_more_samples_never_make_the_importance_weighted_bound_looser(generator, sample):
    x, y = sample[0], one_hot(sample[1])
    means = []
    with torch.no_grad():
        for k in (1, 2, 8, 32):
            torch.manual_seed(k)
            means.append(so.bound(generator, x, y, samples=k, kind="iw").mean().item())
        torch.manual_seed(0)
        plain = so.bound(generator, x, y, samples=8, kind="elbo").mean().item()
    assert all(a >= b for a, b in zip(means, means[1:])), means  # -log p(x|y) bounds: lower is tighter
    assert means[2] < plain, (means, plain)  # K = 8: tighter than the plain bound with its analytic KL
    assert means[-1] < means[0] - 1, means  # and by more than noise


def test_the_ten_digits_in_one_batch_are_each_digit_on_its_own(generator, sample):
    x = sample[0][:20]
    batched = so.neg_elbo_per_digit(generator, x, samples=4, seed=5)
    eps = torch.randn(20, 4, generator.z_dim, generator=torch.Generator().manual_seed(5))
    with torch.no_grad():
        for digit in (0, 3, 9):
            alone = so.bound(generator, x, one_hot([digit] * 20), eps=eps)
            torch.testing.assert_close(batched[:, digit], alone, rtol=1e-5, atol=1e-3)
    assert torch.equal(so.neg_elbo_per_digit(generator, x, samples=4, seed=5), batched)  # the same noise each time


def test_bayes_rule_with_a_uniform_prior(generator, sample):
    scores = so.neg_elbo_per_digit(generator, sample[0][:50])
    probs = so.posterior(scores)
    torch.testing.assert_close(probs.sum(-1), torch.ones(50))
    assert torch.equal(probs.argmax(-1), scores.argmin(-1))
    # two digits' odds are the difference of their bounds: p(a|x) / p(b|x) = exp(neg_elbo_b - neg_elbo_a)
    a, b = scores[0].argsort()[:2]
    torch.testing.assert_close(torch.log(probs[0, a] / probs[0, b]), scores[0, b] - scores[0, a], rtol=1e-4,
                               atol=1e-4)
    assert (probs.argmax(-1) == sample[1][:50]).float().mean() >= 0.9  # model 1 names digits


def test_calibration_puts_the_quantile_of_real_digits_below_the_threshold(generator, sample):
    x, labels = sample
    calibration = so.calibrate(generator, x, quantile=0.9, samples=4, labels=labels)
    best = so.neg_elbo_many(generator, x, samples=4).min(1).values
    assert calibration["images"] == 200 and calibration["samples"] == 4 and calibration["bound"] == "iw"
    assert (best > calibration["threshold"]).float().mean().item() == pytest.approx(0.1, abs=0.01)
    assert calibration["classifier_accuracy"] >= 0.9
    assert so.calibrate(generator, x, quantile=0.9, samples=4, max_images=50)["images"] == 50
    with pytest.raises(ValueError):
        so.calibrate(generator, x, quantile=1.5)


def test_the_calibration_is_stored_in_the_json_only_and_read_back(tmp_path, sample):
    for suffix in ("json", "safetensors"):
        shutil.copyfile(WEIGHTS_DIR / f"generator.{suffix}", tmp_path / f"generator.{suffix}")
    before = sha256(tmp_path / "generator.safetensors")
    calibration = {"threshold": 123.4, "quantile": 0.995, "samples": 4, "bound": "iw", "images": 200, "seed": 0}
    so.store_calibration(tmp_path, "generator", calibration)
    assert sha256(tmp_path / "generator.safetensors") == before
    meta = json.loads((tmp_path / "generator.json").read_text())
    assert meta[so.METADATA_KEY] == calibration and meta["sha256"] == before
    model = load_weights(tmp_path, "generator")
    assert so.calibration_of(model) == calibration
    opinion = so.second_opinion(model, sample[0][0].view(28, 28))
    assert opinion["threshold"] == 123.4 and opinion["samples"] == 4
    assert opinion["is_digit"] == (opinion["best"] <= 123.4)
    # a JSON that does not describe the tensors beside it is not given a threshold
    (tmp_path / "generator.safetensors").write_bytes(b"x" + (tmp_path / "generator.safetensors").read_bytes()[1:])
    with pytest.raises(WeightsError, match="sha256"):
        so.store_calibration(tmp_path, "generator", calibration)


def test_without_a_calibration_there_is_no_verdict(sample):
    model = CVAE("generator", "conv").eval()  # a freshly built generator: no metadata
    opinion = so.second_opinion(model, sample[0][0].view(28, 28))
    assert opinion["threshold"] is None and opinion["is_digit"] is None
    assert opinion["probs"].shape == (10,) and opinion["neg_elbo"].shape == (10,)


def test_the_shipped_generator_has_its_threshold(generator):
    calibration = so.calibration_of(generator)
    assert calibration is not None, "weights/generator.json has no threshold: run `python -m cvae calibrate`"
    assert {"threshold", "quantile", "samples", "bound", "images"} <= set(calibration)


def test_use_my_drawing_says_when_model_1_sees_no_digit(generator, classifier, sample):
    from demo.explore import drawing_view
    assert "digit to model 1" not in drawing_view(generator, classifier, sample[0][0].view(28, 28))["note"]
    spiral = [item for item in make_non_digits(per_kind=5, kinds=("scribble",)) if item.name == "spiral"][0]
    note = drawing_view(generator, classifier, to_mnist_image(spiral.image))["note"]
    assert "doesn't look like a digit to model 1" in note and "a guess" in note


def test_the_non_digit_set_is_seeded_and_apart_from_the_drawn_digits():
    a, b = make_non_digits(per_kind=8, seed=1), make_non_digits(per_kind=8, seed=1)
    assert len(a) == 24 and [item.kind for item in a[:3]] == list(KINDS)
    assert all(np.array_equal(np.asarray(p.image), np.asarray(q.image)) and p.note == q.note for p, q in zip(a, b))
    other = make_non_digits(per_kind=8, seed=2)
    assert not any(np.array_equal(np.asarray(p.image), np.asarray(q.image)) for p, q in zip(a, other))
    drawn = {np.asarray(d.image).tobytes() for d in make_drawn_digits(per_digit=8, seed=1)}
    assert not any(np.asarray(item.image).tobytes() in drawn for item in a)
    letters = [item.name for item in make_non_digits(per_kind=len(LETTERS), kinds=("letter",))]
    assert sorted(letters) == sorted(LETTERS) and not set("OISZ") & set(letters)  # no letter written as a digit
    assert all(to_mnist_image(item.image) is not None for item in a)  # each has ink the app reads


def test_the_command_line_calibrates_then_evaluate_reports_the_second_opinion(tmp_path):
    """`python -m cvae calibrate` writes the threshold into generator.json (the tensors untouched); `evaluate --json`
    then reports model 1 as a classifier and judge. Small untrained models on the bundled sample: the plumbing."""
    from test_cli import cli
    torch.manual_seed(0)
    save_weights(CVAE("generator", "mlp", z_dim=4, hidden=32), tmp_path)
    save_weights(CVAE("classifier", "mlp", z_dim=4, hidden=32), tmp_path)
    before = sha256(tmp_path / "generator.safetensors")
    no_mnist = {"CVAE_DATA_DIR": str(tmp_path / "no-mnist-here")}
    r = cli("calibrate", "--weights", tmp_path, "--images", 300, "--samples", 2, env=no_mnist)
    assert r.returncode == 0, r.stderr
    stored = json.loads((tmp_path / "generator.json").read_text())[so.METADATA_KEY]
    assert stored == json.loads(r.stdout.strip().splitlines()[-1])
    assert stored["images"] == 300 and stored["samples"] == 2 and stored["quantile"] == 0.995
    assert sha256(tmp_path / "generator.safetensors") == before
    r = cli("evaluate", "--weights", tmp_path, "--json", "--per-digit", 5, env=no_mnist)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["model1_calibration"] == stored and out["model1_test_images"] == 1000 - 300  # the held-out rest
    for key in ("model1_classifier_test_accuracy", "false_alarm_rate_test", "false_alarm_rate_drawn",
                "non_digit_flag_rate"):
        assert 0 <= out[key] <= 1, key
    assert set(out["non_digit_flag_rate_by_kind"]) == set(KINDS)
    assert cli("calibrate", "--weights", tmp_path, "--quantile", 2, env=no_mnist).returncode != 0


def test_a_freshly_trained_generator_gets_its_own_threshold(sample):
    """What a trainer does after its final test figures: calibrate_trained, stored in the model's metadata."""
    torch.manual_seed(0)
    model = CVAE("generator", "mlp", z_dim=4, hidden=32)  # stands in for a model just trained (in training mode)
    model.metadata = {"run_id": "run-1"}
    calibration = so.calibrate_trained(model, *sample, max_images=100)
    assert model.training  # left as it was
    assert calibration["images"] == 100 and calibration["samples"] == so.SAMPLES and calibration["bound"] == so.BOUND
    assert 0 <= calibration["classifier_accuracy"] <= 1 and "test images" in calibration["data"]
    model.metadata[so.METADATA_KEY] = calibration
    assert so.second_opinion(model, sample[0][0].view(28, 28))["is_digit"] in (True, False)
