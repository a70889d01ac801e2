"""Bounded cost and honest refusals of scenario conditions: the cap on conditioned level
combinations (decided from the schema, before anything is allocated) and columns that
cleaning dropped (named as dropped, with the cleaning summary's reason)."""

import tracemalloc

import numpy as np
import pandas as pd
import pytest

from engine.errors import CATALOGUE, SimioError
from engine.sampling import conditional
from engine.sampling.conditions import MAX_CONDITION_CELLS, Scenario, parse_conditions
from engine.schema import Column, Schema
from engine.synthesizer import Synthesizer


def _wide_schema(n_columns: int, n_levels: int, missing: bool = False) -> Schema:
    return Schema([Column(f"c{i}", "factor", f"c{i}",
                          levels=[f"l{k:02d}" for k in range(n_levels)],
                          missing_rate=0.1 if missing else 0.0) for i in range(n_columns)])


def _conditions(n_columns: int) -> dict:
    return {"categorical": {f"c{i}": {"l00": 0.5} for i in range(n_columns)}}


def test_three_twenty_level_columns_with_missing_values_fit_under_the_cap():
    scenario = parse_conditions(_wide_schema(3, 20, missing=True), _conditions(3))
    assert len(scenario.categorical) == 3
    assert 21 ** 3 <= MAX_CONDITION_CELLS


def test_too_many_cells_is_refused_from_the_schema_without_allocating():
    schema = _wide_schema(6, 30)                       # 30^6 = 729,000,000 combinations
    tracemalloc.start()
    try:
        with pytest.raises(SimioError) as info:
            parse_conditions(schema, _conditions(6))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    err = info.value
    assert err.code == "simio_too_many_condition_cells" and err.status == 400
    assert "729,000,000" in err.detail and f"{MAX_CONDITION_CELLS:,}" in err.detail
    assert "fewer categorical columns" in err.detail
    assert err.context == {"cells": 30 ** 6, "max_cells": MAX_CONDITION_CELLS}
    assert peak < 256 * 1024            # nothing the size of the table was ever built
    assert CATALOGUE[err.code].fix.endswith(".")


def test_the_cap_counts_the_missing_state():
    n_levels = int(round(MAX_CONDITION_CELLS ** 0.5))  # 141^2 fits, 142^2 does not
    conditions = _conditions(2)
    parse_conditions(_wide_schema(2, n_levels), conditions)
    with pytest.raises(SimioError) as info:
        parse_conditions(_wide_schema(2, n_levels, missing=True), conditions)
    assert info.value.code == "simio_too_many_condition_cells"


def test_the_sampler_checks_the_cap_on_the_models_tables_too():
    """A scenario built by hand (not through parse_conditions) is refused the same way
    before q0 is computed."""
    gen = np.random.default_rng(0)
    # declared categoricals (factor), so free text's level bound does not apply
    frame = pd.DataFrame({f"c{i}": pd.Categorical(
        gen.choice([f"l{k:03d}" for k in range(150)], 3000)) for i in range(2)})
    synth = Synthesizer(auto_clean=False).fit(frame)
    scenario = Scenario(categorical={"c0": {"l000": 0.5}, "c1": {"l000": 0.5}})
    with pytest.raises(SimioError) as info:
        conditional.draw_conditional(synth.model_, 100, scenario, seed=1)
    assert info.value.code == "simio_too_many_condition_cells"


# --- columns cleaning dropped ---------------------------------------------------------------

@pytest.fixture(scope="module")
def dropped_synth() -> Synthesizer:
    gen = np.random.default_rng(3)
    n = 400
    return Synthesizer().fit(pd.DataFrame({
        "Customer ID": np.arange(n),                       # an identifier: dropped
        "country": ["NL"] * n,                             # a constant: dropped
        "segment": gen.choice(["a", "b", "c"], n),
        "spend": gen.gamma(2.0, 10.0, n).round(2)}))


@pytest.mark.parametrize("name, part, condition", [
    ("Customer ID", "numeric", {"min": 1, "max": 5}),      # the header as in the seed
    ("Customer_ID", "numeric", {"min": 1, "max": 5}),      # the name cleaning would give it
    ("country", "categorical", {"NL": 1.0}),
])
def test_dropped_column_names_the_drop_reason(dropped_synth, name, part, condition):
    dropped = {d["name"]: d["reason"] for d in dropped_synth.cleaning_summary_["dropped_columns"]}
    header = "Customer ID" if name.startswith("Customer") else name
    assert header in dropped
    with pytest.raises(SimioError) as info:
        dropped_synth.generate(10, seed=1, conditions={part: {name: condition}})
    err = info.value
    assert err.code == "simio_condition_column_dropped" and err.status == 400
    assert f"{name!r}" in err.detail and dropped[header] in err.detail
    assert "dropped by cleaning" in err.detail and "auto_clean: false" in err.detail
    assert err.context == {"column": name, "reason": dropped[header]}


def test_a_column_never_in_the_seed_is_still_unknown(dropped_synth):
    with pytest.raises(SimioError) as info:
        dropped_synth.generate(10, seed=1, conditions={"numeric": {"nope": {"min": 1, "max": 2}}})
    assert info.value.code == "simio_unknown_condition_column"


# --- bounded cost inside the cap; convergence never reported as infeasibility --------------

def test_three_twenty_level_columns_generate_exactly_in_bounded_memory():
    gen = np.random.default_rng(5)
    n = 6000
    a = gen.integers(0, 20, n)
    b = (a + gen.integers(0, 6, n)) % 20
    c = (b + gen.integers(0, 6, n)) % 20
    synth = Synthesizer().fit(pd.DataFrame({"a": [f"a{i:02d}" for i in a],
                                            "b": [f"b{i:02d}" for i in b],
                                            "c": [f"c{i:02d}" for i in c]}))
    conditions = {"categorical": {"a": {"a00": 0.3, "a19": 0.2}, "b": {"b05": 0.25},
                                  "c": {"c10": 0.3, "c11": 0.1}}}
    tracemalloc.start()
    try:
        generation = synth.generate(3000, seed=11, conditions=conditions)
        frame = generation.to_frame()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 256 * 1024 * 1024            # the dense (2 x 8000)^2 program was ~2 GB
    rows = generation.rows_generated
    assert 0 < rows <= 3000
    for column, shares in conditions["categorical"].items():
        counts = frame[column].value_counts()
        for level, share in shares.items():
            assert abs(counts.get(level, 0) - share * rows) < 1, (column, level)


def test_allocation_beyond_the_exact_program_bound_keeps_the_moves_table():
    """Past MAX_EXACT_CELLS the integer program is not tried: bounded time and memory, and
    the unit moves' table (margins exact whenever the moves get through)."""
    gen = np.random.default_rng(1)
    q = gen.dirichlet(np.ones(21 ** 3)).reshape(21, 21, 21)
    q[q < np.quantile(q, 0.3)] = 0.0
    q /= q.sum()
    margins = [q.sum(axis=tuple(i for i in range(3) if i != a)) for a in range(3)]
    assert np.count_nonzero(q) > conditional.MAX_EXACT_CELLS
    tracemalloc.start()
    try:
        counts = conditional.allocate_counts(q, margins, 5000)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 64 * 1024 * 1024
    assert counts.sum() == 5000 and (counts[q == 0] == 0).all()
    for axis, margin in enumerate(margins):
        got = counts.sum(axis=tuple(i for i in range(3) if i != axis))
        assert np.abs(got - conditional.largest_remainder(margin, 5000)).max() <= 2


def test_identical_indicator_columns_are_feasible_end_to_end():
    """Two copies of one indicator, the same 0.5 target on both: ready, exact, never the
    false simio_infeasible_scenario the stalled iterative solver gave."""
    gen = np.random.default_rng(8)
    n = 4000
    flag = np.where(gen.random(n) < 0.24, "yes", "no")
    synth = Synthesizer().fit(pd.DataFrame({"flag_a": flag, "flag_b": flag.copy(),
                                            "x": gen.normal(0, 1, n).round(3)}))
    assert {"flag_a", "flag_b"} <= set(synth.schema_.names)
    conditions = {"categorical": {"flag_a": {"yes": 0.5}, "flag_b": {"yes": 0.5}}}
    for rows in (1, 999, 20_000):
        generation = synth.generate(rows, seed=3, conditions=conditions)
        frame = generation.to_frame()
        assert generation.status == "ready" and len(frame) == rows
        for column in ("flag_a", "flag_b"):
            assert (frame[column] == "yes").sum() == conditional.largest_remainder(
                np.array([0.5, 0.5]), rows)[list(synth.schema_[column].levels).index("yes")]
