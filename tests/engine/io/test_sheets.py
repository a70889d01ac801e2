"""Excel seeds as they come: the data on the second sheet under title rows, merged cells,
notes below the table; --sheet / --header-row; errors that list the sheets."""

import openpyxl
import pandas as pd
import pytest

from engine.errors import SimioError
from engine.io import read_table
from engine.io.sheet_layout import find_table
from engine.synthesizer import Synthesizer
from tests.research_files import NOTES, TITLE_ROWS, brand_tracker_workbook


@pytest.fixture(scope="module")
def tracker(tmp_path_factory):
    path = tmp_path_factory.mktemp("sheets") / "tracker.xlsx"
    return path, brand_tracker_workbook(path)


def assert_is_the_table(frame, expected):
    assert list(frame.columns) == list(expected.columns)
    assert len(frame) == len(expected)
    assert frame["age"].dtype == "int64" and frame["spend"].dtype == "float64"
    assert frame["region"].tolist() == expected["region"].tolist()     # merged cells filled
    pd.testing.assert_series_equal(frame["spend"], expected["spend"], check_names=False)


def test_without_sheet_the_first_sheet_holding_a_table_is_read(tracker):
    path, expected = tracker
    table = read_table(path)
    assert_is_the_table(table.frame, expected)
    assert table.source == {"sheet": "Data", "header_row": 4}
    details = " / ".join(d["detail"] for d in table.read_decisions)
    assert "sheet 'Data' read (first sheet holding a table)" in details
    for text in TITLE_ROWS + NOTES:
        assert text in details                      # skipped rows are named
    assert "merged range" in details


def test_sheet_by_name_index_and_header_row(tracker):
    path, expected = tracker
    assert_is_the_table(read_table(path, sheet="Data").frame, expected)
    assert_is_the_table(read_table(path, sheet="data").frame, expected)
    assert_is_the_table(read_table(path, sheet=1, header_row=4).frame, expected)
    notes = read_table(path, sheet="Notes").frame
    assert list(notes.columns) == ["About this file"] and len(notes) == 2


def test_a_wrong_header_row_is_taken_as_given(tracker):
    path, _ = tracker
    frame = read_table(path, sheet="Data", header_row=2).frame
    assert list(frame.columns)[0] == TITLE_ROWS[1]       # the user said so; no guessing


def test_unknown_sheet_lists_the_sheets(tracker):
    path, _ = tracker
    with pytest.raises(SimioError) as err:
        read_table(path, sheet="Responses")
    assert err.value.code == "simio_sheet_not_found"
    assert "0: 'Notes', 1: 'Data'" in err.value.detail


def test_a_workbook_without_a_table_fails_listing_its_sheets(tmp_path):
    book = openpyxl.Workbook()
    book.active.title = "Cover"
    book.create_sheet("Empty")
    book.save(tmp_path / "blank.xlsx")
    with pytest.raises(SimioError) as err:
        read_table(tmp_path / "blank.xlsx")
    assert err.value.code == "simio_no_table_found"
    assert "'Cover', 'Empty'" in err.value.detail


def test_sheet_is_refused_for_other_formats(tmp_path):
    (tmp_path / "seed.csv").write_text("a,b\n1,2\n3,4\n")
    with pytest.raises(SimioError) as err:
        read_table(tmp_path / "seed.csv", sheet="Data")
    assert err.value.code == "simio_invalid_field" and "xlsx" in err.value.detail


def test_fit_records_the_reading_and_says_which_sheet(tracker):
    path, _ = tracker
    synth = Synthesizer().fit(path)
    assert synth.schema_.names == ["region", "age", "spend", "brand"]
    assert synth.schema_["age"].kind == "numeric" and synth.schema_["age"].is_integer
    assert synth.cleaning_summary_["source"] == {"sheet": "Data", "header_row": 4}
    reads = [d for d in synth.cleaning_decisions_ if d["step"] == "read"]
    assert {d["action"] for d in reads} >= {"select_sheet", "skip_rows", "fill_merged_cells"}
    assert synth.cleaning_decisions_[:len(reads)] == reads         # reading comes first


# --- the layout rule on plain rows ---------------------------------------------------

def test_header_under_title_rows_and_a_side_note():
    rows = [["Report"], [], ["a", "b", "c"], [1, 2, 3], [4, "", 6], [7, 8, 9, "side note"]]
    layout = find_table(rows)
    assert layout.header_row == 3 and layout.header == ["a", "b", "c"]
    assert layout.rows == [[1, 2, 3], [4, "", 6], [7, 8, 9]]
    assert any("outside the header" in d["detail"] for d in layout.decisions)


def test_sparse_rows_without_a_blank_line_stay_data():
    rows = [["a", "b", "c", "d"], [1, 2, 3, 4], [5, "", "", ""]]
    layout = find_table(rows)
    assert layout.rows == [[1, 2, 3, 4], [5, "", "", ""]]


def test_title_rows_alone_are_no_table():
    assert find_table([]) is None
    assert find_table([[""], [" "]]) is None
