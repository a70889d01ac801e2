"""Meta routes: health and the error catalogue pages; registers the docs routes.

``/errors`` and ``/errors/<code>`` are rendered from ``engine.errors.CATALOGUE`` only (the
one place an error is written down): JSON by default, HTML when the ``Accept`` header
prefers ``text/html`` over JSON (a browser following a problem's ``type`` URL). An unknown
code is a ``404 simio_not_found`` problem in either case.
"""

from __future__ import annotations

import shutil

from flask import Blueprint, current_app, render_template_string, request

from engine.errors import CATALOGUE
from localapi.api import docs
from localapi.db import get_db
from localapi.problems import problem, public_url, request_id, respond
from localapi.store import records

bp = Blueprint("meta", __name__)
# Below this much free disk the store cannot take a seed upload or an artifact safely.
MIN_FREE_BYTES = 256 * 1024 * 1024
SUPPORT = "Quote the response's request_id (X-Request-Id) when asking for help."


@bp.record_once
def _register_docs(state) -> None:
    """The docs routes (/, /docs, /__docs__/, /openapi.json, /llms.txt) come with meta."""
    if docs.bp.name not in state.app.blueprints:
        state.app.register_blueprint(docs.bp)


@bp.get("/healthz")
def healthz():
    checks = {}
    try:
        records.ping(get_db())
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
            "fix": spec.fix, "retryable": spec.retryable, "support": SUPPORT,
            "url": f"{public_url()}/errors/{code}"}


def wants_html() -> bool:
    """True when the client ranks text/html above JSON (browsers do; curl's */* does not)."""
    accept = request.accept_mimetypes
    return accept["text/html"] > max(accept["application/json"],
                                     accept["application/problem+json"])


def _vary(response):
    response.headers.add("Vary", "Accept")
    return response


_INDEX_HTML = """<main class="simio-page">
<h1>Error catalogue</h1>
<p>Every problem response (<code>application/problem+json</code>) carries a stable
<code>code</code>; its <code>type</code> URL is this server's <code>/errors/{code}</code>.
Branch on <code>code</code>, not on <code>detail</code>. {{ support }}
This page is also JSON: send <code>Accept: application/json</code>.</p>
<table class="simio-errors">
<thead><tr><th>Code</th><th>Status</th><th>Title</th><th>Retryable</th><th>Fix</th></tr></thead>
<tbody>
{%- for e in entries %}
<tr id="{{ e.code }}"><td><a href="{{ e.path }}"><code>{{ e.code }}</code></a></td>
<td>{{ e.status }}</td><td>{{ e.title }}</td><td>{{ "yes" if e.retryable else "no" }}</td>
<td>{{ e.fix }}</td></tr>
{%- endfor %}
</tbody>
</table>
</main>"""

_CODE_HTML = """<main class="simio-page">
<p><a href="{{ index }}">&larr; Error catalogue</a></p>
<h1><code>{{ e.code }}</code></h1>
<p class="simio-lead">{{ e.status }} &middot; {{ e.title }}</p>
<dl class="simio-error">
  <dt>Cause</dt><dd>{{ e.cause }}</dd>
  <dt>Fix</dt><dd>{{ e.fix }}</dd>
  <dt>Retryable</dt><dd>{{ "Yes: retry with backoff (and the same Idempotency-Key for a POST)."
    if e.retryable else "No: change the request before sending it again." }}</dd>
  <dt>Support</dt><dd>{{ e.support }}</dd>
</dl>
<h2>Example problem body</h2>
<pre><code>{{ example }}</code></pre>
</main>"""


@bp.get("/errors")
def errors_index():
    entries = [_entry(code) for code in sorted(CATALOGUE)]
    if wants_html():
        for entry in entries:
            entry["path"] = f"{request.script_root}/errors/{entry['code']}"
        body = render_template_string(_INDEX_HTML, entries=entries, support=SUPPORT)
        return _vary(docs.page("Error catalogue - simio-local", body))
    return _vary(respond({"errors": entries, "request_id": request_id()}, 200))


@bp.get("/errors/<code>")
def error_page(code):
    if code not in CATALOGUE:
        return _vary(problem("simio_not_found",
                             f"No error code {code!r} in the catalogue; see /errors."))
    entry = _entry(code)
    if wants_html():
        spec = CATALOGUE[code]
        example = current_app.json.dumps(
            {"type": entry["url"], "title": spec.http_title, "status": spec.status,
             "detail": "What is wrong with this request.", "code": code,
             "request_id": "req_..."}, indent=2)
        body = render_template_string(_CODE_HTML, e=entry, example=example,
                                      index=f"{request.script_root}/errors")
        return _vary(docs.page(f"{code} - simio-local errors", body))
    return _vary(respond({**entry, "request_id": request_id()}, 200))
