"""Issue 11's regressions from mergeable sums (``detail_moments``) against the row-wise
fits they replace (``parameters.fit_linear_probit`` / ``fit_within_bin``), over one block
and over four, and a partitioned fit of a continuous seed against the whole fit."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from engine.model import detail_moments
from engine.model.network import BayesianNetworkModel
from engine.model.node_detail import value_scores
from engine.model.parameters import fit_linear_probit, fit_within_bin, latent_scores
from engine.model.scores import PROBIT, TABLE
from tests.engine import fixtures


def continuous_frame(n=3000, seed=2) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    g = rng.choice(["a", "b", "c"], n)
    x = rng.normal(1000.0, 3.0, n)                    # a large mean: the shift matters
    w = rng.gamma(2.0, 5.0, n)
    y = 0.8 * (x - 1000.0) + 0.2 * w + np.where(g == "b", 2.0, 0.0) + rng.normal(size=n)
    y[rng.random(n) < 0.05] = np.nan
    return pd.DataFrame({"g": g, "x": x, "w": w, "y": y})


@pytest.fixture(scope="module")
def fitted():
    frame, schema = fixtures.cleaned(continuous_frame())
    model = BayesianNetworkModel().fit(frame, schema)
    rows = np.column_stack([e.encode(frame[e.name]) if e.kind == "numeric"
                            else np.asarray(frame[e.name].cat.codes, dtype=np.int64)
                            for e in model.encodings_])
    values = {j: frame[e.name].to_numpy(dtype=np.float64, na_value=np.nan)
              for j, e in enumerate(model.encodings_) if e.kind == "numeric"}
    return model, rows, values


def blocks(n, parts):
    bounds = np.linspace(0, n, parts + 1).astype(int)
    return [slice(a, b) for a, b in zip(bounds[:-1], bounds[1:])]


@pytest.mark.parametrize("parts", [1, 4])
def test_linear_probit_from_sums_matches_the_row_fit(fitted, parts):
    model, rows, values = fitted
    encs = model.encodings_
    child = [e.name for e in encs].index("y")
    parents = tuple(j for j, e in enumerate(encs) if e.name in ("g", "x"))
    want = fit_linear_probit(rows, encs, values[child], child, parents)
    sums = [detail_moments.linear_sums(rows[r], values[child][r], encs, child, parents)
            for r in blocks(rows.shape[0], parts)]
    total = sums[0]
    for s in sums[1:]:
        total = total + s
    observed = rows[~np.isnan(values[child])]
    n_cfg = int(np.prod([encs[p].n_states for p in parents]))
    cfg = np.zeros(observed.shape[0], dtype=np.int64)
    for p in parents:
        cfg = cfg * encs[p].n_states + observed[:, p]
    counts = np.zeros((n_cfg, encs[child].n_bins))
    np.add.at(counts, (cfg, observed[:, child]), 1.0)
    got = detail_moments.linear_probit(total, counts, parents, encs, encs[child])
    for key in ("mu", "probs", "cum"):
        np.testing.assert_allclose(got[key], want[key], rtol=1e-9, atol=1e-12)
    for key in ("sigma", "mean", "sd", "loglik"):
        assert got[key] == pytest.approx(want[key], rel=1e-9)


@pytest.mark.parametrize("parts", [1, 4])
@pytest.mark.parametrize("kind", [PROBIT, TABLE])
def test_within_bin_from_sums_matches_the_row_fit(fitted, parts, kind):
    model, rows, values = fitted
    encs = model.encodings_
    child = [e.name for e in encs].index("y")
    parents = tuple(j for j, e in enumerate(encs) if e.name in ("g", "x", "w"))
    numeric = [p for p in parents if encs[p].kind == "numeric"]
    latent = model.node_latent(child) if kind == PROBIT and \
        model.kinds_[child] == PROBIT and model.parents_[child] == parents else None
    scores = {j: value_scores(encs[j], v) for j, v in values.items()}
    scores[child] = latent_scores(latent, values[child], scores[child])
    want = fit_within_bin(child, parents, kind, rows, encs, scores, latent)
    total = None
    for r in blocks(rows.shape[0], parts):
        part = detail_moments.within_sums(rows[r], {j: s[r] for j, s in scores.items()}, encs,
                                          child, parents, kind, numeric)
        total = part if total is None else total + part
    got = detail_moments.within_bin(total, numeric, latent)
    assert np.array_equal(got["parents"], want["parents"])
    assert np.abs(got["beta"]).max() > 0.05             # the child does track x and w
    np.testing.assert_allclose(got["beta"], want["beta"], rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(got["centre"], want["centre"], rtol=1e-10, atol=1e-12)
    assert got["sigma"] == pytest.approx(want["sigma"], rel=1e-8)


def test_value_scores_lie_in_their_bins_slice_and_are_monotone(fitted):
    model, _, values = fitted
    for j, v in values.items():
        enc = model.encodings_[j]
        z = value_scores(enc, v)
        ok = ~np.isnan(v)
        order = np.argsort(v[ok], kind="stable")
        assert np.all(np.diff(z[ok][order]) >= -1e-12)      # a monotone transform
        from scipy.special import ndtr
        level = ndtr(z[ok])
        b = enc.encode(pd.Series(v[ok]))
        assert np.all(level >= enc.bin_cum[b] - 1e-9) and np.all(level <= enc.bin_cum[b + 1] + 1e-9)


def test_a_partitioned_fit_of_a_continuous_seed_matches_the_whole_fit(fitted):
    """The counts-built parts byte for byte; the regressions from summed blocks to rounding
    (float sums over blocks differ from one sum in the last bits)."""
    model, _, _ = fitted
    frame, schema = fixtures.cleaned(continuous_frame())
    merged = BayesianNetworkModel().fit(frame, schema, partitions=4)
    assert merged.parents_ == model.parents_ and merged.kinds_ == model.kinds_
    assert any(w is not None for w in model.within_)
    for a, b in zip(model.within_, merged.within_):
        assert (a is None) == (b is None)
        if a is not None:
            np.testing.assert_allclose(b["beta"], a["beta"], rtol=1e-9, atol=1e-12)
            assert b["sigma"] == pytest.approx(a["sigma"], rel=1e-9)
    for ta, tb in zip(model.tables_, merged.tables_):
        np.testing.assert_allclose(tb, ta, rtol=1e-9, atol=1e-15)


def test_within_cdf_over_all_bins_at_once_matches_bin_by_bin(fitted):
    """The one-searchsorted path against the per-bin loop, and both against
    ``NodeEncoding.bin_cdf`` at a few values, on every side."""
    from engine.model.node_detail import _within_cdf_by_bin, within_cdf
    model, _, values = fitted
    for j, v in values.items():
        enc = model.encodings_[j]
        x = np.concatenate([v[~np.isnan(v)], enc.knot_x[:enc.n_bins, 0]])   # knots too
        bins = np.searchsorted(enc.thresholds, x, side="right")
        for side in ("left", "right"):
            fast = within_cdf(enc, x, bins, side)
            np.testing.assert_allclose(fast, _within_cdf_by_bin(enc, x, bins, side),
                                       rtol=0, atol=1e-12)
            for i in range(0, x.size, max(1, x.size // 25)):
                assert fast[i] == pytest.approx(enc.bin_cdf(x[i], side)[bins[i]], abs=1e-12)


def test_within_cdf_on_integer_columns_matches_bin_by_bin():
    """Integer columns (the quickstart's age and intent) have a knot pair per whole
    number and point masses: the same agreement."""
    from engine.model.node_detail import _within_cdf_by_bin, within_cdf
    frame, schema = fixtures.cleaned(fixtures.quickstart())
    model = BayesianNetworkModel().fit(frame, schema)
    checked = 0
    for enc in model.encodings_:
        if enc.kind != "numeric":
            continue
        x = frame[enc.name].to_numpy(dtype=np.float64, na_value=np.nan)
        x = x[~np.isnan(x)]
        bins = np.searchsorted(enc.thresholds, x, side="right")
        for side in ("left", "right"):
            np.testing.assert_allclose(within_cdf(enc, x, bins, side),
                                       _within_cdf_by_bin(enc, x, bins, side), atol=1e-12)
        checked += 1
    assert checked >= 2
