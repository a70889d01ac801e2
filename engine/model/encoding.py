"""Encoding: every column becomes a discrete node with a fixed number of states.

Categorical: one state per schema level, plus a final "missing" state when the seed has
missing values. Numeric: quantile bins, plus a missing state; inside a bin the value has its
own distribution (a piecewise-linear CDF), which both the sampler and the range
restriction of scenario conditioning use. Integer columns with a narrow span get one knot
pair per whole number, so their within-bin distribution is an exact (smoothed) pmf.
"""

from __future__ import annotations

from dataclasses import dataclass

from typing import TYPE_CHECKING

import numpy as np

from engine.model import smoothing, weekdays
from engine.schema import Column

if TYPE_CHECKING:                  # fit-time argument types; a loaded model needs no pandas
    import pandas as pd

# Bins per numeric column: enough to carry shape and dependence, few enough that a
# conditional table over a numeric parent still has rows behind each cell. Grows with the
# cube root of the row count (the usual histogram rate), between these bounds.
MIN_BINS = 5
MAX_BINS = 20
# Knots inside a continuous bin: its quantiles at this many evenly spaced probabilities.
# More knots follow the seed more closely; interpolating between a few of them keeps
# generated values from being copies of seed values.
MAX_KNOTS = 16
# ... and at most one knot per this many of the bin's seed values (a small seed's bins).
KNOT_ROWS = 2
# Integer bins spanning at most this many whole numbers get an exact per-integer pmf.
MAX_INTEGER_SPAN = 256
# Integer pmfs are smoothed locally: each seed count is spread over its neighbours with
# this kernel (a value the seed happens to lack between two it has still appears), and a
# small floor per whole number keeps every value of the bin's span possible. A uniform
# pseudo-count would fatten sparse tail bins (0.5 per value over a 26-value tail bin put
# 9% of a clipped 0-100 score above 90 where the truth has 1.5%).
INTEGER_KERNEL = np.array([1.0, 2.0, 3.0, 2.0, 1.0]) / 9.0
INTEGER_FLOOR = 0.02
# Tail resolution: the outermost quantile bins are split again at these fractions of a bin
# width (from each end), when the piece still holds at least TAIL_MIN_ROWS seed rows, so a
# range in the top or bottom few percent is answered by the model's own bins and not by
# the handful of seed rows one wide end bin would hold.
TAIL_SPLITS = (0.5, 0.25)
TAIL_MIN_ROWS = 10
# Seed precision: a column whose every value has at most this many decimals is generated
# with that many (more than this is treated as continuous and left unrounded).
MAX_DECIMALS = 6
# A numeric parent of a categorical child is seen through this many coarse groups of its
# bins, so the child's table stays estimable from a small seed; a point mass holding a
# quantile bin's worth of rows is a group of its own (``parent_groups``).
PARENT_GROUPS = 4


@dataclass
class NodeEncoding:
    """How one column maps to discrete states (all arrays are plain numpy)."""

    name: str
    kind: str                    # "categorical" | "numeric"
    n_states: int
    missing_state: int           # -1 when the column has no missing values
    # numeric only
    thresholds: np.ndarray | None = None   # bin b holds values in [t[b-1], t[b])
    knot_x: np.ndarray | None = None       # (bins, knots)
    knot_c: np.ndarray | None = None       # (bins, knots)
    n_knots: np.ndarray | None = None      # (bins,)
    bin_score: np.ndarray | None = None    # normal score of each bin (copula scale)
    parent_group: np.ndarray | None = None  # state -> coarse group when a parent
    bin_cum: np.ndarray | None = None      # (bins + 1,) cumulative bin shares, 0 .. 1
    is_integer: bool = False
    lower: float | None = None
    upper: float | None = None
    decimals: int | None = None            # seed precision (None: not rounded)
    derived: bool = False                  # computed from other columns (model/relations.py)
    weekday_weights: list | None = None    # a date's weekday effect (model/weekdays.py)

    @property
    def n_bins(self) -> int:
        return self.n_states - (1 if self.missing_state >= 0 else 0)

    def encode(self, series: pd.Series) -> np.ndarray:
        if self.derived:
            return np.zeros(len(series), dtype=np.int64)
        if self.kind == "categorical":
            codes = np.asarray(series.cat.codes, dtype=np.int64).copy()
            codes[codes < 0] = self.missing_state
            return codes
        values = series.to_numpy(dtype=np.float64, na_value=np.nan)
        codes = np.searchsorted(self.thresholds, values, side="right").astype(np.int64)
        codes[np.isnan(values)] = self.missing_state
        return codes

    def bin_cdf(self, x: float, side: str = "right") -> np.ndarray:
        """P(value <= x | bin) for every bin (``side="left"``: P(value < x | bin)).

        The two differ only at a point mass (a vertical CDF segment): a range [a, b] keeps
        the mass between P(value < a) and P(value <= b), point masses at a or b included.
        """
        out = np.empty(self.n_bins)
        for b in range(self.n_bins):
            m = self.n_knots[b]
            xs, cs = self.knot_x[b, :m], self.knot_c[b, :m]
            if m == 1:
                out[b] = float(x >= xs[0]) if side == "right" else float(x > xs[0])
                continue
            i = int(np.searchsorted(xs, x, side=side)) - 1
            if i < 0:
                out[b] = 0.0
            elif i >= m - 1:
                out[b] = 1.0
            else:
                span = xs[i + 1] - xs[i]
                out[b] = cs[i] + ((x - xs[i]) / span * (cs[i + 1] - cs[i]) if span > 0 else 0.0)
        return out

    # -- persistence ------------------------------------------------------------------
    ARRAYS = ("thresholds", "knot_x", "knot_c", "n_knots", "bin_score", "parent_group",
              "bin_cum")

    def meta(self) -> dict:
        return {"name": self.name, "kind": self.kind, "n_states": self.n_states,
                "missing_state": self.missing_state, "is_integer": self.is_integer,
                "lower": self.lower, "upper": self.upper, "decimals": self.decimals,
                "derived": self.derived,
                # only when set: a model without a weekday effect saves as it always did
                **({"weekday_weights": self.weekday_weights}
                   if self.weekday_weights is not None else {})}

    @property
    def bin_mean_score(self) -> np.ndarray:
        """Mean normal score of each bin's slice of the copula scale (a truncated standard
        normal's mean), with 0 appended for the missing state when there is one."""
        from engine.normal import ndtri     # sampling uses it: no scipy

        edges = ndtri(np.clip(self.bin_cum, 0.0, 1.0))
        dens = np.exp(-0.5 * np.where(np.isfinite(edges), edges, 0.0) ** 2) / np.sqrt(2 * np.pi)
        dens[~np.isfinite(edges)] = 0.0
        width = np.diff(self.bin_cum)
        mean = np.where(width > 0, (dens[:-1] - dens[1:]) / np.maximum(width, 1e-300),
                        np.clip(edges[:-1], -8.0, 8.0))
        return np.append(mean, 0.0) if self.missing_state >= 0 else mean

    def round_to_seed(self, values: np.ndarray, lower: float, upper: float) -> np.ndarray:
        """Values at the seed's precision, kept inside [lower, upper] on that grid."""
        if self.is_integer or self.decimals is None:
            return values
        scale = 10.0 ** self.decimals
        out = np.round(values * scale) / scale
        # The 1e-9 slack absorbs float error for a bound on the grid; a bound just off it
        # (e.g. 1e-100 at 3 decimals) must not let the grid point beyond it in. Beyond
        # means by more than float error relative to the bound (0.30000000000000004 is 0.3).
        k_lo, k_hi = np.ceil(lower * scale - 1e-9), np.floor(upper * scale + 1e-9)
        slack = 4 * np.finfo(np.float64).eps
        k_lo += k_lo / scale < lower - slack * abs(lower)
        k_hi -= k_hi / scale > upper + slack * abs(upper)
        lo, hi = k_lo / scale, k_hi / scale
        if lo <= hi:                      # a grid point lies inside the range
            np.clip(out, lo, hi, out=out)
        else:
            np.clip(out, lower, upper, out=out)
        return out

    def arrays(self) -> dict[str, np.ndarray]:
        return {k: getattr(self, k) for k in self.ARRAYS if getattr(self, k) is not None}


def n_bins_for(n_rows: int) -> int:
    return int(np.clip(round(1.5 * n_rows ** (1.0 / 3.0)), MIN_BINS, MAX_BINS))


def encode_categorical(column: Column, series: pd.Series, pool: bool = True) -> NodeEncoding:
    """``pool``: tie the column's rare levels (``rare_pool``); False for a column in an
    exact relation, whose every level must keep its own parameters."""
    has_missing = bool(series.isna().any())
    n_levels = len(column.levels or [])
    n_states = n_levels + int(has_missing)
    group = rare_pool(_level_counts(column, series), len(series)) if pool else None
    if group is not None and has_missing:
        group = np.append(group, group.max() + 1)
    return NodeEncoding(name=column.name, kind="categorical", n_states=n_states,
                        missing_state=n_levels if has_missing else -1, parent_group=group)


def rare_pool(counts: np.ndarray, n_rows: int) -> np.ndarray | None:
    """Level -> parameter group: every level seen in fewer rows than the cleaning's
    rare-level threshold shares ONE group (the pool), the others keep their own, in order.

    A model parameter learned from one to four rows reproduces those rows (a child's
    distribution given a county seen once is that school's row). Tied, the pool's levels
    share every parameter: the same distribution of every child, the same dependence on
    the parents, and within the pool each level keeps its seed share (``tie_levels``).
    So each parameter is learned from at least the threshold's rows, and the levels
    themselves keep their marginal shares. None when fewer than two levels are rare.
    """
    from engine.cleaning.rare_levels import rare_threshold   # fit-only

    rare = counts < rare_threshold(n_rows)
    if rare.sum() < 2:
        return None
    group = np.cumsum(~rare) - 1
    group[rare] = int((~rare).sum())
    return group.astype(np.int64)


def _level_counts(column: Column, series: pd.Series) -> np.ndarray:
    import pandas as pd     # fit-only

    levels = list(column.levels or [])
    codes = pd.Categorical(series.astype(object).where(series.notna(), None),
                           categories=levels).codes
    return np.bincount(codes[codes >= 0], minlength=len(levels))


def encode_derived(column: Column) -> NodeEncoding:
    """A column computed from others: one state, so it informs nothing and is never a
    useful parent; its values come from its relation."""
    return NodeEncoding(name=column.name, kind="categorical", n_states=1, missing_state=-1,
                        derived=True)


def encode_numeric(column: Column, series: pd.Series, cuts=()) -> NodeEncoding:
    """``cuts``: values that must start a bin (the cut points of a band of this column);
    its numeric parent groups then follow the bands, so a band child sees exactly them."""
    values = series.to_numpy(dtype=np.float64, na_value=np.nan)
    observed = np.sort(values[~np.isnan(values)])
    has_missing = observed.size < values.size
    is_integer = bool(column.is_integer)
    distinct = np.unique(observed)
    if distinct.size <= n_bins_for(observed.size):
        # Few distinct values: each is its own bin, generated exactly.
        thresholds = _midpoints(distinct)
    else:
        n_bins = n_bins_for(observed.size)
        qs = np.quantile(observed, _cut_probabilities(n_bins, observed.size))
        if is_integer:
            qs = np.floor(qs) + 0.5          # cut between whole numbers, never through one
            # a point mass's bin of its own, as below: else it shares a bin with the whole
            # numbers beside it and their pmf kernel spreads it over them (tax 666)
            heavy = _heavy_values(observed, distinct, n_bins)
            sides = np.concatenate([heavy - 0.5, heavy + 0.5])
            qs = np.concatenate([qs, sides[(sides > observed[0]) & (sides < observed[-1])]])
        else:
            qs = np.concatenate([qs, _point_mass_cuts(observed, distinct, n_bins)])
        thresholds = np.unique(qs)
    if len(cuts):
        thresholds = _with_cuts(thresholds, observed, cuts, is_integer)
    n_bins = thresholds.size + 1
    bins = np.searchsorted(thresholds, observed, side="right")
    # continuous columns only: integer bins get their own smoothed pmf
    decimals = None if is_integer else seed_decimals(distinct)
    kernel = None if is_integer else smoothing.column_kernel(observed, distinct, decimals)
    # observed is sorted, so each bin's rows are one slice (a mask per bin cost 17 ms a
    # column at 1M rows, the slices 0.1 ms)
    starts = np.concatenate([[0], np.searchsorted(observed, thresholds, side="left"),
                             [observed.size]])
    knots = [_bin_knots(observed[starts[b]:starts[b + 1]], _bin_span(b, thresholds, observed),
                        is_integer, kernel) for b in range(n_bins)]
    width = max(len(k[0]) for k in knots)
    knot_x = np.zeros((n_bins, width))
    knot_c = np.ones((n_bins, width))
    n_knots = np.zeros(n_bins, dtype=np.int64)
    for b, (xs, cs) in enumerate(knots):
        knot_x[b, :len(xs)], knot_c[b, :len(cs)], n_knots[b] = xs, cs, len(xs)
        knot_x[b, len(xs):] = xs[-1]
    from engine.model._normal_kernels import ndtri  # scipy's doubles, no scipy

    counts = np.bincount(bins, minlength=n_bins).astype(float)
    cum = np.cumsum(counts) / counts.sum()
    mid = cum - counts / counts.sum() / 2.0
    n_states = n_bins + int(has_missing)
    group = parent_groups(counts, n_knots, n_bins_for(observed.size), not is_integer)
    if len(cuts):
        middles = (np.concatenate([[observed[0]], thresholds])
                   + np.concatenate([thresholds, [observed[-1]]])) / 2.0
        group = np.searchsorted(np.sort(np.asarray(cuts, dtype=float)), middles, side="right")
    if has_missing:
        group = np.append(group, group.max() + 1)
    return NodeEncoding(
        name=column.name, kind="numeric", n_states=n_states,
        missing_state=n_bins if has_missing else -1, thresholds=thresholds,
        knot_x=knot_x, knot_c=knot_c, n_knots=n_knots,
        bin_score=ndtri(np.clip(mid, 1e-6, 1 - 1e-6)),
        parent_group=group.astype(np.int64), is_integer=is_integer,
        bin_cum=np.concatenate([[0.0], cum]),
        lower=float(observed[0]), upper=float(observed[-1]),
        decimals=decimals,
        weekday_weights=None if (per_day := weekdays.units_per_day(column)) is None
        else weekdays.fit_weights(values, per_day))


def parent_groups(counts: np.ndarray, n_knots: np.ndarray, quantile_bins: int,
                  continuous: bool = True) -> np.ndarray:
    """Bin -> the coarse group a count-table child sees: the bins in PARENT_GROUPS runs of
    neighbours, except that in a continuous column a point mass (a single-valued bin
    holding at least a quantile bin's worth of rows, 1 / ``quantile_bins`` of them: the
    bin ``_point_mass_cuts`` gives it) is a group of its own, after the others. Lumped
    with its neighbours it gives its children their average: in Hedonic 26% of tracts
    (Boston's) share one industrial share, one pupil-teacher ratio, one tax rate and one
    highway access, and a child of the pupil-teacher ratio saw those tracts averaged with
    the spread of towns beside them. Not for a column of few values (every bin one value)
    nor an integer column (there a value's bin is one by the quantiles' chance, a month
    of 35 that happens to hold 5% of rows): their neighbours stay the coarsening. The
    counts then decide (the structure score) whether a child is better off with the finer
    parent."""
    n_bins = counts.size
    single = np.asarray(n_knots) == 1
    heavy = single & (counts >= counts.sum() / quantile_bins)
    if not continuous or n_bins <= PARENT_GROUPS or not heavy.any() or single.all():
        return np.minimum((np.arange(n_bins) * PARENT_GROUPS) // n_bins, PARENT_GROUPS - 1)
    rest = np.flatnonzero(~heavy)
    group = np.empty(n_bins, dtype=np.int64)
    group[rest] = np.minimum((np.arange(rest.size) * PARENT_GROUPS) // max(rest.size, 1),
                             PARENT_GROUPS - 1)
    first = int(group[rest].max()) + 1 if rest.size else 0
    group[heavy] = first + np.arange(int(heavy.sum()))
    return group


def _with_cuts(thresholds, observed, cuts, is_integer) -> np.ndarray:
    """Thresholds plus the cuts (a whole-number cut of an integer column sits half a unit
    below it), without bins that hold no seed value (a threshold in a cut's gap)."""
    cuts = np.asarray(cuts, dtype=float)
    if is_integer:
        cuts = np.where(cuts == np.round(cuts), cuts - 0.5, cuts)
    out = np.unique(np.concatenate([thresholds, cuts]))
    while True:
        counts = np.bincount(np.searchsorted(out, observed, side="right"),
                             minlength=out.size + 1)
        empty = np.flatnonzero(counts == 0)
        removable = [t for b in empty for t in (b - 1, b)
                     if 0 <= t < out.size and out[t] not in cuts]
        if not removable:
            return out
        out = np.delete(out, removable[0])


def _cut_probabilities(n_bins: int, n_rows: int) -> np.ndarray:
    """Evenly spaced quantile levels, plus the tail splits of the two end bins."""
    probs = list(np.linspace(0, 1, n_bins + 1)[1:-1])
    for frac in TAIL_SPLITS:
        p = frac / n_bins
        if p * n_rows >= TAIL_MIN_ROWS:
            probs += [p, 1.0 - p]
    return np.unique(probs)


def seed_decimals(distinct: np.ndarray) -> int | None:
    """The fewest decimals (0 .. MAX_DECIMALS) every seed value is written with, else None."""
    finite = distinct[np.isfinite(distinct)]
    for d in range(MAX_DECIMALS + 1):
        scaled = finite * 10.0 ** d
        # float error of a d-decimal value, scaled: ~1e-16 relative; real digits: >= 1e-6
        if np.all(np.abs(scaled - np.round(scaled)) <= 1e-11 * np.maximum(1.0, np.abs(scaled))):
            return d
    return None


def _heavy_values(observed, distinct, n_bins) -> np.ndarray:
    """The heavily repeated values: each held by a quantile bin's worth of rows or more."""
    counts = np.bincount(np.searchsorted(distinct, observed), minlength=distinct.size)
    return distinct[counts >= observed.size / n_bins]


def _point_mass_cuts(observed, distinct, n_bins) -> np.ndarray:
    """Cuts that give each heavily repeated value (a quantile bin's worth of rows, such as
    40% exact zeros) a bin of its own, so it is generated as exactly that value."""
    heavy = _heavy_values(observed, distinct, n_bins)
    return np.concatenate([heavy, np.nextafter(heavy, np.inf)]) if heavy.size else heavy


def _smooth_counts(counts: np.ndarray) -> np.ndarray:
    """Local kernel smoothing inside the bin's span, mass kept inside it, plus a floor."""
    half = INTEGER_KERNEL.size // 2
    padded = np.convolve(counts.astype(float), INTEGER_KERNEL)      # length n + 2*half
    smoothed = padded[half:half + counts.size].copy()
    smoothed[0] += padded[:half].sum()                               # fold the spill back in
    smoothed[-1] += padded[half + counts.size:].sum()
    return smoothed + INTEGER_FLOOR


def _midpoints(distinct: np.ndarray) -> np.ndarray:
    return (distinct[:-1] + distinct[1:]) / 2.0


def _bin_span(b, thresholds, observed):
    lo = observed[0] if b == 0 else thresholds[b - 1]
    hi = observed[-1] if b == thresholds.size else thresholds[b]
    return lo, hi


def _bin_knots(values: np.ndarray, span, is_integer: bool, kernel=None):
    """Piecewise-linear CDF knots (x, c) for one bin's values."""
    if values.size == 0:   # cannot happen for quantile bins; keep the bin harmless
        x = float(np.mean(span))
        return np.array([x]), np.array([1.0])
    lo, hi = float(values[0]), float(values[-1])
    if lo == hi:
        return np.array([lo]), np.array([1.0])
    if is_integer:
        first = int(np.ceil(span[0])) if span[0] != values[0] else int(lo)
        last = int(np.floor(span[1])) if span[1] != values[-1] else int(hi)
        first, last = min(first, int(lo)), max(last, int(hi))
        if last - first + 1 <= MAX_INTEGER_SPAN:
            support = np.arange(first, last + 1)
            counts = np.bincount((values - first).astype(np.int64), minlength=support.size)
            pmf = _smooth_counts(counts)
            xs = np.concatenate([[first - 0.5], support + 0.5])
            cs = np.concatenate([[0.0], np.cumsum(pmf) / pmf.sum()])
            cs[-1] = 1.0
            return xs, cs
    # At most one knot per two seed values: through every value of a small bin, the CDF
    # would pile generated values up around each seed value (tiny seeds' rows would be
    # echoed); between every other one it still follows the bin's shape.
    n_knots = int(min(MAX_KNOTS, max(2, -(-values.size // KNOT_ROWS))))
    if kernel is not None:
        # a continuous column: the kernel density restricted to the bin (model/smoothing.py)
        smoothed = smoothing.bin_knots(values, span, kernel, n_knots)
        if smoothed is not None:
            return smoothed
    probs = np.linspace(0.0, 1.0, n_knots)
    xs = np.quantile(values, probs)
    # Keep the first and last knot of every run of equal x: the CDF then jumps there
    # (a vertical segment), so a point mass such as 40% exact zeros stays a point mass.
    same_prev = np.concatenate([[False], np.diff(xs) == 0])
    same_next = np.concatenate([np.diff(xs) == 0, [False]])
    keep = ~(same_prev & same_next)
    xs, cs = xs[keep], probs[keep]
    cs[-1] = 1.0
    return xs, cs
