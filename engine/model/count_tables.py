"""Conditional probability tables from family counts (the second pass of the fit).

The same tables ``parameters.fit_node`` builds from rows, built from the counts
``statistics`` gathers, so a fit over merged partitions gives identical tables: a count
table smoothed toward the child's marginal with ``parameters.PRIOR_ROWS`` pseudo rows, or
a numeric child's ordered-probit table (``scores.probit_from_counts``), with its
missingness smoothed per parent configuration.
"""

from __future__ import annotations

import numpy as np

from engine.model.parameters import linear_is_consistent, smoothed, tie_levels
from engine.model.probit import probit_from_counts
from engine.model.scores import PROBIT, TABLE


def fit_node_from_counts(child: int, parents: tuple[int, ...], kind: str, scorer, encodings,
                         linear=None):
    """(table, latent) of ``child``: the (configurations x states) table, and for a probit
    child its latent normal ``{"mu", "sigma", "cum"}`` (else None). ``linear``: a callable
    giving the value-scale probit from the observed-bin counts
    (``detail_moments.linear_probit``); it replaces the copula probit unless the
    likelihood-ratio test rejects it (``parameters.linear_is_consistent``)."""
    enc = encodings[child]
    counts = scorer.counts(child, parents, kind)
    if enc.kind == "categorical":
        return tie_levels(counts, enc.parent_group), None
    observed = counts[:, :enc.n_bins]
    latent = None
    if kind == PROBIT:
        fit = probit_from_counts(observed, parents, encodings, enc)
        probs = fit.probs
        latent = {"mu": fit.mu, "sigma": fit.sigma, "cum": fit.cum}
        alternative = linear(observed) if linear is not None else None
        if alternative is not None and linear_is_consistent(
                _loglik(fit.probs, observed), alternative["loglik"], enc.n_bins):
            probs = alternative["probs"]
            latent = {k: v for k, v in alternative.items() if k not in ("probs", "loglik")}
    elif kind == TABLE:
        probs = smoothed(observed)
    else:
        raise ValueError(f"unknown table kind {kind!r}")
    if enc.missing_state < 0:
        return probs, latent
    seen = np.column_stack([observed.sum(axis=1), counts[:, enc.missing_state]])
    p_missing = smoothed(seen)[:, 1]
    return np.hstack([probs * (1.0 - p_missing)[:, None], p_missing[:, None]]), latent


def _loglik(probs: np.ndarray, observed: np.ndarray) -> float:
    """Log-likelihood of the observed-bin counts under a table."""
    used = observed > 0
    return float(np.sum(observed[used] * np.log(np.maximum(probs[used], 1e-300))))
