"""Conditional probability tables, one per node, rows = parent configurations.

Categorical child: counts smoothed toward the child's marginal with ``PRIOR_ROWS`` pseudo
rows, so a parent configuration seen a few times borrows from the whole seed instead of
repeating its few respondents (the memorisation a plain maximum-likelihood table shows).

Numeric child: an ordered-probit table on the copula scale. The child's normal score is
``N(mu(parents), sigma^2)`` with ``mu`` linear in the parents' features (``scores``); the
bin probabilities are the normal mass between the bin's thresholds, which sit at the
normal quantiles of the bin's cumulative share. Missingness gets its own smoothed table.
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtr, ndtri

from engine.model.encoding import NodeEncoding
from engine.model.scores import numeric_design, parent_features, parent_state_map, parent_states

# Pseudo rows a categorical table row borrows from the marginal (see module docstring).
PRIOR_ROWS = 2.0
# Floor on the residual spread of a numeric child on the copula scale: a perfectly
# predicted child would otherwise collapse onto one bin per parent configuration.
MIN_SIGMA = 0.05


def fit_table(child: int, parents: tuple[int, ...], codes: np.ndarray,
              encodings: list[NodeEncoding], z: dict[int, np.ndarray]) -> np.ndarray:
    """The (parent configurations x states) probability table of ``child``."""
    enc = encodings[child]
    shape = [parent_states(enc, encodings[p]) for p in parents]
    cfg = np.zeros(codes.shape[0], dtype=np.int64)
    for p, size in zip(parents, shape):
        cfg = cfg * size + parent_state_map(enc, encodings[p])[codes[:, p]]
    n_cfg = int(np.prod(shape)) if shape else 1
    if enc.kind == "categorical":
        return _smoothed_counts(codes[:, child], cfg, n_cfg, enc.n_states)
    return _probit_table(child, parents, codes, encodings, z[child], cfg, n_cfg, shape)


def _smoothed_counts(y, cfg, n_cfg, k) -> np.ndarray:
    counts = np.bincount(cfg * k + y, minlength=n_cfg * k).reshape(n_cfg, k).astype(float)
    marginal = (counts.sum(axis=0) + 0.5) / (counts.sum() + 0.5 * k)
    table = counts + PRIOR_ROWS * marginal
    return table / table.sum(axis=1, keepdims=True)


def _probit_table(child, parents, codes, encodings, z, cfg, n_cfg, shape) -> np.ndarray:
    enc = encodings[child]
    observed = ~np.isnan(z)
    design = numeric_design(codes[observed], encodings, parents)
    coef, *_ = np.linalg.lstsq(design, z[observed], rcond=None)
    resid = z[observed] - design @ coef
    sigma = max(np.sqrt(float(resid @ resid) / max(observed.sum(), 1)), MIN_SIGMA)

    # Thresholds between bins at the normal quantiles of the cumulative bin shares.
    bins = codes[observed, child]
    counts = np.bincount(bins, minlength=enc.n_bins).astype(float)
    cum = np.cumsum(counts)[:-1] / counts.sum()
    thresholds = ndtri(np.clip(cum, 1e-12, 1 - 1e-12))

    config_design = _config_design(parents, encodings, shape) @ coef
    edges = ndtr((thresholds[None, :] - config_design[:, None]) / sigma)
    cdf = np.hstack([np.zeros((n_cfg, 1)), edges, np.ones((n_cfg, 1))])
    probs = np.maximum(np.diff(cdf, axis=1), 0.0)
    probs /= probs.sum(axis=1, keepdims=True)
    if enc.missing_state < 0:
        return probs
    missing = (codes[:, child] == enc.missing_state).astype(np.int64)
    p_missing = _smoothed_counts(missing, cfg, n_cfg, 2)[:, 1]
    return np.hstack([probs * (1.0 - p_missing)[:, None], p_missing[:, None]])


def _config_design(parents, encodings, shape) -> np.ndarray:
    """The regression design row of every parent configuration, in table-row order."""
    if not parents:
        return np.ones((1, 1))
    grids = np.indices(shape).reshape(len(shape), -1)
    blocks = [np.ones((grids.shape[1], 1))]
    for slot, p in enumerate(parents):
        blocks.append(parent_features(encodings[p])[grids[slot]])
    return np.hstack(blocks)
