"""The `simio` command: real files, real round trips, one-line errors with exit code 2."""

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from engine.cli import main
from engine.datasets import QUICKSTART_SCENARIO, quickstart_frame

DATA = Path(__file__).resolve().parents[2] / "data"


@pytest.fixture(scope="module")
def model_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("cli") / "model.simio"
    result = CliRunner().invoke(main, ["train", str(DATA / "quickstart_seed.csv"), "-o", str(path)])
    assert result.exit_code == 0, result.output
    assert "800 rows x 5 columns" in result.output
    return path


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_schema_prints_the_contract_schema(model_path):
    result = run("schema", model_path)
    assert result.exit_code == 0
    body = json.loads(result.output)
    names = [c["name"] for c in body["schema"]]
    assert names == ["age", "segment", "channel", "region", "purchase_intent"]
    assert body["cleaning_summary"]["dropped_columns"] == []


@pytest.mark.parametrize("fmt", ["parquet", "csv", "arrow"])
def test_generate_writes_each_format(model_path, tmp_path, fmt):
    out = tmp_path / f"out.{fmt}"
    result = run("generate", model_path, "--rows", 1234, "--seed", 5, "--format", fmt, "-o", out)
    assert result.exit_code == 0, result.output
    if fmt == "parquet":
        frame = pd.read_parquet(out)
    elif fmt == "csv":
        frame = pd.read_csv(out)
    else:
        import pyarrow.ipc as ipc
        frame = ipc.open_file(out).read_all().to_pandas()
    assert len(frame) == 1234
    assert list(frame.columns) == ["age", "segment", "channel", "region", "purchase_intent"]
    assert frame["age"].between(18, 65).all()
    assert str(frame["age"].dtype) == "int64"


def test_generate_is_deterministic_for_a_seed(model_path, tmp_path):
    for name in ("a", "b"):
        assert run("generate", model_path, "-n", 3000, "--seed", 11, "-o",
                   tmp_path / f"{name}.csv").exit_code == 0
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()


def test_generate_with_a_whole_request_body(model_path, tmp_path):
    scenario = tmp_path / "scenario.json"
    scenario.write_text(json.dumps(QUICKSTART_SCENARIO))
    out = tmp_path / "scenario.parquet"
    result = run("generate", model_path, "--scenario", scenario, "-o", out)
    assert result.exit_code == 0, result.output
    assert "rows requested: 5000" in result.output
    assert "rows generated: 5000" in result.output and "status: ready" in result.output
    assert "Premium 0.5500 (target 0.55)" in result.output
    frame = pq.read_table(out).to_pandas()
    assert (frame["segment"].astype(str) == "Premium").sum() == 2750
    assert frame["purchase_intent"].between(70, 100).all()


def test_generate_with_a_conditions_object(model_path, tmp_path):
    scenario = tmp_path / "conditions.json"
    scenario.write_text(json.dumps({"categorical": {"region": {"West": 0.5}}}))
    result = run("generate", model_path, "-n", 1000, "--scenario", scenario,
                 "-o", tmp_path / "o.csv")
    assert result.exit_code == 0, result.output
    assert (pd.read_csv(tmp_path / "o.csv")["region"] == "West").sum() == 500


@pytest.mark.parametrize("body, code", [
    ({"categorical": {"segmnt": {"Premium": 0.5}}}, "simio_unknown_condition_column"),
    ({"categorical": {"segment": {"Gold": 0.5}}}, "simio_unknown_condition_level"),
    ({"categorical": {"segment": {"Premium": 55}}}, "simio_invalid_share"),
    ({"numeric": {"age": {"min": 50, "max": 30}}}, "simio_invalid_range"),
])
def test_bad_scenarios_fail_in_one_line_and_write_nothing(model_path, tmp_path, body, code):
    scenario = tmp_path / "bad.json"
    scenario.write_text(json.dumps(body))
    out = tmp_path / "never.parquet"
    result = run("generate", model_path, "-n", 100, "--scenario", scenario, "-o", out)
    assert result.exit_code == 2
    first = result.output.splitlines()[0]
    assert first.startswith(f"error: {code}: ")
    assert not out.exists() and list(tmp_path.iterdir()) == [scenario]


def test_bad_seed_file_is_a_one_line_error(tmp_path):
    bad = tmp_path / "seed.csv"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    result = run("train", bad, "-o", tmp_path / "m.simio")
    assert result.exit_code == 2
    assert result.output.startswith("error: simio_")
    assert not (tmp_path / "m.simio").exists()


def test_missing_seed_and_bad_model_files(tmp_path):
    assert run("train", tmp_path / "nope.csv", "-o", tmp_path / "m.simio").exit_code == 2
    fake = tmp_path / "fake.simio"
    fake.write_text("age,segment\n1,a\n")
    result = run("schema", fake)
    assert result.exit_code == 2 and "simio_invalid_model_file" in result.output


def test_rows_are_required(model_path, tmp_path):
    result = run("generate", model_path, "-o", tmp_path / "x.parquet")
    assert result.exit_code == 2 and "simio_invalid_field" in result.output


def test_console_script_runs_the_quickstart(tmp_path):
    """The installed entry point, as a user runs it (README's first command)."""
    proc = subprocess.run([sys.executable, "-m", "engine.cli", "quickstart", "-o", str(tmp_path)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    frame = pd.read_parquet(tmp_path / "synthetic.parquet")
    assert len(frame) == 5000
    assert frame["age"].between(25, 44).all()
    seed = pd.read_csv(tmp_path / "seed.csv")
    pd.testing.assert_frame_equal(seed, quickstart_frame(), check_dtype=False)


def test_generate_with_a_request_body_without_conditions(model_path, tmp_path):
    scenario = tmp_path / "body.json"
    scenario.write_text(json.dumps({"row_count": 50, "seed": 1, "output_format": "csv"}))
    result = run("generate", model_path, "--scenario", scenario, "-o", tmp_path / "o.csv")
    assert result.exit_code == 0, result.output
    assert "rows generated: 50" in result.output and len(pd.read_csv(tmp_path / "o.csv")) == 50


@pytest.mark.parametrize("make_args, code", [
    (lambda m, t: ["generate", m, "-o", t / "x.parquet"], "simio_invalid_field"),
    (lambda m, t: ["generate", m, "--rows", 10, "--scenario", t / "s.json", "-o",
                   t / "x.parquet"], "simio_unknown_condition_column"),
])
def test_cli_errors_print_the_fix_worded_for_the_command_line(model_path, tmp_path,
                                                               make_args, code):
    from engine.errors import CATALOGUE

    (tmp_path / "s.json").write_text(json.dumps({"categorical": {"nope": {"a": 1.0}}}))
    result = run(*make_args(model_path, tmp_path))
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert lines[0].startswith(f"error: {code}: ")
    spec = CATALOGUE[code]
    assert spec.cli_fix and lines[1] == f"fix: {spec.cli_fix}"
    assert "request" not in lines[1] and "GET /v1" not in lines[1]   # not the API's wording


def test_the_api_keeps_its_own_fix_wording():
    from engine.errors import CATALOGUE

    spec = CATALOGUE["simio_unknown_condition_column"]
    assert spec.fix.startswith("GET /v1/datasets/{dataset_id}/schema")
    assert spec.fix_for_cli.startswith("Run `simio schema MODEL`")
    # codes without a CLI wording fall back to the one fix
    assert CATALOGUE["simio_infeasible_scenario"].fix_for_cli == \
        CATALOGUE["simio_infeasible_scenario"].fix
    cli_worded = [c for c, s in CATALOGUE.items() if s.cli_fix]
    for code in cli_worded:
        text = CATALOGUE[code].cli_fix.lower()
        assert "send the request" not in text and "upload" not in text and "/v1/" not in text
