"""Step: numerics that duplicate an earlier numeric (``redundant_numeric``).

A column that is a near copy of another (|r| ~ 1 but not an exact function of it) adds no
information and makes the learned structure arbitrary. The earlier column in seed order
is kept, so the result does not depend on anything but order. An *exact* affine copy (a
score in points and in percent, a price in two currencies) is kept: the relations step
records it and the model regenerates it from its source. Skipped when auto_clean=false.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from engine.schema import CALENDAR_TYPES

from .correlation import pairwise_corr
from .relations import exact_affine
from .result import Table, decision

STEP = "redundancy"
# |Pearson r| at or above this is a copy up to rounding, not a strong relationship.
REDUNDANT_ABS_R = 0.999
# Fewer pairwise-complete rows than this make r meaningless (two points are always r = 1).
MIN_PAIRED_ROWS = 10


def drop_redundant(table: Table, *, auto_clean: bool = True) -> tuple[Table, list[dict]]:
    # Dates are exempt: a date and the datetime of the same event correlate at r ~ 1 over
    # a year, yet the datetime carries the time of day the date does not.
    numeric = [name for name, column in table.columns.items() if column.kind == "numeric"
               and column.type not in CALENDAR_TYPES]
    if not auto_clean or len(numeric) < 2:
        return table, []
    # Pairwise-complete Pearson r; NaN where a pair has too few rows or a constant side.
    r = pairwise_corr([table.frame[n].to_numpy(dtype=np.float64, na_value=np.nan)
                       for n in numeric], MIN_PAIRED_ROWS)
    corr = pd.DataFrame(r, index=numeric, columns=numeric)
    decisions, drops, kept = [], {}, []
    for name in numeric:
        twin = next((k for k in kept if abs(corr.at[k, name]) >= REDUNDANT_ABS_R), None)
        if twin is None or exact_affine(table.frame[name], table.frame[twin]):
            kept.append(name)
            continue
        drops[name] = "redundant_numeric"
        decisions.append(decision(STEP, name, "drop_column",
                                  f"redundant_numeric: |r| = {abs(corr.at[twin, name]):.4f} "
                                  f">= {REDUNDANT_ABS_R} with earlier column {twin!r}"))
    return table.drop(drops), decisions
