"""Date and datetime columns: the numeric scale the model uses, and the way back.

A ``date`` column is modelled as whole days since 1970-01-01; a ``datetime`` column as whole
counts of its seed's resolution (``Column.time_unit``: hours, minutes, seconds,
milliseconds or microseconds) since 1970-01-01T00:00:00 UTC. Whole units keep the seed's
precision for free: the model already rounds integer columns and clamps them to their
observed range, so a synthetic date is a whole day inside the seed's range.

The functions here are pure and small so any output path can call them:
``is_calendar(column)`` says whether a schema column is a date/datetime,
``to_arrow(values, column)`` turns model units into an Arrow ``date32`` / ``timestamp``
array (missing where the value is NaN), ``to_pandas`` wraps that for a DataFrame (pandas
loads only in the functions that need it: generation to Parquet never imports it), and
``parse_bound`` / ``format_value`` convert one ISO 8601 text to units and back (scenario
bounds, schema min/max).
"""

from __future__ import annotations

import datetime as dt

from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from engine.schema import CALENDAR_TYPES

if TYPE_CHECKING:
    import pandas as pd
# Coarsest first: a datetime column is modelled in the coarsest unit that divides every
# seed value. Nanoseconds are not offered: their counts since 1970 exceed float64's exact
# integers (2**53), so sub-microsecond parts are rounded to microseconds.
DATETIME_UNITS = ("h", "m", "s", "ms", "us")
UNIT_NS = {"D": 86_400 * 10**9, "h": 3_600 * 10**9, "m": 60 * 10**9, "s": 10**9,
           "ms": 10**6, "us": 10**3}
UNIT_NAMES = {"D": "days", "h": "hours", "m": "minutes", "s": "seconds",
              "ms": "milliseconds", "us": "microseconds"}
# Arrow timestamp unit per model unit (Arrow has no hour or minute timestamps).
_ARROW_UNIT = {"h": "s", "m": "s", "s": "s", "ms": "ms", "us": "us"}


def is_calendar(column) -> bool:
    """True for a schema column of type ``date`` or ``datetime``."""
    return getattr(column, "type", None) in CALENDAR_TYPES


def coarsest_unit(ns: np.ndarray) -> str:
    """The coarsest of ``DATETIME_UNITS`` dividing every value of ``ns`` (int64 ns)."""
    for unit in DATETIME_UNITS:
        if not np.any(ns % UNIT_NS[unit]):
            return unit
    return "us"


def ns_to_units(ns: np.ndarray, unit: str) -> np.ndarray:
    """int64 nanoseconds since the epoch -> float64 counts of ``unit`` (rounded half up)."""
    step = UNIT_NS[unit]
    return ((ns + step // 2) // step).astype(np.float64)


def to_arrow(values: np.ndarray, column) -> pa.Array:
    """Model units (float64, NaN = missing) -> an Arrow date32 / timestamp array."""
    values = np.asarray(values, dtype=np.float64)
    missing = np.isnan(values)
    counts = np.where(missing, 0, np.rint(values)).astype(np.int64)
    from engine.sampling.assembly import primitive      # pa.array would import pandas

    if column.type == "date":
        return primitive(pa.date32(), counts.astype(np.int32), missing)
    unit = column.time_unit
    arrow_unit = _ARROW_UNIT[unit]
    counts = counts * (UNIT_NS[unit] // UNIT_NS[arrow_unit])
    return primitive(pa.timestamp(arrow_unit, tz=column.timezone), counts, missing)


def to_pandas(values: np.ndarray, column) -> pd.api.extensions.ExtensionArray:
    """``to_arrow`` as a pandas array (Arrow-backed, so Parquet/Arrow keep date32/timestamp
    and CSV prints ISO text: ``2024-03-01``, ``2024-03-01 14:30:00``)."""
    import pandas as pd

    return pd.arrays.ArrowExtensionArray(to_arrow(values, column))


def as_wall_clock(values: pd.Series) -> pd.Series | None:
    """A calendar column as formats without Arrow types or time zones take it (SPSS,
    Excel): dates as ``datetime.date`` objects (None where missing), datetimes as naive
    ``datetime64`` in the column's own wall-clock time. None for any other column."""
    import pandas as pd

    dtype = values.dtype
    if not isinstance(dtype, pd.ArrowDtype):
        return None
    arrow = dtype.pyarrow_dtype
    if pa.types.is_date(arrow):
        return pd.Series(values.to_numpy(dtype=object, na_value=None), index=values.index,
                         name=values.name, dtype=object)
    if pa.types.is_timestamp(arrow):
        stamps = pd.Series(pd.DatetimeIndex(values.astype(f"datetime64[{arrow.unit}, "
                                                          f"{arrow.tz}]" if arrow.tz else
                                                          f"datetime64[{arrow.unit}]")),
                           index=values.index, name=values.name)
        return stamps.dt.tz_localize(None) if arrow.tz else stamps
    return None


def as_units(values) -> np.ndarray:
    """A decoded numeric column (float64 with NaN, int64, nullable Int64) as float64 units."""
    import pandas as pd

    return pd.array(values).to_numpy(dtype=np.float64, na_value=np.nan)


def calendar_columns(schema, columns: dict) -> dict:
    """``columns`` (name -> decoded values) with every date/datetime column of ``schema``
    turned from model units into its calendar array (the output assembly's hook)."""
    return {name: to_pandas(as_units(values), schema[name]) if is_calendar(schema[name])
            else values for name, values in columns.items()}


def _timestamp(value, column) -> pd.Timestamp:
    import pandas as pd

    if isinstance(value, str):
        stamp = pd.Timestamp(dt.datetime.fromisoformat(value.strip()))
    elif isinstance(value, (dt.date, np.datetime64)):
        stamp = pd.Timestamp(value)
    else:
        raise ValueError(f"{value!r} is not an ISO 8601 text")
    if column.type == "date":
        if stamp.tzinfo is not None:
            stamp = stamp.tz_localize(None)
        return stamp
    if stamp.tzinfo is None:
        return stamp.tz_localize(column.timezone or "UTC")
    return stamp


def parse_bound(value, column, side: str) -> float:
    """One ISO 8601 bound (``"2024-03-01"``, ``"2024-03-01T14:30"``, with or without an
    offset) -> model units of ``column``. A bound between two units is rounded inwards
    (``side`` "min" up, "max" down), so every value in the range honours it. A naive
    datetime is read in the column's time zone. Raises ValueError on bad text."""
    import pandas as pd

    stamp = _timestamp(value, column)
    if column.type == "date":
        ns = pd.Timestamp(stamp.date()).value
        step = UNIT_NS["D"]
        exact = stamp == pd.Timestamp(stamp.date())
    else:
        ns, step = stamp.tz_convert("UTC").value, UNIT_NS[column.time_unit]
        exact = True
    count = ns // step
    if side == "min" and (ns % step or not exact):
        count += 1
    return float(count)


def format_value(units, column) -> str | None:
    """Model units -> ISO 8601 text (``2024-03-01``; ``2024-03-01T14:30:00`` with the
    offset for a time-zone-aware column). None stays None."""
    if units is None or (isinstance(units, float) and np.isnan(units)):
        return None
    value = to_arrow(np.array([float(units)]), column)[0].as_py()
    if column.type == "date":
        return value.isoformat()
    spec = "seconds" if column.time_unit in ("h", "m", "s") else (
        "milliseconds" if column.time_unit == "ms" else "microseconds")
    return value.isoformat(timespec=spec)


__all__ = ["CALENDAR_TYPES", "DATETIME_UNITS", "UNIT_NAMES", "as_units", "calendar_columns",
           "coarsest_unit", "format_value", "is_calendar", "ns_to_units", "parse_bound",
           "to_arrow", "to_pandas"]
