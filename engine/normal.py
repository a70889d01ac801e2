"""The standard normal's CDF and quantile over arrays, without scipy.

``simio generate`` never imports scipy (it costs a large share of a small run's start-up),
yet sampling needs normal scores of drawn levels. These wrap the sampling kernels' own
``_ndtr`` / ``_ndtri`` (double precision; see ``engine.sampling._kernels``).
"""

from __future__ import annotations

import numpy as np


def _apply(kernel, values) -> np.ndarray:
    arr = np.asarray(values, dtype=np.float64)
    flat = np.ascontiguousarray(arr.reshape(-1))
    out = np.empty_like(flat)
    kernel(flat, out)
    return out.reshape(arr.shape)


def ndtr(x) -> np.ndarray:
    """Standard normal CDF of every element."""
    from engine.sampling._kernels import _ndtr_many

    return _apply(_ndtr_many, x)


def ndtri(p) -> np.ndarray:
    """Standard normal quantile of every element (-inf at 0, +inf at 1, NaN kept)."""
    from engine.sampling._kernels import _ndtri_many

    return _apply(_ndtri_many, p)
