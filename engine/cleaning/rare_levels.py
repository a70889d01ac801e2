"""Step: rare levels of factor / ordered / boolean columns.

A level seen in fewer than ``max(RARE_LEVEL_MIN_COUNT, RARE_LEVEL_MIN_SHARE * rows)`` rows is
rare. The model ties a column's rare levels into one pool (``encoding.rare_pool``): they
share every parameter, so what it learns of them is learned from the pool's rows. When the
pool holds at least that many rows the levels are kept (decision ``pool_levels``: a
county seen once is still generated, at its seed share, but as a typical member of the
pool, never with its school's other answers). Otherwise, as for a lone rare level, they
are removed from the schema and THEIR VALUES BECOME MISSING; the rows are kept, so every other
answer of those respondents still trains the model, and the column's missing rate grows by
exactly those values. Declared levels never observed (SPSS labels, pandas categories) are
removed too. A column left with one level is ``constant_categorical``; with none,
``rare_category``. ``character`` columns are exempt (kept whole for training, never
conditioned on). Skipped when auto_clean=false.
"""

from __future__ import annotations

import math
from dataclasses import replace

from .result import Table, decision

STEP = "rare_levels"
# A smoothed conditional table cannot learn a level from a handful of rows (the prior
# dominates), and reproducing it would single out those few respondents.
RARE_LEVEL_MIN_COUNT = 5
# On large seeds 5 rows is still noise: also require 0.5% of rows (5 in 1,000; 50 in 10,000).
RARE_LEVEL_MIN_SHARE = 0.005
RARE_TYPES = ("factor", "ordered", "boolean")


def rare_threshold(n_rows: int) -> int:
    """Minimum count a level needs to stay."""
    return max(RARE_LEVEL_MIN_COUNT, math.ceil(RARE_LEVEL_MIN_SHARE * n_rows))


def remove_rare_levels(table: Table, *, auto_clean: bool = True) -> tuple[Table, list[dict]]:
    if not auto_clean:
        return table, []
    threshold = rare_threshold(len(table.frame))
    decisions, drops, columns, values = [], {}, {}, {}
    for name, column in table.columns.items():
        if column.type not in RARE_TYPES:
            continue
        series = table.frame[name]
        counts = series.value_counts(dropna=True)
        rare = {level: int(counts.get(level, 0)) for level in column.levels
                if counts.get(level, 0) < threshold}
        unseen = {level: n for level, n in rare.items() if n == 0}
        # a pool needs the rows of a level, and a column of nothing but rare levels is
        # nothing but its respondents' labels: it still goes (rare_category)
        if sum(rare.values()) >= threshold and len(unseen) < len(rare) < len(column.levels):
            pooled = {level: n for level, n in rare.items() if n > 0}
            decisions.append(decision(STEP, name, "pool_levels",
                                      f"levels rarer than {threshold} rows tied into one pool "
                                      f"of {sum(pooled.values())} rows: {pooled}"))
            rare = unseen           # declared levels never observed still go
        if not rare:
            continue
        left = [level for level in column.levels if level not in rare]
        what = f"levels rarer than {threshold} rows: {rare}"
        narrow_levels(STEP, name, column, series, left, drops, columns, values, decisions,
                      empty=f"rare_category: all {what}",
                      single=lambda level: f"constant_categorical: only {level!r} left after "
                                           f"removing {what}",
                      narrowed=f"removed {what}; {sum(rare.values())} values made missing")
    return table.update(columns, values).drop(drops), decisions


def narrow_levels(step, name, column, series, left, drops, columns, values, decisions, *,
                  empty: str, single, narrowed: str) -> None:
    """Keep only the levels ``left`` of ``name``: with none it is dropped as
    ``rare_category`` (detail ``empty``), with one as ``constant_categorical`` (detail
    ``single(level)``); else its schema levels and values are narrowed
    (``narrowed``). Each outcome is recorded in ``decisions``."""
    if not left:
        drops[name] = "rare_category"
        decisions.append(decision(step, name, "drop_column", empty))
    elif len(left) == 1:
        drops[name] = "constant_categorical"
        decisions.append(decision(step, name, "drop_column", single(left[0])))
    else:
        columns[name] = replace(column, levels=left)
        # set_categories keeps the schema's level order (remove_categories re-sorts).
        values[name] = series.cat.set_categories(left)
        decisions.append(decision(step, name, "remove_levels", narrowed))
