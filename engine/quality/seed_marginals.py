"""The seed's 1- and 2-way state counts, the only seed evidence a model file carries for
scenario support (docs/conditioning.md, "Scenario support").

Per conditionable column with at most ``MAX_STATES`` model states (levels; bins for numeric
columns) the count of seed rows per state, and per pair of such columns the nonzero cells of
their co-occurrence counts: the pairs with the fewest nonzero cells that fit in
``MAX_PAIR_CELLS`` cells together. That is no more than the fitted tables already show,
never a per-row pattern, and its size does not grow with the row count. Stored as a few ``.npy`` arrays of small integer dtype.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from itertools import combinations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:             # counting runs at fit time; loading saved marginals needs no pandas
    import pandas as pd

# A column with more states is left out (its pairs would dominate the budget).
MAX_STATES = 64
# Nonzero pair cells stored in total; the pairs with most cells are left out. 2**18 cells
# of (uint16 cell, uint32 count) are at most 1.5 MiB, whatever the row count.
MAX_PAIR_CELLS = 2 ** 18
ARRAY_NAMES = ("nodes", "n_states", "one_way", "pairs", "pair_offsets", "pair_cells",
               "pair_counts")


@dataclass
class SeedMarginals:
    nodes: np.ndarray          # int32 [k]: model node of each kept column
    n_states: np.ndarray       # int32 [k]
    one_way: np.ndarray        # counts per state, the columns' blocks concatenated
    pairs: np.ndarray          # int32 [p, 2]: node pairs (a < b) that are stored
    pair_offsets: np.ndarray   # int64 [p + 1]: pair i's cells are [offsets[i], offsets[i+1])
    pair_cells: np.ndarray     # uint16: state_a * n_states_b + state_b, nonzero cells only
    pair_counts: np.ndarray    # counts of those cells

    def to_arrays(self) -> dict[str, np.ndarray]:
        return {name: getattr(self, name) for name in ARRAY_NAMES}

    @classmethod
    def from_arrays(cls, arrays: dict) -> "SeedMarginals":
        return cls(**{name: np.asarray(arrays[name]) for name in ARRAY_NAMES})

    def states(self, node: int) -> np.ndarray | None:
        """The 1-way counts of ``node`` (int64), None when it is left out."""
        hit = np.flatnonzero(self.nodes == node)
        if hit.size == 0:
            return None
        start = int(self.n_states[:hit[0]].sum())
        return self.one_way[start:start + int(self.n_states[hit[0]])].astype(np.int64)

    def pair(self, a: int, b: int) -> np.ndarray | None:
        """The dense ``[n_states_a, n_states_b]`` counts of a stored pair, else None."""
        swap = a > b
        lo, hi = (b, a) if swap else (a, b)
        hit = np.flatnonzero((self.pairs[:, 0] == lo) & (self.pairs[:, 1] == hi)) \
            if self.pairs.size else np.empty(0, dtype=np.int64)
        if hit.size == 0:
            return None
        size = {int(n): int(s) for n, s in zip(self.nodes, self.n_states)}
        dense = np.zeros(size[lo] * size[hi], dtype=np.int64)
        part = slice(int(self.pair_offsets[hit[0]]), int(self.pair_offsets[hit[0] + 1]))
        dense[self.pair_cells[part].astype(np.int64)] = self.pair_counts[part]
        dense = dense.reshape(size[lo], size[hi])
        return dense.T if swap else dense


def count_marginals(model, frame: pd.DataFrame) -> SeedMarginals:
    """The summary of the cleaned seed ``frame`` at ``model``'s state resolution."""
    nodes, codes = state_codes(model, frame, MAX_STATES)
    return from_codes(nodes, [model.encodings_[j].n_states for j in nodes], codes, None)


def state_codes(model, frame: pd.DataFrame, max_states: int | None = None) -> tuple[list, list]:
    """The conditionable nodes (with at most ``max_states`` states) and each one's state
    code per row of ``frame``; uint8 codes when they fit (1 MB per million rows)."""
    from engine.model.network import in_level_order

    nodes, codes = [], []
    for j, enc in enumerate(model.encodings_):
        column = model.schema_[enc.name]
        if column.conditioning_excluded or enc.n_states > (max_states or enc.n_states):
            continue
        series = frame[enc.name]
        if column.kind == "categorical":
            series = in_level_order(series, list(column.levels or []))
        nodes.append(j)
        codes.append(_small(enc.encode(series), enc.n_states))
    return nodes, codes


def from_codes(nodes, n_states, codes, weights) -> SeedMarginals:
    """Counts of rows (each weighing ``weights[i]``, or 1) given each column's state codes."""
    keep = [i for i, n in enumerate(n_states) if n <= MAX_STATES]
    nodes = [int(nodes[i]) for i in keep]
    n_states = [int(n_states[i]) for i in keep]
    codes = [_small(np.asarray(codes[i]), n_states[k]) for k, i in enumerate(keep)]
    one_way = [np.bincount(c, weights=weights, minlength=n).round().astype(np.int64)
               for c, n in zip(codes, n_states)]
    kept = _smallest_pairs(codes, n_states, weights)
    pairs = [(nodes[a], nodes[b]) for a, b in sorted(kept)]
    cells = [kept[key][0] for key in sorted(kept)]
    counts = [kept[key][1] for key in sorted(kept)]
    offsets = np.cumsum([0] + [c.size for c in cells])
    all_counts = np.concatenate(one_way + counts) if one_way else np.zeros(0, np.int64)
    count_dtype = np.min_scalar_type(int(all_counts.max(initial=0)))
    return SeedMarginals(
        nodes=np.asarray(nodes, dtype=np.int32), n_states=np.asarray(n_states, dtype=np.int32),
        one_way=_concat(one_way, count_dtype),
        pairs=np.asarray(pairs, dtype=np.int32).reshape(-1, 2),
        pair_offsets=np.asarray(offsets, dtype=np.int64),
        pair_cells=_concat(cells, np.uint16), pair_counts=_concat(counts, count_dtype))


def _smallest_pairs(codes, n_states, weights) -> dict:
    """``{(a, b): (nonzero cells, counts)}`` for the pairs with the fewest nonzero cells
    (ties: the earlier pair) that fit in ``MAX_PAIR_CELLS`` together. One pass: each new
    pair is added, then the largest are evicted until the total fits, so no more than the
    budget and one pair are ever held."""
    kept, heap, total = {}, [], 0
    for order, (a, b, full) in enumerate(_pair_tables(codes, n_states, weights)):
        nonzero = np.flatnonzero(full.round() > 0)
        kept[a, b] = (nonzero, full[nonzero].round().astype(np.int64))
        heapq.heappush(heap, (-nonzero.size, -order, (a, b)))
        total += nonzero.size
        while total > MAX_PAIR_CELLS:
            _, _, largest = heapq.heappop(heap)
            total -= kept.pop(largest)[0].size
    return kept


def _pair_tables(codes, n_states, weights):
    """(a, b, flat counts of (a's state, b's state)) for every pair a < b, in order."""
    if weights is None:         # seed rows: the fit's own counting kernel, one pass a pair
        from engine.model.statistics import TableCounts
        table = TableCounts(np.stack(codes) if codes else np.zeros((0, 0), np.uint8), n_states)
        for a in range(len(codes) - 1):
            seconds = range(a + 1, len(codes))
            for b, dense in zip(seconds, table.pairs(a, list(seconds))):
                yield a, b, dense.ravel()
        return
    for a, b in combinations(range(len(codes)), 2):
        flat = codes[a].astype(np.int32) * n_states[b] + codes[b]
        yield a, b, np.bincount(flat, weights=weights, minlength=n_states[a] * n_states[b])


def from_old_sketch(sketch: dict | None, model) -> SeedMarginals | None:
    """A model file written with the per-pattern ``seed_sketch``: its marginals, so the file
    keeps its support and saving it again no longer carries the patterns; None for no
    sketch or one that does not fit the model."""
    try:
        nodes = [int(j) for j in sketch["nodes"]]
        patterns = np.asarray(sketch["patterns"], dtype=np.int64).reshape(-1, len(nodes))
        n_states = [model.encodings_[j].n_states for j in nodes]
        weights = np.asarray(sketch["counts"], dtype=np.float64).reshape(len(patterns))
    except (TypeError, KeyError, ValueError, IndexError, ZeroDivisionError):
        return None                # not a sketch this reader understands: no support
    if min(nodes) < 0 or (patterns.size and
                          ((patterns < 0) | (patterns >= np.asarray(n_states))).any()):
        return None
    return from_codes(nodes, n_states, list(patterns.T), weights)


def _small(codes: np.ndarray, n_states: int) -> np.ndarray:
    return codes.astype(np.uint8) if n_states <= 256 else codes.astype(np.int64)


def _concat(parts, dtype) -> np.ndarray:
    return np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype=dtype)
