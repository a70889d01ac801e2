"""Pagination cursors: opaque, tamper-evident, bound to one tenant and one list.

A cursor is the base64url (no padding) of ``version (1 byte) | last seq (8 bytes, big
endian) | tag (16 bytes)``, where ``tag`` is HMAC-SHA256 under the server's signing key over
the version, the seq, the tenant id and the list's scope (``"datasets"`` or
``"generations:<dataset_id>"``), truncated to 128 bits. The tenant and the scope are not in
the token, only in its MAC: a cursor reveals nothing but a position, and a cursor that was
edited, or minted for another tenant or another list, fails the MAC check. Every failure is
the same ``400 simio_invalid_field``.

Keyset pagination on the monotonic ``seq`` column (newest first: ``seq < cursor``) makes a
walk stable under concurrent inserts: a new row has a higher ``seq`` than every row that
existed when the walk began, so it never shows up on a later page, and no row is repeated
or skipped. Cursors do not expire; the signing key persists in the data dir, so they
survive a restart.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import struct

from engine.errors import SimioError

VERSION = 1
TAG_BYTES = 16
_RAW_LEN = 1 + 8 + TAG_BYTES
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{1,128}$")
INVALID_CURSOR = ("cursor is not a valid pagination cursor for this list; pass next_cursor "
                  "from the previous page of the same list exactly as returned.")
LIMIT_DETAIL = "limit must be an integer between 1 and 100."
DEFAULT_LIMIT, MAX_LIMIT = 25, 100


def _tag(key: bytes, tenant_id: str, scope: str, seq: int) -> bytes:
    message = b"\x00".join([b"simio-cursor", bytes([VERSION]), str(seq).encode(),
                            tenant_id.encode(), scope.encode()])
    return hmac.new(key, message, hashlib.sha256).digest()[:TAG_BYTES]


def encode(key: bytes, *, tenant_id: str, scope: str, seq: int) -> str:
    raw = bytes([VERSION]) + struct.pack(">Q", seq) + _tag(key, tenant_id, scope, seq)
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def decode(key: bytes, token: str, *, tenant_id: str, scope: str) -> int:
    """The ``seq`` a cursor points after; 400 ``simio_invalid_field`` for anything else."""
    if not isinstance(token, str) or not _TOKEN.fullmatch(token):
        raise SimioError("simio_invalid_field", INVALID_CURSOR)
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except ValueError:
        raise SimioError("simio_invalid_field", INVALID_CURSOR) from None
    # Canonical form only: base64 has spare bits in its last character, so two spellings
    # can decode to the same bytes; an edited spelling must not pass.
    if len(raw) != _RAW_LEN or base64.urlsafe_b64encode(raw).rstrip(b"=").decode() != token:
        raise SimioError("simio_invalid_field", INVALID_CURSOR)
    if raw[0] != VERSION:
        raise SimioError("simio_invalid_field", INVALID_CURSOR)
    (seq,) = struct.unpack(">Q", raw[1:9])
    if not hmac.compare_digest(raw[9:], _tag(key, tenant_id, scope, seq)):
        raise SimioError("simio_invalid_field", INVALID_CURSOR)
    return seq


def parse_limit(value) -> int:
    """The ``limit`` query parameter: absent means 25; else an integer 1..100, or 400."""
    if value is None:
        return DEFAULT_LIMIT
    if not (isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 6):
        raise SimioError("simio_invalid_field", LIMIT_DETAIL)
    limit = int(value)
    if not 1 <= limit <= MAX_LIMIT:
        raise SimioError("simio_invalid_field", LIMIT_DETAIL)
    return limit


def page(rows, limit: int, make_cursor) -> tuple[list, str | None]:
    """Split ``limit + 1`` fetched rows into the page and its ``next_cursor`` (None at the
    end). ``make_cursor(seq)`` mints the cursor for the page's last row."""
    rows = list(rows)
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    return rows, make_cursor(rows[-1]["seq"])
