"""The local token issuer and verifier.

The server signs HS256 JWTs with a key generated on first start and kept in the data dir
(mode 0600). Protected routes verify signature, audience, issuer and expiry, and that the
client still exists; every failure is the same 401. Client secrets are stored only as
salted scrypt hashes and compared in constant time; claim tokens as SHA-256 digests.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets
from pathlib import Path

import jwt
from flask import current_app, g, request

from engine.api import write_text
from localapi.clock import now
from localapi.digests import SCRYPT, hash_secret, new_secret, token_digest, verify_secret  # noqa: F401 - their old home
from localapi.problems import Unauthorized
from localapi.store import access as access_store

KEY_FILE = "secrets/signing.key"
DEV_TENANT = "tn_localdev"
DEV_CLIENT = "local-dev"



def load_signing_key(data_dir) -> bytes:
    path = Path(data_dir) / KEY_FILE
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    if not path.exists():
        try:    # exclusive: of two processes starting at once, both end up with one key
            write_text(path, secrets.token_hex(32), exclusive=True)
        except FileExistsError:
            pass
    return bytes.fromhex(path.read_text().strip())


def ensure_dev_tenant(app) -> None:
    """The tenant that tokenless requests act as in --dev mode (loopback only)."""
    from localapi.db import connect, transaction

    conn = connect(app)
    try:
        with transaction(conn):
            access_store.ensure_tenant_and_client(
                conn, tenant_id=DEV_TENANT, company_name="Local development",
                row_quota=app.config["SIMIO"].default_row_quota, client_id=DEV_CLIENT)
    finally:
        conn.close()


def issue_token(client_id: str, tenant_id: str, now: float) -> tuple[str, int]:
    cfg = current_app.config["SIMIO"]
    claims = {"iss": cfg.issuer, "aud": cfg.audience, "sub": client_id, "tenant": tenant_id,
              "iat": int(now), "exp": int(now) + cfg.token_ttl_seconds,
              "jti": secrets.token_hex(8)}
    token = jwt.encode(claims, current_app.config["SIMIO_SIGNING_KEY"], algorithm="HS256")
    return token, cfg.token_ttl_seconds


def _verify(token: str) -> dict:
    cfg = current_app.config["SIMIO"]
    try:
        return jwt.decode(token, current_app.config["SIMIO_SIGNING_KEY"], algorithms=["HS256"],
                          audience=cfg.audience, issuer=cfg.issuer,
                          options={"require": ["exp", "iat", "aud", "iss", "sub"]},
                          leeway=0)
    except jwt.PyJWTError:
        raise Unauthorized() from None


def authenticate() -> None:
    """Set ``g.tenant_id`` and ``g.client_id`` from the bearer token, or raise 401."""
    header = request.headers.get("Authorization", "")
    cfg = current_app.config["SIMIO"]
    if not header and cfg.dev:
        g.tenant_id, g.client_id = DEV_TENANT, DEV_CLIENT
        return
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized()
    claims = _verify(token.strip())
    from localapi.db import get_db

    tenant_id = access_store.client_tenant(get_db(), claims["sub"])
    if tenant_id is None or tenant_id != claims.get("tenant"):
        raise Unauthorized()
    g.tenant_id, g.client_id = tenant_id, claims["sub"]


def require_auth(view):
    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        authenticate()
        return view(*args, **kwargs)
    return wrapped


def sign_download(generation_id: str, expires: int) -> str:
    key = current_app.config["SIMIO_SIGNING_KEY"]
    return hmac.new(key, f"download:{generation_id}:{expires}".encode(), hashlib.sha256).hexdigest()


def download_signature_ok(generation_id: str, expires, sig) -> bool:
    try:
        expires = int(expires)
    except (TypeError, ValueError):
        return False
    if not isinstance(sig, str) or expires < now():
        return False
    return hmac.compare_digest(sign_download(generation_id, expires), sig)
