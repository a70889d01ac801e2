"""One generation request, however it arrives: a request body (the server), a scenario file
plus flags (``simio generate``), a scenario given to a report (``simio report``, the
report route). The rules, in the order they are checked (docs/architecture.md):

1. A scenario is a JSON object. It is a whole request body when it has any request field
   (``REQUEST_FIELDS``); otherwise it is a bare conditions object (``as_body``).
2. A body has request fields only; any other member is ``simio_invalid_field``.
3. ``row_count`` is a positive integer (at most the caller's cap); ``output_format`` is one
   of ``engine.formats.FORMATS``; ``seed`` is null or an integer from 0 to ``SEED_MAX``.
   Explicit arguments (the CLI's flags) win over the body's fields.
4. ``conditions`` is null or an object with only ``categorical`` and ``numeric``, each an
   object; a numeric range needs both ``min`` and ``max`` (``simio_invalid_range``) and
   takes nothing else (``simio_invalid_field``) -- ``conditions_shape``. Columns, levels,
   shares and bounds are then checked against the schema
   (``engine.sampling.conditions.parse_conditions``, which starts with this shape check).

No pandas, numpy or pyarrow here: the CLI parses a request before it loads a model.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from engine.errors import SimioError
from engine.formats import FORMATS, MAX_ROWS

REQUEST_FIELDS = ("row_count", "output_format", "seed", "wait_seconds", "idempotency_key",
                  "conditions")
# Seeds are stored in SQLite INTEGER columns and echoed in JSON: signed 64-bit, non-negative.
SEED_MAX = 2 ** 63 - 1


@dataclass(frozen=True)
class GenerationRequest:
    """A checked request: what to generate, how many rows, in which format, from which seed
    (None: drawn once, see ``engine.rng.resolve_seed``)."""

    row_count: int
    output_format: str
    seed: int | None
    conditions: dict | None


def as_body(scenario, *, what: str = "the scenario") -> dict:
    """Rule 1: a request body, from a body or a bare conditions object."""
    if not isinstance(scenario, dict):
        raise SimioError("simio_invalid_field", f"{what} must be a JSON object: a "
                         "`conditions` object or a whole generation request body")
    if set(scenario) & set(REQUEST_FIELDS):
        return scenario
    return {"conditions": scenario or None}


def parse_request(body: dict, *, row_count=None, output_format=None, seed=None,
                  default_format: str | None = None, max_rows: int | None = None
                  ) -> GenerationRequest:
    """Rules 2-4 on a request body; keyword arguments override the body's fields."""
    check_fields(body)
    rows = check_row_count(row_count if row_count is not None else body.get("row_count"))
    if max_rows is not None and rows > max_rows:
        raise SimioError("simio_per_request_cap_exceeded", f"row_count exceeds the per-request "
                         f"cap of {max_rows}.")
    fmt = output_format or body.get("output_format") or default_format
    if fmt not in FORMATS:
        raise SimioError("simio_invalid_field", f"output_format must be one of {list(FORMATS)}.")
    if fmt in MAX_ROWS and rows > MAX_ROWS[fmt]:
        raise SimioError("simio_invalid_field", f"row_count exceeds the {MAX_ROWS[fmt]:,} "
                         f"data rows an {fmt} sheet holds; use another output_format.")
    seed = check_seed(seed if seed is not None else body.get("seed"))
    conditions = body.get("conditions")
    conditions_shape(conditions)
    return GenerationRequest(rows, fmt, seed, conditions)


def check_fields(body: dict) -> None:
    """Rule 2: a body has request fields only."""
    unknown = sorted(set(body) - set(REQUEST_FIELDS))
    if unknown:
        raise SimioError("simio_invalid_field", f"Unknown field(s) {unknown}; allowed: "
                         f"{sorted(REQUEST_FIELDS)}.")


def check_row_count(value) -> int:
    if value is None:
        raise SimioError("simio_invalid_field", "row_count is required (the request's "
                         "row_count; `simio generate --rows N`).")
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise SimioError("simio_invalid_field", f"row_count must be an integer of at least 1; "
                         f"got {_short(value)}.")
    return value


def check_seed(value) -> int | None:
    """The one seed rule of a request: null, or an integer from 0 to ``SEED_MAX``."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= SEED_MAX:
        raise SimioError("simio_invalid_field", f"seed must be an integer from 0 to "
                         f"{SEED_MAX} (2^63 - 1); got {_short(value)}.")
    return value


def conditions_shape(conditions) -> None:
    """Rule 4 without a schema: the structure every reader of conditions accepts."""
    if conditions is None:
        return
    if not isinstance(conditions, dict):
        raise SimioError("simio_invalid_field", "conditions must be a JSON object with optional "
                         "'categorical' and 'numeric' members.")
    unknown = sorted(set(conditions) - {"categorical", "numeric"})
    if unknown:
        raise SimioError("simio_invalid_field", f"conditions has unknown member(s) {unknown}; "
                         "only 'categorical' and 'numeric' are allowed.")
    for part in ("categorical", "numeric"):
        if not isinstance(conditions.get(part) or {}, dict):
            raise SimioError("simio_invalid_field", f"conditions.{part} must be an object "
                             "mapping column names to their condition.")
    for column, bounds in (conditions.get("numeric") or {}).items():
        if not isinstance(bounds, dict) or "min" not in bounds or "max" not in bounds:
            continue      # the range check names the column and its schema range
        extra = sorted(set(bounds) - {"min", "max"})
        if extra:
            raise SimioError("simio_invalid_field", f"conditions.numeric.{column} has unknown "
                             f"member(s) {extra}; a range takes only 'min' and 'max'.")


def _short(value) -> str:
    text = json.dumps(value) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
