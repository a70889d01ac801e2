"""numba kernels: arrays in, arrays out, no RNG, no Python objects.

The caller validates inputs, owns the seeded generator and passes uniforms and
preallocated outputs (QuantEcon's ``_generate_sample_paths`` pattern). Each kernel has a
slow, obviously correct reference in ``tests/engine/sampling/naive.py``.
"""

from __future__ import annotations

import math

import numpy as np

from engine._numba import kernel

# Wichura's AS 241 (PPND16, Applied Statistics 37, 1988): the normal quantile as one of
# three rational functions of degree 7, relative error about 1e-16, no refinement step.
# It replaced Acklam's approximation + a Halley step against erfc (issue 18): a
# third of the time per numeric cell, and as accurate (see docs/model.md, "Output bytes").
# Coefficients lowest degree first, each polynomial evaluated by Horner's rule.
_CENTRAL_SPLIT = 0.425          # |p - 0.5| up to this: the central rational in q^2
_TAIL_SPLIT = 5.0               # sqrt(-log(tail p)) up to this: the near-tail rational
_A = (3.387132872796366608, 133.14166789178437745, 1971.5909503065514427,
      13731.693765509461125, 45921.953931549871457, 67265.770927008700853,
      33430.575583588128105, 2509.0809287301226727)
_B = (1.0, 42.313330701600911252, 687.1870074920579083, 5394.1960214247511077,
      21213.794301586595867, 39307.89580009271061, 28729.085735721942674,
      5226.495278852545925)
_C = (1.42343711074968357734, 4.6303378461565452959, 5.7694972214606914055,
      3.64784832476320460504, 1.27045825245236838258, 0.24178072517745061177,
      0.0227238449892691845833, 7.7454501427834140764e-4)
_D = (1.0, 2.05319162663775882187, 1.6763848301838038494, 0.68976733498510000455,
      0.14810397642748007459, 0.0151986665636164571966, 5.475938084995344946e-4,
      1.05075007164441684324e-9)
_E = (6.6579046435011037772, 5.4637849111641143699, 1.7848265399172913358,
      0.29656057182850489123, 0.026532189526576123093, 0.0012426609473880784386,
      2.71155556874348757815e-5, 2.01033439929228813265e-7)
_F = (1.0, 0.59983220655588793769, 0.13692988092273580531, 0.0148753612908506148525,
      7.868691311456132591e-4, 1.8463183175100546818e-5, 1.4215117583164458887e-7,
      2.04426310338993978564e-15)
# Below this a truncated normal's mass is (nearly) denormal: its quantile's refinement
# step would overflow, and the exponential tail limit is exact to many digits anyway.
_TINY_MASS = 1e-280

# Rows per step of ``_transpose_into``: 64 rows of up to a few hundred columns stay in L2.
_TRANSPOSE_ROWS = 64
# Rows per step of a bin inversion (``_invert_rows``): its scratch stays in L1.
_INVERT_ROWS = 128


@kernel
def _row_configs(codes, node, n_parents, parent_index, parent_map_offset, parent_map,
                 parent_stride, out):
    """Each row's parent configuration (table row) of ``node``: the sum over its parents
    of the parent's mapped state times its stride (``model.kernel_tables``' arrays, as in
    ``_forward_sample``, which calls it per node) into ``out`` (int64[n]). The unsigned
    index lets LLVM vectorise the gather (a signed one needs the negative-index check)."""
    n = codes.shape[0]
    for i in range(n):
        out[i] = 0
    for s in range(n_parents[node]):
        parent = parent_index[node, s]
        offset = parent_map_offset[node, s]
        stride = parent_stride[node, s]
        for i in range(n):
            out[i] += parent_map[np.uint64(offset + codes[i, parent])] * stride


@kernel
def _forward_sample(order, n_parents, parent_index, parent_map_offset, parent_map,
                    parent_stride, card, table_offset, cdf, evidence_offset, evidence,
                    is_evidence, uniforms, codes_out, weight_out):
    """Ancestral sampling of discrete states with likelihood-weighted soft evidence.

    Parameters
    ----------
    order : int64[d]            topological order of the nodes
    n_parents : int64[d]        number of parents of each node
    parent_index : int64[d, P]  parent node of each (node, slot)
    parent_map_offset : int64[d, P]  where the (node, slot) state map starts in parent_map
    parent_map : int64[:]       parent code -> parent state used by the child's table
    parent_stride : int64[d, P] stride of each parent state in the child's table row index
    card : int64[d]             number of states of each node
    table_offset : int64[d]     where each node's table starts in ``cdf``
    cdf : float64[:]            row-wise cumulative conditional probabilities, last = 1
    evidence_offset : int64[d]  where each node's evidence weights start in ``evidence``
    evidence : float64[:]       per-state likelihood of the evidence, in [0, 1]
    is_evidence : bool[d]       whether a node carries evidence
    uniforms : float64[n, d]    one uniform per row and node (column = node index)
    codes_out : int64[n, d]     sampled states (output)
    weight_out : float64[n]     likelihood weight of each row (output): the product, over
                                evidence nodes, of P(evidence | sampled parents)

    Evidence nodes are drawn from P(state | parents) * evidence(state), renormalised, and
    the row is weighted by the normaliser. That is likelihood weighting: the weighted rows
    follow P(rows | evidence), parents included. Fixing a node without the weight would be
    an intervention instead.

    Node by node, all rows at a time (not row by row): one node's table stays in cache
    while every row reads it, which is several times faster on wide models with large
    tables; the arithmetic per row is unchanged, so codes and weights are identical. Pass
    ``codes_out`` and ``uniforms`` in Fortran order (``draw_states`` does) so each node's
    column is contiguous: a C-ordered ``uniforms`` costs a cache line per cell read.
    """
    n = uniforms.shape[0]
    d = order.shape[0]
    cfg = np.empty(n, dtype=np.int64)
    for i in range(n):
        weight_out[i] = 1.0
    for t in range(d):
        j = order[t]
        _row_configs(codes_out, j, n_parents, parent_index, parent_map_offset, parent_map,
                     parent_stride, cfg)
        k_card = card[j]
        if is_evidence[j]:
            eb = evidence_offset[j]
            for i in range(n):
                base = table_offset[j] + cfg[i] * k_card
                total = 0.0
                prev = 0.0
                for k in range(k_card):
                    c = cdf[base + k]
                    total += (c - prev) * evidence[eb + k]
                    prev = c
                chosen = 0
                if total > 0.0:
                    target = uniforms[i, j] * total
                    acc = 0.0
                    prev = 0.0
                    for k in range(k_card):
                        c = cdf[base + k]
                        p = (c - prev) * evidence[eb + k]
                        prev = c
                        if p > 0.0:
                            chosen = k
                            acc += p
                            if target < acc:
                                break
                codes_out[i, j] = chosen
                weight_out[i] *= total
        else:
            for i in range(n):
                codes_out[i, j] = _cdf_count(cdf, table_offset[j] + cfg[i] * k_card, k_card,
                                             uniforms[i, j])


@kernel
def _cdf_count(cdf, base, k_card, u):
    """The state a uniform ``u`` falls in: the first k with ``u < cdf[base + k]``, or
    ``k_card - 1`` (the last state, whose CDF is 1). Rows of ``cdf`` never decrease, so
    that is the number of the first ``k_card - 1`` entries at most ``u``: a count with no
    branch on ``u``, which LLVM vectorises. A binary search was slower for every level
    count of the wide benchmarks (3 to 50): its branch on a random ``u`` mispredicts half
    the time (issue 18). The unsigned index skips numba's negative-index wraparound,
    whose branch kept the loop from vectorising."""
    count = 0
    for k in range(k_card - 1):
        count += np.int64(cdf[np.uint64(base + k)] <= u)
    return count


@kernel
def _transpose_into(source, out):
    """``out[:] = source`` for a C-ordered ``source`` and a Fortran-ordered ``out`` of the
    same (n, d) shape, a few rows at a time so the rows read stay in cache while each
    column's short run is written (numpy's copy between the two orders reads with a
    stride of one row per element)."""
    n, d = source.shape
    for r0 in range(0, n, _TRANSPOSE_ROWS):
        r1 = min(n, r0 + _TRANSPOSE_ROWS)
        for j in range(d):
            for i in range(r0, r1):
                out[i, j] = source[i, j]


@kernel
def _within_bin_values(codes, missing_state, knot_x, knot_c, n_knots, cdf_lo, cdf_hi,
                       uniforms, round_to_integer, out):
    """Numeric values inside their bins by inverting each bin's piecewise-linear CDF.

    Parameters
    ----------
    codes : int64[n]            bin of each row (``missing_state`` means missing)
    missing_state : int         the state that stands for a missing value (-1: none)
    knot_x, knot_c : float64[B, K]  CDF knots of each bin (x ascending, c from 0 to 1)
    n_knots : int64[B]          knots used by each bin
    cdf_lo, cdf_hi : float64[B] the part of each bin's CDF allowed (a numeric range)
    uniforms : float64[n]
    round_to_integer : bool     integer columns round to the nearest whole number
    out : float64[n]            values (output); NaN for missing
    """
    n = codes.shape[0]
    keys = _segment_keys(knot_c, n_knots)
    segments = np.empty(_INVERT_ROWS, dtype=np.int64)
    for start in range(0, n, _INVERT_ROWS):
        stop = min(n, start + _INVERT_ROWS)
        for i in range(start, stop):          # the levels first, inverted in place
            b = codes[i]
            out[i] = np.nan if b == missing_state else \
                cdf_lo[b] + uniforms[i] * (cdf_hi[b] - cdf_lo[b])
        _invert_rows(knot_x, knot_c, n_knots, keys, codes, missing_state, out, start, stop,
                     round_to_integer, segments, out)


@kernel
def _ndtr_many(x, out):
    """``_ndtr`` of every element of ``x`` into ``out`` (both 1-d float64)."""
    for i in range(x.shape[0]):
        out[i] = _ndtr(x[i])


@kernel
def _ndtri_many(p, out):
    """``_ndtri`` of every element of ``p`` into ``out``; NaN stays NaN."""
    for i in range(p.shape[0]):
        out[i] = p[i] if math.isnan(p[i]) else _ndtri(p[i])


# The normal CDF is Cephes' ``ndtr`` (Moshier), the one scipy.special.ndtr computes: the
# same rational functions in the same order, so it returns scipy's doubles bit for bit
# (tests/engine/sampling/test_kernels.py) and sampling agrees with the fit, which uses
# scipy's. It replaced ``0.5 * math.erfc(-x / sqrt 2)``: numba's erfc is a series of up to
# 25 terms in |x| < 1.5, 35 ns a call where most latent arguments lie, against 22 ns here
# (issue 18, session 6; the two differ by at most ~4e-14 relative, docs/model.md).
# Coefficients highest degree first, as in Cephes; Q, S and U have a leading 1 left out.
_NDTR_P = (2.46196981473530512524E-10, 5.64189564831068821977E-1, 7.46321056442269912687E0,
           4.86371970985681366614E1, 1.96520832956077098242E2, 5.26445194995477358631E2,
           9.34528527171957607540E2, 1.02755188689515710272E3, 5.57535335369399327526E2)
_NDTR_Q = (1.32281951154744992508E1, 8.67072140885989742329E1, 3.54937778887819891062E2,
           9.75708501743205489753E2, 1.82390916687909736289E3, 2.24633760818710981792E3,
           1.65666309194161350182E3, 5.57535340817727675546E2)
_NDTR_R = (5.64189583547755073984E-1, 1.27536670759978104416E0, 5.01905042251180477414E0,
           6.16021097993053585195E0, 7.40974269950448939160E0, 2.97886665372100240670E0)
_NDTR_S = (2.26052863220117276590E0, 9.39603524938001434673E0, 1.20489539808096656605E1,
           1.70814450747565897222E1, 9.60896809063285878198E0, 3.36907645100081516050E0)
_NDTR_T = (9.60497373987051638749E0, 9.00260197203842689217E1, 2.23200534594684319226E3,
           7.00332514112805075473E3, 5.55923013010394962768E4)
_NDTR_U = (3.35617141647503099647E1, 5.21357949780152679795E2, 4.59432382970980127987E3,
           2.26290000613890934246E4, 4.92673942608635921086E4)
_MAX_LOG = 7.09782712893383996732E2      # exp(-x^2) underflows beyond x^2 > this
_SQRT_HALF = 0.7071067811865476


@kernel
def _ndtr(x):
    """Standard normal CDF (Cephes ndtr: scipy.special.ndtr's doubles); NaN stays NaN."""
    if math.isnan(x):
        return x
    t = x * _SQRT_HALF
    z = abs(t)
    if z < 1.0:                                 # 0.5 + 0.5 erf(t), erf's central rational
        zz = t * t
        return 0.5 + 0.5 * (t * _polevl(_NDTR_T, zz) / _p1evl(_NDTR_U, zz))
    if z * z > _MAX_LOG:                        # Cephes' underflow: erfc(z) is 0
        tail = 0.0
    elif z < 8.0:
        tail = 0.5 * (math.exp(-z * z) * _polevl(_NDTR_P, z) / _p1evl(_NDTR_Q, z))
    else:
        tail = 0.5 * (math.exp(-z * z) * _polevl(_NDTR_R, z) / _p1evl(_NDTR_S, z))
    return 1.0 - tail if t > 0.0 else tail


@kernel
def _polevl(c, x):
    """c[0] x^N + ... + c[N] (Cephes' polevl: highest degree first), by Horner's rule."""
    y = c[0]
    for k in range(1, len(c)):
        y = y * x + c[k]
    return y


@kernel
def _p1evl(c, x):
    """x^N + c[0] x^(N-1) + ... + c[N-1] (Cephes' p1evl: the leading 1 left out)."""
    y = x + c[0]
    for k in range(1, len(c)):
        y = y * x + c[k]
    return y


@kernel
def _ndtri(p):
    """Standard normal quantile (AS 241); -inf at 0 and +inf at 1.

    Both tails are computed from the smaller of p and 1 - p (1 - p is exact for p > 0.5),
    so the upper tail keeps its precision."""
    if p <= 0.0:
        return -np.inf
    if p >= 1.0:
        return np.inf
    q = p - 0.5
    if abs(q) <= _CENTRAL_SPLIT:
        r = 0.180625 - q * q
        return q * _horner(_A, r) / _horner(_B, r)
    r = math.sqrt(-math.log(p if q < 0.0 else 1.0 - p))
    if r <= _TAIL_SPLIT:
        x = _horner(_C, r - 1.6) / _horner(_D, r - 1.6)
    else:
        x = _horner(_E, r - _TAIL_SPLIT) / _horner(_F, r - _TAIL_SPLIT)
    return -x if q < 0.0 else x


@kernel
def _horner(c, x):
    """c[0] + c[1] x + ... + c[7] x^7 (a tuple of 8 coefficients), by Horner's rule."""
    return (((((((c[7] * x + c[6]) * x + c[5]) * x + c[4]) * x + c[3]) * x + c[2]) * x
             + c[1]) * x + c[0])


@kernel
def _segment_keys(knot_c, n_knots):
    """Each bin's knot levels that can start a segment after the first, for
    ``_invert_rows``: row b holds knot_c[b, 1 .. n_knots[b] - 2], then NaN up to the
    widest bin's count (float64[B, max(n_knots) - 2]; NaN is never <= a level)."""
    n_bins = knot_c.shape[0]
    width = max(np.max(n_knots) - 2, 0) if n_bins else 0
    keys = np.full((n_bins, width), np.nan)
    for b in range(n_bins):
        for k in range(1, n_knots[b] - 1):
            keys[b, k - 1] = knot_c[b, k]
    return keys


@kernel
def _invert_rows(knot_x, knot_c, n_knots, keys, codes, missing_state, levels, start, stop,
                 round_to_integer, segments, out):
    """Rows start..stop: the value of bin ``codes[i]`` at within-bin CDF level
    ``levels[i]`` into ``out[i]`` (NaN for missing; ``out`` may be ``levels``), rounded for
    an integer column. ``keys``: ``_segment_keys(knot_c, n_knots)``, built once per
    kernel call; ``segments``: int64 scratch of ``stop - start`` or more.

    A row's segment is the last lo in 0..m-2 with knot_c[b, lo] <= q (0 if none): the
    knots' c ascend, so it is the count of keys[b] at most q. A count over the same width
    for every bin has no branch on q or on the bin and LLVM vectorises it (the branch-free
    halving it replaced changed its trip count with the bin). All the rows' counts come
    first, then the interpolations: fused, each row's count, loads and division were one
    chain the core waited on; apart, 22-27 ns a row became 7-10 (issue 18, session 6)."""
    for i in range(start, stop):
        b = codes[i]
        b = 0 if b == missing_state else b      # any bin: a missing row's count is unused
        q = levels[i]
        count = 0
        for k in range(keys.shape[1]):
            count += np.int64(keys[b, k] <= q)
        segments[i - start] = count
    for i in range(start, stop):
        b = codes[i]
        if b == missing_state:
            out[i] = np.nan
        elif n_knots[b] == 1:                   # a point mass
            out[i] = knot_x[b, 0]
        else:
            lo = segments[i - start]
            c0, c1 = knot_c[b, lo], knot_c[b, lo + 1]
            # on a flat segment, its right end
            out[i] = knot_x[b, lo] + (levels[i] - c0) / (c1 - c0) * (
                knot_x[b, lo + 1] - knot_x[b, lo]) if c1 > c0 else knot_x[b, lo + 1]
    if round_to_integer:
        for i in range(start, stop):
            out[i] = np.floor(out[i] + 0.5)


@kernel
def _truncated_normal(a, c, u):
    """The standard normal's ``u``-quantile restricted to [a, c] (a < c; either may be
    infinite)."""
    base, mass = _truncation(a, c)
    return _truncated_quantile(a, c, base, mass, u)


@kernel
def _truncation(a, c):
    """(base, mass) of N(0, 1) on [a, c]: from the upper tail (survival at ``a``) when
    a > 0, so the probabilities keep their precision, else from the CDF at ``a``."""
    if a > 0.0:
        sa = _ndtr(-a)
        return sa, sa - _ndtr(-c)
    fa = _ndtr(a)
    return fa, _ndtr(c) - fa


@kernel
def _truncated_quantile(a, c, base, mass, u):
    """``_truncated_normal`` given its ``_truncation`` (computed once, used per row)."""
    if a > 0.0:
        if mass > _TINY_MASS:
            return -_ndtri(base - u * mass)
        return _exponential_edge(a, c - a, u)
    if mass > _TINY_MASS:
        return _ndtri(base + u * mass)
    return -_exponential_edge(-c, c - a, 1.0 - u)


@kernel
def _exponential_edge(edge, span, u):
    """Far in a tail, N(0, 1) beyond ``edge`` > 0 is edge + Exp(rate edge): its
    ``u``-quantile on [edge, edge + span]."""
    rate = max(edge, 1e-12)
    return edge - math.log1p(-u * -math.expm1(-rate * span)) / rate


@kernel
def _pick_weighted_cell(weights, g_cells, target):
    """The cell of ``weights[:g_cells]`` that ``target`` (in [0, their total)) falls in,
    and its relative position in that cell, clipped to [0, 1]."""
    acc = 0.0
    chosen = g_cells - 1
    for g in range(g_cells):
        if weights[g] > 0.0 and target < acc + weights[g]:
            chosen = g
            break
        acc += weights[g]
    r = (target - acc) / weights[chosen] if weights[chosen] > 0.0 else 0.5
    return chosen, min(max(r, 0.0), 1.0)


@kernel
def _tilted_levels(codes, missing_state, grid_z, grid_level, child_codes, child_mean,
                   child_beta, child_sigma, child_edges, uniforms, level_out):
    """Within-bin levels of a numeric parent, tilted towards what its children's bins say.

    A child that tracks this node inside the bins (``fit_within_bin``) has latent
    ``N(child_mean + beta * (z - zbar), sigma)``: the bin it was given in the discrete
    draw is evidence about where inside its own bin this node lies. The node's within-bin
    distribution is cut into G equal-probability cells (``grid_z``: each cell's midpoint on
    the copula scale minus the bin's mean score; ``grid_level``: the cell edges as
    within-bin levels, G + 1 of them); cell g gets the weight prod over children of
    P(child bin | z_g), the uniform picks a cell by those weights and its remainder places
    the level uniformly inside the cell.

    Parameters
    ----------
    codes : int64[n]               this node's bin (``missing_state``: missing)
    grid_z : float64[B, G]         cell midpoints, offset from the bin's mean score
    grid_level : float64[B, G + 1] cell edges as within-bin CDF levels
    child_codes : int64[n, C]      each child's bin (-1: missing, no evidence)
    child_mean : float64[n, C]     each child's latent mean without this node's offset
    child_beta, child_sigma : float64[C]
    child_edges : float64[C, K]    each child's bin edges on the copula scale (-inf..inf)
    uniforms : float64[n]
    level_out : float64[n]         the chosen within-bin levels (NaN for missing)
    """
    n = codes.shape[0]
    g_cells = grid_z.shape[1]
    n_children = child_codes.shape[1]
    weights = np.empty(g_cells)
    for i in range(n):
        b = codes[i]
        if b == missing_state:
            level_out[i] = np.nan
            continue
        total = 0.0
        for g in range(g_cells):
            w = 1.0
            for k in range(n_children):
                cb = child_codes[i, k]
                if cb < 0:
                    continue
                m = child_mean[i, k] + child_beta[k] * grid_z[b, g]
                s = child_sigma[k]
                lo = (child_edges[k, cb] - m) / s
                hi = (child_edges[k, cb + 1] - m) / s
                if lo > 0.0:
                    p = _ndtr(-lo) - _ndtr(-hi)
                else:
                    p = _ndtr(hi) - _ndtr(lo)
                w *= p
            weights[g] = w
            total += w
        u = uniforms[i]
        if total <= 0.0:          # no cell explains the children: the plain draw
            level_out[i] = grid_level[b, 0] + u * (grid_level[b, g_cells] - grid_level[b, 0])
            continue
        chosen, r = _pick_weighted_cell(weights, g_cells, u * total)
        lo_l = grid_level[b, chosen]
        level_out[i] = lo_l + r * (grid_level[b, chosen + 1] - lo_l)


@kernel
def _bin_edge_scores(cum, cdf_lo, cdf_hi, z_lo, z_hi):
    """Each bin's allowed slice on the copula scale: ``z_lo[b]``, ``z_hi[b]`` (outputs,
    float64[B]) are the normal quantiles of ``cum[b] + cdf_lo[b] * width`` and
    ``... cdf_hi[b] * width``: the ends of the slice a latent node's draw is truncated to."""
    for b in range(cdf_lo.shape[0]):
        width = cum[b + 1] - cum[b]
        z_lo[b] = _ndtri(cum[b] + cdf_lo[b] * width)
        z_hi[b] = _ndtri(cum[b] + cdf_hi[b] * width)
