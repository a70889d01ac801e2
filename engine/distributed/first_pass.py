"""The first pass of a cluster fit: a bounded row sample for the cleaning decisions and the
encodings, and the cleaning applied to every partition on its worker.

The sample: each row's key is a 64-bit mix (splitmix64) of its row number in the whole
table and ``SAMPLE_SALT``; the sample is the ``sample_rows`` rows with the smallest keys,
in table order. Each worker keeps its partition's smallest keys (a bottom-k reservoir),
the client keeps the smallest overall: the sample does not depend on how the table is cut
into partitions, only on the row numbers, and a table of at most ``sample_rows`` rows is
its own sample (the one-process fit's rows, so its decisions and encodings).

``clean_partition`` applies the decisions the client took on the sample to one raw
partition (engine.cleaning has no transform of new rows): the schema's columns taken from
their source headers, blank text made missing, rows missing everywhere dropped, values
typed as the schema says; a level the schema does not keep (rare, free text, unseen in
the sample) becomes missing, as rare-level removal makes it. ``column_stats`` are the
exact per-column summaries over the cleaned rows (missing counts, min/max) that the
client merges.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from engine.cleaning.column_types import as_text
from engine.cleaning.result import map_distinct
from engine.io import RawTable
from engine.schema import CALENDAR_TYPES

# Rows the cleaning decisions and bin edges are taken from (docs/distributed.md).
SAMPLE_ROWS = 200_000
SAMPLE_SALT = 0x16D15C0DE5EED
_MASK = np.uint64(0xFFFFFFFFFFFFFFFF)


def row_keys(first_row: int, n: int) -> np.ndarray:
    """splitmix64 of rows ``first_row .. first_row + n`` (uint64, wrapping arithmetic)."""
    with np.errstate(over="ignore"):
        z = (np.arange(first_row, first_row + n, dtype=np.uint64) + np.uint64(SAMPLE_SALT)) \
            * np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return (z ^ (z >> np.uint64(31))) & _MASK


def partition_sample(table: RawTable, first_row: int, sample_rows: int):
    """(keys, table of those rows) of the partition's ``sample_rows`` smallest keys, in
    row order."""
    keys = row_keys(first_row, len(table.frame))
    keep = np.arange(len(keys))
    if len(keys) > sample_rows:
        keep = np.sort(np.argpartition(keys, sample_rows - 1)[:sample_rows])
    return keys[keep], replace(table, frame=table.frame.iloc[keep].reset_index(drop=True))


def merge_samples(parts, sample_rows: int) -> list[RawTable]:
    """The partitions' rows among the ``sample_rows`` smallest keys overall (splitmix64 is
    a bijection: keys never tie), partition by partition, in row order."""
    keys = np.concatenate([k for k, _ in parts])
    if len(keys) <= sample_rows:
        return [t for _, t in parts]
    cut = np.partition(keys, sample_rows - 1)[sample_rows - 1]
    return [replace(t, frame=t.frame[k <= cut].reset_index(drop=True)) for k, t in parts]


def frame_rows(table: RawTable) -> int:
    return len(table.frame)


def clean_partition(table: RawTable, columns: list) -> pd.DataFrame:
    """``table``'s rows as the cleaned frame of the schema ``columns`` (cleaned names, in
    order), rows missing in every input column dropped (as ``cleaning.missing``)."""
    raw = {name: _blank_to_missing(table.frame[name]) for name in table.frame.columns}
    present = np.zeros(len(table.frame), dtype=bool)
    for series in raw.values():
        present |= series.notna().to_numpy()
    out = {c.name: _typed(c, raw[c.source_name], table)[present] for c in columns}
    return pd.DataFrame(out).reset_index(drop=True)


def column_stats(frame: pd.DataFrame) -> dict:
    """Rows and, per column, missing count and min/max of numeric values."""
    stats = {"rows": len(frame), "missing": {}, "min": {}, "max": {}}
    for name in frame.columns:
        series = frame[name]
        stats["missing"][name] = int(series.isna().sum())
        if not isinstance(series.dtype, pd.CategoricalDtype) and series.notna().any():
            stats["min"][name], stats["max"][name] = float(series.min()), float(series.max())
    return stats


def merged_stats(parts: list[dict]) -> dict:
    out = {"rows": sum(p["rows"] for p in parts), "missing": {}, "min": {}, "max": {}}
    for part in parts:
        for name, n in part["missing"].items():
            out["missing"][name] = out["missing"].get(name, 0) + n
        for key, pick in (("min", min), ("max", max)):
            for name, v in part[key].items():
                out[key][name] = pick(out[key].get(name, v), v)
    return out


def _blank_to_missing(series: pd.Series) -> pd.Series:
    if series.dtype == object or pd.api.types.is_string_dtype(series.dtype):
        stripped = map_distinct(series, lambda v: v.strip() if isinstance(v, str) else v)
        return stripped.mask(stripped.eq("").fillna(False).astype(bool))
    return series


def _typed(column, series: pd.Series, table: RawTable) -> pd.Series:
    if column.type in CALENDAR_TYPES:
        return _calendar(column, series)
    if column.kind == "numeric":
        values = pd.to_numeric(series.astype(object), errors="coerce").astype("float64")
        return values.mask(np.isinf(values.to_numpy()))
    texts = map_distinct(series, as_text)
    codes = {as_text(k): str(v) for k, v in
             (table.value_labels.get(column.source_name) or {}).items()}
    if codes:
        texts = texts.map(lambda v: codes.get(v, v) if isinstance(v, str) else v)
    if column.type == "boolean":
        texts = texts.str.lower()
    levels = list(column.levels or [])
    return pd.Series(pd.Categorical(texts.where(texts.isin(levels)), categories=levels),
                     index=series.index)


def _calendar(column, series: pd.Series) -> pd.Series:
    from engine.calendar import ns_to_units
    from engine.cleaning.datetime_columns import _utc, datetime_source

    found = datetime_source(series)
    parsed, _, _ = _utc(series, found[0] if found else "dtype")
    valid = parsed.notna().to_numpy()
    units = np.full(len(parsed), np.nan)
    units[valid] = ns_to_units(parsed.to_numpy(dtype="datetime64[ns]").astype(np.int64)[valid],
                               column.time_unit)
    return pd.Series(units, index=series.index)


def exact_schema(schema, stats: dict):
    """The sample's schema with the exact missing rates and numeric ranges of all rows
    (rates computed as ``cleaning.missing`` computes them)."""
    from engine.schema import Schema

    n = stats["rows"]
    columns = []
    for column in schema:
        changes = {"missing_rate": float(stats["missing"][column.name] / n) if n else 0.0}
        if column.kind == "numeric" and column.name in stats["min"]:
            changes.update(min=stats["min"][column.name], max=stats["max"][column.name])
        columns.append(replace(column, **changes))
    return Schema(columns)


def sample_encodings(schema, frame: pd.DataFrame, relations, stats: dict) -> list:
    """Each column's encoding from the sample's values, as ``BayesianNetworkModel`` takes
    it from its frame; with a missing state wherever any row (not only the sample's) has
    no value, so every partition's codes fit."""
    from engine.model import encoding
    from engine.model import relations as model_relations

    derived = model_relations.numeric_targets(relations)
    related = model_relations.related_columns(relations)
    out = []
    for column in schema:
        series = frame[column.name]
        if stats["missing"][column.name] and not series.isna().any():
            series = series.reindex(range(len(series) + 1))    # one missing value more
        if column.name in derived:
            out.append(encoding.encode_derived(column))
        elif column.kind == "categorical":
            out.append(encoding.encode_categorical(column, series,
                                                   pool=column.name not in related))
        else:
            out.append(encoding.encode_numeric(
                column, series, model_relations.band_cuts(relations, column.name)))
    return out


def encode_partition(frame: pd.DataFrame, encodings: list, columns: list) -> np.ndarray:
    """A cleaned partition's (columns, rows) codes, as the model encodes its frame."""
    from engine.model import statistics
    from engine.model.network import _in_schema_order

    return statistics.compact_columns(
        len(frame), [e.n_states for e in encodings],
        lambda j: encodings[j].encode(_in_schema_order(frame[columns[j].name], columns[j])))


def rows_of(codes: np.ndarray, nodes: list) -> np.ndarray:
    """The codes of ``nodes`` (uint8 when they fit, as ``seed_marginals`` keeps them)."""
    picked = codes[nodes]
    return picked.astype(np.uint8) if picked.max(initial=0) < 256 else picked
