"""Docs routes: ``/`` (landing page), ``/docs`` and ``/__docs__/`` (interactive docs),
``/openapi.json`` (our contract), ``/llms.txt`` (notes for coding agents) and the two
badge images the contract's description shows (``/assets/compliance/*.png``).

Everything is served by this server: Swagger UI is vendored under ``localapi/static/
swagger-ui/`` (served by the app's ``/static`` route) and our small page script and
stylesheet under ``localapi/static/docs/``. The HTML pages carry a Content-Security-Policy
that lets the browser load nothing from any other origin, so the docs work (and can only
work) offline.

The docs page adds, as the contract describes:
- an *Exchange credentials and fill HTTP Bearer* form (client_id + client_secret ->
  ``POST /oauth/token`` on this server -> ``ui.preauthorizeApiKey("bearerAuth", jwt)``);
- a per-tab ``Idempotency-Key`` on ``POST /v1/credential-rotations`` (sessionStorage);
- the applied authorization kept for the browser-tab session only (sessionStorage, not
  Swagger UI's localStorage ``persistAuthorization``): reopening the docs needs a fresh
  exchange, a reload in the same tab does not.
"""

from __future__ import annotations

import re

from flask import Blueprint, abort, current_app, render_template_string, request, url_for
from markupsafe import Markup

from engine.errors import CATALOGUE
from localapi import openapi
from localapi.problems import public_url, respond

bp = Blueprint("docs", __name__)

PRODUCT = openapi.PRODUCT
TITLE = "Simulacra Headless API"
SWAGGER_UI_VERSION = "5.35.0"     # localapi/static/swagger-ui/README.md says where from
# Nothing from another origin: not a script, a stylesheet, an image, a font or a fetch.
# Swagger UI sets inline styles, hence style-src 'unsafe-inline'; no inline script at all.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
       "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; "
       "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'")
HTML = "text/html; charset=utf-8"

_LAYOUT = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }}</title>
<link rel="icon" type="image/png" href="{{ favicon }}">
{%- for sheet in stylesheets %}
<link rel="stylesheet" href="{{ sheet }}">
{%- endfor %}
</head>
<body>
<header class="simio-bar">
  <a class="simio-brand" href="{{ url_for('docs.landing') }}">{{ product }}</a>
  <span class="simio-sub">offline twin of the {{ api_title }}</span>
  <nav>
    <a href="{{ url_for('docs.docs') }}">Docs</a>
    <a href="{{ url_for('docs.openapi_json') }}">/openapi.json</a>
    <a href="{{ url_for('meta.errors_index') }}">/errors</a>
    <a href="{{ url_for('docs.llms_txt') }}">/llms.txt</a>
    <a href="{{ url_for('meta.healthz') }}">/healthz</a>
  </nav>
</header>
{{ body }}
{%- for script in scripts %}
<script src="{{ script }}"></script>
{%- endfor %}
</body>
</html>
"""


def page(title: str, body: str | Markup, *, scripts=(), stylesheets=(), status: int = 200):
    """An HTML response in the shared layout (local assets only, strict CSP)."""
    sheets = [*stylesheets, url_for("static", filename="docs/simio.css")]
    html = render_template_string(
        _LAYOUT, title=title, body=Markup(body), scripts=scripts, stylesheets=sheets,
        favicon=url_for("static", filename="swagger-ui/favicon-32x32.png"), product=PRODUCT,
        api_title=TITLE)
    response = current_app.response_class(html, status=status, mimetype="text/html")
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def base_url() -> str:
    return public_url()


# -- landing page ------------------------------------------------------------------------

_LANDING = """<main class="simio-page">
<h1>{{ product }}</h1>
<p class="simio-lead">An offline, air-gapped twin of the <strong>{{ api_title }}</strong>.
Point existing Simulacra client code at <code>{{ base }}</code> by changing environment
variables only (<code>SIMIO_API_BASE</code>, <code>SIMIO_AUTH0_DOMAIN</code>).</p>
<ul class="simio-links">
  <li><a href="{{ url_for('docs.docs') }}">Interactive API docs</a> &mdash; try every
    operation from the browser; exchange credentials for a bearer token in the page.</li>
  <li><a href="{{ url_for('docs.openapi_json') }}">/openapi.json</a> &mdash; the
    canonical machine-readable contract (OpenAPI 3.1).</li>
  <li><a href="{{ url_for('meta.errors_index') }}">/errors</a> &mdash; the error catalogue:
    every problem <code>code</code> with its cause, fix and retryability.</li>
  <li><a href="{{ url_for('docs.llms_txt') }}">/llms.txt</a> &mdash; start here if you
    are a coding agent.</li>
  <li><a href="{{ url_for('meta.healthz') }}">/healthz</a> &mdash; health check (store and
    disk).</li>
</ul>
<p>Workflow: sign up &rarr; claim credentials &rarr; <code>POST /oauth/token</code> on this
server &rarr; upload a seed &rarr; read the cleaned schema &rarr; generate a scenario
&rarr; download.</p>
</main>"""


@bp.get("/")
def landing():
    body = render_template_string(_LANDING, product=PRODUCT, api_title=TITLE, base=base_url())
    return page(f"{PRODUCT} - {TITLE}", body)


# -- interactive docs --------------------------------------------------------------------

_DOCS = """<section id="authentication" class="simio-auth" aria-labelledby="simio-auth-title">
  <h2 id="simio-auth-title">Authentication</h2>
  <p>Protected operations need an <strong>HTTP Bearer</strong> JWT minted by this server
  (it starts with <code>eyJ</code>; it is <em>not</em> your client_secret). Paste one with
  <strong>Authorize</strong> below, or exchange your credentials here. The token is kept for
  this browser tab only; reopening the docs needs a fresh exchange.</p>
  <form id="simio-exchange" class="simio-exchange" method="post" action="{{ token_url }}"
        autocomplete="off">
    <h3>Exchange credentials and fill HTTP Bearer</h3>
    <input type="hidden" name="grant_type" value="client_credentials">
    <label>client_id <input name="client_id" id="simio-client-id" required
      autocomplete="off" spellcheck="false"></label>
    <label>client_secret <input name="client_secret" id="simio-client-secret"
      type="password" required autocomplete="off" spellcheck="false"></label>
    <button type="submit">Exchange and authorize</button>
    <output id="simio-exchange-status" role="status" aria-live="polite"></output>
  </form>
</section>
<div id="swagger-ui" data-openapi-url="{{ spec_url }}" data-token-url="{{ token_url }}"
     data-bearer-scheme="bearerAuth"></div>"""


@bp.get("/docs")
def docs():
    body = render_template_string(_DOCS, spec_url=url_for("docs.openapi_json"),
                                  token_url=url_for("oauth.token"))
    return page(f"{TITLE} docs - {PRODUCT}", body,
                stylesheets=[url_for("static", filename="swagger-ui/swagger-ui.css")],
                scripts=[url_for("static", filename="swagger-ui/swagger-ui-bundle.js"),
                         url_for("static", filename="docs/docs.js")])


@bp.get("/__docs__/")
def docs_alias():
    return docs()


# The contract's description shows two compliance badges at /assets/compliance/*.png. They
# describe the hosted service; our stand-ins say so (SVG, whatever the extension says).
COMPLIANCE_BADGES = {"soc2.png": "compliance/soc2.svg",
                     "iso27001.png": "compliance/iso27001.svg"}


@bp.get("/assets/compliance/<name>")
def compliance_badge(name):
    if name not in COMPLIANCE_BADGES:
        abort(404)
    response = current_app.send_static_file(COMPLIANCE_BADGES[name])
    response.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    return response


# -- the contract ------------------------------------------------------------------------

@bp.get("/openapi.json")
def openapi_json():
    cfg = current_app.config["SIMIO"]
    doc = openapi.build(base_url(), audience=cfg.audience,
                        token_ttl_seconds=cfg.token_ttl_seconds)
    return respond(doc, 200)


# -- notes for coding agents -------------------------------------------------------------

def routed(path: str, method: str) -> bool:
    """Whether the app routes ``METHOD path`` (an OpenAPI path, ``{param}`` placeholders)."""
    from werkzeug.exceptions import HTTPException
    from werkzeug.routing import RequestRedirect

    adapter = current_app.url_map.bind("localhost")
    concrete = re.sub(r"\{[^}/]+\}", "x", path)
    try:
        adapter.match(concrete, method=method)
    except RequestRedirect:
        return True
    except HTTPException:
        return False
    return True


def _summary(op: dict) -> str:
    return re.sub(r"^\d+[a-z]?\.\s*", "", op.get("summary", "")).strip()


def llms_text(base: str, doc: dict) -> str:
    ops = [(p, m, op) for p, m, op in openapi.operations(doc) if routed(p, m)]
    guided = sorted((op.get("summary", ""), m, p, op) for p, m, op in ops
                    if "Guided Workflow" in op.get("tags", []))
    lines = [
        f"# {PRODUCT}: {TITLE} (offline twin)",
        "",
        f"> {PRODUCT} serves the {TITLE} contract from this machine, offline. The "
        f"base URL is {base}. Clients written for the hosted API work after changing "
        "environment variables only: SIMIO_API_BASE=" + base + " and SIMIO_AUTH0_DOMAIN="
        + base.split("://", 1)[-1] + " (this server is also the token issuer"
        + ("; clients that build https://{SIMIO_AUTH0_DOMAIN}/oauth/token need the "
           "server started with --tls" if base.startswith("http://") else "") + ").",
        "",
        "Start points:",
        "",
        f"- [OpenAPI contract]({base}/openapi.json): the canonical contract. Read it "
        "before writing client code; do not guess fields, paths or codes.",
        f"- [Interactive docs]({base}/docs): Swagger UI with Try-It, served offline.",
        f"- [Error catalogue]({base}/errors): every problem `code` with cause, fix and "
        f"retryability; one page per code at {base}/errors/{{code}}.",
        f"- [Health]({base}/healthz): store and disk checks, no auth.",
        "",
        "## Guided workflow (in this order)",
        "",
    ]
    for i, (_, method, path, op) in enumerate(guided, 1):
        auth = "bearer token" if op.get("security") else "no auth"
        lines.append(f"{i}. `{method} {path}`: {_summary(op)} ({auth})")
    lines += [
        "",
        "## Rules",
        "",
        "- Authentication: mint a token with `POST /oauth/token` on this server "
        "(JSON: client_id, client_secret, audience, grant_type=client_credentials) and "
        "send `Authorization: Bearer <access_token>`. The token is a JWT starting with "
        "`eyJ`, never the client_secret. Every auth failure is the same 401.",
        "- Schema first: before building `conditions`, `GET "
        "/v1/datasets/{dataset_id}/schema` and use its cleaned column names and `levels`. "
        "Cleaning may rename or drop columns and remove rare levels; never condition on "
        "original headers or on columns with `conditioning_excluded: true`. Categorical "
        "targets are shares between 0 and 1 (0.55, not 55); numeric ranges need both "
        "`min` and `max`.",
        "- Idempotency: send an `Idempotency-Key` header (`^[A-Za-z0-9._:-]{1,128}$`) on "
        "every `POST /v1/datasets`, `POST /v1/datasets/{dataset_id}/generations` and "
        "`POST /v1/credential-rotations`. Retry with the same key and the same body to get "
        "the first response again (`Idempotent-Replayed: true`); a different body with "
        "the same key is 409 `simio_idempotency_conflict`. New work needs a new key.",
        "- Async work and polling: `202 Accepted` is normal for training and generation. "
        "Poll `GET /v1/jobs/{job_id}` (every 2 s in the quickstarts; jittered "
        "exponential backoff with a deadline in production) until `completed`, "
        "`failed`, `cancelled` or `expired`; `wait_seconds` lets a POST wait up to that "
        "long before answering 202.",
        "- Generations: poll `GET /v1/generations/{generation_id}` until `ready` or "
        "`partial` with an `artifact_url`. `partial` means fewer rows were feasible; "
        "never more than `row_count`. Check `rows_generated`. Relative `artifact_url`s "
        "point back to this server and need the bearer token.",
        "- Identifiers (`dataset_id`, `generation_id`, `job_id`, `request_id`) are JSON "
        "strings; never index them with [0].",
        "- Errors are `application/problem+json` with `type`, `title`, `status`, "
        "`detail`, `code` and `request_id`; branch on `code`, not on `detail`. Retry only "
        "429 and 5xx (with backoff); fix the request for other 4xx.",
        "- Never log or print bearer tokens, client secrets, claim tokens, artifact URLs or "
        "customer data. Do keep `X-Request-Id` / body `request_id` for support.",
        "",
        "## Problem codes",
        "",
    ]
    for code in sorted(CATALOGUE):
        spec = CATALOGUE[code]
        retry = " Retryable." if spec.retryable else ""
        lines.append(f"- `{code}` ({spec.status} {spec.title}): {spec.fix}{retry}")
    others = [(p, m, op) for p, m, op in ops if "Guided Workflow" not in op.get("tags", [])]
    lines += ["", "## Optional", ""]
    for path, method, op in others:
        lines.append(f"- `{method} {path}`: {_summary(op) or op.get('operationId', '')}")
    return "\n".join(lines) + "\n"


@bp.get("/llms.txt")
def llms_txt():
    cfg = current_app.config["SIMIO"]
    doc = openapi.build(base_url(), audience=cfg.audience,
                        token_ttl_seconds=cfg.token_ttl_seconds)
    response = current_app.response_class(llms_text(base_url(), doc), status=200,
                                          mimetype="text/plain")
    return response
