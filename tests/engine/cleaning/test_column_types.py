import numpy as np
import pandas as pd
import pytest

from engine.cleaning import clean
from engine.cleaning.column_types import HIGH_CARDINALITY_LEVELS

from .seeds import quickstart_frame, raw, with_base


@pytest.fixture(scope="module")
def quickstart():
    frame = quickstart_frame()
    return frame, clean(raw(frame))


def test_quickstart_public_types(quickstart):
    frame, result = quickstart
    public = {c["name"]: c for c in result.schema.public()}
    assert public["age"] == {"name": "age", "type": "integer", "min": 18, "max": 65,
                             "conditioning_excluded": False}
    assert public["segment"]["type"] == "factor"
    assert public["segment"]["levels"] == ["Mainstream", "Premium", "Value"]
    assert public["channel"]["levels"] == ["Club", "Online", "Retail"]
    assert public["region"]["levels"] == ["Midwest", "Northeast", "South", "West"]
    intent = result.schema["purchase_intent"]
    assert intent.type == "numeric" and intent.is_integer
    assert intent.min == float(frame["purchase_intent"].min())
    assert intent.max == float(frame["purchase_intent"].max())
    assert type(intent.min) is float
    assert result.summary["dropped_columns"] == []


def test_quickstart_frame_representation(quickstart):
    _, result = quickstart
    for column in result.schema:
        values = result.frame[column.name]
        if column.kind == "categorical":
            assert isinstance(values.dtype, pd.CategoricalDtype)
            assert list(values.cat.categories) == column.levels
        else:
            assert values.dtype == np.float64


def test_whole_but_sparse_is_numeric_and_dense_is_integer():
    n = 300
    frame = with_base(n, likert=np.arange(n) % 5 + 1, rounded=(np.arange(n) % 30) * 10)
    schema = clean(raw(frame)).schema
    assert schema["likert"].type == "integer" and schema["likert"].is_integer
    assert (schema["likert"].min, schema["likert"].max) == (1.0, 5.0)
    assert schema["rounded"].type == "numeric" and schema["rounded"].is_integer
    assert schema["score"].type == "numeric" and not schema["score"].is_integer


def test_numeric_strings_are_numeric():
    frame = with_base(200, spend=[str(v) for v in np.arange(200) % 17 * 1.5])
    column = clean(raw(frame)).schema["spend"]
    assert column.type == "numeric" and column.max == 24.0


@pytest.mark.parametrize("values", [[True, False], ["true", "false"], ["True", "False"],
                                    ["TRUE", "FALSE"]])
def test_boolean_columns(values):
    frame = with_base(100, flag=values * 50)
    result = clean(raw(frame))
    column = result.schema["flag"]
    assert column.type == "boolean" and column.levels == ["false", "true"]
    assert list(result.frame["flag"].cat.categories) == ["false", "true"]
    assert set(result.frame["flag"].astype(str)) == {"false", "true"}


def test_nullable_boolean_keeps_missing():
    flags = pd.array([True, False, None, True] * 25, dtype="boolean")
    result = clean(raw(with_base(100, flag=flags)))
    assert result.schema["flag"].type == "boolean"
    assert result.schema["flag"].missing_rate == pytest.approx(0.25)


def test_high_cardinality_text_is_character_excluded_from_conditioning():
    n = 300
    cities = [f"city{i % (HIGH_CARDINALITY_LEVELS + 10):03d}" for i in range(n)]
    column = clean(raw(with_base(n, city=cities))).schema["city"]
    assert column.type == "character" and column.conditioning_excluded
    assert column.levels == sorted(set(cities))


def test_spss_labelled_columns_use_label_order_and_ordered_flag():
    n = 200
    rng = np.random.default_rng(3)
    scale = ["Very unlikely", "Unlikely", "Likely", "Very likely"]
    frame = with_base(n, q1=rng.choice(scale, n), gender=rng.choice(["Male", "Female"], n))
    table = raw(frame, "sav", level_order={"q1": scale, "gender": ["Male", "Female"]},
                ordered={"q1"}, variable_labels={"q1": "How likely to buy?"},
                value_labels={"q1": {"1": "Very unlikely", "2": "Unlikely", "3": "Likely",
                                     "4": "Very likely"}})
    result = clean(table)
    q1 = result.schema["q1"]
    assert q1.type == "ordered" and q1.levels == scale
    assert q1.label == "How likely to buy?" and q1.value_labels["4"] == "Very likely"
    assert result.schema["gender"].type == "factor"
    assert result.schema["gender"].levels == ["Male", "Female"]
    assert list(result.frame["q1"].cat.categories) == scale


def test_spss_unlabelled_codes_are_mapped_or_appended():
    levels = ["Low", "High"]
    frame = with_base(90, q=["Low", "High", 1.0] * 30)
    table = raw(frame, "sav", level_order={"q": levels},
                value_labels={"q": {"1": "Low", "2": "High"}})
    assert clean(table).schema["q"].levels == ["Low", "High"]
    table = raw(with_base(90, q=["Low", "High", 9.0] * 30), "sav", level_order={"q": levels})
    assert clean(table).schema["q"].levels == ["Low", "High", "9"]


def test_pandas_ordered_categorical_keeps_category_order():
    sizes = pd.Categorical(["S", "M", "L"] * 40, categories=["S", "M", "L"], ordered=True)
    column = clean(raw(with_base(120, size=sizes), "parquet")).schema["size"]
    assert column.type == "ordered" and column.levels == ["S", "M", "L"]


def test_unordered_categorical_levels_are_sorted():
    col = pd.Categorical(["b", "c", "a"] * 40, categories=["c", "b", "a"])
    assert clean(raw(with_base(120, col=col), "parquet")).schema["col"].levels == ["a", "b", "c"]


def test_numbers_mixed_with_text_are_read_as_text():
    column = clean(raw(with_base(120, q=pd.Series([1, 2, "DK"] * 40, dtype=object)),
                       "xlsx")).schema["q"]
    assert column.type == "factor" and column.levels == ["1", "2", "DK"]


def test_surrounding_whitespace_is_stripped():
    column = clean(raw(with_base(100, seg=[" A", "A ", "B", "B"] * 25))).schema["seg"]
    assert column.levels == ["A", "B"]


def test_nullable_integers_and_infinities():
    ints = pd.array([1, 2, None, 3] * 30, dtype="Int64")
    floats = np.tile([1.5, np.inf, 2.5, -0.5], 30)
    result = clean(raw(with_base(120, ints=ints)))
    assert result.schema["ints"].type == "integer"
    assert result.schema["ints"].missing_rate == pytest.approx(0.25)
    result = clean(raw(with_base(120, floats=floats)))
    assert result.schema["floats"].max == 2.5
    assert result.schema["floats"].missing_rate == pytest.approx(0.25)
    assert result.frame["floats"].dtype == np.float64
