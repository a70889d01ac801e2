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

This module holds the parameterisations' building blocks (parent states and features, the
row-wise probit fit ``parameters`` uses); the fit scores families from their counts in
``family_scores`` and ``probit``.
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


def parent_states(child: NodeEncoding, parent: NodeEncoding, kind: str = TABLE) -> int:
    """How many states of ``parent`` the child's table distinguishes: a numeric parent's
    coarse groups under a count table; a categorical's parameter groups (its rare levels
    tied, ``encoding.rare_pool``) under every kind; else every state."""
    if _grouped(parent, kind):
        return int(parent.parent_group.max()) + 1
    return parent.n_states


def parent_state_map(child: NodeEncoding, parent: NodeEncoding, kind: str = TABLE) -> np.ndarray:
    """Parent code -> the parent state the child's table is indexed by."""
    if _grouped(parent, kind):
        return parent.parent_group.astype(np.int64)
    return np.arange(parent.n_states, dtype=np.int64)


def _grouped(parent: NodeEncoding, kind: str) -> bool:
    if parent.kind == "numeric":
        return kind == TABLE
    return parent.parent_group is not None


def parent_features(parent: NodeEncoding) -> np.ndarray:
    """Feature rows (one per parent state the child's table distinguishes, see
    ``parent_states``) for a numeric child's regression."""
    if parent.kind == "categorical":
        return np.eye(parent_states(parent, parent, PROBIT))[:, 1:]
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
    from engine.model._normal_kernels import ndtr, ndtri  # scipy's doubles, no scipy

    thresholds = ndtri(np.clip(cum, 1e-12, 1 - 1e-12))
    mu = design @ coef
    edges = ndtr((thresholds[None, :] - mu[:, None]) / sigma)
    cdf = np.hstack([np.zeros((n_cfg, 1)), edges, np.ones((n_cfg, 1))])
    probs = np.maximum(np.diff(cdf, axis=1), 0.0)
    probs /= probs.sum(axis=1, keepdims=True)
    return ProbitFit(probs=probs, n_features=design.shape[1] - 1, n_observed=m, mu=mu,
                     sigma=float(sigma), cum=np.concatenate([[0.0], cum, [1.0]]))
