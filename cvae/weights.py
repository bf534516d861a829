"""Weights on disk: NAME.safetensors (the tensors, no pickle) beside NAME.json (what the model is and how it was
trained). The JSON says the architecture and its sizes, so loading needs no flags."""
import hashlib
import json
import math
import os
import struct
import tempfile
from pathlib import Path

import torch
from torch.nn import functional as F
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from .models import ARCHS, CVAE, KINDS

WEIGHTS_DIR = Path(__file__).resolve().parent.parent / "weights"
MAX_JSON_BYTES = 1 << 20
MAX_HEADER_BYTES = 1 << 20      # a safetensors header lists names, shapes and offsets: the shipped ones are ~5 KB
DTYPE_BYTES = {"F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U8": 1, "BOOL": 1}
PROBE_SEED, PROBE_N = 0, 10     # the small batch every loaded model is tried on (one image of each digit)


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


def expected_shapes(meta):
    """{tensor name: shape} of the model `meta` describes, built on torch's "meta" device: shapes without memory,
    so that a JSON claiming a huge model costs nothing to check."""
    with torch.device("meta"):
        model = build(meta)
    return {k: tuple(v.shape) for k, v in model.state_dict().items()}


def read_header(st_path):
    """{tensor name: (dtype, shape)} from a safetensors file's header, read without reading its tensors: a bounded
    read of the length and the JSON, every entry checked to lie inside the file with the bytes its shape needs.
    Raises ValueError saying what is wrong."""
    size = st_path.stat().st_size
    with open(st_path, "rb") as f:
        head = f.read(8)
        if len(head) < 8:
            raise ValueError("the file is shorter than a safetensors header")
        (n,) = struct.unpack("<Q", head)
        if n > MAX_HEADER_BYTES or 8 + n > size:
            raise ValueError(f"the header claims {n:,} bytes, the file has {size:,}")
        header = json.loads(f.read(n))
    if not isinstance(header, dict):
        raise ValueError("the header is not a JSON object")
    data_bytes, found = size - 8 - n, {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        dtype, shape, offsets = (entry.get(k) for k in ("dtype", "shape", "data_offsets")) \
            if isinstance(entry, dict) else (None, None, None)
        if (dtype not in DTYPE_BYTES or not isinstance(shape, list) or not isinstance(offsets, list)
                or not all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape + offsets)
                or len(offsets) != 2 or not offsets[0] <= offsets[1] <= data_bytes
                or offsets[1] - offsets[0] != math.prod(shape) * DTYPE_BYTES[dtype]):
            raise ValueError(f"tensor {name!r} is not described as a tensor inside the file")
        found[name] = (dtype, tuple(shape))
    return found


def _refuse_unreadable(st_path, reason):
    with open(st_path, "rb") as f:
        head = f.read(2)
    if head[:1] == b"\x80" or head == b"PK":  # pickle protocol 2+ or a torch.save zip
        raise WeightsError(st_path, "this is a pickle or torch.save file, not safetensors; "
                                    "it was not loaded (no pickle is ever unpickled)") from None
    raise WeightsError(st_path, f"not a readable safetensors file (truncated or corrupted?): {reason}") from None


def check_kind(json_path, meta, kinds):
    """Refuse a model of a kind the caller cannot use, saying what it is instead."""
    if meta["kind"] in kinds:
        return
    wanted = " or a ".join(kinds)
    if meta["kind"] == "judge":
        raise WeightsError(json_path, f"this is the judge, the separate digit reader that scores generated digits "
                                      f"in the benchmarks, not a {wanted}; only a {wanted} can be used here")
    raise WeightsError(json_path, f"this is a {meta['kind']}; only a {wanted} can be used here")


def check_sizes(json_path, meta, largest):
    """Refuse sizes beyond `largest` ({"z_dim": n, "hidden": n}), before anything is built."""
    for key, most in (largest or {}).items():
        if key in meta and meta[key] > most:
            raise WeightsError(json_path, f"its {key} is {meta[key]}; models of this demo have a {key} of at "
                                          f"most {most}")


@torch.no_grad()
def probe(model):
    """The model's outputs on a small fixed batch (one image and one z for each digit): all must be finite. Weights
    can be finite and still overflow (1e38 times anything is inf, and inf - inf is NaN)."""
    g = torch.Generator().manual_seed(PROBE_SEED)
    x = torch.rand(PROBE_N, 784, generator=g)
    digits = torch.arange(PROBE_N) % 10
    if getattr(model, "config", {}).get("kind") == "judge":
        outputs = [model(x.to(next(model.parameters()).device))]
    else:
        z = torch.randn(PROBE_N, model.z_dim, generator=g)
        q = model.q(x.to(model.device), F.one_hot(digits, 10).float().to(model.device))
        outputs = [q["loc"], q["scale"],
                   model.draw(z, digits) if model.kind == "generator" else model.predict_probs(x, generator=g)]
    return all(bool(torch.isfinite(o).all()) for o in outputs)


def load_weights(folder=WEIGHTS_DIR, name="generator", device="cpu", kinds=KINDS + ("judge",), largest=None):
    """Load folder/NAME.safetensors with folder/NAME.json onto `device` (a file from any device loads anywhere).
    Never unpickles: safetensors holds only tensors. Everything is checked before any model is built: the JSON's
    kind (one of `kinds`) and sizes (at most `largest`, e.g. {"z_dim": 64, "hidden": 1024}), and the name, shape
    and extent of every tensor the file's header declares against the model the JSON describes (built on the
    "meta" device, without memory); then the tensors are read, checked finite, and the model's outputs on a small
    batch checked finite. Raises WeightsError naming the file and the fault."""
    folder = Path(folder)
    json_path, st_path = folder / f"{name}.json", folder / f"{name}.safetensors"
    meta = read_metadata(json_path)
    check_kind(json_path, meta, kinds)
    check_sizes(json_path, meta, largest)
    if not st_path.is_file():
        raise WeightsError(st_path, "weights file is missing")
    try:
        declared = read_header(st_path)
    except (ValueError, UnicodeDecodeError, OSError) as e:
        _refuse_unreadable(st_path, e)
    expected = expected_shapes(meta)
    missing = sorted(set(expected) - set(declared))
    unexpected = sorted(set(declared) - set(expected))
    if missing or unexpected:
        raise WeightsError(st_path, f"tensors do not match a {meta['kind']} ({meta.get('arch', '')}) model: "
                                    f"missing {missing[:3]}, unexpected {unexpected[:3]}")
    for k, (_, shape) in declared.items():
        if shape != expected[k]:
            raise WeightsError(st_path, f"tensor {k!r} has shape {shape}, the model needs {expected[k]}")
    try:
        tensors = load_file(st_path, device="cpu")
    except (SafetensorError, OSError, ValueError, RuntimeError) as e:
        _refuse_unreadable(st_path, e)
    for k, v in tensors.items():
        if v.is_floating_point() and not torch.isfinite(v).all():
            raise WeightsError(st_path, f"tensor {k!r} holds NaN or infinite values")
    model = build(meta)
    model.load_state_dict(tensors)
    model.metadata = meta
    model = model.to(device).eval()
    if not probe(model):
        raise WeightsError(st_path, "its outputs on a few test images are not numbers (NaN or infinite): the "
                                    "weights are finite but too large to compute with")
    return model
