"""Scenario support (``engine.quality.conditioning.seed_sketch`` / ``scenario_support``):
how many seed rows a scenario covers and how much of it is the model's extrapolation."""

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from engine.datasets import QUICKSTART_SCENARIO, quickstart_frame
from engine.quality.conditioning import scenario_support
from engine.synthesizer import Synthesizer

SEED = 20260430


@pytest.fixture(scope="module")
def apart() -> Synthesizer:
    """Level X only has v around 2, level Y around 8: X never occurs with v >= 8.5."""
    gen = np.random.default_rng(5)
    n = 3000
    kind = np.where(gen.random(n) < 0.4, "X", "Y")
    v = np.where(kind == "X", gen.normal(2, 0.5, n), gen.normal(8, 0.5, n)).round(3)
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
    v = np.where(kind == "X", gen.normal(2, 0.5, n), gen.normal(8, 0.5, n)).round(3)
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
    # a model file written before sketches existed: no support, nothing else changes
    loaded.seed_sketch_ = None
    generation = loaded.generate(300, seed=SEED, conditions=conditions)
    assert generation.scenario_support is None and generation.rows_generated == 300


def test_unconditioned_generation_has_no_support(apart):
    assert apart.generate(10, seed=1).scenario_support is None


def test_hand_built_numbers():
    """Two columns (2 x 2 cells), one ranged node; counts by hand."""
    sketch = {"nodes": [0, 1, 2],
              "patterns": [[0, 0, 0], [0, 1, 1], [1, 0, 1], [1, 1, 2], [1, 1, 1]],
              "counts": [5, 7, 11, 13, 17]}
    lam = {2: np.array([0.0, 0.5, 1.0])}          # bin 0 outside the range
    q = np.array([[0.1, 0.2], [0.3, 0.4]])
    solution = SimpleNamespace(lam=lam, cond_nodes=[0, 1], dims=(2, 2), q=q)
    # cell (0, 0): its only rows are in bin 0 -> unseen (0.1); the others are seen
    assert scenario_support(sketch, solution) == {"seed_rows_in_scenario": 7 + 11 + 13 + 17,
                                                  "extrapolated_share": pytest.approx(0.1)}
    # a zero-share cell's rows do not count
    solution.q = np.array([[0.1, 0.0], [0.5, 0.4]])
    assert scenario_support(sketch, solution)["seed_rows_in_scenario"] == 11 + 13 + 17
    assert scenario_support(None, solution) is None


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
