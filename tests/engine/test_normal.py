"""engine.normal (the scipy-free normal CDF and quantile the sampling path uses) against
scipy, and the sampling path's promise that it never loads scipy's special functions."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
from scipy.special import ndtr as scipy_ndtr
from scipy.special import ndtri as scipy_ndtri

from engine import normal


def test_ndtr_and_ndtri_match_scipy():
    rng = np.random.default_rng(3)
    x = np.concatenate([rng.normal(scale=3.0, size=2000), [-38.0, -8.0, 0.0, 8.0, 38.0]])
    np.testing.assert_allclose(normal.ndtr(x), scipy_ndtr(x), rtol=1e-13, atol=1e-300)
    p = np.concatenate([rng.random(2000), [1e-300, 1e-12, 0.5, 1 - 1e-12]])
    np.testing.assert_allclose(normal.ndtri(p), scipy_ndtri(p), rtol=1e-12)


def test_ndtr_is_scipys_bit_for_bit():
    """The kernel is Cephes' ndtr, as scipy.special.ndtr: the same doubles on every
    branch (erf's central rational, erfc's two, the underflow, infinities and NaN), so
    the sampler and the fit (scipy) never disagree about a bin edge."""
    rng = np.random.default_rng(4)
    x = np.concatenate([rng.uniform(-1.5, 1.5, 20000), rng.uniform(-40, 40, 20000),
                        [-np.inf, np.inf, np.nan, 0.0, -0.0, 2 ** 0.5, -(2 ** 0.5),
                         8 * 2 ** 0.5, -8 * 2 ** 0.5, 37.68, -37.68, 38.5, -38.5]])
    np.testing.assert_array_equal(normal.ndtr(x), scipy_ndtr(x))


def test_ndtri_edges_and_shapes():
    out = normal.ndtri(np.array([[0.0, 1.0], [np.nan, 0.5]]))
    assert out.shape == (2, 2)
    assert out[0, 0] == -np.inf and out[0, 1] == np.inf and np.isnan(out[1, 0])
    assert out[1, 1] == 0.0


def test_loading_and_sampling_a_model_never_imports_scipy_special(tmp_path):
    """A model with within-bin tracking (issue 11) sampled in a fresh process: numba
    imports the top-level scipy package for its version check, but nothing on our
    sampling path may load scipy.special or scipy.stats (issue 9)."""
    from engine.synthesizer import Synthesizer
    from tests.engine.model.test_fidelity_model import strong_pair

    path = tmp_path / "pair.simio"
    model = Synthesizer().fit(strong_pair(600, 0.95))
    assert any(w is not None for w in model.model_.within_)
    model.save(path)
    script = textwrap.dedent(f"""
        import sys
        from engine.synthesizer import Synthesizer
        Synthesizer.load({str(path)!r}).sample(2000, seed=1)
        print(sorted(m for m in sys.modules if m.startswith(("scipy.special", "scipy.stats"))))
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=300, check=True)
    assert done.stdout.strip() == "[]", done.stdout + done.stderr


def test_ndtri_is_full_double_precision_into_both_far_tails():
    """AS 241 (issue 18) against scipy on a million levels spread over the whole range:
    log-uniform into each tail down to the smallest subnormal, uniform in between. The
    old Acklam + Halley quantile was off by up to 2e-10 here; a regression to any
    single-precision-grade approximation fails by orders of magnitude."""
    rng = np.random.default_rng(18)
    lower = 10.0 ** -rng.uniform(0.3, 307.0, 300_000)
    p = np.concatenate([rng.random(400_000), lower, 1.0 - 10.0 ** -rng.uniform(0.3, 15.9, 300_000),
                        [5e-324, 2.2e-308, 0.075, 0.925, 0.5 - 1e-17, 1.0 - 2.0 ** -53]])
    np.testing.assert_allclose(normal.ndtri(p), scipy_ndtri(p), rtol=5e-15, atol=0.0)
    # symmetric: the upper tail is the lower one mirrored, bit for bit
    np.testing.assert_array_equal(normal.ndtri(1.0 - lower[lower > 1e-16]),
                                  -normal.ndtri(1.0 - (1.0 - lower[lower > 1e-16])))
