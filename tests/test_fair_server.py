"""One visitor can't take the server from the others: the training slot, the line for it and the queue, tried as a
careless or hostile visitor would, with raw gradio HTTP calls (queue/join and its event stream) from several
sessions against the app served in this process."""
import json
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from gradio_client import Client

from demo import training

LONG_RUN = ["generator", "until N epochs", 50, 16, 1e-3, 4000, None]   # far longer than any test waits


def dependency(url, **match):
    config = httpx.get(f"{url}/config").json()
    return next(d["id"] for d in config["dependencies"] if all(d.get(k) == v for k, v in match.items()))


def join(http, url, fn_index, session, data):
    r = http.post(f"{url}/gradio_api/queue/join", json={"data": data, "fn_index": fn_index, "session_hash": session,
                                                        "event_data": None, "trigger_id": None})
    assert r.status_code == 200, r.text
    return r.json()["event_id"]


def messages(http, url, session):
    """The session's event stream, message by message (dicts), until the caller stops reading or closes it."""
    with http.stream("GET", f"{url}/gradio_api/queue/data", params={"session_hash": session}) as stream:
        for line in stream.iter_lines():
            if line.startswith("data:"):
                yield json.loads(line[5:])


def completion(stream, event_id, timeout=30):
    """The process_completed message of one event, read from its session's stream (one stream per session)."""
    deadline = time.monotonic() + timeout
    for message in stream:
        if message.get("msg") == "process_completed" and message.get("event_id") == event_id:
            return message
        assert time.monotonic() < deadline, "no answer in time"


def wait_until(condition, timeout, what):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.1)
    return timeout - (deadline - time.monotonic())


def start_long_run(http, url, runner, session):
    """A long /train from `session`, read until it trains; returns its open event stream (closing it leaves)."""
    train = dependency(url, api_name="train")
    previous = runner.job
    join(http, url, train, session, [None, *LONG_RUN])
    stream = messages(http, url, session)
    for message in stream:  # the frames of a training come every half second
        if message.get("msg") == "process_generating" and runner.job is not previous:
            break
    wait_until(lambda: runner.job is not previous and runner.job.snapshot().global_step >= 2, 30,
               "the long training did not start")
    return stream


def stop_everything(runner):
    runner.stop()
    wait_until(lambda: not runner.busy, 30, "the training did not stop")


@pytest.mark.parametrize("caller", ["api", "page"])
def test_a_training_whose_caller_has_gone_frees_the_slot_within_30_s(served_app, runner, caller):
    url = served_app[0].rstrip("/")
    session = uuid.uuid4().hex
    with httpx.Client(timeout=30) as http:
        if caller == "api":
            stream = start_long_run(http, url, runner, session)
        else:  # the page's own Start event (no api_name; callable by its fn_index, as a hostile visitor would)
            page_train = dependency(url, api_name="on_train")  # gradio names a private event after its function
            previous = runner.job
            join(http, url, page_train, session, [None, "generator", "fresh", *LONG_RUN[1:-1]])
            stream = messages(http, url, session)
            for message in stream:
                if message.get("msg") == "process_generating" and runner.job is not previous:
                    break
        job = runner.job
        assert runner.busy and job.owner == session
        stream.close()  # the visitor closes the tab, or the API client disconnects
        took = wait_until(lambda: not runner.busy, 30, "the slot was still held 30 s after the client left")
    print(f"{caller}: slot free {took:.1f} s after the client left")
    assert job.snapshot().status == "stopped"


def refused_join(http, url, fn_index, session, data):
    """A join that the server refuses at the door: its HTTP status and message."""
    r = http.post(f"{url}/gradio_api/queue/join", json={"data": data, "fn_index": fn_index, "session_hash": session,
                                                        "event_data": None, "trigger_id": None})
    assert r.status_code != 200, "the join was let into the queue"
    return r.status_code, r.json()["detail"]


SHORT_RUN = [None, "classifier", "until N epochs", 1, 16, 1e-3, 16, None]


def test_a_visitor_holds_one_training_request_and_a_second_is_refused_at_once(served_app, runner):
    url = served_app[0].rstrip("/")
    train, page_train = dependency(url, api_name="train"), dependency(url, api_name="on_train")
    holder = uuid.uuid4().hex
    with httpx.Client(timeout=30) as http:
        stream = start_long_run(http, url, runner, holder)
        try:
            asked = time.monotonic()
            status, message = refused_join(http, url, train, holder, SHORT_RUN)
            took = time.monotonic() - asked
            assert status == 400 and "already have a training" in message, message
            assert took < 5, took
            # The page's own Start event, called by its fn_index, is held to the same rule.
            page_run = [None, "classifier", "fresh", "until N epochs", 1, 16, 1e-3, 16]
            assert "already have a training" in refused_join(http, url, page_train, holder, page_run)[1]
        finally:
            stream.close()
            stop_everything(runner)


def test_a_flood_of_trainings_from_one_visitor_never_fills_the_queue_and_others_are_served(served_app, runner):
    url = served_app[0].rstrip("/")
    train = dependency(url, api_name="train")
    holder, flooder = uuid.uuid4().hex, uuid.uuid4().hex
    flood = 100  # more than the queue holds (QUEUE_SETTINGS["max_size"])
    with httpx.Client(timeout=30) as http, ThreadPoolExecutor(8) as pool:
        holding = start_long_run(http, url, runner, holder)
        try:
            first = join(http, url, train, flooder, SHORT_RUN)  # let in: it will wait in line
            statuses = list(pool.map(lambda _: refused_join(http, url, train, flooder, SHORT_RUN), range(flood)))
            assert all(code == 400 and "already have a training" in message for code, message in statuses)
            # Meanwhile another visitor's requests are served as usual.
            started = time.monotonic()
            assert Client(url, verbose=False, ssl_verify=False).predict(3, 0, 16, api_name="/grid")
            print(f"/grid after the flood: {time.monotonic() - started:.2f} s")
            for message in messages(http, url, flooder):  # the one let in waits in line, its place shown
                if message.get("msg") == "process_generating" and message.get("event_id") == first:
                    assert message["output"]["data"][0]["status"] == "waiting"
                    assert message["output"]["data"][0]["place"] == 1
                    break
        finally:
            holding.close()
            stop_everything(runner)


def test_a_list_as_the_model_gets_a_clear_message(served_app):
    from gradio_client.exceptions import AppError
    with pytest.raises(AppError, match="The model must be one of"):
        Client(served_app[0], verbose=False).predict(model=["generator"], api_name="/train")


def test_the_ceiling_of_a_run_is_a_flag_of_the_server(monkeypatch):
    from demo.__main__ import parse_args
    monkeypatch.delenv("CVAE_MAX_TRAIN_MINUTES", raising=False)
    assert parse_args([]).max_train_minutes == training.MAX_TRAIN_MINUTES
    assert parse_args(["--max-train-minutes", "2.5"]).max_train_minutes == 2.5
    monkeypatch.setenv("CVAE_MAX_TRAIN_MINUTES", "0")
    assert parse_args([]).max_train_minutes == 0


def test_drawings_sent_in_parallel_by_one_visitor_are_turned_away_and_others_are_read(served_app):
    """The pad sends one drawing at a time; a client that sends many at once from one session gets one read and the
    rest answered at once with nothing, so it cannot take the CPU from the others (the reads skip the queue)."""
    from benchmarks.app_server import pad_value
    url = served_app[0].rstrip("/")
    pad = dependency(url, api_name="read_drawing")
    value = pad_value(7, seq=1)
    flooder, visitor = uuid.uuid4().hex, uuid.uuid4().hex

    def post(session):
        r = httpx.post(f"{url}/gradio_api/run/predict", json={"data": [None, value], "fn_index": pad,
                                                              "session_hash": session}, timeout=30)
        assert r.status_code == 200, r.text
        return r.json()["data"][0]

    with ThreadPoolExecutor(9) as pool:
        floods = [pool.submit(post, flooder) for _ in range(8)]
        mine = pool.submit(post, visitor)
        answers = [f.result() for f in floods]
        assert 'id="answer"' in mine.result()
    read = [a for a in answers if isinstance(a, str) and 'id="answer"' in a]
    assert 1 <= len(read) < len(answers)  # one read at a time; the others turned away, not queued


def test_costly_reads_take_turns_first_come_first_served():
    """demo.batching.Batcher: one batch runs at a time, and the reads waiting behind it go in the order they came
    (the first batch's item held until the others line up, at most 3 a batch)."""
    from demo.batching import Batcher
    inside, most, order, lock, release = [0], [0], [], threading.Lock(), threading.Event()

    def batch(items):
        with lock:
            inside[0] += 1
            most[0] = max(most[0], inside[0])
            order.extend(items)
        if items == [0]:
            release.wait(5)
        else:
            time.sleep(0.01)
        with lock:
            inside[0] -= 1
        return items

    batcher = Batcher(batch, max_batch=3)
    threads = []
    for name in range(7):  # the first holds the batcher until released; the rest line up in order
        threads.append(threading.Thread(target=batcher, args=(name,)))
        threads[-1].start()
        time.sleep(0.05)
    assert order == [0] and inside[0] == 1
    release.set()
    for t in threads:
        t.join(10)
    assert order == list(range(7)) and most[0] == 1 and inside[0] == 0
    assert batcher.sizes == [1, 3, 3]


def test_training_steps_wait_while_a_request_is_in_a_models_handler():
    """demo.training.RequestsInFlight (counted by demo.shared.inference): the training's wait between steps ends
    at once when no request is in, when the last one leaves, and after its timeout at most (it is never starved)."""
    from demo.shared import inference
    requests = training.REQUESTS
    start = time.monotonic()
    requests.wait_idle(1.0)
    assert time.monotonic() - start < 0.05 and requests.count == 0
    inside, leave = threading.Event(), threading.Event()

    @inference
    def handler():
        inside.set()
        leave.wait(5)

    first = threading.Thread(target=handler)
    first.start()
    assert inside.wait(5) and requests.count == 1
    start = time.monotonic()
    requests.wait_idle(0.2)  # the request stays: the wait gives up after its timeout
    assert 0.15 < time.monotonic() - start < 1.0
    threading.Timer(0.2, leave.set).start()
    start = time.monotonic()
    requests.wait_idle(5.0)  # it leaves after 0.2 s: the wait ends then
    assert 0.15 < time.monotonic() - start < 2.0 and requests.count == 0
    first.join(5)


def test_drawings_of_many_visitors_at_once_get_the_answers_they_would_get_alone(served_app):
    """Ten visitors drawing at the same moment (their reads batched, demo/batching.py): each gets, byte for byte,
    the answer their drawing gets when it is read alone."""
    from benchmarks.app_server import pad_value
    url = served_app[0].rstrip("/")
    pad = dependency(url, api_name="read_drawing")

    def post(digit):
        r = httpx.post(f"{url}/gradio_api/run/predict", json={"data": [None, pad_value(digit, seq=1)],
                                                              "fn_index": pad, "session_hash": uuid.uuid4().hex},
                       timeout=30)
        assert r.status_code == 200, r.text
        return r.json()["data"][0]

    start = threading.Barrier(10)

    def at_once(digit):
        start.wait(10)
        return post(digit)

    with ThreadPoolExecutor(10) as pool:
        together = list(pool.map(at_once, range(10)))
    alone = [post(digit) for digit in range(10)]
    assert all('id="answer"' in answer for answer in alone)
    assert together == alone
