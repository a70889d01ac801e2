"""Issue 11's detail on top of the count tables: a numeric child's value-scale probit and
its tracking of numeric parents inside the bins (``parameters.fit_linear_probit``,
``parameters.fit_within_bin``). Fit-only.

Both need a *continuous* normal score per row; issue 12's probit sees a value only
through its bin (the bin's mean score), so every within-bin offset would be zero. The
score used here is a function of the value and its column's encoding alone (the first
pass): the value's level on the copula scale, ``cum[b] + share_b * F_b(x)`` with ``F_b``
the bin's piecewise-linear CDF from its knots (the middle of a point mass's jump), then
``ndtri``. Its mean over a bin's rows is close to the bin's mean score
(``NodeEncoding.bin_mean_score``) the offsets are taken from.

What merges and what does not (docs/model.md, "Partitions"): the tables, the structure
and the copula probit come from counts that add up over partitions. The two regressions
here need per-configuration sums of products of these scores (X'X, X'z, z'z); they are
sums over rows too, but they are taken over the whole frame in one pass, not gathered
per partition, so ``fit(partitions=4)`` proves the merge property of the counts only.
"""

from __future__ import annotations

import numpy as np

from engine.model.count_tables import fit_node_from_counts
from engine.model.encoding import NodeEncoding
from engine.model.parameters import fit_linear_probit, fit_within_bin, latent_scores
from engine.model.scores import PROBIT


def value_scores(enc: NodeEncoding, values: np.ndarray) -> np.ndarray:
    """Continuous normal score of each value (NaN where missing); see module docstring.
    A single-valued bin gets its mean score, so its rows have no within-bin offset."""
    from scipy.special import ndtri     # fit-only: `simio generate` never loads scipy

    out = np.full(values.shape, np.nan)
    observed = ~np.isnan(values)
    n = int(observed.sum())
    if n == 0:
        return out
    x = values[observed]
    bins = np.searchsorted(enc.thresholds, x, side="right")
    mean_score = enc.bin_mean_score
    scores = np.empty(x.size)
    for b in np.unique(bins):
        rows = bins == b
        m = int(enc.n_knots[b])
        if m == 1:
            scores[rows] = mean_score[b]
            continue
        xs, cs = enc.knot_x[b, :m], enc.knot_c[b, :m]
        within = (_knot_cdf(xs, cs, x[rows], "left") + _knot_cdf(xs, cs, x[rows], "right")) / 2
        level = enc.bin_cum[b] + (enc.bin_cum[b + 1] - enc.bin_cum[b]) * within
        # half a row from either end, as a rank score would be: a value at the column's
        # minimum must not get a score of -7
        scores[rows] = ndtri(np.clip(level, 0.5 / n, 1.0 - 0.5 / n))
    out[observed] = scores
    return out


def _knot_cdf(xs, cs, x, side) -> np.ndarray:
    """``NodeEncoding.bin_cdf`` of one bin at many values."""
    i = np.searchsorted(xs, x, side=side) - 1
    k = np.clip(i, 0, xs.size - 2)
    span = xs[k + 1] - xs[k]
    frac = np.where(span > 0, (x - xs[k]) / np.where(span > 0, span, 1.0), 0.0)
    out = cs[k] + frac * (cs[k + 1] - cs[k])
    out[i < 0] = 0.0
    out[i >= xs.size - 1] = 1.0
    return np.clip(out, 0.0, 1.0)


class NodeFitter:
    """Fits one node: the count table (issue 12), then issue 11's detail where it applies.

    ``rows``: the (rows, columns) codes; ``values``: each numeric node's values.
    """

    def __init__(self, scorer, encodings, rows: np.ndarray, values: dict[int, np.ndarray]):
        self.scorer, self.encodings, self.rows, self.values = scorer, encodings, rows, values
        self.scores = {j: value_scores(encodings[j], v) for j, v in values.items()}

    def fit(self, child: int, parents: tuple[int, ...], kind: str):
        """(table, latent, within) of ``child`` with these parents."""
        linear = None
        if kind == PROBIT and child in self.values:
            def linear():
                return fit_linear_probit(self.rows, self.encodings, self.values[child], child,
                                         parents)
        table, latent = fit_node_from_counts(child, parents, kind, self.scorer, self.encodings,
                                             linear=linear)
        scores = self.scores
        if child in self.values:
            scores = dict(scores)
            scores[child] = latent_scores(latent, self.values[child], scores[child])
        within = fit_within_bin(child, parents, kind, self.rows, self.encodings, scores, latent)
        return table, latent, within
