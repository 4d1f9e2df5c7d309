"""`ingest_inbox` flow: list the inbox, extract each file as a task, load with the single
writer, archive, record the run -- all through commune_metrics.ingest.inbox.ingest, the loop the CLI runs
in-process. Only extraction is a task (pure, retried, cached by file hash); loading and
moving stay in the flow body, at the edge, under the warehouse's writer lock.
"""

from __future__ import annotations

# flows/__init__.py (run before this module) has already set Prefect's offline defaults.
import hashlib
import threading
from datetime import timedelta
from functools import lru_cache
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.settings import PREFECT_API_URL, temporary_settings
from prefect.task_runners import ThreadPoolTaskRunner

import commune_metrics
from commune_metrics.core.config import DEFAULT_INBOX, DEFAULT_WAREHOUSE, PACKAGE_DIR, RULES_DIR
from commune_metrics.core.lifecycle import StopOnSignal, bind_to_parent_from_env
from commune_metrics.ingest.inbox import (
    DEFAULT_ARCHIVE_ROOT,
    DEFAULT_SETTLE_SECONDS,
    IngestSummary,
    WorkItem,
    ingest,
)
from commune_metrics.ingest.process import CHANGED, CHANGED_WHILE_READ, ERROR, ProcessResult, process_file

FLOW_RUN_STOP_DEADLINE = 10.0  # a served flow run stopped by serve exits within this (serve waits 12 s)


class TransientFileError(Exception):
    """The file could not be reached this time (vanished, permissions); worth a retry."""


class FileChangedError(Exception):
    """The file's bytes are not those listed: left for the next run, never retried (a retry
    would compare against the same stale hash) and never cached."""


def _retry_unless_changed(_task, _task_run, state) -> bool:
    return not isinstance(state.result(raise_on_failure=False), FileChangedError)


@lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """Digest of the code and rules that shape an extraction, so a cached result is reused
    only while they are unchanged (a fixed reader must get another go at a quarantined file)."""
    digest = hashlib.sha256(commune_metrics.__version__.encode())
    # Only what shapes an extraction: tools, reports and the warehouse do not invalidate it.
    roots = [PACKAGE_DIR / "core", PACKAGE_DIR / "readers", PACKAGE_DIR / "extract", RULES_DIR,
             PACKAGE_DIR / "checks.py", PACKAGE_DIR / "ingest" / "process.py"]
    for root in roots:
        paths = sorted(root.rglob("*")) if root.is_dir() else [root]
        for path in paths:
            if path.is_file() and path.suffix in {".py", ".yaml", ".yml", ".json", ".txt", ".csv", ".joblib"}:
                digest.update(path.relative_to(root.parent).as_posix().encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _cache_key(_context, parameters: dict) -> str:
    return f"commune-metrics-process-{parameters['sha256']}-{code_fingerprint()}"


@task(
    name="process-file",
    retries=2,
    retry_delay_seconds=[1, 5],
    retry_condition_fn=_retry_unless_changed,
    cache_key_fn=_cache_key,
    cache_expiration=timedelta(days=30),
    persist_result=True,
)
def process_task(path: str, sha256: str) -> ProcessResult:
    """Pure: read, normalize, extract, validate one file (see commune_metrics.ingest.process)."""
    result = process_file(Path(path), sha256=sha256)
    if result.status == ERROR and result.code == CHANGED:
        raise FileChangedError(result.reason)
    if result.status == ERROR:
        raise TransientFileError(f"{result.source_file}: {result.code}: {result.reason}")
    return result


def _process_with_tasks(items: list[WorkItem]) -> list[ProcessResult]:
    futures = [process_task.submit(str(path), sha) for path, sha in items]
    results = []
    for (path, sha), future in zip(items, futures, strict=True):
        try:
            results.append(future.result())
        except FileChangedError:
            results.append(ProcessResult(path.name, str(path), sha, None, ERROR, code=CHANGED,
                                         reason=CHANGED_WHILE_READ))
        except Exception as exc:  # failed after its retries: left in the inbox for the next run
            results.append(ProcessResult(path.name, str(path), sha, None, ERROR,
                                         code="failed_after_retries", reason=f"{type(exc).__name__}: {exc}"))
    return results


@flow(name="ingest-inbox", persist_result=False, task_runner=ThreadPoolTaskRunner(max_workers=4))
def ingest_inbox(
    paths: list[str] | None = None,
    warehouse: str = str(DEFAULT_WAREHOUSE),
    archive_root: str = str(DEFAULT_ARCHIVE_ROOT),
    keep_inbox: bool = False,
    workers: int = 4,  # used by run_ingest_flow to size the task runner
    inbox: str = str(DEFAULT_INBOX),
    move: bool = False,
    settle_seconds: float = DEFAULT_SETTLE_SECONDS,
    trigger: str = "prefect",
) -> IngestSummary:
    logger = get_run_logger()
    # A flow run started by `serve` ends with serve (even SIGKILLed) and, on serve's SIGTERM,
    # abandons its document and records the stop instead of waiting for Prefect to kill it.
    if bind_to_parent_from_env() and threading.current_thread() is threading.main_thread():
        StopOnSignal(FLOW_RUN_STOP_DEADLINE).install()

    def on_file(outcome) -> None:
        logger.info("%-11s %s %s", outcome.outcome, outcome.source_file, outcome.reason or "")

    summary = ingest(
        [Path(p) for p in (paths or [inbox])],
        warehouse=Path(warehouse),
        archive_root=Path(archive_root),
        inbox=Path(inbox),
        move=move,
        keep_inbox=keep_inbox,
        process_many=_process_with_tasks,
        trigger=trigger,
        settle_seconds=settle_seconds,
        on_file=on_file,
        on_wait=logger.warning,
    )
    logger.info("run %s: %s in %.1f s", summary.run_id, dict(summary.counts), summary.seconds)
    return summary


def run_ingest_flow(workers: int = 4, **parameters) -> IngestSummary:
    """Run the flow with a task runner sized to `workers` threads, or, when $CM_DASK_ADDRESS
    names a Dask scheduler, with extraction on that cluster (flows/dask.py).

    Without PREFECT_API_URL the flow reports to a private server started here (flows/server.py)
    rather than Prefect's ephemeral one: ours dies with this process whatever kills it, and is
    stopped only after the flow has ended."""
    from commune_metrics.flows.dask import dask_address, dask_task_runner

    if dask_address():
        runner = dask_task_runner()
    else:
        runner = ThreadPoolTaskRunner(max_workers=max(1, workers))
    if PREFECT_API_URL.value():
        return ingest_inbox.with_options(task_runner=runner)(workers=workers, **parameters)
    from commune_metrics.flows.server import local_prefect_server

    with local_prefect_server() as api_url, temporary_settings({PREFECT_API_URL: api_url}):
        return ingest_inbox.with_options(task_runner=runner)(workers=workers, **parameters)
