"""Scenario conditions: validation against the schema, then a normalised ``Scenario``.

``conditions = {"categorical": {column: {level: share}}, "numeric": {column: {"min": a,
"max": b}}}``; a ``date`` / ``datetime`` column's bounds are ISO 8601 texts
(``calendar_units`` turns them into the model's units). Every problem is a ``SimioError`` whose detail names the column or level and
points to the schema. Numeric bounds outside the schema's min/max are clamped to it. A
column cleaning dropped is named as dropped, with the cleaning summary's reason; a set of
categorical columns whose joint table exceeds ``MAX_CONDITION_CELLS`` is refused here,
from the schema alone, before any model is loaded or any table allocated.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from numbers import Real

import numpy as np

from engine import calendar
from engine.errors import SimioError
from engine.generation_request import conditions_shape
from engine.schema import Schema

# Default bound on how far a joint cell of the conditioned columns may be up-weighted
# relative to the model restricted to the ranges. 20x lets a 5% level be asked for at 100%
# while refusing to build a scenario out of a pattern the model thinks is near-impossible.
DEFAULT_MAX_UPWEIGHT = 20.0

SCHEMA_HINT = ("Call GET /v1/datasets/{dataset_id}/schema (or `simio schema MODEL`) and use "
               "the returned column names and levels.")
# Shares may overshoot 1 by float noise (0.1 + 0.2 + 0.7 = 1.0000000000000002).
SHARE_SUM_TOLERANCE = 1e-9
# Largest joint table of the conditioned categorical columns (the product of their state
# counts, a missing state counting as one). Three 20-level columns with missing values
# (21^3 = 9,261) fit. The solve and the allocation work on the cells with mass, but q0 is
# computed on the whole table, so this bounds what one request can make the engine hold.
MAX_CONDITION_CELLS = 20_000


@dataclass
class Scenario:
    """Validated conditions, by column name, in schema order."""

    categorical: dict[str, dict[str, float]] = field(default_factory=dict)
    numeric: dict[str, tuple[float, float]] = field(default_factory=dict)
    # date/datetime columns: the applied range as ISO texts (``numeric`` holds model units)
    shown: dict[str, tuple[str, str]] = field(default_factory=dict)

    @property
    def is_empty(self) -> bool:
        return not self.categorical and not self.numeric

    def to_dict(self) -> dict:
        return {"categorical": {c: dict(s) for c, s in self.categorical.items()},
                "numeric": {c: dict(zip(("min", "max"), self.shown.get(c, (lo, hi))))
                            for c, (lo, hi) in self.numeric.items()}}


def parse_conditions(schema: Schema, conditions, dropped: list[dict] | None = None
                     ) -> Scenario:
    """Validate ``conditions`` against ``schema``; ``dropped`` is the cleaning summary's
    ``dropped_columns`` (``[{"name", "reason"}]``), used to explain unknown columns."""
    conditions_shape(conditions)        # the structure, the same for every caller
    if conditions is None:
        return Scenario()
    categorical = conditions.get("categorical") or {}
    numeric = conditions.get("numeric") or {}
    numeric = calendar_units(schema, {"numeric": numeric})["numeric"]
    scenario = Scenario()
    order = {name: i for i, name in enumerate(schema.names)}
    for name in sorted(categorical, key=lambda c: order.get(c, -1)):
        column = _column(schema, name, "categorical", dropped)
        scenario.categorical[name] = _shares(column, categorical[name])
    for name in sorted(numeric, key=lambda c: order.get(c, -1)):
        column = _column(schema, name, "numeric", dropped)
        scenario.numeric[name] = _range(column, numeric[name])
        if calendar.is_calendar(column):
            scenario.shown[name] = tuple(calendar.format_value(v, column)
                                         for v in scenario.numeric[name])
    check_cell_count(scenario.categorical,
                     [len(schema[c].levels or []) + (schema[c].missing_rate > 0)
                      for c in scenario.categorical])
    return scenario


def calendar_units(schema: Schema, conditions):
    """``conditions`` with the ISO 8601 bounds of date/datetime columns in model units (a
    new dict; anything malformed is left for ``parse_conditions`` to report)."""
    numeric = (conditions or {}).get("numeric") if isinstance(conditions, dict) else None
    if not isinstance(numeric, dict):
        return conditions
    out = dict(numeric)
    for name, bounds in numeric.items():
        if not (isinstance(name, str) and name in schema and isinstance(bounds, dict)):
            continue
        column = schema[name]
        if not calendar.is_calendar(column):
            continue
        out[name] = {side: _calendar_bound(column, side, value) if side in ("min", "max")
                     and not isinstance(value, (Real, type(None))) else value
                     for side, value in bounds.items()}
    return {**conditions, "numeric": out}


def _calendar_bound(column, side, value) -> float:
    try:
        return calendar.parse_bound(value, column, side)
    except (ValueError, TypeError, OverflowError):
        example = calendar.format_value(column.min if side == "min" else column.max, column)
        raise SimioError("simio_invalid_range",
                         f"conditions.numeric.{column.name}.{side} must be an ISO 8601 "
                         f"{column.type} such as {example!r} (column {column.name!r} is a "
                         f"{column.type}), not {value!r}.", column=column.name) from None


def check_cell_count(categorical, dims) -> None:
    """``simio_too_many_condition_cells`` when the conditioned columns' joint table would
    exceed ``MAX_CONDITION_CELLS`` (from the state counts alone, in Python integers)."""
    cells = math.prod(int(k) for k in dims)
    if cells > MAX_CONDITION_CELLS:
        sizes = " x ".join(f"{name} ({int(k)})" for name, k in zip(categorical, dims))
        raise SimioError("simio_too_many_condition_cells",
                         f"Conditioning on {sizes} makes {cells:,} level combinations; at most "
                         f"{MAX_CONDITION_CELLS:,} can be conditioned jointly. Condition on "
                         f"fewer categorical columns, or on columns with fewer levels (drop "
                         f"one from conditions.categorical).",
                         cells=cells, max_cells=MAX_CONDITION_CELLS)


def _dropped_reason(name, dropped) -> str | None:
    """The cleaning summary's reason if ``name`` is a dropped column (by its header or by
    the identifier-safe name cleaning would have given it)."""
    from engine.cleaning.column_names import safe_name

    for entry in dropped or ():
        header = str(entry.get("name", ""))
        if name in (header, safe_name(header)):
            return str(entry.get("reason", "dropped"))
    return None


def _column(schema: Schema, name, part: str, dropped=None):
    reason = _dropped_reason(name, dropped) if isinstance(name, str) and name not in schema \
        else None
    if reason is not None:
        raise SimioError("simio_condition_column_dropped",
                         f"Condition column {name!r} in conditions.{part} was dropped by "
                         f"cleaning ({reason}), so the model never learned it. Remove it "
                         f"from conditions.{part}, or upload the seed again with "
                         f"auto_clean: false if that reason does not apply.",
                         column=name, reason=reason)
    if not isinstance(name, str) or name not in schema:
        raise SimioError("simio_unknown_condition_column",
                         f"Condition column {name!r} in conditions.{part} is not in the cleaned "
                         f"schema. {SCHEMA_HINT}", column=name)
    column = schema[name]
    if column.conditioning_excluded:
        raise SimioError("simio_condition_column_excluded",
                         f"Column {name!r} has conditioning_excluded: true in the schema "
                         f"(free text or high-cardinality), so it cannot be conditioned. "
                         f"Remove it from conditions.{part}.", column=name)
    if column.kind != part:
        other = "numeric" if part == "categorical" else "categorical"
        raise SimioError("simio_condition_type_mismatch",
                         f"Column {name!r} is {column.kind} (type {column.type!r} in the "
                         f"schema); put it under conditions.{other}, not conditions.{part}.",
                         column=name)
    return column


def _shares(column, levels) -> dict[str, float]:
    name = column.name
    if not isinstance(levels, dict) or not levels:
        raise SimioError("simio_invalid_share",
                         f"conditions.categorical.{name} must map at least one level to a "
                         f"target share, e.g. {{\"{(column.levels or ['level'])[0]}\": 0.5}}.",
                         column=name)
    shares = {}
    for level, share in levels.items():
        if level not in (column.levels or []):
            raise SimioError("simio_unknown_condition_level",
                             f"Level {level!r} is not a level of column {name!r}; its levels "
                             f"are {list(column.levels or [])}. {SCHEMA_HINT}",
                             column=name, level=level)
        if isinstance(share, bool) or not isinstance(share, Real) or not math.isfinite(share):
            raise SimioError("simio_invalid_share",
                             f"Target share for {name}={level!r} must be a number between 0 "
                             f"and 1, not {share!r}.", column=name, level=level)
        if share < 0:
            raise SimioError("simio_invalid_share",
                             f"Target share for {name}={level!r} is negative ({share}); shares "
                             f"are fractions between 0 and 1.", column=name, level=level)
        shares[level] = float(share)
    total = sum(shares.values())
    if total > 1 + SHARE_SUM_TOLERANCE:
        hint = (" Did you pass percentages? Use 0.55 for 55%."
                if any(s > 1 for s in shares.values()) else "")
        raise SimioError("simio_invalid_share",
                         f"Target shares for column {name!r} sum to {total:g}, more than 1."
                         f"{hint}", column=name)
    if total <= 0 and len(shares) == len(column.levels or []):
        raise SimioError("simio_invalid_share",
                         f"Every level of column {name!r} has target share 0; give at least "
                         f"one level a positive share.", column=name)
    return shares


def _range(column, bounds) -> tuple[float, float]:
    name = column.name
    show = (lambda v: repr(calendar.format_value(v, column))) if calendar.is_calendar(column) \
        else _fmt
    if not isinstance(bounds, dict) or "min" not in bounds or "max" not in bounds:
        raise SimioError("simio_invalid_range",
                         f"conditions.numeric.{name} needs both 'min' and 'max' (ranges are "
                         f"bilateral), e.g. {{\"min\": {show(column.min)}, \"max\": "
                         f"{show(column.max)}}}.", column=name)
    lo, hi = bounds["min"], bounds["max"]
    for label, value in (("min", lo), ("max", hi)):
        if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(value):
            raise SimioError("simio_invalid_range",
                             f"conditions.numeric.{name}.{label} must be a finite number, not "
                             f"{value!r}.", column=name)
    if lo > hi:
        raise SimioError("simio_invalid_range",
                         f"conditions.numeric.{name} has min {show(lo)} greater than max "
                         f"{show(hi)}.",
                         column=name)
    clamped = (max(float(lo), float(column.min)), min(float(hi), float(column.max)))
    if clamped[0] > clamped[1]:
        raise SimioError("simio_infeasible_scenario",
                         f"Range {show(lo)}..{show(hi)} for column {name!r} lies outside its "
                         f"schema range {show(column.min)}..{show(column.max)}, so no row can "
                         f"satisfy it.",
                         column=name)
    if column.is_integer and math.ceil(clamped[0]) > math.floor(clamped[1]):
        raise SimioError("simio_infeasible_scenario",
                         f"Range {show(lo)}..{show(hi)} for {column.type} column {name!r} "
                         f"contains no whole {_whole(column)}.", column=name)
    return clamped


def _whole(column) -> str:
    if calendar.is_calendar(column):
        return calendar.UNIT_NAMES[column.time_unit].rstrip("s")
    return "number"


def _fmt(value) -> str:
    if value is None:
        return "null"
    value = float(value)
    return str(int(value)) if value.is_integer() else repr(value)


def share_vector(levels: list[str], n_states: int, shares: dict[str, float]) -> np.ndarray:
    """Target share per node state; NaN where the level was not listed."""
    out = np.full(n_states, np.nan)
    for i, level in enumerate(levels):
        if level in shares:
            out[i] = shares[level]
    return out
