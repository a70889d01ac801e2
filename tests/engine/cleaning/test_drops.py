"""One purpose-made table per public drop reason, checked through the summary."""

import datetime as dt
import uuid

import numpy as np
import pandas as pd
import pytest

from engine.cleaning import clean

from .seeds import raw, with_base

N = 200


def dropped(result) -> dict:
    return {d["name"]: d["reason"] for d in result.summary["dropped_columns"]}


def drop_decision(result, column):
    return next(d for d in result.decisions
                if d["column"] == column and d["action"] == "drop_column")


@pytest.mark.parametrize("name, values", [
    ("row", np.arange(1, N + 1)),                                    # 1..n sequence
    ("shuffled", np.random.default_rng(0).permutation(N) + 1000),    # permutation
    ("RespondentID", np.random.default_rng(0).choice(10**8, N, replace=False)),  # named key
    ("code", [f"R{i:05d}" for i in range(N)]),                       # distinct text
    ("email", [f"user{i % 50}@example.com" for i in range(N)]),     # e-mails, repeated
    ("token", [str(uuid.UUID(int=i % 40)) for i in range(N)]),       # UUIDs
])
def test_identifier_like_columns(name, values):
    result = clean(raw(with_base(N, **{name: values})))
    assert dropped(result) == {name: "identifier_like_column"}
    assert name not in result.schema


def test_whole_numbers_distinct_but_not_a_sequence_are_kept():
    values = np.random.default_rng(0).choice(100_000, N, replace=False)
    result = clean(raw(with_base(N, income=values)))
    assert "income" in result.schema and dropped(result) == {}


@pytest.mark.parametrize("values", [
    [dt.time(9 + i % 8, 30) for i in range(N)],                            # times of day
    pd.period_range("2024-01", periods=N, freq="M"),                        # periods
    [pd.Timestamp("2024-01-01", tz="UTC") if i % 2 else                     # mixed zones
     pd.Timestamp("2024-01-01", tz="Europe/Rome") for i in range(N)],
])
def test_unsupported_datetime(values):
    result = clean(raw(with_base(N, when=values)))
    assert dropped(result) == {"when": "unsupported_datetime"}


def test_constant_categorical():
    result = clean(raw(with_base(N, country=["US"] * N)))
    assert dropped(result) == {"country": "constant_categorical"}
    assert "'US'" in drop_decision(result, "country")["detail"]


def test_low_variance_single_value_and_near_zero_variance():
    nzv = np.zeros(N)
    nzv[:3] = [1.0, 2.0, 3.0]                      # ratio 197 > 19, 2% distinct < 10%
    result = clean(raw(with_base(N, const=[7] * N, nzv=nzv)))
    assert dropped(result) == {"const": "low_variance", "nzv": "low_variance"}
    assert "frequency ratio 197.0" in drop_decision(result, "nzv")["detail"]


def test_few_distinct_but_balanced_numeric_is_kept():
    result = clean(raw(with_base(N, rating=np.arange(N) % 3)))
    assert result.schema["rating"].type == "integer"


def test_redundant_numeric_keeps_the_earlier_column():
    """A near copy (|r| >= 0.999 but not an exact function) is dropped; an exact affine
    copy is kept as a derived column (see test_relations.py)."""
    frame = with_base(N)
    noise = np.random.default_rng(6).normal(0, 0.002, N)
    frame["score_pct"] = frame["score"] / 100 + noise
    frame["other"] = np.random.default_rng(5).normal(size=N)
    result = clean(raw(frame))
    assert dropped(result) == {"score_pct": "redundant_numeric"}
    assert "'score'" in drop_decision(result, "score_pct")["detail"]
    assert "other" in result.schema


def test_rare_category_when_every_level_is_rare():
    values = pd.Series([None] * N, dtype=object)
    values[:8] = ["x", "y", "z", "w", "x", "y", "z", "w"]          # 2 each < 5
    result = clean(raw(with_base(N, sparse=values)))
    assert dropped(result) == {"sparse": "rare_category"}


def test_other_all_missing_and_unsupported_objects():
    frame = with_base(N, empty=[None] * N, blank=[" "] * N,
                      nested=pd.Series([[1, 2]] * N, dtype=object),
                      binary=pd.Series([b"\x00\x01"] * N, dtype=object),
                      mixed=pd.Series([True, "x", 1.5, None] * (N // 4), dtype=object))
    result = clean(raw(frame))
    assert dropped(result) == {"empty": "other", "blank": "other", "nested": "other",
                               "binary": "other", "mixed": "other"}


def test_dropped_columns_use_original_names_in_input_order():
    frame = pd.DataFrame({"Row ID": np.arange(N), "Start Date": [dt.time(9)] * N,
                          "keep": np.arange(N) % 4})
    frame.insert(0, "Land", ["DE"] * N)
    result = clean(raw(frame))
    assert result.summary["dropped_columns"] == [
        {"name": "Land", "reason": "constant_categorical"},
        {"name": "Row ID", "reason": "identifier_like_column"},
        {"name": "Start Date", "reason": "unsupported_datetime"},
    ]
