"""Any str-like column a DataFrame can hold is accepted by ``Synthesizer().fit(frame)``:
numpy.str_ objects (what ``rng.choice`` returns), pandas ``string``, Arrow strings and
categoricals all become the same factor with plain ``str`` levels."""

import json

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from engine.synthesizer import Synthesizer

N = 300
LEVELS = ["north", "south", "west"]


def _values():
    gen = np.random.default_rng(4)
    return [gen.choice(LEVELS) for _ in range(N)]           # numpy.str_ scalars


@pytest.mark.parametrize("make", [
    lambda v: pd.Series(v, dtype=object),                                   # numpy.str_
    lambda v: pd.Series([None if i % 10 == 0 else x for i, x in enumerate(v)], dtype=object),
    lambda v: pd.Series(v, dtype="string"),
    lambda v: pd.Series(pd.array([str(x) for x in v], dtype=pd.ArrowDtype(pa.string()))),
    lambda v: pd.Series(pd.array([str(x) for x in v], dtype=pd.ArrowDtype(pa.large_string()))),
    lambda v: pd.Series(pd.Categorical(v)),
    lambda v: pd.Series([f" {x} " for x in v], dtype=pd.ArrowDtype(pa.string())),  # padded
], ids=["numpy_str", "numpy_str_missing", "string", "arrow", "arrow_large", "categorical",
        "arrow_padded"])
def test_str_like_columns_fit_as_factors(make):
    gen = np.random.default_rng(1)
    values = make(_values())
    frame = pd.DataFrame({"region": values, "x": gen.normal(size=N)})
    synth = Synthesizer().fit(frame)
    column = synth.schema_["region"]
    assert column.type == "factor" and column.levels == LEVELS
    assert all(type(level) is str for level in column.levels)
    json.dumps(synth.schema_.public())                      # plain JSON, no numpy scalars
    sample = synth.sample(200, seed=2)
    assert set(sample["region"].dropna()) <= set(LEVELS)


def test_numpy_str_texts_of_dates_are_dates():
    gen = np.random.default_rng(2)
    days = [np.str_(f"2024-01-{d:02d}") for d in gen.integers(1, 29, N)]
    synth = Synthesizer().fit(pd.DataFrame({"day": pd.Series(days, dtype=object),
                                            "x": gen.normal(size=N)}))
    assert synth.schema_["day"].type == "date"
