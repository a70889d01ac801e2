"""Jobs expire: readable for a grace period after expires_at (queued ones as 'expired'),
then the uniform 404, as the contract lists 'expired' among its 404 cases."""

from __future__ import annotations

import time
from pathlib import Path

from localapi.api.jobs import JOB_GRACE_SECONDS
from tests.localapi.fixtures import assert_problem, sql, upload

SEED = Path(__file__).resolve().parents[2] / "data" / "quickstart_seed.csv"


def test_a_job_answers_until_its_grace_ends_then_404(make_app, make_tenant):
    clock = [time.time()]
    app = make_app(clock=lambda: clock[0], sweep_interval=0)
    client = app.test_client()
    headers, _, _ = make_tenant()
    body = upload(client, headers, SEED, wait=0).get_json()
    job_id = body["job_id"]
    for _ in range(600):
        status = client.get(f"/v1/jobs/{job_id}", headers=headers).get_json()["status"]
        if status == "completed":
            break
        time.sleep(0.05)
    expires = sql(app, "SELECT expires_at FROM jobs WHERE job_id = ?", (job_id,))[0]["expires_at"]

    clock[0] = expires + JOB_GRACE_SECONDS - 1
    assert client.get(f"/v1/jobs/{job_id}", headers=headers).get_json()["status"] == "completed"
    clock[0] = expires + JOB_GRACE_SECONDS
    assert_problem(client.get(f"/v1/jobs/{job_id}", headers=headers), 404, "simio_job_not_found")


def test_a_queued_job_past_its_expiry_reads_as_expired(make_app, make_tenant):
    clock = [time.time()]
    app = make_app(clock=lambda: clock[0], sweep_interval=0)
    client = app.test_client()
    headers, _, _ = make_tenant()
    body = upload(client, headers, SEED, wait=10).get_json()
    # a job the runner never picked up (as after a crash before recovery)
    job_id = "job_neverpickedup0000"
    sql(app, "INSERT INTO jobs (job_id, tenant_id, job_type, status, stage, request_id, "
             "dataset_id, created_at, expires_at) SELECT ?, tenant_id, 'dataset_create', "
             "'queued', 'queued', 'req_x', dataset_id, ?, ? FROM datasets WHERE dataset_id = ?",
        (job_id, clock[0], clock[0] + 60, body["dataset_id"]))
    assert client.get(f"/v1/jobs/{job_id}", headers=headers).get_json()["status"] == "queued"
    clock[0] += 61
    assert client.get(f"/v1/jobs/{job_id}", headers=headers).get_json()["status"] == "expired"


def test_store_reads_of_datasets_and_generations_cannot_skip_expiry_by_omission():
    """Issue 15: read-time expiry used to be opt-in (``now=`` defaulted to None), which is
    how a route came to serve an expired dataset. ``now`` has no default now: every
    caller passes the request's time or an explicit None."""
    import inspect

    from localapi.store import records

    for read in (records.dataset, records.generation):
        now = inspect.signature(read).parameters["now"]
        assert now.kind is inspect.Parameter.KEYWORD_ONLY
        assert now.default is inspect.Parameter.empty, read.__name__
