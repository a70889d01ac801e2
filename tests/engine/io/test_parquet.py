"""Parquet reading: dtypes come through, categoricals keep their levels and order."""

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from engine.io import read_table


def test_parquet_values_and_dtypes(tmp_path):
    frame = pd.DataFrame({
        "n": [1, 2, 3],
        "gap": pd.array([1, None, 3], dtype="Int64"),
        "x": [0.5, float("nan"), 2.0],
        "s": ["a", None, "c"],
        "flag": [True, False, True],
        "size": pd.Categorical(["S", "L", "M"], categories=["S", "M", "L"], ordered=True),
        "colour": pd.Categorical(["red", "blue", "red"]),
    })
    path = tmp_path / "seed.parquet"
    frame.to_parquet(path, index=False)
    table = read_table(path)
    assert table.source_format == "parquet"
    pd.testing.assert_frame_equal(table.frame, frame)
    assert table.level_order == {"size": ["S", "M", "L"], "colour": ["blue", "red"]}
    assert table.ordered == {"size"}


def test_parquet_without_pandas_metadata_and_from_bytes(tmp_path):
    arrow = pa.table({"id": pa.array([10, 20], pa.int32()), "name": ["p", "q"]})
    path = tmp_path / "plain.parquet"
    pq.write_table(arrow, path)
    table = read_table(path.read_bytes(), filename="plain.parquet")
    assert table.frame["id"].tolist() == [10, 20]
    assert table.frame["name"].tolist() == ["p", "q"]
    assert list(table.frame.columns) == ["id", "name"]
