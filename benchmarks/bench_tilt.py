"""What tilting latent numeric nodes (issue 11, strong pairs) costs at sample time, in one
process.

    python3 benchmarks/bench_tilt.py [--quick]

Each model samples 1M rows (200k with --quick) interleaved with the latent tilt on and
off (``tilt.latent_levels`` answering None: the untilted latent draw), best of 4; the
ratio is the overhead (absolute times depend on the machine's load, the ratio much less).
Models: the quickstart (no latent node there has a tracking child: the ratio shows the
bookkeeping alone) and breast_cancer's train half (31 numeric columns, most of them
latent nodes tracked by a numeric child: the worst case).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import _common as C  # noqa: E402


def breast_cancer_model():
    from benchmarks import bench_fidelity as B
    from engine.synthesizer import Synthesizer
    table = next(t for t in (load() for load in B.NEW_LOADERS) if t.name == "breast_cancer")
    train, _ = B.split(table.frame)
    return Synthesizer().fit(B.mark_codes(train, table.codes))


def ab(model, rows: int, repeat: int = 4) -> dict:
    from engine.sampling import tilt
    latent_levels = tilt.latent_levels
    net = model.model_
    tilted = sum(1 for j in range(len(net.encodings_))
                 if net.node_latent(j) is not None and tilt.tracking_children(net, j))
    times = {"on": [], "off": []}
    model.sample(10_000, seed=1)
    try:
        for rep in range(repeat):
            # alternate which goes first: the first of a pair pays for fresh memory
            for key in (("on", "off") if rep % 2 == 0 else ("off", "on")):
                tilt.latent_levels = latent_levels if key == "on" else (lambda *a, **k: None)
                t0 = time.perf_counter()
                model.sample(rows, seed=rep)
                times[key].append(time.perf_counter() - t0)
    finally:
        tilt.latent_levels = latent_levels
    on, off = min(times["on"]), min(times["off"])
    return {"latent nodes tracked": tilted, "columns": len(net.encodings_), "on_s": on,
            "off_s": off, "ratio": on / off}


def run(quick: bool = False) -> dict:
    C.warm_engine()
    rows = 200_000 if quick else 1_000_000
    return {"rows": rows, "quickstart": ab(C.fit_quickstart(), rows),
            "breast_cancer": ab(breast_cancer_model(), rows)}


def markdown(res: dict) -> str:
    return (f"Sampling {res['rows']:,} rows, latent tilt on / off (best of 4, alternating "
            "order, one process):\n\n"
            + C.md_table(["model", "columns", "latent nodes tracked", "on s", "off s",
                          "on / off"],
                         [[name, r["columns"], r["latent nodes tracked"], r["on_s"],
                           r["off_s"], r["ratio"]]
                          for name, r in res.items() if name != "rows"]))


if __name__ == "__main__":
    print(markdown(run(quick="--quick" in sys.argv)))
