"""Helpers and module-scoped fixtures for the dataset, generation, job and restart tests.

Everything goes through the Flask test client against a real SQLite file in a temporary
data dir; artifacts are read back with pandas / pyarrow. Nothing of ours is mocked.

- ``world``: one app per test module with two tenants (``a``, ``b``) and the quickstart
  seed trained once for tenant ``a`` (``world.dataset_id``). For read-mostly tests; tests
  that need their own store build one with ``fresh_app``.
- ``upload`` / ``train`` / ``generate`` / ``artifact`` / ``wait_job``: the API calls.
- ``assert_problem``: the canonical problem shape, with status and code.
- ``sql`` / ``quota`` / ``stored_files``: look at what the server stored.
"""

from __future__ import annotations

from contextlib import contextmanager

import io
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pandas as pd
import pyarrow.ipc as ipc
import pytest
from flask import Flask
from flask.testing import FlaskClient

from engine.datasets import QUICKSTART_SCENARIO, quickstart_frame
from localapi import create_app
from localapi.db import connect
from tests.localapi.conftest import claim, mint, signup

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "data"
from tests.contract_file import CONTRACT  # noqa: E402 - the shared or packaged copy
PROBLEM_JSON = "application/problem+json"
TERMINAL = ("completed", "failed", "cancelled", "expired")
SEED_FORMATS = ("csv", "sav", "xlsx", "parquet")
CONTENT_TYPES = {"parquet": "application/vnd.apache.parquet", "csv": "text/csv",
                 "arrow": "application/vnd.apache.arrow.file"}

# The contract's GET /v1/datasets/{id}/schema example (the quickstart seed).
CONTRACT_SCHEMA = [
    {"name": "age", "type": "integer", "min": 18, "max": 65, "conditioning_excluded": False},
    {"name": "segment", "type": "factor", "levels": ["Value", "Mainstream", "Premium"],
     "conditioning_excluded": False},
    {"name": "channel", "type": "factor", "levels": ["Retail", "Online", "Club"],
     "conditioning_excluded": False},
    {"name": "region", "type": "factor", "levels": ["Northeast", "South", "Midwest", "West"],
     "conditioning_excluded": False},
    {"name": "purchase_intent", "type": "numeric", "min": 0, "max": 100,
     "conditioning_excluded": False},
]
QUICKSTART_SUMMARY = {"input_rows": 800, "input_columns": 5, "clean_rows": 800,
                      "clean_columns": 5, "dropped_columns": []}
# The contract's scenario (Python quickstart step 5) and the exact counts it implies.
SCENARIO = QUICKSTART_SCENARIO
SCENARIO_COUNTS = {"segment": {"Premium": 2750, "Mainstream": 1750, "Value": 500},
                   "channel": {"Online": 3500, "Retail": 1000, "Club": 500}}
# Tight enough that the engine yields fewer rows than requested (checked in the tests).
TIGHT_SCENARIO = {"categorical": {"segment": {"Value": 0.95}},
                  "numeric": {"purchase_intent": {"min": 85, "max": 100},
                              "age": {"min": 18, "max": 25}}}


def cluster_seed() -> bytes:
    """Two clusters of ``num`` tied to ``a``: scenarios across them are valid on paper (the
    request validates) but so unlikely that the engine cannot draw a row (the job fails)."""
    rng = np.random.default_rng(0)
    a = rng.choice(["x", "y"], 400)
    num = np.where(a == "x", rng.integers(1, 10, 400), rng.integers(100, 110, 400))
    # one y row inside x's cluster: without it a is an exact band of num (an engine
    # relation since issue 11) and the scenarios below are refused before any job starts
    num[np.flatnonzero(a == "y")[0]] = 5
    frame = pd.DataFrame({"a": a, "num": num, "c": rng.choice(["r", "s", "t"], 400)})
    return frame.to_csv(index=False).encode()


INFEASIBLE_CANDIDATES = [
    {"categorical": {"a": {"x": 1.0}, "c": {"r": 1.0}},
     "numeric": {"num": {"min": 108, "max": 109}}},
    {"categorical": {"a": {"x": 1.0}, "c": {"r": 1.0}},
     "numeric": {"num": {"min": 109, "max": 109}}},
    {"categorical": {"a": {"x": 1.0}}, "numeric": {"num": {"min": 109, "max": 109}}},
]


def failing_generation(app, client, headers) -> tuple[str, dict]:
    """Train the cluster seed; (dataset_id, a generation request that validates but that
    the engine fails with simio_infeasible_scenario when it draws) - checked with the
    engine first, on the very model the server trained."""
    from engine import Synthesizer
    from engine.errors import SimioError
    from engine.sampling.conditions import parse_conditions
    from localapi.pipelines import MODEL_FILE, dataset_dir

    dataset_id = train(client, headers, source=cluster_seed(), filename="clusters.csv")
    model = Synthesizer.load(dataset_dir(app, dataset_id) / MODEL_FILE)
    for conditions in INFEASIBLE_CANDIDATES:
        parse_conditions(model.schema_, conditions)          # valid when requested
        for rows in (20, 5, 1):
            try:
                model.generate(rows, seed=5, conditions=conditions)
            except SimioError as err:
                if err.code == "simio_infeasible_scenario":
                    return dataset_id, {"row_count": rows, "seed": 5,
                                        "conditions": conditions}
    pytest.fail("no candidate scenario is infeasible at draw time under this engine; "
                "update INFEASIBLE_CANDIDATES")


def contract() -> dict:
    return json.loads(CONTRACT.read_text(encoding="utf-8"))


# --- apps and tenants ------------------------------------------------------------------

def fresh_app(data_dir, **overrides) -> Flask:
    """``create_app`` on ``data_dir`` with auto approval and no SIMIO_* leaking in."""
    with pytest.MonkeyPatch.context() as mp:
        for name in list(os.environ):
            if name.startswith("SIMIO_"):
                mp.delenv(name)
        app = create_app({"data_dir": str(data_dir), "approval": "auto", **overrides})
    app.config["TESTING"] = True
    return app


@contextmanager
def serving(data_dir, **overrides):
    """A fresh app for one test, its job runner stopped afterwards."""
    app = fresh_app(data_dir, **overrides)
    try:
        yield app
    finally:
        stop(app)


def stop(app: Flask) -> None:
    runner = app.extensions.get("simio_jobs")
    if runner is not None:
        runner.shutdown(False)


@dataclass
class Tenant:
    headers: dict
    client_id: str
    secret: str
    tenant_id: str


def new_tenant(app: Flask, client: FlaskClient, email: str, company="Acme Research") -> Tenant:
    """signup -> auto-approval -> claim -> /oauth/token, as the conftest's make_tenant."""
    response = signup(client, company, email)
    assert response.status_code == 202, response.get_json()
    credential = claim(client, response.get_json()["request_id"])
    token = mint(client, credential["client_id"], credential["client_secret"])
    tenant_id = sql(app, "SELECT tenant_id FROM credentials WHERE client_id = ?",
                    (credential["client_id"],))[0]["tenant_id"]
    return Tenant({"Authorization": f"Bearer {token}"}, credential["client_id"],
                  credential["client_secret"], tenant_id)


def tenant_of(app: Flask, client_id: str) -> str:
    return sql(app, "SELECT tenant_id FROM credentials WHERE client_id = ?",
               (client_id,))[0]["tenant_id"]


@dataclass
class World:
    app: Flask
    client: FlaskClient
    data_dir: Path
    a: Tenant
    b: Tenant
    dataset_id: str
    schema: list


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("world")
    app = fresh_app(data_dir)
    client = app.test_client()
    a = new_tenant(app, client, "a@tenant-a.example", "Tenant A")
    b = new_tenant(app, client, "b@tenant-b.example", "Tenant B")
    dataset_id = train(client, a.headers)
    schema = client.get(f"/v1/datasets/{dataset_id}/schema", headers=a.headers).get_json()
    yield World(app, client, data_dir, a, b, dataset_id, schema["schema"])
    stop(app)


# --- API calls -------------------------------------------------------------------------

def upload(client, headers, source, filename=None, *, wait=10, **fields):
    """POST /v1/datasets as multipart; ``source`` is a path or bytes."""
    if isinstance(source, (str, Path)):
        filename = filename or Path(source).name
        source = Path(source).read_bytes()
    data = {"seed_file": (io.BytesIO(source), filename or "seed.csv")}
    if wait is not None:
        data["wait_seconds"] = str(wait)
    data.update({k: v for k, v in fields.items() if v is not None})
    return client.post("/v1/datasets", headers=headers, data=data,
                       content_type="multipart/form-data")


def train(client, headers, ext="csv", source=None, filename=None) -> str:
    """Upload a seed (the quickstart by default) synchronously; its dataset_id."""
    response = upload(client, headers, source or DATA / f"quickstart_seed.{ext}", filename,
                      wait=60)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["dataset_id"]


def generate(client, headers, dataset_id, body=None, *, wait=30, **fields):
    payload = {"row_count": 100, "output_format": "parquet", "seed": 7}
    payload.update(body or {})
    payload.update(fields)
    if wait is not None:
        payload["wait_seconds"] = wait
    return client.post(f"/v1/datasets/{dataset_id}/generations", headers=headers,
                       json=payload)


def wait_job(client, headers, job_id, timeout=60.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        response = client.get(f"/v1/jobs/{job_id}", headers=headers)
        assert response.status_code == 200, response.get_json()
        body = response.get_json()
        if body["status"] in TERMINAL:
            return body
        assert time.monotonic() < deadline, f"job {job_id} still {body['status']}: {body}"
        time.sleep(0.05)


def artifact_url(client, headers, generation_id) -> str:
    response = client.get(f"/v1/generations/{generation_id}", headers=headers)
    assert response.status_code == 200, response.get_json()
    url = response.get_json()["artifact_url"]
    assert url, response.get_json()
    return url


def artifact(client, headers, generation_id):
    """Download the generation's artifact; (response, bytes)."""
    response = client.get(artifact_url(client, headers, generation_id), headers=headers)
    assert response.status_code == 200, response.data[:500]
    return response, response.data


def read_artifact(data: bytes, fmt: str) -> pd.DataFrame:
    if fmt == "parquet":
        return pd.read_parquet(io.BytesIO(data))
    if fmt == "csv":
        return pd.read_csv(io.BytesIO(data))
    if fmt == "arrow":
        return ipc.open_file(io.BytesIO(data)).read_pandas()
    raise ValueError(fmt)


def url_parts(url: str) -> tuple[str, dict]:
    parts = urlsplit(url)
    return parts.path, {k: v[0] for k, v in parse_qs(parts.query).items()}


# --- responses -------------------------------------------------------------------------

def assert_problem(response, status: int, code: str | None) -> dict:
    """The canonical problem: status, code, content type, X-Request-Id == request_id."""
    body = response.get_json()
    assert response.status_code == status, (response.status_code, body)
    assert response.mimetype == PROBLEM_JSON, response.headers
    assert body["status"] == status
    assert body["request_id"] == response.headers["X-Request-Id"]
    if code is None:
        assert body["type"] == "about:blank" and "code" not in body, body
    else:
        assert body["code"] == code, body
        assert body["type"].endswith(f"/errors/{code}"), body
    return body


def without_request_id(body: dict) -> dict:
    return {k: v for k, v in body.items() if k != "request_id"}


def raw_without_request_id(response) -> bytes:
    """The response body's bytes with its request_id value blanked out."""
    rid = response.get_json()["request_id"]
    assert response.data.count(rid.encode()) == 1
    return response.data.replace(rid.encode(), b"<request_id>")


# --- the store -------------------------------------------------------------------------

def sql(app: Flask, query: str, params=()) -> list[dict]:
    conn = connect(app)
    try:
        return [dict(row) for row in conn.execute(query, params).fetchall()]
    finally:
        conn.close()


def execute(app: Flask, query: str, params=()) -> None:
    conn = connect(app)
    try:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute(query, params)
        conn.execute("COMMIT")
    finally:
        conn.close()


def quota(app: Flask, tenant_id: str) -> dict:
    return sql(app, "SELECT row_quota, rows_reserved, rows_used FROM tenants "
                    "WHERE tenant_id = ?", (tenant_id,))[0]


def count(app: Flask, table: str) -> int:
    return sql(app, f"SELECT COUNT(*) AS n FROM {table}")[0]["n"]


def stored_files(data_dir, *folders) -> list[str]:
    """Every file under ``data_dir/<folder>`` for the given folders (relative paths)."""
    root = Path(data_dir)
    found = []
    for folder in folders:
        base = root / folder
        if base.exists():
            found += [str(p.relative_to(root)) for p in base.rglob("*") if p.is_file()]
    return sorted(found)


def quickstart_observed() -> dict:
    """Observed min/max of the quickstart seed's numeric columns."""
    frame = quickstart_frame()
    return {col: (int(frame[col].min()), int(frame[col].max()))
            for col in ("age", "purchase_intent")}
