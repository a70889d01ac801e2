"""CSV rows from a ``pa.Table`` (``engine.sampling.assembly.to_arrow``), without pandas.

The bytes are those ``DataFrame.to_csv`` writes for the same rows as a frame (what
``TableWriter`` wrote before generation skipped pandas): Python's ``csv`` writer with
minimal quoting and ``\\n`` line ends; floats as numpy's shortest repr (``47.0``,
``1e-05``), missing cells empty, booleans ``True``/``False``, dates ``2024-03-01`` and
datetimes as ``str(datetime)`` (``2024-03-01 14:30:00``, a fraction only where there is
one, the offset for a zoned column). Text is only ever a dictionary's labels, so the
formula guard runs once per level, not once per cell.
"""

from __future__ import annotations

import csv
import io
import re

import numpy as np
import pyarrow as pa

# CSV formula injection (OWASP "CSV Injection"): a spreadsheet runs a cell that starts
# with one of these as a formula, so such text cells get a leading apostrophe.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
FORMULA_GUARDS = ("all", "non_numeric", "off")
NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


def guarded(text: str, guard: str) -> str:
    """``text`` with a leading ``'`` if a spreadsheet would run it as a formula."""
    if guard == "off" or not text.startswith(FORMULA_STARTS):
        return text
    if guard == "non_numeric" and NUMBER.match(text):
        return text
    return "'" + text


def _data(array: pa.Array) -> np.ndarray:
    """A fixed-width array's values as numpy, read from its data buffer (whatever sits
    under a null); ``to_numpy``/``fill_null`` with nulls would import pandas."""
    if pa.types.is_boolean(array.type):
        bits = np.frombuffer(array.buffers()[1], dtype=np.uint8)
        return np.unpackbits(bits, bitorder="little")[array.offset:array.offset + len(array)
                                                      ].astype(bool)
    dtype = array.type.to_pandas_dtype()
    return np.frombuffer(array.buffers()[1], dtype=dtype)[array.offset:
                                                          array.offset + len(array)]


def _missing(array: pa.Array) -> np.ndarray:
    """Where ``array`` is null, from its validity bitmap."""
    bits = np.frombuffer(array.buffers()[0], dtype=np.uint8)
    valid = np.unpackbits(bits, bitorder="little")[array.offset:array.offset + len(array)]
    return ~valid.astype(bool)


def _cells(column: pa.ChunkedArray, guard: str) -> list[str]:
    array = column.combine_chunks()
    missing = _missing(array) if array.null_count else None
    kind = array.type
    if pa.types.is_dictionary(kind):
        labels = [guarded(text, guard) for text in array.dictionary.to_pylist()]
        codes = _data(array.indices).astype(np.int64)
        if missing is not None:
            codes = np.where(missing, -1, codes)            # -1: the empty cell
        return np.array(labels + [""], dtype=object)[codes].tolist()
    if pa.types.is_date(kind) or pa.types.is_timestamp(kind):
        return ["" if value is None else str(value) for value in array.to_pylist()]
    if pa.types.is_boolean(kind):
        text = np.where(_data(array), "True", "False").astype(object)
    else:
        text = _data(array).astype(str).astype(object)
    if missing is not None:
        text[missing] = ""
    return text.tolist()


def write_csv(fh, table: pa.Table, *, header: bool, guard: str = "all") -> None:
    """Append ``table``'s rows (and the header first, if asked) to the binary ``fh``."""
    text = io.TextIOWrapper(fh, encoding="utf-8", newline="", write_through=True)
    try:
        writer = csv.writer(text, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
        if header:
            writer.writerow(table.column_names)
        writer.writerows(zip(*(_cells(table.column(k), guard)
                               for k in range(table.num_columns))))
        text.flush()
    finally:
        text.detach()                     # the caller owns (and closes) fh
