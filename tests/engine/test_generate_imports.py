"""`simio generate` to Parquet/Arrow/CSV loads only the sampling path: no pandas, no scipy
module beyond the package numba's own version check imports, no Flask, no report, no
cleaning, no readers, no fit code (issue 9: start-up cost). Checked in a child process that
runs the CLI's main and prints every module loaded by its exit."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from tests.engine.fixtures import missing_synthesizer

REPO = Path(__file__).resolve().parents[2]
RUN_AND_LIST = """
import json, sys
import engine.cli
from localapi.cli import main
engine.cli.OWN_PROCESS = True           # as the console script (localapi.cli.run) sets it
try:
    main(sys.argv[1:], prog_name="simio")
except SystemExit as exc:
    assert not exc.code, exc.code
print(json.dumps(sorted(sys.modules)))
"""
NEVER = ("pandas", "flask", "engine.cleaning", "engine.quality.report",
         "engine.quality.conditioning", "engine.io.readers", "engine.model.screening",
         "engine.model.family_scores", "engine.model.node_detail", "engine.model.statistics",
         "engine.model._count_kernels",
         # an unconditioned run needs neither the scenario solver nor the operator commands
         "engine.sampling.conditional", "localapi.cli_admin", "localapi.cli_tls")


@pytest.fixture(scope="module")
def model_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("imports") / "model.simio"
    missing_synthesizer().save(path)          # missing cells: the null paths too
    return path


def _modules(args, cwd) -> list[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    out = subprocess.run([sys.executable, "-c", RUN_AND_LIST, *args], cwd=cwd, env=env,
                         check=True, capture_output=True, text=True, timeout=300)
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("name", ["x.parquet", "x.arrow", "x.csv"])
def test_generate_loads_no_pandas_scipy_flask_or_fit_code(model_path, tmp_path, name):
    modules = _modules(["generate", str(model_path), "--rows", "2000", "--seed", "5",
                        "--quiet", "-o", name], tmp_path)
    assert (tmp_path / name).stat().st_size > 0
    loaded = [m for m in modules if m.startswith(tuple(n + "." for n in NEVER))
              or m in NEVER or _scipy_subpackage(m)]
    assert loaded == []


def _scipy_subpackage(name: str) -> bool:
    """A public scipy module (special, stats, linalg...): more than the package's own
    ``__init__``, which numba imports for its version check."""
    parts = name.split(".")
    return parts[0] == "scipy" and len(parts) > 1 and not parts[1].startswith("_") \
        and parts[1] != "version"


def test_the_child_really_generated(model_path, tmp_path):
    _modules(["generate", str(model_path), "--rows", "2000", "--seed", "5", "--quiet", "-o",
              "x.parquet"], tmp_path)
    assert pq.read_table(tmp_path / "x.parquet").num_rows == 2000
