"""How low can the DCR share go on a small table? (issue 11: DCR share <= 0.55)

    python3 benchmarks/bench_dcr_floor.py [--reps 6]     (the correlated table: min(reps, 4))

Independent standard-normal columns (3 decimals), 100 train rows and 100 holdout rows, d
columns. Three synthetic sources of 5,000 rows, each scored with ``dcr_share(train,
holdout, synth)``:

- population: fresh draws of the true distribution (what a perfect model would give);
- product KDE: each column drawn from its own Gaussian kernel density of the train rows
  (Silverman's bandwidth), independently: the textbook estimator, with the true structure;
- engine: ``Synthesizer(max_parents=0)``, the engine's marginals with the true
  (independent) structure, and ``Synthesizer()``, the full model.

The excess of an estimator over the population row is what fitting on 100 rows costs under
this metric, before any dependence is modelled.

A second table does the same for dependent columns: equicorrelated normal columns
(correlation r between every pair), where the reference estimator is the true family
itself, a multivariate normal fitted by maximum likelihood to the 100 train rows (its mean
vector and covariance matrix): no estimator of this data can know more than that. Its
excess over the population row is what any fitted model pays on 100 rows under this
metric; the engine's row beside it is the full model.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import _common as C  # noqa: E402

N_TRAIN = 100
N_SYNTH = 5000


def _frames(d: int, rep: int):
    rng = np.random.default_rng(rep)
    full = pd.DataFrame(rng.normal(size=(2 * N_TRAIN, d)).round(3),
                        columns=[f"x{i}" for i in range(d)])
    return (full.iloc[:N_TRAIN].reset_index(drop=True),
            full.iloc[N_TRAIN:].reset_index(drop=True), rng)


def _product_kde(train: pd.DataFrame, rng) -> pd.DataFrame:
    x = train.to_numpy()
    h = 0.9 * x.std(axis=0) * len(x) ** -0.2
    rows = rng.integers(0, len(x), size=(N_SYNTH, x.shape[1]))
    out = x[rows, np.arange(x.shape[1])] + h * rng.normal(size=(N_SYNTH, x.shape[1]))
    return pd.DataFrame(out.round(3), columns=train.columns)


def run(reps: int = 6, dims=(1, 4, 10)) -> list[dict]:
    from engine import Synthesizer
    from engine.quality import dcr_share
    out = []
    for d in dims:
        scores: dict[str, list[float]] = {"population": [], "product KDE": [],
                                          "engine, independent": [], "engine": []}
        for rep in range(reps):
            train, holdout, rng = _frames(d, rep)
            pop = pd.DataFrame(rng.normal(size=(N_SYNTH, d)).round(3), columns=train.columns)
            sources = {"population": pop, "product KDE": _product_kde(train, rng),
                       "engine, independent": Synthesizer(max_parents=0).fit(train)
                       .sample(N_SYNTH, seed=rep),
                       "engine": Synthesizer().fit(train).sample(N_SYNTH, seed=rep)}
            for name, synth in sources.items():
                scores[name].append(dcr_share(train, holdout, synth))
        out.append({"columns": d, **{k: float(np.mean(v)) for k, v in scores.items()}})
    return out


def _correlated(r: float, d: int, rep: int):
    rng = np.random.default_rng(rep)
    cov = np.full((d, d), r) + (1.0 - r) * np.eye(d)
    cols = [f"x{i}" for i in range(d)]

    def draw(n):
        return pd.DataFrame(rng.multivariate_normal(np.zeros(d), cov, n).round(3), columns=cols)
    full = draw(2 * N_TRAIN)
    return (full.iloc[:N_TRAIN].reset_index(drop=True),
            full.iloc[N_TRAIN:].reset_index(drop=True), draw(N_SYNTH), rng)


def _normal_fitted(train: pd.DataFrame, rng) -> pd.DataFrame:
    x = train.to_numpy()
    out = rng.multivariate_normal(x.mean(axis=0), np.cov(x, rowvar=False), N_SYNTH)
    return pd.DataFrame(out.round(3), columns=train.columns)


def run_correlated(reps: int = 4, settings=((0.0, 10), (0.5, 4), (0.5, 10), (0.8, 4),
                                            (0.8, 10))) -> list[dict]:
    from engine import Synthesizer
    from engine.quality import dcr_share
    out = []
    for r, d in settings:
        scores: dict[str, list[float]] = {"population": [], "normal fitted (true family)": [],
                                          "engine": []}
        for rep in range(reps):
            train, holdout, pop, rng = _correlated(r, d, rep)
            sources = {"population": pop, "normal fitted (true family)": _normal_fitted(train, rng),
                       "engine": Synthesizer().fit(train).sample(N_SYNTH, seed=rep)}
            for name, synth in sources.items():
                scores[name].append(dcr_share(train, holdout, synth))
        out.append({"r": r, "columns": d, **{k: float(np.mean(v)) for k, v in scores.items()}})
    return out


def markdown_correlated(rows: list[dict], reps: int) -> str:
    keys = ["population", "normal fitted (true family)", "engine"]
    return "\n".join([f"DCR share, {N_TRAIN} train / {N_TRAIN} holdout rows of equicorrelated "
                      f"normal columns, mean of {reps} seeds:", "",
                      C.md_table(["r", "columns"] + keys,
                                 [[r["r"], r["columns"]] + [r[k] for k in keys] for r in rows])])


def markdown(rows: list[dict], reps: int) -> str:
    keys = ["population", "product KDE", "engine, independent", "engine"]
    return "\n".join([f"DCR share, {N_TRAIN} train / {N_TRAIN} holdout rows of independent "
                      f"normal columns, mean of {reps} seeds:", "",
                      C.md_table(["columns"] + keys, [[r["columns"]] + [r[k] for k in keys]
                                                      for r in rows])])


if __name__ == "__main__":
    n = int(sys.argv[sys.argv.index("--reps") + 1]) if "--reps" in sys.argv else 6
    C.warm_engine()
    print(markdown(run(n), n))
    print()
    n_corr = min(n, 4)
    print(markdown_correlated(run_correlated(n_corr), n_corr))
