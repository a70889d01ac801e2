"""The Python API: Synthesizer(...).fit(seed).sample(n, seed=...), write() and errors."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from engine.io.writers import read_output
import pytest

from engine.errors import SimioError
from engine.model.parameters import PRIOR_ROWS
from engine.synthesizer import NotFittedError, Synthesizer
from tests.engine import fixtures

N_SYNTH = 50_000


@pytest.fixture(scope="module")
def synth() -> Synthesizer:
    return fixtures.quickstart_synthesizer()


@pytest.fixture(scope="module")
def sample(synth) -> pd.DataFrame:
    return synth.sample(N_SYNTH, seed=2024)


# -- fitting -----------------------------------------------------------------------------

def test_fit_returns_self_and_sets_fitted_attributes():
    synthesizer = Synthesizer(max_parents=2)
    assert vars(synthesizer) == {"auto_clean": True, "max_parents": 2, "max_upweight": 20.0,
                                 "text_min_count": 5}
    assert synthesizer.fit(fixtures.quickstart()) is synthesizer
    added = set(vars(synthesizer)) - {"auto_clean", "max_parents", "max_upweight",
                                      "text_min_count"}
    assert added == {"model_", "schema_", "cleaning_summary_", "cleaning_decisions_",
                     "seed_marginals_"}
    assert synthesizer.model_.max_parents == 2


def test_fit_does_not_mutate_the_frame():
    seed = fixtures.quickstart_with_missing()
    before = seed.copy(deep=True)
    Synthesizer().fit(seed)
    pd.testing.assert_frame_equal(seed, before, check_exact=True)


@pytest.mark.parametrize("source", ["str-path", "path", "bytes", "bytes-with-name"])
def test_fit_from_csv_path_or_bytes_equals_fit_from_frame(synth, source):
    csv = fixtures.QUICKSTART_CSV
    data, kwargs = {
        "str-path": (str(csv), {}),
        "path": (csv, {}),
        "bytes": (csv.read_bytes(), {}),
        "bytes-with-name": (csv.read_bytes(), {"filename": "seed.csv"}),
    }[source]
    fitted = Synthesizer().fit(data, **kwargs)
    assert fitted.schema_.to_dict() == synth.schema_.to_dict()
    assert fitted.model_.parents_ == synth.model_.parents_
    pd.testing.assert_frame_equal(fitted.sample(2000, seed=1), synth.sample(2000, seed=1),
                                  check_exact=True)


def test_fit_rejects_other_inputs():
    with pytest.raises(TypeError, match="DataFrame"):
        Synthesizer().fit([1, 2, 3])


def test_quickstart_schema(synth):
    schema = synth.schema_
    assert schema.names == ["age", "segment", "channel", "region", "purchase_intent"]
    assert schema["age"].is_integer and schema["purchase_intent"].is_integer
    assert sorted(schema["segment"].levels) == ["Mainstream", "Premium", "Value"]
    assert (schema["age"].min, schema["age"].max) == (18, 65)
    assert synth.cleaning_summary_["dropped_columns"] == []


# -- sampling ----------------------------------------------------------------------------

@pytest.mark.parametrize("n", [1, 7, 1000, 70_000])
def test_sample_returns_exactly_n_rows(synth, n):
    assert len(synth.sample(n, seed=0)) == n


def test_generate_reports_a_ready_generation(synth):
    generation = synth.generate(1234, seed=5)
    assert generation.rows_requested == generation.rows_generated == 1234
    assert generation.seed == 5
    assert generation.status == "ready"
    pd.testing.assert_frame_equal(generation.to_frame(), synth.sample(1234, seed=5),
                                  check_exact=True)


def test_sample_without_seed_draws_a_fresh_one(synth):
    a, b = synth.generate(10), synth.generate(10)
    assert isinstance(a.seed, int) and a.seed != b.seed


def test_integers_stay_integers(sample):
    assert sample["age"].dtype == np.int64
    assert sample["purchase_intent"].dtype == np.int64


def test_values_within_schema_ranges_and_levels(synth, sample):
    for column in synth.schema_:
        series = sample[column.name]
        assert series.notna().all()
        if column.kind == "numeric":
            assert series.min() >= column.min and series.max() <= column.max, column.name
        else:
            assert list(series.cat.categories) == column.levels
            assert set(series.unique()) <= set(column.levels)


def test_missing_values_are_reproduced():
    seed = fixtures.quickstart_with_missing()
    synthesizer = fixtures.missing_synthesizer()
    out = synthesizer.sample(N_SYNTH, seed=31)
    n_seed = len(seed)
    for name, _ in (fixtures.MISSING_NUMERIC, fixtures.MISSING_CATEGORICAL):
        p_seed = float(seed[name].isna().mean())
        assert synthesizer.schema_[name].missing_rate == pytest.approx(p_seed)
        p_synth = float(out[name].isna().mean())
        # Sampling noise of the synthetic rate: 3 binomial sd at N_SYNTH rows.
        tolerance = 3 * math.sqrt(p_seed * (1 - p_seed) / N_SYNTH)
        parents = synthesizer.model_.parents_[synthesizer.schema_.names.index(name)]
        if name == fixtures.MISSING_CATEGORICAL[0]:
            # A root categorical's missing share is one cell of its table, smoothed with
            # PRIOR_ROWS pseudo rows toward a marginal that is itself the seed's share:
            # the model can move it by at most PRIOR_ROWS / (n_seed + PRIOR_ROWS).
            assert parents == (), "the bound below assumes channel is a root"
            tolerance += PRIOR_ROWS / (n_seed + PRIOR_ROWS)
        else:
            # A numeric child's missingness is smoothed per parent configuration and
            # re-weighted by the model's configuration probabilities (parameters.py), so
            # the model's rate is itself an estimate: allow one binomial sd of the seed's
            # own rate (sqrt(p(1-p)/800) = 0.013), the precision the seed gives it.
            tolerance += math.sqrt(p_seed * (1 - p_seed) / n_seed)
        assert abs(p_synth - p_seed) <= tolerance, (name, p_seed, p_synth, tolerance)
    # Complete columns stay complete; gaps keep integer values integral.
    assert out[["age", "segment", "region"]].notna().all().all()
    assert out["purchase_intent"].dtype == "Int64"
    values = out["purchase_intent"].dropna().to_numpy(dtype=float)
    np.testing.assert_array_equal(values, np.round(values))


@pytest.mark.parametrize("n", [0, -1, 1.5, True, False, "10", None, 10.0])
def test_bad_row_counts(synth, n):
    with pytest.raises(SimioError) as info:
        synth.sample(n, seed=1)
    assert info.value.code == "simio_invalid_field"


@pytest.mark.parametrize("call", ["sample", "generate", "save", "write"])
def test_not_fitted(tmp_path, call):
    synthesizer = Synthesizer()
    method = {
        "sample": lambda: synthesizer.sample(10, seed=1),
        "generate": lambda: synthesizer.generate(10, seed=1),
        "save": lambda: synthesizer.save(tmp_path / "m.simio"),
        "write": lambda: synthesizer.write(tmp_path / "out.parquet", 10, seed=1),
    }[call]
    with pytest.raises(NotFittedError) as info:
        method()
    assert isinstance(info.value, ValueError) and isinstance(info.value, AttributeError)
    assert isinstance(info.value, SimioError)
    assert not any(tmp_path.iterdir())


# -- write -------------------------------------------------------------------------------

def read_back(path: Path, fmt: str) -> pd.DataFrame:
    return read_output(path, fmt)


def as_csv_values(frame: pd.DataFrame) -> pd.DataFrame:
    """What a CSV round trip can keep: labels instead of categoricals."""
    return frame.apply(lambda s: s.astype(str) if isinstance(s.dtype, pd.CategoricalDtype)
                       else s)


@pytest.mark.parametrize("fmt", ["parquet", "csv", "arrow"])
def test_write_matches_sample(synth, tmp_path, fmt):
    n = 3000
    path = tmp_path / f"out.{fmt}"
    done = []
    generation = synth.write(path, n, fmt=fmt, seed=77, on_chunk=lambda f: done.append(len(f)))
    assert generation.rows_generated == n and sum(done) == n
    expected = synth.sample(n, seed=77)
    got = read_back(path, fmt)
    assert len(got) == n
    if fmt == "csv":
        got = got.apply(lambda s: s.astype(str) if s.dtype == object
                        or pd.api.types.is_string_dtype(s.dtype) else s)
        pd.testing.assert_frame_equal(got, as_csv_values(expected), check_exact=True,
                                      check_dtype=False)
        assert got["age"].dtype == np.int64
    else:
        pd.testing.assert_frame_equal(got, expected, check_exact=True)
    assert [p.name for p in tmp_path.iterdir()] == [path.name]


@pytest.mark.parametrize("fmt", ["parquet", "arrow"])
def test_write_spanning_several_chunks(tmp_path, fmt):
    # > DEFAULT_CHUNK_ROWS (262,144) rows: two chunks appended to one file; nullable ints
    # and a categorical with missing values survive across the chunk boundary.
    synthesizer = fixtures.missing_synthesizer()
    n = 270_000
    path = tmp_path / f"big.{fmt}"
    done = []
    synthesizer.write(path, n, fmt=fmt, seed=8, on_chunk=lambda f: done.append(len(f)))
    assert done == [262_144, n - 262_144]
    pd.testing.assert_frame_equal(read_back(path, fmt), synthesizer.sample(n, seed=8),
                                  check_exact=True)


def test_write_rejects_unknown_format(synth, tmp_path):
    with pytest.raises(SimioError) as info:
        synth.write(tmp_path / "x.json", 10, fmt="json", seed=1)
    assert info.value.code == "simio_invalid_field"
    assert not any(tmp_path.iterdir())


def test_write_takes_its_format_from_the_name_and_refuses_names_it_does_not_write(synth,
                                                                                  tmp_path):
    """``write(path)`` without ``fmt``: the extension says the format (a .csv name used to
    get Parquet bytes); an extension simio does not write is refused, nothing written."""
    synth.write(tmp_path / "out.csv", 20, seed=3)
    assert (tmp_path / "out.csv").read_text().splitlines()[0].count(",") == \
        len(synth.schema_) - 1
    pd.testing.assert_frame_equal(read_output(tmp_path / "out.csv", "csv"),
                                  read_output(synth.write(tmp_path / "same.csv", 20, seed=3)
                                              and tmp_path / "same.csv", "csv"))
    with pytest.raises(SimioError) as info:
        synth.write(tmp_path / "out.docx", 20, seed=3)
    assert info.value.code == "simio_unsupported_output_format"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv", "same.csv"]
    synth.write(tmp_path / "plain", 5, seed=3)                 # no extension: parquet
    assert (tmp_path / "plain").read_bytes()[:4] == b"PAR1"
