"""Our /openapi.json against the seed contract: the seed is preserved, we only add.

The seed is the shared contract (``shared/contract/...``) when it is present beside the
checkout, else the copy the package ships (``localapi/openapi_seed.json``,
``tests.contract_file``); the shipped copy must equal the shared one and the pinned hash.
"""

from __future__ import annotations

import json
import re

import pytest

from localapi import create_app
from localapi.openapi import CALENDAR_WIDENED, LOCAL_TAG, SEED_PATH, build, operations

from tests.contract_file import CONTRACT, SHARED

# sha256 of the contract the package ships: a new contract version is copied over
# localapi/openapi_seed.json and this pin updated in the same commit, deliberately.
CONTRACT_SHA256 = "91f341f19d6e0b195fb4e4a03edfc5a7de904dda7dc0d3b670662096b67bfdd9"
BASE = "http://docs-test.local:5123"
ADDED = {("/oauth/token", "POST"), ("/errors", "GET"), ("/errors/{code}", "GET"),
         ("/llms.txt", "GET"), ("/openapi.json", "GET")}


def load_seed() -> dict:
    return json.loads(CONTRACT.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    import os

    saved = {k: os.environ.pop(k) for k in list(os.environ) if k.startswith("SIMIO_")}
    app = create_app({"data_dir": str(tmp_path_factory.mktemp("openapi")),
                      "approval": "auto", "public_url": BASE})
    app.config["TESTING"] = True
    yield app
    app.extensions["simio_jobs"].shutdown(False)
    os.environ.update(saved)


@pytest.fixture(scope="module")
def seed():
    return load_seed()


@pytest.fixture(scope="module")
def ours(app):
    response = app.test_client().get("/openapi.json", base_url=BASE + "/")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    return response.get_json()


def subset_diff(seed, ours, where="$"):
    """Where ``seed`` is not contained in ``ours`` (dicts may gain keys and enums values,
    nothing else)."""
    if isinstance(seed, dict):
        if not isinstance(ours, dict):
            return [f"{where}: not an object any more"]
        problems = []
        for key, value in seed.items():
            if key not in ours:
                problems.append(f"{where}.{key}: missing")
            else:
                problems += subset_diff(value, ours[key], f"{where}.{key}")
        return problems
    if where.endswith(".enum") and isinstance(seed, list) and isinstance(ours, list) \
            and ours[:len(seed)] == seed:
        return []          # the contract's versioning policy allows new enum values
    return [] if seed == ours else [f"{where}: {seed!r} became {ours!r}"]


def test_shipped_seed_is_the_shared_contract():
    import hashlib

    assert hashlib.sha256(SEED_PATH.read_bytes()).hexdigest() == CONTRACT_SHA256
    if SHARED.is_file():          # beside the shared folder: the copies must be the same
        assert SEED_PATH.read_bytes() == SHARED.read_bytes(), \
            "localapi/openapi_seed.json is stale: copy shared/contract/... over it"


def test_every_seed_path_and_method_is_present(seed, ours):
    missing = [(p, m) for p, m, _ in operations(seed)
               if m.lower() not in ours["paths"].get(p, {})]
    assert not missing


@pytest.mark.parametrize("path,method", [(p, m) for p, m, _ in operations(load_seed())])
def test_every_seed_operation_is_preserved(seed, ours, path, method):
    """Every field of the seed operation (status codes, schemas, examples, operationId,
    security, parameters) is still there with the same value; we may only add fields."""
    original = seed["paths"][path][method.lower()]
    # the only seed values we change: min/max widened to ISO texts for date columns
    widened = [w for p, m, w in CALENDAR_WIDENED if (p, m) == (path, method)]
    assert [d for d in subset_diff(original, ours["paths"][path][method.lower()])
            if not any(d.startswith(w + ".") or d.startswith(w + ":") for w in widened)] == []
    assert set(original.get("responses", {})) <= set(
        ours["paths"][path][method.lower()].get("responses", {}))


def test_every_error_code_in_the_seed_is_in_ours(seed, ours):
    codes = set(re.findall(r"simio_[a-z_]+", json.dumps(seed)))
    assert codes
    assert codes <= set(re.findall(r"simio_[a-z_]+", json.dumps(ours)))


def test_info_and_tags_are_kept(seed, ours):
    assert ours["openapi"] == seed["openapi"]
    assert ours["info"]["description"] == seed["info"]["description"]
    assert subset_diff(seed["info"], ours["info"]) == []
    names = [t["name"] for t in ours["tags"]]
    assert names[:len(seed["tags"])] == [t["name"] for t in seed["tags"]]
    assert LOCAL_TAG in names
    for path, method, op in operations(ours):
        assert set(op.get("tags", [])) <= set(names), (path, method)


def test_components_are_kept_except_the_bearer_description(seed, ours):
    seed_components = json.loads(json.dumps(seed["components"]))
    seed_components["securitySchemes"]["bearerAuth"].pop("description")
    assert subset_diff(seed_components, ours["components"]) == []


def test_servers_point_at_this_server(ours):
    assert ours["servers"][0]["url"] == BASE


@pytest.mark.parametrize("base", ["https://127.0.0.1:8443", "http://[::1]:8080",
                                  "http://evil.example"])
def test_servers_never_follow_the_request_host(app, base):
    # Issue 10: the Host header is the client's to forge; the URL is configuration.
    doc = app.test_client().get("/openapi.json", base_url=base + "/").get_json()
    assert doc["servers"][0]["url"] == BASE
    description = doc["components"]["securitySchemes"]["bearerAuth"]["description"]
    assert f"{BASE}/oauth/token" in description and base not in description


def test_bearer_scheme_describes_the_local_token_issuer(app, ours):
    bearer = ours["components"]["securitySchemes"]["bearerAuth"]
    assert (bearer["type"], bearer["scheme"], bearer["bearerFormat"]) == \
        ("http", "bearer", "JWT")
    assert f"POST {BASE}/oauth/token" in bearer["description"]
    assert app.config["SIMIO"].audience in bearer["description"]
    assert "client_secret" in bearer["description"] and "eyJ" in bearer["description"]


def test_token_operation_is_documented(ours):
    op = ours["paths"]["/oauth/token"]["post"]
    assert op["security"] == []
    assert {"200", "400", "401"} <= set(op["responses"])
    body = op["requestBody"]["content"]
    assert {"application/json", "application/x-www-form-urlencoded"} <= set(body)
    schema = body["application/json"]["schema"]
    assert {"grant_type", "client_id", "client_secret"} <= set(schema["required"])
    token = op["responses"]["200"]["content"]["application/json"]["schema"]
    assert {"access_token", "token_type", "expires_in"} <= set(token["properties"])


def test_added_operations_are_documented(seed, ours):
    seed_ops = {(p, m) for p, m, _ in operations(seed)}
    ours_ops = {(p, m): op for p, m, op in operations(ours)}
    assert ADDED <= set(ours_ops)
    assert not ADDED & seed_ops
    for key in ADDED:
        op = ours_ops[key]
        assert op.get("summary") and op.get("responses") and "200" in op["responses"], key
    assert ours_ops[("/errors/{code}", "GET")]["parameters"][0]["name"] == "code"
    assert "404" in ours_ops[("/errors/{code}", "GET")]["responses"]


def test_operation_ids_are_unique(ours):
    ids = [op["operationId"] for _, _, op in operations(ours) if "operationId" in op]
    assert len(ids) == len(set(ids))


def test_every_operation_has_responses_documented(ours):
    """Seed operations may lack responses (OpenAPI 3.1 allows it); ours may not."""
    seed_bare = {(p, m) for p, m, op in operations(load_seed()) if not op.get("responses")}
    for path, method, op in operations(ours):
        if (path, method) not in seed_bare:
            assert op.get("responses"), (path, method)


def test_build_is_a_fresh_copy_each_time():
    first = build("http://a")
    first["paths"].clear()
    first["info"]["description"] = "changed"
    second = build("http://b")
    assert second["paths"] and second["info"]["description"] == load_seed()["info"][
        "description"]
    assert second["servers"][0]["url"] == "http://b"
