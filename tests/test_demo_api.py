"""The named API endpoints, driven with gradio_client against the app served in this process; and what the server
lets through: the queue's limit, the size of uploads, the files it serves, the address it listens on."""
import json
import os
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError
from PIL import Image

from cvae.weights import WEIGHTS_DIR
from demo import app as demo_app
from demo import handlers as h


@pytest.fixture(scope="module")
def client(served_app):
    return Client(served_app[0], verbose=False)


def test_the_api_page_lists_only_the_named_endpoints(client):
    assert set(client.view_api(print_info=False, return_format="dict")["named_endpoints"]) == \
        {"/generate", "/classify", "/grid", "/train", "/session_models", "/second_opinion",
         "/elbo_terms"}


@pytest.mark.parametrize("size", [28, 300, 1024])
def test_generate_returns_a_png_of_the_asked_size(client, size):
    path = client.predict(3, "", size, api_name="/generate")
    with Image.open(path) as image:
        assert image.format == "PNG" and image.size == (size, size)


def test_generate_takes_z_as_csv_or_json(client, models):
    z_dim = models[0].z_dim
    csv = client.predict(5, ",".join(["1.5"] * z_dim), 280, api_name="/generate")
    js = client.predict(5, json.dumps([1.5] * z_dim), 280, api_name="/generate")
    zero = client.predict(5, "", 280, api_name="/generate")
    assert Image.open(csv).tobytes() == Image.open(js).tobytes() != Image.open(zero).tobytes()


def test_classify_reads_a_drawn_one(client, drawn_one, tmp_path):
    drawn_one.save(tmp_path / "one.png")
    start = time.monotonic()
    label, seen = client.predict(handle_file(str(tmp_path / "one.png")), api_name="/classify")
    print(f"classify over the API: {time.monotonic() - start:.2f} s")
    assert label["label"] == "1", label
    assert len(label["confidences"]) == 10
    assert Image.open(seen).size == (280, 280)


def test_classify_of_a_blank_picture_asks_for_a_digit(client, tmp_path):
    Image.new("RGB", (400, 400), "white").save(tmp_path / "blank.png")
    label, seen = client.predict(handle_file(str(tmp_path / "blank.png")), api_name="/classify")
    assert label["label"] == "draw a digit" and not label.get("confidences") and seen is None


def epochs_run(model, epochs, batch_size, lr, train_size):
    """/train's arguments for a run of `epochs` epochs (the page's budget "until N epochs"), by name."""
    return {"model": model, "budget": "until N epochs", "epochs": epochs, "batch_size": batch_size, "lr": lr,
            "train_size": train_size}


@pytest.mark.parametrize("args,api_name,message", [
    ((12, "", 280), "/generate", "digit"),
    ((3, "nan,0...", 280), "/generate", "finite"),  # "0..." fills z up to the model's size
    ((3, "1,2", 280), "/generate", "numbers"),
    ((3, "", 5000), "/generate", "size"),
    ((12, 0, 64), "/grid", "digit"),
    ((3, 0, 0), "/grid", "samples"),
    ((3, 0, h.MAX_GRID_SAMPLES + 1), "/grid", "samples"),
    ((3, -1, 64), "/grid", "seed"),
    ((3, 2**40, 64), "/grid", "seed"),
    (("generator", 10**6, 128, 1e-3, 512), "/train", "number of epochs"),
    (("generator", 1, -5, 1e-3, 512), "/train", "batch size"),
    (("generator", 1, 128, -1.0, 512), "/train", "learning rate"),
    (("generator", 1, 128, 1e-3, 10**7), "/train", "training-set size"),
    (("judge", 1, 128, 1e-3, 512), "/train", "model"),
    ({"model": "generator", "budget": "an hour"}, "/train", "time budget"),
    ({"model": "classifier", "start": "your model"}, "/train", "no classifier of its own"),
    ({"model": "generator", "start": "the moon"}, "/train", "Start from"),
])
def test_bad_inputs_get_a_clean_error_and_the_server_keeps_serving(client, models, args, api_name, message):
    if api_name == "/train" and isinstance(args, tuple):
        args = epochs_run(*args)
    if isinstance(args, dict):
        call = lambda: client.predict(**args, api_name=api_name)  # noqa: E731
    else:
        args = [a.replace(",0...", ",0" * (models[0].z_dim - 1)) if isinstance(a, str) else a for a in args]
        call = lambda: client.predict(*args, api_name=api_name)  # noqa: E731
    with pytest.raises(AppError, match=message) as e:
        call()
    assert "Traceback" not in str(e.value)
    assert client.predict(api_name="/session_models")["generator"].startswith("shipped")


def test_grid_returns_n_samples_of_the_digit_from_the_seed(client, models):
    path = client.predict(7, 0, 64, api_name="/grid")
    with Image.open(path) as image:  # the page's grid: 8 x 8 tiles of 28 px, 2 px gaps, doubled
        assert image.format == "PNG" and image.size == ((8 * 30 + 2) * 2,) * 2
        pixels = image.tobytes()
    assert pixels == h.sample_grid(models[0], 7, 64, seed=0).tobytes()  # z ~ N(0, I) drawn with the seed
    assert Image.open(client.predict(7, 0, 64, api_name="/grid")).tobytes() == pixels
    assert Image.open(client.predict(7, 1, 64, api_name="/grid")).tobytes() != pixels
    assert Image.open(client.predict(7, 0, 9, api_name="/grid")).size == ((8 * 30 + 2) * 2, (2 * 30 + 2) * 2)


def test_identical_answers_at_once_are_each_a_file_of_their_own(served_app):
    """gradio names a returned PIL image by its bytes and rewrites that file on every call, so identical answers
    raced: one request rewrote the file that another was sending (server: h11 "Too little data for declared
    Content-Length"; client: RemoteProtocolError). The app returns a new file per answer, written once."""
    clients = [Client(served_app[0], verbose=False, ssl_verify=False) for _ in range(4)]

    def burst(c):
        return [c.predict(3, "", 280, api_name="/generate") for _ in range(15)]

    with ThreadPoolExecutor(len(clients)) as pool:
        paths = [p for batch in pool.map(burst, clients) for p in batch]
    contents = {Path(p).read_bytes() for p in paths}
    assert len(contents) == 1  # every download complete and the same picture
    with Image.open(paths[0]) as image:
        assert image.size == (280, 280)
    # Where the server keeps them: a new file each, in the app's own folder inside gradio's cache.
    raw = Client(served_app[0], verbose=False, ssl_verify=False, download_files=False)
    served = [raw.predict(3, "", 280, api_name="/generate") for _ in range(3)]
    served += [raw.predict(handle_file(paths[0]), api_name="/classify")[1]]
    names = [Path(f["path"] if isinstance(f, dict) else f.path) for f in served]
    assert len(set(names)) == len(names) and all(n.parent.name.startswith("cvae-demo-") for n in names)


def test_the_pages_pictures_are_files_of_the_app(served_app):
    config = httpx.get(served_app[0].rstrip("/") + "/config").json()
    pictures = {c["props"].get("elem_id"): c["props"].get("value") for c in config["components"]
                if c.get("type") == "image" and c["props"].get("value")}
    assert set(pictures) >= {"grid", "morph", "latent-map", "traversal"}
    # The picture and the strip follow the sliders: inline in the page (demo/generate_tab.py), no file to fetch.
    inline = {c["props"].get("elem_id"): c["props"].get("value") for c in config["components"]
              if c["props"].get("elem_id") in ("picture", "strip")}
    assert len(inline) == 2 and all(v.startswith('<img src="data:image/png;base64,') for v in inline.values())
    for elem_id, value in pictures.items():
        assert Path(value["path"]).parent.name.startswith("cvae-demo-"), (elem_id, value)
        r = httpx.get(value["url"] if value["url"].startswith("http") else served_app[0].rstrip("/") + value["url"])
        assert r.status_code == 200 and r.content[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_file_that_is_not_an_image_gets_a_clean_error(client, tmp_path):
    (tmp_path / "note.png").write_bytes(b"not a picture at all")
    with pytest.raises(AppError, match="could not be read as an image") as e:
        client.predict(handle_file(str(tmp_path / "note.png")), api_name="/classify")
    assert str(tmp_path) not in str(e.value) and "/tmp/gradio" not in str(e.value)


def test_train_then_the_session_uses_the_trained_model(served_app, drawn_one, tmp_path):
    client = Client(served_app[0], verbose=False)
    before = client.predict(api_name="/session_models")
    assert before["generator"].startswith("shipped") and before["classifier"].startswith("shipped")
    picture_before = Image.open(client.predict(3, "", 280, api_name="/generate")).tobytes()

    start = time.monotonic()
    metrics = client.predict(**epochs_run("generator", 1, 128, 1e-3, 512), api_name="/train")
    print(f"one-epoch training of 512 images over the API: {time.monotonic() - start:.1f} s")
    assert metrics["status"] == "done" and metrics["model"] == "generator"
    assert metrics["progress"]["partial"] is False and metrics["progress"]["epochs"] == 1
    assert metrics["test"]["test_loss"] > 0 and metrics["settings"]["start"] == "fresh"
    assert metrics["settings"]["train_size"] == 512 and metrics["data"] == "sample"

    after = client.predict(api_name="/session_models")
    assert after["generator"] == metrics["run_id"] and after["classifier"] == before["classifier"]
    # The session draws with its own, barely trained model now ...
    assert Image.open(client.predict(3, "", 280, api_name="/generate")).tobytes() != picture_before
    # ... while another visitor keeps the shipped ones.
    assert Client(served_app[0], verbose=False).predict(api_name="/session_models") == before


def test_train_given_only_the_model_runs_the_pages_default(served_app, monkeypatch):
    import demo.training as training
    monkeypatch.setitem(training.BUDGETS, "2 s", 2)  # the page's default, made short for the test
    monkeypatch.setitem(training.DEFAULTS, "budget", "2 s")
    client = Client(served_app[0], verbose=False)
    metrics = client.predict(model="classifier", api_name="/train")
    assert metrics["status"] == "done" and metrics["settings"]["budget"] == "2 s"
    assert metrics["settings"]["batch_size"] == training.default_settings("classifier").batch_size
    assert metrics["settings"]["train_size"] == 4000  # all the training images there are (the bundled sample)
    # The budget is the wall time from the start to the end, measurement included: the steps get at least half.
    progress = metrics["progress"]
    assert 1 <= progress["train_seconds"] < 2 <= progress["seconds"] + 0.5 and progress["seconds"] < 2 * 1.5
    assert 0 < metrics["test"]["test_accuracy"] <= 1
    assert client.predict(api_name="/session_models")["classifier"] == metrics["run_id"]


def test_generate_and_classify_stay_responsive_while_a_training_runs(served_app, runner, drawn_one, tmp_path):
    trainer, visitor = Client(served_app[0], verbose=False), Client(served_app[0], verbose=False)
    previous = runner.job
    job = trainer.submit(**epochs_run("generator", 5, 32, 1e-3, 4000), api_name="/train")
    drawn_one.save(tmp_path / "one.png")
    try:
        deadline = time.monotonic() + 30
        while not (runner.job is not previous and runner.job.snapshot().step >= 2):
            assert time.monotonic() < deadline, "the training did not start"
            time.sleep(0.1)
        for _ in range(3):
            start = time.monotonic()
            visitor.predict(3, "", 280, api_name="/generate")
            visitor.predict(handle_file(str(tmp_path / "one.png")), api_name="/classify")
            took = time.monotonic() - start
            print(f"generate + classify during training: {took:.2f} s")
            assert took < 5
        assert runner.busy  # still training: the answers did not wait for it
    finally:
        deadline = time.monotonic() + 30
        while not job.done() and time.monotonic() < deadline:  # stop it, even one that started late
            runner.stop()
            time.sleep(0.2)
    assert job.result(timeout=5)["status"] == "stopped"
    assert not runner.busy


def test_a_second_training_waits_for_the_first(served_app, runner):
    first, second = Client(served_app[0], verbose=False), Client(served_app[0], verbose=False)
    previous = runner.job
    a = first.submit(**epochs_run("classifier", 1, 32, 1e-3, 1024), api_name="/train")
    deadline = time.monotonic() + 30
    while runner.job is previous:
        assert time.monotonic() < deadline, "the first training did not start"
        time.sleep(0.05)
    running = runner.job
    b = second.submit(**epochs_run("classifier", 1, 128, 1e-3, 256), api_name="/train")
    while not running.done_event.is_set():  # the second waits in the queue: no job starts beside the first
        assert runner.job is running and time.monotonic() < deadline + 30
        time.sleep(0.05)
    result_a, result_b = a.result(timeout=60), b.result(timeout=60)
    assert result_a["status"] == result_b["status"] == "done" and result_a["run_id"] != result_b["run_id"]
    assert first.predict(api_name="/session_models")["classifier"] == result_a["run_id"]
    assert second.predict(api_name="/session_models")["classifier"] == result_b["run_id"]


def test_two_visitors_training_one_after_the_other_keep_their_own_models(served_app):
    a, b, stranger = (Client(served_app[0], verbose=False, ssl_verify=False) for _ in range(3))
    shipped = stranger.predict(api_name="/session_models")
    run_a = a.predict(**epochs_run("generator", 1, 128, 1e-3, 512), api_name="/train")["run_id"]
    picture_a = Image.open(a.predict(3, "", 280, api_name="/generate")).tobytes()
    run_b = b.predict(**epochs_run("generator", 1, 128, 1e-3, 256), api_name="/train")["run_id"]  # after a's has finished
    picture_b = Image.open(b.predict(3, "", 280, api_name="/generate")).tobytes()
    assert run_a != run_b
    assert a.predict(api_name="/session_models")["generator"] == run_a
    assert b.predict(api_name="/session_models")["generator"] == run_b
    # a still draws with its own model, which b's training did not touch; b with its own.
    assert Image.open(a.predict(3, "", 280, api_name="/generate")).tobytes() == picture_a != picture_b
    assert stranger.predict(api_name="/session_models") == shipped


def test_stop_ends_a_training_within_a_second_and_the_session_gets_what_it_learnt(served_app, runner):
    client = Client(served_app[0], verbose=False, ssl_verify=False)
    kept = client.predict(**epochs_run("generator", 1, 128, 1e-3, 256), api_name="/train")["run_id"]
    picture = Image.open(client.predict(3, "", 280, api_name="/generate")).tobytes()
    previous = runner.job
    job = client.submit(**epochs_run("generator", 20, 32, 1e-3, 4000), api_name="/train")
    deadline = time.monotonic() + 30
    while not (runner.job is not previous and runner.job.snapshot().step >= 2):
        assert time.monotonic() < deadline, "the training did not start"
        time.sleep(0.05)
    running = runner.job
    assert not runner.stop(owner="someone else")  # only its visitor stops it (the page's Stop passes the session)
    asked = time.monotonic()
    assert runner.stop(owner=client.session_hash)
    assert running.wait(5)
    took = time.monotonic() - asked
    print(f"stopped {took:.2f} s after Stop")
    assert took < 1.5
    result = job.result(timeout=10)
    assert result["status"] == "stopped" and result["progress"]["partial"] is True
    assert result["progress"]["steps"] >= 2 and result["run_id"] != kept
    assert client.predict(api_name="/session_models")["generator"] == result["run_id"]
    assert Image.open(client.predict(3, "", 280, api_name="/generate")).tobytes() != picture


def test_the_server_listens_on_127_0_0_1_unless_told_otherwise(monkeypatch, served_app):
    import inspect

    from demo.__main__ import parse_args
    monkeypatch.delenv("CVAE_HOST", raising=False)
    assert parse_args([]).host == "127.0.0.1"
    assert parse_args(["--host", "0.0.0.0"]).host == "0.0.0.0"
    assert inspect.signature(demo_app.launch).parameters["host"].default == "127.0.0.1"
    assert served_app[2].server_name == "127.0.0.1"
    assert demo_app.LAUNCH_SETTINGS["share"] is False


def test_uploads_over_the_size_limit_are_refused(served_app):
    assert demo_app.LAUNCH_SETTINGS["max_file_size"] == "10mb"
    assert served_app[2].max_file_size == 10 * 1024 * 1024
    url = served_app[0].rstrip("/") + "/gradio_api/upload"
    too_big = httpx.post(url, files={"files": ("big.png", b"\0" * (10 * 1024 * 1024 + 1024), "image/png")})
    assert too_big.status_code == 413 and "maximum allowed size" in too_big.text
    assert httpx.post(url, files={"files": ("small.png", b"\0" * 1024, "image/png")}).status_code == 200


@pytest.mark.parametrize("path", [
    "/etc/passwd", "../../../../../etc/passwd", "weights/generator.safetensors", "weights/classifier.json",
    str(WEIGHTS_DIR / "generator.safetensors"), "demo/app.py", str(Path(demo_app.__file__)), "/proc/self/environ",
    os.path.expanduser("~/.bashrc"),
])
def test_no_file_beyond_the_apps_own_is_served(served_app, path):
    r = httpx.get(served_app[0].rstrip("/") + "/gradio_api/file=" + path)
    assert r.status_code in (403, 404), (path, r.status_code)
    assert b"root:" not in r.content and b"import gradio" not in r.content


def test_elbo_terms_of_an_uploaded_picture_and_its_refusals(client, drawn_one, tmp_path):
    """/elbo_terms: the two terms of the loss for a picture and a digit, for either model; bad input refused."""
    drawn_one.save(tmp_path / "one.png")
    one = handle_file(str(tmp_path / "one.png"))
    terms = client.predict(one, 1, "generator", api_name="/elbo_terms")
    assert {"neg_elbo", "reconstruction", "kl", "kl_per_dim", "z_mean", "z_std", "digit"} <= set(terms)
    assert terms["digit"] == 1 and terms["model"] == "generator"
    assert terms["neg_elbo"] == pytest.approx(terms["kl"] + terms["reconstruction"], abs=1e-3)
    assert sum(terms["kl_per_dim"]) == pytest.approx(terms["kl"], abs=1e-2) and min(terms["z_std"]) > 0
    as_seven = client.predict(one, 7, "generator", api_name="/elbo_terms")
    assert as_seven["neg_elbo"] > terms["neg_elbo"]  # a 1 called a 7 is explained worse
    by_model2 = client.predict(one, 1, "classifier", api_name="/elbo_terms")
    assert by_model2["model"] == "classifier"
    assert by_model2["reconstruction"] < client.predict(one, 7, "classifier", api_name="/elbo_terms")["reconstruction"]
    Image.new("RGB", (200, 200), "white").save(tmp_path / "blank.png")
    (tmp_path / "note.png").write_bytes(b"not a picture at all")
    for args, message in (((handle_file(str(tmp_path / "blank.png")), 1, "generator"), "blank"),
                          ((handle_file(str(tmp_path / "note.png")), 1, "generator"), "could not be read as an image"),
                          ((one, 12, "generator"), "0"), ((one, 1, "judge"), "must be one of")):
        with pytest.raises(AppError, match=message):
            client.predict(*args, api_name="/elbo_terms")
