"""The Arrow-direct output (``decode(..., arrow=True)``, no pandas) against the DataFrame
path, for several models: the same values, types and ``pandas`` metadata as
``pa.Table.from_pandas`` of the frame, so Parquet and Arrow files have the same bytes."""

from __future__ import annotations

import functools
import hashlib
import io

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.ipc as ipc
import pyarrow.parquet as pq
import pytest

from engine import rng
from engine.sampling import forward
from engine.synthesizer import Synthesizer
from tests.engine.fixtures import missing_synthesizer, quickstart_synthesizer
from tests.kinds_seed import kinds_frame

ROWS = rng.BLOCK_ROWS + 1000         # two blocks, the second partial


def mixed_frame(n: int = 4000, seed: int = 4) -> pd.DataFrame:
    """Every output type: ordered, boolean and nullable integer columns with gaps, a
    derived (affine) integer, a time-zoned datetime and a 140-level categorical (int16
    codes)."""
    r = np.random.default_rng(seed)
    base = r.integers(0, 60, n).astype(float)
    return pd.DataFrame({
        "grade": pd.Categorical(r.choice(["low", "mid", "high"], n),
                                categories=["low", "mid", "high"], ordered=True),
        "flag": pd.array(np.where(r.random(n) < 0.05, None, r.random(n) < 0.4),
                         dtype="boolean"),
        "count": pd.array(np.where(r.random(n) < 0.05, None, r.integers(0, 30, n)),
                          dtype="Int64"),
        "base": base,
        "twice": 2 * base + 3,
        "stamp": pd.Timestamp("2024-05-01 06:00", tz="Europe/Berlin")
        + pd.to_timedelta(r.integers(0, 9000, n), unit="min"),
        "city": pd.Categorical([f"city {k}" for k in r.integers(0, 140, n)]),
        "score": np.where(r.random(n) < 0.04, np.nan, np.round(r.normal(50, 9, n), 1)),
    })


@functools.lru_cache(maxsize=None)
def _model(name: str):
    if name == "quickstart":
        return quickstart_synthesizer().model_
    if name == "missing":
        return missing_synthesizer().model_
    frame = kinds_frame() if name == "kinds" else mixed_frame()
    return Synthesizer(text_min_count=1).fit(frame).model_


def _both(model, seed=3):
    d = len(model.encodings_)
    codes, _ = forward.draw_states(model, rng.block_uniforms(seed, 0, 0, ROWS, d))
    values = rng.block_uniforms(seed, 1, 0, ROWS, max(forward.n_numeric(model), 1))
    args = (model, codes, values)
    return forward.decode(*args), forward.decode(*args, arrow=True)


def _sha(table: pa.Table, fmt: str) -> str:
    sink = io.BytesIO()
    if fmt == "parquet":
        pq.write_table(table, sink)
    else:
        with ipc.new_file(sink, table.schema) as writer:
            writer.write_table(table)
    return hashlib.sha256(sink.getvalue()).hexdigest()


@pytest.mark.parametrize("name", ["quickstart", "missing", "kinds", "mixed"])
def test_arrow_table_is_the_frame_as_from_pandas_gives_it(name):
    frame, table = _both(_model(name))
    expected = pa.Table.from_pandas(frame, preserve_index=False)
    assert table.schema.equals(expected.schema, check_metadata=True)
    assert table.equals(expected)
    for fmt in ("parquet", "arrow"):
        assert _sha(table, fmt) == _sha(expected, fmt)


def test_the_mixed_model_covers_every_output_type():
    _, table = _both(_model("mixed"))
    types = {f.name: f.type for f in table.schema}
    assert types["grade"].ordered and pa.types.is_dictionary(types["grade"])
    assert types["city"].index_type == pa.int16()
    assert types["flag"] == pa.bool_() and table["flag"].null_count > 0
    assert types["count"] == pa.int64() and table["count"].null_count > 0
    assert types["twice"] == pa.int64()
    assert types["stamp"].tz == "Europe/Berlin"
    assert table["score"].null_count > 0


def test_arrow_values_read_back_equal_the_frame(tmp_path):
    frame, table = _both(_model("mixed"))
    pq.write_table(table, tmp_path / "x.parquet")
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "x.parquet"),
                                  pd.read_parquet(_frame_file(frame, tmp_path)))


def _frame_file(frame, tmp_path):
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), tmp_path / "f.parquet")
    return tmp_path / "f.parquet"


def _written(tmp_path, name, fmt, chunks, guard="all") -> bytes:
    from engine.io.writers import TableWriter

    with TableWriter(tmp_path / name, fmt, formula_guard=guard) as writer:
        for chunk in chunks:
            writer.write(chunk)
    return (tmp_path / name).read_bytes()


@pytest.mark.parametrize("name", ["quickstart", "missing", "kinds", "mixed"])
def test_the_writer_gives_the_same_file_for_a_table_as_for_its_frame(name, tmp_path):
    frame, table = _both(_model(name))
    halves = (slice(0, 1000), slice(1000, None))    # a second chunk: no header, same schema
    frames = [frame.iloc[h].reset_index(drop=True) for h in halves]
    tables = [table.slice(h.start, (h.stop or len(table)) - h.start) for h in halves]
    for fmt in ("csv", "parquet", "arrow"):
        assert _written(tmp_path, "t." + fmt, fmt, tables) == \
            _written(tmp_path, "f." + fmt, fmt, frames), fmt


@pytest.mark.parametrize("guard", ["all", "non_numeric", "off"])
def test_csv_formula_guard_on_tables_matches_the_frame_path(guard, tmp_path):
    levels = ["=SUM(A1)", "-12", "+3.5e2", "@x", "ok", "a,b", 'say "hi"', "-x"]
    frame = pd.DataFrame({"t": pd.Categorical.from_codes(
        np.array([0, 1, 2, 3, 4, 5, 6, 7, -1]), categories=levels),
        "n": np.arange(9.0) / 3})
    table = pa.Table.from_pandas(frame, preserve_index=False)
    csv = _written(tmp_path, "t.csv", "csv", [table], guard)
    assert csv == _written(tmp_path, "f.csv", "csv", [frame], guard)
    assert (b"'=SUM(A1)" in csv) == (guard != "off")
