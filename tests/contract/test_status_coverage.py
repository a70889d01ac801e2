"""Every operation and response status in the seed contract, produced over HTTP.

The table below maps each (method, path, status) the contract lists to a request that
produces it, run twice: against the app in process (WSGI) and against a real
``simio serve`` over a loopback socket, both on a real SQLite store. A status the contract lists and the
table lacks fails ``test_every_contract_status_has_a_producer``; one this server cannot
produce would have to be listed in ``NOT_PRODUCIBLE`` with the reason (none are).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from localapi import admin
from localapi.db import connect
from tests.e2e.http_client import HttpClient
from tests.e2e.server import running_server
from tests.localapi.fixtures import fresh_app, generate, new_tenant, stop, train, upload, wait_job

SEED_CONTRACT = Path(__file__).resolve().parents[2] / "localapi" / "openapi_seed.json"
TIGHT = {"categorical": {"segment": {"Value": 0.95, "Mainstream": 0.03, "Premium": 0.02}},
         "numeric": {"purchase_intent": {"min": 85, "max": 100}, "age": {"min": 18, "max": 25}}}
# Operations whose responses the seed leaves undocumented: the statuses we answer.
UNDOCUMENTED = {("get", "/__docs__/"): ["200"], ("get", "/"): ["200"], ("get", "/docs"): ["200"],
                ("get", "/healthz"): ["200"],
                ("post", "/v1/credential-rotations"): ["201", "200", "401", "429"]}
NOT_PRODUCIBLE: dict = {}


def contract_statuses() -> list[tuple[str, str, str]]:
    spec = json.loads(SEED_CONTRACT.read_text(encoding="utf-8"))
    out = []
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            statuses = list(operation.get("responses") or {}) or UNDOCUMENTED[(method, path)]
            out.extend((method, path, status) for status in statuses)
    return out


LIMITS = {"max_upload_bytes": 200_000, "per_request_row_cap": 100_000,
          "extend_cap_seconds": 2 * 24 * 3600}


class World:
    """Two tenants, a trained dataset, a ready generation: enough to produce every status.

    ``client`` is the app's test client (WSGI in process) or an HTTP client talking to a
    real ``simio serve`` on loopback; ``app`` is always an app on the same store, for the
    one operator step (a tenant's quota) and the SQL look-ups.
    """

    def __init__(self, app, client):
        self.app = app
        self.client = client
        self.a = new_tenant(self.app, self.client, "a@acme.example")
        self.b = new_tenant(self.app, self.client, "b@other.example", company="Other")
        self.dataset = train(self.client, self.a.headers)
        gen = generate(self.client, self.a.headers, self.dataset, row_count=500).get_json()
        self.generation = gen["generation_id"]
        meta = self.client.get(f"/v1/generations/{self.generation}", headers=self.a.headers)
        self.artifact_url = meta.get_json()["artifact_url"]
        self.job = wait_job(self.client, self.a.headers,
                            upload(self.client, self.a.headers, b"x,y\n1,a\n2,b\n3,c\n" * 30,
                                   "small.csv", wait=0).get_json()["job_id"])["job_id"]

    def fresh_dataset(self) -> str:
        return train(self.client, self.a.headers)

    def low_quota_tenant(self):
        tenant = new_tenant(self.app, self.client, "poor@acme.example", company="Poor")
        conn = connect(self.app)
        try:
            admin.set_quota(conn, tenant.tenant_id, 10)
        finally:
            conn.close()
        return tenant


@pytest.fixture(scope="module", params=["wsgi", "http"])
def world(request, tmp_path_factory):
    tmp = tmp_path_factory.mktemp(f"coverage-{request.param}")
    if request.param == "wsgi":
        app = fresh_app(tmp, sweep_interval=0, **LIMITS)
        w = World(app, app.test_client())
        yield w
        stop(app)
        return
    env = {f"SIMIO_{key.upper()}": str(value) for key, value in LIMITS.items()}
    with running_server(tmp, tls=False, env=env) as server:
        # an app on the server's store, never serving: operator steps and SQL look-ups
        app = fresh_app(server.data_dir, sweep_interval=0, defer_recovery=True, workers=1)
        yield World(app, HttpClient(server.base_url))
        stop(app)


def seed_csv() -> bytes:
    return (Path(__file__).resolve().parents[2] / "data" / "quickstart_seed.csv").read_bytes()


def gen_body(**fields) -> dict:
    return {"row_count": 200, "output_format": "csv", **fields}


def _signup_retry(w):
    """The existing request is returned only to its submitter's retry (same key)."""
    body, key = {"company_name": "Retry", "contact_email": "retry@acme.example"}, \
        {"Idempotency-Key": "signup-retry-0123456789"}
    w.client.post("/v1/signup", json=body, headers=key)
    return w.client.post("/v1/signup", json=body, headers=key)


def _signup_token(w):
    response = w.client.post("/v1/signup", json={"company_name": "C", "contact_email":
                                                 "claimer@acme.example"})
    status = w.client.get(f"/v1/signup/{response.get_json()['request_id']}").get_json()
    return status["credential_claim_token"]


def _rotation_request(w):
    return w.client.post("/v1/credential-rotation-requests", headers=w.a.headers,
                         json={"reason": "test"}).get_json()["rotation_request_id"]


PRODUCERS = {
    ("get", "/__docs__/", "200"): lambda w: w.client.get("/__docs__/"),
    ("get", "/", "200"): lambda w: w.client.get("/"),
    ("get", "/docs", "200"): lambda w: w.client.get("/docs"),
    ("get", "/healthz", "200"): lambda w: w.client.get("/healthz"),
    # datasets
    ("post", "/v1/datasets", "200"): lambda w: upload(w.client, w.a.headers, seed_csv(),
                                                      "seed.csv", wait=30),
    ("post", "/v1/datasets", "202"): lambda w: upload(w.client, w.a.headers, seed_csv(),
                                                      "seed.csv", wait=0),
    ("post", "/v1/datasets", "400"): lambda w: upload(w.client, w.a.headers, b"", "e.csv"),
    ("post", "/v1/datasets", "401"): lambda w: upload(w.client, {}, seed_csv(), "seed.csv"),
    ("post", "/v1/datasets", "409"): lambda w: [
        upload(w.client, {**w.a.headers, "Idempotency-Key": "cov-1"}, seed_csv(), "s.csv"),
        upload(w.client, {**w.a.headers, "Idempotency-Key": "cov-1"}, seed_csv()[:-40],
               "s.csv")][-1],
    ("post", "/v1/datasets", "413"): lambda w: upload(w.client, w.a.headers,
                                                      seed_csv() * 10, "big.csv"),
    ("post", "/v1/datasets", "415"): lambda w: w.client.post("/v1/datasets", json={},
                                                             headers=w.a.headers),
    ("get", "/v1/datasets", "200"): lambda w: w.client.get("/v1/datasets", headers=w.a.headers),
    ("get", "/v1/datasets", "400"): lambda w: w.client.get("/v1/datasets?limit=101",
                                                           headers=w.a.headers),
    ("get", "/v1/datasets", "401"): lambda w: w.client.get("/v1/datasets"),
    ("get", "/v1/datasets/{dataset_id}", "200"): lambda w: w.client.get(
        f"/v1/datasets/{w.dataset}", headers=w.a.headers),
    ("get", "/v1/datasets/{dataset_id}", "401"): lambda w: w.client.get(f"/v1/datasets/{w.dataset}"),
    ("get", "/v1/datasets/{dataset_id}", "404"): lambda w: w.client.get(
        f"/v1/datasets/{w.dataset}", headers=w.b.headers),
    ("delete", "/v1/datasets/{dataset_id}", "204"): lambda w: w.client.delete(
        f"/v1/datasets/{w.fresh_dataset()}", headers=w.a.headers),
    ("delete", "/v1/datasets/{dataset_id}", "401"): lambda w: w.client.delete(
        f"/v1/datasets/{w.dataset}"),
    ("delete", "/v1/datasets/{dataset_id}", "404"): lambda w: w.client.delete(
        f"/v1/datasets/{w.dataset}", headers=w.b.headers),
    ("get", "/v1/datasets/{dataset_id}/schema", "200"): lambda w: w.client.get(
        f"/v1/datasets/{w.dataset}/schema", headers=w.a.headers),
    ("get", "/v1/datasets/{dataset_id}/schema", "401"): lambda w: w.client.get(
        f"/v1/datasets/{w.dataset}/schema"),
    ("get", "/v1/datasets/{dataset_id}/schema", "404"): lambda w: w.client.get(
        "/v1/datasets/ds_missing000000000000/schema", headers=w.a.headers),
    ("post", "/v1/datasets/{dataset_id}/extend", "200"): lambda w: w.client.post(
        f"/v1/datasets/{w.fresh_dataset()}/extend", headers=w.a.headers),
    ("post", "/v1/datasets/{dataset_id}/extend", "401"): lambda w: w.client.post(
        f"/v1/datasets/{w.dataset}/extend"),
    ("post", "/v1/datasets/{dataset_id}/extend", "404"): lambda w: w.client.post(
        f"/v1/datasets/{w.dataset}/extend", headers=w.b.headers),
    ("post", "/v1/datasets/{dataset_id}/extend", "409"): lambda w: (lambda d: [
        w.client.post(f"/v1/datasets/{d}/extend", headers=w.a.headers),
        w.client.post(f"/v1/datasets/{d}/extend", headers=w.a.headers)][-1])(w.fresh_dataset()),
    # generations
    ("post", "/v1/datasets/{dataset_id}/generations", "200"): lambda w: generate(
        w.client, w.a.headers, w.dataset, gen_body()),
    ("post", "/v1/datasets/{dataset_id}/generations", "202"): lambda w: generate(
        w.client, w.a.headers, w.dataset, gen_body(row_count=90_000), wait=0),
    ("post", "/v1/datasets/{dataset_id}/generations", "207"): lambda w: generate(
        w.client, w.a.headers, w.dataset, gen_body(row_count=2000, conditions=TIGHT)),
    ("post", "/v1/datasets/{dataset_id}/generations", "400"): lambda w: generate(
        w.client, w.a.headers, w.dataset,
        gen_body(conditions={"categorical": {"segmnt": {"Premium": 0.5}}})),
    ("post", "/v1/datasets/{dataset_id}/generations", "401"): lambda w: generate(
        w.client, {}, w.dataset, gen_body()),
    ("post", "/v1/datasets/{dataset_id}/generations", "402"): lambda w: (lambda t: generate(
        w.client, t.headers, train(w.client, t.headers), gen_body(row_count=50)))(
        w.low_quota_tenant()),
    ("post", "/v1/datasets/{dataset_id}/generations", "404"): lambda w: generate(
        w.client, w.b.headers, w.dataset, gen_body()),
    ("post", "/v1/datasets/{dataset_id}/generations", "409"): lambda w: [
        generate(w.client, {**w.a.headers, "Idempotency-Key": "cov-2"}, w.dataset, gen_body()),
        generate(w.client, {**w.a.headers, "Idempotency-Key": "cov-2"}, w.dataset,
                 gen_body(row_count=201))][-1],
    ("post", "/v1/datasets/{dataset_id}/generations", "413"): lambda w: generate(
        w.client, w.a.headers, w.dataset, gen_body(row_count=100_001)),
    ("get", "/v1/datasets/{dataset_id}/generations", "200"): lambda w: w.client.get(
        f"/v1/datasets/{w.dataset}/generations", headers=w.a.headers),
    ("get", "/v1/datasets/{dataset_id}/generations", "400"): lambda w: w.client.get(
        f"/v1/datasets/{w.dataset}/generations?cursor=garbage", headers=w.a.headers),
    ("get", "/v1/datasets/{dataset_id}/generations", "401"): lambda w: w.client.get(
        f"/v1/datasets/{w.dataset}/generations"),
    ("get", "/v1/datasets/{dataset_id}/generations", "404"): lambda w: w.client.get(
        f"/v1/datasets/{w.dataset}/generations", headers=w.b.headers),
    ("get", "/v1/generations/{generation_id}", "200"): lambda w: w.client.get(
        f"/v1/generations/{w.generation}", headers=w.a.headers),
    ("get", "/v1/generations/{generation_id}", "401"): lambda w: w.client.get(
        f"/v1/generations/{w.generation}"),
    ("get", "/v1/generations/{generation_id}", "404"): lambda w: w.client.get(
        f"/v1/generations/{w.generation}", headers=w.b.headers),
    ("get", "/v1/generations/{generation_id}/download", "200"): lambda w: w.client.get(
        w.artifact_url, headers=w.a.headers),
    ("get", "/v1/generations/{generation_id}/download", "401"): lambda w: w.client.get(
        w.artifact_url),
    ("get", "/v1/generations/{generation_id}/download", "404"): lambda w: w.client.get(
        w.artifact_url.replace("sig=", "sig=0"), headers=w.a.headers),
    ("get", "/v1/jobs/{job_id}", "200"): lambda w: w.client.get(f"/v1/jobs/{w.job}",
                                                                  headers=w.a.headers),
    ("get", "/v1/jobs/{job_id}", "401"): lambda w: w.client.get(f"/v1/jobs/{w.job}"),
    ("get", "/v1/jobs/{job_id}", "404"): lambda w: w.client.get(f"/v1/jobs/{w.job}",
                                                                  headers=w.b.headers),
    # access
    ("post", "/v1/signup", "202"): lambda w: w.client.post(
        "/v1/signup", json={"company_name": "New", "contact_email": "new@acme.example"}),
    ("post", "/v1/signup", "200"): lambda w: _signup_retry(w),
    ("post", "/v1/signup", "400"): lambda w: w.client.post(
        "/v1/signup", json={"company_name": "X", "contact_email": "not-an-email"}),
    ("get", "/v1/signup/{request_id}", "200"): lambda w: w.client.get(
        "/v1/signup/" + w.client.post("/v1/signup", json={
            "company_name": "P", "contact_email": "p@acme.example"}).get_json()["request_id"]),
    ("get", "/v1/signup/{request_id}", "404"): lambda w: w.client.get("/v1/signup/req_nope"),
    ("post", "/v1/credential-claims", "200"): lambda w: w.client.post(
        "/v1/credential-claims", json={"claim_token": _signup_token(w)}),
    ("post", "/v1/credential-claims", "404"): lambda w: w.client.post(
        "/v1/credential-claims", json={"claim_token": "cred_" + "0" * 32}),
    ("post", "/v1/credential-rotation-requests", "202"): lambda w: w.client.post(
        "/v1/credential-rotation-requests", headers=w.a.headers, json={"reason": "x"}),
    ("post", "/v1/credential-rotation-requests", "401"): lambda w: w.client.post(
        "/v1/credential-rotation-requests", json={}),
    ("get", "/v1/credential-rotation-requests/{rotation_request_id}", "200"): lambda w:
        w.client.get(f"/v1/credential-rotation-requests/{_rotation_request(w)}",
                     headers=w.a.headers),
    ("get", "/v1/credential-rotation-requests/{rotation_request_id}", "401"): lambda w:
        w.client.get("/v1/credential-rotation-requests/rot_" + "0" * 32),
    ("get", "/v1/credential-rotation-requests/{rotation_request_id}", "404"): lambda w:
        w.client.get("/v1/credential-rotation-requests/rot_" + "0" * 32, headers=w.a.headers),
    ("post", "/v1/credential-rotations", "201"): lambda w: w.client.post(
        "/v1/credential-rotations", headers={**w.b.headers, "Idempotency-Key": "rot-1"}),
    ("post", "/v1/credential-rotations", "200"): lambda w: [w.client.post(
        "/v1/credential-rotations", headers={**w.b.headers, "Idempotency-Key": "rot-2"})
        for _ in range(2)][-1],
    ("post", "/v1/credential-rotations", "401"): lambda w: w.client.post(
        "/v1/credential-rotations"),
    ("post", "/v1/credential-rotations", "429"): lambda w: [w.client.post(
        "/v1/credential-rotations", headers={**w.b.headers, "Idempotency-Key": f"rot-x{i}"})
        for i in range(4)][-1],
}


def test_every_contract_status_has_a_producer():
    missing = [key for key in contract_statuses()
               if key not in PRODUCERS and key not in NOT_PRODUCIBLE]
    assert not missing, missing


@pytest.mark.parametrize("method, path, status", contract_statuses(),
                         ids=lambda v: str(v))
def test_status_is_produced_over_http(world, method, path, status):
    if (method, path, status) in NOT_PRODUCIBLE:
        pytest.skip(NOT_PRODUCIBLE[(method, path, status)])
    response = PRODUCERS[(method, path, status)](world)
    assert response.status_code == int(status), (response.status_code, response.get_data()[:300])
    if int(status) >= 400 and response.status_code != 401:
        assert response.mimetype == "application/problem+json"
