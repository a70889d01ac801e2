"""Atomic writers: Parquet, CSV and Arrow IPC (file format).

Rows go to a temp file beside the target; only a clean finish flushes, fsyncs and
``os.replace``s it into place, so a reader (or a restarted server) never sees half a file,
and any failure removes the temp file and leaves no target.

Dtypes: the frame's pandas dtypes are kept (pyarrow stores them as pandas metadata):
int64 stays int64, nullable Int64/boolean keep their missing values, float64 stays float64,
str stays str, categoricals are dictionary-encoded (levels and order survive; CSV writes
the labels), bool stays bool. In a stream the first chunk fixes the schema, so give an
integer column that may have gaps the Int64 dtype from the first chunk on.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.ipc as ipc
import pyarrow.parquet as pq

from engine.errors import SimioError

FORMATS = ("parquet", "csv", "arrow")
CONTENT_TYPES = {
    "parquet": "application/vnd.apache.parquet",
    "csv": "text/csv",
    "arrow": "application/vnd.apache.arrow.file",
}
EXTENSIONS = {"parquet": ".parquet", "csv": ".csv", "arrow": ".arrow"}

_UMASK = os.umask(0o022)   # read once (os.umask can only be read by setting it)
os.umask(_UMASK)


def write_table(frame: pd.DataFrame, path, fmt: str) -> Path:
    """Write ``frame`` to ``path`` as ``fmt`` atomically; returns the path written."""
    with TableWriter(path, fmt) as writer:
        writer.write(frame)
    return writer.path


class TableWriter:
    """Append frame chunks to one file; it appears at ``path`` only on a clean exit.

    >>> with TableWriter("out.parquet", "parquet") as w:
    ...     for chunk in chunks:
    ...         w.write(chunk)
    """

    def __init__(self, path, fmt: str):
        if fmt not in FORMATS:
            raise SimioError("simio_invalid_field",
                             f"format must be one of {', '.join(FORMATS)}; got {fmt!r}.")
        self.path = Path(path)
        self.fmt = fmt
        self.rows = 0
        self._tmp: Path | None = None
        self._fh = None
        self._writer = None              # pq.ParquetWriter | ipc writer; None for csv
        self._columns: list | None = None
        self._dtypes: pd.Series | None = None
        self._schema: pa.Schema | None = None
        self._failed: BaseException | None = None

    def __enter__(self) -> "TableWriter":
        # Same directory as the target, so os.replace is a rename on one filesystem.
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp",
                                   dir=self.path.parent)
        self._tmp = Path(tmp)
        self._fh = os.fdopen(fd, "wb")
        return self

    def write(self, chunk: pd.DataFrame) -> None:
        if self._fh is None:
            raise RuntimeError("TableWriter.write called outside its `with` block")
        if self._failed is not None:
            raise RuntimeError("TableWriter: an earlier write failed; the file is abandoned")
        try:
            self._write(chunk)
        except BaseException as exc:
            self._failed = exc           # a half-written chunk must never be committed
            raise
        self.rows += len(chunk)

    def __exit__(self, exc_type, exc, tb) -> bool:
        if exc_type is not None or self._failed is not None:
            self._abort()
            if exc_type is None:
                raise RuntimeError("TableWriter: a write failed; nothing was written") \
                    from self._failed
            return False
        try:
            self._commit()
        except BaseException:
            self._abort()
            raise
        return False

    # -- internals ---------------------------------------------------------------------

    def _write(self, chunk: pd.DataFrame) -> None:
        first = self._columns is None
        if first:
            self._columns, self._dtypes = list(chunk.columns), chunk.dtypes
        else:
            chunk = self._conform(chunk)
        if self.fmt == "csv":
            chunk.to_csv(self._fh, header=first, index=False, lineterminator="\n",
                         encoding="utf-8", mode="wb")
            return
        table = pa.Table.from_pandas(chunk, schema=self._schema, preserve_index=False)
        if first:
            self._schema = table.schema
            self._writer = (pq.ParquetWriter(self._fh, self._schema) if self.fmt == "parquet"
                            else ipc.new_file(self._fh, self._schema))
        self._writer.write_table(table.replace_schema_metadata(self._schema.metadata))

    def _conform(self, chunk: pd.DataFrame) -> pd.DataFrame:
        """Later chunks must match the first one's columns; categoricals its levels.

        Arrow's IPC file format cannot replace a dictionary mid-file, so a categorical
        chunk is recoded to the first chunk's categories (refused if a value would be lost).
        """
        if list(chunk.columns) != self._columns:
            raise ValueError(f"chunk columns {list(chunk.columns)} differ from the first "
                             f"chunk's {self._columns}")
        for col, dtype in self._dtypes.items():
            if isinstance(dtype, pd.CategoricalDtype) and chunk[col].dtype != dtype:
                values = chunk[col]
                if (values.notna() & ~values.isin(dtype.categories)).any():
                    raise ValueError(f"column {col!r} has levels not in the first chunk's "
                                     f"categories {list(dtype.categories)}")
                chunk = chunk.assign(**{col: values.astype(dtype)})
        return chunk

    def _commit(self) -> None:
        if self._columns is None:
            raise ValueError("TableWriter: no chunk was written, so there is no table")
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        self._fh.flush()
        os.fsync(self._fh.fileno())
        self._fh.close()
        os.chmod(self._tmp, 0o666 & ~_UMASK)     # mkstemp's 0600 is not what open() gives
        os.replace(self._tmp, self.path)
        self._tmp = None
        _fsync_dir(self.path.parent)             # make the rename itself durable

    def _abort(self) -> None:
        for close in (getattr(self._writer, "close", None), getattr(self._fh, "close", None)):
            try:
                if close is not None:
                    close()
            except Exception:  # noqa: BLE001 - already failing; removing the temp matters more
                pass
        self._writer = None
        if self._tmp is not None:
            self._tmp.unlink(missing_ok=True)
            self._tmp = None


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return                                   # e.g. Windows: directories cannot be opened
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def read_output(path, fmt: str) -> pd.DataFrame:
    """Read back a file this module wrote (Parquet, CSV or Arrow IPC)."""
    if fmt == "parquet":
        return pd.read_parquet(path)
    if fmt == "arrow":
        import pyarrow.ipc as ipc

        with ipc.open_file(path) as reader:
            return reader.read_all().to_pandas()
    if fmt == "csv":
        return pd.read_csv(path)
    raise SimioError("simio_invalid_field", f"unknown format {fmt!r}; use one of {list(FORMATS)}")
