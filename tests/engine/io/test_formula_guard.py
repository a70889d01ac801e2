"""CSV formula injection (issue 10, defect 6): text cells that a spreadsheet would run
as a formula are neutralised in CSV artifacts; numbers and other formats are untouched."""

import pandas as pd
import pytest

from engine.io.writers import neutralise_formulas, read_output, write_table

ATTACKS = ["=1+1", "@SUM(1+1)", "+cmd|' /C calc'!A0", '=HYPERLINK("http://x","y")',
           "-2+3", "\tTAB"]


def frame():
    n = len(ATTACKS)
    return pd.DataFrame({"text": ATTACKS, "cat": pd.Categorical(ATTACKS),
                         "num": [-1.5] * n, "int": [-3] * n, "safe": ["ok"] * n})


def test_the_attack_reaches_the_file_without_the_guard(tmp_path):
    path = write_table(frame(), tmp_path / "out.csv", "csv", formula_guard="off")
    assert read_output(path, "csv")["text"].iloc[0] == "=1+1"


def test_every_risky_text_cell_gets_an_apostrophe(tmp_path):
    path = write_table(frame(), tmp_path / "out.csv", "csv")
    back = pd.read_csv(path, keep_default_na=False)
    for col in ("text", "cat"):
        assert list(back[col]) == ["'" + v for v in ATTACKS], col
    assert (back["num"] == -1.5).all() and (back["int"] == -3).all()   # numbers untouched
    assert (back["safe"] == "ok").all()


def test_numeric_looking_text_can_be_kept(tmp_path):
    df = pd.DataFrame({"code": ["-12", "+3.5e2", "=1+1", "-1-1"]})
    out = neutralise_formulas(df, "non_numeric")
    assert list(out["code"]) == ["-12", "+3.5e2", "'=1+1", "'-1-1"]
    assert list(neutralise_formulas(df)["code"]) == ["'-12", "'+3.5e2", "'=1+1", "'-1-1"]


def test_a_leading_carriage_return_is_neutralised_too():
    out = neutralise_formulas(pd.DataFrame({"t": ["\r=1+1", "a\r"]}))
    assert list(out["t"]) == ["'\r=1+1", "a\r"]


def test_missing_values_stay_missing():
    df = pd.DataFrame({"t": ["=x", None, pd.NA, "y"]}, dtype=object)
    out = neutralise_formulas(df)
    assert out["t"].iloc[0] == "'=x" and out["t"].iloc[1:3].isna().all()
    assert out["t"].iloc[3] == "y"


@pytest.mark.parametrize("fmt", ["parquet", "arrow"])
def test_binary_formats_keep_the_exact_values(tmp_path, fmt):
    path = write_table(frame(), tmp_path / f"out.{fmt}", fmt)
    assert list(read_output(path, fmt)["text"]) == ATTACKS


def test_an_unknown_guard_is_refused(tmp_path):
    with pytest.raises(ValueError, match="formula_guard"):
        write_table(frame(), tmp_path / "out.csv", "csv", formula_guard="maybe")
