"""Exact marginals of the network under soft evidence, by variable elimination.

``joint(model, evidence, keep)`` is the (unnormalised) joint of the ``keep`` nodes with
every other node summed out, each node's table multiplied by its evidence weights. It is
what the conditional sampler's q0 estimates from a weighted pool, computed exactly when the
elimination stays small (bounded parents usually keep it tiny); otherwise it returns None
and the caller falls back to the pool.

Every product and sum runs in numpy's own einsum loops (``optimize=False``), never BLAS,
so the result does not depend on thread count or machine: the sampler's integer
allocation is derived from it and must be reproducible byte for byte.
"""

from __future__ import annotations

import string

import numpy as np

from engine.model.scores import parent_state_map, parent_states

# Largest intermediate factor (cells) variable elimination may build before giving up.
MAX_FACTOR_CELLS = 4_000_000
_LETTERS = string.ascii_letters


def node_factor(model, node: int, weights=None) -> tuple[tuple[int, ...], np.ndarray]:
    """The node's table as a factor over (its parents' codes..., its own state), times
    evidence ``weights`` per state (1-D) or per parent configuration and state (2-D)."""
    encs = model.encodings_
    parents = model.parents_[node]
    kind = model.node_kinds[node]
    table = model.tables_[node] if weights is None else model.tables_[node] * weights
    if not parents:
        return (node,), table[0].copy()
    sizes = [parent_states(encs[node], encs[p], kind) for p in parents]
    grids = np.meshgrid(*[np.arange(encs[p].n_states) for p in parents], indexing="ij")
    cfg = np.zeros(grids[0].shape, dtype=np.int64)
    for grid, p, size in zip(grids, parents, sizes):
        cfg = cfg * size + parent_state_map(encs[node], encs[p], kind)[grid]
    return tuple(parents) + (node,), table[cfg]


def joint(model, evidence: dict[int, np.ndarray], keep: list[int]) -> np.ndarray | None:
    """Unnormalised joint over ``keep`` (in that order), or None if too large to compute."""
    cards = {j: enc.n_states for j, enc in enumerate(model.encodings_)}
    factors = []
    for j in range(len(model.encodings_)):
        factors.append(node_factor(model, j, evidence.get(j)))
    remaining = [j for j in range(len(cards)) if j not in keep]
    while remaining:
        best = None
        for v in remaining:
            scope = set().union(*[set(f[0]) for f in factors if v in f[0]]) - {v}
            size = int(np.prod([cards[u] for u in scope])) if scope else 1
            if best is None or size < best[0]:
                best = (size, v, scope)
        size, v, scope = best
        if size > MAX_FACTOR_CELLS:
            return None
        involved = [f for f in factors if v in f[0]]
        factors = [f for f in factors if v not in f[0]]
        factors.append(_contract(involved, tuple(sorted(scope))))
        remaining.remove(v)
    return _contract(factors, tuple(keep))[1]


def _contract(factors, out_vars):
    """Multiply factors and sum out everything not in ``out_vars`` (einsum, no BLAS)."""
    names = {}
    for variables, _ in factors:
        for v in variables:
            names.setdefault(v, _LETTERS[len(names)])
    for v in out_vars:
        names.setdefault(v, _LETTERS[len(names)])
    spec = ",".join("".join(names[v] for v in variables) for variables, _ in factors)
    spec += "->" + "".join(names[v] for v in out_vars)
    return out_vars, np.einsum(spec, *[values for _, values in factors], optimize=False)
