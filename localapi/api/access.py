"""Requesting access (contract operations 01-03): signup, status polling, credential claim.

These routes are open (no bearer token): credentials do not exist yet.

- ``POST /v1/signup`` records a new request (202, always ``pending``). A request's id is
  what shows its claim token, so it is never handed to anyone but its submitter: the
  contract's 200 ("the existing request for this email") is answered only to a retry with
  the same ``Idempotency-Key`` (at least 16 characters, stored as a digest). A different
  submitter with an email already in use (a pending or approved request: a tenant) gets a
  request of its own that only an operator can approve, even with ``approval = auto``;
  approving it makes a new tenant, it never re-issues the existing one's credentials
  (issue 10). With ``approval = auto`` a request for a fresh email is approved in the same
  transaction, so the first poll already reports ``approved``. Rate limited per IP and
  globally (``localapi.ratelimit``).
- ``GET /v1/signup/<request_id>`` reports the status; an approved request carries its
  ``client_id`` and, while unclaimed and unexpired, its one-time ``credential_claim_token``
  (derived from the signing key, never stored: see ``localapi.store.access``).
- ``POST /v1/credential-claims`` redeems a claim token once for a fresh ``client_secret``.
  Unknown, malformed, expired and used tokens are the same 404. Rate limited with
  ``/oauth/token`` (the ``token`` bucket).
"""

from __future__ import annotations

import re

from flask import Blueprint, current_app

from engine.errors import SimioError
from localapi import admin, auth, ratelimit
from localapi.bodies import idempotency_key, json_object, string_field
from localapi.clock import now
from localapi.db import get_db, transaction
from localapi.ids import well_formed
from localapi.problems import problem, public_url, request_id, respond
from localapi.store import access as store
from localapi.store import audit, idempotency

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
SIGNUP_KEY_MIN = 16
SIGNUP_SCOPE = "anonymous"           # the idempotency table's tenant_id for signups
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
    wait = ratelimit.check("signup")
    if wait is not None:
        return problem("simio_rate_limited", ratelimit.detail("signup", wait),
                       {"Retry-After": str(wait)})
    body = json_object()
    company = string_field(body, "company_name", min_len=1, max_len=256)
    email = normalise_email(body.get("contact_email"))
    key = _signup_key()
    cfg = current_app.config["SIMIO"]
    db, at = get_db(), now()
    with transaction(db):
        if key is not None:
            stored = idempotency.begin(db, fingerprint=email, now=at, **key)
            if stored is not None:       # the submitter's own retry: its own request
                row = store.signup(db, stored[1]["request_id"])
                return respond(_view(db, row, at), 200, headers={"Idempotent-Replayed": "true"})
        # Whoever sends an address in use (an open request, or a tenant's) gets a new
        # request of their own, never the existing one: its request_id is what shows the
        # claim token. And only an operator may approve it.
        in_use = store.email_in_use(db, email)
        created = store.insert_signup(db, company_name=company, contact_email=email, now=at)
        audit.record(db, at=at, actor="anonymous", action="signup_submitted",
                     subject=created, request_id=request_id(),
                     detail={"company_name": company, "email_in_use": in_use})
        if cfg.approval == "auto" and not in_use:
            admin.approve_within(db, current_app.config["SIMIO_SIGNING_KEY"], created,
                                 config=cfg, now=at, actor=audit.AUTO_APPROVAL,
                                 http_request_id=request_id())
        answer = {"request_id": created, "status": "pending"}
        if key is not None:
            idempotency.finish(db, status=202, body=answer, **key)
    # The contract: "Always 'pending' on initial submit", even when auto-approved.
    return respond(answer, 202)


def _signup_key() -> dict | None:
    """The Idempotency-Key, as the scope of a signup replay. A replay shows the request's
    claim token, so the key is a secret: at least ``SIGNUP_KEY_MIN`` characters, and only
    its digest is stored."""
    key = idempotency_key()
    if key is None:
        return None
    if len(key) < SIGNUP_KEY_MIN:
        raise SimioError("simio_invalid_field", f"Idempotency-Key on POST /v1/signup must be "
                         f"a random string of at least {SIGNUP_KEY_MIN} characters (a replay "
                         "shows the request's credential claim token).")
    return {"tenant_id": SIGNUP_SCOPE, "route": "POST /v1/signup",
            "key": auth.token_digest(key)}


@bp.get("/v1/signup/<request_id>")
def get_signup(request_id):
    db = get_db()
    row = store.signup(db, request_id) if well_formed("signup", request_id) else None
    if row is None:
        raise SimioError("simio_signup_not_found", SIGNUP_NOT_FOUND)
    return respond(_view(db, row, now()), 200)


@bp.post("/v1/credential-claims")
def claim_credentials():
    wait = ratelimit.check("token")
    if wait is not None:
        return problem("simio_rate_limited", ratelimit.detail("token", wait),
                       {"Retry-After": str(wait)})
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
    token_url = public_url() + "/oauth/token"
    return respond({"client_id": claim["client_id"], "client_secret": secret,
                    "token_url": token_url, "audience": cfg.audience,
                    "grant_type": "client_credentials", "purpose": claim["purpose"]}, 200,
                   headers={"Cache-Control": "no-store", "Pragma": "no-cache"})
