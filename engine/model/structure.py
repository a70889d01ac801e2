"""Structure learning: greedy hill climbing over DAGs with a bounded number of parents.

Moves are add, delete and reverse one edge; each is scored by the change in the
decomposable local score (``family_scores.FamilyScorer``). The gain of every move is kept
in an array and only the entries of the children a move touched are recomputed; a move
that would close a cycle is scored only once it no longer would. Acyclicity is a lookup
in an incrementally maintained reachability matrix (``acyclicity``). A child
considers only its screened candidate parents (``screening``; all of them on small
tables). Ties break by node order (child, then parent, then delete/reverse/add), so the
result is deterministic and, with every candidate allowed, equals the plain loop that
tries every move on every step.
"""

from __future__ import annotations

import numpy as np

from engine.model.acyclicity import Reachability

# Default bound on parents per node: three lets a numeric outcome depend jointly on, say,
# segment, channel and age, which survey data commonly needs.
MAX_PARENTS = 3
# A conditional table may have at most this many cells (states x parent configurations);
# beyond it a parent set would need more data than any seed we accept has. Not a limit
# for a numeric child of numeric parents alone (``size_allowed``), up to memory's bound:
# three numeric parents at the finest binning, (20 bins + 4 tail splits + missing)^4.
MAX_TABLE_CELLS = 200_000
MAX_NUMERIC_CELLS = 25 ** 4
# Nodes with more states than this (free text, many-level ids) are never parents.
MAX_PARENT_STATES = 64
# Hill climbing stops after this many moves (or three per column on wide tables, the most
# edges three parents each allow) even if it could still improve: a safety net; real
# tables converge in far fewer.
MAX_MOVES = 500
MOVES_PER_COLUMN = 3

DELETE, REVERSE, ADD = 0, 1, 2


def learn_structure(scorer, encodings, *, max_parents: int = MAX_PARENTS, table_size,
                    candidates: np.ndarray | None = None, progress=None) -> list[tuple[int, ...]]:
    """Parents of every node, as sorted tuples of node indices.

    ``candidates[v, u]``: u may become a parent of v (default: every other node).
    ``progress(moves)`` is called after every move.
    """
    d = len(encodings)
    if candidates is None:
        candidates = ~np.eye(d, dtype=bool)
    search = _Search(scorer, encodings, max_parents, table_size, candidates)
    for moves in range(max(MAX_MOVES, MOVES_PER_COLUMN * d)):
        move = search.best_move()
        if move is None:
            break
        search.apply(*move)
        if progress is not None:
            progress(moves + 1)
    return [tuple(sorted(p)) for p in search.parents]


def size_allowed(encodings, child: int, parents, cells: int) -> bool:
    """A family's table may have ``cells`` cells: at most ``MAX_TABLE_CELLS``, or for a
    numeric child of numeric parents only ``MAX_NUMERIC_CELLS`` (memory's bound, 8 bytes
    a cell for the table and again for its CDF). Its probit has a coefficient or two per
    parent however many cells, so the data is no limit. Under the count-table cap a
    column of a 1,500-row table (22 states) could track only two numeric parents, and a
    clique of four strong numeric columns lost its unconnected pair."""
    if cells <= MAX_TABLE_CELLS:
        return True
    return cells <= MAX_NUMERIC_CELLS and encodings[child].kind == "numeric" and all(
        encodings[p].kind == "numeric" for p in parents)


class _Search:
    def __init__(self, scorer, encodings, max_parents, table_size, candidates):
        d = len(encodings)
        self.scorer, self.d, self.candidates = scorer, d, candidates
        self.max_parents, self.table_size = max_parents, table_size
        self.can_parent = [enc.n_states <= MAX_PARENT_STATES for enc in encodings]
        self.encodings = encodings
        self.parents: list[set[int]] = [set() for _ in range(d)]
        self._prefetch([(j, ()) for j in range(d)])
        self.local = [scorer(j, ()) for j in range(d)]
        self.graph = Reachability(d)
        self.gains = np.full((d, d, 3), -np.inf)
        self._prefetch([family for v in range(d) for family in self._row_families(v)])
        for v in range(d):
            self._row(v)

    def _fits(self, child, new_parents) -> bool:
        return (len(new_parents) <= self.max_parents
                and all(self.can_parent[p] for p in new_parents)
                and size_allowed(self.encodings, child, new_parents,
                                 self.table_size(child, new_parents)))

    def _prefetch(self, families) -> None:
        """Score ``families`` together (on threads: ``FamilyScorer.prefetch``) before the
        search asks for them one at a time."""
        prefetch = getattr(self.scorer, "prefetch", None)   # tests pass plain functions
        if prefetch is not None:
            prefetch(families)

    def _row_families(self, v: int) -> list:
        """The families ``_row(v)`` scores now: the additions and the deletions into v,
        and the reversals of v's parents that are not blocked."""
        grown = [tuple(sorted(self.parents[v] | {u}))
                 for u in np.flatnonzero(self.candidates[v]).tolist()
                 if u not in self.parents[v] and not self.graph.reach[v, u]]
        families = [(v, g) for g in grown if self._fits(v, g)]
        for u in sorted(self.parents[v]):
            families += self._deletion_families(v, u)
        return families

    def _deletion_families(self, v: int, u: int) -> list:
        """The families ``_deletion(v, u)`` scores now."""
        families = [(v, tuple(sorted(self.parents[v] - {u})))]
        grown = tuple(sorted(self.parents[u] | {v}))
        if self.candidates[u, v] and self._fits(u, grown) and not any(
                self.graph.reach[c, v] for c in self.graph.children[u] if c != v):
            families.append((u, grown))
        return families

    def _row(self, v: int) -> None:
        """Recompute every move into child v (the parent sets of other nodes as they are)."""
        row = self.gains[v]
        row[:] = -np.inf
        for u in np.flatnonzero(self.candidates[v] | self._parent_mask(v)):
            u = int(u)
            if u in self.parents[v]:
                self._deletion(v, u)
            else:
                grown = tuple(sorted(self.parents[v] | {u}))
                if self._fits(v, grown):
                    # a move that would close a cycle now is scored when it no longer would
                    row[u, ADD] = (np.nan if self.graph.reach[v, u]
                                   else self.scorer(v, grown) - self.local[v])

    def _deletion(self, v: int, u: int) -> None:
        """The delete and reverse gains of the edge u -> v."""
        gain = self.scorer(v, tuple(sorted(self.parents[v] - {u}))) - self.local[v]
        self.gains[v, u, DELETE] = gain
        self.gains[v, u, REVERSE] = -np.inf
        grown = tuple(sorted(self.parents[u] | {v}))
        if self.candidates[u, v] and self._fits(u, grown):
            blocked = any(self.graph.reach[c, v] for c in self.graph.children[u] if c != v)
            self.gains[v, u, REVERSE] = np.nan if blocked else self._reversal(v, u)

    def _reversal(self, v: int, u: int) -> float:
        grown = tuple(sorted(self.parents[u] | {v}))
        return self.gains[v, u, DELETE] + self.scorer(u, grown) - self.local[u]

    def _addition(self, v: int, u: int) -> float:
        return self.scorer(v, tuple(sorted(self.parents[v] | {u}))) - self.local[v]

    def _parent_mask(self, v):
        mask = np.zeros(self.d, dtype=bool)
        mask[list(self.parents[v])] = True
        return mask

    def best_move(self):
        masked = self.gains.copy()
        masked[:, :, ADD][self.graph.reach] = -np.inf
        masked[:, :, REVERSE][self.graph.reversal_blocked().T] = -np.inf
        pending = np.argwhere(np.isnan(masked)).tolist()          # pending, now allowed
        self._prefetch([(v, tuple(sorted(self.parents[v] | {u}))) if op == ADD
                        else (u, tuple(sorted(self.parents[u] | {v})))
                        for v, u, op in pending])
        for v, u, op in pending:
            gain = self._addition(v, u) if op == ADD else self._reversal(v, u)
            self.gains[v, u, op] = masked[v, u, op] = gain
        flat = int(np.argmax(masked))
        if not masked.flat[flat] > 1e-9:
            return None
        v, u, op = np.unravel_index(flat, masked.shape)
        return int(op), int(u), int(v)

    def apply(self, op: int, u: int, v: int) -> None:
        touched = [v]
        if op == ADD:
            self.parents[v].add(u)
            self.graph.add(u, v)
        elif op == DELETE:
            self.parents[v].discard(u)
            self.graph.remove(u, v)
        else:
            self.parents[v].discard(u)
            self.parents[u].add(v)
            self.graph.reverse(u, v)
            touched = [v, u]
        for w in touched:
            self.local[w] = self.scorer(w, tuple(sorted(self.parents[w])))
        # everything the rows below score, together
        self._prefetch([family for w in touched for family in (
            self._row_families(w) + [f for c in self.graph.children[w]
                                     for f in self._deletion_families(c, w)])])
        for w in touched:
            self._row(w)
            for c in self.graph.children[w]:
                self._deletion(c, w)
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
