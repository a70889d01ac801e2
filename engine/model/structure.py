"""Structure learning: greedy hill climbing over DAGs with a bounded number of parents.

Moves are add, delete and reverse one edge; each is scored by the change in the
decomposable local score (``scores.LocalScorer``), so only the touched children are
rescored. Ties break by node order, so the result is deterministic.
"""

from __future__ import annotations

import numpy as np

# Default bound on parents per node: three lets a numeric outcome depend jointly on, say,
# segment, channel and age, which survey data commonly needs.
MAX_PARENTS = 3
# A conditional table may have at most this many cells (states x parent configurations);
# beyond it a parent set would need more data than any seed we accept has.
MAX_TABLE_CELLS = 200_000
# Nodes with more states than this (free text, many-level ids) are never parents.
MAX_PARENT_STATES = 64
# Hill climbing stops after this many moves even if it could still improve (a safety net;
# real tables converge in far fewer).
MAX_MOVES = 500


def learn_structure(scorer, encodings, *, max_parents: int = MAX_PARENTS,
                    table_size) -> list[tuple[int, ...]]:
    """Parents of every node, as sorted tuples of node indices."""
    d = len(encodings)
    parents: list[set[int]] = [set() for _ in range(d)]
    local = [scorer(j, ()) for j in range(d)]
    can_parent = [enc.n_states <= MAX_PARENT_STATES for enc in encodings]

    def fits(child, new_parents):
        return (len(new_parents) <= max_parents
                and all(can_parent[p] for p in new_parents)
                and table_size(child, new_parents) <= MAX_TABLE_CELLS)

    for _ in range(MAX_MOVES):
        best = (1e-9, None)
        children = _children(parents)
        for v in range(d):
            for u in range(d):
                if u == v:
                    continue
                if u in parents[v]:
                    reduced = tuple(sorted(parents[v] - {u}))
                    gain = scorer(v, reduced) - local[v]
                    if gain > best[0]:
                        best = (gain, ("delete", u, v))
                    grown = tuple(sorted(parents[u] | {v}))
                    if fits(u, grown) and not _reaches(children, u, v, skip=(u, v)):
                        gain_rev = gain + scorer(u, grown) - local[u]
                        if gain_rev > best[0]:
                            best = (gain_rev, ("reverse", u, v))
                elif v not in parents[u]:
                    grown = tuple(sorted(parents[v] | {u}))
                    if fits(v, grown) and not _reaches(children, v, u):
                        gain = scorer(v, grown) - local[v]
                        if gain > best[0]:
                            best = (gain, ("add", u, v))
        if best[1] is None:
            break
        op, u, v = best[1]
        if op == "add":
            parents[v].add(u)
        elif op == "delete":
            parents[v].discard(u)
        else:
            parents[v].discard(u)
            parents[u].add(v)
            local[u] = scorer(u, tuple(sorted(parents[u])))
        local[v] = scorer(v, tuple(sorted(parents[v])))
    return [tuple(sorted(p)) for p in parents]


def _children(parents) -> list[list[int]]:
    children: list[list[int]] = [[] for _ in parents]
    for child, ps in enumerate(parents):
        for p in sorted(ps):
            children[p].append(child)
    return children


def _reaches(children, start, target, skip=None) -> bool:
    """Is there a directed path start -> ... -> target (ignoring edge ``skip``)?"""
    stack, seen = [start], {start}
    while stack:
        node = stack.pop()
        if node == target:
            return True
        for nxt in children[node]:
            if (node, nxt) == skip:
                continue
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return False


def topological_order(parents: list[tuple[int, ...]]) -> np.ndarray:
    """Kahn's algorithm, lowest index first among ready nodes (deterministic)."""
    d = len(parents)
    indegree = [len(p) for p in parents]
    children = [[] for _ in range(d)]
    for child, ps in enumerate(parents):
        for p in ps:
            children[p].append(child)
    ready = sorted(j for j in range(d) if indegree[j] == 0)
    order = []
    while ready:
        node = ready.pop(0)
        order.append(node)
        for c in children[node]:
            indegree[c] -= 1
            if indegree[c] == 0:
                ready.append(c)
                ready.sort()
    if len(order) != d:
        raise ValueError("parent sets contain a cycle")
    return np.asarray(order, dtype=np.int64)
