"""README's command-line section runs as written, and the files it names ship."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys

import pandas as pd
import pytest

from engine.datasets import QUICKSTART_SCENARIO
from tests.contract_file import CONTRACT
from tests.readme import REPO, section_commands


def test_examples_scenario_is_the_contract_scenario():
    shipped = json.loads((REPO / "examples" / "scenario.json").read_text(encoding="utf-8"))
    assert shipped == QUICKSTART_SCENARIO
    spec = json.loads(CONTRACT.read_text(encoding="utf-8"))
    example = spec["paths"]["/v1/datasets/{dataset_id}/generations"]["post"][
        "requestBody"]["content"]["application/json"]["example"]
    assert shipped["conditions"] == example["conditions"]


def test_every_file_readme_passes_to_simio_ships():
    commands = section_commands("Command line") + section_commands("Set-up: two commands "
                                                                   "(fresh machine, Python "
                                                                   "3.11)")
    named = {arg for cmd in commands for arg in shlex.split(cmd)
             if arg.startswith(("data/", "examples/"))}
    assert "examples/scenario.json" in named
    assert all((REPO / path).is_file() for path in named), named


@pytest.mark.slow
def test_readme_command_line_section_runs_in_order(tmp_path):
    """Each line of README's `## Command line` block, as written, in a fresh folder holding
    the repository's data/ and examples/ (what a clone has); `simio` is this checkout's."""
    for name in ("data", "examples"):
        os.symlink(REPO / name, tmp_path / name)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    commands = section_commands("Command line")
    assert [shlex.split(c)[1] for c in commands] == [
        "quickstart", "train", "schema", "generate", "generate", "train", "generate", "report"]
    for command in commands:
        args = shlex.split(command)
        assert args[0] == "simio"
        result = subprocess.run([sys.executable, "-m", "localapi.cli", *args[1:]],
                                cwd=tmp_path, env=env, capture_output=True, text=True,
                                timeout=300)
        assert result.returncode == 0, (command, result.stderr)
    scenario = pd.read_parquet(tmp_path / "scenario.parquet")
    assert len(scenario) <= QUICKSTART_SCENARIO["row_count"]
    assert scenario["age"].between(25, 44).all()
    assert len(pd.read_parquet(tmp_path / "synthetic.parquet")) == 100_000
    import pyreadstat

    spss, meta = pyreadstat.read_sav(str(tmp_path / "scenario.sav"))      # SPSS in and out
    assert len(spss) == len(scenario) and spss["age"].between(25, 44).all()
    assert meta.variable_value_labels["segment"] == {1.0: "Value", 2.0: "Mainstream",
                                                     3.0: "Premium"}
    report = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert report.index('id="scenario-summary"') < report.index('id="scores"')
