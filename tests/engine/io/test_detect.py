"""Format detection from content, and the errors for files that are not tables."""

import gzip
import io
import zipfile

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.errors import SimioError
from engine.io import RawTable, read_table
from engine.io.detect import sniff

FRAME = pd.DataFrame({"a": [1, 2, 3], "b": ["x", "y", "z"]})


def raises(source, code, *words, filename=None):
    with pytest.raises(SimioError) as err:
        read_table(source, filename=filename)
    assert err.value.code == code, err.value.detail
    for word in words:
        assert word.lower() in err.value.detail.lower(), err.value.detail
    return err.value


def parquet_bytes(frame=FRAME):
    buf = io.BytesIO()
    frame.to_parquet(buf, index=False)
    return buf.getvalue()


def xlsx_bytes(frame=FRAME):
    buf = io.BytesIO()
    frame.to_excel(buf, index=False, engine="openpyxl")
    return buf.getvalue()


# --- the content decides, the extension does not -------------------------------------

@pytest.mark.parametrize("make, fmt", [(parquet_bytes, "parquet"), (xlsx_bytes, "xlsx")])
def test_binary_format_named_csv_is_read_by_content(tmp_path, make, fmt):
    path = tmp_path / "seed.csv"
    path.write_bytes(make())
    table = read_table(path)
    assert table.source_format == fmt
    assert table.frame["a"].tolist() == [1, 2, 3]
    assert table.frame["b"].tolist() == ["x", "y", "z"]


def test_text_named_parquet_is_read_as_csv(tmp_path):
    path = tmp_path / "seed.parquet"
    path.write_text("a,b\n1,x\n")
    assert read_table(path).source_format == "csv"


def test_sniff_reads_only_the_head(tmp_path):
    path = tmp_path / "seed.csv"
    path.write_text("a,b\n" + "1,2\n" * 100_000)
    sniffed = sniff(path)
    assert sniffed.fmt == "csv" and sniffed.truncated_head and len(sniffed.head) == 64 * 1024


# --- empty and header-only -----------------------------------------------------------

@pytest.mark.parametrize("data", [b"", b"   \n\t\r\n  ", b"\xef\xbb\xbf", b"\xef\xbb\xbf \n",
                                  "\ufeff  \n".encode("utf-16")])
def test_empty_or_whitespace_only(tmp_path, data):
    path = tmp_path / "empty.csv"
    path.write_bytes(data)
    raises(path, "simio_empty_file", "empty.csv", "empty")
    raises(data, "simio_empty_file", "upload.csv", filename="upload.csv")


def test_long_whitespace_only_file_is_empty(tmp_path):
    path = tmp_path / "spaces.csv"
    path.write_bytes(b" \n" * 100_000)
    raises(path, "simio_empty_file")


@pytest.mark.parametrize("text", ["a,b,c\n", "a,b,c", "a;b\n\n\n", "\ufeffa\tb\r\n"])
def test_header_only_csv(tmp_path, text):
    path = tmp_path / "header.csv"
    path.write_text(text, encoding="utf-8")
    raises(path, "simio_no_data_rows", "header.csv", "no data rows")


def test_header_only_parquet(tmp_path):
    path = tmp_path / "header.parquet"
    FRAME.iloc[:0].to_parquet(path, index=False)
    raises(path, "simio_no_data_rows", "header.parquet", "no data rows")


def test_header_only_xlsx(tmp_path):
    path = tmp_path / "header.xlsx"
    FRAME.iloc[:0].to_excel(path, index=False, engine="openpyxl")
    raises(path, "simio_no_data_rows", "header.xlsx")


# --- not a table ----------------------------------------------------------------------

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10\x00\x00\x00\x10\x08\x06\x00\x00\x00"


@pytest.mark.parametrize("data, words", [
    (PNG, ["PNG"]),
    (np.random.default_rng(0).bytes(4096), ["binary"]),
    (gzip.compress(b"a,b\n1,2\n"), ["gzip"]),
    (b"%PDF-1.7\n" + bytes(range(256)), ["PDF"]),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(500), [".xls"]),
])
def test_unsupported_binary(tmp_path, data, words):
    path = tmp_path / "upload.csv"
    path.write_bytes(data)
    raises(path, "simio_unsupported_file_format", "upload.csv", *words)


def test_zip_that_is_not_xlsx(tmp_path):
    path = tmp_path / "bundle.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("readme.txt", "hello")
        archive.writestr("data.csv", "a,b\n1,2\n")
    raises(path, "simio_unsupported_file_format", "bundle.zip", "zip")


def test_binary_named_like_a_format_we_read_is_unreadable(tmp_path):
    path = tmp_path / "seed.sav"
    path.write_bytes(np.random.default_rng(1).bytes(2048))
    raises(path, "simio_unreadable_file", "seed.sav", ".sav")


def test_missing_path(tmp_path):
    raises(tmp_path / "nope.csv", "simio_unreadable_file", "nope.csv")


# --- corrupt files of formats we read -------------------------------------------------

def test_truncated_parquet(tmp_path):
    data = parquet_bytes()
    for cut in (len(data) // 2, len(data) - 3):
        path = tmp_path / "seed.parquet"
        path.write_bytes(data[:cut])
        raises(path, "simio_unreadable_file", "seed.parquet", "Parquet", "truncated or corrupt")


def test_parquet_with_garbage_inside(tmp_path):
    data = bytearray(parquet_bytes())
    data[8:200] = bytes(192)                   # keep both magics, wreck the pages
    path = tmp_path / "seed.parquet"
    path.write_bytes(bytes(data))
    try:
        read_table(path)                       # some damage pyarrow cannot see; never a crash
    except SimioError as err:
        assert err.code == "simio_unreadable_file"


@pytest.mark.parametrize("name", ["seed.xlsx", "seed.bin"])
def test_truncated_xlsx(tmp_path, name):
    data = xlsx_bytes()
    path = tmp_path / name
    path.write_bytes(data[: len(data) // 2])
    raises(path, "simio_unreadable_file", name, "Excel")


def test_xlsx_missing_its_sheet(tmp_path):
    src = zipfile.ZipFile(io.BytesIO(xlsx_bytes()))
    path = tmp_path / "seed.xlsx"
    with zipfile.ZipFile(path, "w") as dst:
        for info in src.infolist():
            if not info.filename.startswith("xl/worksheets/"):
                dst.writestr(info, src.read(info))
    raises(path, "simio_unreadable_file", "seed.xlsx", "Excel")


# --- property: whatever the bytes, a RawTable or a SimioError --------------------------

@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.one_of(
    st.binary(max_size=300),
    st.text(max_size=300).map(lambda s: s.encode("utf-8")),
    st.binary(max_size=200).map(lambda b: b"PAR1" + b),
    st.binary(max_size=200).map(lambda b: b"$FL2" + b),
    st.binary(max_size=200).map(lambda b: b"PK\x03\x04" + b),
    st.integers(1, 2000).map(lambda cut: parquet_bytes()[:cut]),
))
def test_never_a_raw_exception(data):
    try:
        table = read_table(data, filename="fuzz")
    except SimioError as err:
        assert err.code in {"simio_empty_file", "simio_no_data_rows",
                            "simio_unsupported_file_format", "simio_unreadable_file"}
    else:
        assert isinstance(table, RawTable) and len(table.frame) > 0
