"""Operator actions: approve or decline signups, create tenants, set quotas, complete
credential rotations, read the audit.

Plain functions over a store connection, used by the ``simio admin`` commands and (for
auto-approval) by the signup route. Every action writes one audit entry; none of them
writes a secret or a claim token anywhere but the value it returns.

Functions named ``*_within`` run inside the caller's transaction; the others take the
write lock themselves (``db.transaction``).
"""

from __future__ import annotations

import re
import secrets
import sqlite3
import time
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from localapi import auth
from localapi.config import Config
from localapi.db import DB_NAME, connect, migrate, transaction
from localapi.ids import new_id
from localapi.store import access as access_store
from localapi.ids import well_formed
from localapi.store import audit
from localapi.store import rotations as rotation_store
from localapi.store import tenants as tenant_store

OPERATOR = audit.OPERATOR
SLUG_MAX = 40


class OperatorError(ValueError):
    """An operator action that cannot be done (unknown id, already decided, bad value)."""


@dataclass
class RotationCompletion:
    rotation_request_id: str
    client_id: str
    claim_token: str
    expires_at: float


@dataclass
class Approval:
    request_id: str
    tenant_id: str
    client_id: str
    claim_token: str


def open_store(data_dir) -> tuple[sqlite3.Connection, bytes]:
    """Connect to the data dir's store (migrating it) and load its signing key."""
    path = Path(data_dir)
    path.mkdir(parents=True, exist_ok=True)
    conn = connect(path / DB_NAME)
    migrate(conn)
    return conn, auth.load_signing_key(path)


def client_id_for(db, company_name: str) -> str:
    """``acme_research_m2m_8f2a1c``: a slug of the company plus 6 random hex digits."""
    ascii_name = unicodedata.normalize("NFKD", company_name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "_", ascii_name.lower()).strip("_")[:SLUG_MAX].strip("_")
    slug = slug or "tenant"
    while True:
        candidate = f"{slug}_m2m_{secrets.token_hex(3)}"
        if not access_store.client_id_taken(db, candidate):
            return candidate


# --- signups -------------------------------------------------------------------------

def list_signups(db, status: str | None = None) -> list[dict]:
    if status is not None and status not in ("pending", "approved", "declined"):
        raise OperatorError("status must be pending, approved or declined")
    return [dict(row) for row in access_store.signups(db, status)]


def approve_within(db, signing_key: bytes, request_id: str, *, config: Config, now: float,
                   actor: str = OPERATOR, http_request_id: str | None = None) -> Approval:
    """Approve a pending request inside the caller's transaction.

    Creates the tenant (quota ``config.default_row_quota``), its credential (no secret until
    claimed) and an ``initial`` claim valid for ``config.claim_ttl_seconds``. An approved
    request whose credential was never claimed and whose claim expired gets a fresh claim
    (the operator's remedy for a lapsed claim); anything else already decided is refused.
    """
    row = access_store.signup(db, request_id)
    if row is None:
        raise OperatorError(f"no signup request {request_id!r}")
    if row["status"] == "approved":
        return _reissue_within(db, signing_key, row, config=config, now=now, actor=actor,
                               http_request_id=http_request_id)
    if row["status"] != "pending":
        raise OperatorError(f"signup request {request_id} is already {row['status']}")
    tenant_id, client_id = _create_tenant_within(
        db, row["company_name"], config=config, now=now, actor=actor,
        http_request_id=http_request_id, source=request_id)
    access_store.mark_approved(db, request_id, tenant_id=tenant_id, client_id=client_id,
                               now=now)
    token = access_store.insert_claim(db, signing_key, client_id=client_id, purpose="initial",
                                      source_id=request_id, now=now,
                                      ttl_seconds=config.claim_ttl_seconds)
    audit.record(db, at=now, actor=actor, action="signup_approved", subject=request_id,
                 request_id=http_request_id,
                 detail={"tenant_id": tenant_id, "client_id": client_id})
    return Approval(request_id, tenant_id, client_id, token)


def _reissue_within(db, signing_key, row, *, config, now, actor, http_request_id) -> Approval:
    request_id, client_id = row["request_id"], row["client_id"]
    cred = access_store.credential(db, client_id)
    if cred is None or cred["secret_hash"] is not None:
        raise OperatorError(f"signup request {request_id} is already approved and its "
                            f"credential was claimed; rotate the credential instead")
    if access_store.open_claim(db, client_id=client_id, purpose="initial",
                               source_id=request_id, now=now) is not None:
        raise OperatorError(f"signup request {request_id} is already approved; its claim "
                            f"token is still valid (GET /v1/signup/{request_id})")
    token = access_store.insert_claim(db, signing_key, client_id=client_id, purpose="initial",
                                      source_id=request_id, now=now,
                                      ttl_seconds=config.claim_ttl_seconds)
    audit.record(db, at=now, actor=actor, action="claim_reissued", subject=request_id,
                 request_id=http_request_id, detail={"client_id": client_id})
    return Approval(request_id, row["tenant_id"], client_id, token)


def approve_signup(db, signing_key: bytes, request_id: str, *, config: Config,
                   now: float | None = None, actor: str = OPERATOR) -> Approval:
    with transaction(db):
        return approve_within(db, signing_key, request_id, config=config,
                              now=time.time() if now is None else now, actor=actor)


def decline_signup(db, request_id: str, *, now: float | None = None,
                   actor: str = OPERATOR) -> None:
    now = time.time() if now is None else now
    with transaction(db):
        row = access_store.signup(db, request_id)
        if row is None:
            raise OperatorError(f"no signup request {request_id!r}")
        if not access_store.mark_declined(db, request_id, now):
            raise OperatorError(f"signup request {request_id} is already {row['status']}")
        audit.record(db, at=now, actor=actor, action="signup_declined", subject=request_id)


# --- tenants -------------------------------------------------------------------------

def _create_tenant_within(db, company_name: str, *, config: Config, now: float, actor: str,
                          http_request_id: str | None = None, source: str | None = None,
                          secret_hash: str | None = None) -> tuple[str, str]:
    tenant_id = new_id("tn")
    client_id = client_id_for(db, company_name)
    tenant_store.insert(db, tenant_id=tenant_id, company_name=company_name,
                        row_quota=config.default_row_quota, now=now)
    access_store.insert_credential(db, client_id=client_id, tenant_id=tenant_id, now=now,
                                   secret_hash=secret_hash)
    detail = {"company_name": company_name, "client_id": client_id,
              "row_quota": config.default_row_quota}
    if source:
        detail["signup_request_id"] = source
    audit.record(db, at=now, actor=actor, action="tenant_created", subject=tenant_id,
                 request_id=http_request_id, detail=detail)
    return tenant_id, client_id


def create_tenant(db, company_name: str, *, config: Config, now: float | None = None,
                  actor: str = OPERATOR) -> tuple[str, str, str]:
    """A tenant with a ready credential, for scripted set-ups: (tenant_id, client_id, secret).

    The secret is returned once and stored only as its scrypt hash.
    """
    company_name = (company_name or "").strip()
    if not 1 <= len(company_name) <= 256:
        raise OperatorError("company name must be 1 to 256 characters")
    secret = auth.new_secret()
    secret_hash = auth.hash_secret(secret)
    now = time.time() if now is None else now
    with transaction(db):
        tenant_id, client_id = _create_tenant_within(db, company_name, config=config, now=now,
                                                     actor=actor, secret_hash=secret_hash)
    return tenant_id, client_id, secret


def set_quota(db, tenant_id: str, rows: int, *, now: float | None = None,
              actor: str = OPERATOR) -> None:
    if isinstance(rows, bool) or not isinstance(rows, int) or rows < 0:
        raise OperatorError("rows must be a non-negative integer")
    now = time.time() if now is None else now
    with transaction(db):
        row = tenant_store.get(db, tenant_id)
        if row is None:
            raise OperatorError(f"no tenant {tenant_id!r}")
        tenant_store.set_quota(db, tenant_id, rows)
        audit.record(db, at=now, actor=actor, action="tenant_quota_set", subject=tenant_id,
                     detail={"row_quota": rows, "previous_row_quota": row["row_quota"]})


# --- credential rotations ------------------------------------------------------------

def list_rotations(db, status: str | None = None) -> list[dict]:
    if status is not None and status not in rotation_store.STATUSES:
        raise OperatorError("status must be pending or completed")
    return [dict(row) for row in rotation_store.listing(db, status)]


def complete_rotation_within(db, signing_key: bytes, rotation_request_id: str, *,
                             config: Config, now: float, actor: str = OPERATOR,
                             http_request_id: str | None = None) -> RotationCompletion:
    """Complete a pending rotation request inside the caller's transaction.

    Issues a one-time ``rotation`` claim (valid ``config.claim_ttl_seconds``); the client's
    secret changes only when that claim is redeemed. The client's older unclaimed rotation
    claims are expired. The token is returned, never stored or audited.
    """
    row = (rotation_store.get(db, rotation_request_id)
           if well_formed("rotation", rotation_request_id) else None)
    if row is None:
        raise OperatorError(f"no rotation request {rotation_request_id!r}")
    if row["status"] != "pending":
        raise OperatorError(f"rotation request {rotation_request_id} is already "
                            f"{row['status']}")
    token, superseded = rotation_store.complete_within(
        db, signing_key, rotation_request_id, now=now, ttl_seconds=config.claim_ttl_seconds)
    audit.record(db, at=now, actor=actor, action="rotation_completed",
                 subject=rotation_request_id, request_id=http_request_id,
                 detail={"client_id": row["client_id"], "kind": row["kind"],
                         "superseded_claims": superseded})
    return RotationCompletion(rotation_request_id, row["client_id"], token,
                              now + config.claim_ttl_seconds)


def complete_rotation(db, signing_key: bytes, rotation_request_id: str, *, config: Config,
                      now: float | None = None, actor: str = OPERATOR) -> RotationCompletion:
    with transaction(db):
        return complete_rotation_within(db, signing_key, rotation_request_id, config=config,
                                        now=time.time() if now is None else now, actor=actor)


def rotate_for_client(db, signing_key: bytes, client_id: str, *, config: Config,
                      reason: str | None = None, now: float | None = None,
                      actor: str = OPERATOR) -> RotationCompletion:
    """Operator-side rotation for a client that cannot authenticate (lost secret).

    Files a support rotation request on the client's behalf and completes it at once; the
    operator hands the returned claim token to the client over a secure channel.
    """
    now = time.time() if now is None else now
    with transaction(db):
        cred = access_store.credential(db, client_id)
        if cred is None:
            raise OperatorError(f"no client {client_id!r}")
        rotation_request_id = rotation_store.insert(
            db, client_id=client_id, tenant_id=cred["tenant_id"], kind="support",
            status="pending", now=now, requested_by=actor, reason=reason)
        audit.record(db, at=now, actor=actor, action="rotation_requested",
                     subject=rotation_request_id, detail={"client_id": client_id})
        return complete_rotation_within(db, signing_key, rotation_request_id, config=config,
                                        now=now, actor=actor)


def audit_entries(db, limit: int = 50) -> list[dict]:
    if limit < 1:
        raise OperatorError("limit must be at least 1")
    return audit.recent(db, limit)
