"""Inbox handling and the ingest loop shared by the CLI and the Prefect flow.

    entries = scan(paths, inbox)              # every entry, each with an answer (ingest.entries)
    ready, busy = settled(files)              # files still growing wait for the next run
    summary = ingest(paths, warehouse=..., archive_root=...)

A run opens the warehouse once (one writer connection, the writer lock held throughout) and
works in chunks: hash the chunk's files (a .zip is unpacked here, its members taking its
place), extract the ones whose bytes are new (`process_many`: in-process, a process pool, or
Prefect tasks), load the chunk in one transaction, publish the read snapshot, and only then
archive each file: a file of the inbox is moved to processed/YYYY-MM-DD/ or quarantine/ (with
`<name>.reason.txt`); a file given from anywhere else is read in place, left untouched, and
copied there (`move=True` moves it too). Readers never touch the writer's file
(warehouse/snapshot.py), so nothing is gained by letting go of it between chunks; a second
run waits for this one. Every entry gets exactly one outcome: loaded, unchanged, quarantined,
skipped (with a reason), or unpacked (a .zip; each member then has its own outcome).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import chain
from pathlib import Path

from commune_metrics.core.config import ARCHIVE_SUFFIXES, DATA_DIR, DEFAULT_INBOX, Limits
from commune_metrics.core.errors import ReaderError
from commune_metrics.core.lifecycle import Stopped, stop_requested
from commune_metrics.ingest.archiving import (
    FileChangedAfterRead,
    archive,
    archive_error_text,
    sweep_partials,
)
from commune_metrics.ingest.entries import REASON_SUFFIX, Entry, scan
from commune_metrics.ingest.parallel import SequentialProcessor
from commune_metrics.ingest.process import (
    QUARANTINED,
    ProcessResult,
    preflight,
    sha256_file,
)
from commune_metrics.ingest.unpack import unpack
from commune_metrics.warehouse import (
    LOADED,
    SKIPPED,
    UNCHANGED,
    LoadOutcome,
    Origin,
    Warehouse,
    open_warehouse,
)

__all__ = ["REASON_SUFFIX", "IngestSummary", "archive", "ingest", "list_files", "settled"]

DEFAULT_ARCHIVE_ROOT = DATA_DIR / "raw"
STILL_BEING_WRITTEN = "still being written; left for the next run"
GONE = "gone before it was read (another run took it)"
CHANGED_AFTER_READ = "changed after it was read: not archived, left in the inbox for the next run"
DEFAULT_SETTLE_SECONDS = float(os.environ.get("CM_SETTLE_SECONDS", "1.0"))
# Skip reasons that are errors of the run (counted in runs.errors), not answers about a file.
_TRANSIENT = ("unreachable", "worker_failed", "failed_after_retries")

# A file to extract: (path, sha256 of its bytes).
WorkItem = tuple[Path, str]
ProcessMany = Callable[[list[WorkItem]], list[ProcessResult]]


# -- listing ---------------------------------------------------------------------------

def list_files(paths: Iterable[Path]) -> list[Path]:
    """The files under `paths` that ingest reads (entries it does not skip), in order."""
    return [entry.path for entry in scan(paths) if entry.skip is None]


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

    @property
    def entries(self) -> int:
        """Entries found in the folders (a .zip counts once; its members are extra lines)."""
        return sum(1 for o in self.outcomes if o.container is None)

    @property
    def members(self) -> int:
        return sum(1 for o in self.outcomes if o.container is not None)

    def as_dict(self) -> dict:
        return {
            "run_id": self.run_id,
            "seconds": round(self.seconds, 3),
            "counts": dict(self.counts),
            "entries": self.entries,
            "members": self.members,
            "error": self.error,
            "files": [
                {"file": o.source_file, "outcome": o.outcome, "reason": o.reason, "sha256": o.sha256,
                 "version": o.version, "facts": o.facts, "archived_to": o.archived_to,
                 "container": o.container, "replaces": o.replaced_file, "why": o.why}
                for o in self.outcomes
            ],
        }


@dataclass
class _Item:
    """One line of the run: an entry (or a .zip member) and what is known before extraction."""

    entry: Entry
    sha: str | None = None
    error: str | None = None  # it could not be hashed: skipped with this reason
    preset: ProcessResult | None = None  # decided without extraction (a refused .zip or member)
    members: list[_Item] | None = None  # a .zip that was unpacked: its members (they come first)
    arrived_at: datetime | None = None

    @property
    def origin(self) -> Origin:
        return Origin(self.entry.raw_name, self.entry.container, self.arrived_at)


def ingest(
    paths: Sequence[Path],
    *,
    warehouse: Path,
    archive_root: Path = DEFAULT_ARCHIVE_ROOT,
    inbox: Path | None = DEFAULT_INBOX,
    move: bool = False,
    keep_inbox: bool = False,
    process_many: ProcessMany | None = None,
    trigger: str = "cli",
    settle_seconds: float = DEFAULT_SETTLE_SECONDS,
    chunk_size: int | None = None,
    lock_timeout: float | None = None,
    limits: Limits | None = None,
    on_start: Callable[[int], None] | None = None,
    on_file: Callable[[LoadOutcome], None] | None = None,
    on_wait: Callable[[str], None] | None = None,
) -> IngestSummary:
    """List, extract, load and archive every entry under `paths`. Files inside `inbox` (all
    files, with `move`) are moved out after their load commits; the others are read in place
    and copied to the archive (so is every file, with `keep_inbox`). One bad file never stops
    the batch; only warehouse trouble (lock timeout, disk) ends it early, and then the run is
    recorded as failed with the files done so far kept."""
    started = time.perf_counter()
    limits = limits or Limits.from_env()
    # the product's one executor (ingest/parallel.py); the fuzzer runs the same
    process_many = process_many or SequentialProcessor(limits)
    # A broken setup must not send every file to quarantine: check it before the first file
    # is extracted. With a new warehouse every file is new, so check before creating it;
    # otherwise only once a new file turns up, so a run with nothing new loads no models.
    preflight_done = not Path(warehouse).exists() and bool(list_files(paths))
    if preflight_done:
        preflight()

    # One writer connection for the whole run (the lock with it): readers use the snapshot
    # the writer publishes after each committed chunk, so nobody needs the file in between.
    with open_warehouse(warehouse, lock_timeout=lock_timeout, on_wait=on_wait) as wh:
        sweep_partials(archive_root)  # temporary copies of runs killed mid-copy
        # Listed once the lock is ours: a run that waited for another one sees what that run
        # left, not files it already archived.
        entries = scan(paths, inbox=inbox, move=move)
        readable = [e for e in entries if e.skip is None]
        ready_paths, busy_paths = settled([e.path for e in readable], settle_seconds)
        ready_set, busy_set = set(ready_paths), set(busy_paths)
        return _run(wh, entries, readable, ready_set, busy_set, trigger, limits, process_many,
                    archive_root, keep_inbox, chunk_size, preflight_done, started, on_start, on_file)


def _run(wh: Warehouse, entries: list[Entry], readable: list[Entry], ready_set: set[Path],
         busy_set: set[Path], trigger: str, limits: Limits, process_many: ProcessMany,
         archive_root: Path, keep_inbox: bool, chunk_size: int | None, preflight_done: bool,
         started: float, on_start: Callable[[int], None] | None,
         on_file: Callable[[LoadOutcome], None] | None) -> IngestSummary:
    run_id = wh.start_run(trigger)
    known = wh.loaded_hashes()
    early: list[LoadOutcome] = []
    for e in entries:
        reason = e.skip or (STILL_BEING_WRITTEN if e.path in busy_set
                            else None if e.path in ready_set else GONE)
        if reason is not None:
            early.append(wh.record_skipped(run_id, e.name, str(e.path), None, reason,
                                           Origin(e.raw_name, e.container)))
    summary = IngestSummary(run_id=run_id)
    if on_start:
        on_start(len(entries))

    def emit(outcome: LoadOutcome) -> None:
        summary.outcomes.append(outcome)
        if on_file:
            on_file(outcome)

    for outcome in early:
        emit(outcome)
    ready = [e for e in readable if e.path in ready_set]
    try:
        with tempfile.TemporaryDirectory(prefix="cm-unzip-") as unzip_dir:
            _run_chunks(wh, ready, known, Path(unzip_dir), limits, process_many, run_id,
                        archive_root, keep_inbox, chunk_size, preflight_done, emit)
    except BaseException as exc:
        if not isinstance(exc, (Stopped, KeyboardInterrupt)) and not stop_requested():
            summary.error = f"{type(exc).__name__}: {exc}"
            summary.seconds = time.perf_counter() - started
            _finish(wh, summary, traceback.format_exc(limit=5))
            raise
        # Asked to stop: the chunk in hand was rolled back, its files stay for the next run.
        stop = exc if isinstance(exc, (Stopped, KeyboardInterrupt)) else Stopped(stop_requested() or 15)
        summary.error = str(stop) or "interrupted"
        summary.seconds = time.perf_counter() - started
        _finish(wh, summary, summary.error, status="stopped")
        if stop is exc:
            raise
        raise stop from exc  # e.g. DuckDB's "Query interrupted" for a signal inside a query
    summary.seconds = time.perf_counter() - started
    _finish(wh, summary, None)
    return summary


def _run_chunks(wh: Warehouse, ready: list[Entry], known: set[str], unzip_dir: Path, limits: Limits,
                process_many: ProcessMany, run_id: int, archive_root: Path, keep_inbox: bool,
                chunk_size: int | None, preflight_done: bool,
                emit: Callable[[LoadOutcome], None]) -> None:
    # With a processor that has `submit` (commune_metrics.ingest.parallel), pipelined: the next chunk is
    # handed to the worker processes before the current one is loaded, so they stay busy
    # while the single writer loads.
    pipelined = hasattr(process_many, "submit")
    pending: tuple[list[_Item], list[WorkItem], Callable[[], list[ProcessResult]]] | None = None
    # New files per chunk (one commit and one snapshot each): 16 per extraction process by default.
    size = chunk_size or 16 * max(1, getattr(process_many, "workers", 1))
    member_counts: dict[int, Counter] = {}
    same_text: dict[str, str] = {}  # sha -> "same text as ..." for bytes unchanged by their text
    items = _items(ready, unzip_dir, limits)
    for chunk in chain(_chunks(items, known, max(1, size)), [None]):
        started_next = None
        if chunk is not None:
            todo = [(i.entry.path, i.sha) for i in chunk if _needs_extraction(i, known)]
            check_setup = bool(todo) and not preflight_done
            if check_setup and not pipelined:
                preflight()
            started_next = (chunk, todo, _start(process_many, todo))
            if check_setup and pipelined:
                preflight()  # while the workers start; nothing is loaded before it passes
            preflight_done = preflight_done or check_setup
        if pipelined:
            to_load, pending = pending, started_next
        else:
            to_load = started_next
        if to_load is None:
            continue
        loaded = _load_chunk(wh, *to_load, known, run_id, member_counts, same_text)
        wh.publish()  # the chunk is committed: analysts see it now
        for item, outcome in loaded:
            drain = item.entry.drain and not keep_inbox
            note = None
            try:
                target = archive(outcome, archive_root, keep_inbox=not drain)
                outcome.archived_to = str(target) if target else None
                if target is not None and outcome.sha256 and outcome.outcome in (LOADED, UNCHANGED):
                    wh.record_location(outcome.sha256, target)  # the review page's page images
            except FileChangedAfterRead:
                note = CHANGED_AFTER_READ
            except OSError as exc:
                # Loaded but not moved: the next run sees the hash and archives it then.
                note = archive_error_text(exc)
            if note:
                outcome.reason = f"{outcome.reason}; {note}" if outcome.reason else note
            emit(outcome)


def _needs_extraction(item: _Item, known: set[str]) -> bool:
    return (item.sha is not None and item.preset is None and item.members is None
            and item.entry.skip is None and item.sha not in known)


def _arrival(path: Path) -> datetime | None:
    try:
        return datetime.fromtimestamp(path.stat().st_mtime)
    except (OSError, ValueError, OverflowError):
        return None


def _items(ready: list[Entry], unzip_dir: Path, limits: Limits) -> Iterator[_Item]:
    """Entries in order, hashed. A .zip is unpacked and its members come before it, so the
    .zip is archived (moved out of the inbox) only after every member's load has committed."""
    for entry in ready:
        if entry.path.suffix.lower() not in ARCHIVE_SUFFIXES:
            item = _hash(entry)
            item.arrived_at = _arrival(entry.path)
            yield item
            continue
        # Read once: the members come from the very bytes that were hashed.
        item, data = _read_and_hash(entry)
        item.arrived_at = _arrival(entry.path)
        if item.sha is None or data is None:
            yield item
            continue
        folder = unzip_dir / item.sha[:16]
        try:
            members = unpack(entry, data, folder, limits)
        except ReaderError as exc:
            item.preset = _refused(entry, item.sha, exc)
            yield item
            continue
        except OSError as exc:
            item.error = f"unreachable: {exc.strerror or exc}"
            yield item
            continue
        finally:
            del data
        item.members = []
        for member in members:
            sub = _Item(member.entry, arrived_at=item.arrived_at)
            if member.skip is None and member.refusal is None:
                sub = _hash(member.entry)
                sub.arrived_at = item.arrived_at
            elif member.refusal is not None:
                sub.sha = item.sha[:16] + ":" + member.entry.name  # no bytes were extracted to hash
                sub.preset = _refused(member.entry, sub.sha, member.refusal)
            item.members.append(sub)
            yield sub
        yield item


def _refused(entry: Entry, sha: str, exc: ReaderError) -> ProcessResult:
    return ProcessResult(entry.name, str(entry.path), sha, None, QUARANTINED,
                         code=exc.code, reason=exc.reason)


def _read_and_hash(entry: Entry) -> tuple[_Item, bytes | None]:
    try:
        data = entry.path.read_bytes()
    except FileNotFoundError:
        return _Item(entry, error=GONE), None
    except OSError as exc:
        return _Item(entry, error=f"unreachable: {exc.strerror or exc}"), None
    return _Item(entry, hashlib.sha256(data).hexdigest()), data


def _hash(entry: Entry) -> _Item:
    try:
        return _Item(entry, sha256_file(entry.path))
    except FileNotFoundError:
        return _Item(entry, error=GONE)
    except OSError as exc:
        return _Item(entry, error=f"unreachable: {exc.strerror or exc}")


def _chunks(items: Iterable[_Item], known: set[str], size: int) -> Iterator[list[_Item]]:
    """Items in order, in chunks holding up to `size` files to extract. Files already
    loaded cost only an audit row, so they do not count: an inbox with nothing new is one
    chunk (one writable open of the warehouse), not one per `size` files."""
    chunk: list[_Item] = []
    new = 0
    for item in items:
        chunk.append(item)
        new += _needs_extraction(item, known)
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


def _load_chunk(wh: Warehouse, chunk: list[_Item], todo: list[WorkItem],
                collect: Callable[[], list[ProcessResult]], known: set[str], run_id: int,
                member_counts: dict[int, Counter],
                same_text: dict[str, str]) -> list[tuple[_Item, LoadOutcome]]:
    results: dict[str, ProcessResult] = {}
    if todo:
        for (path, _sha), result in zip(todo, collect(), strict=True):
            results[str(path)] = result

    loaded: list[tuple[_Item, LoadOutcome]] = []
    # One transaction for the chunk (Warehouse.batch): one commit instead of one per file.
    with wh.batch():
        for item in chunk:
            entry, origin = item.entry, item.origin
            name, path = entry.name, str(entry.path)
            if entry.skip is not None:
                outcome = wh.record_skipped(run_id, name, path, None, entry.skip, origin)
            elif item.error is not None or item.sha is None:
                outcome = wh.record_skipped(run_id, name, path, None, item.error or "unreachable", origin)
            elif item.members is not None:
                counts = sum((member_counts.pop(id(m), Counter()) for m in item.members), Counter())
                detail = ", ".join(f"{n} {k}" for k, n in sorted(counts.items()))
                outcome = wh.record_unpacked(
                    run_id, name, path, item.sha,
                    f"{len(item.members)} member{'s' if len(item.members) != 1 else ''}"
                    + (f" ({detail})" if detail else ""), origin)
            elif item.preset is not None:
                outcome = wh.load(item.preset, run_id, origin)
            elif item.sha in known:
                # bytes met earlier that were unchanged by their text have no version of their own
                outcome = wh.record_unchanged(run_id, name, path, item.sha, origin, same_text.get(item.sha))
            else:
                result = results.get(path)
                if result is None:
                    outcome = wh.record_skipped(run_id, name, path, item.sha, "not processed", origin)
                else:
                    # A cached result (Prefect) may come from the same bytes under another name.
                    result.path, result.source_file = path, name
                    outcome = wh.load(result, run_id, origin)
                    if outcome.outcome in (LOADED, UNCHANGED):
                        known.add(item.sha)
                    if outcome.outcome == UNCHANGED and outcome.reason:
                        same_text[item.sha] = outcome.reason
            if entry.container is not None:
                member_counts[id(item)] = Counter({outcome.outcome: 1})
            loaded.append((item, outcome))
    return loaded


def _finish(wh: Warehouse, summary: IngestSummary, error_text: str | None,
            status: str | None = None) -> None:
    if summary.run_id is None:
        return
    try:
        errors = sum(1 for o in summary.outcomes
                     if o.outcome == SKIPPED and (o.reason or "").startswith(_TRANSIENT))
        wh.finish_run(summary.run_id, dict(summary.counts), errors=errors, error_text=error_text,
                      status=status)
        if error_text is not None:
            wh.publish()  # the failed run shows in `status` and the runs view at once
        else:
            from commune_metrics.warehouse.corrections import apply_default_corrections

            apply_default_corrections(wh.con)  # data/corrections.csv, re-applied on every ingest
    except Exception:
        if error_text is None:
            raise
        # Already failing: the original error matters more than the bookkeeping one.
