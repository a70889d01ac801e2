"""Kernel-smoothed within-bin CDFs for continuous numeric columns (fit-only).

A bin's CDF through its own seed values makes a small seed's synthetic values land next
to its training values (macrodata's 101 rows: DCR share 0.59). Here a bin's CDF is the
column's Gaussian kernel density estimate, restricted to the bin and renormalised: the
bin keeps its seed share (the bins' probabilities are untouched) and its shape follows
the seed's values, blurred by a bandwidth that shrinks as n^(-1/5) (Silverman's rule,
0.9 min(sd, IQR/1.34) n^(-1/5)), so a large seed's bins are barely changed.

Not smoothed:
- a column whose values repeat (on average ``GRID_REPEATS`` or more rows per distinct
  value): its values lie on a measurement grid (a diamond's `table` at whole numbers, a
  carat at the magic sizes), and the seed's values are its support, as the holdout's are;
- a repeated value (``ATOM_ROWS`` rows or more) with no other seed value within
  ``ATOM_STEPS`` units of the seed's precision: a point mass (a zoning share of exactly
  20 or 25 %) keeps its own mass as a jump of the CDF; the rest around it is smoothed.

Cost: the kernel sums run over at most ``MAX_REPRESENTATIVES`` quantiles of the column
(its values themselves in a small seed, where it matters) within ``WINDOW`` bandwidths of
the bin, at ``GRID`` points per bin: about a millisecond per column at any row count.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

GRID_REPEATS = 3
ATOM_ROWS = 3
ATOM_STEPS = 3
MAX_REPRESENTATIVES = 128
GRID = 17
WINDOW = 8.0                      # ndtr(-8) = 6e-16: below double rounding of a CDF


@dataclass
class ColumnKernel:
    representatives: np.ndarray | None   # the non-atom values (or their quantiles)
    bandwidth: float
    atoms: np.ndarray                    # point-mass values, sorted


def column_kernel(observed: np.ndarray, distinct: np.ndarray,
                  decimals: int | None) -> ColumnKernel | None:
    """The column's kernel, or None when it is not smoothed (see module docstring).
    ``observed``: the sorted non-missing values; ``distinct``: their unique values."""
    if observed.size < 2 or observed.size >= GRID_REPEATS * distinct.size:
        return None
    # observed is sorted: quantiles and counts by position, no sorting again
    q1, q3 = observed[(observed.size - 1) // 4], observed[(3 * (observed.size - 1)) // 4]
    sd = float(np.std(observed))
    spread = min(sd, float(q3 - q1) / 1.34) if q3 > q1 else sd
    if spread <= 0:
        return None
    counts = np.diff(np.concatenate([[0], np.flatnonzero(np.diff(observed)) + 1,
                                     [observed.size]]))
    atoms = distinct[(counts >= ATOM_ROWS) & (_grid_neighbours(distinct, counts, decimals) == 0)]
    rest = observed[~np.isin(observed, atoms)] if atoms.size else observed
    return ColumnKernel(_representatives(rest) if rest.size else None,
                        0.9 * spread * observed.size ** -0.2, atoms)


def _grid_neighbours(distinct, counts, decimals) -> np.ndarray:
    """Seed rows within ATOM_STEPS units of the seed's precision of each distinct value
    (a continuous column without a precision: none, so any repeat is a point mass)."""
    near = np.zeros(distinct.size)
    if decimals is None:
        return near
    step = 10.0 ** -decimals
    for j in range(-ATOM_STEPS, ATOM_STEPS + 1):
        if j == 0:
            continue
        at = distinct + j * step
        i = np.clip(np.searchsorted(distinct, at - step / 4), 0, distinct.size - 1)
        near += np.where(np.abs(distinct[i] - at) < step / 4, counts[i], 0)
    return near


def _representatives(x: np.ndarray) -> np.ndarray:
    if x.size <= MAX_REPRESENTATIVES:
        return x
    # x is sorted: its quantiles at the middles of MAX_REPRESENTATIVES even slices
    return x[((np.arange(MAX_REPRESENTATIVES) + 0.5) * x.size / MAX_REPRESENTATIVES).astype(int)]


def bin_knots(values: np.ndarray, span, kernel: ColumnKernel, n_knots: int):
    """CDF knots (x, c) of one bin [span[0], span[1]] holding these sorted seed values:
    the kernel density's quantiles at n_knots even probabilities for the continuous
    part, plus a jump at each point mass in the bin; None when the kernel puts no mass
    in the bin (the caller keeps the seed-value knots)."""
    from engine.model._normal_kernels import ndtr  # scipy's doubles, no scipy

    lo, hi = float(span[0]), float(span[1])
    u, k = np.unique(values, return_counts=True)
    in_atoms = np.isin(u, kernel.atoms)
    x_atom, w_atom = u[in_atoms], k[in_atoms] / values.size
    below = np.cumsum(w_atom) - w_atom          # point-mass share below each point mass
    rest = 1.0 - float(w_atom.sum())
    xs, cs = np.zeros(0), np.zeros(0)
    if rest > 1e-12:
        if kernel.representatives is None:
            return None
        grid = np.linspace(lo, hi, GRID)
        reps, h = kernel.representatives, kernel.bandwidth
        # representatives more than WINDOW bandwidths away add exactly 0 or 1
        a, b = np.searchsorted(reps, [lo - WINDOW * h, hi + WINDOW * h])
        g = a + ndtr((grid[:, None] - reps[None, a:b]) / h).sum(axis=1)
        if g[-1] - g[0] <= 1e-12:
            return None
        f = (g - g[0]) / (g[-1] - g[0])
        probs = np.linspace(0.0, 1.0, n_knots)
        xs = np.interp(probs, f, grid)
        xs[0], xs[-1] = lo, hi
        cs = rest * probs + _mass_below(xs, x_atom, w_atom)
    if x_atom.size:
        # the continuous part's CDF at each point mass, then its jump
        smooth = np.interp(x_atom, xs, cs - _mass_below(xs, x_atom, w_atom)) if xs.size \
            else np.zeros(x_atom.size)
        xs = np.concatenate([xs, x_atom, x_atom])
        cs = np.concatenate([cs, smooth + below, smooth + below + w_atom])
        order = np.lexsort((cs, xs))
        xs, cs = xs[order], np.maximum.accumulate(cs[order])
    cs = np.clip(cs, 0.0, 1.0)
    cs[-1] = 1.0
    return xs, cs


def _mass_below(xs, x_atom, w_atom) -> np.ndarray:
    """Point-mass share strictly below each x."""
    return np.concatenate([[0.0], np.cumsum(w_atom)])[np.searchsorted(x_atom, xs, side="left")]
