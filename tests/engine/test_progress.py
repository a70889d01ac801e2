"""Stage progress of the fit: the reporters, the stages a fit reports, and `simio train`
printing one line per stage when its output is not a terminal (a real subprocess)."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd

from engine import progress
from engine.synthesizer import Synthesizer
from tests.engine import fixtures

REPO = Path(__file__).resolve().parents[2]


class Recorder:
    def __init__(self):
        self.calls = []

    def __call__(self, stage, done=None, total=None, note=""):
        self.calls.append((stage, done, total, note))

    @property
    def stages(self):
        out = []
        for stage, *_ in self.calls:
            if not out or out[-1] != stage:
                out.append(stage)
        return out


class FakeTerminal(io.StringIO):
    def isatty(self):
        return True


def test_a_fit_reports_every_stage_in_order():
    rec = Recorder()
    Synthesizer().fit(fixtures.quickstart(), progress=rec)
    assert rec.stages == list(progress.FIT_STAGES)
    moves = [done for stage, done, _, _ in rec.calls if stage == "structure" and done]
    assert moves == sorted(moves) and moves, "structure search reports its moves so far"
    notes = {stage: note for stage, _, _, note in rec.calls if note}
    assert notes["read"] == "800 rows x 5 columns"
    assert "edges" in notes["structure"]


def test_stage_lines_print_one_line_per_finished_stage():
    out = io.StringIO()
    ticks = iter(range(100))
    with progress.StageLines(out, clock=lambda: float(next(ticks))) as report:
        report("screen", 1, 10)
        report("screen", 10, 10)
        report("structure", 0)
        report("structure", 7)
        report("parameters", note="5 tables")
    assert out.getvalue().splitlines() == [
        "screen: 10 (1.0 s)", "structure: 7 (1.0 s)", "parameters: 5 tables (1.0 s)"]


def test_a_terminal_gets_a_bar_and_anything_else_lines():
    assert type(progress.for_stream(io.StringIO())) is progress.StageLines
    terminal = FakeTerminal()
    bar = progress.for_stream(terminal)
    assert isinstance(bar, progress.StageBar)
    with bar:
        bar("structure", 3)
        bar("parameters", 5, 5)
    text = terminal.getvalue()
    assert "structure" in text and "parameters" in text and "5/5" in text


def test_stage_changes_are_reported_once_each():
    seen = []
    report = progress.on_stage_change(seen.append)
    for stage, done in (("read", None), ("clean", None), ("structure", 1), ("structure", 2),
                        ("parameters", 0)):
        report(stage, done)
    assert seen == ["read", "clean", "structure", "parameters"]


def test_train_prints_stage_lines_when_not_on_a_terminal(tmp_path):
    seed = tmp_path / "seed.csv"
    fixtures.quickstart().to_csv(seed, index=False)
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run([sys.executable, "-m", "engine.cli", "train", str(seed), "-o",
                           str(tmp_path / "m.simio")], capture_output=True, text=True,
                          cwd=tmp_path, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stderr.splitlines()
    stages = [line.split(":", 1)[0] for line in lines]
    assert stages == [*progress.FIT_STAGES, "save"], proc.stderr
    assert lines[0].startswith("read: 800 rows x 5 columns (")
    assert "\r" not in proc.stderr                      # no bar redraws off a terminal
    assert "trained" in proc.stdout
    assert pd.read_csv(seed).shape == (800, 5)          # the seed is untouched


def test_a_failed_stage_is_not_reported_as_done():
    out = io.StringIO()
    try:
        with progress.StageLines(out) as report:
            report("read")
            report("clean")
            raise ValueError("bad seed")
    except ValueError:
        pass
    assert [line.split(":")[0] for line in out.getvalue().splitlines()] == ["read"]
