"""No secret leaves the response that carries it: not into any log line, not into the audit
table, not into the SQLite store's bytes.

The whole client flow runs over HTTP against a real werkzeug server (so werkzeug's request
log lines are produced too) with every logger at DEBUG, captured three ways: pytest's
caplog, an extra handler on the root logger, and the process's stdout/stderr (werkzeug may
add its own stream handler). Secrets checked: every client_secret, every credential claim
token (and its hex tail), every access token (and its signature), and the signing key.
"""

from __future__ import annotations

import logging
import threading

import pytest
import requests
from werkzeug.serving import make_server

from localapi import admin
from localapi.db import connect, db_path
from tests.localapi.conftest import AUDIENCE
from tests.localapi.fixtures import DATA, SCENARIO, read_artifact


class _Collect(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))

    def emit(self, record):
        # The formatted line (message, args, traceback) and every attribute of the record.
        self.lines.append(self.format(record) + " " + repr(record.__dict__))


@pytest.fixture
def all_logging_at_debug(caplog):
    """Every logger at DEBUG (restored afterwards) and a collecting root handler."""
    caplog.set_level(logging.DEBUG)
    saved = {}
    names = list(logging.root.manager.loggerDict) + ["werkzeug", "simio", "simio.api",
                                                     "simio.jobs", "localapi", "engine"]
    for name in names:
        logger = logging.getLogger(name)
        saved[name] = logger.level
        logger.setLevel(logging.DEBUG)
    handler = _Collect()
    logging.root.addHandler(handler)
    yield handler
    logging.root.removeHandler(handler)
    for name, level in saved.items():
        logging.getLogger(name).setLevel(level)


@pytest.fixture
def server(app):
    """``app`` served by werkzeug on a free loopback port; yields the base URL."""
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, name="test-werkzeug", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    thread.join(10)
    httpd.server_close()


def _ok(response, status=200):
    assert response.status_code == status, (response.status_code, response.text[:500])
    return response.json()


def _token(http, base, client_id, secret):
    return _ok(http.post(f"{base}/oauth/token", json={
        "client_id": client_id, "client_secret": secret, "audience": AUDIENCE,
        "grant_type": "client_credentials"}))["access_token"]


def run_flow(app, base) -> list[str]:
    """signup, claim, token, rotation, claim again, token, upload, generate, download, plus
    a support rotation completed by the operator; returns every secret it saw."""
    http = requests.Session()
    seen: list[str] = []

    request_id = _ok(http.post(f"{base}/v1/signup", json={
        "company_name": "Acme Research", "contact_email": "secrets@acme.example"}),
        202)["request_id"]
    claim1 = _ok(http.get(f"{base}/v1/signup/{request_id}"))["credential_claim_token"]
    cred1 = _ok(http.post(f"{base}/v1/credential-claims", json={"claim_token": claim1}))
    client_id, secret1 = cred1["client_id"], cred1["client_secret"]
    access1 = _token(http, base, client_id, secret1)
    seen += [claim1, secret1, access1]
    # Other ways in, and failures, go through the same code paths.
    _ok(http.post(f"{base}/oauth/token", data={"grant_type": "client_credentials",
                                                "client_id": client_id,
                                                "client_secret": secret1}))
    _ok(http.post(f"{base}/oauth/token", data={"grant_type": "client_credentials"},
                  auth=(client_id, secret1)))
    assert http.post(f"{base}/oauth/token", json={
        "grant_type": "client_credentials", "client_id": client_id,
        "client_secret": secret1 + "x"}).status_code == 401
    assert http.post(f"{base}/v1/credential-claims",
                     json={"claim_token": claim1}).status_code == 404
    assert http.get(f"{base}/v1/jobs/job_x",
                    headers={"Authorization": f"Bearer {access1}x"}).status_code == 401

    # Self-service rotation, replayed, then claimed.
    auth1 = {"Authorization": f"Bearer {access1}"}
    rotation = _ok(http.post(f"{base}/v1/credential-rotations",
                             headers={**auth1, "Idempotency-Key": "rotate-once"}), 201)
    replay = _ok(http.post(f"{base}/v1/credential-rotations", headers=auth1,
                           json={"idempotency_key": "rotate-once"}))
    claim2 = rotation["credential_claim_token"]
    assert replay["credential_claim_token"] == claim2
    cred2 = _ok(http.post(f"{base}/v1/credential-claims", json={"claim_token": claim2}))
    assert cred2["purpose"] == "rotation"
    secret2 = cred2["client_secret"]
    assert http.post(f"{base}/oauth/token", json={
        "grant_type": "client_credentials", "client_id": client_id,
        "client_secret": secret1}).status_code == 401
    access2 = _token(http, base, client_id, secret2)
    seen += [claim2, secret2, access2]
    auth2 = {"Authorization": f"Bearer {access2}"}

    # Upload, generate, download.
    seed = (DATA / "quickstart_seed.csv").read_bytes()
    dataset = _ok(http.post(f"{base}/v1/datasets", headers=auth2,
                            files={"seed_file": ("quickstart_seed.csv", seed, "text/csv")},
                            data={"wait_seconds": "60", "idempotency_key": "upload-1"}))
    generation = _ok(http.post(f"{base}/v1/datasets/{dataset['dataset_id']}/generations",
                               headers=auth2, json={"row_count": 200, "output_format": "csv",
                                                    "conditions": SCENARIO["conditions"],
                                                    "wait_seconds": 30, "seed": 3}))
    meta = _ok(http.get(f"{base}/v1/generations/{generation['generation_id']}",
                        headers=auth2))
    download = http.get(base + meta["artifact_url"], headers=auth2)
    assert download.status_code == 200
    assert len(read_artifact(download.content, "csv")) == 200

    # Support request completed by the operator, shown by GET, claimed.
    rot = _ok(http.post(f"{base}/v1/credential-rotation-requests", headers=auth2,
                        json={"reason": "personnel change"}), 202)
    conn, key = admin.open_store(app.config["SIMIO"].data_dir)
    try:
        admin.complete_rotation(conn, key, rot["rotation_request_id"],
                                config=app.config["SIMIO"])
    finally:
        conn.close()
    claim3 = _ok(http.get(f"{base}/v1/credential-rotation-requests/"
                          f"{rot['rotation_request_id']}",
                          headers=auth2))["credential_claim_token"]
    secret3 = _ok(http.post(f"{base}/v1/credential-claims",
                            json={"claim_token": claim3}))["client_secret"]
    access3 = _token(http, base, client_id, secret3)
    seen += [claim3, secret3, access3]
    return seen


def needles(app, seen: list[str]) -> list[str]:
    out = []
    for value in seen:
        out.append(value)
        if value.startswith("cred_"):
            out.append(value[5:])                    # the claim token's hex tail
        if value.count(".") == 2:
            out.append(value.rsplit(".", 1)[1])      # an access token's signature
    out.append(app.config["SIMIO_SIGNING_KEY"].hex())
    return out


def store_bytes(app) -> bytes:
    path = db_path(app)
    files = [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")]
    assert path.exists()
    return b"".join(p.read_bytes() for p in files if p.exists())


def test_secrets_never_reach_logs_audit_or_the_store(app, server, all_logging_at_debug,
                                                      caplog, capfd):
    seen = run_flow(app, server)
    assert len(set(seen)) == 9
    secrets_ = needles(app, seen)
    key = app.config["SIMIO_SIGNING_KEY"]

    # The logs really were captured, werkzeug's request lines included.
    lines = all_logging_at_debug.lines
    request_lines = [line for line in lines if line.startswith("werkzeug ")]
    for route in ("POST /v1/credential-rotations", "POST /v1/credential-claims",
                  "POST /oauth/token", "GET /v1/generations/"):
        assert any(route in line for line in request_lines), route
    caplog_lines = [r.getMessage() + " " + repr(r.__dict__) for r in caplog.records]
    assert any("/v1/credential-rotation-requests/" in line for line in caplog_lines)
    out, err = capfd.readouterr()
    for secret in secrets_:
        assert not any(secret in line for line in lines), secret
        assert not any(secret in line for line in caplog_lines), secret
        assert secret not in out and secret not in err

    conn = connect(app)
    try:
        audit = [dict(r) for r in conn.execute("SELECT * FROM audit ORDER BY seq")]
        tables = [r["name"] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'")]
        everything = {t: [dict(r) for r in conn.execute(f"SELECT * FROM {t}")]
                      for t in tables}
    finally:
        conn.close()
    actions = [r["action"] for r in audit]
    assert "credential_rotated" in actions and "rotation_completed" in actions
    for secret in secrets_:
        assert secret not in repr(audit), secret
        assert secret not in repr(everything), secret

    blob = store_bytes(app)                          # while the server still runs (WAL)
    for secret in secrets_:
        assert secret.encode() not in blob, secret
    assert key not in blob
