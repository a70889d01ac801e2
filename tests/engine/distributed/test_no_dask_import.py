"""Nothing in the engine imports Dask unless asked: the single-machine path never pays
for it (checked in a fresh interpreter, as `simio` starts)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]

SCRIPT = """
import sys, tempfile, pathlib
import engine, engine.cli
from engine.datasets import quickstart_frame
from engine.synthesizer import Synthesizer
synth = Synthesizer().fit(quickstart_frame())
synth.sample(100, seed=1)
synth.write(pathlib.Path(tempfile.mkdtemp()) / "out.parquet", 100, seed=1)
loaded = sorted(m for m in sys.modules if m.split(".")[0] in ("dask", "distributed"))
print(loaded)
"""


def test_fitting_and_generating_locally_never_imports_dask():
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True,
                          timeout=300, cwd=REPO, env={"PYTHONPATH": str(REPO),
                                                      "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"
