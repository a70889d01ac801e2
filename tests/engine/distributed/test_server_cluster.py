"""SIMIO_DASK_ADDRESS: the local server's generation jobs run on the cluster at that
address (a real app on a real SQLite file, its job runner, a real 2-worker LocalCluster)
and the download is the one file the contract promises."""

from __future__ import annotations

import pandas as pd

from engine.synthesizer import Synthesizer
from localapi.config import Config
from localapi.pipelines import MODEL_FILE, dataset_dir
from tests.localapi.fixtures import (SCENARIO, SCENARIO_COUNTS, artifact, fresh_app, generate,
                                     new_tenant, read_artifact, stop, train)


def test_the_setting_comes_from_the_environment():
    assert Config.load(environ={"SIMIO_DASK_ADDRESS": "tcp://10.0.0.5:8786"}).dask_address \
        == "tcp://10.0.0.5:8786"
    assert Config.load(environ={}).dask_address == ""


def test_generation_jobs_run_on_the_cluster_when_an_address_is_set(client, tmp_path):
    from distributed import get_task_stream

    app = fresh_app(tmp_path, dask_address=client.scheduler.address)
    try:
        web = app.test_client()
        tenant = new_tenant(app, web, "a@cluster.example")
        dataset_id = train(web, tenant.headers)
        synth = Synthesizer.load(dataset_dir(app, dataset_id) / MODEL_FILE)
        with get_task_stream(client) as tasks:
            plain = generate(web, tenant.headers, dataset_id, row_count=3000, seed=7,
                             output_format="csv", wait=60)
            scenario = generate(web, tenant.headers, dataset_id, SCENARIO, wait=60)
        assert plain.status_code == 200 and scenario.status_code == 200, scenario.get_json()
        assert any(t["key"].startswith("_write_part") for t in tasks.data)  # the workers wrote
        _, data = artifact(web, tenant.headers, plain.get_json()["generation_id"])
        got = read_artifact(data, "csv")
        want = synth.sample(3000, seed=7)
        assert list(got.columns) == list(want.columns) and len(got) == 3000
        pd.testing.assert_series_equal(got["age"], want["age"].astype(got["age"].dtype))
        _, data = artifact(web, tenant.headers, scenario.get_json()["generation_id"])
        frame = read_artifact(data, "parquet")
        assert len(frame) == 5000
        for column, counts in SCENARIO_COUNTS.items():
            assert frame[column].astype(str).value_counts().to_dict() == counts
        assert frame["age"].between(25, 44).all()
        leftovers = [p.name for p in (tmp_path / "generations").rglob("*")
                     if p.name.startswith(".")]
        assert leftovers == []                      # the parts' folder is gone
    finally:
        stop(app)
