"""Operator actions: localapi.admin functions and the `simio admin` click group."""

from __future__ import annotations

import os
import time

import pytest
from click.testing import CliRunner

from localapi import admin
from localapi.cli import main
from localapi.cli_admin import admin as admin_cli
from localapi.db import connect
from tests.localapi.conftest import claim, mint, signup


@pytest.fixture
def app_config():
    return {"approval": "manual"}


@pytest.fixture
def store(app):
    conn, key = admin.open_store(app.config["SIMIO"].data_dir)
    yield conn, key
    conn.close()


def audit(app):
    conn = connect(app)
    try:
        return [dict(r) for r in conn.execute("SELECT * FROM audit ORDER BY seq")]
    finally:
        conn.close()


def whoami(client, headers):
    # Any protected route answers 404, not 401, once the token is good.
    return client.get("/v1/jobs/job_doesnotexist", headers=headers).status_code


# --- functions -------------------------------------------------------------------------

def test_manual_approval_flow(app, client, store):
    conn, key = store
    request_id = signup(client).get_json()["request_id"]
    assert client.get(f"/v1/signup/{request_id}").get_json() == {
        "request_id": request_id, "status": "pending"}
    assert [r["request_id"] for r in admin.list_signups(conn, "pending")] == [request_id]

    approval = admin.approve_signup(conn, key, request_id, config=app.config["SIMIO"])
    status = client.get(f"/v1/signup/{request_id}").get_json()
    assert status == {"request_id": request_id, "status": "approved",
                      "client_id": approval.client_id,
                      "credential_claim_token": approval.claim_token}
    tenant = conn.execute("SELECT * FROM tenants WHERE tenant_id = ?",
                          (approval.tenant_id,)).fetchone()
    assert tenant["company_name"] == "Acme Research"
    assert tenant["row_quota"] == app.config["SIMIO"].default_row_quota

    credential = claim(client, request_id)
    token = mint(client, credential["client_id"], credential["client_secret"])
    assert whoami(client, {"Authorization": f"Bearer {token}"}) == 404

    actions = [(r["actor"], r["action"], r["subject"]) for r in audit(app)]
    assert ("operator", "tenant_created", approval.tenant_id) in actions
    assert ("operator", "signup_approved", request_id) in actions


def test_decisions_are_final(app, client, store):
    conn, key = store
    cfg = app.config["SIMIO"]
    approved = signup(client, email="a@acme.example").get_json()["request_id"]
    declined = signup(client, email="d@acme.example").get_json()["request_id"]
    admin.approve_signup(conn, key, approved, config=cfg)
    admin.decline_signup(conn, declined)
    with pytest.raises(admin.OperatorError, match="still valid"):
        admin.approve_signup(conn, key, approved, config=cfg)
    with pytest.raises(admin.OperatorError, match="already approved"):
        admin.decline_signup(conn, approved)
    with pytest.raises(admin.OperatorError, match="already declined"):
        admin.approve_signup(conn, key, declined, config=cfg)
    with pytest.raises(admin.OperatorError, match="no signup request"):
        admin.approve_signup(conn, key, "req_unknown", config=cfg)
    with pytest.raises(admin.OperatorError, match="no signup request"):
        admin.decline_signup(conn, "req_unknown")
    claim(client, approved)
    with pytest.raises(admin.OperatorError, match="claimed"):
        admin.approve_signup(conn, key, approved, config=cfg)


def test_decline_flow(app, client, store):
    conn, _key = store
    request_id = signup(client).get_json()["request_id"]
    admin.decline_signup(conn, request_id)
    assert client.get(f"/v1/signup/{request_id}").get_json() == {
        "request_id": request_id, "status": "declined"}
    row = audit(app)[-1]
    assert (row["actor"], row["action"], row["subject"]) == (
        "operator", "signup_declined", request_id)
    assert [r["request_id"] for r in admin.list_signups(conn, "declined")] == [request_id]


def test_lapsed_claim_can_be_reissued(make_app):
    t = [time.time()]
    app = make_app(clock=lambda: t[0])
    client = app.test_client()
    conn, key = admin.open_store(app.config["SIMIO"].data_dir)
    try:
        request_id = signup(client).get_json()["request_id"]
        first = admin.approve_signup(conn, key, request_id, config=app.config["SIMIO"],
                                     now=t[0])
        t[0] += app.config["SIMIO"].claim_ttl_seconds + 1
        assert "credential_claim_token" not in client.get(f"/v1/signup/{request_id}").get_json()
        second = admin.approve_signup(conn, key, request_id, config=app.config["SIMIO"],
                                      now=t[0])
        assert second.claim_token != first.claim_token
        assert second.client_id == first.client_id
        expired = client.post("/v1/credential-claims", json={"claim_token": first.claim_token})
        assert expired.status_code == 404
        credential = claim(client, request_id)
        assert credential["client_id"] == first.client_id
        assert audit(app)[-2]["action"] == "claim_reissued"
    finally:
        conn.close()


def test_create_tenant_and_quota(app, client, store):
    conn, _key = store
    tenant_id, client_id, secret = admin.create_tenant(conn, "Ops Team",
                                                       config=app.config["SIMIO"])
    assert client_id.startswith("ops_team_m2m_")
    token = mint(client, client_id, secret)
    assert whoami(client, {"Authorization": f"Bearer {token}"}) == 404

    admin.set_quota(conn, tenant_id, 5000)
    assert conn.execute("SELECT row_quota FROM tenants WHERE tenant_id = ?",
                        (tenant_id,)).fetchone()[0] == 5000
    with pytest.raises(admin.OperatorError):
        admin.set_quota(conn, "tn_unknown", 1)
    with pytest.raises(admin.OperatorError):
        admin.set_quota(conn, tenant_id, -1)
    with pytest.raises(admin.OperatorError):
        admin.create_tenant(conn, "  ", config=app.config["SIMIO"])

    entries = admin.audit_entries(conn, limit=2)
    assert [e["action"] for e in entries] == ["tenant_quota_set", "tenant_created"]
    assert entries[0]["detail"]["row_quota"] == 5000
    assert entries[0]["detail"]["previous_row_quota"] == app.config["SIMIO"].default_row_quota
    assert all(e["actor"] == "operator" for e in entries)
    assert secret not in repr(audit(app))


@pytest.mark.parametrize("company, prefix", [
    ("Acme Research", "acme_research_m2m_"),
    ("  Café Müller & Co. ", "cafe_muller_co_m2m_"),
    ("日本語", "tenant_m2m_"),
    ("x" * 100, "x" * 40 + "_m2m_"),
])
def test_client_ids_are_slugs(store, company, prefix):
    conn, _key = store
    client_id = admin.client_id_for(conn, company)
    assert client_id.startswith(prefix) and len(client_id) == len(prefix) + 6


# --- the click group -----------------------------------------------------------------

def test_cli_review_flow(app, client, cli):
    pending = signup(client, email="p@acme.example").get_json()["request_id"]
    other = signup(client, company="Beta", email="b@beta.example").get_json()["request_id"]

    listed = cli("signups", "list", "--status", "pending")
    assert listed.exit_code == 0, listed.output
    assert pending in listed.output and other in listed.output

    approved = cli("signups", "approve", pending)
    assert approved.exit_code == 0, approved.output
    assert "client_id=acme_research_m2m_" in approved.output
    assert "cred_" not in approved.output

    declined = cli("signups", "decline", other)
    assert declined.exit_code == 0, declined.output
    assert client.get(f"/v1/signup/{other}").get_json()["status"] == "declined"

    listed = cli("signups", "list", "--status", "approved")
    assert pending in listed.output and other not in listed.output
    assert other in cli("signups", "list").output

    credential = claim(client, pending)
    assert mint(client, credential["client_id"], credential["client_secret"])

    again = cli("signups", "approve", other)
    assert again.exit_code == 1
    assert "already declined" in again.output

    log = cli("audit", "--limit", "3")
    assert log.exit_code == 0, log.output
    lines = log.output.strip().splitlines()
    assert len(lines) == 3
    assert "credential_claimed" in lines[0] and "signup_declined" in lines[1]
    actions = [(r["actor"], r["action"]) for r in audit(app)]
    assert ("operator", "signup_approved") in actions
    assert ("operator", "signup_declined") in actions
    assert credential["client_secret"] not in log.output


def test_cli_tenant_commands(app, client, cli):
    created = cli("tenants", "create", "--company", "Scripted Setup")
    assert created.exit_code == 0, created.output
    values = dict(line.split("=", 1) for line in created.output.strip().splitlines())
    assert set(values) == {"tenant_id", "client_id", "client_secret"}
    token = mint(client, values["client_id"], values["client_secret"])
    assert whoami(client, {"Authorization": f"Bearer {token}"}) == 404

    quota = cli("tenants", "quota", values["tenant_id"], "1234")
    assert quota.exit_code == 0, quota.output
    conn = connect(app)
    try:
        assert conn.execute("SELECT row_quota FROM tenants WHERE tenant_id = ?",
                            (values["tenant_id"],)).fetchone()[0] == 1234
    finally:
        conn.close()
    assert cli("tenants", "quota", "tn_unknown", "5").exit_code == 1
    assert cli("tenants", "quota", values["tenant_id"], "-5").exit_code == 2
    assert values["client_secret"] not in cli("audit").output
    rows = audit(app)
    assert [(r["actor"], r["action"]) for r in rows] == [
        ("operator", "tenant_created"), ("operator", "tenant_quota_set")]
    assert not any(values["client_secret"] in repr(r) for r in rows)


def test_cli_data_dir_defaults_to_the_environment(app, client, monkeypatch):
    request_id = signup(client).get_json()["request_id"]
    monkeypatch.setenv("SIMIO_DATA_DIR", app.config["SIMIO"].data_dir)
    result = CliRunner().invoke(admin_cli, ["signups", "list"])
    assert result.exit_code == 0, result.output
    assert request_id in result.output


def test_cli_creates_a_store_only_with_create(tmp_path):
    fresh = tmp_path / "fresh"
    result = CliRunner().invoke(admin_cli, ["signups", "list", "--data-dir", str(fresh),
                                            "--create"])
    assert result.exit_code == 0, result.output
    assert "no signup requests" in result.output
    assert (fresh / "simio.sqlite3").exists()


@pytest.mark.parametrize("args", [["tenants", "create", "--company", "Acme"],
                                  ["signups", "list"], ["audit"]])
def test_cli_refuses_a_data_dir_without_a_store(tmp_path, monkeypatch, args):
    monkeypatch.chdir(tmp_path)                   # the default ./simio-data does not exist
    monkeypatch.delenv("SIMIO_DATA_DIR", raising=False)
    for extra in ([], ["--data-dir", "elsewhere"]):
        result = CliRunner().invoke(main, ["admin", *args, *extra])
        assert result.exit_code == 2, result.output
        assert result.stderr.startswith("error: simio_store_not_found: no simio store in ")
        assert "fix: Give the server's data directory" in result.stderr
        assert "--create" in result.stderr
        assert os.listdir(tmp_path) == []        # nothing created, not even the folder


def test_cli_data_dir_flag_beats_the_environment(app, client, tmp_path, monkeypatch):
    request_id = signup(client).get_json()["request_id"]
    monkeypatch.setenv("SIMIO_DATA_DIR", str(tmp_path / "not-a-store"))
    result = CliRunner().invoke(main, ["admin", "signups", "list", "--data-dir",
                                       app.config["SIMIO"].data_dir])
    assert result.exit_code == 0, result.output
    assert request_id in result.output
    result = CliRunner().invoke(main, ["admin", "signups", "list"])
    assert result.exit_code == 2 and "not-a-store" in result.stderr
