"""Unconditional sampling: ancestral sampling of states, then values inside the bins.

Rows are produced in chunks of whole ``rng.BLOCK_ROWS`` blocks, each block with its own
seeded streams, so memory follows the chunk and the output does not depend on it.
"""

from __future__ import annotations

import math
import mmap
from collections.abc import Iterator

import numpy as np

from engine import rng
from engine.model import relations, weekdays
from engine.sampling import assembly, tilt
from engine.sampling._kernels import (_bin_edge_scores, _forward_sample, _transpose_into,
                                      _within_bin_values)
from engine.sampling._latent_kernels import _latent_values_per_bin
from engine.sampling._node_kernels import _level_scores
from engine.sampling.rowsplit import in_parallel, split_rows

# Rows per chunk: 4 blocks (262,144 rows) keep a 50-column chunk's working arrays near
# 100 MB while amortising per-chunk overhead.
DEFAULT_CHUNK_ROWS = 4 * rng.BLOCK_ROWS
STREAM_STATES = 0
STREAM_VALUES = 1
# A probit node's per-(configuration, bin) truncation memo is used while it has at most
# this many entries per row of the chunk; beyond, most entries would be computed for one
# row only and the plain per-row kernel is cheaper.
MEMO_CELLS_PER_ROW = 2
# Cells decoded at a time when writing (``unit_rows_for``): 8M cells (64 MB per float
# array) keep a 120-column model's working set small; a 30-column chunk is one unit.
UNIT_CELLS = rng.BLOCK_ROWS * 128
# Rows of a stream drawn at a time by ``column_uniforms``: 1,024 rows of up to a few
# hundred columns stay in L2 until they are copied into columns.
PIECE_ROWS = 1024


def no_evidence(d: int):
    """Evidence arrays that leave every node free."""
    return np.zeros(d, dtype=np.int64), np.ones(1), np.zeros(d, dtype=np.bool_)


def draw_states(model, uniforms: np.ndarray, evidence=None, codes: np.ndarray | None = None
                ) -> tuple[np.ndarray, np.ndarray]:
    """States (rows x nodes) and likelihood weights for the given uniforms.

    ``codes``: an int64 Fortran-ordered (rows x nodes) array to fill, else a new one.
    The kernel reads the uniforms node by node, so C-ordered ones are first copied by
    columns (``by_columns``; each read was a cache line of its own, half the kernel's
    time, issue 18): ``column_uniforms`` draws them that way from the start."""
    kt = model.kernel_tables
    n, d = uniforms.shape
    ev_offset, ev, is_ev, *override = evidence if evidence is not None else no_evidence(d)
    cdf = override[0] if override and override[0] is not None else kt.cdf
    if codes is None:
        codes = np.empty((n, d), dtype=np.int64, order="F")   # column per node: see kernel
    uniforms = by_columns(uniforms)
    weights = np.empty(n, dtype=np.float64)

    def run(lo, hi):
        _forward_sample(kt.order, kt.n_parents, kt.parent_index, kt.parent_map_offset,
                        kt.parent_map, kt.parent_stride, kt.card, kt.table_offset, cdf,
                        ev_offset, ev, is_ev, uniforms[lo:hi], codes[lo:hi], weights[lo:hi])
    split_rows(n, run)
    return codes, weights


def by_columns(values: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """``values`` (rows x columns) in Fortran order, copied into ``out`` (or a new array)
    unless it already is: kernels read one column over all rows, and from a C-ordered
    array every read is a cache line of its own (``_transpose_into``)."""
    if values.flags.f_contiguous:
        return values
    if out is None:
        out = np.empty(values.shape, order="F")
    split_rows(values.shape[0], lambda lo, hi: _transpose_into(values[lo:hi], out[lo:hi]))
    return out


def column_uniforms(seed: int, stream, start_block: int, n_rows: int, width: int,
                    out: np.ndarray | None = None) -> np.ndarray:
    """``rng.block_uniforms(seed, stream, start_block, n_rows, width)`` in Fortran order:
    the same numbers, into ``out`` (Fortran-ordered float64, else a new array).

    Each block's stream is drawn ``PIECE_ROWS`` rows at a time into a small row-major
    scratch and copied into the columns from there while it is in cache: drawing a whole
    unit row-major first (63 MB for 65,536 rows of 120 columns) sent it out to memory and
    back for the copy. A generator's next draw continues its stream, so the pieces are
    the block's numbers in order."""
    if out is None:
        out = np.empty((n_rows, width), order="F")
    scratch = np.empty((min(PIECE_ROWS, n_rows), width))
    done, block = 0, start_block
    while done < n_rows:
        take = min(rng.BLOCK_ROWS, n_rows - done)
        generator = rng.block_generator(seed, stream, block)
        for lo in range(0, take, PIECE_ROWS):
            piece = scratch[:min(PIECE_ROWS, take - lo)]
            generator.random(out=piece)
            _transpose_into(piece, out[done + lo:done + lo + piece.shape[0]])
        done += take
        block += 1
    return out


def decode(model, codes: np.ndarray, value_uniforms: np.ndarray,
           bin_bounds: dict[int, tuple[np.ndarray, np.ndarray, float, float]] | None = None,
           weekday_uniforms: np.ndarray | None = None, *, arrow: bool = False):
    """Turn states into a frame in schema order (a ``pa.Table`` with ``arrow``, built
    without pandas: ``assembly.to_arrow``; else a DataFrame).

    ``bin_bounds`` maps a numeric node to (cdf_lo, cdf_hi, lower, upper): the part of each
    bin's CDF a numeric range allows and the range itself (values are clipped into it to
    absorb float rounding at the edges). Numeric nodes are decoded parents first, so a
    child that tracks its numeric parents inside the bin (``model.node_within``) reads
    their exact normal scores. ``weekday_uniforms`` (``weekdays.block_uniforms``) move a
    date with a weekday effect within its week, inside its bin and range.
    """
    bin_bounds = bin_bounds or {}
    columns = {}
    slots = numeric_slots(model)
    weekday_slots = weekdays.weekday_slots(model) if weekday_uniforms is not None else {}
    children_of = tilt.tracking_children(model)
    parents_tracked = sorted(children_of)
    scores = tilt.NodeScores(np.empty((codes.shape[0], max(len(parents_tracked), 1)),
                                      order="F"))
    schema = list(model.schema_)
    for j in model.kernel_tables.order:
        j = int(j)
        column, enc = schema[j], model.encodings_[j]
        state = codes[:, j]
        if enc.derived:
            continue                                # computed by relations.apply below
        if enc.kind == "categorical":
            columns[column.name] = _categorical_values(column, enc, state)
            continue
        if j in bin_bounds:
            lo_cdf, hi_cdf, lower, upper = bin_bounds[j]
        else:
            lo_cdf, hi_cdf = np.zeros(enc.n_bins), np.ones(enc.n_bins)
            lower, upper = enc.lower, enc.upper
        n = state.shape[0]
        values = np.empty(n, dtype=np.float64)
        uniforms = value_uniforms[:, slots[j]]
        latent, within = model.node_latent(j), model.node_within(j)
        children = children_of.get(j, [])
        levels = tilt.plain_levels(model, j, children, codes, scores, lo_cdf, hi_cdf,
                                   uniforms) \
            if children and latent is None and within is None else None
        if levels is not None:
            _within_bin_values(state, enc.missing_state, enc.knot_x, enc.knot_c, enc.n_knots,
                               np.zeros(enc.n_bins), np.ones(enc.n_bins),
                               np.nan_to_num(levels), bool(enc.is_integer), values)
        elif latent is None and within is None:
            _within_bin_values(state, enc.missing_state, enc.knot_x, enc.knot_c, enc.n_knots,
                               lo_cdf, hi_cdf, uniforms, bool(enc.is_integer), values)
            if j in parents_tracked:
                b = np.minimum(state, enc.n_bins - 1)
                levels = lo_cdf[b] + uniforms * (hi_cdf - lo_cdf)[b]
        else:
            levels = _latent_values(model, j, children, codes, scores, lo_cdf, hi_cdf,
                                    uniforms, values)
        if j in parents_tracked:
            scores.cols[j] = col = parents_tracked.index(j)
            cum, column_scores = bin_cum(enc, latent), scores.matrix[:, col]
            split_rows(n, lambda lo, hi: _level_scores(
                state[lo:hi], enc.missing_state, cum, levels[lo:hi], column_scores[lo:hi]))
        np.clip(values, lower, upper, out=values)
        if j in weekday_slots:                      # issue 14: weekday effects
            low, high = weekdays.bin_unit_bounds(enc, state, lower, upper)
            values = weekdays.shift(values, low, high, enc.weekday_weights,
                                    weekday_uniforms[:, weekday_slots[j]],
                                    weekdays.units_per_day(column))
        columns[column.name] = assembly.numeric(enc.round_to_seed(values, lower, upper), enc)
    relations.apply(model, columns)
    # date/datetime columns leave as calendar arrays (engine/calendar.py) in both tables
    return assembly.to_arrow(schema, columns) if arrow else assembly.to_frame(schema, columns)


def _latent_values(model, j, children, codes, scores, lo_cdf, hi_cdf, uniforms, values):
    """Fill ``values`` of a numeric node whose within-bin position follows a latent normal
    (``_within_bin_latent_values``); returns the within-bin levels. The bins' edge scores
    are computed once per bin, and a probit node's truncations once per (configuration,
    bin) seen, not once per row: the same numbers, far fewer normal quantiles. In its wide
    bins the position is first tilted towards its tracking ``children`` (engine/sampling/
    tilt.py) where they give evidence."""
    enc, latent, within = model.encodings_[j], model.node_latent(j), model.node_within(j)
    state = codes[:, j]
    n = state.shape[0]
    cfg = tilt.row_configs(model, j, codes)
    if within is None:
        mu, sigma, cum = latent["mu"], float(latent["sigma"]), latent["cum"]
    else:
        sigma, cum = float(within["sigma"]), latent_cum(enc, latent)
    integer = bool(enc.is_integer)

    def row_means():
        return mu[cfg] if within is None else tilt.within_means(model, j, codes, scores,
                                                                config=cfg)
    mean = None
    if children:
        mean = row_means()
        tilted = tilt.latent_levels(model, j, children, codes, scores, lo_cdf, hi_cdf,
                                    uniforms, mean, sigma, cum)
        if tilted is not None:
            _within_bin_values(state, enc.missing_state, enc.knot_x, enc.knot_c,
                               enc.n_knots, np.zeros(enc.n_bins), np.ones(enc.n_bins),
                               np.nan_to_num(tilted), integer, values)
            return tilted
    levels = np.empty(n, dtype=np.float64)
    z_lo, z_hi = np.empty(enc.n_bins), np.empty(enc.n_bins)
    _bin_edge_scores(cum, lo_cdf, hi_cdf, z_lo, z_hi)
    by_config = within is None and mu.shape[0] * enc.n_bins <= MEMO_CELLS_PER_ROW * n
    if by_config:
        mean = np.empty(0)
    else:
        mean = row_means() if mean is None else mean      # computed once per node
        cfg, mu = np.empty(0, dtype=np.int64), np.empty(0)

    def run(lo, hi):                        # each thread keeps its own memo
        memo_done = np.zeros(mu.shape[0] * enc.n_bins if by_config else 0, dtype=np.bool_)
        _latent_values_per_bin(state[lo:hi], mean[lo:hi], cfg[lo:hi], mu, memo_done,
                               np.empty((memo_done.shape[0], 4)), enc.missing_state, sigma,
                               cum, z_lo, z_hi, enc.knot_x, enc.knot_c, enc.n_knots, lo_cdf,
                               hi_cdf, uniforms[lo:hi], integer, values[lo:hi],
                               levels[lo:hi])
    split_rows(n, run)
    return levels


def numeric_slots(model) -> dict[int, int]:
    """Node -> its column of the value uniforms (numeric nodes in schema order)."""
    nodes = [j for j, e in enumerate(model.encodings_) if e.kind == "numeric"]
    return {j: slot for slot, j in enumerate(nodes)}


def bin_cum(enc, latent) -> np.ndarray:
    """A numeric node's cumulative bin shares (the copula scale's bin edges)."""
    if enc.bin_cum is not None:
        return enc.bin_cum
    return latent["cum"]


def latent_cum(enc, latent) -> np.ndarray:
    """The bins' edges on a node's latent scale (its own latent's, else the marginal)."""
    return latent["cum"] if latent is not None else bin_cum(enc, latent)


def _categorical_values(column, enc, state) -> assembly.Coded:
    codes = state.copy()
    if enc.missing_state >= 0:
        codes[codes == enc.missing_state] = -1
    return assembly.coded(column, codes)


def _anonymous(size: int, dtype) -> np.ndarray:
    """A 1-d array of ``size`` elements in memory of its own (an anonymous mmap), for the
    large working buffers. numpy asks the kernel for transparent huge pages on arrays of
    4 MB and more; where the kernel then compacts memory to find them (THP defrag
    "madvise", this machine's setting) faulting a buffer in took twice as long: 0.14 s
    for 63 MB against 0.06, paid once per ``iter_sample_groups``."""
    itemsize = np.dtype(dtype).itemsize
    return np.frombuffer(mmap.mmap(-1, max(size, 1) * itemsize), dtype=dtype)[:size]


def n_numeric(model) -> int:
    return sum(enc.kind == "numeric" for enc in model.encodings_)


def iter_sample(model, n_rows: int, seed: int, chunk_rows: int = DEFAULT_CHUNK_ROWS
                ) -> Iterator:
    """Unconditional rows in chunks of whole blocks; identical output for any chunk size."""
    for group in iter_sample_groups(model, n_rows, seed, chunk_rows, unit_rows=chunk_rows):
        yield group[0]


def unit_rows_for(model, chunk_rows: int = DEFAULT_CHUNK_ROWS) -> int:
    """Rows decoded at a time for a writer: whole blocks, at most ``UNIT_CELLS`` cells, so
    a wide model's working arrays stay small whatever the chunk (a narrow one's chunk is
    one unit)."""
    blocks = max(1, min(chunk_rows // rng.BLOCK_ROWS,
                        UNIT_CELLS // (rng.BLOCK_ROWS * max(len(model.encodings_), 1))))
    return blocks * rng.BLOCK_ROWS


def iter_sample_groups(model, n_rows: int, seed: int, chunk_rows: int = DEFAULT_CHUNK_ROWS,
                       unit_rows: int | None = None, *, arrow: bool = False) -> Iterator[list]:
    """Per chunk of ``chunk_rows``, its rows as a list of frames of ``unit_rows`` each
    (whole blocks; default ``unit_rows_for``). A writer writes each list as one unit, so
    the file is the one whole-chunk frames give, while memory follows the unit.
    ``arrow``: the frames are ``pa.Table``s (``decode``), never DataFrames."""
    d = len(model.encodings_)
    width = max(n_numeric(model), 1)
    chunk_blocks = max(1, chunk_rows // rng.BLOCK_ROWS)
    unit_rows = unit_rows_for(model, chunk_rows) if unit_rows is None else unit_rows
    unit_blocks = max(1, min(chunk_blocks, unit_rows // rng.BLOCK_ROWS))
    n_blocks = math.ceil(n_rows / rng.BLOCK_ROWS)
    full = unit_blocks * rng.BLOCK_ROWS
    buffers = None
    for chunk_start in range(0, n_blocks, chunk_blocks):
        group = []
        for start in range(chunk_start, min(chunk_start + chunk_blocks, n_blocks), unit_blocks):
            rows = min(full, n_rows - start * rng.BLOCK_ROWS,
                       (chunk_start + chunk_blocks - start) * rng.BLOCK_ROWS)
            if n_rows > full:
                # Working arrays reused unit after unit, the last (shorter) one included:
                # arrays this big are mmap-ed afresh by malloc each time, and faulting
                # their pages in cost as much as drawing them (the discrete draw into
                # fresh codes took 34 ns a cell, 7 into reused ones). A shorter unit's
                # arrays are the buffers' first rows * columns elements, still Fortran-
                # ordered and contiguous.
                buffers = buffers or (_anonymous(full * d, np.float64),
                                      _anonymous(full * width, np.float64),
                                      _anonymous(full * d, np.int64))
                state_out, value_out, codes_out = (
                    flat[:rows * cols].reshape((rows, cols), order="F")
                    for flat, cols in zip(buffers, (d, width, d)))
            else:
                state_out = value_out = codes_out = None
            # The two streams are independent: drawn side by side (numpy fills without
            # the GIL), each the numbers it is alone. Both by columns: the discrete draw
            # reads one node's uniforms over all rows, and so does each numeric node's
            # decode (8% of the 120-column benchmark model's when every read of a
            # row-major array was a cache line of its own).
            uniforms, value_uniforms = in_parallel(
                lambda: column_uniforms(seed, STREAM_STATES, start, rows, d, state_out),
                lambda: column_uniforms(seed, STREAM_VALUES, start, rows, width, value_out))
            codes, _ = draw_states(model, uniforms, codes=codes_out)
            group.append(decode(model, codes, value_uniforms, weekday_uniforms=weekdays
                                .block_uniforms(model, seed, start, rows), arrow=arrow))
        yield group
        group = None           # not kept alive while the next chunk is drawn
