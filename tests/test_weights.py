"""Weights on disk: round trip, any device, and every broken file refused with the file and the fault named."""
import json
import pickle
import struct

import pytest
import torch

from cvae.models import CVAE
from cvae.weights import WeightsError, load_weights, save_weights


@pytest.fixture
def saved(tmp_path):
    torch.manual_seed(0)
    model = CVAE("generator", "conv", z_dim=4, hidden=32).eval()
    save_weights(model, tmp_path, metadata={"history": [{"epoch": 1}]})
    return model, tmp_path


def test_round_trip_needs_no_flags(saved):
    model, folder = saved
    loaded = load_weights(folder, "generator")
    assert loaded.config == {"kind": "generator", "arch": "conv", "z_dim": 4, "hidden": 32}
    z = torch.randn(3, 4)
    assert torch.equal(model.draw(z, [1, 2, 3]), loaded.draw(z, [1, 2, 3]))
    assert loaded.metadata["history"] == [{"epoch": 1}]
    assert not list(folder.glob("*.tmp")), "no temporary files are left behind"


def test_file_holds_no_device_and_loads_on_any_present_device(saved):
    _, folder = saved
    raw = (folder / "generator.safetensors").read_bytes()
    (header_len,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + header_len])
    assert all(set(v) <= {"dtype", "shape", "data_offsets"} for k, v in header.items() if k != "__metadata__")
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    for device in devices:
        assert load_weights(folder, "generator", device).device.type == device


def test_weights_written_on_another_device_load_on_cpu(tmp_path):
    """A model that lived on the GPU (where there is one) writes plain tensors, which load on the CPU."""
    torch.manual_seed(0)
    model = CVAE("classifier", "mlp", z_dim=4, hidden=16)
    if torch.cuda.is_available():
        model = model.cuda()
    save_weights(model, tmp_path)
    loaded = load_weights(tmp_path, "classifier", "cpu")
    assert loaded.device.type == "cpu"
    for (k, a), b in zip(model.state_dict().items(), loaded.state_dict().values()):
        assert torch.equal(a.cpu(), b), k


def expect_fault(folder, name, pattern):
    with pytest.raises(WeightsError, match=pattern) as e:
        load_weights(folder, name)
    assert name in str(e.value)


def test_truncated_safetensors(saved):
    _, folder = saved
    path = folder / "generator.safetensors"
    path.write_bytes(path.read_bytes()[:1000])
    expect_fault(folder, "generator", "truncated or corrupted")


def test_corrupted_header(saved):
    _, folder = saved
    path = folder / "generator.safetensors"
    raw = bytearray(path.read_bytes())
    raw[8:20] = b"not json at!"
    path.write_bytes(bytes(raw))
    expect_fault(folder, "generator", "truncated or corrupted")


def test_pickle_named_safetensors_is_never_unpickled(saved, tmp_path):
    _, folder = saved
    marker = tmp_path / "pwned"

    class Exploit:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    (folder / "generator.safetensors").write_bytes(pickle.dumps(Exploit()))
    expect_fault(folder, "generator", "pickle")
    torch.save({"a": torch.zeros(2)}, folder / "generator.safetensors")
    expect_fault(folder, "generator", "pickle")
    assert not marker.exists()


def test_wrong_tensor_shapes(saved, tmp_path):
    _, folder = saved
    meta = json.loads((folder / "generator.json").read_text())
    meta["z_dim"] = 5  # the file holds a z_dim=4 model
    (folder / "generator.json").write_text(json.dumps(meta))
    expect_fault(folder, "generator", "shape")


def test_missing_tensors(saved):
    _, folder = saved
    from safetensors.torch import save_file
    save_file({"something": torch.zeros(3)}, folder / "generator.safetensors")
    expect_fault(folder, "generator", "missing")


@pytest.mark.parametrize("text, pattern", [
    (None, "missing"), ("{not json", "not valid JSON"), ("[1, 2]", "JSON object"),
    ('{"kind": "painter"}', "unknown model kind"),
    ('{"kind": "generator", "arch": "resnet", "z_dim": 4, "hidden": 32}', "unknown architecture"),
    ('{"kind": "generator", "arch": "conv", "z_dim": -4, "hidden": 32}', "z_dim"),
    ('{"kind": "generator", "arch": "conv", "z_dim": 4, "hidden": "big"}', "hidden"),
])
def test_missing_or_wrong_metadata(saved, text, pattern):
    _, folder = saved
    if text is None:
        (folder / "generator.json").unlink()
    else:
        (folder / "generator.json").write_text(text)
    expect_fault(folder, "generator", pattern)


def test_missing_weights_file(saved):
    _, folder = saved
    (folder / "generator.safetensors").unlink()
    expect_fault(folder, "generator", "missing")


def test_a_crash_mid_save_leaves_no_half_file(saved, monkeypatch):
    model, folder = saved
    before = (folder / "generator.safetensors").read_bytes()
    import cvae.weights as w

    def crash(tensors, path):
        with open(path, "wb") as f:
            f.write(b"half a file")
        raise KeyboardInterrupt("power cut")

    monkeypatch.setattr(w, "save_file", crash)
    with pytest.raises(KeyboardInterrupt):
        save_weights(model, folder)
    assert (folder / "generator.safetensors").read_bytes() == before
    assert not [p for p in folder.iterdir() if p.suffix == ".tmp"]
