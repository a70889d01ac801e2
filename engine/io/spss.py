"""SPSS .sav / .zsav via pyreadstat.

User-missing codes are read as codes (``user_missing=True``) and blanked here, so the
labels of missing codes ("Don't know" = 9) can be kept out of the level order while the
full code -> label map still reaches ``RawTable.value_labels``.

A labelled column becomes a pandas Categorical of its labels, levels in code order and
ordered when the SPSS measure is "ordinal". A numeric column whose labels cover only some
observed values (a 0-10 scale with its end points labelled) keeps its numeric codes.

Labelled scales: a labelled code outside the scale's contiguous range whose label is not
substantive ("Don't know" = 99, "Refused"; ``NON_SUBSTANTIVE``, listed in docs/formats.md)
is not a scale point. It stays a level of its own, after the scale, and since an ordered
type would rank it above the top point the column is typed as a factor; the decision is
recorded. Declared missing codes are blanked as before.

What a .sav writer needs to give each column back as it came (measure, display width,
format, declared missing values, whether codes are strings) goes to ``RawTable.formats``;
engine/io/sav_writer.py reads it back from the model's schema.
"""

from __future__ import annotations

import io
import os
import re

import numpy as np
import pandas as pd

from engine.errors import SimioError
from engine.io import RawTable, limits
from engine.io.detect import Sniffed, unreadable
from engine.io.sheet_layout import reading_decision

# Labels that answer no scale question (matched case-insensitively, apostrophes optional).
NON_SUBSTANTIVE = (
    "don't know", "do not know", "dont know", "dk", "not sure", "can't say", "cannot say",
    "refused", "refusal", "prefer not to say", "prefer not to answer", "rather not say",
    "not applicable", "n/a", "na", "no answer", "not answered", "not stated", "no opinion",
    "missing", "skipped", "none of these",
)
_PUNCT = re.compile(r"[\s.\-_()\[\]]+")


def read_sav(source, sniffed: Sniffed) -> RawTable:
    import pyreadstat      # here, not at the top: `simio generate` never reads a .sav

    where = os.fspath(source) if isinstance(source, (str, os.PathLike)) else io.BytesIO(source)
    try:
        # The header first (cheap): the column and cell limits hold before the data is read.
        _, header = pyreadstat.read_sav(where, metadataonly=True)
        limits.check_columns(sniffed.name, header.number_columns or 0)
        limits.check_cells(sniffed.name, header.number_rows or 0, header.number_columns or 0)
        if isinstance(where, io.BytesIO):
            where.seek(0)
        frame, meta = pyreadstat.read_sav(where, user_missing=True,
                                          dates_as_pandas_datetime=True)
    except (MemoryError, SimioError):
        raise
    except Exception as exc:  # noqa: BLE001 - ReadstatError, PyreadstatError, OSError...
        raise unreadable(sniffed.name, "an SPSS .sav file", exc) from exc

    table = RawTable(frame=frame, source_format="sav")
    table.variable_labels = {c: str(l) for c, l in meta.column_names_to_labels.items() if l}
    table.ordered = {c for c, m in meta.variable_measure.items() if m == "ordinal" and c in frame}
    table.formats = {col: _format_of(meta, col) for col in frame.columns}
    for col in frame.columns:
        missing = _missing_mask(frame[col], meta.missing_ranges.get(col, []))
        frame[col] = frame[col].mask(missing)
    for col, labels in meta.variable_value_labels.items():
        if col in frame:
            _apply_labels(table, col, labels, meta.missing_ranges.get(col, []))
    for col in frame.columns:
        if not isinstance(frame[col].dtype, pd.CategoricalDtype):
            frame[col] = _as_int_if_whole(frame[col])
    return table


def _code(value) -> str:
    """SPSS stores codes as doubles: 1.0 is code "1"."""
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    return str(value)


def _missing_mask(values: pd.Series, ranges) -> pd.Series:
    mask = pd.Series(False, index=values.index)
    if pd.api.types.is_string_dtype(values.dtype):
        # SPSS has no system-missing string: a blank string is a missing answer.
        mask |= values.astype("string").str.strip().fillna("").eq("")
    for rng in ranges:
        lo, hi = rng["lo"], rng["hi"]
        if values.dtype.kind in "iuf":
            mask |= values.between(lo, hi)
        else:
            mask |= values.eq(lo)
    return mask.fillna(False).astype(bool)


def _format_of(meta, col: str) -> dict:
    """The SPSS attributes of one variable, as plain JSON (they travel in the model)."""
    missing = []
    for rng in meta.missing_ranges.get(col, []):
        lo, hi = rng["lo"], rng["hi"]
        missing.append(lo if lo == hi else {"lo": lo, "hi": hi})
    return {"spss": {"measure": meta.variable_measure.get(col, "unknown"),
                     "display_width": int(meta.variable_display_width.get(col) or 0),
                     "format": meta.original_variable_types.get(col),
                     "string": meta.readstat_variable_types.get(col) == "string",
                     "missing": missing}}


def is_non_substantive(label: str) -> bool:
    text = _PUNCT.sub(" ", str(label).casefold().replace("\u2019", "'")).strip()
    return text in NON_SUBSTANTIVE or text.replace("'", "") in NON_SUBSTANTIVE


def _off_scale(labels: dict, codes: list) -> list:
    """Codes with a non-substantive label lying outside the contiguous whole-number range
    of the other (scale) codes; [] when the other codes are not such a range."""
    numeric = [k for k in codes if isinstance(k, (int, float, np.number))]
    if len(numeric) != len(codes):
        return []
    candidates = [k for k in codes if is_non_substantive(labels[k])]
    scale = sorted(k for k in codes if k not in candidates)
    if len(scale) < 2 or not all(float(k).is_integer() for k in scale):
        return []
    lo, hi = scale[0], scale[-1]
    if hi - lo + 1 != len(scale):
        return []
    return [k for k in candidates if k < lo or k > hi]


def _note_off_scale_numbers(table: RawTable, col: str, labels: dict, observed: set) -> None:
    """A partially labelled numeric scale stays numeric, so an observed non-substantive
    code beyond its values (0-10, 99 = "Don't know") would be modelled as a number: say so,
    with the fix (declare it missing in SPSS)."""
    off = [k for k in sorted(observed & set(labels)) if is_non_substantive(labels[k])]
    rest = [v for v in observed if v not in off]
    if not off or not rest:
        return
    lo, hi = min(rest), max(rest)
    off = [k for k in off if k < lo or k > hi]
    if off:
        listing = ", ".join(f"{_code(k)} = {labels[k]!r}" for k in off)
        table.read_decisions.append(reading_decision(
            "off_scale_numbers", f"{listing} lies outside the scale's values "
            f"{_code(lo)}..{_code(hi)} but the column is numeric (only some values are "
            "labelled), so it is modelled as a number; declare it user-missing in SPSS to "
            "have it blank", column=col))


def _apply_labels(table: RawTable, col: str, labels: dict, ranges) -> None:
    values = table.frame[col]
    table.value_labels[col] = {_code(k): str(v) for k, v in labels.items()}
    observed = set(values.dropna().unique())
    if not observed <= set(labels):
        _note_off_scale_numbers(table, col, labels, observed)
        return                                        # partially labelled scale: keep codes
    missing_codes = {k for k in labels
                     if _missing_mask(pd.Series([k]), ranges).iloc[0]}
    codes = sorted(k for k in labels if k not in missing_codes)
    off = _off_scale(labels, codes) if col in table.ordered else []
    scale = [k for k in codes if k not in off]
    if off:
        table.ordered.discard(col)
        listing = ", ".join(f"{_code(k)} = {labels[k]!r}" for k in off)
        table.read_decisions.append(reading_decision(
            "off_scale_levels", f"{listing}: not a scale point (a non-substantive label "
            f"outside the scale {_code(scale[0])}..{_code(scale[-1])}); kept as a level of its "
            "own after the scale, so the column is a factor rather than ordered", column=col))
        codes = scale + off
    order = list(dict.fromkeys(str(labels[k]) for k in codes))
    mapped = values.map({k: str(v) for k, v in labels.items()})
    table.frame[col] = pd.Categorical(mapped, categories=order, ordered=col in table.ordered)
    table.level_order[col] = order


def _as_int_if_whole(values: pd.Series) -> pd.Series:
    """SPSS numerics are doubles; whole-number columns without gaps read as int64, as in CSV."""
    if values.dtype.kind != "f" or values.isna().any() or values.empty:
        return values
    finite = np.isfinite(values.to_numpy())
    if finite.all() and (values == np.round(values)).all() and values.abs().max() < 2**53:
        return values.astype("int64")
    return values
