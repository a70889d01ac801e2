"""Candidate screening: which columns a child may consider as parents.

One pass of pair counts (``statistics``) gives, for every pair of columns, their joint
table. From it come (a) every one-parent family's counts, which are handed to the scorer so
the search starts without another pass over the rows, and (b) the pair's dependence
strength, the BIC form of mutual information on the codes,
``n * MI - log(n) / 2 * (states_a - 1) * (states_b - 1)``.

On tables of at most ``EXACT_COLUMNS`` columns every other column is a candidate (the
exact search, so small-table models do not change). On wider tables each column keeps
its ``k`` strongest partners, ``k = clip(CANDIDATE_ROWS / rows, MIN_CANDIDATES,
MAX_CANDIDATES)`` (fewer on long tables, where every family costs a pass over more
rows), and the relation is made symmetric so an edge can be reversed.
"""

from __future__ import annotations

import numpy as np

from engine.model.family_scores import request_kind
from engine.model.scores import parent_state_map

EXACT_COLUMNS = 20
MIN_CANDIDATES = 8
MAX_CANDIDATES = 12
CANDIDATE_ROWS = 2_000_000
# Pair tables are counted in blocks of at most this many cells (a many-level column
# against two hundred others stays a few megabytes at a time).
PAIR_BLOCK_CELLS = 1_000_000


def n_candidates(n_columns: int, n_rows: int) -> int:
    """Candidate parents per column (``n_columns - 1``: all of them)."""
    if n_columns <= EXACT_COLUMNS:
        return n_columns - 1
    k = int(np.clip(CANDIDATE_ROWS // max(n_rows, 1), MIN_CANDIDATES, MAX_CANDIDATES))
    return min(k, n_columns - 1)


def pair_strength(table: np.ndarray) -> float:
    """BIC-penalised mutual information (in nats, times rows) of a joint count table."""
    counts = table.astype(np.float64)
    n = counts.sum()
    rows = counts.sum(axis=1, keepdims=True)
    cols = counts.sum(axis=0, keepdims=True)
    nz = counts > 0
    expected = (rows * cols)[nz] / n
    mi_n = float(np.sum(counts[nz] * np.log(counts[nz] / expected)))
    dof = (int((rows > 0).sum()) - 1) * (int((cols > 0).sum()) - 1)
    return mi_n - 0.5 * np.log(max(n, 2.0)) * dof


def screen(source, encodings, scorer, can_parent, progress=None) -> np.ndarray:
    """candidates[v, u]: u may be a parent of v. Primes ``scorer`` with the one-parent
    families of every candidate pair."""
    d = len(encodings)
    k = n_candidates(d, source.n_rows)
    strength = np.full((d, d), -np.inf)
    tables: dict[tuple[int, int], np.ndarray] = {}
    n_states = [enc.n_states for enc in encodings]

    def pair_row(a):
        """(b, table, strength) of column a with every later column b."""
        # pairs where neither side may be a parent are never candidates: not counted
        others = [b for b in range(a + 1, d) if can_parent[a] or can_parent[b]]
        return [(b, table, pair_strength(table))
                for chunk in _chunks(others, n_states, PAIR_BLOCK_CELLS // max(n_states[a], 1))
                for b, table in zip(chunk, source.pairs(a, chunk))]

    for a, row in enumerate(scorer.map(pair_row, range(d - 1))):   # rows side by side
        for b, table, pair in row:
            strength[a, b] = strength[b, a] = pair
            tables[a, b] = table
        if progress is not None:
            progress(a + 1, d - 1)
    strength[:, ~np.asarray(can_parent, dtype=bool)] = -np.inf
    np.fill_diagonal(strength, -np.inf)
    if k >= d - 1:
        candidates = ~np.eye(d, dtype=bool)
    else:
        # strongest first; ties by column order (stable), so the choice is deterministic
        order = np.argsort(-strength, axis=1, kind="stable")[:, :k]
        candidates = np.zeros((d, d), dtype=bool)
        np.put_along_axis(candidates, order, True, axis=1)
        candidates &= np.isfinite(strength)
        candidates |= candidates.T
        candidates &= np.asarray(can_parent, dtype=bool)[None, :]
    primed = []
    for (a, b), table in tables.items():
        if candidates[b, a]:
            primed.append((b, (a,), _one_parent(table, encodings[b], encodings[a])))
        if candidates[a, b]:
            primed.append((a, (b,), _one_parent(table.T, encodings[a], encodings[b])))
    scorer.prime_many(primed)
    return candidates


def _chunks(columns, n_states, budget):
    """``columns`` in runs whose states add up to at most ``budget`` (at least one each)."""
    run, used = [], 0
    for b in columns:
        if run and used + n_states[b] > budget:
            yield run
            run, used = [], 0
        run.append(b)
        used += n_states[b]
    if run:
        yield run


def _one_parent(table, child, parent) -> np.ndarray:
    """A (parent state, child state) pair table in the indexing the scorer gathers (a
    numeric parent's coarse groups for a count-table child, a categorical's parameter
    groups for any child)."""
    pmap = parent_state_map(child, parent, request_kind(child))
    if pmap.size == table.shape[0] and np.array_equal(pmap, np.arange(pmap.size)):
        return table
    out = np.zeros((int(pmap.max()) + 1, table.shape[1]), dtype=table.dtype)
    np.add.at(out, pmap, table)
    return out
