"""The fit's normal CDF and quantile without scipy: scipy.special's doubles bit for bit.

``simio train`` paid scipy.special's import (0.16-0.26 s of every run, issue 12) for two
functions. The CDF is the sampling kernels' ``_ndtr`` (Cephes' ndtr, scipy's doubles,
through ``engine.normal.ndtr``). The quantile here is Cephes' ndtri, the one
scipy.special.ndtri evaluates (xsf/cephes/ndtri.h): the same branches, coefficients and
operation order, so it returns scipy's doubles (tests/engine/model/test_normal_kernels.py)
and every model keeps its bytes. The sampler's ``_ndtri`` (AS 241) is as accurate but
not the same doubles, so the fit cannot use it.
"""

from __future__ import annotations

import math

import numpy as np

from engine._numba import kernel
from engine.normal import _apply, ndtr  # noqa: F401  (ndtr: the fit imports both from here)
from engine.sampling._kernels import _p1evl, _polevl

# Cephes' coefficients, highest degree first; Q0, Q1 and Q2 have a leading 1 left out.
# |p - 0.5| <= 0.5 - exp(-2): x / sqrt(2 pi) = w + w^3 P0(w^2) / Q0(w^2), w = p - 0.5
_P0 = (-5.99633501014107895267E1, 9.80010754185999661536E1, -5.66762857469070293439E1,
       1.39312609387279679503E1, -1.23916583867381258016E0)
_Q0 = (1.95448858338141759834E0, 4.67627912898881538453E0, 8.63602421390890590575E1,
       -2.25462687854119370527E2, 2.00260212380060660359E2, -8.20372256168333339912E1,
       1.59056225126211695515E1, -1.18331621121330003142E0)
# the tails, z = sqrt(-2 log y) between 2 and 8 (y down to exp(-32)) ...
_P1 = (4.05544892305962419923E0, 3.15251094599893866154E1, 5.71628192246421288162E1,
       4.40805073893200834700E1, 1.46849561928858024014E1, 2.18663306850790267539E0,
       -1.40256079171354495875E-1, -3.50424626827848203418E-2, -8.57456785154685413611E-4)
_Q1 = (1.57799883256466749731E1, 4.53907635128879210584E1, 4.13172038254672030440E1,
       1.50425385692907503408E1, 2.50464946208309415979E0, -1.42182922854787788574E-1,
       -3.80806407691578277194E-2, -9.33259480895457427372E-4)
# ... and beyond 8 (y down to the smallest subnormal)
_P2 = (3.23774891776946035970E0, 6.91522889068984211695E0, 3.93881025292474443415E0,
       1.33303460815807542389E0, 2.01485389549179081538E-1, 1.23716634817820021358E-2,
       3.01581553508235416007E-4, 2.65806974686737550832E-6, 6.23974539184983293730E-9)
_Q2 = (6.02427039364742014255E0, 3.67983563856160859403E0, 1.37702099489081330271E0,
       2.16236993594496635890E-1, 1.34204006088543189037E-2, 3.28014464682127739104E-4,
       2.89247864745380683936E-6, 6.79019408009981274425E-9)
_EXP_MINUS_2 = 0.13533528323661269189
_SQRT_2PI = 2.50662827463100050242E0


@kernel
def _ndtri(y0):
    """Standard normal quantile (Cephes ndtri: scipy.special.ndtri's doubles): -inf at 0,
    +inf at 1, NaN outside [0, 1]. A NaN runs through the lower tail's arithmetic, as in
    Cephes, and comes out with its sign flipped: scipy's bits."""
    if y0 == 0.0:
        return -np.inf
    if y0 == 1.0:
        return np.inf
    if y0 < 0.0 or y0 > 1.0:
        return np.nan
    negate = True
    y = y0
    if y > 1.0 - _EXP_MINUS_2:          # the upper tail from 1 - y (exact here)
        y = 1.0 - y
        negate = False
    if y > _EXP_MINUS_2:
        y = y - 0.5
        y2 = y * y
        x = y + y * (y2 * _polevl(_P0, y2) / _p1evl(_Q0, y2))
        return x * _SQRT_2PI
    x = math.sqrt(-2.0 * math.log(y))
    x0 = x - math.log(x) / x
    z = 1.0 / x
    if x < 8.0:
        x1 = z * _polevl(_P1, z) / _p1evl(_Q1, z)
    else:
        x1 = z * _polevl(_P2, z) / _p1evl(_Q2, z)
    x = x0 - x1
    return -x if negate else x


@kernel
def _ndtri_many(p, out):
    """``_ndtri`` of every element of ``p`` into ``out`` (both 1-d float64)."""
    for i in range(p.shape[0]):
        out[i] = _ndtri(p[i])


def ndtri(p) -> np.ndarray:
    """scipy.special.ndtri of every element (float64; an array of ``p``'s shape)."""
    return _apply(_ndtri_many, p)
