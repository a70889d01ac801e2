"""Small built-in datasets: the contract's Python quickstart seed.

``quickstart_frame`` is the generator from the Simulacra contract's Python quickstart, kept
verbatim so that ``data/quickstart_seed.*``, the tests and the benchmarks all use exactly
the table a contract user would build.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

SEGMENT_LEVELS = ["Value", "Mainstream", "Premium"]
CHANNEL_LEVELS = ["Retail", "Online", "Club"]
REGION_LEVELS = ["Northeast", "South", "Midwest", "West"]


def quickstart_frame(n: int = 800, seed: int = 7) -> pd.DataFrame:
    """The quickstart seed: age, segment, channel, region, purchase_intent (n rows)."""
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({
        "age":     rng.integers(18, 66, n),
        "segment": rng.choice(SEGMENT_LEVELS, n, p=[0.35, 0.45, 0.20]),
        "channel": rng.choice(CHANNEL_LEVELS, n, p=[0.50, 0.35, 0.15]),
        "region":  rng.choice(REGION_LEVELS, n),
    })
    intent  = 42.0                                            # noqa: E221 - as in the contract
    intent += (df["segment"] == "Premium") * 18
    intent += (df["channel"] == "Online")  *  8              # noqa: E221,E222
    intent += ((df["age"] - 35) / 3).clip(-8, 8)
    intent += rng.normal(0, 10, n)
    df["purchase_intent"] = intent.round().clip(0, 100).astype(int)
    return df


# The generation request of the contract's Python quickstart (step 5), built there from
# data frames; the scenario the docs, the CLI quickstart and the benchmarks use.
QUICKSTART_SCENARIO = {
    "row_count": 5000,
    "output_format": "parquet",
    "seed": 20260430,
    "conditions": {
        "categorical": {
            "segment": {"Premium": 0.55, "Mainstream": 0.35, "Value": 0.10},
            "channel": {"Online": 0.70, "Retail": 0.20, "Club": 0.10},
        },
        "numeric": {
            "age": {"min": 25, "max": 44},
            "purchase_intent": {"min": 70, "max": 100},
        },
    },
}
