import numpy as np
import pandas as pd
import pytest

from engine.quality import conditioning_report


def _frame():
    return pd.DataFrame({
        "region": ["north"] * 6 + ["south"] * 3 + [None],
        "code": [1, 1, 2, 2, 2, 3, 3, 3, 3, 3],          # int column, JSON-string levels
        "age": [17, 18, 30, 45, 65, 66, np.nan, 40, 50, 20],
        "income": [0.0, 5.0, 10.0, 10.5, 3.0, 4.0, 6.0, 7.0, 8.0, 9.0],
    })


def test_hand_built_report_exact_numbers():
    conditions = {
        "categorical": {"region": {"north": 0.5, "south": 0.5},
                        "code": {"3": 0.4}},
        "numeric": {"age": {"min": 18, "max": 65}, "income": {"max": 10}},
    }
    rep = conditioning_report(_frame(), conditions, rows_requested=12)
    assert rep["rows_requested"] == 12 and rep["rows_generated"] == 10
    north = rep["categorical"]["region"]["north"]
    assert north == {"target_share": 0.5, "achieved_share": 0.6, "achieved_count": 6,
                     "abs_error": pytest.approx(0.1)}
    assert rep["categorical"]["region"]["south"]["achieved_count"] == 3
    assert rep["categorical"]["region"]["south"]["abs_error"] == pytest.approx(0.2)
    assert rep["categorical"]["code"]["3"]["achieved_count"] == 5
    assert rep["categorical"]["code"]["3"]["abs_error"] == pytest.approx(0.1)
    # age outside [18, 65]: 17, 66 and the missing one; income > 10: 10.5 (no min given).
    assert rep["numeric"]["age"] == {"min": 18, "max": 65, "outside": 3}
    assert rep["numeric"]["income"] == {"min": None, "max": 10, "outside": 1}
    assert rep["max_share_error"] == pytest.approx(0.2)
    assert rep["range_violations"] == 4


def test_absent_column_and_empty_output():
    conditions = {"categorical": {"nope": {"x": 0.3}}, "numeric": {"gone": {"min": 0, "max": 1}}}
    rep = conditioning_report(_frame(), conditions, rows_requested=10)
    assert rep["categorical"]["nope"]["x"]["achieved_count"] == 0
    assert rep["max_share_error"] == pytest.approx(0.3)
    assert rep["range_violations"] == 10
    empty = conditioning_report(_frame().iloc[:0], {"categorical": {"region": {"north": 1.0}}}, 5)
    assert empty["rows_generated"] == 0
    assert empty["categorical"]["region"]["north"]["achieved_share"] == 0.0
    assert empty["max_share_error"] == 1.0 and empty["range_violations"] == 0


def test_no_conditions():
    rep = conditioning_report(_frame(), {}, rows_requested=10)
    assert rep["categorical"] == {} and rep["numeric"] == {}
    assert rep["max_share_error"] == 0.0 and rep["range_violations"] == 0
