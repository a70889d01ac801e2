"""numba kernels for the per-node row work of the numeric decode (issue 18): each row's
parent configuration (``_kernels._row_configs``, shared with the discrete draw), a
tracking node's latent mean and a decoded node's normal scores.

They replace numpy passes that built a temporary per step (a fancy index per parent, the
within-bin offsets, the clip and quantile of the scores): one pass over the rows each, the
same float operations in the same order, so the doubles are identical. Same rules as
``_kernels``: arrays in, arrays out, no RNG, a naive reference in
``tests/engine/sampling/naive.py``.
"""

from __future__ import annotations

import math

import numpy as np

from engine._numba import kernel
from engine.sampling._kernels import _ndtri, _row_configs  # noqa: F401 (tilt, tests)


@kernel
def _within_means(codes, config, centre, parents, beta, use, score_cols, scores, bin_mean,
                  out):
    """A tracking node's latent mean per row: ``centre[config[i]]`` plus, over the parents
    with ``use``, beta times the parent's normal score minus its bin's mean score (0 where
    the score is missing), summed in the parents' order from 0.

    Parameters
    ----------
    codes : int64[n, d]         states; parent p's bin is ``codes[i, parents[p]]``
    config : int64[n]           each row's configuration (``_row_configs``)
    centre : float64[n_configs]
    parents : int64[P]; beta : float64[P]; use : bool[P]  (a parent left out, or not
                                decoded yet, adds nothing)
    score_cols : int64[P]       parent p's column of ``scores`` (float64[n, S])
    bin_mean : float64[P, M]    parent p's ``bin_mean_score`` (missing state included)
    out : float64[n]
    """
    n = codes.shape[0]
    for i in range(n):
        shift = 0.0
        for p in range(parents.shape[0]):
            if not use[p]:
                continue
            offset = scores[i, score_cols[p]] - bin_mean[p, codes[i, parents[p]]]
            if math.isnan(offset):
                offset = 0.0
            shift += beta[p] * offset
        out[i] = centre[config[i]] + shift


@kernel
def _level_scores(codes, missing_state, cum, levels, out):
    """Each row's normal score: ``_ndtri`` of the copula-scale point of its within-bin
    level (``cum[b] + level * (cum[b + 1] - cum[b])``, clipped to [0, 1]), clipped to
    [-8.5, 8.5]; NaN where the state is missing or the level is NaN."""
    n_bins = cum.shape[0] - 1
    for i in range(codes.shape[0]):
        state = codes[i]
        if state == missing_state:
            out[i] = np.nan
            continue
        b = min(state, n_bins - 1)
        p = cum[b] + levels[i] * (cum[b + 1] - cum[b])
        if math.isnan(p):
            out[i] = np.nan
            continue
        z = _ndtri(min(max(p, 0.0), 1.0))
        out[i] = min(max(z, -8.5), 8.5)
