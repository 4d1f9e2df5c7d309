"""Inbox handling and the ingest loop shared by the CLI and the Prefect flow.

    files = list_files(paths)                 # supported files; no symlink escapes
    ready, busy = settled(files)              # files still growing wait for the next run
    summary = ingest(paths, warehouse=..., archive_root=...)

The loop works in chunks: hash the chunk's files, extract the ones whose bytes are new
(`process_many`: in-process, a process pool, or Prefect tasks), then take the writer lock
and load the chunk (one transaction per document), release it, and only then move each
file to processed/YYYY-MM-DD/ or quarantine/ (with `<name>.reason.txt`). Holding the lock
per chunk, not per run, lets a concurrent run or a reader in between.
"""

from __future__ import annotations

import os
import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path

from commune_metrics.core.config import DATA_DIR, SUPPORTED_SUFFIXES
from commune_metrics.core.lifecycle import Stopped, stop_requested
from commune_metrics.ingest.archive import (
    REASON_SUFFIX,
    FileChangedAfterRead,
    archive,
    archive_error_text,
    sweep_partials,
)
from commune_metrics.ingest.parallel import SequentialProcessor
from commune_metrics.ingest.process import (
    ProcessResult,
    preflight,
    sha256_file,
)
from commune_metrics.warehouse import LOADED, SKIPPED, UNCHANGED, LoadOutcome, open_warehouse

DEFAULT_ARCHIVE_ROOT = DATA_DIR / "raw"
STILL_BEING_WRITTEN = "still being written; left for the next run"
GONE = "gone before it was read (another run took it)"
UNREADABLE_FOLDER = "folder not readable"
CHANGED_AFTER_READ = "changed after it was read: not archived, left in the inbox for the next run"
STOP_LOCK_TIMEOUT = 5.0  # seconds a stopping run waits to record itself
DEFAULT_SETTLE_SECONDS = float(os.environ.get("CM_SETTLE_SECONDS", "1.0"))

# A file to extract: (path, sha256 of its bytes).
WorkItem = tuple[Path, str]
ProcessMany = Callable[[list[WorkItem]], list[ProcessResult]]


# -- listing ---------------------------------------------------------------------------

def _supported(path: Path) -> bool:
    name = path.name
    return (
        path.suffix.lower() in SUPPORTED_SUFFIXES
        and not name.startswith(".")
        and not name.lower().endswith(REASON_SUFFIX)
    )


def _inside(path: Path, root: Path) -> bool:
    try:
        path.resolve().relative_to(root)
        return True
    except (ValueError, OSError, RuntimeError):
        return False


def list_files(paths: Iterable[Path]) -> list[Path]:
    """Supported files under `paths` (files or folders), sorted, without duplicates (see
    list_entries; folders that cannot be read are left out here)."""
    return list_entries(paths)[0]


def list_entries(paths: Iterable[Path]) -> tuple[list[Path], list[tuple[Path, str]]]:
    """(supported files, folders that could not be read with why) under `paths`.

    Folders are walked without following symlinked folders; a symlinked file is taken only
    when its target lies inside the folder being walked, so a link cannot smuggle in
    /etc/passwd. A file named explicitly is taken whatever its suffix (the reader then
    refuses it with a reason). A folder that cannot be listed (permissions, I/O error) is
    returned, not passed over in silence: its files are there, only not reachable now."""
    found: dict[Path, None] = {}
    unreadable: dict[Path, str] = {}

    def note(error: OSError) -> None:
        if error.filename is not None:
            unreadable.setdefault(Path(os.fsdecode(error.filename)).absolute(),
                                  error.strerror or type(error).__name__)

    for given in paths:
        given = Path(given)
        if given.is_file():
            found.setdefault(given.absolute(), None)
            continue
        if not given.is_dir():
            continue
        root = given.resolve()
        for folder, dirnames, filenames in os.walk(given, followlinks=False, onerror=note):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            for name in sorted(filenames):
                path = Path(folder) / name
                if not _supported(path):
                    continue
                if path.is_symlink() and not _inside(path, root):
                    continue
                if path.is_file():
                    found.setdefault(path.absolute(), None)
    return list(found), sorted(unreadable.items())


def settled(files: Sequence[Path], interval: float = DEFAULT_SETTLE_SECONDS) -> tuple[list[Path], list[Path]]:
    """Split files into (ready, still being written). A file counts as still being written
    when its size or mtime changes across `interval` seconds. Files untouched for longer
    than the interval are ready without waiting."""
    def stat(path: Path) -> tuple[int, int] | None:
        try:
            st = path.stat()
            return st.st_size, st.st_mtime_ns
        except OSError:
            return None

    before = {p: stat(p) for p in files}
    now_ns = time.time_ns()
    recent = [p for p, s in before.items()
              if s is not None and now_ns - s[1] < interval * 1e9]
    if recent and interval > 0:
        time.sleep(interval)
    busy = {p for p in recent if stat(p) != before[p]}
    ready = [p for p in files if p not in busy and before[p] is not None]
    return ready, [p for p in files if p in busy]


# -- the ingest loop -------------------------------------------------------------------

@dataclass
class IngestSummary:
    run_id: int | None
    outcomes: list[LoadOutcome] = field(default_factory=list)
    seconds: float = 0.0
    error: str | None = None

    @property
    def counts(self) -> Counter:
        return Counter(o.outcome for o in self.outcomes)

    def as_dict(self) -> dict:
        return {
            "run_id": self.run_id,
            "seconds": round(self.seconds, 3),
            "counts": dict(self.counts),
            "error": self.error,
            "files": [
                {"file": o.source_file, "outcome": o.outcome, "reason": o.reason, "sha256": o.sha256,
                 "version": o.version, "facts": o.facts, "archived_to": o.archived_to}
                for o in self.outcomes
            ],
        }


def ingest(
    paths: Sequence[Path],
    *,
    warehouse: Path,
    archive_root: Path = DEFAULT_ARCHIVE_ROOT,
    keep_inbox: bool = False,
    process_many: ProcessMany | None = None,
    trigger: str = "cli",
    settle_seconds: float = DEFAULT_SETTLE_SECONDS,
    chunk_size: int | None = None,
    lock_timeout: float | None = None,
    on_start: Callable[[int], None] | None = None,
    on_file: Callable[[LoadOutcome], None] | None = None,
    on_wait: Callable[[str], None] | None = None,
) -> IngestSummary:
    """List, extract, load and archive every supported file under `paths`. One bad file
    never stops the batch; only warehouse trouble (lock timeout, disk) ends it early, and
    then the run is recorded as failed with the files done so far kept."""
    started = time.perf_counter()
    process_many = process_many or SequentialProcessor()
    sweep_partials(archive_root)  # temporary copies of runs killed mid-copy
    listed, unreadable = list_entries(paths)
    files, busy = settled(listed, settle_seconds)
    # A broken setup must not send every file to quarantine: check it before the first file
    # is extracted. With a new warehouse every file is new, so check before creating it;
    # otherwise only once a new file turns up, so a run with nothing new loads no models.
    preflight_done = bool(files) and not Path(warehouse).exists()
    if preflight_done:
        preflight()

    with open_warehouse(warehouse, lock_timeout=lock_timeout, on_wait=on_wait) as wh:
        run_id = wh.start_run(trigger)
        known = wh.loaded_hashes()
        busy_outcomes = [wh.record_skipped(run_id, p.name, str(p), None, STILL_BEING_WRITTEN)
                         for p in busy]
        # One line and one row per folder that could not be read: its files are not lost,
        # they wait until it can be.
        busy_outcomes += [wh.record_skipped(run_id, folder.name + "/", str(folder), None,
                                            f"{UNREADABLE_FOLDER}: {why}; its files wait for the next run")
                          for folder, why in unreadable]
    summary = IngestSummary(run_id=run_id)
    if on_start:
        on_start(len(files) + len(busy_outcomes))

    def emit(outcome: LoadOutcome) -> None:
        summary.outcomes.append(outcome)
        if on_file:
            on_file(outcome)

    for outcome in busy_outcomes:
        emit(outcome)
    try:
        # With a processor that has `submit` (commune_metrics.ingest.parallel), pipelined: the next chunk is
        # handed to the worker processes before the current one is loaded, so they stay busy
        # while the single writer loads.
        pipelined = hasattr(process_many, "submit")
        pending: tuple[list[Hashed], list[WorkItem], Callable[[], list[ProcessResult]]] | None = None
        # New files per chunk (one writable open each): 16 per extraction process by default.
        size = chunk_size or 16 * max(1, getattr(process_many, "workers", 1))
        for hashed in chain(_hashed_chunks(files, known, max(1, size)), [None]):
            started_next = None
            if hashed is not None:
                todo = [(p, sha) for p, sha, _err in hashed if sha is not None and sha not in known]
                check_setup = bool(todo) and not preflight_done
                if check_setup and not pipelined:
                    preflight()
                started_next = (hashed, todo, _start(process_many, todo))
                if check_setup and pipelined:
                    preflight()  # while the workers start; nothing is loaded before it passes
                preflight_done = preflight_done or check_setup
            if pipelined:
                to_load, pending = pending, started_next
            else:
                to_load = started_next
            if to_load is None:
                continue
            outcomes = _load_chunk(*to_load, known, run_id, warehouse, lock_timeout, on_wait)
            for outcome in outcomes:
                note = None
                try:
                    target = archive(outcome, archive_root, keep_inbox)
                    outcome.archived_to = str(target) if target else None
                except FileChangedAfterRead:
                    note = CHANGED_AFTER_READ
                except OSError as exc:
                    # Loaded but not moved: the next run sees the hash and archives it then.
                    note = archive_error_text(exc)
                if note:
                    outcome.reason = f"{outcome.reason}; {note}" if outcome.reason else note
                emit(outcome)
    except BaseException as exc:
        if not isinstance(exc, (Stopped, KeyboardInterrupt)) and not stop_requested():
            summary.error = f"{type(exc).__name__}: {exc}"
            summary.seconds = time.perf_counter() - started
            _finish(warehouse, summary, lock_timeout, traceback.format_exc(limit=5))
            raise
        # Asked to stop: the chunk in hand was rolled back, its files stay for the next run.
        # Recording that must not wait long for the lock: the stop has a deadline.
        stop = exc if isinstance(exc, (Stopped, KeyboardInterrupt)) else Stopped(stop_requested() or 15)
        summary.error = str(stop) or "interrupted"
        summary.seconds = time.perf_counter() - started
        _finish(warehouse, summary, STOP_LOCK_TIMEOUT, summary.error, status="stopped")
        if stop is exc:
            raise
        raise stop from exc  # e.g. DuckDB's "Query interrupted" for a signal inside a query
    summary.seconds = time.perf_counter() - started
    _finish(warehouse, summary, lock_timeout, None)
    return summary


Hashed = tuple[Path, str | None, str | None]  # path, sha256, why it could not be hashed


def _hash(path: Path) -> Hashed:
    try:
        return path, sha256_file(path), None
    except FileNotFoundError:
        return path, None, GONE
    except OSError as exc:
        return path, None, f"unreachable: {exc.strerror or exc}"


def _hashed_chunks(files: list[Path], known: set[str], size: int) -> Iterator[list[Hashed]]:
    """Files in order, hashed, in chunks holding up to `size` files to extract. Files already
    loaded cost only an audit row, so they do not count: an inbox with nothing new is one
    chunk (one writable open of the warehouse), not one per `size` files."""
    chunk: list[Hashed] = []
    new = 0
    for path in files:
        item = _hash(path)
        chunk.append(item)
        new += item[1] is not None and item[1] not in known
        if new >= size:
            yield chunk
            chunk, new = [], 0
    if chunk:
        yield chunk


def _start(process_many: ProcessMany, todo: list[WorkItem]) -> Callable[[], list[ProcessResult]]:
    """Begin extracting `todo`; the returned function gives the results. A processor with
    `submit` (commune_metrics.ingest.parallel) runs in the background; a plain function runs now."""
    if not todo:
        return list
    submit = getattr(process_many, "submit", None)
    if submit is not None:
        return submit(todo)
    results = process_many(todo)
    return lambda: results


def _load_chunk(hashed: list[Hashed], todo: list[WorkItem], collect: Callable[[], list[ProcessResult]],
                known: set[str], run_id: int, warehouse: Path, lock_timeout: float | None,
                on_wait: Callable[[str], None] | None) -> list[LoadOutcome]:
    results: dict[str, ProcessResult] = {}
    if todo:
        for (path, _sha), result in zip(todo, collect(), strict=True):
            # A cached result (Prefect) may come from the same bytes under another name.
            result.path, result.source_file = str(path), path.name
            results[str(path)] = result

    outcomes: list[LoadOutcome] = []
    # One transaction for the chunk (Warehouse.batch): one commit instead of one per file.
    with open_warehouse(warehouse, lock_timeout=lock_timeout, on_wait=on_wait) as wh, wh.batch():
        for path, sha, err in hashed:
            if sha is None:
                outcomes.append(wh.record_skipped(run_id, path.name, str(path), None, err or "unreachable"))
            elif sha in known:
                outcomes.append(wh.record_unchanged(run_id, path.name, str(path), sha))
            else:
                result = results.get(str(path))
                if result is None:
                    outcomes.append(wh.record_skipped(run_id, path.name, str(path), sha, "not processed"))
                    continue
                outcome = wh.load(result, run_id)
                outcomes.append(outcome)
                if outcome.outcome in (LOADED, UNCHANGED):
                    known.add(sha)
    return outcomes


def _finish(warehouse: Path, summary: IngestSummary, lock_timeout: float | None,
            error_text: str | None, status: str | None = None) -> None:
    if summary.run_id is None:
        return
    try:
        with open_warehouse(warehouse, lock_timeout=lock_timeout) as wh:
            errors = sum(1 for o in summary.outcomes
                         if o.outcome == SKIPPED and o.reason not in (STILL_BEING_WRITTEN, GONE))
            wh.finish_run(summary.run_id, dict(summary.counts), errors=errors, error_text=error_text,
                          status=status)
            if error_text is None:
                from commune_metrics.warehouse.corrections import apply_default_corrections

                apply_default_corrections(wh.con)  # data/corrections.csv, re-applied on every ingest
    except Exception:
        if error_text is None:
            raise
        # Already failing: the original error matters more than the bookkeeping one.
