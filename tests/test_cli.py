"""python -m cvae through a real subprocess: generate, classify, evaluate, train, and clean failures."""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from cvae.drawn_digits import render_strokes
from cvae.models import CVAE
from cvae.weights import WEIGHTS_DIR, save_weights

ROOT = Path(__file__).resolve().parent.parent


def cli(*args, env=None):
    return subprocess.run([sys.executable, "-m", "cvae", *map(str, args)], cwd=ROOT, capture_output=True, text=True,
                          timeout=600, env={**os.environ, "OMP_NUM_THREADS": "1", **(env or {})})


@pytest.fixture(scope="module")
def tiny_weights(tmp_path_factory):
    """Untrained small models, so that the command line is tested apart from the shipped weights."""
    folder = tmp_path_factory.mktemp("weights")
    torch.manual_seed(0)
    save_weights(CVAE("generator", "mlp", z_dim=4, hidden=32), folder)
    save_weights(CVAE("classifier", "mlp", z_dim=4, hidden=32), folder)
    return folder


def test_generate_npy_and_png(tiny_weights, tmp_path):
    r = cli("generate", "--digit", 3, "--n", 5, "--seed", 1, "--out", tmp_path / "s.npy", "--weights", tiny_weights)
    assert r.returncode == 0, r.stderr
    a = np.load(tmp_path / "s.npy")
    assert a.shape == (5, 28, 28) and a.dtype == np.float32 and 0 <= a.min() and a.max() <= 1
    again = cli("generate", "--digit", 3, "--n", 5, "--seed", 1, "--out", tmp_path / "t.npy", "--weights", tiny_weights)
    assert again.returncode == 0 and np.array_equal(a, np.load(tmp_path / "t.npy"))
    r = cli("generate", "--digit", 3, "--n", 16, "--out", tmp_path / "grid.png", "--weights", tiny_weights)
    assert r.returncode == 0, r.stderr
    assert Image.open(tmp_path / "grid.png").size == (8 * 30 + 2, 2 * 30 + 2)


@pytest.mark.parametrize("args, message", [
    (["--digit", 10], "--digit"), (["--digit", 1, "--n", 100000], "--n"), (["--digit", 1, "--n", 0], "--n"),
])
def test_generate_refuses_bad_values(tiny_weights, tmp_path, args, message):
    r = cli("generate", *args, "--out", tmp_path / "x.png", "--weights", tiny_weights)
    assert r.returncode != 0 and message in r.stderr and "Traceback" not in r.stderr


def test_classify_json_with_blank_and_broken_files(tiny_weights, tmp_path):
    one = render_strokes([np.array([[400, 150], [390, 650]])], 800, 40)
    Image.fromarray(255 - np.asarray(one)).save(tmp_path / "one.png")
    Image.new("L", (800, 800), 255).save(tmp_path / "blank.png")
    (tmp_path / "junk.png").write_bytes(b"not an image")
    r = cli("classify", tmp_path / "one.png", tmp_path / "blank.png", tmp_path / "junk.png", "--json",
            "--weights", tiny_weights)
    assert "Traceback" not in r.stderr
    assert r.returncode == 1  # one file could not be read
    results = json.loads(r.stdout)
    assert [Path(x["file"]).name for x in results] == ["one.png", "blank.png", "junk.png"]
    assert isinstance(results[0]["digit"], int) and len(results[0]["probs"]) == 10
    assert abs(sum(results[0]["probs"]) - 1) < 1e-3
    assert results[1]["digit"] is None and "blank" in results[1]["message"]
    assert results[2]["digit"] is None and "could not be read" in results[2]["error"]


def test_classify_names_a_drawn_one_with_the_shipped_weights(tmp_path):
    if not (WEIGHTS_DIR / "classifier.json").exists():
        pytest.skip("no shipped classifier weights in weights/")
    one = render_strokes([np.array([[420, 120], [380, 680]])], 800, 45)
    Image.fromarray(255 - np.asarray(one)).save(tmp_path / "one.png")
    r = cli("classify", tmp_path / "one.png")
    assert r.returncode == 0, r.stderr
    assert r.stdout.split(":")[1].split()[0] == "1"


def test_broken_weights_stop_cleanly(tiny_weights, tmp_path):
    bad = tmp_path / "bad"
    bad.mkdir()
    for name in ("generator.json", "generator.safetensors"):
        (bad / name).write_bytes((tiny_weights / name).read_bytes())
    (bad / "generator.safetensors").write_bytes(b"\x80\x04 pickled")
    r = cli("generate", "--digit", 1, "--out", tmp_path / "x.png", "--weights", bad)
    assert r.returncode != 0 and "Traceback" not in r.stderr
    assert "generator.safetensors" in r.stderr and "pickle" in r.stderr


def test_evaluate_json(tiny_weights):
    r = cli("evaluate", "--weights", tiny_weights, "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["generator_test_neg_elbo"] > 0 and 0 <= out["classifier_test_accuracy"] <= 1
    assert 0 <= out["classifier_drawn_accuracy"] <= 1


def test_train_writes_weights_and_refuses_the_shipped_folder(tmp_path):
    r = cli("train", "--model", "classifier", "--arch", "mlp", "--epochs", 1, "--batch-size", 1000,
            "--out", tmp_path, env={"CVAE_DATA_DIR": str(tmp_path / "no-mnist-here")})
    assert r.returncode == 0, r.stderr
    assert "bundled sample" in r.stderr  # the offline notice is visible
    meta = json.loads((tmp_path / "classifier.json").read_text())
    assert meta["arch"] == "mlp" and meta["training"]["data"] == "sample"
    assert {"train_accuracy", "test_accuracy", "train_loss", "test_loss"} <= set(meta["history"][0])
    r = cli("train", "--model", "generator", "--epochs", 1, "--out", WEIGHTS_DIR)
    assert r.returncode != 0 and "refusing" in r.stderr
