"""Privacy checks: distance to closest record (train vs holdout) and exact-copy rate."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.neighbors import NearestNeighbors

from engine.quality.metrics import _floats, _kind_map

_TIE_TOL = 1e-9  # L1 sums of [0, 1] terms; differences below this are rounding, not signal


def _subsample(df: pd.DataFrame, n: int, rng: np.random.Generator) -> pd.DataFrame:
    if len(df) <= n:
        return df
    return df.iloc[np.sort(rng.choice(len(df), size=n, replace=False))]


def _encode(frames: list[pd.DataFrame], kinds: dict[str, str]) -> list[np.ndarray]:
    """Encode so that L1 distance / n_columns is exactly the Gower-like distance.

    numeric: v = (x - min) / range of the TRAIN column (frames[0]), clipped to [0, 1],
      written as (v/2, (1-v)/2); missing as (3/4, 3/4). Then |v - w| is reproduced exactly,
      missing vs any value is 3/4 - v/2 + 3/4 - (1-v)/2 = 1, and missing vs missing is 0 --
      no indicator-column approximation needed.
    categorical: one-hot over the union of levels (+ missing as a level), scaled by 1/2, so
      a mismatch costs 1/2 + 1/2 = 1 and a match 0.
    """
    blocks: list[list[np.ndarray]] = [[] for _ in frames]
    for col, kind in kinds.items():
        if kind == "numeric":
            vals = [_floats(f[col]) for f in frames]
            lo, hi = np.nanmin(vals[0], initial=np.inf), np.nanmax(vals[0], initial=-np.inf)
            span = hi - lo if np.isfinite(hi - lo) and hi > lo else 1.0
            for out, x in zip(blocks, vals):
                v = np.clip((x - lo) / span, 0.0, 1.0) if np.isfinite(lo) else np.zeros_like(x)
                enc = np.column_stack([v / 2, (1 - v) / 2])
                enc[np.isnan(x)] = 0.75
                out.append(enc)
        else:
            sizes = np.cumsum([0] + [len(f) for f in frames])
            both = pd.concat([f[col].astype(object) for f in frames], ignore_index=True)
            codes, uniques = pd.factorize(both, use_na_sentinel=True)
            codes = np.where(codes < 0, len(uniques), codes)
            onehot = np.eye(len(uniques) + 1)[codes] * 0.5
            for i, out in enumerate(blocks):
                out.append(onehot[sizes[i]:sizes[i + 1]])
    return [np.hstack(b) / len(kinds) for b in blocks]


def _nearest(reference: np.ndarray, query: np.ndarray) -> np.ndarray:
    nn = NearestNeighbors(n_neighbors=1, metric="manhattan", algorithm="brute").fit(reference)
    return nn.kneighbors(query, return_distance=True)[0][:, 0]


def dcr_share(train: pd.DataFrame, holdout: pd.DataFrame, synth: pd.DataFrame,
              kinds: dict[str, str] | None = None, max_rows: int = 5000, seed: int = 0) -> float:
    """Share of synthetic rows strictly closer to a TRAIN row than to any HOLDOUT row
    (ties 0.5). ~0.5: the generator is no closer to what it saw than to unseen data;
    towards 1: it reproduces training records."""
    kmap = _kind_map(train, synth, kinds)
    kmap = {c: k for c, k in kmap.items() if c in holdout.columns}
    rng = np.random.default_rng(seed)
    # Equal reference sizes: a bigger reference set is closer by chance alone.
    n_ref = min(len(train), len(holdout), max_rows)
    if n_ref == 0 or len(synth) == 0:
        raise ValueError("dcr_share needs non-empty train, holdout and synthetic tables")
    frames = [_subsample(train, n_ref, rng), _subsample(holdout, n_ref, rng),
              _subsample(synth, max_rows, rng)]
    tr, ho, sy = _encode(frames, kmap)
    d_train, d_hold = _nearest(tr, sy), _nearest(ho, sy)
    diff = d_hold - d_train
    return float(np.where(np.abs(diff) <= _TIE_TOL, 0.5, diff > 0).mean())


def _row_keys(frames: list[pd.DataFrame], cols: list) -> list[np.ndarray]:
    """Exact integer row ids shared across frames (equal rows <=> equal id; NaN == NaN).

    Column by column factorisation instead of hashing: no collisions, and int 1 vs float
    1.0 compare equal. Re-factorising after each column keeps the ids below n_rows.
    """
    sizes = np.cumsum([0] + [len(f) for f in frames])
    key = np.zeros(sizes[-1], dtype=np.int64)
    for col in cols:
        both = pd.concat([f[col].astype(object) for f in frames], ignore_index=True)
        codes, uniques = pd.factorize(both, use_na_sentinel=True)
        codes = np.where(codes < 0, len(uniques), codes)
        key = pd.factorize(key * (len(uniques) + 1) + codes)[0]
    return [key[sizes[i]:sizes[i + 1]] for i in range(len(frames))]


def exact_copy_rate(reference: pd.DataFrame, synth: pd.DataFrame) -> float:
    """Share of synthetic rows equal, on every shared column, to some reference row."""
    cols = [c for c in reference.columns if c in synth.columns]
    if not cols:
        raise ValueError("reference and synthetic tables share no columns")
    if len(synth) == 0:
        return 0.0
    ref_keys, syn_keys = _row_keys([reference, synth], cols)
    return float(np.isin(syn_keys, ref_keys).mean())
