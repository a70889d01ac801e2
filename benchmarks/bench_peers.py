"""Peers on the same seed and the same scenario, measured in the same run as ours.

    python3 benchmarks/bench_peers.py [--quick]

Peers (benchmark only -- never imported by engine/ or localapi/, never needed by a test):

* **SDV** ``GaussianCopulaSynthesizer`` (package ``sdv``; licence BUSL-1.1, which allows this
  benchmark use but rules it out as a dependency of the product);
* **MOSTLY AI's open engine** (package ``mostlyai-engine``, Apache-2.0), TABULAR model.

Both pin pandas < 3 (SDV) or pull a large ML stack (MOSTLY), so they live in their own
virtual environment and run in a subprocess: this file is also the worker
(``python bench_peers.py worker SPEC``), which imports only numpy, pandas, pyarrow and the
peer. The interpreter is ``$SIMIO_PEERS_PYTHON``, else
``~/.cache/simio-local/peers-venv/bin/python`` if it exists, else this one. A peer that
does not import there is reported with its error, and the section carries on. Set it up
with (CPU torch first: any other torch spec pulls a multi-GB CUDA build)::

    python3 -m venv ~/.cache/simio-local/peers-venv
    ~/.cache/simio-local/peers-venv/bin/pip install torch==2.13.0
    ~/.cache/simio-local/peers-venv/bin/pip install sdv mostlyai-engine pyarrow
    # mostlyai-engine drags in CUDA builds of torchvision/torchaudio that do not load
    # against the CPU torch (and break `import transformers`); the TABULAR model needs
    # neither:
    ~/.cache/simio-local/peers-venv/bin/pip uninstall -y torchvision torchaudio

Per method, on the 800-row quickstart seed:

* **fit s**: best of 3 (MOSTLY: one training run, capped at ``MOSTLY_TRAINING_MINUTES``);
* **sample s** at 10k / 100k / 1M unconditional rows (best of 3 / 2 / 1; 1M skipped when a
  peer needs more than 60 s at 100k);
* **scenario**: 20,000 rows of the contract scenario, each in the peer's best way.
  SDV: one ``Condition`` per segment x channel cell with the row count of the target
  shares (the independence assumption: SDV conditions cells, not margins), the numeric
  ranges by oversampling and filtering (SDV 2 has no scalar-range constraint, and a
  fit-time constraint would refuse a seed with rows outside the range). MOSTLY: seeded
  generation -- a seed table of segment x channel cells in the same counts -- with the
  same oversample-and-filter for the ranges. Both also as **+ filter + rake**: a 500k-row
  unconditional draw, filtered to the ranges and raked to the targets (our own IPF on the
  peer's rows), resampled to 20,000 -- the best a peer user could do with more work.
  Ours: ``sample(20000, conditions=...)``;
* **quality**: ``quality_report(fresh 50k draw of the true generator, 50k unconditional
  rows).score`` (as bench_fidelity's quickstart score);
* **coherence**: TVD to the scenario's ground truth (benchmarks/coherence.py, the same truth
  as bench_coherence) and the conditioning report (share error, range violations).

Ratios are peer / ours: above 1 the peer is slower (time) or further from the truth (TVD).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, "") and sys.argv[1:2] != ["worker"]:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

REPO = Path(__file__).resolve().parents[1]
DEFAULT_PEERS_PYTHON = Path.home() / ".cache" / "simio-local" / "peers-venv" / "bin" / "python"
PEERS = {"sdv": "SDV GaussianCopula", "mostlyai": "MOSTLY AI engine (TABULAR)"}
SCENARIO_ROWS = 20_000
QUALITY_ROWS = 50_000
SLOW_100K_S = 60.0
MOSTLY_TRAINING_MINUTES = 4.0


def peers_python() -> str:
    env = os.environ.get("SIMIO_PEERS_PYTHON")
    if env:
        return env
    return str(DEFAULT_PEERS_PYTHON) if DEFAULT_PEERS_PYTHON.exists() else sys.executable


def _cells(conditions: dict, n: int) -> list[tuple[dict, int]]:
    """segment x channel cells with counts n * p_segment * p_channel (largest remainder)."""
    import numpy as np
    targets = conditions["categorical"]
    (a, pa), (b, pb) = list(targets.items())
    keys = [(la, lb) for la in pa for lb in pb]
    exact = np.array([n * pa[la] * pb[lb] for la, lb in keys])
    counts = np.floor(exact).astype(int)
    for i in np.argsort(-(exact - counts))[: n - counts.sum()]:
        counts[i] += 1
    return [({a: la, b: lb}, int(k)) for (la, lb), k in zip(keys, counts)]


# -- the parent: ours, the workers, scoring ------------------------------------------------

def run(quick: bool = False) -> dict:
    import numpy as np

    from benchmarks import _common as C
    from benchmarks import coherence as K
    from engine.datasets import quickstart_frame
    from engine.quality import conditioning_report, quality_report
    from engine.synthesizer import Synthesizer

    C.warm_engine()
    cond = C.CONTRACT_CONDITIONS
    sizes = [10_000, 100_000] if quick else [10_000, 100_000, 1_000_000]
    truth = K.truth_distribution(400_000 if quick else 2_000_000, 101)
    seed = quickstart_frame()
    real = quickstart_frame(QUALITY_ROWS, 424242)       # fresh draw of the true generator
    out: dict = {"sizes": sizes, "scenario_rows": SCENARIO_ROWS, "quality_rows": QUALITY_ROWS,
                 "peers_python": peers_python(), "methods": {}}

    def score(frame, rows_requested):
        report = conditioning_report(frame, cond, rows_requested)
        return {"rows_generated": len(frame), "max_share_error": report["max_share_error"],
                "range_violations": report["range_violations"],
                "coherence": K.coherence(frame, truth).to_dict()}

    # ours
    fit = C.timed(lambda: Synthesizer().fit(seed), repeat=3)
    synth = fit["result"]
    sample = {str(n): C.strip_result(C.timed(lambda n=n: synth.sample(n, seed=1),
                                             repeat=_repeat(n), warmup=1)) for n in sizes}
    scen = C.timed(lambda: synth.sample(SCENARIO_ROWS, seed=5, conditions=cond), repeat=3)
    ours = {"name": "ours (simio-local)", "status": "ok", "fit_s": fit["best_s"],
            "sample": sample, "scenario_s": scen["best_s"],
            "scenario_how": "sample(n, conditions=scenario)",
            "quality": quality_report(real, synth.sample(QUALITY_ROWS, seed=2)).score,
            **score(scen["result"], SCENARIO_ROWS)}
    out["methods"]["ours"] = ours

    with tempfile.TemporaryDirectory(prefix="simio-peers-") as tmp:
        tmp = Path(tmp)
        seed_path = tmp / "seed.parquet"
        seed.to_parquet(seed_path)
        for peer, peer_name in PEERS.items():
            work = tmp / peer
            work.mkdir()
            spec = {"peer": peer, "seed": str(seed_path), "out": str(work), "sizes": sizes,
                    "conditions": cond, "cells": _cells(cond, SCENARIO_ROWS),
                    "scenario_rows": SCENARIO_ROWS, "quality_rows": QUALITY_ROWS,
                    "pool_rows": 100_000 if quick else 500_000,
                    "scenario_budget_s": 120 if quick else 300,
                    "training_minutes": 1.0 if quick else MOSTLY_TRAINING_MINUTES}
            res = _run_worker(spec, timeout=900 if quick else 1800)
            entry = {"name": peer_name, **res}
            out["methods"][peer] = entry
            if res.get("status") == "ok":
                import pandas as pd
                scen_frame = pd.read_parquet(work / "scenario.parquet")
                entry.update(score(scen_frame, SCENARIO_ROWS))
                entry["quality"] = quality_report(
                    real, pd.read_parquet(work / "quality.parquet")).score
                pool = pd.read_parquet(work / "pool_in_range.parquet")
                rake = {"name": f"{peer_name} + filter + rake", "status": "ok",
                        "scenario_s": res["pool_s"], "pool_in_range": len(pool),
                        "scenario_how": f"{spec['pool_rows']:,} unconditional rows, filtered "
                                        "to the ranges, raked to the targets, resampled"}
                if len(pool):
                    rng = np.random.default_rng(7)
                    w = K.rake(pool, cond["categorical"])
                    rows = pool.iloc[rng.choice(len(pool), SCENARIO_ROWS, p=w)]
                    rake.update(score(rows.reset_index(drop=True), SCENARIO_ROWS))
                out["methods"][f"{peer} + filter + rake"] = rake

    # ratios peer / ours
    for key, m in out["methods"].items():
        if key == "ours" or m.get("status") != "ok":
            continue
        r = {}
        if "fit_s" in m:
            r["fit"] = m["fit_s"] / ours["fit_s"]
        for n, t in (m.get("sample") or {}).items():
            if t and t.get("best_s"):
                r[f"sample_{n}"] = t["best_s"] / ours["sample"][n]["best_s"]
        if m.get("scenario_s"):
            r["scenario"] = m["scenario_s"] / ours["scenario_s"]
        if "coherence" in m:
            for metric in ("joint_tvd", "mean_pair_tvd"):
                r[metric] = m["coherence"][metric] / ours["coherence"][metric]
        if "quality" in m:
            r["quality_minus_ours"] = m["quality"] - ours["quality"]
        m["ratio_vs_ours"] = r
    return out


def _repeat(n: int) -> int:
    return 3 if n <= 10_000 else (2 if n <= 100_000 else 1)


def _run_worker(spec: dict, timeout: float) -> dict:
    spec_path = Path(spec["out"]) / "spec.json"
    spec_path.write_text(json.dumps(spec))
    env = dict(os.environ)
    # Nothing may be fetched at run time: a hub lookup must fail fast, not hang.
    env.update({"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1",
                "PYTHONWARNINGS": "ignore", "TQDM_DISABLE": "1"})
    env.pop("PYTHONPATH", None)
    log = Path(spec["out"]) / "worker.log"
    t0 = time.perf_counter()
    try:
        with log.open("wb") as fh:
            proc = subprocess.run([peers_python(), str(Path(__file__).resolve()), "worker",
                                   str(spec_path)], cwd=spec["out"], env=env, stdout=fh,
                                  stderr=subprocess.STDOUT, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return {"status": "timed out", "error": f"worker exceeded {timeout:.0f} s"}
    except OSError as exc:
        return {"status": "not installed", "error": f"{peers_python()}: {exc}"}
    result_path = Path(spec["out"]) / "result.json"
    if result_path.exists():
        res = json.loads(result_path.read_text())
    else:
        tail = log.read_text(errors="replace")[-1500:]
        res = {"status": "failed", "error": f"exit {proc.returncode}: {tail}"}
    res["worker_wall_s"] = time.perf_counter() - t0
    return res


# -- output --------------------------------------------------------------------------------

def markdown(res: dict) -> str:
    from benchmarks import _common as C
    methods = res["methods"]
    sizes = [str(n) for n in res["sizes"]]
    speed, scen, notes = [], [], []
    for m in methods.values():
        if m.get("status") != "ok":
            notes.append(f"* **{m['name']}**: {m['status']} -- {m.get('error', '')}".strip())
            continue
        r = m.get("ratio_vs_ours", {})
        if "fit_s" in m:
            row = [m["name"], m["fit_s"], r.get("fit")]
            for n in sizes:
                t = (m.get("sample") or {}).get(n)
                row += [t["best_s"] if t else "skipped", r.get(f"sample_{n}")]
            speed.append(row)
        if "coherence" in m:
            c = m["coherence"]
            scen.append([m["name"], m.get("scenario_how"), m.get("scenario_s"),
                         r.get("scenario"), m["rows_generated"], m["max_share_error"],
                         m["range_violations"], m.get("quality"), c["joint_tvd"],
                         r.get("joint_tvd"), c["mean_pair_tvd"], r.get("mean_pair_tvd"),
                         c["pairs"].get("segment x channel")])
        if m.get("training"):
            t = m["training"]
            notes.append(f"* {m['name']} training: {t.get('epochs')} epochs in "
                         f"{t.get('seconds', 0):.0f} s (cap {t.get('cap_minutes')} min; "
                         f"{'stopped by the cap' if t.get('hit_cap') else 'converged'})")
        if m.get("scenario_stats"):
            s = m["scenario_stats"]
            notes.append(f"* {m['name']} scenario: {s['drawn']:,} rows drawn in {s['rounds']} "
                         f"rounds for {s['kept']:,} kept"
                         + ("" if s["complete"] else " (INCOMPLETE: budget ran out)"))
        if m.get("versions"):
            notes.append(f"* {m['name']} versions: " + ", ".join(
                f"{k} {v}" for k, v in m["versions"].items()))
    speed_headers = ["method", "fit s", "x ours"]
    for n in sizes:
        speed_headers += [f"sample {int(n):,} s", "x ours"]
    parts = [C.md_table(speed_headers, speed),
             C.md_table(["method", "scenario as", f"scenario {res['scenario_rows']:,} s",
                         "x ours", "rows", "max share err", "range violations",
                         "quality score", "joint TVD to truth", "x ours", "mean pair TVD",
                         "x ours", "segment x channel TVD"], scen)]
    if notes:
        parts.append("\n".join(notes))
    parts.append(f"Peers ran under `{res['peers_python']}`.")
    return "\n\n".join(parts)


# -- the worker: runs in the peers' interpreter; imports no project code -------------------

def _worker(spec_path: str) -> dict:
    import warnings
    warnings.filterwarnings("ignore")
    spec = json.loads(Path(spec_path).read_text())
    peer = spec["peer"]
    try:
        api = _SDV() if peer == "sdv" else _Mostly(Path(spec["out"]) / "ws", spec)
    except Exception as exc:  # noqa: BLE001 - report any import failure as "not installed"
        return {"status": "not installed", "error": f"{type(exc).__name__}: {exc}"}
    import pandas as pd
    out = Path(spec["out"])
    seed = pd.read_parquet(spec["seed"])
    res: dict = {"status": "ok", "versions": api.versions()}

    times, model = [], None
    for _ in range(api.fit_repeat):
        t0 = time.perf_counter()
        model = api.fit(seed)
        times.append(time.perf_counter() - t0)
    res["fit_s"] = min(times)
    res["fit_times_s"] = times
    res["training"] = api.training_info()

    res["sample"] = {}
    for n in spec["sizes"]:
        if n >= 1_000_000 and res["sample"].get("100000", {}).get("best_s", 0) > SLOW_100K_S:
            res["sample"][str(n)] = None
            continue
        times = []
        for _ in range(_repeat(n)):
            t0 = time.perf_counter()
            frame = api.sample(model, n)
            times.append(time.perf_counter() - t0)
            assert len(frame) == n, (len(frame), n)
            del frame
        res["sample"][str(n)] = {"best_s": min(times), "times_s": times}

    api.sample(model, spec["quality_rows"]).to_parquet(out / "quality.parquet")

    t0 = time.perf_counter()
    pool = api.sample(model, spec["pool_rows"])
    res["pool_s"] = time.perf_counter() - t0
    pool[_inside(pool, spec["conditions"])].reset_index(drop=True) \
        .to_parquet(out / "pool_in_range.parquet")
    del pool

    t0 = time.perf_counter()
    frame, stats = _oversample_filter(api, model, spec["cells"], spec["conditions"],
                                      deadline=time.perf_counter() + spec["scenario_budget_s"])
    res["scenario_s"] = time.perf_counter() - t0
    res["scenario_how"] = api.scenario_how
    res["scenario_stats"] = stats
    frame.to_parquet(out / "scenario.parquet")
    (out / "result.json").write_text(json.dumps(res, default=float))
    return res


def _inside(frame, conditions):
    import numpy as np
    import pandas as pd
    ok = np.ones(len(frame), dtype=bool)
    for col, b in conditions.get("numeric", {}).items():
        x = pd.to_numeric(frame[col]).to_numpy(dtype="float64", na_value=np.nan)
        ok &= ~np.isnan(x)
        if b.get("min") is not None:
            ok &= x >= b["min"]
        if b.get("max") is not None:
            ok &= x <= b["max"]
    return ok


def _oversample_filter(api, model, cells, conditions, deadline, max_batch=200_000):
    """Draw each segment x channel cell through the peer's conditioning, keep the rows in
    the numeric ranges, and draw again (sized by the observed acceptance rate) until every
    cell has its count or the time budget is spent."""
    import pandas as pd
    kept = [[] for _ in cells]
    have = [0] * len(cells)
    drawn = [0] * len(cells)
    rounds = 0
    while any(h < k for h, (_, k) in zip(have, cells)) and time.perf_counter() < deadline:
        requests = []
        for i, (values, k) in enumerate(cells):
            need = k - have[i]
            if need <= 0:
                continue
            rate = (have[i] + 1) / (drawn[i] + 20) if drawn[i] else 0.05
            requests.append((i, values, int(min(max(need / rate * 1.2, 50), max_batch))))
        frames = api.sample_cells(model, [(v, b) for _, v, b in requests])
        for (i, _, batch), frame in zip(requests, frames):
            drawn[i] += batch
            ok = frame[_inside(frame, conditions)].head(cells[i][1] - have[i])
            kept[i].append(ok)
            have[i] += len(ok)
        rounds += 1
    frames = [f for parts in kept for f in parts]
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    return frame, {"rounds": rounds, "drawn": sum(drawn), "kept": len(frame),
                   "complete": all(h >= k for h, (_, k) in zip(have, cells))}


def _split(frame, requests):
    """A frame holding several cells' rows -> one frame per request, by the cell values."""
    import numpy as np
    out = []
    for values, _ in requests:
        mask = np.ones(len(frame), dtype=bool)
        for col, level in values.items():
            mask &= (frame[col].astype(str) == str(level)).to_numpy()
        out.append(frame[mask].reset_index(drop=True))
    return out


class _SDV:
    fit_repeat = 3
    scenario_how = ("sample_from_conditions: one Condition per segment x channel cell "
                    "(target-share product counts); ranges by oversample + filter")
    TABLE = "quickstart"

    def __init__(self):
        import sdv
        from sdv.metadata import Metadata
        from sdv.sampling import Condition
        from sdv.single_table import GaussianCopulaSynthesizer
        self.sdv, self.Metadata, self.Condition = sdv, Metadata, Condition
        self.Synth = GaussianCopulaSynthesizer

    def versions(self):
        import pandas as pd
        return {"sdv": self.sdv.__version__, "pandas": pd.__version__}

    def training_info(self):
        return None

    def _frame(self, out):
        return out[self.TABLE] if isinstance(out, dict) else out    # SDV 2 returns {table: df}

    def fit(self, seed):
        if hasattr(self.Metadata, "detect_from_dataframes"):
            metadata = self.Metadata.detect_from_dataframes({self.TABLE: seed}, infer_keys=None)
        else:                                                         # SDV 1.x
            metadata = self.Metadata.detect_from_dataframe(seed, table_name=self.TABLE)
        model = self.Synth(metadata)
        try:
            model.fit({self.TABLE: seed})
        except Exception:  # noqa: BLE001 - SDV 1.x takes the frame itself
            model.fit(seed)
        return model

    def sample(self, model, n):
        return self._frame(model.sample(n))

    def sample_cells(self, model, requests):
        conditions = [self.Condition(num_rows=b, column_values=v) for v, b in requests]
        frame = self._frame(model.sample_from_conditions(conditions, max_tries_per_batch=100))
        return _split(frame, requests)


class _Mostly:
    fit_repeat = 1
    scenario_how = ("seeded generation: a seed table of segment x channel cells "
                    "(target-share product counts); ranges by oversample + filter")

    def __init__(self, workspace: Path, spec: dict):
        from mostlyai import engine
        self.engine, self.ws, self.cap = engine, workspace, spec["training_minutes"]
        self.seconds = None

    def versions(self):
        import importlib.metadata as md
        return {p: md.version(p) for p in ("mostlyai-engine", "torch", "pandas")}

    def fit(self, seed):
        import shutil
        shutil.rmtree(self.ws, ignore_errors=True)
        t0 = time.perf_counter()
        e = self.engine
        e.split(workspace_dir=self.ws, tgt_data=seed, model_type="TABULAR")
        e.analyze(workspace_dir=self.ws)
        e.encode(workspace_dir=self.ws)
        e.train(workspace_dir=self.ws, max_training_time=self.cap)
        self.seconds = time.perf_counter() - t0
        return self.ws

    def training_info(self):
        import pandas as pd
        info = {"cap_minutes": self.cap, "seconds": self.seconds}
        progress = self.ws / "ModelStore" / "model-data" / "progress-messages.csv"
        if progress.exists():
            p = pd.read_csv(progress)
            info["epochs"] = float(p["epoch"].max())
            info["best_val_loss"] = float(p["val_loss"].min())
        info["hit_cap"] = bool(self.seconds and self.seconds >= 60 * self.cap * 0.98)
        return info

    def _read(self):
        import pandas as pd
        files = sorted((self.ws / "SyntheticData").glob("*.parquet"))
        return pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)

    def sample(self, model, n):
        self.engine.generate(workspace_dir=self.ws, sample_size=n)
        return self._read()

    def sample_cells(self, model, requests):
        import pandas as pd
        seed = pd.concat([pd.DataFrame({c: [lv] * b for c, lv in v.items()})
                          for v, b in requests], ignore_index=True)
        self.engine.generate(workspace_dir=self.ws, seed_data=seed)
        return _split(self._read(), requests)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "worker":
        result = _worker(sys.argv[2])
        if result.get("status") != "ok":       # a clean "not installed" etc. for the parent
            (Path(json.loads(Path(sys.argv[2]).read_text())["out"]) / "result.json") \
                .write_text(json.dumps(result))
        sys.exit(0)
    print(markdown(run(quick="--quick" in sys.argv)))
