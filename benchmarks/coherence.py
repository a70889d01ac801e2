"""Ground-truth coherence of a conditioned generation, on the quickstart's known generator.

The contract quickstart's data-generating process (``engine.datasets.quickstart_frame``) is
known, so the *true* distribution of its scenario is computable: draw the generator at a
large n, keep the rows inside the scenario's numeric ranges, and rake them (iterative
proportional fitting) to the scenario's target shares. Raking is the least-change answer:
among the distributions with the target margins it is the one closest (in KL) to the
in-range population, so every association the targets do not fix -- how segment and
channel combine, how intent and age go with each -- is the population's own.

A method's output is then scored by total variation distance (TVD) to that weighted
truth: per column, per pair of columns, and on the joint cell of segment x channel x age
band x intent band (54 cells, the protocol of tests/engine/sampling/test_coherence.py).
Numerics are compared in bands (``BANDS``): every distance here is a TVD between two
frequency tables, in [0, 1], 0 meaning identical.

Two baselines a user might reach for without a model:

* ``raked_seed_rows`` -- the seed's own rows inside the ranges (17 of the 800), raked to the
  targets and resampled;
* ``independent_columns`` -- each column on its own: the target shares for the conditioned
  categoricals, the seed's in-range values for the ranged numerics, the seed's marginal for
  the rest.

``truth_resample`` draws rows from the truth itself: its distance is the sampling-noise
floor of an n-row output, the best any method can score.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from itertools import combinations

import numpy as np
import pandas as pd

from engine.datasets import QUICKSTART_SCENARIO, quickstart_frame

CONDITIONS = QUICKSTART_SCENARIO["conditions"]
COLUMNS = ("age", "segment", "channel", "region", "purchase_intent")

# Band edges (left-closed, right-open) for the ranged numerics, within the scenario ranges:
# age 25-29, 30-34, 35-39, 40-44; purchase_intent 70-74, ..., 90-94, 95-100.
BANDS = {"age": [25, 30, 35, 40, 45], "purchase_intent": [70, 75, 80, 85, 90, 95, 101]}
# The joint cell of the original protocol: age 25-34 / 35-44; intent 70-79 / 80-89 / 90-100.
JOINT_BANDS = {"age": [25, 35, 45], "purchase_intent": [70, 80, 90, 101]}
JOINT_COLUMNS = ("segment", "channel", "age", "purchase_intent")


@dataclass
class Weighted:
    """Rows with probability weights (summing to 1): an empirical distribution."""

    frame: pd.DataFrame
    weights: np.ndarray

    @property
    def effective_rows(self) -> float:
        """Kish's effective sample size, 1 / sum(w^2): how many equally weighted rows
        carry as much information as these weighted ones."""
        return float(1.0 / np.square(self.weights).sum())

    def sample(self, n: int, rng: np.random.Generator) -> pd.DataFrame:
        rows = rng.choice(len(self.frame), size=n, p=self.weights)
        return self.frame.iloc[rows].reset_index(drop=True)


@dataclass
class CoherenceScore:
    """TVD to the truth: per column, per pair, on the joint cell, and their summaries."""

    columns: dict[str, float]
    pairs: dict[tuple[str, str], float]
    joint: float
    rows: int
    in_ranges: float                 # share of the method's rows inside the numeric ranges
    extra: dict = field(default_factory=dict)

    @property
    def mean_column(self) -> float:
        return float(np.mean(list(self.columns.values())))

    @property
    def mean_pair(self) -> float:
        return float(np.mean(list(self.pairs.values())))

    @property
    def max_pair(self) -> float:
        return float(max(self.pairs.values()))

    def to_dict(self) -> dict:
        return {"rows": self.rows, "in_ranges": self.in_ranges, "joint_tvd": self.joint,
                "mean_column_tvd": self.mean_column, "mean_pair_tvd": self.mean_pair,
                "max_pair_tvd": self.max_pair, "columns": dict(self.columns),
                "pairs": {f"{a} x {b}": v for (a, b), v in self.pairs.items()}, **self.extra}


# -- the scenario --------------------------------------------------------------------------

def in_ranges(frame: pd.DataFrame, conditions: dict = CONDITIONS) -> np.ndarray:
    """Rows inside every numeric range of the scenario (missing is outside)."""
    inside = np.ones(len(frame), dtype=bool)
    for col, bounds in (conditions.get("numeric") or {}).items():
        x = pd.to_numeric(frame[col]).to_numpy(dtype="float64", na_value=np.nan)
        ok = ~np.isnan(x)
        if bounds.get("min") is not None:
            ok &= x >= bounds["min"]
        if bounds.get("max") is not None:
            ok &= x <= bounds["max"]
        inside &= ok
    return inside


def rake(frame: pd.DataFrame, targets: dict | None = None, iterations: int = 200,
         weights: np.ndarray | None = None) -> np.ndarray:
    """IPF weights (sum 1) giving the frame the target shares of every conditioned column,
    starting from ``weights`` (default: every row equal).

    A level with no rows cannot be raised; its target mass is then spread over the others.
    """
    targets = CONDITIONS["categorical"] if targets is None else targets
    weights = np.ones(len(frame)) if weights is None else np.array(weights, dtype=float)
    columns = {name: frame[name].astype(str).to_numpy() for name in targets}
    masks = {name: {level: columns[name] == level for level in shares}
             for name, shares in targets.items()}
    for _ in range(iterations):
        for name, shares in targets.items():
            for level, share in shares.items():
                mask = masks[name][level]
                have = weights[mask].sum()
                if have > 0:
                    weights[mask] *= share * weights.sum() / have
    return weights / weights.sum()


@lru_cache(maxsize=4)
def truth_distribution(n: int = 400_000, seed: int = 101) -> Weighted:
    """The scenario's true distribution: ``n`` generator rows, in-range, raked to targets.

    Cached: callers must not modify the returned frame or weights.
    """
    population = quickstart_frame(n=n, seed=seed)
    inside = population[in_ranges(population)].reset_index(drop=True)
    if len(inside) < 100:
        raise ValueError(f"only {len(inside)} of {n} generator rows fall inside the ranges; "
                         "draw more")
    return Weighted(inside, rake(inside))


def exact_truth() -> Weighted:
    """The scenario's true distribution computed analytically, not by Monte Carlo.

    The quickstart generator is: age uniform on 18..65, segment / channel / region drawn
    independently, intent = clip(round(m + N(0, 10)), 0, 100) with m a known function of
    segment, channel and age. So every (age, segment, channel, region, intent) cell inside
    the ranges has an exact probability (normal CDF between the rounding edges; the clip
    puts the whole upper tail on 100); the raking to the targets is then done on that
    exact cell table. The frame has one row per cell, the weights are the cell masses.
    """
    from scipy.special import ndtr

    from engine.datasets import CHANNEL_LEVELS, REGION_LEVELS, SEGMENT_LEVELS

    seg_p = dict(zip(SEGMENT_LEVELS, [0.35, 0.45, 0.20]))
    ch_p = dict(zip(CHANNEL_LEVELS, [0.50, 0.35, 0.15]))
    a_lo, a_hi = CONDITIONS["numeric"]["age"]["min"], CONDITIONS["numeric"]["age"]["max"]
    i_lo = CONDITIONS["numeric"]["purchase_intent"]["min"]
    i_hi = CONDITIONS["numeric"]["purchase_intent"]["max"]
    ages = np.arange(a_lo, a_hi + 1)
    intents = np.arange(i_lo, i_hi + 1)
    upper = np.where(intents >= 100, np.inf, intents + 0.5)
    rows, weights = [], []
    for seg, ps in seg_p.items():
        for ch, pc in ch_p.items():
            for age in ages:
                m = (42.0 + 18.0 * (seg == "Premium") + 8.0 * (ch == "Online")
                     + float(np.clip((age - 35) / 3, -8, 8)))
                p_int = ndtr((upper - m) / 10.0) - ndtr((intents - 0.5 - m) / 10.0)
                for region in REGION_LEVELS:
                    base = ps * pc / 48.0 / len(REGION_LEVELS)
                    rows += [(int(age), seg, ch, region, int(k)) for k in intents]
                    weights.append(base * p_int)
    frame = pd.DataFrame(rows, columns=list(COLUMNS))
    w = np.concatenate(weights)
    w = w / w.sum()
    return Weighted(frame, rake(frame, weights=w))


# -- baselines -----------------------------------------------------------------------------

def raked_seed_rows(seed_frame: pd.DataFrame, n: int, rng: np.random.Generator,
                    conditions: dict = CONDITIONS) -> pd.DataFrame:
    """Baseline 1: the seed's in-range rows, raked to the targets, resampled to n rows."""
    inside = seed_frame[in_ranges(seed_frame, conditions)].reset_index(drop=True)
    if inside.empty:
        raise ValueError("no seed row lies inside the scenario ranges")
    return Weighted(inside, rake(inside, conditions.get("categorical") or {})).sample(n, rng)


def independent_columns(seed_frame: pd.DataFrame, n: int, rng: np.random.Generator,
                        conditions: dict = CONDITIONS) -> pd.DataFrame:
    """Baseline 2: every column drawn on its own (targets, in-range seed values, marginals)."""
    targets = conditions.get("categorical") or {}
    ranges = conditions.get("numeric") or {}
    out = {}
    for col in seed_frame.columns:
        if col in targets:
            levels = list(targets[col])
            p = np.array([targets[col][lv] for lv in levels], dtype=float)
            out[col] = rng.choice(np.array(levels, dtype=object), n, p=p / p.sum())
            continue
        values = seed_frame[col]
        if col in ranges:
            values = values[in_ranges(seed_frame[[col]], {"numeric": {col: ranges[col]}})]
        out[col] = rng.choice(values.to_numpy(), n)
    return pd.DataFrame(out)


def truth_resample(truth: Weighted, n: int, rng: np.random.Generator) -> pd.DataFrame:
    """n rows drawn from the truth itself: the sampling-noise floor of an n-row output."""
    return truth.sample(n, rng)


# -- distances -----------------------------------------------------------------------------

def _labels(frame: pd.DataFrame, col: str, bands: dict) -> np.ndarray:
    """A column as text labels; banded numerics become their band (out of bands: "out")."""
    if col not in frame.columns:
        return np.full(len(frame), "(absent)", dtype=object)
    if col in bands:
        edges = np.asarray(bands[col], dtype=float)
        x = pd.to_numeric(frame[col]).to_numpy(dtype="float64", na_value=np.nan)
        idx = np.searchsorted(edges, x, side="right") - 1
        names = np.array([f"[{edges[i]:g},{edges[i + 1]:g})" for i in range(len(edges) - 1)]
                         + ["out"], dtype=object)
        idx = np.where((idx < 0) | (idx >= len(edges) - 1) | np.isnan(x), len(edges) - 1, idx)
        return names[idx]
    return frame[col].astype(object).where(frame[col].notna(), "(missing)").astype(str) \
        .to_numpy(dtype=object)


def _table(frame: pd.DataFrame, cols, bands: dict, weights=None) -> pd.Series:
    if len(frame) == 0:
        return pd.Series(dtype=float)
    key = _labels(frame, cols[0], bands)
    for col in cols[1:]:
        key = key + "|" + _labels(frame, col, bands)
    w = np.full(len(frame), 1.0 / len(frame)) if weights is None else np.asarray(weights)
    return pd.Series(w).groupby(key).sum()


def tvd(p: pd.Series, q: pd.Series) -> float:
    """Total variation distance between two probability tables indexed by cell label."""
    index = p.index.union(q.index)
    d = 0.5 * float((p.reindex(index, fill_value=0.0) - q.reindex(index, fill_value=0.0))
                    .abs().sum())
    return round(d, 12)            # identical tables: 0, not float rounding residue


def coherence(frame: pd.DataFrame, truth: Weighted, *, columns=COLUMNS, bands=None,
              joint_columns=JOINT_COLUMNS, joint_bands=None,
              conditions: dict = CONDITIONS) -> CoherenceScore:
    """TVD between ``frame`` (unweighted rows) and the weighted truth.

    Rows outside the numeric ranges land in an "out" band that the truth never has, so a
    method that misses the ranges pays for it in every distance involving that column.
    """
    bands = BANDS if bands is None else bands
    joint_bands = JOINT_BANDS if joint_bands is None else joint_bands
    columns = list(columns)

    def dist(cols, b):
        return tvd(_table(frame, cols, b), _table(truth.frame, cols, b, truth.weights))

    per_col = {c: dist([c], bands) for c in columns}
    pairs = {(a, b): dist([a, b], bands) for a, b in combinations(columns, 2)}
    joint = dist(list(joint_columns), joint_bands)
    share_in = float(in_ranges(frame, conditions).mean()) if len(frame) else 0.0
    return CoherenceScore(per_col, pairs, joint, len(frame), share_in)


def noise_floor(cells: int, n: int) -> float:
    """Expected TVD of an n-row sample from its own distribution, upper bound over
    ``cells`` cells: 0.5 * sqrt(cells / n) * sqrt(2 / pi)."""
    return 0.5 * float(np.sqrt(cells / n) * np.sqrt(2 / np.pi))


# -- the whole protocol --------------------------------------------------------------------

def ours(seed_frame: pd.DataFrame, n: int, seed: int = 5,
         conditions: dict = CONDITIONS) -> pd.DataFrame:
    """Our conditioned output: fit on the seed, sample n rows under the scenario."""
    from engine.synthesizer import Synthesizer

    return Synthesizer().fit(seed_frame).sample(n, seed=seed, conditions=conditions)


def seed_sweep(seeds=range(10), rows: int = 20_000, seed_rows: int = 800) -> dict:
    """The 54-cell joint TVD of ours to the exact truth, one fit per 800-row seed."""
    truth = exact_truth()
    joint = {}
    for s in seeds:
        out = ours(quickstart_frame(seed_rows, seed=int(s)), rows, seed=5)
        joint[int(s)] = coherence(out, truth).joint
    values = np.array(list(joint.values()))
    return {"joint_by_seed": joint, "mean": float(values.mean()), "sd": float(values.std()),
            "max": float(values.max()), "min": float(values.min())}


def run_protocol(rows: int = 20_000, *, truth_rows: int = 400_000, truth_seed: int = 101,
                 seed_frame: pd.DataFrame | None = None, seed: int = 1,
                 extra: dict[str, pd.DataFrame] | None = None) -> dict[str, CoherenceScore]:
    """Score ours, both baselines, any ``extra`` outputs and the truth's own noise floor.

    Returns {method: CoherenceScore}, keys "ours", "raked seed rows", "independent
    columns", then ``extra``'s, then "truth resample (noise floor)".
    """
    seed_frame = quickstart_frame() if seed_frame is None else seed_frame
    truth = truth_distribution(truth_rows, truth_seed)
    rng = np.random.default_rng(seed)
    outputs = {"ours": ours(seed_frame, rows, seed=seed + 4),
               "raked seed rows": raked_seed_rows(seed_frame, rows, rng),
               "independent columns": independent_columns(seed_frame, rows, rng)}
    outputs.update(extra or {})
    outputs["truth resample (noise floor)"] = truth_resample(truth, rows, rng)
    return {name: coherence(frame, truth) for name, frame in outputs.items()}


def summary_rows(scores: dict[str, CoherenceScore]) -> list[list]:
    """One row per method: joint, mean column, mean pair, max pair, segment x channel."""
    rows = []
    for name, s in scores.items():
        rows.append([name, s.rows, s.in_ranges, s.joint, s.mean_column, s.mean_pair,
                     s.max_pair, s.pairs.get(("segment", "channel"), float("nan"))])
    return rows


SUMMARY_HEADERS = ["method", "rows", "share in ranges", "joint TVD (54 cells)",
                   "mean column TVD", "mean pair TVD", "max pair TVD", "segment x channel TVD"]
