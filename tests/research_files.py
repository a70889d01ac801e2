"""Seed files as research teams send them: a workbook with a notes sheet and title rows
over the table, and an SPSS .sav with labels, measures, widths and missing declarations.
Built fresh with openpyxl/pyreadstat so tests read real files."""

from __future__ import annotations

import numpy as np
import openpyxl
import pandas as pd

TITLE_ROWS = ["Brand tracker wave 3", "Base: all respondents"]
NOTES = ["Source: fieldwork March 2026", "Weights not applied"]
REGIONS = ["North", "South", "East"]


def brand_tracker_workbook(path, rows: int = 120, seed: int = 0):
    """Sheet 'Notes' (prose) then sheet 'Data': two title rows, a blank row, the header on
    row 4 (the region header merged over nothing), data, a blank row and two notes rows.
    Region labels are merged down each block of equal regions. Returns the data frame."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({
        "region": np.repeat(REGIONS, -(-rows // 3))[:rows],
        "age": rng.integers(18, 80, rows),
        "spend": np.round(rng.gamma(4.0, 25.0, rows), 2),
        "brand": rng.choice(["Acme", "Bolt", "Crest"], rows),
    })
    book = openpyxl.Workbook()
    notes = book.active
    notes.title = "Notes"
    for line in ["About this file", "Wave 3 of the brand tracker.", "Data on sheet 'Data'."]:
        notes.append([line])
    data = book.create_sheet("Data")
    data.append([TITLE_ROWS[0]])
    data.merge_cells("A1:D1")
    data.append([TITLE_ROWS[1]])
    data.append([])
    data.append(list(frame.columns))
    for row in frame.itertuples(index=False):
        data.append([row.region, int(row.age), float(row.spend), row.brand])
    first = 5
    for region in REGIONS:                       # merge each run of one region
        idx = np.flatnonzero(frame["region"].to_numpy() == region)
        if len(idx) > 1:
            data.merge_cells(f"A{first + idx[0]}:A{first + idx[-1]}")
    data.append([])
    for line in NOTES:
        data.append([line])
    book.save(path)
    return frame


SATISFACTION = {1.0: "Very dissatisfied", 2.0: "Dissatisfied", 3.0: "Neutral",
                4.0: "Satisfied", 5.0: "Very satisfied", 9.0: "Refused", 99.0: "Don't know"}
GENDER = {1.0: "Male", 2.0: "Female"}


def satisfaction_sav(path, rows: int = 600, seed: int = 0) -> pd.DataFrame:
    """q1: ordinal 1-5 scale, 9 = Refused declared missing, 99 = Don't know undeclared;
    gender: nominal 1/2; age: scale; city: a string variable. Returns the codes written."""
    import pyreadstat

    rng = np.random.default_rng(seed)
    q1 = rng.choice(list(SATISFACTION), size=rows, p=[.1, .15, .2, .25, .15, .05, .1])
    gender = rng.choice([1.0, 2.0], size=rows)
    age = rng.integers(18, 80, rows).astype(float)
    city = rng.choice(["Leeds", "York", "Hull"], size=rows)
    frame = pd.DataFrame({"q1": q1, "gender": gender, "age": age, "city": city})
    pyreadstat.write_sav(
        frame, str(path),
        column_labels={"q1": "Overall satisfaction", "gender": "Gender of respondent",
                       "age": "Age in years", "city": "City"},
        variable_value_labels={"q1": SATISFACTION, "gender": GENDER},
        missing_ranges={"q1": [9.0]},
        variable_measure={"q1": "ordinal", "gender": "nominal", "age": "scale",
                          "city": "nominal"},
        variable_display_width={"q1": 14, "gender": 9, "age": 6, "city": 12},
        variable_format={"age": "F3.0"})
    return frame
