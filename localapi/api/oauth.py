"""``POST /oauth/token``: the client-credentials grant, as Auth0 takes it.

Existing clients mint tokens with ``requests.post(f"https://{AUTH0_DOMAIN}/oauth/token",
json={client_id, client_secret, audience, grant_type})``; pointing ``AUTH0_DOMAIN`` at this
server is enough. Accepted: a JSON body (what the quickstarts send), a form-encoded body
(RFC 6749), and HTTP Basic client authentication (``client_secret_basic``).

Errors use OAuth's shape, not problem+json, because OAuth clients parse ``error``:

- 400 ``invalid_request``: unreadable body, missing or repeated parameters, two client
  authentication methods at once;
- 400 ``unsupported_grant_type``: anything but ``client_credentials``;
- 401 ``{"error": "access_denied", "error_description": "Unauthorized"}`` (Auth0's body) for
  an unknown client, an unclaimed credential, a wrong secret or a wrong audience, all alike
  and all after the same scrypt check, so none can be told from another.

- 429 ``too_many_requests`` with ``Retry-After`` past the ``token`` rate limit (per IP and
  global, ``localapi.ratelimit``).

An omitted ``audience`` means the configured one. Issuance is not audited (too frequent);
nothing here logs a secret or a token.
"""

from __future__ import annotations

from flask import Blueprint, current_app, request

from localapi import auth, ratelimit
from localapi.clock import now
from localapi.db import get_db
from localapi.problems import respond
from localapi.store import access as store

bp = Blueprint("oauth", __name__)

GRANT = "client_credentials"
FORM = "application/x-www-form-urlencoded"
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
FIELDS = ("grant_type", "client_id", "client_secret", "audience")


class _OAuthError(Exception):
    def __init__(self, status: int, error: str, description: str):
        super().__init__(error)
        self.status, self.error, self.description = status, error, description


def _denied() -> _OAuthError:
    return _OAuthError(401, "access_denied", "Unauthorized")


def _invalid(description: str) -> _OAuthError:
    return _OAuthError(400, "invalid_request", description)


def _params() -> dict:
    """The request's token parameters as strings (absent ones omitted)."""
    if request.mimetype == "application/json":
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            raise _invalid("The request body must be a JSON object.")
        params = {k: body[k] for k in FIELDS if body.get(k) is not None}
    elif request.mimetype == FORM:
        params = {}
        for key in FIELDS:
            values = request.form.getlist(key)
            if len(values) > 1:
                raise _invalid(f"Parameter {key!r} is repeated.")
            if values and values[0] != "":
                params[key] = values[0]
    elif not request.get_data(cache=True):
        params = {}
    else:
        raise _invalid(f"Content-Type must be application/json or {FORM}.")
    for key, value in params.items():
        if not isinstance(value, str):
            raise _invalid(f"Parameter {key!r} must be a string.")
    return params


def _client(params: dict) -> tuple[str, str]:
    basic = request.authorization
    if basic is not None and basic.type == "basic":
        if "client_secret" in params:
            raise _invalid("Use one client authentication method: HTTP Basic or "
                           "client_secret in the body, not both.")
        client_id, secret = basic.username or "", basic.password or ""
        if params.get("client_id", client_id) != client_id:
            raise _invalid("client_id in the body does not match HTTP Basic.")
    else:
        client_id, secret = params.get("client_id", ""), params.get("client_secret", "")
    if not client_id or not secret:
        raise _invalid("client_id and client_secret are required.")
    return client_id, secret


@bp.post("/oauth/token")
def token():
    wait = ratelimit.check("token")
    if wait is not None:        # Auth0's shape for its own rate limit
        return respond({"error": "too_many_requests",
                        "error_description": ratelimit.detail("token", wait)}, 429,
                       headers={**NO_STORE, "Retry-After": str(wait)})
    try:
        params = _params()
        grant = params.get("grant_type")
        if grant is None:
            raise _invalid("grant_type is required.")
        if grant != GRANT:
            raise _OAuthError(400, "unsupported_grant_type",
                              f"Only grant_type={GRANT} is supported.")
        client_id, secret = _client(params)
        cfg = current_app.config["SIMIO"]
        cred = store.credential(get_db(), client_id)
        # Always run the scrypt check (verify_secret spends it on a missing hash too).
        secret_ok = auth.verify_secret(secret, cred["secret_hash"] if cred else None)
        if not secret_ok or params.get("audience", cfg.audience) != cfg.audience:
            raise _denied()
        access_token, ttl = auth.issue_token(client_id, cred["tenant_id"], now())
    except _OAuthError as exc:
        return respond({"error": exc.error, "error_description": exc.description},
                       exc.status, headers=NO_STORE)
    return respond({"access_token": access_token, "token_type": "Bearer", "expires_in": ttl},
                   200, headers=NO_STORE)
