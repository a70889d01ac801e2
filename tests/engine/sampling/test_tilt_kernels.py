"""The latent tilt kernel (``engine.sampling._tilt_kernels``) against its naive reference,
and what it is for: a strong pair of skewed columns keeps its correlation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from engine.sampling._tilt_kernels import _tilted_latent_levels
from engine.synthesizer import Synthesizer
from tests.engine.sampling import naive
from tests.engine.sampling.test_kernels import random_tilt_children, random_tilt_grid


@pytest.mark.parametrize("seed", range(20))
def test_tilted_latent_levels_match_naive(seed):
    rng = np.random.default_rng(7000 + seed)
    n_bins, n_children, n, missing_state, codes, grid_level, grid_z = random_tilt_grid(rng,
                                                                                       seed)
    cum = np.concatenate([[0.0], np.cumsum(rng.dirichlet(np.ones(n_bins)))])
    cum[-1] = 1.0
    mean = rng.normal(0, 1.5, n)
    sigma = float(rng.choice([0.05, 0.3, 1.0]))
    edges, child_codes, child_mean, beta, child_sigma = random_tilt_children(rng, n,
                                                                            n_children)
    u = rng.random(n)
    out = np.empty(n)
    cell_z = norm.ppf(np.clip(cum[:-1, None] + grid_level * np.diff(cum)[:, None], 0, 1))
    tilt_bin = rng.random(n_bins) < 0.7
    _tilted_latent_levels(codes, missing_state, mean, sigma, cum, cell_z, tilt_bin, grid_z,
                          grid_level, child_codes, child_mean, beta, child_sigma, edges, u, out)
    ref = naive.tilted_latent_levels(codes, missing_state, mean, sigma, cum, tilt_bin, grid_z,
                                     grid_level, child_codes, child_mean, beta, child_sigma,
                                     edges, u)
    np.testing.assert_array_equal(np.isnan(out), np.isnan(ref))
    # as for _within_bin_latent_values: scipy's truncnorm and the kernel's own quantile
    # agree closely except for slices far out in a tail of the latent (exponential limit)
    np.testing.assert_allclose(out, ref, rtol=0, atol=1e-4, equal_nan=True)
    near = np.abs(mean) < 2.0
    if sigma >= 0.3:
        np.testing.assert_allclose(out[near], ref[near], rtol=0, atol=1e-8, equal_nan=True)


def lognormal_chain(n: int, r: float, seed: int) -> pd.DataFrame:
    """a -> b -> c, each the exp of a normal with correlation r to the previous one."""
    z = np.random.default_rng(seed).standard_normal((n, 3))
    a = z[:, 0]
    b = r * a + np.sqrt(1 - r * r) * z[:, 1]
    c = r * b + np.sqrt(1 - r * r) * z[:, 2]
    return pd.DataFrame({"a": np.exp(a), "b": np.exp(b), "c": np.exp(c)})


def test_a_skewed_strong_pair_keeps_its_correlation():
    """b is a probit node (its parent is a) that c tracks inside the bins: without the tilt
    the bin c gets ignores where in b's wide top bin b lies, and the pair's Pearson r
    (driven by the extremes) comes out 0.036 low on this seed (0.786 against 0.822). The
    bound, 0.02, is the fidelity budget this leaves for the model's own bias: the issue's
    0.05 against a holdout, less a 300-row holdout's own sampling error of its r (~0.03);
    20,000 synthetic rows add ~0.005."""
    seed_frame = lognormal_chain(600, 0.9, seed=1)
    model = Synthesizer().fit(seed_frame)
    net = model.model_
    assert ("a", "b") in net.edges and ("b", "c") in net.edges
    assert net.node_latent(1) is not None and 1 in net.node_within(2)["parents"].tolist()
    synth = model.sample(20_000, seed=3)
    r_seed, r_synth = seed_frame.b.corr(seed_frame.c), synth.b.corr(synth.c)
    assert abs(r_synth - r_seed) <= 0.02, (r_seed, r_synth)
