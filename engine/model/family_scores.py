"""Decomposable BIC local scores of families from their counts (see ``scores`` for the
parameterisations), cached by (child, parent set).

A family is gathered as its nonzero *cells* (``statistics.TableCounts.family_cells``):
the work of scoring it grows with the cells that occur, at most one per row, never with
the size of the table a parent set could fill.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from engine.model.encoding import NodeEncoding
from engine.model.probit import probit_score
from engine.model.scores import PROBIT, TABLE, parent_state_map, parent_states


def request_kind(enc: NodeEncoding) -> str:
    """The indexing a child's counts are gathered in: a numeric child needs its parents'
    full states (the probit), from which its coarse table is summed."""
    return PROBIT if enc.kind == "numeric" else TABLE


def table_score(cfg: np.ndarray, state: np.ndarray, counts: np.ndarray, n_cfg: int,
                k: int) -> float:
    """BIC of a conditional table over ``n_cfg`` configurations x ``k`` states, from its
    cells (a (configuration, state) pair may repeat; its counts add)."""
    key = cfg * k + state
    if n_cfg * k <= 8 * key.size + 1024:
        dense = np.bincount(key, weights=counts, minlength=n_cfg * k)
        key = np.flatnonzero(dense)
        c = dense[key]
    else:
        key, where = np.unique(key, return_inverse=True)
        c = np.bincount(where, weights=counts)
    row = key // k
    totals = np.bincount(row, weights=c)
    loglik = float(np.sum(c * np.log(c / totals[row])))
    return loglik - 0.5 * np.log(max(int(c.sum()), 2)) * (k - 1) * n_cfg


def coarsen(counts: np.ndarray, child: NodeEncoding, parents: list[NodeEncoding]) -> np.ndarray:
    """Dense counts over the parents' full states -> over the states a table distinguishes."""
    k = counts.shape[1]
    sizes = [parent_states(child, p, TABLE) for p in parents]
    cfg, state = np.nonzero(counts)
    coarse = _coarse_cfg(cfg, child, parents)
    flat = np.bincount(coarse * k + state, weights=counts[cfg, state],
                       minlength=int(np.prod(sizes)) * k)
    return flat.astype(np.int64).reshape(-1, k)


def _coarse_cfg(cfg, child, parents) -> np.ndarray:
    """Configurations over the parents' full states (a categorical's: its parameter
    groups, as the probit sees them) -> over their table states."""
    if not parents:
        return np.zeros(cfg.size, dtype=np.int64)
    return _coarse_states(np.unravel_index(cfg, [parent_states(child, p, PROBIT)
                                                 for p in parents]), child, parents, cfg.size)


def _coarse_states(states, child, parents, n_cells: int) -> np.ndarray:
    """``_coarse_cfg`` from the cells' full parent states (one array per parent)."""
    if not parents:
        return np.zeros(n_cells, dtype=np.int64)
    mapped = [parent_state_map(child, p, TABLE)[s] if p.kind == "numeric" else s
              for p, s in zip(parents, states)]
    return np.ravel_multi_index(mapped, [parent_states(child, p, TABLE) for p in parents])


# Families not yet scored are scored this many at a time (``FamilyScorer.prefetch``): the
# counting kernels release the GIL and numpy's passes over the cells mostly do too.
# None: as many as the sampler's row splits (``SIMIO_THREADS``, else up to 2).
SCORE_THREADS: int | None = None
_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()
_pool_size = 0


def score_threads() -> int:
    if SCORE_THREADS is not None:
        return SCORE_THREADS
    from engine.sampling.rowsplit import n_threads

    return n_threads()


def _executor() -> ThreadPoolExecutor:
    global _pool, _pool_size
    with _pool_lock:
        if _pool is None or _pool_size != score_threads():
            if _pool is not None:
                _pool.shutdown(wait=False)
            _pool_size = score_threads()
            _pool = ThreadPoolExecutor(_pool_size, thread_name_prefix="simio-score")
        return _pool


def on_threads(func, items):
    """``func(item)`` of every item, in order, computed on the scoring threads (when
    there are several): for pure ``func`` only."""
    items = list(items)
    if len(items) < 2 or score_threads() < 2:
        return map(func, items)
    return _executor().map(func, items)


class FamilyScorer:
    """BIC local scores from family counts, cached by (child, parent set).

    ``source`` gathers counts (``statistics.TableCounts`` or ``MergedCounts``);
    ``kind(child, parents)`` says which parameterisation won for a numeric child;
    ``prime`` scores a family from counts already at hand (screening's pair tables).
    """

    def __init__(self, source, encodings: list[NodeEncoding]):
        self.source = source
        self.encodings = encodings
        self.n = source.n_rows
        self._cache: dict[tuple[int, tuple[int, ...]], tuple[float, str]] = {}

    def __call__(self, child: int, parents: tuple[int, ...]) -> float:
        return self._best(child, parents)[0]

    def kind(self, child: int, parents: tuple[int, ...]) -> str:
        return self._best(child, parents)[1]

    def _request(self, child, parents):
        enc = self.encodings[child]
        wanted = request_kind(enc)
        maps = [parent_state_map(enc, self.encodings[p], wanted) for p in parents]
        sizes = [parent_states(enc, self.encodings[p], wanted) for p in parents]
        return maps, sizes

    def counts(self, child: int, parents: tuple[int, ...], kind: str | None = None) -> np.ndarray:
        """Dense (configurations, child states) counts of the family, indexed as
        ``kind``'s table (default: the indexing the counts are gathered in)."""
        enc = self.encodings[child]
        counts = self.source.family(child, parents, *self._request(child, parents))
        if kind is not None and kind != request_kind(enc):
            counts = coarsen(counts, enc, [self.encodings[p] for p in parents])
        return counts

    def prime(self, child: int, parents: tuple[int, ...], counts: np.ndarray) -> None:
        """Score a family from its dense counts in the gathering indexing."""
        self.prime_many([(child, parents, counts)])

    def prime_many(self, families) -> None:
        """``prime`` for every (child, parents, counts), on threads when there are many."""
        todo = {}
        for child, parents, counts in families:
            key = (child, tuple(parents))
            if key not in self._cache and key not in todo:
                todo[key] = counts

        def score(item):
            (child, parents), counts = item
            flat = counts.reshape(-1)
            cells = np.flatnonzero(flat)
            return self._score(child, parents, cells, flat[cells])

        items = list(todo.items())
        scored = (_executor().map(score, items) if len(items) > 1 and score_threads() > 1
                  else map(score, items))
        for (key, _), result in zip(items, scored):
            self._cache[key] = result

    def prefetch(self, families) -> None:
        """Score the families (child, parents) not in the cache yet, on threads when the
        counts are this process's own (``TableCounts``): each score is a pure function of
        its counts, so the cache holds the same values in any order."""
        todo = list(dict.fromkeys((c, tuple(sorted(p))) for c, p in families))
        todo = [key for key in todo if key not in self._cache]
        if len(todo) < 2 or score_threads() < 2 or not self._local:
            return
        for key, result in zip(todo, _executor().map(lambda key: self._compute(*key), todo)):
            self._cache[key] = result

    def map(self, func, items):
        """``func(item)`` of every item, in order, computed on the scoring threads when the
        counts are this process's own (as ``prefetch``): for pure ``func`` only."""
        return on_threads(func, items) if self._local else map(func, items)

    @property
    def _local(self) -> bool:
        from engine.model.statistics import TableCounts

        return type(self.source) is TableCounts

    def _best(self, child, parents):
        key = (child, tuple(sorted(parents)))
        if key not in self._cache:
            self._cache[key] = self._compute(*key)
        return self._cache[key]

    def _compute(self, child, parents):
        keys, counts = self.source.family_cells(child, parents, *self._request(child, parents))
        return self._score(child, parents, keys, counts)

    def _score(self, child, parents, keys, counts) -> tuple[float, str]:
        enc = self.encodings[child]
        pencs = [self.encodings[p] for p in parents]
        cfg, state = np.divmod(keys, enc.n_states)
        counts = counts.astype(np.float64)
        if enc.kind == "categorical":
            n_cfg = int(np.prod([parent_states(enc, p, TABLE) for p in pencs]))
            if enc.parent_group is None:
                return table_score(cfg, state, counts, n_cfg, enc.n_states), TABLE
            # tied rare levels (encoding.rare_pool): the table's free parameters are the
            # groups'; the within-group shares add the same constant to every parent set
            groups = int(enc.parent_group.max()) + 1
            return table_score(cfg, enc.parent_group[state], counts, n_cfg, groups), TABLE
        observed = state < enc.n_bins
        cfg, state, counts = cfg[observed], state[observed], counts[observed]
        n_cfg = int(np.prod([parent_states(enc, p, TABLE) for p in pencs]))
        # the parents' full states of every cell: the probit's, and the table's once coarsened
        states = list(np.unravel_index(cfg, [parent_states(enc, p, PROBIT) for p in pencs])) \
            if parents else []
        table = table_score(_coarse_states(states, enc, pencs, cfg.size), state, counts,
                            n_cfg, enc.n_bins)
        probit = probit_score(states, state, counts, parents, self.encodings, enc)
        return (probit, PROBIT) if probit >= table else (table, TABLE)
