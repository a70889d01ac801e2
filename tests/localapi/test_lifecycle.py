"""Retention, extension and deletion on an injected clock: 24 h windows that reads refresh,
POST /extend up to the 7-day cap then 409, DELETE (204, idempotent, 404 across tenants,
files gone), and the retention sweeper (files of expired records, expired queued jobs,
the background thread).

The clock starts at the real time: PyJWT checks token expiry against the real clock, and
every token here is minted before the injected clock moves.
"""

from __future__ import annotations

import io
import json
import os
import time

import pytest

from localapi import retention
from localapi.clock import iso
from localapi.db import connect, transaction
from localapi.pipelines import MODEL_FILE, dataset_dir, generation_dir
from localapi.store import quotas, records
from tests.localapi.fixtures import (DATA, assert_problem, artifact_url, contract, generate,
                                     new_tenant, quota, sql, upload)

HOUR, DAY = 3600, 24 * 3600
QUICKSTART_CSV = DATA / "quickstart_seed.csv"
EXTEND_KEYS = ["dataset_id", "status", "expires_at", "created_at", "request_id"]


def tiny_seed(i: int = 0) -> bytes:
    rows = "".join(f"{(i + j) % 3},{'pq'[j % 2]},{j % 5}\n" for j in range(12))
    return ("a,b,c\n" + rows).encode()


@pytest.fixture
def clocked(make_app):
    """(app, client, t, a, b): an app on an injected clock t[0], no background sweeper."""
    t = [float(int(time.time()))]
    app = make_app(clock=lambda: t[0], sweep_interval=0)
    client = app.test_client()
    a = new_tenant(app, client, "a@lifecycle.example", "Lifecycle A")
    b = new_tenant(app, client, "b@lifecycle.example", "Lifecycle B")
    return app, client, t, a, b


def make_dataset(client, tenant, i=0, source=None) -> str:
    response = upload(client, tenant.headers, source or tiny_seed(i), "tiny.csv", wait=30)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["dataset_id"]


def listed(client, tenant) -> list[str]:
    body = client.get("/v1/datasets?limit=100", headers=tenant.headers).get_json()
    return [d["dataset_id"] for d in body["datasets"]]


def expires(client, tenant, dataset_id) -> str:
    """expires_at as the listing shows it (the listing does not refresh activity)."""
    body = client.get("/v1/datasets?limit=100", headers=tenant.headers).get_json()
    return next(d["expires_at"] for d in body["datasets"] if d["dataset_id"] == dataset_id)


def audit_actions(app, subject) -> list[dict]:
    return sql(app, "SELECT actor, action, request_id, detail FROM audit WHERE subject = ? "
                    "ORDER BY seq", (subject,))


def insert_queued_generation(app, tenant, dataset_id, now, rows=40) -> tuple[str, str]:
    """A generation request accepted (rows reserved, job queued) that no worker has taken."""
    generation_id, job_id = f"gen_queued{int(now)}{rows}", f"job_queued{int(now)}{rows}"
    conn = connect(app)
    try:
        with transaction(conn):
            quotas.reserve(conn, tenant.tenant_id, rows)
            records.insert_generation(conn, generation_id=generation_id, dataset_id=dataset_id,
                                      tenant_id=tenant.tenant_id, output_format="csv",
                                      rows_requested=rows, seed=1, request={}, now=now,
                                      expires_at=now + DAY)
            records.insert_job(conn, job_id=job_id, tenant_id=tenant.tenant_id,
                               job_type="generation_create", request_id="req_test", now=now,
                               dataset_id=dataset_id, generation_id=generation_id,
                               expires_at=now + DAY)
    finally:
        conn.close()
    return generation_id, job_id


# --- retention windows ---------------------------------------------------------------------

def test_dataset_lives_24_hours_unless_read_and_the_sweeper_removes_its_files(clocked):
    app, client, t, a, _b = clocked
    t0 = t[0]
    read, idle = make_dataset(client, a, 1), make_dataset(client, a, 2)
    generation_id = generate(client, a.headers, read, output_format="csv").get_json()[
        "generation_id"]
    assert expires(client, a, idle) == iso(t0 + DAY)

    t[0] = t0 + DAY - 60                                   # 23 h 59 min
    assert set(listed(client, a)) == {read, idle}
    assert client.get(f"/v1/datasets/{read}", headers=a.headers).status_code == 200
    assert expires(client, a, read) == iso(t[0] + DAY)     # the read refreshed it
    assert expires(client, a, idle) == iso(t0 + DAY)       # listing refreshed nothing
    assert retention.sweep(app) == {"jobs": 0, "datasets": 0, "generations": 0, "staging": 0,
                                    "orphans": 0}

    t[0] = t0 + DAY + 1                                    # 24 h 1 s
    for path in (f"/v1/datasets/{idle}", f"/v1/datasets/{idle}/schema",
                 f"/v1/datasets/{idle}/generations"):
        assert_problem(client.get(path, headers=a.headers), 404, "simio_dataset_not_found")
    for call in (lambda: client.post(f"/v1/datasets/{idle}/extend", headers=a.headers),
                 lambda: generate(client, a.headers, idle)):
        assert_problem(call(), 404, "simio_dataset_not_found")
    assert listed(client, a) == [read]
    # the generation had its own 24 h window (created at t0): gone too, before any sweep
    assert_problem(client.get(f"/v1/generations/{generation_id}", headers=a.headers), 404,
                   "simio_generation_not_found")
    assert dataset_dir(app, idle).exists() and generation_dir(app, generation_id).exists()

    counts = retention.sweep(app)
    assert counts == {"jobs": 0, "datasets": 1, "generations": 1, "staging": 0, "orphans": 0}
    assert not dataset_dir(app, idle).exists()
    assert not generation_dir(app, generation_id).exists()
    assert (dataset_dir(app, read) / MODEL_FILE).exists()   # still alive
    assert client.get(f"/v1/datasets/{read}", headers=a.headers).status_code == 200
    assert [e["action"] for e in audit_actions(app, idle)] == ["dataset_expired"]
    assert [e["action"] for e in audit_actions(app, generation_id)] == ["generation_expired"]
    assert retention.sweep(app)["datasets"] == 0            # nothing left to do
    # the expired dataset's row is a tombstone: deleting it is a no-op 204 for its owner
    assert client.delete(f"/v1/datasets/{idle}", headers=a.headers).status_code == 204


def test_reading_a_generation_refreshes_its_dataset(clocked):
    app, client, t, a, _b = clocked
    t0 = t[0]
    dataset_id = make_dataset(client, a)
    t[0] = t0 + 20 * HOUR
    generation_id = generate(client, a.headers, dataset_id, output_format="csv").get_json()[
        "generation_id"]
    t[0] = t0 + 23 * HOUR
    assert client.get(f"/v1/generations/{generation_id}", headers=a.headers).status_code == 200
    assert expires(client, a, dataset_id) == iso(t0 + 47 * HOUR)
    t[0] = t0 + 30 * HOUR                                  # past the original 24 h
    assert client.get(f"/v1/datasets/{dataset_id}", headers=a.headers).status_code == 200
    # the generation keeps its own window (created at 20 h): alive at 43 h, gone at 44 h
    t[0] = t0 + 43 * HOUR
    assert client.get(f"/v1/generations/{generation_id}", headers=a.headers).status_code == 200
    t[0] = t0 + 44 * HOUR
    assert_problem(client.get(f"/v1/generations/{generation_id}", headers=a.headers), 404,
                   "simio_generation_not_found")


def test_generation_outlives_an_expired_dataset_within_its_own_window(clocked):
    app, client, t, a, _b = clocked
    t0 = t[0]
    dataset_id = make_dataset(client, a)
    t[0] = t0 + 23 * HOUR
    generation_id = generate(client, a.headers, dataset_id, output_format="csv").get_json()[
        "generation_id"]
    t[0] = t0 + 25 * HOUR           # the dataset expired (the POST did not refresh it)
    assert_problem(client.get(f"/v1/datasets/{dataset_id}", headers=a.headers), 404,
                   "simio_dataset_not_found")
    retention.sweep(app)            # before and after the sweep alike
    assert not dataset_dir(app, dataset_id).exists()
    url = artifact_url(client, a.headers, generation_id)
    assert client.get(url, headers=a.headers).status_code == 200


# --- extend ----------------------------------------------------------------------------------

def test_extend_adds_the_ttl_up_to_the_seven_day_cap_then_409(clocked):
    app, client, t, a, _b = clocked
    t0 = t[0]
    dataset_id = make_dataset(client, a)
    t[0] = t0 + 12 * HOUR
    client.get(f"/v1/datasets/{dataset_id}", headers=a.headers)       # expires at 36 h
    assert expires(client, a, dataset_id) == iso(t0 + 36 * HOUR)
    seen = []
    for _ in range(6):
        response = client.post(f"/v1/datasets/{dataset_id}/extend", headers=a.headers)
        body = response.get_json()
        assert response.status_code == 200, body
        assert list(body) == EXTEND_KEYS and body["status"] == "ready"
        assert body["created_at"] == iso(t0) and body["request_id"] == \
            response.headers["X-Request-Id"]
        seen.append(body["expires_at"])
    assert seen == [iso(t0 + h * HOUR) for h in (60, 84, 108, 132, 156, 168)]  # last: capped
    spec = contract()
    schema = spec["paths"]["/v1/datasets/{dataset_id}/extend"]["post"]["responses"]["200"][
        "content"]["application/json"]["schema"]
    assert set(schema["required"]) == set(EXTEND_KEYS) == set(schema["properties"])
    response = client.post(f"/v1/datasets/{dataset_id}/extend", headers=a.headers)
    body = assert_problem(response, 409, "simio_extend_cap_exceeded")
    assert body["detail"] == "Dataset has reached its maximum continuous retention window."
    assert body["title"] == "Conflict"
    assert expires(client, a, dataset_id) == iso(t0 + 7 * DAY)
    # reads cannot pass the cap either; at the cap the dataset is gone
    t[0] = t0 + 7 * DAY - 1
    assert client.get(f"/v1/datasets/{dataset_id}", headers=a.headers).get_json()[
        "expires_at"] == iso(t0 + 7 * DAY)
    t[0] = t0 + 7 * DAY
    assert_problem(client.get(f"/v1/datasets/{dataset_id}", headers=a.headers), 404,
                   "simio_dataset_not_found")
    assert_problem(client.post(f"/v1/datasets/{dataset_id}/extend", headers=a.headers), 404,
                   "simio_dataset_not_found")


def test_extend_of_missing_foreign_or_deleted_dataset_is_404(clocked):
    app, client, t, a, b = clocked
    dataset_id = make_dataset(client, a)
    before = expires(client, a, dataset_id)
    for tenant, target in ((b, dataset_id), (a, "ds_neverexisted0000000000"), (a, "bad.id")):
        assert_problem(client.post(f"/v1/datasets/{target}/extend", headers=tenant.headers),
                       404, "simio_dataset_not_found")
    assert_problem(client.post(f"/v1/datasets/{dataset_id}/extend"), 401, None)
    assert expires(client, a, dataset_id) == before        # the foreign probe changed nothing
    assert client.delete(f"/v1/datasets/{dataset_id}", headers=a.headers).status_code == 204
    assert_problem(client.post(f"/v1/datasets/{dataset_id}/extend", headers=a.headers), 404,
                   "simio_dataset_not_found")


# --- delete ----------------------------------------------------------------------------------

def test_delete_semantics(clocked):
    app, client, t, a, b = clocked
    dataset_id = make_dataset(client, a, source=QUICKSTART_CSV.read_bytes())
    keep = make_dataset(client, a, 7)
    response = generate(client, a.headers, dataset_id, output_format="csv")
    generation_id = response.get_json()["generation_id"]
    url = artifact_url(client, a.headers, generation_id)
    folder = dataset_dir(app, dataset_id)
    assert sorted(p.name for p in folder.iterdir()) == [MODEL_FILE, "seed.csv"]

    # another tenant: 404, and nothing happens
    response = client.delete(f"/v1/datasets/{dataset_id}", headers=b.headers)
    assert_problem(response, 404, "simio_dataset_not_found")
    assert client.get(f"/v1/datasets/{dataset_id}", headers=a.headers).status_code == 200
    assert folder.exists()
    assert_problem(client.delete(f"/v1/datasets/{dataset_id}"), 401, None)
    assert_problem(client.delete("/v1/datasets/bad.id", headers=a.headers), 404,
                   "simio_dataset_not_found")

    for attempt in range(2):                            # idempotent
        response = client.delete(f"/v1/datasets/{dataset_id}", headers=a.headers)
        assert response.status_code == 204 and response.data == b""
        assert "Content-Type" not in response.headers
        assert response.headers["X-Request-Id"].startswith("req_")
    never = client.delete("/v1/datasets/ds_neverexisted0000000000", headers=a.headers)
    assert never.status_code == 204 and never.data == b""
    # still another tenant's, though deleted: 404 (answered from the tombstone)
    assert_problem(client.delete(f"/v1/datasets/{dataset_id}", headers=b.headers), 404,
                   "simio_dataset_not_found")

    assert not folder.exists()                          # seed and model gone
    for path in (f"/v1/datasets/{dataset_id}", f"/v1/datasets/{dataset_id}/schema",
                 f"/v1/datasets/{dataset_id}/generations"):
        assert_problem(client.get(path, headers=a.headers), 404, "simio_dataset_not_found")
    assert_problem(generate(client, a.headers, dataset_id), 404, "simio_dataset_not_found")
    for path in (f"/v1/generations/{generation_id}", url):
        assert_problem(client.get(path, headers=a.headers), 404, "simio_generation_not_found")
    assert listed(client, a) == [keep]
    assert client.get(f"/v1/datasets/{keep}", headers=a.headers).status_code == 200
    entries = audit_actions(app, dataset_id)
    assert [e["action"] for e in entries] == ["dataset_deleted"]
    assert entries[0]["actor"] == f"client:{a.client_id}"
    assert json.loads(entries[0]["detail"]) == {"tenant_id": a.tenant_id,
                                                "previous_status": "ready"}

    # the generation's artifact keeps its own window on disk, then the sweeper takes it
    assert generation_dir(app, generation_id).exists()
    assert retention.sweep(app)["generations"] == 0
    t[0] += DAY + 1
    assert retention.sweep(app)["generations"] == 1
    assert not generation_dir(app, generation_id).exists()


def test_delete_cancels_queued_work_and_releases_rows(clocked):
    app, client, t, a, _b = clocked
    dataset_id = make_dataset(client, a)
    before = quota(app, a.tenant_id)
    generation_id, job_id = insert_queued_generation(app, a, dataset_id, t[0])
    assert quota(app, a.tenant_id)["rows_reserved"] == before["rows_reserved"] + 40
    assert client.delete(f"/v1/datasets/{dataset_id}", headers=a.headers).status_code == 204
    job = client.get(f"/v1/jobs/{job_id}", headers=a.headers).get_json()
    assert job["status"] == "cancelled" and job["completed_at"] == iso(t[0])
    assert quota(app, a.tenant_id) == before
    assert sql(app, "SELECT status FROM generations WHERE generation_id = ?",
               (generation_id,)) == [{"status": "failed"}]
    # a worker that picks the job up now skips it
    runner = app.extensions["simio_jobs"]
    runner.submit(job_id)
    assert runner.wait(job_id, 10)
    assert client.get(f"/v1/jobs/{job_id}", headers=a.headers).get_json()["status"] == \
        "cancelled"


def test_delete_while_training_stays_deleted_and_the_sweeper_removes_late_files(clocked):
    app, client, t, a, _b = clocked
    response = upload(client, a.headers, tiny_seed(), "tiny.csv", wait=0)
    assert response.status_code == 202
    dataset_id = response.get_json()["dataset_id"]
    conn = connect(app)
    try:
        # the training job's last step, after a DELETE: it must not resurrect the dataset
        with transaction(conn):
            records.delete_dataset(conn, dataset_id, now=t[0])
        with transaction(conn):
            records.finish_dataset(conn, dataset_id, schema={}, cleaning_summary={},
                                   trained_at=t[0], duration_ms=1, expires_at=t[0] + DAY)
            records.set_dataset_status(conn, dataset_id, "failed")     # or its failure path
    finally:
        conn.close()
    assert sql(app, "SELECT status FROM datasets WHERE dataset_id = ?",
               (dataset_id,)) == [{"status": "deleted"}]
    assert_problem(client.get(f"/v1/datasets/{dataset_id}", headers=a.headers), 404,
                   "simio_dataset_not_found")
    runner = app.extensions["simio_jobs"]
    job_id = response.get_json()["job_id"]
    runner.wait(job_id, 30)
    folder = dataset_dir(app, dataset_id)          # files a job wrote after the DELETE
    folder.mkdir(parents=True, exist_ok=True)
    (folder / MODEL_FILE).write_bytes(b"late")
    assert retention.sweep(app)["datasets"] == 1
    assert not folder.exists()
    assert client.delete(f"/v1/datasets/{dataset_id}", headers=a.headers).status_code == 204


# --- the sweeper ---------------------------------------------------------------------------

def test_sweeper_expires_queued_jobs_and_releases_their_rows(clocked):
    app, client, t, a, _b = clocked
    dataset_id = make_dataset(client, a)
    before = quota(app, a.tenant_id)
    generation_id, job_id = insert_queued_generation(app, a, dataset_id, t[0], rows=25)
    finished = generate(client, a.headers, dataset_id, output_format="csv").get_json()
    t[0] += DAY - 1
    assert retention.sweep(app)["jobs"] == 0
    t[0] += 1
    counts = retention.sweep(app)
    assert counts["jobs"] == 1
    job = client.get(f"/v1/jobs/{job_id}", headers=a.headers).get_json()
    assert job["status"] == "expired" and job["stage"] == "expired"
    assert quota(app, a.tenant_id)["rows_reserved"] == before["rows_reserved"]
    assert sql(app, "SELECT status FROM generations WHERE generation_id = ?",
               (generation_id,)) == [{"status": "failed"}]
    assert [e["action"] for e in audit_actions(app, job_id)] == ["job_expired"]
    # a finished job keeps its status
    done = sql(app, "SELECT status FROM jobs WHERE generation_id = ?",
               (finished["generation_id"],))
    assert done == [{"status": "completed"}]
    assert retention.sweep(app)["jobs"] == 0


def test_sweeper_removes_stale_staging_files_only(clocked):
    app, _client, _t, _a, _b = clocked
    staging = app.config["SIMIO"].data_path / "staging"
    staging.mkdir(parents=True, exist_ok=True)
    old, fresh = staging / "upload-old", staging / "upload-fresh"
    old.write_bytes(b"seed")
    fresh.write_bytes(b"seed")
    stale = time.time() - retention.STAGING_MAX_AGE - 60
    os.utime(old, (stale, stale))
    assert retention.sweep(app)["staging"] == 1
    assert not old.exists() and fresh.exists()


def test_background_sweeper_runs_on_its_interval(make_app):
    t = [float(int(time.time()))]
    app = make_app(clock=lambda: t[0], sweep_interval=0.1)
    assert app.extensions["simio_sweeper"].is_alive()
    client = app.test_client()
    a = new_tenant(app, client, "bg@lifecycle.example")
    dataset_id = make_dataset(client, a)
    folder = dataset_dir(app, dataset_id)
    time.sleep(0.3)
    assert folder.exists()                              # not expired: left alone
    t[0] += DAY + 1
    deadline = time.monotonic() + 10
    while folder.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not folder.exists()
    app.extensions["simio_sweeper"].stop()


def test_sweep_interval_zero_disables_the_thread(make_app):
    assert make_app(sweep_interval=0).extensions["simio_sweeper"] is None
    default = make_app()
    assert default.extensions["simio_sweeper"].is_alive()
    default.extensions["simio_sweeper"].stop()


def test_seed_upload_staging_is_unaffected_by_sweeps(clocked):
    """A sweep racing an upload leaves the dataset being stored alone."""
    app, client, t, a, _b = clocked
    response = client.post("/v1/datasets", headers=a.headers, content_type="multipart/form-data",
                           data={"seed_file": (io.BytesIO(tiny_seed(3)), "tiny.csv"),
                                 "wait_seconds": "0"})
    dataset_id = response.get_json()["dataset_id"]
    retention.sweep(app)                                # while it is (probably) processing
    app.extensions["simio_jobs"].wait(response.get_json()["job_id"], 30)
    assert client.get(f"/v1/datasets/{dataset_id}", headers=a.headers).status_code == 200
    assert (dataset_dir(app, dataset_id) / MODEL_FILE).exists()
