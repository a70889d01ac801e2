"""`simio train --dask` and `simio generate --dask` against a real `dask scheduler` and two
`dask worker` processes on loopback (started here, bounded waits, always torn down)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from engine.distributed.dataset import read_dataset
from engine.synthesizer import Synthesizer
from tests.engine import fixtures

REPO = Path(__file__).resolve().parents[3]
START_TIMEOUT = 120
COMMAND_TIMEOUT = 300

pytestmark = pytest.mark.slow


def environment():
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return env


def simio(*args):
    return subprocess.run([sys.executable, "-m", "localapi.cli", *map(str, args)],
                          capture_output=True, text=True, timeout=COMMAND_TIMEOUT, cwd=REPO,
                          env=environment())


@pytest.fixture(scope="module")
def scheduler(tmp_path_factory):
    """The address of a scheduler with two single-threaded workers attached."""
    folder = tmp_path_factory.mktemp("dask")
    scheduler_file = folder / "scheduler.json"
    dask = [sys.executable, "-m", "dask"]
    started = [subprocess.Popen(dask + ["scheduler", "--host", "127.0.0.1", "--port", "0",
                                        "--no-dashboard", "--scheduler-file",
                                        str(scheduler_file)],
                                cwd=folder, env=environment(), stdout=subprocess.DEVNULL,
                                stderr=(folder / "scheduler.log").open("w"))]
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not scheduler_file.is_file() and time.monotonic() < deadline:
            time.sleep(0.2)
        address = json.loads(scheduler_file.read_text())["address"]
        for i in range(2):
            started.append(subprocess.Popen(
                dask + ["worker", address, "--nworkers", "1", "--nthreads", "1",
                        "--no-dashboard", "--host", "127.0.0.1"],
                cwd=folder, env=environment(), stdout=subprocess.DEVNULL,
                stderr=(folder / f"worker{i}.log").open("w")))
        from distributed import Client

        with Client(address, timeout=START_TIMEOUT) as client:
            client.wait_for_workers(2, timeout=START_TIMEOUT)
        yield address
    finally:
        for process in reversed(started):
            process.terminate()
        for process in reversed(started):
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=30)


def test_train_and_generate_on_a_scheduler_with_two_workers(scheduler, tmp_path):
    frame = fixtures.quickstart()
    parts = tmp_path / "seed"
    parts.mkdir()
    for i, rows in enumerate(np.array_split(np.arange(len(frame)), 4)):
        frame.iloc[rows].to_parquet(parts / f"part-{i}.parquet", index=False)
    frame.to_parquet(tmp_path / "whole.parquet", index=False)

    trained = simio("train", parts, "--dask", scheduler, "-o", tmp_path / "cluster.simio")
    assert trained.returncode == 0, trained.stderr
    assert simio("train", tmp_path / "whole.parquet", "-o", tmp_path / "one.simio").returncode == 0
    assert (tmp_path / "cluster.simio").read_bytes() == (tmp_path / "one.simio").read_bytes()

    made = simio("generate", tmp_path / "cluster.simio", "--rows", 70_000, "--seed", 9,
                 "--dask", scheduler, "-o", tmp_path / "out", "--quiet")
    assert made.returncode == 0, made.stderr
    assert "rows generated: 70000" in made.stdout
    assert "partitioned parquet dataset" in made.stdout
    one = Synthesizer.load(tmp_path / "one.simio").sample(70_000, seed=9)
    pd.testing.assert_frame_equal(read_dataset(tmp_path / "out"), one)


def test_a_glob_of_csv_partitions_trains(scheduler, tmp_path):
    frame = fixtures.quickstart()
    for i, rows in enumerate(np.array_split(np.arange(len(frame)), 2)):
        frame.iloc[rows].to_csv(tmp_path / f"seed-{i}.csv", index=False)
    trained = simio("train", tmp_path / "seed-*.csv", "--dask", scheduler,
                    "-o", tmp_path / "m.simio")
    assert trained.returncode == 0, trained.stderr
    assert "trained" in trained.stdout and Synthesizer.load(tmp_path / "m.simio").model_.edges
