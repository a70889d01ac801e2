"""The first pass of a cluster fit: the row sample does not depend on the partitioning,
and the cleaning applied to a partition gives the rows the one-process cleaning gives."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from engine.cleaning import clean
from engine.distributed import first_pass
from engine.distributed.fit import fit_files
from engine.io import RawTable
from engine.synthesizer import Synthesizer
from tests.engine import fixtures
from tests.engine.distributed.test_fit import write_partitions


def messy_frame(n: int = 600, seed: int = 5) -> pd.DataFrame:
    """Blank text, numbers and booleans as text, a rare level, dates as text, empty rows."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({
        "Region Name": rng.choice(["north", "south", " east ", ""], n).astype(object),
        "score": rng.normal(50, 10, n).round(1).astype(str).astype(object),
        "flag": rng.choice(["True", "false", "TRUE"], n).astype(object),
        "kids": rng.integers(0, 4, n).astype(float),
        "joined": pd.Series(pd.date_range("2020-01-01", periods=n, freq="D")).dt.strftime(
            "%Y-%m-%d").astype(object),
        "pet": rng.choice(["cat", "dog"], n).astype(object),
    })
    frame.loc[3, "pet"] = "iguana"                       # one rare level -> missing
    frame.loc[rng.choice(n, 30, replace=False), "kids"] = np.nan
    frame.loc[[10, 11]] = [None] * frame.shape[1]        # rows missing everywhere
    return frame


def partitions(frame, cuts):
    bounds = [0, *cuts, len(frame)]
    return [RawTable(frame=frame.iloc[a:b].reset_index(drop=True), source_format="frame")
            for a, b in zip(bounds[:-1], bounds[1:])]


def test_the_sample_does_not_depend_on_the_partitioning():
    frame = pd.DataFrame({"x": np.arange(10_000)})
    samples = []
    for cuts in ([2_500, 5_000, 7_500], [100, 9_000], []):
        tables = partitions(frame, cuts)
        firsts = np.concatenate([[0], np.cumsum([len(t.frame) for t in tables])[:-1]])
        parts = [first_pass.partition_sample(t, int(f), 700) for t, f in zip(tables, firsts)]
        kept = first_pass.merge_samples(parts, 700)
        samples.append(pd.concat([t.frame for t in kept], ignore_index=True)["x"].to_numpy())
    assert len(samples[0]) == 700
    assert np.all(np.diff(samples[0]) > 0)                   # in table order
    for other in samples[1:]:
        assert np.array_equal(other, samples[0])
    # spread over the table, not its first rows: a uniform sample's quartiles
    assert abs(np.median(samples[0]) - 5_000) < 4 * 10_000 / np.sqrt(700)


def test_a_small_table_is_its_own_sample():
    frame = pd.DataFrame({"x": np.arange(50)})
    tables = partitions(frame, [20])
    parts = [first_pass.partition_sample(tables[0], 0, 100),
             first_pass.partition_sample(tables[1], 20, 100)]
    kept = first_pass.merge_samples(parts, 100)
    assert pd.concat([t.frame for t in kept], ignore_index=True).equals(frame)


def test_a_cleaned_partition_is_what_the_one_process_cleaning_gives():
    raw = RawTable(frame=messy_frame(), source_format="frame")
    result = clean(raw)
    assert {"make_missing", "drop_rows", "remove_levels"} <= {d["action"]
                                                               for d in result.decisions}
    assert {c.type for c in result.schema} >= {"boolean", "date", "factor", "numeric"}
    got = first_pass.clean_partition(raw, list(result.schema))
    assert list(got.columns) == list(result.frame.columns)
    for name in got.columns:
        want = result.frame[name]
        if isinstance(want.dtype, pd.CategoricalDtype):
            assert list(got[name].cat.categories) == list(want.cat.categories), name
            assert got[name].astype(object).equals(want.astype(object)), name
        else:
            np.testing.assert_array_equal(got[name].to_numpy(dtype=float),
                                          want.to_numpy(dtype=float), err_msg=name)


def test_a_messy_seed_from_partitions_is_the_one_process_model_file(client, tmp_path):
    frame = messy_frame()
    files = write_partitions(frame, tmp_path / "parts", n_parts=3)
    whole = pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)
    one = Synthesizer().fit(whole)
    merged = fit_files(Synthesizer(), files, client)
    one.save(tmp_path / "one.simio")
    merged.save(tmp_path / "merged.simio")
    assert (tmp_path / "one.simio").read_bytes() == (tmp_path / "merged.simio").read_bytes()


def test_past_the_sample_cap_counts_and_summaries_cover_every_row(client, tmp_path):
    frame = fixtures.quickstart_with_missing()
    rows = len(frame)
    cap = rows // 4
    files = write_partitions(frame, tmp_path / "parts", n_parts=4)
    synth = fit_files(Synthesizer(), files, client, sample_rows=cap)
    one = Synthesizer().fit(frame)
    assert synth.model_.n_training_rows_ == rows
    assert synth.cleaning_summary_["input_rows"] == rows
    assert synth.cleaning_summary_["clean_rows"] == one.cleaning_summary_["clean_rows"]
    for column in synth.schema_:               # exact missing rates, not the sample's
        assert column.missing_rate == pytest.approx(one.schema_[column.name].missing_rate,
                                                    abs=1e-12)
    # the tables hold every row's counts: a parentless node's table is the seed's marginal
    roots = [j for j, ps in enumerate(synth.model_.parents_) if not ps
             and synth.model_.encodings_[j].kind == "categorical"]
    assert roots
    generated = synth.sample(20_000, seed=3)
    for j in roots:
        name = synth.model_.encodings_[j].name
        share = frame[name].value_counts(normalize=True)
        got = generated[name].astype(object).value_counts(normalize=True)
        for level, p in share.items():
            assert abs(got.get(level, 0.0) - p) < 5 * np.sqrt(p * (1 - p) / 20_000) + 0.01
