"""Unconditional sampling: ancestral sampling of states, then values inside the bins.

Rows are produced in chunks of whole ``rng.BLOCK_ROWS`` blocks, each block with its own
seeded streams, so memory follows the chunk and the output does not depend on it.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np
import pandas as pd

from engine import rng
from engine.sampling._kernels import (_forward_sample, _within_bin_copula_values,
                                      _within_bin_values)

# Rows per chunk: 4 blocks (262,144 rows) keep a 50-column chunk's working arrays near
# 100 MB while amortising per-chunk overhead.
DEFAULT_CHUNK_ROWS = 4 * rng.BLOCK_ROWS
STREAM_STATES = 0
STREAM_VALUES = 1


def no_evidence(d: int):
    """Evidence arrays that leave every node free."""
    return np.zeros(d, dtype=np.int64), np.ones(1), np.zeros(d, dtype=np.bool_)


def draw_states(model, uniforms: np.ndarray, evidence=None) -> tuple[np.ndarray, np.ndarray]:
    """States (rows x nodes) and likelihood weights for the given uniforms."""
    kt = model.kernel_tables
    n, d = uniforms.shape
    ev_offset, ev, is_ev, *override = evidence if evidence is not None else no_evidence(d)
    cdf = override[0] if override and override[0] is not None else kt.cdf
    codes = np.empty((n, d), dtype=np.int64)
    weights = np.empty(n, dtype=np.float64)
    _forward_sample(kt.order, kt.n_parents, kt.parent_index, kt.parent_map_offset,
                    kt.parent_map, kt.parent_stride, kt.card, kt.table_offset, cdf,
                    ev_offset, ev, is_ev, uniforms, codes, weights)
    return codes, weights


def decode(model, codes: np.ndarray, value_uniforms: np.ndarray,
           bin_bounds: dict[int, tuple[np.ndarray, np.ndarray, float, float]] | None = None
           ) -> pd.DataFrame:
    """Turn states into a frame in schema order.

    ``bin_bounds`` maps a numeric node to (cdf_lo, cdf_hi, lower, upper): the part of each
    bin's CDF a numeric range allows and the range itself (values are clipped into it to
    absorb float rounding at the edges).
    """
    bin_bounds = bin_bounds or {}
    columns = {}
    numeric_slot = 0
    for j, (column, enc) in enumerate(zip(model.schema_, model.encodings_)):
        state = codes[:, j]
        if enc.kind == "categorical":
            columns[column.name] = _categorical_values(column, enc, state)
            continue
        if j in bin_bounds:
            lo_cdf, hi_cdf, lower, upper = bin_bounds[j]
        else:
            lo_cdf, hi_cdf = np.zeros(enc.n_bins), np.ones(enc.n_bins)
            lower, upper = enc.lower, enc.upper
        values = np.empty(state.shape[0], dtype=np.float64)
        latent = model.node_latent(j)
        if latent is None:
            _within_bin_values(state, enc.missing_state, enc.knot_x, enc.knot_c, enc.n_knots,
                               lo_cdf, hi_cdf, value_uniforms[:, numeric_slot],
                               bool(enc.is_integer), values)
        else:
            _within_bin_copula_values(
                state, model.config_of_rows(j, codes), enc.missing_state, latent["mu"],
                float(latent["sigma"]), latent["cum"], enc.knot_x, enc.knot_c, enc.n_knots,
                lo_cdf, hi_cdf, value_uniforms[:, numeric_slot], bool(enc.is_integer), values)
        numeric_slot += 1
        np.clip(values, lower, upper, out=values)
        columns[column.name] = _numeric_series(values, enc)
    return pd.DataFrame(columns)


def _categorical_values(column, enc, state):
    codes = state.copy()
    if enc.missing_state >= 0:
        codes[codes == enc.missing_state] = -1
    levels = list(column.levels)
    if column.type == "boolean":
        mapped = np.array([lvl == "true" for lvl in levels], dtype=bool)
        result = pd.array(mapped[np.maximum(codes, 0)], dtype="boolean")
        result[codes < 0] = pd.NA
        return result
    return pd.Categorical.from_codes(codes, categories=levels,
                                     ordered=column.type == "ordered")


def _numeric_series(values, enc):
    if not enc.is_integer:
        return values
    if enc.missing_state >= 0:
        return _nullable_int(values)
    return values.astype(np.int64)


def _nullable_int(values):
    missing = np.isnan(values)
    ints = np.where(missing, 0, values).astype(np.int64)
    return pd.arrays.IntegerArray(ints, missing)


def n_numeric(model) -> int:
    return sum(enc.kind == "numeric" for enc in model.encodings_)


def iter_sample(model, n_rows: int, seed: int, chunk_rows: int = DEFAULT_CHUNK_ROWS
                ) -> Iterator[pd.DataFrame]:
    """Unconditional rows in chunks of whole blocks; identical output for any chunk size."""
    d = len(model.encodings_)
    width = max(n_numeric(model), 1)
    chunk_blocks = max(1, chunk_rows // rng.BLOCK_ROWS)
    n_blocks = math.ceil(n_rows / rng.BLOCK_ROWS)
    for start in range(0, n_blocks, chunk_blocks):
        rows = min(chunk_blocks * rng.BLOCK_ROWS, n_rows - start * rng.BLOCK_ROWS)
        uniforms = rng.block_uniforms(seed, STREAM_STATES, start, rows, d)
        codes, _ = draw_states(model, uniforms)
        value_uniforms = rng.block_uniforms(seed, STREAM_VALUES, start, rows, width)
        yield decode(model, codes, value_uniforms)
