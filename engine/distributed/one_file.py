"""One output file generated on a cluster: what the local server's generation jobs do when
``SIMIO_DASK_ADDRESS`` is set (docs/distributed.md).

The workers write a partitioned dataset (``dataset.write_dataset``) into a private folder
beside the file; the parts are then appended, one row group at a time, to the one file the
contract downloads, in any output format (``engine.io.writers.open_writer``, atomically),
and the folder is removed whatever happens. The rows are the cluster's rows: an
unconditioned file equals the in-process one; a conditioned one has the same counts per
cell, drawn per block (``conditioned``).
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

from engine.distributed.cluster import connect
from engine.errors import SimioError


def write_on_cluster(synth, path, n: int, *, fmt: str, address: str, seed=None,
                     conditions=None, formula_guard: str = "all"):
    """``synth.write(path, n, ...)`` with the rows made on the cluster at ``address``."""
    import pyarrow.parquet as pq

    from engine.distributed.dataset import MANIFEST, write_dataset
    from engine.io.writers import open_writer
    from engine.synthesizer import _row_count

    path = Path(path)
    writer = open_writer(path, fmt, formula_guard=formula_guard, schema=synth._fitted().schema_)
    if writer.max_rows is not None and _row_count(n) > writer.max_rows:
        raise SimioError("simio_invalid_field", f"row_count {n:,} exceeds the "
                         f"{writer.max_rows:,} data rows a {fmt} file can hold.")
    work = Path(tempfile.mkdtemp(prefix=f".{path.name}.cluster-", dir=path.parent))
    try:
        with connect(address) as client:
            generation = write_dataset(synth, work / "parts", n, seed=seed,
                                       conditions=conditions, client=client)
        manifest = json.loads((work / "parts" / MANIFEST).read_text(encoding="utf-8"))
        with writer:
            for entry in manifest["files"]:
                part = pq.ParquetFile(work / "parts" / entry["name"])
                for group in range(part.num_row_groups):
                    writer.write_group([part.read_row_group(group).to_pandas()])
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return generation
