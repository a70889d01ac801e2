"""The contract scenario on the quickstart model, next to unconditional sampling.

    python3 benchmarks/bench_conditional.py [--quick]

Scenario (_common.CONTRACT_CONDITIONS): segment {Premium .55, Mainstream .35, Value .10},
channel {Online .70, Retail .20, Club .10}, age 25-44, purchase_intent 70-100.

Per size (5k / 100k / 1M): conditioned ``sample`` time and unconditional ``sample`` time of
the same size in the same process (best of N, warm), their ratio; conditioned
``write(..., fmt="parquet")`` time; peak RSS of the conditioned sample + parquet write in a
fresh process (see bench_sampling). ``rows`` and the conditioning report (max share error,
range violations) check the scenario was actually met.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import _common as C  # noqa: E402


def run(quick: bool = False) -> dict:
    from engine.quality import conditioning_report
    C.warm_engine()
    synth = C.fit_quickstart()
    cond = C.CONTRACT_CONDITIONS
    sizes = [5_000, 100_000, 250_000] if quick else [5_000, 100_000, 1_000_000]
    out = {"sizes": sizes, "conditions": cond, "cases": {}}
    with tempfile.TemporaryDirectory(prefix="simio-bench-") as tmp:
        for n in sizes:
            repeat = 3 if n >= 1_000_000 else 5
            tc = C.timed(lambda n=n: synth.sample(n, seed=321, conditions=cond),
                         repeat=repeat, warmup=1)
            frame = tc["result"]
            report = conditioning_report(frame, cond, n)
            del frame
            tu = C.timed(lambda n=n: synth.sample(n, seed=321), repeat=repeat, warmup=1)
            path = Path(tmp) / "cond.parquet"
            tw = C.timed(lambda n=n, p=path: synth.write(p, n, fmt="parquet", seed=321,
                                                        conditions=cond),
                         repeat=repeat, warmup=1)
            gen = tw["result"]
            out["cases"][str(n)] = {
                "rows_requested": n, "rows_generated": gen.rows_generated,
                "status": gen.status, "upweight_needed": gen.upweight_needed,
                "max_share_error": report["max_share_error"],
                "range_violations": report["range_violations"],
                "repeat": repeat,
                "conditioned_sample": C.strip_result(tc),
                "unconditioned_sample": C.strip_result(tu),
                "ratio": tc["best_s"] / tu["best_s"],
                "conditioned_write_parquet": C.strip_result(tw),
                "peak_rss": C.peak_rss_subprocess(n, "parquet", cond),
            }
    return out


def markdown(res: dict) -> str:
    rows = []
    for n, c in res["cases"].items():
        rows.append([int(n), c["rows_generated"], c["conditioned_sample"]["best_s"],
                     c["unconditioned_sample"]["best_s"], c["ratio"],
                     c["conditioned_write_parquet"]["best_s"],
                     c["peak_rss"].get("peak_delta_mb"), c["peak_rss"]["work_s"],
                     c["upweight_needed"], c["max_share_error"], c["range_violations"]])
    return C.md_table(["rows", "generated", "cond. sample s", "uncond. sample s",
                       "ratio cond/uncond", "cond. sample+parquet s",
                       "peak RSS - baseline MB (fresh proc)", "fresh-proc sample+parquet s",
                       "upweight used", "max share err", "range violations"], rows)


if __name__ == "__main__":
    print(markdown(run(quick="--quick" in sys.argv)))
