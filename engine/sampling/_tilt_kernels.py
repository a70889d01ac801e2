"""numba kernel: the within-bin position of a latent numeric node tilted towards its
tracking children's bins (issue 11, strong pairs). Kept apart from ``_kernels`` (the
sampling output path) so the two can change independently; same rules: arrays in, arrays
out, no RNG, a naive reference in ``tests/engine/sampling/naive.py``.
"""

from __future__ import annotations

import numpy as np

from engine._numba import kernel
from engine.sampling._kernels import (
    _TINY_MASS, _ndtr, _ndtri, _pick_weighted_cell, _truncated_normal,
)


@kernel
def _tilted_latent_levels(codes, missing_state, mean, sigma, cum, cell_z, tilt_bin, grid_z,
                          grid_level, child_codes, child_mean, child_beta, child_sigma, child_edges,
                          uniforms, level_out):
    """Within-bin levels of a latent (probit or tracking) numeric node that numeric
    children track inside the bins.

    ``_kernels._tilted_levels`` does this for a plain node, whose within-bin distribution
    is its marginal; here cell g of the bin's G cells (``grid_level``) has the node's own
    latent mass, N(mean[i], sigma) on its latent scale, times the children's likelihood
    P(child bin | z_g) as there. The uniform picks a cell by those weights and its
    remainder places the latent inside the cell (truncated normal), so without informative
    children this is ``_within_bin_latent_values``' draw.

    Parameters
    ----------
    codes : int64[n]            this node's bin (``missing_state``: missing)
    mean : float64[n]           each row's latent mean; ``sigma``: its spread
    cum : float64[B + 1]        the bins' edges on the latent scale (cumulative shares)
    cell_z : float64[B, G + 1]  the cells' edges on the latent scale,
                                ndtri(cum[b] + grid_level[b, g] * (cum[b + 1] - cum[b]))
                                (a function of the bin alone: computed once, not per row)
    tilt_bin : bool[B]          bins wide enough for the children to say where in them
                                the node lies; in the others the plain latent draw
    grid_z, grid_level, child_codes, child_mean, child_beta, child_sigma, child_edges,
    uniforms, level_out         as in ``_kernels._tilted_levels``
    """
    n = codes.shape[0]
    g_cells = grid_level.shape[1] - 1
    n_children = child_codes.shape[1]
    weights = np.empty(g_cells)
    t = np.empty(g_cells + 1)
    tail = np.empty(g_cells + 1)      # P(Z < t) for t <= 0, P(Z > t) above: no 1 - 1
    child_cdf = np.empty((2, g_cells, n_children))     # see _child_cdfs
    for i in range(n):
        b = codes[i]
        if b == missing_state:
            level_out[i] = np.nan
            continue
        u = uniforms[i]
        width = cum[b + 1] - cum[b]
        first, last = grid_level[b, 0], grid_level[b, g_cells]
        if not (width > 0.0 and last > first):
            level_out[i] = first + u * (last - first)
            continue
        m = mean[i]
        if not tilt_bin[b]:
            lo = (cell_z[b, 0] - m) / sigma
            hi = (cell_z[b, g_cells] - m) / sigma
            if hi > lo:
                level = (_ndtr(m + sigma * _truncated_normal(lo, hi, u)) - cum[b]) / width
            else:
                level = first + u * (last - first)
            level_out[i] = min(max(level, first), last)
            continue
        for g in range(g_cells + 1):
            t[g] = (cell_z[b, g] - m) / sigma
            tail[g] = t[g] if t[g] <= 0.0 else -t[g]
        _ndtr_in_place(tail)
        _child_cdfs(child_codes[i], child_mean[i], child_beta, child_sigma, child_edges,
                    grid_z[b], child_cdf)
        total = 0.0
        for g in range(g_cells):
            if t[g] > 0.0:
                w = tail[g] - tail[g + 1]
            elif t[g + 1] <= 0.0:
                w = tail[g + 1] - tail[g]
            else:
                w = 1.0 - tail[g] - tail[g + 1]
            for k in range(n_children):
                cb = child_codes[i, k]
                if cb < 0 or w <= _TINY_MASS:
                    continue
                w *= child_cdf[0, g, k] - child_cdf[1, g, k]
            # a weight this small is rounding, not evidence (tails 38 spreads out)
            weights[g] = w if w > _TINY_MASS else 0.0
            total += weights[g]
        if total <= 0.0:      # far in a tail of the latent, or no cell explains the
            lo, hi = t[0], t[g_cells]                       # children: the plain draw
            r = u
        else:
            chosen, r = _pick_weighted_cell(weights, g_cells, u * total)
            lo, hi = t[chosen], t[chosen + 1]
            first, last = grid_level[b, chosen], grid_level[b, chosen + 1]
        if hi > lo:
            level = (_ndtr(m + sigma * _truncated_normal(lo, hi, r)) - cum[b]) / width
        else:
            level = first + r * (last - first)
        level_out[i] = min(max(level, first), last)


@kernel
def _ndtr_in_place(x):
    """``x[:] = _ndtr(x)``: a loop of independent CDFs, several in flight at once."""
    for g in range(x.shape[0]):
        x[g] = _ndtr(x[g])


@kernel
def _child_cdfs(codes, mean, beta, sigma, edges, grid_z, out):
    """For each cell g and child k, two normal CDFs whose difference is the probability
    of the child's bin given the cell (``out[0, g, k] - out[1, g, k]``, from the nearer
    tail so it keeps its digits; a missing child's are of bin 0 and unused). All of a row's arguments first, then the CDFs in two plain
    loops: computed mass by mass, each one's branches and division held up the next (10%
    of this kernel on the 120-column benchmark model; the same doubles)."""
    g_cells, n_children = out.shape[1], out.shape[2]
    for g in range(g_cells):
        for k in range(n_children):
            cb = max(codes[k], 0)
            cm = mean[k] + beta[k] * grid_z[g]
            lo = (edges[k, cb] - cm) / sigma[k]
            hi = (edges[k, cb + 1] - cm) / sigma[k]
            out[0, g, k], out[1, g, k] = (-lo, -hi) if lo > 0.0 else (hi, lo)
    for g in range(g_cells):
        for k in range(n_children):
            out[0, g, k] = _ndtr(out[0, g, k])
    for g in range(g_cells):
        for k in range(n_children):
            out[1, g, k] = _ndtr(out[1, g, k])
