"""Excel .xlsx output: one sheet, a header row, typed cells (openpyxl, write-only mode).

Numbers are number cells (whole-number columns as integers), categorical levels and text
are text cells, booleans are boolean cells, dates and datetimes date cells, missing values
empty cells. A text value starting with ``=`` is stored as text, never as a formula: the
cell's type is set explicitly, so nothing in the file is executed and the value is
unchanged (no apostrophe is added, unlike CSV). The clock readings openpyxl writes (ZIP
entry times, the document's created/modified) are pinned, so the same rows give the same
bytes.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import re
import zipfile

import numpy as np
import pandas as pd

from engine import calendar

from engine.formats import MAX_ROWS as FORMAT_MAX_ROWS
from engine.io.whole_file import WholeFileWriter

SHEET_TITLE = "synthetic"
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
FIXED_TIME = b"1980-01-01T00:00:00Z"
_STAMPS = re.compile(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*(</dcterms:)")
MAX_ROWS = FORMAT_MAX_ROWS["xlsx"]       # Excel's 1,048,576 rows less the header row


class XlsxWriter(WholeFileWriter):
    max_rows = MAX_ROWS

    def _save(self, frame: pd.DataFrame, fh) -> None:
        from openpyxl import Workbook
        from openpyxl.cell import WriteOnlyCell

        book = Workbook(write_only=True)
        sheet = book.create_sheet(SHEET_TITLE)
        sheet.append([str(c) for c in frame.columns])
        columns = [_cells(frame[c]) for c in frame.columns]
        for row in zip(*columns):
            cells = []
            for value in row:
                if isinstance(value, str) and value.startswith("="):
                    cell = WriteOnlyCell(sheet, value=value)
                    cell.data_type = "s"         # text, not a formula
                    value = cell
                cells.append(value)
            sheet.append(cells)
        raw = io.BytesIO()
        book.save(raw)
        fh.write(reproducible_zip(raw.getvalue()))


def reproducible_zip(data: bytes) -> bytes:
    """The workbook with its clock readings pinned (ZIP entry times, docProps/core.xml's
    created/modified, which openpyxl sets to now): same rows, same bytes."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = src.read(info)
            if info.filename == "docProps/core.xml":
                body = _STAMPS.sub(rb"\g<1>" + FIXED_TIME + rb"\g<2>", body)
            dst.writestr(zipfile.ZipInfo(info.filename, date_time=ZIP_EPOCH), body,
                         compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


def _cells(values: pd.Series) -> list:
    """One Python value per cell: int/float/bool/str/date/datetime, None for missing."""
    wall = calendar.as_wall_clock(values)        # Excel has no Arrow types or time zones
    if wall is not None:
        values = wall
    if isinstance(values.dtype, pd.CategoricalDtype):
        values = values.astype(object)
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        return [None if pd.isna(v) else v.to_pydatetime() for v in values]
    if pd.api.types.is_bool_dtype(values.dtype) and not values.isna().any():
        return [bool(v) for v in values]
    if pd.api.types.is_numeric_dtype(values.dtype):
        array = values.to_numpy(dtype="float64", na_value=np.nan)
        finite = array[np.isfinite(array)]
        whole = bool(len(finite)) and bool(np.all(finite == np.round(finite))) \
            and bool(np.all(np.abs(finite) < 2**53))
        return [None if not math.isfinite(v) else int(v) if whole else float(v)
                for v in array.tolist()]
    return [_plain(v) for v in values.tolist()]


def _plain(value):
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA \
            or value is pd.NaT:
        return None
    if isinstance(value, (np.generic,)):
        return value.item()
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if isinstance(value, (str, int, float, bool, dt.date, dt.datetime)):
        return value
    return str(value)
