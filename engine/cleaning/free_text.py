"""Step: free text and other high-cardinality text (``character``) never leaks a rare value.

A ``character`` column keeps as levels only the values seen at least ``k`` times in the
seed (``TEXT_MIN_COUNT`` = 5 by default; ``clean(..., text_min_count=k)``,
``Synthesizer(text_min_count=k)``), and at most ``MAX_TEXT_LEVELS`` of them (the most
frequent; ties in level order), so the model can only ever emit a value at least ``k``
respondents wrote, and the schema stays small. The other values become missing (the rows
are kept, as for rare levels). A column with no value left is dropped as ``rare_category``;
with one, as ``constant_categorical``. Runs with auto_clean=false too: privacy is not a
cleaning preference.
"""

from __future__ import annotations

from engine.fit_defaults import TEXT_MIN_COUNT  # noqa: F401 - the k of k-anonymity

from .rare_levels import narrow_levels
from .result import Table

STEP = "free_text"
# Bound on the levels a character column lists in the schema (and the model carries): the
# most frequent protected values; the long tail becomes missing.
MAX_TEXT_LEVELS = 100


def protect_free_text(table: Table, *, auto_clean: bool = True) -> tuple[Table, list[dict]]:
    k = table.text_min_count
    decisions, drops, columns, values = [], {}, {}, {}
    for name, column in table.columns.items():
        if column.type != "character":
            continue
        series = table.frame[name]
        counts = series.value_counts(dropna=True, sort=False)
        counts = counts[counts > 0]
        order = {level: i for i, level in enumerate(column.levels)}
        frequent = sorted((level for level, c in counts.items() if c >= k),
                          key=lambda level: (-int(counts[level]), order[level]))
        kept = set(frequent[:MAX_TEXT_LEVELS])
        left = [level for level in column.levels if level in kept]
        if len(left) == len(counts) and len(left) == len(column.levels):
            continue
        lost = int(counts[[level not in kept for level in counts.index]].sum())
        what = (f"{len(counts)} distinct values, {len(frequent)} seen at least {k} times "
                f"(text_min_count)")
        if len(frequent) > MAX_TEXT_LEVELS:
            what += f", the {MAX_TEXT_LEVELS} most frequent kept (MAX_TEXT_LEVELS)"
        narrow_levels(STEP, name, column, series, left, drops, columns, values, decisions,
                      empty=f"rare_category: free text with {what}",
                      single=lambda level: f"constant_categorical: free text with {what}: "
                                           f"only {level!r} left",
                      narrowed=f"free text with {what}; {lost} values of the others made "
                               "missing")
    return table.update(columns, values).drop(drops), decisions
