"""numba kernel of the ordered probit's likelihood: the normal mass of every observed cell.

Small and private, as ``_count_kernels``: arrays in, a preallocated output filled. The
normal CDF is the sampling kernels' ``_ndtr`` (Cephes: scipy.special.ndtr's doubles bit
for bit, tests/engine/test_normal.py), and every other operation is the one numpy did
before (a sum of the parents' effects in parent order, a difference, a division), so
the masses, and the scores the search compares, are the same doubles.
"""

from __future__ import annotations

from engine._numba import kernel
from engine.sampling._kernels import _ndtr


@kernel
def cell_masses(states, effect, effect_offset, intercept, edges, bins, sigma, out):
    """out[i] = ndtr((edges[bins[i] + 1] - mu_i) / sigma) - ndtr((edges[bins[i]] - mu_i) /
    sigma), mu_i = intercept + effect[effect_offset[a] + states[a, i]] over parents a in
    order. Cells come sorted by configuration, then bin: a cell's lower edge is often the
    previous cell's upper one, bit for bit, and its CDF is then not evaluated again."""
    prev_upper = 0.0
    prev_high = 0.0
    for i in range(bins.shape[0]):
        mu = intercept
        for a in range(states.shape[0]):
            mu = mu + effect[effect_offset[a] + states[a, i]]
        lower = (edges[bins[i]] - mu) / sigma
        upper = (edges[bins[i] + 1] - mu) / sigma
        low = prev_high if i > 0 and lower == prev_upper else _ndtr(lower)
        high = _ndtr(upper)
        out[i] = high - low
        prev_upper, prev_high = upper, high
