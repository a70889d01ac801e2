"""Requesting access (contract operations 01-03): signup, status polling, credential claim.

These routes are open (no bearer token): credentials do not exist yet.

- ``POST /v1/signup`` records a request (202, always ``pending``), or returns the email's
  existing pending/approved request (200). A declined request does not block a new one.
  With ``approval = auto`` the new request is approved in the same transaction, right
  after it is recorded, so the first poll already reports ``approved``.
- ``GET /v1/signup/<request_id>`` reports the status; an approved request carries its
  ``client_id`` and, while unclaimed and unexpired, its one-time ``credential_claim_token``
  (derived from the signing key, never stored: see ``localapi.store.access``).
- ``POST /v1/credential-claims`` redeems a claim token once for a fresh ``client_secret``.
  Unknown, malformed, expired and used tokens are the same 404.
"""

from __future__ import annotations

import re

from flask import Blueprint, current_app, request

from engine.errors import SimioError
from localapi import admin, auth
from localapi.bodies import json_object, string_field
from localapi.clock import now
from localapi.db import get_db, transaction
from localapi.ids import well_formed
from localapi.problems import request_id, respond
from localapi.store import access as store
from localapi.store import audit

bp = Blueprint("access", __name__)

EMAIL_MAX = 254
# Pragmatic address check (RFC 5321 sizes, dot-atom local part, LDH labels, a dot in the
# domain): rejects what cannot be an address, accepts what mail systems actually deliver.
_EMAIL = re.compile(
    r"^(?=.{3,254}$)(?=[^@]{1,64}@)"
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+"
    r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")
EMAIL_DETAIL = f"Field 'contact_email' must be a valid email address up to {EMAIL_MAX} chars."
SIGNUP_NOT_FOUND = "Signup request not found."
CLAIM_NOT_FOUND = "Credential claim not found, expired, or already used."


def normalise_email(value) -> str:
    """The address as matched and stored: trimmed, lower-cased; 400 when not an address."""
    if not isinstance(value, str):
        raise SimioError("simio_invalid_field", EMAIL_DETAIL)
    email = value.strip()
    if not _EMAIL.fullmatch(email):
        raise SimioError("simio_invalid_field", EMAIL_DETAIL)
    return email.lower()


def _view(db, row, at: float) -> dict:
    body = {"request_id": row["request_id"], "status": row["status"]}
    if row["status"] == "approved":
        body["client_id"] = row["client_id"]
        cred = store.credential(db, row["client_id"])
        claim = store.open_claim(db, client_id=row["client_id"], purpose="initial",
                                 source_id=row["request_id"], now=at)
        if cred is not None and cred["secret_hash"] is None and claim is not None:
            body["credential_claim_token"] = store.claim_token(
                current_app.config["SIMIO_SIGNING_KEY"], claim["claim_id"])
    return body


@bp.post("/v1/signup")
def submit_signup():
    body = json_object()
    company = string_field(body, "company_name", min_len=1, max_len=256)
    email = normalise_email(body.get("contact_email"))
    cfg = current_app.config["SIMIO"]
    db, at = get_db(), now()
    with transaction(db):
        existing = store.open_signup_for_email(db, email)
        if existing is None:
            created = store.insert_signup(db, company_name=company, contact_email=email, now=at)
            audit.record(db, at=at, actor="anonymous", action="signup_submitted",
                         subject=created, request_id=request_id(),
                         detail={"company_name": company})
            if cfg.approval == "auto":
                admin.approve_within(db, current_app.config["SIMIO_SIGNING_KEY"], created,
                                     config=cfg, now=at, actor=audit.AUTO_APPROVAL,
                                     http_request_id=request_id())
    if existing is None:
        # The contract: "Always 'pending' on initial submit", even when auto-approved.
        return respond({"request_id": created, "status": "pending"}, 202)
    return respond(_view(db, existing, at), 200)


@bp.get("/v1/signup/<request_id>")
def get_signup(request_id):
    db = get_db()
    row = store.signup(db, request_id) if well_formed("signup", request_id) else None
    if row is None:
        raise SimioError("simio_signup_not_found", SIGNUP_NOT_FOUND)
    return respond(_view(db, row, now()), 200)


@bp.post("/v1/credential-claims")
def claim_credentials():
    body = json_object()
    token = body.get("claim_token")
    if not isinstance(token, str) or not token:
        raise SimioError("simio_invalid_field", "Field 'claim_token' must be a non-empty "
                         "string (the credential_claim_token from GET /v1/signup/{request_id}).")
    if not store.token_shape_ok(token):
        raise SimioError("simio_credential_claim_not_found", CLAIM_NOT_FOUND)
    cfg = current_app.config["SIMIO"]
    # Hash before taking the write lock: scrypt is deliberately slow.
    secret = auth.new_secret()
    secret_hash = auth.hash_secret(secret)
    db, at = get_db(), now()
    with transaction(db):
        claim = store.claim_by_token(db, token)
        if claim is None or not store.redeem_claim(db, claim["token_hash"], at):
            raise SimioError("simio_credential_claim_not_found", CLAIM_NOT_FOUND)
        store.set_secret(db, claim["client_id"], secret_hash, at)
        audit.record(db, at=at, actor=f"client:{claim['client_id']}",
                     action="credential_claimed", subject=claim["client_id"],
                     request_id=request_id(),
                     detail={"purpose": claim["purpose"], "source_id": claim["source_id"]})
    token_url = request.host_url.rstrip("/") + "/oauth/token"
    return respond({"client_id": claim["client_id"], "client_secret": secret,
                    "token_url": token_url, "audience": cfg.audience,
                    "grant_type": "client_credentials", "purpose": claim["purpose"]}, 200,
                   headers={"Cache-Control": "no-store", "Pragma": "no-cache"})
