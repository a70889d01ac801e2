"""A self-contained HTML quality report: real vs synthetic, and the scenario if one was given.

``build_report(real, synthetic, scenario=...)`` returns one HTML document that a person can
open anywhere, offline: every figure is a PNG inlined as a ``data:`` URI, the style sheet
is inline, and the page references nothing outside itself (no scripts, fonts, links).

Contents: with a scenario, first what a scenario user asks (rows generated, target vs
achieved shares, numeric ranges held, and the fidelity of the columns and pairs the
scenario does not name); the scores (``quality_report``'s overall, column-shape and
pair-trend scores, and the exact-copy rate; under a scenario shown as how far it moved the
data, not graded), one distribution plot per column (histogram overlay for numerics,
side-by-side share bars for categoricals), a heatmap of the per-pair association
difference (1 - pair-trend similarity: |r_real - r_synth| / 2 for two numerics, the TVD of
the joint table otherwise), and -- with a scenario -- target vs achieved share bars per
conditioned column and the numeric range violations (``conditioning_report``).

Figures are drawn with matplotlib's object API on Agg canvases, never pyplot, so building a
report changes no global backend or figure state.
"""

from __future__ import annotations

import base64
import html
import io
import math
import threading

import numpy as np
import pandas as pd

from engine.errors import SimioError
from engine.generation_request import as_body, check_fields, check_row_count, conditions_shape
from engine.quality.conditioning import conditioning_report, observed_support, support_warning
from engine.quality.dates import dates_as_days
from engine.quality.metrics import _floats, infer_kind, quality_report
from engine.quality.privacy import exact_copy_rate

DEFAULT_TITLE = "Synthetic data quality report"
REAL_COLOR = "#4C72B0"
SYNTH_COLOR = "#DD8452"
TARGET_COLOR = "#55A868"
SEED_COLOR = "#B0B0B0"
MAX_LEVELS = 20          # categorical bars: the most frequent levels, the rest as "(other)"
HIST_BINS = 30
ANNOTATE_MAX = 15        # heatmap cells are labelled with their value up to this many columns
DPI = 96

# matplotlib's text layout and font cache are not guaranteed thread-safe; reports are rare
# and small, so one at a time.
_RENDER_LOCK = threading.Lock()


def build_report(real: pd.DataFrame, synthetic: pd.DataFrame, *, scenario: dict | None = None,
                 title: str = DEFAULT_TITLE, kinds: dict[str, str] | None = None) -> str:
    """The HTML report comparing ``synthetic`` with ``real`` (a str holding the document).

    ``scenario``: a conditions object ({"categorical": ..., "numeric": ...}) or a whole
    generation request body (with "conditions" and optionally "row_count"). ``kinds``
    overrides inferred column kinds ("numeric" / "categorical"), as in ``quality_report``.
    Raises ``SimioError`` for tables that cannot be compared or a malformed scenario.
    """
    if not isinstance(real, pd.DataFrame) or not isinstance(synthetic, pd.DataFrame):
        raise TypeError("build_report takes two pandas DataFrames")
    real = real.rename(columns=str)
    synthetic = synthetic.rename(columns=str)
    real, synthetic, scenario = dates_as_days(real, synthetic, scenario)   # ISO date ranges
    shared = [c for c in real.columns if c in synthetic.columns]
    if not shared:
        raise SimioError("simio_invalid_field",
                         "the real and synthetic tables share no column names, so there is "
                         "nothing to compare")
    kinds = {str(k): v for k, v in (kinds or {}).items()}
    kmap = {c: kinds.get(c) or infer_kind(real[c]) for c in shared}
    bad = {c: k for c, k in kmap.items() if k not in ("numeric", "categorical")}
    if bad:
        raise SimioError("simio_invalid_field", f"unknown column kinds {bad}; use numeric or "
                                                "categorical")
    synthetic = _align_numeric(synthetic, real, kmap)
    conditions, rows_requested = _scenario_parts(scenario, real, synthetic)

    quality = quality_report(real[shared], synthetic[shared], kmap)
    copies = exact_copy_rate(real[shared], synthetic[shared]) if len(real) else float("nan")
    cond = (conditioning_report(synthetic, conditions, rows_requested)
            if conditions is not None else None)
    if cond is not None:                 # scenario support (issue 13)
        cond["support"] = observed_support(real, synthetic, conditions)

    with _RENDER_LOCK:
        import matplotlib
        with matplotlib.rc_context(_RC):
            column_figs = [(c, _column_figure(c, real, synthetic, kmap, conditions))
                           for c in _all_columns(real, synthetic)]
            heatmap = _heatmap_figure(shared, quality.pair_trends) if len(shared) > 1 else None
            share_figs = ([(c, _share_figure(c, real, cond["categorical"][c]))
                           for c in cond["categorical"]] if cond else [])

    # A scenario user first wants to know whether the scenario was met and what it left
    # alone, so that leads; the scores against the whole seed follow, explained.
    parts = [_HEAD.format(title=html.escape(title)), f"<h1>{html.escape(title)}</h1>"]
    if cond is not None:
        parts.append(_scenario_lead(cond, quality, conditions, shared))
    parts.append(_summary_section(real, synthetic, shared, quality, copies, cond))
    parts.append(_toc(cond is not None, heatmap is not None))
    if cond is not None:
        parts.append(_scenario_section(cond, share_figs))
    parts.append(_columns_section(column_figs, kmap, quality, real, synthetic, conditions))
    if heatmap is not None:
        parts.append(_pairs_section(heatmap, quality.pair_trends))
    parts.append(_FOOT)
    return "\n".join(parts)


# -- inputs --------------------------------------------------------------------------------

def _align_numeric(synth: pd.DataFrame, real: pd.DataFrame, kmap: dict) -> pd.DataFrame:
    """Synthetic columns that are numeric in the real table but text here (a CSV quirk, a
    stray token) are compared as numbers; what does not parse counts as missing."""
    out = synth
    for col, kind in kmap.items():
        if kind == "numeric" and not (pd.api.types.is_numeric_dtype(synth[col].dtype)
                                      and not pd.api.types.is_bool_dtype(synth[col].dtype)):
            if out is synth:
                out = synth.copy()
            out[col] = pd.to_numeric(synth[col], errors="coerce")
        if kind == "numeric" and not pd.api.types.is_numeric_dtype(real[col].dtype):
            raise SimioError("simio_invalid_field",
                             f"column {col!r} is text in the real table; it cannot be "
                             "compared as numeric")
    return out


def _scenario_parts(scenario, real: pd.DataFrame, synthetic: pd.DataFrame):
    """(conditions, rows_requested) from a conditions object or a request body."""
    if scenario is None:
        return None, None
    body = as_body(scenario)               # the one request rule (engine.generation_request)
    check_fields(body)
    conditions = body.get("conditions")
    conditions_shape(conditions)
    rows = body.get("row_count")
    categorical = (conditions or {}).get("categorical") or {}
    numeric = (conditions or {}).get("numeric") or {}
    for col in list(categorical) + list(numeric):
        if col not in synthetic.columns and col not in real.columns:
            raise SimioError("simio_unknown_condition_column",
                             f"scenario column {col!r} is in neither the real nor the "
                             "synthetic table")
    for col, shares in categorical.items():
        if not isinstance(shares, dict) or not all(_is_number(v) for v in shares.values()):
            raise SimioError("simio_invalid_share", f"conditions.categorical.{col} must map "
                             "levels to numeric shares")
    for col, bounds in numeric.items():
        if (not isinstance(bounds, dict) or "min" not in bounds or "max" not in bounds
                or not all(_is_number(v) for v in bounds.values())):
            raise SimioError("simio_invalid_range", f"conditions.numeric.{col} must be "
                             "{\"min\": number, \"max\": number} (ranges are bilateral)")
    rows = len(synthetic) if rows is None else check_row_count(rows)
    return {"categorical": categorical, "numeric": numeric}, rows


def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _all_columns(real: pd.DataFrame, synthetic: pd.DataFrame) -> list[str]:
    return list(real.columns) + [c for c in synthetic.columns if c not in real.columns]


# -- figures -------------------------------------------------------------------------------

_RC = {"font.size": 8, "axes.titlesize": 9, "axes.labelsize": 8, "xtick.labelsize": 7,
       "ytick.labelsize": 7, "legend.fontsize": 7, "axes.spines.top": False,
       "axes.spines.right": False, "figure.dpi": DPI, "savefig.dpi": DPI,
       "font.family": "DejaVu Sans"}


def _figure(width: float, height: float, layout: str | None = None):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout=layout)
    FigureCanvasAgg(fig)
    return fig


def _legend(fig, ax, ncols: int) -> None:
    # Above the axes, right-aligned (fixed margins: constrained layout would double the
    # drawing time of these small figures).
    if ax.get_legend_handles_labels()[0]:
        fig.legend(loc="upper right", bbox_to_anchor=(0.99, 1.0), ncols=ncols, frameon=False)


def _png(fig) -> str:
    """The figure as a base64 PNG data URI (no metadata: byte-identical on every run)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", metadata={"Software": None})
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _short(label, width: int = 18) -> str:
    text = str(label)
    return text if len(text) <= width else text[: width - 1] + "\u2026"


def _column_figure(col: str, real: pd.DataFrame, synth: pd.DataFrame, kmap: dict,
                   conditions: dict | None) -> str:
    kind = kmap.get(col) or infer_kind(real[col] if col in real.columns else synth[col])
    sides = [(name, frame[col], color) for name, frame, color in
             (("real", real, REAL_COLOR), ("synthetic", synth, SYNTH_COLOR))
             if col in frame.columns]
    fig = _figure(4.6, 2.9)
    ax = fig.add_subplot()
    if kind == "numeric":
        _histograms(ax, sides)
        bounds = ((conditions or {}).get("numeric") or {}).get(col)
        for key in ("min", "max"):
            if bounds and bounds.get(key) is not None:
                ax.axvline(bounds[key], color="#333333", linestyle="--", linewidth=1)
        ax.set_ylabel("share of rows")
    else:
        _category_bars(ax, sides)
        ax.set_ylabel("share of rows")
    ax.set_title(_short(col, 48), loc="left")
    _legend(fig, ax, 2)
    fig.subplots_adjust(left=0.14, right=0.98, top=0.84,
                        bottom=0.27 if _rotated(ax) else 0.12)
    return _png(fig)


def _histograms(ax, sides) -> None:
    values = [(name, _floats(s), color) for name, s, color in sides]
    finite = [v[np.isfinite(v)] for _, v, _ in values]
    pooled = np.concatenate(finite) if finite else np.empty(0)
    if pooled.size == 0:
        ax.text(0.5, 0.5, "no non-missing values", ha="center", va="center",
                transform=ax.transAxes)
        return
    lo, hi = np.quantile(pooled, [0.005, 0.995])
    integral = bool(np.all(pooled == np.round(pooled)))
    if integral and hi > lo:
        # Whole-number bins of equal width: fractional edges would alias (some bins
        # catching one more integer than others shows as a comb).
        width = max(1.0, math.ceil((hi - lo + 1) / 40))
        edges = np.arange(np.floor(lo) - 0.5, np.ceil(hi) + 0.5 + width, width)
        edges = edges[: int(np.searchsorted(edges, hi + 0.5, side="left")) + 1]
    elif hi > lo:
        edges = np.linspace(lo, hi, HIST_BINS + 1)
    else:
        edges = np.array([lo - 0.5, lo + 0.5])
    for i, ((name, _, color), x) in enumerate(zip(values, finite)):
        if x.size == 0:
            continue
        # Tails beyond the 0.5-99.5th percentiles are folded into the end bins.
        counts, _ = np.histogram(np.clip(x, edges[0], edges[-1]), bins=edges)
        share = counts / x.size
        if i == 0:
            ax.stairs(share, edges, fill=True, color=color, alpha=0.45, label=name)
        else:
            ax.stairs(share, edges, color=color, linewidth=1.6, label=name)
    ax.set_ylim(bottom=0)


def _level_labels(series: pd.Series) -> pd.Series:
    return series.astype(object).where(series.notna(), "(missing)").map(str)


def _category_bars(ax, sides) -> None:
    shares = {name: _level_labels(s).value_counts(normalize=True) for name, s, _ in sides}
    first = next(iter(shares.values()))
    order = list(first.index)
    for other in list(shares.values())[1:]:
        order += [lv for lv in other.index if lv not in set(order)]
    shown, rest = order[:MAX_LEVELS], order[MAX_LEVELS:]
    labels = [_short(lv) for lv in shown] + ([f"(other {len(rest)})"] if rest else [])
    x = np.arange(len(labels))
    width = 0.8 / max(len(sides), 1)
    for i, (name, _, color) in enumerate(sides):
        s = shares[name]
        heights = [float(s.get(lv, 0.0)) for lv in shown]
        if rest:
            heights.append(float(s.reindex(rest, fill_value=0.0).sum()))
        ax.bar(x + (i - (len(sides) - 1) / 2) * width, heights, width, color=color, label=name)
    ax.set_xticks(x, labels, rotation=35 if len(labels) > 4 else 0,
                  ha="right" if len(labels) > 4 else "center")


def _rotated(ax) -> bool:
    return any(t.get_rotation() for t in ax.get_xticklabels())


def _heatmap_figure(cols: list[str], trends: dict) -> str:
    k = len(cols)
    diff = np.full((k, k), np.nan)
    index = {c: i for i, c in enumerate(cols)}
    for (a, b), score in trends.items():
        diff[index[a], index[b]] = diff[index[b], index[a]] = 1.0 - score
    side = min(max(3.2, 0.42 * k + 1.6), 14.0)
    fig = _figure(side + 1.0, side, layout="constrained")
    ax = fig.add_subplot()
    vmax = max(0.2, float(np.nanmax(diff)) if np.isfinite(diff).any() else 0.2)
    image = ax.imshow(np.ma.masked_invalid(diff), cmap="Reds", vmin=0.0, vmax=vmax)
    labels = [_short(c, 16) for c in cols]
    ax.set_xticks(range(k), labels, rotation=45, ha="right")
    ax.set_yticks(range(k), labels)
    ax.spines[:].set_visible(False)
    if k <= ANNOTATE_MAX:
        for i in range(k):
            for j in range(k):
                if i != j and np.isfinite(diff[i, j]):
                    ax.text(j, i, f"{diff[i, j]:.3f}", ha="center", va="center", fontsize=6.5,
                            color="white" if diff[i, j] > 0.6 * vmax else "black")
    fig.colorbar(image, ax=ax, shrink=0.8, label="|association(real) - association(synth)|")
    return _png(fig)


def _share_figure(col: str, real: pd.DataFrame, levels: dict) -> str:
    names = list(levels)
    seed = (_level_labels(real[col]).value_counts(normalize=True)
            if col in real.columns else pd.Series(dtype=float))
    bars = [("seed (real)", [float(seed.get(str(lv), 0.0)) for lv in names], SEED_COLOR),
            ("target", [levels[lv]["target_share"] for lv in names], TARGET_COLOR),
            ("achieved", [levels[lv]["achieved_share"] for lv in names], SYNTH_COLOR)]
    fig = _figure(max(3.6, 0.9 * len(names) + 1.6), 2.8)
    ax = fig.add_subplot()
    x = np.arange(len(names))
    width = 0.26
    for i, (label, heights, color) in enumerate(bars):
        ax.bar(x + (i - 1) * width, heights, width, color=color, label=label)
    ax.set_xticks(x, [_short(n) for n in names], rotation=35 if len(names) > 4 else 0,
                  ha="right" if len(names) > 4 else "center")
    ax.set_ylabel("share of rows")
    ax.set_title(f"{_short(col, 40)}: target vs achieved", loc="left")
    _legend(fig, ax, 3)
    fig.subplots_adjust(left=0.6 / fig.get_figwidth() + 0.06, right=0.98, top=0.80,
                        bottom=0.27 if _rotated(ax) else 0.12)
    return _png(fig)


# -- HTML ----------------------------------------------------------------------------------

def _esc(value) -> str:
    return html.escape(str(value), quote=True)


def _fmt(value, digits: int = 3) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return "n/a" if math.isnan(value) else f"{value:.{digits}f}"
    if isinstance(value, (int, np.integer)):
        return f"{int(value):,}"
    return _esc(value)


def _pct(value: float) -> str:
    return "n/a" if value is None or math.isnan(value) else f"{100 * value:.1f}%"


def _grade(score: float) -> str:
    if math.isnan(score):
        return ""
    return "good" if score >= 0.9 else ("fair" if score >= 0.8 else "poor")


def _table(headers: list[str], rows: list[list[str]], cls: str = "") -> str:
    head = "".join(f"<th>{h}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f'<table class="{cls}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _mean(values) -> float:
    values = list(values)
    return float(np.mean(values)) if values else float("nan")


def _scenario_lead(cond: dict, quality, conditions: dict, shared: list[str]) -> str:
    """Targets vs achieved, ranges held, and the fidelity of what the scenario does not
    name: the columns outside it and the pairs of two such columns."""
    named = set(conditions["categorical"]) | set(conditions["numeric"])
    free_columns = [c for c in shared if c not in named]
    free_pairs = [s for pair, s in quality.pair_trends.items() if not set(pair) & named]
    n_levels = sum(len(levels) for levels in cond["categorical"].values())
    requested, generated = cond["rows_requested"], cond["rows_generated"]
    ranges = [f"{_esc(col)} {_fmt(b['min'])} to {_fmt(b['max'])}: "
              + ("held" if b["outside"] == 0 else f"{b['outside']:,} rows outside")
              for col, b in cond["numeric"].items()]
    rows = [
        ["Rows", f"{generated:,} of {requested:,}",
         "all requested rows" if generated >= requested else
         "partial: the scenario was feasible for fewer rows than requested"],
        ["Scenario: largest share error", _fmt(cond["max_share_error"], 4),
         f"largest |achieved - target| over the {n_levels} conditioned levels"
         if n_levels else "no categorical targets"],
        ["Scenario: range violations", _fmt(cond["range_violations"]),
         "; ".join(ranges) if ranges else "no numeric ranges"],
        ["Columns outside the scenario: shape", _fmt(_mean(
            quality.column_shapes[c] for c in free_columns if c in quality.column_shapes)),
         ("vs the seed: " + ", ".join(_esc(c) for c in free_columns)) if free_columns
         else "none: the scenario names every column"],
        ["Pairs outside the scenario: trend", _fmt(_mean(free_pairs)),
         f"mean pair-trend score vs the seed over the {len(free_pairs)} pairs of two "
         "columns the scenario does not name" if free_pairs
         else "none: every pair has a conditioned column"],
    ]
    return ('<section id="scenario-summary"><h2>Scenario: what was asked, what was '
            "generated</h2>"
            + _table(["", "value", "detail"], rows, "scores")
            + "<p>Columns and pairs the scenario does not name can still move with it when "
              "the model links them to a conditioned column; a low score there is worth a "
              "look at the plots below.</p></section>")


def _summary_section(real, synthetic, shared, quality, copies, cond) -> str:
    only_real = [c for c in real.columns if c not in synthetic.columns]
    only_synth = [c for c in synthetic.columns if c not in real.columns]
    # Under a scenario the whole-table score is not a grade: the scenario is meant to differ.
    grade = _grade(quality.score) if cond is None else ""
    rows = [
        ["Overall quality score",
         f'<b class="{grade}">{_fmt(quality.score)}</b>',
         "mean of the two scores below; 1 = indistinguishable by these metrics"],
        ["Column shapes", _fmt(quality.shapes_score),
         "per column: 1 - KS statistic (numeric) or 1 - TVD of level shares (categorical)"],
        ["Pair trends", _fmt(quality.trends_score),
         ("per pair: 1 - |r<sub>real</sub> - r<sub>synth</sub>| / 2 for two numerics, "
          "1 - TVD of the joint table otherwise")],
        ["Exact copies of real rows", _pct(copies),
         ("share of synthetic rows identical to some real row on every compared column; "
          "in a small space of discrete values some copies occur by chance")],
        ["Rows", f"{len(real):,} real / {len(synthetic):,} synthetic", ""],
        ["Columns compared", f"{len(shared)}",
         "only in real: " + ", ".join(_esc(c) for c in only_real) if only_real else ""],
    ]
    if only_synth:
        rows.append(["Columns only in synthetic", str(len(only_synth)),
                     ", ".join(_esc(c) for c in only_synth)])
    if cond is None:
        return ('<section id="scores"><h2>Scores</h2>'
                + _table(["score", "value", "what it measures"], rows, "scores")
                + "</section>")
    note = ("<p>These scores compare with the whole seed table, as if there were no "
            "scenario. A scenario deliberately moves the conditioned columns, and whatever "
            "depends on them, away from the seed, so a lower score here is the scenario at "
            "work, not a defect: read it as how far the scenario moved the data. Whether "
            "the scenario was met is the section above.</p>")
    return ('<section id="scores"><h2>Scores: fidelity to the whole seed table</h2>' + note
            + _table(["score", "value", "what it measures"], rows, "scores") + "</section>")


def _toc(scenario: bool, pairs: bool) -> str:
    links = [("scenario-summary", "Scenario summary")] if scenario else []
    links.append(("scores", "Scores"))
    if scenario:
        links.append(("scenario", "Scenario: target vs achieved"))
    links.append(("columns", "Column distributions"))
    if pairs:
        links.append(("pairs", "Pairwise association differences"))
    return ('<nav><ul>' + "".join(f'<li><a href="#{a}">{t}</a></li>' for a, t in links)
            + "</ul></nav>")


def _scenario_section(cond: dict, share_figs: list) -> str:
    parts = ['<section id="scenario"><h2>Scenario: target vs achieved</h2>',
             (f'<p>Rows requested {cond["rows_requested"]:,}, generated '
              f'{cond["rows_generated"]:,}. Shares are over the rows generated. Differences '
              "between real and synthetic on the conditioned columns below are the scenario "
              "at work, not infidelity.</p>")]
    if cond.get("support") is not None:
        parts.append(_support_paragraph(cond["support"]))
    figs = dict(share_figs)
    for col, levels in cond["categorical"].items():
        rows = [[_esc(lv), _fmt(v["target_share"], 4), _fmt(v["achieved_share"], 4),
                 _fmt(v["achieved_count"]), _fmt(v["abs_error"], 4)]
                for lv, v in levels.items()]
        parts.append(f'<figure class="share" data-column="{_esc(col)}">'
                     f'<img alt="target vs achieved shares of {_esc(col)}" '
                     f'src="{figs[col]}"><figcaption>{_esc(col)}</figcaption></figure>')
        parts.append(_table(["level", "target", "achieved", "rows", "|error|"], rows))
    if cond["numeric"]:
        rows = [[_esc(col), _fmt(b["min"]), _fmt(b["max"]), _fmt(b["outside"]),
                 _pct(b["outside"] / cond["rows_generated"]) if cond["rows_generated"]
                 else "n/a"]
                for col, b in cond["numeric"].items()]
        parts.append("<h3>Numeric ranges</h3>")
        parts.append(_table(["column", "min", "max", "rows outside", "share outside"], rows))
    parts.append("</section>")
    return "\n".join(parts)


def _support_paragraph(support: dict) -> str:
    """Scenario support (docs/conditioning.md): how much of the scenario the seed shows."""
    warning = support_warning(support)
    text = (f'<p class="support">Scenario support: {support["seed_rows_in_scenario"]:,} real '
            f'rows lie inside the scenario; {_pct(support["extrapolated_share"])} of the '
            "generated rows are in level combinations no real row shows inside the ranges.")
    if warning:
        text += f' <span class="poor">Warning: {_esc(warning)}</span>'
    return text + "</p>"


def _column_caption(col, kind, score, real, synth) -> str:
    bits = [f"<b>{_esc(col)}</b> ({kind})"]
    if score is not None:
        bits.append(f'shape score <span class="{_grade(score)}">{_fmt(score)}</span>')
    for name, frame in (("real", real), ("synthetic", synth)):
        if col not in frame.columns:
            bits.append(f"not in {name}")
            continue
        s = frame[col]
        missing = float(s.isna().mean()) if len(s) else float("nan")
        if kind == "numeric":
            x = _floats(s)
            x = x[np.isfinite(x)]
            stats = f"mean {x.mean():.4g}, sd {x.std():.4g}" if x.size else "no values"
            bits.append(f"{name}: {stats}, missing {_pct(missing)}")
        else:
            bits.append(f"{name}: {s.nunique(dropna=True):,} levels, missing {_pct(missing)}")
    return "; ".join(bits)


def _columns_section(column_figs, kmap, quality, real, synth, conditions) -> str:
    parts = ['<section id="columns"><h2>Column distributions</h2>',
             ('<p>Real in <span class="swatch real"></span> blue, synthetic in '
              '<span class="swatch synth"></span> orange. Numerics: share of rows per bin '
              "(values beyond the pooled 0.5th-99.5th percentiles are folded into the end "
              "bins; dashed lines mark a scenario range). Categoricals: share of rows per "
              f"level, the {MAX_LEVELS} most frequent shown.</p>"),
             '<div class="grid">']
    rows = []
    for i, (col, uri) in enumerate(column_figs):
        kind = kmap.get(col) or infer_kind(real[col] if col in real.columns else synth[col])
        score = quality.column_shapes.get(col)
        parts.append(f'<figure class="column" id="col-{i}" data-column="{_esc(col)}">'
                     f'<img alt="distribution of {_esc(col)}" src="{uri}">'
                     f"<figcaption>{_column_caption(col, kind, score, real, synth)}"
                     "</figcaption></figure>")
        rows.append([f'<a href="#col-{i}">{_esc(col)}</a>', kind,
                     f'<span class="{_grade(score)}">{_fmt(score)}</span>' if score is not None
                     else "not compared"])
    parts.append("</div>")
    parts.append("<h3>Column shape scores</h3>")
    parts.append(_table(["column", "kind", "shape score"], rows))
    parts.append("</section>")
    return "\n".join(parts)


def _pairs_section(heatmap: str, trends: dict) -> str:
    worst = sorted(trends.items(), key=lambda kv: kv[1])[:10]
    rows = [[_esc(a), _esc(b), _fmt(1.0 - s), _fmt(s)] for (a, b), s in worst]
    return ('<section id="pairs"><h2>Pairwise association differences</h2>'
            "<p>Each cell is 1 - the pair-trend similarity: |r<sub>real</sub> - "
            "r<sub>synth</sub>| / 2 for two numeric columns (Pearson), the total variation "
            "distance between the real and synthetic joint tables otherwise (numerics in "
            "real-decile bins, missing as its own level). 0 = the pair associates exactly as "
            "in the real table.</p>"
            f'<figure class="heatmap"><img alt="pairwise association difference heatmap" '
            f'src="{heatmap}"></figure><h3>Largest differences</h3>'
            + _table(["column", "column", "difference", "pair-trend score"], rows)
            + "</section>")


_HEAD = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
body {{ font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem auto;
       max-width: 1200px; padding: 0 1rem; color: #222; line-height: 1.45; }}
h1 {{ font-size: 1.6rem; margin-bottom: .5rem; }}
h2 {{ border-bottom: 1px solid #ddd; padding-bottom: .2rem; margin-top: 2rem; }}
nav ul {{ list-style: none; padding: 0; display: flex; gap: 1.2rem; flex-wrap: wrap; }}
table {{ border-collapse: collapse; margin: .6rem 0 1.2rem; font-size: .9rem; }}
th, td {{ border: 1px solid #ddd; padding: .3rem .6rem; text-align: left;
          vertical-align: top; }}
th {{ background: #f4f4f4; }}
table.scores td:nth-child(2) {{ white-space: nowrap; }}
.grid {{ display: grid; grid-template-columns: repeat(auto-fill, minmax(440px, 1fr));
         gap: 1rem; }}
figure {{ margin: 0; }}
figure img {{ max-width: 100%; height: auto; display: block; }}
figcaption {{ font-size: .8rem; color: #444; }}
figure.share, figure.heatmap {{ margin: 1rem 0 .3rem; }}
.good {{ color: #1a7f37; }} .fair {{ color: #9a6700; }} .poor {{ color: #cf222e; }}
.swatch {{ display: inline-block; width: .8rem; height: .8rem; vertical-align: middle; }}
.swatch.real {{ background: #4C72B0; }} .swatch.synth {{ background: #DD8452; }}
</style>
</head>
<body>"""

_FOOT = ('<footer><p><small>Generated by simio-local (engine.quality.report). This file '
         "is self-contained: it loads nothing from elsewhere.</small></p></footer>\n"
         "</body>\n</html>\n")
