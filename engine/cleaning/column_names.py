"""Step 1: identifier-safe, unique column names (the exact rule is in docs/cleaning.md).

Safe names are kept unchanged; the rest are transliterated to ASCII, runs of other
characters become ``_``, leading digits get an ``x_`` prefix, an empty result becomes
``column``. Duplicates get ``_2``, ``_3``... in column order; safe names are reserved first
so a header that is already safe never loses its name to a generated one.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import replace

from engine.schema import Column

from .result import Table, decision

STEP = "column_names"
SAFE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_UNSAFE_RUN = re.compile(r"[^A-Za-z0-9_]+")
DIGIT_PREFIX = "x_"        # identifiers cannot start with a digit (Python, R, SQL)
EMPTY_NAME = "column"      # a header with no usable character at all


def safe_name(header: str) -> str:
    """The identifier-safe form of one header, before de-duplication."""
    if SAFE_NAME.match(header):
        return header
    ascii_text = unicodedata.normalize("NFKD", header).encode("ascii", "ignore").decode("ascii")
    name = _UNSAFE_RUN.sub("_", ascii_text).strip("_")
    if name[:1].isdigit():
        name = DIGIT_PREFIX + name
    return name or EMPTY_NAME


def unique_names(headers: list[str]) -> list[str]:
    """Cleaned names for ``headers`` in order: safe and unique."""
    out: list[str | None] = [None] * len(headers)
    taken: set[str] = set()
    for i, header in enumerate(headers):           # pass 1: safe headers keep their name
        if SAFE_NAME.match(header) and header not in taken:
            out[i] = header
            taken.add(header)
    for i, header in enumerate(headers):           # pass 2: generated and duplicate names
        if out[i] is not None:
            continue
        base = candidate = safe_name(header)
        k = 2
        while candidate in taken:
            candidate = f"{base}_{k}"
            k += 1
        out[i] = candidate
        taken.add(candidate)
    return out  # type: ignore[return-value]


def normalise_names(table: Table, *, auto_clean: bool = True) -> tuple[Table, list[dict]]:
    headers = [str(h) for h in table.frame.columns]
    names = unique_names(headers)
    decisions = []
    for header, name in zip(headers, names):
        if header != name:
            why = "duplicate name" if SAFE_NAME.match(header) else "not identifier-safe"
            decisions.append(decision(STEP, name, "rename", f"{header!r} -> {name!r} ({why})"))
    frame = table.frame.set_axis(names, axis=1)
    columns = {n: Column(name=n, type="", source_name=h) for n, h in zip(names, headers)}
    sources = dict(zip(names, headers))
    table = replace(table, frame=frame, columns=columns, sources=sources, dropped=())
    return table, decisions
