"""Excel .xlsx output: one sheet, a header row, typed cells (openpyxl, write-only mode).

Numbers are number cells (whole-number columns as integers), categorical levels and text
are text cells, booleans are boolean cells, dates and datetimes date cells, missing values
empty cells. A text value starting with ``=`` is stored as text, never as a formula: the
cell's type is set explicitly, so nothing in the file is executed and the value is
unchanged (no apostrophe is added, unlike CSV).
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd

from engine.io.whole_file import WholeFileWriter

SHEET_TITLE = "synthetic"
MAX_ROWS = 1_048_575                 # Excel's 1,048,576 rows less the header row


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
        book.save(fh)


def _cells(values: pd.Series) -> list:
    """One Python value per cell: int/float/bool/str/datetime, None for missing."""
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
