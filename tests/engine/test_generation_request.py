"""The one generation-request rule (engine/generation_request.py), and the front ends that
read a scenario file by it: `simio generate` and `simio report` agree on every file."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from engine.api import FORMATS, SEED_MAX, as_body, check_seed, parse_request
from engine.cli import main
from engine.datasets import QUICKSTART_SCENARIO, quickstart_frame
from engine.errors import SimioError

CONDITIONS = {"categorical": {"segment": {"Premium": 0.5}}}


@pytest.mark.parametrize("scenario, body", [
    (CONDITIONS, {"conditions": CONDITIONS}),               # a bare conditions object
    ({}, {"conditions": None}),
    ({"row_count": 5}, {"row_count": 5}),                   # any request field: a body
    ({"seed": 1, "categorical": {}}, {"seed": 1, "categorical": {}}),
    (QUICKSTART_SCENARIO, QUICKSTART_SCENARIO),
])
def test_a_scenario_is_a_body_when_it_has_a_request_field(scenario, body):
    assert as_body(scenario) == body


@pytest.mark.parametrize("body, code", [
    ({"row_count": 5, "output_format": "csv", "colour": 1}, "simio_invalid_field"),
    ({"seed": 1, "categorical": {}}, "simio_invalid_field"),          # body + conditions mixed
    ({"output_format": "csv"}, "simio_invalid_field"),                 # no row_count
    ({"row_count": 0, "output_format": "csv"}, "simio_invalid_field"),
    ({"row_count": True, "output_format": "csv"}, "simio_invalid_field"),
    ({"row_count": 5, "output_format": "xml"}, "simio_invalid_field"),
    ({"row_count": 5, "output_format": "csv", "seed": -1}, "simio_invalid_field"),
    ({"row_count": 5, "output_format": "csv", "seed": SEED_MAX + 1}, "simio_invalid_field"),
    ({"row_count": 5, "output_format": "csv", "conditions": []}, "simio_invalid_field"),
    ({"row_count": 5, "output_format": "csv",
      "conditions": {"numeric": {"age": {"min": 1, "max": 2, "step": 1}}}}, "simio_invalid_field"),
    ({"row_count": 11, "output_format": "csv"}, "simio_per_request_cap_exceeded"),
])
def test_bad_requests_are_refused_with_a_stable_code(body, code):
    with pytest.raises(SimioError) as info:
        parse_request(body, max_rows=10)
    assert info.value.code == code


def test_arguments_override_the_body_and_the_default_format_applies_last():
    body = {"row_count": 5, "seed": 3, "conditions": CONDITIONS}
    request = parse_request(body, row_count=7, seed=9, default_format="arrow")
    assert (request.row_count, request.seed, request.output_format, request.conditions) == \
        (7, 9, "arrow", CONDITIONS)
    assert parse_request({**body, "output_format": "csv"}, default_format="arrow"
                         ).output_format == "csv"
    assert set(FORMATS) == {"parquet", "csv", "arrow", "sav", "xlsx"}


@pytest.mark.parametrize("seed", [0, 1, SEED_MAX, None])
def test_seeds_in_range_pass_unchanged(seed):
    assert check_seed(seed) == seed


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("request")
    seed = folder / "seed.csv"
    quickstart_frame(300).to_csv(seed, index=False)
    model = folder / "model.simio"
    result = CliRunner().invoke(main, ["train", str(seed), "-o", str(model)])
    assert result.exit_code == 0, result.output
    return folder, seed, model


@pytest.mark.parametrize("scenario, code", [
    ({"row_count": 50, "conditions": CONDITIONS, "note": "x"}, "simio_invalid_field"),
    ({"row_count": 50, "categorical": CONDITIONS["categorical"]}, "simio_invalid_field"),
    ({"numeric": {"age": {"min": 30}}}, "simio_invalid_range"),
    ({"row_count": -3, "conditions": CONDITIONS}, "simio_invalid_field"),
])
def test_generate_and_report_read_a_scenario_file_the_same_way(files, scenario, code):
    folder, seed, model = files
    path = folder / "scenario.json"
    path.write_text(json.dumps(scenario))
    runner = CliRunner()
    rows = [] if "row_count" in scenario else ["-n", "50"]      # a flag would win
    generated = runner.invoke(main, ["generate", str(model), *rows, "--scenario",
                                     str(path), "-o", str(folder / "out.csv")])
    reported = runner.invoke(main, ["report", str(seed), str(seed), "--scenario", str(path),
                                    "-o", str(folder / "report.html")])
    for result in (generated, reported):
        assert result.exit_code == 2, result.output
        assert result.output.splitlines()[0].startswith(f"error: {code}: ")
    assert not (folder / "out.csv").exists() and not (folder / "report.html").exists()


def test_the_cli_bounds_the_seed_like_the_server(files):
    folder, _, model = files
    result = CliRunner().invoke(main, ["generate", str(model), "-n", "5", "--seed", "-1",
                                       "-o", str(folder / "neg.csv")])
    assert result.exit_code == 2
    assert result.output.startswith("error: simio_invalid_field: seed must be an integer")


def test_a_format_with_a_row_limit_is_refused_above_it_before_any_work():
    from engine.formats import MAX_ROWS

    assert parse_request({"row_count": MAX_ROWS["xlsx"], "output_format": "xlsx"}).row_count \
        == MAX_ROWS["xlsx"]
    with pytest.raises(SimioError) as info:
        parse_request({"row_count": MAX_ROWS["xlsx"] + 1, "output_format": "xlsx"})
    assert info.value.code == "simio_invalid_field" and "xlsx" in info.value.detail
