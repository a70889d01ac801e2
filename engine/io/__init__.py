"""Readers (CSV/TSV, Parquet, Excel .xlsx, SPSS .sav) and atomic writers (Parquet, CSV, Arrow,
SPSS .sav, Excel .xlsx).

``read_table(source)`` detects the format from the content and returns a ``RawTable``;
every failure is a ``SimioError`` with a stable code. ``write_table`` writes atomically.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from engine._lazy import lazy_attributes

if TYPE_CHECKING:
    import pandas as pd


@dataclass
class RawTable:
    """A seed table as read, before cleaning.

    ``frame`` holds the values (SPSS value labels already applied, user-missing codes
    already missing). Metadata the cleaner needs travels beside it.
    """

    frame: pd.DataFrame
    source_format: str                                        # csv | parquet | xlsx | sav
    variable_labels: dict[str, str] = field(default_factory=dict)    # column -> label
    value_labels: dict[str, dict[str, str]] = field(default_factory=dict)  # column -> code->label
    level_order: dict[str, list[str]] = field(default_factory=dict)  # column -> levels in order
    ordered: set[str] = field(default_factory=set)            # columns the source marks ordinal
    # column -> what a writer of the same format needs to give it back as it came (SPSS:
    # measure, display width, declared missing values, codes; see engine/io/spss.py)
    formats: dict[str, dict] = field(default_factory=dict)
    source: dict = field(default_factory=dict)                # e.g. {"sheet", "header_row"}
    # what reading decided (sheet, skipped rows...), engine.cleaning's decision shape
    read_decisions: list[dict] = field(default_factory=list)


# Readers (pandas, the format libraries) and writers load on first use, so importing a
# module of this package (engine.io.atomic, engine.io.writers) costs only that module.
_LAZY = {"read_table": "engine.io.readers", "CONTENT_TYPES": "engine.io.writers",
         "EXTENSIONS": "engine.io.writers", "FORMATS": "engine.io.writers",
         "TableWriter": "engine.io.writers", "write_table": "engine.io.writers"}


__getattr__ = lazy_attributes("engine.io", _LAZY)


__all__ = ["CONTENT_TYPES", "EXTENSIONS", "FORMATS", "RawTable", "TableWriter", "read_table",
           "write_table"]
