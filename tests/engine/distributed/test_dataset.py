"""Generation on two Dask workers into a partitioned Parquet dataset: the rows, in order,
are one process's rows for the same seed; a scenario's shares are exact and its ranges
hold in every row; a worker killed mid-run never leaves a half-written dataset."""

from __future__ import annotations

import json
import os
import signal
import threading
import time

import pandas as pd
import pyarrow.parquet as pq
import pytest

from engine import rng
from engine.distributed.dataset import MANIFEST, SUCCESS, read_dataset, write_dataset
from engine.errors import SimioError
from tests.engine import fixtures
from tests.engine.distributed.conftest import local_cluster

BLOCK = rng.BLOCK_ROWS
SCENARIO = {"categorical": {"segment": {"Premium": 0.5, "Value": 0.3}},
            "numeric": {"age": {"min": 30, "max": 55}}}


@pytest.fixture(scope="module")
def synth():
    return fixtures.quickstart_synthesizer()


def test_a_dataset_is_the_one_process_output_in_order(client, synth, tmp_path):
    rows = 2 * BLOCK + 1234                     # three files of one block, the last short
    seen = []
    generation = write_dataset(synth, tmp_path / "ds", rows, seed=11, client=client,
                               blocks_per_file=1, on_blocks=lambda d, t: seen.append((d, t)))
    assert generation.rows_generated == rows and generation.status == "ready"
    names = sorted(p.name for p in (tmp_path / "ds").iterdir())
    assert names == sorted([MANIFEST, SUCCESS, "part-00000.parquet", "part-00001.parquet",
                            "part-00002.parquet"])
    assert sorted(seen)[-1] == (3, 3)
    one = synth.write(tmp_path / "one.parquet", rows, seed=11)
    assert one.rows_generated == rows
    pd.testing.assert_frame_equal(read_dataset(tmp_path / "ds"),
                                  pd.read_parquet(tmp_path / "one.parquet"))
    # any Parquet reader sees the parts only (it skips the _ files), in order
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "ds"),
                                  pd.read_parquet(tmp_path / "one.parquet"))
    manifest = json.loads((tmp_path / "ds" / MANIFEST).read_text())
    assert [f["first_row"] for f in manifest["files"]] == [0, BLOCK, 2 * BLOCK]
    assert manifest["rows"] == rows and manifest["seed"] == 11


def test_a_file_of_several_chunks_is_the_one_process_output(client, synth, tmp_path):
    rows = 5 * BLOCK + 77                       # one file: a chunk of 4 blocks, then the rest
    write_dataset(synth, tmp_path / "ds", rows, seed=12, client=client, blocks_per_file=6)
    assert len(json.loads((tmp_path / "ds" / MANIFEST).read_text())["files"]) == 1
    pd.testing.assert_frame_equal(read_dataset(tmp_path / "ds"), synth.sample(rows, seed=12))


def test_a_conditioned_dataset_has_exact_shares_and_ranges_in_every_row(client, synth,
                                                                        tmp_path):
    rows = 2 * BLOCK + 5000
    generation = write_dataset(synth, tmp_path / "ds", rows, seed=5, conditions=SCENARIO,
                               client=client, blocks_per_file=1)
    got = read_dataset(tmp_path / "ds")
    one = synth.sample(rows, seed=5, conditions=SCENARIO)
    n = generation.rows_generated
    assert n == len(one)
    assert len(got) == n and len(pq.ParquetDataset(tmp_path / "ds").files) == 3
    counts = got["segment"].value_counts()
    # exact up to rounding the counts (largest remainder: the floor or the ceiling)
    for level, share in SCENARIO["categorical"]["segment"].items():
        assert abs(counts[level] - share * n) < 1, (level, counts[level], share * n)
    # the one-process allocation: the same count in every joint cell of the scenario
    pd.testing.assert_series_equal(counts.sort_index(),
                                   one["segment"].value_counts().sort_index())
    assert got["age"].between(30, 55).all()
    # drawn per block on the workers: not one process's row order, but the same rows
    # whatever the files' size
    write_dataset(synth, tmp_path / "ds2", rows, seed=5, conditions=SCENARIO, client=client,
                  blocks_per_file=2)
    pd.testing.assert_frame_equal(read_dataset(tmp_path / "ds2"), got)
    # rows are drawn, not recycled: as varied as one process's
    assert len(got.drop_duplicates()) > 0.9 * len(one.drop_duplicates())


def test_a_tight_scenario_shrinks_as_one_process_does(client, synth, tmp_path):
    from tests.localapi.fixtures import TIGHT_SCENARIO

    rows = 20_000
    one = synth.generate(rows, seed=8, conditions=TIGHT_SCENARIO)
    generation = write_dataset(synth, tmp_path / "ds", rows, seed=8,
                               conditions=TIGHT_SCENARIO, client=client)
    assert generation.status == one.status == "partial"
    assert generation.rows_generated == one.rows_generated < rows
    got = read_dataset(tmp_path / "ds")
    assert len(got) == one.rows_generated
    assert got["purchase_intent"].between(85, 100).all() and got["age"].between(18, 25).all()


def test_an_existing_folder_that_is_not_a_dataset_is_refused(client, synth, tmp_path):
    (tmp_path / "ds").mkdir()
    (tmp_path / "ds" / "notes.txt").write_text("mine")
    with pytest.raises(SimioError, match="not an earlier simio dataset"):
        write_dataset(synth, tmp_path / "ds", 10, seed=1, client=client)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ds"]


def test_a_rerun_replaces_an_earlier_dataset_whole(client, synth, tmp_path):
    write_dataset(synth, tmp_path / "ds", 100, seed=1, client=client)
    write_dataset(synth, tmp_path / "ds", 50, seed=2, client=client)
    pd.testing.assert_frame_equal(read_dataset(tmp_path / "ds"), synth.sample(50, seed=2))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ds"]


def kill_a_worker_when_a_part_appears(client, staging_parent, timeout=120):
    """SIGKILL one worker process once the first file of the run is published in its
    staging folder (work is then in flight on both workers)."""
    pids = client.run(os.getpid)
    deadline = time.monotonic() + timeout

    def watch():
        while time.monotonic() < deadline:
            if any(staging_parent.glob(".ds.partial-*/part-*.parquet")):
                os.kill(next(iter(pids.values())), signal.SIGKILL)
                return
            time.sleep(0.02)

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return thread


@pytest.mark.slow
def test_a_worker_killed_mid_run_leaves_nothing_and_a_rerun_completes(synth, tmp_path):
    # No retries: the killed worker's file fails the run (with retries, the next test).
    cluster, client = local_cluster(**{"distributed.scheduler.allowed-failures": 0})
    try:
        client.wait_for_workers(2, timeout=120)
        rows = 6 * BLOCK
        watcher = kill_a_worker_when_a_part_appears(client, tmp_path)
        with pytest.raises(SimioError) as failed:
            write_dataset(synth, tmp_path / "ds", rows, seed=3, client=client,
                          blocks_per_file=1)
        watcher.join(timeout=10)
        assert failed.value.code == "simio_cluster_unavailable"
        assert list(tmp_path.iterdir()) == []          # no dataset, no staging, no temp
        client.wait_for_workers(2, timeout=120)        # the nanny restarted the worker
        write_dataset(synth, tmp_path / "ds", rows, seed=3, client=client, blocks_per_file=1)
        pd.testing.assert_frame_equal(read_dataset(tmp_path / "ds"),
                                      synth.sample(rows, seed=3))
    finally:
        client.close()
        cluster.close()


@pytest.mark.slow
def test_a_worker_killed_mid_run_is_retried_and_the_dataset_is_whole(client, synth,
                                                                     tmp_path):
    rows = 6 * BLOCK
    watcher = kill_a_worker_when_a_part_appears(client, tmp_path)
    write_dataset(synth, tmp_path / "ds", rows, seed=4, client=client, blocks_per_file=1)
    watcher.join(timeout=10)
    names = sorted(p.name for p in (tmp_path / "ds").iterdir())
    assert names == sorted([MANIFEST, SUCCESS] + [f"part-{i:05d}.parquet" for i in range(6)])
    pd.testing.assert_frame_equal(read_dataset(tmp_path / "ds"), synth.sample(rows, seed=4))
    client.wait_for_workers(2, timeout=120)
