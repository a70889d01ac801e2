"""Seeded random streams that do not depend on how work is chunked.

Rows are generated in fixed blocks of ``BLOCK_ROWS``; block ``b`` of stream ``s`` always
draws from ``SeedSequence(seed, spawn_key=(s, b))``. A chunk is any run of whole blocks,
so the chunk size a caller picks (for memory) never changes a single output byte.
"""

from __future__ import annotations

import numpy as np

BLOCK_ROWS = 1 << 16


def resolve_seed(seed: int | None) -> int:
    """A concrete non-negative seed; ``None`` draws one from the OS once."""
    if seed is None:
        return int(np.random.SeedSequence().entropy % (1 << 63))
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be an integer, not {type(seed).__name__}")
    return int(seed) % (1 << 64)


def block_generator(seed: int, stream, block: int) -> np.random.Generator:
    """``stream`` is an int or a tuple of ints (e.g. (stream, cell))."""
    key = tuple(int(s) for s in stream) if isinstance(stream, tuple) else (int(stream),)
    sequence = np.random.SeedSequence(seed, spawn_key=key + (int(block),))
    return np.random.Generator(np.random.PCG64(sequence))


def block_uniforms(seed: int, stream, start_block: int, n_rows: int, width: int,
                   out: np.ndarray | None = None) -> np.ndarray:
    """Uniforms of shape (n_rows, width) for rows starting at ``start_block * BLOCK_ROWS``.

    ``out``: a C-contiguous float64 array of that shape to fill (a caller drawing chunk
    after chunk reuses one, instead of faulting in fresh pages for each)."""
    if out is None:
        out = np.empty((n_rows, width), dtype=np.float64)
    elif out.shape != (n_rows, width) or out.dtype != np.float64 or not out.flags.c_contiguous:
        raise ValueError(f"out must be C-contiguous float64 of shape {(n_rows, width)}")
    done = 0
    block = start_block
    while done < n_rows:
        take = min(BLOCK_ROWS, n_rows - done)
        # A block's stream is filled row-major, so its first ``take`` rows are the same
        # numbers whether or not the rest of the block is drawn.
        # Filled in place (the same numbers as ``random((take, width))``): no temporary
        # block-sized array to allocate, fault in and copy.
        block_generator(seed, stream, block).random(out=out[done:done + take])
        done += take
        block += 1
    return out
