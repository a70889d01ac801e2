"""Seed-file limits (issue 10, defects 1 and 3): each hostile file is refused by a cheap
check with a catalogue code naming the limit, before pandas or openpyxl does the work."""

import io
import resource
import zipfile

import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from engine.errors import SimioError
from engine.io import limits, read_table
from tests.engine.io.attacks import (
    ONE_LINE_5MB, REPEATED_NAMES_64K, far_cells_xlsx, xlsx_bomb,
)


def refused(source, code, filename="seed.csv"):
    with pytest.raises(SimioError) as err:
        read_table(source, filename=filename)
    assert err.value.code == code, err.value.detail
    return err.value.detail


def test_a_header_of_repeated_names_is_refused_by_the_column_limit():
    detail = refused(REPEATED_NAMES_64K, "simio_too_many_columns")
    assert f"{limits.MAX_COLUMNS:,}" in detail and "32,769" in detail


def test_a_5mb_line_without_breaks_is_refused_by_the_header_limit():
    detail = refused(ONE_LINE_5MB, "simio_line_too_long")
    assert f"{limits.MAX_HEADER_BYTES:,}" in detail


def test_the_column_limit_is_inclusive():
    n = limits.MAX_COLUMNS
    ok = (",".join(f"c{i}" for i in range(n)) + "\n" + ",".join(["1"] * n) + "\n").encode()
    assert read_table(ok, filename="ok.csv").frame.shape == (1, n)
    over = (",".join(f"c{i}" for i in range(n + 1)) + "\n" + ",".join(["1"] * (n + 1))).encode()
    refused(over, "simio_too_many_columns")


def test_a_long_header_under_the_limit_still_reads():
    names = [f"{'x' * 400}{i}" for i in range(300)]          # ~120 KB: past the sniffed head
    data = (",".join(names) + "\n" + ",".join(["1"] * 300) + "\n").encode()
    assert list(read_table(data, filename="wide.csv").frame.columns) == names


def test_the_cell_budget_caps_rows_times_columns(monkeypatch):
    monkeypatch.setattr(limits, "MAX_CELLS", 100)
    ok = b"a,b\n" + b"1,2\n" * 50
    assert len(read_table(ok, filename="ok.csv").frame) == 50
    detail = refused(b"a,b\n" + b"1,2\n" * 51, "simio_too_many_cells")
    assert "100 cells" in detail


@pytest.mark.parametrize("header", [
    "a,a,a,b,a", "a,a.1,a,a", ",,x,", "a.1,a,a", "x,x.1,x.1,x", " a,a , a"])
def test_duplicate_names_are_mangled_exactly_as_pandas_does(header):
    line = header + "\n" + ",".join(["1"] * len(header.split(","))) + "\n"
    expected = list(pd.read_csv(io.StringIO(line)).columns)
    assert limits.unique_names(header.split(",")) == expected
    assert list(read_table(line.encode(), filename="d.csv").frame.columns) == expected


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["a", "a.1", "a.2", "a.1.1", "b", "", "Unnamed: 1"]),
                min_size=1, max_size=12))
def test_mangling_matches_pandas_on_any_header(fields):
    assume(fields != [""])                     # a blank line is skipped, not a header
    line = ",".join(fields) + "\n" + ",".join(["1"] * len(fields)) + "\n"
    try:
        expected = list(pd.read_csv(io.StringIO(line), index_col=False).columns)
    except pd.errors.ParserError:
        return
    ours = limits.unique_names(fields)
    assert ours is None or ours == expected
    assert list(read_table(line.encode(), filename="h.csv").frame.columns) == expected


def test_mangling_many_duplicates_stays_cheap():
    # Count the dict operations instead of timing: linear means ~2 probes per name.
    names = limits.unique_names(["a"] * 50_000)
    assert len(set(names)) == 50_000 and names[:3] == ["a", "a.1", "a.2"]


def test_a_far_cells_workbook_is_refused_by_the_column_limit():
    detail = refused(far_cells_xlsx(), "simio_too_many_columns", filename="far.xlsx")
    assert "16,384 columns" in detail


def test_a_sheet_used_range_is_held_to_the_cell_budget(monkeypatch):
    monkeypatch.setattr(limits, "MAX_CELLS", 10)
    frame = pd.DataFrame({"a": range(6), "b": range(6)})     # 7 rows x 2 columns = 14
    buf = io.BytesIO()
    frame.to_excel(buf, index=False)
    refused(buf.getvalue(), "simio_too_many_cells", filename="big.xlsx")


def test_a_small_xlsx_bomb_is_refused_on_its_declared_size(monkeypatch):
    monkeypatch.setattr(limits, "MAX_XLSX_EXPANDED_BYTES", 8 * 1024 * 1024)
    detail = refused(xlsx_bomb(16 * 1024 * 1024), "simio_archive_too_large", "bomb.xlsx")
    assert "8,388,608 bytes" in detail


@pytest.mark.slow
def test_the_issue_xlsx_bomb_is_refused_without_inflating_it():
    bomb = xlsx_bomb(limits.MAX_XLSX_EXPANDED_BYTES + 64 * 1024 * 1024)
    assert len(bomb) < 2 * 1024 * 1024
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    refused(bomb, "simio_archive_too_large", "bomb.xlsx")
    grown_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert grown_kb < 64 * 1024, f"peak RSS grew by {grown_kb} KB"


def many_part_zip(parts: int) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("xl/workbook.xml", b"<workbook/>")
        for i in range(parts - 1):
            archive.writestr(f"p{i}", b"")
    return buf.getvalue()


def test_a_zip_of_too_many_parts_is_refused_before_zipfile_parses_it(monkeypatch):
    monkeypatch.setattr(limits, "MAX_ZIP_ENTRIES", 50)
    detail = refused(many_part_zip(51), "simio_archive_too_large", "many.xlsx")
    assert "51 parts" in detail and "50 are accepted" in detail
    assert limits.zip_entry_count(io.BytesIO(many_part_zip(50))) == 50


def test_zip64_entry_counts_are_read_from_their_own_record():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr("a", b"x")
    raw = bytearray(buf.getvalue())
    # Rewrite as a ZIP64 end record stating 70,000 entries, as a huge archive would.
    at = raw.rfind(b"PK\x05\x06")
    record64 = (b"PK\x06\x06" + (44).to_bytes(8, "little") + b"\x2d\x00\x2d\x00"
                + b"\x00" * 8 + (70_000).to_bytes(8, "little") * 2 + b"\x00" * 16)
    raw[at + 10:at + 12] = b"\xff\xff"
    assert limits.zip_entry_count(io.BytesIO(bytes(raw[:at]) + record64 + bytes(raw[at:]))) \
        == 70_000


def test_parquet_and_sav_headers_are_held_to_the_limits_before_the_data(monkeypatch, tmp_path):
    import pyreadstat

    monkeypatch.setattr(limits, "MAX_COLUMNS", 3)
    wide = pd.DataFrame({f"c{i}": [1.0, 2.0] for i in range(4)})
    buf = io.BytesIO()
    wide.to_parquet(buf, index=False)
    refused(buf.getvalue(), "simio_too_many_columns", "wide.parquet")
    pyreadstat.write_sav(wide, tmp_path / "wide.sav")
    refused(tmp_path / "wide.sav", "simio_too_many_columns", "wide.sav")
    monkeypatch.setattr(limits, "MAX_COLUMNS", 10)
    monkeypatch.setattr(limits, "MAX_CELLS", 7)
    refused(buf.getvalue(), "simio_too_many_cells", "wide.parquet")
    refused(tmp_path / "wide.sav", "simio_too_many_cells", "wide.sav")
