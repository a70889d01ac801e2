"""Bounded calibration of a k-way cell table: one Newton solve and one linear program.

Given the model's joint ``q0`` over the conditioned columns' states and target margins,
``rake`` finds the ``q`` closest to ``q0`` in Kullback-Leibler divergence with those margins
and ``q <= upper * q0`` cell by cell. This is calibration in the sense of Deville and
Särndal (1992) with the raking distance and bounds ``0 <= g <= U`` on the weights
``g = q / q0``: by the KKT conditions the answer is ``g = min(U, exp(u))`` with ``u`` a sum of
one multiplier per (column, level), the truncated raking function. Newton's method on the
convex dual finds the multipliers; cells at the cap carry exactly ``U * q0`` and the others
keep ``q0``'s interactions (odds ratios). (R's ``survey::calibrate(calfun = "logit",
bounds = )`` uses a smooth logit function instead; it moves every cell a little even when
no bound binds, so unbounded-feasible scenarios would no longer be the minimum-KL answer.)

``min_upweight`` answers, with one linear program over the cells that carry mass, the
smallest bound ``B`` under which the targets are reachable at all: the sampler serves the
request whole when ``B <= cap`` and otherwise shrinks it to ``cap / B`` of the rows.

Everything works on the cells with mass (sparse): cost grows with those cells and with
the levels, never with their square.
"""

from __future__ import annotations

import numpy as np

# Default target error (in shares) ``rake`` must reach; the sampler passes one tied to the
# row count instead (an error far below one row).
TOLERANCE = 1e-10
MAX_NEWTON = 200
MAX_HALVINGS = 60
# Relative ridge on the Newton system: the multipliers are determined only up to one
# constant per column beyond the first, and a level whose cells are all at the cap has a
# zero curvature; the ridge picks the shortest step in those directions.
RIDGE = 1e-10
ARMIJO = 1e-4
# Scales below this are beyond the LP's resolution (its tolerances are ~1e-10 on numbers
# of order one, the mass being normalised so the largest cell is 1).
MIN_SCALE = 1e-12
UNRESOLVED_UPWEIGHT = 1e300


class _Cells:
    """The cells of ``q0`` with mass whose every level has a positive target, in
    row-major order, with each cell's multiplier index per axis."""

    def __init__(self, q0: np.ndarray, margins: list[np.ndarray]):
        shape = q0.shape
        offsets = np.concatenate([[0], np.cumsum(shape)]).astype(np.int64)
        targets = np.concatenate([np.asarray(m, dtype=np.float64) for m in margins])
        flat = q0.ravel()
        cells = np.flatnonzero(flat > 0)
        states = np.unravel_index(cells, shape)
        index = np.stack([offsets[a] + states[a] for a in range(q0.ndim)], axis=1)
        keep = (targets[index] > 0).all(axis=1)
        self.shape = shape
        self.cells = cells[keep]
        self.q0 = flat[self.cells].astype(np.float64)
        self.index = index[keep]
        self.targets = targets
        self.n_params = int(offsets[-1])
        # A level with a positive target and no cell left cannot be met by any table.
        reach = np.bincount(self.index.ravel(), minlength=self.n_params)
        self.reachable = bool(((reach > 0) | (targets <= 0)).all())

    def margins(self, values: np.ndarray) -> np.ndarray:
        """Per (axis, level): the sum of ``values`` over the level's cells."""
        k = self.index.shape[1]
        return np.bincount(self.index.ravel(), weights=np.repeat(values, k),
                           minlength=self.n_params)

    def table(self, values: np.ndarray) -> np.ndarray:
        out = np.zeros(int(np.prod(self.shape)))
        out[self.cells] = values
        return out.reshape(self.shape)


def rake(q0: np.ndarray, margins: list[np.ndarray], upper: float = np.inf,
         tolerance: float = TOLERANCE) -> tuple[np.ndarray, bool]:
    """The minimum-KL table with these margins and ``q <= upper * q0``, and whether every
    margin was met within ``tolerance``.

    ``q0`` has one axis per conditioned column; ``margins[i]`` is the target distribution
    over axis ``i`` (sums to 1). The returned table never exceeds the bound, even when the
    targets are out of reach under it (then ``ok`` is False).
    """
    q0 = np.asarray(q0, dtype=np.float64)
    if not margins:                     # nothing conditioned: the model as it is
        return q0.copy(), True
    cells = _Cells(q0, margins)
    if not cells.reachable or cells.cells.size == 0:
        return np.zeros_like(q0), False
    weights, error = _newton(cells, float(upper), tolerance)
    return cells.table(cells.q0 * weights), bool(error <= tolerance)


def _newton(cells: _Cells, upper: float, tolerance: float) -> tuple[np.ndarray, float]:
    """Multipliers by damped Newton on the dual; returns the weights g and the error."""
    log_upper = np.log(upper) if np.isfinite(upper) else np.inf
    t = cells.targets
    lam = np.zeros(cells.n_params)
    u, g, error = _state(cells, lam, log_upper)
    for _ in range(MAX_NEWTON):
        gradient = cells.margins(cells.q0 * g) - t
        error = float(np.abs(gradient).max())
        if error <= tolerance:
            break
        curvature = cells.q0 * g * (u <= log_upper)       # left slope at the kink
        step = _solve(_hessian(cells, curvature), -gradient)
        phi = _dual(cells, u, lam, log_upper, upper)
        slope = float(gradient @ step)
        scale = 1.0
        for _ in range(MAX_HALVINGS):
            trial = lam + scale * step
            u_trial = trial[cells.index].sum(axis=1)
            # A relative slack in the test: near the optimum the dual's decrease is below
            # its rounding error, and the full Newton step is then the right one.
            if _dual(cells, u_trial, trial, log_upper, upper) <= \
                    phi + ARMIJO * scale * slope + 1e-15 * abs(phi):
                break
            scale *= 0.5
        else:
            break                      # no descent left: as close as floating point gets
        lam = trial
        u, g, _ = _state(cells, lam, log_upper)
    gradient = cells.margins(cells.q0 * g) - t
    return g, float(np.abs(gradient).max())


def _state(cells, lam, log_upper):
    u = lam[cells.index].sum(axis=1)
    g = np.exp(np.minimum(u, min(log_upper, 700.0)))
    return u, g, None


def _dual(cells, u, lam, log_upper, upper) -> float:
    """sum q0 * G(u) - targets . lam, with G' = min(U, e^u) (G convex, continuous slope)."""
    if np.isfinite(log_upper):
        below = u <= log_upper
        G = np.where(below, np.expm1(np.minimum(u, log_upper)),
                     upper - 1.0 + upper * (u - log_upper))
    else:
        G = np.expm1(np.minimum(u, 700.0))
    return float(cells.q0 @ G - cells.targets @ lam)


def _hessian(cells: _Cells, curvature: np.ndarray) -> np.ndarray:
    """sum over cells of curvature * x x^T, x the cell's 0/1 level indicators."""
    m, k = cells.n_params, cells.index.shape[1]
    hessian = np.zeros(m * m)
    for a in range(k):
        for b in range(k):
            hessian += np.bincount(cells.index[:, a] * m + cells.index[:, b],
                                   weights=curvature, minlength=m * m)
    return hessian.reshape(m, m)


def _solve(hessian: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """(H + ridge) x = rhs by Gaussian elimination in numpy's own loops (no LAPACK, so
    the same bits on every machine; the system has one row per level)."""
    a = hessian + (RIDGE * float(np.max(np.diag(hessian))) + 1e-300) * np.eye(rhs.size)
    b = rhs.astype(np.float64).copy()
    n = b.size
    for j in range(n):
        factor = a[j + 1:, j] / a[j, j]
        a[j + 1:, j:] -= factor[:, None] * a[j, j:][None, :]
        b[j + 1:] -= factor * b[j]
    x = np.zeros(n)
    for j in range(n - 1, -1, -1):
        x[j] = (b[j] - float(np.sum(a[j, j + 1:] * x[j + 1:]))) / a[j, j]
    return x


def min_upweight(q0: np.ndarray, margins: list[np.ndarray]) -> float:
    """The smallest ``B`` such that some table with these margins has ``q <= B * q0``:
    ``inf`` when no table on ``q0``'s support has them, ``UNRESOLVED_UPWEIGHT`` when one
    does but only with an up-weight beyond ``1 / MIN_SCALE`` (a pattern with ~1e-84 of
    the mass asked for at 50%), which no request size can serve.

    One linear program over the cells with mass: maximise ``s`` subject to, for every
    (column, level), ``sum of q0_c r_c over its cells = s * target`` and ``0 <= r_c <= 1``;
    then ``q = q0 r / s`` meets the targets with ratio at most ``1 / s``, and no table does
    better, so ``B = 1 / s``.
    """
    q0 = np.asarray(q0, dtype=np.float64)
    if not margins:
        return 1.0
    cells = _Cells(q0, margins)
    if not cells.reachable or cells.cells.size == 0:
        return np.inf
    largest = float(cells.q0.max())
    scale = _max_scale(cells, cells.q0 / largest)
    if scale > MIN_SCALE:
        return max(1.0, 1.0 / (scale * largest))
    # Whether any table exists depends only on which cells have mass.
    return UNRESOLVED_UPWEIGHT if _max_scale(cells, np.ones_like(cells.q0)) > 0 else np.inf


def _max_scale(cells: _Cells, mass: np.ndarray) -> float:
    """max s: every (column, level)'s sum of mass_c r_c = s * target, 0 <= r_c <= 1."""
    from scipy.optimize import linprog
    from scipy.sparse import csr_matrix, hstack

    n, k = cells.cells.size, cells.index.shape[1]
    rows = np.unique(cells.index)
    row_of = np.full(cells.n_params, -1)
    row_of[rows] = np.arange(rows.size)
    coverage = csr_matrix((np.repeat(mass, k),
                           (row_of[cells.index.ravel()], np.repeat(np.arange(n), k))),
                          shape=(rows.size, n))
    target = csr_matrix(-cells.targets[rows][:, None])
    bounds = np.zeros((n + 1, 2))
    bounds[:n, 1], bounds[n, 1] = 1.0, np.inf
    # Dual simplex without presolve: on this one-row-per-level LP presolve costs more than
    # it saves (8,000 cells: 0.04 s instead of 0.18 s); simplex is deterministic.
    result = linprog(c=np.concatenate([np.zeros(n), [-1.0]]),
                     A_eq=hstack([coverage, target]).tocsr(), b_eq=np.zeros(rows.size),
                     bounds=bounds, method="highs-ds",
                     options={"presolve": False, "primal_feasibility_tolerance": 1e-10,
                              "dual_feasibility_tolerance": 1e-10})
    return float(result.x[-1]) if result.status == 0 else 0.0
