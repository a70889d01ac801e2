"""Evidence folded into the tables (``engine.sampling.evidence_tables``) against the forward
kernel's own evidence branch: the same likelihood weights for the same rows, the
renormalised tables the kernel draws from, and hard evidence restored after each draw."""

from __future__ import annotations

import numpy as np
import pytest

from engine.sampling.evidence_tables import FoldedEvidence
from tests.engine.sampling.test_kernels import (edge_uniforms, random_evidence, random_network,
                                                run_kernel)

RTOL = 1e-12


def folded_rows(folded, j):
    table = folded.model.tables_[j]
    return folded.cdf[folded._segment(j)].reshape(table.shape)


@pytest.mark.parametrize("seed", range(40))
def test_weights_are_the_kernels_for_the_same_rows(seed):
    """The kernel's evidence branch weights a row by the product of its evidence nodes'
    normalisers; ``_weights`` (``_evidence_weights``) must give the same numbers."""
    gen = np.random.default_rng(8300 + seed)
    model = random_network(gen)
    evidence = random_evidence(gen, model)
    codes, weights = run_kernel(model, edge_uniforms(gen, model, 300), evidence)
    folded = FoldedEvidence(model, evidence)
    got = folded._weights(np.asfortranarray(codes), folded.normalisers)
    np.testing.assert_allclose(got, weights, rtol=RTOL, atol=1e-300)


@pytest.mark.parametrize("seed", range(40))
def test_folded_tables_are_the_renormalised_evidence(seed):
    gen = np.random.default_rng(8400 + seed)
    model = random_network(gen)
    evidence = random_evidence(gen, model)
    folded = FoldedEvidence(model, evidence)
    for j, lam in evidence.items():
        weighted = model.tables_[j] * lam
        total = weighted.sum(axis=1)
        cdf = folded_rows(folded, j)
        ok = total > 0
        steps = np.diff(np.concatenate([np.zeros((cdf.shape[0], 1)), cdf], axis=1), axis=1)
        np.testing.assert_allclose(steps[ok], weighted[ok] / total[ok, None], atol=1e-12)
        np.testing.assert_array_equal(folded.normalisers[j], total)
    codes, weights = folded.draw(edge_uniforms(gen, model, 400))
    kept = weights > 0                 # a weighted row never holds a ruled-out state
    for j, lam in evidence.items():
        cfg = model.config_of_rows(j, codes)
        assert np.all(model.tables_[j][cfg, codes[:, j]][kept] * lam[codes[kept, j]] > 0)
    untouched = [j for j in range(len(model.encodings_)) if j not in evidence]
    for j in untouched:
        segment = folded._segment(j)
        np.testing.assert_array_equal(folded.cdf[segment], model.kernel_tables.cdf[segment])


@pytest.mark.parametrize("seed", range(15))
def test_hard_evidence_holds_and_is_restored(seed):
    gen = np.random.default_rng(8500 + seed)
    model = random_network(gen)
    evidence = random_evidence(gen, model)
    folded = FoldedEvidence(model, evidence)
    before = folded.cdf.copy()
    j = int(gen.integers(len(model.encodings_)))
    state = int(gen.integers(model.encodings_[j].n_states))
    codes, weights = folded.draw(edge_uniforms(gen, model, 300), {j: state})
    np.testing.assert_array_equal(folded.cdf, before)
    assert np.all(codes[weights > 0, j] == state)
    cfg = model.config_of_rows(j, codes)
    lam = evidence.get(j, np.ones(model.encodings_[j].n_states))
    np.testing.assert_allclose(weights, folded._weights(codes, {**folded.normalisers, j: (
        model.tables_[j][:, state] * lam[state])}), rtol=RTOL)
    assert np.all((weights > 0) <= (model.tables_[j][cfg, state] * lam[state] > 0))


def test_parent_dependent_range_evidence_is_folded_per_configuration():
    """A copula node's range share depends on its parents (2-D evidence): each
    configuration's row is renormalised by its own share."""
    from engine.datasets import quickstart_frame
    from engine.sampling.conditional import _range_evidence
    from engine.sampling.conditions import parse_conditions
    from engine.synthesizer import Synthesizer

    synth = Synthesizer().fit(quickstart_frame())
    model = synth.model_
    scenario = parse_conditions(synth.schema_, {"numeric": {"purchase_intent": {"min": 70,
                                                                                "max": 100}}})
    index = {enc.name: j for j, enc in enumerate(model.encodings_)}
    lam, _ = _range_evidence(model, scenario, index)
    j = index["purchase_intent"]
    assert lam[j].ndim == 2
    folded = FoldedEvidence(model, lam)
    weighted = model.tables_[j] * lam[j]
    np.testing.assert_allclose(folded.normalisers[j], weighted.sum(axis=1), rtol=RTOL)
    cdf = folded_rows(folded, j)
    ok = weighted.sum(axis=1) > 0
    np.testing.assert_allclose(cdf[ok, 0], (weighted[ok, 0] / weighted[ok].sum(axis=1)),
                               atol=1e-12)
