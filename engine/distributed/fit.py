"""A fit whose counts are gathered on Dask workers and merged on the client.

Pass 1 (the client): the partitions are read on the workers (each file with the engine's
own readers, so types come out as a one-process read gives them) and brought to the
client, which cleans the rows and fixes every encoding (levels, bin edges) exactly as the
one-process fit does. Pass 2 (the workers): the encoded codes are cut into one block per
worker, each held by a Dask actor there; every count the fit asks for (screening pairs,
family counts for each score and table) is counted on the workers, block by block, and
added on the client (``statistics.MergedCounts``). Counts are integers, so the model is byte-identical to a
one-process fit of the same rows; the within-bin detail (float sums) is gathered on the
client over the whole table, as in one process, so it is identical too.

Not distributed yet (docs/distributed.md): cleaning and the bin edges need the rows on
the client (mergeable cleaning statistics and quantile sketches would lift that).
"""

from __future__ import annotations

from functools import partial

import numpy as np
import pandas as pd

from engine.errors import SimioError
from engine.io import RawTable, read_table
from engine.model import statistics
from engine.progress import no_progress


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
        futures = [client.submit(BlockCounts, client.scatter(np.ascontiguousarray(
                                     codes[:, a:b]), workers=[worker]), n_states,
                                 actor=True, workers=[worker], pure=False)
                   for worker, a, b in zip(workers, bounds[:-1], bounds[1:]) if b > a]
        self.parts = [future.result() for future in futures]
        self.n_states = np.asarray(n_states, dtype=np.int64)
        self.n_rows = int(codes.shape[1])

    def _each(self, method: str, *args) -> list:
        calls = [getattr(part, method)(*args) for part in self.parts]   # run concurrently
        return [call.result() for call in calls]


class BlockCounts:
    """One block's ``TableCounts``, as a Dask actor on the worker that holds it."""

    def __init__(self, codes: np.ndarray, n_states):
        self.counts = statistics.TableCounts(codes, n_states)

    def family(self, *args):
        return self.counts.family(*args)

    def family_cells(self, *args):
        return self.counts.family_cells(*args)

    def pairs(self, *args):
        return self.counts.pairs(*args)


def fit_raw(synth, raw: RawTable, client, *, n_parts: int, progress=no_progress):
    """``synth.fit(raw)`` with its counts gathered over ``n_parts`` blocks on ``client``."""
    return synth.fit(raw, progress=progress,
                     counts=partial(WorkerCounts, client, n_parts=n_parts))


def fit_dask_frame(synth, frame, *, progress=no_progress):
    """``Synthesizer().fit(dask_dataframe)``: on the cluster of the current Dask client."""
    client = current_client()
    parts = client.gather(client.compute(frame.to_delayed()))
    raw = RawTable(frame=pd.concat(parts, ignore_index=True), source_format="frame")
    return fit_raw(synth, raw, client, n_parts=len(parts), progress=progress)


def fit_files(synth, files: list, client, *, progress=no_progress):
    """Fit on the rows of ``files`` (partitions of one table, in order), read on workers."""
    tables = client.gather(client.map(read_table, [str(f) for f in files], pure=False))
    return fit_raw(synth, combine(tables), client, n_parts=len(tables), progress=progress)


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
