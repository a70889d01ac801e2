"""Free text never leaks: no synthetic value is one the seed holds fewer than k times."""

import json

import pandas as pd
import pytest

from engine.cleaning import clean
from engine.cleaning.free_text import MAX_TEXT_LEVELS, TEXT_MIN_COUNT
from engine.errors import SimioError
from engine.synthesizer import Synthesizer
from tests.kinds_seed import COMMON_COMMENTS, kinds_frame, rare_share

from .seeds import raw, with_base


@pytest.fixture(scope="module")
def seed():
    return kinds_frame()


def test_no_synthetic_comment_is_rarer_than_k_in_the_seed(seed):
    synth = Synthesizer().fit(seed)
    column = synth.schema_["comment"]
    assert column.type == "character" and column.conditioning_excluded
    assert column.levels == sorted(COMMON_COMMENTS)
    synthetic = synth.sample(5000, seed=3)["comment"]
    assert rare_share(synthetic, seed["comment"], TEXT_MIN_COUNT) == 0.0
    # what may be emitted still is: every protected comment appears
    assert set(synthetic.dropna()) == set(COMMON_COMMENTS)


def test_k_is_settable(seed):
    synth = Synthesizer(text_min_count=10).fit(seed)
    assert synth.schema_["comment"].levels == ["great service", "none"]   # 8 < 10 removed
    assert rare_share(synth.sample(3000, seed=1)["comment"], seed["comment"], 10) == 0.0


def test_k_survives_save_and_load(seed, tmp_path):
    synth = Synthesizer(text_min_count=10).fit(seed)
    loaded = Synthesizer.load(synth.save(tmp_path / "m.simio"))
    assert loaded.text_min_count == 10


@pytest.mark.parametrize("k", [0, -1, 2.5, True])
def test_bad_k_is_refused(seed, k):
    with pytest.raises(SimioError) as info:
        clean(raw(seed), text_min_count=k)
    assert info.value.code == "simio_invalid_field"


def test_text_of_one_off_values_is_dropped_with_a_reason():
    n = 300
    notes = [f"note {i} " + "x" * (i % 7) for i in range(n)]
    notes[:30] = ["same"] * 30                    # one protected value: nothing to model
    notes[30:33] = ["twice"] * 3
    result = clean(raw(with_base(n, notes=notes)))
    assert {d["name"]: d["reason"] for d in result.summary["dropped_columns"]} == {
        "notes": "constant_categorical"}
    notes[:30] = [f"other {i}" for i in range(30)]
    result = clean(raw(with_base(n, notes=notes)))
    assert {d["name"]: d["reason"] for d in result.summary["dropped_columns"]} == {
        "notes": "rare_category"}


def test_the_schema_lists_a_bounded_number_of_levels():
    n = 3000
    words = [f"answer {i % 400}" for i in range(n)]             # 400 values, 7-8 times each
    result = clean(raw(with_base(n, words=words)))
    column = result.schema["words"]
    assert len(column.levels) == MAX_TEXT_LEVELS
    assert len(json.dumps(column.public_dict())) < 20 * MAX_TEXT_LEVELS
    kept = pd.Series(words).value_counts()[column.levels]
    assert kept.min() >= pd.Series(words).value_counts().drop(column.levels).max()


def test_auto_clean_false_protects_free_text_too(seed):
    result = clean(raw(seed), auto_clean=False)
    assert result.schema["comment"].levels == sorted(COMMON_COMMENTS)
