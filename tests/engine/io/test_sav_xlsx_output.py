"""SPSS .sav and Excel .xlsx out: .sav -> model file -> .sav keeps codes, value labels,
variable labels, measure levels, widths and missing declarations; other seeds get codes
1..k; xlsx cells are typed; non-substantive codes stay off the scale."""

import numpy as np
import openpyxl
import pandas as pd
import pyreadstat
import pytest

from engine.errors import SimioError
from engine.io.writers import output_format
from engine.synthesizer import Synthesizer
from tests.research_files import GENDER, SATISFACTION, satisfaction_sav

ROWS = 2_000


@pytest.fixture(scope="module")
def sav_model(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sav")
    seed = satisfaction_sav(folder / "survey.sav")
    Synthesizer().fit(folder / "survey.sav").save(folder / "model.simio")
    return folder, seed, Synthesizer.load(folder / "model.simio")     # through the file


@pytest.fixture(scope="module")
def sav_out(sav_model):
    folder, _, synth = sav_model
    synth.write(folder / "synthetic.sav", ROWS, fmt="sav", seed=7)
    return pyreadstat.read_sav(str(folder / "synthetic.sav"), user_missing=True)


def test_round_trip_keeps_the_spss_metadata(sav_out):
    frame, meta = sav_out
    assert list(frame.columns) == ["q1", "gender", "age", "city"] and len(frame) == ROWS
    assert meta.column_names_to_labels == {"q1": "Overall satisfaction",
                                           "gender": "Gender of respondent",
                                           "age": "Age in years", "city": "City"}
    assert meta.variable_value_labels["q1"] == SATISFACTION     # incl. the missing code's
    assert meta.variable_value_labels["gender"] == GENDER
    assert "city" not in meta.variable_value_labels             # text stays text
    assert meta.variable_measure == {"q1": "ordinal", "gender": "nominal", "age": "scale",
                                     "city": "nominal"}
    assert meta.variable_display_width == {"q1": 14, "gender": 9, "age": 6, "city": 12}
    assert meta.missing_ranges == {"q1": [{"lo": 9.0, "hi": 9.0}]}
    assert meta.original_variable_types["age"] == "F3.0"
    assert meta.readstat_variable_types["city"] == "string"


def test_round_trip_gives_the_original_codes(sav_model, sav_out):
    _, seed, _ = sav_model
    frame, _ = sav_out
    assert set(frame["q1"].dropna()) <= {1.0, 2.0, 3.0, 4.0, 5.0, 99.0}
    assert 99.0 in set(frame["q1"])                 # "Don't know" is a level, written as 99
    assert 9.0 not in set(frame["q1"])              # the declared-missing code: blank
    assert set(frame["gender"]) == {1.0, 2.0}
    assert set(frame["city"]) <= {"Leeds", "York", "Hull"}
    # shares follow the seed: tolerance 4 standard errors of a share at n = ROWS
    seed_share = (seed["q1"] == 4.0).sum() / (seed["q1"] != 9.0).sum()
    share = (frame["q1"] == 4.0).sum() / frame["q1"].notna().sum()
    assert abs(share - seed_share) < 4 * np.sqrt(0.25 / ROWS) + 4 * np.sqrt(0.25 / len(seed))


def test_dont_know_is_not_a_scale_point(sav_model):
    _, _, synth = sav_model
    q1 = synth.schema_["q1"]
    assert q1.type == "factor"                     # not "ordered" with DK above the top point
    assert q1.levels == ["Very dissatisfied", "Dissatisfied", "Neutral", "Satisfied",
                         "Very satisfied", "Don't know"]
    decision = next(d for d in synth.cleaning_decisions_ if d["action"] == "off_scale_levels")
    assert decision["column"] == "q1" and "99" in decision["detail"]


def test_an_ordinal_scale_without_off_scale_codes_stays_ordered(tmp_path):
    frame = pd.DataFrame({"q": np.tile([1.0, 2.0, 3.0], 40), "x": np.arange(120.0) % 7})
    pyreadstat.write_sav(frame, str(tmp_path / "s.sav"),
                         variable_value_labels={"q": {1.0: "Low", 2.0: "Mid", 3.0: "High"}},
                         variable_measure={"q": "ordinal", "x": "scale"})
    synth = Synthesizer().fit(tmp_path / "s.sav")
    assert synth.schema_["q"].type == "ordered"
    assert not [d for d in synth.cleaning_decisions_ if d["action"] == "off_scale_levels"]


def test_non_spss_seed_gets_codes_1_to_k_with_levels_as_labels(tmp_path):
    rng = np.random.default_rng(3)
    seed = pd.DataFrame({"segment": rng.choice(["Value", "Mainstream", "Premium"], 300),
                         "spend": rng.gamma(3.0, 10.0, 300)})
    synth = Synthesizer().fit(seed)
    synth.write(tmp_path / "out.sav", 500, fmt="sav", seed=1)
    frame, meta = pyreadstat.read_sav(str(tmp_path / "out.sav"))
    levels = synth.schema_["segment"].levels
    assert meta.variable_value_labels["segment"] == {float(i): l for i, l in
                                                     enumerate(levels, start=1)}
    assert set(frame["segment"]) == {1.0, 2.0, 3.0}
    assert meta.variable_measure == {"segment": "nominal", "spend": "scale"}
    labelled, _ = pyreadstat.read_sav(str(tmp_path / "out.sav"), apply_value_formats=True)
    assert set(labelled["segment"]) == set(levels)


def test_xlsx_out_has_one_sheet_a_header_and_typed_cells(tmp_path):
    rng = np.random.default_rng(5)
    seed = pd.DataFrame({"region": rng.choice(["=cmd|' /C calc'!A0", "North"], 200),
                         "age": rng.integers(18, 80, 200),
                         "spend": rng.gamma(3.0, 10.0, 200),
                         "member": rng.choice([True, False], 200)})
    synth = Synthesizer().fit(seed)
    synth.write(tmp_path / "out.xlsx", 150, fmt="xlsx", seed=2)
    book = openpyxl.load_workbook(tmp_path / "out.xlsx")
    assert book.sheetnames == ["synthetic"]
    rows = list(book["synthetic"].iter_rows(values_only=True))
    assert rows[0] == ("region", "age", "spend", "member") and len(rows) == 151
    cells = list(book["synthetic"].iter_rows(min_row=2))
    assert all(isinstance(r[1].value, int) and r[1].data_type == "n" for r in cells)
    assert all(isinstance(r[2].value, float) for r in cells)
    assert {r[3].value for r in cells} == {True, False}
    assert all(r[3].data_type == "b" for r in cells)
    formulas = [r[0] for r in cells if str(r[0].value).startswith("=")]
    assert formulas and all(c.data_type == "s" for c in formulas)   # text, never a formula
    assert formulas[0].value == "=cmd|' /C calc'!A0"                   # and unchanged


def test_xlsx_refuses_more_rows_than_a_sheet_holds(tmp_path):
    synth = Synthesizer().fit(pd.DataFrame({"a": ["x", "y"] * 20, "b": np.arange(40.0)}))
    with pytest.raises(SimioError) as err:
        synth.write(tmp_path / "big.xlsx", 1_048_576, fmt="xlsx", seed=0)
    assert err.value.code == "simio_invalid_field" and "1,048,575" in err.value.detail
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name,fmt,expected", [
    ("out.parquet", None, "parquet"), ("out.SAV", None, "sav"), ("out.xlsx", None, "xlsx"),
    ("out.feather", None, "arrow"), ("out", None, "parquet"), ("out", "sav", "sav"),
    ("out.csv", "csv", "csv"),
])
def test_output_format_from_the_name(name, fmt, expected):
    assert output_format(name, fmt) == expected


@pytest.mark.parametrize("name,fmt", [("out.docx", None), ("out.sav.txt", None),
                                      ("out.csv", "sav"), ("out.sav", "parquet"),
                                      ("out", "json")])
def test_output_names_we_do_not_write_are_refused(name, fmt):
    with pytest.raises(SimioError) as err:
        output_format(name, fmt)
    assert err.value.code == "simio_unsupported_output_format"


def test_a_model_file_from_before_writes_sav_from_its_types(tmp_path):
    """A version-1 model file (no SPSS attributes in its schema) still loads; its .sav
    takes measures from the types and codes 1..k from the levels."""
    from pathlib import Path

    old = Path(__file__).parents[1] / "model" / "data" / "quickstart_v1.simio"
    synth = Synthesizer.load(old)
    assert all(c.formats is None for c in synth.schema_)
    synth.write(tmp_path / "old.sav", 100, fmt="sav", seed=1)
    _, meta = pyreadstat.read_sav(str(tmp_path / "old.sav"))
    segment = synth.schema_["segment"]
    assert meta.variable_value_labels["segment"] == {float(i): l for i, l in
                                                     enumerate(segment.levels, start=1)}
    expected = {c.name: "ordinal" if c.type == "ordered" else
                "nominal" if c.kind == "categorical" else "scale" for c in synth.schema_}
    assert meta.variable_measure == expected


def test_a_partially_labelled_scale_says_its_off_scale_code_is_a_number(tmp_path):
    rng = np.random.default_rng(2)
    likely = rng.choice([*range(11), 99], size=300).astype(float)
    pyreadstat.write_sav(pd.DataFrame({"nps": likely, "x": rng.normal(size=300)}),
                         str(tmp_path / "nps.sav"),
                         variable_value_labels={"nps": {0.0: "Not at all likely",
                                                        10.0: "Extremely likely",
                                                        99.0: "Don't know"}})
    synth = Synthesizer().fit(tmp_path / "nps.sav")
    assert synth.schema_["nps"].kind == "numeric"
    note = next(d for d in synth.cleaning_decisions_ if d["action"] == "off_scale_numbers")
    assert note["column"] == "nps" and "99" in note["detail"] and "0..10" in note["detail"]


@pytest.mark.parametrize("fmt", ["sav", "xlsx"])
def test_same_seed_same_bytes(tmp_path, fmt):
    """Both libraries write the clock into the file; the writers pin it. The pause makes
    the clock's second (the stamps' resolution) differ between the two writes."""
    import time

    synth = Synthesizer().fit(pd.DataFrame({"a": ["x", "y", "z"] * 20,
                                            "b": np.arange(60.0)}))
    synth.write(tmp_path / f"one.{fmt}", 80, fmt=fmt, seed=5)
    time.sleep(1.1)
    synth.write(tmp_path / f"two.{fmt}", 80, fmt=fmt, seed=5)
    assert (tmp_path / f"one.{fmt}").read_bytes() == (tmp_path / f"two.{fmt}").read_bytes()
