"""CSV / TSV / semicolon- and pipe-separated text.

The delimiter is sniffed from the head only (the header and the first records), then pandas'
C parser reads the whole file straight from disk. Encodings are tried in the order detect.py
gives (UTF-8, then cp1252, then Latin-1): a later non-UTF-8 byte makes pandas fail and the
next codec is tried, so one bad byte past the sniffed head is still handled.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import warnings

import pandas as pd

from engine.errors import SimioError
from engine.io import RawTable
from engine.io import limits
from engine.io.detect import Sniffed, head_text, open_binary, unreadable

DELIMITERS = (",", ";", "\t", "|")

# Tokens read as missing. Deliberately not "None", "none", "na" or "-": they are real
# answers in survey data ("How many cars? None"). A lone "." (SAS/Stata/SPSS exports) is
# missing only in a column that is otherwise numeric; see tidy_text_columns in readers.py.
NA_TOKENS = ["", "NA", "N/A", "n/a", "#N/A", "NaN", "nan", "null", "NULL", "<NA>"]

_SAMPLE_RECORDS = 200
_RAGGED = re.compile(r"Expected (\d+) fields in line (\d+), saw (\d+)")
_DECIMAL_COMMA = re.compile(r"^-?\d+,\d+$")
_DECIMAL_POINT = re.compile(r"^-?\d+\.\d+$")


def read_delimited(source, sniffed: Sniffed) -> RawTable:
    sample = head_text(sniffed)
    sep = sniff_delimiter(sample)
    records = _records(sample, sep)
    _check_ragged(records, sniffed, sep)
    decimal = "," if sep == ";" and _uses_decimal_comma(records) else "."
    for encoding in sniffed.encodings:
        try:
            frame = _read(source, sniffed, sep, decimal, encoding)
        except UnicodeError:
            continue
        return RawTable(frame=frame, source_format="csv")
    raise SimioError("simio_unreadable_file",     # unreachable in practice: latin-1 decodes all
                     f"{sniffed.name} is text in an unknown encoding; save it as UTF-8.")


def sniff_delimiter(sample: str) -> str:
    """The candidate giving the widest header that the first records agree with."""
    best, best_score = ",", (0.0, 1)
    for sep in DELIMITERS:
        widths = [n for n, _, _ in _records(sample, sep)]
        if not widths or widths[0] < 2:
            continue
        rows = widths[1:]
        agree = sum(w == widths[0] for w in rows) / len(rows) if rows else 1.0
        if (agree, widths[0]) > best_score:
            best, best_score = sep, (agree, widths[0])
    return best


def _records(sample: str, sep: str) -> list[tuple[int, int, list[str]]]:
    """(field count, physical line it ends on, fields) of the first records.

    Blank lines are skipped, as pandas skips them.
    """
    reader = csv.reader(io.StringIO(sample), delimiter=sep, quotechar='"', strict=False)
    out = []
    try:
        for row in reader:
            if not row or (len(row) == 1 and not row[0].strip()):
                continue
            out.append((len(row), reader.line_num, row))
            if len(out) >= _SAMPLE_RECORDS:
                break
    except csv.Error:
        pass                     # odd quoting in the sample: pandas gives the real verdict
    return out


def _check_ragged(records, sniffed: Sniffed, sep: str) -> None:
    # pandas silently drops the extra fields when the *first* data row is the long one,
    # so the sampled records are checked here; pandas catches later ones.
    if not records:
        return
    header = records[0][0]
    checked = records[1:-1] if sniffed.truncated_head else records[1:]
    for width, line, _ in checked:
        if width > header:
            raise _ragged(sniffed.name, line, width, header, sep)


def _ragged(name: str, line: int | str, width: int | str, header: int | str, sep: str):
    return SimioError("simio_unreadable_file",
                      f"{name}: line {line} has {width} fields but the header has {header}; "
                      f"quote values that contain the delimiter {sep!r}.")


def _uses_decimal_comma(records) -> bool:
    """Semicolon files from European locales write 1,5 for 1.5."""
    fields = [f.strip() for _, _, row in records[1:] for f in row]
    commas = sum(bool(_DECIMAL_COMMA.match(f)) for f in fields)
    points = sum(bool(_DECIMAL_POINT.match(f)) for f in fields)
    return commas > 0 and points == 0


def header_fields(source, sniffed: Sniffed, sep: str, encoding: str) -> list[str]:
    """The header record, read from at most ``MAX_HEADER_BYTES`` (+1) bytes.

    Raises UnicodeError when ``encoding`` cannot decode it (the caller tries the next one).
    """
    with open_binary(source, sniffed.name) as fh:
        prefix = fh.read(limits.MAX_HEADER_BYTES + 1)
    cut = len(prefix) > limits.MAX_HEADER_BYTES
    text = codecs.getincrementaldecoder(encoding)(errors="strict").decode(prefix, final=not cut)
    reader = csv.reader(io.StringIO(text), delimiter=sep, quotechar='"', strict=False)
    try:
        for row in reader:
            if row and not (len(row) == 1 and not row[0].replace("\ufeff", "").strip()):
                break
        else:
            return []
    except csv.Error:
        return []                 # odd quoting: pandas reports it with its own words
    if cut and reader.line_num >= text.count("\n") + 1:
        raise limits.header_too_long(sniffed.name)     # the record runs into the cut
    return row


def _read(source, sniffed: Sniffed, sep: str, decimal: str, encoding: str) -> pd.DataFrame:
    fields = header_fields(source, sniffed, sep, encoding)
    limits.check_columns(sniffed.name, len(fields))
    # Our own names (pandas' rules, linear time) and a row cap from the cell budget, so
    # pandas never mangles a huge header nor allocates past the budget.
    names = limits.unique_names(fields) if fields else None
    max_rows = limits.MAX_CELLS // max(1, len(fields))
    with open_binary(source, sniffed.name) as fh, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", pd.errors.ParserWarning)
        try:
            frame = pd.read_csv(
                fh, sep=sep, decimal=decimal, encoding=encoding, quotechar='"',
                keep_default_na=False, na_values=NA_TOKENS,
                index_col=False,          # never turn a surplus first field into the index
                skip_blank_lines=True, engine="c",
                names=names, header=0 if names else "infer", nrows=max_rows + 1,
            )
        except pd.errors.EmptyDataError as exc:
            raise SimioError("simio_empty_file",
                             f"{sniffed.name} has no header row and no data.") from exc
        except pd.errors.ParserError as exc:
            match = _RAGGED.search(str(exc))
            if match:
                header, line, width = match.groups()
                raise _ragged(sniffed.name, line, width, header, sep) from exc
            if "EOF inside string" in str(exc):
                raise SimioError("simio_unreadable_file",
                                 f"{sniffed.name} has a quoted value that is never closed "
                                 f"(pandas: {str(exc).split(':')[-1].strip()}); look for a "
                                 "stray double quote.") from exc
            raise unreadable(sniffed.name, "delimited text", exc) from exc
    limits.check_cells(sniffed.name, len(frame) if len(frame) <= max_rows else max_rows + 1,
                       max(1, len(fields)))
    for warning in caught:
        if "does not match length of data" in str(warning.message):
            raise SimioError("simio_unreadable_file",
                             f"{sniffed.name}: a data row has more fields than the header; "
                             f"quote values that contain the delimiter {sep!r}.")
    return frame
