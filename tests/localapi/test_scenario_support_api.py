"""scenario_support over HTTP (issue 13): the optional field of conditioned generation
responses, the cell cap and the dropped-column detail as problem+json, on a real app with
a real SQLite store and real multipart uploads."""

from __future__ import annotations

import io
import time
import tracemalloc

import numpy as np
import pandas as pd

from localapi.openapi import SCENARIO_SUPPORT_SCHEMA
from tests.localapi.fixtures import (SCENARIO, TIGHT_SCENARIO, assert_problem, fresh_app,
                                     generate, new_tenant, stop, train, upload)


def _csv(frame: pd.DataFrame) -> bytes:
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False)
    return buffer.getvalue().encode()


def test_conditioned_responses_carry_scenario_support(tmp_path):
    app = fresh_app(tmp_path)
    try:
        client = app.test_client()
        tenant = new_tenant(app, client, "s@support.example")
        dataset_id = train(client, tenant.headers)
        ready = generate(client, tenant.headers, dataset_id, SCENARIO, wait=60)
        assert ready.status_code == 200, ready.get_json()
        support = ready.get_json()["scenario_support"]
        assert set(support) == set(SCENARIO_SUPPORT_SCHEMA["required"])
        assert support["seed_rows_in_scenario"] > 0 and 0 <= support["extrapolated_share"] < 1
        got = client.get(f"/v1/generations/{ready.get_json()['generation_id']}",
                         headers=tenant.headers).get_json()
        assert got["scenario_support"] == support
        tight = generate(client, tenant.headers, dataset_id, {"conditions": TIGHT_SCENARIO},
                         row_count=1000,
                         wait=60)
        assert tight.status_code == 207, tight.get_json()
        assert tight.get_json()["scenario_support"]["extrapolated_share"] >= 0
        plain = generate(client, tenant.headers, dataset_id, wait=60)
        assert "scenario_support" not in plain.get_json()
        doc = client.get("/openapi.json").get_json()
        paths = doc["paths"]
        for operation in (paths["/v1/datasets/{dataset_id}/generations"]["post"],
                          paths["/v1/generations/{generation_id}"]["get"]):
            schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
            assert schema["properties"]["scenario_support"] == SCENARIO_SUPPORT_SCHEMA
            assert "scenario_support" not in schema.get("required", [])
    finally:
        stop(app)


def test_cell_cap_and_dropped_column_are_problems_before_any_work(tmp_path):
    gen = np.random.default_rng(0)
    n = 300
    frame = pd.DataFrame({f"c{i}": gen.choice([f"l{k:02d}" for k in range(30)], n)
                          for i in range(4)})
    frame["customer_id"] = np.arange(n)                       # an identifier: dropped
    frame["x"] = gen.normal(0, 1, n).round(3)
    app = fresh_app(tmp_path)
    try:
        client = app.test_client()
        tenant = new_tenant(app, client, "c@cap.example")
        response = upload(client, tenant.headers, _csv(frame), "wide.csv", wait=60)
        assert response.status_code == 200, response.get_json()
        dataset_id = response.get_json()["dataset_id"]
        schema = client.get(f"/v1/datasets/{dataset_id}/schema",
                            headers=tenant.headers).get_json()["schema"]
        levels = {c["name"]: c["levels"] for c in schema if c["name"].startswith("c")}
        cells = int(np.prod([len(v) for v in levels.values()]))
        assert cells > 20_000
        conditions = {"categorical": {name: {v[0]: 0.5} for name, v in levels.items()}}
        tracemalloc.start()
        started = time.perf_counter()
        too_many = generate(client, tenant.headers, dataset_id, {"conditions": conditions})
        elapsed = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        body = assert_problem(too_many, 400, "simio_too_many_condition_cells")
        assert "level combinations; at most 20,000" in body["detail"]
        print(f"cell cap answered in {elapsed * 1000:.1f} ms, peak {peak / 1024:.0f} KiB")
        assert peak < 4 * 1024 * 1024            # no table of that many cells was built
        assert client.get(f"/v1/datasets/{dataset_id}/generations",
                          headers=tenant.headers).get_json()["generations"] == []
        dropped = generate(client, tenant.headers, dataset_id,
                           {"conditions": {"numeric": {"customer_id": {"min": 1, "max": 9}}}})
        body = assert_problem(dropped, 400, "simio_condition_column_dropped")
        assert "'customer_id'" in body["detail"] and "dropped by cleaning" in body["detail"]
    finally:
        stop(app)
