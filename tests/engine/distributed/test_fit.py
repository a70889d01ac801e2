"""A fit whose counts are gathered on two Dask workers equals the one-process fit below the
sample cap: the same model file, byte for byte (the sample is the table, counts are
integers, the detail is computed over the same rows)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from engine.distributed.fit import WorkerCounts, fit_files
from engine.model import statistics
from engine.synthesizer import Synthesizer
from tests.engine import fixtures


def write_partitions(frame, folder, n_parts=4):
    folder.mkdir()
    for i, rows in enumerate(np.array_split(np.arange(len(frame)), n_parts)):
        frame.iloc[rows].to_parquet(folder / f"part-{i:02d}.parquet", index=False)
    return sorted(folder.glob("*.parquet"))


@pytest.mark.parametrize("seed", [fixtures.quickstart, fixtures.quickstart_with_missing])
def test_a_fit_from_four_partitions_is_the_one_process_model_file(client, tmp_path, seed):
    frame = seed()
    files = write_partitions(frame, tmp_path / "parts")
    frame.to_parquet(tmp_path / "whole.parquet", index=False)
    one = Synthesizer().fit(tmp_path / "whole.parquet")
    merged = fit_files(Synthesizer(), files, client)
    assert one.model_.edges                      # a model with structure, not a trivial one
    one.save(tmp_path / "one.simio")
    merged.save(tmp_path / "merged.simio")
    assert (tmp_path / "one.simio").read_bytes() == (tmp_path / "merged.simio").read_bytes()


def test_fit_takes_a_dask_dataframe(client, tmp_path):
    import dask.dataframe as dd

    frame = fixtures.quickstart_with_missing()
    one = Synthesizer().fit(frame)
    merged = Synthesizer().fit(dd.from_pandas(frame, npartitions=4))
    one.save(tmp_path / "one.simio")
    merged.save(tmp_path / "merged.simio")
    assert (tmp_path / "one.simio").read_bytes() == (tmp_path / "merged.simio").read_bytes()


def test_worker_counts_answer_as_the_whole_table(client):
    rng = np.random.default_rng(3)
    n_states = [3, 5, 4]
    codes = np.stack([rng.integers(0, s, 1000) for s in n_states]).astype(np.uint8)
    whole = statistics.TableCounts(codes, n_states)
    remote = WorkerCounts(client, codes, n_states, n_parts=4)
    assert remote.n_rows == 1000 and len(remote.parts) == 2      # one block per worker
    maps, sizes = [np.arange(3), np.array([0, 1, 1, 0, 1])], [3, 2]
    assert np.array_equal(remote.family(2, (0, 1), maps, sizes),
                          whole.family(2, (0, 1), maps, sizes))
    for got, want in zip(remote.family_cells(2, (0, 1), maps, sizes),
                         whole.family_cells(2, (0, 1), maps, sizes)):
        assert np.array_equal(got, want)
    for got, want in zip(remote.pairs(0, [1, 2]), whole.pairs(0, [1, 2])):
        assert np.array_equal(got, want)


def test_partitions_must_share_their_columns(client, tmp_path):
    frame = fixtures.quickstart()
    files = write_partitions(frame, tmp_path / "parts", n_parts=2)
    frame.iloc[:10].drop(columns="age").to_parquet(files[1], index=False)
    with pytest.raises(ValueError, match="partitions must share their columns"):
        fit_files(Synthesizer(), files, client)


def test_combined_partitions_keep_their_rows_in_order(tmp_path):
    from engine.distributed.fit import combine
    from engine.io import read_table

    frame = fixtures.quickstart()
    files = write_partitions(frame, tmp_path / "parts", n_parts=3)
    merged = combine([read_table(f) for f in files])
    pd.testing.assert_frame_equal(merged.frame, frame, check_dtype=False)
    assert len(merged.frame) == len(frame)
