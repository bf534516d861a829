"""The named API endpoints, driven with gradio_client against the app served in this process."""
import json
import time

import pytest
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError
from PIL import Image


@pytest.fixture(scope="module")
def client(served_app):
    return Client(served_app[0], verbose=False)


def test_the_api_page_lists_only_the_named_endpoints(client):
    assert set(client.view_api(print_info=False, return_format="dict")["named_endpoints"]) == \
        {"/generate", "/classify", "/train", "/session_models"}


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


@pytest.mark.parametrize("args,api_name,message", [
    ((12, "", 280), "/generate", "digit"),
    ((3, "nan" + ",0" * 15, 280), "/generate", "finite"),
    ((3, "1,2", 280), "/generate", "numbers"),
    ((3, "", 5000), "/generate", "size"),
    (("generator", 10**6, 128, 1e-3, 512), "/train", "number of epochs"),
    (("generator", 1, 0, 1e-3, 512), "/train", "batch size"),
    (("generator", 1, 128, -1.0, 512), "/train", "learning rate"),
    (("generator", 1, 128, 1e-3, 10**7), "/train", "training-set size"),
    (("judge", 1, 128, 1e-3, 512), "/train", "model"),
])
def test_bad_inputs_get_a_clean_error_and_the_server_keeps_serving(client, args, api_name, message):
    with pytest.raises(AppError, match=message) as e:
        client.predict(*args, api_name=api_name)
    assert "Traceback" not in str(e.value)
    assert client.predict(api_name="/session_models")["generator"].startswith("shipped")


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
    metrics = client.predict("generator", 1, 128, 1e-3, 512, api_name="/train")
    print(f"one-epoch training of 512 images over the API: {time.monotonic() - start:.1f} s")
    assert metrics["status"] == "done" and metrics["model"] == "generator"
    assert len(metrics["history"]) == 1 and metrics["history"][0]["epoch"] == 1
    assert metrics["settings"]["train_size"] == 512 and metrics["data"] == "sample"

    after = client.predict(api_name="/session_models")
    assert after["generator"] == metrics["run_id"] and after["classifier"] == before["classifier"]
    # The session draws with its own, barely trained model now ...
    assert Image.open(client.predict(3, "", 280, api_name="/generate")).tobytes() != picture_before
    # ... while another visitor keeps the shipped ones.
    assert Client(served_app[0], verbose=False).predict(api_name="/session_models") == before


def test_generate_and_classify_stay_responsive_while_a_training_runs(served_app, runner, drawn_one, tmp_path):
    trainer, visitor = Client(served_app[0], verbose=False), Client(served_app[0], verbose=False)
    previous = runner.job
    job = trainer.submit("generator", 5, 32, 1e-3, 4000, api_name="/train")
    drawn_one.save(tmp_path / "one.png")
    try:
        deadline = time.monotonic() + 30
        while not (runner.job is not previous and runner.job.snapshot()["step"] >= 2):
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
    with pytest.raises(AppError, match="stopped"):
        job.result(timeout=5)
    assert not runner.busy


def test_a_second_training_waits_for_the_first(served_app, runner):
    first, second = Client(served_app[0], verbose=False), Client(served_app[0], verbose=False)
    previous = runner.job
    a = first.submit("classifier", 1, 32, 1e-3, 1024, api_name="/train")
    deadline = time.monotonic() + 30
    while runner.job is previous:
        assert time.monotonic() < deadline, "the first training did not start"
        time.sleep(0.05)
    running = runner.job
    b = second.submit("classifier", 1, 128, 1e-3, 256, api_name="/train")
    while not running.done_event.is_set():  # the second waits in the queue: no job starts beside the first
        assert runner.job is running and time.monotonic() < deadline + 30
        time.sleep(0.05)
    result_a, result_b = a.result(timeout=60), b.result(timeout=60)
    assert result_a["status"] == result_b["status"] == "done" and result_a["run_id"] != result_b["run_id"]
    assert first.predict(api_name="/session_models")["classifier"] == result_a["run_id"]
    assert second.predict(api_name="/session_models")["classifier"] == result_b["run_id"]
