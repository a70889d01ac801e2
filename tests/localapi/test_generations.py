"""POST /v1/datasets/{id}/generations (06), GET /v1/generations/{id} (08) and the signed
download (09): the contract scenario, formats, signed URLs, partial results, async jobs,
validation codes, caps, quota arithmetic, idempotency, tenant isolation, determinism.
"""

from __future__ import annotations

import io
import re
import threading
import time

import pandas as pd
import pyarrow.parquet as pq
import pytest

from engine import Synthesizer
from localapi import admin
from localapi.db import connect
from localapi.pipelines import MODEL_FILE, dataset_dir
from tests.localapi.fixtures import (CONTENT_TYPES, SCENARIO, SCENARIO_COUNTS, TIGHT_SCENARIO,
                                     artifact, artifact_url, assert_problem, count,
                                     failing_generation, generate, new_tenant, quota,
                                     raw_without_request_id, read_artifact, serving, sql,
                                     stored_files, train, url_parts, wait_job,
                                     without_request_id, world)  # noqa: F401  (a fixture)

ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
SUMMARY_KEYS = {"generation_id", "dataset_id", "status", "request_id", "output_format",
                "rows_requested", "rows_generated", "created_at", "expires_at"}


@pytest.fixture(scope="module")
def scenario_generation(world):
    response = generate(world.client, world.a.headers, world.dataset_id, SCENARIO, wait=60)
    assert response.status_code == 200, response.get_json()
    return response


def set_quota(app, tenant_id, rows):
    conn = connect(app)
    try:
        admin.set_quota(conn, tenant_id, rows)
    finally:
        conn.close()


# --- the contract scenario and the artifact --------------------------------------------

def test_contract_scenario_gives_exact_counts(world, scenario_generation):
    response = scenario_generation
    body = response.get_json()
    assert set(body) == SUMMARY_KEYS | {"scenario_support"}, body    # optional (issue 13)
    assert body["status"] == "ready" and body["output_format"] == "parquet"
    assert body["rows_requested"] == body["rows_generated"] == 5000
    assert body["dataset_id"] == world.dataset_id
    assert body["request_id"] == response.headers["X-Request-Id"]
    assert ISO.match(body["created_at"]) and ISO.match(body["expires_at"])

    got = world.client.get(f"/v1/generations/{body['generation_id']}", headers=world.a.headers)
    meta = got.get_json()
    assert got.status_code == 200
    assert set(meta) == SUMMARY_KEYS | {"artifact_url", "artifact_encryption",
                                        "scenario_support"}
    assert meta["artifact_encryption"] == {"scheme": "managed"}
    assert without_request_id(meta) | {"artifact_url": None, "artifact_encryption": None} == \
        without_request_id(body) | {"artifact_url": None, "artifact_encryption": None}

    download, data = artifact(world.client, world.a.headers, body["generation_id"])
    assert download.mimetype == "application/vnd.apache.parquet"
    frame = read_artifact(data, "parquet")
    assert len(frame) == 5000
    assert list(frame.columns) == [c["name"] for c in world.schema]
    for column, counts in SCENARIO_COUNTS.items():
        assert frame[column].astype(str).value_counts().to_dict() == counts
    assert frame["age"].between(25, 44).all()
    assert frame["purchase_intent"].between(70, 100).all()
    assert frame["region"].notna().all()


@pytest.mark.parametrize("fmt", ["parquet", "csv", "arrow"])
def test_each_output_format_downloads_with_its_content_type(world, fmt):
    response = generate(world.client, world.a.headers, world.dataset_id, row_count=500,
                        output_format=fmt, seed=11)
    body = response.get_json()
    assert response.status_code == 200, body
    assert body["output_format"] == fmt
    download, data = artifact(world.client, world.a.headers, body["generation_id"])
    assert download.mimetype == CONTENT_TYPES[fmt]
    assert f"{body['generation_id']}.{fmt}" in download.headers["Content-Disposition"]
    assert int(download.headers["Content-Length"]) == len(data)
    assert download.headers["X-Request-Id"]
    frame = read_artifact(data, fmt)
    assert frame.shape == (500, 5)
    assert list(frame.columns) == [c["name"] for c in world.schema]
    levels = {c["name"]: set(c["levels"]) for c in world.schema if "levels" in c}
    for column, allowed in levels.items():
        assert set(frame[column].astype(str)) <= allowed
    for column in ("age", "purchase_intent"):
        spec = next(c for c in world.schema if c["name"] == column)
        assert frame[column].between(spec["min"], spec["max"]).all()
        assert (frame[column] == frame[column].round()).all()     # integers stay whole


def test_artifact_url_is_api_relative_and_signed(world, scenario_generation):
    generation_id = scenario_generation.get_json()["generation_id"]
    before = int(time.time())
    url = artifact_url(world.client, world.a.headers, generation_id)
    assert url.startswith(f"/v1/generations/{generation_id}/download?")
    path, query = url_parts(url)
    assert path == f"/v1/generations/{generation_id}/download"
    assert set(query) == {"expires", "sig"}
    expires = int(query["expires"])
    ttl = world.app.config["SIMIO"].download_url_ttl_seconds
    assert ttl == 15 * 60
    assert before + ttl <= expires <= int(time.time()) + ttl
    assert re.fullmatch(r"[0-9a-f]{64}", query["sig"])


def test_download_with_a_bad_signature_is_the_uniform_404(world, scenario_generation):
    c, h = world.client, world.a.headers
    generation_id = scenario_generation.get_json()["generation_id"]
    path, query = url_parts(artifact_url(c, h, generation_id))
    sig, expires = query["sig"], int(query["expires"])
    flipped = sig[:-1] + ("0" if sig[-1] != "0" else "1")
    other = generate(c, h, world.dataset_id, row_count=10).get_json()["generation_id"]
    _, other_query = url_parts(artifact_url(c, h, other))
    attempts = {
        "tampered_sig": f"{path}?expires={expires}&sig={flipped}",
        "upper_case_sig": f"{path}?expires={expires}&sig={sig.upper()}",
        "later_expires": f"{path}?expires={expires + 3600}&sig={sig}",
        "missing_sig": f"{path}?expires={expires}",
        "empty_sig": f"{path}?expires={expires}&sig=",
        "missing_expires": f"{path}?sig={sig}",
        "junk_expires": f"{path}?expires=soon&sig={sig}",
        "no_query": path,
        "other_generations_sig": f"{path}?expires={other_query['expires']}"
                                 f"&sig={other_query['sig']}",
        "never_existed": f"/v1/generations/gen_neverexisted000000000/download?"
                         f"expires={expires}&sig={sig}",
        "malformed_id": f"/v1/generations/bad.id/download?expires={expires}&sig={sig}",
    }
    bodies = {}
    for name, url in attempts.items():
        response = c.get(url, headers=h)
        assert_problem(response, 404, "simio_generation_not_found")
        bodies[name] = raw_without_request_id(response)
    assert len({repr(b) for b in bodies.values()}) == 1, bodies
    # the genuine URL still works
    assert c.get(f"{path}?expires={expires}&sig={sig}", headers=h).status_code == 200


def test_download_url_and_generation_expire_on_the_injected_clock(tmp_path):
    t = [time.time()]
    with serving(tmp_path, clock=lambda: t[0]) as app:
        client = app.test_client()
        tenant = new_tenant(app, client, "clock@gen.example")
        dataset_id = train(client, tenant.headers)
        generation_id = generate(client, tenant.headers, dataset_id).get_json()["generation_id"]
        url = artifact_url(client, tenant.headers, generation_id)
        assert client.get(url, headers=tenant.headers).status_code == 200
        t[0] += 15 * 60 + 1
        assert_problem(client.get(url, headers=tenant.headers), 404,
                       "simio_generation_not_found")
        fresh = artifact_url(client, tenant.headers, generation_id)    # a new URL works
        assert fresh != url
        assert client.get(fresh, headers=tenant.headers).status_code == 200
        t[0] += 24 * 3600                    # past the generation's retention
        assert_problem(client.get(f"/v1/generations/{generation_id}",
                                  headers=tenant.headers), 404, "simio_generation_not_found")
        assert_problem(client.get(fresh, headers=tenant.headers), 404,
                       "simio_generation_not_found")


def test_download_needs_the_bearer_token_too(world, scenario_generation):
    url = artifact_url(world.client, world.a.headers,
                       scenario_generation.get_json()["generation_id"])
    assert_problem(world.client.get(url), 401, None)
    assert_problem(world.client.get(url, headers={"Authorization": "Bearer nope"}), 401, None)
    # another tenant's token with a genuine URL: not found, not forbidden
    assert_problem(world.client.get(url, headers=world.b.headers), 404,
                   "simio_generation_not_found")


# --- partial, async ----------------------------------------------------------------------

def test_tight_scenario_is_207_partial(world):
    model = Synthesizer.load(dataset_dir(world.app, world.dataset_id) / MODEL_FILE)
    expected = model.generate(1000, seed=1, conditions=TIGHT_SCENARIO)
    assert expected.status == "partial" and 0 < expected.rows_generated < 1000
    expected_frame = expected.to_frame()

    response = generate(world.client, world.a.headers, world.dataset_id, row_count=1000,
                        seed=1, conditions=TIGHT_SCENARIO)
    body = response.get_json()
    assert response.status_code == 207, body
    assert set(body) == SUMMARY_KEYS | {"scenario_support"}      # optional (issue 13)
    assert body["status"] == "partial"
    assert body["rows_requested"] == 1000
    assert body["rows_generated"] == expected.rows_generated

    meta = world.client.get(f"/v1/generations/{body['generation_id']}",
                            headers=world.a.headers).get_json()
    assert meta["status"] == "partial" and meta["artifact_url"]
    assert meta["rows_generated"] == expected.rows_generated
    _, data = artifact(world.client, world.a.headers, body["generation_id"])
    frame = read_artifact(data, "parquet")
    assert len(frame) == body["rows_generated"]
    assert frame["age"].between(18, 25).all()
    assert frame["purchase_intent"].between(85, 100).all()
    assert (frame["segment"].astype(str) == "Value").sum() == round(0.95 * len(frame))
    pd.testing.assert_frame_equal(frame.astype(str), expected_frame.astype(str))


def test_async_generation_is_202_then_ready(world):
    c, h = world.client, world.a.headers
    response = generate(c, h, world.dataset_id, row_count=300_000, seed=3, wait=0)
    body = response.get_json()
    assert response.status_code == 202, body
    assert set(body) == {"generation_id", "dataset_id", "status", "request_id", "job_id"}
    assert body["status"] == "processing" and body["dataset_id"] == world.dataset_id
    assert body["request_id"] == response.headers["X-Request-Id"]

    early = c.get(f"/v1/generations/{body['generation_id']}", headers=h).get_json()
    assert early["status"] in ("processing", "ready")
    if early["status"] == "processing":
        assert early["artifact_url"] is None and early["rows_generated"] is None

    job = wait_job(c, h, body["job_id"])
    assert job["status"] == "completed", job
    assert job["generation_id"] == body["generation_id"]
    meta = c.get(f"/v1/generations/{body['generation_id']}", headers=h).get_json()
    assert meta["status"] == "ready" and meta["rows_generated"] == 300_000
    _, data = artifact(c, h, body["generation_id"])
    assert pq.ParquetFile(io.BytesIO(data)).metadata.num_rows == 300_000


# --- validation ----------------------------------------------------------------------------

BAD_REQUESTS = [
    ({"conditions": {"numeric": {"purchase.intent": {"min": 1, "max": 2}}}},
     "simio_unknown_condition_column"),
    ({"conditions": {"categorical": {"Segment": {"Value": 0.5}}}},
     "simio_unknown_condition_column"),
    ({"conditions": {"categorical": {"segment": {"Luxury": 0.5}}}},
     "simio_unknown_condition_level"),
    ({"conditions": {"categorical": {"segment": {"premium": 0.5}}}},
     "simio_unknown_condition_level"),
    ({"conditions": {"categorical": {"segment": {"Premium": 1.5}}}}, "simio_invalid_share"),
    ({"conditions": {"categorical": {"segment": {"Premium": -0.1}}}}, "simio_invalid_share"),
    ({"conditions": {"categorical": {"segment": {"Premium": 0.7, "Value": 0.6}}}},
     "simio_invalid_share"),
    ({"conditions": {"categorical": {"segment": {"Premium": "55%"}}}}, "simio_invalid_share"),
    ({"conditions": {"numeric": {"age": {"min": 44, "max": 25}}}}, "simio_invalid_range"),
    ({"conditions": {"numeric": {"age": {"min": 25}}}}, "simio_invalid_range"),
    ({"conditions": {"numeric": {"age": {"min": "25", "max": 44}}}}, "simio_invalid_range"),
    ({"conditions": {"numeric": {"age": [25, 44]}}}, "simio_invalid_range"),
    ({"conditions": {"categorical": {"age": {"25": 1.0}}}}, "simio_condition_type_mismatch"),
    ({"conditions": {"numeric": {"segment": {"min": 0, "max": 1}}}},
     "simio_condition_type_mismatch"),
    ({"conditions": {"numeric": {"age": {"min": 70, "max": 90}}}}, "simio_infeasible_scenario"),
    ({"conditions": {"ranges": {}}}, "simio_invalid_field"),
    ({"conditions": ["segment"]}, "simio_invalid_field"),
    ({"row_count": None}, "simio_invalid_field"),
    ({"row_count": 0}, "simio_invalid_field"),
    ({"row_count": -5}, "simio_invalid_field"),
    ({"row_count": 1.5}, "simio_invalid_field"),
    ({"row_count": True}, "simio_invalid_field"),
    ({"row_count": "lots"}, "simio_invalid_field"),
    ({"output_format": None}, "simio_invalid_field"),
    ({"output_format": "docx"}, "simio_invalid_field"),
    ({"output_format": "PARQUET"}, "simio_invalid_field"),
    ({"seed": "seven"}, "simio_invalid_field"),
    ({"seed": 1.5}, "simio_invalid_field"),
    ({"wait_seconds": 61}, "simio_invalid_field"),
    ({"wait_seconds": -1}, "simio_invalid_field"),
    ({"idempotency_key": "has space"}, "simio_invalid_field"),
    ({"rows": 10}, "simio_invalid_field"),
]


@pytest.mark.parametrize("changes, code", BAD_REQUESTS,
                         ids=[f"{i}-{code}" for i, (_, code) in enumerate(BAD_REQUESTS)])
def test_bad_generation_requests_are_400_with_their_code(world, changes, code):
    c, h, app = world.client, world.a.headers, world.app
    body = {"row_count": 100, "output_format": "parquet", "seed": 1, **changes}
    body = {k: v for k, v in body.items() if v is not None}
    before = (count(app, "generations"), count(app, "jobs"), quota(app, world.a.tenant_id))
    response = c.post(f"/v1/datasets/{world.dataset_id}/generations", headers=h, json=body)
    problem = assert_problem(response, 400, code)
    assert problem["title"] == "Bad Request"
    assert (count(app, "generations"), count(app, "jobs"), quota(app, world.a.tenant_id)) == \
        before


@pytest.mark.parametrize("kwargs, status, code", [
    ({"data": "row_count=10", "content_type": "application/x-www-form-urlencoded"}, 415,
     "simio_unsupported_content_type"),
    ({"data": '{"row_count": 10, "output_format": "csv"}', "content_type": "text/plain"}, 415,
     "simio_unsupported_content_type"),
    ({"data": "{not json", "content_type": "application/json"}, 400, "simio_invalid_field"),
    ({"data": "[1, 2]", "content_type": "application/json"}, 400, "simio_invalid_field"),
    ({}, 400, "simio_invalid_field"),
])
def test_body_must_be_a_json_object(world, kwargs, status, code):
    response = world.client.post(f"/v1/datasets/{world.dataset_id}/generations",
                                 headers=world.a.headers, **kwargs)
    assert_problem(response, status, code)


def test_row_count_over_the_per_request_cap_is_413(tmp_path):
    with serving(tmp_path, per_request_row_cap=100) as app:
        client = app.test_client()
        tenant = new_tenant(app, client, "cap@gen.example")
        dataset_id = train(client, tenant.headers)
        response = generate(client, tenant.headers, dataset_id, row_count=101)
        body = assert_problem(response, 413, "simio_per_request_cap_exceeded")
        assert "100" in body["detail"]
        assert count(app, "generations") == 0
        assert quota(app, tenant.tenant_id)["rows_reserved"] == 0
        assert generate(client, tenant.headers, dataset_id, row_count=100).status_code == 200


# --- quota ---------------------------------------------------------------------------------

def test_quota_is_reserved_then_committed_on_rows_generated(tmp_path):
    with serving(tmp_path) as app:
        client = app.test_client()
        tenant = new_tenant(app, client, "quota@gen.example")
        h = tenant.headers
        dataset_id = train(client, h)
        set_quota(app, tenant.tenant_id, 1000)
        assert quota(app, tenant.tenant_id) == {"row_quota": 1000, "rows_reserved": 0,
                                                "rows_used": 0}

        assert generate(client, h, dataset_id, row_count=300).status_code == 200
        assert quota(app, tenant.tenant_id) == {"row_quota": 1000, "rows_reserved": 0,
                                                "rows_used": 300}
        # a partial generation is billed for the rows it generated, not those requested
        partial = generate(client, h, dataset_id, row_count=500, seed=1,
                           conditions=TIGHT_SCENARIO)
        assert partial.status_code == 207, partial.get_json()
        made = partial.get_json()["rows_generated"]
        assert 0 < made < 500
        used = 300 + made
        assert quota(app, tenant.tenant_id) == {"row_quota": 1000, "rows_reserved": 0,
                                                "rows_used": used}
        left = 1000 - used
        generations = count(app, "generations")
        over = generate(client, h, dataset_id, row_count=left + 1)
        body = assert_problem(over, 402, "simio_quota_exhausted")
        assert body["title"] == "Payment Required" and str(left) in body["detail"]
        assert count(app, "generations") == generations
        assert quota(app, tenant.tenant_id)["rows_used"] == used

        # an accepted async request holds its reservation until it completes
        accepted = generate(client, h, dataset_id, row_count=left, wait=0)
        assert accepted.status_code in (200, 202), accepted.get_json()
        assert_problem(generate(client, h, dataset_id, row_count=1), 402,
                       "simio_quota_exhausted")
        if accepted.status_code == 202:
            assert wait_job(client, h, accepted.get_json()["job_id"])["status"] == "completed"
        assert quota(app, tenant.tenant_id) == {"row_quota": 1000, "rows_reserved": 0,
                                                "rows_used": 1000}
        body = assert_problem(generate(client, h, dataset_id, row_count=1), 402,
                              "simio_quota_exhausted")
        assert "0 rows left" in body["detail"]
        # the operator raises the quota: work resumes
        set_quota(app, tenant.tenant_id, 1100)
        assert generate(client, h, dataset_id, row_count=100).status_code == 200


def test_a_failed_generation_releases_its_reservation(tmp_path):
    with serving(tmp_path) as app:
        client = app.test_client()
        tenant = new_tenant(app, client, "fail@gen.example")
        h = tenant.headers
        dataset_id, failing = failing_generation(app, client, h)
        response = generate(client, h, dataset_id, failing, wait=0)
        body = response.get_json()
        assert response.status_code == 202, body
        job = wait_job(client, h, body["job_id"])
        assert job["status"] == "failed", job
        assert job["error"]["code"] == "simio_infeasible_scenario"
        assert job["error"]["message"]
        assert job["generation_id"] is None
        meta = client.get(f"/v1/generations/{body['generation_id']}", headers=h).get_json()
        assert meta["status"] == "failed" and meta["artifact_url"] is None
        assert meta["error"]["code"] == "simio_infeasible_scenario"
        assert quota(app, tenant.tenant_id)["rows_reserved"] == 0
        assert quota(app, tenant.tenant_id)["rows_used"] == 0
        assert stored_files(tmp_path, "generations") == []

        # synchronously, the same failure is a 400 with the engine's code, and no charge
        sync = generate(client, h, dataset_id, failing)
        assert_problem(sync, 400, "simio_infeasible_scenario")
        assert quota(app, tenant.tenant_id)["rows_reserved"] == 0
        assert quota(app, tenant.tenant_id)["rows_used"] == 0
        assert sql(app, "SELECT status FROM jobs WHERE status NOT IN ('completed', 'failed')"
                   ) == []


# --- idempotency ---------------------------------------------------------------------------

def test_generation_idempotency_replays_and_conflicts(tmp_path):
    with serving(tmp_path) as app:
        client = app.test_client()
        tenant = new_tenant(app, client, "idem@gen.example")
        h = tenant.headers
        dataset_id = train(client, h)
        other_dataset = train(client, h, "parquet")
        keyed = {**h, "Idempotency-Key": "gen-1"}

        first = generate(client, keyed, dataset_id, row_count=200)
        assert first.status_code == 200
        again = generate(client, keyed, dataset_id, row_count=200, wait=5)
        assert again.status_code == 200 and again.headers["Idempotent-Replayed"] == "true"
        assert without_request_id(again.get_json()) == without_request_id(first.get_json())
        assert again.get_json()["request_id"] == again.headers["X-Request-Id"]
        # the body field names the same key
        body_key = generate(client, h, dataset_id, row_count=200, idempotency_key="gen-1")
        assert body_key.headers["Idempotent-Replayed"] == "true"
        assert body_key.get_json()["generation_id"] == first.get_json()["generation_id"]
        assert count(app, "generations") == 1
        assert quota(app, tenant.tenant_id)["rows_used"] == 200

        for changes in ({"row_count": 201}, {"output_format": "csv"}, {"seed": 8},
                        {"conditions": {"categorical": {"segment": {"Value": 0.5}}}}):
            conflict = generate(client, keyed, dataset_id, **{"row_count": 200, **changes})
            body = assert_problem(conflict, 409, "simio_idempotency_conflict")
            assert body["title"] == "Conflict"
        assert count(app, "generations") == 1

        # keys are scoped per dataset
        elsewhere = generate(client, keyed, other_dataset, row_count=200)
        assert elsewhere.status_code == 200 and "Idempotent-Replayed" not in elsewhere.headers
        assert count(app, "generations") == 2
        # a request that failed validation does not burn the key
        assert_problem(generate(client, {**h, "Idempotency-Key": "gen-2"}, dataset_id,
                                row_count=0), 400, "simio_invalid_field")
        ok = generate(client, {**h, "Idempotency-Key": "gen-2"}, dataset_id, row_count=10)
        assert ok.status_code == 200 and "Idempotent-Replayed" not in ok.headers
        assert quota(app, tenant.tenant_id)["rows_used"] == 410


def test_same_key_while_the_first_request_is_in_flight_is_409(world):
    c, h = world.client, {**world.a.headers, "Idempotency-Key": "in-flight-1"}
    results = {}

    def first():
        results["first"] = world.app.test_client().post(
            f"/v1/datasets/{world.dataset_id}/generations", headers=h,
            json={"row_count": 1_000_000, "output_format": "parquet", "seed": 2,
                  "wait_seconds": 60})

    thread = threading.Thread(target=first)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not sql(world.app, "SELECT 1 FROM idempotency WHERE key = 'in-flight-1' "
                                 "AND state = 'in_flight'"):
            assert time.monotonic() < deadline and thread.is_alive(), results
            time.sleep(0.005)
        second = generate(c, h, world.dataset_id, row_count=1_000_000, seed=2, wait=60,
                          output_format="parquet")
        body = assert_problem(second, 409, "simio_idempotency_conflict")
        assert "in flight" in body["detail"]
    finally:
        thread.join(60)
    assert results["first"].status_code == 200, results["first"].get_json()
    replay = generate(c, h, world.dataset_id, row_count=1_000_000, seed=2, wait=60,
                      output_format="parquet")
    assert replay.status_code == 200 and replay.headers["Idempotent-Replayed"] == "true"
    assert replay.get_json()["generation_id"] == results["first"].get_json()["generation_id"]


# --- tenants and ids -----------------------------------------------------------------------

def test_another_tenant_cannot_see_or_use_anything(world, scenario_generation):
    c, a, b = world.client, world.a.headers, world.b.headers
    generation_id = scenario_generation.get_json()["generation_id"]

    posts = []
    for dataset_id in (world.dataset_id, "ds_neverexisted000000000", "bad.id"):
        for body in ({"row_count": 10, "output_format": "csv"}, {"row_count": 0}):
            response = c.post(f"/v1/datasets/{dataset_id}/generations", headers=b, json=body)
            assert_problem(response, 404, "simio_dataset_not_found")
            posts.append(raw_without_request_id(response))
    assert all(p == posts[0] for p in posts)

    gets = []
    for gid in (generation_id, "gen_neverexisted000000000", "bad.id", "g" * 129):
        response = c.get(f"/v1/generations/{gid}", headers=b)
        assert_problem(response, 404, "simio_generation_not_found")
        gets.append(raw_without_request_id(response))
    assert all(g == gets[0] for g in gets)
    # the owner still sees it
    assert c.get(f"/v1/generations/{generation_id}", headers=a).status_code == 200


# --- determinism ---------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", ["parquet", "csv", "arrow"])
def test_same_request_and_seed_give_byte_identical_artifacts(world, fmt):
    c, h = world.client, world.a.headers
    request = {"row_count": 2000, "output_format": fmt, "seed": 20260501,
               "conditions": SCENARIO["conditions"]}
    first = generate(c, h, world.dataset_id, request).get_json()["generation_id"]
    second = generate(c, h, world.dataset_id, request).get_json()["generation_id"]
    assert first != second
    one, two = artifact(c, h, first)[1], artifact(c, h, second)[1]
    assert one == two
    third = generate(c, h, world.dataset_id, {**request, "seed": 20260502}).get_json()
    assert artifact(c, h, third["generation_id"])[1] != one
