"""Exact relations (issue 11): detected at fit, kept in the output, regenerated exactly,
respected by conditioning in both directions, recorded in decisions and model files."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from engine import Synthesizer
from engine.errors import SimioError

CUTS, LABELS = [0, 25, 35, 45, 200], ["<25", "25-34", "35-44", "45+"]


def band(age):
    return pd.cut(pd.Series(age), CUTS, right=False, labels=LABELS).astype(str).to_numpy()


def region_of(state):
    return np.array([f"R{int(s[1:]) // 3}" for s in pd.Series(state).astype(str)])


def seed_table(n: int = 1500, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    age = rng.integers(18, 80, n)
    price = rng.integers(20, 500, n).astype(float)
    discount = np.round(price * rng.choice([0.05, 0.15], n))
    state = rng.choice([f"S{i}" for i in range(12)], n)
    return pd.DataFrame({
        "age": age, "age_band": band(age), "price": price, "discount": discount,
        "sale_price": price - discount, "log_price": np.log(price).round(4),
        "price_eur": (price * 0.92).round(2), "state": state, "region": region_of(state),
        "score": (age * 0.3 + rng.normal(0, 3, n)).round(1)})


def holds(frame: pd.DataFrame) -> dict[str, float]:
    """Share of rows where each relation holds (half the last decimal as tolerance)."""
    num = {c: pd.to_numeric(frame[c]).astype(float) for c in
           ("age", "price", "discount", "sale_price", "log_price", "price_eur")}
    return {
        "band": float(np.mean(band(num["age"]) == frame["age_band"].astype(str).to_numpy())),
        "sum": float(np.mean(num["sale_price"] == num["price"] - num["discount"])),
        "log": float(np.mean(np.abs(num["log_price"] - np.log(num["price"])) <= 5e-5 + 1e-9)),
        "affine": float(np.mean(np.abs(num["price_eur"] - 0.92 * num["price"]) <= 5e-3 + 1e-9)),
        "nested": float(np.mean(region_of(frame["state"]) == frame["region"].astype(str))),
    }


@pytest.fixture(scope="module")
def synth():
    return Synthesizer().fit(seed_table())


def test_every_relation_is_detected_and_recorded(synth):
    found = {(r["kind"], r["target"], tuple(r["sources"])) for r in synth.model_.relations_}
    assert found == {("affine", "price_eur", ("price",)), ("log", "log_price", ("price",)),
                     ("sum", "sale_price", ("price", "discount")),
                     ("band", "age_band", ("age",)), ("nested", "region", ("state",))}
    derived = {d["column"] for d in synth.cleaning_decisions_ if d["action"] == "derive_column"}
    assert derived == {"price_eur", "log_price", "sale_price", "age_band", "region"}
    assert not [d for d in synth.cleaning_decisions_ if d["action"] == "drop_column"]
    assert all(r["enforced"] for r in synth.model_.relations_ if r["kind"] in ("band", "nested"))


def test_relations_are_exact_in_every_row(synth):
    out = synth.sample(20_000, seed=1)
    assert list(out.columns) == list(seed_table().columns)
    assert holds(out) == {k: 1.0 for k in ("band", "sum", "log", "affine", "nested")}


@pytest.mark.parametrize("conditions, check", [
    ({"categorical": {"age_band": {"25-34": 0.7, "45+": 0.3}}},         # band -> source
     lambda f: f["age"].between(25, 34).mean() == pytest.approx(0.7, abs=1e-3)
     and (f["age"] >= 25).all()),
    ({"numeric": {"age": {"min": 30, "max": 40}}},                      # source -> band
     lambda f: set(f["age_band"].astype(str)) == {"25-34", "35-44"}),
    ({"categorical": {"state": {"S4": 0.5, "S7": 0.5}}},                # child -> parent
     lambda f: f["region"].astype(str).value_counts().to_dict() == {"R1": 2500, "R2": 2500}),
    ({"categorical": {"region": {"R0": 0.6, "R3": 0.4}}},               # parent -> child
     lambda f: set(f["state"].astype(str)) <= {"S0", "S1", "S2", "S9", "S10", "S11"}),
    ({"numeric": {"price_eur": {"min": 100, "max": 200},                # derived -> source
                  "log_price": {"min": 4.0, "max": 5.2}}},
     lambda f: f["price_eur"].between(100, 200).all() and f["log_price"].between(4, 5.2).all()
     and f["price"].between(100 / 0.92, 200 / 0.92).all()),
])
def test_conditioning_respects_relations_both_ways(synth, conditions, check):
    out = synth.sample(5000, seed=2, conditions=conditions)
    assert len(out) == 5000
    assert holds(out) == {k: 1.0 for k in ("band", "sum", "log", "affine", "nested")}
    assert check(out)


def test_a_range_on_a_sum_target_names_its_parts(synth):
    with pytest.raises(SimioError) as info:
        synth.sample(100, seed=1, conditions={"numeric": {"sale_price": {"min": 50, "max": 90}}})
    assert info.value.code == "simio_condition_column_excluded"
    assert "'price'" in info.value.detail and "'discount'" in info.value.detail
    assert synth.schema_["sale_price"].conditioning_excluded          # the schema says so
    assert not synth.schema_["price_eur"].conditioning_excluded


def test_relations_survive_save_and_load(synth, tmp_path):
    path = synth.save(tmp_path / "m.simio")
    loaded = Synthesizer.load(path)
    assert loaded.model_.relations_ == synth.model_.relations_
    pd.testing.assert_frame_equal(loaded.sample(3000, seed=4), synth.sample(3000, seed=4))


def test_near_relations_are_not_taken_for_exact_ones():
    rng = np.random.default_rng(3)
    n = 800
    x = rng.normal(100, 10, n).round(2)
    frame = pd.DataFrame({"x": x, "y": (2 * x + rng.normal(0, 0.05, n)).round(2),
                          "g": np.where(x + rng.normal(0, 3, n) > 100, "hi", "lo")})
    synth = Synthesizer().fit(frame)
    assert synth.model_.relations_ == []


def test_a_source_is_never_derived_itself():
    """Chains (c = b, b = a - d) keep every source free, so each target is computed
    from sampled columns only."""
    rng = np.random.default_rng(4)
    n = 300
    a, d = rng.integers(0, 50, n), rng.integers(0, 50, n)
    frame = pd.DataFrame({"a": a, "d": d, "b": a - d, "c": a - d})
    synth = Synthesizer().fit(frame)
    targets = {r["target"] for r in synth.model_.relations_}
    sources = {s for r in synth.model_.relations_ for s in r["sources"]}
    assert targets and not targets & sources
    out = synth.sample(2000, seed=3)
    assert (out["b"] == out["a"] - out["d"]).all() and (out["c"] == out["b"]).all()
