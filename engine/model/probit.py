"""The ordered probit of a numeric child from its family's counts (see ``scores``).

The child's normal score of a value in bin ``b`` is the standard normal restricted to the
bin's slice of the copula scale: the per-configuration moments the regression needs are
then counts times per-bin moments (mean and variance of that truncated normal; a
single-valued bin has no spread), so the fit needs no rank over the whole table and
merges like the counts do.

Counts come as *cells*: the parents' states, the child's bin and the count of every
combination that occurs. The normal equations need only the one- and two-parent margins
of the weights, so no design row per configuration is ever built, and the likelihood
needs the normal masses of the occurring cells alone.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.model import _count_kernels
from engine.model.encoding import NodeEncoding
from engine.model.scores import MIN_SIGMA, PROBIT, ProbitFit, parent_features, parent_states


# Fit-only: `simio generate` imports this module (through the network) but never calls
# these, and must not pay for compiling or loading their kernels.
def ndtr(x):
    from engine.model._normal_kernels import ndtr as _ndtr

    return _ndtr(x)


def ndtri(p):
    from engine.model._normal_kernels import ndtri as _ndtri

    return _ndtri(p)


def bin_moments(enc: NodeEncoding, cum: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and variance of the child's normal score within each bin: the standard normal
    truncated to the bin's slice ``cum[b]..cum[b+1]``; a single-valued bin has no spread."""
    from engine.model._normal_kernels import ndtr, ndtri  # scipy's doubles, no scipy

    edges = ndtri(np.clip(cum, 1e-12, 1 - 1e-12))
    density = np.exp(-0.5 * edges ** 2) / np.sqrt(2 * np.pi)
    mass = np.maximum(np.diff(ndtr(edges)), 1e-300)
    mean = (density[:-1] - density[1:]) / mass
    second = 1.0 + (edges[:-1] * density[:-1] - edges[1:] * density[1:]) / mass
    var = np.maximum(second - mean ** 2, 0.0)
    if enc.n_knots is not None:
        var[np.asarray(enc.n_knots)[:var.size] == 1] = 0.0
    return mean, var


# Every family of a child sees the child's same marginal, so its bin moments and
# thresholds repeat across the search's hundreds of scores: kept by the marginal's bytes
# (read-only arrays; a pure function of the key, so any thread may fill an entry).
_MARGINAL_ENTRIES = 1024
_marginals: dict[tuple[bytes, bytes], tuple[np.ndarray, np.ndarray, np.ndarray]] = {}


def _marginal_terms(enc: NodeEncoding, cum: np.ndarray):
    """(bin means, bin variances, thresholds) of the child's marginal ``cum``."""
    single = (b"" if enc.n_knots is None
              else (np.asarray(enc.n_knots)[:cum.size - 1] == 1).tobytes())
    key = (cum.tobytes(), single)
    terms = _marginals.get(key)
    if terms is None:
        mean, var = bin_moments(enc, cum)
        terms = (mean, var, ndtri(np.clip(cum[1:-1], 1e-12, 1 - 1e-12)))
        for array in terms:
            array.setflags(write=False)
        if len(_marginals) >= _MARGINAL_ENTRIES:
            _marginals.clear()
        _marginals[key] = terms
    return terms


@dataclass
class ProbitLine:
    """The latent regression of a numeric child: a linear mean, one spread."""

    blocks: list[np.ndarray]   # feature rows per state: intercept, then each parent
    coef: list[np.ndarray]     # coefficients per block
    sigma: float
    cum: np.ndarray            # cumulative bin shares: 0, ..., 1
    thresholds: np.ndarray     # the bins' inner edges on the copula scale
    n_features: int
    n_observed: int

    def mu_at(self, states: list[np.ndarray]) -> np.ndarray:
        """Latent mean at the given parent states (one array per parent)."""
        mu = np.full(states[0].shape if states else (1,), float(self.coef[0][0]))
        for blk, c, s in zip(self.blocks[1:], self.coef[1:], states):
            mu = mu + (blk @ c)[s]
        return mu

    def mu_grid(self, shape: list[int]) -> np.ndarray:
        """Latent mean of every configuration, row-major over the parents' states."""
        mu = np.full(shape, float(self.coef[0][0])) if shape else np.array([self.coef[0][0]])
        for axis, (blk, c) in enumerate(zip(self.blocks[1:], self.coef[1:])):
            mu = mu + (blk @ c).reshape([-1 if a == axis else 1 for a in range(len(shape))])
        return np.asarray(mu, dtype=np.float64).reshape(-1)


def probit_line(states: list[np.ndarray], bins: np.ndarray, counts: np.ndarray, parents,
                encodings, enc: NodeEncoding) -> ProbitLine:
    """Weighted least squares of the child's bin moments on the parents' features, from
    the observed cells (parent states per parent, child bin, count)."""
    sizes = [parent_states(enc, encodings[p], PROBIT) for p in parents]
    weight = counts.astype(np.float64)
    totals = np.bincount(bins, weights=weight, minlength=enc.n_bins)
    m = float(totals.sum())
    cum = np.concatenate([[0.0], np.cumsum(totals)[:-1] / max(m, 1.0), [1.0]])
    mean, var, thresholds = _marginal_terms(enc, cum)
    moment = weight * mean[bins]
    blocks = [np.ones((1, 1))] + [parent_features(encodings[p]) for p in parents]
    # A categorical parent's features are its one-hot levels but the first: multiplying
    # by them is slicing off the first row or column.
    onehot = [False] + [encodings[p].kind == "categorical" for p in parents]
    one_w, one_m, pair_w = _margins(states, weight, moment, sizes)
    # slot 0 is the intercept (one state); slot i > 0 is parent i - 1
    bounds = np.cumsum([0] + [b.shape[1] for b in blocks])
    xtwx = np.empty((bounds[-1], bounds[-1]))
    xtwz = np.empty(bounds[-1])

    def left(i, m):                     # blocks[i].T @ m
        return m[1:] if onehot[i] else blocks[i].T @ m

    margins_w = [np.array([m])] + one_w
    margins_m = [np.array([moment.sum()])] + one_m
    for i in range(len(blocks)):
        rows = slice(bounds[i], bounds[i + 1])
        margin = margins_w[i]
        xtwx[rows, rows] = (np.diag(margin[1:]) if onehot[i]
                            else blocks[i].T @ (margin[:, None] * blocks[i]))
        xtwz[rows] = left(i, margins_m[i])
        for j in range(i + 1, len(blocks)):
            cols = slice(bounds[j], bounds[j + 1])
            pair = margins_w[j][None, :] if i == 0 else pair_w[i - 1, j - 1]
            half = left(i, pair)
            xtwx[rows, cols] = half[:, 1:] if onehot[j] else half @ blocks[j]
            xtwx[cols, rows] = xtwx[rows, cols].T
    coef = _solve(xtwx, xtwz)
    zz = float(totals @ (mean ** 2 + var))
    rss = zz - 2 * coef @ xtwz + coef @ xtwx @ coef
    sigma = max(np.sqrt(max(rss, 0.0) / max(m, 1.0)), MIN_SIGMA)
    return ProbitLine(blocks=blocks, coef=[coef[a:b] for a, b in zip(bounds[:-1], bounds[1:])],
                      sigma=float(sigma), cum=cum,
                      thresholds=thresholds,
                      n_features=int(bounds[-1]) - 1, n_observed=int(m))


def _margins(states, weight, moment, sizes):
    """Per parent: weight and moment by state; per parent pair: weight by both states."""
    p = len(sizes)
    sizes = np.asarray(sizes, dtype=np.int64)
    one_offset = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    pair_offset = np.zeros((max(p, 1), max(p, 1)), dtype=np.int64)
    used = 0
    for a in range(p):
        for b in range(a + 1, p):
            pair_offset[a, b] = used
            used += int(sizes[a] * sizes[b])
    one_w = np.zeros(int(sizes.sum()))
    one_m = np.zeros(int(sizes.sum()))
    pair_w = np.zeros(max(used, 1))
    if p:
        grid = _state_grid(states)
        _count_kernels.cell_margins(grid, weight, moment, one_offset, pair_offset, sizes,
                                    one_w, one_m, pair_w)
    ones_w = [one_w[o:o + s] for o, s in zip(one_offset, sizes)]
    ones_m = [one_m[o:o + s] for o, s in zip(one_offset, sizes)]
    pairs = {(a, b): pair_w[pair_offset[a, b]:pair_offset[a, b] + sizes[a] * sizes[b]]
             .reshape(sizes[a], sizes[b]) for a in range(p) for b in range(a + 1, p)}
    return ones_w, ones_m, pairs


def _solve(xtwx: np.ndarray, xtwz: np.ndarray) -> np.ndarray:
    """The minimum-norm least-squares solution. Features no row has (a level no row
    shows) are all-zero rows and columns whose coefficient is 0; the rest is usually
    positive definite and a Cholesky solve is much cheaper than an SVD."""
    coef = np.zeros(xtwz.size)
    used = np.flatnonzero(np.diag(xtwx) > 0)
    sub = xtwx if used.size == xtwz.size else xtwx[np.ix_(used, used)]
    try:
        chol = np.linalg.cholesky(sub)
        # A tiny pivot means near-collinear features: leave those to the SVD.
        if np.min(np.diag(chol)) > 1e-6 * np.sqrt(np.max(np.diag(sub))):
            coef[used] = np.linalg.solve(chol.T, np.linalg.solve(chol, xtwz[used]))
            return coef
    except np.linalg.LinAlgError:
        pass
    return np.linalg.lstsq(xtwx, xtwz, rcond=None)[0]


def probit_score(states, bins, counts, parents, encodings, enc: NodeEncoding) -> float:
    """BIC of the ordered probit from the observed cells."""
    from engine.model._probit_kernels import cell_masses

    line = probit_line(states, bins, counts, parents, encodings, enc)
    edges = np.concatenate([[-np.inf], line.thresholds, [np.inf]])
    # each parent's effect on the latent mean by state (``ProbitLine.mu_at``), flattened
    effects = [blk @ c for blk, c in zip(line.blocks[1:], line.coef[1:])]
    offset = np.zeros(len(effects), dtype=np.int64)
    offset[1:] = np.cumsum([e.size for e in effects])[:-1]
    p = np.empty(bins.size)
    cell_masses(_state_grid(states), np.concatenate(effects) if effects else np.zeros(1),
                offset, float(line.coef[0][0]), edges, np.asarray(bins, dtype=np.int64),
                float(line.sigma), p)
    loglik = float(np.sum(counts * np.log(np.maximum(p, 1e-300))))
    # thresholds come from the child's marginal: (bins - 1) parameters, as in a table
    n_params = line.n_features + enc.n_bins - 1
    return loglik - 0.5 * np.log(max(line.n_observed, 2)) * n_params


def _state_grid(states: list[np.ndarray]) -> np.ndarray:
    """The cells' parent states as one (parents, cells) int64 array for the kernels."""
    if not states:
        return np.zeros((0, 1), dtype=np.int64)
    return np.ascontiguousarray(np.stack(states).astype(np.int64))


def probit_from_counts(observed: np.ndarray, parents, encodings, enc: NodeEncoding) -> ProbitFit:
    """The ordered-probit table over every parent configuration, from dense observed-bin
    counts (configurations row-major over the parents' full states, x bins)."""
    from engine.model._normal_kernels import ndtr  # scipy's doubles, no scipy

    sizes = [parent_states(enc, encodings[p], PROBIT) for p in parents]
    cfg, bins = np.nonzero(observed)
    states = list(np.unravel_index(cfg, sizes)) if parents else []
    line = probit_line(states, bins, observed[cfg, bins], parents, encodings, enc)
    mu = line.mu_grid(sizes)
    edges = ndtr((line.thresholds[None, :] - mu[:, None]) / line.sigma)
    n_cfg = observed.shape[0]
    cdf = np.hstack([np.zeros((n_cfg, 1)), edges, np.ones((n_cfg, 1))])
    probs = np.maximum(np.diff(cdf, axis=1), 0.0)
    probs /= probs.sum(axis=1, keepdims=True)
    return ProbitFit(probs=probs, n_features=line.n_features, n_observed=line.n_observed,
                     mu=mu, sigma=line.sigma, cum=line.cum)
