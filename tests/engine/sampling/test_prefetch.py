"""``prefetch``: same items in the same order, errors on either side stop both, and no
more than ``ahead + 1`` items are alive at once."""

from __future__ import annotations

import threading

import pytest

from engine.sampling.prefetch import prefetch


def test_items_come_out_in_order():
    assert list(prefetch(iter(range(50)))) == list(range(50))
    assert list(prefetch([])) == []


def test_a_producer_error_reaches_the_consumer_after_the_items_before_it():
    def items():
        yield 1
        yield 2
        raise ValueError("bad chunk")

    seen = []
    with pytest.raises(ValueError, match="bad chunk"):
        for item in prefetch(items()):
            seen.append(item)
    assert seen == [1, 2]


def test_a_consumer_that_stops_stops_the_producer():
    produced = []

    def items():
        for k in range(1000):
            produced.append(k)
            yield k

    stream = prefetch(items())
    assert next(stream) == 0
    stream.close()                          # the consumer gives up (e.g. a write failed)
    assert len(produced) <= 3
    assert not any(t.name == "simio-prefetch" and t.is_alive() for t in threading.enumerate())


def test_at_most_ahead_plus_one_items_are_alive():
    alive = set()
    peak = []
    lock = threading.Lock()

    class Item:
        def __init__(self, k):
            self.k = k
            with lock:
                alive.add(k)
                peak.append(len(alive))

        def release(self):
            with lock:
                alive.discard(self.k)

    for item in prefetch((Item(k) for k in range(30)), ahead=1):
        item.release()                      # the caller is done with it before the next
    assert max(peak) <= 2
