"""What scenario support costs the model file and the fit: the seed's 1- and 2-way counts
(``engine.quality.seed_marginals``) against the per-row pattern sketch they replaced.

    python3 benchmarks/bench_seed_marginals.py [--sizes 20000x60,100000x30] [--skip-old]
    python3 benchmarks/bench_seed_marginals.py --sizes 1000000x30 --skip-old   # ~1-2 min

For each ``wide_frame`` table (bench_fit's, fixed seed): fitted once, then timed in the
same process: ``count_marginals`` (CPU seconds, best of 3) as a share of the fit's CPU
seconds; the marginals' stored bytes; the old sketch (distinct patterns over the same
columns, ``np.unique``) as the JSON it wrote, its bytes and its pattern count
(``--skip-old`` leaves it out: at 1M x 30 it is some 30M integers as Python lists).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from benchmarks.bench_fit import wide_frame  # noqa: E402
from engine.cleaning import clean  # noqa: E402
from engine.io import RawTable  # noqa: E402
from engine.quality.seed_marginals import MAX_STATES, count_marginals, state_codes  # noqa: E402
from engine.synthesizer import Synthesizer  # noqa: E402


def old_sketch_json(model, frame: pd.DataFrame) -> tuple[int, int]:
    """(bytes, patterns) of the removed ``seed_sketch``: every distinct state pattern."""
    codes = state_codes(model, frame)[1]
    patterns, counts = np.unique(np.column_stack(codes), axis=0, return_counts=True)
    body = json.dumps({"patterns": patterns.tolist(), "counts": counts.tolist()})
    return len(body), len(counts)


def measure(n: int, d: int, old: bool = True) -> dict:
    frame = wide_frame(n, d)
    started = time.process_time()
    synth = Synthesizer().fit(frame)
    fit_cpu = time.process_time() - started
    cleaned = clean(RawTable(frame=frame, source_format="frame")).frame   # what fit saw
    times = []
    for _ in range(3):
        started = time.process_time()
        marginals = count_marginals(synth.model_, cleaned)
        times.append(time.process_time() - started)
    old_bytes, old_patterns = old_sketch_json(synth.model_, cleaned) if old else (None, None)
    stored = sum(a.nbytes for a in marginals.to_arrays().values())
    every = len(marginals.nodes) * (len(marginals.nodes) - 1) // 2
    return {"table": f"{n:,} x {d}", "fit_cpu_s": round(fit_cpu, 2),
            "marginals_cpu_s": round(min(times), 3),
            "share_of_fit": round(min(times) / fit_cpu, 4),
            "columns_kept": f"{len(marginals.nodes)} (<= {MAX_STATES} states)",
            "pairs_kept": f"{marginals.pairs.shape[0]} of {every}",
            "marginals_bytes": stored, "old_sketch_json_bytes": old_bytes,
            "old_sketch_patterns": old_patterns}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="20000x60,100000x30")
    parser.add_argument("--skip-old", action="store_true")
    args = parser.parse_args(argv)
    for size in args.sizes.split(","):
        n, d = (int(x) for x in size.split("x"))
        print(json.dumps(measure(n, d, old=not args.skip_old)), flush=True)


if __name__ == "__main__":
    main()
