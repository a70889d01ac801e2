"""The cleaning's pairwise-complete Pearson r against pandas' ``DataFrame.corr``."""

from __future__ import annotations

import numpy as np
import pandas as pd

from engine.cleaning import correlation
from engine.cleaning.correlation import pairwise_corr


def _columns(rng, n):
    a = rng.normal(size=n) * 100 + 1e4                       # a large mean: no cancellation
    gappy = rng.normal(size=n)
    gappy[rng.random(n) < 0.5] = np.nan
    flat_where_gappy = np.where(np.isnan(gappy), rng.normal(size=n), 5.0)
    few = np.full(n, np.nan)
    few[:5] = rng.normal(size=5)                             # fewer shared rows than min
    infinite = rng.normal(size=n)
    infinite[::7] = np.inf                                   # pandas skips non-finite rows
    return [a, 3 * a + 1, a + rng.normal(size=n) * 1e-3, np.full(n, 7.0), gappy,
            flat_where_gappy, few, infinite, np.log(a), np.where(np.arange(n) % 2, 0.1, 0.2)]


def test_pairwise_corr_matches_pandas_and_its_missing_pairs(monkeypatch):
    rng = np.random.default_rng(3)
    # several row blocks, the last one partial
    monkeypatch.setattr(correlation, "BLOCK_ROWS", 1000)
    columns = _columns(rng, 3500)
    want = pd.DataFrame(dict(enumerate(columns))).corr(min_periods=10).to_numpy()
    got = pairwise_corr(columns, 10)
    assert np.array_equal(np.isnan(got), np.isnan(want))     # constant sides, too few rows
    finite = ~np.isnan(want)
    assert np.max(np.abs(got[finite] - want[finite])) < 1e-12
