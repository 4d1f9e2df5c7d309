"""The writer side of the warehouse: open under the single-writer lock, record runs, load
one processed file per transaction.

Loading rules (see identity.py for the document key):
- same bytes as any loaded version -> "unchanged", nothing written but the audit row;
- new bytes -> a new version; the previous current version of the same key is kept as
  history (is_current = false, superseded_by);
- a quarantined file -> one quarantine row per content hash (attempts counted);
every file also gets a run_files row. All of a document's rows commit together or not at all.
"""

from __future__ import annotations

import errno
import os
import re
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

import duckdb

from commune_metrics.core.config import DEFAULT_WAREHOUSE
from commune_metrics.core.lifecycle import pid_alive
from commune_metrics.core.model import ERROR, OK, QUARANTINED, DocMeta, ProcessResult
from commune_metrics.warehouse import lock as lock_module
from commune_metrics.warehouse.errors import (
    WarehouseBusyError,
    WarehouseDiskFullError,
    WarehouseWriteError,
)
from commune_metrics.warehouse.identity import (
    Match,
    Version,
    document_key,
    in_version_order,
    match_version,
    period_of,
    slot_of,
)
from commune_metrics.warehouse.lock import WriterLock
from commune_metrics.warehouse.pending import apply_pending
from commune_metrics.warehouse.schema import apply_schema, refresh_reference, rollback_quietly
from commune_metrics.warehouse.snapshot import connect_snapshot, snapshot_is_fresh
from commune_metrics.warehouse.snapshot import publish as publish_snapshot

LOADED = "loaded"
UNCHANGED = "unchanged"
SKIPPED = "skipped"
UNPACKED = "unpacked"  # a .zip whose members got lines of their own
OUTCOMES = (LOADED, UNCHANGED, QUARANTINED, SKIPPED, UNPACKED)
__all__ = ["LOADED", "OUTCOMES", "QUARANTINED", "SKIPPED", "UNCHANGED", "UNPACKED", "LoadOutcome", "Origin",
           "Warehouse", "connect_readonly", "open_warehouse", "open_warehouse_locked"]

_DUCKDB_RETRY_SECONDS = 0.2


@dataclass
class LoadOutcome:
    source_file: str
    path: str
    sha256: str | None
    outcome: str  # loaded / unchanged / quarantined / skipped
    reason: str | None = None
    doc_id: int | None = None
    version: int | None = None
    replaced_version: int | None = None
    facts: int = 0
    flags: int = 0
    archived_to: str | None = None
    raw_name: bytes | None = None  # the file name's bytes as found
    container: str | None = None  # the .zip it came from
    repeat: bool = False  # quarantined before with the same bytes (its copy is archived already)
    replaced_file: str | None = None  # source_file of the version this one replaced
    why: str | None = None  # why it is a version of that document ("same số 87/BC-UBND")
    current: bool = True  # False: an older version than the current one, kept as history


@dataclass(frozen=True)
class Origin:
    """Where a file came from, as the ingest loop found it."""

    raw_name: bytes | None = None
    container: str | None = None
    arrived_at: datetime | None = None


_ROWS_PER_INSERT = 200


# Named, not positional: columns added later by ALTER TABLE (scope) must not shift the values.
_FACT_COLUMNS = ("doc_id", "seq", "metric", "kind", "value", "unit", "qualifier", "page", "char_start",
                 "char_end", "evidence", "extractor", "confidence", "scope", "status", "reason")


def _insert_rows(con: duckdb.DuckDBPyConnection, table: str, rows: list[list],
                 columns: tuple[str, ...] | None = None) -> None:
    """Multi-row INSERTs: DuckDB's executemany runs one statement per row (~0.1 ms each),
    which was a third of loading a document."""
    width = len(rows[0])
    one = "(" + ", ".join("?" * width) + ")"
    into = f"{table} ({', '.join(columns)})" if columns else table  # literals from this module
    for start in range(0, len(rows), _ROWS_PER_INSERT):
        batch = rows[start:start + _ROWS_PER_INSERT]
        con.execute(f"INSERT INTO {into} VALUES " + ", ".join([one] * len(batch)),
                    [value for row in batch for value in row])


def _utf8(text: str | None) -> str | None:
    """A file name that is not valid UTF-8 reaches Python with surrogate escapes, which DuckDB
    refuses (and the whole batch with it); store it with U+FFFD in place of the bad bytes."""
    if text is None:
        return None
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _is_lock_conflict(exc: duckdb.Error) -> bool:
    text = str(exc).lower()
    return "lock" in text or "different configuration" in text


def _holder_of(exc: duckdb.Error) -> str:
    """'PID 123, /usr/bin/python3' from DuckDB's lock message, when it names the holder."""
    match = re.search(r"held in (.+?) \(PID (\d+)\)", str(exc))
    return f" (PID {match.group(2)}, {match.group(1)})" if match else ""


def _connect_with_retry(path: Path, read_only: bool, timeout: float,
                        on_wait: Callable[[str], None] | None = None) -> duckdb.DuckDBPyConnection:
    deadline = time.monotonic() + timeout
    told = False
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only)
        except (duckdb.IOException, duckdb.ConnectionException) as exc:
            if not _is_lock_conflict(exc):
                raise
            if time.monotonic() >= deadline:
                what = "read" if read_only else "write to"
                raise WarehouseBusyError(
                    f"cannot {what} {path}: another program{_holder_of(exc)} has it open; "
                    "try again when it is closed"
                ) from None
            if on_wait is not None and not told:
                on_wait(f"waiting: another program{_holder_of(exc)} has {path} open")
                told = True
            time.sleep(_DUCKDB_RETRY_SECONDS)


def connect_readonly(
    path: Path | str = DEFAULT_WAREHOUSE, timeout: float | None = None
) -> duckdb.DuckDBPyConnection:
    """A read-only connection to the analysts' snapshot of the warehouse (snapshot.py): it
    never waits for a run and never makes a run wait. `timeout` (default $CM_READ_TIMEOUT
    or 10 s) only matters while a brand-new warehouse has no snapshot yet."""
    path = Path(path)
    if timeout is None:
        timeout = float(os.environ.get("CM_READ_TIMEOUT", "10"))
    return connect_snapshot(path, timeout=timeout)


@contextmanager
def open_warehouse(
    path: Path | str = DEFAULT_WAREHOUSE,
    *,
    lock_timeout: float | None = None,
    on_wait: Callable[[str], None] | None = None,
) -> Iterator[Warehouse]:
    """Open for writing: take the writer lock, connect, bring the schema up to date (writing
    nothing when it is). On a clean exit the read snapshot is published, so what was written
    shows to analysts. A write that fails for lack of space or an I/O error comes out as one
    WarehouseWriteError line; DuckDB's own text stays in the chained exception."""
    path = Path(path)
    timeout = lock_module.DEFAULT_LOCK_TIMEOUT if lock_timeout is None else lock_timeout
    lock = WriterLock(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        lock.acquire(timeout, on_wait)
    except OSError as exc:
        translated = write_error(exc, path)
        if translated is None:
            raise
        raise translated from exc
    try:
        with open_warehouse_locked(path, lock, timeout, on_wait) as wh:
            yield wh
    finally:
        lock.release()


@contextmanager
def open_warehouse_locked(
    path: Path, lock: WriterLock, timeout: float, on_wait: Callable[[str], None] | None = None
) -> Iterator[Warehouse]:
    """The writer's connection, for a caller that already holds `lock`."""
    con: duckdb.DuckDBPyConnection | None = None
    failed = False
    try:
        if not path.exists():
            _create(path, timeout)
        # A program that opened the writer's file directly (an old `duckdb` session) still
        # blocks it; wait for it like for another writer, and say who it is once.
        con = _connect_with_retry(path, read_only=False, timeout=timeout, on_wait=on_wait)
        _prepare(con)
        wh = Warehouse(con, path)
        if not snapshot_is_fresh(path):
            wh.publish()  # readers of a new (or upgraded) warehouse need not wait for a batch
        yield wh
        wh.publish()
    except (duckdb.Error, OSError) as exc:
        failed = True
        translated = write_error(exc, path)
        if translated is None:
            raise
        raise translated from exc
    except BaseException:
        failed = True
        raise
    finally:
        if con is not None:
            try:
                con.close()  # may checkpoint, i.e. write
            except (duckdb.Error, OSError):
                if not failed:
                    raise


def _prepare(con: duckdb.DuckDBPyConnection) -> None:
    # The writer runs many tiny statements: in DuckDB's thread pool each one waits for a
    # thread to be scheduled, which is slow exactly when extraction workers fill the cores.
    con.execute("SET threads = 1")
    apply_schema(con)
    refresh_reference(con)


_CREATING = ".creating-"


def _create(path: Path, timeout: float) -> None:
    """Build a new warehouse under a temporary name and rename it into place once its schema
    is committed and checkpointed, so the file at `path` always has the whole schema: a run
    killed while creating it leaves only a temporary file (removed here next time), never a
    warehouse without tables. Called under the writer lock."""
    for stale in path.parent.glob(f".{path.name}{_CREATING}*"):
        stale.unlink(missing_ok=True)
    tmp = path.with_name(f".{path.name}{_CREATING}{os.getpid()}")
    try:
        con = _connect_with_retry(tmp, read_only=False, timeout=timeout)
        try:
            _prepare(con)
        finally:
            con.close()  # checkpoints: everything is in the main file, the WAL is gone
        if tmp.with_name(tmp.name + ".wal").exists():
            raise OSError(f"could not checkpoint the new warehouse {tmp}")
        os.rename(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
        tmp.with_name(tmp.name + ".wal").unlink(missing_ok=True)


def write_error(exc: BaseException, path: Path) -> WarehouseWriteError | None:
    """The one-line error for a failed warehouse write (full disk, I/O error), or None when
    `exc` is something else (a bug, a constraint) that must keep its own trace."""
    text = str(exc)
    errno_ = getattr(exc, "errno", None)
    if errno_ == errno.ENOSPC or "no space left on device" in text.lower():
        return WarehouseDiskFullError(
            f"no space left on device while writing the warehouse: free space and run again ({path.parent})"
        )
    if errno_ == errno.EDQUOT or "quota exceeded" in text.lower():
        return WarehouseDiskFullError(
            f"disk quota exceeded while writing the warehouse: free space and run again ({path.parent})"
        )
    if isinstance(exc, duckdb.IOException) or "IO Error" in text:
        first = " ".join(text.split())[:300]
        return WarehouseWriteError(f"could not use the warehouse {path}: {first}")
    return None  # other OSErrors keep their own type and message


class Warehouse:
    """Writer API over one open connection. Obtain it with `open_warehouse`."""

    def __init__(self, con: duckdb.DuckDBPyConnection, path: Path) -> None:
        self.con = con
        self.path = path
        self._in_batch = False

    @contextmanager
    def batch(self) -> Iterator[Warehouse]:
        """Load several files in one transaction: one commit (~3 ms, a WAL flush) instead of
        one per file, which was half the cost of loading a document. All of the batch is kept
        or none of it; a document is still never kept in part."""
        if self._in_batch:
            yield self
            return
        self.con.begin()
        self._in_batch = True
        try:
            yield self
            self.con.commit()
        except BaseException:
            # BaseException too: a KeyboardInterrupt mid-document must not leave half of it.
            # Quietly: when the commit itself failed (a full disk) the rollback fails as well,
            # and its message must not hide the real one.
            rollback_quietly(self.con)
            raise
        finally:
            self._in_batch = False

    def publish(self) -> None:
        """Make everything committed so far visible to readers (snapshot.publish). Called
        after each committed batch of a run and when the writer closes."""
        if self._in_batch:
            raise RuntimeError("publish inside a batch: only committed data may be published")
        # Review actions queued while this writer held the lock go in first, so an analyst's
        # correction shows in the same snapshot as the batch that made it wait.
        apply_pending(self.con, self.path)
        publish_snapshot(self.con, self.path)

    # -- runs -------------------------------------------------------------------------
    def start_run(self, trigger: str) -> int:
        self.mark_crashed_runs()
        run_id = self.con.execute("SELECT nextval('run_id_seq')").fetchone()[0]
        self.con.execute(
            """INSERT INTO runs (run_id, trigger, host, pid, started_at, status)
               VALUES (?, ?, ?, ?, ?, 'running')""",
            [run_id, trigger, socket.gethostname(), os.getpid(), datetime.now()],
        )
        return int(run_id)

    def mark_crashed_runs(self) -> list[int]:
        """Runs still `running` whose process is gone (killed, power cut) become `crashed`, with
        the time it was noticed and the counts of what they did. Only runs of this host can be
        checked; a run elsewhere stays `running` until a run on its own host looks."""
        host = socket.gethostname()
        rows = self.con.execute(
            "SELECT run_id, pid, started_at FROM runs WHERE status = 'running' AND host = ?", [host]
        ).fetchall()
        gone = [int(run_id) for run_id, pid, started in rows
                if pid is None or not pid_alive(int(pid), started.timestamp() if started else None)]
        now = datetime.now()
        for run_id in gone:
            pid = next(r[1] for r in rows if r[0] == run_id)
            self.con.execute(
                """UPDATE runs SET status = 'crashed', finished_at = ?, error_text = ?,
                       files_seen = f.n, loaded = f.loaded, unchanged = f.unchanged,
                       quarantined = f.quarantined, skipped = f.skipped, unpacked = f.unpacked
                   FROM (SELECT count(*) AS n,
                                count(*) FILTER (WHERE outcome = 'loaded') AS loaded,
                                count(*) FILTER (WHERE outcome = 'unchanged') AS unchanged,
                                count(*) FILTER (WHERE outcome = 'quarantined') AS quarantined,
                                count(*) FILTER (WHERE outcome = 'skipped') AS skipped,
                                count(*) FILTER (WHERE outcome = 'unpacked') AS unpacked
                         FROM run_files WHERE run_id = ?) AS f
                   WHERE runs.run_id = ?""",
                [now, f"process gone (pid {pid} on {host}): killed or crashed", run_id, run_id],
            )
        return gone

    def finish_run(self, run_id: int, counts: dict[str, int], *, errors: int = 0,
                   error_text: str | None = None, status: str | None = None) -> None:
        """Record the end of a run: `status` ok / failed (default: from error_text) / stopped."""
        self.con.execute(
            """UPDATE runs SET finished_at = ?, status = ?, files_seen = ?, loaded = ?, unchanged = ?,
                   quarantined = ?, skipped = ?, unpacked = ?, errors = ?, error_text = ?
               WHERE run_id = ?""",
            [
                datetime.now(), status or ("failed" if error_text else "ok"),
                sum(counts.get(o, 0) for o in OUTCOMES),
                counts.get(LOADED, 0), counts.get(UNCHANGED, 0), counts.get(QUARANTINED, 0),
                counts.get(SKIPPED, 0), counts.get(UNPACKED, 0), errors, error_text, run_id,
            ],
        )

    # -- lookups ----------------------------------------------------------------------
    def loaded_hashes(self) -> set[str]:
        return {h for (h,) in self.con.execute("SELECT sha256 FROM document_versions").fetchall()}

    def _loaded_version(self, sha256: str) -> tuple[int, int] | None:
        row = self.con.execute(
            "SELECT doc_id, version FROM document_versions WHERE sha256 = ?", [sha256]
        ).fetchone()
        return (int(row[0]), int(row[1])) if row else None

    # -- loading ----------------------------------------------------------------------
    def record_unchanged(self, run_id: int, source_file: str, path: str, sha256: str,
                         origin: Origin | None = None, reason: str | None = None) -> LoadOutcome:
        """A file whose bytes (or text) are already loaded: only the audit row is written."""
        known = self._loaded_version(sha256)
        origin = origin or Origin()
        outcome = LoadOutcome(source_file, path, sha256, UNCHANGED, reason=reason,
                              doc_id=known[0] if known else None, version=known[1] if known else None,
                              raw_name=origin.raw_name, container=origin.container)
        self._audit(run_id, outcome, seconds=0.0)
        return outcome

    def record_skipped(self, run_id: int, source_file: str, path: str, sha256: str | None,
                       reason: str, origin: Origin | None = None) -> LoadOutcome:
        origin = origin or Origin()
        outcome = LoadOutcome(source_file, path, sha256, SKIPPED, reason=reason,
                              raw_name=origin.raw_name, container=origin.container)
        self._audit(run_id, outcome, seconds=0.0)
        return outcome

    def record_unpacked(self, run_id: int, source_file: str, path: str, sha256: str, reason: str,
                        origin: Origin | None = None) -> LoadOutcome:
        """A .zip whose members were handled one by one (each has its own row)."""
        origin = origin or Origin()
        outcome = LoadOutcome(source_file, path, sha256, UNPACKED, reason=reason,
                              raw_name=origin.raw_name, container=origin.container)
        self._audit(run_id, outcome, seconds=0.0)
        return outcome

    def load(self, result: ProcessResult, run_id: int, origin: Origin | None = None) -> LoadOutcome:
        """Load one processed file in one transaction."""
        origin = origin or Origin()
        result = replace(result, source_file=_utf8(result.source_file), reason=_utf8(result.reason))
        # Loaded already (maybe by a concurrent run while this one was extracting)?
        if result.sha256 is not None and self._loaded_version(result.sha256) is not None:
            return self.record_unchanged(run_id, result.source_file, result.path, result.sha256, origin)
        if result.status == ERROR or result.sha256 is None:
            return self.record_skipped(run_id, result.source_file, result.path, result.sha256,
                                       f"{result.code}: {result.reason}", origin)

        with self.batch():  # its own transaction, or the enclosing batch's
            if result.status == QUARANTINED:
                outcome = self._quarantine(result, run_id, origin)
            elif result.status == OK:
                outcome = self._insert_document(result, run_id, origin)
            else:
                raise ValueError(f"unknown process status {result.status!r}")
            outcome.raw_name, outcome.container = origin.raw_name, origin.container
            self._audit(run_id, outcome, seconds=result.seconds)
        return outcome

    def _quarantine(self, result: ProcessResult, run_id: int, origin: Origin) -> LoadOutcome:
        now = datetime.now()
        code = result.code or "unreadable"
        reason = result.reason or code
        updated = self.con.execute(
            """UPDATE quarantine_rows SET source_file = ?, code = ?, reason = ?, last_at = ?,
                   attempts = attempts + 1, run_id = ?, source_file_raw = ?, container = ?
               WHERE sha256 = ? RETURNING attempts""",
            [result.source_file, code, reason, now, run_id, origin.raw_name, origin.container, result.sha256],
        ).fetchall()
        if not updated:
            self.con.execute(
                """INSERT INTO quarantine_rows (sha256, source_file, code, reason, first_at, last_at,
                       attempts, run_id, source_file_raw, container)
                   VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?, ?)""",
                [result.sha256, result.source_file, code, reason, now, now, run_id, origin.raw_name,
                 origin.container],
            )
        return LoadOutcome(result.source_file, result.path, result.sha256, QUARANTINED,
                           reason=f"{code}: {reason}", repeat=bool(updated))

    def _same_text(self, text_sha256: str | None) -> tuple[str, int] | None:
        if text_sha256 is None:
            return None
        row = self.con.execute(
            "SELECT source_file, version FROM document_versions WHERE text_sha256 = ? ORDER BY doc_id"
            " LIMIT 1",
            [text_sha256],
        ).fetchone()
        return (row[0], int(row[1])) if row else None

    def _versions(self, where: str, params: list) -> list[Version]:
        rows = self.con.execute(
            f"""SELECT doc_id, doc_key, source_file, period_start, period_end, as_of, doc_number, subject,
                       text_signature, issued_on, run_id, arrived_at, is_current
                FROM document_versions WHERE {where}""",  # where: a literal of this class
            params,
        ).fetchall()
        return [
            Version(int(r[0]), r[1], r[2],
                    period_of(DocMeta(period_start=r[3], period_end=r[4], as_of=r[5])),
                    r[6], r[7], list(r[8]) if r[8] is not None else None, r[9], r[10], r[11], bool(r[12]))
            for r in rows
        ]

    def _insert_document(self, result: ProcessResult, run_id: int, origin: Origin) -> LoadOutcome:
        meta = result.meta or DocMeta()
        same_text = self._same_text(result.text_sha256)
        if same_text is not None:  # other bytes, same text (a re-saved file): nothing new
            return LoadOutcome(result.source_file, result.path, result.sha256, UNCHANGED,
                               reason=f"same text as {same_text[0]} (v{same_text[1]})")
        slot = slot_of(meta)
        match = match_version(meta, result.text_signature,
                              self._versions("doc_slot = ? AND is_current", [slot]))
        key = match.version.doc_key if match else document_key(meta, text_sha256=result.text_sha256)
        doc_id = int(self.con.execute("SELECT nextval('doc_id_seq')").fetchone()[0])
        now = datetime.now()
        self.con.execute(
            """INSERT INTO document_versions (doc_id, doc_key, version, is_current, sha256, source_file,
                   file_type, size_bytes, doc_type, ward_code, commune, province, period_start, period_end,
                   as_of, issued_on, signer, pages, ocr_pages, fact_count, flag_count, loaded_at, run_id,
                   source_file_raw, container, arrived_at, doc_slot, doc_number, subject, encoding_fixed,
                   replace_reason, text_sha256, text_signature)
               VALUES (?, ?, 1, true, """ + ", ".join("?" * 29) + ")",
            [
                doc_id, key, result.sha256, result.source_file, result.file_type, result.size_bytes,
                meta.doc_type, meta.ward_code, meta.commune, meta.province, meta.period_start,
                meta.period_end, meta.as_of, meta.issued_on, meta.signer,
                result.pages, ",".join(str(p) for p in result.ocr_pages) or None,
                len(result.facts), len(result.flags), now, run_id,
                origin.raw_name, _utf8(origin.container), origin.arrived_at, slot, meta.doc_number,
                meta.subject, result.encoding_fixed, match.why if match else None, result.text_sha256,
                result.text_signature or None,
            ],
        )
        self._insert_facts(doc_id, result)
        self._insert_flags(doc_id, result)
        outcome = LoadOutcome(result.source_file, result.path, result.sha256, LOADED, doc_id=doc_id,
                              version=1, facts=len(result.facts), flags=len(result.flags))
        if match is not None:
            self._order_versions(key, doc_id, now, outcome, match)
        self._insert_text(result)
        return outcome

    def _order_versions(self, key: str, doc_id: int, now: datetime, outcome: LoadOutcome,
                        match: Match) -> None:
        """Number the versions of one document by issue date, then arrival; the last is current.
        Each version `replaces` the one before it."""
        ordered = in_version_order(self._versions("doc_key = ?", [key]))
        for position, v in enumerate(ordered):
            after = ordered[position + 1] if position + 1 < len(ordered) else None
            before = ordered[position - 1] if position else None
            self.con.execute(
                """UPDATE document_versions SET version = ?, is_current = ?, replaces = ?,
                       superseded_by = ?, superseded_at = CASE WHEN ? IS NULL THEN NULL
                                                               ELSE coalesce(superseded_at, ?) END
                   WHERE doc_id = ?""",
                [position + 1, after is None, before.source_file if before else None,
                 after.doc_id if after else None, after.doc_id if after else None, now, v.doc_id],
            )
            if v.doc_id == doc_id:
                outcome.version, outcome.current, outcome.why = position + 1, after is None, match.why
                if after is None:  # the new current version: name the one it replaced
                    outcome.replaced_file = before.source_file if before else None
                    outcome.replaced_version = position or None
                else:  # an older version arriving late: history; name the current one
                    outcome.replaced_file = ordered[-1].source_file

    def _insert_facts(self, doc_id: int, result: ProcessResult) -> None:
        rows = [
            [doc_id, seq, f.metric, f.kind, f.value, f.unit, f.qualifier, f.page, f.char_start, f.char_end,
             f.evidence, f.extractor, f.confidence, f.scope, f.status, f.reason]
            for seq, f in enumerate(result.facts)
        ]
        if rows:
            _insert_rows(self.con, "fact_rows", rows, _FACT_COLUMNS)

    def _insert_text(self, result: ProcessResult) -> None:
        if result.text is None:
            return
        known = self.con.execute("SELECT 1 FROM document_texts WHERE sha256 = ?", [result.sha256]).fetchone()
        if known is None:
            starts = None if result.page_starts is None else ",".join(str(s) for s in result.page_starts)
            self.con.execute("INSERT INTO document_texts VALUES (?, ?, ?)",
                             [result.sha256, result.text, starts])

    def record_location(self, sha256: str, path: Path | str) -> None:
        """Where a loaded file now lies (its archived copy), for the review page's page images."""
        self.con.execute("INSERT INTO document_files VALUES (?, ?, ?)",
                         [sha256, _utf8(str(Path(path).absolute())), datetime.now()])

    def _insert_flags(self, doc_id: int, result: ProcessResult) -> None:
        rows = [
            [doc_id, seq, g.rule, ",".join(g.metrics), g.expected, g.actual, g.difference, g.message,
             "\n".join(g.evidence), ",".join(str(i) for i in g.fact_indexes) or None]
            for seq, g in enumerate(result.flags)
        ]
        if rows:
            _insert_rows(self.con, "flag_rows", rows)

    def _audit(self, run_id: int, outcome: LoadOutcome, seconds: float) -> None:
        self.con.execute(
            """INSERT INTO run_files (run_id, source_file, sha256, outcome, reason, doc_id, version, seconds,
                   recorded_at, source_file_raw, container)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            [run_id, _utf8(outcome.source_file), outcome.sha256, outcome.outcome, _utf8(outcome.reason),
             outcome.doc_id, outcome.version, seconds, datetime.now(), outcome.raw_name,
             _utf8(outcome.container)],
        )
