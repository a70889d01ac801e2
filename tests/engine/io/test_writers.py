"""Writers: round trips keep values, dtypes and column order; writes are atomic."""

import os

import numpy as np
import pandas as pd
import pyarrow.ipc as ipc
import pyarrow.parquet as pq
import pytest

from engine.errors import SimioError
from engine.io import CONTENT_TYPES, EXTENSIONS, FORMATS, TableWriter, read_table, write_table
from engine.io.writers import STREAMED


def sample_frame(n=6, offset=0):
    i = np.arange(offset, offset + n)
    return pd.DataFrame({
        "zeta": i,                                                        # int64
        "gap": pd.array([None if k % 3 == 0 else int(k) for k in i], dtype="Int64"),
        "ratio": i / 4,                                                   # float64
        "name": pd.array([f"r{k}" if k % 4 else None for k in i], dtype="str"),
        "level": pd.Categorical(np.array(["low", "mid", "high"])[i % 3],
                                categories=["low", "mid", "high"], ordered=True),
        "flag": i % 2 == 0,                                               # bool
    })


def read_back(path, fmt):
    if fmt == "parquet":
        return pq.read_table(path).to_pandas()
    if fmt == "arrow":
        with ipc.open_file(path) as reader:
            return reader.read_all().to_pandas()
    return pd.read_csv(path)


def only_file(directory):
    return sorted(p.name for p in directory.iterdir())


@pytest.mark.parametrize("fmt", ["parquet", "arrow"])
def test_arrow_formats_round_trip_values_and_dtypes(tmp_path, fmt):
    frame = sample_frame()
    path = write_table(frame, tmp_path / f"out{EXTENSIONS[fmt]}", fmt)
    back = read_back(path, fmt)
    pd.testing.assert_frame_equal(back, frame)          # dtypes included, Int64 and ordered
    assert only_file(tmp_path) == [path.name]


def test_parquet_keeps_statistics_for_all_but_the_categoricals(tmp_path):
    """docs/formats.md, "Parquet out": a categorical's min/max never skip a row group of
    synthetic rows, so it goes without; every other column keeps min, max, null count."""
    frame = sample_frame(100_000)
    path = write_table(frame, tmp_path / "out.parquet", "parquet")
    meta = pq.ParquetFile(path).metadata
    group = meta.row_group(0)
    stats = {group.column(k).path_in_schema: group.column(k).statistics
             for k in range(meta.num_columns)}
    assert stats["level"] is None
    assert stats["zeta"].min == 0 and stats["zeta"].max == 99_999
    assert stats["gap"].null_count == 33_334
    pd.testing.assert_frame_equal(read_back(path, "parquet"), frame)


def test_csv_round_trip(tmp_path):
    frame = sample_frame()
    path = write_table(frame, tmp_path / "out.csv", "csv")
    back = pd.read_csv(path)
    assert list(back.columns) == list(frame.columns)
    assert back["zeta"].dtype == "int64" and back["zeta"].tolist() == frame["zeta"].tolist()
    assert back["ratio"].tolist() == frame["ratio"].tolist()
    assert back["gap"].isna().tolist() == frame["gap"].isna().tolist()
    assert back["gap"].dropna().astype(int).tolist() == frame["gap"].dropna().tolist()
    assert back["level"].tolist() == frame["level"].astype(str).tolist()
    assert back["flag"].dtype == bool and back["flag"].tolist() == frame["flag"].tolist()
    assert back["name"].isna().tolist() == frame["name"].isna().tolist()
    # and our own reader agrees
    assert read_table(path).frame["zeta"].tolist() == frame["zeta"].tolist()


@pytest.mark.parametrize("fmt", STREAMED)
def test_streamed_chunks_append(tmp_path, fmt):
    chunks = [sample_frame(5, 0), sample_frame(4, 5), sample_frame(3, 9)]
    path = tmp_path / f"stream{EXTENSIONS[fmt]}"
    with TableWriter(path, fmt) as writer:
        for chunk in chunks:
            assert not path.exists()                    # only on a clean exit
            writer.write(chunk)
    assert writer.rows == 12
    back = read_back(path, fmt)
    whole = pd.concat(chunks, ignore_index=True)
    assert back["zeta"].tolist() == whole["zeta"].tolist()
    assert list(back.columns) == list(whole.columns)
    if fmt == "csv":
        assert path.read_text().count("zeta") == 1     # header once
    else:
        pd.testing.assert_frame_equal(back, whole)


def test_stream_recodes_categoricals_to_the_first_chunks_levels(tmp_path):
    first = pd.DataFrame({"c": pd.Categorical(["a", "b"], categories=["a", "b", "c"])})
    later = pd.DataFrame({"c": pd.Categorical(["c"])})            # its own, smaller categories
    path = tmp_path / "cats.arrow"
    with TableWriter(path, "arrow") as writer:
        writer.write(first)
        writer.write(later)
    back = read_back(path, "arrow")
    assert back["c"].tolist() == ["a", "b", "c"]
    assert list(back["c"].cat.categories) == ["a", "b", "c"]


def test_content_types_and_extensions_cover_every_format():
    assert set(CONTENT_TYPES) == set(EXTENSIONS) == set(FORMATS) == {"parquet", "csv", "arrow",
                                                                 "sav", "xlsx"}
    assert CONTENT_TYPES["arrow"] == "application/vnd.apache.arrow.file"


def test_unknown_format(tmp_path):
    with pytest.raises(SimioError) as err:
        write_table(sample_frame(), tmp_path / "out.json", "json")
    assert err.value.code == "simio_invalid_field" and "json" in err.value.detail
    assert only_file(tmp_path) == []


# --- atomicity ----------------------------------------------------------------------

@pytest.mark.parametrize("fmt", FORMATS)
def test_failed_replace_leaves_nothing(tmp_path, monkeypatch, fmt):
    def broken_replace(src, dst):
        raise OSError("disk said no")
    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk said no"):
        write_table(sample_frame(), tmp_path / f"out{EXTENSIONS[fmt]}", fmt)
    assert only_file(tmp_path) == []


@pytest.mark.parametrize("fmt", STREAMED)
def test_incompatible_chunk_leaves_nothing(tmp_path, fmt):
    path = tmp_path / f"out{EXTENSIONS[fmt]}"
    bad = sample_frame(3, 6).assign(zeta=["not", "a", "number"])
    if fmt == "csv":
        bad = bad[list(reversed(bad.columns))]               # CSV takes any values, not any order
    with pytest.raises((ValueError, TypeError)):
        with TableWriter(path, fmt) as writer:
            writer.write(sample_frame(6))
            writer.write(bad)
    assert only_file(tmp_path) == []


def test_new_level_in_a_later_chunk_is_refused(tmp_path):
    path = tmp_path / "out.parquet"
    with pytest.raises(ValueError, match="levels"):
        with TableWriter(path, "parquet") as writer:
            writer.write(pd.DataFrame({"c": pd.Categorical(["a"])}))
            writer.write(pd.DataFrame({"c": pd.Categorical(["z"])}))
    assert only_file(tmp_path) == []


def test_error_in_the_with_block_keeps_the_old_file(tmp_path):
    path = tmp_path / "out.csv"
    path.write_text("old,content\n1,2\n")
    with pytest.raises(KeyboardInterrupt):
        with TableWriter(path, "csv") as writer:
            writer.write(sample_frame())
            raise KeyboardInterrupt
    assert path.read_text() == "old,content\n1,2\n"
    assert only_file(tmp_path) == ["out.csv"]


def test_swallowed_write_error_still_aborts(tmp_path):
    path = tmp_path / "out.parquet"
    with pytest.raises(RuntimeError, match="write failed"):
        with TableWriter(path, "parquet") as writer:
            writer.write(sample_frame())
            try:
                writer.write(pd.DataFrame({"other": [1]}))
            except ValueError:
                pass
    assert only_file(tmp_path) == []


def test_nothing_written_is_an_error_not_an_empty_file(tmp_path):
    with pytest.raises(ValueError, match="no chunk"):
        with TableWriter(tmp_path / "out.arrow", "arrow"):
            pass
    assert only_file(tmp_path) == []


@pytest.mark.skipif(os.name == "nt", reason="POSIX permissions")
def test_written_file_is_private_whatever_the_umask(tmp_path):
    # Artifacts hold customer data: 0600 even under a permissive umask (was 0644, issue 10).
    previous = os.umask(0o000)
    try:
        path = write_table(sample_frame(), tmp_path / "out.parquet", "parquet")
    finally:
        os.umask(previous)
    assert path.stat().st_mode & 0o777 == 0o600
