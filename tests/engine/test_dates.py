"""A date and a datetime column end to end: trained from a real CSV file, generated inside
the seed's range at the seed's precision, conditioned by ISO ranges (Python and CLI),
written as date32 / timestamp to Parquet, Arrow and CSV and read back."""

import datetime as dt
import json

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.ipc as ipc
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from engine.cli import main
from engine.errors import SimioError
from engine.synthesizer import Synthesizer
from tests.kinds_seed import FIRST_DAY, LAST_DAY, kinds_frame, rare_share

RANGE = {"visit": {"min": "2023-11-01", "max": "2023-11-30"}}


@pytest.fixture(scope="module")
def seed_csv(tmp_path_factory):
    path = tmp_path_factory.mktemp("dates") / "visits.csv"
    kinds_frame().to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def synth(seed_csv):
    return Synthesizer().fit(seed_csv)


def test_schema_types_and_iso_ranges(synth):
    public = {c["name"]: c for c in synth.schema_.public()}
    assert public["visit"] == {"name": "visit", "type": "date", "min": FIRST_DAY,
                               "max": LAST_DAY, "conditioning_excluded": False}
    assert public["logged"]["type"] == "datetime"
    seed = kinds_frame()
    assert public["logged"]["min"] == pd.to_datetime(seed["logged"]).min().isoformat()


def test_generated_dates_stay_in_range_at_the_seeds_precision(synth):
    out = synth.sample(4000, seed=11)
    assert out["visit"].dtype == pd.ArrowDtype(pa.date32())
    visit = pd.to_datetime(out["visit"].astype("datetime64[s]"))
    assert visit.min() >= pd.Timestamp(FIRST_DAY) and visit.max() <= pd.Timestamp(LAST_DAY)
    logged = out["logged"].astype("datetime64[s]")
    seed = pd.to_datetime(kinds_frame()["logged"])
    assert logged.min() >= seed.min() and logged.max() <= seed.max()
    assert (logged.dt.second == 0).all()                         # the seed has whole minutes
    # dates are not stuck on a few values: most months of the year appear
    assert visit.dt.month.nunique() == 12


def test_an_iso_range_conditions_the_date_and_moves_what_depends_on_it(synth):
    free = synth.sample(3000, seed=4)
    generation = synth.generate(3000, seed=4, conditions={"numeric": RANGE})
    out = generation.to_frame()
    visit = out["visit"].astype("datetime64[s]")
    assert visit.min() >= pd.Timestamp("2023-11-01") and visit.max() <= pd.Timestamp("2023-11-30")
    assert generation.scenario["numeric"]["visit"] == RANGE["visit"]
    # spend grows by ~3 per month in the seed: November rows spend more than the year's mean
    seed = kinds_frame()
    november = seed.loc[seed["visit"].between("2023-11-01", "2023-11-30"), "spend"]
    tolerance = 4 * seed["spend"].std() / np.sqrt(len(november))
    assert abs(out["spend"].mean() - november.mean()) < tolerance
    assert out["spend"].mean() > free["spend"].mean() + 5


@pytest.mark.parametrize("bounds, code", [
    ({"min": "next tuesday", "max": "2023-11-30"}, "simio_invalid_range"),
    ({"min": "2023-12-01", "max": "2023-11-01"}, "simio_invalid_range"),
    ({"min": "2030-01-01", "max": "2030-02-01"}, "simio_infeasible_scenario"),
])
def test_bad_iso_ranges_are_refused_naming_the_column(synth, bounds, code):
    with pytest.raises(SimioError) as info:
        synth.sample(10, seed=1, conditions={"numeric": {"visit": bounds}})
    assert info.value.code == code and "visit" in str(info.value)


@pytest.mark.parametrize("fmt", ["parquet", "arrow", "csv"])
def test_files_hold_dates_and_are_deterministic(synth, tmp_path, fmt):
    first, second = tmp_path / f"a.{fmt}", tmp_path / f"b.{fmt}"
    for path in (first, second):
        synth.write(path, 700, fmt=fmt, seed=9, conditions={"numeric": RANGE})
    assert first.read_bytes() == second.read_bytes()
    if fmt == "parquet":
        table = pq.read_table(first)
    elif fmt == "arrow":
        table = ipc.open_file(first).read_all()
    else:
        table = pacsv.read_csv(first)                # Arrow infers the types from the text
    assert table.schema.field("visit").type == pa.date32()
    assert pa.types.is_timestamp(table.schema.field("logged").type)
    days = table.column("visit").to_pylist()
    assert min(days) >= dt.date(2023, 11, 1) and max(days) <= dt.date(2023, 11, 30)


def test_save_and_load_keep_the_date_columns(synth, tmp_path):
    loaded = Synthesizer.load(synth.save(tmp_path / "m.simio"))
    assert loaded.schema_["logged"] == synth.schema_["logged"]
    pd.testing.assert_frame_equal(loaded.sample(300, seed=5), synth.sample(300, seed=5))


def test_cli_scenario_file_with_iso_bounds(seed_csv, tmp_path):
    model = tmp_path / "m.simio"
    runner = CliRunner()
    result = runner.invoke(main, ["train", str(seed_csv), "-o", str(model)])
    assert result.exit_code == 0, result.output
    scenario = tmp_path / "scenario.json"
    scenario.write_text(json.dumps({"numeric": RANGE}))
    out = tmp_path / "out.csv"
    result = runner.invoke(main, ["generate", str(model), "--rows", "500", "--seed", "3",
                                  "--scenario", str(scenario), "-o", str(out)])
    assert result.exit_code == 0, result.output
    frame = pd.read_csv(out, parse_dates=["visit", "logged"])
    assert len(frame) == 500
    assert frame["visit"].between("2023-11-01", "2023-11-30").all()
    assert rare_share(frame["comment"], kinds_frame()["comment"]) == 0.0
    schema = json.loads(runner.invoke(main, ["schema", str(model)]).output)["schema"]
    assert {c["name"]: c["type"] for c in schema}["visit"] == "date"


def test_cli_bad_iso_bound_is_a_one_line_error(seed_csv, tmp_path):
    model = tmp_path / "m.simio"
    runner = CliRunner()
    assert runner.invoke(main, ["train", str(seed_csv), "-o", str(model)]).exit_code == 0
    scenario = tmp_path / "bad.json"
    scenario.write_text(json.dumps({"numeric": {"visit": {"min": "1.11.2023",
                                                          "max": "2023-11-30"}}}))
    out = tmp_path / "out.parquet"
    result = runner.invoke(main, ["generate", str(model), "--rows", "5", "--scenario",
                                  str(scenario), "-o", str(out)])
    assert result.exit_code == 2 and result.output.startswith("error: simio_invalid_range")
    assert not out.exists()


def test_report_takes_the_same_iso_scenario(synth, seed_csv, tmp_path):
    from engine.quality.report import build_report

    scenario = {"conditions": {"numeric": RANGE}, "row_count": 400}
    synthetic = synth.sample(400, seed=8, conditions={"numeric": RANGE})
    page = build_report(pd.read_csv(seed_csv), synthetic, scenario=scenario)
    # the range table: the bounds in days since 1970 and no row outside them
    first = (pd.Timestamp("2023-11-01") - pd.Timestamp("1970-01-01")).days
    assert f"visit</td><td>{first}.000</td><td>{first + 29}.000</td><td>0</td>" in page
    outside = synthetic.assign(visit=synthetic["visit"].astype(str).replace("2023-11-05",
                                                                             "2023-12-05"))
    page = build_report(pd.read_csv(seed_csv), outside, scenario=scenario)
    assert f"visit</td><td>{first}.000</td><td>{first + 29}.000</td><td>0</td>" not in page
