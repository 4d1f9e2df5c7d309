"""`commune-metrics status`: is the pipeline working? The last runs (a run still marked running
whose process is gone is shown as crashed), the next scheduled run (from the state file a
running `serve` keeps beside the warehouse), the inbox backlog and queued review actions.

Reads only: the analysts' snapshot, the serve state file and the inbox folder. Kept in its own
module (report layer: warehouse + ingest listing) so another status view can merge into it.
"""

from __future__ import annotations

import json
import socket
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb

from commune_metrics.core.config import serve_state_path
from commune_metrics.core.lifecycle import pid_alive as _pid_alive
from commune_metrics.ingest.inbox import list_files
from commune_metrics.ingest.process import sha256_file
from commune_metrics.warehouse.pending import queued

MAX_HASHED = 2000  # beyond this many inbox files, "new" is not counted (hashing would take long)


@dataclass
class RunRow:
    run_id: int
    trigger: str
    started_at: datetime
    finished_at: datetime | None
    status: str  # ok / failed / stopped / running / crashed
    files: int
    loaded: int
    unchanged: int
    quarantined: int
    skipped: int
    pid: int | None
    error: str | None


@dataclass
class Schedule:
    running: bool
    deployment: str | None = None
    cron: str | None = None
    timezone: str | None = None
    next_run: datetime | None = None
    pid: int | None = None
    since: str | None = None
    run_now: str | None = None


@dataclass
class Backlog:
    folder: str
    files: int
    new: int | None  # not yet in the warehouse (None: too many to hash)
    bytes: int
    oldest: datetime | None
    queued_reviews: int


@dataclass
class Status:
    runs: list[RunRow] = field(default_factory=list)
    schedule: Schedule = field(default_factory=lambda: Schedule(False))
    backlog: Backlog | None = None

    def as_dict(self) -> dict:
        return json.loads(json.dumps(asdict(self), default=str))


def pid_alive(pid: int | None, started_before: float | None = None) -> bool:
    """Whether `pid` still runs the process recorded (a recycled pid runs a newer one)."""
    return bool(pid) and _pid_alive(int(pid), started_before)


def last_runs(con: duckdb.DuckDBPyConnection, limit: int = 10) -> list[RunRow]:
    here = socket.gethostname()
    out = []
    for (run_id, trigger, host, pid, started, finished, status, files, loaded, unchanged, quarantined,
         skipped, error) in con.execute(
        """SELECT run_id, trigger, host, pid, started_at, finished_at, status, files_seen, loaded, unchanged,
                  quarantined, skipped, error_text
           FROM runs ORDER BY run_id DESC LIMIT ?""", [limit]).fetchall():
        # A run that never finished and whose process is gone crashed (killed, machine off).
        since = started.timestamp() if started else None
        if status == "running" and host == here and not pid_alive(pid, since):
            status = "crashed"
        first_error = (error or "").strip().splitlines()[-1:] or [None]
        out.append(RunRow(run_id, trigger, started, finished, status, files or 0, loaded or 0, unchanged or 0,
                          quarantined or 0, skipped or 0, pid, first_error[0]))
    return out


def next_fire(cron: str, zone: str, after: datetime | None = None) -> datetime:
    from cronsim import CronSim

    tz = ZoneInfo(zone)
    return next(CronSim(cron, (after or datetime.now(tz)).astimezone(tz)))


def schedule(warehouse: Path) -> Schedule:
    path = serve_state_path(warehouse)
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return Schedule(False)
    if not pid_alive(state.get("pid")) or state.get("host") not in (None, socket.gethostname()):
        return Schedule(False, state.get("deployment"), state.get("cron"), state.get("timezone"))
    try:
        upcoming = next_fire(state["cron"], state["timezone"])
    except Exception:  # a state file from another version: show what is known
        upcoming = None
    return Schedule(True, state.get("deployment"), state.get("cron"), state.get("timezone"), upcoming,
                    state.get("pid"), state.get("started_at"), state.get("run_now"))


def backlog(inbox: Path, warehouse: Path, con: duckdb.DuckDBPyConnection) -> Backlog:
    files = list_files([inbox]) if inbox.exists() else []
    sizes, oldest = 0, None
    for f in files:
        try:
            st = f.stat()
        except OSError:
            continue
        sizes += st.st_size
        mtime = datetime.fromtimestamp(st.st_mtime)
        oldest = mtime if oldest is None or mtime < oldest else oldest
    new: int | None = None
    if len(files) <= MAX_HASHED:
        known = {h for (h,) in con.execute("SELECT sha256 FROM document_versions").fetchall()}
        known |= {h for (h,) in con.execute("SELECT sha256 FROM quarantine_rows").fetchall()}
        new = 0
        for f in files:
            try:
                new += sha256_file(f) not in known
            except OSError:
                continue
    return Backlog(str(inbox), len(files), new, sizes, oldest, len(queued(warehouse)))


def collect(con: duckdb.DuckDBPyConnection, warehouse: Path, inbox: Path, runs: int = 10) -> Status:
    return Status(last_runs(con, runs), schedule(warehouse), backlog(inbox, warehouse, con))


def _ago(moment: datetime | None) -> str:
    if moment is None:
        return ""
    seconds = max(0, time.time() - moment.timestamp())
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds / size:.0f} {unit} ago"
    return "just now"


def render(console, status: Status) -> None:
    from rich.markup import escape
    from rich.table import Table

    table = Table(title="Last runs", title_justify="left")
    for header in ("run", "trigger", "started", "finished", "status", "files", "loaded", "unchanged",
                   "quarantined", "skipped", "note"):
        table.add_column(header, justify="right" if header in ("run", "files", "loaded", "unchanged",
                                                                "quarantined", "skipped") else "left")
    styles = {"ok": "green", "failed": "red", "crashed": "red", "running": "yellow", "stopped": "yellow"}
    for r in status.runs:
        note = r.error or (f"pid {r.pid}" if r.status in ("running", "crashed") else "")
        table.add_row(str(r.run_id), escape(r.trigger), f"{r.started_at:%Y-%m-%d %H:%M:%S}",
                      "" if r.finished_at is None else f"{r.finished_at:%H:%M:%S}",
                      f"[{styles.get(r.status, '')}]{r.status}[/]", str(r.files), str(r.loaded),
                      str(r.unchanged), str(r.quarantined), str(r.skipped), escape(note))
    if status.runs:
        console.print(table)
    else:
        console.print("no runs yet: `commune-metrics ingest` loads the inbox")
    s = status.schedule
    if s.running:
        when = f"{s.next_run:%Y-%m-%d %H:%M %Z}" if s.next_run else "unknown"
        console.print(f"next scheduled run: {escape(when)} ({escape(s.deployment or '')}, cron "
                      f"{escape(repr(s.cron))} {escape(s.timezone or '')}; served by pid {s.pid} since "
                      f"{escape(s.since or '?')})", soft_wrap=True)
        if s.run_now:
            console.print(f"run it now: {escape(s.run_now)}", soft_wrap=True)
    else:
        console.print("next scheduled run: none, no scheduler is running (start one with "
                      "`commune-metrics serve`)", soft_wrap=True)
    b = status.backlog
    if b is not None:
        new = "" if b.new is None else f", {b.new} not yet loaded"
        oldest = f", oldest {_ago(b.oldest)}" if b.oldest else ""
        console.print(f"inbox backlog: {b.files} file{'s' if b.files != 1 else ''} in {escape(b.folder)}{new}"
                      f" ({b.bytes / 1e6:.1f} MB{oldest})", soft_wrap=True)
        if b.queued_reviews:
            console.print(f"review actions waiting for the writer lock: {b.queued_reviews}")
