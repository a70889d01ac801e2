"""The optional `sheet` upload field: read as asked, checked before anything is stored,
part of the idempotency fingerprint; `output_format` sav/xlsx accepted."""

from __future__ import annotations

import pytest

from tests.localapi.fixtures import (  # noqa: F401  (world is a fixture)
    DATA, assert_problem, fresh_app, new_tenant, stop, train, upload, world,
)
from tests.research_files import brand_tracker_workbook


@pytest.fixture(scope="module")
def tracker(tmp_path_factory):
    path = tmp_path_factory.mktemp("sheets") / "tracker.xlsx"
    brand_tracker_workbook(path)
    return path


def stored_datasets(world):
    folder = world.data_dir / "datasets"
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


def test_sheet_by_index_is_read_and_summarised(world, tracker):
    response = upload(world.client, world.a.headers, tracker, sheet="1")
    body = response.get_json()
    assert response.status_code == 200, body
    assert body["cleaning_summary"]["source"] == {"sheet": "Data", "header_row": 4}
    assert body["cleaning_summary"]["input_rows"] == 120


@pytest.mark.parametrize("source,sheet,code", [
    ("tracker", "Responses", "simio_sheet_not_found"),
    ("csv", "Data", "simio_invalid_field"),
    ("tracker", "", "simio_invalid_field"),
    ("damaged", "Data", "simio_unreadable_file"),
])
def test_a_bad_sheet_is_a_400_and_stores_nothing(world, tracker, source, sheet, code):
    before = stored_datasets(world)
    seed = {"tracker": tracker, "csv": DATA / "quickstart_seed.csv",
            "damaged": tracker.read_bytes()[:-200]}[source]
    response = upload(world.client, world.a.headers, seed,
                      "tracker.xlsx" if source == "damaged" else None, sheet=sheet)
    assert_problem(response, 400, code)
    assert stored_datasets(world) == before


def test_the_sheet_is_part_of_the_idempotency_fingerprint(world, tracker):
    headers = {**world.a.headers, "Idempotency-Key": "sheets-1"}
    first = upload(world.client, headers, tracker, sheet="Data")
    assert first.status_code == 200
    again = upload(world.client, headers, tracker, sheet="Data")
    assert again.get_json()["dataset_id"] == first.get_json()["dataset_id"]
    other = upload(world.client, headers, tracker, sheet="Notes")
    assert_problem(other, 409, "simio_idempotency_conflict")


@pytest.mark.parametrize("fmt", ["sav", "xlsx"])
def test_generation_in_the_research_formats(world, fmt):
    response = world.client.post(f"/v1/datasets/{world.dataset_id}/generations",
                                 headers=world.a.headers,
                                 json={"row_count": 50, "output_format": fmt, "seed": 1,
                                       "wait_seconds": 30})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["output_format"] == fmt


def test_xlsx_row_count_above_a_sheet_is_refused(tmp_path):
    app = fresh_app(tmp_path, per_request_row_cap=2_000_000)   # the cap would refuse first
    try:
        client = app.test_client()
        tenant = new_tenant(app, client, "x@tenant-x.example")
        dataset_id = train(client, tenant.headers)
        response = client.post(f"/v1/datasets/{dataset_id}/generations",
                               headers=tenant.headers,
                               json={"row_count": 1_048_576, "output_format": "xlsx"})
        body = assert_problem(response, 400, "simio_invalid_field")
        assert "1,048,575" in body["detail"]
        assert not (tmp_path / "generations").exists() or \
            not list((tmp_path / "generations").iterdir())
    finally:
        stop(app)
