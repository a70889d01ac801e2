"""What the within-bin tracking (issue 11) costs at sample time, in one process.

    python3 benchmarks/bench_within_bin.py [--quick]

Two models each sample 1M rows (250k with --quick) and write them to Parquet twice,
interleaved, best of 3: as fitted and with the within-bin regressions removed (``within_ =
None``: the tables only). The ratio is the overhead; absolute times depend on the
machine's load, the ratio much less. Models: the quickstart (800-row seed; its weak
age -> intent slope inside a bin is not significant, so it has no within-bin model and
the ratio shows the bookkeeping alone) and a strong pair (2,000 rows, y = 2x + noise,
r = 0.998, plus a weaker w and a factor: y tracks x, x is tilted by y's bin).
"""

from __future__ import annotations

import copy
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import _common as C  # noqa: E402


def strong_pair_frame(n: int = 2000):
    import numpy as np
    import pandas as pd
    rng = np.random.default_rng(0)
    x = rng.normal(50, 10, n)
    return pd.DataFrame({"x": x.round(2), "y": (2 * x + rng.normal(0, 1.3, n)).round(3),
                         "w": (0.8 * x + rng.normal(0, 6, n)).round(1),
                         "g": rng.choice(list("abc"), n)})


def run(quick: bool = False) -> dict:
    C.warm_engine()
    rows = 250_000 if quick else 1_000_000
    return {"quickstart": compare(C.quickstart_seed(), rows),
            "strong pair": compare(strong_pair_frame(), rows)}


def compare(frame, rows: int) -> dict:
    from engine.synthesizer import Synthesizer
    tracked = Synthesizer().fit(frame)
    plain = copy.copy(tracked)
    plain.model_ = copy.copy(tracked.model_)
    plain.model_.within_ = [None] * len(tracked.model_.encodings_)
    plain.model_.__dict__.pop("kernel_tables", None)
    best = {"tracked": float("inf"), "tables only": float("inf")}
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(3):
            for name, synth in (("tracked", tracked), ("tables only", plain)):
                t0 = time.perf_counter()
                synth.write(Path(tmp) / f"{name}.parquet", rows, seed=7)
                best[name] = min(best[name], time.perf_counter() - t0)
    return {"rows": rows, "best_s": best, "ratio": best["tracked"] / best["tables only"]}


def markdown(res: dict) -> str:
    rows = [[table, r["rows"], r["best_s"]["tracked"], r["best_s"]["tables only"], r["ratio"]]
            for table, r in res.items()]
    return C.md_table(["table", "rows sampled + parquet", "as fitted: best s (of 3)",
                       "tables only: best s", "ratio (same process)"], rows)


if __name__ == "__main__":
    print(markdown(run(quick="--quick" in sys.argv)))
