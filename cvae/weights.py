"""Weights on disk: NAME.safetensors (the tensors, no pickle) beside NAME.json (what the model is and how it was
trained). The JSON says the architecture and its sizes, so loading needs no flags."""
import hashlib
import json
import os
import tempfile
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from .models import ARCHS, CVAE, KINDS

WEIGHTS_DIR = Path(__file__).resolve().parent.parent / "weights"
MAX_JSON_BYTES = 1 << 20


class WeightsError(Exception):
    """A weights file that cannot be used; the message names the file and the fault."""

    def __init__(self, path, fault):
        super().__init__(f"{path}: {fault}")
        self.path, self.fault = str(path), fault


def _atomic_write(path, write):
    """write(tmp_path), then rename over `path`: a crash mid-save leaves the old file or none, never half of one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, 0o644)  # mkstemp makes files private; weights are meant to be shared
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def save_weights(model, folder, name=None, metadata=None):
    """Write folder/NAME.safetensors and folder/NAME.json (NAME defaults to the model's kind)."""
    folder = Path(folder)
    name = name or model.config["kind"]
    tensors = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    st_path, json_path = folder / f"{name}.safetensors", folder / f"{name}.json"
    _atomic_write(st_path, lambda tmp: save_file(tensors, tmp))
    meta = {**model.config, **(metadata or {}), "tensors": st_path.name, "sha256": sha256(st_path),
            "torch_version": torch.__version__}
    _atomic_write(json_path, lambda tmp: Path(tmp).write_text(json.dumps(meta, indent=1) + "\n"))
    return st_path, json_path


def read_metadata(json_path):
    json_path = Path(json_path)
    if not json_path.is_file():
        raise WeightsError(json_path, "metadata file is missing")
    if json_path.stat().st_size > MAX_JSON_BYTES:
        raise WeightsError(json_path, "metadata file is too large to be weights metadata")
    try:
        meta = json.loads(json_path.read_text())
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise WeightsError(json_path, f"metadata is not valid JSON ({e})") from None
    if not isinstance(meta, dict):
        raise WeightsError(json_path, "metadata must be a JSON object")
    kind = meta.get("kind")
    if kind not in KINDS + ("judge",):
        raise WeightsError(json_path, f"metadata names an unknown model kind {kind!r}")
    if kind != "judge":
        if meta.get("arch") not in ARCHS:
            raise WeightsError(json_path, f"metadata names an unknown architecture {meta.get('arch')!r}")
        for key in ("z_dim", "hidden"):
            v = meta.get(key)
            if not isinstance(v, int) or isinstance(v, bool) or not 1 <= v <= 4096:
                raise WeightsError(json_path, f"metadata field {key!r} must be a whole number from 1 to 4096")
    return meta


def build(meta):
    if meta["kind"] == "judge":
        from .judge import Judge
        return Judge()
    return CVAE(meta["kind"], meta["arch"], meta["z_dim"], meta["hidden"])


def load_weights(folder=WEIGHTS_DIR, name="generator", device="cpu"):
    """Load folder/NAME.safetensors with folder/NAME.json onto `device` (a file from any device loads anywhere).
    Never unpickles: safetensors holds only tensors. Raises WeightsError naming the file and the fault."""
    folder = Path(folder)
    meta = read_metadata(folder / f"{name}.json")
    st_path = folder / f"{name}.safetensors"
    if not st_path.is_file():
        raise WeightsError(st_path, "weights file is missing")
    try:
        tensors = load_file(st_path, device="cpu")
    except (SafetensorError, OSError, ValueError, RuntimeError) as e:
        with open(st_path, "rb") as f:
            head = f.read(2)
        if head[:1] == b"\x80" or head == b"PK":  # pickle protocol 2+ or a torch.save zip
            raise WeightsError(st_path, "this is a pickle or torch.save file, not safetensors; "
                                        "it was not loaded (no pickle is ever unpickled)") from None
        raise WeightsError(st_path, f"not a readable safetensors file (truncated or corrupted?): {e}") from None
    model = build(meta)
    expected = model.state_dict()
    missing = sorted(set(expected) - set(tensors))
    unexpected = sorted(set(tensors) - set(expected))
    if missing or unexpected:
        raise WeightsError(st_path, f"tensors do not match a {meta['kind']} ({meta.get('arch', '')}) model: "
                                    f"missing {missing[:3]}, unexpected {unexpected[:3]}")
    for k, v in tensors.items():
        if v.shape != expected[k].shape:
            raise WeightsError(st_path, f"tensor {k!r} has shape {tuple(v.shape)}, the model needs "
                                        f"{tuple(expected[k].shape)}")
        if v.is_floating_point() and not torch.isfinite(v).all():
            raise WeightsError(st_path, f"tensor {k!r} holds NaN or infinite values")
    model.load_state_dict(tensors)
    model.metadata = meta
    return model.to(device).eval()
