import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from engine.cleaning import clean
from engine.cleaning.column_names import SAFE_NAME, safe_name, unique_names

from .seeds import raw, with_base


def test_safe_names_are_kept_unchanged():
    assert unique_names(["age", "_x", "Q1_a", "camelCase"]) == ["age", "_x", "Q1_a", "camelCase"]


def test_unsafe_names_are_normalised():
    assert safe_name("Purchase Intent") == "Purchase_Intent"
    assert safe_name("2nd wave") == "x_2nd_wave"
    assert safe_name("età") == "eta"
    assert safe_name("Über-Größe (%)") == "Uber_Groe"  # ß has no ASCII decomposition
    assert safe_name("  spend / month  ") == "spend_month"
    assert safe_name("%%%") == "column"
    assert safe_name("") == "column"
    assert safe_name("１２３") == "x_123"  # full-width digits decompose to ASCII digits


def test_duplicates_after_normalisation_get_suffixes_in_column_order():
    assert unique_names(["a b", "a-b", "a.b"]) == ["a_b", "a_b_2", "a_b_3"]


def test_safe_name_wins_over_generated_duplicate():
    # "a b" comes first but "a_b" is already safe, so the generated name moves aside.
    assert unique_names(["a b", "a_b"]) == ["a_b_2", "a_b"]
    assert unique_names(["x y", "x_y_2", "x_y"]) == ["x_y_3", "x_y_2", "x_y"]


def test_duplicate_safe_headers_keep_the_first():
    assert unique_names(["age", "age"]) == ["age", "age_2"]


def test_clean_renames_and_keeps_source_name():
    frame = with_base(**{"Purchase Intent": range(200), "età": [1, 2] * 100})
    frame["Purchase Intent"] = frame["score"] * 2 + 1.5  # make it non-identifier, numeric
    frame["Purchase Intent"] = frame["Purchase Intent"] + (frame.index % 7)
    result = clean(raw(frame))
    assert result.schema.names == ["group", "score", "Purchase_Intent", "eta"]
    assert result.schema["Purchase_Intent"].source_name == "Purchase Intent"
    assert result.schema["eta"].source_name == "età"
    assert list(result.frame.columns) == result.schema.names
    renames = [d for d in result.decisions if d["action"] == "rename"]
    assert {d["column"] for d in renames} == {"Purchase_Intent", "eta"}


def test_non_string_headers_are_named():
    frame = pd.DataFrame({0: ["a", "b"] * 20, 1: [1.5, 2.5] * 20})
    assert clean(raw(frame)).schema.names == ["x_0", "x_1"]


@given(st.lists(st.text(max_size=8), min_size=1, max_size=12))
def test_names_are_always_safe_and_unique(headers):
    names = unique_names(headers)
    assert len(set(names)) == len(names) == len(headers)
    assert all(SAFE_NAME.match(n) for n in names)
    for header, name in zip(headers, names):
        if SAFE_NAME.match(header) and headers.count(header) == 1:
            assert name == header  # a safe, unique header is never renamed


def test_duplicate_headers_in_the_frame():
    frame = pd.DataFrame([["a", 1.5, "x"], ["b", 2.5, "y"]] * 20, columns=["q", "q", "Q 1"])
    result = clean(raw(frame))
    assert result.schema.names == ["q", "q_2", "Q_1"]
    assert [c.source_name for c in result.schema] == ["q", "q", "Q 1"]
