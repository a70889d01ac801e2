"""SPSS .sav reading: value labels, measures, user-missing codes, variable labels."""

import numpy as np
import pandas as pd
import pyreadstat
import pytest

from engine.errors import SimioError
from engine.io import read_table


@pytest.fixture
def survey(tmp_path):
    frame = pd.DataFrame({
        "satisfaction": [1.0, 2, 3, 9, 2, 8, np.nan],
        "region": [1.0, 2, 1, 2, 2, 1, 1],
        "score": [0.0, 3, 10, 7, 5, 99, 4],
        "comment": ["good", "", "fine", " ", "meh", "x", "ok"],
        "age": [21.0, 35, 47, 52, 38, 29, 61],
    })
    path = tmp_path / "survey.sav"
    pyreadstat.write_sav(
        frame, path,
        column_labels={"satisfaction": "Overall satisfaction", "age": "Age in years"},
        variable_value_labels={
            "satisfaction": {1: "Low", 2: "Medium", 3: "High", 9: "Don't know"},
            "region": {2: "South", 1: "North"},
            "score": {0: "Not at all likely", 10: "Extremely likely"},   # end points only
        },
        missing_ranges={"satisfaction": [9, {"lo": 7, "hi": 8}], "score": [99]},
        variable_measure={"satisfaction": "ordinal", "region": "nominal", "score": "scale",
                          "comment": "nominal", "age": "scale"},
    )
    return path


def test_value_labels_become_levels(survey):
    table = read_table(survey)
    frame = table.frame
    assert table.source_format == "sav"
    assert frame["region"].tolist() == ["North", "South", "North", "South", "South", "North",
                                        "North"]
    assert table.level_order["region"] == ["North", "South"]          # code order
    assert table.value_labels["region"] == {"1": "North", "2": "South"}
    assert "region" not in table.ordered


def test_ordinal_measure_is_ordered_and_user_missing_is_missing(survey):
    table = read_table(survey)
    sat = table.frame["satisfaction"]
    assert sat.tolist()[:3] == ["Low", "Medium", "High"] and sat.tolist()[4] == "Medium"
    assert sat.isna().tolist() == [False, False, False, True, False, True, True]
    assert "satisfaction" in table.ordered
    assert sat.dtype.ordered and list(sat.cat.categories) == ["Low", "Medium", "High"]
    assert table.level_order["satisfaction"] == ["Low", "Medium", "High"]   # no "Don't know"
    assert table.value_labels["satisfaction"]["9"] == "Don't know"


def test_partially_labelled_scale_keeps_numbers(survey):
    table = read_table(survey)
    score = table.frame["score"]
    assert score.dtype == "float64"
    assert score.tolist()[:5] == [0, 3, 10, 7, 5] and pd.isna(score.iloc[5])    # 99 user-missing
    assert "score" not in table.level_order
    assert table.value_labels["score"] == {"0": "Not at all likely", "10": "Extremely likely"}


def test_variable_labels_strings_and_whole_numbers(survey):
    table = read_table(survey)
    assert table.variable_labels == {"satisfaction": "Overall satisfaction", "age": "Age in years"}
    assert table.frame["comment"].isna().tolist() == [False, True, False, True, False, False, False]
    assert table.frame["age"].dtype == "int64"


def test_sav_from_bytes(survey):
    table = read_table(survey.read_bytes(), filename="upload.sav")
    assert table.level_order["region"] == ["North", "South"]


def test_truncated_sav(survey, tmp_path):
    data = survey.read_bytes()
    for cut in (len(data) // 2, 200, len(data) - 5):
        path = tmp_path / "cut.sav"
        path.write_bytes(data[:cut])
        with pytest.raises(SimioError) as err:
            read_table(path)
        assert err.value.code == "simio_unreadable_file"
        assert "cut.sav" in err.value.detail and "SPSS" in err.value.detail
