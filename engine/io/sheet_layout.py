"""Where the table is on a spreadsheet sheet: the header row, the data rows, the notes.

Report sheets put title and notes rows above the header ("Brand tracker wave 3", "Base: all
respondents", a blank row) and source notes below the table. Read as the header, a title
row named the columns ``Brand_tracker_wave_3``, ``Unnamed_1`` and turned every number
into text. The rule (docs/formats.md):

- a cell is *filled* when it holds anything but blank text;
- the **header** is the first row (within ``HEADER_SCAN_ROWS``) with at least
  ``MIN_HEADER_CELLS`` filled cells, at least ``FILLED_SHARE`` of the widest row's filled
  cells, and *followed by consistent rows*: of the next ``FOLLOW_ROWS`` non-blank rows,
  at least half have their filled cells under the header's span and at least ``FILLED_SHARE`` of
  the header's count filled. A sheet whose rows all hold one cell is a one-column table
  headed by its first filled row, and a sheet with one filled row is a header without data;
- **notes below** the table: a block after a blank row in which no row is consistent;
- **merged ranges** inside the table take their top-left value in every cell (a merged
  group label means the same value for each row it spans); merged titles above the
  header are skipped with their rows.

Every choice is returned as a reading decision, so the cleaning decisions show it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

HEADER_SCAN_ROWS = 50
MIN_HEADER_CELLS = 2
FILLED_SHARE = 0.5
FOLLOW_ROWS = 5


@dataclass
class Layout:
    header: list                 # header cells, within the header's column span
    rows: list[list]             # data rows, same span, notes removed
    header_row: int              # 1-based row number of the header on the sheet
    decisions: list[dict] = field(default_factory=list)

    @property
    def rank(self) -> int:
        """2: data under two or more columns; 1: a one-column table (a notes sheet looks
        so); 0: a header without data rows."""
        if not any(_cells(r) for r in self.rows):
            return 0
        return 2 if len(self.header) >= 2 else 1


def reading_decision(action: str, detail: str, column: str | None = None) -> dict:
    """A decision taken while reading (same shape as engine.cleaning's decisions)."""
    return {"step": "read", "column": column, "action": action, "detail": detail}


def _filled(value) -> bool:
    return not (value is None or (isinstance(value, str) and not value.strip()))


def _cells(row) -> list[int]:
    return [j for j, v in enumerate(row) if _filled(v)]


def find_table(rows: list[list], *, header_row: int | None = None,
               merged: list[tuple[int, int, int, int]] = ()) -> Layout | None:
    """The table on a sheet of ``rows`` (lists of cell values), or None if it holds none."""
    rows = [list(r) for r in rows]
    width = max((len(r) for r in rows), default=0)
    for r in rows:
        r.extend([""] * (width - len(r)))
    if header_row is not None:
        if not 1 <= header_row <= len(rows) or not _cells(rows[header_row - 1]):
            return None
        top = header_row - 1
        how = "given by --header-row / header_row"
    else:
        top = _find_header(rows)
        if top is None:
            return None
        how = "first row mostly filled and followed by consistent rows"
    decisions = []
    filled_merges = _fill_merged(rows, top, merged)
    cells = _cells(rows[top])
    lo, hi = cells[0], cells[-1]
    if filled_merges:
        decisions.append(reading_decision("fill_merged_cells", f"{filled_merges} merged "
                                          "range(s) in the table: each cell takes the "
                                          "range's top-left value"))
    if top:
        skipped = [_preview(rows[i]) for i in range(top) if _cells(rows[i])]
        decisions.append(reading_decision(
            "skip_rows", f"header on row {top + 1} ({how}); rows 1-{top} skipped"
            + (f": {'; '.join(skipped)}" if skipped else " (blank)")))
    body = [r[lo:hi + 1] for r in rows[top + 1:]]
    end = _notes_start(body, len(cells))
    if end < len(body):
        notes = [_preview(r) for r in body[end:] if _cells(r)]
        if notes:
            decisions.append(reading_decision(
                "skip_rows", f"notes below the table skipped (rows {top + 2 + end}-"
                             f"{top + 1 + len(body)}): {'; '.join(notes)}"))
    outside = sum(1 for r in rows[top:top + 1 + end] for j in _cells(r) if j < lo or j > hi)
    if outside:
        decisions.append(reading_decision("skip_cells", f"{outside} filled cell(s) outside "
                                          "the header's columns ignored"))
    return Layout(header=rows[top][lo:hi + 1], rows=body[:end], header_row=top + 1,
                  decisions=decisions)


def _find_header(rows: list[list]) -> int | None:
    counts = [len(_cells(r)) for r in rows]
    widest = max(counts, default=0)
    if widest == 0:
        return None
    first = next(i for i, c in enumerate(counts) if c)
    if widest == 1 or not any(counts[first + 1:]):
        return first                  # a one-column sheet, or a header without data rows
    for i in range(min(len(rows), HEADER_SCAN_ROWS)):
        n = counts[i]
        if n < MIN_HEADER_CELLS or n < FILLED_SHARE * widest:
            continue
        cells = _cells(rows[i])
        following = []                   # the next non-blank rows, without scanning them all
        for j in range(i + 1, len(rows)):
            if counts[j]:
                following.append(rows[j])
                if len(following) == FOLLOW_ROWS:
                    break
        consistent = sum(_consistent(r, cells[0], cells[-1], n) for r in following)
        if following and consistent * 2 >= len(following):
            return i
    return None


def _consistent(row, lo: int, hi: int, header_cells: int) -> bool:
    cells = _cells(row)
    inside = [j for j in cells if lo <= j <= hi]
    return len(inside) == len(cells) and len(cells) >= math.ceil(FILLED_SHARE * header_cells)


def _notes_start(body: list[list], header_cells: int) -> int:
    """Index of the first row of trailing notes in ``body`` (len(body) if there are none):
    the rows after the last blank row that no consistent row follows."""
    end = len(body)
    while end and not _cells(body[end - 1]):
        end -= 1
    cut = end
    for i in range(end - 1, -1, -1):
        row = body[i]
        if not _cells(row):
            cut = i                          # a blank row with only notes under it
        elif _consistent(row, 0, len(row) - 1, header_cells):
            break
    return cut if cut < end else len(body)


def _fill_merged(rows, top: int, merged) -> int:
    """Copy each merged range's top-left value into its cells, for ranges from the header
    row down (the header of a merged group spans its columns); returns how many."""
    count = 0
    for r1, c1, r2, c2 in merged:
        if r2 - 1 < top or r1 > len(rows) or c1 > len(rows[0]) or (r1, c1) == (r2, c2):
            continue
        value = rows[r1 - 1][c1 - 1]
        for i in range(max(r1 - 1, top), min(r2, len(rows))):
            for j in range(c1 - 1, min(c2, len(rows[i]))):
                rows[i][j] = value
        count += 1
    return count


def _preview(row, limit: int = 60) -> str:
    text = " | ".join(str(row[j]) for j in _cells(row))
    return repr(text if len(text) <= limit else text[:limit - 3] + "...")
