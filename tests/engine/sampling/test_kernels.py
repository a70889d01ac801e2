"""The numba kernels against the naive references in ``naive.py`` (STYLE.md section 7).

Random small networks and inputs, fixed seeds. Codes must be identical; likelihood weights
and within-bin values equal to 1e-12 (relative), i.e. the same floating-point operations.
The edge cases the kernels special-case are forced in: zero-probability states,
zero-likelihood evidence states (and evidence that rules out every state), uniforms of
exactly 0.0, the largest double below 1, and uniforms equal to a cumulative probability.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from engine.model.encoding import NodeEncoding, encode_numeric
from engine.model.network import BayesianNetworkModel
from engine.model.scores import PROBIT, TABLE
from engine.sampling import forward
from engine.sampling._kernels import (_forward_sample, _tilted_levels, _transpose_into,
                                      _within_bin_values)
from engine.sampling._latent_kernels import _within_bin_latent_values
from engine.schema import Column
from tests.engine import fixtures
from tests.engine.sampling import naive

ALMOST_ONE = float(np.nextafter(1.0, 0.0))
RTOL = 1e-12


# -- random networks -------------------------------------------------------------------

def random_table(rng, n_cfg: int, k: int) -> np.ndarray:
    """Rows of probabilities, about 30% of cells exactly zero (every row keeps one)."""
    table = rng.dirichlet(np.full(k, 0.7), size=n_cfg)
    zero = rng.random((n_cfg, k)) < 0.3
    keep = rng.integers(0, k, n_cfg)
    zero[np.arange(n_cfg), keep] = False
    table[zero] = 0.0
    return table / table.sum(axis=1, keepdims=True)


def table_axis_size(kind: str, parent: NodeEncoding) -> int:
    """A count table (kind "table") sees a numeric parent through its coarse groups (see
    engine/model/encoding.py, PARENT_GROUPS); a probit table through all of its states. A
    categorical with tied rare levels (encoding.rare_pool) is seen through its groups by
    both."""
    return int(table_axis_map(kind, parent).max()) + 1


def table_axis_map(kind: str, parent: NodeEncoding) -> np.ndarray:
    if (kind == TABLE and parent.kind == "numeric") or (
            parent.kind == "categorical" and parent.parent_group is not None):
        return parent.parent_group
    return np.arange(parent.n_states)


def random_network(rng) -> BayesianNetworkModel:
    d = int(rng.integers(1, 7))
    encodings = []
    for j in range(d):
        k = int(rng.integers(1, 6))
        if rng.random() < 0.5:
            groups = int(rng.integers(1, k + 1))
            group = rng.integers(0, groups, k)
            group[rng.integers(k)] = groups - 1
            encodings.append(NodeEncoding(f"n{j}", "numeric", k, -1, parent_group=group))
        else:
            encodings.append(NodeEncoding(f"n{j}", "categorical", k, -1))
    position = rng.permutation(d)            # a random topological order
    parents = []
    for j in range(d):
        earlier = [p for p in range(d) if position[p] < position[j]]
        n_par = int(rng.integers(0, min(3, len(earlier)) + 1))
        # Slot order is deliberately not sorted: the table axes follow the tuple's order.
        parents.append(tuple(int(p) for p in rng.permutation(earlier)[:n_par]))
    # A categorical child always has a count table; a numeric one either kind.
    kinds = [TABLE if enc.kind == "categorical" else str(rng.choice([PROBIT, TABLE]))
             for enc in encodings]
    tables = []
    for j, ps in enumerate(parents):
        n_cfg = int(np.prod([table_axis_size(kinds[j], encodings[p]) for p in ps]))
        tables.append(random_table(rng, n_cfg, encodings[j].n_states))
    return make_model(encodings, parents, kinds, tables)


def make_model(encodings, parents, kinds, tables) -> BayesianNetworkModel:
    model = BayesianNetworkModel()
    model.encodings_, model.parents_, model.kinds_, model.tables_ = (
        encodings, parents, kinds, tables)
    return model


def naive_network(model):
    """(parents, state_maps, tables with one axis per parent) for ``naive.forward_sample``."""
    encs = model.encodings_
    maps, tables = [], []
    for j, (ps, kind) in enumerate(zip(model.parents_, model.kinds_)):
        maps.append([table_axis_map(kind, encs[p]) for p in ps])
        shape = [table_axis_size(kind, encs[p]) for p in ps] + [encs[j].n_states]
        tables.append(model.tables_[j].reshape(shape))
    return list(model.parents_), maps, tables


def random_evidence(rng, model) -> dict[int, np.ndarray]:
    evidence = {}
    for j, enc in enumerate(model.encodings_):
        if rng.random() >= 0.4:
            continue
        k = enc.n_states
        kind = rng.choice(["soft", "hard", "ones", "none"], p=[0.55, 0.25, 0.1, 0.1])
        if kind == "soft":
            lik = rng.random(k)
            lik[rng.random(k) < 0.3] = 0.0       # zero-weight states
        elif kind == "hard":
            lik = np.zeros(k)
            lik[rng.integers(k)] = 1.0
        elif kind == "ones":
            lik = np.ones(k)
        else:                                    # rules out every state: weight 0
            lik = np.zeros(k)
        evidence[j] = lik
    return evidence


def kernel_evidence(d: int, evidence: dict[int, np.ndarray]):
    """The flat (evidence_offset, evidence, is_evidence) arrays the kernel takes."""
    offset = np.zeros(d, dtype=np.int64)
    flags = np.zeros(d, dtype=np.bool_)
    parts, used = [], 0
    for j in sorted(evidence):
        offset[j], flags[j] = used, True
        parts.append(np.asarray(evidence[j], dtype=np.float64))
        used += len(evidence[j])
    return offset, (np.concatenate(parts) if parts else np.ones(1)), flags


def edge_uniforms(rng, model, n: int) -> np.ndarray:
    """Uniforms with 0.0, the largest double below 1 and exact cumulative probabilities."""
    d = len(model.encodings_)
    u = rng.random((n, d))
    u[0], u[1] = 0.0, ALMOST_ONE
    cells = rng.random((n, d))
    u[cells < 0.05] = 0.0
    u[(cells >= 0.05) & (cells < 0.10)] = ALMOST_ONE
    for j, table in enumerate(model.tables_):
        boundaries = np.cumsum(table, axis=1).ravel()
        boundaries = boundaries[boundaries < 1.0]          # uniforms live in [0, 1)
        if boundaries.size == 0:
            continue
        hit = (cells[:, j] >= 0.10) & (cells[:, j] < 0.25)
        u[hit, j] = rng.choice(boundaries, int(hit.sum()))
    return np.ascontiguousarray(u)


def reference_cdf(model) -> np.ndarray:
    """The tables' rows as ``naive.cumulative`` builds them, concatenated in node order."""
    return np.array([c for table in model.tables_ for row in table
                     for c in naive.cumulative(row)])


def run_kernel(model, uniforms, evidence):
    """``_forward_sample`` on the model's flattened structure (``kernel_tables``) and the
    reference cumulative tables (``kernel_tables.cdf`` itself is tested separately)."""
    kt = model.kernel_tables
    n, d = uniforms.shape
    codes = np.empty((n, d), dtype=np.int64)
    weights = np.empty(n, dtype=np.float64)
    _forward_sample(kt.order, kt.n_parents, kt.parent_index, kt.parent_map_offset,
                    kt.parent_map, kt.parent_stride, kt.card, kt.table_offset,
                    reference_cdf(model), *kernel_evidence(d, evidence), uniforms,
                    codes, weights)
    return codes, weights


# -- _forward_sample ---------------------------------------------------------------------

@pytest.mark.parametrize("seed", range(60))
def test_forward_sample_matches_naive_on_random_networks(seed):
    rng = np.random.default_rng(seed)
    model = random_network(rng)
    evidence = random_evidence(rng, model) if seed % 3 else {}
    uniforms = edge_uniforms(rng, model, 300)

    codes, weights = run_kernel(model, uniforms, evidence)
    ref_codes, ref_weights = naive.forward_sample(*naive_network(model), evidence, uniforms)

    np.testing.assert_array_equal(codes, ref_codes)
    np.testing.assert_allclose(weights, ref_weights, rtol=RTOL, atol=0.0)


def test_forward_sample_matches_naive_on_the_fitted_quickstart_model():
    model = fixtures.quickstart_synthesizer().model_
    rng = np.random.default_rng(2024)
    intent_states = model.encodings_[4].n_states
    for evidence in ({}, random_evidence(rng, model),
                     {4: np.linspace(0.0, 1.0, intent_states)}):
        uniforms = edge_uniforms(rng, model, 2000)
        codes, weights = run_kernel(model, uniforms, evidence)
        ref_codes, ref_weights = naive.forward_sample(*naive_network(model), evidence, uniforms)
        np.testing.assert_array_equal(codes, ref_codes)
        np.testing.assert_allclose(weights, ref_weights, rtol=RTOL, atol=0.0)


def test_forward_sample_hand_checked_cases():
    # node 0: P = (0.2, 0.8); node 1 | node 0: rows (0.5, 0.5) and (0.1, 0.9).
    model = make_model([NodeEncoding("a", "categorical", 2, -1),
                        NodeEncoding("b", "categorical", 2, -1)],
                       [(), (0,)], [TABLE, TABLE],
                       [np.array([[0.2, 0.8]]), np.array([[0.5, 0.5], [0.1, 0.9]])])
    uniforms = np.array([[0.1, 0.6],    # a=0 (0.1 < 0.2); b | a=0: 0.6 >= 0.5 -> 1
                         [0.2, 0.05],   # u equal to a cumulative step moves on: a=1; b=0
                         [0.0, 0.0],
                         [ALMOST_ONE, ALMOST_ONE]])
    expected = np.array([[0, 1], [1, 0], [0, 0], [1, 1]])
    for codes, weights in (run_kernel(model, uniforms, {}),
                           naive.forward_sample(*naive_network(model), {}, uniforms)):
        np.testing.assert_array_equal(codes, expected)
        np.testing.assert_array_equal(weights, np.ones(4))

    # Hard evidence a=0: every row has a=0, weight P(a=0) = 0.2. Soft evidence (1, 0.5)
    # on b: weight P(b=0|a=0) + 0.5 P(b=1|a=0) = 0.75, b drawn from (0.5, 0.25) / 0.75.
    evidence = {0: np.array([1.0, 0.0]), 1: np.array([1.0, 0.5])}
    uniforms = np.array([[0.9, 0.6], [0.9, 0.7]])   # 0.6*0.75 = 0.45 < 0.5 -> b=0; 0.525 -> 1
    for codes, weights in (run_kernel(model, uniforms, evidence),
                           naive.forward_sample(*naive_network(model), evidence, uniforms)):
        np.testing.assert_array_equal(codes, [[0, 0], [0, 1]])
        np.testing.assert_allclose(weights, [0.2 * 0.75] * 2, rtol=RTOL)

    # Evidence that rules out every state: weight 0 (the row must be discarded).
    codes, weights = run_kernel(model, np.array([[0.5, 0.5]]), {0: np.zeros(2)})
    assert weights[0] == 0.0 and codes[0, 0] == 0


def test_kernel_tables_cdf_reaches_one_at_the_last_possible_state():
    rng = np.random.default_rng(99)
    for _ in range(40):
        model = random_network(rng)
        np.testing.assert_array_equal(model.kernel_tables.cdf, reference_cdf(model))


def test_forward_sample_never_draws_a_zero_probability_state():
    # End to end through draw_states and the model's own cdf: this row's running sums are
    # (0.0886..., 0.9999999999999999, 0.9999999999999999).
    row = np.array([0.08858332667598291, 0.911416673324017, 0.0])
    assert np.cumsum(row)[1] == ALMOST_ONE
    model = make_model([NodeEncoding("a", "categorical", 3, -1)], [()], [TABLE], [row[None, :]])
    codes, _ = forward.draw_states(model, np.array([[ALMOST_ONE], [0.5], [0.0]]))
    np.testing.assert_array_equal(codes[:, 0], [1, 1, 0])


def test_forward_sample_draws_only_possible_states_on_random_networks():
    rng = np.random.default_rng(99)
    for _ in range(30):
        model = random_network(rng)
        uniforms = edge_uniforms(rng, model, 300)
        codes, weights = run_kernel(model, uniforms, random_evidence(rng, model))
        _, maps, tables = naive_network(model)
        for i in np.flatnonzero(weights > 0.0):     # weight-0 rows are discarded by callers
            for j, ps in enumerate(model.parents_):
                index = tuple(int(maps[j][s][codes[i, p]]) for s, p in enumerate(ps))
                assert tables[j][index][codes[i, j]] > 0.0


def test_forward_sample_kernel_leaves_its_inputs_alone():
    model = random_network(np.random.default_rng(5))
    kt = model.kernel_tables
    uniforms = edge_uniforms(np.random.default_rng(6), model, 50)
    before = [a.copy() for a in (kt.cdf, kt.parent_map, uniforms)]
    d = len(model.encodings_)
    codes = np.empty((50, d), dtype=np.int64)
    weights = np.empty(50)
    _forward_sample(kt.order, kt.n_parents, kt.parent_index, kt.parent_map_offset,
                    kt.parent_map, kt.parent_stride, kt.card, kt.table_offset, kt.cdf,
                    *forward.no_evidence(d), uniforms, codes, weights)
    for old, new in zip(before, (kt.cdf, kt.parent_map, uniforms)):
        np.testing.assert_array_equal(old, new)


@pytest.mark.parametrize("shape", [(0, 3), (1, 1), (63, 5), (64, 7), (200, 121)])
def test_transpose_into_copies_into_fortran_order(shape):
    source = np.random.default_rng(shape[0]).random(shape)
    out = np.full(shape, np.nan, order="F")
    _transpose_into(source, out)
    np.testing.assert_array_equal(out, np.asfortranarray(source))


def test_draw_states_gives_the_same_codes_from_either_order_of_uniforms():
    model = fixtures.quickstart_synthesizer().model_
    uniforms = edge_uniforms(np.random.default_rng(8), model, 3000)
    from_c, _ = forward.draw_states(model, uniforms)
    from_f, _ = forward.draw_states(model, np.asfortranarray(uniforms))
    np.testing.assert_array_equal(from_c, from_f)
    np.testing.assert_array_equal(from_c, run_kernel(model, uniforms, {})[0])


# -- _within_bin_values ------------------------------------------------------------------

def random_knots(rng):
    """Bins of 1..7 knots: repeated x values, flat (zero-mass) CDF segments, point masses."""
    n_bins, width = int(rng.integers(1, 6)), int(rng.integers(1, 8))
    knot_x = np.zeros((n_bins, width))
    knot_c = np.ones((n_bins, width))
    n_knots = np.zeros(n_bins, dtype=np.int64)
    start = 0.0
    for b in range(n_bins):
        m = int(rng.integers(1, width + 1))
        steps = rng.exponential(1.0, m) * (rng.random(m) > 0.15)     # some repeated x
        xs = start + np.cumsum(steps)
        if m == 1:
            cs = np.array([1.0])
        else:
            inner = np.sort(rng.random(m - 2))
            inner[rng.random(m - 2) < 0.2] = inner[0] if m > 2 else 0.0   # flat segments
            cs = np.concatenate([[0.0], np.sort(inner), [1.0]])
            if rng.random() < 0.2:
                cs[1] = 0.0                                    # zero mass at the start
        knot_x[b, :m], knot_c[b, :m], n_knots[b] = xs, cs, m
        knot_x[b, m:] = xs[-1]
        start = xs[-1]
    return knot_x, knot_c, n_knots


def random_bounds(rng, n_bins):
    lo, hi = np.zeros(n_bins), np.ones(n_bins)
    for b in range(n_bins):
        r = rng.random()
        if r < 0.4:
            lo[b], hi[b] = np.sort(rng.random(2))
        elif r < 0.5:
            lo[b] = hi[b] = rng.random()                        # a single quantile
        elif r < 0.55:
            lo[b] = hi[b] = 1.0
    return lo, hi


def compare_within_bin(codes, missing_state, knot_x, knot_c, n_knots, lo, hi, u, rounding):
    out = np.full(codes.shape[0], -12345.0)
    _within_bin_values(codes, missing_state, knot_x, knot_c, n_knots, lo, hi, u,
                       rounding, out)
    ref = naive.within_bin_values(codes, missing_state, knot_x, knot_c, n_knots, lo, hi,
                                  u, rounding)
    np.testing.assert_array_equal(np.isnan(out), np.isnan(ref))
    np.testing.assert_allclose(out, ref, rtol=RTOL, atol=0.0, equal_nan=True)
    if rounding:
        np.testing.assert_array_equal(out, ref)                 # whole numbers: exact
    return out


@pytest.mark.parametrize("seed", range(60))
def test_within_bin_values_match_naive(seed):
    rng = np.random.default_rng(1000 + seed)
    knot_x, knot_c, n_knots = random_knots(rng)
    n_bins = n_knots.size
    missing_state = n_bins if seed % 2 else -1
    n = 400
    codes = rng.integers(0, n_bins + (missing_state >= 0), n).astype(np.int64)
    u = rng.random(n)
    u[:2] = 0.0, ALMOST_ONE
    u[rng.random(n) < 0.05] = 0.0
    u[rng.random(n) < 0.05] = ALMOST_ONE
    on_knot = rng.random(n) < 0.1                              # q exactly on a knot
    u[on_knot] = knot_c[codes[on_knot] % n_bins, rng.integers(0, knot_c.shape[1],
                                                              int(on_knot.sum()))]
    lo, hi = random_bounds(rng, n_bins)
    out = compare_within_bin(codes, missing_state, knot_x, knot_c, n_knots, lo, hi, u,
                             bool(seed % 3 == 0))
    # Values stay inside their bin's knot span (before any rounding).
    if seed % 3:
        ok = codes != missing_state
        b = codes[ok]
        assert np.all(out[ok] >= knot_x[b, 0])
        assert np.all(out[ok] <= knot_x[b, n_knots[b] - 1])


@pytest.mark.parametrize("integer", [True, False])
def test_within_bin_values_match_naive_on_real_encodings(integer):
    rng = np.random.default_rng(77)
    if integer:
        series = fixtures.quickstart()["purchase_intent"].astype("float64")
        series[rng.random(series.size) < 0.1] = np.nan
    else:
        series = pd.Series(np.exp(rng.normal(3.0, 1.0, 900)))
    column = Column("x", "integer" if integer else "numeric", "x", is_integer=integer)
    enc = encode_numeric(column, series)
    n = 5000
    codes = rng.integers(0, enc.n_states, n).astype(np.int64)
    u = rng.random(n)
    u[:2] = 0.0, ALMOST_ONE
    lo, hi = random_bounds(rng, enc.n_bins)
    compare_within_bin(codes, enc.missing_state, enc.knot_x, enc.knot_c, enc.n_knots,
                       lo, hi, u, integer)
    compare_within_bin(codes, enc.missing_state, enc.knot_x, enc.knot_c, enc.n_knots,
                       np.zeros(enc.n_bins), np.ones(enc.n_bins), u, integer)


# -- _within_bin_latent_values -----------------------------------------------------------

@pytest.mark.parametrize("seed", range(30))
def test_within_bin_latent_values_match_naive(seed):
    rng = np.random.default_rng(3000 + seed)
    knot_x, knot_c, n_knots = random_knots(rng)
    n_bins = n_knots.size
    missing_state = n_bins if seed % 2 else -1
    n = 300
    codes = rng.integers(0, n_bins + (missing_state >= 0), n).astype(np.int64)
    shares = rng.dirichlet(np.ones(n_bins))
    cum = np.concatenate([[0.0], np.cumsum(shares)])
    cum[-1] = 1.0
    mean = rng.normal(0.0, 1.5, n)
    sigma = float(rng.choice([0.05, 0.3, 1.0, 2.0]))
    lo, hi = random_bounds(rng, n_bins)
    u = rng.random(n)
    out, levels = np.full(n, -1.0), np.full(n, -1.0)
    _within_bin_latent_values(codes, mean, missing_state, sigma, cum, knot_x, knot_c, n_knots,
                              lo, hi, u, bool(seed % 3 == 0), out, levels)
    ref, ref_levels = naive.within_bin_latent_values(
        codes, mean, missing_state, sigma, cum, knot_x, knot_c, n_knots, lo, hi, u,
        bool(seed % 3 == 0))
    np.testing.assert_array_equal(np.isnan(levels), np.isnan(ref_levels))
    # scipy's truncnorm and the kernel's own normal quantile agree to ~1e-9 in level,
    # except for slices 35+ sigma out in a tail, where the kernel's exponential limit and
    # scipy's own tail approximation differ by up to ~1e-4 (relative error ~ 1/edge^2)
    np.testing.assert_allclose(levels, ref_levels, rtol=0, atol=1e-4, equal_nan=True)
    near = np.abs(mean) < 2.0
    np.testing.assert_allclose(levels[near & (sigma >= 0.3)], ref_levels[near & (sigma >= 0.3)],
                               rtol=0, atol=1e-8, equal_nan=True)
    # the values are the plain within-bin inversion at the kernel's own levels
    ones, zeros = np.ones(n_bins), np.zeros(n_bins)
    at_levels = naive.within_bin_values(codes, missing_state, knot_x, knot_c, n_knots, zeros,
                                        ones, np.nan_to_num(levels), bool(seed % 3 == 0))
    np.testing.assert_allclose(out, at_levels, rtol=RTOL, atol=0.0, equal_nan=True)


def test_latent_far_tail_uses_the_nearer_edge():
    """A slice 40 sigma above the latent mean: the truncated mass underflows, and the
    draw falls at the slice's lower edge (the exponential limit), never uniform."""
    knot_x = np.array([[0.0, 1.0]])
    knot_c = np.array([[0.0, 1.0]])
    cum = np.array([0.0, 1.0])
    codes = np.zeros(5, dtype=np.int64)
    lo, hi = np.array([0.5]), np.array([1.0])
    out, levels = np.empty(5), np.empty(5)
    _within_bin_latent_values(codes, np.full(5, -40.0), -1, 0.01, cum, knot_x, knot_c,
                              np.array([2]), lo, hi, np.linspace(0.0, 0.99, 5), False,
                              out, levels)
    assert np.all(levels >= 0.5) and np.all(np.diff(levels) > 0)
    np.testing.assert_allclose(levels, 0.5, atol=1e-4)


# -- _tilted_levels ------------------------------------------------------------------------

def random_tilt_grid(rng, seed: int, cells: int = 12, n: int = 200):
    """Rows and a per-bin level grid for the tilt kernels: (n_bins, n_children, n,
    missing_state, codes, grid_level, grid_z); odd seeds give the node a missing state."""
    n_bins, n_children = int(rng.integers(1, 6)), int(rng.integers(1, 3))
    missing_state = n_bins if seed % 2 else -1
    codes = rng.integers(0, n_bins + (missing_state >= 0), n).astype(np.int64)
    lo, hi = random_bounds(rng, n_bins)
    grid_level = lo[:, None] + (np.arange(cells + 1) / cells)[None, :] * (hi - lo)[:, None]
    grid_z = np.sort(rng.normal(0, 0.5, (n_bins, cells)), axis=1)
    return n_bins, n_children, n, missing_state, codes, grid_level, grid_z


def random_tilt_children(rng, n: int, n_children: int):
    """Tracking children for the tilt kernels: (edges, codes, means, betas, sigmas)."""
    k_bins = int(rng.integers(2, 6))
    edges = np.full((n_children, k_bins + 1), np.inf)
    edges[:, 0] = -np.inf
    edges[:, 1:-1] = np.sort(rng.normal(0, 1, (n_children, k_bins - 1)), axis=1)
    child_codes = rng.integers(-1, k_bins, (n, n_children)).astype(np.int64)
    child_mean = rng.normal(0, 1, (n, n_children))
    beta = rng.normal(0, 2, n_children)
    sigma = rng.choice([0.01, 0.2, 1.0], n_children)
    return edges, child_codes, child_mean, beta, sigma


@pytest.mark.parametrize("seed", range(20))
def test_tilted_levels_match_naive(seed):
    rng = np.random.default_rng(5000 + seed)
    n_bins, n_children, n, missing_state, codes, grid_level, grid_z = random_tilt_grid(rng,
                                                                                       seed)
    edges, child_codes, child_mean, beta, sigma = random_tilt_children(rng, n, n_children)
    u = rng.random(n)
    out = np.empty(n)
    _tilted_levels(codes, missing_state, grid_z, grid_level, child_codes, child_mean, beta,
                   sigma, edges, u, out)
    ref = naive.tilted_levels(codes, missing_state, grid_z, grid_level, child_codes,
                              child_mean, beta, sigma, edges, u)
    np.testing.assert_allclose(out, ref, rtol=1e-9, atol=1e-12, equal_nan=True)
