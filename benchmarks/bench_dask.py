"""Fit and generate on a 2-worker Dask LocalCluster vs one process (issue 16).

    python3 benchmarks/bench_dask.py                 # the issue's sizes (a quiet machine)
    python3 benchmarks/bench_dask.py --quick         # 200k seed, 2M / 1M rows
    python3 benchmarks/bench_dask.py --seed-rows 500000 --rows 5000000 --cond-rows 2000000
    python3 benchmarks/bench_dask.py --parts conditioned        # one part only

Fit: a correlated mixed seed (``bench_fit.wide_frame``, 20 columns; 2M rows by default)
written as 8 Parquet partitions; ``Synthesizer().fit`` of the whole table in this process
vs ``engine.distributed.fit.fit_files`` of the partitions on the cluster (counts on the
workers, merged here); wall seconds, their ratio, and whether the two model files are
byte-identical.

Generate: the quickstart model; ``write_dataset`` of ``--rows`` unconditioned rows and of
``--cond-rows`` rows under the contract scenario through the cluster, rows/s, and the peak
RSS of each worker during the run (VmHWM reset before it) and of this client process
(which holds a scenario's drawn states). Baseline: one process's ``Synthesizer.write`` of
the same model, rows/s measured on ``--baseline-rows`` rows in this process.

Fidelity (``--fidelity``): the cost of the cluster fit's sample (cleaning decisions, bin
edges and within-bin detail from ``--sample-rows`` rows; counts over every row) on a
``--fidelity-rows`` table that fits in one process: holdout quality
(``engine.quality.quality_report`` of 50,000 synthetic rows against a holdout of the same
process) of the one-process model and of the cluster model, and how the models differ
(columns, bins, edges, largest table difference where both have the same parents).

Timings are wall-clock: on a shared machine they are noisy; rerun on a quiet one.
"""

from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import argparse  # noqa: E402
import json  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

from benchmarks import _common as C  # noqa: E402
from benchmarks.bench_fit import wide_frame  # noqa: E402

PARTITIONS = 8
WORKERS = 2
SEED_COLUMNS = 20


def worker_peak_reset():
    return C._reset_peak()


def worker_peak_mb():
    kb = C._proc_status_kb("VmHWM")
    return None if kb is None else kb / 1024


def bench_fit(client, seed_rows: int, folder: Path) -> dict:
    from engine.distributed.fit import fit_files
    from engine.synthesizer import Synthesizer

    frame = wide_frame(seed_rows, SEED_COLUMNS)
    parts = folder / "seed"
    parts.mkdir()
    for i, rows in enumerate(np.array_split(np.arange(len(frame)), PARTITIONS)):
        frame.iloc[rows].to_parquet(parts / f"part-{i}.parquet", index=False)
    frame.to_parquet(folder / "whole.parquet", index=False)
    del frame
    t0 = time.perf_counter()
    one = Synthesizer().fit(folder / "whole.parquet")
    one_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    cluster = fit_files(Synthesizer(), sorted(parts.glob("*.parquet")), client)
    cluster_s = time.perf_counter() - t0
    one.save(folder / "one.simio")
    cluster.save(folder / "cluster.simio")
    same = (folder / "one.simio").read_bytes() == (folder / "cluster.simio").read_bytes()
    return {"seed_rows": seed_rows, "columns": SEED_COLUMNS, "partitions": PARTITIONS,
            "one_process_s": one_s, "cluster_s": cluster_s, "cluster_over_one": cluster_s / one_s,
            "model_file_identical": same}


HOLDOUT_ROWS = 50_000


def bench_fidelity(client, rows: int, sample_rows: int, folder: Path) -> dict:
    from engine.distributed.fit import fit_files
    from engine.quality import quality_report
    from engine.synthesizer import Synthesizer

    frame = wide_frame(rows + HOLDOUT_ROWS, SEED_COLUMNS)
    holdout = frame.iloc[rows:].reset_index(drop=True)
    frame = frame.iloc[:rows]
    parts = folder / "seed"
    parts.mkdir()
    for i, part in enumerate(np.array_split(np.arange(rows), PARTITIONS)):
        frame.iloc[part].to_parquet(parts / f"part-{i}.parquet", index=False)
    t0 = time.perf_counter()
    one = Synthesizer().fit(frame)
    one_s = time.perf_counter() - t0
    del frame
    t0 = time.perf_counter()
    cluster = fit_files(Synthesizer(), sorted(parts.glob("*.parquet")), client,
                        sample_rows=sample_rows)
    cluster_s = time.perf_counter() - t0
    out = {"rows": rows, "sample_rows": sample_rows, "one_process_s": one_s,
           "cluster_s": cluster_s}
    for name, synth in (("one_process", one), ("cluster", cluster)):
        report = quality_report(holdout, synth.sample(HOLDOUT_ROWS, seed=5))
        out[name] = {"score": report.score, "shapes": report.shapes_score,
                     "trends": report.trends_score}
    out["model_diff"] = model_diff(one.model_, cluster.model_)
    return out


def model_diff(a, b) -> dict:
    """How two fitted models differ: columns, bins per numeric column, edges, and the
    largest probability difference of the tables whose node has the same parents/shape."""
    names_a = [e.name for e in a.encodings_]
    names_b = [e.name for e in b.encodings_]
    edges_a, edges_b = set(a.edges), set(b.edges)
    bins = {e.name: (e.n_states, f.n_states) for e, f in zip(a.encodings_, b.encodings_)
            if e.name == f.name and e.n_states != f.n_states}
    largest = 0.0
    same = 0
    for j, name in enumerate(names_a):
        if name not in names_b:
            continue
        k = names_b.index(name)
        ta, tb = np.asarray(a.tables_[j]), np.asarray(b.tables_[k])
        if [names_a[p] for p in a.parents_[j]] == [names_b[p] for p in b.parents_[k]] \
                and ta.shape == tb.shape:
            same += 1
            largest = max(largest, float(np.abs(ta - tb).max()))
    return {"same_columns": names_a == names_b, "edges_both": len(edges_a & edges_b),
            "edges_only_one_process": len(edges_a - edges_b),
            "edges_only_cluster": len(edges_b - edges_a),
            "columns_with_other_state_counts": bins,
            "nodes_same_parents_and_shape": same,
            "largest_table_difference": largest}


def bench_generate(client, synth, rows: int, folder: Path, conditions=None) -> dict:
    from engine.distributed.dataset import write_dataset

    client.run(worker_peak_reset)
    C._reset_peak()
    t0 = time.perf_counter()
    generation = write_dataset(synth, folder / "ds", rows, seed=1, conditions=conditions,
                               client=client)
    seconds = time.perf_counter() - t0
    peaks = client.run(worker_peak_mb)
    return {"rows": generation.rows_generated, "conditioned": conditions is not None,
            "seconds": seconds, "rows_per_s": generation.rows_generated / seconds,
            "peak_worker_rss_mb": max(v for v in peaks.values() if v is not None),
            "peak_client_rss_mb": worker_peak_mb()}


def baseline_rows_per_s(synth, rows: int, folder: Path, conditions=None) -> float:
    t0 = time.perf_counter()
    synth.write(folder / "one.parquet", rows, seed=1, conditions=conditions)
    return rows / (time.perf_counter() - t0)


def progress_line(name: str, result: dict) -> None:
    """Each part's numbers as soon as it is done (a long run cut short keeps them)."""
    print(name, json.dumps(C.to_jsonable(result)), file=sys.stderr, flush=True)


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--seed-rows", type=int, default=None)
    parser.add_argument("--rows", type=int, default=None)
    parser.add_argument("--cond-rows", type=int, default=None)
    parser.add_argument("--baseline-rows", type=int, default=2_000_000)
    parser.add_argument("--parts", default="fit,generate,conditioned",
                        help="which of fit,generate,conditioned to run (comma-separated)")
    parser.add_argument("--fidelity", action="store_true",
                        help="only the sample's fidelity cost (see above)")
    parser.add_argument("--fidelity-rows", type=int, default=1_000_000)
    parser.add_argument("--sample-rows", type=int, default=100_000)
    args = parser.parse_args(argv)
    if args.fidelity:
        return main_fidelity(args)
    parts = set(args.parts.split(","))
    seed_rows = args.seed_rows or (200_000 if args.quick else 2_000_000)
    rows = args.rows or (2_000_000 if args.quick else 100_000_000)
    cond_rows = args.cond_rows or (1_000_000 if args.quick else 10_000_000)

    from distributed import Client, LocalCluster

    C.warm_engine()
    synth = C.fit_quickstart()
    out = {"env": C.env_info(), "workers": WORKERS}
    with LocalCluster(n_workers=WORKERS, threads_per_worker=1, processes=True,
                      dashboard_address=":0") as cluster, Client(cluster) as client:
        client.run(C.warm_engine)
        with tempfile.TemporaryDirectory() as tmp:
            base = Path(tmp)
            for name in ("fit", "gen", "cond"):
                (base / name).mkdir()
            if "fit" in parts:
                out["fit"] = bench_fit(client, seed_rows, base / "fit")
                progress_line("fit", out["fit"])
            if "generate" in parts:
                out["generate"] = bench_generate(client, synth, rows, base / "gen")
                out["generate"]["one_process_rows_per_s"] = baseline_rows_per_s(
                    synth, min(rows, args.baseline_rows), base / "gen")
                progress_line("generate", out["generate"])
            if "conditioned" in parts:
                out["conditioned"] = bench_generate(client, synth, cond_rows, base / "cond",
                                                    C.CONTRACT_CONDITIONS)
                out["conditioned"]["one_process_rows_per_s"] = baseline_rows_per_s(
                    synth, min(cond_rows, args.baseline_rows), base / "cond",
                    C.CONTRACT_CONDITIONS)
                progress_line("conditioned", out["conditioned"])
    if "fit" in out:
        fit = out["fit"]
        print(C.md_table(["fit", "seed rows", "one process s", "2 workers s", "ratio",
                          "same model file"],
                         [["8 partitions", f"{fit['seed_rows']:,}",
                           f"{fit['one_process_s']:.1f}", f"{fit['cluster_s']:.1f}",
                           f"{fit['cluster_over_one']:.2f}", fit["model_file_identical"]]]))
        print()
    generated = [out[k] for k in ("generate", "conditioned") if k in out]
    if generated:
        print(C.md_table(["generate", "rows", "s", "rows/s (2 workers)", "rows/s (1 process)",
                          "peak worker RSS MB", "peak client RSS MB"],
                         [[("conditioned" if g["conditioned"] else "unconditioned"),
                           f"{g['rows']:,}", f"{g['seconds']:.1f}", f"{g['rows_per_s']:,.0f}",
                           f"{g['one_process_rows_per_s']:,.0f}",
                           f"{g['peak_worker_rss_mb']:.0f}", f"{g['peak_client_rss_mb']:.0f}"]
                          for g in generated]))
    print(json.dumps(C.to_jsonable({k: v for k, v in out.items() if k != "env"}), indent=1))
    return out


def main_fidelity(args) -> dict:
    from distributed import Client, LocalCluster

    C.warm_engine()
    with LocalCluster(n_workers=WORKERS, threads_per_worker=1, processes=True,
                      dashboard_address=":0") as cluster, Client(cluster) as client, \
            tempfile.TemporaryDirectory() as tmp:
        client.run(C.warm_engine)
        out = bench_fidelity(client, args.fidelity_rows, args.sample_rows, Path(tmp))
    print(C.md_table(["fit", "rows", "sample rows", "s", "holdout score", "shapes", "trends"],
                     [[name.replace("_", " "), f"{out['rows']:,}",
                       "all" if name == "one_process" else f"{out['sample_rows']:,}",
                       f"{out[name + '_s']:.1f}", f"{out[name]['score']:.4f}",
                       f"{out[name]['shapes']:.4f}", f"{out[name]['trends']:.4f}"]
                      for name in ("one_process", "cluster")]))
    print(json.dumps(C.to_jsonable(out), indent=1))
    return out


if __name__ == "__main__":
    main()
