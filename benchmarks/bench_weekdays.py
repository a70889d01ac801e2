"""Cost of weekday effects (issue 14, engine/model/weekdays.py): sampling a model whose
date column has weekday weights against the same model with the weights cleared, in the
same process, best of N; and the fit-time test per million dates. Prints seconds, the
ratio and the weekday shares (seed, with, without).

    python3 benchmarks/bench_weekdays.py [--rows 1000000] [--repeat 3]
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

from engine.model import weekdays  # noqa: E402
from engine.synthesizer import Synthesizer  # noqa: E402

SEED_ROWS = 5000


def seed_frame(rows: int = SEED_ROWS, seed: int = 0) -> pd.DataFrame:
    """Two years of visits, 90% on Monday-Friday, an amount and a code."""
    r = np.random.default_rng(seed)
    days = pd.date_range("2022-01-01", "2023-12-31")
    p = np.where(days.day_of_week.to_numpy() < 5, 0.9 / 5, 0.1 / 2)
    visit = days[r.choice(len(days), rows, p=p / p.sum())]
    return pd.DataFrame({"visit": visit.strftime("%Y-%m-%d"),
                         "amount": r.gamma(2.0, 20.0, rows).round(2),
                         "kind": r.choice(list("abcd"), rows)})


def best(fn, repeat: int):
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times), result


def weekday_share(values) -> float:
    return float(np.mean(pd.to_datetime(pd.Series(values).astype("datetime64[s]"))
                         .dt.day_of_week < 5))


def main(argv=None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    seed = seed_frame()
    synth = Synthesizer().fit(seed)
    enc = next(e for e in synth.model_.encodings_ if e.name == "visit")
    weights = enc.weekday_weights
    synth.sample(1000, seed=1)                      # compile / warm up
    t_with, out = best(lambda: synth.sample(args.rows, seed=1), args.repeat)
    enc.weekday_weights = None
    t_without, plain = best(lambda: synth.sample(args.rows, seed=1), args.repeat)
    enc.weekday_weights = weights
    print(f"sample {args.rows:,} rows x 3 columns: with weekday weights {t_with:.3f} s, "
          f"without {t_without:.3f} s, ratio {t_with / t_without:.2f}")
    print(f"Monday-Friday share: seed {weekday_share(pd.to_datetime(seed['visit'])):.3f}, "
          f"with {weekday_share(out['visit']):.3f}, without {weekday_share(plain['visit']):.3f}")
    days = np.random.default_rng(2).integers(18000, 19000, 10**6).astype(np.float64)
    t_fit, _ = best(lambda: weekdays.fit_weights(days), args.repeat)
    print(f"weekday test over 1,000,000 dates: {t_fit * 1000:.1f} ms")


if __name__ == "__main__":
    main()
