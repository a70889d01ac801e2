"""GET /v1/datasets and GET /v1/datasets/{id}/generations: newest first, limit 1..100,
opaque tamper-evident cursors bound to tenant and list, keyset pagination that is stable
under concurrent inserts, and the contract's response shapes.

The module's store holds 250 real datasets of tenant ``a`` (tiny seeds uploaded through the
API, several at a time) and a few of tenant ``b``.
"""

from __future__ import annotations

import base64
import io
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.errors import SimioError
from localapi import cursors
from localapi.db import connect, transaction
from localapi.store import records
from tests.localapi.fixtures import (TIGHT_SCENARIO, assert_problem, contract, fresh_app,
                                     generate, new_tenant, raw_without_request_id, sql, stop,
                                     train)

LIMIT_DETAIL = "limit must be an integer between 1 and 100."
DATASET_KEYS = ["dataset_id", "status", "display_name", "created_at", "expires_at"]
GENERATION_KEYS = ["generation_id", "dataset_id", "status", "output_format",
                   "rows_requested", "rows_generated", "created_at", "expires_at"]
BAD_LIMITS = ["0", "101", "abc", "1.5", "", "-1", " 5", "5 ", "1e2", "+5", "0x10",
              "\u0663", "99999999999999999999"]
INITIAL = 250


def tiny_seed(i: int) -> bytes:
    rows = "".join(f"{(i + j) % 3},{'pq'[j % 2]},{j % 5}\n" for j in range(12))
    return ("a,b,c\n" + rows).encode()


def post_seed(app, headers, i):
    response = app.test_client().post(
        "/v1/datasets", headers=headers, content_type="multipart/form-data",
        data={"seed_file": (io.BytesIO(tiny_seed(i)), "tiny.csv"), "wait_seconds": "30",
              "display_name": f"tiny {i}"})
    assert response.status_code == 200, response.get_json()
    return response.get_json()["dataset_id"]


class Store:
    def __init__(self, app, client, a, b, b_datasets, gen_dataset, generations):
        self.app, self.client, self.a, self.b = app, client, a, b
        self.b_datasets, self.gen_dataset, self.generations = b_datasets, gen_dataset, generations

    def ids(self, tenant) -> list[str]:
        """The tenant's listable datasets, newest first, as the store has them."""
        return [r["dataset_id"] for r in sql(
            self.app, "SELECT dataset_id FROM datasets WHERE tenant_id = ? AND status = "
            "'ready' ORDER BY seq DESC", (tenant.tenant_id,))]


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    app = fresh_app(tmp_path_factory.mktemp("listing"), workers=8, sweep_interval=0)
    client = app.test_client()
    a = new_tenant(app, client, "a@listing.example", "Listing A")
    b = new_tenant(app, client, "b@listing.example", "Listing B")
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda i: post_seed(app, a.headers, i), range(INITIAL)))
    b_datasets = [post_seed(app, b.headers, 1000 + i) for i in range(3)]
    # generations: one quickstart dataset of b's with 12 ready ones and a partial one
    gen_dataset = train(client, b.headers)
    generations = []
    for i in range(12):
        response = generate(client, b.headers, gen_dataset, row_count=10 + i,
                            output_format=("csv", "parquet", "arrow")[i % 3], seed=i)
        assert response.status_code == 200, response.get_json()
        generations.append(response.get_json()["generation_id"])
    partial = generate(client, b.headers, gen_dataset, row_count=1000, seed=1,
                       conditions=TIGHT_SCENARIO)
    assert partial.status_code == 207, partial.get_json()
    generations.append(partial.get_json()["generation_id"])
    yield Store(app, client, a, b, b_datasets, gen_dataset, generations)
    stop(app)


def get(store, tenant, url):
    return store.client.get(url, headers=tenant.headers)


def walk(store, tenant, url, limit, between=None):
    """Follow next_cursor to the end; (items, pages). ``between(page_no)`` runs between
    page fetches."""
    items, pages, cursor = [], [], None
    sep = "&" if "?" in url else "?"
    while True:
        query = f"{url}{sep}limit={limit}" + (f"&cursor={cursor}" if cursor else "")
        response = get(store, tenant, query)
        assert response.status_code == 200, response.get_json()
        body = response.get_json()
        assert body["limit"] == limit
        pages.append(body)
        key = "datasets" if "datasets" in body else "generations"
        items += body[key]
        cursor = body["next_cursor"]
        if cursor is None:
            return items, pages
        assert isinstance(cursor, str) and cursor
        if between is not None:
            between(len(pages))


def newest_first(items):
    stamps = [datetime.strptime(i["created_at"], "%Y-%m-%dT%H:%M:%SZ") for i in items]
    return all(x >= y for x, y in zip(stamps, stamps[1:]))


# --- shapes --------------------------------------------------------------------------------

def contract_schema(path):
    spec = contract()
    return spec["paths"][path]["get"]["responses"]["200"]["content"]["application/json"][
        "schema"]


def test_dataset_list_shape_and_default_limit(store):
    response = get(store, store.a, "/v1/datasets")
    body = response.get_json()
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert list(body) == ["datasets", "limit", "next_cursor", "request_id"]
    assert body["request_id"] == response.headers["X-Request-Id"]
    assert body["limit"] == 25 and len(body["datasets"]) == 25
    assert isinstance(body["next_cursor"], str)
    schema = contract_schema("/v1/datasets")
    item_schema = schema["properties"]["datasets"]["items"]
    assert set(schema["required"]) <= set(body) <= set(schema["properties"])
    for item in body["datasets"]:
        assert list(item) == DATASET_KEYS
        assert set(item_schema["required"]) <= set(item) == set(item_schema["properties"])
        assert item["status"] == "ready" and item["display_name"].startswith("tiny ")
        assert item["created_at"].endswith("Z") and item["expires_at"] > item["created_at"]
    assert [i["dataset_id"] for i in body["datasets"]] == store.ids(store.a)[:25]


def test_generation_list_shape_newest_first_ready_and_partial(store):
    url = f"/v1/datasets/{store.gen_dataset}/generations"
    response = get(store, store.b, url)
    body = response.get_json()
    assert response.status_code == 200, body
    assert list(body) == ["dataset_id", "generations", "limit", "next_cursor", "request_id"]
    assert body["dataset_id"] == store.gen_dataset and body["limit"] == 25
    assert body["next_cursor"] is None and body["request_id"] == response.headers["X-Request-Id"]
    schema = contract_schema("/v1/datasets/{dataset_id}/generations")
    item_schema = schema["properties"]["generations"]["items"]
    assert set(schema["required"]) <= set(body) <= set(schema["properties"])
    ids = [g["generation_id"] for g in body["generations"]]
    assert ids == store.generations[::-1]                       # newest first
    for item in body["generations"]:
        assert list(item) == GENERATION_KEYS
        assert set(item_schema["required"]) <= set(item) == set(item_schema["properties"])
        one = get(store, store.b, f"/v1/generations/{item['generation_id']}").get_json()
        assert {k: one[k] for k in GENERATION_KEYS} == item     # same values as the GET
    assert body["generations"][0]["status"] == "partial"
    assert {g["status"] for g in body["generations"][1:]} == {"ready"}
    assert newest_first(body["generations"])


# --- pagination ----------------------------------------------------------------------------

def test_walk_is_stable_under_concurrent_inserts_and_deletes(store):
    before = store.ids(store.a)
    assert len(before) >= INITIAL
    inserted, stop_inserting = [], threading.Event()

    def background():                                 # inserts while pages are fetched
        i = 0
        while not stop_inserting.is_set():
            inserted.append(post_seed(store.app, store.a.headers, 5000 + i))
            i += 1

    deleted = []

    def between(page_no):                             # and between page fetches
        inserted.append(post_seed(store.app, store.a.headers, 9000 + page_no))
        if page_no == 3:                              # delete one the walk has not reached
            victim = before[-5]
            assert store.client.delete(f"/v1/datasets/{victim}",
                                       headers=store.a.headers).status_code == 204
            deleted.append(victim)

    thread = threading.Thread(target=background)
    thread.start()
    try:
        items, pages = walk(store, store.a, "/v1/datasets", 17, between)
    finally:
        stop_inserting.set()
        thread.join()
    ids = [i["dataset_id"] for i in items]
    assert len(ids) == len(set(ids)), "duplicates"
    assert ids == [d for d in before if d not in deleted]    # no gaps, same order
    assert not set(ids) & set(inserted)                      # nothing newer than the start
    assert len(inserted) > len(pages) and deleted
    assert all(len(p["datasets"]) == 17 for p in pages[:-1]) and pages[-1]["datasets"]
    # (newest first is creation order, ``seq``; created_at is stamped when an upload's
    # request started, so uploads racing each other may differ from it by under a second)
    # a new walk sees the inserted ones first, then the rest
    fresh, _ = walk(store, store.a, "/v1/datasets", 100)
    fresh_ids = [i["dataset_id"] for i in fresh]
    assert fresh_ids == store.ids(store.a)
    assert set(fresh_ids[:len(inserted)]) == set(inserted)
    assert fresh_ids[len(inserted):] == ids


def test_limit_bounds_and_exact_pages(store):
    ids = store.ids(store.a)
    one = get(store, store.a, "/v1/datasets?limit=1").get_json()
    assert [d["dataset_id"] for d in one["datasets"]] == ids[:1] and one["limit"] == 1
    full = get(store, store.a, "/v1/datasets?limit=100").get_json()
    assert [d["dataset_id"] for d in full["datasets"]] == ids[:100]
    assert get(store, store.a, "/v1/datasets?limit=007").get_json()["limit"] == 7
    # a page that ends exactly at the last item has no next cursor
    b_ids = store.ids(store.b)
    exact = get(store, store.b, f"/v1/datasets?limit={len(b_ids)}").get_json()
    assert exact["next_cursor"] is None and len(exact["datasets"]) == len(b_ids)
    short = get(store, store.b, f"/v1/datasets?limit={len(b_ids) - 1}").get_json()
    last = get(store, store.b, f"/v1/datasets?limit=5&cursor={short['next_cursor']}")
    assert [d["dataset_id"] for d in last.get_json()["datasets"]] == b_ids[-1:]
    assert last.get_json()["next_cursor"] is None
    # an empty cursor is the first page (the contract's own example value is "")
    assert get(store, store.b, "/v1/datasets?cursor=").get_json()["datasets"][0][
        "dataset_id"] == b_ids[0]


@pytest.mark.parametrize("value", BAD_LIMITS)
def test_bad_limit_is_400(store, value):
    for tenant, url in ((store.a, "/v1/datasets"),
                        (store.b, f"/v1/datasets/{store.gen_dataset}/generations")):
        response = store.client.get(url, headers=tenant.headers, query_string={"limit": value})
        body = assert_problem(response, 400, "simio_invalid_field")
        assert body["detail"] == LIMIT_DETAIL and body["title"] == "Bad Request"


def test_generation_walk_and_concurrent_generation(store):
    url = f"/v1/datasets/{store.gen_dataset}/generations"
    added = []

    def between(_page_no):
        response = generate(store.client, store.b.headers, store.gen_dataset, row_count=5)
        assert response.status_code == 200
        added.append(response.get_json()["generation_id"])

    items, pages = walk(store, store.b, url, 4, between)
    ids = [g["generation_id"] for g in items]
    assert ids == store.generations[::-1] and len(pages) == 4
    assert not set(ids) & set(added)
    assert all(g["dataset_id"] == store.gen_dataset for g in items)
    store.generations += added             # later tests see the current list


def test_unlisted_states_and_other_tenants(store):
    """Only the caller's ready, unexpired datasets; ready/partial unexpired generations."""
    conn = connect(store.app)
    t = sql(store.app, "SELECT MAX(created_at) AS t FROM datasets")[0]["t"]
    try:
        with transaction(conn):
            for state in ("processing", "failed", "deleted", "expired"):
                records.insert_dataset(conn, dataset_id=f"ds_state_{state}",
                                       tenant_id=store.b.tenant_id, display_name=state,
                                       auto_clean=True, seed_name="x.csv", seed_sha256="0",
                                       now=t, expires_at=t + 3600)
            conn.execute("UPDATE datasets SET status = 'failed' WHERE dataset_id = ?",
                         ("ds_state_failed",))
            conn.execute("UPDATE datasets SET status = 'deleted' WHERE dataset_id = ?",
                         ("ds_state_deleted",))
            conn.execute("UPDATE datasets SET status = 'ready', expires_at = 1 "
                         "WHERE dataset_id = ?", ("ds_state_expired",))
            for state in ("processing", "failed", "expired"):
                records.insert_generation(conn, generation_id=f"gen_state_{state}",
                                          dataset_id=store.gen_dataset,
                                          tenant_id=store.b.tenant_id, output_format="csv",
                                          rows_requested=1, seed=1, request={}, now=t,
                                          expires_at=t + 3600)
            conn.execute("UPDATE generations SET status = 'failed' WHERE generation_id = ?",
                         ("gen_state_failed",))
            conn.execute("UPDATE generations SET status = 'ready', expires_at = 1 "
                         "WHERE generation_id = ?", ("gen_state_expired",))
    finally:
        conn.close()
    b_items, _ = walk(store, store.b, "/v1/datasets", 100)
    b_ids = [d["dataset_id"] for d in b_items]
    assert not [d for d in b_ids if d.startswith("ds_state_")]
    assert set(store.b_datasets) | {store.gen_dataset} == set(b_ids)
    a_items, _ = walk(store, store.a, "/v1/datasets", 100)
    assert not set(b_ids) & {d["dataset_id"] for d in a_items}
    gens, _ = walk(store, store.b, f"/v1/datasets/{store.gen_dataset}/generations", 100)
    assert [g["generation_id"] for g in gens] == store.generations[::-1]


def test_generation_list_of_missing_or_foreign_dataset_is_404(store):
    url = f"/v1/datasets/{store.gen_dataset}/generations"
    bodies = []
    for tenant, path in ((store.a, url),                           # another tenant's
                         (store.a, url + "?limit=abc"),            # ... even with a bad limit
                         (store.a, url + "?cursor=garbage"),
                         (store.b, "/v1/datasets/ds_neverexisted000000000/generations"),
                         (store.b, "/v1/datasets/bad.id/generations"),
                         (store.b, f"/v1/datasets/{store.b_datasets[0][::-1]}/generations")):
        response = get(store, tenant, path)
        assert_problem(response, 404, "simio_dataset_not_found")
        bodies.append(raw_without_request_id(response))
    assert len(set(bodies)) == 1
    assert_problem(store.client.get(url), 401, None)
    assert_problem(store.client.get("/v1/datasets"), 401, None)


# --- cursors -------------------------------------------------------------------------------

def first_cursor(store, tenant, url="/v1/datasets", limit=3):
    body = get(store, tenant, f"{url}?limit={limit}").get_json()
    assert body["next_cursor"], body
    return body["next_cursor"]


def assert_bad_cursor(store, tenant, url, cursor):
    response = store.client.get(url, headers=tenant.headers,
                                query_string={"cursor": cursor, "limit": 3})
    body = assert_problem(response, 400, "simio_invalid_field")
    assert "cursor" in body["detail"]
    return raw_without_request_id(response)


def test_cursor_is_opaque_and_tamper_evident(store):
    cursor = first_cursor(store, store.a)
    raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    assert store.a.tenant_id.encode() not in raw and b"datasets" not in raw
    flipped = bytearray(raw)
    flipped[8] ^= 1                              # the position, re-encoded properly
    forged_seq = base64.urlsafe_b64encode(bytes(flipped)).rstrip(b"=").decode()
    tampered = [
        forged_seq,
        cursor[:-1], cursor + "A", "A" + cursor, cursor[::-1], cursor.upper(),
        cursor[:-1] + ("A" if cursor[-1] != "A" else "B"),
        cursor + "=", cursor.replace("-", "+").replace("_", "/") + "x",
        base64.urlsafe_b64encode(b"\x01" + bytes(24)).rstrip(b"=").decode(),
        base64.urlsafe_b64encode(b"seq=5").decode(), "garbage", "0", "null", "x" * 500,
        "%00", "../../etc/passwd",
    ]
    bodies = {assert_bad_cursor(store, store.a, "/v1/datasets", c) for c in tampered}
    assert len(bodies) == 1                      # one answer, whatever was wrong
    # the genuine cursor still works, and says the same thing every time
    again = first_cursor(store, store.a)
    assert again == cursor
    assert get(store, store.a, f"/v1/datasets?limit=3&cursor={cursor}").status_code == 200


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(position=st.integers(min_value=0), replacement=st.sampled_from(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"))
def test_any_single_character_edit_is_refused(store, position, replacement):
    cursor = first_cursor(store, store.a)
    position %= len(cursor)
    if cursor[position] == replacement:
        return
    edited = cursor[:position] + replacement + cursor[position + 1:]
    assert_bad_cursor(store, store.a, "/v1/datasets", edited)


def test_cursor_of_another_tenant_or_list_is_refused(store):
    gen_url = f"/v1/datasets/{store.gen_dataset}/generations"
    a_cursor = first_cursor(store, store.a)
    b_cursor = first_cursor(store, store.b, limit=1)
    gen_cursor = first_cursor(store, store.b, gen_url)
    assert_bad_cursor(store, store.b, "/v1/datasets", a_cursor)     # a's, used by b
    assert_bad_cursor(store, store.a, "/v1/datasets", b_cursor)     # b's, used by a
    assert_bad_cursor(store, store.b, gen_url, b_cursor)            # dataset list -> gens
    assert_bad_cursor(store, store.b, "/v1/datasets", gen_cursor)   # gens -> dataset list
    # another dataset's generation list
    other = store.b_datasets[0]
    generate(store.client, store.b.headers, other, row_count=5)
    assert_bad_cursor(store, store.b, f"/v1/datasets/{other}/generations", gen_cursor)
    # a cursor minted under another key (another server) is refused as well
    foreign_key = cursors.encode(b"k" * 32, tenant_id=store.a.tenant_id, scope="datasets",
                                 seq=10**6)
    assert_bad_cursor(store, store.a, "/v1/datasets", foreign_key)


def test_cursor_survives_a_restart(store, tmp_path):
    cursor = first_cursor(store, store.a, limit=10)
    expected = get(store, store.a, f"/v1/datasets?limit=10&cursor={cursor}").get_json()
    later = fresh_app(store.app.config["SIMIO"].data_dir, sweep_interval=0,
                      defer_recovery=True)
    try:
        body = later.test_client().get(f"/v1/datasets?limit=10&cursor={cursor}",
                                       headers=store.a.headers).get_json()
    finally:
        stop(later)
    assert body["datasets"] == expected["datasets"]
    assert body["next_cursor"] == expected["next_cursor"]


def test_cursor_module_round_trip():
    key = b"s" * 32
    for seq in (0, 1, 2**31, 2**63 - 2):
        token = cursors.encode(key, tenant_id="tn_1", scope="datasets", seq=seq)
        assert cursors.decode(key, token, tenant_id="tn_1", scope="datasets") == seq
        for tenant, scope in (("tn_2", "datasets"), ("tn_1", "generations:ds_1")):
            with pytest.raises(SimioError) as err:
                cursors.decode(key, token, tenant_id=tenant, scope=scope)
            assert err.value.code == "simio_invalid_field"
    assert cursors.parse_limit(None) == 25 and cursors.parse_limit("100") == 100
