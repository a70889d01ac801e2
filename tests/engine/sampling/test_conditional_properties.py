"""Property tests: random valid scenarios on a small fitted model.

Whatever the scenario, a generation either raises ``simio_infeasible_scenario`` or returns
between 1 and ``row_count`` rows, every row inside every (clamped) range, and each
conditioned column's state counts exactly the largest-remainder counts of
``rows_generated`` x its normalised target (the missing state included).

The normalised target of a column is the one documented in docs/conditioning.md: listed
levels keep their shares; the remainder goes to the unlisted states in proportion to the
model restricted to the ranges; if no unlisted state has mass, the listed shares are
rescaled to sum 1. The engine's own normalised targets are captured with a spy and checked
against that rule, then the counts are checked against them.
"""

import contextlib
import math
from unittest import mock

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from engine.errors import SimioError
from engine.sampling import conditional
from engine.sampling.conditional import largest_remainder
from engine.synthesizer import Synthesizer

LEVELS = {"g": ["g0", "g1", "g2"], "h": ["h0", "h1"], "t": ["lo", "mid", "hi"]}
NUMERIC = ("x", "k")


def _seed_frame(n: int = 500, seed: int = 3) -> pd.DataFrame:
    gen = np.random.default_rng(seed)
    g = gen.choice(LEVELS["g"], n, p=[0.5, 0.3, 0.2]).astype(object)
    h = np.where(gen.random(n) < np.where(g == "g0", 0.7, 0.3), "h0", "h1")
    x = gen.normal(0, 1, n) + (g == "g1") * 1.0 - (h == "h1") * 0.8
    k = np.clip(np.round(10 + 3 * x + gen.normal(0, 2, n)), 0, 25).astype(int)
    t = np.where(x > 0.8, "hi", np.where(x > -0.5, "mid", "lo"))
    t = np.where(gen.random(n) < 0.15, gen.choice(LEVELS["t"], n), t)
    g[gen.random(n) < 0.06] = None                        # g has a missing state
    return pd.DataFrame({"g": g, "h": h, "x": x.round(3), "k": k, "t": t})


@pytest.fixture(scope="module")
def fitted() -> Synthesizer:
    synth = Synthesizer().fit(_seed_frame())
    assert synth.schema_.names == ["g", "h", "x", "k", "t"]
    assert synth.model_.encodings_[0].missing_state == 3
    assert all(sorted(synth.schema_[c].levels) == sorted(LEVELS[c]) for c in LEVELS)
    return synth


@st.composite
def scenarios(draw):
    categorical = {}
    for name, levels in LEVELS.items():
        if not draw(st.booleans()):
            continue
        listed = draw(st.lists(st.sampled_from(levels), min_size=1, max_size=len(levels),
                               unique=True))
        weights = draw(st.lists(st.sampled_from([0.0, 0.01, 0.2, 0.5, 1.0, 5.0]),
                                min_size=len(listed), max_size=len(listed)))
        if sum(weights) == 0:
            weights[0] = 1.0
        total = draw(st.sampled_from([1.0, 1.0, 0.9, 0.5, 0.1]))
        shares = {lvl: total * w / sum(weights) for lvl, w in zip(listed, weights)}
        if len(listed) == len(levels) and all(v == 0 for v in shares.values()):
            continue
        categorical[name] = shares
    numeric = {}
    # ranges reach past the schema's (clamping); widths from a point to everything
    for name, (lo, hi) in (("x", (-3.5, 4.5)), ("k", (-2.0, 27.0))):
        if draw(st.booleans()):
            a = draw(st.floats(lo, hi, allow_nan=False))
            width = draw(st.sampled_from([0.0, 0.05, 0.2, 0.5, 1.0, 1.0]))
            b = min(hi, a + width * (hi - lo) * draw(st.floats(0.0, 1.0)))
            numeric[name] = {"min": a, "max": b}
    return {"categorical": categorical, "numeric": numeric}


@contextlib.contextmanager
def capture_targets():
    """Record the normalised target the engine computes for each conditioned column."""
    seen = {}
    real = conditional._target_margin

    def spy(model, scenario, name, node, q0, axis):
        out = real(model, scenario, name, node, q0, axis)
        other = tuple(i for i in range(q0.ndim) if i != axis)
        seen[name] = (out.copy(), q0.sum(axis=other))
        return out

    with mock.patch.object(conditional, "_target_margin", spy):
        yield seen


def check_target_rule(levels, n_states, shares, target, model_margin):
    """The documented remainder / rescaling rule, for one column."""
    assert target.shape == (n_states,)
    assert target.sum() == pytest.approx(1.0, abs=1e-12)
    assert (target >= 0).all()
    listed = np.array([lvl in shares for lvl in levels] + [False] * (n_states - len(levels)))
    given_ = np.array([shares.get(lvl, 0.0) for lvl in levels]
                      + [0.0] * (n_states - len(levels)))
    total = given_.sum()
    unlisted_mass = model_margin[~listed].sum()
    if total < 1 and unlisted_mass > 0:
        np.testing.assert_allclose(target[listed], given_[listed], atol=1e-12)
        want = (1 - total) * model_margin[~listed] / unlisted_mass
        np.testing.assert_allclose(target[~listed], want, rtol=1e-9, atol=1e-15)
    else:
        np.testing.assert_allclose(target[listed], given_[listed] / total, atol=1e-12)
        assert (target[~listed] == 0).all()
    assert (target[listed & (given_ == 0)] == 0).all()


def state_codes(column: pd.Series, levels, missing_state) -> np.ndarray:
    codes = pd.Categorical(column, categories=levels).codes.astype(np.int64)
    return np.where(column.isna().to_numpy(), missing_state, codes)


@pytest.mark.slow
@settings(max_examples=30, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(conditions=scenarios(), row_count=st.integers(1, 3000),
       seed=st.integers(0, 2**63 - 1), max_upweight=st.sampled_from([20.0, 20.0, 3.0, 1.5]))
def test_random_scenarios(fitted, conditions, row_count, seed, max_upweight):
    # the fitted model under a (possibly tighter) feasibility cap, so partial is common
    synth = Synthesizer(max_upweight=max_upweight)
    synth.model_, synth.schema_ = fitted.model_, fitted.schema_
    model = synth.model_
    with capture_targets() as targets:
        try:
            generation = synth.generate(row_count, seed=seed, conditions=conditions)
        except SimioError as err:
            assert err.code == "simio_infeasible_scenario", err
            event("infeasible: " + err.detail.split(";")[0][:60])
            return
        frame = generation.to_frame()
    got = generation.rows_generated
    assert 1 <= got <= row_count
    assert generation.rows_requested == row_count
    assert len(frame) == got
    assert generation.status == ("ready" if got == row_count else "partial")
    event(generation.status)
    assert list(frame.columns) == model.schema_.names

    for name, bounds in conditions["numeric"].items():
        column = model.schema_[name]
        lo, hi = max(bounds["min"], column.min), min(bounds["max"], column.max)
        values = frame[name]
        assert values.notna().all(), name
        assert ((values >= lo) & (values <= hi)).all(), (name, lo, hi, values.min(),
                                                          values.max())
        assert ((values >= bounds["min"]) & (values <= bounds["max"])).all()

    for name, shares in conditions["categorical"].items():
        enc = model.encodings_[model.schema_.names.index(name)]
        levels = model.schema_[name].levels
        target, model_margin = targets[name]
        if enc.missing_state >= 0 and target[enc.missing_state] > 0:
            event("missing state takes part of the remainder")
        check_target_rule(levels, enc.n_states, shares, target, model_margin)
        codes = state_codes(frame[name], levels, enc.missing_state)
        counts = np.bincount(codes, minlength=enc.n_states)
        want = largest_remainder(target, got)
        assert counts.tolist() == want.tolist(), (name, shares, counts, want, got)
        for level, share in shares.items():
            if share == 0:
                assert level not in set(frame[name].dropna())
            else:
                # within one row of rows_generated x normalised share
                assert abs(counts[levels.index(level)] - got * target[levels.index(level)]) < 1


def test_property_model_has_what_the_properties_need(fitted):
    """Sanity of the fixture: a mix of kinds, a missing state, integer and double ranges."""
    schema = fitted.schema_
    assert [schema[c].kind for c in schema.names] == ["categorical", "categorical", "numeric",
                                                     "numeric", "categorical"]
    assert schema["k"].is_integer and not schema["x"].is_integer
    assert math.isclose(schema["g"].missing_rate, 0.06, abs_tol=0.03)
