"""SPSS .sav output (pyreadstat): codes with value labels, as the seed .sav had them.

Per column, from the model's schema (``engine.schema.Column``):

- categorical: written as numeric codes with value labels. A column read from a .sav gets
  its original codes back (each level's code from ``value_labels``; declared-missing codes
  keep their labels too); any other categorical gets codes 1..k in level order with the
  levels as labels. Text without labels (free text, a .sav string variable) stays text;
- numeric: written as numbers (with their value labels, for a partially labelled scale);
- variable label, measure level (nominal/ordinal/scale), display width, print format and
  declared missing values come from ``Column.formats["spss"]`` (a .sav seed); otherwise
  the measure follows the type (ordered -> ordinal, categorical -> nominal, numeric ->
  scale) and whole-number columns print as F8.0.

Reproducible: the header's creation stamp is fixed (``fix_creation_stamp``), so the same
model, rows and seed give the same bytes.

Names: SPSS variable names start with a letter (or @ # $) and have at most 64 bytes; a
cleaned name that does not (``_x``) is written as ``v_x``.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile

import numpy as np
import pandas as pd

from engine import calendar

from engine.errors import SimioError
from engine.io.whole_file import WholeFileWriter

MEASURES = ("nominal", "ordinal", "scale")
TEXT_TYPES = ("character", "string")
_SPSS_NAME = re.compile(r"^[A-Za-z@#$][A-Za-z0-9_.@#$]{0,63}$")
# The file header's creation date ("dd Mon yy") and time ("hh:mm:ss") follow the record
# type (4 bytes), product name (60) and six counts/flags (28 bytes): offset 92.
_STAMP_AT = 92
FIXED_STAMP = b"01 Jan 8000:00:00"


class SavWriter(WholeFileWriter):
    def _save(self, frame: pd.DataFrame, fh) -> None:
        import pyreadstat

        data, options = spss_table(frame, self.column)
        # pyreadstat writes to a path: a private temporary beside the target, copied into
        # the atomic handle (so the usual fsync/rename/0600 rules hold) and removed.
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".sav.tmp",
                                   dir=self.path.parent)
        os.close(fd)
        try:
            pyreadstat.write_sav(data, tmp, **options)
            fix_creation_stamp(tmp)
            with open(tmp, "rb") as src:
                shutil.copyfileobj(src, fh)
        except pyreadstat.PyreadstatError as exc:
            raise SimioError("simio_unsupported_output_format",
                             f"the table cannot be written as SPSS .sav: {exc}") from exc
        finally:
            os.unlink(tmp)


def fix_creation_stamp(path) -> None:
    """Same rows, same bytes: the header's creation date and time (written from the clock)
    become a fixed stamp, as a reproducible build pins its timestamps."""
    with open(path, "r+b") as fh:
        head = fh.read(_STAMP_AT + len(FIXED_STAMP))
        if head[:4] in (b"$FL2", b"$FL3") and len(head) == _STAMP_AT + len(FIXED_STAMP):
            fh.seek(_STAMP_AT)
            fh.write(FIXED_STAMP)


def spss_table(frame: pd.DataFrame, column_of) -> tuple[pd.DataFrame, dict]:
    """The frame as SPSS codes, and pyreadstat.write_sav's keyword arguments."""
    data, names = {}, {}
    options = {"column_labels": {}, "variable_value_labels": {}, "missing_ranges": {},
               "variable_measure": {}, "variable_display_width": {}, "variable_format": {}}
    for name in frame.columns:
        column = column_of(name)
        out = spss_name(str(name), names)
        values, labels = _codes(frame[name], column)
        data[out] = values
        spss = ((column.formats or {}).get("spss") if column is not None else None) or {}
        if column is not None and column.label:
            options["column_labels"][out] = column.label
        if labels:
            options["variable_value_labels"][out] = labels
        measure = spss.get("measure")
        options["variable_measure"][out] = (measure if measure in MEASURES
                                            else _measure(column, values))
        if spss.get("display_width"):
            options["variable_display_width"][out] = int(spss["display_width"])
        fmt = spss.get("format")
        if fmt and str(fmt).upper().startswith("A") == (values.dtype == object):
            options["variable_format"][out] = str(fmt)
        elif column is not None and column.is_integer and values.dtype == "float64" \
                and not labels and values.abs().max() < 1e7:
            options["variable_format"][out] = "F8.0"      # whole numbers print as such
        if spss.get("missing") and (values.dtype == object) == bool(spss.get("string")):
            options["missing_ranges"][out] = list(spss["missing"])
    return pd.DataFrame(data, index=frame.index), {k: v for k, v in options.items() if v}


def spss_name(name: str, taken: dict) -> str:
    out = name if _SPSS_NAME.match(name) else "v_" + re.sub(r"[^A-Za-z0-9_]", "_", name)
    out = out[:64]
    base, k = out, 2
    while out.lower() in taken:              # SPSS names are case-insensitive
        out = f"{base[:60]}_{k}"
        k += 1
    taken[out.lower()] = name
    return out


def _codes(values: pd.Series, column) -> tuple[pd.Series, dict]:
    """(values as SPSS stores them, value labels code -> label)."""
    wall = calendar.as_wall_clock(values)
    if wall is not None:                 # dates -> SPSS DATE, datetimes -> DATETIME
        if pd.api.types.is_datetime64_any_dtype(wall.dtype):
            wall = wall.astype("datetime64[ns]")     # pyreadstat misreads other units
        return wall, {}
    categorical = isinstance(values.dtype, pd.CategoricalDtype) or (
        column is not None and column.kind == "categorical")
    value_labels = (column.value_labels if column is not None else None) or {}
    if not categorical:
        if pd.api.types.is_datetime64_any_dtype(values.dtype):
            return values, {}
        if pd.api.types.is_bool_dtype(values.dtype) or pd.api.types.is_numeric_dtype(
                values.dtype):
            return values.astype("float64"), _numeric_labels(value_labels)
        return values.astype(object).where(values.notna(), None), {}     # text
    levels = [str(v) for v in (column.levels if column is not None and column.levels
                               else values.astype("category").cat.categories)]
    spss_string = column is not None and ((column.formats or {}).get("spss") or {}).get(
        "string", False)
    if column is not None and (column.type in TEXT_TYPES or spss_string) and not value_labels:
        return values.astype(object).where(values.notna(), None), {}   # text stays text
    by_label: dict[str, object] = {}
    for code, label in value_labels.items():
        by_label.setdefault(str(label), code)
    string_codes = bool(value_labels) and spss_string
    codes = {}
    for i, level in enumerate(levels, start=1):
        code = by_label.get(level, level if value_labels else i)
        codes[level] = code if string_codes else _number(code, fallback=None)
    spare = max([c for c in codes.values() if isinstance(c, float)] + [0.0])
    for level, code in codes.items():        # an unlabelled level that is not a number
        if code is None:
            spare += 1
            codes[level] = spare
    text = values.astype(object).map(lambda v: None if pd.isna(v) else str(v))
    coded = text.map(codes)
    if not string_codes:
        coded = coded.astype("float64")
    labels = {(c if string_codes else _number(c)): str(l) for c, l in value_labels.items()}
    for level, code in codes.items():
        labels.setdefault(code, level)
    return coded, labels


def _numeric_labels(value_labels: dict) -> dict:
    out = {}
    for code, label in value_labels.items():
        number = _number(code, fallback=None)
        if number is not None:
            out[number] = str(label)
    return out


def _number(code, fallback=np.nan):
    try:
        return float(code)
    except (TypeError, ValueError):
        return fallback


def _measure(column, values: pd.Series) -> str:
    if column is not None and column.type == "ordered":
        return "ordinal"
    if column is not None and column.kind == "categorical":
        return "nominal"
    return "nominal" if values.dtype == object else "scale"
