"""How well a conditioned generation met its scenario: level shares and numeric ranges."""

from __future__ import annotations

import numpy as np
import pandas as pd


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

def seed_sketch(model, frame: pd.DataFrame) -> dict:
    """The cleaned seed's rows as the model's node states (levels; bins for numeric
    columns), counted per distinct pattern, over the columns that can be conditioned.

    Aggregate counts at the model's bin resolution, no values: what ``scenario_support``
    needs after the model is saved and loaded without its seed. Plain JSON lists.
    """
    nodes, codes = [], []
    for j, enc in enumerate(model.encodings_):
        column = model.schema_[enc.name]
        if column.conditioning_excluded:
            continue
        series = frame[enc.name]
        if column.kind == "categorical":
            values = series.astype(object).where(series.notna(), None)
            series = pd.Series(pd.Categorical(values, categories=list(column.levels or [])))
        nodes.append(j)
        codes.append(enc.encode(series))
    if not nodes:
        return {"nodes": [], "patterns": [], "counts": []}
    patterns, counts = np.unique(np.column_stack(codes), axis=0, return_counts=True)
    return {"nodes": nodes, "patterns": patterns.tolist(), "counts": counts.tolist()}


def scenario_support(sketch: dict | None, solution) -> dict | None:
    """``{"seed_rows_in_scenario", "extrapolated_share"}`` for a solved scenario.

    ``seed_rows_in_scenario``: seed rows whose conditioned levels all have a positive
    target share and whose ranged values fall in bins the ranges touch. ``extrapolated_share``:
    the share of the scenario's rows (the calibrated joint ``q``) in level combinations with
    no such seed row, i.e. drawn from the model's extrapolation alone. At the model's bin
    resolution: a row in a bin a range only partly covers counts as inside, so both numbers
    lean towards more support, never less. None without a sketch (older model files).
    """
    if not sketch or not sketch.get("nodes"):
        return None
    column_of = {node: i for i, node in enumerate(sketch["nodes"])}
    patterns = np.asarray(sketch["patterns"], dtype=np.int64).reshape(-1, len(column_of))
    counts = np.asarray(sketch["counts"], dtype=np.int64)
    if any(j not in column_of for j in list(solution.lam) + list(solution.cond_nodes)):
        return None
    inside = np.ones(counts.size, dtype=bool)
    for node, weights in solution.lam.items():
        touched = weights if weights.ndim == 1 else weights.max(axis=0)
        inside &= touched[patterns[:, column_of[node]]] > 0
    q = np.asarray(solution.q, dtype=np.float64).ravel()
    if solution.cond_nodes:
        cells = np.ravel_multi_index(tuple(patterns[:, column_of[j]] for j in solution.cond_nodes),
                                     solution.dims)
    else:
        cells = np.zeros(counts.size, dtype=np.int64)
    seen = np.bincount(cells[inside], weights=counts[inside], minlength=q.size)
    total = float(q.sum())
    return {"seed_rows_in_scenario": int(round(float(seen[q > 0].sum()))),
            "extrapolated_share": float(q[seen == 0].sum() / total) if total > 0 else 0.0}


# Above this extrapolated share (or with no seed row at all) the support is worth a warning.
EXTRAPOLATION_WARNING = 0.5


def support_warning(support: dict | None) -> str | None:
    """One sentence for a person when the scenario is mostly the model's extrapolation."""
    if not support:
        return None
    rows, share = support["seed_rows_in_scenario"], support["extrapolated_share"]
    if rows > 0 and share < EXTRAPOLATION_WARNING:
        return None
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
