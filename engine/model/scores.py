"""Decomposable local scores: how well a parent set explains one child (BIC), from counts.

Every child is scored by the likelihood of its discrete states, so all scores compare.
A categorical child has one parameterisation, a smoothed conditional *table* (a numeric
parent seen through a few coarse groups of its bins). A numeric child has two, and the
better BIC wins for each parent set:

- ``probit``: the child's normal score is ``N(mu(parents), sigma^2)`` with ``mu`` linear in
  the parents' features (one-hot levels, parents' bin scores); a bin's probability is the
  normal mass between its thresholds. A handful of parameters, so an 800-row survey can
  support segment, channel and age as parents of an outcome — a count table over
  20 x 3 x 3 x 20 cells cannot.
- ``table``: the same conditional table a categorical child gets, for dependence no line
  describes (a level that forces a value to exactly zero, a U-shape).

Both come from the family's counts alone (``statistics``): the child's normal score of a
value in bin ``b`` is the standard normal restricted to the bin's slice of the copula
scale, so the per-configuration moments the regression needs are counts times per-bin
moments (mean and variance of that truncated normal; a point-mass bin has one value and
no spread). Counts merge by sums, so the scores do too; no rank over the whole table is
needed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import ndtr, ndtri

from engine.model.encoding import NodeEncoding

PROBIT = "probit"
TABLE = "table"
# Floor on the residual spread of a numeric child on the copula scale: a perfectly
# predicted child would otherwise collapse onto one bin per parent configuration.
MIN_SIGMA = 0.05


def parent_states(child: NodeEncoding, parent: NodeEncoding, kind: str = TABLE) -> int:
    """How many states of ``parent`` the child's table distinguishes."""
    if kind == TABLE and parent.kind == "numeric":
        return int(parent.parent_group.max()) + 1
    return parent.n_states


def parent_state_map(child: NodeEncoding, parent: NodeEncoding, kind: str = TABLE) -> np.ndarray:
    """Parent code -> the parent state the child's table is indexed by."""
    if kind == TABLE and parent.kind == "numeric":
        return parent.parent_group.astype(np.int64)
    return np.arange(parent.n_states, dtype=np.int64)


def parent_features(parent: NodeEncoding) -> np.ndarray:
    """Feature rows (one per parent state) for a numeric child's regression."""
    if parent.kind == "categorical":
        return np.eye(parent.n_states)[:, 1:]
    score = np.append(parent.bin_score, 0.0) if parent.missing_state >= 0 else parent.bin_score
    if parent.missing_state < 0:
        return score[:, None]
    indicator = np.zeros(parent.n_states)
    indicator[parent.missing_state] = 1.0
    return np.column_stack([score, indicator])


def config_index(codes, encodings, child, parents, kind) -> tuple[np.ndarray, list[int]]:
    """Each row's parent configuration (row-major over parents) and the configuration shape."""
    enc = encodings[child]
    cfg = np.zeros(codes.shape[0], dtype=np.int64)
    shape = []
    for p in parents:
        size = parent_states(enc, encodings[p], kind)
        cfg = cfg * size + parent_state_map(enc, encodings[p], kind)[codes[:, p]]
        shape.append(size)
    return cfg, shape


def config_design(parents, encodings, shape, rows=None) -> np.ndarray:
    """The regression design row of every parent configuration, in table-row order (only
    of the configurations ``rows`` when given)."""
    if not parents:
        return np.ones((1 if rows is None else len(rows), 1))
    if rows is None:
        grids = np.indices(shape).reshape(len(shape), -1)
    else:
        grids = np.stack(np.unravel_index(rows, shape))
    blocks = [np.ones((grids.shape[1], 1))]
    for slot, p in enumerate(parents):
        blocks.append(parent_features(encodings[p])[grids[slot]])
    return np.hstack(blocks)


@dataclass
class ProbitFit:
    probs: np.ndarray        # (configurations, bins) over the observed bins
    n_features: int
    n_observed: int
    mu: np.ndarray           # latent mean per configuration (copula scale)
    sigma: float             # latent spread
    cum: np.ndarray          # cumulative bin shares: 0, ..., 1 (bin b: cum[b]..cum[b+1])


def fit_probit(codes, encodings, z, child, parents) -> ProbitFit:
    """OLS of the child's normal scores on the parents' features, from per-configuration
    sufficient statistics (one pass over the rows), then the ordered-probit table."""
    enc = encodings[child]
    observed = ~np.isnan(z)
    cfg, shape = config_index(codes[observed], encodings, child, parents, PROBIT)
    n_cfg = int(np.prod(shape)) if shape else 1
    weight = np.bincount(cfg, minlength=n_cfg).astype(float)
    zs = z[observed]
    design = config_design(parents, encodings, shape)
    xtwx = design.T @ (weight[:, None] * design)
    xtwz = design.T @ np.bincount(cfg, weights=zs, minlength=n_cfg)
    coef = np.linalg.lstsq(xtwx, xtwz, rcond=None)[0]
    m = int(observed.sum())
    rss = float(zs @ zs - 2 * coef @ xtwz + coef @ xtwx @ coef)
    sigma = max(np.sqrt(max(rss, 0.0) / max(m, 1)), MIN_SIGMA)
    bins = codes[observed, child]
    counts = np.bincount(bins, minlength=enc.n_bins).astype(float)
    cum = np.cumsum(counts)[:-1] / max(counts.sum(), 1.0)
    thresholds = ndtri(np.clip(cum, 1e-12, 1 - 1e-12))
    mu = design @ coef
    edges = ndtr((thresholds[None, :] - mu[:, None]) / sigma)
    cdf = np.hstack([np.zeros((n_cfg, 1)), edges, np.ones((n_cfg, 1))])
    probs = np.maximum(np.diff(cdf, axis=1), 0.0)
    probs /= probs.sum(axis=1, keepdims=True)
    return ProbitFit(probs=probs, n_features=design.shape[1] - 1, n_observed=m, mu=mu,
                     sigma=float(sigma), cum=np.concatenate([[0.0], cum, [1.0]]))


# -- scores and fits from counts ---------------------------------------------------------

def bin_moments(enc: NodeEncoding, cum: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and variance of the child's normal score within each bin: the standard normal
    truncated to the bin's slice ``cum[b]..cum[b+1]``; a single-valued bin has no spread."""
    edges = ndtri(np.clip(cum, 1e-12, 1 - 1e-12))
    density = np.exp(-0.5 * edges ** 2) / np.sqrt(2 * np.pi)
    mass = np.maximum(np.diff(ndtr(edges)), 1e-300)
    mean = (density[:-1] - density[1:]) / mass
    second = 1.0 + (edges[:-1] * density[:-1] - edges[1:] * density[1:]) / mass
    var = np.maximum(second - mean ** 2, 0.0)
    if enc.n_knots is not None:
        var[np.asarray(enc.n_knots)[:var.size] == 1] = 0.0
    return mean, var


@dataclass
class ProbitLine:
    """The latent regression of a numeric child: mean per configuration, one spread."""

    mu: np.ndarray           # latent mean of each configuration given (design rows)
    sigma: float
    cum: np.ndarray          # cumulative bin shares: 0, ..., 1
    thresholds: np.ndarray   # the bins' inner edges on the copula scale
    n_features: int
    n_observed: int


def probit_line(observed: np.ndarray, parents, encodings, enc: NodeEncoding) -> ProbitLine:
    """Weighted least squares of the child's bin moments on the parents' features, from
    the observed-bin counts of every configuration (rows: the parents' full states,
    row-major). The normal equations need only the one- and two-parent margins of the
    weights, so no design row per configuration is ever built."""
    shape = [encodings[p].n_states for p in parents]
    totals = observed.sum(axis=0).astype(np.float64)
    m = float(totals.sum())
    cum = np.concatenate([[0.0], np.cumsum(totals)[:-1] / max(m, 1.0), [1.0]])
    mean, var = bin_moments(enc, cum)
    weight = observed.sum(axis=1).astype(np.float64).reshape(shape)
    moment = (observed.astype(np.float64) @ mean).reshape(shape)
    blocks = [np.ones((1, 1))] + [parent_features(encodings[p]) for p in parents]
    axes = list(range(len(parents)))

    def margin(cube, keep):        # sum over every parent axis but ``keep`` (intercept: -1)
        kept = [a for a in keep if a >= 0]
        out = cube.sum(axis=tuple(a for a in axes if a not in kept)) if axes else cube
        return np.asarray(out).reshape([shape[a] if a >= 0 else 1 for a in keep])

    slots = [-1] + axes
    rows = []
    for i, a in enumerate(slots):
        row = []
        for j, b in enumerate(slots):
            if a == b:
                w = margin(weight, [a]).ravel()
                row.append(blocks[i].T @ (w[:, None] * blocks[i]))
            elif a < b:
                row.append(blocks[i].T @ margin(weight, [a, b]) @ blocks[j])
            else:
                row.append(None)
        rows.append(row)
    for i in range(len(slots)):
        for j in range(i):
            rows[i][j] = rows[j][i].T
    xtwx = np.block(rows)
    xtwz = np.concatenate([blocks[i].T @ margin(moment, [a]).ravel()
                           for i, a in enumerate(slots)])
    coef = np.linalg.lstsq(xtwx, xtwz, rcond=None)[0]
    zz = float(totals @ (mean ** 2 + var))
    rss = zz - 2 * coef @ xtwz + coef @ xtwx @ coef
    sigma = max(np.sqrt(max(rss, 0.0) / max(m, 1.0)), MIN_SIGMA)
    widths = np.cumsum([0] + [blk.shape[1] for blk in blocks])
    mu = np.full(shape, coef[0]) if shape else np.array(coef[0])
    for axis, blk in enumerate(blocks[1:]):
        part = blk @ coef[widths[axis + 1]:widths[axis + 2]]
        mu = mu + part.reshape([-1 if a == axis else 1 for a in axes])
    return ProbitLine(mu=np.asarray(mu, dtype=np.float64).reshape(-1), sigma=float(sigma),
                      cum=cum, thresholds=ndtri(np.clip(cum[1:-1], 1e-12, 1 - 1e-12)),
                      n_features=int(widths[-1]) - 1, n_observed=int(m))


def probit_from_counts(observed: np.ndarray, parents, encodings, enc: NodeEncoding) -> ProbitFit:
    """The ordered-probit table of a numeric child over every parent configuration, from
    the observed-bin counts per configuration."""
    line = probit_line(observed, parents, encodings, enc)
    edges = ndtr((line.thresholds[None, :] - line.mu[:, None]) / line.sigma)
    n_cfg = observed.shape[0]
    cdf = np.hstack([np.zeros((n_cfg, 1)), edges, np.ones((n_cfg, 1))])
    probs = np.maximum(np.diff(cdf, axis=1), 0.0)
    probs /= probs.sum(axis=1, keepdims=True)
    return ProbitFit(probs=probs, n_features=line.n_features, n_observed=line.n_observed,
                     mu=line.mu, sigma=line.sigma, cum=line.cum)


def table_score(counts: np.ndarray) -> float:
    """BIC of a conditional table from its (configurations, states) counts."""
    counts = counts.astype(np.float64)
    n_cfg, k = counts.shape
    totals = counts.sum(axis=1, keepdims=True)
    nz = counts > 0
    loglik = float(np.sum(counts[nz] * np.log((counts / np.maximum(totals, 1))[nz])))
    return loglik - 0.5 * np.log(max(int(counts.sum()), 2)) * (k - 1) * n_cfg


def probit_score(observed: np.ndarray, parents, encodings, enc: NodeEncoding) -> float:
    """BIC of the ordered probit. Only the cells that occur contribute, so the normal
    masses are computed for those cells alone."""
    line = probit_line(observed, parents, encodings, enc)
    rows, bins = np.nonzero(observed)
    edges = np.concatenate([[-np.inf], line.thresholds, [np.inf]])
    mu = line.mu[rows]
    p = ndtr((edges[bins + 1] - mu) / line.sigma) - ndtr((edges[bins] - mu) / line.sigma)
    loglik = float(np.sum(observed[rows, bins] * np.log(np.maximum(p, 1e-300))))
    # thresholds come from the child's marginal: (bins - 1) parameters, as in a table
    n_params = line.n_features + enc.n_bins - 1
    return loglik - 0.5 * np.log(max(line.n_observed, 2)) * n_params


def request_kind(enc: NodeEncoding) -> str:
    """The indexing a child's counts are gathered in: a numeric child needs its parents'
    full states (the probit), from which its coarse table is summed (``coarsen``)."""
    return PROBIT if enc.kind == "numeric" else TABLE


def coarsen(counts: np.ndarray, child: NodeEncoding, parents: list[NodeEncoding]) -> np.ndarray:
    """Counts over the parents' full states -> over the states a table distinguishes."""
    k = counts.shape[1]
    full = [p.n_states for p in parents]
    cube = counts.reshape(full + [k])
    for axis, parent in enumerate(parents):
        state_map = parent_state_map(child, parent, TABLE)
        if state_map.size == parent.n_states and np.array_equal(state_map, np.arange(full[axis])):
            continue
        onehot = np.zeros((parent.n_states, int(state_map.max()) + 1), dtype=np.int64)
        onehot[np.arange(parent.n_states), state_map] = 1
        cube = np.moveaxis(np.tensordot(cube, onehot, axes=([axis], [0])), -1, axis)
    return cube.reshape(-1, k)


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
        self.families_counted = 0

    def __call__(self, child: int, parents: tuple[int, ...]) -> float:
        return self._best(child, parents)[0]

    def kind(self, child: int, parents: tuple[int, ...]) -> str:
        return self._best(child, parents)[1]

    def counts(self, child: int, parents: tuple[int, ...], kind: str | None = None) -> np.ndarray:
        """(configurations, child states) counts of the family, indexed as ``kind``'s
        table (default: the indexing the counts are gathered in)."""
        enc = self.encodings[child]
        wanted = request_kind(enc)
        maps = [parent_state_map(enc, self.encodings[p], wanted) for p in parents]
        sizes = [parent_states(enc, self.encodings[p], wanted) for p in parents]
        self.families_counted += 1
        counts = self.source.family(child, parents, maps, sizes)
        if kind is not None and kind != wanted:
            counts = coarsen(counts, enc, [self.encodings[p] for p in parents])
        return counts

    def prime(self, child: int, parents: tuple[int, ...], counts: np.ndarray) -> None:
        key = (child, tuple(sorted(parents)))
        if key not in self._cache:
            self._cache[key] = self._score(child, key[1], counts)

    def _best(self, child, parents):
        key = (child, tuple(sorted(parents)))
        if key not in self._cache:
            self._cache[key] = self._score(child, key[1], self.counts(child, key[1]))
        return self._cache[key]

    def _score(self, child, parents, counts) -> tuple[float, str]:
        enc = self.encodings[child]
        if enc.kind == "categorical":
            return table_score(counts), TABLE
        observed = counts[:, :enc.n_bins]
        table = table_score(coarsen(observed, enc, [self.encodings[p] for p in parents]))
        probit = probit_score(observed, parents, self.encodings, enc)
        return (probit, PROBIT) if probit >= table else (table, TABLE)
