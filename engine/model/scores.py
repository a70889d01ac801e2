"""Decomposable local scores: how well a parent set explains one child (BIC).

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
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.model.encoding import NodeEncoding

PROBIT = "probit"
TABLE = "table"
# Floor on the residual spread of a numeric child on the copula scale: a perfectly
# predicted child would otherwise collapse onto one bin per parent configuration.
MIN_SIGMA = 0.05


def normal_scores(values: np.ndarray) -> np.ndarray:
    """Rank-based normal scores of the observed values (NaN where missing); ties share
    their average rank."""
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
        from scipy.special import ndtri     # fit-only: `simio generate` never loads scipy

        z[ok] = ndtri((ranks - 0.5) / n)
    return z


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


def config_design(parents, encodings, shape) -> np.ndarray:
    """The regression design row of every parent configuration, in table-row order."""
    if not parents:
        return np.ones((1, 1))
    grids = np.indices(shape).reshape(len(shape), -1)
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
    from scipy.special import ndtr, ndtri   # fit-only: `simio generate` never loads scipy

    thresholds = ndtri(np.clip(cum, 1e-12, 1 - 1e-12))
    mu = design @ coef
    edges = ndtr((thresholds[None, :] - mu[:, None]) / sigma)
    cdf = np.hstack([np.zeros((n_cfg, 1)), edges, np.ones((n_cfg, 1))])
    probs = np.maximum(np.diff(cdf, axis=1), 0.0)
    probs /= probs.sum(axis=1, keepdims=True)
    return ProbitFit(probs=probs, n_features=design.shape[1] - 1, n_observed=m, mu=mu,
                     sigma=float(sigma), cum=np.concatenate([[0.0], cum, [1.0]]))


class LocalScorer:
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
