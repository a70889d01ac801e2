"""engine/calendar.py: model units <-> calendar arrays and ISO texts, against hand-worked
values (days and minutes since 1970-01-01 computed with the standard library)."""

import datetime as dt

import numpy as np
import pyarrow as pa
import pytest

from engine import calendar
from engine.schema import Column

DATE = Column(name="d", type="date", source_name="d", time_unit="D")
MINUTES = Column(name="t", type="datetime", source_name="t", time_unit="m")
ROME = Column(name="t", type="datetime", source_name="t", time_unit="s", timezone="Europe/Rome")
EPOCH = dt.datetime(1970, 1, 1)


def days(text):
    return (dt.date.fromisoformat(text) - EPOCH.date()).days


def minutes(text):
    return (dt.datetime.fromisoformat(text) - EPOCH) // dt.timedelta(minutes=1)


def test_is_calendar():
    assert calendar.is_calendar(DATE) and calendar.is_calendar(MINUTES)
    assert not calendar.is_calendar(Column(name="x", type="integer", source_name="x"))


def test_to_arrow_dates_and_missing():
    arr = calendar.to_arrow(np.array([days("2024-02-29"), np.nan, 0.0]), DATE)
    assert arr.type == pa.date32()
    assert arr.to_pylist() == [dt.date(2024, 2, 29), None, dt.date(1970, 1, 1)]


def test_to_arrow_datetimes_keep_the_unit_and_zone():
    arr = calendar.to_arrow(np.array([float(minutes("2024-03-01T14:30:00"))]), MINUTES)
    assert arr.type == pa.timestamp("s")
    assert arr.to_pylist() == [dt.datetime(2024, 3, 1, 14, 30)]
    rome = calendar.to_arrow(np.array([0.0]), ROME)
    assert rome.type == pa.timestamp("s", tz="Europe/Rome")
    assert calendar.format_value(0.0, ROME) == "1970-01-01T01:00:00+01:00"


@pytest.mark.parametrize("text, side, expected", [
    ("2024-03-01", "min", days("2024-03-01")),
    ("2024-03-01", "max", days("2024-03-01")),
    ("2024-03-01T12:00", "min", days("2024-03-02")),     # a later time of day rounds up
    ("2024-03-01T12:00", "max", days("2024-03-01")),
])
def test_date_bounds_round_inwards(text, side, expected):
    assert calendar.parse_bound(text, DATE, side) == expected


def test_datetime_bounds_round_inwards_and_read_offsets():
    at = minutes("2024-03-01T14:30:00")
    assert calendar.parse_bound("2024-03-01T14:30:00", MINUTES, "min") == at
    assert calendar.parse_bound("2024-03-01T14:30:20", MINUTES, "min") == at + 1
    assert calendar.parse_bound("2024-03-01T14:30:20", MINUTES, "max") == at
    assert calendar.parse_bound("2024-03-01T15:30:00+01:00", MINUTES, "min") == at
    assert calendar.parse_bound("2024-03-01", MINUTES, "min") == minutes("2024-03-01T00:00")
    # a naive bound is read in the column's zone: 01:00 in Rome is midnight UTC
    assert calendar.parse_bound("1970-01-01T01:00:00", ROME, "min") == 0


@pytest.mark.parametrize("bad", ["yesterday", "2024-13-01", "", 17])
def test_bad_bounds_raise_value_error(bad):
    with pytest.raises((ValueError, TypeError)):
        calendar.parse_bound(bad, DATE, "min")


def test_format_round_trips_parse():
    for text in ("1969-12-31", "2000-01-01", "2024-02-29"):
        assert calendar.format_value(calendar.parse_bound(text, DATE, "min"), DATE) == text
    assert calendar.format_value(None, DATE) is None


def test_coarsest_unit():
    ns = np.array([0, 3_600 * 10**9 * 5], dtype=np.int64)
    assert calendar.coarsest_unit(ns) == "h"
    assert calendar.coarsest_unit(ns + 60 * 10**9) == "m"
    assert calendar.coarsest_unit(ns + 10**6) == "ms"
    assert calendar.coarsest_unit(ns + 1) == "us"           # nanoseconds are rounded


def test_calendar_columns_only_touch_calendar_columns():
    from engine.schema import Schema

    schema = Schema([DATE, Column(name="x", type="integer", source_name="x")])
    out = calendar.calendar_columns(schema, {"d": np.array([1, 2]), "x": np.array([1, 2])})
    assert list(out["d"]) == [dt.date(1970, 1, 2), dt.date(1970, 1, 3)]
    assert list(out["x"]) == [1, 2]
