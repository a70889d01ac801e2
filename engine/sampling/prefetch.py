"""Draw the next chunk while the caller writes this one: an iterator run one item ahead
on a worker thread.

Sampling kernels and pyarrow's Parquet encoder both release the GIL, so a writer that
encodes chunk k while chunk k+1 is drawn uses the second core for the encoding. Items come
out in order, so the file is the same; an error on either side stops both. At most
``ahead + 1`` items are alive at once (the caller's and those drawn ahead), which bounds
memory.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator

_DONE = object()
# How often a blocked producer re-checks whether the consumer gave up (seconds).
_POLL_S = 0.1


def prefetch(items: Iterable, ahead: int = 1) -> Iterator:
    """Yield ``items`` in order, producing up to ``ahead`` of them in advance."""
    ready: queue.Queue = queue.Queue()
    tokens = threading.Semaphore(ahead + 1)     # one per item alive
    stop = threading.Event()

    def produce():
        try:
            iterator = iter(items)
            while _acquire(tokens, stop):
                try:
                    item = next(iterator)
                except StopIteration:
                    break
                ready.put((True, item))
                del item                      # not kept alive while the next is drawn
            ready.put((True, _DONE))
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer, re-raised
            ready.put((False, exc))

    worker = threading.Thread(target=produce, name="simio-prefetch", daemon=True)
    worker.start()
    try:
        while True:
            ok, item = ready.get()
            if not ok:
                raise item
            if item is _DONE:
                return
            yield item
            del item
            tokens.release()                  # the caller is done with it
    finally:
        stop.set()
        worker.join()


def _acquire(tokens: threading.Semaphore, stop: threading.Event) -> bool:
    while not stop.is_set():
        if tokens.acquire(timeout=_POLL_S):
            return not stop.is_set()
    return False
