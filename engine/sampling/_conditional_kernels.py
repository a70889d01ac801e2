"""numba kernels of the conditioned fill (``conditional``): picking a cell's rows from its
weighted candidates and writing them straight into their final positions. Same rules as
``_kernels``: arrays in, preallocated arrays out, no RNG (the caller passes the uniform);
naive references in ``tests/engine/sampling/test_conditional_kernels.py``.
"""

from __future__ import annotations

from engine._numba import kernel


@kernel
def _systematic_picks(cumulative, u, out):
    """Systematic resampling: ``out[r]`` = the first index whose cumulative weight exceeds
    ``(u + r) / n * total`` (``np.searchsorted(..., side="right")``, clamped to the last
    candidate), in one merge-like pass since those positions increase with ``r``.

    Parameters
    ----------
    cumulative : float64[m], nondecreasing, ``cumulative[-1] > 0``
    u : float in [0, 1)
    out : int64[n], filled with nondecreasing candidate indices
    """
    n, m = out.shape[0], cumulative.shape[0]
    total = cumulative[m - 1]
    idx = 0
    for r in range(n):
        position = (u + r) / n * total
        while idx < m and cumulative[idx] <= position:
            idx += 1
        out[r] = idx if idx < m else m - 1


@kernel
def _scatter_rows(source, picks, positions, out):
    """``out[positions[r], j] = source[picks[r], j]`` for every row ``r`` and column ``j``.

    Column by column: ``out`` is Fortran-ordered (a column per node, as the decode reads
    it), so each column is one pass. ``positions`` are distinct, so disjoint runs of ``r``
    can be written by different threads with the same result.

    Parameters
    ----------
    source : int64[m, d] candidate states
    picks : int64[k] rows of ``source``
    positions : int64[k] distinct rows of ``out``
    out : int64[n, d]
    """
    for j in range(source.shape[1]):
        for r in range(picks.shape[0]):
            out[positions[r], j] = source[picks[r], j]


@kernel
def _evidence_weights(codes, nodes, n_parents, parent_index, parent_map_offset, parent_map,
                      parent_stride, normaliser_offset, normalisers, weight_out):
    """Each row's likelihood weight: the product over evidence ``nodes`` of the node's
    normaliser ``P(evidence | parents)`` at the row's parent configuration (computed as
    ``_kernels._forward_sample`` computes it).

    Parameters
    ----------
    codes : int64[n, d] sampled states
    nodes : int64[e] the evidence nodes
    n_parents, parent_index, parent_map_offset, parent_map, parent_stride : the model's
        kernel tables (``KernelTables``)
    normaliser_offset : int64[e] where node ``nodes[t]``'s normalisers start
    normalisers : float64[:] per node, one normaliser per parent configuration
    weight_out : float64[n]
    """
    for i in range(codes.shape[0]):
        w = 1.0
        for t in range(nodes.shape[0]):
            j = nodes[t]
            cfg = 0
            for s in range(n_parents[j]):
                cfg += parent_map[parent_map_offset[j, s] + codes[i, parent_index[j, s]]] \
                    * parent_stride[j, s]
            w *= normalisers[normaliser_offset[t] + cfg]
        weight_out[i] = w
