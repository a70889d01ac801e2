"""Decomposable local scores: how well a parent set explains one child (BIC).

A categorical child is scored by its conditional table (multinomial likelihood). A numeric
child is scored on the copula scale: its normal scores regressed linearly on the parents'
features (one-hot levels, parents' bin scores), a Gaussian likelihood with one parameter
per feature. That keeps a numeric child with three parents at a handful of parameters, so
a small seed can still support the edges that carry its dependence (an 800-row survey
cannot fill a 20 x 3 x 3 x 20 table, but it can fit 6 regression coefficients).
"""

from __future__ import annotations

import numpy as np
from scipy.stats import rankdata
from scipy.special import ndtri

from engine.model.encoding import NodeEncoding


def normal_scores(values: np.ndarray) -> np.ndarray:
    """Rank-based normal scores of the observed values (NaN where missing)."""
    z = np.full(values.shape, np.nan)
    ok = ~np.isnan(values)
    n = int(ok.sum())
    if n:
        z[ok] = ndtri((rankdata(values[ok]) - 0.5) / n)
    return z


def parent_states(child: NodeEncoding, parent: NodeEncoding) -> int:
    """How many states of ``parent`` the child's table distinguishes."""
    if child.kind == "categorical" and parent.kind == "numeric":
        return int(parent.parent_group.max()) + 1
    return parent.n_states


def parent_state_map(child: NodeEncoding, parent: NodeEncoding) -> np.ndarray:
    """Parent code -> the parent state the child's table is indexed by."""
    if child.kind == "categorical" and parent.kind == "numeric":
        return parent.parent_group.astype(np.int64)
    return np.arange(parent.n_states, dtype=np.int64)


def parent_features(parent: NodeEncoding) -> np.ndarray:
    """Feature rows (one per parent state) for a numeric child's regression."""
    if parent.kind == "categorical":
        return np.eye(parent.n_states)[:, 1:]
    score = np.append(parent.bin_score, 0.0) if parent.missing_state >= 0 else parent.bin_score
    if parent.missing_state < 0:
        return score[:, None]
    indicator = np.zeros(parent.n_states)
    indicator[parent.missing_state] = 1.0
    return np.column_stack([score, indicator])


class LocalScorer:
    """BIC local scores over encoded data, cached by (child, parent set)."""

    def __init__(self, codes: np.ndarray, encodings: list[NodeEncoding], z: dict[int, np.ndarray]):
        self.codes = codes
        self.encodings = encodings
        self.z = z
        self.n = codes.shape[0]
        self.log_n = np.log(max(self.n, 2))
        self._cache: dict[tuple[int, tuple[int, ...]], float] = {}

    def __call__(self, child: int, parents: tuple[int, ...]) -> float:
        key = (child, tuple(sorted(parents)))
        if key not in self._cache:
            if self.encodings[child].kind == "categorical":
                self._cache[key] = self._categorical(child, key[1])
            else:
                self._cache[key] = self._numeric(child, key[1])
        return self._cache[key]

    def _categorical(self, child: int, parents: tuple[int, ...]) -> float:
        enc = self.encodings[child]
        cfg = np.zeros(self.n, dtype=np.int64)
        n_cfg = 1
        for p in parents:
            pmap = parent_state_map(enc, self.encodings[p])
            cfg = cfg * parent_states(enc, self.encodings[p]) + pmap[self.codes[:, p]]
            n_cfg *= parent_states(enc, self.encodings[p])
        k = enc.n_states
        counts = np.bincount(cfg * k + self.codes[:, child], minlength=n_cfg * k)
        counts = counts.reshape(n_cfg, k).astype(np.float64)
        totals = counts.sum(axis=1, keepdims=True)
        nz = counts > 0
        loglik = float(np.sum(counts[nz] * np.log((counts / np.maximum(totals, 1))[nz])))
        return loglik - 0.5 * self.log_n * (k - 1) * n_cfg

    def _numeric(self, child: int, parents: tuple[int, ...]) -> float:
        z = self.z[child]
        ok = ~np.isnan(z)
        m = int(ok.sum())
        if m < 3:
            return 0.0
        design = numeric_design(self.codes[ok], self.encodings, parents)
        coef, *_ = np.linalg.lstsq(design, z[ok], rcond=None)
        resid = z[ok] - design @ coef
        sigma2 = max(float(resid @ resid) / m, 1e-6)
        loglik = -0.5 * m * (np.log(2 * np.pi * sigma2) + 1.0)
        return loglik - 0.5 * np.log(max(m, 2)) * (design.shape[1] - 1)


def numeric_design(codes: np.ndarray, encodings: list[NodeEncoding], parents) -> np.ndarray:
    """Intercept plus the parents' features for each row."""
    blocks = [np.ones((codes.shape[0], 1))]
    for p in parents:
        blocks.append(parent_features(encodings[p])[codes[:, p]])
    return np.hstack(blocks)
