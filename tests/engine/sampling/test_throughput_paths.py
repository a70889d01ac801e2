"""The throughput paths of issue 18 give the rows and bytes the plain paths give.

A wide mixed model with missing values (bench_fit's generator: categoricals with 3-50
levels, lognormal/score/zero-inflated numerics, probit and within-bin-tracking nodes):

* ``draw_states`` (node by node, Fortran-ordered codes, rows split over threads) against
  the naive row-by-row reference sampler;
* one thread and two give identical frames;
* a file written unit by unit (``iter_sample_groups``: several frames per chunk, one row
  group each chunk) is byte for byte the file whole-chunk frames give, for Parquet, Arrow
  and CSV, and its values are ``sample()``'s.
"""

from __future__ import annotations

import functools
import hashlib
import threading

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from benchmarks.bench_fit import wide_frame
from engine import rng
from engine.io.writers import TableWriter
from engine.sampling import forward, rowsplit, tilt
from engine.synthesizer import Synthesizer
from tests.engine.sampling import naive
from tests.engine.sampling.test_kernels import naive_network

BLOCK = rng.BLOCK_ROWS


@functools.lru_cache(maxsize=1)
def wide_synth() -> Synthesizer:
    return Synthesizer().fit(wide_frame(3000, 40, seed=3))


def test_the_wide_model_exercises_every_numeric_path():
    model = wide_synth().model_
    numeric = [j for j, e in enumerate(model.encodings_) if e.kind == "numeric"]
    assert any(model.node_within(j) is not None for j in numeric)
    assert any(model.node_latent(j) is not None and model.node_within(j) is None
               for j in numeric)
    assert any(e.missing_state >= 0 for e in model.encodings_)
    # a latent node tracked by a child: the tilt kernels, split over threads, are exercised
    assert any(model.node_latent(j) is not None for j in tilt.tracking_children(model))


def test_draw_states_matches_the_naive_row_by_row_sampler(monkeypatch):
    monkeypatch.setenv("SIMIO_THREADS", "2")
    model = wide_synth().model_
    n = 2 * rowsplit.MIN_SPLIT_ROWS + 17            # split over two threads, uneven halves
    uniforms = rng.block_uniforms(5, forward.STREAM_STATES, 0, n, len(model.encodings_))
    codes, weights = forward.draw_states(model, uniforms)
    ref_codes, ref_weights = naive.forward_sample(*naive_network(model), {}, uniforms[:3000])
    np.testing.assert_array_equal(codes[:3000], ref_codes)
    np.testing.assert_array_equal(weights, 1.0)
    assert codes.flags.f_contiguous


def test_decoding_from_fortran_ordered_value_uniforms_gives_the_same_frame():
    """``iter_sample_groups`` decodes from value uniforms in Fortran order
    (``column_uniforms``); the frame is the one the row-major stream gives."""
    model = wide_synth().model_
    n = 5000
    codes, _ = forward.draw_states(model, rng.block_uniforms(
        4, forward.STREAM_STATES, 0, n, len(model.encodings_)))
    values = rng.block_uniforms(4, forward.STREAM_VALUES, 0, n, forward.n_numeric(model))
    columns = forward.by_columns(values)
    assert columns.flags.f_contiguous and not values.flags.f_contiguous
    np.testing.assert_array_equal(columns, values)
    assert forward.by_columns(columns) is columns              # already by columns: no copy
    pd.testing.assert_frame_equal(forward.decode(model, codes, columns),
                                  forward.decode(model, codes, values))


@pytest.mark.parametrize("rows,width,start", [(1, 1, 0), (1500, 3, 2), (BLOCK + 1025, 7, 3),
                                              (2 * BLOCK, 30, 1)])
def test_column_uniforms_are_the_block_streams_numbers(rows, width, start):
    """Drawn piece by piece into columns (``column_uniforms``): the numbers of
    ``rng.block_uniforms``, partial pieces and blocks included."""
    columns = forward.column_uniforms(11, forward.STREAM_VALUES, start, rows, width)
    assert columns.flags.f_contiguous
    np.testing.assert_array_equal(
        columns, rng.block_uniforms(11, forward.STREAM_VALUES, start, rows, width))


def _frames(threads, monkeypatch, n=70_000):
    monkeypatch.setenv("SIMIO_THREADS", str(threads))
    return pd.concat(list(forward.iter_sample(wide_synth().model_, n, 11)), ignore_index=True)


def test_two_threads_give_the_frames_one_thread_gives(monkeypatch):
    one, two = _frames(1, monkeypatch), _frames(2, monkeypatch)
    pd.testing.assert_frame_equal(one, two, check_exact=True)
    assert rowsplit.n_threads({"SIMIO_THREADS": "1"}) == 1
    assert 1 <= rowsplit.n_threads({}) <= rowsplit.MAX_THREADS


def test_split_rows_covers_every_row_once():
    seen = np.zeros(100_003, dtype=np.int64)

    def run(lo, hi):
        seen[lo:hi] += 1

    rowsplit.split_rows(seen.size, run, threads=3)
    np.testing.assert_array_equal(seen, 1)


def _digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("fmt", ["parquet", "arrow", pytest.param("csv", marks=pytest.mark.slow)])
def test_unit_by_unit_writing_gives_the_whole_chunk_file(fmt, tmp_path):
    model = wide_synth().model_
    n, chunk = BLOCK + 123, 2 * BLOCK
    whole, units = tmp_path / f"whole.{fmt}", tmp_path / f"units.{fmt}"
    with TableWriter(whole, fmt) as writer:
        for frame in forward.iter_sample(model, n, 4, chunk_rows=chunk):
            writer.write(frame)
    groups = list(forward.iter_sample_groups(model, n, 4, chunk_rows=chunk, unit_rows=BLOCK))
    assert [len(g) for g in groups] == [2]          # the units really are smaller
    with TableWriter(units, fmt) as writer:
        for group in groups:
            writer.write_group(group)
    assert _digest(units) == _digest(whole)
    if fmt == "parquet":
        assert pq.ParquetFile(units).metadata.num_row_groups == 1


def test_synthesizer_write_holds_sample_values(tmp_path):
    synth = wide_synth()
    path = tmp_path / "out.parquet"
    synth.write(path, BLOCK + 5, seed=8)
    expected = synth.sample(BLOCK + 5, seed=8)
    pd.testing.assert_frame_equal(pd.read_parquet(path), expected, check_exact=True)


def test_unit_rows_follow_the_width():
    model = wide_synth().model_
    assert forward.unit_rows_for(model) % BLOCK == 0
    assert forward.unit_rows_for(model) * len(model.encodings_) <= max(
        forward.UNIT_CELLS, BLOCK * len(model.encodings_))


def test_in_parallel_gives_each_call_its_own_result_on_two_threads():
    """The value stream is drawn on the worker thread while the state stream is drawn:
    each is the array it is alone, in order, and the second really ran elsewhere."""
    where = {}

    def call(name, stream):
        where[name] = threading.get_ident()
        return rng.block_uniforms(5, stream, 0, 1000, 3)

    one = rowsplit.in_parallel(lambda: call("a", 0), lambda: call("b", 1), threads=1)
    assert where["a"] == where["b"] == threading.get_ident()
    two = rowsplit.in_parallel(lambda: call("a", 0), lambda: call("b", 1), threads=2)
    assert where["a"] == threading.get_ident() != where["b"]
    for alone, side_by_side in zip(one, two):
        np.testing.assert_array_equal(alone, side_by_side)
    assert not np.array_equal(one[0], one[1])
