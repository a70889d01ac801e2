"""Credential rotation: self-service rotation and support rotation requests.

All three routes need a bearer token and act on the calling client (``g.client_id``).

- ``POST /v1/credential-rotations`` rotates at once: it records a completed rotation and a
  one-time ``rotation`` claim and answers ``201`` with the ``credential_claim_token``. The
  same Idempotency-Key (header, or the body's ``idempotency_key``) replays it: ``200``,
  the same ``rotation_request_id`` and token, no new rotation, no rate budget used. The
  token is re-derived from the stored claim id (it is never stored), so a replay returns
  it even after it was redeemed or superseded, when ``/v1/credential-claims`` answers 404.
  At most ``RATE_LIMIT`` rotations per client in any rolling 24 h: the next is
  ``429 simio_rate_limited`` with ``Retry-After`` (seconds until one leaves the window).
- ``POST /v1/credential-rotation-requests`` files a support request (``202 pending``); a
  client's pending request is answered again rather than duplicated. An operator completes
  it (``simio admin rotations complete``); then
- ``GET /v1/credential-rotation-requests/<id>`` shows ``completed`` with the one-time
  ``credential_claim_token`` while that claim is unclaimed and unexpired. Only the caller's
  own support requests are visible; anything else (another client's, a self-service
  rotation, a malformed id) is ``404 simio_rotation_request_not_found``. The contract says
  no GET returns a self-service rotation's token, so none does.

The old secret stops working when the new one is claimed, not when the rotation is made:
``POST /v1/credential-claims`` replaces the stored hash. A lost rotation response therefore
never locks the client out: the old secret still mints tokens, and an Idempotency-Key
replay recovers the claim token. Completing a rotation expires the client's older
unclaimed rotation claims, so only the newest can replace the secret.

Audit entries name the client (``client:<id>``) and the rotation id; never a token.
"""

from __future__ import annotations

from flask import Blueprint, current_app, g

from engine.errors import SimioError
from localapi.auth import require_auth
from localapi.bodies import idempotency_key, json_object, string_field
from localapi.clock import iso, now
from localapi.db import get_db, transaction
from localapi.ids import well_formed
from localapi.problems import problem, request_id, respond
from localapi.store import access as access_store
from localapi.store import audit
from localapi.store import rotations

bp = Blueprint("credentials", __name__)

NOT_FOUND = "Credential rotation request not found."
REASON_MAX = 1000
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def _token(claim) -> str:
    return access_store.claim_token(current_app.config["SIMIO_SIGNING_KEY"], claim["claim_id"])


def _rotation_body(row, claim) -> dict:
    return {"rotation_request_id": row["rotation_request_id"], "client_id": row["client_id"],
            "status": row["status"], "credential_claim_token": _token(claim),
            "expires_at": iso(claim["expires_at"])}


@bp.post("/v1/credential-rotations")
@require_auth
def rotate():
    body = json_object(required=False)
    key = idempotency_key(body.get("idempotency_key"))
    cfg = current_app.config["SIMIO"]
    client_id, tenant_id = g.client_id, g.tenant_id
    actor = f"client:{client_id}"
    db, at = get_db(), now()
    wait = None
    with transaction(db):
        row = rotations.by_idempotency_key(db, client_id, key) if key else None
        status = 200
        if row is None:
            wait = rotations.retry_after(rotations.recent_self_service(db, client_id, at), at)
            if wait is None:
                rotation_id = rotations.insert(
                    db, client_id=client_id, tenant_id=tenant_id, kind="self_service",
                    status="pending", now=at, requested_by=actor, idempotency_key=key)
                _token_unused, superseded = rotations.complete_within(
                    db, current_app.config["SIMIO_SIGNING_KEY"], rotation_id, now=at,
                    ttl_seconds=cfg.claim_ttl_seconds)
                audit.record(db, at=at, actor=actor, action="credential_rotated",
                             subject=rotation_id, request_id=request_id(),
                             detail={"client_id": client_id, "superseded_claims": superseded,
                                     "idempotency_key": key is not None})
                row, status = rotations.get(db, rotation_id), 201
    if row is None:
        return problem("simio_rate_limited",
                       f"At most {rotations.RATE_LIMIT} credential rotations per 24 hours per "
                       f"client; retry in {wait} seconds, or replay an earlier rotation with "
                       f"its Idempotency-Key.", {"Retry-After": str(wait), **NO_STORE})
    headers = dict(NO_STORE)
    if status == 200:
        headers["Idempotent-Replayed"] = "true"
    return respond(_rotation_body(row, rotations.claim(db, row)), status, headers=headers)


@bp.post("/v1/credential-rotation-requests")
@require_auth
def request_rotation():
    body = json_object(required=False)
    reason = string_field(body, "reason", min_len=0, max_len=REASON_MAX, required=False)
    client_id, tenant_id = g.client_id, g.tenant_id
    db, at = get_db(), now()
    with transaction(db):
        row = rotations.pending_request(db, client_id)
        if row is None:
            rotation_id = rotations.insert(
                db, client_id=client_id, tenant_id=tenant_id, kind="support",
                status="pending", now=at, requested_by=f"client:{client_id}",
                reason=reason or None)
            audit.record(db, at=at, actor=f"client:{client_id}", action="rotation_requested",
                         subject=rotation_id, request_id=request_id(),
                         detail={"client_id": client_id})
            row = rotations.get(db, rotation_id)
    return respond({"rotation_request_id": row["rotation_request_id"],
                    "client_id": row["client_id"], "status": row["status"]}, 202)


@bp.get("/v1/credential-rotation-requests/<rotation_request_id>")
@require_auth
def get_rotation_request(rotation_request_id):
    db = get_db()
    row = (rotations.for_client(db, rotation_request_id, g.client_id, kind="support")
           if well_formed("rotation", rotation_request_id) else None)
    if row is None:
        raise SimioError("simio_rotation_request_not_found", NOT_FOUND)
    body = {"rotation_request_id": row["rotation_request_id"], "client_id": row["client_id"],
            "status": row["status"]}
    claim = rotations.claim(db, row)
    if claim is not None and claim["claimed_at"] is None and claim["expires_at"] > now():
        body["credential_claim_token"] = _token(claim)
        body["expires_at"] = iso(claim["expires_at"])
    return respond(body, 200, headers=NO_STORE)
