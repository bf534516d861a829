"""Saved runs belong to their visitor, saves are atomic within quotas, and hostile uploads are refused before they
cost memory (demo/runs.py, cvae/weights.py), tested without a server."""
import json
import os
import subprocess
import sys
import threading
import time
import zipfile
from pathlib import Path

import gradio as gr
import psutil
import pytest
import torch

import demo.runs as runs
from cvae.weights import WEIGHTS_DIR, WeightsError, load_weights, save_weights, sha256
from demo.runs import (delete_run, list_runs, load_run, load_upload, new_owner_key, owner_folder,
                       owner_key_for_page, page_owner, save_run, zip_model)
from hostile_uploads import ROOT, huge_architecture_pair, peak_growth, zip_bomb

ALICE, BOB = new_owner_key(), new_owner_key()
SMALL_GROWTH_MB = 64  # what a refused upload may cost at most; before the fix: +2 GB for each of the two below


def values(runs_dir, owner):
    return [value for _, value in list_runs(runs_dir, owner)]


def folder_is_consistent(folder, kind):
    meta = json.loads((folder / f"{kind}.json").read_text())
    return meta["sha256"] == sha256(folder / f"{kind}.safetensors") and \
        sorted(p.name for p in folder.iterdir()) == [f"{kind}.json", f"{kind}.safetensors"]


def scaled(model, factor):
    """A copy of `model` with other weights (so that whose file is whose can be told)."""
    copy = type(model)(model.kind, model.arch, model.z_dim, model.hidden)
    copy.load_state_dict({k: v * factor if v.is_floating_point() else v for k, v in model.state_dict().items()})
    copy.metadata = {"run_id": f"scaled-{factor}"}
    return copy.eval()


# --- Owners ------------------------------------------------------------------------------------------------------

def test_a_visitor_sees_loads_and_names_only_their_own_runs(generator, tmp_path):
    save_run(generator, tmp_path, "mine", owner=ALICE)
    assert values(tmp_path, ALICE) == ["mine/generator"]
    assert values(tmp_path, BOB) == [] and values(tmp_path, None) == []
    with pytest.raises(gr.Error, match="Pick a saved run"):
        load_run(tmp_path, "mine/generator", owner=BOB)
    with pytest.raises(gr.Error, match="Pick a saved run"):
        load_run(tmp_path, "mine/generator")  # nor the local operator, through the API without a key
    bobs = save_run(scaled(generator, 0.5), tmp_path, "mine", owner=BOB)  # a name of Alice's is free for Bob
    alices = owner_folder(tmp_path, ALICE) / "mine"
    assert bobs != alices and folder_is_consistent(bobs, "generator") and folder_is_consistent(alices, "generator")
    loaded = load_run(tmp_path, "mine/generator", owner=ALICE)
    assert all(torch.equal(v, generator.state_dict()[k]) for k, v in loaded.state_dict().items())
    # The key is never written down: the folders are named by its hash.
    assert ALICE not in str(alices) and len(alices.parent.name) == 16
    with pytest.raises(gr.Error, match="Pick a saved run"):
        delete_run(tmp_path, "mine/generator", owner=new_owner_key())
    delete_run(tmp_path, "mine/generator", owner=BOB)
    assert values(tmp_path, BOB) == [] and values(tmp_path, ALICE) == ["mine/generator"]


@pytest.mark.parametrize("key", [None, "", "short", "x" * 65, "../" * 12, "a" * 31 + "/", 12345, ["a" * 40],
                                 {"key": "a" * 40}, "é" * 40])
def test_whatever_the_page_sends_as_its_key_is_checked(key, generator, tmp_path):
    with pytest.raises(gr.Error, match="no valid key"):
        page_owner(key)
    for call in (lambda: list_runs(tmp_path, key), lambda: save_run(generator, tmp_path, "x", owner=key)):
        if key is not None:  # None is the local operator's, for callers on the server itself
            with pytest.raises(gr.Error, match="no valid key"):
                call()
    assert not any(tmp_path.iterdir())


def test_the_page_keeps_its_key_or_gets_a_new_one():
    assert owner_key_for_page(ALICE) == ALICE
    fresh = {owner_key_for_page(bad) for bad in (None, "", "short", 7, "x" * 65)}
    assert len(fresh) == 5 and all(page_owner(k) == k for k in fresh)
    assert page_owner(None, local_operator=True) is None and page_owner("junk", local_operator=True) is None


def test_the_local_operator_finds_runs_saved_without_a_key(generator, tmp_path):
    folder = save_run(generator, tmp_path, "from-my-machine")
    assert folder == tmp_path.resolve() / "local" / "from-my-machine"
    assert values(tmp_path, None) == ["from-my-machine/generator"]
    owner = page_owner("anything the page sends", local_operator=True)
    assert load_run(tmp_path, "from-my-machine/generator", owner=owner).kind == "generator"


# --- Atomic saves ------------------------------------------------------------------------------------------------

def slow_save_weights(monkeypatch, delay_s=0.5):
    """save_weights that lingers between its two files, so that two saves surely overlap."""
    def slow(model, folder, name=None, metadata=None):
        st, js = save_weights(model, folder, name, metadata)
        time.sleep(delay_s)
        return st, js
    monkeypatch.setattr(runs, "save_weights", slow)


def test_two_saves_under_one_name_at_once_in_one_server(generator, tmp_path, monkeypatch):
    slow_save_weights(monkeypatch)
    results, start = {}, threading.Barrier(2)

    def save(factor):
        start.wait()
        try:
            results[factor] = save_run(scaled(generator, factor), tmp_path, "same", owner=ALICE)
        except gr.Error as e:
            results[factor] = e

    threads = [threading.Thread(target=save, args=(f,)) for f in (1.0, 0.5)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    saved = [r for r in results.values() if isinstance(r, Path)]
    refused = [str(r) for r in results.values() if isinstance(r, gr.Error)]
    assert len(saved) == 1 and len(refused) == 1 and "already have a run named 'same'" in refused[0], results
    assert folder_is_consistent(saved[0], "generator")
    assert [p.name for p in saved[0].parent.iterdir()] == ["same"]  # no half-written folder left beside


SAVE_IN_ANOTHER_PROCESS = """
import sys, time
sys.path.insert(0, ".")
import demo.runs as runs
from cvae.weights import WEIGHTS_DIR, load_weights, save_weights
model = load_weights(WEIGHTS_DIR, "generator")
for k, v in model.state_dict().items():
    if v.is_floating_point():
        v.mul_(float(sys.argv[3]))
def slow(*args, **kwargs):
    files = save_weights(*args, **kwargs)
    time.sleep(1.0)  # both processes hold their written run at once
    return files
runs.save_weights = slow
time.sleep(max(0, float(sys.argv[4]) - time.time()))
try:
    print("saved", runs.save_run(model, sys.argv[1], "same", owner=sys.argv[2]))
except Exception as e:
    print("refused", e)
"""


def test_two_saves_under_one_name_at_once_from_two_processes(tmp_path):
    """Two server processes (or workers) saving at the same moment: the rename into place decides."""
    at = time.time() + 25  # both have imported torch and loaded the model by then, on a busy machine too
    procs = [subprocess.Popen([sys.executable, "-c", SAVE_IN_ANOTHER_PROCESS, str(tmp_path), ALICE, factor, str(at)],
                              cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for factor in ("1.0", "0.5")]
    outs = [p.communicate(timeout=120) for p in procs]
    lines = [out.strip().splitlines()[-1] if out.strip() else err[-2000:] for out, err in outs]
    assert sorted(line.split()[0] for line in lines) == ["refused", "saved"], lines
    assert "already have a run named 'same'" in next(line for line in lines if line.startswith("refused"))
    folder = owner_folder(tmp_path, ALICE) / "same"
    assert folder_is_consistent(folder, "generator")
    assert [p.name for p in folder.parent.iterdir()] == ["same"]


def test_a_save_that_fails_halfway_leaves_nothing(generator, tmp_path, monkeypatch):
    def crash(model, folder, name=None, metadata=None):
        (Path(folder) / "generator.safetensors").write_bytes(b"half")
        raise OSError("disk full")
    monkeypatch.setattr(runs, "save_weights", crash)
    with pytest.raises(OSError):
        save_run(generator, tmp_path, "broken", owner=ALICE)
    assert list(owner_folder(tmp_path, ALICE).iterdir()) == []


# --- Quotas ------------------------------------------------------------------------------------------------------

def test_quotas_per_visitor_and_for_the_folder_say_why(generator, tmp_path, monkeypatch):
    one_run = sum(p.stat().st_size for p in save_run(generator, tmp_path, "first", owner=ALICE).iterdir())
    monkeypatch.setattr(runs, "MAX_RUNS_PER_VISITOR", 2)
    save_run(generator, tmp_path, "second", owner=ALICE)
    with pytest.raises(gr.Error, match="You have 2 saved runs, the most one visitor can keep"):
        save_run(generator, tmp_path, "third", owner=ALICE)
    save_run(generator, tmp_path, "first", owner=BOB)  # another visitor's quota is their own

    monkeypatch.setattr(runs, "MAX_RUNS_PER_VISITOR", 10)
    monkeypatch.setattr(runs, "MAX_BYTES_PER_VISITOR", int(2.5 * one_run))
    with pytest.raises(gr.Error, match=r"would take your saved runs past \d+ MB"):
        save_run(generator, tmp_path, "third", owner=ALICE)
    save_run(generator, tmp_path, "second", owner=BOB)

    monkeypatch.setattr(runs, "MAX_RUNS_FOLDER_BYTES", int(4.5 * one_run))  # 4 runs are saved
    with pytest.raises(gr.Error, match="runs folder is full"):
        save_run(generator, tmp_path, "third", owner=new_owner_key())
    for i in range(3):  # the operator on their own machine: their disk, no quota
        save_run(generator, tmp_path, f"local-{i}")
    assert sorted(values(tmp_path, ALICE)) == ["first/generator", "second/generator"]
    assert not list(tmp_path.rglob(".saving-*")), "a refused save leaves no files"


@pytest.fixture
def fresh_address_counts(monkeypatch):
    monkeypatch.setattr(runs, "saves_per_address", runs.SavesPerAddress())


def test_one_address_minting_keys_saves_only_its_hourly_share(generator, tmp_path, monkeypatch, fresh_address_counts):
    monkeypatch.setattr(runs, "SAVES_PER_ADDRESS_PER_HOUR", 2)
    for i in range(2):
        save_run(generator, tmp_path, f"run-{i}", owner=new_owner_key(), address="203.0.113.5")
    with pytest.raises(gr.Error, match=r"2 runs were saved from your address in the last hour.*try again in 60 min"):
        save_run(generator, tmp_path, "run-2", owner=new_owner_key(), address="203.0.113.5")
    save_run(generator, tmp_path, "elsewhere", owner=ALICE, address="198.51.100.7")  # another address saves
    save_run(generator, tmp_path, "operator")  # the operator has no such limit
    # An IPv6 address counts by its /64: a client cannot walk its own block.
    for i in range(2):
        save_run(generator, tmp_path, f"v6-{i}", owner=new_owner_key(), address=f"2001:db8:1:2::{i + 1}")
    with pytest.raises(gr.Error, match="in the last hour"):
        save_run(generator, tmp_path, "v6-2", owner=new_owner_key(), address="2001:db8:1:2:ffff::9")
    # Refused saves leave nothing behind and are not counted.
    assert not list(tmp_path.rglob(".saving-*"))
    counts = runs.SavesPerAddress(per_hour=1)
    counts.record("a", now=1000.0)
    with pytest.raises(gr.Error, match="try again in 50 min"):
        counts.check("a", now=1600.0)
    counts.check("a", now=4601.0)  # an hour later


def test_the_address_behind_a_trusted_proxy_is_the_one_it_forwards(monkeypatch):
    from types import SimpleNamespace as Request
    def request(peer, forwarded=None):
        return Request(client=Request(host=peer), headers={"x-forwarded-for": forwarded} if forwarded else {})
    assert runs.address_of(request("127.0.0.1", "203.0.113.5")) == "127.0.0.1"  # no proxy trusted: the peer
    monkeypatch.setattr(runs, "trusted_proxies", runs.parse_proxies("127.0.0.1, 10.0.0.0/8"))
    assert runs.address_of(request("127.0.0.1", "203.0.113.5")) == "203.0.113.5"
    # What the client wrote itself comes first; the proxies' own entries last: the visitor is the last untrusted.
    assert runs.address_of(request("127.0.0.1", "1.2.3.4, 203.0.113.5, 10.1.2.3")) == "203.0.113.5"
    assert runs.address_of(request("198.51.100.9", "203.0.113.5")) == "198.51.100.9"  # not from a proxy: ignored
    assert runs.address_of(request("127.0.0.1")) == "127.0.0.1"
    assert runs.address_of(None) is None
    with pytest.raises(ValueError):
        runs.parse_proxies("10.0.0.0/8, not-an-address")


def test_runs_from_one_address_take_at_most_its_share_of_the_folder(generator, tmp_path, monkeypatch,
                                                                   fresh_address_counts):
    one_run = sum(p.stat().st_size for p in save_run(generator, tmp_path, "a", owner=ALICE, address="10.0.0.1")
                  .iterdir())
    monkeypatch.setattr(runs, "MAX_BYTES_PER_ADDRESS", int(2.5 * one_run))
    save_run(generator, tmp_path, "b", owner=new_owner_key(), address="10.0.0.1")
    with pytest.raises(gr.Error, match=r"Runs saved from your address take \d+ MB.*would pass \d+ MB"):
        save_run(generator, tmp_path, "c", owner=new_owner_key(), address="10.0.0.1")
    save_run(generator, tmp_path, "c", owner=BOB, address="10.0.0.2")
    delete_run(tmp_path, "a/generator", owner=ALICE)  # room again for that address
    save_run(generator, tmp_path, "c", owner=new_owner_key(), address="10.0.0.1")
    assert not any("10.0.0" in p.read_text() for p in tmp_path.rglob(runs.FROM_FILE)), "addresses are hashed"


def test_a_full_folder_makes_room_from_owners_not_seen_for_long(generator, tmp_path, monkeypatch,
                                                                fresh_address_counts):
    idle, recent = new_owner_key(), new_owner_key()
    one_run = sum(p.stat().st_size for p in save_run(generator, tmp_path, "old", owner=idle).iterdir())
    save_run(generator, tmp_path, "older-still", owner=idle)
    save_run(generator, tmp_path, "kept", owner=recent)
    monkeypatch.setattr(runs, "MAX_RUNS_FOLDER_BYTES", int(3.5 * one_run))
    with pytest.raises(gr.Error, match="runs folder is full"):  # every owner was seen lately: nothing to remove
        save_run(generator, tmp_path, "new", owner=new_owner_key())
    long_ago = time.time() - runs.IDLE_OWNER_S - 60
    os.utime(owner_folder(tmp_path, idle) / "older-still", (long_ago - 10, long_ago - 10))
    os.utime(owner_folder(tmp_path, idle), (long_ago, long_ago))
    save_run(generator, tmp_path, "new", owner=new_owner_key())
    assert values(tmp_path, idle) == ["old/generator"], "the idle owner's oldest run made room"
    assert values(tmp_path, recent) == ["kept/generator"]
    list_runs(tmp_path, idle)  # the idle owner comes back: seen again, their last run is kept
    with pytest.raises(gr.Error, match="runs folder is full"):
        save_run(generator, tmp_path, "another", owner=new_owner_key())
    assert values(tmp_path, idle) == ["old/generator"]


# --- Uploads -----------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def good_zip(generator, tmp_path_factory):
    return zip_model(generator, tmp_path_factory.mktemp("good") / "generator.zip")


def test_hostile_uploads_are_refused_before_they_cost_memory(good_zip, tmp_path):
    """A 3 KB JSON claiming z_dim = hidden = 4096 with an 80-byte safetensors; a 1 MB zip whose member unpacks to
    1 GB of zeros while its headers claim 9.95 MB. Each measured in a fresh process (tests/hostile_uploads.py)."""
    big = huge_architecture_pair(tmp_path / "big")
    started = time.monotonic()
    bomb = zip_bomb(tmp_path / "bomb.zip")
    print(f"bomb made in {time.monotonic() - started:.1f} s")
    assert sum(p.stat().st_size for p in big) < 3300 and bomb.stat().st_size < 1.1e6
    answers = peak_growth([big, [bomb]], good_zip)
    print(answers)
    (big_answer, bomb_answer) = answers
    assert "z_dim is 4096; models of this demo have a z_dim of at most 64" in big_answer["error"]
    assert bomb_answer["error"].startswith("InputError") and "zip" in bomb_answer["error"]
    for answer in answers:
        assert max(answer["peak_growth_mb"], answer["maxrss_growth_mb"]) < SMALL_GROWTH_MB, answer


def test_a_json_claiming_a_huge_model_is_checked_without_building_it(tmp_path):
    """Even within cvae.weights' own bounds (no demo sizes asked), the model a JSON describes is never built before
    the file's tensors are seen to match it: its shapes come from the "meta" device."""
    big = huge_architecture_pair(tmp_path)
    (tmp_path / "big.json").write_text(json.dumps({**json.loads(big[1].read_text()), "arch": "conv"}))
    process, peak, done = psutil.Process(), [0], threading.Event()
    before = process.memory_info().rss

    def sample():
        while not done.is_set():
            peak[0] = max(peak[0], process.memory_info().rss)
            time.sleep(0.001)

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        with pytest.raises(WeightsError, match="do not match a generator"):
            load_weights(tmp_path, "big")
    finally:
        done.set()
        sampler.join()
    print(f"peak growth {(peak[0] - before) / 2**20:.1f} MB")
    assert peak[0] - before < SMALL_GROWTH_MB << 20


def test_zips_of_other_methods_or_many_entries_are_refused(good_zip, tmp_path):
    with zipfile.ZipFile(good_zip) as z:
        members = {name: z.read(name) for name in z.namelist()}
    bz = tmp_path / "bz.zip"
    with zipfile.ZipFile(bz, "w", zipfile.ZIP_BZIP2) as z:  # bzip2 unpacks without a bound per read
        for name, data in members.items():
            z.writestr(name, data)
    with pytest.raises(gr.Error, match="compressed with a method this page does not read"):
        load_upload([bz])
    crowded = tmp_path / "crowded.zip"
    with zipfile.ZipFile(crowded, "w") as z:
        for i in range(2000):
            z.writestr(f"{i}.json", "")
    with pytest.raises(gr.Error, match="one .safetensors and one .json"):
        load_upload([crowded])
    deflated = tmp_path / "deflated.zip"  # what an ordinary zip tool makes still loads
    with zipfile.ZipFile(deflated, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    assert load_upload([deflated]).kind == "generator"


def test_a_member_past_its_cap_is_refused_whether_its_header_says_so_or_not(tmp_path, monkeypatch):
    monkeypatch.setattr(runs, "MAX_UPLOAD_BYTES", 4 << 20)
    honest = zip_bomb(tmp_path / "honest.zip", unpacked=64 << 20, claimed=64 << 20)
    with pytest.raises(gr.Error, match=r"too large for a model of this demo \(at most 4 MB"):
        load_upload([honest])
    lying = zip_bomb(tmp_path / "lying.zip", unpacked=64 << 20, claimed=1 << 20)
    with pytest.raises(gr.Error, match="zip cannot be read"):  # stopped at the 1 MB it claims: its CRC is wrong
        load_upload([lying])


def test_a_model_whose_outputs_are_not_numbers_is_refused(generator, classifier, tmp_path):
    for model in (generator, classifier):
        huge = {k: torch.full(v.shape, 1e38) if v.is_floating_point() else v for k, v in model.state_dict().items()}
        assert all(torch.isfinite(v).all() for v in huge.values())  # finite weights...
        from safetensors.torch import save_file
        st, js = save_weights(model, tmp_path / model.kind, "m")
        save_file(huge, st)
        with pytest.raises(gr.Error, match=r"outputs on a few test images are not numbers \(NaN or infinite\)"):
            load_upload([st, js])  # ...whose outputs are NaN


def test_the_shipped_judge_is_refused_with_a_clear_message(tmp_path):
    pair = [WEIGHTS_DIR / "judge.safetensors", WEIGHTS_DIR / "judge.json"]
    with pytest.raises(gr.Error, match="this is the judge, the separate digit reader .* only a generator or a "
                                       "classifier can be used here"):
        load_upload(pair)
    with zipfile.ZipFile(tmp_path / "judge.zip", "w") as z:
        for p in pair:
            z.write(p, p.name)
    with pytest.raises(gr.Error, match="this is the judge"):
        load_upload([tmp_path / "judge.zip"])


def test_a_run_whose_json_names_another_kind_is_refused(generator, tmp_path):
    folder = save_run(generator, tmp_path, "renamed", owner=ALICE)
    meta = json.loads((folder / "generator.json").read_text())
    (folder / "generator.json").write_text(json.dumps({**meta, "kind": "classifier"}))
    with pytest.raises(gr.Error, match="this is a classifier; only a generator can be used here"):
        load_run(tmp_path, "renamed/generator", owner=ALICE)


def test_the_browser_state_is_the_same_on_every_start():
    """Its storage key and secret do not change with a restart: the browser reads its key back after one."""
    first, second = runs.owner_key_state(), runs.owner_key_state()
    assert (first.storage_key, first.secret) == (second.storage_key, second.secret)
    assert first.default_value is None  # a default would be one key for every browser


@pytest.mark.parametrize("paths", [None, [], [None, None], ["/nonexistent.json", "/nonexistent.safetensors"],
                                   [123], [WEIGHTS_DIR]])
def test_uploads_that_are_not_files_get_a_clear_message(paths):
    with pytest.raises(gr.Error, match="Upload a model as two files"):
        load_upload(paths)
