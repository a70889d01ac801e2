"""Step: decide each column's public type and convert its values to the model's form.

Categorical columns (``factor``, ``ordered``, ``boolean``, ``character``) become pandas
Categoricals whose categories are the schema levels; numeric columns (``integer``,
``numeric``) become float64. Anything else (nested, binary, mixed objects) is dropped as
``other``. Level order: SPSS label order or a pandas ordered Categorical's order when the
source declares one, ["false", "true"] for booleans, otherwise sorted — first appearance
would change when the seed's rows are shuffled.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from engine.io import RawTable
from engine.schema import CALENDAR_TYPES, Column

from .result import Table, decision, map_distinct

STEP = "column_types"
# More distinct text values than this is free text / high-cardinality codes: a conditional
# table over it would be mostly empty, so it is kept for training as ``character`` but
# cannot be conditioned on (``conditioning_excluded``).
HIGH_CARDINALITY_LEVELS = 50
# Whole-valued columns are ``integer`` when at least this share of the integers between
# min and max occur (ages, counts, Likert codes); sparser whole values (scores rounded to
# integers, 76 of 99 possible values) are ``numeric`` (still ``is_integer``).
INTEGER_DENSITY = 0.90
BOOLEAN_LEVELS = ["false", "true"]


@dataclass(frozen=True)
class Typed:
    column: Column
    values: pd.Series
    detail: str


def as_text(value) -> str:
    """Canonical text of one value: 1.0 -> "1", True -> "true", "x" -> "x"."""
    if isinstance(value, str):
        return str(value)  # numpy.str_ -> str: levels must be plain JSON text
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return str(int(value)) if float(value).is_integer() else repr(float(value))
    return str(value)


def _texts(series: pd.Series) -> pd.Series:
    """Non-missing values as canonical text, missing as NaN, same index, dtype object."""
    return map_distinct(series, as_text)


def _kind(value) -> str:
    if isinstance(value, str):
        return "text"
    if isinstance(value, (bool, np.bool_)):
        return "bool"
    if isinstance(value, (int, float, np.integer, np.floating)):
        return "number"
    return type(value).__name__


def _categorical(column, texts, levels, type_, detail, excluded=False, factorized=None) -> Typed:
    """``factorized``: ``pd.factorize(texts)`` when the caller has it (no second hashing
    of every value: the costliest part of typing a wide text table)."""
    if factorized is None:
        values = pd.Series(pd.Categorical(texts, categories=levels), index=texts.index)
    else:
        codes, uniques = factorized
        position = pd.Index(levels).get_indexer(uniques)
        values = pd.Series(pd.Categorical.from_codes(
            np.where(codes >= 0, position[codes], -1), categories=levels), index=texts.index)
    column = replace(column, type=type_, levels=list(levels), conditioning_excluded=excluded)
    return Typed(column, values, detail)


def _numeric(column: Column, values: pd.Series, why: str) -> Typed | str:
    values = values.astype("float64")
    infinite = np.isinf(values.to_numpy())
    if infinite.any():
        values = values.mask(infinite)
        why += f"; {int(infinite.sum())} infinite values made missing"
    observed = values.dropna().to_numpy()
    if not len(observed):
        return "other: no finite numeric value"
    lo, hi = float(observed.min()), float(observed.max())
    whole = bool(np.all(observed == np.floor(observed)))
    type_, detail = "numeric", f"numeric ({why}): non-whole values"
    if whole:
        density = len(np.unique(observed)) / (hi - lo + 1)
        dense = density >= INTEGER_DENSITY
        type_ = "integer" if dense else "numeric"
        detail = (f"{type_} ({why}): whole values, {density:.2f} of the integers in "
                  f"[{lo:g}, {hi:g}] occur ({'>=' if dense else '<'} {INTEGER_DENSITY})")
    column = replace(column, type=type_, min=lo, max=hi, is_integer=whole)
    return Typed(column, values, detail)


def _from_text(column: Column, texts: pd.Series, why: str) -> Typed | str:
    factorized = codes, uniques = pd.factorize(texts)    # hashed once, reused below
    distinct = sorted(uniques)
    if {v.lower() for v in distinct} <= set(BOOLEAN_LEVELS):
        return _categorical(column, texts.str.lower(), BOOLEAN_LEVELS, "boolean",
                            f"boolean ({why}): values {distinct}")
    parsed = pd.to_numeric(pd.Index(distinct, dtype=object), errors="coerce")
    if not np.isnan(np.asarray(parsed, dtype=float)).any():
        number = np.asarray(parsed, dtype=float)[pd.Index(distinct).get_indexer(uniques)]
        values = np.where(codes >= 0, number[codes], np.nan)
        return _numeric(column, pd.Series(values, index=texts.index),
                        f"{why}, every value parses as a number")
    if len(distinct) > HIGH_CARDINALITY_LEVELS:
        return _categorical(column, texts, distinct, "character",
                            f"character ({why}): {len(distinct)} distinct values > "
                            f"{HIGH_CARDINALITY_LEVELS}; excluded from conditioning",
                            excluded=True, factorized=factorized)
    return _categorical(column, texts, distinct, "factor",
                        f"factor ({why}): {len(distinct)} levels, sorted",
                        factorized=factorized)


def _labelled(column: Column, series: pd.Series, raw: RawTable) -> Typed:
    source = column.source_name
    levels = list(dict.fromkeys(str(level) for level in raw.level_order[source]))
    codes = {as_text(k): str(v) for k, v in (raw.value_labels.get(source) or {}).items()}
    texts = _texts(series)
    texts = texts.map(lambda v: codes.get(v, v) if isinstance(v, str) and v not in levels else v)
    extra = sorted(set(texts.dropna()) - set(levels))
    type_ = "ordered" if source in raw.ordered else "factor"
    detail = f"{type_} (SPSS value labels): {len(levels)} levels in label order"
    if extra:
        detail += f"; unlabelled values appended: {extra}"
    return _categorical(column, texts, levels + extra, type_, detail)


def _natural_key(level: str):
    try:
        return (0, float(level), level)
    except ValueError:
        return (1, 0.0, level)


def infer_column(column: Column, series: pd.Series, raw: RawTable) -> Typed | str:
    """The typed column, or the detail of an ``other`` drop."""
    dtype = series.dtype
    if column.source_name in raw.level_order:
        return _labelled(column, series, raw)
    if isinstance(dtype, pd.CategoricalDtype):
        if dtype.ordered:
            levels = list(dict.fromkeys(as_text(c) for c in dtype.categories))
            return _categorical(column, _texts(series), levels, "ordered",
                                "ordered (pandas ordered categorical): category order kept")
        # A declared category dtype is categorical even when its labels look numeric
        # (survey codes "1", "2", ...): the caller has said what the column is. Unordered,
        # so levels are sorted (numbers by value) like any other factor's.
        texts = _texts(series)
        levels = sorted(set(texts.dropna()), key=_natural_key)
        return _categorical(column, texts, levels, "factor",
                            "factor (pandas categorical, kept categorical)")
    if pd.api.types.is_bool_dtype(dtype):
        return _from_text(column, _texts(series), "bool dtype")
    if pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_complex_dtype(dtype):
        return _numeric(column, pd.to_numeric(series), f"{dtype} dtype")
    if dtype == object or pd.api.types.is_string_dtype(dtype):
        kinds = ({"text"} if isinstance(dtype, pd.StringDtype)
                 else set(map_distinct(series, _kind).dropna()))
        if kinds == {"text"}:
            # a string dtype holds only str, which is its own canonical text: factorized
            # as it is (pyarrow's dictionary encoding), not copied to a column of Python
            # objects and hashed again (~1 s of a 1M x 30 table's clean)
            texts = series if isinstance(dtype, pd.StringDtype) else _texts(series)
            return _from_text(column, texts, "text")
        if kinds == {"bool"}:
            return _from_text(column, _texts(series), "true/false values")
        if kinds == {"number"}:
            return _numeric(column, pd.to_numeric(series.astype(object)), "numbers")
        if kinds == {"number", "text"}:
            return _from_text(column, _texts(series), "numbers mixed with text, read as text")
        return f"other: unsupported values ({', '.join(sorted(kinds))})"
    return f"other: unsupported dtype {dtype}"


def infer_types(table: Table, *, auto_clean: bool = True) -> tuple[Table, list[dict]]:
    decisions, drops, columns, values = [], {}, {}, {}
    raw = table.raw
    for name, column in table.columns.items():
        source = column.source_name
        labels = raw.value_labels.get(source)
        column = replace(column, label=raw.variable_labels.get(source),
                         value_labels=dict(labels) if labels else None)  # never share raw's dict
        if column.type in CALENDAR_TYPES:  # typed by datetime_columns
            columns[name] = column
            continue
        typed = infer_column(column, table.frame[name], raw)
        if isinstance(typed, str):
            drops[name] = "other"
            decisions.append(decision(STEP, name, "drop_column", typed))
            continue
        columns[name], values[name] = typed.column, typed.values
        decisions.append(decision(STEP, name, "set_type", typed.detail))
    return table.update(columns, values).drop(drops), decisions
