"""Bounded calibration (``engine.sampling.raking``: Newton on the dual, the feasibility LP)
and exact integer allocation
(``largest_remainder`` / ``allocate_counts`` in ``engine.sampling.conditional``)."""

import warnings

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from engine.sampling.conditional import allocate_counts, largest_remainder
from engine.sampling.raking import TOLERANCE, min_upweight, rake


def _margins(q):
    return [q.sum(axis=tuple(i for i in range(q.ndim) if i != a)) for a in range(q.ndim)]


def _random_problem(shape, seed):
    gen = np.random.default_rng(seed)
    q0 = gen.dirichlet(np.ones(int(np.prod(shape)))).reshape(shape)
    margins = [gen.dirichlet(np.ones(k) * 2) for k in shape]
    return q0, margins


def _kl(q, q0):
    nz = q > 0
    return float(np.sum(q[nz] * np.log(q[nz] / q0[nz])))


# --- margins -----------------------------------------------------------------------------

@pytest.mark.parametrize("shape, seed", [((3, 3), 1), ((2, 5), 2), ((3, 4, 2), 3),
                                         ((2, 2, 2), 4), ((4,), 5)])
def test_rake_matches_margins(shape, seed):
    q0, margins = _random_problem(shape, seed)
    q, ok = rake(q0, margins)
    assert ok
    for got, want in zip(_margins(q), margins):
        np.testing.assert_allclose(got, want, atol=TOLERANCE)
    assert q.sum() == pytest.approx(1.0, abs=1e-9)
    assert (q >= 0).all()
    assert q0.sum() == pytest.approx(1.0)        # input untouched
    assert rake(q0, margins)[0].tobytes() == q.tobytes()      # deterministic


@pytest.mark.parametrize("shape", [(3, 3), (3, 4, 2), (5,)])
def test_rake_is_identity_when_margins_already_hold(shape):
    q0, _ = _random_problem(shape, 7)
    q, ok = rake(q0, _margins(q0))
    assert ok
    np.testing.assert_allclose(q, q0, rtol=1e-12, atol=1e-15)


def test_one_dimensional_rake_is_the_target():
    q, ok = rake(np.array([0.2, 0.3, 0.5]), [np.array([0.55, 0.35, 0.10])])
    assert ok
    np.testing.assert_allclose(q, [0.55, 0.35, 0.10])


# --- minimum KL: q / q0 factorises into per-axis factors --------------------------------------

def test_rake_keeps_the_odds_ratios_2d():
    q0, margins = _random_problem((3, 4), 11)
    q, ok = rake(q0, margins)
    assert ok
    log_ratio = np.log(q / q0)
    # additive in (row, column): a rank-one interaction-free table
    interaction = (log_ratio - log_ratio[:, :1] - log_ratio[:1, :] + log_ratio[0, 0])
    np.testing.assert_allclose(interaction, 0.0, atol=1e-8)
    # every 2x2 cross-product ratio of q equals that of q0
    for (i, k), (j, l) in [((0, 1), (0, 1)), ((1, 2), (2, 3)), ((0, 2), (1, 3))]:
        odds_q = q[i, j] * q[k, l] / (q[i, l] * q[k, j])
        odds_q0 = q0[i, j] * q0[k, l] / (q0[i, l] * q0[k, j])
        assert odds_q == pytest.approx(odds_q0, rel=1e-8)


def test_rake_keeps_the_interactions_3d():
    q0, margins = _random_problem((2, 3, 4), 12)
    q, ok = rake(q0, margins)
    assert ok
    r = np.log(q / q0)
    a = r.mean(axis=(1, 2))
    b = r.mean(axis=(0, 2))
    c = r.mean(axis=(0, 1))
    fitted = a[:, None, None] + b[None, :, None] + c[None, None, :] - 2 * r.mean()
    np.testing.assert_allclose(r, fitted, atol=1e-8)


def test_rake_is_the_minimum_kl_table_with_those_margins():
    """Any move that keeps every margin (a +e/-e checkerboard) increases KL(q || q0)."""
    q0, margins = _random_problem((3, 3), 13)
    q, ok = rake(q0, margins)
    assert ok
    best = _kl(q, q0)
    step = 0.1 * float(q.min())
    for (i, k), (j, l) in [((0, 1), (0, 1)), ((1, 2), (0, 2)), ((0, 2), (1, 2))]:
        for eps in (step, -step):
            move = np.zeros_like(q)
            move[i, j] += eps
            move[k, l] += eps
            move[i, l] -= eps
            move[k, j] -= eps
            other = q + move
            assert (other > 0).all()
            assert _kl(other, q0) > best


# --- the up-weight bound -------------------------------------------------------------------

def _bounded_problem():
    # The model puts 4% on row 0; asking for 50% there needs at least a 12.5x up-weight.
    # The unbounded (independence-keeping) answer is the product of the margins,
    # [[.3, .2], [.3, .2]]: 15x on cell (0, 0), 10x on (0, 1).
    q0 = np.array([[0.02, 0.02], [0.48, 0.48]])
    margins = [np.array([0.5, 0.5]), np.array([0.6, 0.4])]
    return q0, margins


def test_unbounded_solution_exceeds_the_bound():
    q0, margins = _bounded_problem()
    q, ok = rake(q0, margins)
    assert ok
    np.testing.assert_allclose(q, [[0.3, 0.2], [0.3, 0.2]], atol=1e-9)
    assert (q / q0).max() == pytest.approx(15.0)


def test_upper_bound_is_respected_inside_the_solve():
    q0, margins = _bounded_problem()
    cap = 13.0
    q, ok = rake(q0, margins, cap)
    assert ok
    assert (q / q0).max() <= cap * (1 + 1e-9)
    for got, want in zip(_margins(q), margins):
        np.testing.assert_allclose(got, want, atol=TOLERANCE)
    # clipping the unbounded answer instead would break the margins
    free, _ = rake(q0, margins)
    clipped = np.minimum(free, cap * q0)
    assert np.abs(_margins(clipped)[0] - margins[0]).max() > 1e-3


def test_bounded_solution_keeps_the_factor_structure_off_the_cap():
    q0, _ = _random_problem((3, 3), 21)
    margins = [np.array([0.8, 0.1, 0.1]), np.array([0.2, 0.3, 0.5])]
    free, ok = rake(q0, margins)
    assert ok
    cap = 0.8 * float((free / q0).max())
    q, ok = rake(q0, margins, cap)
    assert ok
    ratio = q / q0
    assert ratio.max() <= cap * (1 + 1e-9)
    assert np.isclose(ratio, cap).any()            # the bound binds somewhere


@pytest.mark.parametrize("cap", [1.0, 1.5, 5.0])
def test_upper_bound_too_tight_is_infeasible(cap):
    # a 2% level asked at 50% needs a 25x up-weight on its row
    q0 = np.array([[0.01, 0.01], [0.49, 0.49]])
    margins = [np.array([0.5, 0.5]), np.array([0.5, 0.5])]
    q, ok = rake(q0, margins, cap)
    assert not ok
    assert (q / q0).max() <= cap * (1 + 1e-9)       # never over the bound, even when failing


def test_structurally_impossible_margins_are_infeasible():
    # only the anti-diagonal is possible: row 0 <=> column 1, so the margins must agree
    q0 = np.array([[0.0, 0.5], [0.5, 0.0]])
    margins = [np.array([0.7, 0.3]), np.array([0.7, 0.3])]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert rake(q0, margins)[1] is False
        assert rake(q0, margins, 20.0)[1] is False
        # a margin that asks for a level the model never has
        q0 = np.array([[0.5, 0.5], [0.0, 0.0]])
        assert rake(q0, [np.array([0.5, 0.5]), np.array([0.5, 0.5])])[1] is False


def test_min_upweight_is_the_exact_feasibility_bound():
    q0, margins = _bounded_problem()
    # row 0's two cells must carry 0.5 between them from 0.02 each: 12.5x, from one LP
    bound = min_upweight(q0, margins)
    assert bound == pytest.approx(12.5, rel=1e-9)
    q, ok = rake(q0, margins, bound * (1 + 1e-9))
    assert ok
    assert (q / q0).max() <= bound * (1 + 1e-9) * (1 + 1e-12)
    for got, want in zip(_margins(q), margins):
        np.testing.assert_allclose(got, want, atol=TOLERANCE)
    assert not rake(q0, margins, bound * 0.99)[1]


@pytest.mark.parametrize("shape, seed", [((3, 3), 41), ((2, 4, 3), 42), ((5, 2), 43)])
def test_min_upweight_separates_feasible_from_infeasible_bounds(shape, seed):
    q0, margins = _random_problem(shape, seed)
    bound = min_upweight(q0, margins)
    assert 1.0 <= bound < np.inf
    assert rake(q0, margins, bound * (1 + 1e-6))[1]
    assert not rake(q0, margins, bound * (1 - 1e-3))[1]


def test_min_upweight_is_one_when_the_margins_already_hold():
    q0, _ = _random_problem((3, 4), 44)
    assert min_upweight(q0, _margins(q0)) == pytest.approx(1.0, abs=1e-9)


def test_min_upweight_is_infinite_when_impossible():
    q0 = np.array([[0.0, 0.5], [0.5, 0.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert min_upweight(q0, [np.array([0.7, 0.3]), np.array([0.7, 0.3])]) == np.inf
        # a positive target on a level with no mass
        assert min_upweight(np.array([[0.5, 0.5], [0.0, 0.0]]),
                            [np.array([0.5, 0.5]), np.array([0.5, 0.5])]) == np.inf


# --- convergence is judged on the target error, never a false "infeasible" ---------------------

def test_identical_indicator_columns_converge():
    """Two copies of one indicator, 0.5 on both: plain IPF reaches 1e-16, so must we."""
    q0 = np.array([[0.757, 0.001], [0.000325, 0.24165]])
    margins = [np.array([0.5, 0.5]), np.array([0.5, 0.5])]
    for upper in (np.inf, 20.0):
        q, ok = rake(q0, margins, upper)
        assert ok
        for got, want in zip(_margins(q), margins):
            np.testing.assert_allclose(got, want, atol=1e-14)
        assert (q / q0).max() <= upper


@pytest.mark.parametrize("shape, seed", [((4, 4), 51), ((3, 3, 3), 52), ((6, 2), 53)])
def test_bounded_rake_at_the_edge_of_feasibility(shape, seed):
    """Just above the smallest feasible bound the feasible set is thin; still converges."""
    q0, margins = _random_problem(shape, seed)
    bound = min_upweight(q0, margins)
    q, ok = rake(q0, margins, bound * (1 + 1e-6), tolerance=1e-12)
    assert ok
    assert (q / q0).max() <= bound * (1 + 1e-6) * (1 + 1e-12)


def test_tiny_cells_are_not_frozen_by_an_absolute_tolerance():
    q0 = np.array([[3e-10, 0.3], [0.4, 0.3 - 3e-10]])
    margins = [np.array([0.0, 1.0]), np.array([0.5, 0.5])]      # row 0 gets share 0
    assert rake(q0, margins)[1]                                   # unbounded: fine
    q, ok = rake(q0, margins, 20.0)                               # 20x is plenty
    assert ok
    assert q[0].sum() == 0.0


def test_structural_zeros_raise_no_warning():
    q0 = np.array([[0.0, 0.5], [0.25, 0.25]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        q, ok = rake(q0, [np.array([0.4, 0.6]), np.array([0.3, 0.7])])
    assert ok


# --- integer allocation ----------------------------------------------------------------------

def test_largest_remainder_examples():
    np.testing.assert_array_equal(largest_remainder(np.array([0.55, 0.35, 0.10]), 5000),
                                  [2750, 1750, 500])
    # remainders .5/.5/0: ties go to the first state
    np.testing.assert_array_equal(largest_remainder(np.array([0.5, 0.5, 0.0]), 3), [2, 1, 0])
    np.testing.assert_array_equal(largest_remainder(np.array([1 / 3] * 3), 100), [34, 33, 33])
    np.testing.assert_array_equal(largest_remainder(np.array([0.3, 0.7]), 0), [0, 0])


shares_strategy = st.lists(st.floats(0.0, 1.0), min_size=1, max_size=8).filter(
    lambda xs: sum(xs) > 0).map(lambda xs: np.array(xs) / np.sum(xs))


@settings(max_examples=200, deadline=None, derandomize=True)
@given(shares=shares_strategy, total=st.integers(0, 100_000))
def test_largest_remainder_properties(shares, total):
    counts = largest_remainder(shares, total)
    exact = shares * total
    assert counts.dtype == np.int64
    assert counts.sum() == total
    assert (counts >= 0).all()
    assert (np.abs(counts - exact) < 1 + 1e-9).all()
    assert (counts[shares == 0] == 0).all()
    # the rows handed out go to the largest remainders
    remainder = exact - np.floor(exact)
    up = counts > np.floor(exact) + 0.5
    if up.any() and (~up).any():
        assert remainder[up].min() >= remainder[~up].max() - 1e-9


def _check_allocation(q, margins, rows):
    counts = allocate_counts(q, margins, rows)
    assert counts.shape == q.shape
    assert counts.sum() == rows
    assert (counts >= 0).all()
    assert (counts[q <= 0] == 0).all()
    for got, margin in zip(_margins(counts), margins):
        np.testing.assert_array_equal(got, largest_remainder(margin, rows))
    # cells stay near their expectation (each margin repair moves at most one row per cell
    # per axis in the typical case; allow a generous slack)
    assert np.abs(counts - q * rows).max() <= 1 + q.ndim + 1e-9
    return counts


tables = st.lists(st.integers(1, 4), min_size=1, max_size=3).flatmap(
    lambda shape: st.tuples(
        st.just(tuple(shape)),
        st.lists(st.floats(0.001, 1.0), min_size=int(np.prod(shape)),
                 max_size=int(np.prod(shape)))))


@settings(max_examples=150, deadline=None, derandomize=True)
@given(table=tables, rows=st.integers(0, 20_000))
def test_allocate_counts_gives_exact_margins(table, rows):
    shape, values = table
    q = np.array(values).reshape(shape)
    q = q / q.sum()
    _check_allocation(q, _margins(q), rows)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(table=tables, seed=st.integers(0, 2**32 - 1), rows=st.integers(1, 20_000))
def test_allocate_counts_on_raked_tables(table, seed, rows):
    """The way the sampler uses it: q raked to target margins, targets as given."""
    shape, values = table
    q0 = np.array(values).reshape(shape)
    q0 = q0 / q0.sum()
    gen = np.random.default_rng(seed)
    margins = [gen.dirichlet(np.ones(k)) for k in shape]
    q, ok = rake(q0, margins)
    assume(ok)
    _check_allocation(q, margins, rows)


def test_allocate_counts_with_a_zero_share_level():
    q0, _ = _random_problem((3, 3), 31)
    margins = [np.array([0.6, 0.0, 0.4]), np.array([0.2, 0.3, 0.5])]
    q, ok = rake(q0, margins)
    assert ok and (q[1] == 0).all()
    counts = _check_allocation(q, margins, 999)
    assert (counts[1] == 0).all()


def test_allocate_counts_contract_margins():
    q0, _ = _random_problem((3, 3), 32)
    margins = [np.array([0.55, 0.35, 0.10]), np.array([0.70, 0.20, 0.10])]
    q, ok = rake(q0, margins)
    assert ok
    counts = _check_allocation(q, margins, 5000)
    np.testing.assert_array_equal(counts.sum(axis=1), [2750, 1750, 500])
    np.testing.assert_array_equal(counts.sum(axis=0), [3500, 1000, 500])


def test_allocate_counts_with_structural_zeros():
    """No single slice allows the direct move; a chain of moves does."""
    q = np.array([[0.19, 0.01, 0.30], [0.005, 0.005, 0.11], [0.30, 0.08, 0.0]])
    _check_allocation(q, _margins(q), 4)


def test_allocate_counts_when_the_first_axis_cannot_be_repaired_alone():
    q = np.array([[0.0, 0.0, 0.4878], [0.0129, 0.0, 0.1953], [0.2762, 0.0278, 0.0]])
    q = q / q.sum()
    counts = allocate_counts(q, _margins(q), 5)
    np.testing.assert_array_equal(largest_remainder(_margins(q)[0], 5), [2, 1, 2])
    np.testing.assert_array_equal(largest_remainder(_margins(q)[1], 5), [2, 0, 3])
    np.testing.assert_array_equal(counts.sum(axis=1), [2, 1, 2])
    np.testing.assert_array_equal(counts.sum(axis=0), [2, 0, 3])
