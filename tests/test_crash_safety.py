"""Crash safety and concurrency.

- An ingest killed with SIGKILL at random points, several times, then run again: the warehouse
  opens, every file is in the inbox or archived (never lost, never twice), no document is half
  loaded, and a file is archived only once its load committed.
- A Prefect flow run and a manual `commune-metrics ingest` started together share the inbox
  safely; readers keep querying during a run; no DuckDB lock error reaches a user as a trace.
"""

from __future__ import annotations

import hashlib
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import duckdb
import pytest

from tools.fuzz import HostileInbox, build_inbox

REPO = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {**os.environ, "CM_SETTLE_SECONDS": "0", "PREFECT_HOME": str(tmp_path / "prefect"),
           "CM_LOCK_TIMEOUT": "300", "CM_READ_TIMEOUT": "60"}
    env.update(extra)
    return env


def _cli(tmp_path: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "commune_metrics", *args]


def _ingest_cmd(tmp_path: Path, inbox: Path) -> list[str]:
    return _cli(tmp_path, "ingest", str(inbox), "--warehouse", str(tmp_path / "wh.duckdb"),
                "--archive", str(tmp_path / "archive"), "--inbox", str(inbox))


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _files(root: Path) -> list[Path]:
    if not root.exists():
        return []
    # `.partial/` holds temporary copies a killed run may leave; never a real name, swept by
    # the next run (checked at the end of the test).
    return [p for p in root.rglob("*") if p.is_file() and not p.is_symlink()
            and not p.name.endswith(".reason.txt") and ".partial" not in p.relative_to(root).parts]


def check_consistent(inbox: HostileInbox, warehouse: Path, archive: Path) -> Counter:
    """Invariants that must hold after any crash; returns where the planted bytes are."""
    planted = Counter(p.sha256 for p in inbox.planted)
    found = Counter(_sha(p) for p in _files(inbox.root)) + Counter(_sha(p) for p in _files(archive))
    assert found == planted, "files lost or duplicated: " + str((planted - found) or (found - planted))

    con = duckdb.connect(str(warehouse))  # read-write: replays the WAL of a killed writer
    try:
        tables = {t for (t,) in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
        # The warehouse is created under a temporary name and renamed once its schema is
        # committed: a kill before that leaves no warehouse, never one without tables.
        assert "document_versions" in tables, "a warehouse file without its schema"
        loaded = {h for (h,) in con.execute("SELECT sha256 FROM document_versions").fetchall()}
        # other bytes with the text of a loaded version are unchanged: their row is in run_files
        loaded |= {h for (h,) in con.execute(
            "SELECT sha256 FROM run_files WHERE outcome = 'unchanged' AND reason LIKE 'same text as%'"
        ).fetchall()}
        quarantined = {h for (h,) in con.execute("SELECT sha256 FROM quarantine_rows").fetchall()}
        half = con.execute(
            """SELECT d.doc_id, d.fact_count, d.flag_count,
                      (SELECT count(*) FROM fact_rows f WHERE f.doc_id = d.doc_id),
                      (SELECT count(*) FROM flag_rows g WHERE g.doc_id = d.doc_id)
               FROM document_versions d""").fetchall()
        current = con.execute("SELECT doc_key, count(*) FROM document_versions WHERE is_current "
                              "GROUP BY doc_key HAVING count(*) > 1").fetchall()
        dup = con.execute("SELECT sha256 FROM document_versions GROUP BY sha256 "
                          "HAVING count(*) > 1").fetchall()
    finally:
        con.close()
    for doc_id, facts, flags, fact_rows, flag_rows in half:
        assert (facts, flags) == (fact_rows, flag_rows), f"document {doc_id} half loaded"
    assert current == [] and dup == []
    # A file moves only after its load committed.
    for path in _files(archive / "processed"):
        assert _sha(path) in loaded, f"{path.name} archived but not loaded"
    for path in _files(archive / "quarantine"):
        assert _sha(path) in quarantined, f"{path.name} quarantined on disk but not in the warehouse"
        assert Path(str(path) + ".reason.txt").is_file(), f"{path.name} has no reason file"
    return found


def test_sigkill_at_random_points_then_rerun(tmp_path: Path) -> None:
    inbox = build_inbox(tmp_path / "inbox", files=60, seed=3, outside=tmp_path / "outside", scans=0)
    warehouse, archive = tmp_path / "wh.duckdb", tmp_path / "archive"
    rng = random.Random(20251)
    kills = 0
    for _attempt in range(4):
        proc = subprocess.Popen(_ingest_cmd(tmp_path, inbox.root), env=_env(tmp_path), cwd=REPO,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
        # start-up, extraction, loading or archiving (a 60-file run takes ~3 s with the fast paths)
        time.sleep(rng.uniform(0.5, 3.0))
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)  # the CLI and any worker it started
            kills += 1
        proc.wait()
        if warehouse.exists():
            check_consistent(inbox, warehouse, archive)
    assert kills >= 2, "the runs finished before they could be killed; the inbox is too small"

    final = subprocess.run(_ingest_cmd(tmp_path, inbox.root), env=_env(tmp_path), cwd=REPO,
                           capture_output=True, text=True, errors="replace", timeout=600, check=False)
    assert final.returncode == 0, final.stderr[-3000:]
    assert "Traceback" not in final.stderr
    check_consistent(inbox, warehouse, archive)
    assert _files(inbox.root) == [], "files left in the inbox after a complete run"
    assert not any((archive / ".partial").glob("*")), "temporary copies left after a complete run"
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        statuses = Counter(s for (s,) in con.execute("SELECT status FROM runs").fetchall())
    finally:
        con.close()
    assert statuses["ok"] >= 1 and statuses.get("failed", 0) == 0
    print(f"{kills} kills; runs: {dict(statuses)}")


FLOW_SCRIPT = """
import sys
import commune_metrics.flows  # noqa: F401  (Prefect offline defaults first)
from commune_metrics.flows.ingest import ingest_inbox
summary = ingest_inbox(paths=[sys.argv[1]], warehouse=sys.argv[2], archive_root=sys.argv[3],
                       settle_seconds=0, trigger="prefect", inbox=sys.argv[1])
print("flow", summary.run_id, dict(summary.counts), summary.error)
"""


def test_flow_and_cli_started_together_share_the_inbox(tmp_path: Path) -> None:
    inbox = build_inbox(tmp_path / "inbox", files=80, seed=5, outside=tmp_path / "outside", scans=0)
    warehouse, archive = tmp_path / "wh.duckdb", tmp_path / "archive"
    # Its own process group, so a flow that fails to end takes its Prefect server down with it
    # and leaves no orphan behind. Its output goes to files, not pipes: nobody reads the flow's
    # pipes while the CLI runs, and Prefect's logs of 80 files can fill a pipe's 64 kB, which
    # blocks the flow on a write while it holds the writer lock the CLI waits for (one full run
    # hung so, 600 s after the flow's tasks were done).
    flow_log = (tmp_path / "flow.out").open("w+", encoding="utf-8", errors="replace")
    flow = subprocess.Popen([sys.executable, "-c", FLOW_SCRIPT, str(inbox.root), str(warehouse),
                             str(archive)], env=_env(tmp_path), cwd=REPO, stdout=flow_log,
                            stderr=subprocess.STDOUT, start_new_session=True)
    try:
        _flow_and_cli(tmp_path, inbox, warehouse, archive, flow, flow_log)
    finally:
        flow_log.close()
        try:
            os.killpg(flow.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        flow.wait(timeout=30)


def _flow_and_cli(tmp_path: Path, inbox, warehouse: Path, archive: Path, flow: subprocess.Popen,
                  flow_log) -> None:
    # "The same moment" for the warehouse: the flow's ephemeral Prefect server takes seconds to
    # start, so the CLI starts when the flow first holds the writer lock.
    lock = warehouse.with_name(warehouse.name + ".lock")
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and flow.poll() is None:
        if lock.exists() and f"pid {flow.pid} " in lock.read_text(encoding="utf-8", errors="replace"):
            break
        time.sleep(0.02)
    assert flow.poll() is None, "the flow ended before the CLI could start"
    # Output is decoded leniently: the CLI prints a non-UTF-8 file name as its original bytes.
    cli = subprocess.Popen(_ingest_cmd(tmp_path, inbox.root), env=_env(tmp_path), cwd=REPO,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, errors="replace")
    cli_out, cli_err = cli.communicate(timeout=600)
    flow.wait(timeout=600)
    flow_log.seek(0)
    flow_out = flow_log.read()
    assert cli.returncode == 0, cli_err[-3000:]
    assert flow.returncode == 0, flow_out[-3000:]
    assert "Traceback" not in cli_err and "IO Error" not in cli_err
    check_consistent(inbox, warehouse, archive)
    assert _files(inbox.root) == []
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        runs = con.execute("SELECT trigger, status FROM runs ORDER BY run_id").fetchall()
        per_run = con.execute("SELECT count(DISTINCT run_id) FROM run_files").fetchone()[0]
    finally:
        con.close()
    assert sorted(runs) == [("cli", "ok"), ("prefect", "ok")], runs
    assert per_run == 2, "both runs should have handled files"
    print(flow_out.strip().splitlines()[-1:], cli_out.strip().splitlines()[-1:], f"runs: {per_run}",
          "waited" if "waiting for another run" in cli_err else "interleaved")


def test_readers_keep_querying_during_a_run(tmp_path: Path) -> None:
    from commune_metrics.warehouse import WarehouseBusyError, connect_readonly

    inbox = build_inbox(tmp_path / "inbox", files=50, seed=9, outside=tmp_path / "outside", scans=0)
    warehouse = tmp_path / "wh.duckdb"
    writer = subprocess.Popen(_ingest_cmd(tmp_path, inbox.root), env=_env(tmp_path), cwd=REPO,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, errors="replace")
    counts: list[int] = []
    busy = 0
    reports: list[subprocess.CompletedProcess] = []
    while writer.poll() is None:
        if not warehouse.exists():
            time.sleep(0.1)
            continue
        try:
            con = connect_readonly(warehouse, timeout=60)
        except WarehouseBusyError:
            busy += 1
            continue
        try:
            counts.append(con.execute("SELECT count(*) FROM run_files").fetchone()[0])
        finally:
            con.close()
        if len(reports) < 2:  # a user running commands mid-run gets an answer or one clean line
            reports.append(subprocess.run(_cli(tmp_path, "compare", "--warehouse", str(warehouse)),
                                          env=_env(tmp_path, CM_READ_TIMEOUT="0.2"), cwd=REPO,
                                          capture_output=True, text=True, errors="replace", timeout=120,
                                          check=False))
        time.sleep(0.05)
    _, err = writer.communicate()
    assert writer.returncode == 0, err[-3000:]
    assert busy == 0
    assert len(counts) >= 3, counts
    assert counts == sorted(counts)  # each read sees whole chunks, never a count going back
    for proc in reports:
        assert "Traceback" not in proc.stderr and "IO Error" not in proc.stderr, proc.stderr
        assert proc.returncode == 0 or len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    print(f"{len(counts)} reads during the run: {counts[:3]}...{counts[-3:]}")
