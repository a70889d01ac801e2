"""Bounds on what a seed file may cost to read: checked before the expensive work.

pandas' C parser is quadratic in the number of header fields (a 64 KB header of 32k names
took 12 s, 5 MB never finished), and an .xlsx is a ZIP whose sheet XML may expand a
thousandfold or place one cell in column XFD (16,384 columns of padding per row). So:

- ``MAX_COLUMNS`` fields in a header or sheet row;
- ``MAX_HEADER_BYTES`` for the header line of delimited text (a file without line breaks
  is refused after reading this much, not parsed);
- ``MAX_CELLS`` rows x columns (for .xlsx: the used range, which is what pandas allocates);
- ``MAX_ZIP_ENTRIES`` parts in a ZIP, read from its end record before ``zipfile`` parses
  the central directory (sniffing runs in the upload request);
- ``MAX_XLSX_EXPANDED_BYTES``: the sum of the workbook parts' declared uncompressed sizes.
  ``zipfile`` never yields more than a member's declared size (it stops there and checks
  the CRC), so checking the declaration bounds what is actually inflated.

Parquet and SPSS files declare their shape in a footer or header, so those readers check
columns and cells from it before reading any data. Every refusal is a ``SimioError``
whose detail names the limit.
"""

from __future__ import annotations

from collections import Counter

from engine.errors import SimioError

MAX_COLUMNS = 2_000
MAX_HEADER_BYTES = 1024 * 1024
MAX_CELLS = 50_000_000
MAX_XLSX_EXPANDED_BYTES = 512 * 1024 * 1024
MAX_ZIP_ENTRIES = 10_000       # a workbook has dozens of parts; zipfile parses each in Python


def check_columns(name: str, count: int) -> None:
    if count > MAX_COLUMNS:
        raise SimioError("simio_too_many_columns",
                         f"{name} has {count:,} columns; at most {MAX_COLUMNS:,} are accepted.")


def check_cells(name: str, rows: int, columns: int) -> None:
    if rows * columns > MAX_CELLS:
        raise SimioError("simio_too_many_cells",
                         f"{name} spans {rows:,} rows x {columns:,} columns; at most "
                         f"{MAX_CELLS:,} cells are accepted.")


def header_too_long(name: str) -> SimioError:
    return SimioError("simio_line_too_long",
                      f"{name}: the header line is longer than {MAX_HEADER_BYTES:,} bytes "
                      f"(or the file has no line breaks); at most {MAX_HEADER_BYTES:,} bytes "
                      "are accepted.")


def check_expanded(name: str, declared: int) -> None:
    if declared > MAX_XLSX_EXPANDED_BYTES:
        raise SimioError("simio_archive_too_large",
                         f"{name} expands to {declared:,} bytes; at most "
                         f"{MAX_XLSX_EXPANDED_BYTES:,} bytes of workbook parts are accepted.")


def check_zip_entries(name: str, entries: int | None) -> None:
    if entries is not None and entries > MAX_ZIP_ENTRIES:
        raise SimioError("simio_archive_too_large",
                         f"{name} is a ZIP of {entries:,} parts; at most {MAX_ZIP_ENTRIES:,} "
                         "are accepted.")


def zip_entry_count(fh) -> int | None:
    """The entry count a ZIP's end-of-central-directory record declares (ZIP64 too), from
    its last 64 KiB; None when there is no such record (zipfile then reports damage)."""
    fh.seek(0, 2)
    size = fh.tell()
    fh.seek(max(0, size - 65_557))
    tail = fh.read()
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) < at + 22:
        return None
    count = int.from_bytes(tail[at + 10:at + 12], "little")
    if count == 0xFFFF:                      # ZIP64: the real count is in its own record
        at64 = tail.rfind(b"PK\x06\x06", 0, at)
        if at64 >= 0 and len(tail) >= at64 + 40:
            count = int.from_bytes(tail[at64 + 32:at64 + 40], "little")
    return count


def unique_names(fields: list[str]) -> list[str] | None:
    """Column names exactly as pandas' C parser makes them (``Unnamed: i`` for blanks, then
    ``a``, ``a.1``, ``a.2``, skipping a suffix that is a name in the header), in linear time.

    pandas asks ``col in header`` (a list scan) for every candidate; a counter of the names
    currently in the header answers the same question in O(1). None when a blank's
    ``Unnamed: i`` is also spelled out in the header: pandas orders that case its own way,
    so the caller lets pandas name it (cheap enough within ``MAX_COLUMNS``).
    """
    names = [f if f != "" else f"Unnamed: {i}" for i, f in enumerate(fields)]
    literal = set(fields)
    if any(f == "" and names[i] in literal for i, f in enumerate(fields)):
        return None
    present = Counter(names)
    counts: dict[str, int] = {}
    for i, col in enumerate(names):
        old = col
        seen = counts.get(col, 0)
        while seen > 0:
            counts[old] = seen + 1
            col = f"{old}.{seen}"
            seen = seen + 1 if present[col] > 0 else counts.get(col, 0)
        if col != old:
            present[old] -= 1
            present[col] += 1
            names[i] = col
        counts[col] = seen + 1
    return names
