"""benchmarks/coherence.py at small n: the truth is what it claims, the distances behave, and
our conditioned output beats both baselines (the benchmark's claim, run small)."""

import numpy as np
import pandas as pd
import pytest

from benchmarks import coherence as K
from engine.datasets import quickstart_frame

TRUTH_ROWS = 150_000
ROWS = 5_000


@pytest.fixture(scope="module")
def truth():
    return K.truth_distribution(TRUTH_ROWS, 101)


@pytest.fixture(scope="module")
def scores():
    return K.run_protocol(ROWS, truth_rows=TRUTH_ROWS)


def test_truth_is_in_range_and_has_the_target_shares(truth):
    assert K.in_ranges(truth.frame).all()
    assert len(truth.frame) > 3_000 and truth.effective_rows > 1_500
    assert truth.weights.sum() == pytest.approx(1.0)
    for col, shares in K.CONDITIONS["categorical"].items():
        got = pd.Series(truth.weights).groupby(truth.frame[col].astype(str).to_numpy()).sum()
        for level, share in shares.items():
            assert got[level] == pytest.approx(share, abs=1e-9)


def test_rake_keeps_what_the_targets_do_not_fix():
    frame = pd.DataFrame({"segment": ["a", "a", "b", "b"], "x": [1, 2, 1, 2]})
    w = K.rake(frame, {"segment": {"a": 0.8, "b": 0.2}})
    np.testing.assert_allclose(w, [0.4, 0.4, 0.1, 0.1])


def test_distances_are_zero_on_the_truth_and_charge_out_of_range_rows(truth):
    rng = np.random.default_rng(0)
    sample = K.truth_resample(truth, 50_000, rng)
    close = K.coherence(sample, truth)
    assert close.joint < 0.04 and close.max_pair < 0.04 and close.in_ranges == 1.0
    shifted = sample.assign(age=sample["age"] - 10)          # half of it below 25
    far = K.coherence(shifted, truth)
    assert far.in_ranges < 0.8
    assert far.columns["age"] > 0.5 and far.columns["segment"] == close.columns["segment"]


def test_baselines_follow_their_recipes():
    seed = quickstart_frame()
    rng = np.random.default_rng(3)
    raked = K.raked_seed_rows(seed, 2_000, rng)
    assert K.in_ranges(raked).all()
    inside = seed[K.in_ranges(seed)]
    assert set(map(tuple, raked.to_numpy())) <= set(map(tuple, inside.to_numpy()))
    indep = K.independent_columns(seed, 20_000, rng)
    assert list(indep.columns) == list(seed.columns)
    assert K.in_ranges(indep).all()
    share = (indep["segment"] == "Premium").mean()
    assert share == pytest.approx(0.55, abs=0.015)


def test_ours_beats_both_baselines(scores):
    ours = scores["ours"]
    noise = K.noise_floor(54, ROWS)
    for name in ("raked seed rows", "independent columns"):
        base = scores[name]
        assert ours.joint + 3 * noise < base.joint, (name, ours.joint, base.joint)
        assert ours.mean_pair < base.mean_pair, (name, ours.mean_pair, base.mean_pair)
        assert ours.mean_column < base.mean_column, (name, ours.mean_column, base.mean_column)
    # the association the targets leave free is the truth's, not independence
    assert ours.pairs[("segment", "channel")] < \
        scores["independent columns"].pairs[("segment", "channel")] / 3
    floor = scores["truth resample (noise floor)"]
    assert floor.joint < ours.joint
    assert list(scores) == ["ours", "raked seed rows", "independent columns",
                            "truth resample (noise floor)"]


def test_summary_rows_line_up_with_the_headers(scores):
    rows = K.summary_rows(scores)
    assert len(rows) == len(scores)
    assert all(len(r) == len(K.SUMMARY_HEADERS) for r in rows)
    d = scores["ours"].to_dict()
    assert d["pairs"]["segment x channel"] == scores["ours"].pairs[("segment", "channel")]
