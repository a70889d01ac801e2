"""Atomic writers: Parquet, CSV and Arrow IPC (file format); .sav and .xlsx registered.

Rows go to a temp file beside the target; only a clean finish flushes, fsyncs and
``os.replace``s it into place, so a reader (or a restarted server) never sees half a file,
and any failure removes the temp file and leaves no target.

Chunks are pandas DataFrames, or for Parquet, Arrow and CSV (``ARROW_TABLES``)
``pa.Table``s with the types and ``pandas`` metadata ``pa.Table.from_pandas`` would give
(``engine.sampling.assembly.to_arrow``): written as they are (CSV by
``engine.io.csv_rows``), the same bytes as their frames give, and pandas is never
imported. Dtypes: the frame's pandas dtypes are kept (pyarrow stores them as pandas metadata):
int64 stays int64, nullable Int64/boolean keep their missing values, float64 stays float64,
str stays str, categoricals are dictionary-encoded (levels and order survive; CSV writes
the labels), bool stays bool. In a stream the first chunk fixes the schema, so give an
integer column that may have gaps the Int64 dtype from the first chunk on.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa

from engine.errors import SimioError
from engine.formats import (  # noqa: F401 - re-exported
    CONTENT_TYPES, EXTENSIONS, FORMATS, STREAMED, SUFFIX_FORMATS, output_format,
)
from engine.io.atomic import atomic_write
# CSV formula injection: the guard's rules live with the pandas-free CSV rows
from engine.io.csv_rows import (  # noqa: F401 - re-exported
    FORMULA_GUARDS, FORMULA_STARTS, NUMBER as _NUMBER, write_csv,
)

if TYPE_CHECKING:
    import pandas as pd

# Formats a ``TableWriter`` takes ``pa.Table`` chunks for (no pandas on their path).
ARROW_TABLES = ("parquet", "arrow", "csv")


def write_table(frame: pd.DataFrame, path, fmt: str, *, formula_guard: str = "all",
                schema=None) -> Path:
    """Write ``frame`` to ``path`` as ``fmt`` atomically; returns the path written."""
    with open_writer(path, fmt, formula_guard=formula_guard, schema=schema) as writer:
        writer.write(frame)
    return writer.path


def open_writer(path, fmt: str, *, formula_guard: str = "all", schema=None):
    """The writer for ``fmt``: a ``TableWriter`` for the streamed formats, else the
    format's own module. ``schema`` (labels, levels, SPSS attributes) serves .sav."""
    if fmt == "sav":
        from engine.io.sav_writer import SavWriter

        return SavWriter(path, schema=schema)
    if fmt == "xlsx":
        from engine.io.xlsx_writer import XlsxWriter

        return XlsxWriter(path, schema=schema)
    return TableWriter(path, fmt, formula_guard=formula_guard)




def neutralise_formulas(chunk: pd.DataFrame, guard: str = "all") -> pd.DataFrame:
    """Text cells starting with ``= + - @`` TAB or CR get a leading ``'``.

    ``guard="non_numeric"`` leaves text that reads as a number (``-12``, ``+3.5e2``) alone;
    ``"off"`` changes nothing. Numeric columns are never touched: a number is not a formula.
    """
    if guard == "off":
        return chunk
    import pandas as pd

    changed = {}
    for col in chunk.columns:
        values = chunk[col]
        if isinstance(values.dtype, pd.CategoricalDtype):
            values = values.astype(object)
        elif not (values.dtype == object or pd.api.types.is_string_dtype(values.dtype)):
            continue
        text = values.where(values.map(lambda v: isinstance(v, str), na_action="ignore")
                            .fillna(False).astype(bool))
        risky = text.str.startswith(FORMULA_STARTS).fillna(False).astype(bool)
        if guard == "non_numeric":
            risky &= ~text.str.match(_NUMBER).fillna(False).astype(bool)
        if risky.any():
            changed[col] = values.mask(risky, "'" + text)
    return chunk.assign(**changed) if changed else chunk


# Rows pyarrow encodes at a time (its default is 1,024). Each batch of a dictionary
# column with statistics costs a hash of its codes, and each batch ends with a page-size
# check: 64 times fewer of both is 10-20% of the Parquet encoding of the wide benchmark
# tables, and pages still close near pyarrow's 1 MB (docs/formats.md, "Parquet out").
PARQUET_WRITE_BATCH_ROWS = 65_536


def parquet_options(schema: pa.Schema) -> dict:
    """The ``pq.ParquetWriter`` options of our Parquet files (docs/formats.md).

    Statistics (min, max, null count) for every column but the categoricals: a synthetic
    file's row groups each hold a random sample of the levels, so a categorical's min and
    max label never let a reader skip one, and pyarrow computes them from a hash of each
    batch's codes, a third of such a column's encoding time."""
    plain = [field.name for field in schema if not pa.types.is_dictionary(field.type)]
    return {"write_batch_size": PARQUET_WRITE_BATCH_ROWS, "write_statistics": plain}


class TableWriter:
    """Append frame chunks to one file; it appears at ``path`` only on a clean exit.

    >>> with TableWriter("out.parquet", "parquet") as w:
    ...     for chunk in chunks:
    ...         w.write(chunk)
    """

    max_rows = None                      # the streamed formats have no row limit

    def __init__(self, path, fmt: str, *, formula_guard: str = "all"):
        if fmt not in STREAMED:
            raise SimioError("simio_invalid_field",
                             f"format must be one of {', '.join(STREAMED)}; got {fmt!r}.")
        if formula_guard not in FORMULA_GUARDS:
            raise SimioError("simio_invalid_field", f"formula_guard must be one of "
                             f"{', '.join(FORMULA_GUARDS)}; got {formula_guard!r}.")
        self.path = Path(path)
        self.fmt = fmt
        self.formula_guard = formula_guard
        self.rows = 0
        self._file = None                # the atomic_write context; None outside `with`
        self._fh = None
        self._writer = None              # pq.ParquetWriter | ipc writer; None for csv
        self._columns: list | None = None
        self._dtypes: pd.Series | None = None
        self._schema: pa.Schema | None = None
        self._failed: BaseException | None = None

    def __enter__(self) -> "TableWriter":
        self._file = atomic_write(self.path)
        self._fh = self._file.__enter__()
        return self

    def write(self, chunk: pd.DataFrame) -> None:
        self.write_group([chunk])

    def write_group(self, chunks: list[pd.DataFrame]) -> None:
        """Write consecutive frames as one unit: one Parquet row group, one Arrow record
        batch, the same bytes as writing them concatenated (without the copy)."""
        if self._fh is None:
            raise RuntimeError("TableWriter.write called outside its `with` block")
        if self._failed is not None:
            raise RuntimeError("TableWriter: an earlier write failed; the file is abandoned")
        try:
            self._write(chunks)
        except BaseException as exc:
            self._failed = exc           # a half-written chunk must never be committed
            raise
        self.rows += sum(len(chunk) for chunk in chunks)

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

    def _write(self, chunks: list[pd.DataFrame]) -> None:
        tables = []
        for chunk in chunks:
            first = self._columns is None
            if isinstance(chunk, pa.Table):
                chunk = self._arrow_chunk(chunk, first)
                if self.fmt == "csv":
                    write_csv(self._fh, chunk, header=first, guard=self.formula_guard)
                else:
                    tables.append(chunk)
                continue
            if first:
                self._columns, self._dtypes = list(chunk.columns), chunk.dtypes
            else:
                chunk = self._conform(chunk)
            if self.fmt == "csv":
                chunk = neutralise_formulas(chunk, self.formula_guard)
                chunk.to_csv(self._fh, header=first, index=False, lineterminator="\n",
                             encoding="utf-8", mode="wb")
                continue
            table = pa.Table.from_pandas(chunk, schema=self._schema, preserve_index=False)
            if first:
                self._open(table.schema)
            tables.append(table.replace_schema_metadata(self._schema.metadata))
        if not tables:
            return
        table = pa.concat_tables(tables) if len(tables) > 1 else tables[0]
        if self.fmt == "arrow" and len(tables) > 1:
            table = table.combine_chunks()      # one record batch, as for one frame
        self._writer.write_table(table)

    def _open(self, schema: pa.Schema) -> None:
        self._schema = schema
        if self.fmt == "parquet":           # each format's module loads only for it
            import pyarrow.parquet as pq

            self._writer = pq.ParquetWriter(self._fh, schema, **parquet_options(schema))
        else:
            import pyarrow.ipc as ipc

            self._writer = ipc.new_file(self._fh, schema)

    def _arrow_chunk(self, table: pa.Table, first: bool) -> pa.Table:
        """A ``pa.Table`` chunk, checked against the first chunk's schema (names and types;
        the Arrow file writer itself refuses a dictionary replaced mid-file)."""
        if self.fmt not in ARROW_TABLES:
            raise ValueError(f"a {self.fmt} writer takes DataFrame chunks, not pa.Table")
        if first:
            self._columns, self._dtypes = list(table.column_names), {}
            if self.fmt == "csv":
                self._schema = table.schema
            else:
                self._open(table.schema)
            return table
        if not table.schema.equals(self._schema):
            raise ValueError(f"chunk schema {table.schema} differs from the first chunk's "
                             f"{self._schema}")
        return table

    def _conform(self, chunk: pd.DataFrame) -> pd.DataFrame:
        """Later chunks must match the first one's columns; categoricals its levels.

        Arrow's IPC file format cannot replace a dictionary mid-file, so a categorical
        chunk is recoded to the first chunk's categories (refused if a value would be lost).
        """
        import pandas as pd

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
        file, self._file = self._file, None
        file.__exit__(None, None, None)          # fsync, chmod 0600, rename, fsync the dir

    def _abort(self) -> None:
        try:
            if self._writer is not None:
                self._writer.close()
        except Exception:  # noqa: BLE001 - already failing; removing the temp matters more
            pass
        self._writer = None
        file, self._file = self._file, None
        if file is not None:
            error = RuntimeError("TableWriter aborted")
            file.__exit__(RuntimeError, error, None)     # removes the temporary file


def read_output(path, fmt: str) -> pd.DataFrame:
    """Read back a file these writers wrote (.sav with its value labels applied)."""
    import pandas as pd

    if fmt == "parquet":
        return pd.read_parquet(path)
    if fmt == "arrow":
        import pyarrow.ipc as ipc

        with ipc.open_file(path) as reader:
            return reader.read_all().to_pandas()
    if fmt == "csv":
        return pd.read_csv(path)
    if fmt == "sav":
        import pyreadstat

        return pyreadstat.read_sav(str(path), apply_value_formats=True)[0]
    if fmt == "xlsx":
        return pd.read_excel(path, engine="openpyxl")
    raise SimioError("simio_invalid_field", f"unknown format {fmt!r}; use one of {list(FORMATS)}")
