"""Unconditional sampling from the model fitted on the 800-row quickstart seed.

    python3 benchmarks/bench_sampling.py [--quick]

* sample only: ``synth.sample(n, seed=...)`` (a DataFrame in memory) at 10k / 100k / 1M rows;
* sample + write: ``synth.write(path, n, fmt=...)`` for parquet / csv / arrow at 1M rows
  (the whole call: sampling, encoding, writing, fsync and the atomic rename); ``write-only``
  is that minus the best sample-only time of the same size;
* peak RSS: a fresh interpreter imports, fits, does a 1,000-row warm-up write, then samples
  and writes 1M rows to parquet; peak = VmHWM after the work minus VmRSS before it (VmHWM
  reset via /proc/self/clear_refs). The child's lifetime ru_maxrss is shown too.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import _common as C  # noqa: E402

FORMATS = ("parquet", "csv", "arrow")


def run(quick: bool = False) -> dict:
    C.warm_engine()
    synth = C.fit_quickstart()
    sizes = [10_000, 100_000, 250_000] if quick else [10_000, 100_000, 1_000_000]
    big = sizes[-1]
    out = {"sizes": sizes, "write_rows": big, "sample": {}, "write": {}}
    for n in sizes:
        repeat = 3 if n >= 1_000_000 else 5
        t = C.timed(lambda n=n: synth.sample(n, seed=123), repeat=repeat, warmup=1)
        frame = t["result"]
        assert len(frame) == n
        out["sample"][str(n)] = {**C.strip_result(t), "repeat": repeat,
                                 "rows_per_s": n / t["best_s"],
                                 "frame_mb": frame.memory_usage(deep=True).sum() / C.MB}
    with tempfile.TemporaryDirectory(prefix="simio-bench-") as tmp:
        for fmt in FORMATS:
            path = Path(tmp) / f"out.{fmt}"
            t = C.timed(lambda p=path, f=fmt: synth.write(p, big, fmt=f, seed=123),
                        repeat=3, warmup=1)
            sample_best = out["sample"][str(big)]["best_s"]
            out["write"][fmt] = {**C.strip_result(t), "repeat": 3,
                                 "write_only_s": t["best_s"] - sample_best,
                                 "file_mb": path.stat().st_size / C.MB}
    out["peak_rss"] = C.peak_rss_subprocess(big, "parquet")
    out["peak_rss"]["n"] = big
    return out


def markdown(res: dict) -> str:
    parts = ["Sample only (DataFrame in memory):", "",
             C.md_table(["rows", "best s", "median s", "rows/s (best)", "frame MB"],
                        [[int(n), r["best_s"], r["median_s"], r["rows_per_s"], r["frame_mb"]]
                         for n, r in res["sample"].items()]),
             "", f'Synthesizer.write, {res["write_rows"]:,} rows (sample + write):', "",
             C.md_table(["format", "best s", "median s", "write-only s", "file MB"],
                        [[f, r["best_s"], r["median_s"], r["write_only_s"], r["file_mb"]]
                         for f, r in res["write"].items()])]
    p = res["peak_rss"]
    parts += ["", f'Peak RSS, {p["n"]:,} rows sampled + written to parquet, fresh process:', "",
              C.md_table(["peak - baseline MB", "baseline MB (imports+fit)", "peak VmHWM MB",
                          "child ru_maxrss MB", "work s", "cold import s", "cold first fit s",
                          "cold first 1k write s"],
                         [[p.get("peak_delta_mb"), p["baseline_rss_mb"], p["peak_hwm_mb"],
                           p["child_maxrss_mb"], p["work_s"], p["import_s"], p["first_fit_s"],
                           p["first_small_call_s"]]])]
    return "\n".join(parts)


if __name__ == "__main__":
    print(markdown(run(quick="--quick" in sys.argv)))
