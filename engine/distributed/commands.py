"""What ``simio train --dask`` and ``simio generate --dask`` do (``engine.cli`` delegates).

Both connect (``cluster.connect``: ``local`` or a scheduler address), do the work through
the Python API (``fit.fit_files``, ``dataset.write_dataset``) and disconnect; a cluster
started for the run is stopped whatever happens.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

from engine.distributed.cluster import connect
from engine.errors import SimioError


def fit_on_cluster(synth, source, address: str, *, progress):
    """Fit ``synth`` on SOURCE (a file, a folder of partitions or a glob) on the cluster."""
    from engine.distributed.fit import fit_files
    from engine.distributed.sources import partition_files

    files = partition_files(source)
    with connect(address) as client:
        progress("read", note=f"{len(files)} partition(s) on "
                              f"{len(client.scheduler_info()['workers'])} worker(s)")
        return fit_files(synth, files, client, progress=progress)


def generate_on_cluster(synth, output, rows: int, *, seed, conditions, fmt: str, address: str,
                        quiet: bool):
    """Write the dataset folder OUTPUT; returns the generation and, per conditioned
    column, the achieved level counts (read back from the dataset's files)."""
    if fmt != "parquet":
        raise SimioError("simio_invalid_field", f"--dask writes a partitioned Parquet dataset "
                         f"(a folder); --format {fmt} is not available with --dask")
    from tqdm import tqdm

    bar = tqdm(unit="blocks", disable=quiet or None, file=sys.stderr, leave=False)

    def on_blocks(done, total):
        bar.total = total
        bar.update(done - bar.n)

    try:
        with connect(address) as client:
            generation = synth.write_dataset(output, rows, seed=seed, conditions=conditions,
                                             client=client, on_blocks=on_blocks)
    finally:
        bar.close()
    return generation, achieved_counts(output, (conditions or {}).get("categorical") or {})


def achieved_counts(path, columns) -> dict[str, Counter]:
    """Level counts of ``columns`` over the dataset's files (only those columns are read)."""
    import pyarrow.parquet as pq

    from engine.distributed.dataset import MANIFEST

    manifest = json.loads((Path(path) / MANIFEST).read_text(encoding="utf-8"))
    counts = {name: Counter() for name in columns}
    for entry in manifest["files"]:
        table = pq.read_table(Path(path) / entry["name"], columns=list(columns))
        for name in columns:
            counts[name].update(table.column(name).to_pandas().astype(str).value_counts().to_dict())
    return counts
