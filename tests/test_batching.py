"""Reads batched across visitors (demo/batching.py, the batch functions of demo/handlers.py): a request alone runs at
once, requests waiting together run as one batch, and every visitor gets the answer they would get alone."""
import threading
import time

import pytest
import torch

from demo import draw_tab
from demo import handlers as h
from demo.batching import Batcher
from digit_strokes import pad_value


def test_a_request_alone_runs_at_once_without_waiting_for_a_batch():
    batcher = Batcher(lambda items: [item * 2 for item in items])
    start = time.perf_counter()
    assert batcher(21) == 42
    assert time.perf_counter() - start < 0.05 and batcher.sizes == [1]


def run_while_held(batch, items):
    """The first item's batch is held until every other item waits behind it; -> (answers or errors, batcher)."""
    first_running, release = threading.Event(), threading.Event()

    def held(batch_items):
        if batch_items == [items[0]]:
            first_running.set()
            release.wait(5)
        return batch(batch_items)
    batcher = Batcher(held, max_batch=4)
    results = {}

    def call(item):
        try:
            results[item] = batcher(item)
        except Exception as e:
            results[item] = e
    threads = [threading.Thread(target=call, args=(items[0],))]
    threads[0].start()
    assert first_running.wait(5)
    for item in items[1:]:
        threads.append(threading.Thread(target=call, args=(item,)))
        threads[-1].start()
    deadline = time.perf_counter() + 5
    while len(batcher._waiting) < len(items) - 1 and time.perf_counter() < deadline:
        time.sleep(0.01)
    release.set()
    for t in threads:
        t.join(5)
    return results, batcher


def test_requests_waiting_together_run_as_one_batch_each_getting_its_own_answer():
    results, batcher = run_while_held(lambda items: [item * 2 for item in items], list(range(7)))
    assert results == {i: i * 2 for i in range(7)}
    assert batcher.sizes == [1, 4, 2], "one alone, then those waiting, at most max_batch a batch, in order"


def test_one_visitors_bad_item_costs_the_others_nothing():
    def batch(items):
        if 3 in items:
            raise ValueError("three is bad")
        return [item * 2 for item in items]
    results, _ = run_while_held(batch, list(range(5)))
    assert isinstance(results[3], ValueError) and str(results[3]) == "three is bad"
    assert {i: results[i] for i in (0, 1, 2, 4)} == {0: 0, 1: 2, 2: 4, 4: 8}


def scaled(model, factor):
    copy = type(model)(model.kind, model.arch, model.z_dim, model.hidden)
    copy.load_state_dict({k: v * factor if v.is_floating_point() else v for k, v in model.state_dict().items()})
    copy.metadata = dict(model.metadata)
    return copy.eval()


@pytest.fixture(scope="module")
def drawings():
    return [h.to_model_input(draw_tab.drawing_of(pad_value(d, seq=1))[1]) for d in range(10)]


def test_a_batch_of_reads_answers_each_drawing_as_if_read_alone(generator, classifier, drawings):
    """Seven drawings, two of them read by a visitor's own classifier: the same labels, style strips and model 1's
    bounds as each read alone (same seeds; float sums of another order differ in the last bits only)."""
    own = scaled(classifier, 0.9)
    items = [(own if i in (2, 5) else classifier, generator, x) for i, x in enumerate(drawings[:7])]
    batched = h.read_batch(items)
    for (c, g, x), (label, style, opinion) in zip(items, batched):
        alone_label, _ = h.classify(c, x)
        assert label.keys() == alone_label.keys()
        assert max(abs(label[k] - alone_label[k]) for k in label) < 1e-5
        digit = h.predicted_digit(label)
        assert digit == h.predicted_digit(alone_label)
        with torch.inference_mode():
            alone_style = h.every_digit(g, g.encode(x[None], [digit]))[0]
            alone_opinion = h.second_opinions(g, x[None])[0]
        assert torch.allclose(style, alone_style, atol=1e-5)
        assert torch.allclose(opinion["neg_elbo"], alone_opinion["neg_elbo"], atol=1e-3)
        assert (opinion["digit"], opinion["is_digit"]) == (alone_opinion["digit"], alone_opinion["is_digit"])
    assert [h.predicted_digit(label) for label, _, _ in batched[:7]] != [0] * 7, "the drawings were read"


def test_a_batch_of_slider_moves_draws_each_as_alone(generator):
    zs = [h.check_z([0.1 * i] * generator.z_dim, generator.z_dim) for i in range(-5, 6)]
    own = scaled(generator, 0.95)
    items = [(own if i % 3 == 0 else generator, z) for i, z in enumerate(zs)]
    for (g, z), images in zip(items, h.every_digit_batch(items)):
        for digit in (0, 7):
            alone = g.draw(z, [digit])[0]
            assert torch.allclose(images[digit], alone, atol=1e-5)
