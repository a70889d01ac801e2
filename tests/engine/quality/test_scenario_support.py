"""Scenario support (``engine.quality.seed_marginals`` / ``conditioning.scenario_support``):
how many seed rows a scenario covers and how much of it is the model's extrapolation, from
the seed's 1- and 2-way counts only (no per-row patterns in the model file)."""

import io
import json
import zipfile
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from engine.datasets import QUICKSTART_SCENARIO, quickstart_frame
from engine.model.network import in_level_order
from engine.model.persistence import save_model
from engine.quality import seed_marginals
from engine.quality.conditioning import scenario_support
from engine.quality.seed_marginals import MAX_PAIR_CELLS, MAX_STATES, from_codes
from engine.synthesizer import Synthesizer

SEED = 20260430


@pytest.fixture(scope="module")
def apart() -> Synthesizer:
    """Level X only has v around 2, level Y around 8: X never occurs with v >= 8.5. The two
    overlap around 5, so kind is no exact band of v (cleaning would derive it from v)."""
    gen = np.random.default_rng(5)
    n = 3000
    kind = np.where(gen.random(n) < 0.4, "X", "Y")
    v = np.where(kind == "X", gen.normal(2, 1.2, n), gen.normal(8, 1.2, n)).round(3)
    return Synthesizer().fit(pd.DataFrame({"kind": kind, "v": v,
                                           "w": gen.normal(0, 1, n).round(3)}))


def test_level_and_range_never_seen_together_warn(apart):
    conditions = {"categorical": {"kind": {"X": 1.0}}, "numeric": {"v": {"min": 8.5, "max": 12}}}
    generation = apart.generate(500, seed=SEED, conditions=conditions)
    assert generation.rows_generated > 0              # the model still answers ...
    assert generation.scenario_support == {"seed_rows_in_scenario": 0,
                                           "extrapolated_share": 1.0}   # ... from its tails


def test_half_of_the_scenario_unseen_is_half_extrapolated(apart):
    conditions = {"categorical": {"kind": {"X": 0.5, "Y": 0.5}},
                  "numeric": {"v": {"min": 8.5, "max": 12}}}
    support = apart.generate(500, seed=SEED, conditions=conditions).scenario_support
    frame = apart_seed_rows(apart)
    # exact margins up to the calibration tolerance (1e-3 row over the rows generated)
    assert support["extrapolated_share"] == pytest.approx(0.5, abs=1e-5)
    # every seed row of Y with v in the range counts (bins only add rows, never drop them)
    exact = int(((frame["kind"] == "Y") & frame["v"].between(8.5, 12)).sum())
    assert support["seed_rows_in_scenario"] >= exact > 0


def apart_seed_rows(synth) -> pd.DataFrame:
    gen = np.random.default_rng(5)
    n = 3000
    kind = np.where(gen.random(n) < 0.4, "X", "Y")
    v = np.where(kind == "X", gen.normal(2, 1.2, n), gen.normal(8, 1.2, n)).round(3)
    return pd.DataFrame({"kind": kind, "v": v})


def test_unseen_level_combination_warns():
    gen = np.random.default_rng(6)
    n = 2000
    a = gen.choice(["a0", "a1"], n)
    b = np.where(a == "a1", "b0", gen.choice(["b0", "b1"], n))      # (a1, b1) never occurs
    synth = Synthesizer().fit(pd.DataFrame({"A": a, "B": b, "x": gen.normal(0, 1, n)}))
    generation = synth.generate(1000, seed=SEED, conditions={
        "categorical": {"A": {"a1": 1.0}, "B": {"b1": 1.0}}})
    assert generation.scenario_support == {"seed_rows_in_scenario": 0,
                                           "extrapolated_share": 1.0}
    seen = synth.generate(1000, seed=SEED, conditions={
        "categorical": {"A": {"a0": 1.0}, "B": {"b1": 1.0}}}).scenario_support
    assert seen["extrapolated_share"] == 0.0
    assert seen["seed_rows_in_scenario"] == int(((a == "a0") & (b == "b1")).sum())


def test_contract_scenario_is_mostly_seen_and_counts_at_least_the_exact_rows():
    frame = quickstart_frame()
    synth = Synthesizer().fit(frame)
    conditions = QUICKSTART_SCENARIO["conditions"]
    support = synth.generate(5000, seed=SEED, conditions=conditions).scenario_support
    inside = frame["age"].between(25, 44) & frame["purchase_intent"].between(70, 100)
    assert support["seed_rows_in_scenario"] >= int(inside.sum()) > 0
    assert 0.0 <= support["extrapolated_share"] < 0.2


def test_support_survives_save_and_load(apart, tmp_path):
    conditions = {"categorical": {"kind": {"X": 0.3}}, "numeric": {"v": {"min": 1, "max": 9}}}
    want = apart.generate(300, seed=SEED, conditions=conditions).scenario_support
    loaded = Synthesizer.load(apart.save(tmp_path / "m.simio"))
    assert loaded.generate(300, seed=SEED, conditions=conditions).scenario_support == want
    assert loaded.scenario_support(300, conditions, seed=SEED) == want
    assert loaded.scenario_support(300, None) is None
    # a model file written before any seed summary existed: no support, nothing else changes
    loaded.seed_marginals_ = None
    generation = loaded.generate(300, seed=SEED, conditions=conditions)
    assert generation.scenario_support is None and generation.rows_generated == 300


def test_unconditioned_generation_has_no_support(apart):
    assert apart.generate(10, seed=1).scenario_support is None


def test_hand_built_numbers():
    """Rows as (node 0, node 1, ranged node 2) states, 2 x 2 cells; counts by hand."""
    patterns = np.array([[0, 0, 0], [0, 1, 0], [1, 0, 1], [1, 1, 2], [1, 1, 1]])
    weights = np.array([5, 7, 11, 13, 17], dtype=np.float64)
    marginals = from_codes([0, 1, 2], [2, 2, 3], list(patterns.T), weights)
    lam = {2: np.array([0.0, 0.5, 1.0])}          # bin 0 outside the range
    q = np.array([[0.1, 0.2], [0.3, 0.4]])
    solution = SimpleNamespace(lam=lam, cond_nodes=[0, 1], dims=(2, 2), q=q)
    # node 0 = 0 has rows only in bin 0: the pair (node 0, node 2) shows none in range, so
    # cells (0, *) are unseen (0.1 + 0.2). Rows: node 2 in range has 11 + 13 + 17, and no
    # count is smaller.
    assert scenario_support(marginals, solution) == {"seed_rows_in_scenario": 11 + 13 + 17,
                                                     "extrapolated_share": pytest.approx(0.3)}
    # a zero-share cell's rows do not count: without (1, 1) the pair of the two levels
    # keeps 5 + 7 + 11, the smallest count (the exact answer, 11, is below it)
    solution.q = np.array([[0.1, 0.2], [0.7, 0.0]])
    assert scenario_support(marginals, solution) == {"seed_rows_in_scenario": 5 + 7 + 11,
                                                     "extrapolated_share": pytest.approx(0.3)}
    # a level with no share: node 0 only at 1, every such row in range
    solution.q = np.array([[0.0, 0.0], [0.5, 0.5]])
    assert scenario_support(marginals, solution) == {"seed_rows_in_scenario": 11 + 13 + 17,
                                                     "extrapolated_share": 0.0}
    assert scenario_support(None, solution) is None


def test_three_columns_give_an_upper_bound_from_the_pairs():
    """Every pair of (A, B, C) is seen, the triple (1, 1, 1) never: 2-way counts cannot tell,
    so the share is 0 and the rows an upper bound, never below the exact count."""
    patterns = np.array([[0, 0, 0], [0, 1, 1], [1, 0, 1], [1, 1, 0]])
    marginals = from_codes([0, 1, 2], [2, 2, 2], list(patterns.T), np.full(4, 10.0))
    q = np.zeros((2, 2, 2))
    q[1, 1, 1] = 1.0
    solution = SimpleNamespace(lam={}, cond_nodes=[0, 1, 2], dims=(2, 2, 2), q=q)
    support = scenario_support(marginals, solution)
    assert support == {"seed_rows_in_scenario": 10, "extrapolated_share": 0.0}


def test_left_out_column_or_pair_gives_no_support(monkeypatch):
    patterns = np.array([[0, 0, 0], [1, 1, 1]])
    solution = SimpleNamespace(lam={}, cond_nodes=[0, 2], dims=(2, 2),
                               q=np.full((2, 2), 0.25))
    # node 2 has more states than MAX_STATES: left out, so is any scenario touching it
    wide = from_codes([0, 1, 2], [2, 2, MAX_STATES + 1], list(patterns.T), None)
    assert list(wide.nodes) == [0, 1] and scenario_support(wide, solution) is None
    # a budget of 1 pair cell stores no pair with 2 nonzero cells: columns kept, pairs not
    monkeypatch.setattr(seed_marginals, "MAX_PAIR_CELLS", 1)
    tight = from_codes([0, 1, 2], [2, 2, 2], list(patterns.T), None)
    assert tight.pairs.shape == (0, 2) and scenario_support(tight, solution) is None
    one_column = SimpleNamespace(lam={}, cond_nodes=[0], dims=(2,), q=np.array([0.0, 1.0]))
    assert scenario_support(tight, one_column) == {"seed_rows_in_scenario": 1,
                                                   "extrapolated_share": 0.0}


def test_categorical_codes_by_remap_equal_codes_by_value(apart):
    """The fast path (a Categorical of str: codes remapped) gives the by-value codes, with a
    category the frame lacks and missing values going to the missing code."""
    values = pd.Series(["Y", None, "X", "Y"] * 4)
    as_category = values.astype("category")
    levels = ["X", "Y", "W"]
    by_value = in_level_order(values.astype(object), levels)
    by_codes = in_level_order(as_category, levels)
    assert list(by_codes.cat.codes) == list(by_value.cat.codes) == [1, -1, 0, 1] * 4
    frame = apart_seed_rows(apart)
    frame["w"] = 0.0
    plain = seed_marginals.state_codes(apart.model_, frame)
    frame["kind"] = frame["kind"].astype("category")
    fast = seed_marginals.state_codes(apart.model_, frame)
    assert plain[0] == fast[0] and all(np.array_equal(a, b) for a, b in zip(plain[1], fast[1]))


# --- what the model file carries ------------------------------------------------------------

def _frame(n: int, columns: int, seed: int) -> pd.DataFrame:
    gen = np.random.default_rng(seed)
    frame = pd.DataFrame({f"c{i}": gen.choice([f"l{k}" for k in range(4 + i % 5)], n)
                          for i in range(columns // 2)})
    for i in range(columns - columns // 2):
        frame[f"x{i}"] = gen.normal(0, 1, n).round(2)
    return frame


def _fit(n: int, columns: int, seed: int = 7) -> Synthesizer:
    return Synthesizer().fit(_frame(n, columns, seed))


def _saved_arrays(path) -> dict:
    with zipfile.ZipFile(path) as zf:
        return {name: np.load(io.BytesIO(zf.read(name)), allow_pickle=False)
                for name in zf.namelist() if name.startswith("extra/")}


def test_model_file_holds_marginals_not_rows(tmp_path):
    small, large = _fit(2_000, 8), _fit(20_000, 8)
    for synth, n in ((small, 2_000), (large, 20_000)):
        path = synth.save(tmp_path / f"m{n}.simio")
        arrays = _saved_arrays(path)
        assert arrays and all(a.dtype.kind in "iu" for a in arrays.values())
        assert all(n not in a.shape for a in arrays.values())      # nothing per seed row
        manifest = json.loads(zipfile.ZipFile(path).read("manifest.json"))
        assert "seed_sketch" not in manifest["extra"]
        # the number of stored values is set by the states, not by the rows
        sizes = {name: a.size for name, a in arrays.items()}
        if n == 2_000:
            small_sizes = sizes
    grown = {name: sizes[name] - small_sizes[name] for name in sizes}
    states = int(large.seed_marginals_.n_states.sum())
    assert all(g <= states * states for g in grown.values()), grown
    one_way = large.seed_marginals_.states(0)
    assert one_way.sum() == 20_000


@pytest.mark.slow
def test_wide_table_stays_within_the_bound():
    """5k x 60 (30 numeric columns of 20 bins): more pair cells than the budget, so the
    pairs with most cells are left out, the total stays within it, and a scenario on a left-out pair
    has no support while one on a kept pair has."""
    synth = _fit(5_000, 60, seed=8)
    marginals = synth.seed_marginals_
    every = len(marginals.nodes) * (len(marginals.nodes) - 1) // 2
    assert len(marginals.nodes) == 60 and 0 < marginals.pairs.shape[0] < every
    assert marginals.pair_cells.size == marginals.pair_offsets[-1] <= MAX_PAIR_CELLS
    stored = sum(a.nbytes for a in marginals.to_arrays().values())
    print(f"5k x 60: {marginals.pairs.shape[0]} of {every} pairs, "
          f"{marginals.pair_cells.size:,} cells, {stored:,} bytes")
    assert stored <= MAX_PAIR_CELLS * (2 + 4) + every * 16 + 60 * (MAX_STATES * 4 + 8)
    kept = {tuple(p) for p in marginals.pairs.tolist()}
    sizes = np.diff(marginals.pair_offsets)
    nodes, codes = seed_marginals.state_codes(synth.model_, _frame(5_000, 60, seed=8))
    assert nodes == list(range(60))
    left_sizes = [len(set(zip(codes[i].tolist(), codes[j].tolist())))
                  for i in range(0, 60, 7) for j in range(i + 1, 60, 11) if (i, j) not in kept]
    assert left_sizes and min(left_sizes) >= sizes.max()     # only the largest are out
    names = [enc.name for enc in synth.model_.encodings_]
    a, b = marginals.pairs[0]
    left_out = next((i, j) for i in range(60) for j in range(i + 1, 60) if (i, j) not in kept)
    for (i, j), has_support in (((a, b), True), (left_out, False)):
        conditions = {"numeric": {names[k]: {"min": -1, "max": 1} for k in (i, j)
                                  if names[k].startswith("x")},
                      "categorical": {names[k]: {synth.schema_[names[k]].levels[0]: 1.0}
                                      for k in (i, j) if names[k].startswith("c")}}
        support = synth.scenario_support(500, conditions, seed=SEED)
        assert (support is not None) == has_support, (names[i], names[j], support)


def test_old_model_file_with_a_seed_sketch_loads_and_drops_the_patterns(apart, tmp_path):
    """A file written by the per-pattern sketch: it loads, its support comes from the
    patterns' marginals, and saving it again writes no patterns."""
    model = apart.model_
    nodes = [0, 1, 2]
    codes = np.column_stack([seed_marginals_codes(apart, j) for j in nodes])
    patterns, counts = np.unique(codes, axis=0, return_counts=True)
    old = tmp_path / "old.simio"
    save_model(old, model, extra={"cleaning_summary": apart.cleaning_summary_,
                                  "cleaning_decisions": apart.cleaning_decisions_,
                                  "seed_sketch": {"nodes": nodes, "patterns": patterns.tolist(),
                                                  "counts": counts.tolist()},
                                  "params": {"auto_clean": True}})
    loaded = Synthesizer.load(old)
    conditions = {"categorical": {"kind": {"X": 0.3}}, "numeric": {"v": {"min": 1, "max": 9}}}
    want = apart.generate(300, seed=SEED, conditions=conditions).scenario_support
    assert loaded.generate(300, seed=SEED, conditions=conditions).scenario_support == want
    again = loaded.save(tmp_path / "again.simio")
    manifest = json.loads(zipfile.ZipFile(again).read("manifest.json"))
    assert "seed_sketch" not in manifest["extra"] and _saved_arrays(again)
    # a sketch that does not fit the model (a state past a column's last) loads, unsupported
    patterns[0, 0] = 99
    save_model(old, model, extra={"seed_sketch": {"nodes": nodes, "patterns": patterns.tolist(),
                                                  "counts": counts.tolist()}})
    broken = Synthesizer.load(old)
    assert broken.seed_marginals_ is None
    generation = broken.generate(300, seed=SEED, conditions=conditions)
    assert generation.scenario_support is None and generation.rows_generated == 300


def seed_marginals_codes(synth, node: int) -> np.ndarray:
    frame = apart_seed_rows(synth)
    frame["w"] = np.random.default_rng(5).normal(0, 1, len(frame))  # any codes for w
    enc = synth.model_.encodings_[node]
    series = frame[enc.name]
    if enc.kind == "categorical":
        series = pd.Series(pd.Categorical(series, categories=synth.schema_[enc.name].levels))
    return enc.encode(series)


# --- the CLI and the report say it too -------------------------------------------------------

APART_UNSEEN = {"categorical": {"kind": {"X": 1.0}}, "numeric": {"v": {"min": 8.5, "max": 12}}}


def test_cli_generate_prints_support_and_warns(apart, tmp_path):
    from click.testing import CliRunner

    from engine.cli import main
    model = apart.save(tmp_path / "m.simio")
    scenario = tmp_path / "s.json"
    scenario.write_text(__import__("json").dumps(APART_UNSEEN))
    result = CliRunner().invoke(main, ["generate", str(model), "--rows", "200", "--seed", "3",
                                       "--scenario", str(scenario), "-o",
                                       str(tmp_path / "out.csv"), "--quiet"])
    assert result.exit_code == 0, result.output
    assert ("scenario support: 0 seed rows in the scenario, extrapolated share 1.0000"
            in result.stdout)
    assert "warning: the seed has 0 rows inside this scenario" in result.stderr
    seen = tmp_path / "seen.json"
    seen.write_text(__import__("json").dumps({"categorical": {"kind": {"Y": 1.0}},
                                              "numeric": {"v": {"min": 7, "max": 9}}}))
    result = CliRunner().invoke(main, ["generate", str(model), "--rows", "200", "--scenario",
                                       str(seen), "-o", str(tmp_path / "seen.csv"), "--quiet"])
    assert result.exit_code == 0 and "extrapolated share 0.0000" in result.stdout
    assert "warning" not in result.stderr


def test_report_shows_support_measured_on_the_tables(apart):
    from engine.quality import build_report
    from engine.quality.conditioning import observed_support
    real = apart_seed_rows(apart)
    synthetic = apart.sample(300, seed=SEED, conditions=APART_UNSEEN)
    assert observed_support(real, synthetic, APART_UNSEEN) == {"seed_rows_in_scenario": 0,
                                                               "extrapolated_share": 1.0}
    html = build_report(real, synthetic, scenario=APART_UNSEEN)
    assert "Scenario support: 0 real rows lie inside the scenario; 100.0%" in html
    assert "Warning: the seed has 0 rows inside this scenario" in html
    # exact counts on the tables: half the rows in a combination the seed shows
    mixed = {"categorical": {"kind": {"X": 0.5, "Y": 0.5}},
             "numeric": {"v": {"min": 8.5, "max": 12}}}
    synthetic = apart.sample(400, seed=SEED, conditions=mixed)
    exact = int(((real["kind"] == "Y") & real["v"].between(8.5, 12)).sum())
    assert observed_support(real, synthetic, mixed) == {
        "seed_rows_in_scenario": exact,
        "extrapolated_share": float((synthetic["kind"] == "X").mean())}


def test_warning_rule_few_rows_unseen_share_and_enough_support():
    from engine.quality.conditioning import FEW_SEED_ROWS, support_warning

    assert support_warning(None) is None
    assert support_warning({"seed_rows_in_scenario": FEW_SEED_ROWS,
                            "extrapolated_share": 0.1}) is None
    few = support_warning({"seed_rows_in_scenario": FEW_SEED_ROWS - 1,
                           "extrapolated_share": 0.0})
    assert few and f"at most {FEW_SEED_ROWS - 1} rows" in few
    unseen = support_warning({"seed_rows_in_scenario": 500, "extrapolated_share": 0.5})
    assert unseen and "50%" in unseen
