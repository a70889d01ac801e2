"""Fit time: Synthesizer().fit(frame) on three tables, warm numba cache, best of N.

    python3 benchmarks/bench_fit.py [--quick]

Tables: the 800-row quickstart seed; a 22,000 x 13 mixed table (quickstart columns + 8
dependent extras, see _common.mixed_frame); the quickstart generator at 100,000 rows.
Timed: the whole ``fit`` (cleaning + structure learning + tables) on an in-memory frame.
"""

from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import _common as C  # noqa: E402


def run(quick: bool = False) -> dict:
    from engine.synthesizer import Synthesizer
    C.warm_engine()                                   # one fit + sample of each kind first
    repeat = 3 if quick else 5
    big = 20_000 if quick else 100_000
    cases = [
        ("quickstart_800", "quickstart seed", C.quickstart_seed()),
        ("mixed_22k_13col", "22k x 13 mixed", C.mixed_frame(22_000)),
        (f"quickstart_{big // 1000}k", f"quickstart generator, {big:,} rows",
         C.quickstart_seed(big, C.QUICKSTART_SEED)),
    ]
    out = {"repeat": repeat, "cases": {}}
    for key, label, frame in cases:
        t = C.timed(lambda f=frame: Synthesizer().fit(f), repeat=repeat)
        synth = t["result"]
        out["cases"][key] = {
            "label": label, "rows": len(frame), "columns": frame.shape[1],
            "modelled_columns": len(synth.schema_), "edges": len(synth.model_.edges),
            **C.strip_result(t)}
    # Diagnostic, not a target: the same 22k fit with BLAS held to one thread. Structure
    # learning's least squares go through OpenBLAS, whose threads spin when the cores are
    # shared, so a large difference here means the BLAS threading costs more than it gives.
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return out
    frame = cases[1][2]
    with threadpool_limits(limits=1, user_api="blas"):
        t = C.timed(lambda: Synthesizer().fit(frame), repeat=repeat)
    out["cases"]["mixed_22k_13col_blas1"] = {
        "label": "22k x 13 mixed, BLAS 1 thread (diagnostic)", "rows": len(frame),
        "columns": frame.shape[1], "modelled_columns": len(t["result"].schema_),
        "edges": len(t["result"].model_.edges), **C.strip_result(t)}
    return out


def markdown(res: dict) -> str:
    rows = [[c["label"], c["rows"], f'{c["columns"]} ({c["modelled_columns"]})', c["edges"],
             c["best_s"], c["median_s"]] for c in res["cases"].values()]
    return C.md_table(["table", "rows", "columns (modelled)", "edges", "fit best s",
                       f'fit median s (of {res["repeat"]})'], rows)


if __name__ == "__main__":
    print(markdown(run(quick="--quick" in sys.argv)))
