"""The throughput kernels (issue 18) against the per-row kernel they replace.

``_latent_values_by_config`` and ``_latent_values_with_edges`` must give the very same
doubles as ``_within_bin_latent_values`` (itself checked against the naive reference in
test_kernels.py): same operations, only computed once per bin or (configuration, bin)
instead of once per row. Random inputs, fixed seeds, far tails and narrowed bins forced in.
"""

from __future__ import annotations

import numpy as np
import pytest

from engine.sampling._kernels import (_bin_edge_scores, _latent_values_by_config,
                                      _latent_values_with_edges, _within_bin_latent_values)
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


def _reference(codes, mean, missing_state, sigma, cum, knot_x, knot_c, n_knots, lo, hi, u,
               integer):
    out, levels = np.full(codes.size, -1.0), np.full(codes.size, -1.0)
    _within_bin_latent_values(codes, mean, missing_state, sigma, cum, knot_x, knot_c, n_knots,
                              lo, hi, u, integer, out, levels)
    return out, levels


def _edges(cum, lo, hi):
    z_lo, z_hi = np.empty(lo.size), np.empty(lo.size)
    _bin_edge_scores(cum, lo, hi, z_lo, z_hi)
    return z_lo, z_hi


@pytest.mark.parametrize("seed", range(40))
def test_latent_values_by_config_is_the_per_row_kernel_bit_for_bit(seed):
    codes, config, mu, ms, sigma, cum, kx, kc, nk, lo, hi, u, integer = _case(seed)
    ref, ref_levels = _reference(codes, mu[config], ms, sigma, cum, kx, kc, nk, lo, hi, u,
                                 integer)
    z_lo, z_hi = _edges(cum, lo, hi)
    memo_done = np.zeros(mu.size * lo.size, dtype=np.bool_)
    memo = np.empty((memo_done.size, 4))
    out, levels = np.full(codes.size, -1.0), np.full(codes.size, -1.0)
    _latent_values_by_config(codes, config, mu, ms, sigma, cum, z_lo, z_hi, kx, kc, nk, lo, hi,
                             u, integer, memo_done, memo, out, levels)
    np.testing.assert_array_equal(out, ref)          # NaN == NaN for assert_array_equal
    np.testing.assert_array_equal(levels, ref_levels)
    assert memo_done.sum() <= len({(c, b) for c, b in zip(config, codes)})


@pytest.mark.parametrize("seed", range(40))
def test_latent_values_with_edges_is_the_per_row_kernel_bit_for_bit(seed):
    codes, config, mu, ms, sigma, cum, kx, kc, nk, lo, hi, u, integer = _case(seed)
    mean = mu[config] + np.random.default_rng(seed).normal(0.0, 0.7, codes.size)
    ref, ref_levels = _reference(codes, mean, ms, sigma, cum, kx, kc, nk, lo, hi, u, integer)
    out, levels = np.full(codes.size, -1.0), np.full(codes.size, -1.0)
    _latent_values_with_edges(codes, mean, ms, sigma, cum, *_edges(cum, lo, hi), kx, kc, nk,
                              lo, hi, u, integer, out, levels)
    np.testing.assert_array_equal(out, ref)
    np.testing.assert_array_equal(levels, ref_levels)
