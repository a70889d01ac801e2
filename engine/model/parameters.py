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
from engine.model.scores import (MIN_SIGMA, PROBIT, TABLE, config_design, config_index,
                                 fit_probit, parent_features)

# Pseudo rows a table row borrows from the marginal (see module docstring).
PRIOR_ROWS = 2.0
# Floor on the within-bin residual spread (copula scale) of a numeric child that follows
# numeric parents: an exact relation would otherwise give a zero spread.
MIN_WITHIN_SIGMA = 1e-3
# A within-bin slope whose t-statistic is below this is noise (a weak relation seen in a
# bin a few units wide): it is dropped, and with no slope left the child has no within-bin
# model (a weak pair gains nothing from one, and pays in variance and sampling time).
MIN_WITHIN_T = 3.0
# Level of the likelihood-ratio test that keeps a probit child on its value scale.
LINEAR_LEVEL = 0.99


def fit_table(child: int, parents: tuple[int, ...], kind: str, codes: np.ndarray,
              encodings: list[NodeEncoding], z: dict[int, np.ndarray]) -> np.ndarray:
    """The (parent configurations x states) probability table of ``child``."""
    return fit_node(child, parents, kind, codes, encodings, z)[0]


def fit_node(child: int, parents: tuple[int, ...], kind: str, codes: np.ndarray,
             encodings: list[NodeEncoding], z: dict[int, np.ndarray],
             values: np.ndarray | None = None):
    """(table, latent): the table, and for a probit child its latent normal
    ``{"mu": per configuration, "sigma", "cum": the bins' edges as latent probabilities}``
    (else None). With the child's ``values``, a probit child is also fitted on its value
    scale (``fit_linear_probit``), kept when the data do not reject it."""
    enc = encodings[child]
    cfg, shape = config_index(codes, encodings, child, parents, kind)
    n_cfg = int(np.prod(shape)) if shape else 1
    y = codes[:, child]
    if enc.kind == "categorical":
        counts = np.bincount(cfg * enc.n_states + y, minlength=n_cfg * enc.n_states)
        return tie_levels(counts.reshape(n_cfg, enc.n_states), enc.parent_group), None
    observed = y != enc.missing_state if enc.missing_state >= 0 else np.ones(y.size, bool)
    latent = None
    if kind == PROBIT:
        fit = fit_probit(codes, encodings, z[child], child, parents)
        probs = fit.probs
        latent = {"mu": fit.mu, "sigma": fit.sigma, "cum": fit.cum}
        linear = fit_linear_probit(codes, encodings, values, child, parents) \
            if values is not None else None
        if linear is not None and _linear_is_consistent(linear, fit, codes, encodings, z,
                                                        child, parents):
            probs = linear.pop("probs")
            latent = {k: v for k, v in linear.items() if k != "loglik"}
    elif kind == TABLE:
        probs = smoothed_counts(y[observed], cfg[observed], n_cfg, enc.n_bins)
    else:
        raise ValueError(f"unknown table kind {kind!r}")
    if enc.missing_state < 0:
        return probs, latent
    p_missing = smoothed_counts((~observed).astype(np.int64), cfg, n_cfg, 2)[:, 1]
    return np.hstack([probs * (1.0 - p_missing)[:, None], p_missing[:, None]]), latent


def smoothed_counts(y, cfg, n_cfg, k) -> np.ndarray:
    """The smoothed table (``smoothed``) of the codes ``y`` (k states) per configuration."""
    return smoothed(np.bincount(cfg * k + y, minlength=n_cfg * k).reshape(n_cfg, k))


def smoothed(counts: np.ndarray) -> np.ndarray:
    """Rows of ``counts`` smoothed toward the column marginal (``PRIOR_ROWS`` pseudo rows)."""
    counts = counts.astype(np.float64)
    k = counts.shape[1]
    marginal = (counts.sum(axis=0) + 0.5) / (counts.sum() + 0.5 * k)
    table = counts + PRIOR_ROWS * marginal
    return table / table.sum(axis=1, keepdims=True)


def tie_levels(counts: np.ndarray, group: np.ndarray | None) -> np.ndarray:
    """A categorical child's smoothed table with its rare levels tied
    (``encoding.rare_pool``): P(level | parents) = P(its group | parents) x the level's
    share of its group over all rows (smoothed with half a row each, as the marginal)."""
    if group is None:
        return smoothed(counts)
    counts = counts.astype(np.float64)
    n_groups = int(group.max()) + 1
    by_group = np.zeros((counts.shape[0], n_groups))
    np.add.at(by_group.T, group, counts.T)
    level = counts.sum(axis=0) + 0.5
    share = level / np.bincount(group, weights=level, minlength=n_groups)[group]
    return smoothed(by_group)[:, group] * share[None, :]


def fit_within_bin(child: int, parents: tuple[int, ...], kind: str, codes: np.ndarray,
                   encodings: list[NodeEncoding], z: dict[int, np.ndarray], latent):
    """How a numeric child tracks its numeric parents *inside* the bins, or None.

    The tables only see a parent's bin; inside one bin the child would not follow the
    parent. So on the copula scale the child's normal score is regressed on each numeric
    parent's offset from its bin's mean score (``within_scores``), around the table's own
    centre per parent configuration (the probit mean, or for a count table the
    configuration's mean score): ``z = centre[cfg] + beta . offsets + N(0, sigma^2)``. The
    sampler draws the child's latent from that normal truncated to its sampled bin.
    Slopes the seed cannot tell from zero (``MIN_WITHIN_T``) are dropped; with none left the
    result is None. Returns ``{"parents", "beta", "sigma", "centre"}``.
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
    keep = np.ones(len(numeric), dtype=bool)
    for _ in range(2):      # fit, drop the slopes the seed cannot tell from 0, refit
        x = offsets[:, keep]
        beta = np.linalg.lstsq(x, residual, rcond=None)[0]
        sigma = float(np.sqrt(np.mean((residual - x @ beta) ** 2)))
        cov = np.linalg.pinv(x.T @ x) * max(sigma, MIN_WITHIN_SIGMA) ** 2
        t = np.abs(beta) / np.sqrt(np.maximum(np.diag(cov), 1e-300))
        if np.all(t >= MIN_WITHIN_T):
            break
        kept = np.flatnonzero(keep)
        keep[kept[t < MIN_WITHIN_T]] = False
        if not keep.any():
            return None
    return {"parents": np.array(numeric, dtype=np.int64)[keep],
            "beta": beta.astype(np.float64), "sigma": max(sigma, MIN_WITHIN_SIGMA),
            "centre": centre}


def within_scores(enc: NodeEncoding, states: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """A numeric node's normal score minus its bin's mean score (0 where missing)."""
    offset = scores - enc.bin_mean_score[states]
    return np.where(np.isnan(offset), 0.0, offset)


def _linear_is_consistent(linear, fit, codes, encodings, z, child, parents) -> bool:
    """Keep the value-scale probit when the data do not reject it against the copula
    probit: the copula's free thresholds always fit the seed's bin shares better, by about
    half a chi-square with (bins - 3) degrees of freedom when the value scale is right, so
    the value scale is kept unless twice the log-likelihood gap exceeds that chi-square's
    ``LINEAR_LEVEL`` quantile (a skewed or trending column is rejected; a linear one with a
    common spread is kept, and its tails no longer come from the seed's few tail rows)."""
    observed = ~np.isnan(z[child])
    cfg, _ = config_index(codes[observed], encodings, child, parents, PROBIT)
    copula = float(np.sum(np.log(np.maximum(fit.probs[cfg, codes[observed, child]], 1e-300))))
    return linear_is_consistent(copula, linear["loglik"], encodings[child].n_bins)


def linear_is_consistent(copula_loglik: float, linear_loglik: float, n_bins: int) -> bool:
    """The likelihood-ratio rule of ``_linear_is_consistent`` from the two log-likelihoods."""
    df = n_bins - 3
    return df > 0 and 2.0 * (copula_loglik - linear_loglik) <= 2 * half_chi2_quantile(df)


def half_chi2_quantile(df: int) -> float:
    """scipy.special.gammaincinv(df / 2, LINEAR_LEVEL), half the chi-square's quantile
    (scipy.stats.chi2.ppf without scipy.stats' ~1 s import): written down for the df a
    column's bins give, so the fit does not import scipy.special (0.16-0.26 s) for it."""
    from engine.model.chi2_quantiles import HALF_CHI2_QUANTILE, LEVEL

    if LEVEL == LINEAR_LEVEL and 1 <= df <= len(HALF_CHI2_QUANTILE):
        return HALF_CHI2_QUANTILE[df - 1]
    from scipy.special import gammaincinv   # a column of 68 bins or more

    return float(gammaincinv(df / 2, LINEAR_LEVEL))


def fit_linear_probit(codes, encodings, values, child, parents):
    """The probit on the child's *value* scale: (x - mean) / sd is N(mu(parents), sigma^2)
    and the bins' thresholds are the bin edges themselves, standardised.

    The copula probit places thresholds at the normal quantiles of the seed's bin shares,
    so its tails are the seed's few tail rows; for a column that is linear in its parents
    with a common spread (an intent score, a price), the value scale puts the tail where
    the regression on every row says it is. Two parameters (mean, spread) instead of one
    threshold per bin. Returns the table, the latent (``scale: "linear"``) and its
    log-likelihood of the seed's bins, or None when the column has no spread.
    """
    from engine.model._normal_kernels import ndtr  # scipy's doubles, no scipy

    enc = encodings[child]
    observed = ~np.isnan(values)
    x = values[observed]
    mean, sd = float(np.mean(x)), float(np.std(x))
    if sd <= 0 or enc.n_bins < 3:
        return None
    u = (x - mean) / sd
    cfg, shape = config_index(codes[observed], encodings, child, parents, PROBIT)
    n_cfg = int(np.prod(shape)) if shape else 1
    design = value_design(parents, encodings, shape)
    weight = np.bincount(cfg, minlength=n_cfg).astype(float)
    xtwx = design.T @ (weight[:, None] * design)
    xtwz = design.T @ np.bincount(cfg, weights=u, minlength=n_cfg)
    coef = np.linalg.lstsq(xtwx, xtwz, rcond=None)[0]
    rss = float(u @ u - 2 * coef @ xtwz + coef @ xtwx @ coef)
    sigma = max(np.sqrt(max(rss, 0.0) / max(u.size, 1)), MIN_SIGMA)
    mu = design @ coef
    thresholds = (enc.thresholds - mean) / sd
    edges = ndtr((thresholds[None, :] - mu[:, None]) / sigma)
    cdf = np.hstack([np.zeros((n_cfg, 1)), edges, np.ones((n_cfg, 1))])
    probs = np.maximum(np.diff(cdf, axis=1), 1e-300)
    probs /= probs.sum(axis=1, keepdims=True)
    bins = codes[observed, child]
    loglik = float(np.sum(np.log(probs[cfg, bins])))
    return {"probs": probs, "mu": mu, "sigma": float(sigma), "loglik": loglik,
            "cum": np.concatenate([[0.0], ndtr(thresholds), [1.0]]),
            "scale": "linear", "mean": mean, "sd": sd}


def value_design(parents, encodings, shape) -> np.ndarray:
    """``config_design`` on the value scale: a numeric parent enters through its bins'
    mean values (standardised), so a child linear in the parent's value is linear here."""
    if not parents:
        return np.ones((1, 1))
    grids = np.indices(shape).reshape(len(shape), -1)
    blocks = [np.ones((grids.shape[1], 1))]
    for slot, p in enumerate(parents):
        enc = encodings[p]
        if enc.kind == "categorical":
            features = parent_features(enc)
        else:
            features = bin_mean_values(enc)[:, None]
            if enc.missing_state >= 0:
                indicator = np.zeros((enc.n_states, 1))
                indicator[enc.missing_state] = 1.0
                features = np.hstack([features, indicator])
        blocks.append(features[grids[slot]])
    return np.hstack(blocks)


def bin_mean_values(enc: NodeEncoding) -> np.ndarray:
    """Each bin's mean value under its within-bin CDF, standardised over the bins' shares
    (0 for the missing state)."""
    means = np.empty(enc.n_bins)
    for b in range(enc.n_bins):
        m = int(enc.n_knots[b])
        xs, cs = enc.knot_x[b, :m], enc.knot_c[b, :m]
        means[b] = xs[0] if m == 1 else float(np.sum(np.diff(cs) * (xs[1:] + xs[:-1]) / 2.0)
                                              + cs[0] * xs[0])
    share = np.diff(enc.bin_cum)
    centre = float(share @ means)
    spread = float(np.sqrt(share @ (means - centre) ** 2)) or 1.0
    out = (means - centre) / spread
    return np.append(out, 0.0) if enc.missing_state >= 0 else out


def latent_scores(latent, values: np.ndarray, rank_scores: np.ndarray) -> np.ndarray:
    """A child's scores on its latent's scale (value scale for a linear probit)."""
    if latent is not None and latent.get("scale") == "linear":
        return (values - latent["mean"]) / latent["sd"]
    return rank_scores
