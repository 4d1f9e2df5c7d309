"""Extraction across processes on one machine; loading stays with the single writer.

    with ParallelProcessor(workers=4) as pool:      # each worker warms its models once
        ingest(paths, warehouse=..., process_many=pool)

Workers only run `process_file` (pure: read -> normalize -> extract -> validate) and send the
ProcessResult back; the parent process is the only one that opens DuckDB. Results come back
in submission order, so the warehouse is loaded in the same order as with one worker and ends
up with the same contents (doc ids included).

`submit` starts a batch and returns a handle, so the ingest loop can load one chunk while
the workers already extract the next; calling the processor runs a batch to completion.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from functools import lru_cache
from multiprocessing import get_context
from pathlib import Path

from commune_metrics.core.config import Limits
from commune_metrics.core.lifecycle import bind_to_parent
from commune_metrics.ingest.process import ERROR, ProcessResult, preflight, process_file

WorkItem = tuple[Path, str]  # (path, sha256 of its bytes), as in commune_metrics.ingest.inbox
WORKERS_ENV = "CM_WORKERS"


def default_workers() -> int:
    """$CM_WORKERS, else the cores this process may run on."""
    raw = os.environ.get(WORKERS_ENV)
    if raw:
        return max(1, int(raw))
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


# -- models loaded once per process ------------------------------------------------------

def _cached_loaders() -> dict[str, Callable]:
    """The lru_cache'd builders of every heavy object extraction uses, by name. Their cache
    misses say how often each was built in this process."""
    from commune_metrics import checks as validate
    from commune_metrics.extract import extractor as extraction
    from commune_metrics.extract import gazetteer, metadata, rules

    return {
        "rules": rules._cached,
        "fact_finder": extraction._finder,
        "gazetteer": gazetteer.gazetteer,
        "metadata_rules": metadata._rules,
        "ner_tagger": metadata._tagger,
        "checks": validate._default_checks,
    }


def model_loads() -> dict[str, int]:
    """How many times each heavy object was built in this process (0 = not yet, 1 = once)."""
    return {name: fn.cache_info().misses for name, fn in _cached_loaders().items()}


def warm_models() -> None:
    """Build every heavy object now: the rules (through a tiny extraction, which also proves
    the setup works) and the NER tagger with its CRF models, which extraction otherwise
    loads lazily (~0.3 s) on the first signature block."""
    preflight()
    from commune_metrics.extract import metadata

    metadata._tagger()("Chủ tịch Nguyễn Văn An")


@lru_cache(maxsize=1)
def _worker_init(parent_pid: int | None = None, deathsig: bool = True) -> None:
    # A worker outlives nothing: when the run that started it dies (even by SIGKILL, which
    # leaves it no chance to shut the pool down) the worker dies too, instead of idling on
    # with its models (~190 MB) loaded.
    if parent_pid is not None:
        bind_to_parent(parent_pid, deathsig)
    # lru_cache: a second call in the same process (e.g. tests calling it directly) is free.
    warm_models()


def _process_batch(batch: list[tuple[str, str]], limits: Limits | None) -> list[ProcessResult]:
    return [process_file(Path(path), limits, sha256=sha) for path, sha in batch]


def _worker_model_loads() -> tuple[int, dict[str, int]]:
    return os.getpid(), model_loads()


# -- the pool --------------------------------------------------------------------------

def _failed(item: WorkItem, exc: BaseException) -> ProcessResult:
    path, sha = item
    return ProcessResult(path.name, str(path), sha, None, ERROR, code="worker_failed",
                         reason=f"{type(exc).__name__}: {exc}")


class ParallelProcessor:
    """A process pool that extracts files; a `ProcessMany` for commune_metrics.ingest.inbox.ingest.

    `spawn`, not fork: the parent may hold DuckDB handles and threads that must not be
    copied. The pool starts on the first batch worth it, so a run with nothing new starts no
    process. Files go to workers in small batches (`batch_size`) so a 7-page PDF does not pay
    a round trip of its own, while work still spreads evenly. A worker that dies (killed
    for memory, a crash in a C library) fails only its batch: those files come back as
    transient errors, stay in the inbox, and the pool is rebuilt for the next batch."""

    def __init__(self, workers: int | None = None, limits: Limits | None = None,
                 batch_size: int = 2, min_files: int = 8) -> None:
        self.workers = workers or default_workers()
        self.limits = limits
        self.batch_size = max(1, batch_size)
        # Starting the workers and warming their models costs about a second: below this many
        # new files (and while no worker runs yet) extraction stays in this process.
        self.min_files = min_files
        self._pool: ProcessPoolExecutor | None = None

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            # Workers are started by the thread that submits; the kernel's parent-death signal
            # follows that thread, so it is asked for only when that is the main thread.
            main = threading.current_thread() is threading.main_thread()
            self._pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=get_context("spawn"),
                                             initializer=_worker_init, initargs=(os.getpid(), main))
        return self._pool

    def submit(self, items: list[WorkItem]) -> Callable[[], list[ProcessResult]]:
        """Start extracting `items`; the returned function waits for and returns the results
        (in the order of `items`)."""
        if self._pool is None and len(items) < self.min_files:
            results = _process_batch([(str(p), sha) for p, sha in items], self.limits)
            return lambda: results
        batches = [items[i:i + self.batch_size] for i in range(0, len(items), self.batch_size)]
        futures: list[tuple[ProcessPoolExecutor | None, Future | BaseException]] = []
        for batch in batches:
            pool = self._executor()
            try:
                futures.append((pool, pool.submit(_process_batch, [(str(p), sha) for p, sha in batch],
                                                  self.limits)))
            except BrokenProcessPool as exc:
                self._reset(pool)
                futures.append((None, exc))

        def collect() -> list[ProcessResult]:
            results: list[ProcessResult] = []
            for batch, (pool, future) in zip(batches, futures, strict=True):
                try:
                    if isinstance(future, BaseException):
                        raise future
                    results.extend(future.result())
                except Exception as exc:
                    if isinstance(exc, BrokenProcessPool) and pool is not None:
                        self._reset(pool)
                    results.extend(_failed(item, exc) for item in batch)
            return results

        return collect

    def __call__(self, items: list[WorkItem]) -> list[ProcessResult]:
        return self.submit(items)()

    def worker_model_loads(self) -> dict[int, dict[str, int]]:
        """{worker pid: model_loads()} as seen by the workers that answer (for tests and the
        benchmark: after many files every count must still be at most 1)."""
        pool = self._executor()
        futures = [pool.submit(_worker_model_loads) for _ in range(self.workers * 4)]
        return dict(f.result() for f in futures)

    def _reset(self, broken: ProcessPoolExecutor) -> None:
        """Drop a broken pool; the next batch starts a new one. A pool already replaced (a
        later chunk found it broken first) is left alone."""
        broken.shutdown(wait=False, cancel_futures=True)
        if self._pool is broken:
            self._pool = None

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def terminate(self, grace: float = 3.0) -> None:
        """Stop now (a stop was asked for): queued batches are dropped, workers get SIGTERM and,
        after `grace` seconds, SIGKILL. Their files stay in the inbox for the next run."""
        pool, self._pool = self._pool, None
        if pool is None:
            return
        # The executor has no public way to stop running work: its worker processes are private.
        processes = list(getattr(pool, "_processes", {}).values())
        pool.shutdown(wait=False, cancel_futures=True)
        for proc in processes:
            proc.terminate()
        for proc in processes:
            proc.join(grace)
            if proc.is_alive():
                proc.kill()
                proc.join(1)

    def __enter__(self) -> ParallelProcessor:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


class SequentialProcessor:
    """The one-process `ProcessMany`. No `submit`: with nothing running in the background,
    the ingest loop loads each chunk right after extracting it."""

    def __init__(self, limits: Limits | None = None) -> None:
        self.limits = limits

    def __call__(self, items: list[WorkItem]) -> list[ProcessResult]:
        return _process_batch([(str(p), sha) for p, sha in items], self.limits)

    def close(self) -> None:
        pass

    def terminate(self, grace: float = 0.0) -> None:
        pass

    def __enter__(self) -> SequentialProcessor:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


def make_processor(workers: int | None = None,
                   limits: Limits | None = None) -> ParallelProcessor | SequentialProcessor:
    """One worker: extract in this process (no start-up cost). More: a process pool."""
    workers = workers or default_workers()
    return ParallelProcessor(workers, limits) if workers > 1 else SequentialProcessor(limits)
