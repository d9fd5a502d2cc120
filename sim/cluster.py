"""Where many runs go: the Dask client that sweeps and the calibration run on, being the
caller's own, one connected to a running scheduler, or an embedded local cluster."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


def default_workers() -> int:
    """Worker processes of the embedded local cluster: one per core this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def current_client() -> Any:
    """The active default `distributed.Client` (a notebook's or script's), or None."""
    try:
        from distributed import default_client

        return default_client()
    except ValueError:  # no client has been started
        return None


@contextmanager
def dask_client(client: Any, scheduler: str | None, workers: int | None) -> Iterator[Any]:
    """The given client, else one connected to `scheduler`, else one of an embedded local
    cluster of `workers` processes (default: `default_workers`); what it opens it closes."""
    if client is not None:
        yield client
        return
    import logging

    from distributed import Client, LocalCluster

    if scheduler is not None:
        owned = [Client(scheduler, timeout="20s")]
    else:
        cluster = LocalCluster(
            n_workers=workers or default_workers(),
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",  # a free port; SweepStatus.dashboard_link tells which
            silence_logs=logging.ERROR,
        )
        owned = [Client(cluster), cluster]
    try:
        yield owned[0]
    finally:
        for x in owned:
            x.close()
