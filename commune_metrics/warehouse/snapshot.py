"""The analysts' read snapshot: a copy of the warehouse that the writer replaces atomically
after each committed batch, so readers never block a run and a run never breaks a reader.

    data/warehouse/warehouse.duckdb            the writer's file (one writer at a time)
    data/warehouse/warehouse.snapshot.duckdb   what `compare`, `report`, `sql`, the review
                                               page and analysts' own sessions open

Why a copy and not DuckDB's read-only mode on the writer's file: DuckDB lets either one
writer process or any number of reader processes hold a file, never both, so an analyst's
open session stopped the nightly run and a run made analysts' reads fail.

Publishing: CHECKPOINT (all committed data into the main file, WAL empty), copy the file to a
temporary name in the same folder, fsync, rename over the snapshot. rename is atomic, so a new
reader sees either the old or the new snapshot, never half of one; a reader that still has
the old file open keeps its consistent view (the old inode lives until it disconnects).

Reading: each connection is a fresh in-memory DuckDB with the snapshot ATTACHed read-only and
made the default catalog. A plain `duckdb.connect(path)` would reuse a database instance the
process already has open for that path (DuckDB caches instances per path), which would keep
serving the replaced file to a long-lived process such as the review server.
"""

from __future__ import annotations

import hashlib
import os
import time
from functools import lru_cache
from pathlib import Path

import duckdb

from commune_metrics.warehouse.errors import WarehouseBusyError, WarehouseNotFoundError
from commune_metrics.warehouse.schema import SQL_DIR, _rules_stamp, render_sql, sql_files

SNAPSHOT_ALIAS = "warehouse"
_POLL_SECONDS = 0.1


def snapshot_path_for(db_path: Path) -> Path:
    db_path = Path(db_path)
    return db_path.with_name(f"{db_path.stem}.snapshot{db_path.suffix or '.duckdb'}")


def publish(con: duckdb.DuckDBPyConnection, db_path: Path) -> Path:
    """Copy the writer's committed state to the snapshot. Call outside any transaction, by
    the process holding the writer lock (nothing else writes the file meanwhile)."""
    db_path = Path(db_path)
    target = snapshot_path_for(db_path)
    con.execute("CHECKPOINT")
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        with open(db_path, "rb") as src, open(tmp, "wb") as dst:
            # sendfile: the kernel copies, no bytes pass through Python.
            size = os.fstat(src.fileno()).st_size
            offset = 0
            while offset < size:
                sent = os.sendfile(dst.fileno(), src.fileno(), offset, size - offset)
                if sent == 0:
                    break
                offset += sent
            dst.flush()
            os.fsync(dst.fileno())
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return target


def schema_digests(sql_dir: Path = SQL_DIR) -> set[tuple[str, str]]:
    stamp = tuple((p.name, st.st_mtime_ns, st.st_size) for p in sql_files(sql_dir) for st in [p.stat()])
    return set(_digests(str(sql_dir), stamp, _rules_stamp()))


@lru_cache(maxsize=4)
def _digests(sql_dir: str, _stamp: tuple, _rules: tuple) -> frozenset[tuple[str, str]]:
    """Hashed once per version of the SQL files and the rules: every reader connection checks
    them. The texts as applied (schema.apply_schema records those): the catalog-driven
    placeholders filled in, so a metric added to rules/metrics.yaml refreshes the snapshot too."""
    return frozenset((p.name, hashlib.sha256(render_sql(p.read_text(encoding="utf-8")).encode()).hexdigest())
                     for p in sql_files(Path(sql_dir)))


def is_current(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the snapshot was published by this code's schema (same SQL files): after an
    upgrade, the first reader refreshes it instead of querying views that changed."""
    try:
        applied = set(con.execute("SELECT file, sha256 FROM schema_version").fetchall())
    except duckdb.Error:
        return False
    return schema_digests() <= applied


def snapshot_is_fresh(db_path: Path) -> bool:
    """A snapshot exists and was published by this code's schema."""
    snap = snapshot_path_for(db_path)
    if not snap.is_file():
        return False
    try:
        con = attach(snap)
    except duckdb.Error:
        return False  # unreadable (e.g. a crash mid-copy on a filesystem without atomic rename)
    try:
        return is_current(con)
    finally:
        con.close()


def attach(path: Path) -> duckdb.DuckDBPyConnection:
    """A fresh read-only connection to one snapshot file (see the module doc for why ATTACH)."""
    con = duckdb.connect(":memory:")
    try:
        quoted = str(path).replace("'", "''")
        con.execute(f"ATTACH '{quoted}' AS {SNAPSHOT_ALIAS} (READ_ONLY)")
        con.execute(f"USE {SNAPSHOT_ALIAS}")
    except BaseException:
        con.close()
        raise
    return con


def connect_snapshot(db_path: Path, timeout: float = 10.0) -> duckdb.DuckDBPyConnection:
    """Read-only connection to the snapshot of `db_path`. A missing or outdated snapshot (a
    warehouse built before snapshots, or by an older schema) is published first when no run
    holds the writer lock; while one does, its own first batch publishes it, so wait for that
    up to `timeout` seconds, and fall back to an outdated snapshot rather than fail."""
    from commune_metrics.warehouse.lock import WriterLock  # lock -> errors only; no cycle

    db_path = Path(db_path)
    snap = snapshot_path_for(db_path)
    deadline = time.monotonic() + timeout
    while True:
        if snap.is_file():
            con = attach(snap)
            if is_current(con):
                return con
            if not db_path.is_file():
                return con
            con.close()
        elif not db_path.is_file():
            raise WarehouseNotFoundError(
                f"no warehouse at {db_path}; load some files first with `commune-metrics ingest`"
            )
        lock = WriterLock(db_path)
        if lock.try_acquire():
            try:
                _publish_under_lock(db_path, lock)
            finally:
                lock.release()
            continue
        if time.monotonic() >= deadline:
            if snap.is_file():
                return attach(snap)  # outdated views beat no answer while a long run writes
            raise WarehouseBusyError(
                f"{db_path}: a run is loading its first files ({lock.holder()}); "
                "the read snapshot appears when its first batch commits, try again in a moment"
            )
        time.sleep(_POLL_SECONDS)


def _publish_under_lock(db_path: Path, lock) -> None:
    """Open the writer's file (the caller holds the writer lock), apply the schema and publish."""
    from commune_metrics.warehouse.store import open_warehouse_locked

    with open_warehouse_locked(db_path, lock, timeout=10.0):
        pass  # publishing happens on a clean exit
