"""Fit and generate on a Dask cluster (the ``dask`` extra; docs/distributed.md).

- ``cluster.connect(address)``: a ``distributed.Client`` for ``local`` (a ``LocalCluster``
  started for the run) or a scheduler address (``tcp://host:8786``).
- ``fit``: the counts of a fit gathered per partition on the workers, merged on the client
  (``Synthesizer().fit(dask_dataframe)``, ``simio train SOURCE --dask ADDRESS``).
- ``dataset``: a generation written by the workers as a partitioned Parquet dataset, one
  file per block range, published whole or not at all (``Synthesizer.write_dataset``,
  ``simio generate --dask ADDRESS``).

Nothing here is imported by ``engine`` unless one of these is asked for, and these modules
are the only ones that import Dask: the single-machine path never loads it.
"""
