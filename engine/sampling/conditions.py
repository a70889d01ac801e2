"""Scenario conditions: validation against the schema, then a normalised ``Scenario``.

``conditions = {"categorical": {column: {level: share}}, "numeric": {column: {"min": a,
"max": b}}}``. Every problem is a ``SimioError`` whose detail names the column or level and
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

from engine.errors import SimioError
from engine.generation_request import conditions_shape
from engine.schema import Schema

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

    @property
    def is_empty(self) -> bool:
        return not self.categorical and not self.numeric

    def to_dict(self) -> dict:
        return {"categorical": {c: dict(s) for c, s in self.categorical.items()},
                "numeric": {c: {"min": lo, "max": hi} for c, (lo, hi) in self.numeric.items()}}


def parse_conditions(schema: Schema, conditions, dropped: list[dict] | None = None
                     ) -> Scenario:
    """Validate ``conditions`` against ``schema``; ``dropped`` is the cleaning summary's
    ``dropped_columns`` (``[{"name", "reason"}]``), used to explain unknown columns."""
    conditions_shape(conditions)        # the structure, the same for every caller
    if conditions is None:
        return Scenario()
    categorical = conditions.get("categorical") or {}
    numeric = conditions.get("numeric") or {}
    scenario = Scenario()
    order = {name: i for i, name in enumerate(schema.names)}
    for name in sorted(categorical, key=lambda c: order.get(c, -1)):
        column = _column(schema, name, "categorical", dropped)
        scenario.categorical[name] = _shares(column, categorical[name])
    for name in sorted(numeric, key=lambda c: order.get(c, -1)):
        column = _column(schema, name, "numeric", dropped)
        scenario.numeric[name] = _range(column, numeric[name])
    check_cell_count(scenario.categorical,
                     [len(schema[c].levels or []) + (schema[c].missing_rate > 0)
                      for c in scenario.categorical])
    return scenario


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
    if not isinstance(bounds, dict) or "min" not in bounds or "max" not in bounds:
        raise SimioError("simio_invalid_range",
                         f"conditions.numeric.{name} needs both 'min' and 'max' (ranges are "
                         f"bilateral), e.g. {{\"min\": {_fmt(column.min)}, \"max\": "
                         f"{_fmt(column.max)}}}.", column=name)
    lo, hi = bounds["min"], bounds["max"]
    for label, value in (("min", lo), ("max", hi)):
        if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(value):
            raise SimioError("simio_invalid_range",
                             f"conditions.numeric.{name}.{label} must be a finite number, not "
                             f"{value!r}.", column=name)
    if lo > hi:
        raise SimioError("simio_invalid_range",
                         f"conditions.numeric.{name} has min {lo} greater than max {hi}.",
                         column=name)
    clamped = (max(float(lo), float(column.min)), min(float(hi), float(column.max)))
    if clamped[0] > clamped[1]:
        raise SimioError("simio_infeasible_scenario",
                         f"Range {lo}..{hi} for column {name!r} lies outside its schema range "
                         f"{_fmt(column.min)}..{_fmt(column.max)}, so no row can satisfy it.",
                         column=name)
    if column.is_integer and math.ceil(clamped[0]) > math.floor(clamped[1]):
        raise SimioError("simio_infeasible_scenario",
                         f"Range {lo}..{hi} for integer column {name!r} contains no whole "
                         f"number.", column=name)
    return clamped


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
