"""numba kernels that gather the sufficient statistics of the network: integer counts.

Small and private: each takes compact integer codes laid out one column per row of a
(columns, rows) array, preallocated int64 output, and only adds to it, so a caller can
run a kernel per partition of the rows and add the outputs (counts merge by sums).
"""

from __future__ import annotations

from engine._numba import kernel


# Rows are turned into cells a block at a time, one column-wise pass per parent over the
# block: a per-row helper call (numba does not inline it) cost ~10x the whole count.
BLOCK_ROWS = 4096


@kernel
def _block_cells(columns, start, stop, child, parent_index, parent_map, map_offset, stride,
                 n_child, cell):
    """cell[i - start] = row i's cell for rows start..stop-1: configuration * n_child +
    child state, where the configuration is the sum over parents s of
    parent_map[map_offset[s] + code of parent s] * stride[s]."""
    m = stop - start
    for i in range(m):
        cell[i] = 0
    for s in range(parent_index.shape[0]):
        col = columns[parent_index[s]]
        base = map_offset[s]
        step = stride[s]
        for i in range(m):
            cell[i] += parent_map[base + col[start + i]] * step
    own = columns[child]
    for i in range(m):
        cell[i] = cell[i] * n_child + own[start + i]


@kernel
def family_counts(columns, child, parent_index, parent_map, map_offset, stride, n_child, out,
                  cell):
    """out[row's cell] += 1 for every row (see ``_block_cells``); ``cell``: int64 scratch
    of ``BLOCK_ROWS``."""
    n = columns.shape[1]
    for start in range(0, n, BLOCK_ROWS):
        stop = min(start + BLOCK_ROWS, n)
        _block_cells(columns, start, stop, child, parent_index, parent_map, map_offset,
                     stride, n_child, cell)
        for i in range(stop - start):
            out[cell[i]] += 1


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
    _block_cells(columns, 0, columns.shape[1], child, parent_index, parent_map, map_offset,
                 stride, n_child, out)


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
