"""POST /v1/datasets (04), GET /v1/datasets/{id} and /schema (05): uploads, training,
validation, bad seeds leaving nothing behind, size caps, idempotency, tenant isolation, auth.
"""

from __future__ import annotations

import gzip
import io
import re
import time

import jwt
import numpy as np
import pandas as pd
import pytest

from tests.localapi.fixtures import (CONTRACT_SCHEMA, DATA, QUICKSTART_SUMMARY, assert_problem,
                                     contract, count, new_tenant, quickstart_observed,
                                     raw_without_request_id, serving, sql, stored_files, tenant_of,
                                     upload, wait_job, without_request_id,
                                     world)  # noqa: F401  (world is a fixture)

ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
QUICKSTART_CSV = DATA / "quickstart_seed.csv"


def _parquet(frame) -> bytes:
    buf = io.BytesIO()
    frame.to_parquet(buf, index=False)
    return buf.getvalue()


def _cut(name: str, keep: float = 0.5) -> bytes:
    data = (DATA / name).read_bytes()
    return data[: int(len(data) * keep)]


PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10\x00\x00\x00\x10\x08\x06\x00\x00\x00"

# (file bytes, upload name, the reader's / cleaner's code): the engine reader test cases.
BAD_SEEDS = {
    "empty": (b"", "empty.csv", "simio_empty_file"),
    "whitespace_only": (b"   \n\t\r\n  ", "blank.csv", "simio_empty_file"),
    "bom_only": (b"\xef\xbb\xbf \n", "bom.csv", "simio_empty_file"),
    "header_only_csv": (b"a,b,c\n", "header.csv", "simio_no_data_rows"),
    "header_only_parquet": (_parquet(pd.DataFrame({"a": [1], "b": ["x"]}).iloc[:0]),
                            "header.parquet", "simio_no_data_rows"),
    "truncated_parquet": (_cut("quickstart_seed.parquet"), "seed.parquet",
                          "simio_unreadable_file"),
    "truncated_parquet_tail": (_cut("quickstart_seed.parquet", 0.98), "seed.parquet",
                               "simio_unreadable_file"),
    "corrupt_xlsx": (_cut("quickstart_seed.xlsx"), "seed.xlsx", "simio_unreadable_file"),
    "truncated_sav": (_cut("quickstart_seed.sav"), "seed.sav", "simio_unreadable_file"),
    "random_bytes": (np.random.default_rng(0).bytes(4096), "upload.csv",
                     "simio_unsupported_file_format"),
    "random_bytes_named_sav": (np.random.default_rng(1).bytes(2048), "seed.sav",
                               "simio_unreadable_file"),
    "png": (PNG, "upload.csv", "simio_unsupported_file_format"),
    "gzip": (gzip.compress(b"a,b\n1,2\n"), "seed.csv", "simio_unsupported_file_format"),
    "ragged_csv": (b"a,b,c\n1,2,3,4\n5,6,7\n", "ragged.csv", "simio_unreadable_file"),
    "ragged_csv_late": (b"a,b,c\n1,2,3\n5,6,7\n8,9,10,11\n", "ragged.csv",
                        "simio_unreadable_file"),
    "unterminated_quote": (b'a,b\n1,"open\n2,3\n', "q.csv", "simio_unreadable_file"),
    "no_usable_columns": (b"id\n1\n2\n3\n4\n", "ids.csv", "simio_no_usable_columns"),
}


def assert_nothing_stored(app, data_dir):
    assert count(app, "datasets") == 0
    assert count(app, "jobs") == 0
    assert count(app, "idempotency") == 0
    assert stored_files(data_dir, "datasets", "staging") == []


def schema_matches_contract(schema, ext):
    """Names, types and level sets as in the contract example; min/max as observed."""
    observed = quickstart_observed()
    assert [c["name"] for c in schema] == [c["name"] for c in CONTRACT_SCHEMA]
    for column, expected in zip(schema, CONTRACT_SCHEMA):
        assert column["conditioning_excluded"] is False
        if "levels" in expected:
            assert set(column) == {"name", "type", "levels", "conditioning_excluded"}
            assert sorted(column["levels"]) == sorted(expected["levels"])
            if ext == "sav":       # SPSS value labels keep their order; segment is ordinal
                assert column["levels"] == expected["levels"]
                assert column["type"] == ("ordered" if column["name"] == "segment"
                                          else "factor")
            else:
                assert column["type"] == expected["type"]
        else:
            assert set(column) == {"name", "type", "min", "max", "conditioning_excluded"}
            assert column["type"] == expected["type"]
            assert (column["min"], column["max"]) == observed[column["name"]]
            assert isinstance(column["min"], int) and isinstance(column["max"], int)


def test_contract_schema_example_is_the_one_we_compare_against():
    spec = contract()
    op = spec["paths"]["/v1/datasets/{dataset_id}/schema"]["get"]
    example = op["responses"]["200"]["content"]["application/json"]["example"]
    assert example["schema"] == CONTRACT_SCHEMA


# --- happy paths -----------------------------------------------------------------------

@pytest.mark.parametrize("ext", ["csv", "sav", "xlsx", "parquet"])
def test_upload_each_seed_format_trains_synchronously(world, ext):
    c, h = world.client, world.a.headers
    response = upload(c, h, DATA / f"quickstart_seed.{ext}", wait=10,
                      display_name=f"Quickstart {ext}")
    body = response.get_json()
    assert response.status_code == 200, body
    assert response.mimetype == "application/json"
    assert body["status"] == "ready"
    assert re.fullmatch(r"[A-Za-z0-9_-]{1,128}", body["dataset_id"])
    assert body["request_id"] == response.headers["X-Request-Id"]
    assert ISO.match(body["expires_at"]) and ISO.match(body["created_at"])
    assert body["expires_at"] > body["created_at"]
    assert body["cleaning_summary"] == QUICKSTART_SUMMARY
    training = body["training_summary"]
    assert set(training) == {"trained_at", "duration_ms"}
    assert ISO.match(training["trained_at"])
    assert isinstance(training["duration_ms"], int) and training["duration_ms"] >= 0
    assert body["display_name"] == f"Quickstart {ext}"

    dataset_id = body["dataset_id"]
    got = c.get(f"/v1/datasets/{dataset_id}", headers=h)
    meta = got.get_json()
    assert got.status_code == 200, meta
    assert meta["request_id"] == got.headers["X-Request-Id"] != body["request_id"]
    assert {k: meta[k] for k in ("dataset_id", "status", "display_name", "created_at",
                                 "cleaning_summary", "training_summary")} == \
        {k: body[k] for k in ("dataset_id", "status", "display_name", "created_at",
                              "cleaning_summary", "training_summary")}
    assert meta["expires_at"] >= body["expires_at"]

    schema = c.get(f"/v1/datasets/{dataset_id}/schema", headers=h)
    payload = schema.get_json()
    assert schema.status_code == 200, payload
    assert set(payload) == {"dataset_id", "request_id", "schema"}
    assert payload["dataset_id"] == dataset_id
    assert payload["request_id"] == schema.headers["X-Request-Id"]
    schema_matches_contract(payload["schema"], ext)


def test_async_upload_returns_202_then_the_job_completes(world):
    c, h = world.client, world.a.headers
    response = upload(c, h, QUICKSTART_CSV, wait=0)
    body = response.get_json()
    assert response.status_code == 202, body
    assert set(body) == {"dataset_id", "status", "request_id", "job_id"}
    assert body["status"] == "processing"
    assert body["request_id"] == response.headers["X-Request-Id"]
    assert re.fullmatch(r"job_[A-Za-z0-9_-]{4,128}", body["job_id"])

    job = wait_job(c, h, body["job_id"])
    assert job["status"] == "completed", job
    assert job["job_type"] == "dataset_create"
    assert job["dataset_id"] == body["dataset_id"]

    meta = c.get(f"/v1/datasets/{body['dataset_id']}", headers=h).get_json()
    assert meta["status"] == "ready" and meta["cleaning_summary"] == QUICKSTART_SUMMARY
    schema = c.get(f"/v1/datasets/{body['dataset_id']}/schema", headers=h).get_json()
    schema_matches_contract(schema["schema"], "csv")


def test_wait_seconds_omitted_defaults_to_async(world):
    response = upload(world.client, world.a.headers, QUICKSTART_CSV, wait=None)
    assert response.status_code == 202, response.get_json()
    job = wait_job(world.client, world.a.headers, response.get_json()["job_id"])
    assert job["status"] == "completed"


@pytest.mark.parametrize("value", ["false", "0", "no", "off", "TRUE", " yes ", "1", "on"])
def test_auto_clean_accepts_the_contract_words(world, value):
    response = upload(world.client, world.a.headers, QUICKSTART_CSV, auto_clean=value)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["cleaning_summary"] == QUICKSTART_SUMMARY


@pytest.mark.parametrize("name", ["x" * 200, "Étude 2026 — ünïcode ✓", "  padded  "])
def test_display_name_up_to_200_chars_is_kept(world, name):
    response = upload(world.client, world.a.headers, QUICKSTART_CSV, display_name=name)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["display_name"] == name.strip()


def test_seed_file_named_by_content_not_extension(world):
    """A Parquet seed uploaded under a .csv name is still read (format from content)."""
    data = (DATA / "quickstart_seed.parquet").read_bytes()
    response = upload(world.client, world.a.headers, data, "export.csv")
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["cleaning_summary"] == QUICKSTART_SUMMARY


# --- request validation ------------------------------------------------------------------

@pytest.mark.parametrize("kwargs", [
    {"json": {"seed_file": "a,b\n1,2\n"}},
    {"data": "a,b\n1,2\n", "content_type": "text/csv"},
    {"data": {"seed_file": "x"}, "content_type": "application/x-www-form-urlencoded"},
    {"data": b"", "content_type": "application/octet-stream"},
    {},
])
def test_non_multipart_is_415(app, client, tenant_token, kwargs):
    headers, _, _ = tenant_token
    response = client.post("/v1/datasets", headers=headers, **kwargs)
    assert_problem(response, 415, "simio_unsupported_content_type")
    assert_nothing_stored(app, app.config["SIMIO"].data_dir)


@pytest.mark.parametrize("fields, words", [
    ({}, ["seed_file"]),                                         # no seed_file part
    ({"seed_file": "a,b\n1,2\n"}, ["seed_file"]),                # a text field, not a file
    ({"auto_clean": "maybe"}, ["auto_clean"]),
    ({"auto_clean": "2"}, ["auto_clean"]),
    ({"wait_seconds": "61"}, ["wait_seconds"]),
    ({"wait_seconds": "-1"}, ["wait_seconds"]),
    ({"wait_seconds": "x"}, ["wait_seconds"]),
    ({"wait_seconds": "1.5"}, ["wait_seconds"]),
    ({"display_name": "x" * 201}, ["display_name"]),
    ({"display_name": "bell\x07"}, ["display_name", "control"]),
    ({"display_name": "line\nbreak"}, ["display_name", "control"]),
    ({"display_name": "tab\there"}, ["display_name", "control"]),
    ({"idempotency_key": "has space"}, ["Idempotency-Key"]),
    ({"idempotency_key": "k" * 129}, ["Idempotency-Key"]),
    ({"idempotency_key": "slash/key"}, ["Idempotency-Key"]),
])
def test_invalid_fields_are_400_and_store_nothing(app, client, tenant_token, fields, words):
    headers, _, _ = tenant_token
    data = dict(fields)
    if "seed_file" not in data and fields:
        data["seed_file"] = (QUICKSTART_CSV.open("rb"), "seed.csv")
    if not fields:
        data["display_name"] = "no file"
    response = client.post("/v1/datasets", headers=headers, data=data,
                           content_type="multipart/form-data")
    body = assert_problem(response, 400, "simio_invalid_field")
    for word in words:
        assert word.lower() in body["detail"].lower(), body
    assert_nothing_stored(app, app.config["SIMIO"].data_dir)


@pytest.mark.parametrize("key", ["has space", "k" * 129, "ünï", "a,b", ""])
def test_malformed_idempotency_key_header_is_400(app, client, tenant_token, key):
    headers, _, _ = tenant_token
    response = upload(client, {**headers, "Idempotency-Key": key}, QUICKSTART_CSV)
    if key == "":             # an empty header is no key at all
        assert response.status_code == 200, response.get_json()
        return
    assert_problem(response, 400, "simio_invalid_field")
    assert_nothing_stored(app, app.config["SIMIO"].data_dir)


# --- bad seeds: the reader's code, and nothing left behind -------------------------------

# Refused by the request itself (format sniffed from a bounded prefix); every other bad
# seed is refused by the job, which reads it under the reader's limits (issue 10).
SNIFFED = {"empty", "whitespace_only", "bom_only", "random_bytes", "random_bytes_named_sav",
           "png", "gzip"}


def assert_failed_in_the_job(app, data_dir, code):
    """The job read the seed and failed: a failed dataset and job, no files, no key."""
    rows = sql(app, "SELECT d.status AS d, j.status AS j, j.error_code AS code "
               "FROM datasets d JOIN jobs j ON j.dataset_id = d.dataset_id")
    assert rows == [{"d": "failed", "j": "failed", "code": code}]
    assert count(app, "idempotency") == 0
    assert stored_files(data_dir, "datasets", "staging") == []


@pytest.mark.parametrize("case", sorted(BAD_SEEDS))
def test_bad_seed_is_400_with_the_reader_code_and_leaves_nothing(app, client, tenant_token,
                                                                 case):
    headers, _, _ = tenant_token
    data, name, code = BAD_SEEDS[case]
    response = upload(client, headers, data, name)
    body = assert_problem(response, 400, code)
    assert body["title"] == "Bad Request"
    if case in SNIFFED:
        assert_nothing_stored(app, app.config["SIMIO"].data_dir)
    else:
        assert_failed_in_the_job(app, app.config["SIMIO"].data_dir, code)


@pytest.mark.parametrize("case", ["truncated_sav", "ragged_csv", "no_usable_columns"])
def test_bad_seed_without_waiting_is_a_202_whose_job_fails_with_the_code(app, client,
                                                                         tenant_token, case):
    """The request never parses the seed: with wait 0 it answers 202, the job says why."""
    headers, _, _ = tenant_token
    data, name, code = BAD_SEEDS[case]
    response = upload(client, headers, data, name, wait=0)
    assert response.status_code == 202, response.get_json()
    job = wait_job(client, headers, response.get_json()["job_id"])
    assert job["status"] == "failed" and job["error"]["code"] == code
    assert_failed_in_the_job(app, app.config["SIMIO"].data_dir, code)


def test_unrecognisable_seed_is_400_even_when_async(app, client, tenant_token):
    headers, _, _ = tenant_token
    data, name, code = BAD_SEEDS["empty"]
    assert_problem(upload(client, headers, data, name, wait=0), 400, code)
    assert_nothing_stored(app, app.config["SIMIO"].data_dir)


def test_bad_seed_does_not_burn_its_idempotency_key(app, client, tenant_token):
    headers, _, _ = tenant_token
    keyed = {**headers, "Idempotency-Key": "upload-1"}
    data, name, code = BAD_SEEDS["ragged_csv"]
    assert_problem(upload(client, keyed, data, name), 400, code)
    assert_failed_in_the_job(app, app.config["SIMIO"].data_dir, code)
    # the retry with the fixed file is new work, not a conflict
    response = upload(client, keyed, QUICKSTART_CSV)
    assert response.status_code == 200, response.get_json()
    assert "Idempotent-Replayed" not in response.headers


# --- size caps ---------------------------------------------------------------------------

def test_seed_over_max_upload_bytes_is_413_and_stores_nothing(tmp_path):
    with serving(tmp_path, max_upload_bytes=1000) as app:
        client = app.test_client()
        tenant = new_tenant(app, client, "small@cap.example")
        assert QUICKSTART_CSV.stat().st_size > 1000
        response = upload(client, tenant.headers, QUICKSTART_CSV)
        body = assert_problem(response, 413, "simio_file_too_large")
        assert "seed_file" in body["detail"]
        assert_nothing_stored(app, tmp_path)
        # far over the cap: refused while reading the body
        response = upload(client, tenant.headers, b"a,b\n" + b"1,2\n" * 40_000, "big.csv")
        assert_problem(response, 413, "simio_file_too_large")
        assert_nothing_stored(app, tmp_path)
        # at the cap is fine
        small = b"a,b\n" + b"".join(f"{i % 7},{i % 3}\n".encode() for i in range(200))
        small = small[: small.rfind(b"\n", 0, 1000) + 1]
        assert len(small) <= 1000
        response = upload(client, tenant.headers, small, "small.csv")
        assert response.status_code == 200, response.get_json()


# --- idempotency -------------------------------------------------------------------------

def test_same_key_same_file_replays_the_dataset(app, client, tenant_token):
    headers, _, _ = tenant_token
    keyed = {**headers, "Idempotency-Key": "seed-upload:2026-05-01.1"}
    first = upload(client, keyed, QUICKSTART_CSV, display_name="Q")
    assert first.status_code == 200, first.get_json()
    again = upload(client, keyed, QUICKSTART_CSV, display_name="Q")
    assert again.status_code == 200, again.get_json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json()["dataset_id"] == first.get_json()["dataset_id"]
    assert without_request_id(again.get_json()) == without_request_id(first.get_json())
    assert again.get_json()["request_id"] == again.headers["X-Request-Id"]
    assert again.get_json()["request_id"] != first.get_json()["request_id"]
    assert count(app, "datasets") == 1 and count(app, "jobs") == 1
    # wait_seconds is not part of the request's identity
    third = upload(client, keyed, QUICKSTART_CSV, display_name="Q", wait=0)
    assert third.status_code == 200 and third.headers["Idempotent-Replayed"] == "true"


def test_same_key_different_request_is_409(app, client, tenant_token):
    headers, _, _ = tenant_token
    keyed = {**headers, "Idempotency-Key": "k-409"}
    first = upload(client, keyed, QUICKSTART_CSV)
    assert first.status_code == 200
    other_file = upload(client, keyed, DATA / "quickstart_seed.parquet")
    body = assert_problem(other_file, 409, "simio_idempotency_conflict")
    assert body["title"] == "Conflict"
    # same bytes under another name are the same file
    renamed = upload(client, keyed, QUICKSTART_CSV.read_bytes(), "renamed.csv")
    assert renamed.status_code == 200
    assert renamed.get_json()["dataset_id"] == first.get_json()["dataset_id"]
    assert_problem(upload(client, keyed, QUICKSTART_CSV, display_name="other"), 409,
                   "simio_idempotency_conflict")
    assert_problem(upload(client, keyed, QUICKSTART_CSV, auto_clean="false"), 409,
                   "simio_idempotency_conflict")
    assert count(app, "datasets") == 1
    assert stored_files(app.config["SIMIO"].data_dir, "staging") == []


def test_idempotency_key_as_form_field(app, client, tenant_token):
    headers, _, _ = tenant_token
    first = upload(client, headers, QUICKSTART_CSV, idempotency_key="form-key-1")
    assert first.status_code == 200, first.get_json()
    again = upload(client, headers, QUICKSTART_CSV, idempotency_key="form-key-1")
    assert again.status_code == 200 and again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json()["dataset_id"] == first.get_json()["dataset_id"]
    # header and form field name the same key
    header = upload(client, {**headers, "Idempotency-Key": "form-key-1"}, QUICKSTART_CSV)
    assert header.headers["Idempotent-Replayed"] == "true"
    assert header.get_json()["dataset_id"] == first.get_json()["dataset_id"]
    conflict = upload(client, headers, DATA / "quickstart_seed.xlsx",
                      idempotency_key="form-key-1")
    assert_problem(conflict, 409, "simio_idempotency_conflict")
    assert count(app, "datasets") == 1


def test_async_upload_replays_its_202(app, client, tenant_token):
    headers, _, _ = tenant_token
    keyed = {**headers, "Idempotency-Key": "async-1"}
    first = upload(client, keyed, QUICKSTART_CSV, wait=0)
    assert first.status_code == 202
    wait_job(client, headers, first.get_json()["job_id"])
    again = upload(client, keyed, QUICKSTART_CSV, wait=0)
    assert again.status_code == 202 and again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json()["job_id"] == first.get_json()["job_id"]
    assert count(app, "jobs") == 1


def test_idempotency_keys_are_per_tenant(app, client, make_tenant):
    a, b = make_tenant(), make_tenant()
    first = upload(client, {**a[0], "Idempotency-Key": "shared"}, QUICKSTART_CSV)
    second = upload(client, {**b[0], "Idempotency-Key": "shared"}, QUICKSTART_CSV)
    assert first.status_code == second.status_code == 200
    assert "Idempotent-Replayed" not in second.headers
    assert first.get_json()["dataset_id"] != second.get_json()["dataset_id"]


# --- visibility: tenants, ids, expiry ----------------------------------------------------

@pytest.mark.parametrize("suffix", ["", "/schema"])
def test_another_tenants_dataset_is_the_uniform_404(world, suffix):
    c = world.client
    own = c.get(f"/v1/datasets/{world.dataset_id}{suffix}", headers=world.a.headers)
    assert own.status_code == 200
    bodies = []
    for dataset_id in (world.dataset_id, "ds_neverexisted0000000000", "bad.id", "x" * 129,
                       "ds%20space", "ds_" + world.dataset_id[3:][::-1]):
        response = c.get(f"/v1/datasets/{dataset_id}{suffix}", headers=world.b.headers)
        body = assert_problem(response, 404, "simio_dataset_not_found")
        assert body["title"] == "Not Found"
        bodies.append((response.headers["Content-Type"], raw_without_request_id(response)))
    assert all(b == bodies[0] for b in bodies), bodies


def test_dataset_expires_after_its_ttl_and_reads_extend_it(tmp_path):
    t = [time.time()]
    with serving(tmp_path, clock=lambda: t[0]) as app:
        client = app.test_client()
        tenant = new_tenant(app, client, "clock@tenant.example")
        dataset_id = upload(client, tenant.headers, QUICKSTART_CSV).get_json()["dataset_id"]
        t[0] += 23 * 3600
        assert client.get(f"/v1/datasets/{dataset_id}", headers=tenant.headers).status_code \
            == 200                               # the read pushes expiry out by the TTL
        t[0] += 23 * 3600
        assert client.get(f"/v1/datasets/{dataset_id}/schema",
                          headers=tenant.headers).status_code == 200
        t[0] += 25 * 3600
        for suffix in ("", "/schema"):
            response = client.get(f"/v1/datasets/{dataset_id}{suffix}", headers=tenant.headers)
            assert_problem(response, 404, "simio_dataset_not_found")


# --- authentication: one uniform 401 -----------------------------------------------------

def _tokens(app, client_id):
    """Bearer values that must all fail alike (forged with the server's own key)."""
    cfg = app.config["SIMIO"]
    key = app.config["SIMIO_SIGNING_KEY"]
    now = int(time.time())
    claims = {"iss": cfg.issuer, "aud": cfg.audience, "sub": client_id,
              "tenant": tenant_of(app, client_id), "iat": now, "exp": now + 600}

    def forge(key=key, algorithm="HS256", **changes):
        return "Bearer " + jwt.encode({**claims, **changes}, key, algorithm=algorithm)

    assert client_id and forge()      # a well-formed token of this client would pass
    return {
        "none": None,
        "garbage": "Bearer garbage",
        "empty_bearer": "Bearer ",
        "basic": "Basic dXNlcjpwYXNz",
        "wrong_audience": forge(aud="https://api.example.org"),
        "wrong_issuer": forge(iss="https://evil.example"),
        "expired": forge(iat=now - 7200, exp=now - 3600),
        "other_key": forge(key=b"k" * 32),
        "unknown_client": forge(sub="nobody_m2m_000000"),
        "other_tenant_claim": forge(tenant="tn_someoneelse"),
        "alg_none": forge(key=None, algorithm="none"),
    }


def test_every_auth_failure_is_the_same_401(app, client, tenant_token):
    headers, client_id, secret = tenant_token
    dataset_id = upload(client, headers, QUICKSTART_CSV).get_json()["dataset_id"]
    tokens = _tokens(app, client_id)
    tokens["client_secret_as_bearer"] = f"Bearer {secret}"
    calls = [
        lambda h: upload(client, h, QUICKSTART_CSV),
        lambda h: client.get(f"/v1/datasets/{dataset_id}", headers=h),
        lambda h: client.get(f"/v1/datasets/{dataset_id}/schema", headers=h),
        lambda h: client.get("/v1/datasets/ds_neverexisted", headers=h),
        lambda h: client.post("/v1/datasets", headers=h, json={}),
    ]
    seen = set()
    for name, value in tokens.items():
        h = {} if value is None else {"Authorization": value}
        for call in calls:
            response = call(h)
            body = assert_problem(response, 401, None)
            assert response.headers["WWW-Authenticate"].startswith("Bearer"), name
            assert body == {"type": "about:blank", "title": "Unauthorized", "status": 401,
                            "detail": "Invalid credentials.",
                            "request_id": response.headers["X-Request-Id"]}, name
            seen.add(response.headers["Content-Type"])
    assert seen == {"application/problem+json"}
    assert count(app, "datasets") == 1
    assert stored_files(app.config["SIMIO"].data_dir, "staging") == []
    # the real token still works
    assert client.get(f"/v1/datasets/{dataset_id}", headers=headers).status_code == 200
