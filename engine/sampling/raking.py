"""Bounded raking (iterative proportional fitting) on a k-way cell table. Pure numpy.

Given the model's joint ``q0`` over the conditioned columns' states and target margins,
find the ``q`` closest to ``q0`` in KL divergence with those margins. With an ``upper``
bound on ``q / q0`` (the feasibility cap) the bound is enforced inside the iteration —
cells at the cap are frozen and the others carry the rest, as bounded calibration does —
not by clipping the answer afterwards.
"""

from __future__ import annotations

import numpy as np

MAX_ITERATIONS = 2000
TOLERANCE = 1e-10
# Every STALL_WINDOW sweeps the margin error must shrink below STALL_RATIO of what it was,
# or the targets are taken as unreachable under the current bound.
STALL_WINDOW = 25
STALL_RATIO = 0.98


def rake(q0: np.ndarray, margins: list[np.ndarray], upper: float = np.inf
         ) -> tuple[np.ndarray, bool]:
    """Raked table and whether every margin was met within ``TOLERANCE``.

    ``q0`` has one axis per conditioned column and sums to 1; ``margins[i]`` is the target
    distribution over axis ``i`` (sums to 1).
    """
    q = q0.copy()
    cap = np.zeros_like(q0)
    cap[q0 > 0] = upper * q0[q0 > 0]          # (inf * 0 would be nan)
    checkpoint = np.inf
    for iteration in range(MAX_ITERATIONS):
        for axis in range(q0.ndim):
            q = _fit_axis(q, cap, margins[axis], axis)
        error = _max_margin_error(q, margins)
        if error < TOLERANCE:
            return q, True
        if iteration % STALL_WINDOW == STALL_WINDOW - 1:
            # Infeasible targets make IPF creep towards a nonzero error forever.
            if error > STALL_RATIO * checkpoint:
                break
            checkpoint = error
    return q, False


def _fit_axis(q, cap, target, axis):
    """Scale each slice of ``axis`` to its target, respecting the per-cell cap."""
    other = tuple(i for i in range(q.ndim) if i != axis)
    for _ in range(50):
        current = q.sum(axis=other)
        at_cap = np.isclose(q, cap, rtol=1e-12, atol=0.0) & np.isfinite(cap)
        free = np.where(at_cap, 0.0, q).sum(axis=other)
        fixed = current - free
        with np.errstate(divide="ignore", invalid="ignore"):
            factor = np.where(free > 0, (target - fixed) / free, 1.0)
        factor = np.maximum(factor, 0.0)
        shape = [1] * q.ndim
        shape[axis] = -1
        scaled = np.where(at_cap, q, q * factor.reshape(shape))
        over = scaled > cap
        q = np.where(over, cap, scaled)
        if not over.any():
            break
    return q


def _max_margin_error(q, margins) -> float:
    worst = 0.0
    for axis, target in enumerate(margins):
        other = tuple(i for i in range(q.ndim) if i != axis)
        worst = max(worst, float(np.max(np.abs(q.sum(axis=other) - target))))
    return worst


def smallest_feasible_upweight(q0, margins, cap, *, steps: int = 24) -> tuple[float, np.ndarray]:
    """The smallest up-weight bound >= ``cap`` under which the margins can be met.

    Returns (bound, raked table). The unbounded solution is feasible at its own largest
    ratio, so the search is a bisection between ``cap`` and that ratio.
    """
    q, ok = rake(q0, margins, cap)
    if ok:
        return cap, q
    free_q, ok = rake(q0, margins)
    if not ok:
        raise ValueError("the target margins cannot be met together under the model")
    with np.errstate(divide="ignore", invalid="ignore"):
        hi = float(np.nanmax(np.where(q0 > 0, free_q / q0, 0.0)))
    lo, best = cap, free_q
    for _ in range(steps):
        if hi - lo <= 1e-6 * hi:
            break
        mid = (lo + hi) / 2
        q, ok = rake(q0, margins, mid)
        if ok:
            hi, best = mid, q
        else:
            lo = mid
    return hi, best
