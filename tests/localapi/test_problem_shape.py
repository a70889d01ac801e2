"""One problem shape for every error on every route (the idea of datasette's
test_error_shape): a table of failing requests, each held to RFC 9457 as the contract
profiles it; X-Request-Id on every response; a catalogue page for every code.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from http import HTTPStatus
from urllib.parse import urlsplit

import numpy as np
import pytest

from engine.datasets import quickstart_frame
from engine.errors import CATALOGUE
from localapi import admin
from localapi.db import connect
from tests.localapi.fixtures import (DATA, PROBLEM_JSON, SCENARIO, TIGHT_SCENARIO, Tenant,
                                     artifact_url, contract, fresh_app, generate, new_tenant,
                                     stop, train, upload, url_parts, wait_job)

REQUEST_ID = re.compile(r"^req_[A-Za-z0-9]{8,64}$")
CONTRACT_TITLES = {413: "Payload Too Large"}
QUICKSTART_CSV = DATA / "quickstart_seed.csv"
MAX_UPLOAD = 50_000


@dataclass
class Env:
    app: object
    client: object
    a: Tenant
    b: Tenant
    poor: Tenant
    dataset_id: str
    text_dataset_id: str
    poor_dataset_id: str
    generation_id: str
    url: str
    job_id: str


def text_seed() -> bytes:
    frame = quickstart_frame()
    words = np.array(["good", "bad", "great", "meh", "pricey", "ok", "fine", "nice"])
    rng = np.random.default_rng(1)
    # 64 two-word comments, ~12 rows each: character (> 50 values) whose values survive
    # free-text protection (seen >= 5 times), so the column is kept, excluded from conditions
    frame["comment"] = [" ".join(rng.choice(words, 2)) for _ in range(len(frame))]
    return frame.to_csv(index=False).encode()


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("shape")
    app = fresh_app(data_dir, max_upload_bytes=MAX_UPLOAD, per_request_row_cap=10_000)
    client = app.test_client()
    a = new_tenant(app, client, "a@shape.example", "Shape A")
    b = new_tenant(app, client, "b@shape.example", "Shape B")
    poor = new_tenant(app, client, "poor@shape.example", "Shape Poor")
    first = upload(client, {**a.headers, "Idempotency-Key": "shape-upload"}, QUICKSTART_CSV)
    assert first.status_code == 200, first.get_json()
    dataset_id = first.get_json()["dataset_id"]
    text_dataset_id = train(client, a.headers, source=text_seed(), filename="text.csv")
    poor_dataset_id = train(client, poor.headers)
    conn = connect(app)
    try:
        admin.set_quota(conn, poor.tenant_id, 0)
    finally:
        conn.close()
    gen = generate(client, {**a.headers, "Idempotency-Key": "shape-gen"}, dataset_id,
                   row_count=50)
    assert gen.status_code == 200, gen.get_json()
    generation_id = gen.get_json()["generation_id"]
    job = upload(client, a.headers, QUICKSTART_CSV, wait=0).get_json()
    wait_job(client, a.headers, job["job_id"])
    yield Env(app, client, a, b, poor, dataset_id, text_dataset_id, poor_dataset_id,
              generation_id, artifact_url(client, a.headers, generation_id), job["job_id"])
    stop(app)


def multipart(**fields):
    return {"data": fields, "content_type": "multipart/form-data"}


def seed(data: bytes, name="seed.csv", **fields):
    return multipart(**{"seed_file": (io.BytesIO(data), name), "wait_seconds": "10", **fields})


def gen_body(**changes):
    return {"json": {"row_count": 10, "output_format": "csv", "seed": 1, **changes}}


def bad_sig(env):
    path, query = url_parts(env.url)
    return f"{path}?expires={query['expires']}&sig={'0' * 64}"


# (id, method, path or path(env), tenant or None, kwargs or kwargs(env), status, code)
A, B, POOR = "a", "b", "poor"
CASES = [
    # 04 POST /v1/datasets
    ("upload-json-415", "POST", "/v1/datasets", A, {"json": {"seed_file": "x"}}, 415,
     "simio_unsupported_content_type"),
    ("upload-no-body-415", "POST", "/v1/datasets", A, {}, 415,
     "simio_unsupported_content_type"),
    ("upload-no-file", "POST", "/v1/datasets", A, multipart(display_name="x"), 400,
     "simio_invalid_field"),
    ("upload-wait-61", "POST", "/v1/datasets", A,
     lambda e: seed(QUICKSTART_CSV.read_bytes(), wait_seconds="61"), 400,
     "simio_invalid_field"),
    ("upload-auto-clean", "POST", "/v1/datasets", A,
     lambda e: seed(QUICKSTART_CSV.read_bytes(), auto_clean="perhaps"), 400,
     "simio_invalid_field"),
    ("upload-bad-key", "POST", "/v1/datasets", A,
     lambda e: seed(QUICKSTART_CSV.read_bytes(), idempotency_key="no spaces"), 400,
     "simio_invalid_field"),
    ("upload-empty", "POST", "/v1/datasets", A, lambda e: seed(b""), 400, "simio_empty_file"),
    ("upload-header-only", "POST", "/v1/datasets", A, lambda e: seed(b"a,b\n"), 400,
     "simio_no_data_rows"),
    ("upload-png", "POST", "/v1/datasets", A,
     lambda e: seed(b"\x89PNG\r\n\x1a\n" + bytes(64), "seed.png"), 400,
     "simio_unsupported_file_format"),
    ("upload-ragged", "POST", "/v1/datasets", A, lambda e: seed(b"a,b\n1,2,3\n"), 400,
     "simio_unreadable_file"),
    ("upload-no-usable-columns", "POST", "/v1/datasets", A,
     lambda e: seed(b"id\n1\n2\n3\n"), 400, "simio_no_usable_columns"),
    ("upload-over-cap", "POST", "/v1/datasets", A,
     lambda e: seed(b"a,b\n" + b"1,2\n" * (MAX_UPLOAD // 4)), 413, "simio_file_too_large"),
    ("upload-far-over-cap", "POST", "/v1/datasets", A,
     lambda e: seed(b"a,b\n" + b"1,2\n" * 40_000), 413, "simio_file_too_large"),
    ("upload-key-conflict", "POST", "/v1/datasets", A,
     lambda e: {**seed((DATA / "quickstart_seed.parquet").read_bytes(), "q.parquet"),
                "headers": {"Idempotency-Key": "shape-upload"}}, 409,
     "simio_idempotency_conflict"),
    ("upload-401", "POST", "/v1/datasets", None,
     lambda e: seed(QUICKSTART_CSV.read_bytes()), 401, None),
    # 05 GET /v1/datasets/{id} and /schema
    ("dataset-unknown", "GET", "/v1/datasets/ds_unknown000000000000", A, {}, 404,
     "simio_dataset_not_found"),
    ("dataset-malformed", "GET", "/v1/datasets/not.an.id", A, {}, 404,
     "simio_dataset_not_found"),
    ("dataset-foreign", "GET", lambda e: f"/v1/datasets/{e.dataset_id}", B, {}, 404,
     "simio_dataset_not_found"),
    ("dataset-401", "GET", lambda e: f"/v1/datasets/{e.dataset_id}", None, {}, 401, None),
    ("schema-unknown", "GET", "/v1/datasets/ds_unknown000000000000/schema", A, {}, 404,
     "simio_dataset_not_found"),
    ("schema-foreign", "GET", lambda e: f"/v1/datasets/{e.dataset_id}/schema", B, {}, 404,
     "simio_dataset_not_found"),
    ("schema-401", "GET", lambda e: f"/v1/datasets/{e.dataset_id}/schema", None, {}, 401,
     None),
    # 06 POST /v1/datasets/{id}/generations
    ("gen-row-count-0", "POST", lambda e: f"/v1/datasets/{e.dataset_id}/generations", A,
     gen_body(row_count=0), 400, "simio_invalid_field"),
    ("gen-no-row-count", "POST", lambda e: f"/v1/datasets/{e.dataset_id}/generations", A,
     {"json": {"output_format": "csv"}}, 400, "simio_invalid_field"),
    ("gen-format", "POST", lambda e: f"/v1/datasets/{e.dataset_id}/generations", A,
     gen_body(output_format="json"), 400, "simio_invalid_field"),
    ("gen-empty-body", "POST", lambda e: f"/v1/datasets/{e.dataset_id}/generations", A, {},
     400, "simio_invalid_field"),
    ("gen-bad-json", "POST", lambda e: f"/v1/datasets/{e.dataset_id}/generations", A,
     {"data": "{", "content_type": "application/json"}, 400, "simio_invalid_field"),
    ("gen-form-415", "POST", lambda e: f"/v1/datasets/{e.dataset_id}/generations", A,
     {"data": {"row_count": "10"}}, 415, "simio_unsupported_content_type"),
    ("gen-unknown-column", "POST", lambda e: f"/v1/datasets/{e.dataset_id}/generations", A,
     gen_body(conditions={"numeric": {"purchase.intent": {"min": 1, "max": 2}}}), 400,
     "simio_unknown_condition_column"),
    ("gen-unknown-level", "POST", lambda e: f"/v1/datasets/{e.dataset_id}/generations", A,
     gen_body(conditions={"categorical": {"segment": {"Gold": 0.5}}}), 400,
     "simio_unknown_condition_level"),
    ("gen-share", "POST", lambda e: f"/v1/datasets/{e.dataset_id}/generations", A,
     gen_body(conditions={"categorical": {"segment": {"Premium": 55}}}), 400,
     "simio_invalid_share"),
    ("gen-range", "POST", lambda e: f"/v1/datasets/{e.dataset_id}/generations", A,
     gen_body(conditions={"numeric": {"age": {"min": 50, "max": 30}}}), 400,
     "simio_invalid_range"),
    ("gen-type-mismatch", "POST", lambda e: f"/v1/datasets/{e.dataset_id}/generations", A,
     gen_body(conditions={"numeric": {"region": {"min": 1, "max": 2}}}), 400,
     "simio_condition_type_mismatch"),
    ("gen-excluded-column", "POST",
     lambda e: f"/v1/datasets/{e.text_dataset_id}/generations", A,
     gen_body(conditions={"categorical": {"comment": {"good good": 0.5}}}), 400,
     "simio_condition_column_excluded"),
    ("gen-infeasible", "POST", lambda e: f"/v1/datasets/{e.dataset_id}/generations", A,
     gen_body(conditions={"numeric": {"age": {"min": 80, "max": 90}}}), 400,
     "simio_infeasible_scenario"),
    ("gen-quota", "POST", lambda e: f"/v1/datasets/{e.poor_dataset_id}/generations", POOR,
     gen_body(), 402, "simio_quota_exhausted"),
    ("gen-cap", "POST", lambda e: f"/v1/datasets/{e.dataset_id}/generations", A,
     gen_body(row_count=10_001), 413, "simio_per_request_cap_exceeded"),
    ("gen-key-conflict", "POST", lambda e: f"/v1/datasets/{e.dataset_id}/generations", A,
     {**gen_body(row_count=51), "headers": {"Idempotency-Key": "shape-gen"}}, 409,
     "simio_idempotency_conflict"),
    ("gen-foreign-dataset", "POST", lambda e: f"/v1/datasets/{e.dataset_id}/generations", B,
     gen_body(), 404, "simio_dataset_not_found"),
    ("gen-unknown-dataset", "POST", "/v1/datasets/ds_unknown000000000000/generations", A,
     gen_body(), 404, "simio_dataset_not_found"),
    ("gen-401", "POST", lambda e: f"/v1/datasets/{e.dataset_id}/generations", None,
     gen_body(), 401, None),
    # GET /v1/datasets (list)
    ("list-limit-0", "GET", "/v1/datasets?limit=0", A, {}, 400, "simio_invalid_field"),
    ("list-limit-abc", "GET", "/v1/datasets?limit=abc", A, {}, 400, "simio_invalid_field"),
    ("list-bad-cursor", "GET", "/v1/datasets?cursor=garbage", A, {}, 400,
     "simio_invalid_field"),
    ("list-401", "GET", "/v1/datasets", None, {}, 401, None),
    # DELETE /v1/datasets/{id}
    ("delete-foreign", "DELETE", lambda e: f"/v1/datasets/{e.dataset_id}", B, {}, 404,
     "simio_dataset_not_found"),
    ("delete-malformed", "DELETE", "/v1/datasets/not.an.id", A, {}, 404,
     "simio_dataset_not_found"),
    ("delete-401", "DELETE", lambda e: f"/v1/datasets/{e.dataset_id}", None, {}, 401, None),
    # POST /v1/datasets/{id}/extend
    ("extend-unknown", "POST", "/v1/datasets/ds_unknown000000000000/extend", A, {}, 404,
     "simio_dataset_not_found"),
    ("extend-foreign", "POST", lambda e: f"/v1/datasets/{e.dataset_id}/extend", B, {}, 404,
     "simio_dataset_not_found"),
    ("extend-401", "POST", lambda e: f"/v1/datasets/{e.dataset_id}/extend", None, {}, 401,
     None),
    # GET /v1/datasets/{id}/generations (list)
    ("gen-list-foreign", "GET", lambda e: f"/v1/datasets/{e.dataset_id}/generations", B, {},
     404, "simio_dataset_not_found"),
    ("gen-list-limit-101", "GET",
     lambda e: f"/v1/datasets/{e.dataset_id}/generations?limit=101", A, {}, 400,
     "simio_invalid_field"),
    ("gen-list-bad-cursor", "GET",
     lambda e: f"/v1/datasets/{e.dataset_id}/generations?cursor=garbage", A, {}, 400,
     "simio_invalid_field"),
    ("gen-list-401", "GET", lambda e: f"/v1/datasets/{e.dataset_id}/generations", None, {},
     401, None),
    # credential rotations (ops without contract response codes but ours)
    ("rotate-401", "POST", "/v1/credential-rotations", None, {}, 401, None),
    ("rotation-request-401", "POST", "/v1/credential-rotation-requests", None, {}, 401, None),
    ("rotation-bad-reason", "POST", "/v1/credential-rotation-requests", A,
     {"json": {"reason": 5}}, 400, "simio_invalid_field"),
    ("rotation-unknown", "GET", "/v1/credential-rotation-requests/rot_" + "0" * 32, A, {}, 404,
     "simio_rotation_request_not_found"),
    # GET /v1/generations/{id}/report (ours, documented in /openapi.json)
    ("report-unknown", "GET", "/v1/generations/gen_unknown00000000000/report", A, {}, 404,
     "simio_generation_not_found"),
    ("report-401", "GET", "/v1/generations/gen_unknown00000000000/report", None, {}, 401, None),
    # static docs assets that do not exist
    ("badge-unknown", "GET", "/assets/compliance/x.png", None, {}, 404, "simio_not_found"),
    # 07 GET /v1/jobs/{id}
    ("job-unknown", "GET", "/v1/jobs/job_unknown000000000000", A, {}, 404,
     "simio_job_not_found"),
    ("job-malformed", "GET", "/v1/jobs/jb-1", A, {}, 404, "simio_job_not_found"),
    ("job-foreign", "GET", lambda e: f"/v1/jobs/{e.job_id}", B, {}, 404,
     "simio_job_not_found"),
    ("job-401", "GET", lambda e: f"/v1/jobs/{e.job_id}", None, {}, 401, None),
    # 08 GET /v1/generations/{id}
    ("generation-unknown", "GET", "/v1/generations/gen_unknown000000000000", A, {}, 404,
     "simio_generation_not_found"),
    ("generation-malformed", "GET", "/v1/generations/gen.1", A, {}, 404,
     "simio_generation_not_found"),
    ("generation-foreign", "GET", lambda e: f"/v1/generations/{e.generation_id}", B, {}, 404,
     "simio_generation_not_found"),
    ("generation-401", "GET", lambda e: f"/v1/generations/{e.generation_id}", None, {}, 401,
     None),
    # 09 download
    ("download-bad-sig", "GET", bad_sig, A, {}, 404, "simio_generation_not_found"),
    ("download-no-sig", "GET", lambda e: f"/v1/generations/{e.generation_id}/download", A,
     {}, 404, "simio_generation_not_found"),
    ("download-foreign", "GET", lambda e: e.url, B, {}, 404, "simio_generation_not_found"),
    ("download-401", "GET", lambda e: e.url, None, {}, 401, None),
    # 01-03 access flow (open routes)
    ("signup-bad-email", "POST", "/v1/signup", None,
     {"json": {"company_name": "X", "contact_email": "not-an-email"}}, 400,
     "simio_invalid_field"),
    ("signup-no-company", "POST", "/v1/signup", None,
     {"json": {"contact_email": "x@y.example"}}, 400, "simio_invalid_field"),
    ("signup-form-415", "POST", "/v1/signup", None,
     {"data": {"company_name": "X", "contact_email": "x@y.example"}}, 415,
     "simio_unsupported_content_type"),
    ("signup-unknown", "GET", "/v1/signup/req_unknown0000", None, {}, 404,
     "simio_signup_not_found"),
    ("signup-malformed", "GET", "/v1/signup/req-1", None, {}, 404, "simio_signup_not_found"),
    ("claim-unknown", "POST", "/v1/credential-claims", None,
     {"json": {"claim_token": "cred_" + "0" * 32}}, 404, "simio_credential_claim_not_found"),
    ("claim-missing-token", "POST", "/v1/credential-claims", None, {"json": {}}, 400,
     "simio_invalid_field"),
    # routing
    ("no-route", "GET", "/v1/nothing-here", A, {}, 404, "simio_not_found"),
    ("no-route-root-v2", "GET", "/v2/datasets", None, {}, 404, "simio_not_found"),
    ("wrong-method", "PUT", "/v1/datasets", A, {"json": {}}, 405, "simio_method_not_allowed"),
    ("wrong-method-job", "DELETE", "/v1/jobs/job_unknown000000000000", A, {}, 405,
     "simio_method_not_allowed"),
    ("error-page-unknown", "GET", "/errors/simio_nope", None, {}, 404, "simio_not_found"),
]


def call(env: Env, method, path, tenant, kwargs):
    path = path(env) if callable(path) else path
    kwargs = dict(kwargs(env) if callable(kwargs) else kwargs)
    headers = dict(kwargs.pop("headers", {}))
    if tenant is not None:
        headers.update(getattr(env, tenant).headers)
    return env.client.open(path, method=method, headers=headers, **kwargs)


@pytest.mark.parametrize("case", CASES, ids=[case[0] for case in CASES])
def test_error_shape(env, case):
    _name, method, path, tenant, kwargs, status, code = case
    response = call(env, method, path, tenant, kwargs)
    body = response.get_json(silent=True)
    assert response.status_code == status, (response.status_code, body)
    assert response.mimetype == PROBLEM_JSON, response.headers
    assert isinstance(body, dict), response.data[:300]
    assert body["status"] == response.status_code
    assert body["request_id"] == response.headers["X-Request-Id"]
    assert REQUEST_ID.match(body["request_id"])
    assert isinstance(body["detail"], str) and body["detail"].strip()
    assert response.headers["Cache-Control"] == "no-store"
    if code is None:                    # the uniform 401
        assert set(body) == {"type", "title", "status", "detail", "request_id"}
        assert body["type"] == "about:blank" and body["title"] == "Unauthorized"
        assert body["detail"] == "Invalid credentials."
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        return
    assert set(body) == {"type", "title", "status", "detail", "code", "request_id"}
    assert body["code"] == code
    assert body["type"].endswith(f"/errors/{code}")
    # the reason phrase (413's wording is pinned to the contract's in test_problem_titles...)
    assert body["title"] in (HTTPStatus(status).phrase, CONTRACT_TITLES.get(status))
    assert CATALOGUE[code].status == status
    # the type URL resolves to the code's catalogue page
    page = env.client.get(urlsplit(body["type"]).path)
    assert page.status_code == 200 and page.get_json()["code"] == code


def test_error_table_covers_every_route(env):
    """Every API route (but /oauth/token, whose errors are OAuth's) has an error case."""
    covered = set()
    for _name, method, path, _tenant, _kwargs, _status, _code in CASES:
        path = path(env) if callable(path) else path
        adapter = env.app.url_map.bind("localhost")
        try:
            endpoint, _ = adapter.match(urlsplit(path).path, method=method)
            covered.add(endpoint)
        except Exception:       # 404/405 routing cases
            continue
    # Pages (docs, landing, openapi.json, llms.txt) have no error cases of their own.
    routes = {rule.endpoint for rule in env.app.url_map.iter_rules()
              if rule.endpoint not in ("static", "oauth.token", "meta.healthz",
                                       "meta.errors_index")
              and not rule.endpoint.startswith("docs.")}
    assert routes <= covered, sorted(routes - covered)


def test_problem_codes_cover_the_contract_400s(env):
    """The codes the table produces include every code the contract names for ops 04-09."""
    produced = {case[6] for case in CASES if case[6]}
    spec = contract()
    text = ""
    for path in ("/v1/datasets", "/v1/datasets/{dataset_id}", "/v1/datasets/{dataset_id}/schema",
                 "/v1/datasets/{dataset_id}/generations", "/v1/generations/{generation_id}",
                 "/v1/jobs/{job_id}", "/v1/generations/{generation_id}/download"):
        for method, op in spec["paths"][path].items():
            if method in ("post", "get") and not (path == "/v1/datasets" and method == "get") \
                    and not (path.endswith("/generations") and method == "get"):
                text += repr(op.get("responses"))
    named = set(re.findall(r"simio_[a-z_]+", text))
    assert named <= produced, sorted(named - produced)


@pytest.mark.parametrize("code", [
    "simio_invalid_field", "simio_unknown_condition_column", "simio_quota_exhausted",
    "simio_dataset_not_found", "simio_generation_not_found", "simio_job_not_found",
    "simio_signup_not_found", "simio_credential_claim_not_found",
    "simio_idempotency_conflict", "simio_unsupported_content_type",
    "simio_file_too_large", "simio_per_request_cap_exceeded",
])
def test_problem_titles_are_the_contracts(env, code):
    spec = contract()
    titles = {}
    for path in spec["paths"].values():
        for op in path.values():
            for response in (op.get("responses") or {}).values() if isinstance(op, dict) else ():
                for media in response.get("content", {}).values():
                    example = media.get("example")
                    if isinstance(example, dict) and example.get("code"):
                        titles[example["code"]] = example["title"]
    case = next(c for c in CASES if c[6] == code)
    response = call(env, *case[1:5])
    assert response.get_json()["title"] == titles[code]


def test_405_says_which_methods_are_allowed(env):
    response = env.client.put("/v1/datasets", headers=env.a.headers, json={})
    assert response.status_code == 405 and response.mimetype == PROBLEM_JSON
    assert set(response.headers["Allow"].replace(" ", "").split(",")) >= {"POST"}


# --- X-Request-Id on successes ---------------------------------------------------------------

def test_every_success_carries_x_request_id(env):
    c, a = env.client, env.a.headers
    keyed = {**a, "Idempotency-Key": "shape-upload"}
    calls = {
        "healthz": lambda: c.get("/healthz"),
        "errors-index": lambda: c.get("/errors"),
        "error-page": lambda: c.get("/errors/simio_invalid_field"),
        "signup": lambda: c.post("/v1/signup", json={"company_name": "S",
                                                     "contact_email": "s@shape.example"}),
        "upload-200": lambda: upload(c, a, QUICKSTART_CSV),
        "upload-202": lambda: upload(c, a, QUICKSTART_CSV, wait=0),
        "upload-replay": lambda: upload(c, keyed, QUICKSTART_CSV),
        "dataset": lambda: c.get(f"/v1/datasets/{env.dataset_id}", headers=a),
        "schema": lambda: c.get(f"/v1/datasets/{env.dataset_id}/schema", headers=a),
        "generate-200": lambda: generate(c, a, env.dataset_id, row_count=20),
        "generate-207": lambda: generate(c, a, env.dataset_id, row_count=500, seed=1,
                                         conditions=TIGHT_SCENARIO),
        "generate-202": lambda: generate(c, a, env.dataset_id, SCENARIO, row_count=10_000,
                                         wait=0),
        "generation": lambda: c.get(f"/v1/generations/{env.generation_id}", headers=a),
        "job": lambda: c.get(f"/v1/jobs/{env.job_id}", headers=a),
    }
    expected = {"signup": 202, "upload-202": 202, "generate-207": 207, "generate-202": 202}
    seen = set()
    for name, make in calls.items():
        response = make()
        assert response.status_code == expected.get(name, 200), (name, response.get_json())
        rid = response.headers.get("X-Request-Id")
        assert rid and REQUEST_ID.match(rid), name
        assert rid not in seen, name
        seen.add(rid)
        body = response.get_json()
        if name != "signup":             # signup's request_id is the signup's own id
            assert body["request_id"] == rid, name
        if name == "generate-202":
            wait_job(c, a, body["job_id"])
        if name == "upload-202":
            wait_job(c, a, body["job_id"])
    download = c.get(env.url, headers=a)
    assert download.status_code == 200
    assert REQUEST_ID.match(download.headers["X-Request-Id"])
    assert download.headers["X-Request-Id"] not in seen


# --- the catalogue pages ---------------------------------------------------------------------

@pytest.mark.parametrize("code", sorted(CATALOGUE))
def test_every_catalogue_code_has_a_page(env, code):
    response = env.client.get(f"/errors/{code}")
    body = response.get_json()
    assert response.status_code == 200, body
    assert response.mimetype == "application/json"
    assert body["request_id"] == response.headers["X-Request-Id"]
    spec = CATALOGUE[code]
    assert body["code"] == code and body["status"] == spec.status
    assert body["title"] == spec.title
    assert body["cause"] == spec.cause and body["fix"] == spec.fix
    assert isinstance(body["retryable"], bool) and body["retryable"] == spec.retryable
    assert body["url"].endswith(f"/errors/{code}")


def test_errors_index_lists_every_code(env):
    response = env.client.get("/errors")
    body = response.get_json()
    assert response.status_code == 200
    assert [entry["code"] for entry in body["errors"]] == sorted(CATALOGUE)
    for entry in body["errors"]:
        assert {"code", "status", "title", "cause", "fix", "retryable"} <= set(entry)
