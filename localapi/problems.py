"""One problem shape for every error (RFC 9457), rendered from the engine's catalogue.

Every response carries ``X-Request-Id``; problem bodies carry the same ``request_id``.
Auth failures are one uniform 401 (``type: about:blank``, no code) so that missing,
malformed, expired and wrong-audience tokens cannot be told apart.
"""

from __future__ import annotations

import logging

from flask import g, json, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from engine.errors import CATALOGUE, SimioError
from localapi.ids import new_id

log = logging.getLogger("simio.api")
PROBLEM_JSON = "application/problem+json"
UNAUTHORIZED_DETAIL = "Invalid credentials."
UPLOAD_PATH = "/v1/datasets"          # the one route whose body may exceed the JSON limit


class Unauthorized(Exception):
    """Any authentication failure; rendered as the uniform 401."""


def request_id() -> str:
    if "request_id" not in g:
        g.request_id = new_id("req")
    return g.request_id


def public_url() -> str:
    """The base of every absolute URL we answer with (configuration, not the Host header)."""
    from flask import current_app

    return current_app.config["SIMIO"].base_url()


def problem_body(code: str, detail: str) -> dict:
    spec = CATALOGUE[code]
    return {"type": f"{public_url()}/errors/{code}", "title": spec.http_title,
            "status": spec.status, "detail": detail, "code": code, "request_id": request_id()}


def respond(body: dict, status: int, content_type: str = "application/json", headers=None):
    from flask import current_app

    response = current_app.response_class(json.dumps(body), status=status,
                                          mimetype=content_type)
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def problem(code: str, detail: str, headers=None):
    return respond(problem_body(code, detail), CATALOGUE[code].status, PROBLEM_JSON, headers)


def unauthorized():
    body = {"type": "about:blank", "title": "Unauthorized", "status": 401,
            "detail": UNAUTHORIZED_DETAIL, "request_id": request_id()}
    return respond(body, 401, PROBLEM_JSON, {"WWW-Authenticate": 'Bearer realm="simio"'})


_HTTP_CODES = {404: ("simio_not_found", "No route matches this URL."),
               405: ("simio_method_not_allowed", "This route does not accept this method."),
               415: ("simio_unsupported_content_type", "Unsupported Content-Type.")}


def register(app) -> None:
    @app.before_request
    def _assign_request_id():
        request_id()
        if not (request.method == "POST" and request.path == UPLOAD_PATH):
            # Only seed uploads may be large; JSON (and anything else) is refused past
            # 1 MiB while it is read, never buffered whole (Flask >= 3.1: per request).
            from localapi.bodies import MAX_JSON_BYTES

            request.max_content_length = MAX_JSON_BYTES

    @app.after_request
    def _stamp_request_id(response):
        response.headers["X-Request-Id"] = request_id()
        response.headers.setdefault("Cache-Control", "no-store")
        return response

    @app.errorhandler(SimioError)
    def _simio_error(exc: SimioError):
        return problem(exc.code, exc.detail)

    @app.errorhandler(Unauthorized)
    def _unauthorized(_exc):
        return unauthorized()

    @app.errorhandler(RequestEntityTooLarge)
    def _too_large(_exc):
        from localapi.bodies import body_too_large

        limit = app.config["SIMIO"].max_upload_bytes
        if request.path == UPLOAD_PATH and (request.content_length or 0) > limit:
            return problem("simio_file_too_large", "seed_file exceeds the maximum upload "
                           f"size of {limit} bytes.")
        error = body_too_large()          # a JSON body, or a form field such as display_name
        return problem(error.code, error.detail)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        code, detail = _HTTP_CODES.get(exc.code, ("simio_invalid_field", exc.description))
        if exc.code not in _HTTP_CODES and exc.code != 400:
            code, detail = "simio_internal_error", "Unexpected HTTP error."
        allow = {k: v for k, v in exc.get_headers() if k.lower() == "allow"}   # RFC 9110
        return problem(code, detail, allow)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        log.exception("unhandled error (request_id=%s)", request_id())
        return problem("simio_internal_error", "The server failed unexpectedly; retry with the "
                       f"same Idempotency-Key or report request_id {request_id()}.")
