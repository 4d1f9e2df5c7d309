"""Analysts never block a run and a run never breaks an analyst: readers use the snapshot the
writer publishes after each committed batch (warehouse/snapshot.py); `commune-metrics sql`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import pytest

from commune_metrics.warehouse import connect_readonly, open_warehouse
from commune_metrics.warehouse.snapshot import snapshot_path_for
from tests.conftest import REPO
from tests.test_concurrency import make_reports

ENV = {**os.environ, "PYTHONPATH": str(REPO), "CM_SETTLE_SECONDS": "0", "CM_LOCK_TIMEOUT": "120"}

# A reader in its own process: one session held open for the whole run (as an analyst's
# notebook would), plus a fresh connection every 50 ms that counts loaded files. It stops
# when the stop file appears and prints what it saw as JSON.
READER = textwrap.dedent("""
    import json, sys, time
    from pathlib import Path
    from commune_metrics.warehouse import connect_readonly
    wh, stop = Path(sys.argv[1]), Path(sys.argv[2])
    held = connect_readonly(wh)
    first = held.execute("SELECT count(*) FROM run_files").fetchone()[0]
    print("ready", flush=True)
    counts, failures, held_counts = [], [], []
    while not stop.exists():
        try:
            con = connect_readonly(wh, timeout=1)
            try:
                counts.append(con.execute("SELECT count(*) FROM run_files").fetchone()[0])
            finally:
                con.close()
        except Exception as exc:
            failures.append(f"{type(exc).__name__}: {exc}")
        held_counts.append(held.execute("SELECT count(*) FROM run_files").fetchone()[0])
        time.sleep(0.05)
    held.close()
    print(json.dumps({"first": first, "counts": counts, "failures": failures, "held": held_counts}))
""")


def ingest_cmd(inbox: Path, warehouse: Path, archive: Path) -> list[str]:
    return [sys.executable, "-m", "commune_metrics", "ingest", str(inbox), "--warehouse", str(warehouse),
            "--archive", str(archive), "--workers", "1"]


def test_a_reader_held_open_during_an_ingest_neither_blocks_it_nor_fails(tmp_path: Path) -> None:
    warehouse = tmp_path / "w.duckdb"
    make_reports(tmp_path / "first", range(0, 5))
    first = subprocess.run(ingest_cmd(tmp_path / "first", warehouse, tmp_path / "raw"), cwd=REPO, env=ENV,
                           capture_output=True, text=True, timeout=300)
    assert first.returncode == 0, first.stderr
    make_reports(tmp_path / "inbox", range(100, 160))  # 60 files: four chunks of 16, four snapshots

    stop = tmp_path / "stop"
    reader = subprocess.Popen([sys.executable, "-c", READER, str(warehouse), str(stop)], cwd=REPO, env=ENV,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert reader.stdout.readline().strip() == "ready"
        run = subprocess.run(ingest_cmd(tmp_path / "inbox", warehouse, tmp_path / "raw"), cwd=REPO, env=ENV,
                             capture_output=True, text=True, timeout=300)
        stop.touch()
        out, err = reader.communicate(timeout=60)
    finally:
        if reader.poll() is None:
            reader.kill()
            reader.wait()
    assert run.returncode == 0, run.stderr
    assert "waiting" not in run.stderr  # the open session never made the writer wait
    seen = json.loads(out.strip().splitlines()[-1])
    assert seen["failures"] == [], seen["failures"][:3]
    assert len(seen["counts"]) >= 5
    assert seen["counts"] == sorted(seen["counts"])  # whole batches only, never going back
    assert seen["counts"][-1] == 65  # the last snapshot holds the whole run
    # The session held open kept its consistent view of the file it opened.
    assert set(seen["held"]) == {seen["first"]} == {5}


def test_writes_are_visible_to_new_readers_only_after_commit(tmp_path: Path) -> None:
    warehouse = tmp_path / "w.duckdb"
    with open_warehouse(warehouse) as wh:
        wh.start_run("test")
        wh.publish()
        con = connect_readonly(warehouse)
        assert con.execute("SELECT count(*) FROM runs").fetchone()[0] == 1
        with pytest.raises(RuntimeError, match="inside a batch"):
            with wh.batch():
                wh.start_run("test")
                wh.publish()
        con.close()
    # the rolled-back run never reached the snapshot; the closing publish kept the first
    con = connect_readonly(warehouse)
    assert con.execute("SELECT count(*) FROM runs").fetchone()[0] == 1
    with pytest.raises(duckdb.Error, match="read-only"):
        con.execute("DELETE FROM runs")
    con.close()


def test_an_outdated_snapshot_is_refreshed_by_the_first_reader(tmp_path: Path) -> None:
    warehouse = tmp_path / "w.duckdb"
    with open_warehouse(warehouse):
        pass
    snap = snapshot_path_for(warehouse)
    # A snapshot published by an older schema: one of its SQL files has another digest.
    raw = duckdb.connect(str(snap))
    raw.execute("UPDATE schema_version SET sha256 = 'old'")
    raw.close()
    con = connect_readonly(warehouse)
    try:
        # republished from the writer's file (an inode number may be reused: compare contents)
        assert con.execute("SELECT count(*) FROM schema_version WHERE sha256 = 'old'").fetchone() == (0,)
    finally:
        con.close()


def test_a_warehouse_without_a_snapshot_gets_one(tmp_path: Path) -> None:
    warehouse = tmp_path / "w.duckdb"
    with open_warehouse(warehouse):
        pass
    snapshot_path_for(warehouse).unlink()
    con = connect_readonly(warehouse)
    assert con.execute("SELECT count(*) FROM facts").fetchone()[0] == 0
    con.close()
    assert snapshot_path_for(warehouse).is_file()


def run_cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "commune_metrics", *args], cwd=REPO, env=ENV, input=stdin,
                          capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def small_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("sql")
    make_reports(root / "inbox", range(3))
    proc = subprocess.run(ingest_cmd(root / "inbox", root / "w.duckdb", root / "raw"), cwd=REPO, env=ENV,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return root / "w.duckdb"


def test_sql_command_answers_a_query(small_warehouse: Path) -> None:
    proc = run_cli("sql", "SELECT count(*) AS n FROM documents", "-w", str(small_warehouse))
    assert proc.returncode == 0, proc.stderr
    assert "│ 3" in proc.stdout and "1 row" in proc.stdout
    proc = run_cli("sql", "SELECT source_file, status FROM documents ORDER BY 1", "--csv",
                   "-w", str(small_warehouse))
    assert proc.stdout.splitlines() == ["source_file,status", "bc_000.txt,loaded", "bc_001.txt,loaded",
                                        "bc_002.txt,loaded"]


def test_sql_command_refuses_writes_and_bad_sql_in_one_line(small_warehouse: Path) -> None:
    proc = run_cli("sql", "DELETE FROM runs", "-w", str(small_warehouse))
    assert proc.returncode == 1 and "read-only" in proc.stderr and "Traceback" not in proc.stderr
    proc = run_cli("sql", "SELECT * FROM fact", "-w", str(small_warehouse))
    assert proc.returncode == 1 and "Did you mean" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_sql_prompt_runs_statements_over_several_lines(small_warehouse: Path) -> None:
    session = ".tables\nSELECT count(*) AS n\n  FROM documents;\nSELECT nope;\n.schema runs\n.quit\n"
    proc = run_cli("sql", "-w", str(small_warehouse), stdin=session)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "data as of" in out
    assert "comparison" in out and "view" in out  # .tables
    assert "│ 3 │" in out  # the two-line statement
    assert "error:" in out and "nope" in out  # an error does not end the session
    assert "started_at" in out  # .schema runs
