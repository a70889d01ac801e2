"""data/quickstart_seed.* all hold the contract quickstart table."""

from pathlib import Path

import pandas as pd
import pytest

from engine.datasets import quickstart_frame
from engine.io import read_table

DATA = Path(__file__).resolve().parents[3] / "data"


def test_quickstart_frame_is_the_contract_seed():
    frame = quickstart_frame()
    assert frame.shape == (800, 5)
    assert list(frame.columns) == ["age", "segment", "channel", "region", "purchase_intent"]
    assert frame["age"].between(18, 65).all() and frame["purchase_intent"].between(0, 100).all()
    # Premium shifts intent up by design
    by_segment = frame.groupby("segment")["purchase_intent"].mean()
    assert by_segment["Premium"] > by_segment["Mainstream"] + 10
    pd.testing.assert_frame_equal(frame, quickstart_frame(800, 7))


def test_csv_is_the_quickstarts_to_csv():
    assert (DATA / "quickstart_seed.csv").read_text() == quickstart_frame().to_csv(index=False)


@pytest.mark.parametrize("ext", ["csv", "sav", "xlsx", "parquet"])
def test_every_seed_file_reads_as_the_same_table(ext):
    table = read_table(DATA / f"quickstart_seed.{ext}")
    expected = quickstart_frame()
    frame = table.frame
    assert frame.shape == (800, 5) and list(frame.columns) == list(expected.columns)
    for col in ("age", "purchase_intent"):
        assert frame[col].dtype == "int64"
        assert frame[col].tolist() == expected[col].tolist()
    for col in ("segment", "channel", "region"):
        assert frame[col].astype(str).tolist() == expected[col].tolist()


def test_sav_carries_levels_order_and_labels():
    table = read_table(DATA / "quickstart_seed.sav")
    assert table.level_order == {
        "segment": ["Value", "Mainstream", "Premium"],
        "channel": ["Retail", "Online", "Club"],
        "region": ["Northeast", "South", "Midwest", "West"],
    }
    assert table.ordered == {"segment"}
    assert table.frame["segment"].dtype.ordered
    assert table.variable_labels["age"] == "Respondent age in years"
    assert set(table.variable_labels) == {"age", "segment", "channel", "region", "purchase_intent"}
    assert table.value_labels["segment"] == {"1": "Value", "2": "Mainstream", "3": "Premium"}
