"""Excel .xlsx reading: the first sheet, header row, types, blank rows."""

import openpyxl
import pandas as pd

from engine.io import read_table


def workbook(path, rows, extra_sheet=True):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "data"
    for row in rows:
        ws.append(row)
    if extra_sheet:
        wb.create_sheet("notes").append(["ignored", "sheet"])
    wb.save(path)
    return path


def test_first_sheet_values_and_types(tmp_path):
    path = workbook(tmp_path / "seed.xlsx", [
        ["name", "age", "score", "member"],
        ["Zoë", 31, 1.5, True],
        ["Ana", 42, 2.25, False],
        [None, None, None, None],            # a blank layout row
        ["Kim", 57, None, True],
    ])
    table = read_table(path)
    frame = table.frame
    assert table.source_format == "xlsx"
    assert list(frame.columns) == ["name", "age", "score", "member"]
    assert frame["name"].tolist() == ["Zoë", "Ana", "Kim"]
    assert frame["age"].tolist() == [31, 42, 57] and frame["age"].dtype == "int64"
    assert frame["score"].dtype == "float64" and pd.isna(frame["score"].iloc[2])
    assert frame["member"].tolist() == [True, False, True]


def test_na_tokens_and_blank_text(tmp_path):
    path = workbook(tmp_path / "na.xlsx", [["x", "y"], [1, "N/A"], ["NA", "  "], [3, "ok"]])
    frame = read_table(path).frame
    assert frame["x"].isna().tolist() == [False, True, False]
    assert frame["y"].isna().tolist() == [True, True, False]


def test_xlsx_from_bytes(tmp_path):
    path = workbook(tmp_path / "b.xlsx", [["a"], [1], [2]], extra_sheet=False)
    assert read_table(path.read_bytes(), filename="b.xlsx").frame["a"].tolist() == [1, 2]
