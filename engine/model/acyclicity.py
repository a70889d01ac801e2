"""Reachability of a DAG kept up to date under edge moves, so a move's acyclicity check is
a lookup instead of a graph search.

``reach[a, b]`` says a directed path a -> ... -> b of one or more edges exists. Adding
u -> v is an outer product (everything reaching u, or u, now reaches v and what v
reaches); removing an edge recomputes only the rows of u and the nodes that reached u,
children first.
"""

from __future__ import annotations

import numpy as np


class Reachability:
    def __init__(self, n_nodes: int):
        self.reach = np.zeros((n_nodes, n_nodes), dtype=bool)
        self.children: list[set[int]] = [set() for _ in range(n_nodes)]

    def creates_cycle(self, u: int, v: int) -> bool:
        """Would adding u -> v close a cycle (v already reaches u, or u == v)?"""
        return u == v or bool(self.reach[v, u])

    def add(self, u: int, v: int) -> None:
        if self.creates_cycle(u, v):
            raise ValueError(f"edge {u} -> {v} closes a cycle")
        self.children[u].add(v)
        sources = self.reach[:, u].copy()
        sources[u] = True
        targets = self.reach[v].copy()
        targets[v] = True
        self.reach[np.ix_(sources, targets)] = True

    def remove(self, u: int, v: int) -> None:
        self.children[u].remove(v)
        stale = np.flatnonzero(self.reach[:, u])
        stale = np.append(stale, u)
        # More descendants means earlier in a topological order, in the old graph and so in
        # this subgraph of it: fewest first puts every child before its parents.
        for node in stale[np.argsort(self.reach[stale].sum(axis=1), kind="stable")]:
            row = np.zeros(self.reach.shape[1], dtype=bool)
            for c in self.children[node]:
                row |= self.reach[c]
                row[c] = True
            self.reach[node] = row

    def reverse(self, u: int, v: int) -> None:
        self.remove(u, v)
        self.add(v, u)

    def reversal_blocked(self) -> np.ndarray:
        """blocked[u, v] for an edge u -> v: another path u -> ... -> v exists, so reversing
        the edge would close a cycle (a child c != v of u that reaches v; v never reaches
        itself in a DAG)."""
        d = self.reach.shape[0]
        adjacency = np.zeros((d, d), dtype=np.float64)
        for u, cs in enumerate(self.children):
            adjacency[u, list(cs)] = 1.0
        return adjacency @ self.reach.astype(np.float64) > 0
