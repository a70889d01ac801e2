"""Rare levels tied into one pool (encoding.rare_pool, parameters.tie_levels).

A county seen in one to four rows is kept, but every parameter of it is the pool's: its
children's distributions, its dependence on its parents, and within the pool its seed
share. So a generated row with that county is a typical pool member, not its school.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from engine import Synthesizer
from engine.model.parameters import smoothed, tie_levels
from engine.model.encoding import rare_pool

COMMON = [f"c{i}" for i in range(6)]
RARE = {f"r{i}": 1 + i % 4 for i in range(8)}          # 1..4 rows each, 20 in all


def _seed(n_common: int = 60, seed: int = 0) -> pd.DataFrame:
    """Six common counties (n_common rows each) and eight rare ones. Every rare row has
    its own distinctive value of x (100 + 10 * its index): a per-level parameter would
    reproduce it."""
    rng = np.random.default_rng(seed)
    county = [c for c in COMMON for _ in range(n_common)]
    x = list(rng.normal(size=len(county)))
    for i, (level, count) in enumerate(RARE.items()):
        county += [level] * count
        x += [100.0 + 10 * i] * count
    order = rng.permutation(len(county))
    return pd.DataFrame({"county": np.array(county, dtype=object)[order],
                         "x": np.array(x)[order],
                         "flag": rng.choice(["yes", "no"], size=len(county))})


def test_rare_pool_groups_the_rare_levels_and_keeps_the_others_in_order():
    counts = np.array([50, 3, 40, 1, 2, 60])
    assert list(rare_pool(counts, 156)) == [0, 3, 1, 3, 3, 2]
    assert rare_pool(np.array([50, 3, 40]), 93) is None           # one rare level: nothing to tie
    assert rare_pool(np.array([50, 40]), 90) is None


def test_tie_levels_shares_the_group_row_and_keeps_seed_shares_within_it():
    group = np.array([0, 1, 2, 2, 2])
    counts = np.array([[10, 5, 1, 0, 2], [3, 8, 0, 4, 0]])
    table = tie_levels(counts, group)
    assert np.allclose(table.sum(axis=1), 1.0)
    by_group = np.column_stack([counts[:, 0], counts[:, 1], counts[:, 2:].sum(axis=1)])
    assert np.allclose(table[:, :2], smoothed(by_group)[:, :2])
    assert np.allclose(table[:, 2:].sum(axis=1), smoothed(by_group)[:, 2])
    share = counts.sum(axis=0)[2:] + 0.5
    for row in table:                          # the same within-pool shares in every row
        assert np.allclose(row[2:] / row[2:].sum(), share / share.sum())


def test_a_rare_level_is_kept_and_generated_at_its_seed_share():
    seed = _seed()
    synth = Synthesizer().fit(seed)
    assert list(synth.schema_["county"].levels) == sorted(COMMON + list(RARE))
    assert any(d["action"] == "pool_levels" for d in synth.cleaning_decisions_)
    n = 40_000
    out = synth.sample(n, seed=3)["county"].astype(str)
    for level, count in RARE.items():
        p = (count + 0.5) / (sum(RARE.values()) + 0.5 * len(RARE)) * sum(RARE.values()) / len(seed)
        # 5 sigma of a binomial share
        # plus a tenth of it for the 2 pseudo rows per parent configuration
        tol = 5 * np.sqrt(p * (1 - p) / n) + 0.1 * p
        assert abs(float((out == level).mean()) - p) <= tol, level


def test_a_rare_level_gets_the_pools_distribution_not_its_rows():
    synth = Synthesizer().fit(_seed())
    model = synth.model_
    names = [e.name for e in model.encodings_]
    county, x = names.index("county"), names.index("x")
    # the seed makes x depend on county; whichever way the edge points, the rare levels'
    # parameters are tied
    assert county in model.parents_[x] or x in model.parents_[county]
    draws = {level: synth.sample(3000, seed=5, conditions={"categorical": {"county": {level: 1.0}}})
             for level in ("r0", "r7")}
    means = {level: float(d["x"].mean()) for level, d in draws.items()}
    # untied, r0's rows would come out near 100 and r7's near 170; tied, both are the pool
    assert abs(means["r0"] - means["r7"]) < 6 * float(draws["r0"]["x"].std()) / np.sqrt(3000)
    assert 100.0 < means["r0"] < 170.0


def test_a_column_in_an_exact_relation_keeps_its_rare_levels_apart():
    # region is a function of county (nested): tied, a rare county would get the pool's
    # region mix and the relation would break in generated rows
    seed = _seed()
    region_of = {c: f"R{i % 3}" for i, c in enumerate(COMMON + list(RARE))}
    seed["region"] = seed["county"].map(region_of)
    synth = Synthesizer().fit(seed)
    model = synth.model_
    kinds = {r["kind"] for r in model.relations_}
    assert "nested" in kinds
    county = next(e for e in model.encodings_ if e.name == "county")
    assert county.parent_group is None
    out = synth.sample(5000, seed=2)
    assert (out["county"].astype(str).map(region_of) == out["region"].astype(str)).all()
