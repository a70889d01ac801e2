"""Run a POST under an optional Idempotency-Key: replay, conflict, or do the work once."""

from __future__ import annotations

import hashlib
import json

from flask import g

from localapi.clock import now
from localapi.db import get_db, transaction
from localapi.problems import request_id, respond
from localapi.store import idempotency


def fingerprint_of(route: str, payload: dict) -> str:
    canonical = json.dumps({"route": route, "payload": payload}, sort_keys=True,
                           separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def idempotent(key: str | None, route: str, payload: dict, work):
    """``work()`` returns (status, body); with a key, the first answer is kept and replayed.

    A replayed body keeps every field of the original except ``request_id``, which is this
    request's (it must equal this response's X-Request-Id header).
    """
    if key is None:
        status, body = work()
        return respond(body, status)
    db, ids = get_db(), {"tenant_id": g.tenant_id, "route": route, "key": key}
    with transaction(db):
        stored = idempotency.begin(db, fingerprint=fingerprint_of(route, payload), now=now(),
                                   **ids)
    if stored is not None:
        status, body = stored
        return respond({**body, "request_id": request_id()}, status,
                       headers={"Idempotent-Replayed": "true"})
    try:
        status, body = work()
    except BaseException:
        with transaction(db):
            idempotency.abandon(db, **ids)
        raise
    with transaction(db):
        idempotency.finish(db, status=status, body=body, **ids)
    return respond(body, status)
