"""A decoded block's columns, and the two tables they become: Arrow or pandas.

``forward.decode`` turns states into one neutral value per column: a float64 or int64
array, ``Coded`` (category codes, -1 missing, with their levels) or ``MaskedInts``
(integers with gaps). ``to_arrow`` builds a ``pa.Table`` straight from them, without
pandas, so ``simio generate`` to Parquet/Arrow never imports it; ``to_frame`` builds the
DataFrame the Python API returns (pandas loads on that call).

Both give the same table: ``to_arrow`` reproduces, type for type, what
``pa.Table.from_pandas(to_frame(...), preserve_index=False)`` gives, including its
``pandas`` schema metadata, so a file written either way has the same bytes
(tests/engine/test_arrow_assembly.py holds the two to it).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pyarrow as pa

from engine import calendar


@dataclass(frozen=True)
class Coded:
    """A categorical or boolean column as codes into ``levels`` (-1: missing)."""

    codes: np.ndarray
    levels: tuple
    ordered: bool = False
    boolean: bool = False


@dataclass(frozen=True)
class MaskedInts:
    """An integer column with gaps: ``values`` (0 where missing) and ``missing``."""

    values: np.ndarray
    missing: np.ndarray


def coded(column, codes: np.ndarray) -> Coded:
    return Coded(codes, tuple(column.levels), ordered=column.type == "ordered",
                 boolean=column.type == "boolean")


def numeric(values: np.ndarray, enc) -> np.ndarray | MaskedInts:
    """A numeric node's decoded float64 values in its output type: float64, int64, or
    ``MaskedInts`` for an integer node that has a missing state (gaps drawn or not)."""
    if not enc.is_integer:
        return values
    if enc.missing_state >= 0:
        missing = np.isnan(values)
        return MaskedInts(np.where(missing, 0, values).astype(np.int64), missing)
    return values.astype(np.int64)


def integers(values: np.ndarray) -> np.ndarray | MaskedInts:
    """Whole float64 values (NaN: missing) as int64, or ``MaskedInts`` when any is NaN."""
    missing = np.isnan(values)
    if not missing.any():
        return values.astype(np.int64)
    return MaskedInts(np.where(missing, 0, values).astype(np.int64), missing)


def as_float(values) -> np.ndarray:
    """A numeric column as float64 with NaN for missing."""
    if isinstance(values, MaskedInts):
        out = values.values.astype(np.float64)
        out[values.missing] = np.nan
        return out
    return np.asarray(values, dtype=np.float64)


# -- Arrow -------------------------------------------------------------------------------
# Arrays are built from their buffers (``pa.Array.from_buffers``): ``pa.array`` imports
# pandas on every call. The buffers hold what ``from_pandas`` would put there (the values
# under a null included), so an Arrow IPC file has the same bytes too.

def _index_type(n_levels: int):
    # pandas' code width for n categories (pandas.core.dtypes.cast.coerce_indexer_dtype)
    if n_levels < 127:
        return np.int8
    if n_levels < 32767:
        return np.int16
    return np.int32 if n_levels < 2147483647 else np.int64


def primitive(arrow_type, values: np.ndarray, missing: np.ndarray | None = None) -> pa.Array:
    """A fixed-width Arrow array over ``values``' memory; null where ``missing``."""
    values = np.ascontiguousarray(values)
    n_missing = 0 if missing is None else int(np.count_nonzero(missing))
    validity = None if n_missing == 0 else pa.py_buffer(
        np.packbits(~missing, bitorder="little"))
    return pa.Array.from_buffers(arrow_type, len(values), [validity, pa.py_buffer(values)],
                                 null_count=n_missing)


def _booleans(values: np.ndarray, missing: np.ndarray) -> pa.Array:
    n_missing = int(np.count_nonzero(missing))
    validity = None if n_missing == 0 else pa.py_buffer(
        np.packbits(~missing, bitorder="little"))
    return pa.Array.from_buffers(pa.bool_(), len(values), [
        validity, pa.py_buffer(np.packbits(values, bitorder="little"))], null_count=n_missing)


@lru_cache(maxsize=256)
def _dictionary(levels: tuple) -> pa.Array:
    # pandas 3 holds text levels as its `str` dtype, which Arrow stores as large_string;
    # pandas 2's object levels become string
    large = int(_versions()[1].split(".")[0]) >= 3
    data = [str(level).encode("utf8") for level in levels]
    offsets = np.concatenate([[0], np.cumsum([len(b) for b in data])]).astype(
        np.int64 if large else np.int32)
    return pa.Array.from_buffers(pa.large_string() if large else pa.string(), len(data), [
        None, pa.py_buffer(offsets), pa.py_buffer(b"".join(data))])


def _arrow_column(values, column) -> tuple[pa.Array, str, str, dict | None]:
    """(array, pandas_type, numpy_type, metadata) as ``from_pandas`` records them."""
    if calendar.is_calendar(column):
        array = calendar.to_arrow(as_float(values), column)
        zoned = getattr(array.type, "tz", None)
        kind = "date" if column.type == "date" else ("datetimetz" if zoned else "datetime")
        return array, kind, f"{array.type}[pyarrow]", None
    if isinstance(values, Coded):
        missing = values.codes < 0
        if values.boolean:
            truth = np.array([lvl == "true" for lvl in values.levels], dtype=bool)
            return (_booleans(truth[np.maximum(values.codes, 0)], missing), "bool",
                    "boolean", None)
        width = _index_type(len(values.levels))
        indices = primitive(pa.from_numpy_dtype(width), values.codes.astype(width), missing)
        array = pa.DictionaryArray.from_arrays(indices, _dictionary(values.levels),
                                               ordered=values.ordered)
        return array, "categorical", np.dtype(width).name, {
            "num_categories": len(values.levels), "ordered": values.ordered}
    if isinstance(values, MaskedInts):
        return primitive(pa.int64(), values.values, values.missing), "int64", "Int64", None
    values = np.asarray(values)
    missing = np.isnan(values) if values.dtype.kind == "f" else None   # from_pandas: NaN -> null
    return (primitive(pa.from_numpy_dtype(values.dtype), values, missing), values.dtype.name,
            values.dtype.name, None)


@lru_cache(maxsize=1)
def _versions() -> tuple[str, str]:
    from importlib.metadata import version

    return pa.__version__, version("pandas")


def to_arrow(schema, columns: dict) -> pa.Table:
    """The decoded ``columns`` (name -> value) as a ``pa.Table`` in schema order."""
    arrays, described = [], []
    for column in schema:
        array, pandas_type, numpy_type, metadata = _arrow_column(columns[column.name], column)
        arrays.append(array)
        described.append({"name": column.name, "field_name": column.name,
                          "pandas_type": pandas_type, "numpy_type": numpy_type,
                          "metadata": metadata})
    arrow_version, pandas_version = _versions()
    pandas_metadata = {"index_columns": [], "column_indexes": [], "columns": described,
                       "attributes": {}, "creator": {"library": "pyarrow",
                                                     "version": arrow_version},
                       "pandas_version": pandas_version}
    names = [column.name for column in schema]
    fields = [pa.field(name, array.type) for name, array in zip(names, arrays)]
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields, metadata={
        b"pandas": json.dumps(pandas_metadata).encode("utf8")}))


# -- pandas ------------------------------------------------------------------------------

def _pandas_column(values, column):
    import pandas as pd

    if calendar.is_calendar(column):
        return calendar.to_pandas(as_float(values), column)
    if isinstance(values, Coded):
        if values.boolean:
            truth = np.array([lvl == "true" for lvl in values.levels], dtype=bool)
            result = pd.array(truth[np.maximum(values.codes, 0)], dtype="boolean")
            result[values.codes < 0] = pd.NA
            return result
        return pd.Categorical.from_codes(values.codes, categories=list(values.levels),
                                         ordered=values.ordered)
    if isinstance(values, MaskedInts):
        return pd.arrays.IntegerArray(values.values, values.missing)
    return values


def to_frame(schema, columns: dict):
    """The decoded ``columns`` as a pandas DataFrame in schema order."""
    import pandas as pd

    # copy=False: each column stays its own array; the default copy consolidates them
    # into 2-d blocks (a full copy of the chunk, ~0.4 s per 262k x 120) for nothing.
    return pd.DataFrame({c.name: _pandas_column(columns[c.name], c) for c in schema},
                        copy=False)
