"""Cost of the column kinds (issue 14): cleaning a seed whose date, datetime and free-text
columns are kept (and protected) against the same seed with those columns as plain
numbers / a factor, in the same process, best of N. Prints seconds and the ratio.

    python3 benchmarks/bench_column_kinds.py [--rows 200000] [--repeat 3]

Also times decoding model units into Arrow date32 / timestamp arrays (the output hook,
engine/calendar.py) per million values.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from engine import calendar  # noqa: E402
from engine.cleaning import clean  # noqa: E402
from engine.io import RawTable  # noqa: E402
from engine.schema import Column  # noqa: E402


def frames(rows: int, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    days = rng.integers(0, 730, rows)
    minutes = rng.integers(0, 24 * 60, rows)
    start = pd.Timestamp("2023-01-01")
    comments = np.where(rng.random(rows) < 0.5, rng.choice(["none", "good", "slow"], rows),
                        np.char.add("note ", rng.integers(0, rows, rows).astype(str)))
    kinds = pd.DataFrame({
        "visit": (start + pd.to_timedelta(days, unit="D")).strftime("%Y-%m-%d"),
        "logged": (start + pd.to_timedelta(days * 1440 + minutes, unit="min"))
        .strftime("%Y-%m-%d %H:%M:%S"),
        "comment": comments.astype(object),
        "spend": rng.gamma(2.0, 20.0, rows).round(2),
    })
    plain = pd.DataFrame({"visit": days.astype(float), "logged": (days * 1440 + minutes)
                          .astype(float), "comment": rng.choice(["none", "good", "slow"], rows),
                          "spend": kinds["spend"]})
    return kinds, plain


def best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    kinds, plain = frames(args.rows)
    t_kinds = best(lambda: clean(RawTable(frame=kinds, source_format="csv")), args.repeat)
    t_plain = best(lambda: clean(RawTable(frame=plain, source_format="csv")), args.repeat)
    print(f"clean {args.rows:,} rows: dates + free text {t_kinds:.3f} s, "
          f"numbers + factor {t_plain:.3f} s, ratio {t_kinds / t_plain:.2f}")
    units = np.random.default_rng(1).integers(0, 10**7, 10**6).astype(np.float64)
    units[::10] = np.nan
    for column in (Column("d", "date", "d", time_unit="D"),
                   Column("t", "datetime", "t", time_unit="m", timezone="Europe/Rome")):
        t = best(lambda: calendar.to_pandas(units, column), args.repeat)
        print(f"decode 1,000,000 {column.type} values: {t * 1000:.1f} ms")


if __name__ == "__main__":
    main()
