"""Scenario-conditioned sampling end to end (``engine.sampling.conditional``).

The contract scenario on the contract quickstart seed; coherence (the rest follows the
model given the scenario, associations included); determinism; the share rules (remainder,
rescaling, zero shares); partial and infeasible outcomes; and exactness against the
scenario distribution computed by enumeration on a small network.
"""

import itertools
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from engine import rng
from engine.datasets import quickstart_frame
from engine.errors import SimioError
from engine.sampling import conditional
from engine.sampling.conditional import largest_remainder
from engine.model.scores import parent_state_map, parent_states
from engine.synthesizer import Synthesizer

SEED = 20260430
ROWS = 5000
CONTRACT_CONDITIONS = {
    "categorical": {
        "segment": {"Premium": 0.55, "Mainstream": 0.35, "Value": 0.10},
        "channel": {"Online": 0.70, "Retail": 0.20, "Club": 0.10},
    },
    "numeric": {"age": {"min": 25, "max": 44}, "purchase_intent": {"min": 70, "max": 100}},
}
SEGMENTS = ["Premium", "Mainstream", "Value"]
CHANNELS = ["Online", "Retail", "Club"]
REFERENCE_ROWS = 2_000_000


# --- helpers ---------------------------------------------------------------------------------

def ipf(q0: np.ndarray, margins, iterations: int = 5000) -> np.ndarray:
    """Plain iterative proportional fitting (minimum KL to q0 with these margins)."""
    q = q0 / q0.sum()
    for _ in range(iterations):
        for axis, target in enumerate(margins):
            other = tuple(i for i in range(q.ndim) if i != axis)
            current = q.sum(axis=other)
            factor = np.divide(target, current, out=np.zeros_like(current), where=current > 0)
            shape = [1] * q.ndim
            shape[axis] = -1
            q = q * factor.reshape(shape)
        worst = max(np.abs(q.sum(axis=tuple(i for i in range(q.ndim) if i != a)) - t).max()
                    for a, t in enumerate(margins))
        if worst < 1e-13:
            break
    return q


def tvd(p: np.ndarray, q: np.ndarray) -> float:
    return 0.5 * float(np.abs(p / p.sum() - q / q.sum()).sum())


def joint(frame: pd.DataFrame, rows=("segment", SEGMENTS), cols=("channel", CHANNELS)):
    table = pd.crosstab(frame[rows[0]], frame[cols[0]]).reindex(
        index=rows[1], columns=cols[1], fill_value=0)
    return table.to_numpy(dtype=np.float64)


def in_ranges(frame: pd.DataFrame, numeric: dict) -> pd.Series:
    ok = pd.Series(True, index=frame.index)
    for name, bounds in numeric.items():
        ok &= frame[name].notna() & (frame[name] >= bounds["min"]) & (
            frame[name] <= bounds["max"])
    return ok


# --- fixtures ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def synth() -> Synthesizer:
    return Synthesizer().fit(quickstart_frame())


@pytest.fixture(scope="module")
def contract(synth):
    generation = synth.generate(ROWS, seed=SEED, conditions=CONTRACT_CONDITIONS)
    return generation, generation.to_frame()


@pytest.fixture(scope="module")
def big_sample(synth) -> pd.DataFrame:
    """A large unconditional model sample."""
    return synth.sample(REFERENCE_ROWS, seed=12345)


@pytest.fixture(scope="module")
def reference(big_sample) -> pd.DataFrame:
    """The large unconditional model sample restricted to the contract ranges."""
    return big_sample[in_ranges(big_sample, CONTRACT_CONDITIONS["numeric"])]


# --- the contract scenario -------------------------------------------------------------------

def test_contract_scenario_counts_are_exact(contract):
    generation, frame = contract
    assert generation.status == "ready"
    assert generation.rows_requested == generation.rows_generated == ROWS == len(frame)
    assert frame["segment"].value_counts().to_dict() == {
        "Premium": 2750, "Mainstream": 1750, "Value": 500}
    assert frame["channel"].value_counts().to_dict() == {
        "Online": 3500, "Retail": 1000, "Club": 500}
    assert generation.scenario["numeric"] == {"age": {"min": 25.0, "max": 44.0},
                                              "purchase_intent": {"min": 70.0, "max": 100.0}}


def test_contract_scenario_holds_every_range(contract):
    _, frame = contract
    assert in_ranges(frame, CONTRACT_CONDITIONS["numeric"]).all()
    assert frame["age"].between(25, 44).all() and frame["purchase_intent"].between(70, 100).all()
    # schema order, dtypes as the unconditional sampler gives them
    assert list(frame.columns) == ["age", "segment", "channel", "region", "purchase_intent"]
    assert frame["age"].dtype == np.int64 and frame["purchase_intent"].dtype == np.int64
    assert not frame.isna().any().any()


def test_contract_scenario_is_coherent(contract, reference):
    """Asking for Premium shifts purchase intent the way the seed says Premium shifts it."""
    _, frame = contract
    by_segment = frame.groupby("segment", observed=True)["purchase_intent"]
    means = by_segment.mean()
    assert means["Premium"] > means["Value"]
    premium = frame.loc[frame["segment"] == "Premium", "purchase_intent"]
    value = frame.loc[frame["segment"] == "Value", "purchase_intent"]
    assert stats.mannwhitneyu(premium, value, alternative="greater").pvalue < 0.01
    # and the per-segment intent distributions are the model's P(intent | segment, ranges)
    ref = reference.groupby("segment", observed=True)["purchase_intent"].mean()
    for level in SEGMENTS:
        sem = by_segment.std()[level] / math.sqrt(by_segment.size()[level])
        assert abs(means[level] - ref[level]) < 4 * sem + 0.3, level
    # region is unconditioned and independent of everything in the seed: stays ~uniform
    region = frame["region"].value_counts(normalize=True)
    assert (region - 0.25).abs().max() < 0.04


def _association_check(achieved, reference, estimates):
    """TVD between the achieved segment x channel table and the model's raked joint.

    The model's joint: the unconditional model sample restricted to the ranges (the ranges
    make segment and channel dependent: both raise purchase intent), raked to the target
    margins. Bound: our q0 is estimated from the reference's m restricted rows (and so is
    the engine's when it uses its pool, whose ESS is >= m: ``estimates`` = 2; it is exact
    when it comes from variable elimination: ``estimates`` = 1). Raking scales cell c's
    estimation error by q_c / q0_c, so E|error_c| <= sqrt(2/pi) * q_c / sqrt(q0_c m) per
    estimate; independent estimates add in quadrature; allocation adds at most ~2 rows per
    cell. Allow 3x.
    """
    q0 = joint(reference)
    m = q0.sum()
    margins = [np.array([0.55, 0.35, 0.10]), np.array([0.70, 0.20, 0.10])]
    expected = ipf(q0, margins)
    per_cell = np.sqrt(2 / np.pi) * expected * np.sqrt(estimates / (q0 / m * m))
    bound = 3 * (0.5 * per_cell.sum()) + 0.5 * achieved.size * 2 / achieved.sum()
    assert m > 30_000
    return tvd(achieved, expected), bound


def test_segment_channel_association_is_the_models_not_independence(contract, reference):
    _, frame = contract
    achieved = joint(frame)
    assert achieved.sum() == ROWS
    # 1. not independence: chi-square test of independence on the achieved table
    chi2, p_value, dof, _ = stats.chi2_contingency(achieved)
    assert dof == 4 and p_value < 0.01
    independent = np.outer(achieved.sum(axis=1), achieved.sum(axis=0)) / ROWS
    gap = tvd(achieved, independent)
    # 2. the model's association (q0 exact by variable elimination on this small network)
    distance, bound = _association_check(achieved, reference, estimates=1)
    print(f"restricted reference rows {len(reference)}; TVD(achieved, raked model) = "
          f"{distance:.4f} (bound {bound:.4f}); TVD(achieved, independence) = {gap:.4f}; "
          f"chi2 = {chi2:.1f}, p = {p_value:.2g}")
    assert distance < bound
    assert gap > 3 * bound


def test_pool_fallback_gives_the_same_scenario(synth, contract, reference, monkeypatch):
    """When variable elimination is too large, q0 comes from the likelihood-weighted pool:
    same exact counts and ranges, the same association up to the pool's noise."""
    drawn = []
    real_draw = conditional._Pool.draw

    def spy_draw(pool):
        out = real_draw(pool)
        drawn.append(out[1])
        return out

    monkeypatch.setattr(conditional.inference, "joint", lambda *args, **kwargs: None)
    monkeypatch.setattr(conditional._Pool, "draw", spy_draw)
    generation = synth.generate(ROWS, seed=SEED, conditions=CONTRACT_CONDITIONS)
    frame = generation.to_frame()
    assert drawn, "the pool was not used"
    weights = drawn[0]
    assert weights.size == conditional.POOL_ROWS
    assert weights.sum() ** 2 / (weights * weights).sum() >= len(reference)   # ESS >= m
    assert generation.status == "ready"
    assert frame["segment"].value_counts().to_dict() == {
        "Premium": 2750, "Mainstream": 1750, "Value": 500}
    assert frame["channel"].value_counts().to_dict() == {
        "Online": 3500, "Retail": 1000, "Club": 500}
    assert in_ranges(frame, CONTRACT_CONDITIONS["numeric"]).all()
    distance, bound = _association_check(joint(frame), reference, estimates=2)
    exact_path = tvd(joint(frame), joint(contract[1]))
    print(f"pool q0: TVD(achieved, raked model) = {distance:.4f} (bound {bound:.4f}); "
          f"TVD(pool path, exact path) = {exact_path:.4f}")
    assert distance < bound


# --- determinism ---------------------------------------------------------------------------

def test_same_seed_same_rows(synth, contract):
    _, frame = contract
    again = synth.sample(ROWS, seed=SEED, conditions=CONTRACT_CONDITIONS)
    pd.testing.assert_frame_equal(frame, again)
    other = synth.sample(ROWS, seed=SEED + 1, conditions=CONTRACT_CONDITIONS)
    assert not frame.equals(other)
    assert other["segment"].value_counts()["Premium"] == 2750     # shares still exact


@pytest.mark.slow
def test_chunk_size_does_not_change_a_byte(synth):
    n = 150_000
    small = synth.generate(n, seed=SEED, conditions=CONTRACT_CONDITIONS, chunk_rows=65536)
    large = synth.generate(n, seed=SEED, conditions=CONTRACT_CONDITIONS, chunk_rows=1 << 20)
    small_frames, large_frames = list(small.frames), list(large.frames)
    assert [len(f) for f in small_frames] == [65536, 65536, n - 2 * 65536]
    assert [len(f) for f in large_frames] == [n]
    a = pd.concat(small_frames, ignore_index=True)
    b = pd.concat(large_frames, ignore_index=True)
    pd.testing.assert_frame_equal(a, b)
    assert a["segment"].value_counts()["Premium"] == round(0.55 * n)
    assert a["channel"].value_counts()["Club"] == round(0.10 * n)


@pytest.mark.slow
def test_random_streams_are_never_reused(synth, monkeypatch):
    """Every (stream, block) generator is built once: pool, candidates, resampling, order
    and values never share random numbers (block_uniforms builds its blocks through
    block_generator, so the spy sees those too). Cells here need > 16384 rows, so their
    candidates span several blocks."""
    used = []
    real_generator = rng.block_generator

    def spy_generator(seed, stream, block):
        used.append((stream if isinstance(stream, tuple) else (stream,), block))
        return real_generator(seed, stream, block)

    monkeypatch.setattr(rng, "block_generator", spy_generator)
    synth.generate(150_000, seed=SEED, conditions=CONTRACT_CONDITIONS).to_frame()
    assert len(used) == len(set(used)), sorted(k for k in set(used) if used.count(k) > 1)


# --- share rules -----------------------------------------------------------------------------

def test_unlisted_levels_share_the_remainder_like_the_model(synth, reference):
    conditions = {"categorical": {"segment": {"Premium": 0.5}},
                  "numeric": CONTRACT_CONDITIONS["numeric"]}
    frame = synth.sample(ROWS, seed=SEED, conditions=conditions)
    counts = frame["segment"].value_counts()
    assert counts["Premium"] == 2500
    assert counts["Mainstream"] + counts["Value"] == 2500
    # the model restricted to the ranges (reference): Mainstream ~9.9%, Value ~8.0%
    model = reference["segment"].value_counts(normalize=True)
    assert model["Mainstream"] > model["Value"]
    assert counts["Mainstream"] > counts["Value"]
    want = 2500 * model["Mainstream"] / (model["Mainstream"] + model["Value"])
    assert abs(counts["Mainstream"] - want) < 0.04 * 2500, (counts.to_dict(), want)
    # which is not the unrestricted model's split (seed: Mainstream 45%, Value 35%)
    assert synth.sample(ROWS, seed=SEED, conditions={"categorical": {
        "segment": {"Premium": 0.5}}})["segment"].value_counts()["Premium"] == 2500


def test_all_levels_listed_below_one_are_rescaled(synth):
    conditions = {"categorical": {"segment": {"Premium": 0.45, "Mainstream": 0.27,
                                              "Value": 0.18}},
                  "numeric": CONTRACT_CONDITIONS["numeric"]}
    frame = synth.sample(ROWS, seed=SEED, conditions=conditions)
    assert frame["segment"].value_counts().to_dict() == {"Premium": 2500, "Mainstream": 1500,
                                                        "Value": 1000}


def test_zero_share_level_never_appears(synth):
    conditions = {"categorical": {"segment": {"Value": 0, "Premium": 0.6},
                                  "channel": {"Club": 0.0}},
                  "numeric": CONTRACT_CONDITIONS["numeric"]}
    generation = synth.generate(ROWS, seed=SEED, conditions=conditions)
    frame = generation.to_frame()
    assert generation.status == "ready"
    segments = frame["segment"].value_counts()
    assert segments["Value"] == 0 and "Value" not in set(frame["segment"])
    assert segments[segments > 0].to_dict() == {"Premium": 3000, "Mainstream": 2000}
    assert "Club" not in set(frame["channel"])
    assert in_ranges(frame, conditions["numeric"]).all()


@pytest.mark.parametrize("numeric", [
    CONTRACT_CONDITIONS["numeric"],
    {"purchase_intent": {"min": 72, "max": 100}},
    {"purchase_intent": {"min": 85, "max": 100}},   # cuts the top bin: per-parent evidence
], ids=["contract-ranges", "intent-72-100", "intent-85-100"])
def test_ranges_only_is_the_model_restricted_to_the_ranges(synth, big_sample, numeric):
    n = 20_000
    generation = synth.generate(n, seed=SEED, conditions={"numeric": numeric})
    frame = generation.to_frame()
    assert generation.status == "ready" and len(frame) == n
    assert generation.upweight_needed == 1.0
    assert in_ranges(frame, numeric).all()
    # segment shares are the unconditional model's inside the ranges
    ref = big_sample[in_ranges(big_sample, numeric)]
    got = frame["segment"].value_counts(normalize=True)
    want = ref["segment"].value_counts(normalize=True)
    z = (got - want) / np.sqrt(want * (1 - want) / len(ref) + got * (1 - got) / n)
    print(f"{numeric}: reference rows {len(ref)}, engine {got.round(4).to_dict()}, model "
          f"{want.round(4).to_dict()}, z {z.round(1).to_dict()}")
    assert z.abs().max() < 4.5


def test_row_count_one(synth):
    frame = synth.sample(1, seed=SEED, conditions=CONTRACT_CONDITIONS)
    assert len(frame) == 1
    assert frame["segment"].iloc[0] == "Premium" and frame["channel"].iloc[0] == "Online"


# --- partial -------------------------------------------------------------------------------

TIGHT = {"categorical": {"segment": {"Value": 0.95, "Mainstream": 0.03, "Premium": 0.02}},
         "numeric": {"purchase_intent": {"min": 85, "max": 100}, "age": {"min": 18, "max": 25}}}


def test_tight_scenario_is_partial_with_exact_shares(synth):
    generation = synth.generate(ROWS, seed=SEED, conditions=TIGHT)
    frame = generation.to_frame()
    got = generation.rows_generated
    assert generation.status == "partial"
    assert 0 < got < ROWS and len(frame) == got
    # the up-weight cap binds: Value is ~3% of the range-restricted model, asked at 95%
    assert generation.upweight_needed > synth.max_upweight == 20.0
    assert abs(got - ROWS * synth.max_upweight / generation.upweight_needed) <= 1
    want = largest_remainder(np.array([0.95, 0.03, 0.02]), got)
    counts = frame["segment"].value_counts()
    assert [counts.get(k, 0) for k in ("Value", "Mainstream", "Premium")] == want.tolist()
    assert in_ranges(frame, TIGHT["numeric"]).all()
    print(f"partial: {got} of {ROWS} rows, up-weight needed {generation.upweight_needed:.2f}")


@pytest.mark.slow
def test_partial_never_returns_more_rows_and_scales_with_the_request(synth):
    ratio = synth.max_upweight / synth.generate(ROWS, seed=SEED, conditions=TIGHT
                                                ).upweight_needed
    for n in (100, 1000, 20_000):
        generation = synth.generate(n, seed=SEED, conditions=TIGHT)
        assert generation.status == "partial"
        assert generation.rows_generated == int(n * ratio) <= n
        assert len(generation.to_frame()) == generation.rows_generated
    # one row asked, a fraction of a row allowed: rounds down to none, which is an error
    with pytest.raises(SimioError) as info:
        synth.generate(1, seed=SEED, conditions=TIGHT)
    assert info.value.code == "simio_infeasible_scenario"


def test_a_larger_cap_makes_the_tight_scenario_ready(synth):
    from engine.sampling.conditions import parse_conditions
    scenario = parse_conditions(synth.schema_, TIGHT)
    draw = conditional.draw_conditional(synth.model_, ROWS, scenario, SEED, max_upweight=500.0)
    assert draw.status == "ready" and draw.rows_generated == ROWS
    assert 20.0 < draw.upweight_needed <= 500.0
    with pytest.raises(ValueError):
        conditional.draw_conditional(synth.model_, ROWS, scenario, SEED, max_upweight=0.5)


@pytest.fixture(scope="module")
def chain_synth() -> Synthesizer:
    """x_i -> y_i pairs: ranges on the x's make the candidates' weights very uneven."""
    gen = np.random.default_rng(2)
    n, data = 1000, {}
    for i in range(3):
        y = gen.normal(0, 1, n)
        data[f"y{i}"] = y.round(4)
        data[f"x{i}"] = (y + gen.normal(0, 0.3, n)).round(4)
    return Synthesizer().fit(pd.DataFrame(data))


@pytest.mark.slow
def test_candidate_ess_cap_makes_ranges_only_scenario_partial(chain_synth):
    frame_seed = chain_synth.model_
    edges = set(frame_seed.edges)
    conditions = {"numeric": {}}
    for i in range(3):
        child = f"x{i}" if (f"y{i}", f"x{i}") in edges else f"y{i}"
        lo = float(np.quantile(chain_synth.sample(20_000, seed=1)[child], 0.8))
        conditions["numeric"][child] = {"min": lo, "max": 100.0}
    generation = chain_synth.generate(2000, seed=SEED, conditions=conditions)
    frame = generation.to_frame()
    # no categorical condition: the up-weight cap cannot bind, the ESS cap does
    assert generation.upweight_needed == 1.0
    assert generation.status == "partial" and 0 < generation.rows_generated < 2000
    assert in_ranges(frame, conditions["numeric"]).all()
    print(f"ESS-capped partial: {generation.rows_generated} of 2000 rows")


# --- infeasible ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def kind_synth() -> Synthesizer:
    """Level X only ever has v = 1.5, level Y only v = 3.5 (two point-mass bins)."""
    gen = np.random.default_rng(0)
    n = 400
    kind = np.where(gen.random(n) < 0.3, "X", "Y")
    # auto_clean=False: no relation detection, so kind stays a plain parent of v whose
    # probit table is degenerate (with it, kind is an exact band of v: see test_relations)
    return Synthesizer(auto_clean=False).fit(pd.DataFrame({
        "kind": kind, "v": np.where(kind == "X", 1.5, 3.5),
        "other": gen.choice(["a", "b", "c"], n), "w": gen.normal(0, 1, n).round(3)}))


def _infeasible(synth, conditions, n=1000) -> SimioError:
    with pytest.raises(SimioError) as info:
        synth.generate(n, seed=SEED, conditions=conditions)
    assert info.value.code == "simio_infeasible_scenario"
    assert info.value.status == 400
    return info.value


def test_level_with_zero_probability_inside_the_ranges(kind_synth):
    # v is a child of kind whose table gives P(v=3.5 | X) exactly 0.0 in floating point
    # (a degenerate probit: kind predicts v perfectly), so X has no mass inside v in [3, 4].
    model = kind_synth.model_
    assert ("kind", "v") in model.edges
    v = model.schema_.names.index("v")
    assert model.parents_[v] == (0,) and model.tables_[v][0, 1] == 0.0
    err = _infeasible(kind_synth, {"categorical": {"kind": {"X": 0.5}},
                                   "numeric": {"v": {"min": 3, "max": 4}}})
    assert "'X'" in err.detail and "'kind'" in err.detail
    assert err.context == {"column": "kind", "level": "X"}
    # share 0 for the impossible level is fine
    frame = kind_synth.sample(100, seed=SEED, conditions={
        "categorical": {"kind": {"X": 0, "Y": 1}}, "numeric": {"v": {"min": 3, "max": 4}}})
    assert (frame["kind"] == "Y").all() and (frame["v"] == 3.5).all()


def test_level_with_negligible_probability_is_infeasible(kind_synth):
    # P(v=1.5 | Y) is ~1e-84: not zero, but no row fits under the caps
    err = _infeasible(kind_synth, {"categorical": {"kind": {"Y": 0.5}},
                                   "numeric": {"v": {"min": 1, "max": 2}}})
    assert "not even one row" in err.detail


@pytest.mark.parametrize("numeric", [
    {"v": {"min": 2.5, "max": 3.0}},          # between the two point-mass values
    {"w": {"min": 0.5, "max": 0.5}},          # an empty interval of a continuous column
])
def test_ranges_that_exclude_every_value(kind_synth, numeric):
    err = _infeasible(kind_synth, {"numeric": numeric})
    assert "No row can satisfy the numeric ranges" in err.detail


def test_shares_that_contradict_each_other_under_the_ranges():
    """v = A + B (+0.5): inside v in [1, 2] only (a0, b1) and (a1, b0) are possible, so
    A=a0 and B=b0 cannot both be the majority."""
    gen = np.random.default_rng(1)
    n = 600
    a = gen.choice(["a0", "a1"], n)
    b = gen.choice(["b0", "b1"], n)
    synth = Synthesizer().fit(pd.DataFrame({
        "A": a, "B": b, "v": (a == "a1").astype(float) + (b == "b1") + 0.5,
        "w": gen.normal(0, 1, n).round(3)}))
    err = _infeasible(synth, {"categorical": {"A": {"a0": 0.7}, "B": {"b0": 0.7}},
                              "numeric": {"v": {"min": 1, "max": 2}}})
    assert "cannot all hold at once" in err.detail and "A, B" in err.detail
    # consistent shares on the same support work, and stay on it
    frame = synth.sample(1000, seed=SEED, conditions={
        "categorical": {"A": {"a0": 0.3}, "B": {"b0": 0.7}},
        "numeric": {"v": {"min": 1, "max": 2}}})
    pairs = frame.groupby(["A", "B"], observed=True).size().to_dict()
    assert pairs == {("a0", "b1"): 300, ("a1", "b0"): 700}


# --- exactness on a network small enough to enumerate -------------------------------------------

@pytest.fixture(scope="module")
def small_synth() -> Synthesizer:
    """A (2) <- B (3 + missing) -> C (2); N in 1..4 depends on A and C."""
    gen = np.random.default_rng(42)
    n = 3000
    a = np.where(gen.random(n) < 0.6, "a0", "a1")
    p_b = {"a0": [0.6, 0.3, 0.1], "a1": [0.1, 0.3, 0.6]}
    b = np.array([gen.choice(["b0", "b1", "b2"], p=p_b[x]) for x in a], dtype=object)
    p_c = {"b0": [0.8, 0.2], "b1": [0.5, 0.5], "b2": [0.2, 0.8]}
    c = np.array([gen.choice(["c0", "c1"], p=p_c[x]) for x in b])
    num = 1 + np.clip(np.round(1.5 + (a == "a1") * 0.8 + (c == "c1") * 0.8
                               + gen.normal(0, 0.7, n)), 0, 3).astype(int)
    b[gen.random(n) < 0.08] = None
    return Synthesizer().fit(pd.DataFrame({"A": a, "B": b, "C": c, "N": num}))


def model_joint(model) -> np.ndarray:
    """P(x) for every state combination, from the fitted tables (axes = nodes)."""
    encs = model.encodings_
    dims = [e.n_states for e in encs]
    p = np.zeros(dims)
    for state in itertools.product(*(range(k) for k in dims)):
        prob = 1.0
        for j, (parents, kind) in enumerate(zip(model.parents_, model.node_kinds)):
            # row-major over the parents, each parent code mapped to the state the child's
            # table distinguishes (numeric parents of a count table: coarse groups)
            row = 0
            for q in parents:
                row = (row * parent_states(encs[j], encs[q], kind)
                       + int(parent_state_map(encs[j], encs[q], kind)[state[q]]))
            prob *= model.tables_[j][row, state[j]]
        p[state] = prob
    return p


@pytest.mark.slow
def test_conditioned_draw_matches_the_enumerated_scenario(small_synth):
    model = small_synth.model_
    names = [e.name for e in model.encodings_]
    assert names == ["A", "B", "C", "N"]
    n_enc = model.encodings_[3]
    assert n_enc.n_bins == 4 and (n_enc.n_knots == 1).all()   # each integer its own bin
    b_missing = model.encodings_[1].missing_state
    assert b_missing == 3
    p = model_joint(model)
    assert p.sum() == pytest.approx(1.0, abs=1e-12)

    conditions = {"categorical": {"A": {"a0": 0.3, "a1": 0.7},
                                  "B": {"b0": 0.2, "b1": 0.4, "b2": 0.3}},   # sum 0.9
                  "numeric": {"N": {"min": 2, "max": 4}}}
    # the scenario, computed exactly: restrict N to {2, 3, 4} (states 1..3) ...
    restricted = p.copy()
    restricted[:, :, :, 0] = 0.0
    restricted /= restricted.sum()
    q0 = restricted.sum(axis=(2, 3))                             # (A, B-with-missing)
    # ... targets: A as given; B's listed levels as given, the only unlisted state (missing)
    # takes the remainder 0.1 ...
    targets = [np.array([0.3, 0.7]), np.array([0.2, 0.4, 0.3, 0.1])]
    q = ipf(q0, targets)
    # ... and every other column follows P(rest | A, B, range)
    scenario = restricted * (q / q0)[:, :, None, None]
    assert scenario.sum() == pytest.approx(1.0, abs=1e-9)

    n = 200_000
    generation = small_synth.generate(n, seed=SEED, conditions=conditions)
    frame = generation.to_frame()
    assert generation.status == "ready" and len(frame) == n
    codes = np.column_stack([
        frame["A"].cat.codes.to_numpy(),
        np.where(frame["B"].isna(), b_missing, frame["B"].cat.codes.to_numpy()),
        frame["C"].cat.codes.to_numpy(),
        frame["N"].to_numpy() - 1])
    assert (codes[:, 3] >= 1).all()
    empirical = np.zeros(p.shape)
    np.add.at(empirical, tuple(codes.T), 1)

    # exact margins on the conditioned columns (B's missing state included)
    np.testing.assert_array_equal(empirical.sum(axis=(1, 2, 3)), [60_000, 140_000])
    np.testing.assert_array_equal(empirical.sum(axis=(0, 2, 3)),
                                  [40_000, 80_000, 60_000, 20_000])
    # the whole joint: E[TVD] <= 0.5 sqrt(cells / n) for n multinomial draws; allow 3x
    cells = int((scenario > 0).sum())
    bound = 3 * 0.5 * math.sqrt(cells / n)
    distance = tvd(empirical, scenario)
    # power: the same rows with B fixed independently of A (an intervention on the
    # conditioned cells instead of conditioning) would be far off
    independent = restricted * (np.outer(*targets) / q0)[:, :, None, None]
    wrong = tvd(independent, scenario)
    print(f"cells {cells}, n {n}: TVD(empirical, exact scenario) = {distance:.4f} "
          f"(bound {bound:.4f}); TVD(independent cells, exact) = {wrong:.4f}")
    assert distance < bound
    assert wrong > 3 * bound
    # the unconditioned column C follows the conditioned ones: its margin moved from the
    # model's and matches the scenario's
    c_scenario = scenario.sum(axis=(0, 1, 3))
    c_model = p.sum(axis=(0, 1, 3))
    c_empirical = empirical.sum(axis=(0, 1, 3)) / n
    assert abs(c_scenario[0] - c_model[0]) > 0.03
    assert abs(c_empirical[0] - c_scenario[0]) < 0.01
