"""Bin shares of a copula probit child, calibrated to the seed's (fit-only).

The copula probit's thresholds are the normal quantiles of the seed's bin shares, with
``mu`` linear in the parents and a common ``sigma`` < 1 around it. Its bin shares over
the seed's own parent configurations, ``sum_cfg n_cfg Phi((t_b - mu_cfg) / sigma) / n``,
equal the seed's only when ``mu`` is normal with variance ``1 - sigma^2``; a skewed
``mu`` or a point mass in the child moves them (Hedonic's ``zn``: 78 % zeros in the seed,
85 % generated). Here each threshold is moved (safeguarded Newton steps on the monotone share) until
those shares are the seed's, and the table and the latent's bin edges (``cum``) follow
it; ``mu`` and ``sigma`` stay. Everything comes from the family counts, so a partitioned
fit calibrates to the same bytes.

Only for a probit child that does not track numeric parents inside the bins: a tracking
child's within-bin regression is fitted around the uncalibrated latent (its offsets and
centres are on that scale), and moving its thresholds measured worse on the holdout.
"""

from __future__ import annotations

import numpy as np

NEWTON_STEPS = 40              # safeguarded: bisection alone reaches 2e-11 in 40
TOLERANCE = 1e-9
EDGE = 12.0                      # thresholds stay within +-EDGE latent units


def calibrated(table: np.ndarray, latent: dict, counts: np.ndarray, n_bins: int,
               has_missing: bool) -> tuple[np.ndarray, dict]:
    """(table, latent) with the thresholds moved so the seed's configurations give the
    seed's bin shares. ``counts``: the family's (configurations, states) counts, indexed
    as the table; the missing share of each configuration is kept."""
    from engine.model._normal_kernels import ndtr, ndtri  # scipy's doubles, no scipy

    observed = counts[:, :n_bins].astype(np.float64)
    rows = observed.sum(axis=1)
    if n_bins < 2 or rows.sum() <= 0:
        return table, latent
    mu, sigma = np.asarray(latent["mu"], dtype=np.float64), float(latent["sigma"])
    seen = rows > 0
    m, w = mu[seen], rows[seen] / rows.sum()
    target = np.clip(np.cumsum(observed.sum(axis=0))[:-1] / rows.sum(), 1e-12, 1 - 1e-12)
    t = np.clip(ndtri(np.clip(np.asarray(latent["cum"])[1:-1], 1e-12, 1 - 1e-12)),
                -EDGE, EDGE)
    lo, hi = np.full(t.size, -EDGE), np.full(t.size, EDGE)
    for _ in range(NEWTON_STEPS):
        u = (t[:, None] - m[None, :]) / sigma
        share = ndtr(u) @ w
        if np.all(np.abs(share - target) <= TOLERANCE):
            break           # every threshold would stay where it is: the same bytes
        slope = (np.exp(-0.5 * u * u) / np.sqrt(2 * np.pi)) @ w / sigma
        below = share < target
        lo, hi = np.where(below, t, lo), np.where(below, hi, t)
        # a Newton step inside the bracket, else bisection: a near-deterministic child
        # (sigma at its floor) has a share that is almost a step function
        step = t - (share - target) / np.where(slope > 0, slope, 1.0)
        moved = np.where((slope > 0) & (step > lo) & (step < hi), step, (lo + hi) / 2.0)
        # a threshold whose share already is the seed's stays (a deterministic child's
        # share is flat between its configurations: any move would only shift its edges)
        t = np.where(np.abs(share - target) <= TOLERANCE, t, moved)
    t = np.maximum.accumulate(t)             # thresholds stay ordered
    edges = ndtr((t[None, :] - mu[:, None]) / sigma)
    cdf = np.hstack([np.zeros((mu.size, 1)), edges, np.ones((mu.size, 1))])
    probs = np.maximum(np.diff(cdf, axis=1), 0.0)
    probs /= probs.sum(axis=1, keepdims=True)
    out = table.copy()
    kept = 1.0 - table[:, n_bins] if has_missing else np.ones(table.shape[0])
    out[:, :n_bins] = probs * kept[:, None]
    return out, {**latent, "cum": np.concatenate([[0.0], ndtr(t), [1.0]])}
