"""Load check for the server (issue 10): a real ``simio serve`` on loopback under
32 concurrent generations + 16 long-polls, with ``/healthz`` latency sampled throughout.

    python3 benchmarks/bench_load.py                 # defaults below, ~1-2 min
    python3 benchmarks/bench_load.py --rows 200000 --generations 32 --long-polls 16
    python3 benchmarks/bench_load.py --max-waiters 16    # the old, uncapped behaviour

First, in this process, how long the reader takes to refuse each hostile seed of the issue
(64 KB of repeated names, a 5 MB line, a far-cells workbook, a workbook expanding past
512 MiB) against reading the quickstart seed. Then prints idle and loaded ``/healthz`` latency (p50 / p95 / max, ms), the outcome of every
request (200 / 202 / other) and how long the long-polls held their connection. The target
is ``/healthz`` within 100 ms under any load; the ratio loaded/idle p95 is printed too, so
a run on a busy machine can still be read. Everything is bounded: fixed request counts,
a per-request timeout and an overall deadline (``--deadline``).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from tests.e2e.server import running_server  # noqa: E402  (needs the path above)
from tests.engine.io import attacks  # noqa: E402

TARGET_MS = 100.0
SEED = REPO / "data" / "quickstart_seed.csv"


def percentiles(values: list[float]) -> dict:
    if not values:
        return {"n": 0}
    ordered = sorted(values)
    pick = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))]  # noqa: E731
    return {"n": len(values), "p50_ms": 1000 * statistics.median(ordered),
            "p95_ms": 1000 * pick(0.95), "max_ms": 1000 * ordered[-1]}


def hostile_seeds() -> dict:
    """Seconds to refuse each attack (best of 3), and to read the quickstart seed."""
    from engine.errors import SimioError
    from engine.io import limits, read_table

    cases = {"repeated_names_64k.csv": attacks.REPEATED_NAMES_64K,
             "one_line_5mb.csv": attacks.ONE_LINE_5MB,
             "far_cells.xlsx": attacks.far_cells_xlsx(),
             "bomb.xlsx": attacks.xlsx_bomb(limits.MAX_XLSX_EXPANDED_BYTES + 16 * 1024 ** 2)}
    out = {}
    for name, data in {"quickstart_seed.csv": SEED.read_bytes(), **cases}.items():
        best, code = float("inf"), "read"
        for _ in range(3):
            t0 = time.perf_counter()
            try:
                read_table(data, filename=name)
            except SimioError as exc:
                code = exc.code
            best = min(best, time.perf_counter() - t0)
        out[name] = {"seconds": best, "outcome": code, "bytes": len(data)}
    return out


def tenant(base: str) -> dict:
    s = requests.Session()
    req = s.post(f"{base}/v1/signup", json={"company_name": "Load",
                                            "contact_email": "load@bench.example"}, timeout=30)
    status = s.get(f"{base}/v1/signup/{req.json()['request_id']}", timeout=30).json()
    cred = s.post(f"{base}/v1/credential-claims",
                  json={"claim_token": status["credential_claim_token"]}, timeout=30).json()
    token = s.post(f"{base}/oauth/token", json={
        "grant_type": "client_credentials", "client_id": cred["client_id"],
        "client_secret": cred["client_secret"]}, timeout=60).json()["access_token"]
    return {"Authorization": f"Bearer {token}"}


def healthz_sampler(base: str, stop: threading.Event, out: list, interval: float) -> None:
    with requests.Session() as s:
        while not stop.is_set():
            t0 = time.perf_counter()
            try:
                ok = s.get(f"{base}/healthz", timeout=60).status_code == 200
            except requests.RequestException:
                ok = False
            out.append((time.perf_counter() - t0, ok))
            stop.wait(interval)


def run(rows: int, generations: int, long_polls: int, deadline: float,
        max_waiters: int | None = None) -> dict:
    env = {"SIMIO_TOKEN_PER_IP": "10000", "SIMIO_TOKEN_GLOBAL": "10000"}
    if max_waiters is not None:      # 16 = every request thread: the old behaviour
        env["SIMIO_MAX_WAITERS"] = str(max_waiters)
    with tempfile.TemporaryDirectory() as tmp, \
            running_server(tmp, tls=False, env=env) as srv:
        base, headers = srv.base_url, None
        headers = tenant(base)
        with SEED.open("rb") as fh:
            dataset = requests.post(f"{base}/v1/datasets", headers=headers, timeout=120,
                                    files={"seed_file": ("seed.csv", fh)},
                                    data={"wait_seconds": "60"}).json()["dataset_id"]
        url = f"{base}/v1/datasets/{dataset}/generations"

        idle: list = []
        stop = threading.Event()
        sampler = threading.Thread(target=healthz_sampler, args=(base, stop, idle, 0.02))
        sampler.start()
        time.sleep(2.0)
        stop.set()
        sampler.join(30)

        def generation(i: int, wait: int) -> tuple[int, float, str | None]:
            t0 = time.perf_counter()
            r = requests.post(url, headers=headers, timeout=deadline, json={
                "row_count": rows, "output_format": "parquet", "seed": i,
                "wait_seconds": wait})
            held = time.perf_counter() - t0
            job = r.json().get("job_id") if r.status_code == 202 else None
            return r.status_code, held, job

        loaded: list = []
        stop = threading.Event()
        sampler = threading.Thread(target=healthz_sampler, args=(base, stop, loaded, 0.05))
        started = time.perf_counter()
        sampler.start()
        with ThreadPoolExecutor(generations + long_polls) as pool:
            gens = [pool.submit(generation, i, 0) for i in range(generations)]
            polls = [pool.submit(generation, 1000 + i, 60) for i in range(long_polls)]
            gen_results = [f.result(timeout=deadline) for f in gens]
            poll_results = [f.result(timeout=deadline) for f in polls]
        # Then every accepted job to its end (bounded by the deadline).
        jobs = [j for _, _, j in gen_results + poll_results if j]
        final: dict[str, int] = {}
        with requests.Session() as s:
            for job in jobs:
                while time.perf_counter() - started < deadline:
                    body = s.get(f"{base}/v1/jobs/{job}", headers=headers, timeout=60).json()
                    if body["status"] in ("completed", "failed", "cancelled", "expired"):
                        final[body["status"]] = final.get(body["status"], 0) + 1
                        break
                    time.sleep(0.1)
                else:
                    final["unfinished"] = final.get("unfinished", 0) + 1
        total = time.perf_counter() - started
        stop.set()
        sampler.join(60)

    def outcomes(results):
        counts: dict[str, int] = {}
        for status, _, _ in results:
            counts[str(status)] = counts.get(str(status), 0) + 1
        return counts

    idle_p = percentiles([t for t, ok in idle if ok])
    loaded_p = percentiles([t for t, ok in loaded if ok])
    return {
        "max_waiters": max_waiters or "default (8)", "rows_per_generation": rows, "generations": generations, "long_polls": long_polls,
        "healthz_idle": idle_p, "healthz_loaded": loaded_p,
        "healthz_failures": sum(not ok for _, ok in loaded),
        "loaded_over_idle_p95": (loaded_p.get("p95_ms", 0) / idle_p["p95_ms"]
                                 if idle_p.get("p95_ms") else None),
        "generation_responses": outcomes(gen_results),
        "long_poll_responses": outcomes(poll_results),
        "long_poll_held_s": sorted(round(h, 2) for _, h, _ in poll_results),
        "jobs_final": final, "wall_s": total,
        "target_met": loaded_p.get("max_ms", 1e9) <= TARGET_MS,
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--generations", type=int, default=32)
    parser.add_argument("--long-polls", type=int, default=16)
    parser.add_argument("--deadline", type=float, default=300.0)
    parser.add_argument("--max-waiters", type=int, default=None,
                        help="server's waiter cap (default: its own, 8); 16 reproduces the "
                             "pre-issue-10 server, where long-polls could take every thread")
    args = parser.parse_args(argv)
    seeds = hostile_seeds()
    print("| seed | bytes | outcome | seconds |\n|---|---|---|---|")
    for name, row in seeds.items():
        print(f"| {name} | {row['bytes']:,} | {row['outcome']} | {row['seconds']:.3f} |")
    result = run(args.rows, args.generations, args.long_polls, args.deadline,
                 args.max_waiters)
    i, lo = result["healthz_idle"], result["healthz_loaded"]
    print(f"| /healthz | n | p50 ms | p95 ms | max ms |\n|---|---|---|---|---|\n"
          f"| idle | {i['n']} | {i['p50_ms']:.1f} | {i['p95_ms']:.1f} | {i['max_ms']:.1f} |\n"
          f"| loaded | {lo['n']} | {lo['p50_ms']:.1f} | {lo['p95_ms']:.1f} | "
          f"{lo['max_ms']:.1f} |")
    print(f"target: /healthz max <= {TARGET_MS:.0f} ms under load: "
          f"{'met' if result['target_met'] else 'NOT met'}")
    print(json.dumps({"hostile_seeds": seeds, **result}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
