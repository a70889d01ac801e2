"""Hostile seed files from issue 10, built in memory so tests and benchmarks share them."""

from __future__ import annotations

import io
import zipfile

import openpyxl

REPEATED_NAMES_64K = b"a," * 32768                  # 64 KB header: 32,768 duplicate names
ONE_LINE_5MB = b"a," * (5 * 1024 * 1024 // 2)       # 5 MB, no line break at all


def far_cells_xlsx(rows: int = 3) -> bytes:
    """A tiny workbook whose cells sit in columns A and XFD only."""
    wb = openpyxl.Workbook()
    ws = wb.active
    for r in range(1, rows + 1):
        ws.cell(row=r, column=1, value=f"v{r}")
        ws.cell(row=r, column=16384, value=r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def xlsx_bomb(expanded_bytes: int) -> bytes:
    """A valid-looking workbook whose first sheet XML inflates to ``expanded_bytes``: the
    real parts of a one-cell workbook, with the sheet padded by whitespace inside <sheetData>
    (deflate shrinks it about a thousandfold)."""
    wb = openpyxl.Workbook()
    wb.active["A1"] = "x"
    src = io.BytesIO()
    wb.save(src)
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(src.getvalue())) as zin, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename != "xl/worksheets/sheet1.xml":
                zout.writestr(info.filename, data)
                continue
            head, tail = data.split(b"<sheetData>", 1)
            with zout.open(info.filename, "w", force_zip64=True) as member:
                member.write(head + b"<sheetData>")
                chunk = b" " * (1024 * 1024)
                left = expanded_bytes
                while left > 0:
                    member.write(chunk[:left])
                    left -= len(chunk)
                member.write(tail)
    return out.getvalue()
