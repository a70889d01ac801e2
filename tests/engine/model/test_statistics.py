"""Sufficient statistics: the count kernels against naive references, compact codes, and
the merge property (counts over partitions add up to the whole table's, and so does the
fitted model: its count-built parts byte for byte, issue 11's within-bin regressions to
rounding)."""

from __future__ import annotations

import numpy as np
import pytest

from engine.model import _count_kernels, statistics
from engine.model.network import BayesianNetworkModel
from tests.engine import fixtures


def random_columns(rng, n_rows, n_states):
    return np.stack([rng.integers(0, s, n_rows) for s in n_states]).astype(np.uint8)


def test_family_counts_and_keys_match_a_naive_count():
    # more rows than two of the kernels' blocks, the last one partial
    n_rows = 2 * _count_kernels.BLOCK_ROWS + 123
    rng = np.random.default_rng(0)
    n_states = [3, 5, 4, 6]
    columns = random_columns(rng, n_rows, n_states)
    maps = [np.array([0, 1, 1]), np.arange(5), np.array([2, 0, 1, 0])]   # parents 0, 1, 2
    sizes = [2, 5, 3]
    table = statistics.TableCounts(columns, n_states)
    got = table.family(3, (0, 1, 2), maps, sizes)
    want = np.zeros((2 * 5 * 3, 6), dtype=np.int64)
    want_keys = np.empty(n_rows, dtype=np.int64)
    for i in range(n_rows):
        cfg = (maps[0][columns[0, i]] * 5 + maps[1][columns[1, i]]) * 3 + maps[2][columns[2, i]]
        want[cfg, columns[3, i]] += 1
        want_keys[i] = cfg * 6 + columns[3, i]
    assert np.array_equal(got, want)
    keys = np.empty(n_rows, dtype=np.int64)
    _count_kernels.family_keys(columns, 3, *statistics._layout((0, 1, 2), maps, sizes), 6, keys)
    assert np.array_equal(keys, want_keys)


def test_family_counts_without_parents_are_the_marginal():
    rng = np.random.default_rng(1)
    columns = random_columns(rng, 300, [4, 7])
    got = statistics.TableCounts(columns, [4, 7]).family(1, (), [], [])
    assert np.array_equal(got, np.bincount(columns[1], minlength=7)[None, :])


def test_pair_counts_match_a_naive_count():
    rng = np.random.default_rng(2)
    n_states = [3, 5, 4]
    columns = random_columns(rng, 400, n_states)
    tables = statistics.TableCounts(columns, n_states).pairs(0, [1, 2])
    for b, table in zip((1, 2), tables):
        want = np.zeros((3, n_states[b]), dtype=np.int64)
        np.add.at(want, (columns[0].astype(int), columns[b].astype(int)), 1)
        assert np.array_equal(table, want)


def test_kernels_only_add_to_their_output():
    columns = np.zeros((2, 10), dtype=np.uint8)
    out = np.full(4, 5, dtype=np.int64)
    _count_kernels.family_counts(columns, 1, np.array([0]), np.arange(2), np.zeros(1, np.int64),
                                 np.ones(1, np.int64), 2, out,
                                 np.empty(_count_kernels.BLOCK_ROWS, np.int64))
    assert out.tolist() == [15, 5, 5, 5]


@pytest.mark.parametrize(("max_states", "dtype"), [(2, np.uint8), (256, np.uint8),
                                                   (257, np.uint16), (70_000, np.uint32)])
def test_codes_use_the_narrowest_dtype(max_states, dtype):
    assert statistics.code_dtype(max_states) == dtype


def test_counts_over_partitions_add_up_to_the_whole_table():
    rng = np.random.default_rng(3)
    n_states = [3, 5, 4, 6]
    columns = random_columns(rng, 1003, n_states)
    whole = statistics.TableCounts(columns, n_states)
    parts = statistics.split_rows(columns, n_states, 4)
    assert parts.n_rows == whole.n_rows and len(parts.parts) == 4
    maps, sizes = [np.arange(3), np.array([0, 0, 1, 1, 2])], [3, 3]
    assert np.array_equal(parts.family(3, (0, 1), maps, sizes),
                          whole.family(3, (0, 1), maps, sizes))
    for a, b in zip(parts.pairs(1, [2, 3]), whole.pairs(1, [2, 3])):
        assert np.array_equal(a, b)


def assert_same_model(a: BayesianNetworkModel, b: BayesianNetworkModel):
    assert a.parents_ == b.parents_
    assert a.kinds_ == b.kinds_
    for ta, tb in zip(a.tables_, b.tables_):
        assert ta.tobytes() == tb.tobytes()
    for la, lb in zip(a.latents_, b.latents_):
        assert (la is None) == (lb is None)
        if la is not None:
            assert la["mu"].tobytes() == lb["mu"].tobytes() and la["sigma"] == lb["sigma"]
    # issue 11's within-bin regressions come from float sums added over the blocks: equal
    # to rounding, not byte for byte (test_detail_moments.py)
    for wa, wb in zip(a.within_, b.within_):
        assert (wa is None) == (wb is None)
        if wa is not None:
            np.testing.assert_allclose(wb["beta"], wa["beta"], rtol=1e-9, atol=1e-12)
            assert wb["sigma"] == pytest.approx(wa["sigma"], rel=1e-9)


@pytest.mark.parametrize("seed", [fixtures.quickstart, fixtures.quickstart_with_missing])
def test_a_fit_over_four_partitions_is_the_fit_over_the_whole_table(seed):
    frame, schema = fixtures.cleaned(seed())
    whole = BayesianNetworkModel().fit(frame, schema)
    merged = BayesianNetworkModel().fit(frame, schema, partitions=4)
    assert whole.edges                      # a model with structure, not a trivial one
    assert_same_model(whole, merged)


def test_sparse_and_dense_family_cells_agree_and_merge(monkeypatch):
    rng = np.random.default_rng(4)
    n_states = [30, 40, 20, 5]
    columns = random_columns(rng, 700, n_states)
    maps, sizes = [np.arange(30), np.arange(40), np.arange(20)], [30, 40, 20]
    whole = statistics.TableCounts(columns, n_states)
    dense = whole.family(3, (0, 1, 2), maps, sizes).reshape(-1)
    keys, counts = whole.family_cells(3, (0, 1, 2), maps, sizes)    # 120k cells: sparse
    assert np.array_equal(keys, np.flatnonzero(dense)) and np.array_equal(counts, dense[keys])
    merged = statistics.split_rows(columns, n_states, 4).family_cells(3, (0, 1, 2), maps, sizes)
    assert np.array_equal(merged[0], keys) and np.array_equal(merged[1], counts)
    monkeypatch.setattr(statistics, "DENSE_CELLS_PER_ROW", 10_000)
    keys2, counts2 = whole.family_cells(3, (0, 1, 2), maps, sizes)
    assert np.array_equal(keys2, keys) and np.array_equal(counts2, counts)


def test_cell_margins_match_bincounts():
    from engine.model.probit import _margins
    rng = np.random.default_rng(5)
    sizes = [4, 3, 5]
    states = [rng.integers(0, s, 200) for s in sizes]
    weight, moment = rng.random(200), rng.normal(size=200)
    ones_w, ones_m, pairs = _margins(states, weight, moment, sizes)
    for a, s in enumerate(sizes):
        np.testing.assert_allclose(ones_w[a], np.bincount(states[a], weight, minlength=s))
        np.testing.assert_allclose(ones_m[a], np.bincount(states[a], moment, minlength=s))
        for b in range(a + 1, 3):
            want = np.zeros((s, sizes[b]))
            np.add.at(want, (states[a], states[b]), weight)
            np.testing.assert_allclose(pairs[a, b], want)


def test_a_screened_wide_fit_is_deterministic_and_merges():
    from tests.engine.model.test_structure_search import correlated_frame
    frame, schema = fixtures.cleaned(correlated_frame(3000, 26, 9))
    assert len(schema) > 20                               # the screened (non-exact) path
    first = BayesianNetworkModel().fit(frame, schema)
    assert_same_model(first, BayesianNetworkModel().fit(frame, schema))
    assert_same_model(first, BayesianNetworkModel().fit(frame, schema, partitions=4))


def test_families_scored_on_threads_give_the_one_thread_model(monkeypatch):
    # prefetch/prime_many score families on a pool; each score is a pure function of its
    # counts, so the model must equal the one-thread fit exactly, cache order aside
    from engine.model import family_scores
    from tests.engine.model.test_structure_search import correlated_frame
    frame, schema = fixtures.cleaned(correlated_frame(3000, 26, 9))
    monkeypatch.setattr(family_scores, "SCORE_THREADS", 4)
    threaded = BayesianNetworkModel().fit(frame, schema)
    monkeypatch.setattr(family_scores, "SCORE_THREADS", 1)
    assert_same_model(threaded, BayesianNetworkModel().fit(frame, schema))


def test_cell_masses_match_scipy_bit_for_bit():
    # the probit likelihood's kernel against the numpy formula it replaced: the latent
    # mean summed over parents in order, scipy's ndtr of both standardised bin edges
    from scipy.special import ndtr

    from engine.model._probit_kernels import cell_masses
    rng = np.random.default_rng(11)
    sizes, n_bins, n_cells = [4, 3], 6, 500
    # cells sorted by configuration, then bin (neighbouring bins share an edge), as the
    # scorer passes them; some configurations repeat a bin (a coarse table's cells)
    cfg = np.sort(rng.integers(0, 12, n_cells))
    bins = np.empty(n_cells, dtype=np.int64)
    for c in np.unique(cfg):
        at = np.flatnonzero(cfg == c)
        bins[at] = np.sort(rng.integers(0, n_bins, at.size))
    states = list(np.unravel_index(cfg, sizes))
    effects = [rng.normal(size=s) for s in sizes]
    intercept, sigma = 0.3, 0.7
    edges = np.concatenate([[-np.inf], np.sort(rng.normal(size=n_bins - 1)), [np.inf]])
    mu = np.full(n_cells, intercept)
    for e, s in zip(effects, states):
        mu = mu + e[s]
    want = ndtr((edges[bins + 1] - mu) / sigma) - ndtr((edges[bins] - mu) / sigma)
    got = np.empty(n_cells)
    cell_masses(np.stack(states).astype(np.int64), np.concatenate(effects),
                np.array([0, sizes[0]], dtype=np.int64), intercept, edges, bins, sigma, got)
    assert np.array_equal(got, want)
    # no parents: one latent mean for every cell
    alone = np.empty(n_cells)
    cell_masses(np.zeros((0, 1), dtype=np.int64), np.zeros(1), np.zeros(0, dtype=np.int64),
                intercept, edges, bins, sigma, alone)
    assert np.array_equal(alone, ndtr((edges[bins + 1] - intercept) / sigma)
                          - ndtr((edges[bins] - intercept) / sigma))
