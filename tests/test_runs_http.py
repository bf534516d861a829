"""The Train tab's uploads and saved runs over HTTP, as a careless or hostile visitor calls them: the page's own events
joined raw (queue/join with their fn_index, found by the component that triggers them), two or more sessions at
once, against the app served in this process (so that its memory is this process's)."""
import json
import threading
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor

import psutil
import pytest
import torch

from cvae.weights import WEIGHTS_DIR, save_weights, sha256
from demo.runs import new_owner_key, owner_folder, zip_model
from hostile_uploads import huge_architecture_pair, zip_bomb
from page_events import Page

SMALL_GROWTH_MB = 64


def error_of(result):
    success, output = result
    assert not success, output
    return output.get("error") or ""


class PeakMemory:
    """The largest growth of this process's resident set while the block runs, sampled every millisecond."""

    def __enter__(self):
        self.process, self.done = psutil.Process(), threading.Event()
        self.before = self.peak = self.process.memory_info().rss
        self.sampler = threading.Thread(target=self.sample)
        self.sampler.start()
        return self

    def sample(self):
        while not self.done.is_set():
            self.peak = max(self.peak, self.process.memory_info().rss)
            time.sleep(0.001)

    def __exit__(self, *exc):
        self.done.set()
        self.sampler.join()
        self.growth_mb = (self.peak - self.before) / 2**20


@pytest.fixture(scope="module")
def good_zip(generator, tmp_path_factory):
    return zip_model(generator, tmp_path_factory.mktemp("good") / "generator.zip")


def test_hostile_uploads_are_refused_with_a_clear_message_and_little_memory(served_app, good_zip, tmp_path):
    url = served_app[0]
    big = huge_architecture_pair(tmp_path / "big")
    bomb = zip_bomb(tmp_path / "bomb.zip")
    careful, hostile = Page(url), Page(url)
    assert careful.upload([good_zip])[0]  # everything an upload needs is loaded before the baseline
    for paths, message in ((big, "z_dim is 4096; models of this demo have a z_dim of at most 64"),
                           ([bomb], "That zip cannot be read")):
        with PeakMemory() as memory:
            answer = error_of(hostile.upload(paths))
        print(f"{paths[0].name}: {answer!r}, peak growth {memory.growth_mb:.1f} MB")
        assert message in answer and memory.growth_mb < SMALL_GROWTH_MB
    assert careful.upload([good_zip])[0]  # and the server goes on serving


def test_the_judge_pair_and_a_model_computing_nan_get_clear_messages(served_app, generator, tmp_path):
    page = Page(served_app[0])
    judge = error_of(page.upload([WEIGHTS_DIR / "judge.safetensors", WEIGHTS_DIR / "judge.json"]))
    assert "this is the judge" in judge and "only a generator or a classifier can be used here" in judge, judge
    from safetensors.torch import save_file
    st, js = save_weights(generator, tmp_path, "overflowing")
    save_file({k: torch.full(v.shape, 1e38) if v.is_floating_point() else v
               for k, v in generator.state_dict().items()}, st)
    nan = error_of(page.upload([st, js]))
    assert "outputs on a few test images are not numbers (NaN or infinite)" in nan, nan


def saved_runs(page):
    success, output = page.call("runs-refresh", "click", {})
    assert success, output
    return [value for _, value in output["data"][0]["choices"]]


@pytest.fixture
def pages(served_app):
    assert Page(served_app[0]).sends_key("save", "click"), "the Train tab sends no browser key with its saves"
    return lambda key: Page(served_app[0], key)


def test_a_visitor_cannot_see_load_or_overwrite_anothers_run(pages, served_app, good_zip):
    alice, bob = pages(new_owner_key()), pages(new_owner_key())
    for page in (alice, bob):
        assert page.upload([good_zip])[0]
    success, output = alice.call("save", "click", {"textbox": "alices"})
    assert success and "Saved as" in json.dumps(output), output
    assert "alices/generator" in saved_runs(alice) and "alices/generator" not in saved_runs(bob)
    # Refused by the server's check of Bob's own runs, or before it by gradio (Bob's list never held that run).
    refusal = error_of(bob.call("load", "click", {"dropdown": "alices/generator"}))
    assert "Pick a saved run" in refusal or "not in the list of choices" in refusal, refusal
    assert bob.call("save", "click", {"textbox": "alices"})[0]  # Bob's own run of that name, beside Alice's
    for bad in (None, "", "x" * 500, "../" * 20):
        intruder = pages(bad)
        assert "no valid key" in error_of(intruder.call("load", "click", {"dropdown": None}))
        assert "no valid key" in error_of(intruder.call("save", "click", {"textbox": "mine"}))


def test_two_saves_under_one_name_at_once_give_one_run_and_one_refusal(pages, served_app, good_zip, generator,
                                                                       tmp_path):
    key = new_owner_key()
    first, second = pages(key), pages(key)  # one visitor, two tabs
    other = tmp_path / "other.zip"
    scaled = type(generator)(generator.kind, generator.arch, generator.z_dim, generator.hidden)
    scaled.load_state_dict({k: v * 0.5 if v.is_floating_point() else v for k, v in generator.state_dict().items()})
    with zipfile.ZipFile(other, "w") as z:  # another model, so that a folder mixing the two would show
        files = save_weights(scaled, tmp_path / "other", metadata={"run_id": "other"})
        for f in files:
            z.write(f, f.name)
    assert first.upload([good_zip])[0] and second.upload([other])[0]
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda page: page.call("save", "click", {"textbox": "same"}), (first, second)))
    assert sorted(success for success, _ in results) == [False, True], results
    refusal = next(output["error"] for success, output in results if not success)
    assert "already have a run named 'same'" in refusal
    folder = owner_folder(served_app[1], key) / "same"
    meta = json.loads((folder / "generator.json").read_text())
    assert meta["sha256"] == sha256(folder / "generator.safetensors")
    assert sorted(p.name for p in folder.parent.iterdir()) == ["same"]


def test_one_address_minting_keys_cannot_fill_the_runs_folder(served_app, good_zip, monkeypatch):
    """A client saving under a new key each time, from one address, is refused after its hour's share, with the
    reason; visitors at other addresses still save."""
    import demo.runs as runs
    monkeypatch.setattr(runs, "saves_per_address", runs.SavesPerAddress(per_hour=3))
    url = served_app[0]
    answers = []
    for i in range(5):
        hostile = Page(url, new_owner_key(), source="127.0.0.9")
        assert hostile.upload([good_zip])[0]
        answers.append(hostile.call("save", "click", {"textbox": f"filler-{i}"}))
    assert [success for success, _ in answers] == [True, True, True, False, False], answers
    refusal = error_of(answers[-1])
    assert "3 runs were saved from your address in the last hour" in refusal and "try again in" in refusal, refusal
    for source in ("127.0.0.10", "127.0.0.11"):
        other = Page(url, new_owner_key(), source=source)
        assert other.upload([good_zip])[0]
        success, output = other.call("save", "click", {"textbox": "mine"})
        assert success and "Saved as" in json.dumps(output), output
