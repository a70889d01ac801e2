"""Sufficient statistics of the network: integer counts over compact codes, that merge.

The model is fitted in two passes. The first pass fixes every column's encoding (bin
edges, levels: ``encoding``); the second only counts. Every score and every table is a
function of two kinds of counts:

- *family counts*: the joint counts of a child's states and its parents' configurations
  (each parent seen through a state map, e.g. a numeric parent's coarse groups);
- *pair counts*: the joint counts of two columns, for screening candidate parents.

Counts over parts of the rows add up to the counts over the whole table, exactly (they are
integers), so a fit over partitions (``MergedCounts``) gives the same model, byte for
byte, as over the whole table (``TableCounts``). This is what lets fit run on several
machines later: each gathers its part, the driver adds.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from engine.model import _count_kernels

# A family table with at most this many cells per row is counted densely (a zeroed array
# and one increment per row); a larger one by sorting the rows' cell keys, which costs
# per row, not per cell.
DENSE_CELLS_PER_ROW = 8


def code_dtype(max_states: int) -> np.dtype:
    """The narrowest unsigned type that holds every state code."""
    if max_states <= 1 << 8:
        return np.dtype(np.uint8)
    if max_states <= 1 << 16:
        return np.dtype(np.uint16)
    return np.dtype(np.uint32)


def compact_columns(n_rows: int, n_states: Sequence[int], encode_column, each=map
                    ) -> np.ndarray:
    """(columns, rows) codes in the narrowest dtype; ``encode_column(j)`` gives column j's
    codes (any integer dtype), one column at a time so only one wide copy ever exists
    (one per thread when ``each``, a ``map``, runs them on threads)."""
    columns = np.empty((len(n_states), n_rows), dtype=code_dtype(max(n_states, default=1)))

    def fill(j):
        columns[j] = encode_column(j)

    for _ in each(fill, range(len(n_states))):
        pass
    return columns


class TableCounts:
    """Counts over one block of rows (the whole table, or one partition of it)."""

    def __init__(self, columns: np.ndarray, n_states: Sequence[int]):
        self.columns = np.ascontiguousarray(columns)
        self.n_states = np.asarray(n_states, dtype=np.int64)
        self.n_rows = int(columns.shape[1])

    def family(self, child: int, parents: Sequence[int], maps: Sequence[np.ndarray],
               sizes: Sequence[int]) -> np.ndarray:
        """(configurations, child states) counts; configuration = row-major index over
        the parents' mapped states (the first parent varies slowest)."""
        n_child = int(self.n_states[child])
        n_cfg = int(np.prod(sizes)) if len(sizes) else 1
        out = np.zeros(n_cfg * n_child, dtype=np.int64)
        _count_kernels.family_counts(self.columns, child, *_layout(parents, maps, sizes),
                                     n_child, out, _block_scratch())
        return out.reshape(n_cfg, n_child)

    def family_cells(self, child: int, parents: Sequence[int], maps: Sequence[np.ndarray],
                     sizes: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
        """The family's nonzero cells: sorted cell keys (configuration * child states +
        child state) and their counts. Small tables are counted densely; a table with
        many more cells than rows is counted by sorting the rows' keys."""
        n_child = int(self.n_states[child])
        n_cells = (int(np.prod(sizes)) if len(sizes) else 1) * n_child
        if n_cells <= DENSE_CELLS_PER_ROW * max(self.n_rows, 1):
            dense = self.family(child, parents, maps, sizes).reshape(-1)
            keys = np.flatnonzero(dense)
            return keys, dense[keys]
        keys = np.empty(self.n_rows, dtype=np.int64)
        _count_kernels.family_keys(self.columns, child, *_layout(parents, maps, sizes),
                                   n_child, keys)
        return np.unique(keys, return_counts=True)

    def pairs(self, first: int, seconds: Sequence[int]) -> list[np.ndarray]:
        """Joint (first's states, second's states) counts with each of ``seconds``."""
        seconds = np.asarray(seconds, dtype=np.int64)
        widths = self.n_states[seconds]
        sizes = int(self.n_states[first]) * widths
        offset = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
        out = np.zeros(int(sizes.sum()), dtype=np.int64)
        _count_kernels.pair_counts(self.columns, first, seconds, widths, offset, out)
        return [out[o:o + s].reshape(-1, w) for o, s, w in zip(offset, sizes, widths)]


def _block_scratch() -> np.ndarray:
    """The family kernels' per-call cell buffer (one per call: scoring runs on threads)."""
    return np.empty(_count_kernels.BLOCK_ROWS, dtype=np.int64)


def _layout(parents, maps, sizes):
    """The kernels' view of a parent set: indices, concatenated state maps, offsets, strides."""
    stride = np.ones(len(parents), dtype=np.int64)
    for s in range(len(parents) - 2, -1, -1):
        stride[s] = stride[s + 1] * sizes[s + 1]
    offset = np.zeros(len(parents), dtype=np.int64)
    if len(maps):
        offset[1:] = np.cumsum([m.size for m in maps])[:-1]
        flat = np.concatenate(maps).astype(np.int64)
    else:
        flat = np.zeros(1, dtype=np.int64)
    return np.asarray(parents, dtype=np.int64), flat, offset, stride


class MergedCounts:
    """The sum of several partitions' counts: the same answers as one ``TableCounts``
    over all their rows."""

    def __init__(self, parts: Sequence[TableCounts]):
        self.parts = list(parts)
        self.n_states = self.parts[0].n_states
        self.n_rows = sum(p.n_rows for p in self.parts)

    def family(self, child, parents, maps, sizes) -> np.ndarray:
        return sum(self._each("family", child, parents, maps, sizes))

    def family_cells(self, child, parents, maps, sizes):
        keys, counts = zip(*self._each("family_cells", child, parents, maps, sizes))
        keys, where = np.unique(np.concatenate(keys), return_inverse=True)
        return keys, np.bincount(where, weights=np.concatenate(counts)).astype(np.int64)

    def pairs(self, first, seconds) -> list[np.ndarray]:
        per_part = self._each("pairs", first, seconds)
        return [sum(tables) for tables in zip(*per_part)]

    def _each(self, method: str, *args) -> list:
        """Every part's answer to one query (``engine.distributed`` asks its workers)."""
        return [getattr(p, method)(*args) for p in self.parts]


def split_rows(columns: np.ndarray, n_states, n_parts: int) -> MergedCounts:
    """``columns`` cut into ``n_parts`` contiguous row blocks, each counted on its own."""
    bounds = np.linspace(0, columns.shape[1], n_parts + 1).astype(np.int64)
    return MergedCounts([TableCounts(columns[:, a:b], n_states)
                         for a, b in zip(bounds[:-1], bounds[1:])])
