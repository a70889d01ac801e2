"""The per-node row kernels of the numeric decode (issue 18, ``_node_kernels``) against
their naive references: random inputs, fixed seeds; missing states, NaN scores, parents
left out and levels at 0 and 1 forced in."""

from __future__ import annotations

import numpy as np
import pytest

from engine.sampling._node_kernels import _level_scores, _row_configs, _within_means
from tests.engine.sampling import naive


def _parents_case(rng):
    """A node with 0..3 parents among 5 nodes, each parent's codes mapped onto fewer
    states, in ``kernel_tables``' layout (flat maps, offsets, strides) and naturally."""
    d, n = 5, 300
    node = 4
    parents = [int(p) for p in rng.choice(4, size=int(rng.integers(0, 4)), replace=False)]
    n_codes = rng.integers(1, 7, size=d)
    codes = np.column_stack([rng.integers(0, k, n) for k in n_codes]).astype(np.int64)
    maps = [rng.integers(0, 3, size=int(n_codes[p])).astype(np.int64) for p in parents]
    cards = [int(m.max()) + 1 for m in maps]
    width = max(len(parents), 1)
    index, offset, stride = (np.zeros((d, width), dtype=np.int64) for _ in range(3))
    used = 0
    for s, p in enumerate(parents):
        index[node, s], offset[node, s] = p, used
        stride[node, s] = int(np.prod(cards[s + 1:])) if s + 1 < len(cards) else 1
        used += maps[s].size
    n_parents = np.zeros(d, dtype=np.int64)
    n_parents[node] = len(parents)
    flat = np.concatenate(maps) if maps else np.zeros(1, dtype=np.int64)
    return codes, node, parents, maps, cards, (n_parents, index, offset, flat, stride)


@pytest.mark.parametrize("seed", range(20))
def test_row_configs_match_naive(seed):
    codes, node, parents, maps, cards, tables = _parents_case(np.random.default_rng(seed))
    out = np.full(codes.shape[0], -1, dtype=np.int64)
    _row_configs(np.asfortranarray(codes), node, *tables, out)
    np.testing.assert_array_equal(out, naive.row_configs(codes, parents, maps, cards))


@pytest.mark.parametrize("seed", range(20))
def test_within_means_match_naive(seed):
    rng = np.random.default_rng(100 + seed)
    n, d, n_configs = 300, 6, int(rng.integers(1, 9))
    parents = rng.choice(d, size=int(rng.integers(0, 4)), replace=False).astype(np.int64)
    n_bins = rng.integers(1, 6, size=d)
    codes = np.column_stack([rng.integers(0, k + 1, n) for k in n_bins]).astype(np.int64)
    scores = rng.normal(0.0, 1.5, (n, d))
    scores[rng.random((n, d)) < 0.1] = np.nan            # missing parents: no shift
    bin_means = [rng.normal(0.0, 1.0, int(n_bins[p]) + 1) for p in parents]
    bin_mean = np.zeros((parents.size, int(n_bins.max()) + 1))
    for k, m in enumerate(bin_means):
        bin_mean[k, :m.size] = m
    beta = rng.normal(0.0, 1.0, parents.size)
    use = rng.random(parents.size) < 0.7
    config = rng.integers(0, n_configs, n).astype(np.int64)
    centre = rng.normal(0.0, 2.0, n_configs)
    matrix = np.asfortranarray(scores[:, ::-1])          # parent p is column d - 1 - p
    cols = (d - 1 - parents).astype(np.int64)
    out = np.empty(n)
    _within_means(np.asfortranarray(codes), config, centre, parents, beta, use, cols, matrix,
                  bin_mean, out)
    expected = naive.within_means(codes, config, centre, parents, beta, use,
                                  [scores[:, p] for p in parents], bin_means)
    np.testing.assert_array_equal(out, expected)


@pytest.mark.parametrize("seed", range(10))
def test_level_scores_match_scipy(seed):
    rng = np.random.default_rng(200 + seed)
    n_bins, n = int(rng.integers(1, 30)), 2000
    missing_state = n_bins if seed % 2 else -1
    shares = rng.dirichlet(np.ones(n_bins) * 0.3)
    cum = np.concatenate([[0.0], np.cumsum(shares)])
    cum[-1] = 1.0
    codes = rng.integers(0, n_bins + (missing_state >= 0), n).astype(np.int64)
    levels = rng.random(n)
    levels[:4] = [0.0, 1.0, np.nan, 1e-300]
    codes[:2] = [0, n_bins - 1]                    # the copula scale's ends: -8.5, 8.5
    out = np.empty(n)
    _level_scores(codes, missing_state, cum, levels, out)
    expected = naive.level_scores(codes, missing_state, cum, levels)
    np.testing.assert_array_equal(np.isnan(out), np.isnan(expected))
    # AS 241 is within a few ulps of scipy's quantile; scores stay within 8.5
    np.testing.assert_allclose(out, expected, rtol=1e-14, atol=1e-14)
    assert out[0] == -8.5 and out[1] == 8.5
