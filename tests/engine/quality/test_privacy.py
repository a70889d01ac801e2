import math

import numpy as np
import pandas as pd
import pytest

from engine.quality import dcr_share, exact_copy_rate
from engine.quality.privacy import _encode
from tests.engine.quality._data import draw


def test_copy_of_train_is_fully_memorised():
    # Continuous columns make train/holdout rows distinct, so no ties are possible.
    train, holdout = draw(2000, seed=1), draw(2000, seed=2)
    assert dcr_share(train, holdout, train.copy()) == 1.0


def test_fresh_draw_is_half():
    m = 2000
    train, holdout, synth = draw(m, seed=11), draw(m, seed=12), draw(m, seed=13)
    assert abs(dcr_share(train, holdout, synth) - 0.5) <= 3 * math.sqrt(0.25 / m)


def test_half_copies_is_three_quarters():
    m = 2000
    train, holdout = draw(m, seed=21), draw(m, seed=22)
    synth = pd.concat([train.iloc[: m // 2], draw(m // 2, seed=23)], ignore_index=True)
    # copies score 1, fresh rows 1/2 in expectation: 0.75, noise only from the fresh half.
    assert abs(dcr_share(train, holdout, synth) - 0.75) <= 3 * math.sqrt(0.25 / (m // 2)) / 2


def test_ties_count_half():
    train = draw(500, seed=31)
    assert dcr_share(train, train.copy(), draw(500, seed=32)) == 0.5


def test_encoding_reproduces_gower_distance_exactly():
    kinds = {"x": "numeric", "c": "categorical"}
    train = pd.DataFrame({"x": [0.0, 10.0], "c": ["a", "b"]})     # x range [0, 10]
    rows = pd.DataFrame({"x": [2.0, 7.0, np.nan, np.nan, 25.0, -3.0],
                         "c": ["a", "b", "a", None, None, "z"]})
    enc_train, enc = _encode([train, rows], kinds)
    assert enc_train.shape[0] == 2

    def gower(i, j):
        xi, xj = rows["x"][i], rows["x"][j]
        ci, cj = rows["c"][i], rows["c"][j]
        if np.isnan(xi) or np.isnan(xj):
            dx = float(np.isnan(xi) != np.isnan(xj))
        else:
            dx = abs(np.clip(xi / 10, 0, 1) - np.clip(xj / 10, 0, 1))
        dc = 0.0 if (pd.isna(ci) and pd.isna(cj)) or ci == cj else 1.0
        return (dx + dc) / 2

    for i in range(len(rows)):
        for j in range(len(rows)):
            assert np.abs(enc[i] - enc[j]).sum() == pytest.approx(gower(i, j), abs=1e-12)


def test_subsampling_is_seeded_and_capped():
    train, holdout, synth = draw(3000, seed=41), draw(1000, seed=42), draw(8000, seed=43)
    a = dcr_share(train, holdout, synth, max_rows=500, seed=7)
    assert a == dcr_share(train, holdout, synth, max_rows=500, seed=7)
    assert (a * 2 * 500) == pytest.approx(round(a * 2 * 500))   # m = 500 scored rows
    # Copies of rows not drawn into the train subsample are not "memorised" by this check:
    # the reference subsample has 1000 of 3000 train rows.
    b = dcr_share(train, holdout, train, seed=7)
    assert 0.6 < b < 0.75


def test_dcr_validates_inputs():
    with pytest.raises(ValueError):
        dcr_share(draw(10, 1), draw(10, 2).iloc[:0], draw(10, 3))


def test_exact_copy_rate():
    train = draw(2000, seed=51)
    assert exact_copy_rate(train, train.sample(frac=1, random_state=0)) == 1.0
    assert exact_copy_rate(train, draw(2000, seed=52)) == 0.0
    half = pd.concat([train.iloc[:100], draw(100, seed=53)], ignore_index=True)
    assert exact_copy_rate(train, half) == 0.5


def test_exact_copy_rate_missing_and_dtypes():
    ref = pd.DataFrame({"x": [1, 2, 3], "y": [np.nan, 1.5, 2.5], "c": ["a", None, "b"]})
    syn = pd.DataFrame({"x": [1.0, 2.0, 3.0, 1.0],           # float vs int compare equal
                        "y": [np.nan, 1.5, np.nan, 9.9],     # NaN equals NaN
                        "c": ["a", None, "b", "a"]})
    assert exact_copy_rate(ref, syn) == 0.5                   # rows 0 and 1 only


def test_exact_copy_baseline_on_coarse_data():
    # Categorical-only tables repeat rows by chance; holdout-vs-train is the baseline that a
    # synthetic table's copy rate should be compared against.
    train = draw(2000, seed=61)[["region", "smoker", "tier"]]
    holdout = draw(2000, seed=62)[["region", "smoker", "tier"]]
    assert exact_copy_rate(train, holdout) > 0.9
