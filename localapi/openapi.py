"""Our contract: the seed contract plus what this server adds, served at ``/openapi.json``.

The seed (``openapi_seed.json``, a verbatim copy of the Simulacra Headless API contract
shipped as package data so the server needs nothing outside the package) stays the
source of truth: every path, operation, status code, error code, schema and example in it
is kept as it is. ``build(base_url, ...)`` returns a fresh copy with, on top:

- ``servers``: this server's base URL (the request's host URL), so generated clients and
  the interactive docs' Try-It call this server;
- ``bearerAuth`` described for the local token issuer (``POST /oauth/token`` here);
- the operations this server adds, documented: ``POST /oauth/token``, ``GET /errors``,
  ``GET /errors/{code}``, ``GET /llms.txt``, ``GET /openapi.json``; and summaries and
  responses for the seed's bare docs/health operations (``/``, ``/docs``, ``/__docs__/``,
  ``/healthz``), whose operationIds and parameters stay as the seed has them;
- a ``Local Server`` tag for those.

Problem ``type`` URLs inside the seed's examples keep their hosted text; live responses
carry this server's ``/errors/{code}``.
"""

from __future__ import annotations

import copy
import json
from functools import lru_cache
from pathlib import Path

from engine.errors import CATALOGUE
from localapi.openapi_formats import add_research_formats

SEED_PATH = Path(__file__).with_name("openapi_seed.json")
LOCAL_TAG = "Local Server"
PRODUCT = "simio-local"

_PROBLEM_SCHEMA = {
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "code": {"type": "string", "description": "Stable error code; see /errors/{code}."},
        "request_id": {"type": "string"},
    },
}

_ERROR_ENTRY = {
    "type": "object",
    "required": ["code", "status", "title", "cause", "fix", "retryable", "support", "url"],
    "properties": {
        "code": {"type": "string", "example": "simio_unknown_condition_column"},
        "status": {"type": "integer", "example": 400},
        "title": {"type": "string"},
        "cause": {"type": "string"},
        "fix": {"type": "string"},
        "retryable": {"type": "boolean"},
        "support": {"type": "string"},
        "url": {"type": "string", "format": "uri"},
    },
}


@lru_cache(maxsize=1)
def _seed_text() -> str:
    return SEED_PATH.read_text(encoding="utf-8")


def seed() -> dict:
    """A fresh copy of the seed contract (callers may mutate it)."""
    return json.loads(_seed_text())


def _oauth_token_operation() -> dict:
    oauth_error = {
        "type": "object",
        "required": ["error"],
        "properties": {"error": {"type": "string"},
                       "error_description": {"type": "string"}},
    }
    params = {
        "type": "object",
        "required": ["grant_type", "client_id", "client_secret"],
        "properties": {
            "grant_type": {"type": "string", "enum": ["client_credentials"]},
            "client_id": {"type": "string"},
            "client_secret": {"type": "string", "format": "password",
                              "description": "The secret from POST /v1/credential-claims. "
                                             "Never log it or paste it into Authorize."},
            "audience": {"type": "string",
                         "description": "Optional; defaults to this server's configured "
                                        "audience. Any other value is refused (401)."},
        },
    }
    return {
        "tags": ["Guided Workflow"],
        "summary": "03b. Mint a bearer token (this server is the token issuer)",
        "description": (
            "The client-credentials grant, as Auth0 takes it: this local server stands in "
            "for `https://{SIMIO_AUTH0_DOMAIN}/oauth/token`, so clients written for the "
            "hosted API only change `SIMIO_AUTH0_DOMAIN` to this server's host:port. Send "
            "JSON (as the quickstarts do), form data (RFC 6749), or HTTP Basic client "
            "authentication. The returned `access_token` is a JWT (it starts with `eyJ`); "
            "send it as `Authorization: Bearer <JWT>` or use the docs page's *Exchange "
            "credentials and fill HTTP Bearer* form. Errors use OAuth's shape, not "
            "problem+json. Unknown client, wrong secret and wrong audience are the same 401."),
        "operationId": "mintAccessToken",
        "security": [],
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": params,
                    "example": {"client_id": "YOUR_CLIENT_ID",
                                "client_secret": "YOUR_CLIENT_SECRET",
                                "audience": "https://api.simulacra-data.com",
                                "grant_type": "client_credentials"}},
                "application/x-www-form-urlencoded": {"schema": params},
            },
        },
        "responses": {
            "200": {"description": "A signed bearer token for this server's audience.",
                    "content": {"application/json": {
                        "schema": {"type": "object",
                                   "required": ["access_token", "token_type", "expires_in"],
                                   "properties": {
                                       "access_token": {"type": "string"},
                                       "token_type": {"type": "string", "enum": ["Bearer"]},
                                       "expires_in": {"type": "integer",
                                                      "description": "Seconds."}}},
                        "example": {"access_token": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9...",
                                    "token_type": "Bearer", "expires_in": 86400}}}},
            "400": {"description": "`invalid_request` or `unsupported_grant_type`.",
                    "content": {"application/json": {
                        "schema": oauth_error,
                        "example": {"error": "unsupported_grant_type",
                                    "error_description":
                                        "Only grant_type=client_credentials is supported."}}}},
            "401": {"description": "Unknown client, wrong secret or wrong audience (alike).",
                    "content": {"application/json": {
                        "schema": oauth_error,
                        "example": {"error": "access_denied",
                                    "error_description": "Unauthorized"}}}},
        },
    }


def _html_or_json(description: str, json_schema: dict, html: str) -> dict:
    return {"description": description,
            "content": {"application/json": {"schema": json_schema},
                        "text/html": {"schema": {"type": "string"},
                                      "example": html}}}


def _problem_response(description: str, code: str) -> dict:
    spec = CATALOGUE[code]
    return {"description": description,
            "content": {"application/problem+json": {
                "schema": _PROBLEM_SCHEMA,
                "example": {"type": f"/errors/{code}", "title": spec.http_title,
                            "status": spec.status, "detail": "...", "code": code,
                            "request_id": "req_..."}}}}


def _local_operations() -> dict:
    """Paths this server adds (not in the seed)."""
    errors_list = {"type": "object", "required": ["errors", "request_id"],
                   "properties": {"errors": {"type": "array", "items": _ERROR_ENTRY},
                                  "request_id": {"type": "string"}}}
    code_param = {"name": "code", "in": "path", "required": True,
                  "description": "A stable error code, as in a problem body's `code`.",
                  "schema": {"type": "string", "pattern": "^simio_[a-z_]+$"},
                  "example": "simio_unknown_condition_column"}
    return {
        "/oauth/token": {"post": _oauth_token_operation()},
        "/errors": {"get": {
            "tags": [LOCAL_TAG],
            "summary": "Error catalogue index",
            "description": "Every stable error `code` with its HTTP status, cause, fix, "
                           "retryability and support guidance. JSON by default; HTML when "
                           "the `Accept` header prefers `text/html` (a browser).",
            "operationId": "listErrorCodes",
            "security": [],
            "responses": {"200": _html_or_json("The catalogue.", errors_list,
                                               "<!doctype html>...")},
        }},
        "/errors/{code}": {"get": {
            "tags": [LOCAL_TAG],
            "summary": "One error code: cause, fix, retryability",
            "description": "What a problem response's `type` URL resolves to. JSON by "
                           "default; HTML when `Accept` prefers `text/html`.",
            "operationId": "getErrorCode",
            "security": [],
            "parameters": [code_param],
            "responses": {
                "200": _html_or_json("The catalogue entry.",
                                     {**_ERROR_ENTRY, "properties": {
                                         **_ERROR_ENTRY["properties"],
                                         "request_id": {"type": "string"}}},
                                     "<!doctype html>..."),
                "404": _problem_response("No such code in the catalogue.", "simio_not_found"),
            },
        }},
        "/llms.txt": {"get": {
            "tags": [LOCAL_TAG],
            "summary": "Start here: notes for coding agents",
            "description": "Plain-text orientation for coding agents: where to start, the "
                           "guided workflow order, schema-first conditions, idempotency, "
                           "polling, problem codes, and what never to log.",
            "operationId": "getLlmsTxt",
            "security": [],
            "responses": {"200": {"description": "Plain text (Markdown).",
                                  "content": {"text/plain": {"schema": {"type": "string"}}}}},
        }},
        "/v1/generations/{generation_id}/report": {"get": {
            "tags": ["Dataset Management"],
            "summary": "Quality report of a generation (HTML)",
            "description": "A self-contained HTML page (plots inline, no external resources) "
                           "comparing the generation with the dataset's cleaned seed: "
                           "per-column distributions, the pairwise-association difference, "
                           "target vs achieved shares and range violations for a scenario, "
                           "and the fidelity scores. Requires the bearer token.",
            "operationId": "getGenerationReport",
            "security": [{"bearerAuth": []}],
            "parameters": [{"name": "generation_id", "in": "path", "required": True,
                            "description": "Generation identifier. Malformed values "
                                           "return 404.",
                            "schema": {"type": "string"}}],
            "responses": {
                "200": {"description": "The report.",
                        "content": {"text/html": {"schema": {"type": "string"}}}},
                "401": {"description": "Bearer token missing or invalid (uniform)."},
                "404": _problem_response("Generation missing, expired, not finished, or "
                                         "another tenant's.", "simio_generation_not_found"),
            },
        }},
        "/openapi.json": {"get": {
            "tags": [LOCAL_TAG],
            "summary": "This contract (OpenAPI 3.1)",
            "description": "The canonical machine-readable contract, with `servers` set to "
                           "this server.",
            "operationId": "getOpenApi",
            "security": [],
            "responses": {"200": {"description": "The OpenAPI document.",
                                  "content": {"application/json": {
                                      "schema": {"type": "object"}}}}},
        }},
    }


# Summaries and responses for the seed's bare operations; merged without overwriting.
_SEED_OPERATION_DOCS = {
    ("/", "get"): {
        "summary": "Landing page",
        "description": "A small HTML page linking the docs, the contract, the error "
                       "catalogue, /llms.txt and /healthz.",
        "responses": {"200": {"description": "HTML.",
                              "content": {"text/html": {"schema": {"type": "string"}}}}},
    },
    ("/docs", "get"): {
        "summary": "Interactive API docs",
        "description": "Swagger UI, served entirely from this server (no CDN), with the "
                       "*Exchange credentials and fill HTTP Bearer* form.",
        "responses": {"200": {"description": "HTML.",
                              "content": {"text/html": {"schema": {"type": "string"}}}}},
    },
    ("/__docs__/", "get"): {
        "summary": "Interactive API docs (alias of /docs)",
        "responses": {"200": {"description": "HTML.",
                              "content": {"text/html": {"schema": {"type": "string"}}}}},
    },
    ("/healthz", "get"): {
        "summary": "Health check (no auth)",
        "description": "Checks the store and free disk space. 200 when healthy, 503 when "
                       "degraded.",
        "responses": {
            "200": {"description": "Healthy.", "content": {"application/json": {
                "schema": {"type": "object", "properties": {
                    "status": {"type": "string", "enum": ["ok", "degraded"]},
                    "checks": {"type": "object",
                               "additionalProperties": {"type": "string"}},
                    "request_id": {"type": "string"}}},
                "example": {"status": "ok", "checks": {"store": "ok", "disk": "ok"},
                            "request_id": "req_..."}}}},
            "503": {"description": "Degraded: a check failed.",
                    "content": {"application/json": {"schema": {"type": "object"}}}},
        },
    },
}


def _merge_missing(target: dict, extra: dict) -> None:
    """Add ``extra``'s keys to ``target`` without replacing anything already there."""
    for key, value in extra.items():
        if key not in target:
            target[key] = copy.deepcopy(value)
        elif isinstance(target[key], dict) and isinstance(value, dict):
            _merge_missing(target[key], value)


# --- scenario_support (docs/conditioning.md): an optional field of generation responses ---
SCENARIO_SUPPORT_SCHEMA = {
    "type": "object",
    "description": (
        "Present on a conditioned generation when the dataset's model carries the seed's "
        "1- and 2-way state counts for every conditioned or ranged column and pair: how "
        "much of the scenario the seed itself shows. seed_rows_in_scenario is an upper bound "
        "on the seed rows inside the scenario (the smallest such count over those columns "
        "and pairs; exact for one or two columns; at the model's bin resolution). "
        "extrapolated_share is the share of the scenario's rows in level combinations some "
        "1- or 2-way count shows no seed row for, i.e. drawn from the model's extrapolation "
        "alone. 0 seed rows, or a large extrapolated share, means the answer is the model's "
        "guess, not something the seed shows."),
    "required": ["seed_rows_in_scenario", "extrapolated_share"],
    "properties": {"seed_rows_in_scenario": {"type": "integer", "minimum": 0},
                   "extrapolated_share": {"type": "number", "minimum": 0, "maximum": 1}},
    "example": {"seed_rows_in_scenario": 0, "extrapolated_share": 1.0},
}
# (the contract's 207 has no schema of its own: "Body shape matches 200")
_SCENARIO_SUPPORT_RESPONSES = {("/v1/datasets/{dataset_id}/generations", "post"): ("200",),
                               ("/v1/generations/{generation_id}", "get"): ("200",)}


def _add_scenario_support(doc: dict) -> None:
    for (path, method), statuses in _SCENARIO_SUPPORT_RESPONSES.items():
        responses = doc.get("paths", {}).get(path, {}).get(method, {}).get("responses", {})
        for status in statuses:
            schema = (responses.get(status, {}).get("content", {})
                      .get("application/json", {}).get("schema"))
            if isinstance(schema, dict):
                schema.setdefault("properties", {}).setdefault(
                    "scenario_support", copy.deepcopy(SCENARIO_SUPPORT_SCHEMA))
# --- end scenario_support -------------------------------------------------------------


# --- date/datetime columns (issue 14, docs/cleaning.md): new ``type`` enum values, and
# ISO 8601 texts as min/max of those columns (schema) and of their ranges (conditions).
# The versioning policy allows new enum values; min/max widen from number to number or
# string, only for the new kinds, so an existing client never meets a string it did not
# ask for. ``CALENDAR_WIDENED`` lists every seed field this changes (the contract test
# allows exactly these).
COLUMN_TYPES = ["factor", "ordered", "character", "string", "logical", "boolean",
                "numeric", "integer", "double", "date", "datetime"]
_SCHEMA_ITEM = ("/v1/datasets/{dataset_id}/schema", "get", "200")
_RANGE_ITEM = ("/v1/datasets/{dataset_id}/generations", "post")
_ISO = ("For `date` and `datetime` columns an ISO 8601 text: `2024-03-01`, "
        "`2024-03-01T14:30:00` (an offset such as `+01:00` is honoured; without one the "
        "column's time zone).")
_ITEM_AT = "$.responses.200.content.application/json.schema.properties.schema.items.properties"
_RANGE_AT = ("$.requestBody.content.application/json.schema.properties.conditions.properties."
             "numeric.additionalProperties.properties")
CALENDAR_WIDENED = tuple(
    [(_SCHEMA_ITEM[0], "GET", f"{_ITEM_AT}.{key}") for key in ("type.description", "min", "max")]
    + [(_RANGE_ITEM[0], "POST", f"{_RANGE_AT}.{key}") for key in ("min", "max")])


def _add_calendar_kinds(doc: dict) -> None:
    paths = doc.get("paths", {})
    path, method, status = _SCHEMA_ITEM
    item = (paths.get(path, {}).get(method, {}).get("responses", {}).get(status, {})
            .get("content", {}).get("application/json", {}).get("schema", {})
            .get("properties", {}).get("schema", {}).get("items", {}).get("properties"))
    if isinstance(item, dict) and "type" in item:
        item["type"]["enum"] = list(COLUMN_TYPES)
        item["type"]["description"] = (item["type"].get("description", "") + " Calendar "
                                       "kinds: `date`, `datetime` (modelled on a numeric "
                                       "scale; min/max are ISO 8601 texts).")
        for key in ("min", "max"):
            if isinstance(item.get(key), dict):
                item[key]["type"] = ["number", "string"]
                item[key]["description"] = item[key].get("description", "") + " " + _ISO
    path, method = _RANGE_ITEM
    ranges = (paths.get(path, {}).get(method, {}).get("requestBody", {}).get("content", {})
              .get("application/json", {}).get("schema", {}).get("properties", {})
              .get("conditions", {}).get("properties", {}).get("numeric", {})
              .get("additionalProperties", {}).get("properties"))
    for key in ("min", "max"):
        if isinstance(ranges, dict) and isinstance(ranges.get(key), dict):
            ranges[key]["type"] = ["number", "string"]
            ranges[key]["description"] = _ISO
# --- end date/datetime columns --------------------------------------------------------


@lru_cache(maxsize=1)
def _base_text() -> str:
    """The seed plus every server-independent addition, serialized once."""
    doc = seed()
    for (path, method), extra in _SEED_OPERATION_DOCS.items():
        operation = doc.get("paths", {}).get(path, {}).get(method)
        if operation is not None:
            operation.setdefault("tags", [LOCAL_TAG])
            operation.setdefault("security", [])
            _merge_missing(operation, extra)
    _add_scenario_support(doc)
    _add_calendar_kinds(doc)
    add_research_formats(doc)              # sav/xlsx output, the sheet field (issue 14)
    paths = doc.setdefault("paths", {})
    for path, operations in _local_operations().items():
        for method, operation in operations.items():
            paths.setdefault(path, {}).setdefault(method, operation)
    tags = doc.setdefault("tags", [])
    if not any(t.get("name") == LOCAL_TAG for t in tags):
        tags.append({"name": LOCAL_TAG, "description": (
            f"What {PRODUCT}, the offline twin of this API, adds or serves itself: its own "
            "token issuer (POST /oauth/token), the error catalogue pages, /llms.txt, this "
            "contract, the docs and the health check. Everything is served from this "
            "server; nothing is fetched from the internet.")})
    return json.dumps(doc)


def bearer_description(base_url: str, audience: str, token_ttl_seconds: int) -> str:
    hours = token_ttl_seconds / 3600
    ttl = f"{hours:g} hours" if hours >= 1 else f"{token_ttl_seconds} seconds"
    return (
        f"Bearer JWT minted by this server ({PRODUCT} is its own token issuer, standing in "
        f"for Auth0): `POST {base_url}/oauth/token` with `grant_type=client_credentials`, "
        f"your `client_id` and `client_secret`, and audience `{audience}` (the default "
        f"when omitted). Tokens are valid for {ttl}. Paste the `access_token` (a JWT "
        "starting with `eyJ`), never your client_secret; or use the docs page's *Exchange "
        "credentials and fill HTTP Bearer* form. Audience must match this server's "
        "configured audience.")


def build(base_url: str, *, audience: str = "https://api.simulacra-data.com",
          token_ttl_seconds: int = 86400) -> dict:
    """Our contract for a server reachable at ``base_url`` (no trailing slash)."""
    base_url = base_url.rstrip("/")
    doc = json.loads(_base_text())
    doc["servers"] = [{"url": base_url, "description": f"This {PRODUCT} server"}]
    schemes = doc.setdefault("components", {}).setdefault("securitySchemes", {})
    bearer = schemes.setdefault("bearerAuth", {"type": "http", "scheme": "bearer",
                                               "bearerFormat": "JWT"})
    bearer["description"] = bearer_description(base_url, audience, token_ttl_seconds)
    bearer["x-tokenUrl"] = f"{base_url}/oauth/token"
    return doc


def operations(doc: dict) -> list[tuple[str, str, dict]]:
    """``(path, METHOD, operation)`` for every operation in ``doc``, in document order."""
    methods = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
    return [(path, method.upper(), op) for path, item in doc.get("paths", {}).items()
            for method, op in item.items() if method in methods and isinstance(op, dict)]


__all__ = ["LOCAL_TAG", "PRODUCT", "SEED_PATH", "bearer_description", "build", "operations",
           "seed"]
