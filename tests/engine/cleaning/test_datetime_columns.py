"""Dates and datetimes are kept: every way a seed holds them becomes a ``date`` or
``datetime`` column on whole units since 1970-01-01, with the seed's precision."""

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from engine.cleaning import clean

from .seeds import raw, with_base

N = 200
DAYS = pd.Timestamp("2024-01-01") + pd.to_timedelta(np.arange(N) * 3 % 360, unit="D")
MINUTES = DAYS + pd.to_timedelta(np.arange(N) * 37 % 600, unit="min")
FIRST_DAY = (DAYS.min() - pd.Timestamp("1970-01-01")).days


@pytest.mark.parametrize("values, unit", [
    (DAYS, "D"),                                                      # datetime64, midnight
    (DAYS.strftime("%Y-%m-%d"), "D"),                                 # ISO text
    (DAYS.strftime("%d/%m/%Y"), "D"),                                 # day first
    (DAYS.strftime("%d.%m.%Y"), "D"),
    ([d.date() for d in DAYS], "D"),                                  # datetime.date objects
    (pd.array(DAYS.strftime("%Y-%m-%d"), dtype="string"), "D"),      # pandas string
    (pd.array(DAYS.strftime("%Y-%m-%d"), dtype=pd.ArrowDtype(pa.string())), "D"),
    (pd.array(pa.array([d.date() for d in DAYS], pa.date32()),
              dtype=pd.ArrowDtype(pa.date32())), "D"),                # Arrow date32
    (MINUTES, "m"),
    (MINUTES.strftime("%Y-%m-%dT%H:%M:%S"), "m"),
    (MINUTES.strftime("%m/%d/%Y %H:%M"), "m"),
    (list(MINUTES.to_pydatetime()), "m"),                             # datetime objects
    (DAYS + pd.to_timedelta(np.arange(N) % 7, unit="h"), "h"),
    (MINUTES + pd.to_timedelta(np.arange(N) % 3, unit="s"), "s"),
    (MINUTES + pd.to_timedelta(np.arange(N) % 3 * 250, unit="ms"), "ms"),
])
def test_dates_are_kept_at_the_seeds_resolution(values, unit):
    result = clean(raw(with_base(N, when=values)))
    column = result.schema["when"]
    assert column.type == ("date" if unit == "D" else "datetime")
    assert column.time_unit == unit and column.is_integer and not column.conditioning_excluded
    assert result.summary["dropped_columns"] == []
    frame = result.frame["when"]
    assert frame.dtype == np.float64 and (frame == frame.round()).all()
    if unit == "D":
        assert column.min == FIRST_DAY
        assert column.public_dict()["min"] == "2024-01-01"


def test_time_zones_are_modelled_in_utc_and_kept():
    values = MINUTES.tz_localize("America/New_York")
    column = clean(raw(with_base(N, when=values))).schema["when"]
    assert column.type == "datetime" and column.timezone == "America/New_York"
    assert column.public_dict()["min"] == values.min().isoformat()


def test_values_that_do_not_parse_become_missing():
    texts = list(DAYS.strftime("%Y-%m-%d"))
    texts[:10] = ["unknown"] * 10                     # 5% placeholders: still a date column
    result = clean(raw(with_base(N, when=texts)))
    assert result.schema["when"].type == "date"
    assert result.schema["when"].missing_rate == pytest.approx(10 / N)
    detail = next(d["detail"] for d in result.decisions if d["column"] == "when")
    assert "10 values that do not parse made missing" in detail


def test_text_that_is_mostly_not_dates_stays_text():
    texts = ["2024-01-01"] * 20 + [f"w{i % 30}" for i in range(N - 20)]
    assert clean(raw(with_base(N, when=texts))).schema["when"].type == "factor"


def test_auto_clean_false_keeps_dates():
    assert clean(raw(with_base(N, when=DAYS)), auto_clean=False).schema["when"].type == "date"


def test_a_daily_series_is_not_an_identifier_and_a_date_not_redundant():
    frame = with_base(N, day=pd.date_range("2024-01-01", periods=N),
                      at=pd.date_range("2024-01-01 08:00", periods=N, freq="D"))
    result = clean(raw(frame))
    assert result.summary["dropped_columns"] == []
    assert result.schema["day"].type == "date" and result.schema["at"].type == "datetime"


def test_input_frame_is_not_modified():
    frame = with_base(N, when=DAYS.strftime("%Y-%m-%d"))
    before = frame.copy()
    clean(raw(frame))
    pd.testing.assert_frame_equal(frame, before)


def test_spss_value_labelled_columns_stay_categorical():
    frame = with_base(N, wave=["1", "2"] * (N // 2))
    meta = {"level_order": {"wave": ["1", "2"]}, "value_labels": {"wave": {"1": "one"}}}
    assert clean(raw(frame, "sav", **meta)).schema["wave"].kind == "categorical"


def test_iso_text_with_offsets_is_a_utc_datetime():
    texts = [f"2024-03-{1 + i % 28:02d}T10:{i % 60:02d}:00{'+01:00' if i % 2 else 'Z'}"
             for i in range(N)]
    result = clean(raw(with_base(N, when=texts)))
    column = result.schema["when"]
    assert column.type == "datetime" and column.timezone == "UTC" and column.time_unit == "m"
    assert column.public_dict()["min"] == "2024-03-01T10:00:00+00:00"      # row 0, "Z"
    row1 = pd.Timestamp("2024-03-02T09:01:00") - pd.Timestamp("1970-01-01")   # +01:00
    assert result.frame["when"][1] == row1 // pd.Timedelta(minutes=1)
