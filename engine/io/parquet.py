"""Parquet via pyarrow.

Paths are handed to pyarrow directly and bytes are wrapped without copying, so the only
large allocation is the table and its pandas conversion; ``self_destruct`` frees each Arrow
column as soon as it is converted, keeping the peak near one copy of the data.
"""

from __future__ import annotations

import os

import pyarrow as pa
import pyarrow.parquet as pq

from engine.io import RawTable
from engine.io.detect import Sniffed, unreadable


def read_parquet(source, sniffed: Sniffed) -> RawTable:
    where = os.fspath(source) if isinstance(source, (str, os.PathLike)) else pa.BufferReader(source)
    try:
        table = pq.read_table(where)
        frame = table.to_pandas(split_blocks=True, self_destruct=True)
    except (pa.ArrowException, OSError, ValueError, TypeError) as exc:
        raise unreadable(sniffed.name, "Parquet", exc) from exc
    return RawTable(frame=frame, source_format="parquet")
