"""Excel .xlsx: the first sheet, first row as the header, via openpyxl (read-only mode)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from engine.io import RawTable
from engine.io.delimited import NA_TOKENS
from engine.io.detect import Sniffed, open_binary, unreadable


def read_excel(source, sniffed: Sniffed) -> RawTable:
    try:
        with open_binary(source, sniffed.name) as fh:
            frame = pd.read_excel(fh, sheet_name=0, engine="openpyxl",
                                  keep_default_na=False, na_values=NA_TOKENS)
    except MemoryError:
        raise
    except Exception as exc:  # noqa: BLE001
        # A damaged workbook surfaces as BadZipFile, KeyError (missing part), XML parse
        # errors or ValueError, with no common base; to the user they all mean "corrupt".
        raise unreadable(sniffed.name, "an Excel workbook", exc) from exc
    # Rows left blank for layout are not observations. Their NaNs had turned whole-number
    # columns into floats, so those go back to int64.
    kept = frame.dropna(how="all")
    if len(kept) < len(frame):
        frame = kept.reset_index(drop=True)
        for col in frame.columns:
            values = frame[col]
            if (values.dtype.kind == "f" and values.notna().all()
                    and np.isfinite(values).all() and (values == values.round()).all()):
                frame[col] = values.astype("int64")
    return RawTable(frame=frame, source_format="xlsx")
