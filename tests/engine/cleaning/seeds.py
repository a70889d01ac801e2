"""Seed frames shared by the cleaning tests (plain functions, not fixtures, so the
hypothesis tests can call them too)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from engine.io import RawTable


def quickstart_frame() -> pd.DataFrame:
    """The contract quickstart's seed, exactly as the docs generate it."""
    rng = np.random.default_rng(7)
    n = 800
    df = pd.DataFrame({
        "age": rng.integers(18, 66, n),
        "segment": rng.choice(["Value", "Mainstream", "Premium"], n, p=[0.35, 0.45, 0.20]),
        "channel": rng.choice(["Retail", "Online", "Club"], n, p=[0.50, 0.35, 0.15]),
        "region": rng.choice(["Northeast", "South", "Midwest", "West"], n),
    })
    intent = (42.0 + (df["segment"] == "Premium") * 18 + (df["channel"] == "Online") * 8
              + ((df["age"] - 35) / 3).clip(-8, 8) + rng.normal(0, 10, n))
    df["purchase_intent"] = intent.round().clip(0, 100).astype(int)
    return df


def raw(frame: pd.DataFrame, source_format: str = "csv", **meta) -> RawTable:
    return RawTable(frame=frame, source_format=source_format, **meta)


def with_base(n: int = 200, seed: int = 1, **extra) -> pd.DataFrame:
    """A small healthy table (one factor, one numeric) plus the columns under test."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({
        "group": rng.choice(["a", "b", "c"], n),
        "score": rng.normal(50, 10, n).round(2),
    })
    for name, values in extra.items():
        frame[name] = values
    return frame
