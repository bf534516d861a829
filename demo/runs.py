"""A visitor's models as files: saved under runs/ (never into the shipped weights), listed and loaded back, zipped
for download, and uploaded (a safetensors + JSON pair, or the zip). Everything is read as cvae.weights reads the
shipped weights: safetensors only, never a pickle, every tensor's shape checked against the model its JSON names,
before any model is built.

Saved runs belong to their visitor: the page keeps a random key in the browser (gr.BrowserState, `owner_key_state`)
and runs are stored under runs_dir/<first 16 hex digits of the key's sha256>/NAME/, so a visitor lists, loads and
saves only under their own key, and finds their runs again after a reload or a server restart in the same browser.
The person running `python -m demo` on their own machine is a visitor like any other: their browser keeps its key
across restarts, so they find what they saved in it. The owner None is the operator: a caller on the server
without a key (a script, the tests), or every browser where the app is told that the server is the operator's own
(`page_owner(..., local_operator=True)`, an opt-in: listening on 127.0.0.1 is no proof, a reverse proxy forwards
the public there too). Their runs live in runs_dir/local/NAME/, without quotas."""
import hashlib
import ipaddress
import math
import os
import re
import secrets
import shutil
import struct
import tempfile
import threading
import time
import zipfile
from pathlib import Path

import gradio as gr

from cvae.models import KINDS
from cvae.weights import MAX_JSON_BYTES, WEIGHTS_DIR, WeightsError, load_weights, read_metadata, save_weights

from .handlers import InputError

RUN_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
MAX_UPLOAD_BYTES = 50 << 20     # the shipped models are ~2-13 MB
UPLOAD_NAME = "upload"          # the name the pair is checked under, whatever the files were called
# The largest sizes a model of this demo has (the mlp's z is 64, every hidden layer is 512): an upload claiming
# more is refused from its JSON alone, before anything is built.
LARGEST = {"z_dim": 64, "hidden": 1024}
ZIP_METHODS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)  # what this page writes, and what any zip tool writes
MAX_ZIP_DIRECTORY_BYTES = 64 << 10  # a zip of two files has a directory of ~200 bytes
COPY_CHUNK = 256 << 10

# Owners: a key the page keeps in the browser. secrets.token_urlsafe(32) makes 43 such characters.
OWNER_KEY = re.compile(r"[A-Za-z0-9_-]{32,64}")
LOCAL_OWNER = "local"           # the folder of the owner None: never a hash's 16 hex digits
OWNER_STORAGE_KEY = "cvae-demo-runs-owner"
# gr.BrowserState encrypts what it keeps with a secret that the page itself is sent, so it hides nothing from the
# visitor; it must stay the same across restarts, or the browser could not read its key back after one.
OWNER_STORAGE_SECRET = "cvae-demo-runs-owner-v1"

# Quotas: per visitor, and for the whole runs folder (the local operator has none: it is their disk). A model
# of this demo is 2-13 MB.
MAX_RUNS_PER_VISITOR = 10
MAX_BYTES_PER_VISITOR = 100 << 20
MAX_RUNS_FOLDER_BYTES = 2 << 30
# Per address, whatever keys it sends (a client can mint keys at will, not addresses): how often it may save, and
# how much of the folder the runs saved from it may take in all (a few visitors' worth: a school or a household
# shares one address). IPv6 addresses count by their /64, the block one subscriber gets.
SAVES_PER_ADDRESS_PER_HOUR = 10
MAX_BYTES_PER_ADDRESS = 3 * MAX_BYTES_PER_VISITOR
# A full folder makes room: the runs of the owners least recently seen (listing, loading or saving their runs), if
# not seen for this long, oldest runs first.
IDLE_OWNER_S = 7 * 24 * 3600
FROM_FILE = ".from"             # in a run's folder: a salted hash of the address it was saved from
SALT_FILE = ".address-salt"     # in the runs folder: what the addresses are hashed with (the folder's own secret)
NO_KEY = "no_key"  # demo/texts.py
STALE_SAVE_S = 3600             # a half-written save older than this (a crash) is removed at the next save
_saving = threading.Lock()      # one save at a time in this server: the quota is checked and spent together


def run_name(name):
    """A visitor's name for a saved run -> a safe folder name, or gr.Error. Spaces become dashes; anything that
    could leave runs/ (separators, '..', a leading dot) is refused rather than rewritten."""
    name = "-".join(str(name or "").split())
    if not RUN_NAME.fullmatch(name) or ".." in name:
        raise InputError.of("run_name_rule")
    return name


# --- Owners ------------------------------------------------------------------------------------------------------

def new_owner_key():
    return secrets.token_urlsafe(32)


def is_owner_key(key):
    return isinstance(key, str) and OWNER_KEY.fullmatch(key) is not None


def owner_key_for_page(stored):
    """The page's load event: the key this browser keeps (BrowserState's value) if it is one, else a new one, to be
    written back into the BrowserState."""
    return stored if is_owner_key(stored) else new_owner_key()


def owner_key_state():
    """The page's gr.BrowserState holding this browser's key (empty until the load event fills it: a default would be
    one key shared by every browser). The same storage key and secret on every start, so it survives restarts."""
    return gr.BrowserState(None, storage_key=OWNER_STORAGE_KEY, secret=OWNER_STORAGE_SECRET)


def page_owner(key, local_operator=False):
    """The owner for list_runs / save_run / load_run from what the page sent as its key: None (the operator) when
    the app is told that the server is the operator's own (`local_operator`, opt-in), else the key, checked;
    anything else (a missing, malformed or overlong key, whatever a client sends) -> gr.Error. Never None
    from a visitor's page: that would open the operator's runs to them."""
    if local_operator:
        return None
    if not is_owner_key(key):
        raise InputError.of(NO_KEY)
    return key


def check_owner(owner):
    if owner is None or is_owner_key(owner):
        return owner
    raise InputError.of(NO_KEY)


def owner_folder(runs_dir, owner):
    """runs_dir/<sha256(key)[:16]>, or runs_dir/local for the owner None. The key itself is never written down: who
    reads the folder names cannot act as their owners."""
    owner = check_owner(owner)
    name = LOCAL_OWNER if owner is None else hashlib.sha256(owner.encode()).hexdigest()[:16]
    return Path(runs_dir) / name


# --- Saved runs --------------------------------------------------------------------------------------------------

# Reverse proxies whose X-Forwarded-For is believed (python -m demo --trusted-proxies): behind one, every request
# comes from the proxy's address, and the visitor's is the one the proxy adds to that header.
trusted_proxies = []


def parse_proxies(text):
    """"127.0.0.1, 10.0.0.0/8" -> networks; ValueError naming a bad entry."""
    return [ipaddress.ip_network(part.strip(), strict=False) for part in (text or "").split(",") if part.strip()]


def _is_trusted(address):
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in trusted_proxies)


def address_of(request):
    """The address a request came from (the per-address limits of saves), or None where there is none (a call on
    the server itself). From a trusted proxy: the last address of X-Forwarded-For that is not a trusted proxy's
    (the ones before it are whatever the client wrote)."""
    client = getattr(request, "client", None)
    address = getattr(client, "host", None) or None
    headers = getattr(request, "headers", None) or {}
    if address is not None and _is_trusted(address):
        forwarded = [a.strip() for a in str(headers.get("x-forwarded-for", "")).split(",") if a.strip()]
        while forwarded and _is_trusted(forwarded[-1]):
            forwarded.pop()
        if forwarded:
            address = forwarded[-1]
    return address


def address_group(address):
    """What the per-address limits count by: an IPv4 address, or an IPv6 address's /64."""
    try:
        ip = ipaddress.ip_address(str(address).split("%")[0])
    except ValueError:
        return str(address)
    if ip.version == 6:
        if ip.ipv4_mapped is not None:  # ::ffff:a.b.c.d is the IPv4 address a.b.c.d
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


class SavesPerAddress:
    """When each address saved in the last hour (in this server's memory: a restart forgets it, which costs an
    address at most one more hour's saves)."""

    def __init__(self, per_hour=None):
        self.per_hour, self.saves, self.lock = per_hour, {}, threading.Lock()

    def check(self, group, now=None):
        """gr.Error saying when to try again, if `group` has saved its hour's share."""
        now = time.time() if now is None else now
        limit = SAVES_PER_ADDRESS_PER_HOUR if self.per_hour is None else self.per_hour
        with self.lock:
            for g in [g for g, times in self.saves.items() if times[-1] < now - 3600]:  # bounded by the last hour
                del self.saves[g]
            recent = [t for t in self.saves.get(group, []) if t >= now - 3600]
            self.saves[group] = recent or [now - 3600]
        if len(recent) >= limit:
            raise InputError.of("saves_per_hour", saves=len(recent), minutes=math.ceil((recent[0] + 3600 - now) / 60))

    def record(self, group, now=None):
        with self.lock:
            self.saves.setdefault(group, []).append(time.time() if now is None else now)


saves_per_address = SavesPerAddress()


def save_run(model, runs_dir, name, shipped_dir=WEIGHTS_DIR, owner=None, address=None):
    """Write the owner's runs_dir/<owner>/NAME/KIND.safetensors + KIND.json (its JSON: model.metadata); never into
    the shipped weights folder, never over a run, within the quotas. Atomic: both files are written into a hidden
    folder beside, then renamed into place (a rename onto a folder holding a run fails), so two saves under one name
    at once give one run and one refusal, and a reader sees the whole run or none of it. Returns the folder."""
    if model is None:
        raise InputError.of("nothing_to_save")
    name = run_name(name)
    runs_dir = Path(runs_dir).resolve()
    shipped = Path(shipped_dir).resolve()
    if runs_dir == shipped or shipped in runs_dir.parents or runs_dir in shipped.parents:
        raise InputError.of("not_into_shipped")
    mine = owner_folder(runs_dir, owner)
    folder = mine / name
    group = address_group(address) if owner is not None and address is not None else None
    with _saving:
        if folder.exists():
            raise InputError.of("run_exists", name=repr(name))
        if owner is not None:
            runs = len(_run_folders(mine))
            if runs >= MAX_RUNS_PER_VISITOR:
                raise InputError.of("too_many_runs", runs=runs)
        if group is not None:
            saves_per_address.check(group)
        mine.mkdir(parents=True, exist_ok=True)
        _seen(mine)
        _remove_stale_saves(mine)
        tmp = Path(tempfile.mkdtemp(prefix=".saving-", dir=mine))
        try:
            save_weights(model, tmp, model.kind, metadata_of(model))
            if owner is not None:
                source = _address_hash(runs_dir, group) if group is not None else None
                _check_quota(runs_dir, mine, _bytes_under(tmp), source)
                if source is not None:
                    (tmp / FROM_FILE).write_text(source)
            os.chmod(tmp, 0o755)  # mkdtemp's folder is private; the runs folder's files are the server's to read
            try:
                os.rename(tmp, folder)
            except OSError:
                if folder.exists():  # saved meanwhile by another process under the same name
                    raise InputError.of("run_exists", name=repr(name)) from None
                raise
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        if group is not None:
            saves_per_address.record(group)
    return folder


def _check_quota(runs_dir, mine, new_bytes, source=None):
    """The visitor's, the address's (`source`, its hash) and the folder's quotas, for a run of `new_bytes` already
    written in a hidden folder under `mine`; a full folder first makes room from idle owners' runs."""
    mb = 1 << 20
    used = _bytes_under(mine) - new_bytes
    if used + new_bytes > MAX_BYTES_PER_VISITOR:
        raise InputError.of("over_quota", size=f"{new_bytes / mb:.0f}", limit=MAX_BYTES_PER_VISITOR // mb,
                            used=f"{used / mb:.0f}")
    if source is not None:
        from_there = sum(_bytes_under(run) for run in _all_runs(runs_dir) if _source_of(run) == source)
        if from_there + new_bytes > MAX_BYTES_PER_ADDRESS:
            raise InputError.of("address_quota", size=f"{new_bytes / mb:.0f}", limit=MAX_BYTES_PER_ADDRESS // mb,
                                used=f"{from_there / mb:.0f}")
    total = _bytes_under(runs_dir) - new_bytes
    if total + new_bytes > MAX_RUNS_FOLDER_BYTES:
        total -= _make_room(runs_dir, total + new_bytes - MAX_RUNS_FOLDER_BYTES, keep=mine)
    if total + new_bytes > MAX_RUNS_FOLDER_BYTES:
        raise InputError.of("runs_folder_full")


def _make_room(runs_dir, needed, keep, now=None):
    """Remove runs of owners not seen for IDLE_OWNER_S, the least recently seen owner first and each owner's oldest
    run first, until `needed` bytes are free; never the operator's runs nor `keep`'s. Returns the bytes freed."""
    now = time.time() if now is None else now
    idle = [(last_seen(owner), owner) for owner in Path(runs_dir).iterdir()
            if owner.is_dir() and owner.name != LOCAL_OWNER and not owner.name.startswith(".") and owner != keep]
    freed = 0
    for seen, owner in sorted(p for p in idle if p[0] < now - IDLE_OWNER_S):
        for run in sorted(_run_folders(owner), key=lambda p: p.stat().st_mtime):
            if freed >= needed:
                return freed
            size = _bytes_under(run)
            shutil.rmtree(run, ignore_errors=True)
            freed += size
    return freed


def last_seen(owner_dir):
    """When the owner of this folder last listed, loaded or saved their runs: the folder's time (_seen)."""
    try:
        return owner_dir.stat().st_mtime
    except OSError:
        return 0.0


def _seen(mine):
    """Mark the owner seen now, on their folder's time, if they have one (a visitor who never saved has none)."""
    try:
        os.utime(mine)
    except OSError:
        pass


def _all_runs(runs_dir):
    return [run for owner in Path(runs_dir).iterdir() if owner.is_dir() for run in _run_folders(owner)]


def _source_of(run):
    try:
        return (run / FROM_FILE).read_text()
    except OSError:
        return None


def _address_hash(runs_dir, group):
    """A salted hash of an address group: the runs folder tells which runs came from one address, not which one."""
    salt_file = Path(runs_dir) / SALT_FILE
    if not salt_file.exists():
        Path(runs_dir).mkdir(parents=True, exist_ok=True)
        try:
            with open(salt_file, "x") as f:  # "x": two replicas creating it at once keep the first one's salt
                f.write(secrets.token_hex(16))
        except FileExistsError:
            pass
    return hashlib.sha256((salt_file.read_text() + group).encode()).hexdigest()[:16]


def _bytes_under(folder):
    total = 0
    for root, _, files in os.walk(folder):
        for f in files:
            try:
                total += os.lstat(os.path.join(root, f)).st_size
            except OSError:  # removed meanwhile
                pass
    return total


def _run_folders(mine):
    return [p for p in mine.iterdir() if p.is_dir() and RUN_NAME.fullmatch(p.name)] if mine.is_dir() else []


def _remove_stale_saves(mine):
    """Hidden folders of saves that crashed halfway (a save in progress is younger, and holds the lock)."""
    for p in mine.glob(".saving-*"):
        try:
            if time.time() - p.stat().st_mtime > STALE_SAVE_S:
                shutil.rmtree(p, ignore_errors=True)
        except OSError:
            pass


def metadata_of(model):
    """What a model's JSON says beyond its architecture: how it was trained (the sha256 is of its own file)."""
    skip = {"kind", "arch", "z_dim", "hidden", "tensors", "sha256", "torch_version"}
    return {k: v for k, v in (getattr(model, "metadata", None) or {}).items() if k not in skip}


def list_runs(runs_dir, owner=None):
    """The owner's saved runs, newest first, as (label, "NAME/KIND") pairs for a dropdown; the owner is seen."""
    found, mine = [], owner_folder(runs_dir, owner)
    if owner is not None and mine.is_dir():
        _seen(mine)
    for folder in _run_folders(mine):
        for json_path in folder.glob("*.json"):
            if json_path.stem not in KINDS or not json_path.with_suffix(".safetensors").is_file():
                continue
            try:
                meta = read_metadata(json_path)
            except WeightsError:
                continue
            partial = " · stopped early" if (meta.get("progress") or {}).get("partial") else ""
            found.append((json_path.stat().st_mtime, f"{folder.name} · {json_path.stem}{partial}",
                          f"{folder.name}/{json_path.stem}"))
    return [(label, value) for _, label, value in sorted(found, reverse=True)]


def load_run(runs_dir, choice, device="cpu", owner=None):
    """The owner's model saved as NAME/KIND.*, `choice` being "NAME/KIND" as list_runs gives it."""
    if not isinstance(choice, str) or choice not in {value for _, value in list_runs(runs_dir, owner)}:
        raise InputError.of("pick_a_run")
    name, kind = choice.split("/")
    try:
        return load_weights(owner_folder(runs_dir, owner) / name, kind, device, kinds=(kind,), largest=LARGEST)
    except WeightsError as e:
        raise InputError.of("run_unloadable", fault=e.fault) from None


def delete_run(runs_dir, choice, owner=None):
    """Remove the owner's run NAME (all of its files), `choice` being "NAME/KIND" as list_runs gives it."""
    if not isinstance(choice, str) or choice not in {value for _, value in list_runs(runs_dir, owner)}:
        raise InputError.of("pick_a_run")
    with _saving:
        shutil.rmtree(owner_folder(runs_dir, owner) / choice.split("/")[0], ignore_errors=True)


def zip_model(model, path):
    """A zip at `path` holding KIND.safetensors and KIND.json, as saved; returns the path."""
    with tempfile.TemporaryDirectory() as tmp:
        files = save_weights(model, tmp, model.kind, metadata_of(model))
        with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:  # safetensors hardly compress
            for f in files:
                z.write(f, f.name)
    return path


# --- Uploads -----------------------------------------------------------------------------------------------------

def load_upload(paths, device="cpu"):
    """Uploaded files -> a model: a .safetensors with its .json, or one .zip holding such a pair (zip_model's).
    Checked as cvae.weights checks the shipped weights, and within this demo's sizes (LARGEST), before any model is
    built; its outputs on a few images must be finite. Anything else -> gr.Error saying what is wrong."""
    if not all(isinstance(p, (str, Path)) and Path(p).is_file() for p in (paths or [])):
        raise InputError.of("upload_two_files")
    paths = [Path(p) for p in (paths or [])]
    if sum(p.stat().st_size for p in paths) > MAX_UPLOAD_BYTES:
        raise InputError.of("upload_too_large", mb=MAX_UPLOAD_BYTES >> 20)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        if len(paths) == 1 and paths[0].suffix.lower() == ".zip":
            _unzip_pair(paths[0], tmp)
        else:
            suffixes = {p.suffix.lower(): p for p in paths}
            if len(paths) != 2 or set(suffixes) != {".safetensors", ".json"}:
                raise InputError.of("upload_two_files")
            for suffix, p in suffixes.items():
                shutil.copyfile(p, tmp / f"{UPLOAD_NAME}{suffix}")  # streamed: never the whole file in memory
        try:
            return load_weights(tmp, UPLOAD_NAME, device, kinds=KINDS, largest=LARGEST)
        except WeightsError as e:
            raise InputError.of("model_unusable", fault=e.fault) from None


def _unzip_pair(path, into):
    """Write into/upload.safetensors and into/upload.json from a zip of exactly such a pair. What a zip's headers
    say is not trusted: its directory is bounded before it is parsed, and each member is copied in chunks while
    counting the bytes actually unpacked, refused past its cap (a zip bomb costs one chunk of memory)."""
    try:
        _check_zip_directory(path)
        with zipfile.ZipFile(path) as z:
            infos = [i for i in z.infolist() if not i.is_dir()]
            suffixes = {Path(i.filename).suffix.lower(): i for i in infos}
            if len(infos) != 2 or set(suffixes) != {".safetensors", ".json"}:
                raise InputError.of("zip_pair")
            if any(i.compress_type not in ZIP_METHODS for i in infos):
                raise InputError.of("zip_method")
            caps = {".json": MAX_JSON_BYTES, ".safetensors": MAX_UPLOAD_BYTES}
            if any(info.file_size > caps[suffix] for suffix, info in suffixes.items()):
                raise InputError.of("zip_too_large", mb=MAX_UPLOAD_BYTES >> 20)
            # What the headers claim is only a first check: zipfile stops a member at its claimed size (and then
            # refuses its CRC), and the count below stops it at the cap whatever zipfile does.
            for suffix, info in suffixes.items():
                with z.open(info) as member, open(into / f"{UPLOAD_NAME}{suffix}", "wb") as out:
                    written = 0
                    while chunk := member.read(COPY_CHUNK):
                        written += len(chunk)
                        if written > caps[suffix]:
                            raise InputError.of("zip_member_too_large", suffix=suffix, mb=caps[suffix] >> 20)
                        out.write(chunk)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, RuntimeError, EOFError, ValueError) as e:
        raise InputError.of("zip_unreadable", reason=e) from None


def _check_zip_directory(path):
    """Refuse a zip whose central directory (where Python's zipfile makes one object per entry) is larger than two
    files need: a 50 MB zip of a million empty entries would cost a gigabyte to list. Found as zipfile finds it:
    the end record at the very end, else the last one within the 64 KB comment window."""
    end_record = b"PK\x05\x06"
    size = path.stat().st_size
    with open(path, "rb") as f:
        f.seek(max(0, size - (22 + 0xFFFF)))
        tail = f.read()
    at = len(tail) - 22 if tail[-22:-18] == end_record else tail.rfind(end_record)
    if at < 0 or len(tail) - at < 22:
        raise zipfile.BadZipFile("File is not a zip file")
    entries, directory_bytes = struct.unpack("<xxxxxxxxxxHI", tail[at:at + 16])
    if entries == 0xFFFF or directory_bytes == 0xFFFFFFFF or directory_bytes > MAX_ZIP_DIRECTORY_BYTES:
        raise InputError.of("zip_pair")
