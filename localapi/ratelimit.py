"""Rate limits for the open endpoints (no bearer token yet, so no tenant to bill).

Each bucket has a per-IP and a global budget over a sliding window; a request over either
is ``429 simio_rate_limited`` with ``Retry-After``. Counting is in memory (one server
process owns the store), by ``request.remote_addr``: forwarded-for headers are not
trusted, a client could set them to anything. Budgets come from the configuration
(documented in docs/api.md):

==========  =================================  ====================  =====================
bucket      routes                             per IP                global
==========  =================================  ====================  =====================
signup      POST /v1/signup                    ``signup_per_ip``/h   ``signup_global``/h
token       POST /oauth/token,                 ``token_per_ip``/min  ``token_global``/min
            POST /v1/credential-claims
==========  =================================  ====================  =====================
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque

from flask import current_app, request

WINDOWS = {"signup": 3600.0, "token": 60.0}
MAX_KEYS = 10_000          # addresses remembered before idle ones are dropped


class SlidingWindow:
    """Timestamps of recent hits per key; ``hit`` records one unless a budget is spent."""

    def __init__(self, clock=time.monotonic):
        self._clock = clock
        self._hits: dict[tuple, deque] = {}
        self._lock = threading.Lock()

    def hit(self, keys_and_budgets: list[tuple[tuple, int]], window: float) -> float | None:
        """None when allowed (and counted under every key); else seconds until it would be."""
        now = self._clock()
        with self._lock:
            waits = []
            for key, budget in keys_and_budgets:
                hits = self._hits.setdefault(key, deque())
                while hits and hits[0] <= now - window:
                    hits.popleft()
                if len(hits) >= budget:
                    waits.append(hits[len(hits) - budget] + window - now)
            if waits:
                return max(waits)
            for key, _budget in keys_and_budgets:
                self._hits[key].append(now)
            if len(self._hits) > MAX_KEYS:     # forget idle keys so memory stays bounded
                for key in [k for k, v in self._hits.items() if not v or v[-1] <= now - window]:
                    del self._hits[key]
            return None


def check(bucket: str) -> int | None:
    """Count this request against ``bucket``; None if allowed, else Retry-After seconds."""
    cfg = current_app.config["SIMIO"]
    limiter = current_app.extensions.setdefault("simio_rate_limits", SlidingWindow())
    per_ip, total = getattr(cfg, f"{bucket}_per_ip"), getattr(cfg, f"{bucket}_global")
    wait = limiter.hit([((bucket, request.remote_addr or "?"), per_ip), ((bucket,), total)],
                       WINDOWS[bucket])
    return None if wait is None else max(1, math.ceil(wait))


def detail(bucket: str, retry_after: int) -> str:
    cfg = current_app.config["SIMIO"]
    unit = "hour" if WINDOWS[bucket] == 3600 else "minute"
    return (f"Too many {bucket} requests: at most {getattr(cfg, f'{bucket}_per_ip')} per "
            f"{unit} from one address and {getattr(cfg, f'{bucket}_global')} per {unit} in "
            f"all; retry in {retry_after} seconds.")
