"""GET /v1/jobs/{job_id} (07): fields per the contract for dataset and generation jobs,
failed jobs' errors, the uniform 404 for malformed / unknown / other tenants' ids."""

from __future__ import annotations

import re
import time

import pytest

from tests.localapi.fixtures import (DATA, assert_problem, failing_generation, generate,
                                     raw_without_request_id, upload, wait_job,
                                     world)  # noqa: F401  (world is a fixture)

ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
JOB_KEYS = {"job_id", "job_type", "status", "stage", "request_id", "created_at", "started_at",
            "completed_at", "dataset_id", "generation_id", "error"}
STATUSES = {"queued", "running", "completed", "failed", "cancelled", "expired"}


def get_job(client, headers, job_id):
    response = client.get(f"/v1/jobs/{job_id}", headers=headers)
    body = response.get_json()
    assert response.status_code == 200, body
    assert set(body) == JOB_KEYS, body
    assert body["job_id"] == job_id
    assert body["request_id"] == response.headers["X-Request-Id"]
    assert body["status"] in STATUSES
    assert isinstance(body["stage"], str) and body["stage"]
    assert ISO.match(body["created_at"])
    for field in ("started_at", "completed_at"):
        assert body[field] is None or ISO.match(body[field])
    return body


def assert_finished_in_order(job):
    assert job["created_at"] <= job["started_at"] <= job["completed_at"]


def test_dataset_job_fields(world):
    c, h = world.client, world.a.headers
    accepted = upload(c, h, DATA / "quickstart_seed.csv", wait=0).get_json()
    early = get_job(c, h, accepted["job_id"])
    assert early["job_type"] == "dataset_create"
    if early["status"] != "completed":
        assert early["status"] in ("queued", "running")
        assert early["dataset_id"] is None and early["generation_id"] is None
        assert early["error"] is None and early["completed_at"] is None

    wait_job(c, h, accepted["job_id"])
    job = get_job(c, h, accepted["job_id"])
    assert job["status"] == "completed" and job["stage"] == "completed"
    assert job["dataset_id"] == accepted["dataset_id"]
    assert job["generation_id"] is None and job["error"] is None
    assert_finished_in_order(job)
    assert job["request_id"] != accepted["request_id"]       # this response's id


def test_generation_job_fields_and_stages(world):
    c, h = world.client, world.a.headers
    accepted = generate(c, h, world.dataset_id, row_count=400_000, seed=4, wait=0).get_json()
    assert "job_id" in accepted, accepted
    stages = []
    deadline = time.monotonic() + 60
    while True:
        job = get_job(c, h, accepted["job_id"])
        assert job["job_type"] == "generation_create"
        stages.append(job["stage"])
        if job["status"] not in ("queued", "running"):
            break
        assert job["generation_id"] is None and job["error"] is None
        assert time.monotonic() < deadline
        time.sleep(0.02)
    assert job["status"] == "completed", job
    assert set(stages) <= {"queued", "starting", "loading_model", "generating", "completed"}
    assert job["stage"] == "completed"
    assert job["dataset_id"] == world.dataset_id
    assert job["generation_id"] == accepted["generation_id"]
    assert job["error"] is None
    assert_finished_in_order(job)


def test_failed_job_carries_its_error(world):
    c, h = world.client, world.a.headers
    dataset_id, failing = failing_generation(world.app, c, h)
    accepted = generate(c, h, dataset_id, failing, wait=0).get_json()
    wait_job(c, h, accepted["job_id"])
    job = get_job(c, h, accepted["job_id"])
    assert job["status"] == "failed" and job["stage"] == "failed"
    assert set(job["error"]) == {"code", "message"}
    assert job["error"]["code"] == "simio_infeasible_scenario"
    assert isinstance(job["error"]["message"], str) and job["error"]["message"]
    assert job["generation_id"] is None
    assert_finished_in_order(job)
    # the error code is a catalogue code with its page
    page = c.get(f"/errors/{job['error']['code']}")
    assert page.status_code == 200 and page.get_json()["code"] == job["error"]["code"]


def test_unknown_malformed_and_foreign_job_ids_are_the_same_404(world):
    c, a, b = world.client, world.a.headers, world.b.headers
    accepted = upload(c, a, DATA / "quickstart_seed.csv", wait=0).get_json()
    job_id = accepted["job_id"]
    wait_job(c, a, job_id)
    ids = [job_id,                                   # another tenant's
           "job_neverexisted0000000000",             # well-formed, never existed
           "nope", "job_", "job_abc", "job_!!!!!", "JOB_abcdefgh", "job_" + "a" * 129,
           accepted["dataset_id"], "job%20abcd", "job_abcd.efgh"]
    bodies = []
    for value in ids:
        response = c.get(f"/v1/jobs/{value}", headers=b)
        body = assert_problem(response, 404, "simio_job_not_found")
        assert body["title"] == "Not Found"
        bodies.append(raw_without_request_id(response))
    assert all(body == bodies[0] for body in bodies), bodies
    assert get_job(c, a, job_id)["status"] == "completed"     # the owner still sees it


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer x.y.z"}])
def test_jobs_need_a_token(world, headers):
    assert_problem(world.client.get("/v1/jobs/job_neverexisted0000", headers=headers), 401, None)
