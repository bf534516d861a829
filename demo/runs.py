"""A visitor's models as files: saved under runs/ (never into the shipped weights), listed and loaded back, zipped
for download, and uploaded (a safetensors + JSON pair, or the zip). Everything is read as cvae.weights reads the
shipped weights: safetensors only, never a pickle, every tensor's shape checked against the model its JSON names."""
import re
import tempfile
import zipfile
from pathlib import Path

from cvae.models import KINDS
from cvae.weights import WEIGHTS_DIR, WeightsError, load_weights, read_metadata, save_weights

from .handlers import InputError

RUN_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
MAX_UPLOAD_BYTES = 50 << 20     # the shipped models are ~2-13 MB
UPLOAD_NAME = "upload"          # the name the pair is checked under, whatever the files were called


def run_name(name):
    """A visitor's name for a saved run -> a safe folder name, or gr.Error. Spaces become dashes; anything that
    could leave runs/ (separators, '..', a leading dot) is refused rather than rewritten."""
    name = "-".join(str(name or "").split())
    if not RUN_NAME.fullmatch(name) or ".." in name:
        raise InputError("Name the run with letters, digits, '-', '_' or '.' (up to 64, starting with a letter "
                         "or digit), e.g. my-generator-3-epochs.")
    return name


def save_run(model, runs_dir, name, shipped_dir=WEIGHTS_DIR):
    """Write runs_dir/NAME/KIND.safetensors + KIND.json (its JSON: model.metadata); never into the shipped weights
    folder, never over a run."""
    if model is None:
        raise InputError("There is no trained model to save yet.")
    runs_dir = Path(runs_dir).resolve()
    folder = (runs_dir / run_name(name)).resolve()
    shipped = Path(shipped_dir).resolve()
    if folder.parent != runs_dir or folder == shipped or shipped in folder.parents:
        raise InputError("Runs are saved under the runs folder, never into the shipped weights.")
    if (folder / f"{model.kind}.json").exists():
        raise InputError(f"A run named {folder.name!r} already has a {model.kind}; choose another name.")
    save_weights(model, folder, model.kind, metadata_of(model))
    return folder


def metadata_of(model):
    """What a model's JSON says beyond its architecture: how it was trained (the sha256 is of its own file)."""
    skip = {"kind", "arch", "z_dim", "hidden", "tensors", "sha256", "torch_version"}
    return {k: v for k, v in (getattr(model, "metadata", None) or {}).items() if k not in skip}


def list_runs(runs_dir):
    """The saved runs, newest first, as (label, "NAME/KIND") pairs for a dropdown."""
    runs_dir = Path(runs_dir)
    found = []
    for json_path in runs_dir.glob("*/*.json") if runs_dir.is_dir() else []:
        if json_path.stem not in KINDS or not json_path.with_suffix(".safetensors").is_file():
            continue
        try:
            meta = read_metadata(json_path)
        except WeightsError:
            continue
        partial = " · stopped early" if (meta.get("progress") or {}).get("partial") else ""
        found.append((json_path.stat().st_mtime, f"{json_path.parent.name} · {json_path.stem}{partial}",
                      f"{json_path.parent.name}/{json_path.stem}"))
    return [(label, value) for _, label, value in sorted(found, reverse=True)]


def load_run(runs_dir, choice, device="cpu"):
    """The model saved as runs_dir/NAME/KIND.*, `choice` being "NAME/KIND" as list_runs gives it."""
    if not choice or choice not in {value for _, value in list_runs(runs_dir)}:
        raise InputError("Pick a saved run from the list (refresh it if it is empty).")
    name, kind = choice.split("/")
    try:
        return load_weights(Path(runs_dir) / name, kind, device)
    except WeightsError as e:
        raise InputError(f"That run cannot be loaded: {e.fault}.") from None


def zip_model(model, path):
    """A zip at `path` holding KIND.safetensors and KIND.json, as saved; returns the path."""
    with tempfile.TemporaryDirectory() as tmp:
        files = save_weights(model, tmp, model.kind, metadata_of(model))
        with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:  # safetensors hardly compress
            for f in files:
                z.write(f, f.name)
    return path


def load_upload(paths, device="cpu"):
    """Uploaded files -> a model: a .safetensors with its .json, or one .zip holding such a pair (zip_model's).
    Checked as cvae.weights checks the shipped weights; anything else -> gr.Error saying what is wrong."""
    paths = [Path(p) for p in (paths or [])]
    if sum(p.stat().st_size for p in paths) > MAX_UPLOAD_BYTES:
        raise InputError(f"Those files are too large for a model of this demo (at most {MAX_UPLOAD_BYTES >> 20} MB).")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        if len(paths) == 1 and paths[0].suffix.lower() == ".zip":
            members = _unzip_pair(paths[0])
        else:
            members = {p.suffix.lower(): p.read_bytes for p in paths}
            if len(paths) != 2 or set(members) != {".safetensors", ".json"}:
                raise InputError("Upload a model as two files, NAME.safetensors and NAME.json (or the .zip this page "
                                 "downloads).")
        for suffix, read in members.items():
            (tmp / f"{UPLOAD_NAME}{suffix}").write_bytes(read())
        try:
            return load_weights(tmp, UPLOAD_NAME, device)
        except WeightsError as e:
            raise InputError(f"That model cannot be used: {e.fault}.") from None


def _unzip_pair(path):
    """{".safetensors": read, ".json": read} from a zip of exactly such a pair; sizes checked before reading."""
    try:
        with zipfile.ZipFile(path) as z:
            infos = [i for i in z.infolist() if not i.is_dir()]
            suffixes = {Path(i.filename).suffix.lower(): i for i in infos}
            if len(infos) != 2 or set(suffixes) != {".safetensors", ".json"}:
                raise InputError("The zip must hold one .safetensors and one .json file.")
            if sum(i.file_size for i in infos) > MAX_UPLOAD_BYTES:
                raise InputError("The zip's files are too large for a model of this demo.")
            data = {suffix: z.read(info) for suffix, info in suffixes.items()}
    except (zipfile.BadZipFile, OSError, RuntimeError) as e:
        raise InputError(f"That zip cannot be read ({e}).") from None
    return {suffix: (lambda b=b: b) for suffix, b in data.items()}
