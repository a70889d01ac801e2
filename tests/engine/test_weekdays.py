"""Weekday effects of a date column (engine/model/weekdays.py): detected at fit only when
the seed shows one, restored at sample inside the bin and any ISO range, deterministic and
chunk-independent, and absent from old model files without changing what they generate."""

from __future__ import annotations

import hashlib
import json
import zipfile

import numpy as np
import pandas as pd
import pytest

from engine import rng
from engine.model import weekdays
from engine.sampling import forward
from engine.synthesizer import Synthesizer

N_SEED = 3000
N_OUT = 20_000
WEEKDAY_SHARE = 0.9          # Monday-Friday share of the seed with an effect


def seed_frame(weekday_share: float | None, seed: int = 1) -> pd.DataFrame:
    """Two years of visits (more in summer), ``amount`` growing with the month, a code;
    ``weekday_share``: Monday-Friday share (None: every day alike)."""
    r = np.random.default_rng(seed)
    days = pd.date_range("2022-01-01", "2023-12-31")
    day_of_week = days.day_of_week.to_numpy()
    p = 1.0 + 0.5 * np.sin(2 * np.pi * days.day_of_year.to_numpy() / 365.0)
    if weekday_share is not None:
        p *= np.where(day_of_week < 5, weekday_share / 5, (1 - weekday_share) / 2)
    visit = days[r.choice(len(days), N_SEED, p=p / p.sum())]
    return pd.DataFrame({"visit": visit.strftime("%Y-%m-%d"),
                         "amount": r.normal(100, 10, N_SEED) + visit.month.to_numpy(),
                         "kind": r.choice(list("abc"), N_SEED)})


def tolerance(p: float, n: int) -> float:
    """4 standard errors of a share p over n rows, plus the seed's own (N_SEED rows) once:
    the weights are estimated from it."""
    return 4 * np.sqrt(p * (1 - p) / n) + np.sqrt(p * (1 - p) / N_SEED)


@pytest.fixture(scope="module")
def seed_csv(tmp_path_factory):
    path = tmp_path_factory.mktemp("weekdays") / "visits.csv"
    seed_frame(WEEKDAY_SHARE).to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def synth(seed_csv):
    return Synthesizer().fit(seed_csv)


def visit_encoding(synth):
    return next(e for e in synth.model_.encodings_ if e.name == "visit")


def sample_without_weights(synth, enc, n: int, seed: int) -> pd.DataFrame:
    """What ``synth`` generates with ``enc``'s weekday weights cleared (then restored)."""
    weights, enc.weekday_weights = enc.weekday_weights, None
    try:
        return synth.sample(n, seed=seed)
    finally:
        enc.weekday_weights = weights


# --- the pure functions ----------------------------------------------------------------

def test_chi_square_constant_is_the_strict_level():
    stats = pytest.importorskip("scipy.stats")
    assert weekdays.CHI2_CRITICAL == pytest.approx(stats.chi2.isf(1e-3, 6), abs=1e-3)


def test_weekday_of_known_days():
    # 1970-01-01 Thursday, 2024-03-04 Monday, 2024-03-10 Sunday
    days = [0, (pd.Timestamp("2024-03-04") - pd.Timestamp("1970-01-01")).days]
    days.append(days[1] + 6)
    assert weekdays.weekday(np.array(days)).tolist() == [3, 0, 6]


def test_expected_counts_of_a_long_even_span_are_even():
    days = np.arange(0, 7 * 100)
    expected = weekdays.expected_counts(days)
    assert expected.sum() == pytest.approx(days.size)
    assert np.allclose(expected, days.size / 7, rtol=0.01)


def naive_shift(values, low, high, weights, uniforms, per_day=1):
    out = values.copy()
    for i, x in enumerate(values):
        if np.isnan(x):
            continue
        days = [x + k * per_day for k in range(-3, 4) if low[i] <= x + k * per_day <= high[i]]
        mass = np.array([weights[(int(d // per_day) + 3) % 7] for d in days])
        if mass.sum() <= 0:
            continue
        target, acc = uniforms[i] * mass.sum(), 0.0
        for d, m in zip(days, mass):
            acc += m
            if acc > target:
                out[i] = d
                break
    return out


def test_shift_matches_a_naive_reference():
    r = np.random.default_rng(7)
    n = 2000
    values = r.integers(19000, 19100, n).astype(float)
    values[r.random(n) < 0.05] = np.nan
    low = np.where(r.random(n) < 0.3, values - r.integers(0, 4, n), -np.inf)
    high = np.where(r.random(n) < 0.3, values + r.integers(0, 4, n), np.inf)
    weights = [1.3, 1.3, 1.2, 1.2, 1.0, 0.0, 1.0]
    uniforms = r.random(n)
    got = weekdays.shift(values, low, high, weights, uniforms)
    assert np.array_equal(got, naive_shift(values, low, high, weights, uniforms),
                          equal_nan=True)
    present = ~np.isnan(values)
    assert np.all(np.abs(got - values)[present] <= 3)
    assert np.all((got >= low)[present] & (got <= high)[present])
    # weight 0: never chosen, unless a row's window is that one day
    wider = present & (np.minimum(values + 3, high) > np.maximum(values - 3, low))
    assert not np.any(weekdays.weekday(got[wider]) == 5)
    # a datetime in minutes moves by whole days (1440 units)
    minutes = values * 1440 + r.integers(0, 1440, n)
    low, high = minutes - 1440 * r.integers(0, 5, n), minutes + 1440 * r.integers(0, 5, n)
    got = weekdays.shift(minutes, low, high, weights, uniforms, per_day=1440)
    assert np.array_equal(got, naive_shift(minutes, low, high, weights, uniforms, 1440),
                          equal_nan=True)
    assert np.all(((got - minutes) % 1440)[present] == 0)


def test_no_effect_gives_no_weights_and_a_strong_one_does():
    plain = seed_frame(None)
    days = (pd.to_datetime(plain["visit"]) - pd.Timestamp("1970-01-01")).dt.days
    assert weekdays.fit_weights(days.to_numpy(dtype=float)) is None
    skewed = seed_frame(WEEKDAY_SHARE)
    days = (pd.to_datetime(skewed["visit"]) - pd.Timestamp("1970-01-01")).dt.days
    weights = weekdays.fit_weights(days.to_numpy(dtype=float))
    assert weights is not None and len(weights) == 7
    assert min(weights[:5]) > 2 * max(weights[5:])
    assert weekdays.fit_weights(days.to_numpy(dtype=float)[:weekdays.MIN_ROWS - 1]) is None


# --- end to end through the synthesizer -------------------------------------------------

def test_weekday_shares_follow_the_seed(synth, seed_csv):
    assert visit_encoding(synth).weekday_weights is not None
    out = synth.sample(N_OUT, seed=3)
    seed_visit = pd.to_datetime(pd.read_csv(seed_csv)["visit"])
    out_visit = pd.to_datetime(out["visit"].astype("datetime64[s]"))
    for d in range(7):
        p = float(np.mean(seed_visit.dt.day_of_week == d))
        assert abs(np.mean(out_visit.dt.day_of_week == d) - p) < tolerance(p, N_OUT), d
    # the rest of the date's distribution is kept: the seed's months (spring busier)
    for m in range(1, 13):
        p = float(np.mean(seed_visit.dt.month == m))
        assert abs(np.mean(out_visit.dt.month == m) - p) < tolerance(p, N_OUT), m


def test_a_seed_without_an_effect_stores_nothing_and_samples_as_before(tmp_path):
    synth = Synthesizer().fit(seed_frame(None))
    assert visit_encoding(synth).weekday_weights is None
    assert weekdays.block_uniforms(synth.model_, 3, 0, 100) is None
    out = synth.sample(5000, seed=3)
    model = synth.model_
    plain = next(forward.iter_sample(model, 5000, 3))
    pd.testing.assert_frame_equal(out, plain)
    assert "weekday_weights" not in json.dumps(
        json.loads(zipfile.ZipFile(synth.save(tmp_path / "m.simio")).read("manifest.json")))


def test_an_iso_range_holds_in_every_row(synth):
    # Wednesday to the Thursday of the next week: every window near an edge is clipped
    conditions = {"numeric": {"visit": {"min": "2023-03-01", "max": "2023-03-09"}}}
    out = synth.sample(4000, seed=5, conditions=conditions)
    visit = pd.to_datetime(out["visit"].astype("datetime64[s]"))
    assert visit.min() >= pd.Timestamp("2023-03-01")
    assert visit.max() <= pd.Timestamp("2023-03-09")
    # the effect still shows: the range's days weighted by the weekday weights
    weights = np.array(visit_encoding(synth).weekday_weights)
    days = pd.date_range("2023-03-01", "2023-03-09").day_of_week.to_numpy()
    p = weights[days[days < 5]].sum() / weights[days].sum()
    assert abs(np.mean(visit.dt.day_of_week.to_numpy() < 5) - p) < tolerance(p, len(out))


def test_same_seed_same_rows_and_chunk_size_does_not_matter(synth):
    n = 2 * rng.BLOCK_ROWS + 123
    whole = synth.sample(n, seed=9)
    assert whole.equals(synth.sample(n, seed=9))
    chunked = synth.sample(n, seed=9, chunk_rows=rng.BLOCK_ROWS)
    pd.testing.assert_frame_equal(whole, chunked)
    conditions = {"numeric": {"visit": {"min": "2023-03-01", "max": "2023-06-30"}}}
    a = synth.sample(n, seed=9, conditions=conditions)
    b = synth.sample(n, seed=9, conditions=conditions, chunk_rows=rng.BLOCK_ROWS)
    pd.testing.assert_frame_equal(a, b)


def test_only_the_date_column_changes(synth):
    """The weekday choice has its own stream: every other column is what the model gives
    without it."""
    model = synth.model_
    enc = visit_encoding(synth)
    out = synth.sample(5000, seed=4)
    without = sample_without_weights(synth, enc, 5000, seed=4)
    others = [c for c in out.columns if c != "visit"]
    pd.testing.assert_frame_equal(out[others], without[others])
    moved = (out["visit"].astype("datetime64[s]")
             - without["visit"].astype("datetime64[s]")).dt.days.abs()
    assert moved.max() <= 3 and (moved > 0).mean() > 0.3
    assert model is synth.model_


def test_an_old_model_file_without_the_field_loads_and_samples_as_before(synth, tmp_path):
    path = synth.save(tmp_path / "new.simio")
    with zipfile.ZipFile(path) as zf:
        contents = {name: zf.read(name) for name in zf.namelist()}
    manifest = json.loads(contents["manifest.json"])
    for entry in manifest["encodings"]:
        entry.pop("weekday_weights", None)
    body = json.dumps(manifest, sort_keys=True, indent=1).encode()
    contents["manifest.json"] = body
    contents["manifest.sha256"] = hashlib.sha256(body).hexdigest().encode()
    old = tmp_path / "old.simio"
    with zipfile.ZipFile(old, "w") as zf:
        for name, blob in contents.items():
            zf.writestr(name, blob)
    loaded = Synthesizer.load(old)
    assert visit_encoding(loaded).weekday_weights is None
    before = sample_without_weights(synth, visit_encoding(synth), 3000, seed=2)
    pd.testing.assert_frame_equal(loaded.sample(3000, seed=2), before)
    # and the new file keeps the weights
    assert visit_encoding(Synthesizer.load(path)).weekday_weights == \
        visit_encoding(synth).weekday_weights


def test_a_datetime_gets_the_effect_and_keeps_its_time_of_day():
    frame = seed_frame(WEEKDAY_SHARE)
    r = np.random.default_rng(3)
    minutes = r.integers(8 * 60, 18 * 60, N_SEED)
    logged = pd.to_datetime(frame["visit"]) + pd.to_timedelta(minutes, unit="min")
    frame = pd.DataFrame({"logged": logged.dt.strftime("%Y-%m-%d %H:%M:%S"),
                          "amount": frame["amount"]})
    aware = frame.assign(logged=logged.dt.tz_localize("Europe/Rome")
                         .dt.strftime("%Y-%m-%dT%H:%M:%S%z"))
    synth = Synthesizer().fit(frame)
    enc = next(e for e in synth.model_.encodings_ if e.name == "logged")
    assert enc.weekday_weights is not None
    out = pd.to_datetime(synth.sample(N_OUT, seed=6)["logged"].astype("datetime64[s]"))
    for d in range(7):
        p = float(np.mean(logged.dt.day_of_week == d))
        assert abs(np.mean(out.dt.day_of_week == d) - p) < tolerance(p, N_OUT), d
    without = pd.to_datetime(sample_without_weights(synth, enc, N_OUT, seed=6)["logged"]
                             .astype("datetime64[s]"))
    moved = out - without                                       # whole days, at most 3
    assert (moved % pd.Timedelta(days=1) == pd.Timedelta(0)).all()
    assert moved.abs().max() <= pd.Timedelta(days=3) and (moved != pd.Timedelta(0)).any()
    # a time-zone-aware datetime is modelled in UTC, whose day is not the local one: left
    zoned = Synthesizer().fit(aware)
    assert next(e for e in zoned.model_.encodings_
                if e.name == "logged").weekday_weights is None
