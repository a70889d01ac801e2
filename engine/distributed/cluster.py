"""Connecting to a Dask cluster: ``local`` or a scheduler address, with a clear error.

``local`` starts a ``LocalCluster`` of ``LOCAL_WORKERS`` single-threaded worker processes
for the run and stops it afterwards; any other address must be a scheduler URL. A missing
extra or an unreachable scheduler is ``simio_cluster_unavailable`` (CLI exit 2), never a
Dask traceback.
"""

from __future__ import annotations

from contextlib import contextmanager

from engine.errors import SimioError

LOCAL = "local"
# Worker processes of a `local` cluster; one thread each, since the kernels are numba
# loops over whole blocks and a process per core avoids the GIL on the pandas side.
LOCAL_WORKERS = 2
# Seconds to wait for a scheduler before giving up with a clear error.
CONNECT_TIMEOUT = 20
SCHEMES = ("tcp://", "tls://", "inproc://", "ucx://", "ws://", "wss://")


def require_dask() -> None:
    try:
        import dask  # noqa: F401
        import distributed  # noqa: F401
    except ModuleNotFoundError as exc:
        raise SimioError("simio_cluster_unavailable",
                         f"Dask is not installed ({exc.name} is missing); install the dask "
                         "extra: pip install 'simio-local[dask]'") from None


def check_address(address: str) -> str:
    address = (address or "").strip()
    if address != LOCAL and not address.startswith(SCHEMES):
        raise SimioError("simio_invalid_field",
                         f"--dask must be 'local' or a scheduler address such as "
                         f"tcp://host:8786; got {address!r}")
    return address


@contextmanager
def connect(address: str, *, workers: int = LOCAL_WORKERS):
    """``with connect("local") as client:`` - the cluster (if started here) stops on exit."""
    address = check_address(address)
    require_dask()
    from distributed import Client, LocalCluster

    if address == LOCAL:
        with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                          dashboard_address=":0") as cluster, Client(cluster) as client:
            yield client
        return
    try:
        client = Client(address, timeout=CONNECT_TIMEOUT)
    except (OSError, TimeoutError) as exc:
        raise SimioError("simio_cluster_unavailable",
                         f"no Dask scheduler answered at {address} within "
                         f"{CONNECT_TIMEOUT} s ({exc})") from None
    with client:
        yield client
