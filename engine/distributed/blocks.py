"""One run of whole blocks of a generation, as the one-process sampler produces it.

The block RNG (``engine.rng``) seeds block ``b`` of each stream on its own, so the rows of
blocks ``[first, first + k)`` can be made anywhere, in any order, and equal the same rows
of ``forward.iter_sample`` / ``conditional.iter_decode`` (tests/engine/distributed hold
them to it). Streams and steps are those of ``engine.sampling``.
"""

from __future__ import annotations

import pandas as pd

from engine import rng
from engine.model import weekdays
from engine.sampling import forward


def unconditioned_rows(model, seed: int, first_block: int, n_rows: int) -> pd.DataFrame:
    """Rows ``first_block * BLOCK_ROWS`` onward (``n_rows`` of them) of an unconditioned
    generation with ``seed``."""
    d = len(model.encodings_)
    width = max(forward.n_numeric(model), 1)
    states = rng.block_uniforms(seed, forward.STREAM_STATES, first_block, n_rows, d)
    codes, _ = forward.draw_states(model, states)
    values = rng.block_uniforms(seed, forward.STREAM_VALUES, first_block, n_rows, width)
    weekday = weekdays.block_uniforms(model, seed, first_block, n_rows)
    return forward.decode(model, codes, values, weekday_uniforms=weekday)


def conditioned_rows(model, seed: int, first_block: int, codes, bin_bounds) -> pd.DataFrame:
    """The drawn states ``codes`` (rows from ``first_block * BLOCK_ROWS`` of a conditioned
    draw) decoded into values, as ``conditional.iter_decode`` decodes them."""
    width = max(forward.n_numeric(model), 1)
    values = rng.block_uniforms(seed, forward.STREAM_VALUES, first_block, codes.shape[0], width)
    return forward.decode(model, codes.astype("int64", copy=False), values, bin_bounds,
                          weekdays.block_uniforms(model, seed, first_block, codes.shape[0]))
