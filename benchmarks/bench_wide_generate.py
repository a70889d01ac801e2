"""Generation throughput on wide tables (issue 18): 1M rows sampled + written to Parquet.

    python3 benchmarks/bench_wide_generate.py [--quick] [--rows N] [--threads N]

Models are fitted here on ``bench_fit.wide_frame`` tables (10k x 30 and 10k x 120, fixed
seed: correlated, half categorical with 3-50 levels, half numeric, some missing). Each case
runs in a fresh interpreter: fit, a 1,000-row warm-up write (numba's cache, pyarrow's
writer), then ``Synthesizer.write(path, rows, fmt="parquet")`` timed (wall and CPU), and
beside it, in the same process, pyarrow alone writing the very table that file holds
(read back first, untimed): the floor any generator pays for the Parquet encoding. The
file's sha256 (first 16 hex digits) shows whether a change kept the output bytes.

Peak RSS above the loaded model: VmHWM after the work minus VmRSS before it (VmHWM reset
through /proc/self/clear_refs), so it is what generation adds whatever the model weighs.
``--threads`` sets SIMIO_THREADS for the children (default: the engine's, up to 2).
Wall times on a shared machine are inflated by other load; CPU time is shown beside them.
"""

from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import argparse  # noqa: E402
import gc  # noqa: E402
import hashlib  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

from benchmarks import _common as C  # noqa: E402

ROWS = 1_000_000
FIT_ROWS = 10_000
# (key, columns of the fitted table, target seconds for ROWS rows)
CASES = [("10k_x_30", 30, 1.5), ("10k_x_120", 120, 6.0)]
TARGET_CELLS_PER_S = 20e6
TARGET_PEAK_MB = 1024.0


def _child(d: int, rows: int) -> dict:
    """In a fresh interpreter: fit on wide_frame(FIT_ROWS, d), warm up, time the write."""
    import pyarrow.parquet as pq

    from benchmarks.bench_fit import wide_frame
    from engine.synthesizer import Synthesizer

    synth = Synthesizer().fit(wide_frame(FIT_ROWS, d))
    with tempfile.TemporaryDirectory(prefix="simio-bench-wide-") as tmp:
        out = Path(tmp) / "out.parquet"
        synth.write(Path(tmp) / "warm.parquet", 1000, seed=1)
        gc.collect()
        C._reset_peak()
        base = C._proc_status_kb("VmRSS")
        wall, cpu = time.perf_counter(), time.process_time()
        synth.write(out, rows, seed=2)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        peak = C._proc_status_kb("VmHWM")
        table = pq.read_table(out)
        t_arrow, c_arrow = time.perf_counter(), time.process_time()
        pq.write_table(table, Path(tmp) / "pyarrow.parquet")
        t_arrow, c_arrow = time.perf_counter() - t_arrow, time.process_time() - c_arrow
        file_mb = out.stat().st_size / C.MB
        digest = hashlib.sha256(out.read_bytes()).hexdigest()[:16]
    return {"rows": rows, "fit_columns": d, "columns": table.num_columns,
            "sample_write_s": wall, "sample_write_cpu_s": cpu,
            "pyarrow_write_s": t_arrow, "pyarrow_write_cpu_s": c_arrow,
            "cells_per_s": rows * table.num_columns / wall,
            "cells_per_cpu_s": rows * table.num_columns / cpu,
            "peak_above_model_mb": (peak - base) / 1024 if peak and base else None,
            "file_mb": file_mb, "file_sha256": digest}


def run(quick: bool = False, rows: int | None = None, threads: int | None = None) -> dict:
    rows = rows or (200_000 if quick else ROWS)
    env = {} if threads is None else {"SIMIO_THREADS": str(threads)}
    out = {"rows": rows, "threads": threads, "cases": {}}
    for key, d, target_s in CASES:
        res = _run_child(d, rows, env)
        out["cases"][key] = {**res, "target_s": target_s if rows == ROWS else None}
    out["loadavg"] = list(os.getloadavg())
    return out


def _run_child(d: int, rows: int, env: dict) -> dict:
    import subprocess

    env = {**os.environ, **env,
           "PYTHONPATH": os.pathsep.join(filter(None, [str(C.REPO), os.environ.get("PYTHONPATH")]))}
    proc = subprocess.run([sys.executable, "-m", "benchmarks.bench_wide_generate", "child",
                           str(d), str(rows)], cwd=C.REPO, env=env, capture_output=True,
                          text=True, timeout=900)
    if proc.returncode != 0:
        raise RuntimeError(f"wide generate child failed: {proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def targets(res: dict) -> list[tuple[str, float | None, str, float, str]]:
    """(target, value, op, threshold, unit); None where --quick changed the row count."""
    rows = []
    for key, c in res["cases"].items():
        full = c["target_s"] is not None
        rows.append((f"{key} model: 1M rows sampled + written parquet", c["sample_write_s"]
                     if full else None, "<=", c["target_s"] or 0.0, "s"))
        rows.append((f"{key} model: cells/s, sample + write", c["cells_per_s"] if full else None,
                     ">=", TARGET_CELLS_PER_S, "cells/s"))
    big = res["cases"].get("10k_x_120", {})
    rows.append(("10k_x_120 model: peak RSS above the loaded model, 1M rows",
                 big.get("peak_above_model_mb") if big.get("target_s") else None, "<=",
                 TARGET_PEAK_MB, "MB"))
    return rows


def markdown(res: dict) -> str:
    table = C.md_table(
        ["model", "rows", "cols", "sample+write s", "CPU s", "pyarrow write-only s",
         "cells/s", "cells/CPU s", "peak RSS above model MB", "file MB", "file sha256"],
        [[key, c["rows"], c["columns"], c["sample_write_s"], c["sample_write_cpu_s"],
          c["pyarrow_write_s"], c["cells_per_s"], c["cells_per_cpu_s"],
          c["peak_above_model_mb"], c["file_mb"], c["file_sha256"]]
         for key, c in res["cases"].items()])
    status = []
    for name, value, op, threshold, unit in targets(res):
        ok = None if value is None else (value <= threshold if op == "<=" else value >= threshold)
        status.append([name, value, f"{op} {threshold:g} {unit}",
                       "n/a" if ok is None else ("met" if ok else "MISSED")])
    return "\n".join([table, "", f"threads: {res['threads'] or 'default'}; load average "
                      f"{[round(x, 2) for x in res['loadavg']]}", "",
                      C.md_table(["target", "value", "goal", "status"], status)])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="200k rows instead of 1M")
    parser.add_argument("--rows", type=int, default=None)
    parser.add_argument("--threads", type=int, default=None, help="SIMIO_THREADS for the runs")
    args = parser.parse_args(argv)
    print(markdown(run(quick=args.quick, rows=args.rows, threads=args.threads)))
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "child":
        print(json.dumps(_child(int(sys.argv[2]), int(sys.argv[3]))))
    else:
        sys.exit(main())
