"""`simio train --sheet/--header-row` and `simio generate -o x.sav|x.xlsx`; an output name
simio does not write is refused before any work, with nothing written."""

import openpyxl
import pyreadstat
import pytest
from click.testing import CliRunner

from engine.cli import main
from tests.research_files import brand_tracker_workbook, satisfaction_sav


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    path = tmp_path_factory.mktemp("cli_formats")
    brand_tracker_workbook(path / "tracker.xlsx")
    satisfaction_sav(path / "survey.sav")
    return path


def test_train_finds_the_data_sheet_and_says_so(folder):
    result = run("train", folder / "tracker.xlsx", "-o", folder / "auto.simio")
    assert result.exit_code == 0, result.output
    assert "120 rows x 4 columns" in result.output
    assert "read sheet 'Data', header on row 4" in result.output


def test_train_with_sheet_and_header_row(folder):
    result = run("train", folder / "tracker.xlsx", "-o", folder / "given.simio",
                 "--sheet", "1", "--header-row", "4")
    assert result.exit_code == 0, result.output
    assert "120 rows x 4 columns" in result.output


def test_train_with_an_unknown_sheet_is_exit_2_listing_the_sheets(folder):
    result = run("train", folder / "tracker.xlsx", "-o", folder / "none.simio", "--sheet", "X")
    assert result.exit_code == 2
    assert "error: simio_sheet_not_found:" in result.output and "1: 'Data'" in result.output
    assert "--sheet" in result.output                          # the CLI-worded fix
    assert not (folder / "none.simio").exists()


def test_sav_in_sav_out(folder):
    assert run("train", folder / "survey.sav", "-o", folder / "survey.simio").exit_code == 0
    result = run("generate", folder / "survey.simio", "-n", 300, "--seed", 1, "--quiet",
                 "-o", folder / "synthetic.sav")
    assert result.exit_code == 0, result.output
    assert "wrote" in result.output and "(sav)" in result.output
    frame, meta = pyreadstat.read_sav(str(folder / "synthetic.sav"))
    assert len(frame) == 300 and meta.variable_measure["q1"] == "ordinal"
    result = run("generate", folder / "survey.simio", "-n", 50, "--seed", 1, "--quiet",
                 "--format", "xlsx", "-o", folder / "synthetic.xlsx")
    assert result.exit_code == 0, result.output
    assert openpyxl.load_workbook(folder / "synthetic.xlsx").active.max_row == 51


@pytest.mark.parametrize("name,extra", [("synthetic.docx", []),
                                        ("synthetic.csv", ["--format", "sav"])])
def test_unknown_or_mismatched_extension_is_refused_before_any_work(tmp_path, name, extra):
    # the model does not even exist: the name is refused before it would be read
    result = run("generate", tmp_path / "missing.simio", "-n", 10, "-o", tmp_path / name, *extra)
    assert result.exit_code == 2
    assert "error: simio_unsupported_output_format:" in result.output
    assert list(tmp_path.iterdir()) == []


def test_the_cli_offers_every_format_the_writers_write():
    # engine/cli.py spells the list out so `simio --help` imports no pandas
    from engine import cli
    from engine.io.writers import FORMATS

    assert cli.FORMATS == FORMATS
