"""The fit as it was before sufficient statistics (issue 12), kept as the naive reference
the count-based code is tested against: a local scorer that recounts rows for every
family, and the hill climbing loop that tries every move and searches the graph for a
cycle on every candidate.
"""

from __future__ import annotations

import numpy as np

from engine.model.encoding import NodeEncoding
from engine.model.scores import PROBIT, TABLE, config_index, fit_probit
from engine.model.structure import MAX_MOVES, MAX_PARENT_STATES, MAX_PARENTS, size_allowed


class ReferenceScorer:
    """BIC local scores over encoded data, cached by (child, parent set).

    ``kind(child, parents)`` says which parameterisation won for a numeric child.
    """

    def __init__(self, codes: np.ndarray, encodings: list[NodeEncoding], z: dict[int, np.ndarray]):
        self.codes = codes
        self.encodings = encodings
        self.z = z
        self.n = codes.shape[0]
        self._cache: dict[tuple[int, tuple[int, ...]], tuple[float, str]] = {}

    def __call__(self, child: int, parents: tuple[int, ...]) -> float:
        return self._best(child, parents)[0]

    def kind(self, child: int, parents: tuple[int, ...]) -> str:
        return self._best(child, parents)[1]

    def _best(self, child, parents):
        key = (child, tuple(sorted(parents)))
        if key not in self._cache:
            if self.encodings[child].kind == "categorical":
                self._cache[key] = (self._table(child, key[1], observed_only=False), TABLE)
            else:
                table = self._table(child, key[1], observed_only=True)
                probit = self._probit(child, key[1])
                self._cache[key] = (probit, PROBIT) if probit >= table else (table, TABLE)
        return self._cache[key]

    def _table(self, child, parents, observed_only) -> float:
        enc = self.encodings[child]
        rows = slice(None)
        k = enc.n_states
        if observed_only and enc.missing_state >= 0:
            rows = self.codes[:, child] != enc.missing_state
            k = enc.n_bins
        codes = self.codes[rows]
        cfg, shape = config_index(codes, self.encodings, child, parents, TABLE)
        n_cfg = int(np.prod(shape)) if shape else 1
        counts = np.bincount(cfg * k + codes[:, child], minlength=n_cfg * k)
        counts = counts.reshape(n_cfg, k).astype(np.float64)
        totals = counts.sum(axis=1, keepdims=True)
        nz = counts > 0
        loglik = float(np.sum(counts[nz] * np.log((counts / np.maximum(totals, 1))[nz])))
        return loglik - 0.5 * np.log(max(codes.shape[0], 2)) * (k - 1) * n_cfg

    def _probit(self, child, parents) -> float:
        enc = self.encodings[child]
        fit = fit_probit(self.codes, self.encodings, self.z[child], child, parents)
        observed = ~np.isnan(self.z[child])
        cfg, _ = config_index(self.codes[observed], self.encodings, child, parents, PROBIT)
        p = fit.probs[cfg, self.codes[observed, child]]
        loglik = float(np.sum(np.log(np.maximum(p, 1e-300))))
        # thresholds come from the child's marginal: (bins - 1) parameters, as in a table
        n_params = fit.n_features + enc.n_bins - 1
        return loglik - 0.5 * np.log(max(fit.n_observed, 2)) * n_params


def reference_learn_structure(scorer, encodings, *, max_parents: int = MAX_PARENTS,
                    table_size) -> list[tuple[int, ...]]:
    """Parents of every node, as sorted tuples of node indices."""
    d = len(encodings)
    parents: list[set[int]] = [set() for _ in range(d)]
    local = [scorer(j, ()) for j in range(d)]
    can_parent = [enc.n_states <= MAX_PARENT_STATES for enc in encodings]

    def fits(child, new_parents):
        return (len(new_parents) <= max_parents
                and all(can_parent[p] for p in new_parents)
                and size_allowed(encodings, child, new_parents,
                                 table_size(child, new_parents)))

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


def normal_scores(values: np.ndarray) -> np.ndarray:
    """Rank-based normal scores of the observed values (NaN where missing); ties share
    their average rank. The per-row score the fit used before issue 12."""
    from scipy.special import ndtri

    z = np.full(values.shape, np.nan)
    ok = ~np.isnan(values)
    n = int(ok.sum())
    if n:
        observed = values[ok]
        order = np.argsort(observed, kind="stable")
        sorted_values = observed[order]
        starts = np.flatnonzero(np.concatenate([[True], np.diff(sorted_values) != 0]))
        ends = np.append(starts[1:], n)
        mean_rank = (starts + ends + 1) / 2.0            # average 1-based rank of each tie run
        ranks = np.empty(n)
        ranks[order] = np.repeat(mean_rank, ends - starts)
        z[ok] = ndtri((ranks - 0.5) / n)
    return z
