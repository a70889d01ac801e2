"""SQL for the access flow: signup requests, client credentials and one-time claims.

Claim tokens are never stored. Each claim row gets a random, non-secret ``claim_id``; the
token handed to the client is derived from it with the server's signing key::

    token = "cred_" + HMAC-SHA256(signing_key, "claim:" + claim_id).hexdigest()[:32]

and only ``token_digest(token)`` (SHA-256) is stored, as ``token_hash``, for lookup. This
lets ``GET /v1/signup/{request_id}`` present the same token again until it is claimed or
expires (as the contract says it does) without a clear-text copy in the database: reading
the database alone yields neither the token nor a way to compute it. Whoever holds the
signing key could re-derive unclaimed tokens, but that key already mints access tokens.

Client secrets are stored only as salted scrypt hashes (``digests.hash_secret``); a credential
has ``secret_hash`` NULL until its first claim.
"""

from __future__ import annotations

import hashlib
import hmac

from localapi.digests import token_digest
from localapi.ids import new_id

CLAIM_PREFIX = "cred_"
CLAIM_TOKEN_HEX = 32


# --- claim tokens ----------------------------------------------------------------------

def claim_token(signing_key: bytes, claim_id: str) -> str:
    mac = hmac.new(signing_key, f"claim:{claim_id}".encode(), hashlib.sha256).hexdigest()
    return CLAIM_PREFIX + mac[:CLAIM_TOKEN_HEX]


def token_shape_ok(token) -> bool:
    """True when ``token`` looks like a claim token (``cred_`` + 32 lower-case hex)."""
    if not isinstance(token, str) or len(token) != len(CLAIM_PREFIX) + CLAIM_TOKEN_HEX:
        return False
    tail = token[len(CLAIM_PREFIX):]
    return token.startswith(CLAIM_PREFIX) and all(c in "0123456789abcdef" for c in tail)


def insert_claim(db, signing_key: bytes, *, client_id: str, purpose: str,
                 source_id: str | None, now: float, ttl_seconds: int) -> str:
    """Create a one-time claim for ``client_id``; returns the (unstored) token."""
    claim_id = new_id("clm")
    token = claim_token(signing_key, claim_id)
    db.execute("INSERT INTO claims (token_hash, client_id, purpose, source_id, created_at, "
               "expires_at, claim_id) VALUES (?, ?, ?, ?, ?, ?, ?)",
               (token_digest(token), client_id, purpose, source_id, now, now + ttl_seconds,
                claim_id))
    return token


def open_claim(db, *, client_id: str, purpose: str, source_id: str | None, now: float):
    """The newest unclaimed, unexpired claim for this client/purpose/source, or None."""
    return db.execute("SELECT * FROM claims WHERE client_id = ? AND purpose = ? "
                      "AND source_id IS ? AND claimed_at IS NULL AND expires_at > ? "
                      "ORDER BY created_at DESC LIMIT 1",
                      (client_id, purpose, source_id, now)).fetchone()


def claim_by_token(db, token: str):
    return db.execute("SELECT * FROM claims WHERE token_hash = ?",
                      (token_digest(token),)).fetchone()


def redeem_claim(db, token_hash: str, now: float) -> bool:
    """Mark the claim used. Conditional, so of two concurrent redemptions only one wins."""
    cur = db.execute("UPDATE claims SET claimed_at = ? WHERE token_hash = ? "
                     "AND claimed_at IS NULL AND expires_at > ?", (now, token_hash, now))
    return cur.rowcount == 1


# --- credentials -----------------------------------------------------------------------

def insert_credential(db, *, client_id: str, tenant_id: str, now: float,
                      secret_hash: str | None = None) -> None:
    db.execute("INSERT INTO credentials (client_id, tenant_id, secret_hash, secret_version, "
               "created_at, rotated_at) VALUES (?, ?, ?, ?, ?, ?)",
               (client_id, tenant_id, secret_hash, 1 if secret_hash else 0, now,
                now if secret_hash else None))


def credential(db, client_id: str):
    return db.execute("SELECT * FROM credentials WHERE client_id = ?", (client_id,)).fetchone()


def client_tenant(db, client_id: str) -> str | None:
    """The tenant a client acts for, or None when the client does not exist (any more)."""
    row = db.execute("SELECT tenant_id FROM credentials WHERE client_id = ?",
                     (client_id,)).fetchone()
    return None if row is None else row["tenant_id"]


def ensure_tenant_and_client(db, *, tenant_id: str, company_name: str, row_quota: int,
                             client_id: str) -> None:
    """Create the tenant and its secretless client unless they exist (the --dev tenant)."""
    db.execute("INSERT OR IGNORE INTO tenants (tenant_id, company_name, row_quota, "
               "created_at) VALUES (?, ?, ?, strftime('%s','now'))",
               (tenant_id, company_name, row_quota))
    db.execute("INSERT OR IGNORE INTO credentials (client_id, tenant_id, created_at) "
               "VALUES (?, ?, strftime('%s','now'))", (client_id, tenant_id))


def client_id_taken(db, client_id: str) -> bool:
    return credential(db, client_id) is not None


def set_secret(db, client_id: str, secret_hash: str, now: float) -> None:
    db.execute("UPDATE credentials SET secret_hash = ?, secret_version = secret_version + 1, "
               "rotated_at = ? WHERE client_id = ?", (secret_hash, now, client_id))


# --- signups ---------------------------------------------------------------------------

def insert_signup(db, *, company_name: str, contact_email: str, now: float) -> str:
    request_id = new_id("req")
    db.execute("INSERT INTO signups (request_id, company_name, contact_email, status, "
               "created_at) VALUES (?, ?, ?, 'pending', ?)",
               (request_id, company_name, contact_email, now))
    return request_id


def signup(db, request_id: str):
    return db.execute("SELECT * FROM signups WHERE request_id = ?", (request_id,)).fetchone()


def email_in_use(db, contact_email: str) -> bool:
    """Does a pending or approved request (so a tenant, or a tenant to be) have this email?
    Compared case-insensitively, whatever older rows stored."""
    return db.execute("SELECT 1 FROM signups WHERE lower(trim(contact_email)) = ? "
                      "AND status IN ('pending', 'approved') LIMIT 1",
                      (contact_email.strip().lower(),)).fetchone() is not None


def signups(db, status: str | None = None) -> list:
    if status is None:
        return db.execute("SELECT * FROM signups ORDER BY created_at, rowid").fetchall()
    return db.execute("SELECT * FROM signups WHERE status = ? ORDER BY created_at, rowid",
                      (status,)).fetchall()


def mark_approved(db, request_id: str, *, tenant_id: str, client_id: str, now: float) -> bool:
    cur = db.execute("UPDATE signups SET status = 'approved', tenant_id = ?, client_id = ?, "
                     "decided_at = ? WHERE request_id = ? AND status = 'pending'",
                     (tenant_id, client_id, now, request_id))
    return cur.rowcount == 1


def mark_declined(db, request_id: str, now: float) -> bool:
    cur = db.execute("UPDATE signups SET status = 'declined', decided_at = ? "
                     "WHERE request_id = ? AND status = 'pending'", (now, request_id))
    return cur.rowcount == 1
