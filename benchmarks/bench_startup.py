"""Whole-process CPU of the ``simio`` command, beside a pyarrow-only process, in one run.

    python3 benchmarks/bench_startup.py [--quick] [--repeat N]

Each case runs in a fresh interpreter (``python -m localapi.cli ...``, exactly what the
installed ``simio`` script runs) and is charged the child's user + system CPU
(``resource.getrusage(RUSAGE_CHILDREN)`` before and after ``wait``): imports, numba's
cache loading, sampling, encoding and writing, everything a user pays.

* ``simio --help``;
* ``simio generate MODEL --rows 1000 -o out.parquet``;
* ``simio generate MODEL --rows 1000000 -o big.parquet``;
* the baseline: a Python process that imports pyarrow, reads ``big.parquet`` (the file
  the 1M-row case just wrote) and writes it again. The ratio 1M-generate / baseline is the
  target, so both sides see the same machine load.

The model is the 800-row quickstart seed's; one untimed ``generate`` first fills numba's
on-disk cache, so no case pays compilation (a new install pays it once). ``best`` of
``--repeat`` runs is the headline (least disturbed by other load).
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

REPO = Path(__file__).resolve().parents[1]
SIMIO = [sys.executable, "-m", "localapi.cli"]
BIG = 1_000_000
REWRITE = ("import sys, pyarrow.parquet as pq; "
           "pq.write_table(pq.read_table(sys.argv[1]), sys.argv[2])")
# (case, target CPU seconds or None, target ratio to the baseline or None)
TARGETS = {"simio --help": (0.3, None), "simio generate 1k rows": (0.8, None),
           f"simio generate {BIG:,} rows to parquet": (None, 1.7)}


def child_cpu(args, cwd) -> float:
    """User + system CPU seconds of one child process run to completion (bounded)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(args, cwd=cwd, env=env, check=True, timeout=300,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def run(quick: bool = False, repeat: int | None = None) -> dict:
    repeat = repeat or (2 if quick else 3)
    big = 200_000 if quick else BIG
    with tempfile.TemporaryDirectory(prefix="simio-bench-startup-") as tmp:
        model = Path(tmp) / "model.simio"
        subprocess.run([*SIMIO, "train", str(REPO / "data" / "quickstart_seed.csv"), "-o",
                        str(model)], cwd=tmp, check=True, timeout=300,
                       env={**os.environ, "PYTHONPATH": str(REPO)},
                       stdout=subprocess.DEVNULL)
        generate = [*SIMIO, "generate", str(model), "--seed", "7", "--quiet", "--rows"]
        child_cpu([*generate, "1000", "-o", "warm.parquet"], tmp)      # fill numba's cache
        cases = {
            "simio --help": [*SIMIO, "--help"],
            "simio generate 1k rows": [*generate, "1000", "-o", "small.parquet"],
            f"simio generate {big:,} rows to parquet": [*generate, str(big), "-o",
                                                         "big.parquet"],
            f"pyarrow only: read + rewrite the {big:,}-row parquet": [
                sys.executable, "-c", REWRITE, "big.parquet", "copy.parquet"],
        }
        times = {name: [] for name in cases}
        for _ in range(repeat):          # interleaved: load changes hit every case alike
            for name, args in cases.items():
                times[name].append(child_cpu(args, tmp))
    best = {name: min(ts) for name, ts in times.items()}
    names = list(cases)
    ratio = best[names[2]] / best[names[3]]
    return {"rows_big": big, "repeat": repeat, "times_cpu_s": times, "best_cpu_s": best,
            "ratio_big_to_pyarrow": ratio, "loadavg": _loadavg()}


def targets(res: dict) -> list[tuple[str, float | None, str, float, str]]:
    """(target, value, op, threshold, unit); value None where --quick changed the size."""
    rows = []
    for name, (seconds, ratio) in TARGETS.items():
        if seconds is not None:
            rows.append((f"{name} (whole process CPU, best)", res["best_cpu_s"].get(name),
                         "<=", seconds, "s"))
        else:
            value = res["ratio_big_to_pyarrow"] if res["rows_big"] == BIG else None
            rows.append((f"{name} / pyarrow read+rewrite (CPU, best)", value, "<=", ratio,
                         "x"))
    return rows


def markdown(res: dict) -> str:
    lines = ["| process | best CPU (s) | all runs (s) |", "|---|---|---|"]
    for name, ts in res["times_cpu_s"].items():
        lines.append(f"| {name} | {min(ts):.3f} | {', '.join(f'{t:.3f}' for t in ts)} |")
    lines.append("")
    lines.append(f"{res['rows_big']:,}-row generate / pyarrow-only read+rewrite: "
                 f"**{res['ratio_big_to_pyarrow']:.2f}x** (CPU, best of {res['repeat']}); "
                 f"load average {res['loadavg']}")
    lines.append("")
    lines.append("| target | value | goal | status |")
    lines.append("|---|---|---|---|")
    for name, value, op, threshold, unit in targets(res):
        status = "n/a" if value is None else ("met" if value <= threshold else "MISSED")
        shown = "n/a" if value is None else f"{value:.3f}"
        lines.append(f"| {name} | {shown} | {op} {threshold:g} {unit} | {status} |")
    return "\n".join(lines)


def _loadavg():
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="200k rows instead of 1M")
    parser.add_argument("--repeat", type=int, default=None, help="runs per case (best shown)")
    args = parser.parse_args(argv)
    print(markdown(run(quick=args.quick, repeat=args.repeat)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
