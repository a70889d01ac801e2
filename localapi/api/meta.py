"""Meta routes: health, the error catalogue pages."""

from __future__ import annotations

import shutil

from flask import Blueprint, current_app, request

from engine.errors import CATALOGUE
from localapi.db import get_db
from localapi.problems import problem, request_id, respond

bp = Blueprint("meta", __name__)
# Below this much free disk the store cannot take a seed upload or an artifact safely.
MIN_FREE_BYTES = 256 * 1024 * 1024


@bp.get("/healthz")
def healthz():
    checks = {}
    try:
        get_db().execute("SELECT 1").fetchone()
        checks["store"] = "ok"
    except Exception:  # the check reports, it does not raise
        checks["store"] = "failed"
    free = shutil.disk_usage(current_app.config["SIMIO"].data_dir).free
    checks["disk"] = "ok" if free >= MIN_FREE_BYTES else "low"
    healthy = all(v == "ok" for v in checks.values())
    return respond({"status": "ok" if healthy else "degraded", "checks": checks,
                    "request_id": request_id()}, 200 if healthy else 503)


def _entry(code: str) -> dict:
    spec = CATALOGUE[code]
    return {"code": code, "status": spec.status, "title": spec.title, "cause": spec.cause,
            "fix": spec.fix, "retryable": spec.retryable,
            "support": "Quote the response's request_id (X-Request-Id) when asking for help.",
            "url": f"{request.host_url.rstrip('/')}/errors/{code}"}


@bp.get("/errors")
def errors_index():
    return respond({"errors": [_entry(code) for code in sorted(CATALOGUE)],
                    "request_id": request_id()}, 200)


@bp.get("/errors/<code>")
def error_page(code):
    if code not in CATALOGUE:
        return problem("simio_not_found", f"No error code {code!r} in the catalogue; see /errors.")
    return respond({**_entry(code), "request_id": request_id()}, 200)
