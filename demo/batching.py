"""Reads batched across visitors: the requests that wait at the same moment go through the models in one forward
pass, each visitor getting their own answer.

The page's reads and slider moves are queue-less events (queue=False: an answer within a frame or two), so gradio's
own batching (`batch=True`, which works through its queue) does not reach them. A `Batcher` does it instead, as a
database's group commit does: the first request to find the batcher idle runs at once, alone (a visitor alone never
waits for a batch to fill: there is no timer); the requests that arrive while that batch runs wait, and when it
ends, the first of them runs all of them as the next batch. Only one batch runs at a time, so the costly reads also
take turns, first come first served, as demo.shared.Turns did: a visitor sending drawing after drawing gets a place
in a batch among everyone's, not a core of their own.

A batch function takes a list of items and returns a list of answers, one per item in the same order. Should it
raise, each item of that batch is run again alone, so that one visitor's bad input never costs another their answer.
"""
import threading


class _Waiting:
    __slots__ = ("item", "answer", "error", "done")

    def __init__(self, item):
        self.item, self.answer, self.error, self.done = item, None, None, False


class Batcher:
    """`batcher(item)` -> `batch(items)`'s answer for `item`, called in a request's worker thread; at most
    `max_batch` items a batch."""

    def __init__(self, batch, max_batch=64):
        self.batch, self.max_batch = batch, max_batch
        self._waiting, self._running, self._changed = [], False, threading.Condition()
        self.sizes = []  # the size of every batch run, for the tests and the benchmark's report (bounded below)

    def __call__(self, item):
        me = _Waiting(item)
        with self._changed:
            self._waiting.append(me)
            while not me.done and (self._running or self._waiting[0] is not me):
                self._changed.wait()
            if not me.done:  # the first in line, and nothing runs: run a batch of all that waits
                batch, self._waiting = self._waiting[:self.max_batch], self._waiting[self.max_batch:]
                self._running = True
        if not me.done:
            try:
                self._run(batch)
            finally:
                with self._changed:
                    self._running = False
                    self._changed.notify_all()
        if me.error is not None:
            raise me.error
        return me.answer

    def _run(self, batch):
        if len(self.sizes) < 10_000:
            self.sizes.append(len(batch))
        try:
            answers = self.batch([w.item for w in batch])
            if len(answers) != len(batch):
                raise RuntimeError(f"a batch of {len(batch)} got {len(answers)} answers")
            for w, answer in zip(batch, answers):
                w.answer = answer
        except Exception:
            for w in batch:  # each alone: the item that failed gets its own error, the others their answers
                try:
                    w.answer = self.batch([w.item])[0]
                except Exception as e:  # noqa: BLE001 - handed to its own caller, whatever it is
                    w.error = e
        for w in batch:
            w.done = True
