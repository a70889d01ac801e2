"""Issue 11: a continuous column's within-bin CDF is its kernel density restricted to the
bin (engine/model/smoothing.py); grid columns and isolated point masses are kept."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import ndtr

from engine import Synthesizer
from engine.model import smoothing
from engine.model.encoding import encode_numeric
from engine.quality import dcr_share
from engine.schema import Column


def _naive_bin_cdf(x, values, h, lo, hi):
    """The kernel density's CDF over every seed value, restricted to [lo, hi]."""
    g = lambda t: np.mean(ndtr((t - values) / h))  # noqa: E731
    return (g(x) - g(lo)) / (g(hi) - g(lo))


def test_bin_knots_follow_the_naive_kernel_cdf():
    values = np.sort(np.random.default_rng(2).gamma(2.0, 3.0, 150))
    kernel = smoothing.column_kernel(values, np.unique(values), None)
    assert kernel is not None and kernel.atoms.size == 0
    # Silverman's rule
    q1, q3 = values[(values.size - 1) // 4], values[(3 * (values.size - 1)) // 4]
    assert np.isclose(kernel.bandwidth,
                      0.9 * min(values.std(), (q3 - q1) / 1.34) * 150 ** -0.2)
    lo, hi = np.quantile(values, [0.3, 0.5])
    inside = values[(values >= lo) & (values < hi)]
    xs, cs = smoothing.bin_knots(inside, (lo, hi), kernel, 16)
    assert xs[0] == lo and xs[-1] == hi and np.all(np.diff(xs) >= 0) and cs[-1] == 1.0
    naive = np.array([_naive_bin_cdf(x, values, kernel.bandwidth, lo, hi) for x in xs])
    # the knots come from the CDF on a 17-point grid: linear interpolation error only
    assert np.max(np.abs(naive - cs)) < 0.01


def test_a_large_seed_bin_is_barely_changed():
    """The bandwidth shrinks as n^(-1/5): with 20,000 rows the smoothed bin CDF stays
    within a few percent of the bin's empirical CDF."""
    values = np.sort(np.random.default_rng(3).normal(size=20_000))
    kernel = smoothing.column_kernel(values, np.unique(values), None)
    lo, hi = np.quantile(values, [0.2, 0.3])
    inside = values[(values >= lo) & (values < hi)]
    xs, cs = smoothing.bin_knots(inside, (lo, hi), kernel, 16)
    empirical = np.searchsorted(inside, xs, side="right") / inside.size
    assert np.max(np.abs(empirical - cs)) < 0.03


def test_grid_columns_are_not_smoothed():
    """Values on a measurement grid (three or more rows per distinct value) keep the
    seed-value CDF: their values are the support."""
    values = np.sort(np.round(np.random.default_rng(4).normal(50, 2, 600)))
    assert smoothing.column_kernel(values, np.unique(values), 0) is None


def test_isolated_repeats_are_point_masses():
    rng = np.random.default_rng(5)
    spread = rng.uniform(0, 100, 330).round(1)
    # the repeated values stand alone on the seed's 0.1 grid (a zoning share of 20 %)
    spread = spread[(np.abs(spread - 20.0) > 0.5) & (np.abs(spread - 55.5) > 0.5)][:300]
    x = np.sort(np.concatenate([spread, np.full(40, 20.0), np.full(30, 55.5)]))
    kernel = smoothing.column_kernel(x, np.unique(x), 1)
    assert {20.0, 55.5} <= set(kernel.atoms.tolist())
    out = Synthesizer().fit(pd.DataFrame({"x": x})).sample(20_000, seed=1)["x"].to_numpy()
    for value, rows in ((20.0, 40), (55.5, 30)):
        p = rows / x.size
        # the point mass plus at most a few uniform values landing on it after rounding
        assert abs(np.mean(out == value) - p) < 4 * np.sqrt(p * (1 - p) / x.size) + 0.003


def test_encoding_uses_the_kernel_only_for_continuous_columns():
    values = pd.Series(np.random.default_rng(6).normal(size=90))
    smooth = encode_numeric(Column(name="x", type="numeric", source_name="x"), values)
    b = 3
    m = smooth.n_knots[b]
    inside = np.sort(values[np.searchsorted(smooth.thresholds, values, side="right") == b])
    # knots span the bin's edges, not only its seed values
    assert smooth.knot_x[b, 0] < inside[0] and smooth.knot_x[b, m - 1] > inside[-1]


def test_a_tiny_seed_is_no_closer_to_its_training_rows():
    """A 120-row seed of three correlated columns: synthetic rows are about as close to
    held-out rows as to the training rows (DCR share 0.556 with seed-value knots, 0.522 smoothed)."""
    rng = np.random.default_rng(7)
    z = rng.multivariate_normal([0, 0, 0], [[1, .8, .5], [.8, 1, .6], [.5, .6, 1]], 240)
    frame = pd.DataFrame({"a": np.exp(z[:, 0]).round(3), "b": (10 + 3 * z[:, 1]).round(2),
                          "c": (z[:, 2] ** 3).round(3)})
    train, holdout = frame.iloc[:120].reset_index(drop=True), frame.iloc[120:]
    synth = Synthesizer().fit(train).sample(5000, seed=2)
    assert dcr_share(train, holdout.reset_index(drop=True), synth) <= 0.55
