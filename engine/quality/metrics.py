"""Fidelity metrics between a real and a synthetic table, in the spirit of SDMetrics'
QualityReport: per-column *shapes*, per-pair *trends*, and their means.

Every score is in [0, 1], 1 meaning indistinguishable by that metric. Work is vectorised
per column; the only Python loops run over columns and column pairs, never rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

import numpy as np
import pandas as pd
from scipy.stats import ks_2samp

KINDS = ("numeric", "categorical")
N_BINS = 10


@dataclass
class QualityReport:
    column_shapes: dict[str, float]
    pair_trends: dict[tuple[str, str], float]
    shapes_score: float
    trends_score: float      # NaN when fewer than two columns are scored
    score: float             # mean of the two; just shapes_score when there are no pairs


def infer_kind(series: pd.Series) -> str:
    # bool is a numeric dtype to pandas, but a two-level flag is a category to us.
    if pd.api.types.is_bool_dtype(series.dtype):
        return "categorical"
    return "numeric" if pd.api.types.is_numeric_dtype(series.dtype) else "categorical"


def _kind_map(real: pd.DataFrame, synth: pd.DataFrame, kinds) -> dict[str, str]:
    kinds = kinds or {}
    cols = [c for c in real.columns if c in synth.columns]
    if not cols:
        raise ValueError("real and synthetic tables share no columns")
    out = {c: kinds.get(c) or infer_kind(real[c]) for c in cols}
    bad = {c: k for c, k in out.items() if k not in KINDS}
    if bad:
        raise ValueError(f"unknown column kinds {bad}; use one of {KINDS}")
    return out


def _floats(series: pd.Series) -> np.ndarray:
    # Nullable Int64/Float64 and bool all become float64 with NaN for missing.
    return pd.to_numeric(series).to_numpy(dtype="float64", na_value=np.nan)


def _tvd(codes_r: np.ndarray, codes_s: np.ndarray, size: int) -> float:
    """Total variation distance between the frequency tables of two code arrays."""
    if len(codes_r) == 0 or len(codes_s) == 0:
        return float(len(codes_r) != len(codes_s))
    p = np.bincount(codes_r, minlength=size) / len(codes_r)
    q = np.bincount(codes_s, minlength=size) / len(codes_s)
    return 0.5 * float(np.abs(p - q).sum())


def _category_codes(real: pd.Series, synth: pd.Series) -> tuple[np.ndarray, np.ndarray, int]:
    """Shared integer codes for both sides; missing is the last code (its own category).

    Factorising the concatenation gives both sides one level dictionary without trusting
    dtypes to agree (category vs object, int vs float levels hash alike).
    """
    both = pd.concat([real.astype(object), synth.astype(object)], ignore_index=True)
    codes, uniques = pd.factorize(both, use_na_sentinel=True)
    k = len(uniques)
    codes = np.where(codes < 0, k, codes)
    return codes[: len(real)], codes[len(real):], k + 1


def _bin_codes(real: np.ndarray, synth: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """Decile codes from the REAL column's quantiles, applied to both; missing is its own.

    Quantile (not SDMetrics' equal-width) edges: on skewed columns (income, counts, waits)
    equal-width bins put nearly all the mass in one or two bins, so the contingency table
    cannot see the body of the distribution. Decile edges give every bin ~10% of the real
    mass. Values beyond the real range land in the end bins; heavy ties merge edges.
    """
    finite = real[~np.isnan(real)]
    inner = (np.unique(np.quantile(finite, np.linspace(0, 1, N_BINS + 1)[1:-1]))
             if finite.size else np.empty(0))
    k = inner.size + 1

    def code(x):
        return np.where(np.isnan(x), k, np.searchsorted(inner, x, side="right"))

    return code(real), code(synth), k + 1


def _codes(real: pd.Series, synth: pd.Series, kind: str):
    if kind == "numeric":
        return _bin_codes(_floats(real), _floats(synth))
    return _category_codes(real, synth)


def _ks_shape(r: np.ndarray, s: np.ndarray) -> float:
    r, s = r[~np.isnan(r)], s[~np.isnan(s)]
    if r.size == 0 or s.size == 0:
        return float(r.size == s.size)  # both all-missing: 1; one side empty: 0
    with np.errstate(divide="ignore"):  # only the statistic is used; tiny-n p-values warn
        return _unit(1.0 - float(ks_2samp(r, s, method="asymp").statistic))


def column_shape(real: pd.Series, synth: pd.Series, kind: str) -> float:
    """numeric: 1 - KS statistic on non-missing values (missing rate not compared, as in
    SDMetrics' KSComplement); categorical: 1 - TVD with missing as its own level."""
    if kind == "numeric":
        return _ks_shape(_floats(real), _floats(synth))
    return _unit(1.0 - _tvd(*_category_codes(real, synth)))


def _correlation(a: np.ndarray, b: np.ndarray) -> float:
    ok = ~(np.isnan(a) | np.isnan(b))
    a, b = a[ok], b[ok]
    if a.size < 2 or a.std() == 0 or b.std() == 0:
        return np.nan
    return float(np.corrcoef(a, b)[0, 1])


def _contingency(ca_r, ca_s, ka, cb_r, cb_s, kb) -> float:
    return _unit(1.0 - _tvd(ca_r * kb + cb_r, ca_s * kb + cb_s, ka * kb))


def pair_trend(real_a, real_b, synth_a, synth_b, kind_a: str, kind_b: str) -> float:
    """numeric x numeric: 1 - |r_real - r_synth| / 2 (Pearson, pairwise-complete rows);
    any other pair, or a correlation that is undefined (constant column, < 2 complete rows):
    1 - TVD of the joint table, numerics binned on real deciles, missing its own level."""
    if kind_a == kind_b == "numeric":
        r_real = _correlation(_floats(real_a), _floats(real_b))
        r_synth = _correlation(_floats(synth_a), _floats(synth_b))
        if not (np.isnan(r_real) or np.isnan(r_synth)):
            return _unit(1.0 - abs(r_real - r_synth) / 2.0)
    ca_r, ca_s, ka = _codes(real_a, synth_a, kind_a)
    cb_r, cb_s, kb = _codes(real_b, synth_b, kind_b)
    return _contingency(ca_r, ca_s, ka, cb_r, cb_s, kb)


def quality_report(real: pd.DataFrame, synth: pd.DataFrame,
                   kinds: dict[str, str] | None = None) -> QualityReport:
    """Score the columns present in both tables (real's column order)."""
    kmap = _kind_map(real, synth, kinds)
    cols = list(kmap)
    # Convert and code every column once; the pair loop then only combines arrays.
    nums = {c: (_floats(real[c]), _floats(synth[c])) for c in cols if kmap[c] == "numeric"}
    codes = {c: (_bin_codes(*nums[c]) if c in nums else _category_codes(real[c], synth[c]))
             for c in cols}

    shapes = {c: _ks_shape(*nums[c]) if c in nums else 1.0 - _tvd(*codes[c]) for c in cols}
    trends = {}
    for a, b in combinations(cols, 2):
        score = np.nan
        if a in nums and b in nums:
            r_real = _correlation(nums[a][0], nums[b][0])
            r_synth = _correlation(nums[a][1], nums[b][1])
            score = 1.0 - abs(r_real - r_synth) / 2.0
        if np.isnan(score):
            score = _contingency(*codes[a], *codes[b])
        trends[(a, b)] = float(score)

    shapes_score = float(np.mean(list(shapes.values())))
    trends_score = float(np.mean(list(trends.values()))) if trends else float("nan")
    score = shapes_score if not trends else (shapes_score + trends_score) / 2.0
    return QualityReport(shapes, trends, shapes_score, trends_score, score)


def _unit(score: float) -> float:
    """Clamp float noise (1 - 1.0000000000000002) into [0, 1]."""
    return min(1.0, max(0.0, score))
