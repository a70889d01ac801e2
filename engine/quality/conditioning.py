"""How well a conditioned generation met its scenario: level shares and numeric ranges."""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pandas as pd

from engine.quality.seed_marginals import SeedMarginals


def _column(synth: pd.DataFrame, col) -> pd.Series:
    # A column the generator failed to emit counts as all-missing: every level misses
    # its share and every row is outside the range, rather than raising.
    return synth[col] if col in synth.columns else pd.Series(np.nan, index=synth.index)


def _level_mask(series: pd.Series, level) -> np.ndarray:
    mask = (series == level).fillna(False).astype(bool)
    # Scenario levels arrive as JSON strings; a column of ints/bools can still match "3".
    if isinstance(level, str) and not pd.api.types.is_string_dtype(series):
        mask = mask | (series.notna() & (series.astype(str) == level))
    return mask.to_numpy(dtype=bool)


def _in_range(frame: pd.DataFrame, col, bounds: dict) -> np.ndarray:
    """Rows whose value lies in [min, max]; missing counts as outside, an absent bound as
    open."""
    x = pd.to_numeric(_column(frame, col)).to_numpy(dtype="float64", na_value=np.nan)
    inside = ~np.isnan(x)
    if bounds.get("min") is not None:
        inside &= x >= bounds["min"]
    if bounds.get("max") is not None:
        inside &= x <= bounds["max"]
    return inside


def conditioning_report(synth: pd.DataFrame, conditions: dict, rows_requested: int) -> dict:
    """conditions = {"categorical": {col: {level: share}}, "numeric": {col: {"min", "max"}}}.

    Shares are over the rows generated (0 rows -> achieved share 0, so every target with
    a positive share shows its full error). A missing "min"/"max" leaves that side open.
    """
    n = len(synth)
    categorical: dict = {}
    max_err = 0.0
    for col, targets in (conditions.get("categorical") or {}).items():
        series = _column(synth, col)
        categorical[col] = {}
        for level, target in targets.items():
            count = int(_level_mask(series, level).sum())
            share = count / n if n else 0.0
            err = abs(share - float(target))
            max_err = max(max_err, err)
            categorical[col][level] = {"target_share": float(target), "achieved_share": share,
                                       "achieved_count": count, "abs_error": err}

    numeric: dict = {}
    violations = 0
    for col, bounds in (conditions.get("numeric") or {}).items():
        outside = int(n - _in_range(synth, col, bounds).sum())
        violations += outside
        numeric[col] = {"min": bounds.get("min"), "max": bounds.get("max"), "outside": outside}

    return {"rows_requested": int(rows_requested), "rows_generated": n,
            "categorical": categorical, "numeric": numeric,
            "max_share_error": max_err, "range_violations": violations}


# --- scenario support: how much of a scenario the seed has actually seen -------------------

def scenario_support(marginals: SeedMarginals | None, solution) -> dict | None:
    """``{"seed_rows_in_scenario", "extrapolated_share"}`` for a solved scenario, from the
    seed's 1- and 2-way state counts alone (``engine.quality.seed_marginals``).

    A state is inside the scenario when its level has a positive target share (a slice of
    ``q`` with mass) or its bin is touched by the range. ``seed_rows_in_scenario``: the
    smallest count of seed rows inside over every conditioned or ranged column and every
    pair of them, an upper bound on the rows inside all at once (exact for one or two
    columns). ``extrapolated_share``: the share of the calibrated joint ``q`` in level
    combinations some 1- or 2-way count shows no seed row for inside the ranges. At bin
    resolution a row in a bin a range only partly covers counts as inside, so both numbers
    lean towards more support, never less. None without marginals (a model file without
    them) or when the scenario touches a column or pair they leave out.
    """
    if marginals is None:
        return None
    cond = list(solution.cond_nodes)
    involved = sorted(set(cond) | set(solution.lam))
    q = np.asarray(solution.q, dtype=np.float64).reshape(tuple(solution.dims))
    counts, allowed = {}, {}
    for j in involved:
        counts[j] = marginals.states(j)
        if counts[j] is None:
            return None
        allowed[j] = np.ones(counts[j].size, dtype=bool)
        if j in solution.lam:
            weights = solution.lam[j]
            allowed[j] &= (weights if weights.ndim == 1 else weights.max(axis=0)) > 0
        if j in cond:
            allowed[j] &= _q_margin(q, [cond.index(j)]) > 0
    tables = {}
    for a, b in combinations(involved, 2):
        tables[a, b] = marginals.pair(a, b)
        if tables[a, b] is None:
            return None
    bounds, seen = [], np.ones(q.shape, dtype=bool)
    for j in involved:
        bounds.append(int(counts[j][allowed[j]].sum()))
        if j in cond:
            seen &= _on_axes(counts[j] > 0, [cond.index(j)], q.ndim)
        elif bounds[-1] == 0:
            seen[...] = False
    for (a, b), table in tables.items():
        inside = allowed[a][:, None] & allowed[b][None, :]
        if a in cond and b in cond:
            axes = [cond.index(a), cond.index(b)]
            inside &= _q_margin(q, axes) > 0
            seen &= _on_axes(table > 0, axes, q.ndim)
        elif a in cond or b in cond:
            level, ranged = (a, b) if a in cond else (b, a)
            by_level = table if level == a else table.T
            seen &= _on_axes(by_level[:, allowed[ranged]].sum(axis=1) > 0, [cond.index(level)],
                             q.ndim)
        bounds.append(int(table[inside].sum()))
        if not (a in cond or b in cond) and bounds[-1] == 0:
            seen[...] = False
    total = float(q.sum())
    return {"seed_rows_in_scenario": min(bounds, default=0),
            "extrapolated_share": float(q[~seen].sum() / total) if total > 0 else 0.0}


def _q_margin(q: np.ndarray, axes: list) -> np.ndarray:
    """``q`` summed over every axis but ``axes``, oriented in the order ``axes`` lists."""
    margin = q.sum(axis=tuple(i for i in range(q.ndim) if i not in axes))
    return margin if axes == sorted(axes) else margin.T


def _on_axes(mask: np.ndarray, axes: list, ndim: int) -> np.ndarray:
    """A 1- or 2-d mask over ``axes`` (in that order) shaped to broadcast over ``q``."""
    if len(axes) == 2 and axes[0] > axes[1]:
        mask, axes = mask.T, axes[::-1]
    shape = [1] * ndim
    for axis, size in zip(axes, mask.shape):
        shape[axis] = size
    return mask.reshape(shape)


# Above this extrapolated share (or with no seed row at all) the support is worth a warning.
EXTRAPOLATION_WARNING = 0.5
# Fewer seed rows than this inside the scenario (an upper bound from the 1- and 2-way
# counts) and the answer is the model's, whatever the pairwise counts show: a handful of
# rows cannot say what a whole scenario looks like.
FEW_SEED_ROWS = 20


def support_warning(support: dict | None) -> str | None:
    """One sentence for a person when the scenario is mostly the model's extrapolation."""
    if not support:
        return None
    rows, share = support["seed_rows_in_scenario"], support["extrapolated_share"]
    if rows >= FEW_SEED_ROWS and share < EXTRAPOLATION_WARNING:
        return None
    if share < EXTRAPOLATION_WARNING:
        return (f"the seed has at most {rows:,} rows inside this scenario: the generated rows "
                f"are mostly the model's extrapolation, not something the seed shows.")
    return (f"the seed has {rows:,} rows inside this scenario and {share:.0%} of it lies in "
            f"level combinations the seed never shows inside the ranges: those rows are the "
            f"model's extrapolation, not something the seed shows.")


def observed_support(real: pd.DataFrame, synth: pd.DataFrame, conditions: dict) -> dict:
    """``scenario_support`` measured on the tables themselves, exactly (no bins): real rows
    inside every range whose conditioned level combination the synthetic rows use, and the
    share of synthetic rows in combinations no in-range real row has."""
    columns = list(conditions.get("categorical") or {})
    inside = np.ones(len(real), dtype=bool)
    for col, bounds in (conditions.get("numeric") or {}).items():
        inside &= _in_range(real, col, bounds)

    def combos(frame: pd.DataFrame) -> pd.Series:
        if not columns:
            return pd.Series("", index=frame.index)
        keys = [_column(frame, c).astype(str).where(_column(frame, c).notna(), "\0missing")
                for c in columns]
        return pd.Series(list(zip(*keys)), index=frame.index)

    seen = combos(real[inside]).value_counts()
    used = combos(synth).value_counts()
    covered = used.index.isin(seen.index)
    n = int(used.sum())
    return {"seed_rows_in_scenario": int(seen[seen.index.isin(used.index)].sum()),
            "extrapolated_share": float(used[~covered].sum() / n) if n else 0.0}
