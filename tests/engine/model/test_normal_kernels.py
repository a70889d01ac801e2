"""The fit's scipy-free normal quantile and CDF (engine.model._normal_kernels) against
scipy.special: the same doubles bit for bit, or the models the fit saves would change."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
from scipy.special import ndtr as scipy_ndtr
from scipy.special import ndtri as scipy_ndtri

from engine.model import _normal_kernels

EXP_MINUS_2 = 0.13533528323661269189


def _same_bits(ours, theirs):
    """Equal doubles, NaN where scipy has NaN (its sign bit included)."""
    assert ours.dtype == theirs.dtype == np.float64 and ours.shape == theirs.shape
    np.testing.assert_array_equal(ours.view(np.uint64), theirs.view(np.uint64))


def test_ndtri_is_scipys_bit_for_bit_on_every_branch():
    rng = np.random.default_rng(12)
    central = rng.uniform(EXP_MINUS_2, 1.0 - EXP_MINUS_2, 200_000)
    near = 10.0 ** -rng.uniform(0.87, 13.9, 100_000)          # z = sqrt(-2 log y) in 2..8
    far = 10.0 ** -rng.uniform(13.9, 323.0, 100_000)          # beyond 8, into subnormals
    edges = [EXP_MINUS_2, np.nextafter(EXP_MINUS_2, 1.0), np.nextafter(EXP_MINUS_2, 0.0),
             1.0 - EXP_MINUS_2, np.nextafter(1.0 - EXP_MINUS_2, 1.0),
             np.nextafter(1.0 - EXP_MINUS_2, 0.0), np.exp(-32.0), np.nextafter(np.exp(-32.0), 1),
             0.0, -0.0, 1.0, 0.5, 5e-324, 2.2250738585072014e-308, 1e-300, 1e-12, 1e-6,
             1.0 - 1e-6, 1.0 - 1e-12, 1.0 - 2.0 ** -53, 2.0 ** -53, np.nextafter(1.0, 0.0),
             np.nan, -np.nan, -1e-300, -0.5, 1.5, np.inf, -np.inf]
    p = np.concatenate([central, near, 1.0 - near, far, 1.0 - far[:1000], edges])
    with np.errstate(invalid="ignore"):
        _same_bits(_normal_kernels.ndtri(p), scipy_ndtri(p))


def test_ndtri_shapes_and_inputs_are_scipys():
    grid = np.linspace(0.0, 1.0, 24).reshape(2, 3, 4)
    _same_bits(_normal_kernels.ndtri(grid), scipy_ndtri(grid))
    _same_bits(_normal_kernels.ndtri(grid.T), scipy_ndtri(grid.T))     # not contiguous
    ints = np.array([0, 1])
    _same_bits(_normal_kernels.ndtri(ints), scipy_ndtri(ints))
    assert float(_normal_kernels.ndtri(0.25)) == float(scipy_ndtri(0.25))


def test_ndtr_is_scipys_bit_for_bit():
    """The fit's CDF is the sampler's (engine.normal.ndtr); the same doubles on the
    arguments the fit gives it: thresholds minus means over a spread, 2-d."""
    rng = np.random.default_rng(13)
    x = np.concatenate([rng.normal(scale=4.0, size=100_000), rng.uniform(-40, 40, 10_000),
                        [0.0, -0.0, np.inf, -np.inf, np.nan, 38.5, -38.5]])
    _same_bits(_normal_kernels.ndtr(x), scipy_ndtr(x))
    grid = (x[:600, None] - x[None, 600:610]) / 0.3
    _same_bits(_normal_kernels.ndtr(grid), scipy_ndtr(grid))


def test_half_chi2_quantiles_are_scipys():
    """The likelihood-ratio rule's written-down chi-square quantiles, and scipy beyond."""
    from scipy.special import gammaincinv

    from engine.model.chi2_quantiles import HALF_CHI2_QUANTILE
    from engine.model.parameters import LINEAR_LEVEL, half_chi2_quantile

    expected = [gammaincinv(df / 2, LINEAR_LEVEL) for df in range(1, 81)]
    assert list(HALF_CHI2_QUANTILE) == expected[:len(HALF_CHI2_QUANTILE)]
    assert [half_chi2_quantile(df) for df in range(1, 81)] == expected


def test_simio_train_never_imports_scipy_special(tmp_path):
    """`simio train` in a fresh process, as `python -m engine.cli train` runs it: numba
    imports the top-level scipy package for its version check, but the fit's normal
    CDF, quantile and chi-square quantiles must not load scipy.special (0.16-0.26 s of
    every run, issue 12) nor scipy.stats. The table reaches every such call: numeric
    children with value-scale probits (the chi-square rule), calibrated thresholds,
    within-bin scores and kernel-smoothed bins."""
    from benchmarks.bench_fit import wide_frame

    seed = tmp_path / "seed.csv"
    wide_frame(3000, 16).to_csv(seed, index=False)
    script = textwrap.dedent(f"""
        import atexit, runpy, sys
        atexit.register(lambda: print(sorted(
            m for m in sys.modules if m.startswith(("scipy.special", "scipy.stats")))))
        sys.argv = ["simio", "train", {str(seed)!r}, "-o", {str(tmp_path / "m.simio")!r}]
        runpy.run_module("engine.cli", run_name="__main__")
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=300, check=True)
    assert (tmp_path / "m.simio").is_file()
    assert done.stdout.strip().splitlines()[-1] == "[]", done.stdout + done.stderr
