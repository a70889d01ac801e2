"""Issue 11: numeric children track numeric parents inside a bin, tails get their own
bins, values come out at the seed's precision, and version-1 model files still load."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from engine import Synthesizer
from engine.model.encoding import n_bins_for, seed_decimals
from tests.engine.model.reference_fit import normal_scores

DATA = Path(__file__).parent / "data"


def strong_pair(n: int, rho: float, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(50.0, 10.0, n)
    y = rho * (x - 50.0) / 10.0 + np.sqrt(1.0 - rho ** 2) * rng.normal(size=n)
    return pd.DataFrame({"x": x.round(2), "y": (100 + 5 * y).round(3),
                         "g": rng.choice(["a", "b", "c"], n)})


def fisher_tolerance(n_seed: int, n_synth: int, k: float = 4.0) -> float:
    """k standard errors of the difference of two Fisher-z transformed correlations."""
    return k * np.sqrt(1.0 / (n_seed - 3) + 1.0 / (n_synth - 3))


@pytest.mark.slow
@pytest.mark.parametrize("rho", [0.8, 0.95, 0.995])
def test_strong_pair_correlation_is_preserved(rho):
    """The synthetic normal-score correlation equals the seed's within sampling error
    (before issue 11 a 0.998 pair came out 0.977: the child ignored the parent inside a
    bin)."""
    seed = strong_pair(2000, rho)
    out = Synthesizer().fit(seed).sample(20_000, seed=3)
    r_seed = np.corrcoef(normal_scores(seed["x"].to_numpy()),
                         normal_scores(seed["y"].to_numpy()))[0, 1]
    r_out = np.corrcoef(normal_scores(out["x"].to_numpy()),
                        normal_scores(out["y"].to_numpy()))[0, 1]
    # Fisher z: the bound is the same in every part of the [-1, 1] range; a 4-SE band
    # plus the bin skeleton's known residual blur of 0.1 SE-units at |r| > 0.99
    assert abs(np.arctanh(r_out) - np.arctanh(r_seed)) <= fisher_tolerance(2000, 20_000) + 0.1


def strong_clique(n: int, k: int, rho: float, seed: int) -> pd.DataFrame:
    """k numeric columns, every pair correlated rho (one common factor)."""
    rng = np.random.default_rng(seed)
    z = np.sqrt(rho) * rng.normal(size=(n, 1)) + np.sqrt(1.0 - rho) * rng.normal(size=(n, k))
    return pd.DataFrame({f"x{i}": (20.0 + 3.0 * z[:, i]).round(3) for i in range(k)})


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2])
def test_every_pair_of_a_strong_clique_is_preserved(seed):
    """Four columns, every pair r = 0.9, 2,000 rows: each pair's synthetic r equals the
    seed's within sampling error. A clique of four needs a child with three numeric
    parents; at 2,000 rows a column has 23 states, so that family has 23^4 = 279,841
    cells, and under the count-table cap (200,000) the pair left unconnected came out
    0.85 (structure.MAX_NUMERIC_CELLS)."""
    n, m = 2000, 20_000
    data = strong_clique(n, 4, 0.9, seed)
    out = Synthesizer().fit(data).sample(m, seed=3)
    r_seed, r_out = data.corr().to_numpy(), out.corr().to_numpy()
    pairs = np.triu_indices(4, 1)
    # Fisher z (the data are normal): a 4-SE band for each of the six pairs
    gap = np.abs(np.arctanh(r_out[pairs]) - np.arctanh(r_seed[pairs]))
    assert gap.max() <= fisher_tolerance(n, m), (r_seed[pairs], r_out[pairs])


def test_child_follows_parent_inside_a_narrow_band():
    """In a band of 1% of the parent's range the child's spread is near the real one
    (it was 2.4 times the real spread when the child only saw the parent's bin)."""
    seed = strong_pair(2000, 0.995)
    out = Synthesizer().fit(seed).sample(50_000, seed=5)
    real = seed["y"][(seed["x"] > 55) & (seed["x"] < 56)]
    synth = out["y"][(out["x"] > 55) & (out["x"] < 56)]
    assert len(real) > 20 and len(synth) > 500
    assert abs(synth.mean() - real.mean()) < 3 * real.std() / np.sqrt(len(real)) + 0.2
    assert synth.std() < 1.5 * real.std()


def test_tail_bins_resolve_the_top_and_bottom():
    """The end bins hold a quarter of an ordinary quantile bin, so a range in the top
    few percent is answered by the model's bins."""
    seed = strong_pair(800, 0.5)
    enc = Synthesizer().fit(seed).model_.encodings_[0]
    share = np.diff(enc.bin_cum)
    ordinary = 1.0 / n_bins_for(800)
    assert share[0] <= 0.3 * ordinary and share[-1] <= 0.3 * ordinary
    assert np.all(share[1:-1] <= ordinary + 0.01)


def test_a_small_bin_is_not_drawn_through_every_seed_value():
    """A 60-row continuous column has bins of ~6 rows: their CDFs get at most one knot per
    two seed values (so generated values do not pile up around each seed value), and
    generated values still spread over the whole bin between its smallest and largest."""
    from engine.model.encoding import KNOT_ROWS
    x = np.random.default_rng(4).normal(size=60)
    model = Synthesizer().fit(pd.DataFrame({"x": x}))
    enc = model.model_.encodings_[0]
    bins = np.searchsorted(enc.thresholds, x, side="right")
    rows = np.bincount(bins, minlength=enc.n_bins)[:enc.n_bins]
    knots = np.asarray(enc.n_knots[:enc.n_bins])
    assert np.all(knots <= np.maximum(2, -(-rows // KNOT_ROWS))) and np.any(knots < rows)
    out = model.sample(20_000, seed=1)["x"].to_numpy()
    assert out.min() >= x.min() and out.max() <= x.max()
    assert np.quantile(out, 0.01) < np.quantile(x, 0.05)


def test_seed_precision_is_kept():
    seed = strong_pair(500, 0.9)
    seed["k"] = np.arange(500) % 17                        # integer column
    out = Synthesizer().fit(seed).sample(5000, seed=1)
    for col, d in (("x", 2), ("y", 3)):
        scaled = out[col].to_numpy() * 10 ** d
        assert np.allclose(scaled, np.round(scaled), atol=1e-6), col
        assert not np.allclose(out[col] * 10 ** (d - 1), np.round(out[col] * 10 ** (d - 1)))
    assert out["k"].dtype.kind == "i"


def test_seed_precision_respects_a_range():
    seed = strong_pair(500, 0.9)
    out = Synthesizer().fit(seed).sample(2000, seed=1, conditions={
        "numeric": {"x": {"min": 45.333, "max": 55.555}}})
    assert out["x"].min() >= 45.34 - 1e-9 and out["x"].max() <= 55.55 + 1e-9


@pytest.mark.parametrize("values, expected", [
    ([1.5, 2.25, 3.0], 2), ([1.0, 2.0], 0), ([0.1234567], None), ([1e6 + 0.5, 3.25], 2)])
def test_seed_decimals(values, expected):
    assert seed_decimals(np.array(values)) == expected


def test_version_1_model_file_still_loads_and_samples_as_before():
    """A model saved by simio before issue 11 (format version 1) loads and generates
    exactly the rows it generated then."""
    synth = Synthesizer.load(DATA / "quickstart_v1.simio")
    expected = pd.read_csv(DATA / "quickstart_v1_sample50_seed4.csv")
    got = synth.sample(50, seed=4)
    pd.testing.assert_frame_equal(got.astype(str).reset_index(drop=True),
                                  expected.astype(str), check_dtype=False)


def _point_mass_column(n: int, seed: int = 4, integer: bool = False) -> pd.Series:
    """A spread of values with 30% of rows at one value in the middle (a town's shared
    rate among tracts that each have their own)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(20.0, 3.0, n).round(2)
    x[rng.random(n) < 0.3] = 20.2
    return pd.Series(np.round(x) if integer else x, name="x")


def _encoded(series: pd.Series):
    from engine.model.encoding import encode_numeric
    from engine.schema import Column
    is_int = bool(np.all(series == np.round(series)))
    column = Column(name="x", type="integer" if is_int else "double", source_name="x",
                    is_integer=is_int)
    return encode_numeric(column, series)


def test_a_point_mass_is_a_parent_group_of_its_own():
    """The point mass's bin is seen by a count-table child as its own state, not averaged
    with the values beside it (before: one of four groups of neighbouring bins)."""
    enc = _encoded(_point_mass_column(2000))
    x = 20.2
    b = int(np.searchsorted(enc.thresholds, x, side="right"))
    assert enc.n_knots[b] == 1 and enc.knot_x[b, 0] == pytest.approx(x)
    group = enc.parent_group[:enc.n_bins]
    assert np.sum(group == group[b]) == 1
    others = np.delete(group, b)
    assert set(others) == set(range(4))                 # the rest: four runs, as before
    assert np.all(np.diff(others) >= 0)


def test_few_valued_and_integer_columns_keep_four_groups():
    """Where every bin is one value, or the column is integer, neighbours stay the groups."""
    few = pd.Series(np.random.default_rng(2).choice([1.5, 2.5, 3.5, 4.5, 5.5, 6.5], 500))
    for series in (few, _point_mass_column(2000, integer=True)):
        group = _encoded(series).parent_group
        assert set(group) == set(range(4))
        assert np.all(np.diff(group) >= 0)


def test_an_integer_point_mass_is_generated_exactly():
    """An integer value held by more than a quantile bin's worth of rows in the middle of a
    spread (a town's tax rate shared by 12% of tracts) gets a bin of its own and comes out
    at its seed share, not smoothed over the whole numbers below it (before: it shared a
    bin with them and the bin's pmf kernel moved a third of it to 498 and 499)."""
    rng = np.random.default_rng(6)
    x = rng.integers(0, 1001, 2000)
    x[rng.random(2000) < 0.12] = 500
    seed = pd.DataFrame({"x": x})
    share = float((seed["x"] == 500).mean())
    out = Synthesizer().fit(seed).sample(20_000, seed=5)
    # binomial sampling error of the synthetic share plus the seed's own, 4 SE
    tol = 4 * np.sqrt(share * (1 - share) * (1 / len(out) + 1 / len(seed)))
    assert abs(float((out["x"] == 500).mean()) - share) <= tol
