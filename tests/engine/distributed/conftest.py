"""A real ``LocalCluster`` of two worker processes, shared by this folder's tests.

Skipped (with the reason) only when Dask is not installed; the test extra installs it,
so CI runs these tests.
"""

from __future__ import annotations

import pytest

pytest.importorskip("distributed", reason="the dask extra is not installed "
                    "(pip install -e '.[test]' pulls it in)")

WORKERS = 2


def local_cluster(**config):
    """A LocalCluster of WORKERS single-threaded worker processes and its client."""
    import dask
    from distributed import Client, LocalCluster

    with dask.config.set(config):
        cluster = LocalCluster(n_workers=WORKERS, threads_per_worker=1, processes=True,
                               dashboard_address=":0")
    return cluster, Client(cluster)


@pytest.fixture(scope="session")
def client():
    cluster, client = local_cluster()
    try:
        client.wait_for_workers(WORKERS, timeout=120)
        yield client
    finally:
        client.close()
        cluster.close()
