"""CSV / TSV reading: encodings, delimiters, quoting, missing tokens, ragged rows."""

import pandas as pd
import pytest

from engine.errors import SimioError
from engine.io import read_table
from engine.io.delimited import NA_TOKENS, sniff_delimiter
from engine.io.detect import HEAD_BYTES


def write(tmp_path, name, data):
    path = tmp_path / name
    path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
    return path


def test_utf8_numeric_and_text_columns(tmp_path):
    path = write(tmp_path, "seed.csv", "name,age,score\nJosé,31,1.5\nZoë,42,2.25\nÅsa,57,3\n")
    table = read_table(path)
    assert table.source_format == "csv"
    frame = table.frame
    assert list(frame.columns) == ["name", "age", "score"]
    assert frame["name"].tolist() == ["José", "Zoë", "Åsa"]
    assert frame["age"].dtype == "int64"
    assert frame["score"].dtype == "float64"
    assert pd.api.types.is_string_dtype(frame["name"].dtype)


def test_utf8_bom_is_not_part_of_first_header(tmp_path):
    path = write(tmp_path, "bom.csv", "\ufeffid,city\n1,Zürich\n2,Köln\n".encode("utf-8"))
    frame = read_table(path).frame
    assert list(frame.columns) == ["id", "city"]
    assert frame["city"].tolist() == ["Zürich", "Köln"]


def test_latin1_accented_values(tmp_path):
    text = "ville;note\nMontréal;5\nQuébec;7\nGenève;9\n"
    path = write(tmp_path, "latin.csv", text.encode("latin-1"))
    frame = read_table(path).frame
    assert frame["ville"].tolist() == ["Montréal", "Québec", "Genève"]
    assert frame["note"].tolist() == [5, 7, 9]


def test_cp1252_specials(tmp_path):
    text = "item,price\n\u201cPro\u201d plan,5\nBasic \u20ac,3\n"
    path = write(tmp_path, "win.csv", text.encode("cp1252"))
    assert read_table(path).frame["item"].tolist() == ["\u201cPro\u201d plan", "Basic \u20ac"]


def test_non_utf8_byte_after_the_sniffed_head_falls_back(tmp_path):
    body = "".join(f"{i},plain\n" for i in range(HEAD_BYTES // 8 + 100))
    data = ("id,word\n" + body).encode("utf-8") + "999,café\n".encode("latin-1")
    frame = read_table(write(tmp_path, "late.csv", data)).frame
    assert frame["word"].iloc[-1] == "café"
    assert frame["id"].dtype == "int64"


def test_utf16_tab_separated_excel_unicode_text(tmp_path):
    path = write(tmp_path, "unicode.txt", "a\tb\n1\tÄpfel\n2\tBirnen\n".encode("utf-16"))
    frame = read_table(path).frame
    assert list(frame.columns) == ["a", "b"]
    assert frame["b"].tolist() == ["Äpfel", "Birnen"]


@pytest.mark.parametrize("sep", [",", ";", "\t", "|"])
def test_delimiters_are_sniffed(tmp_path, sep):
    text = sep.join(["id", "colour", "size"]) + "\n"
    for i, colour in enumerate(["red", "blue", "green"]):
        text += sep.join([str(i), colour, str(i * 2)]) + "\n"
    frame = read_table(write(tmp_path, "seed.txt", text)).frame
    assert list(frame.columns) == ["id", "colour", "size"]
    assert frame["colour"].tolist() == ["red", "blue", "green"]
    assert frame["size"].tolist() == [0, 2, 4]


def test_semicolon_with_decimal_commas(tmp_path):
    frame = read_table(write(tmp_path, "eu.csv", "name;price\nA;1,5\nB;2,25\nC;3\n")).frame
    assert frame["price"].tolist() == [1.5, 2.25, 3.0]


@pytest.mark.parametrize("sample, expected", [
    ("a,b,c\n1,2,3\n", ","),
    ("a;b;c\n1,5;2;3\n", ";"),
    ("a\tb\n1\thello, world\n", "\t"),
    ('a,b\n"x;y;z",1\n', ","),
    ("a|b|c\n1|2|3\n", "|"),
    ("single\nvalue\n", ","),
])
def test_sniff_delimiter(sample, expected):
    assert sniff_delimiter(sample) == expected


def test_quoted_fields_with_delimiters_newlines_and_quotes(tmp_path):
    text = 'id,comment,n\n1,"Hello, world",3\n2,"two\nlines",4\n3,"say ""hi""",5\n'
    frame = read_table(write(tmp_path, "quoted.csv", text)).frame
    assert frame["comment"].tolist() == ["Hello, world", "two\nlines", 'say "hi"']
    assert frame["n"].tolist() == [3, 4, 5]


@pytest.mark.parametrize("token", NA_TOKENS)
def test_na_tokens_become_missing(tmp_path, token):
    frame = read_table(write(tmp_path, "na.csv", f"x,y\n1,a\n{token},b\n3,c\n")).frame
    assert frame["x"].isna().tolist() == [False, True, False]
    assert frame["x"].dtype == "float64"


def test_real_answers_are_not_missing(tmp_path):
    frame = read_table(write(tmp_path, "words.csv", "cars,x\nNone,1\nnone,2\nna,3\n-,4\n")).frame
    assert frame["cars"].tolist() == ["None", "none", "na", "-"]


def test_dot_is_missing_only_in_numeric_columns(tmp_path):
    frame = read_table(write(tmp_path, "dot.csv", "num,text\n1,a\n.,.\n3,c\n")).frame
    assert frame["num"].dtype == "float64"
    assert frame["num"].isna().tolist() == [False, True, False]
    assert frame["text"].tolist() == ["a", ".", "c"]


def test_blank_cells_are_missing(tmp_path):
    frame = read_table(write(tmp_path, "blank.csv", "num,text\n1,a\n  ,  \n3,c\n")).frame
    assert frame["num"].tolist()[0::2] == [1.0, 3.0] and pd.isna(frame["num"].iloc[1])
    assert frame["num"].dtype == "float64"
    assert pd.isna(frame["text"].iloc[1])


def test_rows_with_fewer_fields_are_padded_with_missing(tmp_path):
    frame = read_table(write(tmp_path, "short.csv", "a,b,c\n1,2,3\n4,5\n")).frame
    assert frame.shape == (2, 3) and pd.isna(frame["c"].iloc[1])


def test_bytes_input_matches_path_input(tmp_path):
    data = "a;b\n1;x\n2;y\n".encode("latin-1")
    from_path = read_table(write(tmp_path, "s.csv", data)).frame
    from_bytes = read_table(data, filename="s.csv").frame
    pd.testing.assert_frame_equal(from_path, from_bytes)


@pytest.mark.parametrize("text, line", [
    ("a,b,c\n1,2,3,4\n5,6,7\n", 2),          # first data row: pandas alone would drop the extra
    ("a,b,c\n1,2,3\n5,6,7\n8,9,10,11\n", 4),
])
def test_ragged_row_names_the_line(tmp_path, text, line):
    with pytest.raises(SimioError) as err:
        read_table(write(tmp_path, "ragged.csv", text))
    assert err.value.code == "simio_unreadable_file"
    assert f"line {line}" in err.value.detail and "header has 3" in err.value.detail


def test_ragged_row_far_past_the_sniffed_head(tmp_path):
    rows = HEAD_BYTES // 6 + 500
    text = "a,b\n" + "1,2\n" * rows + "1,2,3\n"
    with pytest.raises(SimioError) as err:
        read_table(write(tmp_path, "ragged.csv", text))
    assert err.value.code == "simio_unreadable_file"
    assert f"line {rows + 2}" in err.value.detail


def test_unterminated_quote_is_unreadable(tmp_path):
    with pytest.raises(SimioError) as err:
        read_table(write(tmp_path, "q.csv", 'a,b\n1,"open\n2,3\n'))
    assert err.value.code == "simio_unreadable_file"
    assert "q.csv" in err.value.detail and "never closed" in err.value.detail
