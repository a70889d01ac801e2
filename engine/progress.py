"""Stage progress of a long call (``Synthesizer.fit``): a callback protocol and reporters.

A *progress callback* is any callable ``progress(stage, done=None, total=None, note="")``.
The fit calls it with the stage names in ``FIT_STAGES``, in order; within a stage it may
call again with ``done`` (moves so far, pairs counted) and ``total`` when known, and a
``note`` summarising the stage (kept for the stage's line). Calls are cheap and frequent;
reporters decide what to show.

- ``StageLines``: one line per finished stage, for logs and pipes.
- ``StageBar``: a tqdm bar per stage, for a terminal.
- ``on_stage_change``: calls ``callback(stage)`` once per new stage (the API job's
  ``stage`` field, a database write, follows the stages without a write per move).
"""

from __future__ import annotations

import sys
import time
from typing import Protocol

FIT_STAGES = ("read", "clean", "screen", "structure", "parameters")


class ProgressCallback(Protocol):
    def __call__(self, stage: str, done: int | None = None, total: int | None = None,
                 note: str = "") -> None: ...


def no_progress(stage: str, done: int | None = None, total: int | None = None,
                note: str = "") -> None:
    """The default callback: report nothing."""


class StageLines:
    """``<stage>: <note or count> (<seconds> s)`` on ``stream`` when a stage ends (the next
    stage starts, or ``close``)."""

    def __init__(self, stream=None, clock=time.perf_counter):
        self.stream = stream if stream is not None else sys.stderr
        self.clock = clock
        self.stage: str | None = None

    def __call__(self, stage, done=None, total=None, note=""):
        if stage != self.stage:
            self._finish()
            self.stage, self.started, self.done, self.total, self.note = (
                stage, self.clock(), None, None, "")
        if done is not None:
            self.done = done
        if total is not None:
            self.total = total
        if note:
            self.note = note

    def _finish(self):
        if self.stage is None:
            return
        detail = self.note or (f"{self.done:,}" if self.done is not None else "done")
        print(f"{self.stage}: {detail} ({self.clock() - self.started:.1f} s)",
              file=self.stream, flush=True)
        self.stage = None

    def close(self):
        self._finish()

    def __enter__(self):
        return self

    def __exit__(self, exc_type, *exc):
        if exc_type is not None:
            self._abandon()           # a failed stage is not reported as done
        self.close()
        return False

    def _abandon(self):
        self.stage = None


class StageBar(StageLines):
    """A tqdm bar per stage on ``stream`` (a terminal): a bar when the stage knows its
    total, a running count otherwise."""

    bar = None

    def __call__(self, stage, done=None, total=None, note=""):
        from tqdm import tqdm

        if stage != self.stage:
            self._finish()
            self.stage = stage
            self.bar = tqdm(desc=stage, total=total, file=self.stream, leave=True,
                            dynamic_ncols=True)
        if total is not None and self.bar.total != total:
            self.bar.total = total
        if done is not None and done > self.bar.n:
            self.bar.update(done - self.bar.n)
        if note:
            self.bar.set_postfix_str(note, refresh=False)

    def _finish(self):
        if self.bar is not None:
            self.bar.close()
        self.bar, self.stage = None, None

    def _abandon(self):
        if self.bar is not None:
            self.bar.leave = False
        self._finish()


def for_stream(stream=None) -> StageLines:
    """A bar on a terminal, one line per stage otherwise."""
    stream = stream if stream is not None else sys.stderr
    isatty = getattr(stream, "isatty", None)
    return StageBar(stream) if isatty is not None and isatty() else StageLines(stream)


def on_stage_change(callback) -> ProgressCallback:
    """A progress callback that calls ``callback(stage)`` only when the stage changes."""
    current = [None]

    def progress(stage, done=None, total=None, note=""):
        if stage != current[0]:
            current[0] = stage
            callback(stage)

    return progress
