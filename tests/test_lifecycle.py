"""Process lifecycle: whatever kills a run, nothing it started keeps running, and the run is
recorded as crashed by the next one; `status` shows it.

Every test here starts real processes and, whatever happens, kills what is left of them.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import psutil
import pytest

from tools.fuzz import build_inbox

REPO = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {**os.environ, "CM_SETTLE_SECONDS": "0", "PREFECT_HOME": str(tmp_path / "prefect"),
           "CM_LOCK_TIMEOUT": "60", "CM_READ_TIMEOUT": "30"}
    env.pop("PREFECT_API_URL", None)
    env.update(extra)
    return env


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "commune_metrics", *args]


def _descendants(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def _alive(procs: list[psutil.Process]) -> list[psutil.Process]:
    alive = []
    for p in procs:
        try:
            if p.is_running() and p.status() != psutil.STATUS_ZOMBIE:
                alive.append(p)
        except psutil.NoSuchProcess:
            pass
    return alive


def _kill_all(procs: list[psutil.Process]) -> None:
    for p in _alive(procs):
        try:
            p.kill()
        except psutil.NoSuchProcess:
            pass


@pytest.fixture
def started() -> Iterator[list[psutil.Process]]:
    """Processes a test saw; whatever survives the test is killed (tests leave nothing running)."""
    seen: list[psutil.Process] = []
    yield seen
    _kill_all(seen)


def _wait_for(predicate, timeout: float, step: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    return predicate()


def test_killing_the_main_pid_of_a_parallel_ingest_leaves_no_child(tmp_path: Path, started) -> None:
    inbox = build_inbox(tmp_path / "inbox", files=80, seed=4, outside=tmp_path / "outside", scans=0)
    proc = subprocess.Popen(_cli("ingest", str(inbox.root), "--workers", "2", "--warehouse",
                                 str(tmp_path / "wh.duckdb"), "--archive", str(tmp_path / "archive")),
                            env=_env(tmp_path), cwd=REPO, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    main = psutil.Process(proc.pid)
    started.append(main)

    def two_workers() -> list[psutil.Process]:
        kids = _descendants(proc.pid)
        started.extend(k for k in kids if k not in started)
        workers = [k for k in kids if "spawn_main" in " ".join(k.cmdline())]
        return kids if len(workers) >= 2 else []

    children = _wait_for(two_workers, 120)
    assert children, "the run never started its two workers"
    time.sleep(0.5)  # the workers are extracting
    children = _descendants(proc.pid)
    started.extend(children)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    left = _wait_for(lambda: not _alive(children), 10) or _alive(children)
    assert left is True, [f"{p.pid} {' '.join(p.cmdline())[:80]}" for p in _alive(children)]


def test_a_killed_run_is_marked_crashed_by_the_next_and_status_shows_it(tmp_path: Path, started) -> None:
    inbox = build_inbox(tmp_path / "inbox", files=40, seed=6, outside=tmp_path / "outside", scans=0)
    warehouse = tmp_path / "wh.duckdb"
    cmd = _cli("ingest", str(inbox.root), "--workers", "1", "--warehouse", str(warehouse),
               "--archive", str(tmp_path / "archive"))
    proc = subprocess.Popen(cmd, env=_env(tmp_path), cwd=REPO, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True, errors="replace")
    started.append(psutil.Process(proc.pid))
    # Killed once it has printed a loaded file: its run row exists and says `running`.
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith(("loaded", "quarantined")):
            break
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    con = duckdb.connect(str(warehouse))  # replays the killed writer's WAL
    try:
        assert con.execute("SELECT status FROM runs").fetchall() == [("running",)]
    finally:
        con.close()

    status = subprocess.run(_cli("status", "--warehouse", str(warehouse), "--inbox", str(inbox.root)),
                            env=_env(tmp_path), cwd=REPO, capture_output=True, text=True, timeout=120)
    assert status.returncode == 0, status.stderr
    assert "crashed" in status.stdout and "waiting in" in status.stdout, status.stdout

    again = subprocess.run(cmd, env=_env(tmp_path), cwd=REPO, capture_output=True, text=True,
                           errors="replace", timeout=600)
    assert again.returncode == 0, again.stderr[-2000:]
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        runs = con.execute("SELECT run_id, status, finished_at IS NOT NULL, error_text FROM runs "
                           "ORDER BY run_id").fetchall()
    finally:
        con.close()
    assert [r[1] for r in runs] == ["crashed", "ok"]
    assert runs[0][2] is True and "pid" in runs[0][3]
    status = subprocess.run(_cli("status", "--warehouse", str(warehouse)), env=_env(tmp_path), cwd=REPO,
                            capture_output=True, text=True, timeout=120)
    rows = [[cell.strip() for cell in line.split("│")[1:-1]] for line in status.stdout.splitlines()
            if re.match(r"│ +\d+ │", line)]
    assert [(r[0], r[4]) for r in rows] == [("2", "ok"), ("1", "crashed")], status.stdout
