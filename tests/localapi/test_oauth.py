"""POST /oauth/token (client credentials, as Auth0 takes it) and the tokens it mints."""

from __future__ import annotations

import base64
import time

import jwt
import pytest
from flask import Blueprint, g

from localapi import admin
from localapi.auth import require_auth
from tests.localapi.conftest import AUDIENCE, claim, signup

DENIED = {"error": "access_denied", "error_description": "Unauthorized"}

probe = Blueprint("probe", __name__)


@probe.get("/test-only/whoami")
@require_auth
def whoami():
    return {"tenant_id": g.tenant_id, "client_id": g.client_id}


@pytest.fixture
def app(app):
    app.register_blueprint(probe)
    return app


@pytest.fixture
def credential(client):
    """(client_id, client_secret) of a freshly claimed tenant."""
    body = claim(client, signup(client).get_json()["request_id"])
    return body["client_id"], body["client_secret"]


def grant(client_id, secret, **extra):
    return {"client_id": client_id, "client_secret": secret, "audience": AUDIENCE,
            "grant_type": "client_credentials", **extra}


def assert_token_response(app, response, client_id):
    assert response.status_code == 200, response.get_json()
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_json()
    assert set(body) == {"access_token", "token_type", "expires_in"}
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == app.config["SIMIO"].token_ttl_seconds == 86400
    assert body["access_token"].startswith("eyJ") and body["access_token"].count(".") == 2
    claims = jwt.decode(body["access_token"], app.config["SIMIO_SIGNING_KEY"],
                        algorithms=["HS256"], audience=AUDIENCE, issuer="simio-local")
    assert claims["sub"] == client_id
    assert claims["exp"] - claims["iat"] == 86400
    return body["access_token"]


# --- minting -------------------------------------------------------------------------

def test_json_grant_as_the_quickstarts_send_it(app, client, credential):
    response = client.post("/oauth/token", json=grant(*credential))
    assert_token_response(app, response, credential[0])


def test_form_encoded_grant(app, client, credential):
    response = client.post("/oauth/token", data=grant(*credential))
    assert response.request.mimetype == "application/x-www-form-urlencoded"
    assert_token_response(app, response, credential[0])


def test_http_basic_client_authentication(app, client, credential):
    client_id, secret = credential
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    response = client.post("/oauth/token", data={"grant_type": "client_credentials"},
                           headers={"Authorization": f"Basic {basic}"})
    assert_token_response(app, response, client_id)


def test_audience_defaults_to_the_configured_one(app, client, credential):
    client_id, secret = credential
    response = client.post("/oauth/token", json={"client_id": client_id, "client_secret": secret,
                                                  "grant_type": "client_credentials"})
    assert_token_response(app, response, client_id)


def test_minted_token_opens_protected_routes(client, tenant_token):
    headers, client_id, _secret = tenant_token
    response = client.get("/test-only/whoami", headers=headers)
    assert response.status_code == 200
    assert response.get_json()["client_id"] == client_id
    assert client.get("/test-only/whoami").status_code == 401


def test_minted_token_reaches_the_datasets_routes(app, client, tenant_token):
    if "datasets.get_dataset" not in app.view_functions:
        pytest.skip("datasets blueprint not present")
    headers, _client_id, _secret = tenant_token
    response = client.get("/v1/datasets/ds_doesnotexist", headers=headers)
    assert response.status_code == 404
    assert response.get_json()["code"] == "simio_dataset_not_found"
    assert client.get("/v1/datasets/ds_doesnotexist").status_code == 401


def test_tenants_are_told_apart(client, make_tenant):
    first, second = make_tenant("Acme Research"), make_tenant("Beta Labs")
    a = client.get("/test-only/whoami", headers=first[0]).get_json()
    b = client.get("/test-only/whoami", headers=second[0]).get_json()
    assert a["tenant_id"] != b["tenant_id"]
    assert b["client_id"].startswith("beta_labs_m2m_")


# --- failures ------------------------------------------------------------------------

def _denied(response):
    assert response.status_code == 401
    assert response.mimetype == "application/json"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.get_json() == DENIED
    return response.data


def test_wrong_secret_unknown_client_wrong_audience_are_one_401(client, credential):
    client_id, secret = credential
    bodies = {
        _denied(client.post("/oauth/token", json=grant(client_id, secret + "x"))),
        _denied(client.post("/oauth/token", json=grant("nobody_m2m_000000", secret))),
        _denied(client.post("/oauth/token", json=grant(client_id, secret,
                                                       audience="https://elsewhere"))),
        _denied(client.post("/oauth/token", data=grant(client_id, "wrong"))),
    }
    assert len(bodies) == 1


def test_unclaimed_credential_cannot_mint(make_app):
    app = make_app(approval="manual")
    client = app.test_client()
    request_id = signup(client).get_json()["request_id"]
    conn, key = admin.open_store(app.config["SIMIO"].data_dir)
    try:
        approval = admin.approve_signup(conn, key, request_id, config=app.config["SIMIO"])
    finally:
        conn.close()
    _denied(client.post("/oauth/token", json=grant(approval.client_id, "anything")))
    _denied(client.post("/oauth/token", json=grant(approval.client_id, "")
                        | {"client_secret": "x"}))


@pytest.mark.parametrize("kwargs, error", [
    ({"json": {"grant_type": "password", "client_id": "a", "client_secret": "b"}},
     "unsupported_grant_type"),
    ({"data": {"grant_type": "authorization_code", "code": "x"}}, "unsupported_grant_type"),
    ({"json": {"client_id": "a", "client_secret": "b"}}, "invalid_request"),
    ({"json": {"grant_type": "client_credentials", "client_id": "a"}}, "invalid_request"),
    ({"json": {"grant_type": "client_credentials", "client_secret": "b"}}, "invalid_request"),
    ({"json": {"grant_type": "client_credentials", "client_id": 1, "client_secret": "b"}},
     "invalid_request"),
    ({"json": ["client_credentials"]}, "invalid_request"),
    ({"data": "{not json", "content_type": "application/json"}, "invalid_request"),
    ({"data": "grant_type=client_credentials", "content_type": "text/plain"},
     "invalid_request"),
    ({"data": "grant_type=client_credentials&grant_type=client_credentials&client_id=a"
              "&client_secret=b", "content_type": "application/x-www-form-urlencoded"},
     "invalid_request"),
    ({}, "invalid_request"),
])
def test_malformed_requests_are_400(client, kwargs, error):
    response = client.post("/oauth/token", **kwargs)
    assert response.status_code == 400
    body = response.get_json()
    assert body["error"] == error and body["error_description"]
    assert response.headers["Cache-Control"] == "no-store"


def test_two_client_authentication_methods_are_400(client, credential):
    client_id, secret = credential
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    response = client.post("/oauth/token", json=grant(client_id, secret),
                           headers={"Authorization": f"Basic {basic}"})
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_request"


# --- the uniform 401 on protected routes ---------------------------------------------

def _craft(app, client_id, tenant_id, *, key=None, algorithm="HS256", **overrides):
    now = int(time.time())
    claims = {"iss": "simio-local", "aud": AUDIENCE, "sub": client_id, "tenant": tenant_id,
              "iat": now, "exp": now + 600, **overrides}
    claims = {k: v for k, v in claims.items() if v is not None}
    return jwt.encode(claims, key or app.config["SIMIO_SIGNING_KEY"], algorithm=algorithm)


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
def test_bad_tokens_get_one_uniform_401(app, client, tenant_token):
    headers, client_id, _secret = tenant_token
    tenant_id = client.get("/test-only/whoami", headers=headers).get_json()["tenant_id"]
    good = _craft(app, client_id, tenant_id)
    assert client.get("/test-only/whoami",
                      headers={"Authorization": f"Bearer {good}"}).status_code == 200

    past = int(time.time()) - 3600
    bad = [
        _craft(app, client_id, tenant_id, aud="https://elsewhere"),
        _craft(app, client_id, tenant_id, iss="someone-else"),
        _craft(app, client_id, tenant_id, iat=past - 600, exp=past),
        _craft(app, client_id, tenant_id, exp=None),
        _craft(app, client_id, tenant_id, key=b"k" * 32),
        _craft(app, client_id, tenant_id, algorithm="HS512"),
        _craft(app, "nobody_m2m_000000", tenant_id),
        _craft(app, client_id, "tn_someoneelse"),
        jwt.encode({"sub": client_id}, None, algorithm="none"),
        "not-a-jwt", _secret,
    ]
    seen = set()
    for token in bad:
        response = client.get("/test-only/whoami", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401, token
        body = response.get_json()
        seen.add(tuple(sorted((k, v) for k, v in body.items() if k != "request_id")))
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    for header in ("", "Bearer", "Basic abc", f"Token {good}"):
        response = client.get("/test-only/whoami", headers={"Authorization": header})
        assert response.status_code == 401
        body = response.get_json()
        seen.add(tuple(sorted((k, v) for k, v in body.items() if k != "request_id")))
    assert len(seen) == 1
