"""Missing values: what counts as missing, empty rows and columns, and missing rates.

Missing values are modelled, not dropped: a row is removed only when every input column is
missing (a blank line), and a column only when it has no value at all (reason ``other``:
there is nothing to learn). Text is stripped of surrounding whitespace and an empty string
counts as missing, so ``""`` from a spreadsheet and an empty CSV field mean the same.
"""

from __future__ import annotations

from dataclasses import replace

import pandas as pd

from .result import Table, decision, map_distinct

STEP = "missing"


def _blank_to_missing(series: pd.Series) -> tuple[pd.Series | None, int]:
    """Strip text values; blank ones become missing. (None, 0) when nothing changes."""
    if series.dtype != object and pd.api.types.is_string_dtype(series.dtype):
        # pandas ``string`` and ``ArrowDtype(pa.string())``
        stripped = series.str.strip()
        blank = stripped.eq("").fillna(False).astype(bool)
    elif series.dtype == object:
        stripped = map_distinct(series, lambda v: v.strip() if isinstance(v, str) else v)
        blank = stripped.eq("")
    else:
        return None, 0
    if not blank.any() and stripped.equals(series):
        return None, 0
    return stripped.mask(blank), int(blank.sum())


def drop_empty(table: Table, *, auto_clean: bool = True) -> tuple[Table, list[dict]]:
    decisions = []
    values = {}
    for name in table.frame.columns:
        series, n_blank = _blank_to_missing(table.frame[name])
        if series is not None:
            values[name] = series
        if n_blank:
            decisions.append(decision(STEP, name, "make_missing",
                                      f"{n_blank} blank text values treated as missing"))
    table = table.update({}, values)

    missing = table.frame.isna()
    empty_rows = missing.all(axis=1) if len(table.frame.columns) else pd.Series(dtype=bool)
    if empty_rows.any():
        decisions.append(decision(STEP, None, "drop_rows",
                                  f"{int(empty_rows.sum())} rows with every column missing"))
        table = replace(table, frame=table.frame.loc[~empty_rows.to_numpy()])
    table = replace(table, frame=table.frame.reset_index(drop=True))

    all_missing = {}
    for name in table.frame.columns:
        if table.frame[name].isna().all():
            all_missing[name] = "other"
            decisions.append(decision(STEP, name, "drop_column",
                                      f"other: all {len(table.frame)} values missing"))
    return table.drop(all_missing), decisions


def missing_rates(table: Table, *, auto_clean: bool = True) -> tuple[Table, list[dict]]:
    """Final step: each column's share of cleaned rows with no value (rare levels included)."""
    n_rows = len(table.frame)
    columns = {
        name: replace(col, missing_rate=float(table.frame[name].isna().sum() / n_rows)
                      if n_rows else 0.0)
        for name, col in table.columns.items()
    }
    return replace(table, columns=columns), []
