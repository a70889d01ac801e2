"""Step: row identifiers, keys, e-mail addresses and UUIDs (``identifier_like_column``).

They carry no population signal, and copying them into synthetic rows would leak
respondents. With auto_clean=false text identifiers are kept as ``character`` with
``conditioning_excluded`` (modelled, never conditioned on); numeric ones stay numeric.
"""

from __future__ import annotations

import re
from dataclasses import replace

import numpy as np
import pandas as pd

from .result import Table, decision

STEP = "identifier_columns"
# With fewer values than this, every value being distinct is ordinary chance (20 ages in a
# 20-row pilot), so uniqueness alone does not make a column an identifier.
MIN_IDENTIFIER_VALUES = 20
# A whole-number column whose distinct values cover at least this share of [min, max] is a
# row number (1..n, shuffled or with a few gaps from deleted rows).
SEQUENCE_DENSITY = 0.90
# Share of values that must look like e-mails / UUIDs: "most", tolerating placeholders
# such as "n/a" or "refused" in a column that is otherwise personal data.
PATTERN_SHARE = 0.80
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
UUID = re.compile(r"^\{?[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?"
                  r"[0-9a-fA-F]{12}\}?$")
# Name tokens (split on non-letters and camelCase) that mark a key column.
ID_TOKENS = frozenset({"id", "ids", "key", "uuid", "guid", "pk", "respid", "caseid",
                       "userid", "recordid", "serial"})


def name_tokens(name: str) -> list[str]:
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", name)   # RespondentID -> Respondent ID
    return [t.lower() for t in re.split(r"[^A-Za-z]+", spaced) if t]


def _pattern_share(counts: pd.Series, pattern: re.Pattern) -> float:
    hits = np.array([bool(pattern.match(str(v))) for v in counts.index])
    return float(counts.to_numpy()[hits].sum() / counts.sum()) if len(hits) else 0.0


def identifier_reason(column, series: pd.Series) -> str | None:
    """Why the typed column is identifier-like (a sentence), or None."""
    text = column.type in ("factor", "character")
    # dates are whole days but not keys: a daily series has every date once
    if not (text or column.is_integer) or column.type in ("date", "datetime"):
        return None
    counts = series.value_counts(dropna=True)
    n = int(counts.sum())
    if text:
        for label, pattern in (("e-mail addresses", EMAIL), ("UUIDs", UUID)):
            share = _pattern_share(counts, pattern)
            if share >= PATTERN_SHARE:
                return f"{share:.0%} of values are {label} (>= {PATTERN_SHARE:.0%})"
    if n < 2 or counts.max() > 1:
        return None
    named = bool(ID_TOKENS.intersection(name_tokens(column.source_name)))
    if text and (named or n >= MIN_IDENTIFIER_VALUES):
        return f"all {n} text values are distinct" + (" and the name looks like a key" * named)
    if not text and (named or n >= MIN_IDENTIFIER_VALUES):
        values = np.sort(counts.index.to_numpy(dtype=float))
        steps = np.unique(np.diff(values))
        density = n / (values[-1] - values[0] + 1)
        if named:
            return f"all {n} values distinct whole numbers and the name looks like a key"
        if density >= SEQUENCE_DENSITY or len(steps) == 1:
            return (f"all {n} values distinct whole numbers forming a sequence "
                    f"(cover {density:.2f} of [{values[0]:g}, {values[-1]:g}])")
    return None


def drop_identifiers(table: Table, *, auto_clean: bool = True) -> tuple[Table, list[dict]]:
    decisions, drops, kept = [], {}, {}
    for name, column in table.columns.items():
        if column.source_name in table.raw.level_order:
            continue  # labelled SPSS answers are survey codes, not keys
        reason = identifier_reason(column, table.frame[name])
        if reason is None:
            continue
        if auto_clean:
            drops[name] = "identifier_like_column"
            decisions.append(decision(STEP, name, "drop_column",
                                      f"identifier_like_column: {reason}"))
        elif column.kind == "categorical":
            kept[name] = replace(column, type="character", conditioning_excluded=True)
            decisions.append(decision(STEP, name, "set_type",
                                      f"character, excluded from conditioning ({reason}; "
                                      "kept because auto_clean=false)"))
        else:
            decisions.append(decision(STEP, name, "keep_column",
                                      f"{reason}; kept because auto_clean=false"))
    return table.update(kept, {}).drop(drops), decisions
