"""A small seeded generator of mixed tables shared by the quality tests."""

import numpy as np
import pandas as pd


def draw(n: int, seed: int, missing: float = 0.05) -> pd.DataFrame:
    """Correlated numerics (one skewed), categoricals, a bool and some missing cells."""
    rng = np.random.default_rng(seed)
    z = rng.multivariate_normal([0, 0, 0], [[1, .8, .3], [.8, 1, .1], [.3, .1, 1]], size=n)
    df = pd.DataFrame({
        "age": 40 + 12 * z[:, 0],
        "income": np.exp(10 + 0.8 * z[:, 1]),                   # heavily right-skewed
        "score": z[:, 2],
        "region": rng.choice(["north", "south", "east", "west"], size=n, p=[.4, .3, .2, .1]),
        "smoker": rng.random(n) < 0.25,
        "tier": np.where(z[:, 0] > 0.5, "gold", np.where(z[:, 0] > -0.5, "silver", "bronze")),
    })
    df.loc[rng.random(n) < missing, "score"] = np.nan
    df.loc[rng.random(n) < missing, "region"] = None
    return df
