"""``read_table``: one entry point for every seed format.

detect.py decides the format from the content; one small module per format reads it; the
checks that hold for every format (no data, column names, blank text, categorical order)
live here so each reader stays a thin wrapper around its library.
"""

from __future__ import annotations

import pandas as pd

from engine.errors import SimioError
from engine.io import RawTable
from engine.io.delimited import read_delimited
from engine.io.detect import sniff, unreadable
from engine.io.excel import read_excel
from engine.io.parquet import read_parquet
from engine.io.spss import read_sav

_READERS = {"csv": read_delimited, "parquet": read_parquet, "xlsx": read_excel, "sav": read_sav}
_KINDS = {"csv": "delimited text", "parquet": "Parquet", "xlsx": "an Excel workbook",
          "sav": "an SPSS .sav file"}


def read_table(source, *, filename: str | None = None, sheet=None,
               header_row: int | None = None) -> RawTable:
    """Read a seed file (a path, or the bytes of an upload) into a ``RawTable``.

    ``filename`` names the file in error details and serves as a format hint when the
    content alone cannot decide. ``sheet`` (name or 0-based index) and ``header_row``
    (1-based) choose where an .xlsx table is (engine/io/excel.py); other formats refuse
    them. Every failure is a ``SimioError``: simio_empty_file, simio_no_data_rows,
    simio_unsupported_file_format, simio_unreadable_file, simio_sheet_not_found or
    simio_no_table_found.
    """
    sniffed = sniff(source, filename)
    layout = {k: v for k, v in (("sheet", sheet), ("header_row", header_row)) if v is not None}
    if layout and sniffed.fmt != "xlsx":
        raise SimioError("simio_invalid_field", f"{' and '.join(layout)} only apply to an "
                         f"Excel .xlsx seed; {sniffed.name} is {_KINDS[sniffed.fmt]}.")
    try:
        table = _READERS[sniffed.fmt](source, sniffed, **layout)
    except (SimioError, MemoryError):
        raise
    except Exception as exc:  # noqa: BLE001 - no library exception may escape as itself
        raise unreadable(sniffed.name, _KINDS[sniffed.fmt], exc) from exc

    frame = table.frame
    if frame.shape[1] == 0:
        raise SimioError("simio_no_data_rows", f"{sniffed.name} contains no columns.")
    if frame.shape[0] == 0:
        names = ", ".join(map(str, frame.columns[:5])) + (", ..." if frame.shape[1] > 5 else "")
        raise SimioError("simio_no_data_rows",
                         f"{sniffed.name} has a header ({names}) but no data rows.")
    frame.columns = [str(c) for c in frame.columns]
    if sniffed.fmt in ("csv", "xlsx"):
        tidy_text_columns(frame)
    _record_categoricals(table)
    return table


def tidy_text_columns(frame: pd.DataFrame) -> None:
    """Blank text is missing; a lone "." is missing where the rest of the column is numbers.

    pandas keeps a column as text when one cell is " " or "." (SAS/Stata's missing mark),
    which would turn a numeric column into a categorical one.
    """
    for col in frame.columns:
        values = frame[col]
        if not (values.dtype == object or pd.api.types.is_string_dtype(values.dtype)):
            continue
        try:
            stripped = values.str.strip()      # non-strings in an object column give NaN
        except AttributeError:
            continue                           # an object column holding no text at all
        blank = stripped.eq("").fillna(False).astype(bool)
        dot = stripped.eq(".").fillna(False).astype(bool)
        if not (blank.any() or dot.any()):
            continue
        numeric = pd.to_numeric(values.mask(blank | dot), errors="coerce")
        if numeric.notna().sum() == values.mask(blank | dot).notna().sum():
            frame[col] = _narrow(numeric)
        else:
            frame[col] = values.mask(blank)


def _narrow(numeric: pd.Series) -> pd.Series:
    """Whole numbers without gaps become int64, matching what pandas gives a clean column."""
    if numeric.notna().all() and (numeric == numeric.round()).all():
        return numeric.astype("int64")
    return numeric.astype("float64")


def _record_categoricals(table: RawTable) -> None:
    """Categoricals from Parquet (or SPSS) carry their level order and ordered flag."""
    for col in table.frame.columns:
        dtype = table.frame[col].dtype
        if isinstance(dtype, pd.CategoricalDtype):
            table.level_order.setdefault(col, [str(c) for c in dtype.categories])
            if dtype.ordered:
                table.ordered.add(col)
