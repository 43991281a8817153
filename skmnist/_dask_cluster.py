"""The Dask cluster of ``skmnist search --scheduler``: started or joined, used by joblib.

The search's data goes there once, through :func:`skmnist.fault_tolerant_client`,
so that the search survives the death of a worker.
"""

# Authors: The skmnist developers
# SPDX-License-Identifier: BSD-3-Clause

import contextlib
import warnings

from .distributed import fault_tolerant_client

#: ``local:N`` asks :func:`joblib_on_dask` for a cluster of N local processes.
LOCAL_PREFIX = "local:"


@contextlib.contextmanager
def joblib_on_dask(address, data, log):
    """Run joblib's work (a search's fits) on a Dask cluster.

    ``data`` goes to the cluster once, up front, and like the rest of what
    the search sends there, as tasks that Dask recomputes if a worker dies
    with their results (see :func:`fault_tolerant_client`).

    Parameters
    ----------
    address : str
        ``local:N`` to start N single-threaded worker processes here (at
        most one per CPU this process may run on: more would only compete
        for them, and thousands would exhaust the machine; a larger N is
        bounded with a warning), else the address of a running scheduler,
        such as ``tcp://host:8786``.
    data : list
        What to send to the cluster once: the search's ``X`` and ``y``.
    log : file
        Where to say which cluster the fits run on.

    Yields
    ------
    client : distributed.Client
        The connected client, closed (with the local cluster) on exit.

    Raises
    ------
    ImportError
        If Dask's ``distributed`` package is not installed.
    ConnectionError
        If the scheduler at ``address`` does not answer.
    """
    try:
        import joblib
        from distributed import Client, LocalCluster
    except ImportError:
        raise ImportError(
            "--scheduler needs Dask's distributed package: "
            "pip install 'skmnist[distributed]'"
        ) from None

    cluster = None
    if address.startswith(LOCAL_PREFIX):
        from ._backend import available_cpus  # imports Keras: not for --help

        n_workers = int(address.removeprefix(LOCAL_PREFIX))
        cpus = available_cpus()
        if n_workers > cpus:
            warnings.warn(
                f"{address} is more workers than the {cpus} CPUs this process "
                f"may run on; starting {cpus}.",
                stacklevel=3,
            )
            n_workers = cpus
        print(f"starting a local Dask cluster of {n_workers} workers", file=log)
        cluster = LocalCluster(
            n_workers=n_workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
        )
        client = Client(cluster)
    else:
        try:
            client = Client(address, timeout="5s")
        except (OSError, TimeoutError) as exc:
            raise ConnectionError(
                f"cannot reach the Dask scheduler at {address} ({exc}); start one "
                "with 'dask scheduler' and 'dask worker', or use --scheduler local:N"
            ) from None
    workers = len(client.scheduler_info().get("workers", {}))
    print(f"fitting on {workers} Dask workers ({address})", file=log, flush=True)
    try:
        with joblib.parallel_config(
            backend="dask",
            client=fault_tolerant_client(client),
            scatter=data,
            verbose=10,
        ):
            yield client
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
