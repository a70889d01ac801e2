"""Issue 11's two regressions from sums of products that add up over row blocks.

The value-scale probit (``parameters.fit_linear_probit`` is its row-wise reference) needs
per configuration the count (from the family counts) and the sum of the child's values,
plus the sum of their squares; the within-bin regression (``parameters.fit_within_bin``)
needs per configuration the count, the sum of the child's score and of each numeric
parent's offset, plus the offsets' cross products (O'O, O'z, z'z). Each block of rows
gives its own sums and the fit adds them, like the counts in ``statistics``. Values are
summed shifted by a first-pass constant (the column's mid-range) so the sum of squares
keeps its precision. Sums of floats over blocks differ from one sum over all rows in the
last bits, so a partitioned fit's regressions agree with the whole fit's to rounding, not
byte for byte (the counts, and everything built from them alone, still do).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.model.parameters import MIN_WITHIN_SIGMA, MIN_WITHIN_T, value_design, within_scores
from engine.model.scores import MIN_SIGMA, PROBIT, config_index, parent_states


@dataclass
class LinearSums:
    sum_x: np.ndarray      # per configuration: sum of (value - shift)
    sum_xx: float          # sum of (value - shift)^2
    shift: float

    def __add__(self, other: "LinearSums") -> "LinearSums":
        return LinearSums(self.sum_x + other.sum_x, self.sum_xx + other.sum_xx, self.shift)


@dataclass
class WithinSums:
    n: np.ndarray          # per configuration: observed rows of the child
    sum_z: np.ndarray      # per configuration: sum of the child's score
    sum_o: np.ndarray      # (configurations, parents): sum of each parent's offset
    oo: np.ndarray         # (parents, parents)
    oz: np.ndarray         # (parents,)
    zz: float

    def __add__(self, other: "WithinSums") -> "WithinSums":
        return WithinSums(self.n + other.n, self.sum_z + other.sum_z, self.sum_o + other.sum_o,
                          self.oo + other.oo, self.oz + other.oz, self.zz + other.zz)


def shift_of(enc) -> float:
    return 0.5 * (float(enc.lower) + float(enc.upper))


def linear_sums(rows, values, encodings, child, parents) -> LinearSums:
    """One block's sums for the value-scale probit (``rows``: its codes, rows x columns)."""
    shift = shift_of(encodings[child])
    observed = ~np.isnan(values)
    cfg, shape = config_index(rows[observed], encodings, child, parents, PROBIT)
    n_cfg = int(np.prod(shape)) if shape else 1
    x = values[observed] - shift
    return LinearSums(np.bincount(cfg, weights=x, minlength=n_cfg), float(x @ x), shift)


def within_sums(rows, scores, encodings, child, parents, kind, numeric) -> WithinSums:
    """One block's sums for the within-bin regression (``scores``: node -> its rows'
    scores, the child's on its latent's scale)."""
    observed = ~np.isnan(scores[child])
    cfg, shape = config_index(rows[observed], encodings, child, parents, kind)
    n_cfg = int(np.prod(shape)) if shape else 1
    z = scores[child][observed]
    offsets = np.column_stack([within_scores(encodings[p], rows[observed, p],
                                             scores[p][observed]) for p in numeric])
    sum_o = np.column_stack([np.bincount(cfg, weights=o, minlength=n_cfg) for o in offsets.T])
    return WithinSums(np.bincount(cfg, minlength=n_cfg).astype(np.float64),
                      np.bincount(cfg, weights=z, minlength=n_cfg), sum_o,
                      offsets.T @ offsets, offsets.T @ z, float(z @ z))


def linear_probit(sums: LinearSums, observed: np.ndarray, parents, encodings, enc):
    """``parameters.fit_linear_probit`` from the sums and the observed-bin counts
    (configurations x bins): the table, the latent (``scale: "linear"``) and its
    log-likelihood of the seed's bins, or None when the column has no spread."""
    from engine.model._normal_kernels import ndtr  # scipy's doubles, no scipy

    weight = observed.sum(axis=1).astype(np.float64)
    n = float(weight.sum())
    if n <= 0 or enc.n_bins < 3:
        return None
    centred = float(sums.sum_x.sum()) / n            # mean - shift
    var = sums.sum_xx / n - centred ** 2
    if var <= 0:
        return None
    mean, sd = sums.shift + centred, float(np.sqrt(var))
    # per configuration: sum of u = (x - mean) / sd; over all rows sum u^2 = n
    sum_u = (sums.sum_x - weight * centred) / sd
    shape = [parent_states(enc, encodings[p], PROBIT) for p in parents]
    design = value_design(parents, encodings, shape)
    xtwx = design.T @ (weight[:, None] * design)
    xtwz = design.T @ sum_u
    coef = np.linalg.lstsq(xtwx, xtwz, rcond=None)[0]
    rss = float(n - 2 * coef @ xtwz + coef @ xtwx @ coef)
    sigma = max(np.sqrt(max(rss, 0.0) / n), MIN_SIGMA)
    mu = design @ coef
    thresholds = (enc.thresholds - mean) / sd
    edges = ndtr((thresholds[None, :] - mu[:, None]) / sigma)
    cdf = np.hstack([np.zeros((mu.size, 1)), edges, np.ones((mu.size, 1))])
    probs = np.maximum(np.diff(cdf, axis=1), 1e-300)
    probs /= probs.sum(axis=1, keepdims=True)
    used = observed > 0
    loglik = float(np.sum(observed[used] * np.log(probs[used])))
    return {"probs": probs, "mu": mu, "sigma": float(sigma), "loglik": loglik,
            "cum": np.concatenate([[0.0], ndtr(thresholds), [1.0]]),
            "scale": "linear", "mean": mean, "sd": sd}


def within_bin(sums: WithinSums, numeric, latent):
    """``parameters.fit_within_bin`` from the sums: ``{"parents", "beta", "sigma",
    "centre"}``, or None with too few rows or no slope the seed can tell from zero."""
    n = float(sums.n.sum())
    if n < 2 * len(numeric) + 2:
        return None
    if latent is not None:
        centre = np.asarray(latent["mu"], dtype=np.float64)
    else:
        centre = sums.sum_z / np.maximum(sums.n, 1.0)
    # residual r = z - centre[cfg]
    o_r = sums.oz - sums.sum_o.T @ centre
    r_r = sums.zz - 2.0 * centre @ sums.sum_z + sums.n @ centre ** 2
    keep = np.ones(len(numeric), dtype=bool)
    for rounds in range(3):     # fit, drop the slopes the seed cannot tell from 0 (twice)
        oo = sums.oo[np.ix_(keep, keep)]
        beta = np.linalg.lstsq(oo, o_r[keep], rcond=None)[0]
        rss = r_r - 2.0 * beta @ o_r[keep] + beta @ oo @ beta
        sigma = max(float(np.sqrt(max(rss, 0.0) / n)), MIN_WITHIN_SIGMA)
        t = np.abs(beta) / np.sqrt(np.maximum(np.diag(np.linalg.pinv(oo)) * sigma ** 2,
                                              1e-300))
        if np.all(t >= MIN_WITHIN_T) or rounds == 2:
            break
        keep[np.flatnonzero(keep)[t < MIN_WITHIN_T]] = False
        if not keep.any():
            return None
    return {"parents": np.array(numeric, dtype=np.int64)[keep],
            "beta": beta.astype(np.float64), "sigma": sigma, "centre": centre}
