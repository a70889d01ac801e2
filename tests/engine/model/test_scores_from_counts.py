"""Scores and tables from counts equal the reference implementation (the row-recounting
scorer the fit used before, ``reference_fit``) on small tables.

The one intended difference is the numeric child's normal score: the reference takes a
score per row, the count form the truncated-normal moments of the row's bin. Given the
bin means as per-row scores and no within-bin spread, the two must agree.
"""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pytest
from scipy.special import ndtr

from engine.model import encoding, statistics
from engine.model.count_tables import fit_node_from_counts
from engine.model.network import _in_schema_order
from engine.model.parameters import fit_node
from engine.model.family_scores import FamilyScorer, table_score
from engine.model.probit import bin_moments
from engine.model.scores import PROBIT, TABLE, fit_probit
from tests.engine import fixtures
from tests.engine.model.reference_fit import ReferenceScorer


def encoded(frame, schema):
    encs = [encoding.encode_categorical(c, frame[c.name]) if c.kind == "categorical"
            else encoding.encode_numeric(c, frame[c.name]) for c in schema]
    codes = np.column_stack([e.encode(_in_schema_order(frame[c.name], c))
                             for e, c in zip(encs, schema)])
    return encs, codes


def without_spread(enc):
    """The encoding with every bin treated as a point mass (no within-bin variance)."""
    if enc.kind != "numeric":
        return enc
    return dataclasses.replace(enc, n_knots=np.ones_like(enc.n_knots))


def bin_mean_scores(encs, codes):
    """Per-row normal scores = the mean of the row's bin (NaN where missing)."""
    z = {}
    for j, enc in enumerate(encs):
        if enc.kind != "numeric":
            continue
        col = codes[:, j]
        observed = col != enc.missing_state if enc.missing_state >= 0 else np.ones(col.size, bool)
        totals = np.bincount(col[observed], minlength=enc.n_bins).astype(float)
        cum = np.concatenate([[0.0], np.cumsum(totals)[:-1] / totals.sum(), [1.0]])
        mean, _ = bin_moments(enc, cum)
        z[j] = np.where(observed, mean[np.minimum(col, enc.n_bins - 1)], np.nan)
    return z


@pytest.fixture(scope="module", params=["quickstart", "missing"])
def setup(request):
    seed = fixtures.quickstart() if request.param == "quickstart" else \
        fixtures.quickstart_with_missing()
    frame, schema = fixtures.cleaned(seed)
    encs, codes = encoded(frame, schema)
    encs = [without_spread(e) for e in encs]
    n_states = [e.n_states for e in encs]
    counts = statistics.TableCounts(statistics.compact_columns(
        len(frame), n_states, lambda j: codes[:, j]), n_states)
    z = bin_mean_scores(encs, codes)
    return encs, codes, z, FamilyScorer(counts, encs), ReferenceScorer(codes, encs, z)


def families(d):
    for child in range(d):
        others = [p for p in range(d) if p != child]
        for k in range(3):
            yield from ((child, ps) for ps in itertools.combinations(others, k))


def test_table_scores_equal_the_reference(setup):
    encs, _, _, scorer, reference = setup
    for child, parents in families(len(encs)):
        enc = encs[child]
        counts = scorer.counts(child, parents, TABLE)
        if enc.kind == "numeric":
            counts = counts[:, :enc.n_bins]
        cfg, state = np.nonzero(counts)
        got = table_score(cfg, state, counts[cfg, state].astype(float), *counts.shape)
        want = reference._table(child, parents, observed_only=enc.kind == "numeric")
        assert got == pytest.approx(want, rel=1e-12, abs=1e-9)


def test_probit_scores_equal_the_reference(setup):
    encs, _, _, scorer, reference = setup
    checked = 0
    for child, parents in families(len(encs)):
        if encs[child].kind != "numeric":
            continue
        got = scorer._best(child, parents)
        want = reference._best(child, parents)
        assert got[0] == pytest.approx(want[0], rel=1e-9)
        assert got[1] == want[1]
        checked += 1
    assert checked >= 10


def test_tables_equal_the_reference_fit(setup):
    encs, codes, z, scorer, _ = setup
    for child, parents in families(len(encs)):
        kinds = (PROBIT, TABLE) if encs[child].kind == "numeric" else (TABLE,)
        for kind in kinds:
            table, latent = fit_node_from_counts(child, parents, kind, scorer, encs)
            want, want_latent = fit_node(child, parents, kind, codes, encs, z)
            np.testing.assert_allclose(table, want, rtol=1e-9, atol=1e-12)
            if kind == PROBIT:
                np.testing.assert_allclose(latent["mu"], want_latent["mu"], atol=1e-9)
                assert latent["sigma"] == pytest.approx(want_latent["sigma"], rel=1e-9)


def test_bin_moments_are_the_truncated_standard_normal():
    enc = encoding.NodeEncoding(name="x", kind="numeric", n_states=3, missing_state=-1,
                                n_knots=np.array([4, 1, 4]))
    cum = np.array([0.0, 0.3, 0.5, 1.0])
    mean, var = bin_moments(enc, cum)
    grid = np.linspace(-9, 9, 400_001)
    density = np.exp(-grid ** 2 / 2) / np.sqrt(2 * np.pi)
    u = ndtr(grid)
    for b in (0, 2):
        inside = (u >= cum[b]) & (u < cum[b + 1])
        w = density * inside
        m = np.sum(w * grid) / np.sum(w)
        assert mean[b] == pytest.approx(m, abs=1e-4)
        assert var[b] == pytest.approx(np.sum(w * (grid - m) ** 2) / np.sum(w), abs=1e-4)
    assert var[1] == 0.0                       # a single-valued bin has no spread
    assert np.dot(np.diff(cum), mean) == pytest.approx(0.0, abs=1e-12)


def test_probit_fit_matches_fit_probit_on_rows(setup):
    encs, codes, z, scorer, _ = setup
    child = next(j for j, e in enumerate(encs) if e.kind == "numeric")
    parents = tuple(p for p in range(len(encs)) if p != child)[:2]
    fit = fit_probit(codes, encs, z[child], child, parents)
    table, latent = fit_node_from_counts(child, parents, PROBIT, scorer, encs)
    np.testing.assert_allclose(latent["mu"], fit.mu, atol=1e-9)
