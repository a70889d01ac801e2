"""Dates and datetimes leave through every output format as the same calendar values:
.sav as SPSS DATE/DATETIME, .xlsx as typed date cells, equal to the Parquet rows."""

from __future__ import annotations

import datetime as dt

import numpy as np
import openpyxl
import pandas as pd
import pyreadstat
import pytest

from engine.synthesizer import Synthesizer


@pytest.fixture(scope="module")
def synth():
    rng = np.random.default_rng(5)
    n = 500
    day = pd.Timestamp("2023-01-01") + pd.to_timedelta(rng.integers(0, 500, n), unit="D")
    hour = pd.Timestamp("2023-01-01 06:00") + pd.to_timedelta(rng.integers(0, 9000, n),
                                                               unit="h")
    frame = pd.DataFrame({"visit": day.strftime("%Y-%m-%d"),
                          "seen_at": hour.strftime("%Y-%m-%dT%H:00:00"),
                          "spend": np.round(rng.gamma(2.0, 15.0, n), 2),
                          "segment": rng.choice(["a", "b", "c"], n)})
    return Synthesizer().fit(frame)


def _reference(synth, tmp_path) -> pd.DataFrame:
    synth.write(tmp_path / "ref.parquet", 300, seed=11)
    return pd.read_parquet(tmp_path / "ref.parquet")


def test_sav_output_keeps_dates_and_datetimes(synth, tmp_path):
    ref = _reference(synth, tmp_path)
    synth.write(tmp_path / "out.sav", 300, seed=11)
    data, meta = pyreadstat.read_sav(tmp_path / "out.sav")
    assert meta.original_variable_types["visit"].startswith("DATE")
    assert meta.original_variable_types["seen_at"].startswith("DATETIME")
    assert list(pd.to_datetime(data["visit"])) == list(pd.to_datetime(ref["visit"]))
    assert list(pd.to_datetime(data["seen_at"])) == list(pd.to_datetime(ref["seen_at"]))
    assert pd.to_datetime(data["seen_at"]).min().year >= 2023      # not the epoch


def test_xlsx_output_keeps_dates_and_datetimes(synth, tmp_path):
    ref = _reference(synth, tmp_path)
    synth.write(tmp_path / "out.xlsx", 300, seed=11)
    sheet = openpyxl.load_workbook(tmp_path / "out.xlsx").active
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    header = [c.value for c in sheet[1]]
    visit = [r[header.index("visit")] for r in rows]
    seen = [r[header.index("seen_at")] for r in rows]
    assert all(isinstance(v, dt.datetime) for v in visit + seen)
    assert [v.date() for v in visit] == list(pd.to_datetime(ref["visit"]).dt.date)
    assert seen == list(pd.to_datetime(ref["seen_at"]).dt.to_pydatetime())


def test_wall_clock_of_an_aware_datetime_is_its_local_time():
    from engine.calendar import as_wall_clock

    import pyarrow as pa

    stamps = pd.Series(pd.arrays.ArrowExtensionArray(pa.array(
        [0, None], type=pa.timestamp("s", tz="America/New_York"))))
    wall = as_wall_clock(stamps)
    assert wall.dtype.tz is None if hasattr(wall.dtype, "tz") else True
    assert wall[0] == pd.Timestamp("1969-12-31 19:00:00") and pd.isna(wall[1])
    assert as_wall_clock(pd.Series([1.0, 2.0])) is None
