"""Idempotency records (draft-ietf-httpapi-idempotency-key-header).

A key is stored with the request's fingerprint and, once done, the response. The same key
with the same fingerprint replays the response; with another fingerprint, or while the
first request is still in flight, it is ``simio_idempotency_conflict``. An in-flight record
older than ``STALE_SECONDS`` (a server killed mid-request) no longer blocks the key.
"""

from __future__ import annotations

import json

from engine.errors import SimioError

STALE_SECONDS = 600


def begin(db, *, tenant_id, route, key, fingerprint, now):
    """Claim the key; returns the stored (status, body) to replay, or None to proceed."""
    row = db.execute("SELECT * FROM idempotency WHERE tenant_id = ? AND route = ? AND key = ?",
                     (tenant_id, route, key)).fetchone()
    if row is not None:
        if row["fingerprint"] != fingerprint:
            raise SimioError("simio_idempotency_conflict",
                             "idempotency_key was used with a different request body.")
        if row["state"] == "done":
            return row["status"], json.loads(row["body"])
        if now - row["created_at"] < STALE_SECONDS:
            raise SimioError("simio_idempotency_conflict",
                             "A request with this idempotency_key is still in flight; retry "
                             "after it finishes.")
        db.execute("DELETE FROM idempotency WHERE tenant_id = ? AND route = ? AND key = ?",
                   (tenant_id, route, key))
    db.execute("INSERT INTO idempotency (tenant_id, key, route, fingerprint, state, created_at) "
               "VALUES (?, ?, ?, ?, 'in_flight', ?)", (tenant_id, key, route, fingerprint, now))
    return None


def finish(db, *, tenant_id, route, key, status: int, body: dict) -> None:
    db.execute("UPDATE idempotency SET state = 'done', status = ?, body = ? "
               "WHERE tenant_id = ? AND route = ? AND key = ?",
               (status, json.dumps(body), tenant_id, route, key))


def abandon(db, *, tenant_id, route, key) -> None:
    db.execute("DELETE FROM idempotency WHERE tenant_id = ? AND route = ? AND key = ? "
               "AND state = 'in_flight'", (tenant_id, route, key))
