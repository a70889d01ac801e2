"""Development mode: tokenless requests act as the local dev tenant; a bad token is still a
401; ``simio serve --dev`` refuses any non-loopback address."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from localapi import create_app
from localapi.auth import DEV_CLIENT, DEV_TENANT
from tests.localapi.conftest import AUDIENCE
from tests.localapi.fixtures import (ROOT, SCENARIO, artifact, generate, new_tenant,
                                     read_artifact, sql, train, upload)

UNAUTHORIZED = {"type": "about:blank", "title": "Unauthorized", "status": 401,
                "detail": "Invalid credentials."}


@pytest.fixture
def build(data_dir):
    apps = []

    def make(**config):
        app = create_app({"data_dir": str(data_dir), **config})
        app.config["TESTING"] = True
        apps.append(app)
        return app

    yield make
    for app in apps:
        app.extensions["simio_jobs"].shutdown(False)


@pytest.fixture
def dev_app(build):
    return build(dev=True)


def assert_unauthorized(response):
    assert response.status_code == 401, response.get_json()
    body = response.get_json()
    assert {k: body[k] for k in UNAUTHORIZED} == UNAUTHORIZED
    assert "code" not in body
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_tokenless_requests_act_as_the_dev_tenant(dev_app):
    client = dev_app.test_client()
    dataset_id = train(client, {})
    schema = client.get(f"/v1/datasets/{dataset_id}/schema")
    assert schema.status_code == 200, schema.get_json()
    response = generate(client, {}, dataset_id, SCENARIO, row_count=500)
    assert response.status_code == 200, response.get_json()
    generation_id = response.get_json()["generation_id"]
    _download, data = artifact(client, {}, generation_id)
    assert len(read_artifact(data, "parquet")) == 500
    owners = sql(dev_app, "SELECT tenant_id FROM datasets WHERE dataset_id = ?", (dataset_id,))
    assert owners == [{"tenant_id": DEV_TENANT}]
    assert sql(dev_app, "SELECT rows_used FROM tenants WHERE tenant_id = ?",
                (DEV_TENANT,)) == [{"rows_used": 500}]


@pytest.mark.parametrize("authorization", [
    "Bearer not-a-jwt",
    "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJsb2NhbC1kZXYifQ.c2lnbmF0dXJl",
    "Bearer ",
    "Basic bG9jYWwtZGV2Og==",
    "local-dev",
])
def test_a_bad_token_is_still_401_in_dev_mode(dev_app, authorization):
    client = dev_app.test_client()
    headers = {"Authorization": authorization}
    assert_unauthorized(upload(client, headers, b"a,b\n1,2\n3,4\n", "seed.csv"))
    assert_unauthorized(client.post("/v1/datasets/ds_x/generations", headers=headers,
                                    json={"row_count": 10, "output_format": "csv"}))
    assert_unauthorized(client.get("/v1/jobs/job_doesnotexist", headers=headers))
    assert_unauthorized(client.post("/v1/credential-rotations", headers=headers))
    assert sql(dev_app, "SELECT COUNT(*) AS n FROM datasets") == [{"n": 0}]


def test_a_real_token_in_dev_mode_acts_as_its_own_tenant(dev_app):
    client = dev_app.test_client()
    tenant = new_tenant(dev_app, client, "real@acme.example")
    assert tenant.tenant_id != DEV_TENANT
    response = upload(client, tenant.headers, b"a,b\n1,x\n2,y\n3,x\n4,y\n", "seed.csv",
                      wait=60)
    assert response.status_code == 200, response.get_json()
    dataset_id = response.get_json()["dataset_id"]
    # Tenants stay isolated: the dev tenant cannot see it, its owner can.
    assert client.get(f"/v1/datasets/{dataset_id}").status_code == 404
    assert client.get(f"/v1/datasets/{dataset_id}", headers=tenant.headers).status_code == 200


def test_dev_client_has_no_secret(dev_app):
    creds = sql(dev_app, "SELECT * FROM credentials WHERE client_id = ?", (DEV_CLIENT,))
    assert len(creds) == 1 and creds[0]["secret_hash"] is None
    assert creds[0]["tenant_id"] == DEV_TENANT
    response = dev_app.test_client().post("/oauth/token", json={
        "client_id": DEV_CLIENT, "client_secret": "anything", "audience": AUDIENCE,
        "grant_type": "client_credentials"})
    assert response.status_code == 401


def test_without_dev_mode_tokenless_requests_are_401(build):
    app = build()
    client = app.test_client()
    assert_unauthorized(upload(client, {}, b"a,b\n1,2\n3,4\n", "seed.csv"))
    assert_unauthorized(client.get("/v1/jobs/job_doesnotexist"))
    assert sql(app, "SELECT * FROM tenants WHERE tenant_id = ?", (DEV_TENANT,)) == []


@pytest.mark.parametrize("args,env", [
    (["--dev", "--host", "0.0.0.0"], {}),
    (["--host", "::"], {"SIMIO_DEV": "1"}),
])
def test_serve_refuses_dev_mode_off_loopback(tmp_path, args, env):
    data_dir = tmp_path / "store"
    environ = {k: v for k, v in os.environ.items() if not k.startswith("SIMIO_")}
    result = subprocess.run(
        [sys.executable, "-m", "localapi.cli", "serve", *args, "--port", "0",
         "--data-dir", str(data_dir)],
        cwd=ROOT, env={**environ, **env}, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert result.stderr.startswith("error: --dev")
    assert "loopback" in result.stderr
    assert "listening" not in result.stdout
    assert not data_dir.exists()
