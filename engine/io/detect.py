"""Decide a seed file's format from its content.

Only the first ``HEAD_BYTES`` (and, for Parquet, the last four bytes) are read, so sniffing
a 500 MB file costs 64 KB. The file name's extension is only a tie-break hint: uploads are
often renamed, and a Parquet file called ``seed.csv`` is still Parquet.
"""

from __future__ import annotations

import codecs
import io
import os
import re
import zipfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from engine.errors import SimioError

HEAD_BYTES = 64 * 1024

PARQUET_MAGIC = b"PAR1"
ZIP_MAGIC = b"PK\x03\x04"
SAV_MAGICS = (b"$FL2", b"$FL3")          # $FL3 is the zlib-compressed .zsav variant

# Formats we recognise only to say plainly what they are and how to get a table out.
_KNOWN_OTHERS = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"%PDF", "a PDF document"),
    (b"\x1f\x8b", "gzip-compressed data (decompress it first)"),
    (b"\xd0\xcf\x11\xe0", "a legacy Office file such as .xls (save it as .xlsx)"),
    (b"ARROW1", "an Arrow IPC file (save it as Parquet)"),
    (b"7z\xbc\xaf", "a 7-Zip archive"),
)

_TEXT_CONTROLS = set(range(0x20)) - {0x09, 0x0A, 0x0C, 0x0D}
# An absolute POSIX or Windows path inside a library's message (pyarrow names the file).
_ABSOLUTE_PATH = re.compile(r"(?<![\w.])(?:[A-Za-z]:)?[\\/](?:[^\s'\"\\/]+[\\/])+[^\s'\":,]*")


@dataclass(frozen=True)
class Sniffed:
    fmt: str                          # csv | parquet | xlsx | sav
    name: str                         # how messages refer to the file
    head: bytes                       # the first HEAD_BYTES bytes
    encodings: tuple[str, ...] = ()   # csv only: codecs to try, in order
    truncated_head: bool = False      # the file is longer than ``head``


def display_name(source, filename: str | None) -> str:
    if filename:
        return filename
    if isinstance(source, (str, os.PathLike)):
        return Path(source).name
    return "the uploaded file"


@contextmanager
def open_binary(source, name: str):
    """A binary file object over a path or bytes; a missing path is a SimioError."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        yield io.BytesIO(source)          # BytesIO shares an immutable buffer, no copy
        return
    if not isinstance(source, (str, os.PathLike)):
        raise TypeError(f"source must be a path or bytes, not {type(source).__name__}")
    try:
        handle = open(source, "rb")
    except OSError as exc:
        raise SimioError("simio_unreadable_file",
                         f"{name} could not be opened: {exc.strerror or exc}") from exc
    with handle:
        yield handle


def sniff(source, filename: str | None = None) -> Sniffed:
    name = display_name(source, filename)
    hint = Path(filename or (source if isinstance(source, (str, os.PathLike)) else "")).suffix
    hint = hint.lower().lstrip(".")
    with open_binary(source, name) as fh:
        head = fh.read(HEAD_BYTES)
        more = bool(fh.read(1))
        if not head.strip() and _rest_is_blank(fh, more):
            raise SimioError("simio_empty_file", f"{name} is empty (no bytes or only whitespace).")
        if head.startswith(PARQUET_MAGIC):
            # A missing footer magic means truncation; the Parquet reader reports it.
            return Sniffed("parquet", name, head, truncated_head=more)
        if head.startswith(SAV_MAGICS):
            return Sniffed("sav", name, head, truncated_head=more)
        if head.startswith(ZIP_MAGIC):
            return Sniffed(_zip_kind(fh, head, hint, name), name, head, truncated_head=more)
    for magic, what in _KNOWN_OTHERS:
        if head.startswith(magic):
            raise SimioError("simio_unsupported_file_format",
                             f"{name} is {what}, not a table; upload CSV, Parquet, .xlsx or .sav.")
    encodings = _text_encodings(head, more)
    if encodings is None:
        if hint in ("parquet", "xlsx", "sav", "zsav"):
            # Named like a binary format we read but lacking its signature: most likely damaged.
            raise SimioError("simio_unreadable_file",
                             f"{name} is named like a .{hint} file but does not start with the "
                             f".{hint} signature; it is corrupt or not really .{hint}.")
        raise SimioError("simio_unsupported_file_format",
                         f"{name} is binary data that is not Parquet, Excel .xlsx or SPSS .sav, "
                         "and not text (CSV/TSV).")
    bom_only = head.removeprefix(codecs.BOM_UTF8).strip() == b"" and not more
    if bom_only or (encodings[0] == "utf-16" and not _decode(head, "utf-16").strip() and not more):
        raise SimioError("simio_empty_file", f"{name} is empty (no bytes or only whitespace).")
    return Sniffed("csv", name, head, encodings, truncated_head=more)


def head_text(sniffed: Sniffed) -> str:
    """The decoded head, without a partial character or line cut at HEAD_BYTES."""
    text = _decode(sniffed.head, sniffed.encodings[0])
    if sniffed.truncated_head and "\n" in text:
        text = text[: text.rfind("\n")]
    return text


def unreadable(name: str, kind: str, exc: BaseException) -> SimioError:
    """Wrap a library's exception: say what the file looked like and what went wrong."""
    reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    reason = _ABSOLUTE_PATH.sub(name, reason)      # never show where the server keeps files
    return SimioError("simio_unreadable_file",
                      f"{name} looks like {kind} but is truncated or corrupt: {reason}")


def _rest_is_blank(fh, more: bool) -> bool:
    """Whitespace-only past the head too? Scanned in chunks, stops at the first content."""
    while more:
        chunk = fh.read(HEAD_BYTES)
        if not chunk:
            break
        if chunk.strip():
            return False
    return True


def _zip_kind(fh, head: bytes, hint: str, name: str) -> str:
    """An .xlsx is a ZIP holding ``xl/workbook.xml``; other ZIPs are not tables we read."""
    from engine.io import limits

    limits.check_zip_entries(name, limits.zip_entry_count(fh))
    try:
        fh.seek(0)
        with zipfile.ZipFile(fh) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        # No readable central directory: a truncated ZIP. Call it xlsx when its local
        # headers or its name say so, so the Excel reader reports it as corrupt.
        if hint in ("xlsx", "xlsm") or b"xl/" in head or b"[Content_Types].xml" in head:
            return "xlsx"
        raise SimioError("simio_unsupported_file_format",
                         f"{name} is a damaged ZIP archive, not a recognisable Excel workbook.")
    if "xl/workbook.xml" in names:
        return "xlsx"
    if "xl/workbook.bin" in names:
        what = "an Excel binary workbook (.xlsb); save it as .xlsx"
    elif "content.xml" in names:
        what = "an OpenDocument file (.ods); save it as .xlsx or CSV"
    else:
        what = "a ZIP archive that is not an Excel .xlsx workbook"
    raise SimioError("simio_unsupported_file_format", f"{name} is {what}.")


def _text_encodings(head: bytes, more: bool) -> tuple[str, ...] | None:
    """Codecs to try for delimited text, or None when the bytes are not text."""
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return ("utf-16",)                      # Excel's "Unicode text" export
    if head.startswith(codecs.BOM_UTF8):
        return ("utf-8-sig",)
    if b"\x00" in head:
        return None
    # A few stray control bytes happen in real exports; many mean binary data.
    controls = sum(1 for b in head if b in _TEXT_CONTROLS)
    if controls > max(1, len(head) // 100):
        return None
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=not more)
    except UnicodeDecodeError:
        # cp1252 first (Windows exports: curly quotes, euro); latin-1 decodes anything.
        return ("cp1252", "latin-1")
    return ("utf-8-sig", "cp1252", "latin-1")   # utf-8-sig also reads plain UTF-8


def _decode(head: bytes, encoding: str) -> str:
    return codecs.getincrementaldecoder(encoding)(errors="replace").decode(head, final=False)
