"""The cleaner's working table and its final result.

Every step is a pure function ``step(table, *, auto_clean) -> (table, decisions)``: it reads
a ``Table``, returns a new one (never mutating the old frame or columns) and the list of
decisions it took. ``Table`` is keyed by cleaned column name from the first step on.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from engine.io import RawTable
from engine.schema import Column, Schema

# The public drop reasons (the contract's cleaning summary vocabulary).
DROP_REASONS = (
    "identifier_like_column",
    "unsupported_datetime",
    "constant_categorical",
    "rare_category",
    "low_variance",
    "redundant_numeric",
    "other",
)

SUMMARY_KEYS = ("input_rows", "input_columns", "clean_rows", "clean_columns", "dropped_columns")


def map_distinct(series: pd.Series, func) -> pd.Series:
    """``series.map(func)`` over non-missing values, calling ``func`` once per distinct value
    (seeds have many rows and few distinct values); missing stays NaN, dtype object.

    Values are grouped by Python type first, because hashing treats ``True == 1 == 1.0``.
    """
    present = series.dropna()
    out = pd.Series(np.empty(len(present), dtype=object), index=present.index)
    # Types are compared by identity: ``array == numpy.str_`` (the class) makes numpy try
    # numpy.str_'s own array methods on the array and raise.
    types = ([type(v) for v in present.to_numpy(dtype=object)]
             if present.dtype == object and not _all_text(present) else None)
    for kind in (dict.fromkeys(types) if types is not None else [None]):
        part = present if kind is None else present[[t is kind for t in types]]
        try:
            codes, uniques = pd.factorize(part)
        except TypeError:  # unhashable values (lists, dicts): map one by one
            out[part.index] = part.map(func).to_numpy(dtype=object)
            continue
        out[part.index] = np.array([func(v) for v in uniques], dtype=object)[codes]
    return out.reindex(series.index)


def _all_text(values: pd.Series) -> bool:
    """Every value is a ``str`` (one C pass): text never hashes equal to a number or a
    bool, so such a column needs no grouping by type (a Python call per row)."""
    return pd.api.types.infer_dtype(values, skipna=False) == "string"


def decision(step: str, column: str | None, action: str, detail: str) -> dict:
    """One audit entry; ``column`` is the cleaned name (None for table-wide changes)."""
    return {"step": step, "column": column, "action": action, "detail": detail}


@dataclass(frozen=True)
class Table:
    frame: pd.DataFrame            # retained columns only, named by cleaned name
    columns: dict[str, Column]     # cleaned name -> Column, in frame order (type "" until typed)
    sources: dict[str, str]        # cleaned name -> source header, for EVERY input column
    dropped: tuple[tuple[str, str], ...]  # (cleaned name, public reason), in drop order
    raw: RawTable                  # the input, read only: labels and level order by source name
    relations: tuple = ()          # exact relations found (engine/cleaning/relations.py)
    text_min_count: int = 5        # free text: least seed count a value needs (free_text.py)

    def drop(self, reasons: dict[str, str]) -> "Table":
        """Drop columns (cleaned name -> public reason)."""
        if not reasons:
            return self
        assert set(reasons.values()) <= set(DROP_REASONS), reasons
        keep = [c for c in self.frame.columns if c not in reasons]
        return replace(
            self,
            frame=self.frame[keep],
            columns={c: self.columns[c] for c in keep},
            dropped=self.dropped + tuple(reasons.items()),
        )

    def update(self, columns: dict[str, Column], values: dict[str, pd.Series]) -> "Table":
        """Replace some columns' metadata and/or values, keeping column order."""
        frame = self.frame
        if values:
            # Not ``assign(**values)``: a column may be called ``self``. Copy-on-write keeps
            # the previous table's frame untouched.
            frame = frame.copy(deep=False)
            for name, series in values.items():
                frame[name] = series
        return replace(self, frame=frame, columns={**self.columns, **columns})


@dataclass
class CleanResult:
    frame: pd.DataFrame
    schema: Schema
    summary: dict
    decisions: list[dict]
    relations: list[dict] = field(default_factory=list)  # for the model, not public


def build_result(table: Table, input_rows: int, decisions: list[dict]) -> CleanResult:
    positions = {name: i for i, name in enumerate(table.sources)}
    dropped = sorted(table.dropped, key=lambda item: positions[item[0]])
    summary = {
        "input_rows": int(input_rows),
        "input_columns": len(table.sources),
        "clean_rows": int(len(table.frame)),
        "clean_columns": len(table.columns),
        "dropped_columns": [{"name": table.sources[n], "reason": r} for n, r in dropped],
    }
    return CleanResult(
        frame=table.frame,
        schema=Schema(list(table.columns.values())),
        summary=summary,
        decisions=decisions,
        relations=[dict(r) for r in table.relations],
    )
