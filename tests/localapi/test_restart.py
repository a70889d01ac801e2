"""Durability without a real process kill: app A accepts work (202) and "dies" before its
jobs run; app B on the same data dir must finish them (or fail them cleanly once they have
been interrupted too often), with artifacts readable and quota committed exactly once.

App A runs one worker, busy with a blocker job, so the jobs under test are still queued
when its runner is shut down (``shutdown(wait=False)`` cancels them); the rows a killed
server leaves (jobs ``running``, a half-written temp artifact) are then put in place.
(The real-process kill test lives in tests/e2e.)
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import pytest

from localapi.jobs import MAX_ATTEMPTS
from localapi.pipelines import dataset_dir, generation_dir
from tests.localapi.fixtures import (DATA, SCENARIO, Tenant, artifact, assert_problem, execute,
                                     fresh_app, generate, new_tenant, quota, read_artifact, sql,
                                     stop, upload, wait_job)

BLOCKER_ROWS = 600_000
TARGET_ROWS = 3000
TARGET = {"row_count": TARGET_ROWS, "output_format": "parquet", "seed": 99,
          "conditions": SCENARIO["conditions"]}


@dataclass
class Crash:
    tenant: Tenant
    dataset_id: str            # trained before the crash
    train_job: str             # its (completed) job
    blocker_job: str           # completed generation job
    blocker_generation: str
    gen_job: str               # accepted (202), interrupted mid-run
    generation_id: str
    upload_job: str            # accepted (202), interrupted mid-training
    upload_dataset: str


def job_status(app, job_id) -> dict:
    return sql(app, "SELECT * FROM jobs WHERE job_id = ?", (job_id,))[0]


def crash(data_dir) -> Crash:
    app = fresh_app(data_dir, workers=1)
    client = app.test_client()
    tenant = new_tenant(app, client, "crash@restart.example")
    h = tenant.headers
    first = upload(client, h, DATA / "quickstart_seed.csv", wait=0)
    train_job = wait_job(client, h, first.get_json()["job_id"])
    dataset_id = train_job["dataset_id"]

    blocker = generate(client, h, dataset_id, row_count=BLOCKER_ROWS, seed=1, wait=0)
    assert blocker.status_code == 202, blocker.get_json()
    blocker = blocker.get_json()
    while job_status(app, blocker["job_id"])["status"] == "queued":   # the worker is busy
        time.sleep(0.005)
    assert job_status(app, blocker["job_id"])["status"] == "running", "premise: still busy"
    gen = generate(client, h, dataset_id, TARGET, wait=0)
    assert gen.status_code == 202, gen.get_json()
    gen = gen.get_json()
    pending_upload = upload(client, h, DATA / "quickstart_seed.parquet", wait=0)
    assert pending_upload.status_code == 202
    pending_upload = pending_upload.get_json()
    app.extensions["simio_jobs"].shutdown(wait=False)          # the "kill"

    # the blocker was already running: its thread finishes it (a real kill would not, but
    # it must not race app B); the other two never started
    assert wait_job(client, h, blocker["job_id"])["status"] == "completed"
    for job_id in (gen["job_id"], pending_upload["job_id"]):
        assert job_status(app, job_id)["status"] == "queued", "premise: never started"
    assert quota(app, tenant.tenant_id)["rows_reserved"] == TARGET_ROWS

    # what a server killed mid-job leaves: jobs 'running', a half-written temp artifact
    execute(app, "UPDATE jobs SET status = 'running', stage = 'generating', attempts = 1, "
                 "started_at = created_at WHERE job_id = ?", (gen["job_id"],))
    execute(app, "UPDATE jobs SET status = 'running', stage = 'training', attempts = 1, "
                 "started_at = created_at WHERE job_id = ?", (pending_upload["job_id"],))
    out = generation_dir(app, gen["generation_id"])
    out.mkdir(parents=True, exist_ok=True)
    (out / ".synthetic.parquet.k1ll3d.tmp").write_bytes(b"PAR1" + b"\x00" * 1000)
    (dataset_dir(app, pending_upload["dataset_id"]) / ".model.simio.k1ll3d.tmp"
     ).write_bytes(b"half a model")
    # killed after the work was committed but before the job row said so
    execute(app, "UPDATE jobs SET status = 'running', stage = 'generating' WHERE job_id = ?",
            (blocker["job_id"],))
    execute(app, "UPDATE jobs SET status = 'running', stage = 'saving' WHERE job_id = ?",
            (first.get_json()["job_id"],))
    stop(app)
    return Crash(tenant, dataset_id, first.get_json()["job_id"], blocker["job_id"],
                 blocker["generation_id"], gen["job_id"], gen["generation_id"],
                 pending_upload["job_id"], pending_upload["dataset_id"])


def unfinished(app) -> list:
    return sql(app, "SELECT job_id, status FROM jobs WHERE status IN ('queued', 'running')")


def test_restart_finishes_interrupted_jobs_once(tmp_path):
    state = crash(tmp_path)
    app = fresh_app(tmp_path, defer_recovery=True)
    try:
        client = app.test_client()
        h = state.tenant.headers          # the signing key lives in the data dir
        assert len(unfinished(app)) == 4
        assert app.extensions["simio_jobs"].recover() == 4
        for job_id in (state.gen_job, state.upload_job, state.blocker_job, state.train_job):
            job = wait_job(client, h, job_id)
            assert job["status"] == "completed", job
        assert unfinished(app) == []
        assert job_status(app, state.gen_job)["attempts"] == 2

        # the interrupted generation: complete, readable, as the request asked
        meta = client.get(f"/v1/generations/{state.generation_id}", headers=h).get_json()
        assert meta["status"] == "ready" and meta["rows_generated"] == TARGET_ROWS
        _, data = artifact(client, h, state.generation_id)
        frame = read_artifact(data, "parquet")
        assert len(frame) == TARGET_ROWS
        assert frame["age"].between(25, 44).all()
        assert frame["purchase_intent"].between(70, 100).all()
        # the seed was fixed when the request was accepted: same bytes as asking again now
        again = generate(client, h, state.dataset_id, TARGET)
        assert again.status_code == 200
        assert artifact(client, h, again.get_json()["generation_id"])[1] == data
        files = sorted(p.name for p in generation_dir(app, state.generation_id).iterdir())
        assert files == ["synthetic.parquet"], files       # no stale temp file

        # the interrupted training
        dataset = client.get(f"/v1/datasets/{state.upload_dataset}", headers=h)
        assert dataset.status_code == 200 and dataset.get_json()["status"] == "ready"
        assert client.get(f"/v1/datasets/{state.upload_dataset}/schema",
                          headers=h).status_code == 200
        # the jobs whose work was already done were not redone
        blocker = client.get(f"/v1/generations/{state.blocker_generation}", headers=h)
        assert blocker.get_json()["rows_generated"] == BLOCKER_ROWS

        # quota: each generation committed exactly once, nothing left reserved
        expected = {"rows_reserved": 0, "rows_used": BLOCKER_ROWS + 2 * TARGET_ROWS}
        assert {k: quota(app, state.tenant.tenant_id)[k] for k in expected} == expected
    finally:
        stop(app)

    # a second restart finds nothing to do and changes nothing
    later = fresh_app(tmp_path, defer_recovery=True)
    try:
        assert later.extensions["simio_jobs"].recover() == 0
        assert {k: quota(later, state.tenant.tenant_id)[k] for k in expected} == expected
    finally:
        stop(later)


def test_recovery_is_automatic_on_create_app(tmp_path):
    state = crash(tmp_path)
    app = fresh_app(tmp_path)                       # recover() runs inside create_app
    try:
        client = app.test_client()
        job = wait_job(client, state.tenant.headers, state.gen_job)
        assert job["status"] == "completed" and job["generation_id"] == state.generation_id
        assert wait_job(client, state.tenant.headers, state.upload_job)["status"] == "completed"
        assert unfinished(app) == []
    finally:
        stop(app)


def test_a_job_interrupted_too_often_is_failed_cleanly(tmp_path):
    state = crash(tmp_path)
    app = fresh_app(tmp_path, defer_recovery=True)
    try:
        execute(app, "UPDATE jobs SET attempts = ? WHERE job_id IN (?, ?)",
                (MAX_ATTEMPTS, state.gen_job, state.upload_job))
        app.extensions["simio_jobs"].recover()
        client, h = app.test_client(), state.tenant.headers
        for job_id in (state.gen_job, state.upload_job):
            job = wait_job(client, h, job_id)
            assert job["status"] == "failed" and job["stage"] == "failed", job
            assert job["error"]["code"] == "simio_internal_error"
            assert job["error"]["message"]
            assert job["completed_at"]
        assert unfinished(app) == []

        meta = client.get(f"/v1/generations/{state.generation_id}", headers=h).get_json()
        assert meta["status"] == "failed" and meta["artifact_url"] is None
        assert not generation_dir(app, state.generation_id).exists()
        # the reservation is released; only the blocker's rows are used
        assert {k: quota(app, state.tenant.tenant_id)[k]
                for k in ("rows_reserved", "rows_used")} == {"rows_reserved": 0,
                                                              "rows_used": BLOCKER_ROWS}
        # the dataset whose training kept dying is gone, files and all
        assert_problem(client.get(f"/v1/datasets/{state.upload_dataset}", headers=h), 404,
                       "simio_dataset_not_found")
        assert not dataset_dir(app, state.upload_dataset).exists()
        # the rest of the store is intact
        assert client.get(f"/v1/datasets/{state.dataset_id}", headers=h).status_code == 200
    finally:
        stop(app)


@pytest.mark.parametrize("attempts", [MAX_ATTEMPTS - 1])
def test_a_job_below_the_cap_is_retried(tmp_path, attempts):
    state = crash(tmp_path)
    app = fresh_app(tmp_path, defer_recovery=True)
    try:
        execute(app, "UPDATE jobs SET attempts = ? WHERE job_id = ?", (attempts, state.gen_job))
        app.extensions["simio_jobs"].recover()
        job = wait_job(app.test_client(), state.tenant.headers, state.gen_job)
        assert job["status"] == "completed"
        assert job_status(app, state.gen_job)["attempts"] == MAX_ATTEMPTS
    finally:
        stop(app)
