"""Shared helpers for the benchmarks: timing, the benchmark tables, the contract scenario,
Markdown output and the fresh-subprocess peak-RSS probe.

Run the probe by hand with::

    python3 -m benchmarks._common rss '{"n": 1000000, "fmt": "parquet"}'
"""

from __future__ import annotations

import gc
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
RESULTS_DIR = REPO / "benchmarks" / "results"

if str(REPO) not in sys.path:          # `python3 benchmarks/x.py` puts benchmarks/ first
    sys.path.insert(0, str(REPO))

from engine.datasets import QUICKSTART_SCENARIO  # noqa: E402  (needs the path above)

# The contract's scenario (docs/conditioning.md): shares per level, bilateral ranges.
CONTRACT_CONDITIONS = QUICKSTART_SCENARIO["conditions"]

QUICKSTART_ROWS = 800
QUICKSTART_SEED = 7
GB = 1024 ** 3
MB = 1024 ** 2


# -- timing -------------------------------------------------------------------------------

def timed(fn, repeat: int = 5, warmup: int = 0) -> dict:
    """Best / median / all wall times of ``fn()`` (perf_counter), after ``warmup`` calls.

    ``gc.collect()`` runs before each call so one call's garbage is not charged to the next.
    The last call's return value is kept under ``result``.
    """
    for _ in range(warmup):
        fn()
    times, result = [], None
    for _ in range(repeat):
        result = None
        gc.collect()
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return {"best_s": min(times), "median_s": statistics.median(times), "times_s": times,
            "result": result}


def strip_result(t: dict) -> dict:
    return {k: v for k, v in t.items() if k != "result"}


# -- tables -------------------------------------------------------------------------------

def quickstart_seed(n: int = QUICKSTART_ROWS, seed: int = QUICKSTART_SEED) -> pd.DataFrame:
    from engine.datasets import quickstart_frame
    return quickstart_frame(n, seed)


def fit_quickstart(n: int = QUICKSTART_ROWS, seed: int = QUICKSTART_SEED):
    from engine.synthesizer import Synthesizer
    return Synthesizer().fit(quickstart_seed(n, seed))


def warm_engine() -> None:
    """Load every numba kernel (fit, forward sampling, conditional sampling) once, so the
    timed calls never pay compilation or on-disk cache loading."""
    synth = fit_quickstart()
    synth.sample(1000, seed=0)
    synth.sample(1000, seed=0, conditions=CONTRACT_CONDITIONS)
    mixed = mixed_frame(2000, seed=1)
    from engine.synthesizer import Synthesizer
    Synthesizer().fit(mixed).sample(1000, seed=0)


def mixed_frame(n: int = 22_000, seed: int = 11) -> pd.DataFrame:
    """The quickstart generator's 5 columns plus 8 dependent extras (13 columns).

    extras: education (5 levels, from age), income (lognormal, from education + segment;
    ~5% missing), loyalty_tier (integer codes 1-4, from segment + channel), store (30
    levels, from region), device (3 levels, from channel + age), satisfaction (5-level
    Likert text, from purchase_intent; ~5% missing), tenure_months (gamma, from age),
    has_kids ("yes"/"no", from age).
    """
    from engine.datasets import quickstart_frame
    df = quickstart_frame(n, seed)
    rng = np.random.default_rng(seed + 1000)
    age = df["age"].to_numpy()
    premium = (df["segment"] == "Premium").to_numpy()
    value = (df["segment"] == "Value").to_numpy()
    online = (df["channel"] == "Online").to_numpy()
    club = (df["channel"] == "Club").to_numpy()

    edu_levels = np.array(["primary", "secondary", "vocational", "bachelor", "master"])
    edu_score = (age - 40) / 30 + rng.normal(0, 1, n)          # older: a bit more educated
    edu_code = np.digitize(edu_score, [-1.2, -0.3, 0.4, 1.2])
    df["education"] = edu_levels[edu_code]

    log_income = (10.0 + 0.18 * edu_code + 0.35 * premium - 0.25 * value
                  + 0.01 * (age - 40) + rng.normal(0, 0.45, n))
    income = np.round(np.exp(log_income), -1)
    income[rng.random(n) < 0.05] = np.nan
    df["income"] = income

    tier_score = 1.2 * premium - 0.8 * value + 0.6 * club + rng.normal(0, 1, n)
    df["loyalty_tier"] = (np.digitize(tier_score, [-0.5, 0.5, 1.5]) + 1).astype(np.int64)

    region_code = pd.Categorical(df["region"]).codes
    store_pref = (region_code * 7 + rng.integers(0, 12, n)) % 30   # each region: 12 stores
    df["store"] = np.array([f"S{i:02d}" for i in range(30)])[store_pref]

    p_app = np.clip(0.15 + 0.45 * online - 0.006 * (age - 40), 0.02, 0.95)
    u = rng.random(n)
    df["device"] = np.where(u < p_app, "app", np.where(u < p_app + 0.5 * (1 - p_app),
                                                         "desktop", "in_store"))

    sat_levels = np.array(["very_low", "low", "neutral", "high", "very_high"], dtype=object)
    sat_score = (df["purchase_intent"].to_numpy() - 50) / 15 + rng.normal(0, 0.9, n)
    satisfaction = sat_levels[np.digitize(sat_score, [-1.5, -0.5, 0.5, 1.5])]
    satisfaction[rng.random(n) < 0.05] = None
    df["satisfaction"] = satisfaction

    df["tenure_months"] = np.round(rng.gamma(2.0, 6 + 0.4 * (age - 18)), 1)
    p_kids = np.clip(0.1 + 0.02 * (age - 22), 0.05, 0.7)
    df["has_kids"] = np.where(rng.random(n) < p_kids, "yes", "no")
    return df


# -- output -------------------------------------------------------------------------------

def md_table(headers: list[str], rows: list[list]) -> str:
    def cell(v):
        if v is None:
            return "-"
        if isinstance(v, float):
            if np.isnan(v):
                return "nan"
            return f"{v:.4g}" if abs(v) < 1e5 else f"{v:,.0f}"
        if isinstance(v, int) and not isinstance(v, bool):
            return f"{v:,}"
        return str(v)
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def to_jsonable(obj):
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (np.floating, float)):
        return None if not np.isfinite(obj) else float(obj)
    if isinstance(obj, np.bool_):
        return bool(obj)
    return obj


def env_info() -> dict:
    import numba
    import pyarrow
    import scipy
    import sklearn
    info = {"python": platform.python_version(), "platform": platform.platform(),
            "cpu_count": os.cpu_count(), "numpy": np.__version__, "pandas": pd.__version__,
            "scipy": scipy.__version__, "numba": numba.__version__,
            "pyarrow": pyarrow.__version__, "scikit-learn": sklearn.__version__}
    try:
        from threadpoolctl import threadpool_info
        info["blas"] = ", ".join(f'{p.get("internal_api")} {p.get("num_threads")} threads'
                                 for p in threadpool_info())
    except Exception:  # noqa: BLE001 - informational only
        pass
    info.update({k: v for k, v in os.environ.items()
                 if k in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_CORETYPE",
                          "NUMBA_NUM_THREADS", "NUMBA_DISABLE_JIT")})
    try:
        info["loadavg_1_5_15"] = [round(x, 2) for x in os.getloadavg()]
    except OSError:
        pass
    try:
        with open("/proc/cpuinfo") as fh:
            names = [ln.split(":", 1)[1].strip() for ln in fh if ln.startswith("model name")]
        info["cpu"] = names[0] if names else None
    except OSError:
        pass
    try:   # read-only
        info["git_commit"] = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True,
            text=True, timeout=10).stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        info["git_commit"] = None
    return info


# -- peak RSS in a fresh subprocess -------------------------------------------------------

def _proc_status_kb(field: str) -> int | None:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def _reset_peak() -> bool:
    """Reset VmHWM to the current RSS (Linux >= 4.0: write 5 to clear_refs)."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def _rss_child(spec: dict) -> dict:
    """Runs in the fresh process: imports + fit + a tiny warm-up write are the baseline;
    then ``spec['n']`` rows are sampled (and written when ``fmt`` is set)."""
    t0 = time.perf_counter()
    from engine.synthesizer import Synthesizer
    t_import = time.perf_counter() - t0
    t0 = time.perf_counter()
    synth = Synthesizer().fit(quickstart_seed())
    t_fit = time.perf_counter() - t0
    conditions = spec.get("conditions")
    fmt = spec.get("fmt")
    with tempfile.TemporaryDirectory(prefix="simio-bench-") as tmp:
        # Warm-up: loads the numba kernels and pyarrow writer code, which are fixed costs.
        t0 = time.perf_counter()
        if fmt:
            synth.write(Path(tmp) / f"warm.{fmt}", 1000, fmt=fmt, seed=1, conditions=conditions)
        else:
            synth.sample(1000, seed=1, conditions=conditions)
        t_first = time.perf_counter() - t0
        gc.collect()
        hwm_before = _proc_status_kb("VmHWM")
        reset = _reset_peak()
        base = _proc_status_kb("VmRSS")
        t0 = time.perf_counter()
        if fmt:
            gen = synth.write(Path(tmp) / f"out.{fmt}", spec["n"], fmt=fmt, seed=2,
                              conditions=conditions)
            rows = gen.rows_generated
        else:
            rows = len(synth.sample(spec["n"], seed=2, conditions=conditions))
        t_work = time.perf_counter() - t0
        peak = _proc_status_kb("VmHWM")
    out = {"rows": rows, "import_s": t_import, "first_fit_s": t_fit,
           "first_small_call_s": t_first, "work_s": t_work, "peak_reset": reset,
           "baseline_rss_mb": base / 1024 if base else None,
           "hwm_before_work_mb": hwm_before / 1024 if hwm_before else None,
           "peak_hwm_mb": peak / 1024 if peak else None}
    if reset and base and peak:
        out["peak_delta_mb"] = (peak - base) / 1024
    elif base and peak:      # peak not resettable: an upper bound
        out["peak_delta_mb"] = (peak - base) / 1024
        out["note"] = "VmHWM could not be reset; delta includes fit/import peak"
    return out


def wait_with_usage(proc, timeout: float):
    """Reap ``proc`` (killed after ``timeout`` s) with its resource usage (os.wait4); sets
    ``proc.returncode``. Returns (wait status, rusage)."""
    deadline = time.monotonic() + timeout
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if time.monotonic() > deadline:
            proc.kill()
            pid, status, usage = os.wait4(proc.pid, 0)
            break
        time.sleep(0.02)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return status, usage


def peak_rss_subprocess(n: int, fmt: str | None = "parquet", conditions: dict | None = None,
                        timeout: float = 600) -> dict:
    """Run ``_rss_child`` in a fresh interpreter; adds the child's lifetime peak from the
    kernel (ru_maxrss via wait4) as ``child_maxrss_mb``."""
    spec = json.dumps({"n": n, "fmt": fmt, "conditions": conditions})
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen([sys.executable, "-m", "benchmarks._common", "rss", spec],
                                cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=err)
        out = proc.stdout.read()
        status, usage = wait_with_usage(proc, timeout)
        if proc.returncode != 0:
            err.seek(0)
            raise RuntimeError(f"rss child failed ({proc.returncode}): "
                               f"{err.read().decode(errors='replace')[-2000:]}")
    result = json.loads(out.decode().strip().splitlines()[-1])
    result["child_maxrss_mb"] = usage.ru_maxrss / 1024       # Linux: kilobytes
    return result


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "rss":
        print(json.dumps(_rss_child(json.loads(sys.argv[2]))))
    else:
        sys.exit("usage: python3 -m benchmarks._common rss '{\"n\": 1000000, \"fmt\": "
                 "\"parquet\", \"conditions\": null}'")
