"""Request bodies: JSON endpoints take JSON only, with errors that say what to fix."""

from __future__ import annotations

import json

from flask import request

from engine.errors import SimioError
from localapi.ids import well_formed


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


def int_field(value, name: str, *, minimum: int, maximum: int | None = None, default=None) -> int:
    if value is None or value == "":
        if default is not None:
            return default
        raise SimioError("simio_invalid_field", f"Field {name!r} is required.")
    if isinstance(value, bool):
        value = None
    elif isinstance(value, str) and value.strip().lstrip("-").isdigit():
        value = int(value.strip())
    elif isinstance(value, float) and value.is_integer():
        value = int(value)
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
