"""Variable elimination against brute-force enumeration of the whole joint."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from engine import Synthesizer
from engine.datasets import quickstart_frame
from engine.sampling import inference


@pytest.fixture(scope="module")
def model():
    return Synthesizer().fit(quickstart_frame()).model_


def brute_force(model, evidence, keep):
    """P(x) * evidence(x) summed over every full state vector x, per kept state."""
    encs = model.encodings_
    kt = model.kernel_tables
    out = np.zeros([encs[j].n_states for j in keep])
    for states in itertools.product(*[range(e.n_states) for e in encs]):
        p = 1.0
        for j in range(len(encs)):
            cfg = 0
            for s in range(int(kt.n_parents[j])):
                parent = kt.parent_index[j, s]
                cfg += kt.parent_map[kt.parent_map_offset[j, s] + states[parent]] * kt.parent_stride[j, s]
            p *= model.tables_[j][cfg, states[j]]
            if j in evidence:
                p *= evidence[j][states[j]]
        out[tuple(states[j] for j in keep)] += p
    return out


def test_full_joint_sums_to_one(model):
    assert inference.joint(model, {}, []).sum() == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize("keep", [[1, 2], [2], [0, 3], []])
def test_marginals_under_soft_evidence_match_enumeration(model, keep):
    rng = np.random.default_rng(len(keep))
    evidence = {0: rng.random(model.encodings_[0].n_states),
                4: (rng.random(model.encodings_[4].n_states) > 0.5).astype(float)}
    exact = inference.joint(model, evidence, keep)
    np.testing.assert_allclose(exact, brute_force(model, evidence, keep), rtol=1e-10, atol=1e-15)


def test_too_large_an_elimination_gives_none(model, monkeypatch):
    monkeypatch.setattr(inference, "MAX_FACTOR_CELLS", 1)
    assert inference.joint(model, {}, [1]) is None


def test_result_is_the_same_bytes_every_time(model):
    evidence = {4: np.linspace(0, 1, model.encodings_[4].n_states)}
    first = inference.joint(model, evidence, [1, 2]).tobytes()
    assert all(inference.joint(model, evidence, [1, 2]).tobytes() == first for _ in range(3))
