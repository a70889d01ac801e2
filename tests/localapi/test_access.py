"""Contract operations 01-03: signup, signup status, credential claim."""

from __future__ import annotations

import logging
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from localapi import admin
from localapi.db import connect, db_path
from tests.localapi.conftest import AUDIENCE, claim, mint, signup

REQUEST_ID = re.compile(r"^req_[A-Za-z0-9]{1,64}$")
CLAIM_TOKEN = re.compile(r"^cred_[0-9a-f]{32}$")
CLIENT_ID = re.compile(r"^acme_research_m2m_[0-9a-f]{6}$")


def without_request_id(body: dict) -> dict:
    return {k: v for k, v in body.items() if k != "request_id"}


def audit_rows(app) -> list:
    conn = connect(app)
    try:
        return [dict(r) for r in conn.execute("SELECT * FROM audit ORDER BY seq")]
    finally:
        conn.close()


@pytest.fixture
def manual_app(make_app):
    return make_app(approval="manual")


@pytest.fixture
def manual_client(manual_app):
    return manual_app.test_client()


# --- 01 POST /v1/signup --------------------------------------------------------------

def test_new_signup_is_202_pending(manual_client):
    response = signup(manual_client)
    assert response.status_code == 202
    body = response.get_json()
    assert body == {"request_id": body["request_id"], "status": "pending"}
    assert REQUEST_ID.fullmatch(body["request_id"])
    assert response.headers["X-Request-Id"]


def test_auto_approval_still_answers_pending_then_polls_approved(client):
    response = signup(client)
    assert response.status_code == 202
    assert response.get_json()["status"] == "pending"
    status = client.get(f"/v1/signup/{response.get_json()['request_id']}").get_json()
    assert status["status"] == "approved"
    assert CLIENT_ID.fullmatch(status["client_id"])
    assert CLAIM_TOKEN.fullmatch(status["credential_claim_token"])


KEY = {"Idempotency-Key": "signup-retry-0123456789"}


def keyed_signup(client, headers=KEY, **body):
    body = {"company_name": "Acme Research", "contact_email": "data-science@acme.example",
            **body}
    return client.post("/v1/signup", json=body, headers=headers)


def test_a_retry_with_the_same_key_is_200_with_the_same_request(manual_client):
    first = keyed_signup(manual_client)
    assert first.status_code == 202
    again = keyed_signup(manual_client, contact_email="Data-Science@ACME.example ")
    assert again.status_code == 200 and again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == {"request_id": first.get_json()["request_id"],
                                "status": "pending"}


def test_a_retry_of_an_approved_request_shows_its_client_id_and_token(client):
    first = keyed_signup(client).get_json()
    again = keyed_signup(client)
    assert again.status_code == 200
    body = again.get_json()
    assert body["request_id"] == first["request_id"] and body["status"] == "approved"
    assert CLIENT_ID.fullmatch(body["client_id"])
    # The same token as the status poll shows: re-presented, not re-minted.
    polled = client.get(f"/v1/signup/{first['request_id']}").get_json()
    assert body["credential_claim_token"] == polled["credential_claim_token"]


def test_a_retry_after_the_claim_does_not_reissue_a_token(client):
    request_id = keyed_signup(client).get_json()["request_id"]
    claim(client, request_id)
    again = keyed_signup(client)
    assert again.status_code == 200
    assert again.get_json() == {"request_id": request_id, "status": "approved",
                                "client_id": again.get_json()["client_id"]}


def test_the_same_key_with_another_email_is_a_conflict(manual_client):
    keyed_signup(manual_client)
    response = keyed_signup(manual_client, contact_email="other@acme.example")
    assert response.status_code == 409
    assert response.get_json()["code"] == "simio_idempotency_conflict"


@pytest.mark.parametrize("key", ["short", "k" * 15])
def test_a_signup_key_must_be_long_enough_to_be_a_secret(manual_client, key):
    _assert_invalid_field(keyed_signup(manual_client, headers={"Idempotency-Key": key}),
                          "16 characters")


def test_declined_request_allows_a_new_one(manual_app, manual_client):
    first = signup(manual_client).get_json()["request_id"]
    conn, _key = admin.open_store(manual_app.config["SIMIO"].data_dir)
    try:
        admin.decline_signup(conn, first)
    finally:
        conn.close()
    assert manual_client.get(f"/v1/signup/{first}").get_json() == {
        "request_id": first, "status": "declined"}
    again = signup(manual_client)
    assert again.status_code == 202
    assert again.get_json()["request_id"] != first
    assert again.get_json()["status"] == "pending"


def test_concurrent_retries_with_one_key_make_one_request(manual_app):
    barrier = threading.Barrier(6)

    def submit(_):
        barrier.wait()
        return keyed_signup(manual_app.test_client())

    with ThreadPoolExecutor(6) as pool:
        responses = list(pool.map(submit, range(6)))
    # One transaction records the request and its key, so the retries queue behind it.
    assert sorted(r.status_code for r in responses) == [200] * 5 + [202]
    assert len({r.get_json()["request_id"] for r in responses}) == 1


def _assert_invalid_field(response, field=None):
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["code"] == "simio_invalid_field"
    assert body["status"] == 400 and body["title"] == "Bad Request"
    assert body["type"].endswith("/errors/simio_invalid_field")
    if field:
        assert field in body["detail"]
    return body


GOOD = {"company_name": "Acme Research", "contact_email": "data-science@acme.example"}


@pytest.mark.parametrize("body, field", [
    ({"contact_email": GOOD["contact_email"]}, "company_name"),
    ({**GOOD, "company_name": ""}, "company_name"),
    ({**GOOD, "company_name": "   "}, "company_name"),
    ({**GOOD, "company_name": "x" * 257}, "company_name"),
    ({**GOOD, "company_name": 42}, "company_name"),
    ({**GOOD, "company_name": "Acme\x00Research"}, "company_name"),
    ({"company_name": "Acme"}, "contact_email"),
    ({**GOOD, "contact_email": None}, "contact_email"),
    ({**GOOD, "contact_email": 7}, "contact_email"),
    ({**GOOD, "contact_email": ""}, "contact_email"),
    ({**GOOD, "contact_email": "not-an-email"}, "contact_email"),
    ({**GOOD, "contact_email": "a@b"}, "contact_email"),
    ({**GOOD, "contact_email": "two@@acme.example"}, "contact_email"),
    ({**GOOD, "contact_email": "sp ace@acme.example"}, "contact_email"),
    ({**GOOD, "contact_email": "dot.@acme.example"}, "contact_email"),
    ({**GOOD, "contact_email": "x@-acme.example"}, "contact_email"),
    ({**GOOD, "contact_email": "x@acme .example"}, "contact_email"),
    ({**GOOD, "contact_email": "x@acme.example\nBcc: y@acme.example"}, "contact_email"),
    ({**GOOD, "contact_email": "x" * 65 + "@acme.example"}, "contact_email"),
    ({**GOOD, "contact_email": "a@" + "b" * 60 + "." + "c" * 60 + "." + "d" * 60 + "."
      + "e" * 62 + ".example"}, "contact_email"),
])
def test_bad_fields_are_400(client, body, field):
    body = _assert_invalid_field(client.post("/v1/signup", json=body), field)
    if field == "contact_email":
        assert body["detail"] == ("Field 'contact_email' must be a valid email address up to "
                                  "254 chars.")


def test_longest_valid_fields_are_accepted(client):
    email = "x" * 64 + "@" + ".".join(["b" * 61, "c" * 61, "d" * 61, "com"])
    assert len(email) == 254
    response = client.post("/v1/signup", json={"company_name": "x" * 256,
                                                "contact_email": email})
    assert response.status_code == 202, response.get_json()


@pytest.mark.parametrize("kwargs", [
    {},
    {"data": "", "content_type": "application/json"},
    {"data": "{not json", "content_type": "application/json"},
    {"data": "[1, 2]", "content_type": "application/json"},
    {"data": '"text"', "content_type": "application/json"},
])
def test_missing_or_malformed_body_is_400(client, kwargs):
    _assert_invalid_field(client.post("/v1/signup", **kwargs))


@pytest.mark.parametrize("kwargs", [
    {"data": GOOD},  # a form post
    {"data": '{"company_name": "Acme"}', "content_type": "text/plain"},
])
def test_wrong_content_type_is_415(client, kwargs):
    response = client.post("/v1/signup", **kwargs)
    assert response.status_code == 415
    assert response.get_json()["code"] == "simio_unsupported_content_type"


# --- 02 GET /v1/signup/{request_id} --------------------------------------------------

def test_pending_status_has_no_credentials(manual_client):
    request_id = signup(manual_client).get_json()["request_id"]
    response = manual_client.get(f"/v1/signup/{request_id}")
    assert response.status_code == 200
    assert response.get_json() == {"request_id": request_id, "status": "pending"}


@pytest.mark.parametrize("request_id", [
    "req_2YH3Kxq8wABC123def456",      # well formed, unknown
    "req_abc-def", "req_abc.def", "req_", "REQ_abc", "abc", "req_" + "a" * 65,
    "req_%20abc", "r",
])
def test_unknown_and_malformed_ids_are_the_same_404(client, request_id):
    response = client.get(f"/v1/signup/{request_id}")
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert without_request_id(body) == {
        "type": "http://127.0.0.1:8080/errors/simio_signup_not_found", "title": "Not Found",
        "status": 404, "detail": "Signup request not found.", "code": "simio_signup_not_found"}
    assert body["request_id"] == response.headers["X-Request-Id"]


def test_status_is_open_and_ignores_a_bad_bearer(client):
    request_id = signup(client).get_json()["request_id"]
    response = client.get(f"/v1/signup/{request_id}",
                          headers={"Authorization": "Bearer garbage"})
    assert response.status_code == 200


# --- 03 POST /v1/credential-claims ---------------------------------------------------

def test_claim_returns_the_secret_once(client):
    request_id = signup(client).get_json()["request_id"]
    token = client.get(f"/v1/signup/{request_id}").get_json()["credential_claim_token"]
    response = client.post("/v1/credential-claims", json={"claim_token": token})
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_json()
    assert set(body) == {"client_id", "client_secret", "token_url", "audience", "grant_type",
                         "purpose"}
    assert CLIENT_ID.fullmatch(body["client_id"])
    assert len(body["client_secret"]) >= 32 and "." not in body["client_secret"]
    assert body["token_url"] == "http://127.0.0.1:8080/oauth/token"
    assert body["audience"] == AUDIENCE
    assert body["grant_type"] == "client_credentials"
    assert body["purpose"] == "initial"

    second = client.post("/v1/credential-claims", json={"claim_token": token})
    assert second.status_code == 404
    assert second.get_json()["code"] == "simio_credential_claim_not_found"
    # Once claimed, the status no longer shows a token.
    assert "credential_claim_token" not in client.get(f"/v1/signup/{request_id}").get_json()
    # And the secret works.
    assert mint(client, body["client_id"], body["client_secret"])


@pytest.mark.parametrize("public_url", ["", "https://simio.internal:8443"])
def test_token_url_comes_from_configuration_never_the_host_header(make_app, public_url):
    client = make_app(public_url=public_url).test_client()
    request_id = signup(client).get_json()["request_id"]
    token = client.get(f"/v1/signup/{request_id}").get_json()["credential_claim_token"]
    response = client.post("/v1/credential-claims", json={"claim_token": token},
                           base_url="https://attacker.example:443")
    expected = public_url or "http://127.0.0.1:8080"          # default: the bind address
    assert response.get_json()["token_url"] == expected + "/oauth/token"


@pytest.mark.parametrize("token", [
    "cred_0123456789abcdef0123456789abcdef",   # well formed, unknown
    "cred_0123456789ABCDEF0123456789ABCDEF", "cred_123", "nope", "x" * 300,
])
def test_unknown_or_malformed_claim_tokens_are_the_same_404(client, token):
    response = client.post("/v1/credential-claims", json={"claim_token": token})
    assert response.status_code == 404
    assert without_request_id(response.get_json()) == {
        "type": "http://127.0.0.1:8080/errors/simio_credential_claim_not_found",
        "title": "Not Found", "status": 404,
        "detail": "Credential claim not found, expired, or already used.",
        "code": "simio_credential_claim_not_found"}


@pytest.mark.parametrize("body", [{}, {"claim_token": ""}, {"claim_token": 5},
                                  {"claim_token": ["cred_x"]}])
def test_claim_without_a_token_string_is_400(client, body):
    _assert_invalid_field(client.post("/v1/credential-claims", json=body), "claim_token")


def test_claim_needs_json(client):
    assert client.post("/v1/credential-claims").status_code == 400
    response = client.post("/v1/credential-claims", data={"claim_token": "cred_x"})
    assert response.status_code == 415


def test_expired_claim_is_404_and_no_longer_shown(make_app):
    t = [time.time()]
    app = make_app(clock=lambda: t[0])
    client = app.test_client()
    request_id = signup(client).get_json()["request_id"]
    token = client.get(f"/v1/signup/{request_id}").get_json()["credential_claim_token"]
    t[0] += app.config["SIMIO"].claim_ttl_seconds - 1
    assert client.get(f"/v1/signup/{request_id}").get_json()["credential_claim_token"] == token
    t[0] += 1
    status = client.get(f"/v1/signup/{request_id}").get_json()
    assert status["status"] == "approved" and "credential_claim_token" not in status
    response = client.post("/v1/credential-claims", json={"claim_token": token})
    assert response.status_code == 404
    assert response.get_json()["code"] == "simio_credential_claim_not_found"


def test_concurrent_claims_have_one_winner(app, client):
    request_id = signup(client).get_json()["request_id"]
    token = client.get(f"/v1/signup/{request_id}").get_json()["credential_claim_token"]
    barrier = threading.Barrier(4)

    def redeem(_):
        barrier.wait()
        return app.test_client().post("/v1/credential-claims", json={"claim_token": token})

    with ThreadPoolExecutor(4) as pool:
        responses = list(pool.map(redeem, range(4)))
    assert sorted(r.status_code for r in responses) == [200, 404, 404, 404]
    winner = next(r.get_json() for r in responses if r.status_code == 200)
    assert mint(client, winner["client_id"], winner["client_secret"])


# --- audit and secrecy ---------------------------------------------------------------

def test_the_flow_is_audited(app, client):
    request_id = signup(client).get_json()["request_id"]
    credential = claim(client, request_id)
    rows = audit_rows(app)
    assert [(r["actor"], r["action"]) for r in rows] == [
        ("anonymous", "signup_submitted"),
        ("system:auto-approval", "tenant_created"),
        ("system:auto-approval", "signup_approved"),
        (f"client:{credential['client_id']}", "credential_claimed"),
    ]
    assert rows[0]["subject"] == request_id == rows[2]["subject"]
    assert all(r["request_id"] and REQUEST_ID.fullmatch(r["request_id"]) for r in rows)


def test_secrets_never_reach_logs_audit_or_the_database_file(app, client, caplog):
    caplog.set_level(logging.DEBUG)
    request_id = signup(client).get_json()["request_id"]
    claim_token = client.get(f"/v1/signup/{request_id}").get_json()["credential_claim_token"]
    credential = client.post("/v1/credential-claims",
                             json={"claim_token": claim_token}).get_json()
    access_token = mint(client, credential["client_id"], credential["client_secret"])
    # Form and Basic variants and a failed attempt go through the same code paths.
    client.post("/oauth/token", data={"grant_type": "client_credentials",
                                      "client_id": credential["client_id"],
                                      "client_secret": credential["client_secret"]})
    client.post("/oauth/token", json={"grant_type": "client_credentials",
                                      "client_id": credential["client_id"],
                                      "client_secret": credential["client_secret"] + "x"})
    client.post("/v1/credential-claims", json={"claim_token": claim_token})

    secrets = [credential["client_secret"], claim_token, access_token]
    logged = [record.getMessage() + repr(record.args) + str(record.exc_text)
              for record in caplog.records]
    for secret in secrets:
        assert not any(secret in text for text in logged)
    for row in audit_rows(app):
        assert not any(secret in repr(row) for secret in secrets)

    store = db_path(app)
    files = [p for p in store.parent.rglob("*") if p.is_file()]
    assert store in files
    blob = b"".join(p.read_bytes() for p in files)
    for secret in secrets:
        assert secret.encode() not in blob
        assert secret[5:].encode() not in blob   # not even the claim token's hex tail
