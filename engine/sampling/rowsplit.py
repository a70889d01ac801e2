"""Run a row-wise kernel on both cores: rows split in halves, one half on a worker thread.

The kernels are ``nogil`` and every row is computed from its own inputs only, so the
halves run in parallel and the output is the same array, byte for byte, whatever the
number of threads. ``SIMIO_THREADS`` (default: up to 2, the CPUs this process may use)
sets how many; 1 runs everything on the calling thread.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable

# Below this many rows a thread hand-off costs more than the half it saves.
MIN_SPLIT_ROWS = 16_384
MAX_THREADS = 2

_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def n_threads(environ=os.environ) -> int:
    """Threads a kernel call may use: ``SIMIO_THREADS`` if set, else up to 2."""
    value = environ.get("SIMIO_THREADS")
    if value:
        try:
            return max(1, int(value))
        except ValueError:
            return 1
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cpus = os.cpu_count() or 1
    return max(1, min(MAX_THREADS, cpus))


def _executor(workers: int) -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None or _pool._max_workers < workers:     # noqa: SLF001 - size check
            _pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="simio-rows")
        return _pool


def split_rows(n: int, run: Callable[[int, int], None], threads: int | None = None) -> None:
    """``run(lo, hi)`` over consecutive row ranges covering 0..n, in parallel."""
    threads = n_threads() if threads is None else threads
    parts = min(threads, max(1, n // MIN_SPLIT_ROWS))
    if parts <= 1:
        run(0, n)
        return
    edges = [n * k // parts for k in range(parts + 1)]
    pool = _executor(parts - 1)
    futures = [pool.submit(run, edges[k], edges[k + 1]) for k in range(1, parts)]
    run(edges[0], edges[1])
    for future in futures:
        future.result()


def in_parallel(first: Callable[[], Any], second: Callable[[], Any],
                threads: int | None = None) -> tuple[Any, Any]:
    """``(first(), second())``, ``second`` on the worker thread when there are 2 threads.

    For two independent nogil calls (e.g. two seeded streams filled by numpy, which
    releases the GIL): each result is what it is alone, whatever the threads."""
    threads = n_threads() if threads is None else threads
    if threads <= 1:
        return first(), second()
    future = _executor(1).submit(second)
    try:
        result = first()
    finally:
        other = future.result()
    return result, other
