"""Exact relations in the model: derived columns regenerated, never sampled freely.

The cleaning records each relation (``engine.cleaning.relations``). Here:

- a numeric target (``affine``, ``log``, ``exp``, ``sum``) is not a node of its own: its
  node has one state (it carries no information and is never a useful parent) and its
  values are computed from its sources after they are decoded, then rounded to its seed
  precision. A range on it is translated into a range on its source before conditioning
  (``translate_conditions``); a ``sum`` target has two sources and cannot be conditioned
  on (condition on its parts).
- a ``band`` or ``nested`` target stays a node, so shares on either side are exact
  inference. Its source's bin edges include the band's cut points (a bin never straddles
  a cut) and, once the structure is learned, the two are made adjacent when they are not
  and the child's table gets zeros wherever the relation is broken (``enforce``): no row
  the model can draw breaks it, conditioned or not, in either direction. Where the
  structure leaves no room for the edge (parent limit, a cycle), the target is
  overwritten from its source after sampling (``enforced: false``): exact in the output,
  but shares on the target then only approximately move the source.
"""

from __future__ import annotations

import numpy as np

from engine.errors import SimioError
from engine.sampling import assembly

NUMERIC_KINDS = ("affine", "log", "exp", "sum")
NODE_KINDS = ("band", "nested")


def numeric_targets(relations) -> dict[str, dict]:
    return {r["target"]: r for r in relations if r["kind"] in NUMERIC_KINDS}


def related_columns(relations) -> set[str]:
    """Every column an exact relation names: each of its levels maps on its own, so none
    of them has its rare levels tied (encoding.rare_pool)."""
    return {name for r in relations for name in [r["target"], *r.get("sources", [])]}


def band_cuts(relations, column: str) -> list[float]:
    """Cut points of every band of ``column``."""
    return [c for r in relations if r["kind"] == "band" and r["sources"][0] == column
            for c in r["cuts"]]


def band_index(rel: dict, values: np.ndarray) -> np.ndarray:
    """The band (index into ``rel["levels"]``) of each value."""
    return np.searchsorted(np.asarray(rel["cuts"], dtype=float), values, side="right")


# -- after structure learning ---------------------------------------------------------------

def enforce(model, refit) -> None:
    """Make every band / nested relation structural (see module docstring).

    ``refit(child, parents)`` refits a node's table for a new parent set.
    """
    names = [e.name for e in model.encodings_]
    for rel in model.relations_:
        if rel["kind"] not in NODE_KINDS:
            continue
        target, source = names.index(rel["target"]), names.index(rel["sources"][0])
        rel["enforced"] = _make_adjacent(model, source, target, refit)
        if rel["enforced"]:
            _zero_broken_cells(model, rel, source, target)
    model.__dict__.pop("kernel_tables", None)


def _make_adjacent(model, source, target, refit) -> bool:
    parents = model.parents_
    if source in parents[target] or target in parents[source]:
        return True
    for child, parent in ((target, source), (source, target)):
        if len(parents[child]) < model.max_parents and not _is_ancestor(parents, child, parent):
            parents[child] = tuple(sorted(parents[child] + (parent,)))
            refit(child, parents[child])
            return True
    return False


def _is_ancestor(parents, node, of) -> bool:
    """Whether ``node`` is an ancestor of ``of`` (adding node <- of would close a cycle)."""
    stack, seen = [of], set()
    while stack:
        k = stack.pop()
        if k == node:
            return True
        if k not in seen:
            seen.add(k)
            stack.extend(parents[k])
    return False


def _target_state_of_source_states(model, rel, source) -> np.ndarray:
    """For each state of the source node, the one compatible state of the target."""
    enc = model.encodings_[source]
    levels = list(model.schema_[rel["target"]].levels)
    if rel["kind"] == "band":
        # a bin lies inside one band (its edges include the cuts): the band of its middle
        edges = np.concatenate([[enc.lower], enc.thresholds, [enc.upper]])
        bands = band_index(rel, (edges[:-1] + edges[1:]) / 2.0)
        return np.array([levels.index(rel["levels"][b]) for b in bands], dtype=np.int64)
    source_levels = list(model.schema_[rel["sources"][0]].levels)
    return np.array([levels.index(rel["map"][lvl]) if lvl in rel["map"] else -1
                     for lvl in source_levels], dtype=np.int64)


def _zero_broken_cells(model, rel, source, target) -> None:
    compatible = _target_state_of_source_states(model, rel, source)
    child, parent = (target, source) if source in model.parents_[target] else (source, target)
    kt = model.kernel_tables
    slot = list(model.parents_[child]).index(parent)
    pmap = kt.parent_map[kt.parent_map_offset[child, slot]:]
    stride = kt.parent_stride[child, slot]
    table = model.tables_[child].copy()
    n_cfg, n_states = table.shape
    size = int(pmap[:model.encodings_[parent].n_states].max()) + 1
    parent_state = (np.arange(n_cfg) // stride) % size
    allowed = np.zeros_like(table, dtype=bool)
    if child == target:
        # parent state (the source's, maybe a coarse group) -> compatible target levels
        for s_source in range(compatible.size):
            g = pmap[s_source]
            if compatible[s_source] >= 0:
                allowed[parent_state == g, compatible[s_source]] = True
    else:
        for s_source in range(compatible.size):
            if compatible[s_source] >= 0:
                allowed[parent_state == compatible[s_source], s_source] = True
    table = np.where(allowed, table, 0.0)
    totals = table.sum(axis=1, keepdims=True)
    dead = totals[:, 0] <= 0            # a configuration the relation rules out entirely
    table[dead] = model.tables_[child][dead]
    model.tables_[child] = table / np.where(dead[:, None], 1.0, totals)
    model.tables_[child][dead] = model.tables_[child][dead] / model.tables_[child][dead].sum(
        axis=1, keepdims=True)


# -- at sample time -------------------------------------------------------------------------

def apply(model, columns: dict) -> None:
    """Compute numeric targets from their decoded sources; overwrite unenforced band /
    nested targets from theirs. ``columns`` maps name -> decoded values (in place)."""
    for rel in getattr(model, "relations_", None) or []:
        target = rel["target"]
        if rel["kind"] in NUMERIC_KINDS:
            enc = model.encodings_[[e.name for e in model.encodings_].index(target)]
            columns[target] = _numeric_values(rel, columns, enc)
        elif not rel.get("enforced", False):
            columns[target] = _node_values(model, rel, columns)


def _as_float(values) -> np.ndarray:
    return assembly.as_float(values)


def _numeric_values(rel, columns, enc):
    xs = [_as_float(columns[s]) for s in rel["sources"]]
    coef = rel["coef"]
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        if rel["kind"] == "affine":
            y = coef[0] + coef[1] * xs[0]
        elif rel["kind"] == "log":
            y = coef[0] + coef[1] * np.log(xs[0])
        elif rel["kind"] == "exp":
            y = np.exp(coef[0] + coef[1] * xs[0])
        else:
            y = coef[0] + coef[1] * xs[0] + coef[2] * xs[1]
    decimals = rel.get("decimals")
    if rel.get("is_integer"):
        return assembly.integers(np.round(y))
    return np.round(y, decimals) if decimals is not None else y


def _node_values(model, rel, columns):
    column = model.schema_[rel["target"]]
    position = {level: k for k, level in enumerate(column.levels)}
    if rel["kind"] == "band":
        x = _as_float(columns[rel["sources"][0]])
        of_band = np.array([position.get(lvl, -1) for lvl in rel["levels"]], dtype=np.int64)
        return assembly.coded(column, of_band[band_index(rel, x)])
    source = columns[rel["sources"][0]]                 # a categorical (assembly.Coded)
    labels = [lvl == "true" for lvl in source.levels] if source.boolean else source.levels
    of_level = np.array([position.get(rel["map"].get(lvl), -1) for lvl in labels] + [-1],
                        dtype=np.int64)                 # the last entry: a missing source
    return assembly.coded(column, of_level[source.codes])


def translate_conditions(model, conditions: dict | None) -> dict | None:
    """A range on a derived numeric becomes a range on its source (intersected with any
    range already on it); a range on a ``sum`` target cannot be translated."""
    targets = numeric_targets(getattr(model, "relations_", None) or [])
    ranges = (conditions or {}).get("numeric") or {}
    if not targets or not any(name in targets for name in ranges):
        return conditions
    out = {**conditions, "numeric": dict(ranges)}
    for name in list(ranges):
        if name not in targets:
            continue
        rel, bounds = targets[name], ranges[name] or {}
        if rel["kind"] == "sum":
            raise SimioError("simio_condition_column_excluded",
                             f"column {name!r} is derived ({name} = a + b * "
                             f"{rel['sources'][0]} + c * {rel['sources'][1]}) and cannot "
                             f"be conditioned on; condition on {rel['sources'][0]!r} and "
                             f"{rel['sources'][1]!r} instead", column=name)
        lo, hi = (_inverse(rel, bounds.get(k)) for k in ("min", "max"))
        if rel["coef"][1] < 0:                   # a decreasing relation swaps the ends
            lo, hi = hi, lo
        del out["numeric"][name]
        source = rel["sources"][0]
        prior = dict(out["numeric"].get(source) or {})
        if lo is not None:
            prior["min"] = lo if prior.get("min") is None else max(prior["min"], lo)
        if hi is not None:
            prior["max"] = hi if prior.get("max") is None else min(prior["max"], hi)
        out["numeric"][source] = prior
    return out


def _inverse(rel, y):
    if y is None:
        return None
    a, b = rel["coef"][0], rel["coef"][1]
    if rel["kind"] == "affine":
        return (y - a) / b
    if rel["kind"] == "log":
        return float(np.exp((y - a) / b))
    return (float(np.log(y)) - a) / b if y > 0 else None
