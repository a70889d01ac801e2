"""Date ranges in a report's scenario: the report compares numbers, so a column whose
scenario bounds are ISO 8601 texts (a ``date`` / ``datetime`` range, docs/conditioning.md)
is compared in days since 1970-01-01 (fractional for datetimes), bounds included."""

from __future__ import annotations

import pandas as pd

_EPOCH = pd.Timestamp("1970-01-01")
_DAY = pd.Timedelta(days=1)


def _days(values) -> pd.Series:
    stamps = pd.to_datetime(pd.Series(values).astype(object), errors="coerce", utc=True)
    return (stamps.dt.tz_localize(None) - _EPOCH) / _DAY


def _bound(value):
    if not isinstance(value, str):
        return value
    try:
        stamp = pd.Timestamp(value)
    except ValueError:
        return value                     # left for the scenario check to refuse
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert("UTC").tz_localize(None)
    return (stamp - _EPOCH) / _DAY


def dates_as_days(real: pd.DataFrame, synthetic: pd.DataFrame, scenario):
    """(real, synthetic, scenario) with every ISO-ranged column in days (new objects)."""
    body = scenario if isinstance(scenario, dict) else None
    conditions = (body.get("conditions") if body and "conditions" in body else body) or {}
    numeric = conditions.get("numeric") if isinstance(conditions, dict) else None
    if not isinstance(numeric, dict):
        return real, synthetic, scenario
    ranged = [c for c, b in numeric.items() if isinstance(b, dict)
              and any(isinstance(b.get(k), str) for k in ("min", "max"))]
    if not ranged:
        return real, synthetic, scenario
    real, synthetic = real.copy(), synthetic.copy()
    for col in ranged:
        for frame in (real, synthetic):
            if col in frame.columns:
                frame[col] = _days(frame[col]).to_numpy()
    numeric = {c: ({k: _bound(v) for k, v in b.items()} if c in ranged else b)
               for c, b in numeric.items()}
    conditions = {**conditions, "numeric": numeric}
    scenario = {**body, "conditions": conditions} if "conditions" in body else conditions
    return real, synthetic, scenario
