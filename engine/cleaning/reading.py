"""Step: carry what reading decided and what the source format said about each column.

Reading an .xlsx chooses a sheet and skips title/notes rows, reading a .sav sets aside
non-substantive codes (engine/io); those decisions open the cleaning decisions, named by
cleaned column. Each column's source-format attributes (``RawTable.formats``: SPSS
measure, width, missing declarations) go onto its schema ``Column`` so they travel in the
model file to the writers (engine/io/sav_writer.py).
"""

from __future__ import annotations

from dataclasses import replace

from .result import Table

STEP = "read"


def carry_reading(table: Table, *, auto_clean: bool = True) -> tuple[Table, list[dict]]:
    raw = table.raw
    cleaned = {source: name for name, source in table.sources.items()}
    decisions = [dict(d, column=cleaned.get(d["column"], d["column"]))
                 for d in raw.read_decisions]
    columns = {name: replace(column, formats=dict(raw.formats[column.source_name]))
               for name, column in table.columns.items() if column.source_name in raw.formats}
    return table.update(columns, {}), decisions
