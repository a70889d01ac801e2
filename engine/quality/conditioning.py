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
        x = pd.to_numeric(_column(synth, col)).to_numpy(dtype="float64", na_value=np.nan)
        lo, hi = bounds.get("min"), bounds.get("max")
        inside = ~np.isnan(x)  # missing counts as outside the range
        if lo is not None:
            inside &= x >= lo
        if hi is not None:
            inside &= x <= hi
        outside = int(n - inside.sum())
        violations += outside
        numeric[col] = {"min": lo, "max": hi, "outside": outside}

    return {"rows_requested": int(rows_requested), "rows_generated": n,
            "categorical": categorical, "numeric": numeric,
            "max_share_error": max_err, "range_violations": violations}
