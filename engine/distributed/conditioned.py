"""A conditioned scenario on the cluster: the client allocates, the workers draw.

On the client (``plan``): the scenario is solved and its integer counts per joint cell of
the conditioned columns allocated (``conditional.solve_scenario``,
``conditional.allocate_counts``), with the one-process feasibility check (each cell's
candidates' effective sample size, computed on the workers: ``cell_ess``), so the counts
per cell are the ones ``conditional.draw_conditional`` allocates for the same seed. The
counts are then split over the 65,536-row blocks of the output (a seeded sequential
multivariate hypergeometric split: every block gets ``BLOCK_ROWS`` rows, the last the
rest, and the blocks' counts add up to the allocation exactly).

On a worker (``block_states``): each block's rows are drawn for its own counts, cell by
cell (likelihood-weighted candidates with the cell's levels as hard evidence, seeded by
(cell, block), systematic resampling by weight) and shuffled within the block; the values
are then decoded as every conditioned row is (``blocks.conditioned_rows``).

Guarantees: the shares are exact over the whole dataset (the allocation's counts), every
row lies in the ranges, and the rows depend only on the model, the seed and the row count
(not on the workers, their number or the file size). They are not the one-process rows:
one process shuffles all N rows at once after drawing each cell whole, which no block can
reproduce without drawing every cell (docs/distributed.md).
"""

from __future__ import annotations

import math

import numpy as np

from engine import rng
from engine.sampling import conditional

# Streams of the per-block draw, apart from every one-process stream (3-tuples).
STREAM_SPLIT = (conditional.STREAM_ORDER, 2)
# Cells whose candidates one feasibility task draws (a task per cell costs a round trip).
CELLS_PER_TASK = 16


def plan(client, model, model_file: str, n: int, scenario, seed: int,
         max_upweight: float) -> dict:
    """Solve, allocate (with the workers' feasibility check) and split over the blocks.
    ``spec``: what a worker needs besides the model (which travels as its saved file)."""
    solution = conditional.solve_scenario(model, n, scenario, max_upweight, seed)
    counts = conditional.allocate_counts(solution.q, solution.margins, solution.rows)
    rows = solution.rows
    spec = {"lam": solution.lam, "cond_nodes": solution.cond_nodes, "dims": solution.dims}
    cells = [int(c) for c in np.flatnonzero(counts.ravel())]
    needs = [int(counts.ravel()[c]) for c in cells]
    ess = _gathered_ess(client, model_file, spec, seed, cells, needs)
    feasible = rows
    for need, e in zip(needs, ess):
        feasible = min(feasible, int(rows * min(1.0, e * conditional.MAX_REUSE / need)))
    if feasible < rows:
        rows = feasible
        counts = (conditional.allocate_counts(solution.q, solution.margins, rows) if rows
                  else np.zeros_like(counts))
    if rows == 0:
        raise conditional._no_row()
    flat = counts.ravel().astype(np.int64)
    return {"solution": solution, "spec": spec, "rows": rows, "cells": np.flatnonzero(flat),
            "block_counts": split_over_blocks(flat[flat > 0], rows, seed)}


def split_over_blocks(counts: np.ndarray, rows: int, seed: int) -> np.ndarray:
    """(blocks, cells) counts: block b takes its rows from what the earlier ones left."""
    generator = rng.block_generator(seed, STREAM_SPLIT, 0)
    n_blocks = math.ceil(rows / rng.BLOCK_ROWS)
    left = counts.astype(np.int64).copy()
    out = np.zeros((n_blocks, len(counts)), dtype=np.int64)
    for b in range(n_blocks):
        take = min(rng.BLOCK_ROWS, int(left.sum()))
        out[b] = left if take == left.sum() else generator.multivariate_hypergeometric(
            left, take, method="marginals")
        left -= out[b]
    return out


def _gathered_ess(client, model_file, spec, seed, cells, needs) -> list[float]:
    tasks = [client.submit(cell_ess, model_file, spec, cells[i:i + CELLS_PER_TASK],
                           needs[i:i + CELLS_PER_TASK], seed, pure=False)
             for i in range(0, len(cells), CELLS_PER_TASK)]
    return [e for part in client.gather(tasks) for e in part]


def cell_ess(model_file, spec, cells, needs, seed) -> list[float]:
    """Each cell's candidates' effective sample size, as ``draw_conditional`` checks it
    (the same candidates: same streams; a cell too thin for the model's pool is refused
    there and here alike)."""
    from engine.distributed.dataset import _load
    from engine.sampling.evidence_tables import FoldedEvidence

    model = _load(model_file).model_
    pool = _pool(model, spec, seed)
    folded = FoldedEvidence(model, spec["lam"])
    uniforms = conditional._UniformBuffer(len(model.encodings_))
    return [conditional._cell_candidates(folded, cell, need, spec["cond_nodes"], spec["dims"],
                                         seed, pool, uniforms)[2]
            for cell, need in zip(cells, needs)]


def _pool(model, spec, seed):
    """The model's pool under the ranges (drawn only if a cell needs it), as one process
    draws it."""
    return conditional._Pool(model, spec["lam"], seed, spec["cond_nodes"], spec["dims"])


def block_states(model, spec, cells, counts: np.ndarray, seed: int, block: int,
                 pool=None) -> np.ndarray:
    """Block ``block``'s drawn states: ``counts[i]`` rows of joint cell ``cells[i]``, each
    cell's candidates drawn with the range evidence folded into the tables and the cell's
    levels as hard evidence (``FoldedEvidence``, as one process draws them), on the
    block's own streams."""
    from engine.sampling._conditional_kernels import _systematic_picks
    from engine.sampling.evidence_tables import FoldedEvidence

    parts = []
    d = len(model.encodings_)
    pool = pool if pool is not None else _pool(model, spec, seed)
    folded = FoldedEvidence(model, spec["lam"])
    for cell, need in zip(cells, counts):
        if not need:
            continue
        hard = dict(zip(spec["cond_nodes"],
                        (int(k) for k in np.unravel_index(int(cell), spec["dims"])))) \
            if spec["cond_nodes"] else {}
        n_candidates = max(math.ceil(conditional.THIN_OVERSAMPLE * need),
                           conditional.MIN_CANDIDATES)
        stream = (conditional.STREAM_CELL, int(cell), block)
        codes, w = folded.draw(rng.block_uniforms(seed, stream, 0, n_candidates, d), hard)
        if not w.sum() > 0:          # the cell's mass lies in the model's pool only
            pool_codes, pool_w, cell_of_pool = pool.draw()
            codes, w = pool_codes[cell_of_pool == cell], pool_w[cell_of_pool == cell]
        picks = np.empty(int(need), dtype=np.int64)
        u = rng.block_generator(seed, (conditional.STREAM_RESAMPLE, int(cell), block), 0).random()
        _systematic_picks(np.cumsum(w), u, picks)
        parts.append(codes[picks])
    states = np.concatenate(parts)
    order = rng.block_generator(seed, (conditional.STREAM_ORDER, 1), block).permutation(
        states.shape[0])
    return states[order]
