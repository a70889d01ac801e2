"""Credential rotation: POST /v1/credential-rotations (self-service, idempotent, rate
limited), support rotation requests (POST + GET /v1/credential-rotation-requests) and the
operator's ``simio admin rotations`` commands."""

from __future__ import annotations

import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from localapi import admin
from tests.localapi.conftest import AUDIENCE, claim, mint, signup
from tests.localapi.fixtures import sql

ROTATION_ID = re.compile(r"^rot_[A-Za-z0-9]{32}$")
CLAIM_TOKEN = re.compile(r"^cred_[0-9a-f]{32}$")
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
DAY = 24 * 3600


# --- helpers ---------------------------------------------------------------------------

def audit_rows(app):
    return sql(app, "SELECT * FROM audit ORDER BY seq")


def new_client(client, email):
    """signup -> auto approval -> claim -> token: (headers, client_id, secret)."""
    response = signup(client, "Acme Research", email)
    credential = claim(client, response.get_json()["request_id"])
    token = mint(client, credential["client_id"], credential["client_secret"])
    return {"Authorization": f"Bearer {token}"}, credential["client_id"], \
        credential["client_secret"]


def token_status(client, client_id, secret):
    return client.post("/oauth/token", json={
        "client_id": client_id, "client_secret": secret, "audience": AUDIENCE,
        "grant_type": "client_credentials"}).status_code


def rotate(client, headers, key=None, **kwargs):
    extra = {"Idempotency-Key": key} if key else {}
    return client.post("/v1/credential-rotations", headers={**headers, **extra}, **kwargs)


def redeem(client, token):
    return client.post("/v1/credential-claims", json={"claim_token": token})


def assert_problem(response, status, code):
    assert response.status_code == status, response.get_json()
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == status and body["code"] == code
    assert body["type"].endswith(f"/errors/{code}")
    assert body["request_id"] == response.headers["X-Request-Id"]
    return body


@pytest.fixture
def clock():
    return [time.time()]


@pytest.fixture
def timed_app(make_app, clock):
    return make_app(clock=lambda: clock[0])


@pytest.fixture
def timed_client(timed_app):
    return timed_app.test_client()


# --- POST /v1/credential-rotations -----------------------------------------------------

def test_rotation_is_201_with_a_one_time_claim_token(app, client, tenant_token):
    headers, client_id, _secret = tenant_token
    response = rotate(client, headers)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert set(body) == {"rotation_request_id", "client_id", "status",
                         "credential_claim_token", "expires_at"}
    assert ROTATION_ID.fullmatch(body["rotation_request_id"])
    assert CLAIM_TOKEN.fullmatch(body["credential_claim_token"])
    assert body["client_id"] == client_id and body["status"] == "completed"
    assert ISO.fullmatch(body["expires_at"])
    assert response.headers["Cache-Control"] == "no-store"
    assert "Idempotent-Replayed" not in response.headers
    stored = sql(app, "SELECT * FROM rotations")
    assert [(r["rotation_request_id"], r["kind"], r["status"]) for r in stored] == [
        (body["rotation_request_id"], "self_service", "completed")]
    claims = sql(app, "SELECT * FROM claims WHERE purpose = 'rotation'")
    assert [c["source_id"] for c in claims] == [body["rotation_request_id"]]


def test_old_secret_works_until_the_new_one_is_claimed(client, tenant_token):
    headers, client_id, old_secret = tenant_token
    token = rotate(client, headers).get_json()["credential_claim_token"]
    # Rotated but unclaimed: nothing has changed for the client yet.
    assert token_status(client, client_id, old_secret) == 200
    claimed = redeem(client, token)
    assert claimed.status_code == 200
    body = claimed.get_json()
    assert body["client_id"] == client_id and body["purpose"] == "rotation"
    assert body["client_secret"] != old_secret
    assert claimed.headers["Cache-Control"] == "no-store"
    assert token_status(client, client_id, old_secret) == 401
    new_headers = {"Authorization": f"Bearer {mint(client, client_id, body['client_secret'])}"}
    assert client.get("/v1/jobs/job_doesnotexist", headers=new_headers).status_code == 404
    # Access tokens minted before the claim stay valid until they expire (as Auth0's do).
    assert client.get("/v1/jobs/job_doesnotexist", headers=headers).status_code == 404
    assert redeem(client, token).status_code == 404                  # one-time


def test_replay_returns_the_same_rotation_without_rotating_again(app, client, tenant_token):
    headers, client_id, old_secret = tenant_token
    first = rotate(client, headers, key="rotate-1")
    assert first.status_code == 201
    for _ in range(3):
        again = rotate(client, headers, key="rotate-1")
        assert again.status_code == 200
        assert again.headers["Idempotent-Replayed"] == "true"
        assert again.get_json() == first.get_json()
    # The body field is the same key as the header.
    via_body = rotate(client, headers, json={"idempotency_key": "rotate-1"})
    assert via_body.status_code == 200 and via_body.get_json() == first.get_json()
    assert len(sql(app, "SELECT * FROM rotations")) == 1
    assert len(sql(app, "SELECT * FROM claims WHERE purpose = 'rotation'")) == 1
    assert [r["action"] for r in audit_rows(app)].count("credential_rotated") == 1
    # The replayed token is the live one.
    assert redeem(client, again.get_json()["credential_claim_token"]).status_code == 200
    assert token_status(client, client_id, old_secret) == 401


def test_replay_after_the_claim_returns_the_same_spent_token(client, tenant_token):
    headers, _client_id, _secret = tenant_token
    first = rotate(client, headers, key="k").get_json()
    assert redeem(client, first["credential_claim_token"]).status_code == 200
    again = rotate(client, headers, key="k")
    assert again.status_code == 200 and again.get_json() == first
    response = redeem(client, first["credential_claim_token"])
    assert_problem(response, 404, "simio_credential_claim_not_found")


def test_a_new_rotation_supersedes_an_unclaimed_one(client, tenant_token):
    headers, client_id, old_secret = tenant_token
    lost = rotate(client, headers).get_json()["credential_claim_token"]
    kept = rotate(client, headers).get_json()["credential_claim_token"]
    assert lost != kept
    assert_problem(redeem(client, lost), 404, "simio_credential_claim_not_found")
    assert token_status(client, client_id, old_secret) == 200
    assert redeem(client, kept).status_code == 200


def test_keys_are_scoped_per_client(client, make_tenant):
    a_headers, a_id, _ = make_tenant()
    b_headers, b_id, _ = make_tenant()
    a = rotate(client, a_headers, key="same").get_json()
    b = rotate(client, b_headers, key="same")
    assert b.status_code == 201
    assert b.get_json()["client_id"] == b_id and a["client_id"] == a_id
    assert b.get_json()["rotation_request_id"] != a["rotation_request_id"]


def test_concurrent_requests_with_one_key_rotate_once(app, client, tenant_token):
    headers, _client_id, _secret = tenant_token
    barrier = threading.Barrier(4)

    def call(_):
        barrier.wait()
        return rotate(app.test_client(), headers, key="race")

    with ThreadPoolExecutor(4) as pool:
        responses = list(pool.map(call, range(4)))
    assert sorted(r.status_code for r in responses) == [200, 200, 200, 201]
    assert len({r.get_json()["credential_claim_token"] for r in responses}) == 1
    assert len(sql(app, "SELECT * FROM rotations")) == 1


def test_three_rotations_per_rolling_day(timed_app, timed_client, clock):
    client = timed_client
    headers, _client_id, _secret = new_client(client, "limits@acme.example")
    start = clock[0]
    for offset in (0, 100, 200):
        clock[0] = start + offset
        assert rotate(client, headers, key=f"r{offset}").status_code == 201
    clock[0] = start + 300
    limited = rotate(client, headers)
    body = assert_problem(limited, 429, "simio_rate_limited")
    assert limited.headers["Retry-After"] == str(DAY - 300)
    assert "3" in body["detail"]
    # A replay still answers while the budget is spent, and spends none of it.
    assert rotate(client, headers, key="r100").status_code == 200
    # Nothing was recorded for the refused request.
    assert len(sql(timed_app, "SELECT * FROM rotations")) == 3
    # The oldest leaves the window exactly 24 h after it was made.
    clock[0] = start + DAY - 1
    assert rotate(client, headers).headers["Retry-After"] == "1"
    clock[0] = start + DAY
    assert rotate(client, headers).status_code == 201
    clock[0] = start + DAY + 1
    assert rotate(client, headers).headers["Retry-After"] == str(100 - 1)


def test_replays_do_not_consume_the_budget(client, tenant_token):
    headers, _client_id, _secret = tenant_token
    assert rotate(client, headers, key="once").status_code == 201
    for _ in range(5):
        assert rotate(client, headers, key="once").status_code == 200
    assert rotate(client, headers).status_code == 201
    assert rotate(client, headers).status_code == 201
    assert_problem(rotate(client, headers), 429, "simio_rate_limited")
    # A new key is a new rotation, so it is refused as well.
    assert_problem(rotate(client, headers, key="twice"), 429, "simio_rate_limited")


def test_the_limit_is_per_client(client, make_tenant):
    a_headers, _, _ = make_tenant()
    b_headers, _, _ = make_tenant()
    for _ in range(3):
        assert rotate(client, a_headers).status_code == 201
    assert rotate(client, a_headers).status_code == 429
    assert rotate(client, b_headers).status_code == 201


def test_support_requests_do_not_count_against_the_limit(app, client, tenant_token):
    headers, _client_id, _secret = tenant_token
    conn, key = admin.open_store(app.config["SIMIO"].data_dir)
    try:
        for _ in range(3):
            rot = client.post("/v1/credential-rotation-requests", headers=headers).get_json()
            admin.complete_rotation(conn, key, rot["rotation_request_id"],
                                    config=app.config["SIMIO"])
    finally:
        conn.close()
    assert rotate(client, headers).status_code == 201


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer nope"},
                                     {"Authorization": "Basic eDp5"}])
def test_rotation_needs_a_bearer_token(client, headers):
    for path in ("/v1/credential-rotations", "/v1/credential-rotation-requests"):
        response = client.post(path, headers=headers)
        assert response.status_code == 401
        assert response.get_json()["detail"] == "Invalid credentials."
    response = client.get("/v1/credential-rotation-requests/rot_abc", headers=headers)
    assert response.status_code == 401


def test_bad_idempotency_key_or_body_is_400(client, tenant_token):
    headers, _, _ = tenant_token
    assert_problem(rotate(client, headers, key="has space"), 400, "simio_invalid_field")
    assert_problem(rotate(client, headers, json={"idempotency_key": 5}), 400,
                   "simio_invalid_field")
    assert_problem(rotate(client, headers, data="[1]", content_type="application/json"), 400,
                   "simio_invalid_field")
    response = rotate(client, headers, data="x", content_type="text/plain")
    assert_problem(response, 415, "simio_unsupported_content_type")


def test_rotation_is_audited_without_tokens(app, client, tenant_token):
    headers, client_id, secret = tenant_token
    response = rotate(client, headers, key="audit-me")
    body = response.get_json()
    rotate(client, headers, key="audit-me")
    claimed = redeem(client, body["credential_claim_token"]).get_json()
    entries = [r for r in audit_rows(app) if r["action"] in ("credential_rotated",
                                                             "credential_claimed")]
    assert [(r["actor"], r["action"], r["subject"]) for r in entries][-2:] == [
        (f"client:{client_id}", "credential_rotated", body["rotation_request_id"]),
        (f"client:{client_id}", "credential_claimed", client_id)]
    assert entries[-2]["request_id"] == response.headers["X-Request-Id"]
    assert body["rotation_request_id"] in entries[-1]["detail"]     # source_id
    everything = repr(audit_rows(app))
    for secret_value in (body["credential_claim_token"], body["credential_claim_token"][5:],
                         secret, claimed["client_secret"], headers["Authorization"][7:]):
        assert secret_value not in everything


# --- support requests ------------------------------------------------------------------

def test_support_request_flow(app, client, tenant_token, cli):
    headers, client_id, old_secret = tenant_token
    response = client.post("/v1/credential-rotation-requests", headers=headers,
                           json={"reason": "Rotating after personnel change."})
    assert response.status_code == 202
    body = response.get_json()
    assert set(body) == {"rotation_request_id", "client_id", "status"}
    assert ROTATION_ID.fullmatch(body["rotation_request_id"])
    assert body["client_id"] == client_id and body["status"] == "pending"
    rot_id = body["rotation_request_id"]

    polled = client.get(f"/v1/credential-rotation-requests/{rot_id}", headers=headers)
    assert polled.status_code == 200 and polled.get_json() == body

    listed = cli("rotations", "list", "--status", "pending")
    assert listed.exit_code == 0, listed.output
    assert rot_id in listed.output and "Rotating after personnel change." in listed.output
    done = cli("rotations", "complete", rot_id)
    assert done.exit_code == 0, done.output
    printed = re.search(r"credential_claim_token=(cred_[0-9a-f]{32})", done.output).group(1)

    polled = client.get(f"/v1/credential-rotation-requests/{rot_id}", headers=headers)
    completed = polled.get_json()
    assert polled.status_code == 200
    assert completed["status"] == "completed" and completed["client_id"] == client_id
    assert completed["credential_claim_token"] == printed
    assert polled.headers["Cache-Control"] == "no-store"
    # Shown again while unclaimed; the old secret still works.
    again = client.get(f"/v1/credential-rotation-requests/{rot_id}", headers=headers)
    assert again.get_json()["credential_claim_token"] == printed
    assert token_status(client, client_id, old_secret) == 200

    claimed = redeem(client, printed)
    assert claimed.status_code == 200 and claimed.get_json()["purpose"] == "rotation"
    assert token_status(client, client_id, old_secret) == 401
    after = client.get(f"/v1/credential-rotation-requests/{rot_id}", headers=headers)
    assert after.get_json() == {"rotation_request_id": rot_id, "client_id": client_id,
                                "status": "completed"}
    assert cli("rotations", "list", "--status", "pending").output.strip() == \
        "no rotation requests"

    actions = [(r["actor"], r["action"], r["subject"]) for r in audit_rows(app)]
    assert (f"client:{client_id}", "rotation_requested", rot_id) in actions
    assert ("operator", "rotation_completed", rot_id) in actions


def test_a_pending_request_is_answered_again_not_duplicated(app, client, tenant_token):
    headers, _, _ = tenant_token
    first = client.post("/v1/credential-rotation-requests", headers=headers)
    second = client.post("/v1/credential-rotation-requests", headers=headers,
                         json={"reason": "again"})
    assert first.status_code == second.status_code == 202
    assert first.get_json() == second.get_json()
    assert len(sql(app, "SELECT * FROM rotations")) == 1
    conn, key = admin.open_store(app.config["SIMIO"].data_dir)
    try:
        admin.complete_rotation(conn, key, first.get_json()["rotation_request_id"],
                                config=app.config["SIMIO"])
    finally:
        conn.close()
    third = client.post("/v1/credential-rotation-requests", headers=headers)
    assert third.status_code == 202
    assert third.get_json()["rotation_request_id"] != first.get_json()["rotation_request_id"]


@pytest.mark.parametrize("body", [{"reason": 5}, {"reason": "x" * 1001},
                                  {"reason": "line\nbreak"}])
def test_bad_reason_is_400(client, tenant_token, body):
    headers, _, _ = tenant_token
    response = client.post("/v1/credential-rotation-requests", headers=headers, json=body)
    assert_problem(response, 400, "simio_invalid_field")


def test_only_the_callers_own_requests_are_visible(client, make_tenant):
    a_headers, _, _ = make_tenant()
    b_headers, _, _ = make_tenant()
    rot_id = client.post("/v1/credential-rotation-requests",
                         headers=a_headers).get_json()["rotation_request_id"]
    self_service = rotate(client, a_headers).get_json()["rotation_request_id"]
    for headers, candidate in [(b_headers, rot_id),                  # another client's
                               (a_headers, self_service),            # not a support request
                               (a_headers, "rot_" + "0" * 32),       # unknown
                               (a_headers, "rot_"),                  # malformed
                               (a_headers, "rot_abc-def"),
                               (a_headers, "req_" + rot_id[4:]),
                               (a_headers, "x" * 200)]:
        response = client.get(f"/v1/credential-rotation-requests/{candidate}",
                              headers=headers)
        body = assert_problem(response, 404, "simio_rotation_request_not_found")
        assert body["detail"] == "Credential rotation request not found."


def test_completed_request_token_expires(make_app, clock):
    app = make_app(clock=lambda: clock[0])
    client = app.test_client()
    headers, _, _ = new_client(client, "expiry@acme.example")
    rot_id = client.post("/v1/credential-rotation-requests",
                         headers=headers).get_json()["rotation_request_id"]
    conn, key = admin.open_store(app.config["SIMIO"].data_dir)
    try:
        done = admin.complete_rotation(conn, key, rot_id, config=app.config["SIMIO"],
                                       now=clock[0])
    finally:
        conn.close()
    ttl = app.config["SIMIO"].claim_ttl_seconds
    clock[0] += ttl - 1
    shown = client.get(f"/v1/credential-rotation-requests/{rot_id}", headers=headers)
    assert shown.get_json()["credential_claim_token"] == done.claim_token
    clock[0] += 1
    shown = client.get(f"/v1/credential-rotation-requests/{rot_id}", headers=headers)
    assert shown.get_json()["status"] == "completed"
    assert "credential_claim_token" not in shown.get_json()
    assert redeem(client, done.claim_token).status_code == 404


# --- operator --------------------------------------------------------------------------

def test_operator_refusals(app, client, tenant_token, cli):
    headers, _, _ = tenant_token
    self_service = rotate(client, headers).get_json()["rotation_request_id"]
    for candidate, message in [(self_service, "already completed"),
                               ("rot_" + "0" * 32, "no rotation request"),
                               ("not-an-id", "no rotation request")]:
        result = cli("rotations", "complete", candidate)
        assert result.exit_code == 1 and message in result.output, result.output
    result = cli("rotations", "list", "--status", "declined")
    assert result.exit_code == 2
    result = cli("rotations", "create", "nobody_m2m_000000")
    assert result.exit_code == 1 and "no client" in result.output
    with pytest.raises(admin.OperatorError):
        conn, _key = admin.open_store(app.config["SIMIO"].data_dir)
        try:
            admin.list_rotations(conn, "declined")
        finally:
            conn.close()


def test_operator_rotation_for_a_client_that_lost_its_secret(app, client, tenant_token, cli):
    headers, client_id, old_secret = tenant_token
    result = cli("rotations", "create", client_id, "--reason", "ticket 42")
    assert result.exit_code == 0, result.output
    rot_id = re.search(r"completed (rot_[A-Za-z0-9]{32})", result.output).group(1)
    token = re.search(r"credential_claim_token=(cred_[0-9a-f]{32})", result.output).group(1)
    listed = cli("rotations", "list").output
    assert rot_id in listed and "support" in listed and "ticket 42" in listed
    claimed = redeem(client, token).get_json()
    assert claimed["client_id"] == client_id and claimed["purpose"] == "rotation"
    assert token_status(client, client_id, old_secret) == 401
    assert token_status(client, client_id, claimed["client_secret"]) == 200
    # The client can see the operator's request (it is theirs) once it authenticates.
    shown = client.get(f"/v1/credential-rotation-requests/{rot_id}", headers=headers)
    assert shown.status_code == 200 and shown.get_json()["status"] == "completed"
    actions = [(r["actor"], r["action"], r["subject"]) for r in audit_rows(app)]
    assert actions[-3:-1] == [("operator", "rotation_requested", rot_id),
                              ("operator", "rotation_completed", rot_id)]
    assert token not in repr(audit_rows(app))
    # The old commands are still there.
    assert cli("signups", "list").exit_code == 0
    assert cli("audit", "--limit", "3").exit_code == 0


def test_store_has_the_rotations_migration(app):
    versions = [r["version"] for r in sql(app, "SELECT version FROM schema_version")]
    assert 4 in versions
    columns = {r["name"] for r in sql(app, "PRAGMA table_info(rotations)")}
    assert {"rotation_request_id", "client_id", "kind", "status", "claim_id",
            "idempotency_key", "created_at", "completed_at"} <= columns
    assert "token" not in " ".join(columns)
