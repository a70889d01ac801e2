"""Slow, obviously correct references for the numba kernels in ``engine.sampling._kernels``.

STYLE.md section 7 (stumpy's ``tests/naive.py``): plain Python loops over a natural
representation of the inputs, no flattened offsets or strides, no numba. The kernel tests
feed the same inputs to both and demand identical codes and weights/values to 1e-12.
Floating-point sums run left to right in explicit loops, as the kernels do (``sum`` and
``math.fsum`` would round differently).
"""

from __future__ import annotations

import math

import numpy as np


def cumulative(probs) -> list[float]:
    """A row's running sums, left to right; exactly 1 from the last possible state on.

    The kernel contract (``_forward_sample``: "cdf: row-wise cumulative conditional
    probabilities, last = 1"). Rounding may leave the running sum a few ulps short of 1;
    a uniform in that gap must still land on a state with positive probability, so every
    entry from the last positive-probability state onwards is 1 (not only the last one).
    """
    out, acc = [], 0.0
    for p in probs:
        acc += float(p)
        out.append(acc)
    last_possible = max([k for k, p in enumerate(probs) if p > 0.0], default=len(out) - 1)
    for k in range(last_possible, len(out)):
        out[k] = 1.0
    return out


def topological_order(parents) -> list[int]:
    """Any order with every parent before its children (sampling does not depend on
    which one: node ``j`` always uses uniform column ``j``)."""
    done: list[int] = []
    while len(done) < len(parents):
        ready = [j for j in range(len(parents))
                 if j not in done and all(p in done for p in parents[j])]
        if not ready:
            raise ValueError("parents contain a cycle")
        done.append(ready[0])
    return done


def draw_from_cdf(cdf, u: float) -> int:
    """The first state whose cumulative probability exceeds ``u`` (inverse CDF)."""
    for k, c in enumerate(cdf):
        if u < c:
            return k
    return len(cdf) - 1


def draw_with_evidence(cdf, likelihood, u: float) -> tuple[int, float]:
    """(state, normaliser) drawn from P(state) * likelihood(state), renormalised.

    P(state) is the cdf's step at that state. The state is the first one with positive
    weight whose running total exceeds ``u * total`` (the last positive one if rounding
    leaves none); when every weight is zero the row gets state 0 and normaliser 0.
    """
    weights = []
    prev = 0.0
    for c, lik in zip(cdf, likelihood):
        weights.append((c - prev) * float(lik))
        prev = c
    total = 0.0
    for w in weights:
        total += w
    if not total > 0.0:
        return 0, total
    positive = [k for k, w in enumerate(weights) if w > 0.0]
    target = u * total
    running = 0.0
    for k in positive:
        running += weights[k]
        if target < running:
            return k, total
    return positive[-1], total


def forward_sample(parents, state_maps, tables, evidence, uniforms):
    """Ancestral sampling with likelihood-weighted soft evidence, one row at a time.

    Parameters
    ----------
    parents : list of tuples      parents[j] = parent nodes of j, in table-axis order
    state_maps : list of lists    state_maps[j][s][code] = state of parent s on j's table axis s
    tables : list of arrays       tables[j][state_0, ..., state_{P-1}, k] = P(j = k | parents)
    evidence : dict               node -> per-state likelihood in [0, 1]
    uniforms : float[n, d]        the uniform for row i, node j is uniforms[i, j]

    Returns (codes int64[n, d], weights float64[n]); a row's weight is the product over
    evidence nodes of P(evidence at that node | the row's sampled parents).
    """
    uniforms = np.asarray(uniforms)
    n, d = uniforms.shape
    order = topological_order(parents)
    codes = np.zeros((n, d), dtype=np.int64)
    weights = np.zeros(n, dtype=np.float64)
    for i in range(n):
        row = [None] * d
        weight = 1.0
        for j in order:
            index = tuple(int(state_maps[j][s][row[p]]) for s, p in enumerate(parents[j]))
            cdf = cumulative(tables[j][index])
            u = float(uniforms[i, j])
            if j in evidence:
                row[j], total = draw_with_evidence(cdf, evidence[j], u)
                weight *= total
            else:
                row[j] = draw_from_cdf(cdf, u)
        codes[i] = row
        weights[i] = weight
    return codes, weights


def within_bin_values(codes, missing_state, knot_x, knot_c, n_knots, cdf_lo, cdf_hi,
                      uniforms, round_to_integer):
    """Values inside their bins by inverting each bin's piecewise-linear CDF.

    Bin ``b``'s CDF runs through the knots (knot_x[b, s], knot_c[b, s]) for s < n_knots[b];
    a one-knot bin is a point mass. The uniform is first mapped into the allowed part
    [cdf_lo[b], cdf_hi[b]] of the CDF (q = lo + u * (hi - lo)); the segment used is the
    LAST one whose left knot has c <= q, so zero-mass (flat) segments are never landed in;
    on a flat segment itself the value is its right end. Integer columns round half up.
    The missing state gives NaN.
    """
    out = np.empty(len(codes), dtype=np.float64)
    for i, (b, u) in enumerate(zip(codes, uniforms)):
        b = int(b)
        if b == missing_state:
            out[i] = math.nan
            continue
        m = int(n_knots[b])
        xs = [float(x) for x in knot_x[b][:m]]
        cs = [float(c) for c in knot_c[b][:m]]
        if m == 1:
            x = xs[0]
        else:
            q = float(cdf_lo[b]) + float(u) * (float(cdf_hi[b]) - float(cdf_lo[b]))
            segment = max([s for s in range(m - 1) if cs[s] <= q], default=0)
            c0, c1 = cs[segment], cs[segment + 1]
            x0, x1 = xs[segment], xs[segment + 1]
            x = x0 + (q - c0) / (c1 - c0) * (x1 - x0) if c1 > c0 else x1
        if round_to_integer:
            x = float(math.floor(x + 0.5))
        out[i] = x
    return out


def within_bin_latent_values(codes, mean, missing_state, sigma, cum, knot_x, knot_c, n_knots,
                             cdf_lo, cdf_hi, uniforms, round_to_integer):
    """Values whose within-bin position follows a latent N(mean[i], sigma) truncated to the
    bin's slice of the copula scale, by the textbook route with scipy's normal: the slice
    [ndtri(cum[b] + lo * w), ndtri(cum[b] + hi * w)] (w the bin's share), the truncated
    normal's u-quantile there, its marginal probability rescaled to the bin (clamped to
    [lo, hi]) as the within-bin level, then the plain within-bin inversion at that level.
    Returns (values, levels)."""
    from scipy.stats import norm, truncnorm
    levels = np.empty(len(codes))
    for i, b in enumerate(codes):
        b = int(b)
        if b == missing_state:
            levels[i] = math.nan
            continue
        w = float(cum[b + 1] - cum[b])
        lo, hi, u = float(cdf_lo[b]), float(cdf_hi[b]), float(uniforms[i])
        q = lo + u * (hi - lo)
        if w > 0 and hi > lo:
            a = (norm.ppf(cum[b] + lo * w) - mean[i]) / sigma
            c = (norm.ppf(cum[b] + hi * w) - mean[i]) / sigma
            s = truncnorm.ppf(u, a, c)
            q = min(max((norm.cdf(mean[i] + sigma * s) - cum[b]) / w, lo), hi)
        levels[i] = q
    # the inversion itself is within_bin_values' (its uniforms are then the levels)
    ones, zeros = np.ones(knot_x.shape[0]), np.zeros(knot_x.shape[0])
    safe = np.where(np.isnan(levels), 0.0, levels)
    values = within_bin_values(codes, missing_state, knot_x, knot_c, n_knots, zeros, ones,
                               safe, round_to_integer)
    return values, levels


def tilted_levels(codes, missing_state, grid_z, grid_level, child_codes, child_mean,
                  child_beta, child_sigma, child_edges, uniforms):
    """Within-bin levels of a parent tilted by its children's bins, the slow way: cell g of
    the parent's bin weighs prod_k P(child k's bin | parent at cell g's midpoint) (scipy's
    normal CDF; its survival function above 0), the uniform picks the first cell whose cumulative weight exceeds u * total
    and its remainder places the level uniformly inside the cell; no weight at all: the
    plain uniform level."""
    from scipy.stats import norm
    out = np.empty(len(codes))
    for i, b in enumerate(codes):
        b = int(b)
        if b == missing_state:
            out[i] = math.nan
            continue
        weights = []
        for g in range(grid_z.shape[1]):
            w = 1.0
            for k in range(child_codes.shape[1]):
                cb = int(child_codes[i, k])
                if cb < 0:
                    continue
                m = child_mean[i, k] + child_beta[k] * grid_z[b, g]
                lo = (child_edges[k, cb] - m) / child_sigma[k]
                hi = (child_edges[k, cb + 1] - m) / child_sigma[k]
                # the upper tail through the survival function: 1 - 1 would lose it all
                w *= norm.sf(lo) - norm.sf(hi) if lo > 0 else norm.cdf(hi) - norm.cdf(lo)
            weights.append(w)
        total, u = sum(weights), float(uniforms[i])
        if total <= 0:
            out[i] = grid_level[b, 0] + u * (grid_level[b, -1] - grid_level[b, 0])
            continue
        g, r = pick_cell(weights, u * total)
        out[i] = grid_level[b, g] + r * (grid_level[b, g + 1] - grid_level[b, g])
    return out


def tilted_latent_levels(codes, missing_state, mean, sigma, cum, tilt_bin, grid_z, grid_level,
                         child_codes, child_mean, child_beta, child_sigma, child_edges,
                         uniforms):
    """Within-bin levels of a latent node tilted by its children's bins, the slow way:
    cell g's weight is the latent N(mean[i], sigma)'s mass on the cell's slice of the
    latent scale times prod_k P(child k's bin | cell g's midpoint); the uniform picks a
    cell, its remainder is the truncated normal's quantile inside the cell (no weight at
    all: inside the whole bin), and that point's probability rescaled to the bin is the
    level, clamped to the cell. A bin with ``tilt_bin`` False: the untilted draw, the
    truncated normal's u-quantile over the whole bin."""
    from scipy.stats import norm, truncnorm

    def mass(lo, hi):
        return norm.sf(lo) - norm.sf(hi) if lo > 0 else norm.cdf(hi) - norm.cdf(lo)

    out = np.empty(len(codes))
    cells = grid_level.shape[1] - 1
    for i, b in enumerate(codes):
        b = int(b)
        if b == missing_state:
            out[i] = math.nan
            continue
        u, w = float(uniforms[i]), float(cum[b + 1] - cum[b])
        first, last = grid_level[b, 0], grid_level[b, cells]
        if not (w > 0 and last > first):
            out[i] = first + u * (last - first)
            continue
        z = (norm.ppf(cum[b] + grid_level[b] * w) - mean[i]) / sigma
        if not tilt_bin[b]:
            level = (norm.cdf(mean[i] + sigma * truncnorm.ppf(u, z[0], z[cells])) - cum[b]) / w \
                if z[cells] > z[0] else first + u * (last - first)
            out[i] = min(max(level, first), last)
            continue
        weights = []
        for g in range(cells):
            p = mass(z[g], z[g + 1])
            for k in range(child_codes.shape[1]):
                cb = int(child_codes[i, k])
                if cb >= 0:
                    m = child_mean[i, k] + child_beta[k] * grid_z[b, g]
                    p *= mass((child_edges[k, cb] - m) / child_sigma[k],
                              (child_edges[k, cb + 1] - m) / child_sigma[k])
            weights.append(p if p > 1e-280 else 0.0)     # below: rounding, not evidence
        total = sum(weights)
        if total <= 0:
            lo, hi, r = z[0], z[cells], u
        else:
            g, r = pick_cell(weights, u * total)
            lo, hi = z[g], z[g + 1]
            first, last = grid_level[b, g], grid_level[b, g + 1]
        if hi > lo:
            level = (norm.cdf(mean[i] + sigma * truncnorm.ppf(r, lo, hi)) - cum[b]) / w
        else:
            level = first + r * (last - first)
        out[i] = min(max(level, first), last)
    return out


def pick_cell(weights, target):
    """The first cell whose cumulative weight exceeds ``target`` (the last one if none
    does) and where in it the target falls, as a fraction of its weight."""
    acc = 0.0
    for g, w in enumerate(weights):
        if w > 0 and target < acc + w:
            break
        acc += w
    return g, (min(max((target - acc) / w, 0.0), 1.0) if w > 0 else 0.5)


def row_configs(codes, parents, state_maps, cards):
    """Each row's parent configuration: the mixed-radix number whose digits are the
    parents' mapped states (``state_maps[s][code]``), the first parent most significant
    (digit s weighs the product of the later parents' ``cards``, as ``kernel_tables``)."""
    out = []
    for row in codes:
        cfg = 0
        for s, p in enumerate(parents):
            weight = 1
            for card in cards[s + 1:]:
                weight *= card
            cfg += state_maps[s][int(row[p])] * weight
        out.append(cfg)
    return np.array(out, dtype=np.int64)


def within_means(codes, config, centre, parents, beta, use, parent_scores, bin_means):
    """centre[config] plus beta times each used parent's score offset from its bin's mean
    score (0 where the score is missing), added left to right from 0."""
    out = np.empty(len(codes))
    for i in range(len(codes)):
        shift = 0.0
        for k, p in enumerate(parents):
            if not use[k]:
                continue
            offset = float(parent_scores[k][i]) - float(bin_means[k][int(codes[i][p])])
            shift += float(beta[k]) * (0.0 if math.isnan(offset) else offset)
        out[i] = float(centre[int(config[i])]) + shift
    return out


def level_scores(codes, missing_state, cum, levels):
    """scipy's normal quantile of each level's point on the copula scale, clipped to
    [-8.5, 8.5]; NaN for a missing state or level."""
    from scipy.special import ndtri
    out = np.empty(len(codes))
    n_bins = len(cum) - 1
    for i, state in enumerate(codes):
        b = min(int(state), n_bins - 1)
        p = float(cum[b]) + float(levels[i]) * (float(cum[b + 1]) - float(cum[b]))
        if int(state) == missing_state or math.isnan(p):
            out[i] = math.nan
        else:
            out[i] = min(max(float(ndtri(min(max(p, 0.0), 1.0))), -8.5), 8.5)
    return out
