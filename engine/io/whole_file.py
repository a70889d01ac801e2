"""Writers for formats written in one go (SPSS .sav, Excel .xlsx): same ``with`` protocol
as ``engine.io.writers.TableWriter``, whole or not at all.

Chunks are collected in memory and the file is written at a clean exit through
``atomic_write``; an exception inside the block writes nothing. Neither format can be
appended to by its library, so a generation into them holds its rows in memory once.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from engine.io.atomic import atomic_write


class WholeFileWriter:
    """Subclasses implement ``_save(frame, fh)``; ``schema`` (an ``engine.schema.Schema``,
    optional) tells them the columns' labels, levels and source-format attributes."""

    max_rows: int | None = None          # the format's own row limit, if it has one

    def __init__(self, path, *, schema=None):
        self.path = Path(path)
        self.schema = schema
        self.rows = 0
        self._chunks: list[pd.DataFrame] = []

    def __enter__(self):
        return self

    def write(self, chunk: pd.DataFrame) -> None:
        self._chunks.append(chunk)
        self.rows += len(chunk)

    def write_group(self, chunks: list[pd.DataFrame]) -> None:
        for chunk in chunks:
            self.write(chunk)

    def __exit__(self, exc_type, exc, tb) -> bool:
        chunks, self._chunks = self._chunks, []
        if exc_type is not None:
            return False
        if not chunks:
            raise ValueError(f"{type(self).__name__}: no chunk was written, so there is no "
                             "table")
        frame = pd.concat(chunks, ignore_index=True) if len(chunks) > 1 else chunks[0]
        with atomic_write(self.path) as fh:
            self._save(frame, fh)
        return False

    def _save(self, frame: pd.DataFrame, fh) -> None:
        raise NotImplementedError

    def column(self, name: str):
        """The schema column called ``name``, or None (no schema, or a column it lacks)."""
        if self.schema is None or name not in self.schema:
            return None
        return self.schema[name]
