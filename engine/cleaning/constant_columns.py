"""Step: columns that do not vary (``constant_categorical``, ``low_variance``).

A constant has nothing to learn and nothing to condition on. Near-zero-variance numerics
follow caret's ``nearZeroVar`` rule: one value dominates the runner-up AND few distinct
values exist; their quantile bins would collapse to one, and a handful of outliers would be
reproduced (and leaked) as-is. Skipped when auto_clean=false: a constant is still modelable.
"""

from __future__ import annotations

from .result import Table, decision

STEP = "constant_columns"
# most common / second most common value > 99/1 (caret's default of 95/5 drops 0/1
# indicators with 3% incidence and zero-inflated outcomes — exactly the low-incidence
# audiences survey users want to keep) ...
NZV_FREQUENCY_RATIO = 99 / 1
# ... and distinct values / non-missing values below 10%.
NZV_UNIQUE_SHARE = 0.10


def constant_reason(column, series) -> tuple[str, str] | None:
    """(public reason, detail) for a column that does not vary, else None."""
    counts = series.value_counts(dropna=True)
    counts = counts[counts > 0].sort_values(ascending=False, kind="stable")
    if column.kind == "categorical":
        if len(counts) == 1:
            return "constant_categorical", f"single observed level {counts.index[0]!r}"
        return None
    if len(counts) == 1:
        return "low_variance", f"single value {float(counts.index[0]):g}"
    ratio = counts.iloc[0] / counts.iloc[1]
    unique_share = len(counts) / counts.sum()
    if ratio > NZV_FREQUENCY_RATIO and unique_share < NZV_UNIQUE_SHARE:
        return "low_variance", (f"frequency ratio {ratio:.1f} > {NZV_FREQUENCY_RATIO:g} and "
                                f"{unique_share:.1%} distinct values < {NZV_UNIQUE_SHARE:.0%}")
    return None


def drop_constants(table: Table, *, auto_clean: bool = True) -> tuple[Table, list[dict]]:
    if not auto_clean:
        return table, []
    decisions, drops = [], {}
    for name, column in table.columns.items():
        found = constant_reason(column, table.frame[name])
        if found:
            drops[name] = found[0]
            decisions.append(decision(STEP, name, "drop_column", f"{found[0]}: {found[1]}"))
    return table.drop(drops), decisions
