"""Scenario-conditioned sampling: restrict, rake, allocate, fill.

1. Restrict. Each numeric range becomes soft evidence on its bins: the in-range share of the
   bin's own distribution (0 for the missing state). Zero-share levels are left out.
2. Joint of the conditioned categorical columns under the ranges, ``q0``: exactly, by
   variable elimination (``inference``); for a network too large to eliminate, estimated
   from a pool drawn by likelihood weighting (forward sampling; each evidence node drawn
   from its table times the evidence, the row weighted by the normaliser).
3. Rake ``q0`` to the target margins, each cell's ratio ``q / q0`` bounded by the up-weight
   cap inside the solve (``raking``).
4. Allocate integer counts per joint cell so every margin is exact (largest remainder, then
   unit moves along one column's axis, which leave the other margins unchanged).
5. Fill each cell from P(rest | cell, ranges): likelihood-weighted candidates with the
   cell's levels as hard evidence (folded into the tables, ``evidence_tables``), systematic
   resampling by weight, the picked rows written straight into their final positions.

Feasibility: a cell may hold at most ``max_upweight`` times the rows the model would put
there in ``row_count`` rows restricted to the ranges, and at most ``MAX_REUSE`` times its
candidates' effective sample size. When a cap binds, the request shrinks as a whole (same
shares, fewer rows) and the result is ``partial``; never more rows than requested.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from typing import TYPE_CHECKING

import numpy as np

from engine import rng
from engine.errors import SimioError
from engine.model import weekdays
from engine.sampling import inference, raking
from engine.sampling.conditions import (  # noqa: F401 - DEFAULT_MAX_UPWEIGHT re-exported
    DEFAULT_MAX_UPWEIGHT, Scenario, check_cell_count, share_vector,
)
from engine.sampling._conditional_kernels import _scatter_rows, _systematic_picks
from engine.sampling.evidence_tables import FoldedEvidence, rows_in_threads
from engine.sampling.forward import STREAM_VALUES, decode, n_numeric

if TYPE_CHECKING:
    import pandas as pd

# Rows drawn to estimate q0 when exact elimination is too large; 2^18 puts a 1% cell's
# relative standard error near 2%.
POOL_ROWS = 4 * rng.BLOCK_ROWS
# Candidates drawn per row to fill a cell whose first candidates (one per row) are too
# uneven for the reuse cap below. Drawing candidates is most of the cost beyond the solve
# at large row counts, so a cell gets one candidate per row (with near-even weights
# systematic resampling then keeps nearly every one once) and only a thin cell the
# quarter more it would need to pass the cap.
THIN_OVERSAMPLE = 1.25
MIN_CANDIDATES = 256
# A cell's rows may reuse its candidates' discrete patterns at most this many times over
# (measured by effective sample size); past that the cell is too thin to fill honestly.
MAX_REUSE = 10.0

# The exact integer allocation (when single-row moves get stuck behind structural zeros)
# is an integer program; it is tried only up to this many cells with mass and this many
# branch-and-bound nodes, else the moves' table (margins within a row or two) is kept.
MAX_EXACT_CELLS = 2_000
EXACT_NODE_LIMIT = 2_000
# Convergence of the calibration: every margin within this many rows of its target.
ROW_ERROR = 1e-3
# How far above the smallest feasible bound a partial scenario is calibrated (relative):
# at the bound itself the feasible set can be a single table the dual never reaches.
EDGE_SLACK = 1e-7

STREAM_POOL = 2
STREAM_CELL = 3
STREAM_ORDER = 4
STREAM_RESAMPLE = 5


@dataclass
class ConditionalDraw:
    codes: np.ndarray                    # (rows_generated, nodes), final row order
    bin_bounds: dict                     # numeric node -> (cdf_lo, cdf_hi, lower, upper)
    rows_requested: int
    rows_generated: int
    upweight_needed: float               # largest q/q0 ratio the raked scenario uses
    max_upweight: float
    solution: "ScenarioSolution | None" = None

    @property
    def status(self) -> str:
        return "ready" if self.rows_generated == self.rows_requested else "partial"


@dataclass
class ScenarioSolution:
    """The solved scenario before any row is drawn: the range evidence, the model's joint
    ``q0`` of the conditioned columns, their targets, the calibrated joint ``q`` and the
    row count the feasibility cap allows."""

    lam: dict
    bin_bounds: dict
    cond_nodes: list
    dims: tuple
    q0: np.ndarray
    margins: list
    q: np.ndarray
    rows: int
    min_upweight: float                  # smallest bound under which the targets hold
    upweight_needed: float               # largest q/q0 the calibrated table uses
    pool: "_Pool"                        # drawn only if q0 or a cell needed it


def solve_scenario(model, row_count: int, scenario: Scenario, max_upweight: float,
                   seed: int = 0) -> ScenarioSolution:
    """Steps 1-3: ranges as evidence, q0, targets, one feasibility LP, one calibration."""
    if not max_upweight >= 1.0:
        raise ValueError("max_upweight must be at least 1")
    index = {enc.name: j for j, enc in enumerate(model.encodings_)}
    cond_nodes = [index[name] for name in scenario.categorical]
    dims = tuple(model.encodings_[j].n_states for j in cond_nodes)
    check_cell_count(scenario.categorical, dims)        # before anything is allocated
    lam, bin_bounds = _range_evidence(model, scenario, index)
    pool = _Pool(model, lam, seed, cond_nodes, dims)
    exact = inference.joint(model, lam, cond_nodes)
    if exact is None:                   # elimination too large: estimate q0 from the pool
        codes, w, cells = pool.draw()
        exact = np.bincount(cells, weights=w, minlength=int(np.prod(dims)))
    total = float(np.sum(exact))
    if not total > 0:
        raise SimioError("simio_infeasible_scenario",
                         "No row can satisfy the numeric ranges under the trained model; "
                         "widen the ranges.")
    q0 = (np.asarray(exact, dtype=np.float64) / total).reshape(dims)
    margins = [_target_margin(model, scenario, name, j, q0, axis)
               for axis, (name, j) in enumerate(zip(scenario.categorical, cond_nodes))]
    needed = raking.min_upweight(q0, margins)
    if not np.isfinite(needed):
        raise SimioError("simio_infeasible_scenario",
                         "The target shares of columns " + ", ".join(scenario.categorical)
                         + " cannot all hold at once under the trained model (the model gives "
                         "some required level combinations zero probability inside the "
                         "ranges). Relax one column's shares or the ranges.")
    # Within the cap the request is served whole; beyond it, it shrinks to cap / bound of
    # the rows (the same shares, every cell within cap x the model's rows). The bound is
    # taken a hair above the LP's optimum so the calibration has room to converge.
    bound = max(max_upweight, needed * (1 + EDGE_SLACK))
    rows = row_count if bound <= max_upweight else int(row_count * max_upweight / bound)
    if rows == 0:
        raise _no_row()
    q, ok = raking.rake(q0, margins, bound, tolerance=ROW_ERROR / max(rows, 1))
    if not ok:                          # the LP says feasible: never report otherwise
        bound = max(max_upweight, needed * (1 + 1e3 * EDGE_SLACK))
        rows = row_count if bound <= max_upweight else int(row_count * max_upweight / bound)
        q, ok = raking.rake(q0, margins, bound, tolerance=ROW_ERROR / max(rows, 1))
    with np.errstate(divide="ignore", invalid="ignore"):
        used = float(np.max(np.where(q0 > 0, q / q0, 0.0), initial=1.0))
    return ScenarioSolution(lam=lam, bin_bounds=bin_bounds, cond_nodes=cond_nodes, dims=dims,
                            q0=q0, margins=margins, q=q, rows=rows, min_upweight=needed,
                            upweight_needed=used, pool=pool)


def _no_row() -> SimioError:
    return SimioError("simio_infeasible_scenario",
                      "The scenario is so unlikely under the trained model that not even "
                      "one row can be generated within the feasibility caps; relax the "
                      "shares or widen the ranges.")


def draw_conditional(model, row_count: int, scenario: Scenario, seed: int,
                     max_upweight: float = DEFAULT_MAX_UPWEIGHT) -> ConditionalDraw:
    solution = solve_scenario(model, row_count, scenario, max_upweight, seed)
    q, margins, rows = solution.q, solution.margins, solution.rows
    folded = FoldedEvidence(model, solution.lam)
    cond_nodes, dims, pool = solution.cond_nodes, solution.dims, solution.pool

    counts = allocate_counts(q, margins, rows)
    candidates = {}
    feasible = rows
    uniforms = _UniformBuffer(len(model.encodings_))
    for cell in np.flatnonzero(counts.ravel()):
        need = int(counts.ravel()[cell])
        codes, w, ess = _cell_candidates(folded, int(cell), need, cond_nodes, dims, seed, pool,
                                         uniforms)
        candidates[int(cell)] = (codes, w)
        feasible = min(feasible, int(rows * min(1.0, ess * MAX_REUSE / need)))
    if feasible < rows:
        rows = feasible
        counts = allocate_counts(q, margins, rows) if rows else np.zeros_like(counts)
    if rows == 0:
        raise _no_row()
    codes = _fill(model, counts, candidates, seed,
                  lambda cell, need: _cell_candidates(folded, cell, need, cond_nodes, dims,
                                                      seed, pool, uniforms)[:2])
    return ConditionalDraw(codes=codes, bin_bounds=solution.bin_bounds,
                           rows_requested=row_count, rows_generated=rows,
                           upweight_needed=solution.upweight_needed,
                           max_upweight=float(max_upweight), solution=solution)


def _fill(model, counts, candidates, seed, draw_cell) -> np.ndarray:
    """Every cell's rows, resampled from its candidates, written straight into their final
    positions: one seeded permutation of all rows (stream 4) gives cell ``c``'s rows, in
    flat cell order, the positions ``order[start_c : start_c + count_c]``, a uniformly
    random subset in random order. One pass per column, no gather of the whole table.

    Returns (rows x nodes) int64 codes, Fortran-ordered (a column per node, as the decode
    and the unconditioned draw use them)."""
    flat = counts.ravel()
    rows = int(flat.sum())
    order = rng.block_generator(seed, STREAM_ORDER, 0).permutation(rows)
    out = np.empty((rows, len(model.encodings_)), dtype=np.int64, order="F")
    start = 0
    for cell in np.flatnonzero(flat):
        need = int(flat[cell])
        if int(cell) not in candidates:
            candidates[int(cell)] = draw_cell(int(cell), need)
        codes, w = candidates.pop(int(cell))         # freed once its rows are written
        picks = np.empty(need, dtype=np.int64)
        u = rng.block_generator(seed, (STREAM_RESAMPLE, int(cell)), 0).random()
        _systematic_picks(np.cumsum(w), u, picks)
        positions = order[start:start + need]
        rows_in_threads(need, lambda lo, hi, c=codes, p=picks, q=positions:
                        _scatter_rows(c, p[lo:hi], q[lo:hi], out))
        start += need
    return out


def iter_decode(model, draw: ConditionalDraw, seed: int, chunk_rows: int):
    """Frames of the drawn rows, values seeded per output block (chunk-independent)."""
    width = max(n_numeric(model), 1)
    chunk_blocks = max(1, chunk_rows // rng.BLOCK_ROWS)
    n = draw.rows_generated
    for start in range(0, math.ceil(n / rng.BLOCK_ROWS), chunk_blocks):
        lo = start * rng.BLOCK_ROWS
        hi = min(n, lo + chunk_blocks * rng.BLOCK_ROWS)
        uniforms = rng.block_uniforms(seed, STREAM_VALUES, start, hi - lo, width)
        yield decode(model, draw.codes[lo:hi], uniforms, draw.bin_bounds,
                     weekdays.block_uniforms(model, seed, start, hi - lo))


# --- step 1: ranges as evidence --------------------------------------------------------

def _range_evidence(model, scenario: Scenario, index):
    lam = {}
    bounds = {}
    for name, (lo, hi) in scenario.numeric.items():
        j = index[name]
        enc = model.encodings_[j]
        lo_x, hi_x = (math.ceil(lo) - 0.5, math.floor(hi) + 0.5) if enc.is_integer else (lo, hi)
        cdf_lo, cdf_hi = enc.bin_cdf(lo_x, side="left"), enc.bin_cdf(hi_x, side="right")
        mass = np.clip(cdf_hi - cdf_lo, 0.0, 1.0)
        point = enc.n_knots == 1
        mass[point] = ((enc.knot_x[point, 0] >= lo_x) & (enc.knot_x[point, 0] <= hi_x))
        cdf_lo[point], cdf_hi[point] = 0.0, 1.0
        weights = np.zeros(enc.n_states)
        weights[:enc.n_bins] = mass
        latent = model.node_latent(j)
        if latent is not None:
            weights = _latent_in_range(latent, cdf_lo, cdf_hi, weights, point, enc)
        lam[j] = weights
        bounds[j] = (cdf_lo, cdf_hi, lo, hi)
    return lam, bounds


def _latent_in_range(latent, cdf_lo, cdf_hi, marginal, point, enc) -> np.ndarray:
    """Per parent configuration: the share of each bin's latent-normal mass in the range.

    A copula node's value inside its bin follows N(mu[cfg], sigma) (``_kernels``), so how
    much of a bin a range keeps depends on the parents: a range cutting the top bin keeps
    more of it for Premium than for Value. Returns (configurations x states).
    """
    from scipy.special import ndtr, ndtri

    mu = latent["mu"][:, None]
    sigma = float(latent["sigma"])
    cum = latent["cum"]
    width = np.diff(cum)
    def mass(lo, hi):                    # normal mass between standardised bounds
        a, b = (lo - mu) / sigma, (hi - mu) / sigma
        with np.errstate(invalid="ignore"):
            return np.where(a > 0, ndtr(-a) - ndtr(-b), ndtr(b) - ndtr(a))
    whole = mass(ndtri(cum[:-1]), ndtri(cum[1:]))
    kept = mass(ndtri(cum[:-1] + cdf_lo * width), ndtri(cum[:-1] + cdf_hi * width))
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(whole > 1e-300, kept / whole, marginal[None, :enc.n_bins])
    share = np.clip(share, 0.0, 1.0)
    share[:, point] = marginal[:enc.n_bins][point]
    share[:, marginal[:enc.n_bins] <= 0] = 0.0          # bins the range excludes outright
    out = np.zeros((share.shape[0], enc.n_states))
    out[:, :enc.n_bins] = share
    return out


# --- step 2-3: joint cells and their targets ------------------------------------------------

def _cell_index(codes, cond_nodes, dims) -> np.ndarray:
    if not cond_nodes:
        return np.zeros(codes.shape[0], dtype=np.int64)
    return np.ravel_multi_index(tuple(codes[:, j] for j in cond_nodes), dims)


def _target_margin(model, scenario, name, node, q0, axis) -> np.ndarray:
    """Target distribution over the node's states (see docs/conditioning.md)."""
    column = model.schema_[name]
    enc = model.encodings_[node]
    other = tuple(i for i in range(q0.ndim) if i != axis)
    model_margin = q0.sum(axis=other)
    target = share_vector(column.levels, enc.n_states, scenario.categorical[name])
    listed = ~np.isnan(target)
    for state in np.flatnonzero(listed & (target > 0) & (model_margin <= 0)):
        raise SimioError("simio_infeasible_scenario",
                         f"Level {column.levels[state]!r} of column {name!r} has zero "
                         f"probability under the trained model inside the numeric ranges; "
                         f"give it share 0 or widen the ranges.", column=name,
                         level=column.levels[state])
    remainder = max(0.0, 1.0 - float(np.nansum(target)))
    unlisted_mass = float(model_margin[~listed].sum())
    out = np.where(listed, target, 0.0)
    if remainder > 0 and unlisted_mass > 0:
        out[~listed] = remainder * model_margin[~listed] / unlisted_mass
    return out / out.sum()


# --- step 4-5: integer allocation and filling -----------------------------------------

def _cell_candidates(folded, cell, need, cond_nodes, dims, seed, pool, uniforms):
    """Likelihood-weighted candidates for one joint cell (its levels as hard evidence):
    states, weights and their effective sample size.

    The candidate budget is fixed by the rows the cell needs at the requested size, so a
    shrunken (partial) request resamples the same candidates: one candidate per row, and
    ``THIN_OVERSAMPLE`` per row for a cell whose weights are too uneven for one (its ESS
    under the reuse cap). The extra candidates continue the cell's stream, so the larger
    set starts with the smaller one.
    """
    hard = dict(zip(cond_nodes, (int(k) for k in np.unravel_index(cell, dims)))) \
        if cond_nodes else {}
    first = max(need, MIN_CANDIDATES)
    codes, w = folded.draw(_cell_uniforms(seed, cell, first, uniforms), hard)
    ess = _ess(w)
    extended = max(math.ceil(THIN_OVERSAMPLE * need), MIN_CANDIDATES)
    if ess * MAX_REUSE < need and extended > first:
        more, more_w = folded.draw(_cell_uniforms(seed, cell, extended, uniforms)[first:], hard)
        codes, w = np.concatenate([codes, more]), np.concatenate([w, more_w])
        ess = _ess(w)
    if not w.sum() > 0:   # fall back on the pool's rows in this cell
        pool_codes, pool_w, cell_of_pool = pool.draw()
        in_cell = cell_of_pool == cell
        codes, w = pool_codes[in_cell], pool_w[in_cell]
        ess = _ess(w)
    return np.asfortranarray(codes), w, ess


def _cell_uniforms(seed, cell, n_rows, uniforms: "_UniformBuffer") -> np.ndarray:
    width = uniforms.array.shape[1]
    return rng.block_uniforms(seed, (STREAM_CELL, cell), 0, n_rows, width,
                              out=uniforms.take(n_rows))


def _ess(w) -> float:
    """Effective sample size of weighted candidates, (sum w)^2 / sum w^2."""
    return float(w.sum()) ** 2 / max(float((w * w).sum()), 1e-300)


class _UniformBuffer:
    """One uniforms array reused cell after cell (grown when a cell needs more rows): a
    fresh array per cell would fault in new pages each time, as costly as drawing them."""

    def __init__(self, width: int):
        self.array = np.empty((0, width))

    def take(self, n_rows: int) -> np.ndarray:
        if self.array.shape[0] < n_rows:
            self.array = np.empty((n_rows, self.array.shape[1]))
        return self.array[:n_rows]


class _Pool:
    """The likelihood-weighted pool under the range evidence, drawn only when needed."""

    def __init__(self, model, lam, seed, cond_nodes, dims):
        self.args = (model, lam, seed, cond_nodes, dims)
        self._drawn = None

    def draw(self):
        if self._drawn is None:
            model, lam, seed, cond_nodes, dims = self.args
            d = len(model.encodings_)
            codes, w = FoldedEvidence(model, lam).draw(
                rng.block_uniforms(seed, STREAM_POOL, 0, POOL_ROWS, d))
            self._drawn = (codes, w, _cell_index(codes, cond_nodes, dims))
        return self._drawn


def largest_remainder(shares: np.ndarray, total: int) -> np.ndarray:
    """Integer counts summing to ``total``, each within 1 of ``total * share``."""
    exact = shares * total
    counts = np.floor(exact).astype(np.int64)
    short = total - int(counts.sum())
    if short > 0:
        order = np.lexsort((np.arange(shares.size), -(exact - counts)))
        counts[order[:short]] += 1
    return counts


def allocate_counts(q: np.ndarray, margins: list[np.ndarray], rows: int) -> np.ndarray:
    """Integer cell counts summing to ``rows`` whose margins are the rounded targets.

    Fast path: largest remainder on the cells, then unit moves along each axis. Moves on
    one axis at a time can get stuck behind structural zeros even when an exact table
    exists; then the table is solved jointly as a small integer program (closest to
    ``q * rows`` in L1, every margin fixed, zeros kept). If no exact table exists on q's
    support, the fast path's table (margins within a row or two) is kept.
    """
    counts = largest_remainder(q.ravel(), rows).reshape(q.shape)
    expected = q * rows
    targets = [largest_remainder(margin, rows) for margin in margins]
    for axis, target in enumerate(targets):
        counts = _repair_axis(counts, expected, q > 0, target, axis)
    if all(np.array_equal(_margin(counts, axis), t) for axis, t in enumerate(targets)):
        return counts
    if np.count_nonzero(q) > MAX_EXACT_CELLS:
        return counts                  # bounded cost: the integer program grows too fast
    exact = _exact_allocation(expected, q > 0, targets)
    return counts if exact is None else exact


def _margin(table, axis):
    return table.sum(axis=tuple(i for i in range(table.ndim) if i != axis))


def _exact_allocation(expected, allowed, targets):
    """min sum |n - expected| s.t. the margins equal ``targets`` and n = 0 off ``allowed``.

    Sparse: one integer count and one deviation per allowed cell, one equality per
    (column, level), so memory grows with the cells that carry mass, not their square.
    """
    from scipy.optimize import Bounds, LinearConstraint, milp
    from scipy.sparse import csr_matrix, hstack, identity, vstack

    cells = np.flatnonzero(allowed.ravel())
    n, k = cells.size, expected.ndim
    states = np.unravel_index(cells, expected.shape)
    offsets = np.concatenate([[0], np.cumsum(expected.shape)]).astype(np.int64)
    level_rows = np.concatenate([offsets[a] + states[a] for a in range(k)])
    margins = csr_matrix((np.ones(n * k), (level_rows, np.tile(np.arange(n), k))),
                         shape=(int(offsets[-1]), n))
    counts = np.concatenate([np.asarray(t, dtype=np.float64) for t in targets])
    eye = identity(n, format="csr")
    # d >= n - e and d >= e - n turn the absolute deviation into linear constraints
    deviation = vstack([hstack([eye, -eye]), hstack([-eye, -eye])]).tocsr()
    e = expected.ravel()[cells]
    zero = csr_matrix((margins.shape[0], n))
    constraints = [LinearConstraint(hstack([margins, zero]).tocsr(), counts, counts),
                   LinearConstraint(deviation, -np.inf, np.concatenate([e, -e]))]
    result = milp(c=np.concatenate([np.zeros(n), np.ones(n)]), constraints=constraints,
                  integrality=np.concatenate([np.ones(n), np.zeros(n)]),
                  bounds=Bounds(np.zeros(2 * n), np.full(2 * n, np.inf)),
                  options={"node_limit": EXACT_NODE_LIMIT})   # a count, not a clock: deterministic
    if result.x is None:
        return None
    found = np.rint(result.x[:n])
    if not np.array_equal(margins @ found, counts):
        return None
    out = np.zeros(expected.size, dtype=np.int64)
    out[cells] = found.astype(np.int64)
    return out.reshape(expected.shape)


def _repair_axis(counts, expected, allowed, target, axis):
    """Move single rows along ``axis`` until its margin equals ``target``.

    A move takes a row from level ``a`` to level ``b`` within one slice (the other columns'
    levels fixed), so the other margins never change. When no slice allows ``a -> b``
    directly (structural zeros), the row travels along a chain ``a -> c -> ... -> b``
    found by breadth-first search; the intermediate levels' margins are unchanged.
    """
    counts = np.moveaxis(counts, axis, 0).copy()
    shape = counts.shape
    flat = counts.reshape(shape[0], -1)
    exp_flat = np.moveaxis(expected, axis, 0).reshape(flat.shape)
    ok_flat = np.moveaxis(allowed, axis, 0).reshape(flat.shape)
    while True:
        current = flat.sum(axis=1)
        over = set(np.flatnonzero(current > target).tolist())
        under = set(np.flatnonzero(current < target).tolist())
        if not over or not under:
            break
        path = _move_path(flat, ok_flat, exp_flat, sorted(over), under)
        if path is None:
            break                      # no exact allocation exists under the zeros
        for src, dst, slice_ in path:
            flat[src, slice_] -= 1
            flat[dst, slice_] += 1
    return np.moveaxis(flat.reshape(shape), 0, axis)


def _move_path(flat, ok_flat, exp_flat, sources, targets):
    """Shortest chain of single-row moves from an over-full to an under-full level."""
    previous = {a: None for a in sources}
    frontier = list(sources)
    while frontier:
        nxt = []
        for level in frontier:
            for other in range(flat.shape[0]):
                if other in previous:
                    continue
                # the slice where the move hurts the fit least
                gain = (exp_flat[other] - flat[other]) - (exp_flat[level] - flat[level])
                gain = np.where((flat[level] > 0) & ok_flat[other], gain, -np.inf)
                best = int(np.argmax(gain))
                if not np.isfinite(gain[best]):
                    continue
                previous[other] = (level, best)
                if other in targets:
                    path, node = [], other
                    while previous[node] is not None:
                        src, slice_ = previous[node]
                        path.append((src, node, slice_))
                        node = src
                    return path[::-1]
                nxt.append(other)
        frontier = nxt
    return None


def conditional_frame(model, draw: ConditionalDraw, seed: int, chunk_rows: int) -> pd.DataFrame:
    import pandas as pd

    return pd.concat(list(iter_decode(model, draw, seed, chunk_rows)), ignore_index=True)
