"""Likelihood weighting with the evidence folded into the tables.

A node with evidence ``lam`` (per state, or per parent configuration and state) is drawn
from ``P(state | parents) * lam``, renormalised, and its row weighted by the normaliser
``P(evidence | parents)``. The forward kernel can do both per row (its evidence branch),
but that scans the node's whole table row twice for every row. Here the renormalised
table is computed once per configuration and sampled like any other table (a binary
search), and the normaliser is looked up per row afterwards (``_evidence_weights``):
the same distribution of weighted rows, at the unconditioned kernel's cost per row.
"""

from __future__ import annotations

import numpy as np

from engine.sampling._conditional_kernels import _evidence_weights
from engine.sampling.forward import draw_states, no_evidence
from engine.sampling.rowsplit import MIN_SPLIT_ROWS, split_rows


def rows_in_threads(n: int, run) -> None:
    """``split_rows`` for a draw big enough to split; a small one (a cell of a few rows, of
    which a scenario may have thousands) runs at once, without asking for threads."""
    if n < 2 * MIN_SPLIT_ROWS:
        run(0, n)
    else:
        split_rows(n, run)


class FoldedEvidence:
    """The model's kernel CDF with ``lam`` folded in, and the normaliser tables.

    ``draw`` adds hard evidence (one state per node, e.g. a joint cell's levels) on top
    for one call: the nodes it touches are folded into the working CDF and restored
    afterwards, so a scenario's thousands of cells do not each copy the tables.
    """

    def __init__(self, model, lam: dict[int, np.ndarray]):
        self.model = model
        self.lam = lam
        self.cdf = model.kernel_tables.cdf.copy()
        self.normalisers = {j: self._fold(j, weights) for j, weights in lam.items()}

    def draw(self, uniforms: np.ndarray, hard: dict[int, int] | None = None
             ) -> tuple[np.ndarray, np.ndarray]:
        """States (rows x nodes, Fortran order) and likelihood weights."""
        kt = self.model.kernel_tables
        normalisers = dict(self.normalisers)
        for j, state in (hard or {}).items():
            if j in self.lam:
                one = np.zeros(int(kt.card[j]))
                one[state] = 1.0
                normalisers[j] = self._fold(j, self.lam[j] * one)
            else:
                normalisers[j] = self._fold_state(j, state)
        try:
            codes, _ = draw_states(self.model, uniforms,
                                   no_evidence(len(self.model.encodings_)) + (self.cdf,))
        finally:
            for j in hard or {}:
                self._restore(j)
        return codes, self._weights(codes, normalisers)

    def _segment(self, j: int) -> slice:
        start = int(self.model.kernel_tables.table_offset[j])
        return slice(start, start + self.model.tables_[j].size)

    def _fold(self, j: int, weights: np.ndarray) -> np.ndarray:
        """Write node ``j``'s renormalised CDF; return its normaliser per configuration."""
        table = self.model.tables_[j]
        weighted = table * weights                     # (configurations x states)
        total = weighted.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            cdf = np.cumsum(weighted, axis=1) / total[:, None]
        # From the last possible state on the CDF is exactly 1 (as in the model's own
        # tables): rounding must never leave a uniform past it. A configuration the
        # evidence rules out gets weight 0; any state will do for it.
        cdf[cdf >= cdf[:, -1:]] = 1.0
        cdf[~(total > 0)] = 1.0
        self.cdf[self._segment(j)] = cdf.ravel()
        return total

    def _fold_state(self, j: int, state: int) -> np.ndarray:
        """``_fold`` for hard evidence alone: the CDF steps to 1 at ``state`` in every
        configuration (a joint cell's thousands of draws make this the common case)."""
        table = self.model.tables_[j]
        rows = self.cdf[self._segment(j)].reshape(table.shape)
        rows[:, :state] = 0.0
        rows[:, state:] = 1.0
        return table[:, state].copy()

    def _restore(self, j: int) -> None:
        if j in self.lam:
            self._fold(j, self.lam[j])
        else:
            segment = self._segment(j)
            self.cdf[segment] = self.model.kernel_tables.cdf[segment]

    def _weights(self, codes: np.ndarray, normalisers: dict[int, np.ndarray]) -> np.ndarray:
        kt = self.model.kernel_tables
        order = sorted(normalisers)
        nodes = np.array(order, dtype=np.int64)
        sizes = np.array([normalisers[j].size for j in order], dtype=np.int64)
        offsets = np.cumsum(sizes) - sizes
        flat = np.concatenate([normalisers[j] for j in order]) if order else np.ones(1)
        n = codes.shape[0]
        weights = np.empty(n)
        rows_in_threads(n, lambda lo, hi: _evidence_weights(
            codes[lo:hi], nodes, kt.n_parents, kt.parent_index, kt.parent_map_offset,
            kt.parent_map, kt.parent_stride, offsets, flat, weights[lo:hi]))
        return weights
