"""Research formats: writing .sav/.xlsx beside Parquet, reading an .xlsx beside pandas.

    python3 benchmarks/bench_formats.py [--quick] [--repeat N]

* write: ``Synthesizer.write(path, n, fmt=...)`` from the quickstart model for parquet
  (the baseline), sav and xlsx; seconds (best of ``--repeat``), the ratio to parquet in
  the same process, and the file size;
* read: ``engine.io.read_table`` on a workbook with title rows above an n-row table (sheet
  choice, header search, merged-range fill included) beside ``pandas.read_excel(...,
  header=3)`` told where the header is (what the reader did before, minus the search).

Printed only (not part of run_all.py). Timings are wall clock: on a shared machine they
move with its load; the ratios, measured in one process, move less.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pandas as pd  # noqa: E402

from engine.datasets import quickstart_frame  # noqa: E402
from engine.io import read_table  # noqa: E402
from engine.synthesizer import Synthesizer  # noqa: E402


def best(func, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return min(times)


def run(quick: bool = False, repeat: int = 3) -> list[dict]:
    n = 20_000 if quick else 200_000
    synth = Synthesizer().fit(quickstart_frame())
    rows = []
    with tempfile.TemporaryDirectory(prefix="simio-bench-formats-") as tmp:
        folder = Path(tmp)
        base = None
        for fmt in ("parquet", "sav", "xlsx"):
            path = folder / f"out.{fmt}"
            seconds = best(lambda: synth.write(path, n, fmt=fmt, seed=1), repeat)
            base = base or seconds
            rows.append({"case": f"write {n:,} rows as {fmt}", "seconds": seconds,
                         "ratio": seconds / base, "bytes": path.stat().st_size})
        from tests.research_files import brand_tracker_workbook

        book = folder / "tracker.xlsx"
        brand_tracker_workbook(book, rows=n // 4)
        pandas_s = best(lambda: pd.read_excel(book, sheet_name="Data", header=3), repeat)
        ours_s = best(lambda: read_table(book), repeat)
        rows.append({"case": f"pandas.read_excel, {n // 4:,} rows, header given",
                     "seconds": pandas_s, "ratio": 1.0, "bytes": book.stat().st_size})
        rows.append({"case": f"read_table, {n // 4:,} rows, sheet + header found",
                     "seconds": ours_s, "ratio": ours_s / pandas_s,
                     "bytes": book.stat().st_size})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print("| case | seconds (best) | ratio | file bytes |")
    print("| --- | ---: | ---: | ---: |")
    for row in run(args.quick, args.repeat):
        print(f"| {row['case']} | {row['seconds']:.3f} | {row['ratio']:.2f} | "
              f"{row['bytes']:,} |")


if __name__ == "__main__":
    main()
