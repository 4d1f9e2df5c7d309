"""Scale-out on Dask: the ingest flow with its extraction tasks on a local Dask cluster (two
worker processes, reached by scheduler address as a remote cluster would be) must fill the
same warehouse as the plain in-process run."""

from __future__ import annotations

from pathlib import Path

import pytest

import commune_metrics.flows  # noqa: F401  (Prefect's offline defaults first)
from commune_metrics.ingest.inbox import ingest
from commune_metrics.ingest.parallel import SequentialProcessor, model_loads
from tests.test_parallel import _contents
from tools.samples.generator import generate_corpus

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def cluster():
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as c:
        yield c


def test_dask_cluster_fills_the_same_warehouse_as_in_process(
    prefect_harness, cluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from distributed import Client

    from commune_metrics.flows.dask import DASK_ADDRESS_ENV
    from commune_metrics.flows.ingest import run_ingest_flow

    corpus = tmp_path / "corpus"
    generate_corpus(corpus, 8, seed=5, formats=("pdf", "docx", "txt"), pages=(2, 3), workers=2)
    (corpus / "gold.jsonl").unlink()

    local = tmp_path / "local" / "w.duckdb"
    ingest([corpus], warehouse=local, archive_root=local.parent / "raw", keep_inbox=True,
           process_many=SequentialProcessor(), settle_seconds=0)

    monkeypatch.setenv(DASK_ADDRESS_ENV, cluster.scheduler_address)
    remote = tmp_path / "dask" / "w.duckdb"
    summary = run_ingest_flow(paths=[str(corpus)], warehouse=str(remote),
                              archive_root=str(remote.parent / "raw"), keep_inbox=True, settle_seconds=0)
    assert dict(summary.counts) == {"loaded": 8}

    # The extraction really ran on the cluster's workers: they built the extraction models
    # (once each), which only processing a file does.
    with Client(cluster.scheduler_address) as client:
        loads = client.run(model_loads)
    assert len(loads) == 2
    assert any(counts["fact_finder"] == 1 for counts in loads.values()), loads
    assert all(n <= 1 for counts in loads.values() for n in counts.values()), loads

    a, b = _contents(local), _contents(remote)
    assert len(a["facts"]) > 30
    for table in a:
        assert a[table] == b[table], table

