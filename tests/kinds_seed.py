"""A seed with a date, a datetime and a free-text column (issue 14's column kinds), shared by
the engine, CLI and API tests. Plain functions, not fixtures."""

from __future__ import annotations

import numpy as np
import pandas as pd

N = 600
FIRST_DAY, LAST_DAY = "2023-01-02", "2023-12-30"
# comments written by many respondents (>= 5 times each) and by a few (< 5 times each)
COMMON_COMMENTS = {"none": 60, "great service": 12, "too expensive": 8}
FEW_COMMENTS = {"ok i guess": 4, "call me back": 2}


def kinds_frame(seed: int = 5) -> pd.DataFrame:
    """``visit`` (date, 2023, with the exact first and last day present), ``spend``
    (grows with the visit date), ``logged`` (datetime, whole minutes), ``segment`` and
    ``comment`` (free text: mostly one-off sentences)."""
    rng = np.random.default_rng(seed)
    first, last = pd.Timestamp(FIRST_DAY), pd.Timestamp(LAST_DAY)
    offsets = rng.integers(0, (last - first).days + 1, N)
    offsets[:2] = [0, (last - first).days]
    visit = first + pd.to_timedelta(offsets, unit="D")
    spend = (20 + offsets / 10 + rng.normal(0, 5, N)).round(2)
    logged = visit + pd.to_timedelta(rng.integers(8 * 60, 20 * 60, N), unit="min")
    comments = [c for c, k in {**COMMON_COMMENTS, **FEW_COMMENTS}.items() for _ in range(k)]
    comments += [f"one-off remark number {i} about visit {rng.integers(10**6)}"
                 for i in range(N - len(comments))]
    return pd.DataFrame({
        "visit": visit.strftime("%Y-%m-%d"),
        "spend": spend,
        "logged": logged.strftime("%Y-%m-%d %H:%M:%S"),
        "segment": rng.choice(["A", "B", "C"], N),
        "comment": rng.permutation(np.array(comments, dtype=object)),
    })


def rare_share(synthetic: pd.Series, seed: pd.Series, k: int = 5) -> float:
    """Share of synthetic non-missing values seen fewer than ``k`` times in ``seed``."""
    counts = seed.value_counts()
    values = synthetic.dropna().astype(str)
    if not len(values):
        return 0.0
    return float((values.map(counts).fillna(0) < k).mean())
