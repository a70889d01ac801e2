"""Secrets and tokens as the store keeps them: pure functions, no Flask, no store.

Client secrets are stored only as salted scrypt hashes and compared in constant time; claim
tokens and other one-time keys only as their SHA-256 digest (``token_digest``), for lookup.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

# scrypt cost: ~50 ms per check on a laptop core; client secrets are 256-bit random
# strings, so this only guards against a stolen database, not online guessing.
SCRYPT = {"n": 2 ** 14, "r": 8, "p": 1, "dklen": 32}


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
