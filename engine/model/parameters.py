"""Conditional probability tables, one per node, rows = parent configurations.

Count tables are smoothed toward the child's marginal with ``PRIOR_ROWS`` pseudo rows, so a
parent configuration seen a few times borrows from the whole seed instead of repeating its
few respondents (the memorisation a plain maximum-likelihood table shows).

A numeric child's table is either the ordered-probit table (``scores.fit_probit``) or a
smoothed count table over its bins, whichever scored better; its missingness has its own
smoothed table over the same parent configurations.
"""

from __future__ import annotations

import numpy as np

from engine.model.encoding import NodeEncoding
from engine.model.scores import PROBIT, TABLE, config_index, fit_probit

# Pseudo rows a table row borrows from the marginal (see module docstring).
PRIOR_ROWS = 2.0
# Floor on the within-bin residual spread (copula scale) of a numeric child that follows
# numeric parents: an exact relation would otherwise give a zero spread.
MIN_WITHIN_SIGMA = 1e-3


def fit_table(child: int, parents: tuple[int, ...], kind: str, codes: np.ndarray,
              encodings: list[NodeEncoding], z: dict[int, np.ndarray]) -> np.ndarray:
    """The (parent configurations x states) probability table of ``child``."""
    return fit_node(child, parents, kind, codes, encodings, z)[0]


def fit_node(child: int, parents: tuple[int, ...], kind: str, codes: np.ndarray,
             encodings: list[NodeEncoding], z: dict[int, np.ndarray]):
    """(table, latent): the table, and for a probit child its latent normal
    ``{"mu": per configuration, "sigma", "cum": cumulative bin shares}`` (else None)."""
    enc = encodings[child]
    cfg, shape = config_index(codes, encodings, child, parents, kind)
    n_cfg = int(np.prod(shape)) if shape else 1
    y = codes[:, child]
    if enc.kind == "categorical":
        return smoothed_counts(y, cfg, n_cfg, enc.n_states), None
    observed = y != enc.missing_state if enc.missing_state >= 0 else np.ones(y.size, bool)
    latent = None
    if kind == PROBIT:
        fit = fit_probit(codes, encodings, z[child], child, parents)
        probs = fit.probs
        latent = {"mu": fit.mu, "sigma": fit.sigma, "cum": fit.cum}
    elif kind == TABLE:
        probs = smoothed_counts(y[observed], cfg[observed], n_cfg, enc.n_bins)
    else:
        raise ValueError(f"unknown table kind {kind!r}")
    if enc.missing_state < 0:
        return probs, latent
    p_missing = smoothed_counts((~observed).astype(np.int64), cfg, n_cfg, 2)[:, 1]
    return np.hstack([probs * (1.0 - p_missing)[:, None], p_missing[:, None]]), latent


def smoothed_counts(y, cfg, n_cfg, k) -> np.ndarray:
    counts = np.bincount(cfg * k + y, minlength=n_cfg * k).reshape(n_cfg, k).astype(float)
    marginal = (counts.sum(axis=0) + 0.5) / (counts.sum() + 0.5 * k)
    table = counts + PRIOR_ROWS * marginal
    return table / table.sum(axis=1, keepdims=True)


def fit_within_bin(child: int, parents: tuple[int, ...], kind: str, codes: np.ndarray,
                   encodings: list[NodeEncoding], z: dict[int, np.ndarray], latent):
    """How a numeric child tracks its numeric parents *inside* the bins, or None.

    The tables only see a parent's bin; inside one bin the child would not follow the
    parent. So on the copula scale the child's normal score is regressed on each numeric
    parent's offset from its bin's mean score (``within_scores``), around the table's own
    centre per parent configuration (the probit mean, or for a count table the
    configuration's mean score): ``z = centre[cfg] + beta . offsets + N(0, sigma^2)``. The
    sampler draws the child's latent from that normal truncated to its sampled bin.
    Returns ``{"parents", "beta", "sigma", "centre"}``.
    """
    numeric = [p for p in parents if encodings[p].kind == "numeric"]
    if encodings[child].kind != "numeric" or not numeric:
        return None
    observed = ~np.isnan(z[child])
    if observed.sum() < 2 * len(numeric) + 2:
        return None
    cfg, shape = config_index(codes, encodings, child, parents, kind)
    n_cfg = int(np.prod(shape)) if shape else 1
    zc, cfg = z[child][observed], cfg[observed]
    if latent is not None:
        centre = np.asarray(latent["mu"], dtype=np.float64)
    else:
        totals = np.bincount(cfg, minlength=n_cfg).astype(float)
        centre = np.bincount(cfg, weights=zc, minlength=n_cfg) / np.maximum(totals, 1.0)
    offsets = np.column_stack([within_scores(encodings[p], codes[observed, p], z[p][observed])
                               for p in numeric])
    residual = zc - centre[cfg]
    beta = np.linalg.lstsq(offsets, residual, rcond=None)[0]
    sigma = float(np.sqrt(np.mean((residual - offsets @ beta) ** 2)))
    return {"parents": np.array(numeric, dtype=np.int64), "beta": beta.astype(np.float64),
            "sigma": max(sigma, MIN_WITHIN_SIGMA), "centre": centre}


def within_scores(enc: NodeEncoding, states: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """A numeric node's normal score minus its bin's mean score (0 where missing)."""
    offset = scores - enc.bin_mean_score[states]
    return np.where(np.isnan(offset), 0.0, offset)
