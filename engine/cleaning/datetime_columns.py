"""Step: drop date and time columns (``unsupported_datetime``), even with auto_clean=false.

The model has no date type, and dates read as categories or numbers would be nonsense
(thousands of one-off levels, or nanosecond counts). A column is a datetime when its dtype
is one, when it holds Python date/time objects, or when most of its text parses with one
of a few explicit formats (explicit, so pandas never guesses and never warns).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from .result import Table, decision

STEP = "datetime_columns"
# Share of non-missing text values that must parse with ONE format: a few typos or
# placeholders ("unknown") do not rescue a date column, while a text column that happens
# to contain a date now and then is not dropped.
DATE_TEXT_SHARE = 0.90
DATE_FORMATS = (
    "%Y-%m-%d", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M",
    "%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%dT%H:%M:%S.%f", "%Y/%m/%d",
    "%d/%m/%Y", "%m/%d/%Y", "%d.%m.%Y", "%d/%m/%Y %H:%M", "%m/%d/%Y %H:%M",
)
_DATE_OBJECTS = (dt.date, dt.time, np.datetime64, pd.Timestamp)


def datetime_reason(series: pd.Series) -> str | None:
    """Why ``series`` is a datetime column (a sentence), or None when it is not."""
    dtype = series.dtype
    if pd.api.types.is_datetime64_any_dtype(dtype) or isinstance(dtype, pd.PeriodDtype):
        return f"dtype {dtype}"
    if isinstance(dtype, pd.CategoricalDtype) or not (
        dtype == object or pd.api.types.is_string_dtype(dtype)
    ):
        return None
    values = series.dropna()
    if dtype == object:
        if len(values) and all(isinstance(v, _DATE_OBJECTS) for v in values):
            return "holds date/time objects"
        if not all(isinstance(v, str) for v in values):
            return None
    counts = values.value_counts()
    texts = pd.Index(counts.index.astype(str))
    for fmt in DATE_FORMATS:
        parsed = pd.to_datetime(texts, format=fmt, errors="coerce")
        share = float(counts.to_numpy()[parsed.notna()].sum() / counts.sum())
        if share >= DATE_TEXT_SHARE:
            return f"{share:.0%} of values parse as {fmt} (>= {DATE_TEXT_SHARE:.0%})"
    return None


def drop_datetimes(table: Table, *, auto_clean: bool = True) -> tuple[Table, list[dict]]:
    decisions, drops = [], {}
    for name in table.frame.columns:
        if table.sources[name] in table.raw.level_order:
            continue  # value-labelled SPSS columns are categorical by declaration
        reason = datetime_reason(table.frame[name])
        if reason:
            drops[name] = "unsupported_datetime"
            decisions.append(decision(STEP, name, "drop_column", f"unsupported_datetime: {reason}"))
    return table.drop(drops), decisions
