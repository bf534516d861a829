"""The Train tab without a browser: the worker (one slot, budgets, pause, resume, stop that keeps the model), the
live figures it shows, and the visitor's model as files (saved runs, download, upload, bad uploads); and that none
of it ever writes into the shipped weights."""
import dataclasses
import json
import os
import sys
import time
import zipfile
from pathlib import Path

import gradio as gr
import numpy as np
import pytest
import torch

from cvae.weights import WEIGHTS_DIR, load_weights, save_weights, sha256
from demo import train_tab as t
from demo.runs import list_runs, load_run, load_upload, run_name, save_run, zip_model
from demo.shared import Session
from demo.training import BUDGETS, START_FROM, check_training_settings, default_settings, start_model


def settings(kind, budget="until N epochs", epochs=1, train_size=512, start=START_FROM[0], **changes):
    d = default_settings(kind)
    return check_training_settings(kind, budget, epochs, changes.get("batch_size", d.batch_size),
                                   changes.get("lr", d.lr), train_size, 4000, start)


def start_job(runner, settings, owner="test", start_model=None):
    """Start a job as soon as the server's one training slot is free (another test may be finishing one)."""
    job = runner.start_when_free(settings, owner=owner, start_model=start_model, timeout=60)
    assert job is not None, "the training slot stayed busy"
    return job


def wait_done(job, timeout=60):
    """Wait for the job to end, looking at it every half second as the page does (an unwatched job stops)."""
    deadline = time.monotonic() + timeout
    while not job.wait(0.5):
        job.touch()
        assert time.monotonic() < deadline, f"training did not end within {timeout} s"
    return job.snapshot()


def wait_for(condition, timeout=30):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "waited too long"
        time.sleep(0.05)


@pytest.mark.parametrize("args,word", [
    (("generator", "1 min", 1, 0, 1e-3, 512), "batch size"),
    (("generator", "1 min", 1, 128, 0, 512), "learning rate"),
    (("generator", "1 min", 1, 128, float("nan"), 512), "learning rate"),
    (("generator", "1 min", 1, 128, 1e-3, 4001), "training-set size"),
    (("generator", "1 min", 1, 128, 1e-3, 0), "training-set size"),
    (("judge", "1 min", 1, 128, 1e-3, 512), "model"),
    (("generator", "10 min", 1, 128, 1e-3, 512), "time budget"),
    (("generator", "until N epochs", None, 128, 1e-3, 512), "epochs"),
    (("generator", "until N epochs", 51, 128, 1e-3, 512), "epochs"),
    (("generator", "until N epochs", 1.5, 128, 1e-3, 512), "whole number"),
])
def test_training_settings_out_of_range_are_refused(args, word):
    with pytest.raises(gr.Error, match=word):
        check_training_settings(*args, available=4000)
    with pytest.raises(gr.Error, match="Start from"):
        check_training_settings("generator", "1 min", 1, 128, 1e-3, 512, 4000, start="the moon")


def test_a_short_run_of_the_generator_shows_its_curves_and_samples_and_keeps_the_model(runner, tmp_path):
    job = start_job(runner, settings("generator", epochs=1, train_size=512))
    assert runner.start(settings("generator"), owner="someone else") is None  # one training at a time
    snap = wait_done(job)
    assert snap.status == "done", snap.error
    steps = -(-512 // default_settings("generator").batch_size)
    assert snap.global_step == steps and len(snap.losses) == steps and snap.fraction == 1.0
    assert snap.images_per_s > 0 and snap.preview is not None and snap.final["test_loss"] > 0
    assert snap.tests[-1]["test_loss"] == snap.final["test_loss"]  # the final test point is on the curve
    model = job.model
    assert model is not None and not model.training
    assert model.z_dim == runner.templates["generator"].z_dim  # fits the page's sliders
    assert model.metadata["progress"]["partial"] is False and model.metadata["run_id"] == job.run_id
    frame = t.loss_frame(snap)
    assert list(frame.columns) == ["step", "loss", "curve"]
    assert set(frame["curve"]) == {"train", "test", "KL (batch)", "reconstruction (batch)"}
    # The two terms of a step's batch are measured from its first step and add up to about its loss (they are
    # measured after the step, with the network in eval mode).
    first_step, kl, reconstruction = snap.terms[0]
    assert first_step == 1 and kl >= 0 and reconstruction > 0
    step, kl, reconstruction = snap.terms[-1]
    assert kl + reconstruction == pytest.approx(dict(snap.losses)[step], rel=0.25)
    assert "Finished" in t.progress_text(snap) and "test loss" in t.progress_text(snap)
    assert "not in use" in t.describe(model) and "in use in this session" in t.describe(model, in_use=True)
    # Its own threshold for model 1's "not a digit", measured after the run, beside the requests.
    wait_for(lambda: "second_opinion" in model.metadata, timeout=120)
    assert model.metadata["second_opinion"]["threshold"] > 0 and model.metadata["second_opinion"]["images"] == 250


def test_a_classifier_run_shows_test_accuracy_and_a_confusion_matrix(runner):
    job = start_job(runner, settings("classifier", epochs=1, train_size=512))
    snap = wait_done(job)
    assert snap.status == "done", snap.error
    confusion = np.asarray(snap.confusion)
    assert confusion.shape == (10, 10) and confusion.sum() == 1000  # the bundled sample's 1,000 test images
    assert np.trace(confusion) / 1000 == pytest.approx(snap.final["test_accuracy"])
    assert list(t.accuracy_frame(snap).columns) == ["step", "accuracy"]
    image = t.confusion_image(confusion)
    assert image.size == (11 * 34, 11 * 34)
    assert "test accuracy" in t.progress_text(snap)


def test_pause_holds_the_run_and_resume_goes_on_from_where_it_was(runner):
    job = start_job(runner, settings("generator", epochs=20, train_size=4000), owner="visitor")
    wait_for(lambda: job.snapshot().global_step >= 3)
    assert not runner.pause(owner="another visitor")  # only the visitor who started it
    assert runner.pause(owner="visitor")
    wait_for(lambda: job.snapshot().status == "paused")
    held = job.snapshot()
    time.sleep(1.5)
    still = job.snapshot()
    assert still.global_step == held.global_step and still.losses == held.losses
    assert still.train_seconds == held.train_seconds  # the budget's clock stops too
    assert "Paused" in t.progress_text(still)
    assert runner.pause(owner="visitor", paused=False)
    wait_for(lambda: job.snapshot().global_step > held.global_step + 2)
    assert job.snapshot().losses[:len(held.losses)] == held.losses  # the same run, its curve kept
    runner.stop(owner="visitor")
    assert wait_done(job).status == "stopped"


def test_stop_ends_the_run_within_a_step_and_keeps_the_model_marked_partial(runner, tmp_path):
    job = start_job(runner, settings("generator", epochs=20, train_size=4000), owner="visitor")
    wait_for(lambda: job.snapshot().global_step >= 2)
    runner.pause(owner="visitor")  # a paused run stops too
    assert not runner.stop(owner="another visitor")
    asked = time.monotonic()
    assert runner.stop(owner="visitor")
    snap = wait_done(job, timeout=20)
    print(f"stopped and measured {time.monotonic() - asked:.2f} s after the click")
    assert snap.status == "stopped" and not runner.busy  # the slot is free again
    model = job.model
    assert model is not None and model.metadata["progress"]["partial"] is True
    assert model.metadata["progress"]["steps"] == snap.global_step >= 2
    assert "Stopped" in t.progress_text(snap) and "stopped early" in t.describe(model)
    folder = save_run(model, tmp_path / "runs", "stopped")
    assert load_weights(folder, "generator").metadata["progress"]["partial"] is True  # saveable, and says so


def test_an_abandoned_run_stops_by_itself_and_frees_the_slot(runner, monkeypatch):
    import demo.training as training
    monkeypatch.setattr(training, "ABANDONED_AFTER_S", 0.5)
    job = start_job(runner, settings("generator", epochs=20, train_size=4000))
    runner.pause(owner="test")  # even while paused
    assert job.wait(15) and not runner.busy


def test_training_goes_on_from_the_shipped_model(runner, models):
    shipped = models[0]
    before = {k: v.clone() for k, v in shipped.state_dict().items()}
    job = start_job(runner, settings("generator", epochs=1, train_size=256, start=START_FROM[1]),
                    start_model=shipped)
    snap = wait_done(job)
    assert snap.status == "done", snap.error
    assert all(torch.equal(v, shipped.state_dict()[k]) for k, v in before.items())  # a copy was trained
    assert job.model is not shipped and job.model.arch == shipped.arch
    assert snap.final["test_loss"] < 110  # it starts from what the shipped model knows, not from scratch


def test_a_time_budget_ends_the_run(runner, monkeypatch):
    monkeypatch.setitem(BUDGETS, "3 s", 3)  # the presets are 30 s and more: a test of the mechanism needs less
    job = start_job(runner, settings("classifier", budget="3 s", train_size=4000))
    snap = wait_done(job, timeout=60)
    assert snap.status == "done", snap.error
    # The budget is the wall time from Start to Finished: the training's steps got what the estimates of the
    # evaluations and the final measurement left of it (at least half), and all of it ended about on time.
    assert 1.5 <= snap.train_budget_s < 3 and snap.train_seconds == pytest.approx(snap.train_budget_s, abs=0.3)
    assert snap.fraction == 1.0 and snap.eta_s == 0 and snap.seconds < 3 * 1.5
    assert f"{snap.seconds:.0f} s of 3 s" in t.progress_text(dataclasses.replace(snap, status="running"))


def test_the_page_says_how_long_the_final_measurement_takes(runner, monkeypatch):
    monkeypatch.setitem(BUDGETS, "3 s", 3)
    job = start_job(runner, settings("generator", budget="3 s", train_size=2000))
    seen = []
    while not job.wait(0.05):
        job.touch()  # as the page does
        snap = job.snapshot()
        if snap.status in ("running", "measuring"):
            seen.append((snap.status, snap.eta_s, t.progress_text(snap)))
    measuring = [s for s in seen if s[0] == "measuring"]
    assert measuring, "the measurement was never seen"  # a 3 s run on the sample: it lasts a good part of a second
    assert all(eta is not None and eta >= 0 and f"about {eta:.0f} s left" in text for _, eta, text in measuring)
    running = [eta for status, eta, _ in seen if status == "running" and eta is not None]
    assert running and max(running) <= 3  # the time left counts to Finished, within the budget


# --- The page's handlers, without a browser -----------------------------------------------------------------------

def test_the_training_view_is_a_reset_then_only_what_changed_then_the_end(runner):
    job = start_job(runner, settings("classifier", epochs=2, train_size=1024), owner="viewer")
    frames = list(t.training_frames(job, every=0.2))
    first, last = frames[0], frames[-1]
    assert first["views_for"] == "classifier" and first["state"] == "running"
    assert last["state"] == "done" and "Finished" in last["progress"] and "test accuracy" in last["progress"]
    assert all(f["state"] in ("running", "paused") for f in frames[1:-1])
    assert all("progress" in f for f in frames)
    # The accuracy and the confusion matrix come only with a new test point, and never a sample picture.
    with_tests = [f for f in frames if "accuracy" in f]
    assert with_tests and all("confusion" in f for f in with_tests) and not any("samples" in f for f in frames)
    assert len(with_tests) < len(frames) - 1  # not every frame: only what changed is sent
    assert list(last["accuracy"].columns) == ["step", "accuracy"] and last["confusion"].size == (374, 374)


def test_the_training_view_shows_a_pause_and_a_stop(runner):
    job = start_job(runner, settings("generator", epochs=20, train_size=4000), owner="viewer")
    view = t.training_frames(job, every=0.1)
    assert next(view)["views_for"] == "generator"
    wait_for(lambda: job.snapshot().global_step >= 2)
    assert t.pause_or_resume(runner, "someone else") is None and t.pause_or_resume(runner, "viewer") == "Resume"
    frame = next(f for f in view if f["state"] == "paused" and "Paused" in f["progress"])
    assert t.pause_or_resume(runner, "viewer") == "Pause"
    frame = next(f for f in view if f["state"] == "running")
    assert "Training the generator" in frame["progress"]
    runner.stop(owner="viewer")
    frames = list(view)
    assert frames[-1]["state"] == "done" and "Stopped at" in frames[-1]["progress"]
    assert any("samples" in f for f in frames)  # the final samples, drawn after the stop


def test_the_page_trains_then_the_model_is_the_visitors(runner, models):
    session = Session()
    page = t.train_in_page(runner, {"generator": models[0], "classifier": models[1]},
                           settings("generator", epochs=1, train_size=256), session, "visitor", wait_s=0.1)
    frames = list(page)
    assert frames[-1]["yours"] is session.yours is not None and session.yours.kind == "generator"
    assert not session.uses(session.yours)  # used only when the visitor says so
    assert "now uses your generator" in t.use_in_session(session, models[0].z_dim)
    assert session.uses(session.yours) and session.own_model("generator") is session.yours


def test_a_visitor_waits_in_line_seeing_their_place_and_the_time_left_and_holds_one_place(runner, models):
    shipped = {"generator": models[0], "classifier": models[1]}
    job = start_job(runner, settings("generator", epochs=20, train_size=4000), owner="first")
    try:
        wait_for(lambda: job.snapshot().global_step >= 2)
        second = t.train_in_page(runner, shipped, settings("generator"), Session(), "second", wait_s=0.1)
        frame = next(second)
        assert frame["state"] == "waiting" and "you are next" in frame["progress"] and " left" in frame["progress"]
        third = t.train_in_page(runner, shipped, settings("generator"), Session(), "third", wait_s=0.1)
        assert "1 visitor is ahead of you" in next(third)["progress"]
        # One request per visitor: a second one, while theirs waits or runs, is refused at once.
        for owner in ("second", "first"):
            with pytest.raises(gr.Error, match="already have a training"):
                next(t.train_in_page(runner, shipped, settings("generator"), Session(), owner))
        second.close()  # the second visitor leaves: the third is next
        assert "you are next" in next(third)["progress"]
        assert runner.stop(owner="third")  # Stop while waiting: out of the line, nothing trained
        assert list(third) == [{"progress": t.LEFT_THE_LINE, "state": "done"}] and job.owner == "first"
        assert not job.done_event.is_set()  # the running job went on
    finally:
        runner.stop()
        wait_done(job)


def test_a_full_line_is_refused_at_once(runner, models, monkeypatch):
    import demo.training as training
    monkeypatch.setattr(training, "MAX_WAITING", 1)
    shipped = {"generator": models[0], "classifier": models[1]}
    job = start_job(runner, settings("generator", epochs=20, train_size=4000), owner="first")
    try:
        waiting = t.train_in_page(runner, shipped, settings("generator"), Session(), "second", wait_s=0.1)
        assert next(waiting)["state"] == "waiting"
        with pytest.raises(gr.Error, match="already waiting to train"):
            next(t.train_in_page(runner, shipped, settings("generator"), Session(), "third"))
        waiting.close()
    finally:
        runner.stop()
        wait_done(job)


def test_a_place_whose_page_has_gone_is_given_up(runner, models, monkeypatch):
    import demo.training as training
    monkeypatch.setattr(training, "ABANDONED_AFTER_S", 0.3)
    shipped = {"generator": models[0], "classifier": models[1]}
    job = start_job(runner, settings("generator", epochs=20, train_size=4000), owner="first")
    try:
        gone = t.train_in_page(runner, shipped, settings("generator"), Session(), "gone", wait_s=0.1)
        next(gone)  # ... and never asked again, as gradio does once the client has left
        time.sleep(0.5)
        later = t.train_in_page(runner, shipped, settings("generator"), Session(), "later", wait_s=0.1)
        assert "you are next" in next(later)["progress"]
        later.close()
    finally:
        runner.stop()
        wait_done(job)


def test_a_run_stops_at_the_servers_ceiling_of_time_and_says_so(models):
    from cvae.data import load_sample
    from demo.training import TrainingRunner
    runner = TrainingRunner("cpu", templates={"generator": models[0]}, load_data=load_sample,
                            max_train_minutes=3 / 60)
    job = start_job(runner, settings("generator", epochs=50, train_size=4000))
    snap = wait_done(job, timeout=60)
    assert snap.status == "stopped" and snap.time_limit_s == 3 and job.model.metadata["progress"]["partial"]
    assert snap.train_seconds <= 3.5  # stopped at the ceiling (then measured, which the ceiling does not cut)
    assert "the server's limit is 3 s a run" in t.progress_text(snap)


def test_start_from_your_model_is_decided_once_for_the_page_and_the_api(runner, models):
    shipped = {"generator": models[0], "classifier": models[1]}
    mine = settings("classifier", start="yours")
    with pytest.raises(gr.Error, match="no classifier of its own") as page:
        t.announce(runner, shipped, mine, Session())
    with pytest.raises(gr.Error) as api:
        start_model("yours", "classifier", shipped, Session())
    assert page.value.message == api.value.message
    session = Session()
    session.yours = models[1]
    assert start_model("yours", "classifier", shipped, session) is models[1]
    assert start_model("shipped", "classifier", shipped, session) is models[1] is shipped["classifier"]
    assert start_model("fresh", "classifier", shipped, session) is None
    # The page's labels name the same choices, for /train callers that send them.
    assert check_training_settings("generator", "1 min", 1, 128, 1e-3, 512, 4000, "your model").start == "yours"


# --- The visitor's model as files --------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["", "../escape", "a/b", "a\\b", ".hidden", "..", "x" * 65, "naïve"])
def test_run_names_that_could_leave_runs_are_refused(name):
    with pytest.raises(gr.Error, match="Name the run"):
        run_name(name)


def test_saving_needs_a_model(tmp_path):
    with pytest.raises(gr.Error, match="no trained model"):
        save_run(None, tmp_path, "x")


def test_saved_runs_are_listed_and_load_back(models, tmp_path):
    generator, classifier = models
    runs = tmp_path / "runs"
    save_run(generator, runs, "first")
    save_run(classifier, runs, "second")
    with pytest.raises(gr.Error, match="already"):
        save_run(generator, runs, "first")
    (runs / "broken").mkdir()
    (runs / "broken" / "generator.json").write_text("{not json")
    (runs / "broken" / "generator.safetensors").write_bytes(b"x")
    choices = [value for _, value in list_runs(runs)]
    assert sorted(choices) == ["first/generator", "second/classifier"]
    loaded = load_run(runs, "first/generator")
    assert all(torch.equal(v, generator.state_dict()[k]) for k, v in loaded.state_dict().items())
    for bad in ["../first/generator", "broken/generator", "first/classifier", None]:
        with pytest.raises(gr.Error, match="Pick a saved run"):
            load_run(runs, bad)


def test_a_downloaded_model_uploads_back_as_a_zip_or_as_its_two_files(models, tmp_path):
    generator = models[0]
    path = zip_model(generator, tmp_path / "mine.zip")
    with zipfile.ZipFile(path) as z:
        assert sorted(z.namelist()) == ["generator.json", "generator.safetensors"]
        z.extractall(tmp_path / "two")
    for upload in ([path], [tmp_path / "two" / "generator.safetensors", tmp_path / "two" / "generator.json"]):
        model = load_upload(upload)
        assert model.kind == "generator"
        assert all(torch.equal(v, generator.state_dict()[k]) for k, v in model.state_dict().items())


def write_pair(folder, model, tensors=None, meta_changes=None):
    """folder/m.safetensors + m.json of `model`, with its tensors or JSON changed as asked."""
    from safetensors.torch import save_file
    st, js = save_weights(model, folder, "m")
    if tensors is not None:
        save_file(tensors, st)
    if meta_changes is not None:
        js.write_text(json.dumps({**json.loads(js.read_text()), **meta_changes}))
    return [st, js]


def test_bad_uploads_are_refused_with_a_clear_message(models, tmp_path):
    generator, classifier = models
    cases = {}
    cases["one file"] = (write_pair(tmp_path / "a", generator)[:1], "two files")
    wrong = {k: torch.zeros(3) for k in generator.state_dict()}
    cases["wrong shapes"] = (write_pair(tmp_path / "b", generator, tensors=wrong), "shape")
    cases["json of another kind"] = (write_pair(tmp_path / "c", generator, meta_changes={"kind": "classifier"}),
                                     "do not match")
    pickle = tmp_path / "d" / "m.safetensors"
    pickle.parent.mkdir()
    torch.save({"w": torch.zeros(2)}, pickle)
    cases["a pickle"] = ([pickle, write_pair(tmp_path / "e", generator)[1]], "pickle")
    text = tmp_path / "f.zip"
    text.write_text("not a zip")
    cases["not a zip"] = ([text], "zip cannot be read")
    crowded = tmp_path / "g.zip"
    with zipfile.ZipFile(crowded, "w") as z:
        z.writestr("a.json", "{}")
        z.writestr("b.json", "{}")
        z.writestr("c.safetensors", "")
    cases["three files in a zip"] = ([crowded], "one .safetensors and one .json")
    for name, (paths, message) in cases.items():
        with pytest.raises(gr.Error, match=message):
            load_upload(paths)


def test_the_comparison_pictures(models):
    generator, classifier = models
    picture = t.compare_generators(generator, generator)
    assert picture.height == 2 * (3 * 30 + 2) * 2 + 12
    x = torch.zeros(2, 28, 28)
    x[:, 4:24, 13:15] = 1
    text = t.compare_classifiers(classifier, classifier, x[0], (x, torch.tensor([1, 1])))
    assert text.count("reads **1** (100.0 %)") == 2 and text.count("reads **100.0 %** right") == 2
    with pytest.raises(gr.Error, match="sliders"):
        wide = type(generator)("generator", "conv", z_dim=generator.z_dim + 2)
        t.fits_the_page(wide, generator.z_dim)


# --- The shipped weights ----------------------------------------------------------------------------------------

def weights_files():
    """{name: (sha256, size, mtime_ns)} of every file in the shipped weights folder."""
    return {p.name: (sha256(p), p.stat().st_size, p.stat().st_mtime_ns)
            for p in sorted(WEIGHTS_DIR.iterdir()) if p.is_file()}


class WritesUnder:
    """Every write, rename, removal or creation under `folder` that Python code of this process (any thread)
    starts, seen through an audit hook (sys.addaudithook: hooks stay for the process, so this one is switched)."""
    EVENTS = {"open", "os.rename", "os.remove", "os.rmdir", "os.mkdir", "os.truncate", "os.chmod", "os.link",
              "os.symlink", "shutil.rmtree", "shutil.move", "shutil.copyfile"}
    active = None

    def __init__(self, folder):
        self.folder, self.seen = Path(folder).resolve(), []

    def __enter__(self):
        if not getattr(WritesUnder, "_installed", False):
            sys.addaudithook(WritesUnder._hook)
            WritesUnder._installed = True
        WritesUnder.active = self
        return self

    def __exit__(self, *exc):
        WritesUnder.active = None

    @staticmethod
    def _hook(event, args):
        watcher = WritesUnder.active
        if watcher is None or event not in WritesUnder.EVENTS:
            return
        if event == "open":
            path, mode, flags = args
            writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or \
                (isinstance(flags, int) and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND))
            paths = [path] if writing else []
        else:
            paths = [a for a in args[:2] if isinstance(a, (str, bytes, os.PathLike))]
        for p in paths:
            try:
                resolved = Path(os.fsdecode(p)).resolve()
            except (TypeError, ValueError, OSError):
                continue
            if resolved == watcher.folder or watcher.folder in resolved.parents:
                watcher.seen.append((event, str(resolved)))


def rewritten_by_another_process(name, after, writes):
    """True when weights/NAME changed because another process saved a model there (`python -m cvae train --out
    weights --overwrite-shipped` does, while the shipped weights are being retrained): this process wrote nothing
    there, and NAME.json is save_weights' record of exactly the NAME.safetensors now on disk, from cvae's command
    line, not from the demo."""
    stem = name.split(".")[0]
    if writes or f"{stem}.json" not in after or f"{stem}.safetensors" not in after:
        return False
    meta = json.loads((WEIGHTS_DIR / f"{stem}.json").read_text())
    training = meta.get("training") or {}
    return (meta.get("sha256") == after[f"{stem}.safetensors"][0] and "run_id" not in meta
            and training.get("source") != "demo" and "cvae" in str(training.get("command", "")))


def test_training_and_saving_leave_the_shipped_weights_byte_for_byte(runner, tmp_path):
    before = weights_files()
    assert {"generator.safetensors", "generator.json", "classifier.safetensors", "classifier.json"} <= set(before)
    with WritesUnder(WEIGHTS_DIR) as writes:
        job = start_job(runner, settings("generator", epochs=1, train_size=512))
        assert wait_done(job).status == "done"
        folder = save_run(job.model, tmp_path / "runs", "weights-check")
        assert (folder / "generator.safetensors").is_file()
        # The shipped folder is never a run folder, whatever the runs folder and the name.
        with pytest.raises(gr.Error, match="never into the shipped weights"):
            save_run(job.model, WEIGHTS_DIR.parent, WEIGHTS_DIR.name)
        with pytest.raises(gr.Error, match="never into the shipped weights"):
            save_run(job.model, tmp_path / "runs", "again", shipped_dir=tmp_path / "runs")
    after = weights_files()
    assert not writes.seen, writes.seen
    assert set(after) == set(before)
    changed = sorted(name for name in before if before[name][:2] != after[name][:2])
    elsewhere = [name for name in changed if rewritten_by_another_process(name, after, writes.seen)]
    if elsewhere:
        print(f"weights/{', '.join(elsewhere)} rewritten meanwhile by another process (cvae's command line)")
    assert not set(changed) - set(elsewhere), changed
    with WritesUnder(tmp_path) as control:  # and the watcher does see a save where one happens
        save_run(job.model, tmp_path / "runs", "seen")
    assert {"open", "os.rename"} <= {event for event, _ in control.seen}
