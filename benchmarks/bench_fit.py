"""Fit time: Synthesizer().fit(frame) on small tables (warm, best of N) and at scale.

    python3 benchmarks/bench_fit.py [--quick] [--scale-only] [--sizes 10000x30,100000x60]

Tables: the 800-row quickstart seed; a 22,000 x 13 mixed table (quickstart columns + 8
dependent extras, see _common.mixed_frame); the quickstart generator at 100,000 rows.
Timed: the whole ``fit`` (cleaning + structure learning + tables) on an in-memory frame.

Scale (issue 12; skipped by --quick): wide and long correlated mixed tables generated here
with a fixed seed (``wide_frame``), each fitted once in a fresh interpreter after a tiny
warm-up fit, reporting wall time, CPU time of the fit (less sensitive to other load on a
shared machine), the process's peak RSS (the loaded frame included), edges and the
per-stage CPU seconds; and the 20k x 60 survey trained through ``simio train`` from a CSV
(the whole process: imports, read, fit, save), timed with os.wait4.
"""

from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import io  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from benchmarks import _common as C  # noqa: E402


# (key, rows, columns, target seconds, target peak RSS MB or None): the table
SCALE_CASES = [
    ("10k_x_30", 10_000, 30, 1.0, None),
    ("10k_x_120", 10_000, 120, 10.0, None),
    ("100k_x_30", 100_000, 30, 4.0, None),
    ("100k_x_60", 100_000, 60, 10.0, None),
    ("1M_x_30", 1_000_000, 30, 30.0, 2048.0),
    ("200k_x_200", 200_000, 200, 120.0, 2048.0),
]
SURVEY = ("survey_20k_x_60_cli", 20_000, 60, 3.0)
WIDE_SEED = 12


def wide_frame(n: int, d: int, seed: int = WIDE_SEED) -> pd.DataFrame:
    """A correlated mixed table: columns alternate categorical (3-50 levels, uneven
    shares) and numeric (lognormal with cents, rounded scores, zero-inflated amounts);
    every fifth column has ~3% missing. Each column loads on four shared factors and on
    its neighbour, so there is structure to find at every width."""
    rng = np.random.default_rng(seed)
    factors = rng.normal(size=(n, 4))
    cols, prev = {}, np.zeros(n)
    for j in range(d):
        load = rng.normal(0, 0.8, 4) * (rng.random(4) < 0.5)
        s = factors @ load + 0.6 * prev + rng.normal(0, 1, n)
        s = (s - s.mean()) / s.std()
        prev = s
        if j % 2 == 0:
            levels = int(rng.integers(3, 51))
            cuts = np.quantile(s, np.sort(rng.random(levels - 1)))
            names = np.array([f"c{j}_{i}" for i in range(levels)], dtype=object)
            col = names[np.searchsorted(cuts, s)]
        else:
            kind = (j // 2) % 3
            if kind == 0:
                col = np.round(np.exp(3 + 0.7 * s), 2)
            elif kind == 1:
                col = np.round(50 + 12 * s).astype(float)
            else:
                col = np.where(s < 0.2, 0.0, np.round(np.exp(1 + s), 1))
        if j % 5 == 0:
            col = pd.Series(col).where(rng.random(n) >= 0.03).to_numpy()
        cols[f"v{j:03d}"] = col
    return pd.DataFrame(cols)


def _scale_child(n: int, d: int) -> dict:
    """In a fresh interpreter: warm-up fit, then one timed fit of ``wide_frame(n, d)``."""
    import resource

    from engine.progress import StageLines
    from engine.synthesizer import Synthesizer
    Synthesizer().fit(wide_frame(2000, 10, seed=1))
    frame = wide_frame(n, d)
    stages = io.StringIO()
    wall, cpu = time.perf_counter(), time.process_time()
    with StageLines(stages, clock=time.process_time) as report:
        synth = Synthesizer().fit(frame, progress=report)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return {"rows": n, "columns": d, "fit_s": wall, "fit_cpu_s": cpu,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "edges": len(synth.model_.edges), "modelled_columns": len(synth.schema_),
            "stages_cpu": stages.getvalue().strip().splitlines()}


def _run_child(args: list[str], timeout: float = 900) -> tuple[str, float, float, float]:
    """(stdout, wall s, user+sys CPU s, peak RSS MB) of ``python args`` run from the repo."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(C.REPO) + os.pathsep + env.get("PYTHONPATH", "")
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen([sys.executable, *args], cwd=C.REPO, env=env, stdout=out,
                                stderr=err)
        _, usage = C.wait_with_usage(proc, timeout)
        wall = time.perf_counter() - t0
        out.seek(0)
        err.seek(0)
        if proc.returncode != 0:
            raise RuntimeError(f"{args} failed ({proc.returncode}): "
                               f"{err.read().decode(errors='replace')[-2000:]}")
        return (out.read().decode(), wall, usage.ru_utime + usage.ru_stime,
                usage.ru_maxrss / 1024)


def scale(sizes=None) -> dict:
    out = {}
    for key, n, d, target_s, target_mb in SCALE_CASES:
        if sizes and f"{n}x{d}" not in sizes:
            continue
        text, _, _, _ = _run_child(["-m", "benchmarks.bench_fit", "child", str(n), str(d)])
        res = json.loads(text.strip().splitlines()[-1])
        out[key] = {**res, "target_s": target_s, "target_peak_rss_mb": target_mb}
    key, n, d, target_s = SURVEY
    if not sizes or f"{n}x{d}" in sizes:
        with tempfile.TemporaryDirectory(prefix="simio-bench-fit-") as tmp:
            seed = Path(tmp) / "survey.csv"
            wide_frame(n, d).to_csv(seed, index=False)
            _run_child(["-m", "engine.cli", "train", str(seed), "-o", str(Path(tmp) / "w.simio")])
            text, wall, cpu, rss = _run_child(["-m", "engine.cli", "train", str(seed), "-o",
                                               str(Path(tmp) / "m.simio")])
        out[key] = {"rows": n, "columns": d, "fit_s": wall, "fit_cpu_s": cpu, "peak_rss_mb": rss,
                    "edges": sum(1 for line in text.splitlines() if " -> " in line),
                    "target_s": target_s, "target_peak_rss_mb": None,
                    "note": "whole `simio train` process from CSV, second run (warm cache)"}
    return out


def run(quick: bool = False, scale_only: bool = False, sizes=None) -> dict:
    if scale_only:
        return {"repeat": 0, "cases": {}, "scale": scale(sizes)}
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
    if not quick:
        out["scale"] = scale(sizes)
    return out


def markdown(res: dict) -> str:
    rows = [[c["label"], c["rows"], f'{c["columns"]} ({c["modelled_columns"]})', c["edges"],
             c["best_s"], c["median_s"]] for c in res["cases"].values()]
    text = C.md_table(["table", "rows", "columns (modelled)", "edges", "fit best s",
                       f'fit median s (of {res["repeat"]})'], rows) if rows else ""
    if res.get("scale"):
        scale_rows = [[key, c["rows"], c["columns"], c["edges"], c["fit_s"], c["fit_cpu_s"],
                       c["peak_rss_mb"], c["target_s"],
                       "yes" if c["fit_s"] <= c["target_s"] and (
                           c["target_peak_rss_mb"] is None
                           or c["peak_rss_mb"] <= c["target_peak_rss_mb"]) else "NO",
                       "; ".join(c.get("stages_cpu", [])) or c.get("note", "")]
                      for key, c in res["scale"].items()]
        text += "\n\nAt scale (fresh process each; wall time is sensitive to other load, " \
                "CPU time less so):\n\n" + C.md_table(
                    ["table", "rows", "columns", "edges", "fit s", "fit CPU s", "peak RSS MB",
                     "target s", "met (wall)", "stages (CPU s)"], scale_rows)
    return text


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "child":
        print(json.dumps(_scale_child(int(sys.argv[2]), int(sys.argv[3]))))
    else:
        sizes = next((a.split("=", 1)[1].split(",") for a in sys.argv if a.startswith("--sizes=")),
                     None)
        print(markdown(run(quick="--quick" in sys.argv, scale_only="--scale-only" in sys.argv,
                           sizes=sizes)))
