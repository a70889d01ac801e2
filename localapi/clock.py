"""Time: one injectable clock (tests set ``SIMIO_CLOCK``) and the contract's timestamp format."""

from __future__ import annotations

import time
from datetime import datetime, timezone

from flask import current_app


def now(app=None) -> float:
    app = app or current_app
    clock = app.config.get("SIMIO_CLOCK")
    return float(clock()) if clock else time.time()


def iso(epoch: float | None) -> str | None:
    """``2026-05-01T17:30:00Z`` (UTC, whole seconds), or None."""
    if epoch is None:
        return None
    return datetime.fromtimestamp(int(epoch), tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
