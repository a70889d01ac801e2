"""The conditioned fill's kernels (``engine.sampling._conditional_kernels``) against naive
references, and the fill's row order: each cell's rows land on a uniformly random subset
of positions, whatever the thread count."""

from __future__ import annotations

import math

import numpy as np
import pytest

from engine.sampling._conditional_kernels import _scatter_rows, _systematic_picks


def naive_systematic_picks(weights, u, n):
    cumulative = np.cumsum(weights)
    positions = (u + np.arange(n)) / n * cumulative[-1]
    return np.minimum(np.searchsorted(cumulative, positions, side="right"), weights.size - 1)


def naive_scatter_rows(source, picks, positions, out):
    for r in range(picks.size):
        for j in range(source.shape[1]):
            out[positions[r], j] = source[picks[r], j]


@pytest.mark.parametrize("seed", range(30))
def test_systematic_picks_match_searchsorted(seed):
    gen = np.random.default_rng(9100 + seed)
    m = int(gen.integers(1, 400))
    weights = gen.exponential(1.0, m) ** float(gen.choice([1.0, 4.0]))
    weights[gen.random(m) < 0.3] = 0.0            # zero-weight candidates are never picked
    if not weights.sum() > 0:
        weights[-1] = 1.0
    n = int(gen.integers(1, 3 * m + 2))
    u = float(gen.random()) if seed else 0.0
    got = np.empty(n, dtype=np.int64)
    _systematic_picks(np.cumsum(weights), u, got)
    want = naive_systematic_picks(weights, u, n)
    np.testing.assert_array_equal(got, want)
    assert np.all(weights[got] > 0)


def test_systematic_picks_of_equal_weights_take_each_candidate_once():
    got = np.empty(1000, dtype=np.int64)
    _systematic_picks(np.cumsum(np.full(1000, 0.37)), 0.5, got)
    np.testing.assert_array_equal(got, np.arange(1000))


@pytest.mark.parametrize("seed", range(10))
def test_scatter_rows_matches_naive(seed):
    gen = np.random.default_rng(9200 + seed)
    m, d, n = int(gen.integers(1, 300)), int(gen.integers(1, 7)), int(gen.integers(1, 500))
    k = int(gen.integers(0, n + 1))
    source = np.asfortranarray(gen.integers(0, 50, (m, d)))
    picks = np.sort(gen.integers(0, m, k))
    positions = gen.permutation(n)[:k]
    got = np.full((n, d), -1, dtype=np.int64, order="F")
    want = got.copy()
    _scatter_rows(source, picks, positions, got)
    naive_scatter_rows(source, picks, positions, want)
    np.testing.assert_array_equal(got, want)


# --- the fill: final positions --------------------------------------------------------------

CONTRACT = {"categorical": {"segment": {"Premium": 0.55, "Mainstream": 0.35, "Value": 0.10},
                            "channel": {"Online": 0.70, "Retail": 0.20, "Club": 0.10}},
            "numeric": {"age": {"min": 25, "max": 44}, "purchase_intent": {"min": 70, "max": 100}}}
FILL_ROWS = 100_000          # the largest cell (~38k rows) is written by two threads


@pytest.fixture(scope="module")
def contract_draw():
    from engine.datasets import quickstart_frame
    from engine.sampling.conditional import draw_conditional
    from engine.sampling.conditions import parse_conditions
    from engine.synthesizer import Synthesizer

    synth = Synthesizer().fit(quickstart_frame())
    scenario = parse_conditions(synth.schema_, CONTRACT)
    return synth, scenario, draw_conditional(synth.model_, FILL_ROWS, scenario, seed=11)


def test_fill_is_the_same_on_one_thread(contract_draw, monkeypatch):
    from engine.sampling.conditional import draw_conditional

    synth, scenario, draw = contract_draw
    monkeypatch.setenv("SIMIO_THREADS", "1")
    one = draw_conditional(synth.model_, FILL_ROWS, scenario, seed=11)
    np.testing.assert_array_equal(one.codes, draw.codes)
    assert draw.codes.flags.f_contiguous        # a column per node, as the decode reads it


def test_each_cells_rows_are_spread_over_the_whole_table(contract_draw):
    """Cell ``c``'s rows sit on a uniformly random subset of positions: its count in the
    first half of the table is hypergeometric (4 standard deviations allowed), and a
    candidate picked twice does not land on neighbouring rows more often than chance."""
    synth, _, draw = contract_draw
    names = [enc.name for enc in synth.model_.encodings_]
    seg, ch = draw.codes[:, names.index("segment")], draw.codes[:, names.index("channel")]
    cell = seg * 10 + ch
    half = FILL_ROWS // 2
    for c in np.unique(cell):
        k = int(np.sum(cell == c))
        sd = math.sqrt(k * 0.5 * 0.5 * (FILL_ROWS - k) / (FILL_ROWS - 1))
        assert abs(int(np.sum(cell[:half] == c)) - k / 2) <= 4 * sd
    same = np.all(draw.codes[1:] == draw.codes[:-1], axis=1).mean()
    shuffled = draw.codes[np.random.default_rng(0).permutation(FILL_ROWS)]
    chance = np.all(shuffled[1:] == shuffled[:-1], axis=1).mean()
    assert same <= chance + 4 * math.sqrt(max(chance, 1e-4) / FILL_ROWS)


def test_a_thin_cell_gets_more_candidates_continuing_its_stream(contract_draw, monkeypatch):
    """One candidate per row; a cell whose ESS is under the reuse cap gets
    ``THIN_OVERSAMPLE`` per row, the first ones unchanged."""
    from engine.sampling import conditional
    from engine.sampling.evidence_tables import FoldedEvidence

    synth, scenario, _ = contract_draw
    model = synth.model_
    solution = conditional.solve_scenario(model, FILL_ROWS, scenario, 20.0, seed=11)
    folded = FoldedEvidence(model, solution.lam)

    def candidates(max_reuse, need=5000):
        monkeypatch.setattr(conditional, "MAX_REUSE", max_reuse)
        return conditional._cell_candidates(
            folded, 0, need, solution.cond_nodes, solution.dims, 11, solution.pool,
            conditional._UniformBuffer(len(model.encodings_)))[:2]

    plain, plain_w = candidates(1e300)                        # never thin
    thin, thin_w = candidates(0.0)                           # always thin
    assert plain.shape[0] == 5000
    assert thin.shape[0] == math.ceil(conditional.THIN_OVERSAMPLE * 5000)
    np.testing.assert_array_equal(thin[:5000], plain)
    np.testing.assert_array_equal(thin_w[:5000], plain_w)
    assert candidates(1e300, need=10)[0].shape[0] == conditional.MIN_CANDIDATES
