import math
import time

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.quality import column_shape, pair_trend, quality_report
from engine.quality.metrics import _bin_codes, infer_kind
from tests.engine.quality._data import draw


def test_identical_tables_score_one():
    real = draw(3000, seed=1)
    rep = quality_report(real, real.copy())
    assert all(v == pytest.approx(1.0) for v in rep.column_shapes.values())
    assert all(v == pytest.approx(1.0) for v in rep.pair_trends.values())
    assert rep.shapes_score == pytest.approx(1.0)
    assert rep.trends_score == pytest.approx(1.0)
    assert rep.score == pytest.approx(1.0)
    assert len(rep.pair_trends) == 6 * 5 // 2


def test_disjoint_supports_score_zero_shape():
    a = pd.Series(np.linspace(0, 1, 500))
    assert column_shape(a, a + 10, "numeric") == pytest.approx(0.0)
    x = pd.Series(["a", "b", "c"] * 100)
    y = pd.Series(["d", "e"] * 150)
    assert column_shape(x, y, "categorical") == pytest.approx(0.0)


def test_permuted_column_keeps_shapes_lowers_trends():
    real = draw(5000, seed=2)
    synth = real.copy()
    synth["income"] = np.random.default_rng(0).permutation(synth["income"].to_numpy())
    rep = quality_report(real, synth)
    assert all(v == pytest.approx(1.0) for v in rep.column_shapes.values())
    # age~income has r ~ 0.8 (log scale; ~0.7 raw); permuting leaves r ~ 0.
    assert rep.pair_trends[("age", "income")] < 0.7
    assert rep.pair_trends[("income", "tier")] < 0.9          # contingency path
    assert rep.pair_trends[("age", "tier")] == pytest.approx(1.0)   # untouched pair
    assert rep.trends_score < 1.0 and rep.score < 1.0


def test_independent_draws_score_near_one():
    # Two independent samples of size n from one distribution:
    # KS: P(sqrt(n/2) D > 3/sqrt(2)) ~ 2e-4, so 1 - D > 1 - 3/sqrt(n) essentially always;
    # TVD over K cells has mean <= sqrt(K/(pi n)) (Cauchy-Schwarz on sum sqrt(p_i)), K <= 11*11
    # for two binned numerics; bound each trend at twice that mean.
    n = 20000
    rep = quality_report(draw(n, seed=3), draw(n, seed=4))
    assert min(rep.column_shapes.values()) > 1 - 3 / math.sqrt(n)
    assert min(rep.pair_trends.values()) > 1 - 2 * math.sqrt(121 / math.pi) / math.sqrt(n)
    assert rep.score > 1 - 3 / math.sqrt(n)


def test_correlation_similarity_r_vs_minus_r():
    a = pd.Series(np.random.default_rng(5).normal(size=1000))
    assert pair_trend(a, a, a, -a, "numeric", "numeric") == pytest.approx(0.0)
    noise = pd.Series(np.random.default_rng(6).normal(size=1000))
    b = a + noise
    r = np.corrcoef(a, b)[0, 1]
    # 1 - |r - (-r)| / 2 = 1 - |r|; -b has exactly correlation -r with a.
    assert pair_trend(a, b, a, -b, "numeric", "numeric") == pytest.approx(1 - abs(r))


def test_missing_rate_mismatch_lowers_categorical_shape():
    real = pd.Series(["a", "b"] * 50)
    synth = real.copy().astype(object)
    synth.iloc[:20] = None   # a: 40, b: 40, <missing>: 20 -> TVD 0.2
    assert column_shape(real, synth, "categorical") == pytest.approx(0.8)


def test_numeric_shape_ignores_missing_but_trend_with_category_sees_it():
    # Documented choice: numeric shape is KS on non-missing values (SDMetrics KSComplement);
    # a missing-rate mismatch still shows up in pairs through the "<missing>" bin.
    x = pd.Series(np.arange(100.0))
    y = pd.concat([x, pd.Series([np.nan] * 50)], ignore_index=True)  # same values + 1/3 NaN
    assert column_shape(x, y, "numeric") == pytest.approx(1.0)
    cat = pd.Series(["k"] * len(x))
    cat_s = pd.Series(["k"] * len(y))
    assert pair_trend(x, cat, y, cat_s, "numeric", "categorical") == pytest.approx(2 / 3)


def test_all_missing_columns():
    nan = pd.Series([np.nan] * 10)
    assert column_shape(nan, nan, "numeric") == 1.0
    assert column_shape(nan, nan, "categorical") == 1.0
    assert column_shape(nan, pd.Series(np.arange(10.0)), "numeric") == 0.0


def test_bins_use_real_quantiles_and_clamp_outside_values():
    real = np.arange(100.0)
    synth = np.array([-5.0, 0.0, 9.0, 10.0, 99.0, 1000.0, np.nan])
    cr, cs, k = _bin_codes(real, synth)
    assert k == 11                                   # 10 bins + missing
    assert np.array_equal(np.bincount(cr), [10] * 10)  # deciles: equal mass per bin
    assert cs.tolist() == [0, 0, 0, 1, 9, 9, 10]


def test_quantile_bins_see_the_body_of_a_skewed_column():
    # Why quantile edges: on a lognormal column equal-width bins hold ~all mass in bin 0,
    # so swapping the lower half for a narrow spike would be invisible; deciles see it.
    rng = np.random.default_rng(7)
    real = pd.Series(np.exp(rng.normal(0, 1.5, 5000)))
    synth = real.copy()
    low = synth < synth.median()
    synth[low] = synth[low].median()
    flag = pd.Series(["x"] * 5000)
    assert pair_trend(real, flag, synth, flag, "numeric", "categorical") < 0.7


def test_pair_trend_matches_report_and_constant_column_falls_back():
    real, synth = draw(2000, seed=8), draw(2000, seed=9)
    real["const"] = 1.0
    synth["const"] = 1.0
    rep = quality_report(real, synth)
    kinds = {c: infer_kind(real[c]) for c in real.columns}
    for (a, b), v in rep.pair_trends.items():
        assert v == pytest.approx(pair_trend(real[a], real[b], synth[a], synth[b],
                                             kinds[a], kinds[b]))
    # Correlation with a constant is undefined: contingency of (age deciles x one level).
    assert 0.9 < rep.pair_trends[("age", "const")] <= 1.0


def test_kinds_inference_and_common_columns():
    real = pd.DataFrame({"n": [1, 2, 3], "b": [True, False, True], "s": ["x", "y", "x"],
                         "i": pd.array([1, None, 3], dtype="Int64"), "only_real": [0, 0, 0]})
    synth = real.drop(columns="only_real")
    assert infer_kind(real["b"]) == "categorical"
    assert infer_kind(real["i"]) == "numeric"
    rep = quality_report(real, synth)
    assert set(rep.column_shapes) == {"n", "b", "s", "i"}
    rep2 = quality_report(real, synth, kinds={"n": "categorical"})
    assert rep2.column_shapes["n"] == 1.0
    with pytest.raises(ValueError):
        quality_report(real, synth, kinds={"n": "date"})
    with pytest.raises(ValueError):
        quality_report(real, pd.DataFrame({"z": [1]}))


def test_single_column_report_has_no_trends():
    rep = quality_report(pd.DataFrame({"a": [1.0, 2.0]}), pd.DataFrame({"a": [1.0, 2.0]}))
    assert rep.pair_trends == {} and math.isnan(rep.trends_score) and rep.score == 1.0


@settings(max_examples=40, deadline=None)
@given(st.lists(st.one_of(st.none(), st.floats(-1e6, 1e6)), min_size=1, max_size=40),
       st.lists(st.one_of(st.none(), st.floats(-1e6, 1e6)), min_size=1, max_size=40),
       st.lists(st.sampled_from(["a", "b", None]), min_size=40, max_size=40))
def test_scores_are_bounded_and_symmetric(xs, ys, cats):
    x = pd.Series(xs, dtype="float64")
    y = pd.Series(ys, dtype="float64")
    for kind in ("numeric", "categorical"):
        s = column_shape(x, y, kind)
        assert 0.0 <= s <= 1.0 + 1e-12
        assert s == pytest.approx(column_shape(y, x, kind))
    c1, c2 = pd.Series(cats[: len(x)]), pd.Series(cats[: len(y)])
    for ka in ("numeric", "categorical"):
        t = pair_trend(x, c1, y, c2, ka, "categorical")
        assert 0.0 <= t <= 1.0 + 1e-12


def _wide(n, seed):
    base = draw(n, seed)
    rng = np.random.default_rng(seed)
    for j in range(7):
        base[f"x{j}"] = rng.gamma(2.0, 1.0 + j, n) if j % 2 else rng.choice(list("pqrstu"), n)
    return base


@pytest.mark.slow
def test_report_is_fast_on_50k_by_13():
    real, synth = _wide(50_000, 10), _wide(50_000, 11)
    assert real.shape == (50_000, 13)
    t0 = time.perf_counter()
    rep = quality_report(real, synth)
    elapsed = time.perf_counter() - t0
    assert len(rep.pair_trends) == 78
    assert elapsed < 10.0, elapsed   # ~1 s here; generous for slow CI machines
