"""The two Pixyz models: shapes, the loss, training steps, stopping, settings."""
import math
import time

import pytest
import torch

from cvae.data import load_sample
from cvae.models import ARCHS, CVAE, one_hot
from cvae.train import ONE_CYCLE_WARMUP, SCHEDULES, Hooks, TrainSettings, check_settings, learning_rate_factor, train


@pytest.fixture(scope="module")
def sample():
    return load_sample()


@pytest.mark.parametrize("arch", list(ARCHS))
def test_shapes_and_dtypes(arch):
    torch.manual_seed(0)
    gen, cls = CVAE("generator", arch).eval(), CVAE("classifier", arch).eval()
    assert gen.z_dim == ARCHS[arch]["z_dim"]
    z = gen.sample_z(5)
    images = gen.draw(z, [0, 1, 2, 3, 4])
    assert images.shape == (5, 28, 28) and images.dtype == torch.float32
    assert 0 <= images.min() and images.max() <= 1
    x = torch.rand(5, 28, 28)
    probs = cls.predict_probs(x)
    assert probs.shape == (5, 10) and probs.dtype == torch.float32
    assert torch.allclose(probs.sum(-1), torch.ones(5), atol=1e-5)
    assert gen.encode(x, [1] * 5).shape == (5, gen.z_dim)


def test_loss_is_the_write_up_formula():
    gen = CVAE("generator", "mlp")
    text = str(gen.loss)
    assert "D_{KL} \\left[q(z|x,y)||p_{prior}(z) \\right]" in text
    assert "\\mathbb{E}_{q(z|x,y)} \\left[\\log p(x|z,y) \\right]" in text
    cls = CVAE("classifier", "mlp")
    assert "\\log p(y|x,z)" in str(cls.loss)


@pytest.mark.parametrize("kind", ["generator", "classifier"])
@pytest.mark.parametrize("arch", list(ARCHS))
def test_loss_finite_and_falls_on_a_tiny_batch(kind, arch, sample):
    torch.manual_seed(0)
    model = CVAE(kind, arch)
    x, y = sample.x_train[:32], one_hot(sample.y_train[:32])

    def batch():
        # Fresh tensors each step, as in training: Pixyz memoises parameters by input tensor, and a step must not
        # reuse the previous step's (already back-propagated) graph.
        return {"x": x.clone(), "y": y.clone()}

    opt = torch.optim.Adam(list(model.p.parameters()) + list(model.q.parameters()), lr=1e-3)
    model.eval()  # fixed batch-norm statistics make the before/after comparison fair
    torch.manual_seed(1)
    before = model.loss.eval(batch()).item()
    model.train()
    for _ in range(30):
        opt.zero_grad()
        loss = model.loss.eval(batch())
        assert torch.isfinite(loss)
        loss.backward()
        opt.step()
    model.eval()
    torch.manual_seed(1)
    after = model.loss.eval(batch()).item()
    assert math.isfinite(before) and after < 0.8 * before


def test_train_records_metrics_and_is_reproducible(sample):
    runs = []
    for _ in range(2):
        torch.manual_seed(3)  # the initial weights; train() seeds the batches and the noise
        model = CVAE("classifier", "mlp")
        history = train(model, sample, TrainSettings(epochs=1, batch_size=256, train_size=1024, seed=3), progress=False)
        runs.append((history[0]["train_loss"], [p.detach().clone() for p in model.parameters()]))
    m = history[0]
    assert set(m) >= {"epoch", "train_loss", "test_loss", "train_accuracy", "test_accuracy", "seconds"}
    assert 0 <= m["test_accuracy"] <= 1 and m["test_accuracy"] > 0.3
    assert runs[0][0] == runs[1][0]
    assert all(torch.equal(a, b) for a, b in zip(runs[0][1], runs[1][1]))


def test_stop_ends_training_within_a_step_and_keeps_what_it_learnt(sample):
    model = CVAE("generator", "mlp")
    before = [p.detach().clone() for p in model.parameters()]
    steps = []
    history = train(model, sample, TrainSettings(epochs=5, batch_size=64), progress=False, measure_epochs=False,
                    hooks=Hooks(on_step=lambda info: steps.append(info), should_stop=lambda: len(steps) >= 3))
    assert len(steps) == 3 and len(history) == 1 and not model.training
    assert steps[-1]["done"] == 3 / (5 * math.ceil(len(sample.x_train) / 64))
    assert any(not torch.equal(a, b) for a, b in zip(before, model.parameters()))


def test_a_time_budget_ends_the_run_and_paces_the_schedule(sample):
    model = CVAE("generator", "mlp")
    infos, paused = [], []

    def should_pause():  # a pause of half a second after the second step: the budget's clock stops meanwhile
        if len(infos) == 2 and len(paused) < 10:
            paused.append(time.sleep(0.05))
            return True
        return False

    start = time.perf_counter()
    train(model, sample, TrainSettings(batch_size=64, budget_s=1.0, schedule="one_cycle"), progress=False,
          measure_epochs=False, hooks=Hooks(on_step=infos.append, should_pause=should_pause))
    assert infos[-1]["done"] == 1.0 and 1.0 <= infos[-1]["seconds"] < 1.5
    assert time.perf_counter() - start > infos[-1]["seconds"] + 0.4  # the pause was not counted
    dones = [i["done"] for i in infos]
    assert dones == sorted(dones) and all(0 < d <= 1 for d in dones)


@pytest.mark.parametrize("schedule", SCHEDULES)
def test_learning_rate_schedules(schedule):
    factors = [learning_rate_factor(schedule, d / 100) for d in range(101)]
    assert all(0 <= f <= 1 for f in factors) and max(factors) == pytest.approx(1.0, abs=0.01)
    if schedule != "constant":
        assert factors[-1] == pytest.approx(0, abs=1e-9)  # annealed by the end of the run
    if schedule == "one_cycle":
        assert factors[0] < 0.1 and factors.index(max(factors)) == round(ONE_CYCLE_WARMUP * 100)


@pytest.mark.parametrize("settings", [
    dict(epochs=10 ** 6, batch_size=128, lr=1e-3), dict(epochs=1, batch_size=0, lr=1e-3),
    dict(epochs=1, batch_size=128, lr=0), dict(epochs=1, batch_size=128, lr=-1),
    dict(epochs=1, batch_size=128, lr=float("nan")), dict(epochs=1.5, batch_size=128, lr=1e-3),
    dict(epochs=1, batch_size=128, lr=1e-3, train_size=10 ** 9, available=60000),
    dict(epochs=1, batch_size=128, lr=1e-3, train_size=0, available=60000),
])
def test_training_settings_out_of_range_are_refused(settings):
    with pytest.raises(ValueError):
        check_settings(**settings)


def test_unknown_model_or_arch():
    with pytest.raises(ValueError, match="unknown model"):
        CVAE("painter")
    with pytest.raises(ValueError, match="unknown architecture"):
        CVAE("generator", "transformer")
