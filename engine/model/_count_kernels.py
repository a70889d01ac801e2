"""numba kernels that gather the sufficient statistics of the network: integer counts.

Small and private: each takes compact integer codes laid out one column per row of a
(columns, rows) array, preallocated int64 output, and only adds to it, so a caller can
run a kernel per partition of the rows and add the outputs (counts merge by sums).
"""

from __future__ import annotations

from engine._numba import kernel


@kernel
def _row_cell(columns, i, child, parent_index, parent_map, map_offset, stride, n_child):
    """Row i's cell: configuration * n_child + child state, where the configuration is
    the sum over parents s of parent_map[map_offset[s] + code of parent s] * stride[s]."""
    cfg = 0
    for s in range(parent_index.shape[0]):
        cfg += parent_map[map_offset[s] + columns[parent_index[s], i]] * stride[s]
    return cfg * n_child + columns[child, i]


@kernel
def family_counts(columns, child, parent_index, parent_map, map_offset, stride, n_child, out):
    """out[row's cell] += 1 for every row (see ``_row_cell``)."""
    for i in range(columns.shape[1]):
        out[_row_cell(columns, i, child, parent_index, parent_map, map_offset, stride,
                      n_child)] += 1


@kernel
def pair_counts(columns, first, seconds, n_second, offset, out):
    """Joint counts of column ``first`` with each column of ``seconds``: the table of
    seconds[q] starts at offset[q], row-major (first's state, second's state)."""
    n = columns.shape[1]
    a = columns[first]
    for q in range(seconds.shape[0]):
        b = columns[seconds[q]]
        width = n_second[q]
        base = offset[q]
        for i in range(n):
            out[base + a[i] * width + b[i]] += 1


@kernel
def family_keys(columns, child, parent_index, parent_map, map_offset, stride, n_child, out):
    """out[i] = row i's cell of the family table, for families whose table has far more
    cells than the table has rows."""
    for i in range(columns.shape[1]):
        out[i] = _row_cell(columns, i, child, parent_index, parent_map, map_offset, stride,
                           n_child)


@kernel
def cell_margins(states, weight, moment, one_offset, pair_offset, pair_width, one_w, one_m,
                 pair_w):
    """One- and two-parent margins of a family's cells for the probit's normal equations.

    states: (parents, cells) parent states; weight, moment: per cell. Adds, per parent a,
    weight and moment by a's state at one_offset[a] + state, and per pair a < b the weight
    by (a's state, b's state) at pair_offset[a, b] + state_a * pair_width[b] + state_b.
    """
    p = states.shape[0]
    for i in range(states.shape[1]):
        w = weight[i]
        for a in range(p):
            sa = states[a, i]
            one_w[one_offset[a] + sa] += w
            one_m[one_offset[a] + sa] += moment[i]
            for b in range(a + 1, p):
                pair_w[pair_offset[a, b] + sa * pair_width[b] + states[b, i]] += w
