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

from engine.io.atomic import write_text
from localapi.clock import now
from localapi.problems import Unauthorized

KEY_FILE = "secrets/signing.key"
DEV_TENANT = "tn_localdev"
DEV_CLIENT = "local-dev"
# scrypt cost: ~50 ms per check on a laptop core; client secrets are 256-bit random
# strings, so this only guards against a stolen database, not online guessing.
SCRYPT = {"n": 2 ** 14, "r": 8, "p": 1, "dklen": 32}


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
            conn.execute("INSERT OR IGNORE INTO tenants (tenant_id, company_name, row_quota, "
                         "created_at) VALUES (?, 'Local development', ?, strftime('%s','now'))",
                         (DEV_TENANT, app.config["SIMIO"].default_row_quota))
            conn.execute("INSERT OR IGNORE INTO credentials (client_id, tenant_id, created_at) "
                         "VALUES (?, ?, strftime('%s','now'))", (DEV_CLIENT, DEV_TENANT))
    finally:
        conn.close()


def new_secret() -> str:
    return secrets.token_urlsafe(48)


def hash_secret(secret: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(secret.encode(), salt=salt, **SCRYPT)
    return f"scrypt${salt.hex()}${digest.hex()}"


def verify_secret(secret: str, stored: str | None) -> bool:
    if not stored or not isinstance(secret, str):
        # Still spend the time, so a missing client and a wrong secret look alike.
        hashlib.scrypt(b"x", salt=b"0" * 16, **SCRYPT)
        return False
    _scheme, salt, digest = stored.split("$")
    candidate = hashlib.scrypt(secret.encode(), salt=bytes.fromhex(salt), **SCRYPT)
    return hmac.compare_digest(candidate.hex(), digest)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


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

    row = get_db().execute("SELECT tenant_id FROM credentials WHERE client_id = ?",
                           (claims["sub"],)).fetchone()
    if row is None or row["tenant_id"] != claims.get("tenant"):
        raise Unauthorized()
    g.tenant_id, g.client_id = row["tenant_id"], claims["sub"]


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
