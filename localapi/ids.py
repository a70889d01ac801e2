"""Identifiers: prefixed, random, URL-safe; and the contract's id patterns (404 if malformed)."""

from __future__ import annotations

import re
import secrets
import string

_ALPHABET = string.ascii_letters + string.digits

PATTERNS = {
    "dataset": re.compile(r"^[A-Za-z0-9_-]{1,128}$"),
    "generation": re.compile(r"^[A-Za-z0-9_-]{1,128}$"),
    "job": re.compile(r"^job_[A-Za-z0-9_-]{4,128}$"),
    "signup": re.compile(r"^req_[A-Za-z0-9]{1,64}$"),
    "rotation": re.compile(r"^rot_[A-Za-z0-9]{1,64}$"),
    "idempotency_key": re.compile(r"^[A-Za-z0-9._:-]{1,128}$"),
}


def new_id(prefix: str, length: int = 22) -> str:
    return prefix + "_" + "".join(secrets.choice(_ALPHABET) for _ in range(length))


def well_formed(kind: str, value: str) -> bool:
    return isinstance(value, str) and PATTERNS[kind].fullmatch(value) is not None
