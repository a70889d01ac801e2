"""Excel .xlsx: one sheet, its header row found under title/notes rows, via openpyxl.

Before openpyxl sees a sheet, ``sheet_parts`` and ``check_sheet`` bound what it would cost:
the ZIP's declared uncompressed sizes (a 1 MB file once expanded to 1 GiB) and, streaming the
sheet's XML, its columns and used range (one cell in column XFD made pandas pad every row
to 16,384 cells). See engine/io/limits.py. The same stream collects the merged ranges.

Which sheet: ``sheet`` (a name, or a 0-based index) when given, else the first sheet that
holds a table (engine/io/sheet_layout.py says what a table is), else an error listing the
sheets. The rows above the header, merged ranges filled in and notes below the table are
reported in ``RawTable.read_decisions``; only the table between them is read.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from xml.etree import ElementTree

import numpy as np
import pandas as pd

from engine.errors import SimioError
from engine.io import RawTable, limits, sheet_layout
from engine.io.delimited import NA_TOKENS
from engine.io.detect import Sniffed, open_binary, unreadable

_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_CELL_REF = re.compile(r"^([A-Z]{1,3})(\d+)$")
MAX_MERGED_RANGES = 10_000      # a real sheet has a handful; each one is filled in Python


def read_excel(source, sniffed: Sniffed, *, sheet=None, header_row: int | None = None) -> RawTable:
    """``sheet``: name or 0-based index; ``header_row``: 1-based row number of the header."""
    try:
        with open_binary(source, sniffed.name) as fh:
            parts = sheet_parts(fh, sniffed.name)
            fh.seek(0)
            return _read_chosen(fh, sniffed.name, parts, sheet, header_row)
    except (MemoryError, SimioError):
        raise
    except Exception as exc:  # noqa: BLE001
        # A damaged workbook surfaces as BadZipFile, KeyError (missing part), XML parse
        # errors or ValueError, with no common base; to the user they all mean "corrupt".
        raise unreadable(sniffed.name, "an Excel workbook", exc) from exc


def _read_chosen(fh, name, parts, sheet, header_row) -> RawTable:
    import openpyxl

    names = [title for title, _ in parts]
    wanted = resolve_sheet(sheet, names, name) if sheet is not None else None
    book = openpyxl.load_workbook(fh, read_only=True, data_only=True)
    fallback = None                  # the best lesser table so far (Layout.rank < 2)
    try:
        for index, (title, part) in enumerate(parts):
            if wanted is not None and index != wanted:
                continue
            merged = check_sheet(fh, name, part)
            rows = _values(book[title])
            layout = sheet_layout.find_table(rows, header_row=header_row, merged=merged)
            if wanted is not None and layout is None:
                raise SimioError("simio_no_data_rows", f"sheet {title!r} of {name} holds no "
                                 "table (a header row followed by data rows).")
            if wanted is not None:
                return _table(layout, title, names, chosen_by="given")
            if layout is not None and layout.rank == 2:
                return _table(layout, title, names, chosen_by="first sheet holding a table")
            if layout is not None and (fallback is None or layout.rank > fallback[0].rank):
                fallback = (layout, title)
    finally:
        book.close()
    if fallback is not None:
        return _table(*fallback, names, chosen_by="no sheet holds a table of two or more "
                                                  "columns")
    listing = ", ".join(repr(n) for n in names) or "none"
    raise SimioError("simio_no_table_found", f"no sheet of {name} holds a table (a header row "
                     f"followed by data rows); its sheets: {listing}.", sheets=names)


def resolve_sheet(sheet, names: list[str], name: str) -> int:
    """A sheet given by name (exact, then case-insensitive) or by 0-based index."""
    text = str(sheet)
    if text in names:
        return names.index(text)
    folded = [n.casefold() for n in names]
    if text.casefold() in folded:
        return folded.index(text.casefold())
    if text.strip().isdigit() and int(text) < len(names):
        return int(text)
    listing = ", ".join(f"{i}: {n!r}" for i, n in enumerate(names))
    raise SimioError("simio_sheet_not_found", f"{name} has no sheet {text!r}; its sheets are "
                     f"{listing} (give a name or a 0-based index).", sheets=names)


def _values(worksheet) -> list[list]:
    """Cell values as pandas' openpyxl reader gives them: whole floats as int, None as ""."""
    rows = []
    for row in worksheet.iter_rows(values_only=True):
        rows.append(["" if v is None else int(v) if isinstance(v, float) and v.is_integer()
                     else v for v in row])
    return rows


def _table(layout: "sheet_layout.Layout", title, names, chosen_by) -> RawTable:
    from pandas.io.parsers import TextParser

    frame = TextParser([layout.header] + layout.rows, header=0, keep_default_na=False,
                       na_values=NA_TOKENS).read()
    frame = _drop_blank_rows(frame)
    table = RawTable(frame=frame, source_format="xlsx")
    if len(names) > 1 or layout.header_row != 1:
        # said in the cleaning summary only when there was a choice: a one-sheet workbook
        # with its header on top gives the contract's summary, nothing more
        table.source = {"sheet": title, "header_row": layout.header_row}
    if len(names) > 1 or chosen_by == "given":
        table.read_decisions.append(sheet_layout.reading_decision(
            "select_sheet", f"sheet {title!r} read ({chosen_by}); sheets: "
                            + ", ".join(repr(n) for n in names)))
    table.read_decisions.extend(layout.decisions)
    return table


def _drop_blank_rows(frame: pd.DataFrame) -> pd.DataFrame:
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
    return frame


def sheet_parts(fh, name: str) -> list[tuple[str, str]]:
    """(sheet name, ZIP part) in workbook order, after the ZIP's expanded-size check."""
    with zipfile.ZipFile(fh) as archive:
        limits.check_expanded(name, sum(info.file_size for info in archive.infolist()))
        parts = _sheet_parts(archive)
    if not parts:
        raise SimioError("simio_unreadable_file", f"{name} looks like an Excel workbook but "
                         "lists no worksheet.")
    return parts


def check_sheet(fh, name: str, part: str) -> list[tuple[int, int, int, int]]:
    """Stream one sheet's XML, stopping at the first cell past a limit; returns its merged
    ranges as (first row, first col, last row, last col), 1-based."""
    with zipfile.ZipFile(fh) as archive:
        if part not in archive.namelist():
            return []                   # openpyxl reports the missing part as corrupt
        with archive.open(part) as xml:
            return _scan_sheet(xml, name)


def _sheet_parts(archive: zipfile.ZipFile) -> list[tuple[str, str]]:
    names = set(archive.namelist())
    try:
        book = ElementTree.fromstring(archive.read("xl/workbook.xml"))
        rels = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    except (KeyError, ElementTree.ParseError):
        return [("Sheet1", "xl/worksheets/sheet1.xml")] if "xl/worksheets/sheet1.xml" in names \
            else []
    targets = {}
    for rel in rels.iter(f"{_PKG_REL}Relationship"):
        target = rel.get("Target", "")
        targets[rel.get("Id")] = (target.lstrip("/") if target.startswith("/")
                                  else posixpath.normpath(posixpath.join("xl", target)))
    return [(sheet.get("name", ""), targets[sheet.get(f"{_REL}id")])
            for sheet in book.iter(f"{_MAIN}sheet")
            if targets.get(sheet.get(f"{_REL}id")) in names]


def _scan_sheet(xml, name: str) -> list[tuple[int, int, int, int]]:
    max_row = max_col = row = 0
    col = 0
    merged = []
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
                elif tag == f"{_MAIN}mergeCell" and len(merged) < MAX_MERGED_RANGES:
                    span = _range(elem.get("ref"))
                    if span is not None:
                        merged.append(span)
            elif tag == f"{_MAIN}row":
                elem.clear()            # keep memory flat: rows are not needed afterwards
    except ElementTree.ParseError:
        pass                            # malformed XML: openpyxl's error says it better
    return merged


def _range(ref: str | None) -> tuple[int, int, int, int] | None:
    first, _, last = (ref or "").partition(":")
    a, b = _CELL_REF.match(first), _CELL_REF.match(last or first)
    if a is None or b is None:
        return None
    return int(a.group(2)), _column(first, 0), int(b.group(2)), _column(last or first, 0)


def _column(ref: str | None, default: int) -> int:
    match = _CELL_REF.match(ref or "")
    if match is None:
        return default
    index = 0
    for letter in match.group(1):
        index = index * 26 + ord(letter) - 64
    return index


def check_upload_sheet(path, sniffed, sheet) -> None:
    """400 before any work for a sheet the upload cannot have (not .xlsx, or not in the
    workbook's list of sheets)."""
    if sniffed.fmt != "xlsx":
        raise SimioError("simio_invalid_field", f"sheet applies to an .xlsx seed only; "
                         f"{sniffed.name} is not a workbook.")
    try:
        with open(path, "rb") as fh:
            names = [title for title, _ in sheet_parts(fh, sniffed.name)]
    except SimioError:
        raise
    except Exception as exc:  # noqa: BLE001 - a damaged ZIP, as the reader would say
        raise unreadable(sniffed.name, "an Excel workbook", exc) from exc
    resolve_sheet(sheet, names, sniffed.name)
