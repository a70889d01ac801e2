"""Unconditional sampling: seeded determinism, chunk independence, row counts, column order."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from engine import rng
from engine.sampling import forward
from engine.synthesizer import Synthesizer
from tests.engine import fixtures

BLOCK = rng.BLOCK_ROWS


@pytest.fixture(scope="module")
def synth() -> Synthesizer:
    return fixtures.quickstart_synthesizer()


@pytest.fixture(scope="module")
def synth_missing() -> Synthesizer:
    return fixtures.missing_synthesizer()


def sample_chunks(model, n, seed, chunk_rows) -> list[pd.DataFrame]:
    return list(forward.iter_sample(model, n, seed, chunk_rows))


def test_same_seed_gives_identical_frames(synth):
    a = synth.sample(5000, seed=123)
    b = synth.sample(5000, seed=123)
    pd.testing.assert_frame_equal(a, b, check_exact=True)


def test_refitting_gives_identical_frames(synth):
    # Fitting is deterministic too: a second Synthesizer on the same seed samples the same.
    again = Synthesizer().fit(fixtures.quickstart())
    pd.testing.assert_frame_equal(synth.sample(3000, seed=5), again.sample(3000, seed=5),
                                  check_exact=True)


@pytest.mark.parametrize("other", [124, 123 + (1 << 32), 0])
def test_different_seed_gives_different_frames(synth, other):
    a = synth.sample(5000, seed=123)
    b = synth.sample(5000, seed=other)
    assert not a.equals(b)
    # Not merely a permutation or a shifted copy: most rows differ in some column.
    differs = (a.astype(str) != b.astype(str)).any(axis=1).mean()
    assert differs > 0.9


def test_big_seeds_wrap_modulo_2_64(synth):
    pd.testing.assert_frame_equal(synth.sample(100, seed=7),
                                  synth.sample(100, seed=7 + (1 << 64)), check_exact=True)


@pytest.mark.parametrize("fitted", ["synth", "synth_missing"])
def test_chunk_size_does_not_change_a_single_value(fitted, request):
    model = request.getfixturevalue(fitted).model_
    n = 200_000
    frames = {chunk: pd.concat(sample_chunks(model, n, 42, chunk), ignore_index=True)
              for chunk in (65_536, 262_144, 1 << 20)}
    reference = frames[1 << 20]
    assert len(reference) == n
    for chunk, frame in frames.items():
        pd.testing.assert_frame_equal(frame, reference, check_exact=True, obj=f"chunk {chunk}")


def test_chunks_are_whole_blocks(synth):
    n = 2 * BLOCK + 5
    for chunk_rows, expect in ((65_536, [BLOCK, BLOCK, 5]),
                               (262_144, [n]),
                               (100_000, [BLOCK, BLOCK, 5]),     # rounds down to whole blocks
                               (1_000, [BLOCK, BLOCK, 5])):      # at least one block
        sizes = [len(f) for f in sample_chunks(synth.model_, n, 1, chunk_rows)]
        assert sizes == expect, chunk_rows


def test_synthesizer_sample_chunk_rows_is_invisible(synth):
    a = synth.sample(140_000, seed=9, chunk_rows=65_536)
    b = synth.sample(140_000, seed=9)
    pd.testing.assert_frame_equal(a, b, check_exact=True)
    assert a.index.equals(pd.RangeIndex(140_000))


def test_a_shorter_draw_is_a_prefix_of_a_longer_one(synth):
    # rng.block_uniforms fills each block row-major, so n rows never depend on how many
    # rows follow them.
    long = synth.sample(BLOCK + 10, seed=3)
    for n in (1, 999, BLOCK, BLOCK + 1):
        pd.testing.assert_frame_equal(synth.sample(n, seed=3), long.iloc[:n], check_exact=True)


@pytest.mark.parametrize("n", [1, 2, 999, BLOCK - 1, BLOCK, BLOCK + 1, 2 * BLOCK + 7])
def test_row_count_is_exact(synth, n):
    frame = synth.sample(n, seed=11)
    assert len(frame) == n
    assert frame.index.equals(pd.RangeIndex(n))


@pytest.mark.parametrize("fitted", ["synth", "synth_missing"])
def test_columns_in_schema_order_with_schema_dtypes(fitted, request):
    synthesizer = request.getfixturevalue(fitted)
    frame = synthesizer.sample(2000, seed=4)
    assert list(frame.columns) == synthesizer.schema_.names
    for column in synthesizer.schema_:
        series = frame[column.name]
        if column.kind == "categorical":
            assert list(series.cat.categories) == column.levels
        else:
            assert pd.api.types.is_numeric_dtype(series)


def test_column_order_follows_the_seed_not_the_alphabet():
    seed = fixtures.quickstart()
    reordered = seed[["purchase_intent", "region", "age", "channel", "segment"]]
    synthesizer = Synthesizer().fit(reordered)
    assert synthesizer.schema_.names == list(reordered.columns)
    assert list(synthesizer.sample(10, seed=1).columns) == list(reordered.columns)


def test_sampling_does_not_touch_the_model(synth):
    model = synth.model_
    tables = [t.copy() for t in model.tables_]
    synth.sample(1000, seed=1)
    for before, after in zip(tables, model.tables_):
        np.testing.assert_array_equal(before, after)


def test_states_follow_the_tables(synth):
    # A light statistical check that forward sampling draws from the fitted tables: the
    # root nodes' state shares over n rows match their tables within 4 binomial sd
    # (sd = sqrt(p(1-p)/n); 4 sd keeps the chance of a false alarm below 1e-4 per state).
    model = synth.model_
    n = 100_000
    uniforms = rng.block_uniforms(8, forward.STREAM_STATES, 0, n, len(model.encodings_))
    codes, weights = forward.draw_states(model, uniforms)
    np.testing.assert_array_equal(weights, 1.0)
    for j, parents in enumerate(model.parents_):
        if parents:
            continue
        p = model.tables_[j][0]
        share = np.bincount(codes[:, j], minlength=p.size) / n
        assert np.all(np.abs(share - p) <= 4 * np.sqrt(p * (1 - p) / n)), model.encodings_[j].name
