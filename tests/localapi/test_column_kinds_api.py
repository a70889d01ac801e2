"""Dates and free text over HTTP (issue 14): a real multipart CSV upload with a date, a
datetime and a comment column; the served schema's ISO ranges; a generation conditioned by
an ISO range, downloaded and read back with pyarrow; bad ISO bounds as problem+json."""

from __future__ import annotations

import datetime as dt
import io

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.kinds_seed import FIRST_DAY, LAST_DAY, kinds_frame, rare_share
from tests.localapi.fixtures import (artifact, assert_problem, fresh_app, generate, new_tenant,
                                     stop, train)

RANGE = {"visit": {"min": "2023-11-01", "max": "2023-11-30"}}


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    app = fresh_app(tmp_path_factory.mktemp("kinds"))
    client = app.test_client()
    tenant = new_tenant(app, client, "k@kinds.example")
    buffer = io.StringIO()
    kinds_frame().to_csv(buffer, index=False)
    dataset_id = train(client, tenant.headers, source=buffer.getvalue().encode(),
                       filename="visits.csv")
    yield client, tenant.headers, dataset_id
    stop(app)


def test_schema_serves_date_types_with_iso_ranges(served):
    client, headers, dataset_id = served
    schema = client.get(f"/v1/datasets/{dataset_id}/schema", headers=headers).get_json()
    columns = {c["name"]: c for c in schema["schema"]}
    assert columns["visit"] == {"name": "visit", "type": "date", "min": FIRST_DAY,
                                "max": LAST_DAY, "conditioning_excluded": False}
    assert columns["logged"]["type"] == "datetime"
    assert columns["comment"]["conditioning_excluded"] is True
    assert len(columns["comment"]["levels"]) == 3


def test_generation_conditioned_by_an_iso_range(served):
    client, headers, dataset_id = served
    response = generate(client, headers, dataset_id, {"conditions": {"numeric": RANGE}},
                        row_count=800, wait=60)
    assert response.status_code == 200, response.get_json()
    _, data = artifact(client, headers, response.get_json()["generation_id"])
    table = pq.read_table(io.BytesIO(data))
    assert table.num_rows == 800 and table.schema.field("visit").type == pa.date32()
    days = table.column("visit").to_pylist()
    assert min(days) >= dt.date(2023, 11, 1) and max(days) <= dt.date(2023, 11, 30)
    frame = table.to_pandas()
    assert rare_share(frame["comment"], kinds_frame()["comment"]) == 0.0


@pytest.mark.parametrize("bounds, code", [
    ({"min": "1st of November", "max": "2023-11-30"}, "simio_invalid_range"),
    ({"min": "2031-01-01", "max": "2031-02-01"}, "simio_infeasible_scenario"),
])
def test_bad_iso_bounds_are_problems(served, bounds, code):
    client, headers, dataset_id = served
    response = generate(client, headers, dataset_id,
                        {"conditions": {"numeric": {"visit": bounds}}})
    body = assert_problem(response, 400, code)
    assert "visit" in body["detail"]


def test_served_openapi_documents_the_new_types(served):
    client, _, _ = served
    doc = client.get("/openapi.json").get_json()
    op = doc["paths"]["/v1/datasets/{dataset_id}/schema"]["get"]
    item = op["responses"]["200"]["content"]["application/json"]["schema"]["properties"][
        "schema"]["items"]
    assert {"date", "datetime"} <= set(item["properties"]["type"]["enum"])
    assert "`date`" in item["properties"]["type"]["description"]
    assert item["properties"]["min"]["type"] == ["number", "string"]
    body = doc["paths"]["/v1/datasets/{dataset_id}/generations"]["post"]["requestBody"]
    ranges = body["content"]["application/json"]["schema"]["properties"]["conditions"][
        "properties"]["numeric"]["additionalProperties"]["properties"]
    assert ranges["min"]["type"] == ranges["max"]["type"] == ["number", "string"]
