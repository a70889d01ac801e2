"""Fixtures for the local API: a fresh app on a real SQLite file per test.

- ``app_config``: overrides passed to ``create_app`` (override this fixture in a module, or
  call ``make_app`` directly, to change approval mode, inject a clock, ...).
- ``make_app(**overrides)``: build an app on this test's data dir (call twice to simulate
  a restart on the same store).
- ``app`` / ``client`` / ``runner``: the usual flaskr trio.
- ``make_tenant(company=..., email=...)``: signup -> (auto-)approval -> claim -> /oauth/token
  over the test client; returns ``(headers, client_id, client_secret)``.
- ``tenant_token``: one such tenant for the test.
"""

from __future__ import annotations

import os

import pytest
from click.testing import CliRunner

from localapi import create_app

AUDIENCE = "https://api.simulacra-data.com"


@pytest.fixture(autouse=True)
def _no_simio_environment(monkeypatch):
    """The developer's SIMIO_* variables must not leak into the apps under test."""
    for name in list(os.environ):
        if name.startswith("SIMIO_"):
            monkeypatch.delenv(name)


@pytest.fixture
def data_dir(tmp_path):
    return tmp_path


@pytest.fixture
def app_config():
    return {}


@pytest.fixture
def make_app(data_dir, app_config):
    apps = []

    def make(**overrides):
        config = {"data_dir": str(data_dir), "approval": "auto", **app_config, **overrides}
        app = create_app(config)
        app.config["TESTING"] = True
        apps.append(app)
        return app

    yield make
    for app in apps:
        runner = app.extensions.get("simio_jobs")
        if runner is not None:
            runner.shutdown(False)


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def signup(client, company="Acme Research", email="data-science@acme.example"):
    return client.post("/v1/signup", json={"company_name": company, "contact_email": email})


def claim(client, request_id):
    status = client.get(f"/v1/signup/{request_id}").get_json()
    assert status["status"] == "approved", status
    response = client.post("/v1/credential-claims",
                           json={"claim_token": status["credential_claim_token"]})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def mint(client, client_id, secret, audience=AUDIENCE):
    response = client.post("/oauth/token", json={
        "client_id": client_id, "client_secret": secret, "audience": audience,
        "grant_type": "client_credentials"})
    assert response.status_code == 200, response.get_json()
    return response.get_json()["access_token"]


@pytest.fixture
def make_tenant(client):
    """Needs auto approval (the default ``app``); returns (headers, client_id, secret)."""
    count = [0]

    def make(company="Acme Research", email=None):
        count[0] += 1
        email = email or f"team{count[0]}@acme.example"
        response = signup(client, company, email)
        assert response.status_code == 202, response.get_json()
        credential = claim(client, response.get_json()["request_id"])
        token = mint(client, credential["client_id"], credential["client_secret"])
        return ({"Authorization": f"Bearer {token}"}, credential["client_id"],
                credential["client_secret"])

    return make


@pytest.fixture
def tenant_token(make_tenant):
    return make_tenant()


@pytest.fixture
def cli(app):
    """``simio admin ...`` against the app's data dir, through click's runner."""
    from localapi.cli_admin import admin as admin_cli

    data_dir = app.config["SIMIO"].data_dir

    def invoke(*args):
        return CliRunner().invoke(admin_cli, [*args, "--data-dir", data_dir])

    return invoke
