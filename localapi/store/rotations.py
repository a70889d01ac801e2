"""SQL for credential rotations: self-service rotations and support rotation requests.

A rotation row never holds a secret or a token. Completing a rotation creates a one-time
claim (``localapi.store.access.insert_claim``, purpose ``rotation``, ``source_id`` = the
rotation_request_id) and records its non-secret ``claim_id``; the claim token is re-derived
from that id with the signing key whenever it has to be shown again (an Idempotency-Key
replay, a status poll), exactly as for signup claims.

The credential's secret is not touched here: it is replaced when the claim is redeemed
(``POST /v1/credential-claims``), so the old secret keeps working until then.

Completing a rotation supersedes the client's other unclaimed rotation claims (they are
expired at once), so at most one rotation token can replace the secret at any time.
"""

from __future__ import annotations

import math

from localapi.ids import new_id
from localapi.store import access as access_store

KINDS = ("self_service", "support")
STATUSES = ("pending", "completed")
ID_LENGTH = 32                     # rot_ + 32 alphanumerics, the contract example's shape
RATE_WINDOW_SECONDS = 24 * 3600
RATE_LIMIT = 3                     # self-service rotations per client per rolling window


def get(db, rotation_request_id: str):
    return db.execute("SELECT * FROM rotations WHERE rotation_request_id = ?",
                      (rotation_request_id,)).fetchone()


def for_client(db, rotation_request_id: str, client_id: str, kind: str | None = None):
    """The rotation if it belongs to ``client_id`` (and is of ``kind``), else None."""
    row = get(db, rotation_request_id)
    if row is None or row["client_id"] != client_id or (kind and row["kind"] != kind):
        return None
    return row


def by_idempotency_key(db, client_id: str, key: str):
    return db.execute("SELECT * FROM rotations WHERE client_id = ? AND idempotency_key = ?",
                      (client_id, key)).fetchone()


def pending_request(db, client_id: str):
    """The client's oldest pending support request, or None."""
    return db.execute("SELECT * FROM rotations WHERE client_id = ? AND kind = 'support' "
                      "AND status = 'pending' ORDER BY created_at, rowid LIMIT 1",
                      (client_id,)).fetchone()


def recent_self_service(db, client_id: str, now: float) -> list[float]:
    """Creation times of the client's self-service rotations in the window, oldest first."""
    rows = db.execute("SELECT created_at FROM rotations WHERE client_id = ? "
                      "AND kind = 'self_service' AND created_at > ? ORDER BY created_at",
                      (client_id, now - RATE_WINDOW_SECONDS)).fetchall()
    return [row["created_at"] for row in rows]


def retry_after(times: list[float], now: float) -> int | None:
    """Seconds until one more self-service rotation fits the window; None if it fits now.

    ``times`` are the window's creation times, oldest first (``recent_self_service``).
    """
    if len(times) < RATE_LIMIT:
        return None
    # The rotation that must leave the window for the count to drop below the limit.
    leaves_at = times[len(times) - RATE_LIMIT] + RATE_WINDOW_SECONDS
    return max(1, math.ceil(leaves_at - now))


def insert(db, *, client_id: str, tenant_id: str, kind: str, status: str, now: float,
           requested_by: str, reason: str | None = None,
           idempotency_key: str | None = None) -> str:
    if kind not in KINDS or status not in STATUSES:
        raise ValueError(f"bad rotation kind/status {kind!r}/{status!r}")
    rotation_request_id = new_id("rot", ID_LENGTH)
    db.execute("INSERT INTO rotations (rotation_request_id, client_id, tenant_id, kind, "
               "status, reason, requested_by, idempotency_key, created_at) "
               "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
               (rotation_request_id, client_id, tenant_id, kind, status, reason,
                requested_by, idempotency_key, now))
    return rotation_request_id


def complete_within(db, signing_key: bytes, rotation_request_id: str, *, now: float,
                    ttl_seconds: int) -> tuple[str, int]:
    """Issue the rotation's claim and mark it completed (caller's transaction).

    Returns ``(claim_token, superseded)``: the token (not stored) and how many older
    unclaimed rotation claims of the client were expired by this one.
    """
    row = get(db, rotation_request_id)
    superseded = db.execute(
        "UPDATE claims SET expires_at = ? WHERE client_id = ? AND purpose = 'rotation' "
        "AND claimed_at IS NULL AND expires_at > ?",
        (now, row["client_id"], now)).rowcount
    token = access_store.insert_claim(db, signing_key, client_id=row["client_id"],
                                      purpose="rotation", source_id=rotation_request_id,
                                      now=now, ttl_seconds=ttl_seconds)
    claim = access_store.claim_by_token(db, token)
    db.execute("UPDATE rotations SET status = 'completed', completed_at = ?, claim_id = ? "
               "WHERE rotation_request_id = ?",
               (now, claim["claim_id"], rotation_request_id))
    return token, superseded


def claim(db, row):
    """The rotation's claim row (any state), or None while pending."""
    if row["claim_id"] is None:
        return None
    return db.execute("SELECT * FROM claims WHERE claim_id = ?", (row["claim_id"],)).fetchone()


def listing(db, status: str | None = None) -> list:
    if status is None:
        return db.execute("SELECT * FROM rotations ORDER BY created_at, rowid").fetchall()
    return db.execute("SELECT * FROM rotations WHERE status = ? ORDER BY created_at, rowid",
                      (status,)).fetchall()
