"""Excel .xlsx: the first sheet, first row as the header, via openpyxl (read-only mode).

Before openpyxl sees the workbook, ``check_workbook`` bounds what it would cost: the ZIP's
declared uncompressed sizes (a 1 MB file once expanded to 1 GiB) and, streaming the first
sheet's XML, its columns and used range (one cell in column XFD made pandas pad every row
to 16,384 cells). See engine/io/limits.py.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from xml.etree import ElementTree

import numpy as np
import pandas as pd

from engine.errors import SimioError
from engine.io import RawTable, limits
from engine.io.delimited import NA_TOKENS
from engine.io.detect import Sniffed, open_binary, unreadable

_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_CELL_REF = re.compile(r"^([A-Z]{1,3})(\d+)$")


def read_excel(source, sniffed: Sniffed) -> RawTable:
    try:
        with open_binary(source, sniffed.name) as fh:
            check_workbook(fh, sniffed.name)
            fh.seek(0)
            frame = pd.read_excel(fh, sheet_name=0, engine="openpyxl",
                                  keep_default_na=False, na_values=NA_TOKENS)
    except (MemoryError, SimioError):
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


def check_workbook(fh, name: str) -> None:
    """Refuse a workbook whose parts or first sheet exceed the limits, reading the sheet
    as a stream (memory stays flat) and stopping at the first cell past a limit."""
    with zipfile.ZipFile(fh) as archive:
        limits.check_expanded(name, sum(info.file_size for info in archive.infolist()))
        sheet = _first_sheet(archive)
        if sheet is None:
            return                      # openpyxl reports the missing part as corrupt
        with archive.open(sheet) as xml:
            _scan_sheet(xml, name)


def _first_sheet(archive: zipfile.ZipFile) -> str | None:
    """The part holding the workbook's first sheet (the one ``sheet_name=0`` reads)."""
    names = set(archive.namelist())
    try:
        book = ElementTree.fromstring(archive.read("xl/workbook.xml"))
        first = book.find(f"{_MAIN}sheets/{_MAIN}sheet")
        rels = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    except (KeyError, ElementTree.ParseError):
        first = rels = None
    if first is not None and rels is not None:
        rid = first.get(f"{_REL}id")
        for rel in rels.iter(f"{_PKG_REL}Relationship"):
            if rel.get("Id") == rid:
                target = rel.get("Target", "")
                part = (target.lstrip("/") if target.startswith("/")
                        else posixpath.normpath(posixpath.join("xl", target)))
                if part in names:
                    return part
    return "xl/worksheets/sheet1.xml" if "xl/worksheets/sheet1.xml" in names else None


def _scan_sheet(xml, name: str) -> None:
    max_row = max_col = row = 0
    col = 0
    try:
        for _event, elem in ElementTree.iterparse(xml, events=("start", "end")):
            tag = elem.tag
            if _event == "start":
                if tag == f"{_MAIN}row":
                    r = elem.get("r") or ""
                    row = int(r) if r.isdigit() else row + 1
                    col = 0
                elif tag == f"{_MAIN}c":
                    col = _column(elem.get("r"), col + 1)
                    if col > max_col:
                        max_col = col
                        limits.check_columns(name, max_col)
                    if row > max_row:
                        max_row = row
                    limits.check_cells(name, max_row, max_col)
            elif tag == f"{_MAIN}row":
                elem.clear()            # keep memory flat: rows are not needed afterwards
    except ElementTree.ParseError:
        return                          # malformed XML: openpyxl's error says it better


def _column(ref: str | None, default: int) -> int:
    match = _CELL_REF.match(ref or "")
    if match is None:
        return default
    index = 0
    for letter in match.group(1):
        index = index * 26 + ord(letter) - 64
    return index
