"""Parquet via pyarrow.

Paths are handed to pyarrow directly and bytes are wrapped without copying, so the only
large allocation is the table and its pandas conversion; ``self_destruct`` frees each Arrow
column as soon as it is converted, keeping the peak near one copy of the data.
"""

from __future__ import annotations

import os

import pyarrow as pa
import pyarrow.parquet as pq

from engine.errors import SimioError
from engine.io import RawTable, limits
from engine.io.detect import Sniffed, unreadable


def read_parquet(source, sniffed: Sniffed) -> RawTable:
    where = os.fspath(source) if isinstance(source, (str, os.PathLike)) else pa.BufferReader(source)
    try:
        meta = pq.ParquetFile(where).metadata          # the footer only: limits come first
        limits.check_columns(sniffed.name, meta.num_columns)
        limits.check_cells(sniffed.name, meta.num_rows, meta.num_columns)
        if not isinstance(where, str):
            where = pa.BufferReader(source)
        table = pq.read_table(where)
        frame = table.to_pandas(split_blocks=True, self_destruct=True)
    except SimioError:
        raise
    except (pa.ArrowException, OSError, ValueError, TypeError) as exc:
        raise unreadable(sniffed.name, "Parquet", exc) from exc
    return RawTable(frame=frame, source_format="parquet")
