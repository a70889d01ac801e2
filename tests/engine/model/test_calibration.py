"""Issue 11: a copula probit child's bin shares over the seed's parent configurations are
the seed's (engine/model/calibration.py)."""

from __future__ import annotations

import numpy as np
from scipy.special import ndtr, ndtri

from engine.model.calibration import calibrated


def _probit_table(mu, sigma, cum):
    t = ndtri(np.clip(cum[1:-1], 1e-12, 1 - 1e-12))
    cdf = np.hstack([np.zeros((mu.size, 1)), ndtr((t[None, :] - mu[:, None]) / sigma),
                     np.ones((mu.size, 1))])
    return np.diff(cdf, axis=1)


def test_calibrated_shares_are_the_seeds():
    rng = np.random.default_rng(1)
    n_cfg, n_bins = 40, 6
    mu = rng.exponential(1.0, n_cfg) - 1.0               # a skewed mu: shares move
    cum = np.array([0.0, 0.55, 0.7, 0.8, 0.9, 0.95, 1.0])
    latent = {"mu": mu, "sigma": 0.5, "cum": cum}
    counts = rng.multinomial(50, [0.6, 0.1, 0.1, 0.1, 0.05, 0.05], size=n_cfg).astype(float)
    counts[::7] = 0.0                                    # configurations the seed lacks
    missing = rng.uniform(0, 0.2, n_cfg)
    table = np.hstack([_probit_table(mu, 0.5, cum) * (1 - missing)[:, None], missing[:, None]])
    out, lat = calibrated(table, latent, np.hstack([counts, np.zeros((n_cfg, 1))]), n_bins,
                          True)
    rows = counts.sum(axis=1)
    shares = rows @ (out[:, :n_bins] / (1 - missing)[:, None]) / rows.sum()
    assert np.allclose(shares, counts.sum(axis=0) / rows.sum(), atol=1e-9)
    before = rows @ _probit_table(mu, 0.5, cum) / rows.sum()
    assert np.max(np.abs(before - counts.sum(axis=0) / rows.sum())) > 0.02   # it did move
    assert np.allclose(out[:, n_bins], missing) and np.allclose(out.sum(axis=1), 1.0)
    assert np.all(np.diff(lat["cum"]) >= 0) and lat["cum"][0] == 0 and lat["cum"][-1] == 1
    # the table is the probit with the latent's new edges, mu and sigma unchanged
    assert np.allclose(out[:, :n_bins], _probit_table(mu, 0.5, lat["cum"]) * (1 - missing)[:, None])
    assert lat["mu"] is mu and lat["sigma"] == 0.5
