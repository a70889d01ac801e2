import numpy as np
import pandas as pd
import pytest

from engine.cleaning import clean
from engine.cleaning.rare_levels import rare_threshold

from .seeds import raw, with_base


def test_threshold():
    assert rare_threshold(100) == 5
    assert rare_threshold(1000) == 5
    assert rare_threshold(1001) == 6
    assert rare_threshold(10_000) == 50


def test_rare_levels_become_missing_and_rows_are_kept():
    # c and d are rare (threshold 5) and together 4 rows: too few for a pool of their own
    n = 200
    values = np.array(["a"] * 100 + ["b"] * 96 + ["c"] * 2 + ["d"] * 2, dtype=object)
    values[:10] = None                                   # 10 genuinely missing
    result = clean(raw(with_base(n, q=values)))
    column = result.schema["q"]
    assert column.levels == ["a", "b"]
    assert result.summary["clean_rows"] == n
    assert column.missing_rate == pytest.approx((10 + 2 + 2) / n)
    assert result.frame["q"].isna().sum() == 14
    assert list(result.frame["q"].cat.categories) == ["a", "b"]
    removed = next(d for d in result.decisions if d["action"] == "remove_levels")
    assert removed["column"] == "q"
    assert "'c': 2" in removed["detail"] and "'d': 2" in removed["detail"]


def test_rare_levels_with_a_pool_of_threshold_rows_are_kept():
    # c (4 rows) and d (3 rows) are rare, but their pool holds 7 >= 5 rows: the model ties
    # them (encoding.rare_pool), so they stay, with their values
    n = 200
    values = np.array(["a"] * 100 + ["b"] * 93 + ["c"] * 4 + ["d"] * 3, dtype=object)
    result = clean(raw(with_base(n, q=values)))
    assert result.schema["q"].levels == ["a", "b", "c", "d"]
    assert result.frame["q"].isna().sum() == 0
    pooled = next(d for d in result.decisions if d["action"] == "pool_levels")
    assert pooled["column"] == "q" and "'c': 4" in pooled["detail"]
    assert not [d for d in result.decisions if d["action"] == "remove_levels"]


def test_a_column_of_nothing_but_rare_levels_is_still_dropped():
    result = clean(raw(with_base(200, q=[f"l{i // 4}" for i in range(200)])))
    assert result.summary["dropped_columns"] == [{"name": "q", "reason": "rare_category"}]


def test_rare_level_leaving_one_level_is_constant():
    result = clean(raw(with_base(200, q=["a"] * 197 + ["b"] * 3)))
    assert result.summary["dropped_columns"] == [{"name": "q", "reason": "constant_categorical"}]


def test_rare_boolean_level_drops_the_column():
    result = clean(raw(with_base(200, flag=[False] * 198 + [True] * 2)))
    assert result.summary["dropped_columns"] == [{"name": "flag", "reason": "constant_categorical"}]


def test_unobserved_declared_levels_are_removed():
    sizes = pd.Categorical(["S", "M"] * 50, categories=["S", "M", "L"], ordered=True)
    result = clean(raw(with_base(100, size=sizes), "parquet"))
    assert result.schema["size"].levels == ["S", "M"]
    assert result.schema["size"].type == "ordered"


def test_character_columns_are_not_pruned_by_the_rare_level_rule():
    # 0.5% of 2,000 rows is 10: a factor level seen 6 times would go; free text keeps
    # every value seen text_min_count = 5 times (engine/cleaning/free_text.py)
    n = 2000
    words = [f"w{i}" for i in range(60) for _ in range(6)] + ["common"] * (n - 360)
    column = clean(raw(with_base(n, text=words))).schema["text"]
    assert column.type == "character" and len(column.levels) == 61
