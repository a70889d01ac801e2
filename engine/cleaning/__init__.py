"""Cleaning: a raw seed table -> cleaned frame + schema + summary + decisions.

``clean`` runs ``STEPS`` in order; each is a pure function ``(table, *, auto_clean) ->
(table, decisions)`` in its own module. The rules and thresholds are documented in
docs/cleaning.md.
"""

from __future__ import annotations

from engine.errors import SimioError
from engine.io import RawTable

from .column_names import normalise_names
from .column_types import infer_types
from .constant_columns import drop_constants
from .datetime_columns import keep_datetimes
from .free_text import TEXT_MIN_COUNT, protect_free_text
from .identifier_columns import drop_identifiers
from .missing import drop_empty, missing_rates
from .rare_levels import remove_rare_levels
from .reading import carry_reading
from .redundancy import drop_redundant
from .relations import detect_relations
from .result import CleanResult, Table, build_result

STEPS = (
    normalise_names,     # cleaned names first: every later decision names the cleaned column
    carry_reading,       # the reader's decisions (sheet, skipped rows) and format attributes
    drop_empty,          # blank text -> missing; empty rows; all-missing columns (other)
    keep_datetimes,      # before typing, so date strings are not read as factors
    infer_types,         # public type, levels, min/max; unsupported objects (other)
    drop_identifiers,    # needs types: whole-number sequences, distinct text, e-mails
    drop_constants,      # constant_categorical, low_variance
    remove_rare_levels,  # after constants: a constant rare level is reported as constant
    protect_free_text,   # after identifiers: unique text stays an identifier_like_column
    drop_redundant,      # compares only numerics that survived every other step
    detect_relations,    # exact functional dependencies among the kept columns
    missing_rates,       # last: includes values made missing by rare-level removal
)


def clean(raw: RawTable, *, auto_clean: bool = True,
          text_min_count: int = TEXT_MIN_COUNT) -> CleanResult:
    """Clean ``raw`` without modifying it. Raises ``simio_no_usable_columns`` when nothing
    modelable is left. ``text_min_count``: free-text values seen fewer times are never
    kept (docs/cleaning.md, Free text)."""
    if isinstance(text_min_count, bool) or not isinstance(text_min_count, int) \
            or text_min_count < 1:
        raise SimioError("simio_invalid_field", f"text_min_count must be a positive integer "
                         f"(default {TEXT_MIN_COUNT}), not {text_min_count!r}")
    table = Table(frame=raw.frame, columns={}, sources={}, dropped=(), raw=raw,
                  text_min_count=text_min_count)
    decisions: list[dict] = []
    for step in STEPS:
        table, taken = step(table, auto_clean=auto_clean)
        decisions.extend(taken)
    result = build_result(table, len(raw.frame), decisions)
    if raw.source:                   # where in the file the table was (an .xlsx sheet)
        result.summary["source"] = dict(raw.source)
    if not result.schema.columns:
        dropped = result.summary["dropped_columns"]
        listing = ", ".join(f"{d['name']!r} ({d['reason']})" for d in dropped) or "none"
        raise SimioError("simio_no_usable_columns",
                         f"every column was dropped: {listing}", dropped_columns=dropped)
    return result


__all__ = ["CleanResult", "STEPS", "TEXT_MIN_COUNT", "clean"]
