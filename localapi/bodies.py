"""Request bodies: JSON endpoints take JSON only, with errors that say what to fix.

Limits (issue 10): a JSON body is at most ``MAX_JSON_BYTES`` (the app caps every request
that is not a seed upload at this size before reading it, see ``localapi.problems``), nests
at most ``MAX_DEPTH`` deep (checked on the raw bytes before ``json.loads`` could recurse),
integer fields take JSON integers only (not ``"10"`` nor ``100.0``), and seeds lie in
``[0, 2**63 - 1]`` (the engine's request rule, ``engine.api.check_seed``).
"""

from __future__ import annotations

import json
import re

import numpy as np
from flask import request

from engine.api import SEED_MAX  # noqa: F401 - the one seed bound, shown in errors
from engine.errors import SimioError
from localapi.ids import well_formed


MAX_JSON_BYTES = 1024 * 1024
MAX_DEPTH = 32
_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")


def nesting_depth(raw: bytes) -> int:
    """How deep ``raw`` nests arrays and objects (brackets inside strings do not count);
    linear time, no recursion, whatever the input."""
    brackets = _STRING.sub(b"", raw).translate(None, _NOT_BRACKETS)
    if not brackets:
        return 0
    steps = np.frombuffer(brackets, dtype=np.uint8)
    return int(np.cumsum(np.where((steps == ord("[")) | (steps == ord("{")), 1, -1)).max())


def json_object(required: bool = True) -> dict:
    """The request's JSON object; 415 for another media type, 400 for empty or bad JSON."""
    raw = request.get_data(cache=True)
    if not raw.strip():
        if not required:
            return {}
        raise SimioError("simio_invalid_field", "The request body is empty. Send a JSON object "
                         "with `Content-Type: application/json`.")
    if request.mimetype != "application/json":
        raise SimioError("simio_unsupported_content_type",
                         f"Content-Type must be application/json (got "
                         f"{request.mimetype or 'none'!r}).")
    if len(raw) > MAX_JSON_BYTES:
        raise body_too_large()
    if nesting_depth(raw) > MAX_DEPTH:
        raise SimioError("simio_nesting_too_deep", f"The JSON body nests deeper than "
                         f"{MAX_DEPTH} levels; at most {MAX_DEPTH} are accepted.")
    try:
        body = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SimioError("simio_invalid_field", f"The request body is not valid JSON ({exc}).")
    if not isinstance(body, dict):
        raise SimioError("simio_invalid_field", "The request body must be a JSON object.")
    return body


def string_field(body: dict, name: str, *, min_len=1, max_len=256, required=True) -> str | None:
    value = body.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not min_len <= len(value.strip()) <= max_len:
        raise SimioError("simio_invalid_field", f"Field {name!r} must be a string of "
                         f"{min_len} to {max_len} characters.")
    if any(ord(ch) < 32 for ch in value):
        raise SimioError("simio_invalid_field", f"Field {name!r} must not contain control "
                         f"characters.")
    return value.strip()


def body_too_large() -> SimioError:
    return SimioError("simio_request_body_too_large", f"The request body exceeds "
                      f"{MAX_JSON_BYTES:,} bytes, the limit for JSON bodies and form fields "
                      "(seed files have their own limit).")


def int_field(value, name: str, *, minimum: int, maximum: int | None = None, default=None,
              form: bool = False) -> int:
    """An integer field. JSON takes JSON integers only; a multipart ``form`` field is text,
    so there decimal digits are accepted too."""
    if value is None or (form and value == ""):
        if default is not None:
            return default
        raise SimioError("simio_invalid_field", f"Field {name!r} is required.")
    if isinstance(value, bool):
        value = None
    elif form and isinstance(value, str) and value.strip().lstrip("-").isdigit():
        value = int(value.strip())
    if not isinstance(value, int) or value < minimum or (maximum is not None and value > maximum):
        upper = f" up to {maximum}" if maximum is not None else ""
        raise SimioError("simio_invalid_field", f"{name} must be an integer of at least "
                         f"{minimum}{upper}.")
    return value


def idempotency_key(body_value=None) -> str | None:
    """The Idempotency-Key header (preferred) or the body/form field, format-checked."""
    key = request.headers.get("Idempotency-Key") or body_value
    if key is None:
        return None
    if not isinstance(key, str) or not well_formed("idempotency_key", key):
        raise SimioError("simio_invalid_field", "Idempotency-Key must match "
                         "^[A-Za-z0-9._:-]{1,128}$.")
    return key
