"""Run every benchmark, print a Markdown table per section, check the targets, and write
``benchmarks/results/latest.json`` and ``benchmarks/results/latest.md``.

    python3 benchmarks/run_all.py            # full sizes (~3-5 min on 2 cores)
    python3 benchmarks/run_all.py --quick    # smaller sizes (targets at 1M show "n/a")
    python3 benchmarks/run_all.py --only fit sampling
    python3 benchmarks/run_all.py --only coherence peers   # ground truth; SDV / MOSTLY AI
    python3 benchmarks/run_all.py --only startup   # whole-process CPU of the simio command
    python3 benchmarks/run_all.py --only wide      # 1M rows from 10k x 30 / x 120 models

See benchmarks/README.md for what each number means.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import _common as C  # noqa: E402
from benchmarks import (  # noqa: E402
    bench_coherence, bench_conditional, bench_fidelity, bench_fit, bench_peers, bench_sampling,
    bench_startup, bench_wide_generate,
)

SECTIONS = {
    "fit": ("Fit time", bench_fit),
    "sampling": ("Unconditional sampling and writing", bench_sampling),
    "conditional": ("Scenario-conditioned sampling (contract scenario)", bench_conditional),
    "fidelity": ("Fidelity and privacy (holdout protocol)", bench_fidelity),
    "coherence": ("Ground-truth coherence of the contract scenario", bench_coherence),
    "peers": ("Peers: SDV and MOSTLY AI on the same seed and scenario", bench_peers),
    "startup": ("Start-up: whole-process CPU of the simio command", bench_startup),
    "wide": ("Generation throughput on wide tables (1M rows to parquet)", bench_wide_generate),
}


def _get(results, *path):
    node = results
    for key in path:
        if not isinstance(node, dict) or key not in node:
            return None
        node = node[key]
    return node


def targets(results: dict) -> list[dict]:
    """(name, value, comparison, threshold, unit) per target; value None = not measured."""
    def cond(n, *path):
        return _get(results, "conditional", "cases", str(n), *path)

    public = _get(results, "fidelity", "public") or {}
    dcr_public = [t["dcr_share"] for t in public.values() if "dcr_share" in t]
    rows = [
        ("fit, 800-row quickstart seed (best)", _get(results, "fit", "cases", "quickstart_800",
                                                    "best_s"), "<=", 0.2, "s"),
        ("fit, 22k x 13 mixed (best)", _get(results, "fit", "cases", "mixed_22k_13col",
                                           "best_s"), "<=", 1.0, "s"),
        ("unconditional sample 100k (best)", _get(results, "sampling", "sample", "100000",
                                                  "best_s"), "<=", 0.1, "s"),
        ("unconditional 1M sampled + written parquet (best)",
         _get(results, "sampling", "write", "parquet", "best_s")
         if _get(results, "sampling", "write_rows") == 1_000_000 else None, "<=", 1.0, "s"),
        ("peak RSS, 1M unconditional sample + parquet (fresh process, above baseline)",
         _get(results, "sampling", "peak_rss", "peak_delta_mb")
         if _get(results, "sampling", "peak_rss", "n") == 1_000_000 else None,
         "<=", 1024.0, "MB"),
        ("peak RSS, 1M conditioned sample + parquet (fresh process, above baseline)",
         cond(1_000_000, "peak_rss", "peak_delta_mb"), "<=", 1024.0, "MB"),
        ("quickstart quality score (ceiling ~0.961)",
         _get(results, "fidelity", "quickstart", "score"), ">=", 0.955, ""),
        ("quickstart DCR share", _get(results, "fidelity", "quickstart", "dcr_share"),
         "<=", 0.55, ""),
        ("public tables, max DCR share", max(dcr_public) if dcr_public else None,
         "<=", 0.55, ""),
        ("public tables, mean gap to ceiling",
         _get(results, "fidelity", "public_summary", "mean_gap"), "<=", 0.02, ""),
        ("conditioned sample 5k (best)", cond(5_000, "conditioned_sample", "best_s"),
         "<=", 0.1, "s"),
        ("conditioned 1M sampled + written parquet (best, warm)",
         cond(1_000_000, "conditioned_write_parquet", "best_s"), "<", 3.0, "s"),
        ("conditioned 1M sampled + written parquet (fresh process)",
         cond(1_000_000, "peak_rss", "work_s"), "<", 3.0, "s"),
    ]
    for metric, label in (("joint", "joint (54 cells)"), ("mean_pair", "mean pair")):
        rows.append((f"coherence: ours / best baseline, {label} TVD to the truth",
                     _get(results, "coherence", "ours_vs_baselines", metric, "ratio"),
                     "<", 1.0, "x"))
    if "startup" in results:
        rows += bench_startup.targets(results["startup"])
    if "wide" in results:
        rows += bench_wide_generate.targets(results["wide"])
    for n in (_get(results, "conditional", "sizes") or []):
        rows.append((f"conditioned / unconditioned sample time, {n:,} rows",
                     cond(n, "ratio"), "<=", 3.0, "x"))
    out = []
    for name, value, op, threshold, unit in rows:
        if value is None:
            status = "n/a"
        else:
            ok = value <= threshold if op == "<=" else (value < threshold if op == "<"
                                                        else value >= threshold)
            status = "met" if ok else "MISSED"
        out.append({"target": name, "value": value, "op": op, "threshold": threshold,
                    "unit": unit, "status": status})
    return out


def targets_markdown(rows: list[dict]) -> str:
    return C.md_table(["target", "value", "goal", "status"],
                      [[r["target"], r["value"], f'{r["op"]} {r["threshold"]:g} {r["unit"]}'
                        .strip(), r["status"]] for r in rows])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes, fewer repeats")
    parser.add_argument("--only", nargs="+", choices=list(SECTIONS), default=list(SECTIONS))
    parser.add_argument("--out", type=Path, default=C.RESULTS_DIR,
                        help="directory for latest.json / latest.md")
    args = parser.parse_args(argv)

    started = datetime.now(timezone.utc)
    results: dict = {"quick": args.quick, "started_utc": started.isoformat(timespec="seconds"),
                     "env": C.env_info(), "section_seconds": {}}
    md_parts = [f"# simio-local benchmarks ({'quick' if args.quick else 'full'})", "",
                f"{started:%Y-%m-%d %H:%M} UTC; " + ", ".join(
                    f"{k} {v}" for k, v in results["env"].items() if v is not None), ""]
    section_md = []
    for key in args.only:
        title, module = SECTIONS[key]
        t0 = time.perf_counter()
        res = module.run(quick=args.quick)
        results["section_seconds"][key] = time.perf_counter() - t0
        results[key] = res
        text = f"## {title}\n\n{module.markdown(res)}\n"
        print(text, flush=True)
        section_md.append(text)

    try:   # other work on the machine inflates every time; judge the numbers with this
        results["loadavg_at_end"] = [round(x, 2) for x in os.getloadavg()]
    except OSError:
        pass
    results["targets"] = targets(results)
    tmd = targets_markdown(results["targets"])
    print("## Targets\n\n" + tmd + "\n", flush=True)
    md_parts += ["## Targets", "", tmd, ""] + section_md
    md_parts.append("Section times (s): " + ", ".join(
        f"{k} {v:.1f}" for k, v in results["section_seconds"].items())
        + f'; load average at end: {results.get("loadavg_at_end")}')

    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "latest.json").write_text(
        json.dumps(C.to_jsonable(results), indent=2, sort_keys=False) + "\n")
    (args.out / "latest.md").write_text("\n".join(md_parts) + "\n")
    print(f"wrote {args.out / 'latest.json'} and {args.out / 'latest.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
