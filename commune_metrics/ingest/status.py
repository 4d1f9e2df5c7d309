"""What `commune-metrics status` reports, as plain data (the CLI renders it).

Each piece is a small function reading one source, so another piece (e.g. the next
scheduled run, from Prefect) is one more function and one more section in the CLI.
Nothing here writes: status works on a read-only warehouse and on a full disk.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from commune_metrics.core.lifecycle import pid_alive
from commune_metrics.ingest.inbox import list_files
from commune_metrics.warehouse import connect_readonly


@dataclass
class RunRow:
    run_id: int
    trigger: str
    host: str | None
    pid: int | None
    started_at: datetime
    finished_at: datetime | None
    status: str  # running / ok / failed / crashed
    loaded: int
    unchanged: int
    quarantined: int
    skipped: int
    error_text: str | None

    @property
    def seconds(self) -> float | None:
        """How long it ran; unknown for a crashed run (its finished_at is when that was noticed)."""
        if self.status == "crashed":
            return None
        end = self.finished_at or (datetime.now() if self.status == "running" else None)
        return (end - self.started_at).total_seconds() if end else None


def recent_runs(warehouse: Path, limit: int = 10) -> list[RunRow]:
    """The last `limit` runs, newest first. A `running` row of this host whose process is gone
    is shown as crashed (the next run records it so; status itself never writes)."""
    con = connect_readonly(warehouse)
    try:
        rows = con.execute(
            """SELECT run_id, trigger, host, pid, started_at, finished_at, status, loaded, unchanged,
                      quarantined, skipped, error_text
               FROM runs ORDER BY run_id DESC LIMIT ?""", [limit],
        ).fetchall()
    finally:
        con.close()
    runs = [RunRow(*row) for row in rows]
    host = socket.gethostname()
    for run in runs:
        if run.status == "running" and run.host == host and not (
                run.pid and pid_alive(run.pid, run.started_at.timestamp())):
            run.status = "crashed"
            run.error_text = f"process gone (pid {run.pid}): killed or crashed"
    return runs


@dataclass
class Backlog:
    folder: Path
    files: int
    bytes: int
    oldest: datetime | None
    exists: bool = True


def inbox_backlog(inbox: Path) -> Backlog:
    """Supported files waiting in the inbox (listed, not read: cheap for thousands of files)."""
    if not inbox.is_dir():
        return Backlog(inbox, 0, 0, None, exists=False)
    size, oldest = 0, None
    files = list_files([inbox])
    for path in files:
        try:
            st = path.stat()
        except OSError:
            continue
        size += st.st_size
        oldest = st.st_mtime if oldest is None else min(oldest, st.st_mtime)
    return Backlog(inbox, len(files), size, datetime.fromtimestamp(oldest) if oldest else None)


def describe_pid(run: RunRow) -> str:
    """'pid 123' or 'pid 123 on other-host' for display."""
    if run.pid is None:
        return ""
    here = run.host in (None, socket.gethostname())
    return f"pid {run.pid}" + ("" if here else f" on {run.host}")
