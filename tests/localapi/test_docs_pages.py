"""The docs pages: landing page, interactive docs, /openapi.json, /errors, /llms.txt, /healthz.

Everything must work offline: the HTML references only this server's assets (which all
answer 200), and the CSP forbids every other origin.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest

from engine.errors import CATALOGUE

BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
URL = re.compile(r"https?://[^\s\"'<>)]+")


class Page(HTMLParser):
    """Collects asset references, links, forms and visible text of an HTML page."""

    def __init__(self, html: str):
        super().__init__()
        self.assets, self.links, self.forms, self.inputs, self.text = [], [], [], [], []
        self.attrs_by_id = {}
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.attrs_by_id[a["id"]] = a
        if tag == "script" and a.get("src"):
            self.assets.append(a["src"])
        elif tag == "link" and a.get("href"):
            self.assets.append(a["href"])
        elif tag in ("img", "iframe", "source", "embed") and a.get("src"):
            self.assets.append(a["src"])
        elif tag == "a" and a.get("href"):
            self.links.append(a["href"])
        elif tag == "form":
            self.forms.append(a)
        elif tag == "input":
            self.inputs.append(a)

    def handle_data(self, data):
        self.text.append(data)

    @property
    def visible(self) -> str:
        return " ".join(" ".join(self.text).split())


def is_local(ref: str) -> bool:
    parts = urlsplit(ref)
    return not parts.scheme and not parts.netloc and ref.startswith("/")


def html_page(client, path, **kwargs):
    response = client.get(path, **kwargs)
    assert response.status_code == 200, (path, response.status_code)
    assert response.mimetype == "text/html", (path, response.mimetype)
    return response, Page(response.get_data(as_text=True))


# -- content types -----------------------------------------------------------------------

@pytest.mark.parametrize("path,mimetype", [
    ("/", "text/html"), ("/docs", "text/html"), ("/__docs__/", "text/html"),
    ("/openapi.json", "application/json"), ("/llms.txt", "text/plain"),
    ("/errors", "application/json"), ("/errors/simio_invalid_field", "application/json"),
    ("/healthz", "application/json"),
])
def test_each_page_answers_with_its_content_type(client, path, mimetype):
    response = client.get(path)
    assert response.status_code == 200
    assert response.mimetype == mimetype
    assert response.headers["X-Request-Id"].startswith("req_")
    if mimetype.startswith("text/"):
        assert response.mimetype_params.get("charset") == "utf-8"


@pytest.mark.parametrize("path", ["/", "/docs", "/__docs__/", "/openapi.json", "/llms.txt",
                                  "/errors", "/errors/simio_not_found", "/healthz"])
def test_docs_pages_need_no_token(client, path):
    assert client.get(path).status_code == 200


# -- the interactive docs ----------------------------------------------------------------

@pytest.mark.parametrize("path", ["/docs", "/__docs__/"])
def test_docs_reference_only_local_assets_that_answer(client, path):
    response, page = html_page(client, path)
    html = response.get_data(as_text=True)
    assert not URL.search(html), "the docs page must not name any other host"
    assert page.assets, "the page loads its scripts and styles"
    for ref in page.assets + page.links:
        assert is_local(ref), ref
    for ref in page.assets:
        asset = client.get(ref)
        assert asset.status_code == 200, ref
        if ref.endswith(".js"):
            assert asset.mimetype in ("text/javascript", "application/javascript"), ref
        elif ref.endswith(".css"):
            assert asset.mimetype == "text/css", ref
    scripts = [ref for ref in page.assets if ref.endswith(".js")]
    assert any(ref.endswith("/swagger-ui-bundle.js") for ref in scripts)
    assert any(ref.endswith("/swagger-ui.css") for ref in page.assets)


@pytest.mark.parametrize("path", ["/", "/docs", "/__docs__/", "/errors",
                                  "/errors/simio_invalid_field"])
def test_html_pages_forbid_other_origins(client, path):
    response = client.get(path, headers={"Accept": BROWSER_ACCEPT})
    csp = response.headers["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";") if d.strip())
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'"          # no inline script, no other host
    assert directives["connect-src"] == "'self'"
    assert not URL.search(csp)


def test_docs_script_and_styles_name_no_other_host(client):
    for ref in ("/static/docs/docs.js", "/static/docs/simio.css"):
        body = client.get(ref).get_data(as_text=True)
        assert not URL.search(body), ref
    css = client.get("/static/swagger-ui/swagger-ui.css").get_data(as_text=True)
    for target in re.findall(r"url\(\s*['\"]?([^'\")]+)", css):
        assert target.startswith("data:") or is_local(target) or "://" not in target, target


def test_docs_page_points_swagger_ui_at_our_contract(client):
    _, page = html_page(client, "/docs")
    root = page.attrs_by_id["swagger-ui"]
    assert root["data-openapi-url"] == "/openapi.json"
    assert root["data-token-url"] == "/oauth/token"
    schemes = client.get("/openapi.json").get_json()["components"]["securitySchemes"]
    assert root["data-bearer-scheme"] in schemes
    assert schemes[root["data-bearer-scheme"]]["scheme"] == "bearer"
    script = client.get("/static/docs/docs.js").get_data(as_text=True)
    assert "validatorUrl: null" in script                # no validator.swagger.io badge
    assert "preauthorizeApiKey(scheme, token)" in script
    # The applied token lives for this tab only (contract): sessionStorage, not Swagger
    # UI's localStorage persistence.
    assert "persistAuthorization: false" in script and "TabSessionAuthPlugin" in script
    assert "sessionStorage" in script and not re.search(r"localStorage\.\w", script)


def test_exchange_form_posts_to_our_token_issuer(client, make_tenant):
    _, page = html_page(client, "/docs")
    assert "Exchange credentials and fill HTTP Bearer" in page.visible
    form = page.attrs_by_id["simio-exchange"]
    assert (form["method"], form["action"]) == ("post", "/oauth/token")
    fields = {i["name"]: i for i in page.inputs}
    assert fields["client_secret"]["type"] == "password"
    assert fields["grant_type"]["value"] == "client_credentials"
    # The form's own fields, form-encoded (as a browser without JS would send them), mint
    # a token: the names the page uses are the ones /oauth/token takes.
    _, client_id, secret = make_tenant()
    response = client.post("/oauth/token", data={"grant_type": "client_credentials",
                                                  "client_id": client_id,
                                                  "client_secret": secret})
    assert response.status_code == 200
    assert response.get_json()["access_token"].startswith("eyJ")


def test_rotation_requests_get_a_per_tab_idempotency_key(client):
    script = client.get("/static/docs/docs.js").get_data(as_text=True)
    assert re.search(r"credential-rotations", script)
    assert '"Idempotency-Key"' in script and "sessionStorage" in script
    assert "requestInterceptor: requestInterceptor" in script


def test_docs_alias_is_the_same_page(client):
    assert client.get("/docs").get_data() == client.get("/__docs__/").get_data()


def test_compliance_images_in_the_contract_description_resolve(client):
    description = client.get("/openapi.json").get_json()["info"]["description"]
    images = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", description)
    assert images
    for ref in images:
        response = client.get(ref)
        assert response.status_code == 200, ref
        assert response.mimetype == "image/svg+xml"
        assert "not this local server" in response.get_data(as_text=True)
    assert client.get("/assets/compliance/other.png").status_code == 404


# -- landing page ------------------------------------------------------------------------

def test_landing_page_links_everything(client):
    response, page = html_page(client, "/")
    assert "simio-local" in page.visible and "Simulacra Headless API" in page.visible
    for target in ("/docs", "/openapi.json", "/errors", "/llms.txt", "/healthz"):
        assert target in page.links, target
        assert client.get(target).status_code == 200, target
    for ref in page.assets:
        assert is_local(ref) and client.get(ref).status_code == 200, ref
    for url in URL.findall(response.get_data(as_text=True)):
        assert urlsplit(url).hostname == "127.0.0.1", url   # only this server's own URL


# -- /errors -----------------------------------------------------------------------------

@pytest.mark.parametrize("accept,html", [
    (BROWSER_ACCEPT, True), ("text/html", True), ("*/*", False), (None, False),
    ("application/json", False), ("application/json, text/html;q=0.5", False),
    ("text/html;q=0.9, application/json", False),
])
def test_errors_index_negotiates_html_or_json(client, accept, html):
    headers = {"Accept": accept} if accept else {}
    response = client.get("/errors", headers=headers)
    assert response.status_code == 200
    assert "Accept" in response.headers.get("Vary", "")
    if html:
        page = Page(response.get_data(as_text=True))
        assert response.mimetype == "text/html"
        for code in CATALOGUE:
            assert f"/errors/{code}" in page.links, code
    else:
        assert response.mimetype == "application/json"
        body = response.get_json()
        assert [e["code"] for e in body["errors"]] == sorted(CATALOGUE)
        assert body["request_id"] == response.headers["X-Request-Id"]


@pytest.mark.parametrize("code", sorted(CATALOGUE))
def test_every_catalogue_code_has_a_page(client, code):
    spec = CATALOGUE[code]
    data = client.get(f"/errors/{code}").get_json()
    assert (data["code"], data["status"], data["title"], data["cause"], data["fix"],
            data["retryable"]) == (code, spec.status, spec.title, spec.cause, spec.fix,
                                   spec.retryable)
    assert data["url"] == f"http://127.0.0.1:8080/errors/{code}"
    assert "request_id" in data["support"]

    response, page = html_page(client, f"/errors/{code}", headers={"Accept": BROWSER_ACCEPT})
    text = page.visible
    for part in (code, spec.title, spec.cause, spec.fix, str(spec.status), data["support"]):
        assert " ".join(part.split()) in text, part
    assert ("Yes" if spec.retryable else "No") in text


def test_problem_type_urls_resolve_to_their_page(client):
    problem = client.get("/no/such/route").get_json()
    assert problem["code"] == "simio_not_found"
    page = client.get(urlsplit(problem["type"]).path)
    assert page.status_code == 200 and page.get_json()["code"] == "simio_not_found"


@pytest.mark.parametrize("accept", [None, BROWSER_ACCEPT])
def test_unknown_code_is_a_404_problem(client, accept):
    headers = {"Accept": accept} if accept else {}
    response = client.get("/errors/simio_no_such_code", headers=headers)
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["code"] == "simio_not_found" and "simio_no_such_code" in body["detail"]


def test_error_html_escapes_catalogue_text(client):
    # simio_unauthorized's fix mentions `Authorization: Bearer <JWT>`.
    html = client.get("/errors/simio_unauthorized",
                      headers={"Accept": BROWSER_ACCEPT}).get_data(as_text=True)
    assert "&lt;JWT&gt;" in html and "<JWT>" not in html


# -- /llms.txt ---------------------------------------------------------------------------

def test_llms_txt_guides_coding_agents(client):
    response = client.get("/llms.txt")
    text = response.get_data(as_text=True)
    assert text.startswith("# simio-local")
    assert "http://127.0.0.1:8080/openapi.json" in text
    assert "/v1/datasets/{dataset_id}/schema" in text
    assert re.search(r"[Ss]chema first", text) and "before building `conditions`" in text
    assert "Idempotency-Key" in text and "/v1/jobs/{job_id}" in text and "202" in text
    assert re.search(r"[Nn]ever log", text) and "client secret" in text
    assert "X-Request-Id" in text
    for code in CATALOGUE:
        assert f"`{code}`" in text, code


def test_llms_txt_lists_the_guided_workflow_in_order(client):
    text = client.get("/llms.txt").get_data(as_text=True)
    steps = re.findall(r"^\d+\. `(\w+) ([^`]+)`", text, flags=re.M)
    order = [f"{m} {p}" for m, p in steps]
    expected = ["POST /v1/signup", "GET /v1/signup/{request_id}", "POST /v1/credential-claims",
                "POST /oauth/token", "POST /v1/datasets",
                "GET /v1/datasets/{dataset_id}/schema",
                "POST /v1/datasets/{dataset_id}/generations"]
    assert order[:len(expected)] == expected
    assert "GET /v1/generations/{generation_id}/download" in order


def test_llms_txt_lists_only_routed_operations(client, app):
    text = client.get("/llms.txt").get_data(as_text=True)
    listed = re.findall(r"`(GET|POST|DELETE|PUT|PATCH) (/[^`]*)`", text)
    assert listed
    adapter = app.url_map.bind("localhost")
    for method, path in listed:
        adapter.match(re.sub(r"\{[^}]+\}", "x", path), method=method)   # raises if not


# -- /openapi.json and /healthz ----------------------------------------------------------

def test_openapi_servers_is_this_server(client):
    doc = client.get("/openapi.json").get_json()
    assert doc["servers"] == [{"url": "http://127.0.0.1:8080",
                               "description": "This simio-local server"}]


def test_healthz_checks_store_and_disk(client):
    body = client.get("/healthz").get_json()
    assert body["status"] == "ok"
    assert body["checks"] == {"store": "ok", "disk": "ok"}
