"""Shared seed frames and fitted models for the model, sampling and synthesizer tests.

Plain cached functions rather than conftest fixtures: test modules wrap them in their own
fixtures (or call them from hypothesis tests). Cached objects are shared between tests, so
tests must not mutate them; a test that needs to mutate fits or copies its own.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import pandas as pd

from engine.cleaning import clean
from engine.datasets import quickstart_frame
from engine.io import RawTable
from engine.synthesizer import Synthesizer

REPO = Path(__file__).resolve().parents[2]
QUICKSTART_CSV = REPO / "data" / "quickstart_seed.csv"

# Injected missingness for the missing-value seed (MCAR, per cell).
MISSING_NUMERIC = ("purchase_intent", 0.15)
MISSING_CATEGORICAL = ("channel", 0.10)


def quickstart() -> pd.DataFrame:
    """A fresh copy of the contract quickstart seed (800 rows, seed 7)."""
    return quickstart_frame()


def quickstart_with_missing(seed: int = 11) -> pd.DataFrame:
    """The quickstart seed with ~15% of purchase_intent and ~10% of channel missing."""
    df = quickstart_frame()
    rng = np.random.default_rng(seed)
    col, rate = MISSING_NUMERIC
    df[col] = df[col].astype("float64").mask(rng.random(len(df)) < rate)
    col, rate = MISSING_CATEGORICAL
    df[col] = df[col].mask(rng.random(len(df)) < rate)
    return df


def cleaned(frame: pd.DataFrame):
    """(cleaned frame, schema) as Synthesizer.fit hands them to the model."""
    result = clean(RawTable(frame=frame, source_format="frame"))
    return result.frame, result.schema


@functools.lru_cache(maxsize=None)
def quickstart_synthesizer() -> Synthesizer:
    """Synthesizer fitted on the quickstart seed (shared: do not mutate)."""
    return Synthesizer().fit(quickstart_frame())


@functools.lru_cache(maxsize=None)
def missing_synthesizer() -> Synthesizer:
    """Synthesizer fitted on ``quickstart_with_missing()`` (shared: do not mutate)."""
    return Synthesizer().fit(quickstart_with_missing())
