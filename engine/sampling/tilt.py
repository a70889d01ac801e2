"""Tilting a numeric node's position inside its bin towards the bins its tracking
children were given in the discrete draw (issue 11).

A child that tracks a numeric parent inside the bins (``model.node_within``) has latent
``N(centre + beta * offset, sigma)``; its bin, drawn from the tables before any value, is
evidence about where inside its own bin the parent lies. Without it a child's bin would
ignore where in a wide tail bin the parent sits, and strong pairs of skewed columns lose
their extremes (the largest districts get middling computer counts). A plain node's
position starts from its marginal (``_kernels._tilted_levels``), a latent one's from its
own latent normal (``_tilt_kernels._tilted_latent_levels``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from engine.normal import ndtri
from engine.sampling._kernels import _tilted_levels
from engine.sampling._node_kernels import _row_configs, _within_means
from engine.sampling._tilt_kernels import _tilted_latent_levels
from engine.sampling.rowsplit import split_rows

# Cells of a parent's within-bin distribution when its position is tilted towards its
# tracking children's bins: enough to follow a |r| = 0.99 pair inside a bin, few enough
# that a million rows stay well under a second.
TILT_CELLS = 12
# A child moved by less than this many latent spreads across the parent's widest bin
# does not tilt the parent (its bin is no evidence; the tilt would cost time for nothing).
MIN_TILT = 0.25
# A latent node's position already follows its own parents; it is tilted only inside the
# bins where a child moves by at least this many latent spreads across the bin (the wide
# tail bins, where a strong pair's extremes are decided). In the narrow middle bins the
# tilt changes little and would double the sampling time of a table of numeric columns.
MIN_LATENT_TILT = 1.0


@dataclass
class NodeScores:
    """The normal scores of the numeric nodes decoded so far that children track: column
    ``cols[node]`` of ``matrix`` (rows x tracked nodes), one kernel argument for all."""
    matrix: np.ndarray
    cols: dict[int, int] = field(default_factory=dict)

    def __contains__(self, node: int) -> bool:
        return node in self.cols

    def __getitem__(self, node: int) -> np.ndarray:
        return self.matrix[:, self.cols[node]]


def row_configs(model, node: int, codes: np.ndarray) -> np.ndarray:
    """``model.config_of_rows`` in one kernel pass (the same integers)."""
    kt = model.kernel_tables
    out = np.empty(codes.shape[0], dtype=np.int64)
    split_rows(codes.shape[0], lambda lo, hi: _row_configs(
        codes[lo:hi], node, kt.n_parents, kt.parent_index, kt.parent_map_offset,
        kt.parent_map, kt.parent_stride, out[lo:hi]))
    return out


def within_means(model, node: int, codes: np.ndarray, scores: NodeScores,
                 skip: int = -1, config: np.ndarray | None = None) -> np.ndarray:
    """A tracking node's latent mean per row: its configuration's centre plus beta times
    each decoded parent's offset from its bin's mean score (``skip``: leave that parent
    out), as ``model.parameters.within_scores`` defines the offsets. ``config``: the rows'
    ``row_configs`` of ``node`` if the caller has them."""
    within = model.node_within(node)
    parents = np.ascontiguousarray(within["parents"], dtype=np.int64)
    use = np.array([int(p) != skip and int(p) in scores for p in parents], dtype=np.bool_)
    cols = np.array([scores.cols.get(int(p), 0) for p in parents], dtype=np.int64)
    means = [model.encodings_[int(p)].bin_mean_score for p in parents]
    bin_mean = np.zeros((parents.size, max((m.size for m in means), default=0)))
    for k, m in enumerate(means):
        bin_mean[k, :m.size] = m
    config = row_configs(model, node, codes) if config is None else config
    centre = np.ascontiguousarray(within["centre"], dtype=np.float64)
    beta = np.ascontiguousarray(within["beta"], dtype=np.float64)
    out = np.empty(codes.shape[0])
    split_rows(codes.shape[0], lambda lo, hi: _within_means(
        codes[lo:hi], config[lo:hi], centre, parents, beta, use, cols,
        scores.matrix[lo:hi], bin_mean, out[lo:hi]))
    return out


def tracking_children(model) -> dict[int, list[int]]:
    """Each node's numeric children that track it inside the bins (nodes without any are
    left out), in node order: one pass over the model, not one per node."""
    children: dict[int, list[int]] = {}
    for k in range(len(model.encodings_)):
        within = model.node_within(k)
        if within is not None:
            for p in dict.fromkeys(int(p) for p in within["parents"]):
                children.setdefault(p, []).append(k)
    return children


def plain_levels(model, j, children, codes, scores, lo_cdf, hi_cdf, uniforms):
    """Levels of a plain numeric node given its tracking children's bins, or None when no
    child is informative enough."""
    setup = _setup(model, j, children, codes, scores, lo_cdf, hi_cdf)
    if setup is None:
        return None
    grid_z, grid_level, child_codes, child_mean, beta, sigma, edges, _ = setup
    state, missing = codes[:, j], model.encodings_[j].missing_state
    levels = np.empty(codes.shape[0])
    split_rows(codes.shape[0], lambda lo, hi: _tilted_levels(
        state[lo:hi], missing, grid_z, grid_level, child_codes[lo:hi], child_mean[lo:hi],
        beta, sigma, edges, uniforms[lo:hi], levels[lo:hi]))
    return levels


def latent_levels(model, j, children, codes, scores, lo_cdf, hi_cdf, uniforms, mean, sigma,
                  cum):
    """Levels of a latent numeric node (per-row ``mean``, ``sigma``, latent ``cum``) given
    its tracking children's bins, or None when no child is informative enough."""
    setup = _setup(model, j, children, codes, scores, lo_cdf, hi_cdf)
    if setup is None:
        return None
    grid_level = setup[1]
    cum = np.asarray(cum, dtype=np.float64)
    with np.errstate(divide="ignore"):
        cell_z = ndtri(np.clip(cum[:-1, None] + grid_level * np.diff(cum)[:, None], 0.0, 1.0))
    grid_z, strength = setup[0], setup[-1]
    tilt_bin = (grid_z[:, -1] - grid_z[:, 0]) * strength >= MIN_LATENT_TILT
    if not tilt_bin.any():
        return None
    _, _, child_codes, child_mean, beta, child_sigma, edges, _ = setup
    state, missing = codes[:, j], model.encodings_[j].missing_state
    mean, sigma = np.ascontiguousarray(mean, dtype=np.float64), float(sigma)
    levels = np.empty(codes.shape[0])
    split_rows(codes.shape[0], lambda lo, hi: _tilted_latent_levels(
        state[lo:hi], missing, mean[lo:hi], sigma, cum, cell_z, tilt_bin, grid_z, grid_level,
        child_codes[lo:hi], child_mean[lo:hi], beta, child_sigma, edges, uniforms[lo:hi],
        levels[lo:hi]))
    return levels


def _tilt_strength(model, child, parent, span) -> float:
    """How far (in the child's latent spreads) the parent's position inside its widest bin
    moves the child: below ``MIN_TILT`` the child's bin says nothing about it."""
    within = model.node_within(child)
    beta = within["beta"][within["parents"].tolist().index(parent)]
    return abs(float(beta)) * span / float(within["sigma"])


def _setup(model, j, children, codes, scores, lo_cdf, hi_cdf):
    """(grid_z, grid_level, child_codes, child_mean, beta, sigma, edges) for the tilt
    kernels and the largest |beta| / sigma of the children kept, or None when no child is
    informative enough."""
    from engine.sampling.forward import latent_cum
    enc = model.encodings_[j]
    cum = enc.bin_cum
    width = np.diff(cum)[:, None]
    cells = (np.arange(TILT_CELLS + 1) / TILT_CELLS)[None, :]
    grid_level = lo_cdf[:, None] + cells * (hi_cdf - lo_cdf)[:, None]
    mid_level = (grid_level[:, 1:] + grid_level[:, :-1]) / 2.0
    grid_z = ndtri(np.clip(cum[:-1, None] + mid_level * width, 1e-300, 1 - 1e-16)) \
        - enc.bin_mean_score[:enc.n_bins, None]
    span = float(np.max(grid_z[:, -1] - grid_z[:, 0])) if grid_z.size else 0.0
    children = [k for k in children if _tilt_strength(model, k, j, span) >= MIN_TILT]
    if not children:
        return None
    n = codes.shape[0]
    child_codes = np.empty((n, len(children)), dtype=np.int64)
    child_mean = np.empty((n, len(children)))
    beta = np.empty(len(children))
    sigma = np.empty(len(children))
    edges = np.full((len(children), max(model.encodings_[k].n_bins for k in children) + 1),
                    np.inf)
    for c, k in enumerate(children):
        within, kenc = model.node_within(k), model.encodings_[k]
        child_codes[:, c] = np.where(codes[:, k] == kenc.missing_state, -1, codes[:, k])
        child_mean[:, c] = within_means(model, k, codes, scores, skip=j)
        beta[c] = within["beta"][within["parents"].tolist().index(j)]
        sigma[c] = within["sigma"]
        with np.errstate(divide="ignore"):
            edges[c, :kenc.n_bins + 1] = ndtri(latent_cum(kenc, model.node_latent(k)))
    return (grid_z, grid_level, child_codes, child_mean, beta, sigma, edges,
            float(np.max(np.abs(beta) / sigma)))
