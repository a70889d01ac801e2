"""Rounding to the seed's precision keeps values inside the requested range."""

from __future__ import annotations

import numpy as np

from engine.model.encoding import NodeEncoding


def _enc(decimals):
    enc = NodeEncoding.__new__(NodeEncoding)
    enc.is_integer, enc.decimals = False, decimals
    return enc


def test_a_bound_just_off_the_grid_does_not_let_the_grid_point_beyond_it_in():
    """A range starting at 2.8e-101 on a 3-decimal column: 0.0 was within the old 1e-9
    slack of it and came out, below the range (found by test_random_scenarios)."""
    values = np.array([0.0, 0.0002, 0.0004, 0.3996, 0.4, 0.2])
    out = _enc(3).round_to_seed(values, 2.7557716498453806e-101, 0.3999999999)
    assert out.min() >= 2.7557716498453806e-101 and out.max() <= 0.3999999999
    np.testing.assert_array_equal(out, [0.001, 0.001, 0.001, 0.399, 0.399, 0.2])


def test_a_bound_on_the_grid_stays_reachable():
    out = _enc(1).round_to_seed(np.array([0.1, 0.7, 0.30000000000000004]), 0.1, 0.7)
    np.testing.assert_array_equal(out, [0.1, 0.7, 0.3])
    # a bound off the grid by float error only (0.1 + 0.2) still admits its grid point
    out = _enc(1).round_to_seed(np.array([0.3, 0.5]), 0.1 + 0.2, 0.5)
    np.testing.assert_array_equal(out, [0.3, 0.5])
