"""numba kernels: arrays in, arrays out, no RNG, no Python objects.

The caller validates inputs, owns the seeded generator and passes uniforms and
preallocated outputs (QuantEcon's ``_generate_sample_paths`` pattern). Each kernel has a
slow, obviously correct reference in ``tests/engine/sampling/naive.py``.
"""

from __future__ import annotations

import numpy as np

from engine._numba import kernel


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
    """
    n = uniforms.shape[0]
    d = order.shape[0]
    for i in range(n):
        w = 1.0
        for t in range(d):
            j = order[t]
            cfg = 0
            for s in range(n_parents[j]):
                parent_code = codes_out[i, parent_index[j, s]]
                cfg += parent_map[parent_map_offset[j, s] + parent_code] * parent_stride[j, s]
            k_card = card[j]
            base = table_offset[j] + cfg * k_card
            u = uniforms[i, j]
            if is_evidence[j]:
                eb = evidence_offset[j]
                total = 0.0
                prev = 0.0
                for k in range(k_card):
                    c = cdf[base + k]
                    total += (c - prev) * evidence[eb + k]
                    prev = c
                chosen = 0
                if total > 0.0:
                    target = u * total
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
                w *= total
            else:
                lo = 0
                hi = k_card - 1
                while lo < hi:
                    mid = (lo + hi) // 2
                    if u < cdf[base + mid]:
                        hi = mid
                    else:
                        lo = mid + 1
                codes_out[i, j] = lo
        weight_out[i] = w


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
    for i in range(n):
        b = codes[i]
        if b == missing_state:
            out[i] = np.nan
            continue
        m = n_knots[b]
        if m == 1:
            x = knot_x[b, 0]
        else:
            q = cdf_lo[b] + uniforms[i] * (cdf_hi[b] - cdf_lo[b])
            # last segment s with knot_c[s] <= q, so flat (zero-mass) segments are skipped
            lo = 0
            hi = m - 2
            while lo < hi:
                mid = (lo + hi + 1) // 2
                if knot_c[b, mid] <= q:
                    lo = mid
                else:
                    hi = mid - 1
            c0 = knot_c[b, lo]
            c1 = knot_c[b, lo + 1]
            x0 = knot_x[b, lo]
            x1 = knot_x[b, lo + 1]
            if c1 > c0:
                x = x0 + (q - c0) / (c1 - c0) * (x1 - x0)
            else:
                x = x1
        if round_to_integer:
            x = np.floor(x + 0.5)
        out[i] = x
