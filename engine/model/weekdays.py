"""Weekday effects of a ``date`` column: detected at fit, restored at sample.

The model sees a date as whole days on a numeric scale, so its bins and within-bin curves
follow the date's distribution over the year but not over the week: a seed that is 90%
Monday-Friday came out with uniform weekday shares. Here:

``fit_weights(days)`` compares the seed's weekday counts with what its own dates would give
without a weekday effect, each date spread uniformly over its surrounding week [x-3, x+3]
(clipped to the seed's range). A chi-square test (6 degrees of freedom) at p < 1e-3 on at
least ``MIN_ROWS`` dates spanning at least ``MIN_SPAN_DAYS`` decides; when significant the
seven weights observed / expected (Monday first, mean 1) are returned, else None.

``shift(values, low, high, weights, uniforms)`` moves each sampled date to a day of its own
7-day window [x-3, x+3], clipped to [low, high] (per row: the allowed range and the row's
bin), chosen with probability proportional to the weekday weights. Any 7 consecutive days
hold each weekday once, so a sampled day c ends with probability w(c) times the week-
smoothed density around c: the weekday shares follow the weights while the distribution
over weeks and months stays the model's. Pattern finer than a week (a single busy date)
is smoothed away in such a column; a column without a detected effect is never touched.
"""

from __future__ import annotations

import numpy as np

from engine import rng
from engine.calendar import UNIT_NS

# Dates needed before a weekday effect is looked for, and the span they must cover (4
# weeks: every weekday occurs at least 4 times, so an uneven spread of a few dates over
# the days is not mistaken for a weekday effect).
MIN_ROWS = 200
MIN_SPAN_DAYS = 28
# Chi-square critical value, 6 degrees of freedom, p = 1e-3 (scipy.stats.chi2.isf(1e-3, 6);
# a constant so the check stays a few numpy lines). Strict: a weekday effect changes every
# generated date, so only a clear one is kept.
CHI2_CRITICAL = 22.4577
WINDOW = 3                      # days either side: [x-3, x+3] is one whole week
EPOCH_WEEKDAY = 3               # 1970-01-01 was a Thursday (Monday = 0)
# The weekday choice's own uniform stream (engine/rng.py; forward uses 0-1, conditional
# 2-5): no other column's numbers change, and blocks keep it chunk-independent.
STREAM_WEEKDAYS = 6


def weekday(days: np.ndarray) -> np.ndarray:
    """Monday = 0 ... Sunday = 6 of whole days since 1970-01-01."""
    return (np.asarray(days, dtype=np.int64) + EPOCH_WEEKDAY) % 7


def expected_counts(days: np.ndarray) -> np.ndarray:
    """Weekday counts with no weekday effect: each date spread evenly over the days of
    [x-3, x+3] inside the seed's range."""
    lo, hi = days.min(), days.max()
    n_days = np.minimum(days + WINDOW, hi) - np.maximum(days - WINDOW, lo) + 1
    expected = np.zeros(7)
    for offset in range(-WINDOW, WINDOW + 1):
        day = days + offset
        inside = (day >= lo) & (day <= hi)
        expected += np.bincount(weekday(day[inside]), weights=1.0 / n_days[inside],
                                minlength=7)
    return expected


def units_per_day(column) -> int | None:
    """Model units in a day for a column whose weekday is looked at: 1 for a ``date``, 24
    hours / 1440 minutes / ... for a ``datetime`` without a time zone (an aware one is
    modelled in UTC, whose day is not the local one: not looked at). None otherwise."""
    if column.type == "date":
        return 1
    if column.type == "datetime" and column.timezone is None:
        return UNIT_NS["D"] // UNIT_NS[column.time_unit]
    return None


def fit_weights(values: np.ndarray, per_day: int = 1) -> list[float] | None:
    """Seven weekday weights (Monday first, mean 1) when ``values`` (counts of 1/per_day
    days since the epoch, NaN = missing) show a significant weekday effect, else None."""
    days = np.asarray(values, dtype=np.float64)
    days = np.floor(days[~np.isnan(days)] / per_day).astype(np.int64)
    if days.size < MIN_ROWS or days.max() - days.min() + 1 < MIN_SPAN_DAYS:
        return None
    observed = np.bincount(weekday(days), minlength=7).astype(np.float64)
    expected = expected_counts(days)
    if float(((observed - expected) ** 2 / expected).sum()) < CHI2_CRITICAL:
        return None
    weights = observed / expected
    return [round(float(w), 6) for w in weights * 7.0 / weights.sum()]


def shift(values: np.ndarray, low: np.ndarray, high: np.ndarray, weights,
          uniforms: np.ndarray, per_day: int = 1) -> np.ndarray:
    """``values`` (whole units, ``per_day`` to a day; NaN = missing) each moved by a whole
    number of days to x + k days, k in -3..3, within [low, high] (per-row bounds in units
    containing x), drawn with probability proportional to ``weights`` of its weekday by
    inverse CDF of ``uniforms``. A datetime keeps its time of day."""
    # imported here: numba loads only for a model that has a weekday effect
    from engine.model._weekday_kernels import _shift_within_week

    out = np.empty_like(values, dtype=np.float64)
    _shift_within_week(np.ascontiguousarray(values, dtype=np.float64),
                       np.ascontiguousarray(low, dtype=np.float64),
                       np.ascontiguousarray(high, dtype=np.float64),
                       np.asarray(weights, dtype=np.float64), EPOCH_WEEKDAY, WINDOW,
                       float(per_day),
                       np.ascontiguousarray(uniforms, dtype=np.float64), out)
    return out


def weekday_slots(model) -> dict[int, int]:
    """Node -> its column of the weekday uniforms (nodes with weights, schema order)."""
    nodes = [j for j, e in enumerate(model.encodings_)
             if getattr(e, "weekday_weights", None) is not None and not e.derived]
    return {j: slot for slot, j in enumerate(nodes)}


def block_uniforms(model, seed: int, start_block: int, n_rows: int) -> np.ndarray | None:
    """The weekday uniforms of rows from ``start_block * BLOCK_ROWS`` on (None when no
    column has a weekday effect: nothing is drawn)."""
    width = len(weekday_slots(model))
    return rng.block_uniforms(seed, STREAM_WEEKDAYS, start_block, n_rows, width) \
        if width else None


def bin_unit_bounds(enc, state: np.ndarray, lower: float, upper: float
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Per row, the whole units of its bin (``enc.thresholds``: bin b holds [t[b-1], t[b]))
    inside [lower, upper]."""
    t = enc.thresholds
    b = np.minimum(state, enc.n_bins - 1)
    edges_lo = np.concatenate([[-np.inf], np.ceil(t)])
    edges_hi = np.concatenate([np.ceil(t) - 1.0, [np.inf]])
    low = np.maximum(edges_lo[b], np.ceil(lower))
    high = np.minimum(edges_hi[b], np.floor(upper))
    return low, high


__all__ = ["CHI2_CRITICAL", "MIN_ROWS", "MIN_SPAN_DAYS", "STREAM_WEEKDAYS", "bin_unit_bounds",
           "block_uniforms", "expected_counts", "fit_weights", "shift", "units_per_day",
           "weekday", "weekday_slots"]
