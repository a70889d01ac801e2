"""The throughput kernels (issue 18) against the per-row computation they replace.

``_latent_values_per_bin`` (by configuration, and with per-row means) must give the very same
doubles as the row-by-row loop the sampler ran before (``per_row_reference``: two normal
quantiles for the slice's edges, the truncated normal and a CDF per row, written out here
in Python over the kernels' own scalar functions; the kernel as a whole is checked against
scipy in test_kernels.py): same operations, only computed once per bin or (configuration,
bin) instead of once per row. Random inputs, fixed seeds, far tails and empty and narrowed
bins forced in.
"""

from __future__ import annotations

import numpy as np
import pytest

from engine.sampling import _kernels as K
from engine.sampling._kernels import _bin_edge_scores
from engine.sampling._latent_kernels import _latent_values_per_bin, _within_bin_latent_values
from tests.engine.sampling.test_kernels import random_bounds, random_knots


def _case(seed: int):
    rng = np.random.default_rng(7000 + seed)
    knot_x, knot_c, n_knots = random_knots(rng)
    n_bins = n_knots.size
    missing_state = n_bins if seed % 2 else -1
    n = 400
    codes = rng.integers(0, n_bins + (missing_state >= 0), n).astype(np.int64)
    shares = rng.dirichlet(np.ones(n_bins))
    if seed % 5 == 0 and n_bins > 1:
        shares[0] = 0.0                       # an empty bin: width 0 keeps the plain level
        shares /= shares.sum()
    cum = np.concatenate([[0.0], np.cumsum(shares)])
    cum[-1] = 1.0
    n_configs = int(rng.integers(1, 9))
    # some configurations 40 spreads out: the truncated mass underflows (exponential edge)
    mu = rng.normal(0.0, 1.5, n_configs) * np.where(rng.random(n_configs) < 0.2, 30.0, 1.0)
    config = rng.integers(0, n_configs, n).astype(np.int64)
    sigma = float(rng.choice([0.05, 0.3, 1.0, 2.0]))
    lo, hi = random_bounds(rng, n_bins)
    u = rng.random(n)
    u[:3] = [0.0, np.nextafter(1.0, 0.0), 0.5]
    return (codes, config, mu, missing_state, sigma, cum, knot_x, knot_c, n_knots, lo, hi,
            u, bool(seed % 3 == 0))


def per_row_reference(codes, mean, missing_state, sigma, cum, knot_x, knot_c, n_knots, lo,
                      hi, u, integer):
    """The pre-issue-18 per-row latent draw, row by row."""
    out, levels = np.empty(codes.size), np.empty(codes.size)
    for i, b in enumerate(codes):
        if b == missing_state:
            out[i] = levels[i] = np.nan
            continue
        width = cum[b + 1] - cum[b]
        q = lo[b] + u[i] * (hi[b] - lo[b])
        if width > 0.0 and hi[b] > lo[b]:
            a = (K._ndtri(cum[b] + lo[b] * width) - mean[i]) / sigma
            c = (K._ndtri(cum[b] + hi[b] * width) - mean[i]) / sigma
            s = K._truncated_normal(a, c, u[i])
            level = (K._ndtr(mean[i] + sigma * s) - cum[b]) / width
            q = min(max(level, lo[b]), hi[b])
        levels[i] = q
        x = _bin_value(knot_x, knot_c, n_knots, b, q)
        out[i] = np.floor(x + 0.5) if integer else x
    return out, levels


def _bin_value(knot_x, knot_c, n_knots, b, q):
    """Bin b's value at level q: the last segment whose left knot is at most q (0 if
    none), by the bisection the kernels ran before issue 18's count over the knots."""
    m = int(n_knots[b])
    if m == 1:
        return knot_x[b, 0]
    lo, size = 0, m - 1
    while size > 1:
        half = size >> 1
        lo = lo + half if knot_c[b, lo + half] <= q else lo
        size -= half
    c0, c1 = knot_c[b, lo], knot_c[b, lo + 1]
    if c1 > c0:
        return knot_x[b, lo] + (q - c0) / (c1 - c0) * (knot_x[b, lo + 1] - knot_x[b, lo])
    return knot_x[b, lo + 1]


def _reference(*args):
    ref = per_row_reference(*args)
    out, levels = np.full(args[0].size, -1.0), np.full(args[0].size, -1.0)
    _within_bin_latent_values(*args, out, levels)          # the wrapper: the same numbers
    np.testing.assert_array_equal(out, ref[0])
    np.testing.assert_array_equal(levels, ref[1])
    return ref


def _edges(cum, lo, hi):
    z_lo, z_hi = np.empty(lo.size), np.empty(lo.size)
    _bin_edge_scores(cum, lo, hi, z_lo, z_hi)
    return z_lo, z_hi


@pytest.mark.parametrize("seed", range(40))
def test_latent_values_by_config_are_the_per_row_draw_bit_for_bit(seed):
    codes, config, mu, ms, sigma, cum, kx, kc, nk, lo, hi, u, integer = _case(seed)
    ref, ref_levels = _reference(codes, mu[config], ms, sigma, cum, kx, kc, nk, lo, hi, u,
                                 integer)
    memo_done = np.zeros(mu.size * lo.size, dtype=np.bool_)
    out, levels = np.full(codes.size, -1.0), np.full(codes.size, -1.0)
    _latent_values_per_bin(codes, np.empty(0), config, mu, memo_done,
                           np.empty((memo_done.size, 4)), ms, sigma, cum, *_edges(cum, lo, hi),
                           kx, kc, nk, lo, hi, u, integer, out, levels)
    np.testing.assert_array_equal(out, ref)          # NaN == NaN for assert_array_equal
    np.testing.assert_array_equal(levels, ref_levels)
    assert memo_done.sum() <= len({(c, b) for c, b in zip(config, codes)})


@pytest.mark.parametrize("seed", range(40))
def test_latent_values_with_row_means_are_the_per_row_draw_bit_for_bit(seed):
    codes, config, mu, ms, sigma, cum, kx, kc, nk, lo, hi, u, integer = _case(seed)
    mean = mu[config] + np.random.default_rng(seed).normal(0.0, 0.7, codes.size)
    ref, ref_levels = _reference(codes, mean, ms, sigma, cum, kx, kc, nk, lo, hi, u, integer)
    out, levels = np.full(codes.size, -1.0), np.full(codes.size, -1.0)
    _latent_values_per_bin(codes, mean, np.empty(0, dtype=np.int64), np.empty(0),
                           np.empty(0, dtype=np.bool_), np.empty((0, 4)), ms, sigma, cum,
                           *_edges(cum, lo, hi), kx, kc, nk, lo, hi, u, integer, out, levels)
    np.testing.assert_array_equal(out, ref)
    np.testing.assert_array_equal(levels, ref_levels)


def test_bin_inversion_without_inner_knots():
    """Bins of one knot (a point mass) and two (one segment) only: ``_segment_keys`` has
    no column, every count is 0. 300 rows: the inversion's 128-row steps and a partial
    one, missing rows among them."""
    from engine.sampling._kernels import _within_bin_values
    from tests.engine.sampling import naive
    knot_x = np.array([[1.0, 1.0], [2.0, 3.0]])
    knot_c = np.array([[1.0, 1.0], [0.0, 1.0]])
    n_knots = np.array([1, 2], dtype=np.int64)
    rng = np.random.default_rng(5)
    codes = rng.integers(0, 3, 300).astype(np.int64)          # 2 is the missing state
    u = rng.random(300)
    lo, hi = np.zeros(2), np.ones(2)
    out = np.empty(300)
    _within_bin_values(codes, 2, knot_x, knot_c, n_knots, lo, hi, u, False, out)
    np.testing.assert_array_equal(out, naive.within_bin_values(codes, 2, knot_x, knot_c,
                                                                n_knots, lo, hi, u, False))
    np.testing.assert_array_equal(out[codes == 1], 2.0 + u[codes == 1])
