"""A fit on Dask workers: a first pass for the cleaning, counts gathered on the workers.

1. Read (workers): each partition is read by a worker with the engine's own readers (types
   as a one-process read gives them) and stays there.
2. Sample (workers, then client): a bounded, seeded row sample (``first_pass``: the rows
   with the smallest hashed row numbers, ``SAMPLE_ROWS`` at most) comes to the client,
   which cleans it and fixes the encodings (levels, bin edges) from it.
3. Clean (workers): each worker applies those decisions to its partitions
   (``first_pass.clean_partition``) and reports exact per-column summaries (rows,
   missing counts, min/max), merged on the client into the schema; encodes them into
   codes, one byte per cell, held by a Dask actor per worker.
4. Count (workers): every count the fit asks for (screening pairs, family counts for each
   score and table) is counted where the codes live and added on the client
   (``statistics.MergedCounts``): the discrete structure and tables are exact over all rows.
5. Detail (client): the within-bin regressions (float moments) are taken from the sample.

A table of at most ``SAMPLE_ROWS`` rows is its own sample: the model is byte-identical to
a one-process fit of the same rows. A larger one is an approximation in steps 2 and 5
only (docs/distributed.md measures it). The client holds the sample and, for the seed
marginals, one byte per row of each conditionable column.
"""

from __future__ import annotations

from functools import partial

import numpy as np
import pandas as pd

from engine.errors import SimioError
from engine.io import RawTable, read_table
from engine.model import statistics
from engine.model.node_detail import NodeFitter
from engine.progress import no_progress
from engine.distributed import first_pass
from engine.distributed.first_pass import SAMPLE_ROWS


class WorkerCounts(statistics.MergedCounts):
    """Counts over row blocks held by Dask workers: each query runs on every block where it
    lives, the answers are added here (the same answers as one ``TableCounts``).

    A block lives in a Dask actor (``BlockCounts``) on its worker: a query is one direct
    call per block, not a scheduled task (a fit asks a few hundred small queries in
    sequence; a task's scheduling round trip per block would cost more than counting).
    One block per worker, since more blocks than workers only add calls.
    """

    def __init__(self, client, codes: np.ndarray, n_states, *, n_parts: int):
        workers = sorted(client.scheduler_info()["workers"])
        n_parts = max(1, min(n_parts, len(workers)))
        bounds = np.linspace(0, codes.shape[1], n_parts + 1).astype(np.int64)
        # scattered first: a block is data for its worker, not part of the task graph
        self._start(client, {worker: [client.scatter(np.ascontiguousarray(codes[:, a:b]),
                                                     workers=[worker])]
                             for worker, a, b in zip(workers, bounds[:-1], bounds[1:])
                             if b > a}, n_states)

    @classmethod
    def of_blocks(cls, client, blocks: list, n_states) -> "WorkerCounts":
        """Counts over code blocks already on the workers (futures): one actor per worker
        holding that worker's blocks, so no codes move."""
        from distributed import wait

        wait(blocks)
        where = client.who_has(blocks)
        by_worker: dict = {}
        for block in blocks:
            by_worker.setdefault(sorted(where[block.key])[0], []).append(block)
        counts = cls.__new__(cls)
        counts._start(client, by_worker, n_states)
        return counts

    def _start(self, client, by_worker: dict, n_states) -> None:
        futures = [client.submit(BlockCounts, n_states, *blocks, actor=True, workers=[worker],
                                 pure=False) for worker, blocks in by_worker.items()]
        self.parts = [future.result() for future in futures]
        self.n_states = np.asarray(n_states, dtype=np.int64)
        self.n_rows = sum(part.n_rows().result() for part in self.parts)

    def _each(self, method: str, *args) -> list:
        calls = [getattr(part, method)(*args) for part in self.parts]   # run concurrently
        return [call.result() for call in calls]


class BlockCounts:
    """One worker's blocks as one ``TableCounts``, a Dask actor on that worker."""

    def __init__(self, n_states, *blocks: np.ndarray):
        codes = blocks[0] if len(blocks) == 1 else np.concatenate(blocks, axis=1)
        self.counts = statistics.TableCounts(codes, n_states)

    def n_rows(self) -> int:
        return self.counts.n_rows

    def family(self, *args):
        return self.counts.family(*args)

    def family_cells(self, *args):
        return self.counts.family_cells(*args)

    def pairs(self, *args):
        return self.counts.pairs(*args)


class SampleNodeFitter(NodeFitter):
    """The detail's moments over the sample's rows; the value-scale probit's sums are
    scaled by ``scale`` (all rows / sample rows) to the counts they meet, which are over
    all rows. ``scale`` 1 (the sample is the table) leaves every sum as one process has it."""

    def __init__(self, *args, scale: float = 1.0):
        super().__init__(*args)
        self.scale = scale

    def _added(self, block_sums):
        from engine.model.detail_moments import LinearSums

        total = super()._added(block_sums)
        if self.scale != 1.0 and isinstance(total, LinearSums):
            total = LinearSums(total.sum_x * self.scale, total.sum_xx * self.scale,
                               total.shift)
        return total


def fit_partitions(synth, tables: list, client, *, sample_rows: int = SAMPLE_ROWS,
                   progress=no_progress):
    """Fit ``synth`` on the partitions ``tables`` (futures of ``RawTable``s on the workers,
    in row order; pass them only here, so the workers can drop them once encoded); only a
    sample of at most ``sample_rows`` rows comes to the client."""
    from engine.cleaning import clean
    from engine.model.network import BayesianNetworkModel

    lengths = client.gather(client.map(first_pass.frame_rows, tables))
    firsts = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(int).tolist()
    progress("read", note=f"{sum(lengths):,} rows in {len(tables)} partition(s)")
    parts = client.gather(client.map(first_pass.partition_sample, tables, firsts,
                                     [sample_rows] * len(tables)))
    sample = combine(first_pass.merge_samples(parts, sample_rows))
    del parts
    progress("clean")
    result = clean(sample, auto_clean=bool(synth.auto_clean),
                   text_min_count=synth.text_min_count)
    columns = list(result.schema)
    cleaned = client.map(first_pass.clean_partition, tables, columns=columns, pure=False)
    stats = first_pass.merged_stats(client.gather(client.map(first_pass.column_stats,
                                                             cleaned)))
    if not stats["rows"]:
        raise SimioError("simio_no_data_rows", "the cleaned table has no rows to learn from")
    schema = first_pass.exact_schema(result.schema, stats)
    progress("clean", note=f"{len(schema)} columns kept")
    encodings = first_pass.sample_encodings(schema, result.frame, result.relations, stats)
    n_states = [enc.n_states for enc in encodings]
    blocks = client.map(first_pass.encode_partition, cleaned, encodings=encodings,
                        columns=columns, pure=False)
    del cleaned, tables     # the workers drop the raw and cleaned rows once encoded
    model = BayesianNetworkModel(max_parents=synth.max_parents).fit(
        result.frame, schema, result.relations, progress=progress, encodings=encodings,
        counts=lambda _codes, _n: WorkerCounts.of_blocks(client, blocks, n_states),
        node_fitter=partial(SampleNodeFitter, scale=stats["rows"] / len(result.frame)))
    model.n_training_rows_ = int(stats["rows"])
    synth.model_, synth.schema_ = model, schema
    synth.cleaning_summary_ = {**result.summary, "input_rows": int(sum(lengths)),
                               "clean_rows": int(stats["rows"])}
    synth.cleaning_decisions_ = result.decisions
    synth.seed_marginals_ = _seed_marginals(client, model, blocks)
    return synth


def _seed_marginals(client, model, blocks):
    """``count_marginals`` over every row: the conditionable columns' codes come to the
    client (one byte per cell), in row order."""
    from engine.quality import seed_marginals

    nodes = [j for j, enc in enumerate(model.encodings_)
             if not model.schema_[enc.name].conditioning_excluded
             and enc.n_states <= seed_marginals.MAX_STATES]
    codes = np.concatenate(client.gather(client.map(first_pass.rows_of, blocks, nodes=nodes)),
                           axis=1)
    return seed_marginals.from_codes(nodes, [model.encodings_[j].n_states for j in nodes],
                                     list(codes), None)


def fit_dask_frame(synth, frame, *, progress=no_progress):
    """``Synthesizer().fit(dask_dataframe)``: on the cluster of the current Dask client."""
    import dask

    client = current_client()
    return fit_partitions(synth, client.compute([dask.delayed(_as_raw)(part)
                                                 for part in frame.to_delayed()]),
                          client, progress=progress)


def fit_files(synth, files: list, client, *, sample_rows: int = SAMPLE_ROWS,
              progress=no_progress):
    """Fit on the rows of ``files`` (partitions of one table, in order), read on workers."""
    return fit_partitions(synth, client.map(read_table, [str(f) for f in files], pure=False),
                          client, sample_rows=sample_rows, progress=progress)


def _as_raw(frame: pd.DataFrame) -> RawTable:
    return RawTable(frame=frame, source_format="frame")


def combine(tables: list[RawTable]) -> RawTable:
    """One table from its partitions: rows in order; metadata (labels, level order) from
    the partitions, the first one's where they disagree."""
    first = tables[0]
    names = list(first.frame.columns)
    for table in tables[1:]:
        if list(table.frame.columns) != names:
            raise SimioError("simio_invalid_field",
                             f"partitions must share their columns: {names} and "
                             f"{list(table.frame.columns)} differ")
    merged = RawTable(frame=pd.concat([t.frame for t in tables], ignore_index=True),
                      source_format=first.source_format)
    for table in reversed(tables):
        merged.variable_labels.update(table.variable_labels)
        merged.value_labels.update(table.value_labels)
        merged.level_order.update(table.level_order)
        merged.ordered |= table.ordered
    return merged


def current_client(purpose: str = "fitting a Dask DataFrame"):
    from distributed import get_client

    try:
        return get_client()
    except ValueError:
        raise SimioError("simio_cluster_unavailable",
                         f"{purpose} needs a Dask client: create one first "
                         "(distributed.Client(address)) or pass client=") from None
