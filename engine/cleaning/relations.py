"""Step: exact functional dependencies between columns (recorded, never dropped).

A column that is an exact function of others is kept and regenerated from them, so the
relation holds in every synthetic row. Numeric targets are tried from the last numeric
column to the first, categorical ones in column order; a column derived once is never a
source, so there are no cycles. Kinds:

- ``affine``: y = a + b x; ``log``: y = a + b log(x) (x > 0); ``exp``: y = exp(a + b x);
- ``sum``: y = a + b1 x1 + b2 x2 (a total, a difference, an average of two parts);
- ``band``: a categorical whose levels are disjoint intervals of a numeric x (age bands);
- ``nested``: a categorical p that a finer categorical c determines (state -> region).

"Exact" means within half the last decimal the target is written with plus 1e-7 of its
largest magnitude (the precision of a 32-bit float), on every row where the columns have values, with the same
rows missing on both sides, and on at least ``MIN_ROWS`` rows. Each relation is one
decision (action ``derive_column``, the relation in words); the relations themselves
travel on the table to the model. Skipped when auto_clean=false.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from engine.model.encoding import seed_decimals
from engine.schema import CALENDAR_TYPES

from .correlation import pairwise_corr
from .result import Table, decision

STEP = "relations"
MIN_ROWS = 10
# |r| a numeric pair must reach before an exact fit is tried (cheap screen).
SCREEN_ABS_R = 0.999
# The same screen for the log and exp kinds (|r| of y with log x, of log y with x), looser:
# rounding y to its few decimals blurs a log scale more than a linear one.
SCREEN_LOG_ABS_R = 0.99
# Parts tried for a ``sum`` target: its most correlated free numerics.
SUM_CANDIDATES = 6
# Categorical relations are tried on the first rows first; only survivors see every row.
PROBE_ROWS = 2000


def detect_relations(table: Table, *, auto_clean: bool = True) -> tuple[Table, list[dict]]:
    if not auto_clean:
        return table, []
    frame = table.frame
    numeric = [n for n, c in table.columns.items() if c.kind == "numeric"]
    categorical = [n for n, c in table.columns.items() if c.kind == "categorical"]
    values = {n: frame[n].to_numpy(dtype=np.float64, na_value=np.nan) for n in numeric}
    derived: set[str] = set()
    decisions, found = [], []
    # Dates are never in a numeric formula (a date is the floor of a datetime, which an
    # affine fit mistakes for exact); they may still be the x of a band.
    plain = [n for n in numeric if table.columns[n].type not in CALENDAR_TYPES]
    corr = _Correlations(plain, values) if len(plain) > 1 else None
    missing = {n: np.isnan(values[n]) for n in plain}     # once, not per pair
    # Later columns first: a derived column usually follows its sources (sale_price after
    # price and discount), and a column derived once is never a source.
    used: set[str] = set()            # sources of relations found so far: never derived
    for y in reversed(plain):
        if y in used:
            continue
        free = [x for x in plain if x != y and x not in derived]
        relation = _numeric_relation(y, free, values, corr, missing)
        if relation is not None:
            derived.add(y)
            used.update(relation["sources"])
            found.append(relation)
    probe = frame.iloc[:PROBE_ROWS]
    probe_values = {n: v[:PROBE_ROWS] for n, v in values.items()}
    probe_codes = {c: _codes(probe[c]) for c in categorical}      # once, not per pair
    for c in categorical:
        if c in used:
            continue
        sources = [x for x in numeric if x not in derived]
        # a relation broken in the first rows is broken: only survivors see every row
        sources = [x for x in sources
                   if _band(c, None, [x], probe_values, probe_codes[c]) is not None]
        relation = _band(c, frame[c], sources, values) if sources else None
        if relation is None:
            parents = [p for p in categorical if p != c and p not in derived]
            parents = [p for p in parents
                       if _nested(c, probe, [p], min_rows=False, coded=probe_codes)]
            relation = _nested(c, frame, parents) if parents else None
        if relation is not None:
            derived.add(relation["target"])
            used.update(relation["sources"])
            found.append(relation)
    decisions = [decision(STEP, r["target"], "derive_column", f"{r['kind']}: {describe(r)}")
                 for r in found]
    # a sum of two parts has no range of its own to translate: not conditionable
    excluded = {r["target"]: replace(table.columns[r["target"]], conditioning_excluded=True)
                for r in found if r["kind"] == "sum"}
    return replace(table.update(excluded, {}), relations=tuple(found)), decisions


def describe(rel: dict) -> str:
    kind, y, xs = rel["kind"], rel["target"], rel["sources"]
    if kind == "affine":
        return f"{y} = {rel['coef'][0]:.6g} + {rel['coef'][1]:.6g} * {xs[0]}"
    if kind == "log":
        return f"{y} = {rel['coef'][0]:.6g} + {rel['coef'][1]:.6g} * log({xs[0]})"
    if kind == "exp":
        return f"{y} = exp({rel['coef'][0]:.6g} + {rel['coef'][1]:.6g} * {xs[0]})"
    if kind == "sum":
        a, b1, b2 = rel["coef"]
        return f"{y} = {a:.6g} + {b1:.6g} * {xs[0]} + {b2:.6g} * {xs[1]}"
    if kind == "band":
        return f"{y} is a banding of {xs[0]} (cuts {', '.join(f'{c:g}' for c in rel['cuts'])})"
    return f"{y} is determined by {xs[0]} (each level of {xs[0]} lies in one level of {y})"


# -- numeric relations ---------------------------------------------------------------------

def tolerance(y: np.ndarray) -> float:
    ok = y[~np.isnan(y)]
    # the distinct values in any order (a hash, not a sort of every row): the decimals
    # are a property of each value
    d = seed_decimals(pd.unique(ok))
    scale = max(1.0, float(np.max(np.abs(ok)))) if ok.size else 1.0
    # plus float32 precision: many public tables were stored as 32-bit floats
    return (0.5 * 10.0 ** -d if d is not None else 0.0) + 1e-7 * scale


class _Correlations:
    """Pairwise correlations of every numeric and the log of every positive one, in one
    pass: the screens of the affine, log, exp and sum kinds. Keys ``("raw", name)`` and
    ``("log", name)``; a key that is absent (log of a column with values <= 0) is no
    candidate."""

    def __init__(self, numeric, values):
        keys = [("raw", n) for n in numeric]
        keys += [("log", n) for n in numeric if np.all(values[n][~np.isnan(values[n])] > 0)]
        columns = [values[n] if kind == "raw" else np.log(values[n]) for kind, n in keys]
        self.r = pairwise_corr(columns, MIN_ROWS)
        self.index = {k: i for i, k in enumerate(keys)}

    def __call__(self, a, b) -> float:
        """|r| of the pair (NaN when unknown, 0 when a key is absent)."""
        if a not in self.index or b not in self.index:
            return 0.0
        return abs(float(self.r[self.index[a], self.index[b]]))

    def passes(self, a, b, threshold) -> bool:
        r = self(a, b)
        return not np.isfinite(r) or r >= threshold

    def multiple(self, y, x1, x2) -> float:
        """R of y on x1 and x2 from the pairwise correlations (NaN when unknown)."""
        ry1, ry2, r12 = (float(self.r[self.index[("raw", a)], self.index[("raw", b)]])
                         for a, b in ((y, x1), (y, x2), (x1, x2)))
        if abs(r12) >= 1.0:
            return max(abs(ry1), abs(ry2))
        r2 = (ry1 ** 2 + ry2 ** 2 - 2 * ry1 * ry2 * r12) / (1 - r12 ** 2)
        return float(np.sqrt(max(r2, 0.0)))


def _numeric_relation(y, free, values, corr, missing):
    yv = values[y]
    tol = tolerance(yv)
    for x in free:
        xv = values[x]
        rows = _common_rows(missing[y], missing[x])
        if rows is None:
            continue
        r = corr(("raw", x), ("raw", y)) if corr is not None else np.nan
        if np.isfinite(r) and r >= SCREEN_ABS_R:
            coef = _exact_fit(yv[rows], [xv[rows]], tol)
            if coef is not None:
                return {"kind": "affine", "target": y, "sources": [x], "coef": coef}
        if (corr is None or corr.passes(("raw", y), ("log", x), SCREEN_LOG_ABS_R)) \
                and np.all(xv[rows] > 0):
            coef = _exact_fit(yv[rows], [np.log(xv[rows])], tol)
            if coef is not None and coef[1] != 0:
                return {"kind": "log", "target": y, "sources": [x], "coef": coef}
        if (corr is None or corr.passes(("log", y), ("raw", x), SCREEN_LOG_ABS_R)) \
                and np.all(yv[rows] > 0):
            coef = _exact_fit(yv[rows], [xv[rows]], tol, link=np.exp)
            if coef is not None and coef[1] != 0:
                return {"kind": "exp", "target": y, "sources": [x], "coef": coef}
    if corr is None or len(free) < 2:
        return None
    ranked = sorted(free, key=lambda x: -np.nan_to_num(corr(("raw", x), ("raw", y)))
                    )[:SUM_CANDIDATES]
    for i, x1 in enumerate(ranked):
        for x2 in ranked[i + 1:]:
            if corr.multiple(y, x1, x2) < SCREEN_ABS_R:     # NaN (unknown) is tried
                continue
            rows = _common_rows(missing[y], missing[x1], missing[x2])
            if rows is None:
                continue
            coef = _exact_fit(yv[rows], [values[x1][rows], values[x2][rows]], tol)
            if coef is not None and coef[1] != 0 and coef[2] != 0:
                return {"kind": "sum", "target": y, "sources": [x1, x2], "coef": coef}
    return None


def exact_affine(y: pd.Series, x: pd.Series) -> bool:
    """Whether ``y`` is exactly a + b x (see the module docstring for "exactly")."""
    yv = y.to_numpy(dtype=np.float64, na_value=np.nan)
    xv = x.to_numpy(dtype=np.float64, na_value=np.nan)
    rows = _same_missing(yv, xv)
    return rows is not None and _exact_fit(yv[rows], [xv[rows]], tolerance(yv)) is not None


def _same_missing(y, *xs):
    """Rows where all have values, or None when missingness differs or too few rows."""
    return _common_rows(np.isnan(y), *(np.isnan(x) for x in xs))


def _common_rows(missing, *others):
    """``_same_missing`` from the columns' missing masks."""
    for other in others:
        if not np.array_equal(other, missing):
            return None
    rows = ~missing
    return rows if rows.sum() >= MIN_ROWS else None


def _least_squares(y, xs):
    design = np.column_stack([np.ones(y.size)] + list(xs))
    if not np.all(np.isfinite(design)) or np.linalg.matrix_rank(design) < design.shape[1]:
        return None
    return [float(c) for c in np.linalg.lstsq(design, y, rcond=None)[0]]


def _exact_fit(y, xs, tol, link=None):
    """Coefficients with which ``y`` is reproduced within ``tol`` (``link``: exp for the
    exp kind, fitted on log y), else None. Short decimals are tried first."""
    coef = _least_squares(y if link is None else np.log(y), xs)
    if coef is None:
        return None
    for candidate in ([_nice(c) for c in coef], coef):
        pred = candidate[0] + sum(c * x for c, x in zip(candidate[1:], xs))
        if link is not None:
            pred = link(pred)
        if np.max(np.abs(pred - y)) <= tol:
            return [float(c) for c in candidate]
    return None


def _nice(c: float) -> float:
    """The shortest decimal within 1e-4 (relative) of a fitted coefficient: rounded data
    make least squares return 1.0000002 for 1 and 2e-6 for 0, and regenerated values
    must not carry that residue."""
    for d in range(7):
        r = round(c, d)
        if abs(r - c) <= 1e-4 * max(1.0, abs(c)):
            return float(r)
    return float(c)


# -- categorical relations -----------------------------------------------------------------

def _codes(series: pd.Series) -> tuple[np.ndarray, list[str]]:
    """Integer codes (-1: missing) and level names, without converting every row to text."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        return series.cat.codes.to_numpy(), [str(v) for v in series.cat.categories]
    codes, uniques = pd.factorize(series)
    return codes, [str(v) for v in uniques]


def _band(c, series: pd.Series | None, numeric, values, coded=None):
    """``coded``: ``_codes(series)`` when the caller has it already (``series`` is then
    not needed)."""
    codes, levels = coded if coded is not None else _codes(series)
    if (codes < 0).any():
        return None
    present = np.flatnonzero(np.bincount(codes, minlength=len(levels)))
    if present.size < 2:
        return None
    for x in numeric:
        xv = values[x]
        if np.isnan(xv).any():
            continue
        lo = np.full(len(levels), np.inf)
        hi = np.full(len(levels), -np.inf)
        np.minimum.at(lo, codes, xv)                                  # one pass each
        np.maximum.at(hi, codes, xv)
        order = present[np.argsort(lo[present], kind="stable")]
        if np.all(hi[order][:-1] < lo[order][1:]):
            return {"kind": "band", "target": c, "sources": [x],
                    "cuts": [float(v) for v in lo[order][1:]],
                    "levels": [levels[k] for k in order]}
    return None


def _nested(p, frame: pd.DataFrame, others, min_rows: bool = True, coded=None):
    """``p`` is determined by a finer categorical ``c``: each level of c lies in one of p.
    ``coded``: column -> ``_codes`` of it, when the caller has them already."""
    coded = coded or {}
    p_codes, p_levels = coded[p] if p in coded else _codes(frame[p])
    if (p_codes < 0).any():
        return None
    n_p = int(np.count_nonzero(np.bincount(p_codes)))
    if n_p < 2:
        return None
    for c in others:
        c_codes, c_levels = coded[c] if c in coded else _codes(frame[c])
        if (c_codes < 0).any():
            continue
        n_c = int(np.count_nonzero(np.bincount(c_codes)))
        # a level of c seen once or twice "determines" anything: ask for a real nesting
        if n_c <= n_p or (min_rows and len(frame) < 5 * n_c):
            continue
        joint = c_codes.astype(np.int64) * len(p_levels) + p_codes
        pairs = np.flatnonzero(np.bincount(joint, minlength=len(c_levels) * len(p_levels)))
        if np.unique(pairs // len(p_levels)).size == pairs.size:
            mapping = {c_levels[int(k) // len(p_levels)]: p_levels[int(k) % len(p_levels)]
                       for k in pairs}
            return {"kind": "nested", "target": p, "sources": [c], "map": mapping}
    return None
