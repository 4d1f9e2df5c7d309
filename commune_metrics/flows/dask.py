"""Scale-out: run the ingest flow's extraction tasks on a Dask cluster.

    CM_DASK_ADDRESS=tcp://scheduler:8786 commune-metrics ingest --prefect
    run_ingest_on_dask("tcp://scheduler:8786", paths=[...], warehouse=...)

Only extraction (`process-file` tasks: read -> normalize -> extract -> validate, pure) runs
on the cluster's workers; each Dask worker is a long-lived process, so its models load once
and serve every file it gets. Listing, hashing, loading into DuckDB and archiving stay in the
flow's own process: one writer, as everywhere else. The workers must see the files at the
same paths (a shared folder) and have this package installed.

Without an address, DaskTaskRunner starts a temporary LocalCluster with one process per
worker (`workers`), the single-machine equivalent.
"""

from __future__ import annotations

import os

import commune_metrics.flows  # noqa: F401  (Prefect's offline defaults, before prefect is imported)
from commune_metrics.ingest.inbox import IngestSummary

DASK_ADDRESS_ENV = "CM_DASK_ADDRESS"


def dask_address() -> str | None:
    """The scheduler address from $CM_DASK_ADDRESS, or None."""
    return os.environ.get(DASK_ADDRESS_ENV) or None


def dask_task_runner(address: str | None = None, workers: int | None = None):
    """A prefect-dask DaskTaskRunner on the scheduler at `address` (default $CM_DASK_ADDRESS),
    else on a temporary local cluster of `workers` single-threaded processes."""
    from prefect_dask import DaskTaskRunner

    address = address or dask_address()
    if address:
        return DaskTaskRunner(address=address)
    from commune_metrics.ingest.parallel import default_workers

    return DaskTaskRunner(
        cluster_class="distributed.LocalCluster",
        # One thread per process: extraction is pure Python and holds the GIL.
        cluster_kwargs={"n_workers": workers or default_workers(), "threads_per_worker": 1,
                        "processes": True, "dashboard_address": None},
    )


def run_ingest_on_dask(address: str | None = None, workers: int | None = None,
                       **parameters) -> IngestSummary:
    """Run the ingest-inbox flow with its extraction tasks on Dask (see module docstring).
    `parameters` are those of flows.ingest.ingest_inbox (paths, warehouse, archive_root...)."""
    from commune_metrics.flows.ingest import ingest_inbox

    runner = dask_task_runner(address, workers)
    return ingest_inbox.with_options(task_runner=runner)(**parameters)
