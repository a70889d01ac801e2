"""What the within-bin tracking (issue 11) costs at sample time, in one process.

    python3 benchmarks/bench_within_bin.py [--quick]

The quickstart model (800-row seed) samples 1M rows (250k with --quick) and writes them to
Parquet twice, interleaved, best of 3: as fitted (purchase_intent tracks age inside the
bins: the truncated latent draw and the tilted age level) and with the within-bin
regressions removed (``within_ = None``: the tables only). The ratio of the two is the
overhead; the absolute times depend on the machine's load, the ratio much less.
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


def run(quick: bool = False) -> dict:
    from engine.synthesizer import Synthesizer
    C.warm_engine()
    rows = 250_000 if quick else 1_000_000
    tracked = Synthesizer().fit(C.quickstart_seed())
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
    rows = [[name, res["rows"], s] for name, s in res["best_s"].items()]
    return (C.md_table(["model", "rows sampled + parquet", "best s (of 3)"], rows)
            + f"\n\nOverhead of within-bin tracking: {res['ratio']:.3f}x (same process).")


if __name__ == "__main__":
    print(markdown(run(quick="--quick" in sys.argv)))
