"""Research formats over a real `simio serve`: an .xlsx upload with the `sheet` field, an
SPSS .sav upload, `output_format: "sav"` generated, downloaded and read back."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pyreadstat
import pytest
import requests

from tests.e2e.server import running_server
from tests.e2e.test_restart import bearer
from tests.research_files import SATISFACTION, brand_tracker_workbook, satisfaction_sav


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    folder = tmp_path_factory.mktemp("formats_server")
    brand_tracker_workbook(folder / "tracker.xlsx")
    satisfaction_sav(folder / "survey.sav")
    with running_server(folder, tls=False) as server:
        yield server, bearer(server), folder


def upload(server, auth, path, **fields):
    with open(path, "rb") as fh:
        return requests.post(f"{server.base_url}/v1/datasets", headers=auth, timeout=120,
                             files={"seed_file": (path.name, fh)},
                             data={"wait_seconds": "60", **fields})


def generate_sav(server, auth, dataset_id, rows):
    response = requests.post(f"{server.base_url}/v1/datasets/{dataset_id}/generations",
                             headers=auth, timeout=120,
                             json={"row_count": rows, "output_format": "sav", "seed": 4,
                                   "wait_seconds": 60})
    assert response.status_code == 200, response.text
    assert response.json()["output_format"] == "sav"
    meta = requests.get(f"{server.base_url}/v1/generations/{response.json()['generation_id']}",
                        headers=auth, timeout=30).json()
    artifact = requests.get(server.base_url + meta["artifact_url"], headers=auth, timeout=120)
    assert artifact.status_code == 200
    assert artifact.headers["Content-Type"] == "application/x-spss-sav"
    with tempfile.NamedTemporaryFile(suffix=".sav") as fh:     # pyreadstat reads paths
        fh.write(artifact.content)
        fh.flush()
        return pyreadstat.read_sav(fh.name, user_missing=True)


def test_xlsx_upload_with_sheet_then_sav_out(served):
    server, auth, folder = served
    response = upload(server, auth, folder / "tracker.xlsx", sheet="Data")
    assert response.status_code == 200, response.text
    summary = response.json()["cleaning_summary"]
    assert summary["input_rows"] == 120 and summary["input_columns"] == 4
    assert summary["source"] == {"sheet": "Data", "header_row": 4}
    frame, meta = generate_sav(server, auth, response.json()["dataset_id"], 200)
    assert list(frame.columns) == ["region", "age", "spend", "brand"] and len(frame) == 200
    assert meta.variable_value_labels["region"] == {1.0: "East", 2.0: "North", 3.0: "South"}


def test_unknown_sheet_is_a_400_listing_the_sheets_and_stores_nothing(served):
    server, auth, folder = served
    before = set((Path(server.data_dir) / "datasets").glob("*"))
    response = upload(server, auth, folder / "tracker.xlsx", sheet="Responses")
    assert response.status_code == 400
    assert response.headers["Content-Type"].startswith("application/problem+json")
    body = response.json()
    assert body["code"] == "simio_sheet_not_found" and "1: 'Data'" in body["detail"]
    assert set((Path(server.data_dir) / "datasets").glob("*")) == before


def test_sav_upload_round_trips_labels_over_the_api(served):
    server, auth, folder = served
    response = upload(server, auth, folder / "survey.sav")
    assert response.status_code == 200, response.text
    frame, meta = generate_sav(server, auth, response.json()["dataset_id"], 300)
    assert meta.variable_value_labels["q1"] == SATISFACTION
    assert meta.column_names_to_labels["q1"] == "Overall satisfaction"
    assert meta.variable_measure["q1"] == "ordinal"
    assert meta.missing_ranges == {"q1": [{"lo": 9.0, "hi": 9.0}]}
    assert set(frame["q1"].dropna()) <= {1.0, 2.0, 3.0, 4.0, 5.0, 99.0}


def test_served_contract_documents_the_additions(served):
    server, _, _ = served
    doc = requests.get(f"{server.base_url}/openapi.json", timeout=30).json()
    body = doc["paths"]["/v1/datasets/{dataset_id}/generations"]["post"]["requestBody"]
    enum = body["content"]["application/json"]["schema"]["properties"]["output_format"]["enum"]
    assert enum == ["parquet", "csv", "arrow", "sav", "xlsx"]
    form = doc["paths"]["/v1/datasets"]["post"]["requestBody"]["content"][
        "multipart/form-data"]["schema"]["properties"]
    assert "sheet" in form and form["sheet"]["type"] == "string"
