"""`simio` imports only what a command needs: --help and argument errors load neither
pandas/numpy nor the engine nor Flask; generate loads neither Flask nor the report.

Each case runs the command's click group (``localapi.cli:main``) in a fresh interpreter
and lists the modules loaded when it exits. The console script itself (``localapi.cli:run``)
skips interpreter teardown after the engine's commands; the last tests check that its
output and exit codes arrive whole. Speed itself is measured by
benchmarks/bench_startup.py, not here.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "data"
# Runs `simio ARGS`; at exit (click always calls sys.exit) prints the top-level packages
# and engine modules that were imported, as JSON on the last line of stderr.
PROBE = """
import atexit, json, sys
def dump():
    names = sorted({m.split('.')[0] for m in sys.modules} | {m for m in sys.modules
                   if m.startswith('engine.')})
    sys.stderr.write('\\nMODULES ' + json.dumps(names) + '\\n')
atexit.register(dump)
from localapi.cli import main
main(prog_name='simio')
"""
NEVER_FOR_HELP = {"pandas", "numpy", "numba", "scipy", "pyarrow", "flask", "werkzeug", "jwt",
                  "matplotlib", "engine.synthesizer"}


def loaded_modules(*args, cwd):
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    result = subprocess.run([sys.executable, "-c", PROBE, *map(str, args)], cwd=cwd, env=env,
                            capture_output=True, text=True, timeout=300)
    line = [x for x in result.stderr.splitlines() if x.startswith("MODULES ")][-1]
    return result.returncode, set(json.loads(line.removeprefix("MODULES ")))


@pytest.mark.parametrize("args", [["--help"], ["generate", "--help"], ["admin", "--help"],
                                  ["generate"], ["train", "--max-parents", "x"],
                                  ["no-such-command"]])
def test_help_and_argument_errors_import_nothing_heavy(tmp_path, args):
    code, modules = loaded_modules(*args, cwd=tmp_path)
    assert code == (0 if "--help" in args else 2)
    assert "click" in modules                       # the probe really ran the command
    assert not modules & NEVER_FOR_HELP, sorted(modules & NEVER_FOR_HELP)


def test_generate_imports_neither_flask_nor_the_report(tmp_path):
    model = tmp_path / "model.simio"
    code, _ = loaded_modules("train", DATA / "quickstart_seed.csv", "-o", model, cwd=tmp_path)
    assert code == 0
    code, modules = loaded_modules("generate", model, "--rows", 1000, "--seed", 1, "-o",
                                   tmp_path / "out.parquet", cwd=tmp_path)
    assert code == 0 and (tmp_path / "out.parquet").is_file()
    assert "engine.synthesizer" in modules and "numba" in modules   # it did generate
    heavy = {"flask", "werkzeug", "jwt", "matplotlib", "sklearn", "engine.quality.report"}
    assert not modules & heavy, sorted(modules & heavy)


def simio(*args, cwd):
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "localapi.cli", *map(str, args)], cwd=cwd,
                          env=env, capture_output=True, text=True, timeout=300)


def test_the_fast_exit_delivers_all_output_and_the_exit_code(tmp_path):
    model = tmp_path / "model.simio"
    assert simio("train", DATA / "quickstart_seed.csv", "-o", model, cwd=tmp_path).returncode == 0
    schema = simio("schema", model, cwd=tmp_path)          # kilobytes of JSON through a pipe
    assert schema.returncode == 0
    assert [c["name"] for c in json.loads(schema.stdout)["schema"]][0] == "age"
    failed = simio("generate", model, "-o", tmp_path / "x.parquet", cwd=tmp_path)
    assert failed.returncode == 2
    assert failed.stderr.startswith("error: simio_invalid_field: ")
    assert failed.stderr.splitlines()[1].startswith("fix: ")
    assert not (tmp_path / "x.parquet").exists()
    done = simio("generate", model, "--rows", 2000, "--seed", 4, "-o", tmp_path / "y.csv",
                 cwd=tmp_path)
    assert done.returncode == 0 and done.stdout.rstrip().endswith("wrote "
                                                                  f"{tmp_path / 'y.csv'} (csv)")
    assert len((tmp_path / "y.csv").read_text().splitlines()) == 2001


# Runs the console script (`run`) or the bare group (`main`) for `generate`, reporting at
# exit whether numba's target initialisation pulled in scipy.linalg.
TARGET_PROBE = """
import os, sys
from localapi import cli
real_exit = os._exit
def report(code):
    sys.stderr.write('\\nSCIPY_LINALG %s\\n' % ('scipy.linalg' in sys.modules))
    sys.stderr.flush()
    real_exit(code)
os._exit = report
sys.argv = ['simio', *sys.argv[2:]]
if 'ENTRY' == 'run':
    cli.run()
try:
    cli.main(prog_name='simio')
except SystemExit:
    report(0)
"""


@pytest.mark.parametrize("entry, expected", [("run", "False"), ("main", "True")])
def test_numba_shortcut_only_in_the_simio_process(tmp_path, entry, expected):
    """The console script skips SciPy's BLAS probe (process-wide numba state); the click
    group called as a library (tests, notebooks) leaves numba's own initialisation alone."""
    model = tmp_path / "model.simio"
    assert simio("train", DATA / "quickstart_seed.csv", "-o", model, cwd=tmp_path).returncode == 0
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    result = subprocess.run([sys.executable, "-c", TARGET_PROBE.replace("ENTRY", entry), "-", "generate",
                             str(model), "--rows", "100", "-o", str(tmp_path / "o.parquet")],
                            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert (tmp_path / "o.parquet").is_file(), result.stderr
    assert f"SCIPY_LINALG {expected}" in result.stderr
