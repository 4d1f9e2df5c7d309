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
from commune_metrics.core.model import ERROR, OK, QUARANTINED, ProcessResult
from commune_metrics.warehouse import lock as lock_module
from commune_metrics.warehouse.errors import (
    WarehouseBusyError,
    WarehouseDiskFullError,
    WarehouseNotFoundError,
    WarehouseWriteError,
)
from commune_metrics.warehouse.identity import document_key, superseded_keys
from commune_metrics.warehouse.lock import WriterLock
from commune_metrics.warehouse.schema import apply_schema, refresh_reference, rollback_quietly

LOADED = "loaded"
UNCHANGED = "unchanged"
SKIPPED = "skipped"
OUTCOMES = (LOADED, UNCHANGED, QUARANTINED, SKIPPED)
__all__ = ["LOADED", "OUTCOMES", "QUARANTINED", "SKIPPED", "UNCHANGED", "LoadOutcome", "Warehouse",
           "connect_readonly", "open_warehouse"]

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


_ROWS_PER_INSERT = 200


def _insert_rows(con: duckdb.DuckDBPyConnection, table: str, rows: list[list]) -> None:
    """Multi-row INSERTs: DuckDB's executemany runs one statement per row (~0.1 ms each),
    which was a third of loading a document."""
    width = len(rows[0])
    one = "(" + ", ".join("?" * width) + ")"
    for start in range(0, len(rows), _ROWS_PER_INSERT):
        batch = rows[start:start + _ROWS_PER_INSERT]
        con.execute(f"INSERT INTO {table} VALUES " + ", ".join([one] * len(batch)),  # table: a literal
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


def _connect_with_retry(path: Path, read_only: bool, timeout: float) -> duckdb.DuckDBPyConnection:
    deadline = time.monotonic() + timeout
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
            time.sleep(_DUCKDB_RETRY_SECONDS)


def connect_readonly(
    path: Path | str = DEFAULT_WAREHOUSE, timeout: float | None = None
) -> duckdb.DuckDBPyConnection:
    """A read-only connection for queries. Waits up to `timeout` seconds (default
    $CM_READ_TIMEOUT or 10) while a run is writing, then raises WarehouseBusyError."""
    path = Path(path)
    if timeout is None:
        timeout = float(os.environ.get("CM_READ_TIMEOUT", "10"))
    if not path.is_file():
        raise WarehouseNotFoundError(
            f"no warehouse at {path}; load some files first with `commune-metrics ingest`"
        )
    return _connect_with_retry(path, read_only=True, timeout=timeout)


@contextmanager
def open_warehouse(
    path: Path | str = DEFAULT_WAREHOUSE,
    *,
    lock_timeout: float | None = None,
    on_wait: Callable[[str], None] | None = None,
) -> Iterator[Warehouse]:
    """Open for writing: take the writer lock, connect, bring the schema up to date (writing
    nothing when it is). A write that fails for lack of space or an I/O error comes out as
    one WarehouseWriteError line; DuckDB's own text stays in the chained exception."""
    path = Path(path)
    timeout = lock_module.DEFAULT_LOCK_TIMEOUT if lock_timeout is None else lock_timeout
    lock = WriterLock(path)
    con: duckdb.DuckDBPyConnection | None = None
    failed = False
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        lock.acquire(timeout, on_wait)
        if not path.exists():
            _create(path, timeout)
        # A reader (e.g. an analyst's `duckdb -readonly` session) may still have the file
        # open; wait for it like for another writer.
        con = _connect_with_retry(path, read_only=False, timeout=timeout)
        _prepare(con)
        yield Warehouse(con, path)
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
        lock.release()


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
                       quarantined = f.quarantined, skipped = f.skipped
                   FROM (SELECT count(*) AS n,
                                count(*) FILTER (WHERE outcome = 'loaded') AS loaded,
                                count(*) FILTER (WHERE outcome = 'unchanged') AS unchanged,
                                count(*) FILTER (WHERE outcome = 'quarantined') AS quarantined,
                                count(*) FILTER (WHERE outcome = 'skipped') AS skipped
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
                   quarantined = ?, skipped = ?, errors = ?, error_text = ?
               WHERE run_id = ?""",
            [
                datetime.now(), status or ("failed" if error_text else "ok"),
                sum(counts.get(o, 0) for o in OUTCOMES),
                counts.get(LOADED, 0), counts.get(UNCHANGED, 0), counts.get(QUARANTINED, 0),
                counts.get(SKIPPED, 0), errors, error_text, run_id,
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
    def record_unchanged(self, run_id: int, source_file: str, path: str, sha256: str) -> LoadOutcome:
        """A file whose bytes are already loaded: only the audit row is written."""
        known = self._loaded_version(sha256)
        outcome = LoadOutcome(source_file, path, sha256, UNCHANGED,
                              doc_id=known[0] if known else None, version=known[1] if known else None)
        self._audit(run_id, outcome, seconds=0.0)
        return outcome

    def record_skipped(self, run_id: int, source_file: str, path: str, sha256: str | None,
                       reason: str) -> LoadOutcome:
        outcome = LoadOutcome(source_file, path, sha256, SKIPPED, reason=reason)
        self._audit(run_id, outcome, seconds=0.0)
        return outcome

    def load(self, result: ProcessResult, run_id: int) -> LoadOutcome:
        """Load one processed file in one transaction."""
        result = replace(result, source_file=_utf8(result.source_file), reason=_utf8(result.reason))
        # Loaded already (maybe by a concurrent run while this one was extracting)?
        if result.sha256 is not None and self._loaded_version(result.sha256) is not None:
            return self.record_unchanged(run_id, result.source_file, result.path, result.sha256)
        if result.status == ERROR or result.sha256 is None:
            return self.record_skipped(run_id, result.source_file, result.path, result.sha256,
                                       f"{result.code}: {result.reason}")

        with self.batch():  # its own transaction, or the enclosing batch's
            if result.status == QUARANTINED:
                outcome = self._quarantine(result, run_id)
            elif result.status == OK:
                outcome = self._insert_document(result, run_id)
            else:
                raise ValueError(f"unknown process status {result.status!r}")
            self._audit(run_id, outcome, seconds=result.seconds)
        return outcome

    def _quarantine(self, result: ProcessResult, run_id: int) -> LoadOutcome:
        now = datetime.now()
        code = result.code or "unreadable"
        reason = result.reason or code
        updated = self.con.execute(
            """UPDATE quarantine_rows SET source_file = ?, code = ?, reason = ?, last_at = ?,
                   attempts = attempts + 1, run_id = ?
               WHERE sha256 = ? RETURNING attempts""",
            [result.source_file, code, reason, now, run_id, result.sha256],
        ).fetchall()
        if not updated:
            self.con.execute(
                "INSERT INTO quarantine_rows VALUES (?, ?, ?, ?, ?, ?, 1, ?)",
                [result.sha256, result.source_file, code, reason, now, now, run_id],
            )
        return LoadOutcome(result.source_file, result.path, result.sha256, QUARANTINED,
                           reason=f"{code}: {reason}")

    def _insert_document(self, result: ProcessResult, run_id: int) -> LoadOutcome:
        meta = result.meta
        key = document_key(meta, result.source_file)
        keys = superseded_keys(meta, result.source_file)
        marks = ", ".join("?" for _ in keys)
        previous = self.con.execute(
            f"SELECT doc_id, version, issued_on FROM document_versions WHERE doc_key IN ({marks})"
            " AND is_current ORDER BY version DESC", keys
        ).fetchone()
        latest = self.con.execute(
            f"SELECT max(version) FROM document_versions WHERE doc_key IN ({marks})", keys
        ).fetchone()[0]
        version = int(latest or 0) + 1
        doc_id = int(self.con.execute("SELECT nextval('doc_id_seq')").fetchone()[0])
        now = datetime.now()
        # Versions are current by issue date, then arrival, never by the order files were
        # listed in: an original that arrives after its correction (or beside it in one batch,
        # sorted first by its name) is kept as history, and the correction stays current.
        issued = meta.issued_on if meta else None
        older = bool(previous and previous[2] and issued and issued < previous[2])
        if previous and not older:
            self.con.execute(
                f"""UPDATE document_versions SET is_current = false, superseded_at = ?, superseded_by = ?
                   WHERE doc_key IN ({marks}) AND is_current""",
                [now, doc_id, *keys],
            )
        self.con.execute(
            """INSERT INTO document_versions (doc_id, doc_key, version, is_current, sha256, source_file,
                   file_type, size_bytes, doc_type, ward_code, commune, province, period_start, period_end,
                   as_of, issued_on, signer, pages, ocr_pages, fact_count, flag_count, loaded_at, run_id,
                   superseded_at, superseded_by)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            [
                doc_id, key, version, not older, result.sha256, result.source_file, result.file_type,
                result.size_bytes,
                meta.doc_type if meta else "other",
                meta.ward_code if meta else None, meta.commune if meta else None,
                meta.province if meta else None, meta.period_start if meta else None,
                meta.period_end if meta else None, meta.as_of if meta else None,
                meta.issued_on if meta else None, meta.signer if meta else None,
                result.pages, ",".join(str(p) for p in result.ocr_pages) or None,
                len(result.facts), len(result.flags), now, run_id,
                now if older else None, int(previous[0]) if older else None,
            ],
        )
        self._insert_facts(doc_id, result)
        self._insert_flags(doc_id, result)
        return LoadOutcome(
            result.source_file, result.path, result.sha256, LOADED, doc_id=doc_id, version=version,
            replaced_version=int(previous[1]) if previous and not older else None,
            facts=len(result.facts), flags=len(result.flags),
            reason=(f"issued {issued:%d/%m/%Y}, before the current v{previous[1]} ({previous[2]:%d/%m/%Y}): "
                    "kept as history") if older else None,
        )

    def _insert_facts(self, doc_id: int, result: ProcessResult) -> None:
        rows = [
            [doc_id, seq, f.metric, f.kind, f.value, f.unit, f.qualifier, f.page, f.char_start, f.char_end,
             f.evidence, f.extractor, f.confidence]
            for seq, f in enumerate(result.facts)
        ]
        if rows:
            _insert_rows(self.con, "fact_rows", rows)

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
            "INSERT INTO run_files VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [run_id, _utf8(outcome.source_file), outcome.sha256, outcome.outcome, _utf8(outcome.reason),
             outcome.doc_id, outcome.version, seconds, datetime.now()],
        )
