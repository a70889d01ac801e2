"""Step: date and datetime columns, kept as ``date`` / ``datetime`` (even with auto_clean=false).

A column is a date/datetime when its dtype is one (numpy/pandas datetime64 of any unit and
time zone, Arrow date/timestamp), when it holds Python/pandas date or datetime objects, or
when most of its text parses with ONE of a few explicit formats (explicit, so pandas never
guesses and never warns). It is converted to the model's numeric scale (engine/calendar.py):
whole days for a date, whole units of the seed's resolution for a datetime. Text values that
do not parse become missing (counted in the decision).

A column is a ``date`` when its text format has no time, when it holds ``datetime.date``
objects, or when every value is a naive midnight (Excel and SPSS store dates as midnight
datetimes); otherwise a ``datetime``. What cannot be represented is dropped as
``unsupported_datetime``: times of day without a date, periods, time zones mixed in one
column.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import numpy as np
import pandas as pd

from engine.calendar import UNIT_NAMES, UNIT_NS, coarsest_unit, ns_to_units

from .result import Table, decision

STEP = "datetime_columns"
# Share of non-missing text values that must parse with ONE format: a few typos or
# placeholders ("unknown") do not rescue a date column, while a text column that happens
# to contain a date now and then is not a date column.
DATE_TEXT_SHARE = 0.90
DATE_FORMATS = (
    "%Y-%m-%d", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M",
    "%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%dT%H:%M:%S.%f", "%Y/%m/%d",
    "%d/%m/%Y", "%m/%d/%Y", "%d.%m.%Y", "%d/%m/%Y %H:%M", "%m/%d/%Y %H:%M",
    # ISO with an offset or Z (API exports): modelled in UTC, written back in UTC
    "%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S.%f%z", "%Y-%m-%d %H:%M:%S%z",
)
_DATE_OBJECTS = (dt.date, dt.time, np.datetime64, pd.Timestamp)


class Unsupported(ValueError):
    """A datetime column the model cannot represent; the message is the decision's detail."""


def _text_format(series: pd.Series):
    """(format, share) of the first format most text values parse with, else None."""
    counts = series.dropna().value_counts()
    texts = pd.Index(counts.index.astype(str))
    # Every format starts with a digit: a cheap exact bound that spares free text and
    # codes the fifteen parses (the costliest part of cleaning a wide text table).
    starts = np.asarray(texts.str.match(r"\s*\d"), dtype=bool)
    if counts.to_numpy()[starts].sum() < DATE_TEXT_SHARE * counts.sum():
        return None
    for fmt in DATE_FORMATS:
        parsed = pd.to_datetime(texts, format=fmt, errors="coerce", utc="%z" in fmt)
        share = float(counts.to_numpy()[parsed.notna()].sum() / counts.sum())
        if share >= DATE_TEXT_SHARE:
            return fmt, share
    return None


def datetime_source(series: pd.Series):
    """How ``series`` holds dates: ("dtype" | "objects" | format string, detail), or None
    when it is not a date/time column."""
    dtype = series.dtype
    if pd.api.types.is_datetime64_any_dtype(dtype) or isinstance(dtype, pd.PeriodDtype):
        return "dtype", f"dtype {dtype}"
    if isinstance(dtype, pd.CategoricalDtype) or not (
        dtype == object or pd.api.types.is_string_dtype(dtype)
    ):
        return None
    values = series.dropna()
    if dtype == object:
        if len(values) and all(isinstance(v, _DATE_OBJECTS) for v in values):
            return "objects", "holds date/time objects"
        # every value a str: one C pass (a Python isinstance per row cost ~0.1 s a
        # 100k-row text column)
        if len(values) and pd.api.types.infer_dtype(values, skipna=False) != "string":
            return None
    found = _text_format(series)
    if found is None:
        return None
    fmt, share = found
    return fmt, f"{share:.0%} of values parse as {fmt} (>= {DATE_TEXT_SHARE:.0%})"


def datetime_reason(series: pd.Series) -> str | None:
    """Why ``series`` is a date/time column (a sentence), or None when it is not."""
    found = datetime_source(series)
    return None if found is None else found[1]


def _utc(series: pd.Series, how: str) -> tuple[pd.Series, str | None, bool]:
    """(tz-naive datetime64[ns] in UTC or wall time, time zone, date-only?)."""
    dtype = series.dtype
    if isinstance(dtype, pd.PeriodDtype):
        raise Unsupported(f"period dtype {dtype} (convert it to dates first)")
    if how not in ("dtype", "objects"):
        zoned = "%z" in how
        parsed = pd.to_datetime(series.astype(object).where(series.notna()), format=how,
                                errors="coerce", utc=zoned)
        if zoned:
            parsed = parsed.dt.tz_localize(None)
        return parsed, "UTC" if zoned else None, "%H" not in how
    present = series.dropna()
    if how == "objects":
        if any(isinstance(v, dt.time) for v in present):
            raise Unsupported("holds times of day without a date")
        date_only = all(type(v) is dt.date for v in present)
        zones = {str(getattr(v, "tzinfo", None) or "") for v in present}
        if len(zones) > 1:
            raise Unsupported(f"time zones mixed in one column: {sorted(zones)}")
        try:
            parsed = pd.to_datetime(series.astype(object), utc=zones != {""})
        except (ValueError, TypeError, OverflowError) as exc:
            raise Unsupported(f"dates that cannot be read: {exc}") from None
        zone = zones.pop() or None
    else:
        try:
            parsed = pd.to_datetime(series)
        except (ValueError, TypeError, OverflowError) as exc:
            raise Unsupported(f"dates that cannot be read: {exc}") from None
        zone = str(parsed.dt.tz) if parsed.dt.tz is not None else None
        date_only = False
    if zone is not None:
        parsed = parsed.dt.tz_convert("UTC").dt.tz_localize(None)
    return parsed.astype("datetime64[ns]"), zone, date_only


def to_calendar(column, series: pd.Series, how: str):
    """(typed Column, float64 units, detail) for a date/datetime ``series``."""
    parsed, zone, date_only = _utc(series, how)
    valid = parsed.notna().to_numpy()
    ns = parsed.to_numpy(dtype="datetime64[ns]").astype(np.int64)
    observed = ns[valid]
    if not len(observed):
        raise Unsupported("no value parses as a date")
    midnight = zone is None and not np.any(observed % UNIT_NS["D"])
    type_, unit = ("date", "D") if (date_only or midnight) else (
        "datetime", coarsest_unit(observed))
    units = np.full(len(ns), np.nan)
    units[valid] = ns_to_units(observed, unit)
    lost = int(series.notna().sum() - valid.sum())
    column = replace(column, type=type_, time_unit=unit, timezone=zone,
                     min=float(units[valid].min()), max=float(units[valid].max()),
                     is_integer=True)
    detail = f"{type_}: modelled as whole {UNIT_NAMES[unit]} since 1970-01-01"
    if zone is not None:
        detail += f" UTC, written back in time zone {zone}"
    if lost:
        detail += f"; {lost} values that do not parse made missing"
    return column, pd.Series(units, index=series.index), detail


def keep_datetimes(table: Table, *, auto_clean: bool = True) -> tuple[Table, list[dict]]:
    decisions, drops, columns, values = [], {}, {}, {}
    for name, column in table.columns.items():
        if table.sources[name] in table.raw.level_order:
            continue  # value-labelled SPSS columns are categorical by declaration
        series = table.frame[name]
        found = datetime_source(series)
        if found is None:
            continue
        how, reason = found
        try:
            columns[name], values[name], detail = to_calendar(column, series, how)
        except Unsupported as exc:
            drops[name] = "unsupported_datetime"
            decisions.append(decision(STEP, name, "drop_column",
                                      f"unsupported_datetime: {reason}; {exc}"))
            continue
        decisions.append(decision(STEP, name, "set_type", f"{detail} ({reason})"))
    return table.update(columns, values).drop(drops), decisions
