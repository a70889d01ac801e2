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

The regressions themselves come from per-configuration sums of products
(``detail_moments``), gathered per row block and added, like the counts.
"""

from __future__ import annotations

import numpy as np

from engine.model import calibration, detail_moments
from engine.model.count_tables import fit_node_from_counts
from engine.model.encoding import NodeEncoding
from engine.model.parameters import latent_scores
from engine.model.scores import PROBIT


def value_scores(enc: NodeEncoding, values: np.ndarray) -> np.ndarray:
    """Continuous normal score of each value (NaN where missing); see module docstring.
    A single-valued bin gets its mean score, so its rows have no within-bin offset."""
    from engine.model._normal_kernels import ndtri  # scipy's doubles, no scipy

    out = np.full(values.shape, np.nan)
    observed = ~np.isnan(values)
    n = int(observed.sum())
    if n == 0:
        return out
    x = values[observed]
    bins = np.searchsorted(enc.thresholds, x, side="right")
    within = (within_cdf(enc, x, bins, "left") + within_cdf(enc, x, bins, "right")) / 2.0
    level = enc.bin_cum[bins] + (enc.bin_cum[bins + 1] - enc.bin_cum[bins]) * within
    # half a row from either end, as a rank score would be: a value at the column's
    # minimum must not get a score of -7
    scores = ndtri(np.clip(level, 0.5 / n, 1.0 - 0.5 / n))
    single = np.asarray(enc.n_knots)[bins] == 1
    scores[single] = enc.bin_mean_score[bins[single]]
    out[observed] = scores
    return out


def within_cdf(enc: NodeEncoding, x: np.ndarray, bins: np.ndarray, side: str) -> np.ndarray:
    """``NodeEncoding.bin_cdf`` of each value in its own bin, for many values at once.

    The bins' knots laid end to end are sorted (a bin's knots lie between its edges), so
    one ``searchsorted`` over all of them, less the bin's first knot's position and
    clipped to the bin's knot count, is the count within the bin."""
    m = np.asarray(enc.n_knots[:enc.n_bins], dtype=np.int64)
    start = np.concatenate([[0], np.cumsum(m)[:-1]])
    xs = np.concatenate([enc.knot_x[b, :m[b]] for b in range(enc.n_bins)])
    cs = np.concatenate([enc.knot_c[b, :m[b]] for b in range(enc.n_bins)])
    if np.any(np.diff(xs) < 0):          # not sorted end to end: bin by bin
        return _within_cdf_by_bin(enc, x, bins, side)
    mb = m[bins]
    i = np.clip(np.searchsorted(xs, x, side=side) - start[bins], 0, mb) - 1
    k = start[bins] + np.clip(i, 0, np.maximum(mb - 2, 0))
    k1 = np.minimum(k + 1, xs.size - 1)
    span = xs[k1] - xs[k]
    frac = np.where(span > 0, (x - xs[k]) / np.where(span > 0, span, 1.0), 0.0)
    out = cs[k] + frac * (cs[k1] - cs[k])
    out[i < 0] = 0.0
    out[i >= mb - 1] = 1.0
    return np.clip(out, 0.0, 1.0)


def _within_cdf_by_bin(enc, x, bins, side) -> np.ndarray:
    out = np.empty(x.size)
    for b in np.unique(bins):
        rows = bins == b
        m = int(enc.n_knots[b])
        if m == 1:
            out[rows] = float(side == "right")
            continue
        xs, cs = enc.knot_x[b, :m], enc.knot_c[b, :m]
        i = np.searchsorted(xs, x[rows], side=side) - 1
        k = np.clip(i, 0, m - 2)
        span = xs[k + 1] - xs[k]
        frac = np.where(span > 0, (x[rows] - xs[k]) / np.where(span > 0, span, 1.0), 0.0)
        part = cs[k] + frac * (cs[k + 1] - cs[k])
        part[i < 0] = 0.0
        part[i >= m - 1] = 1.0
        out[rows] = np.clip(part, 0.0, 1.0)
    return out


class NodeFitter:
    """Fits one node: the count table (issue 12), then issue 11's detail where it applies.

    ``rows``: the (rows, columns) codes; ``values``: each numeric node's values;
    ``partitions``: the row blocks the detail's sums are gathered over and added up (the
    blocks ``statistics.split_rows`` counts).
    """

    def __init__(self, scorer, encodings, rows: np.ndarray, values: dict[int, np.ndarray],
                 partitions: int = 1):
        self.scorer, self.encodings, self.rows, self.values = scorer, encodings, rows, values
        self.scores = {j: value_scores(encodings[j], v) for j, v in values.items()}
        bounds = np.linspace(0, rows.shape[0], max(partitions, 1) + 1).astype(np.int64)
        self.blocks = [slice(a, b) for a, b in zip(bounds[:-1], bounds[1:])]

    def fit(self, child: int, parents: tuple[int, ...], kind: str):
        """(table, latent, within) of ``child`` with these parents."""
        linear = None
        if kind == PROBIT and child in self.values:
            def linear(observed):
                sums = self._added(lambda r: detail_moments.linear_sums(
                    self.rows[r], self.values[child][r], self.encodings, child, parents))
                return detail_moments.linear_probit(sums, observed, parents, self.encodings,
                                                    self.encodings[child])
        table, latent = fit_node_from_counts(child, parents, kind, self.scorer, self.encodings,
                                             linear=linear)
        numeric = [p for p in parents if self.encodings[p].kind == "numeric"]
        within = None
        if child in self.values and numeric:
            scores = dict(self.scores)
            scores[child] = latent_scores(latent, self.values[child], scores[child])
            sums = self._added(lambda r: detail_moments.within_sums(
                self.rows[r], {j: scores[j][r] for j in [child, *numeric]}, self.encodings,
                child, parents, kind, numeric))
            within = detail_moments.within_bin(sums, numeric, latent)
        if within is None and kind == PROBIT and parents and "scale" not in latent:
            # the copula probit's bin shares made the seed's (model/calibration.py)
            enc = self.encodings[child]
            table, latent = calibration.calibrated(
                table, latent, self.scorer.counts(child, parents, kind), enc.n_bins,
                enc.missing_state >= 0)
        return table, latent, within

    def _added(self, block_sums):
        total = None
        for rows in self.blocks:
            part = block_sums(rows)
            total = part if total is None else total + part
        return total
