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


def _cmd(p: psutil.Process) -> str:
    try:
        return " ".join(p.cmdline())
    except (psutil.NoSuchProcess, psutil.ZombieProcess, psutil.AccessDenied):
        return ""


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
        workers = [k for k in kids if "spawn_main" in _cmd(k)]
        return kids if len(workers) >= 2 else []

    children = _wait_for(two_workers, 120)
    assert children, "the run never started its two workers"
    time.sleep(0.5)  # the workers are extracting
    children = _descendants(proc.pid)
    started.extend(children)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    left = _wait_for(lambda: not _alive(children), 10) or _alive(children)
    assert left is True, [f"{p.pid} {_cmd(p)[:80]}" for p in _alive(children)]


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
    assert "crashed" in status.stdout and "inbox backlog" in status.stdout, status.stdout

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


# --- stop means stop ---------------------------------------------------------------------------

def _snapshot(pid: int, seen: list[psutil.Process]) -> list[psutil.Process]:
    for child in _descendants(pid):
        if child not in seen:
            seen.append(child)
    return seen


def _run_rows(warehouse: Path) -> list[tuple]:
    con = duckdb.connect(str(warehouse))  # read-write: replays the WAL of a killed writer
    try:
        return con.execute("SELECT run_id, trigger, status, error_text FROM runs ORDER BY run_id").fetchall()
    finally:
        con.close()


@pytest.mark.parametrize("signals", [1, 2])
def test_sigterm_stops_a_parallel_ingest_in_bounded_time_with_no_child_left(
    tmp_path: Path, started, signals: int
) -> None:
    inbox = build_inbox(tmp_path / "inbox", files=120, seed=8, outside=tmp_path / "outside", scans=0)
    warehouse = tmp_path / "wh.duckdb"
    proc = subprocess.Popen(_cli("ingest", str(inbox.root), "--workers", "2", "--warehouse", str(warehouse),
                                 "--archive", str(tmp_path / "archive")),
                            env=_env(tmp_path), cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True, errors="replace")
    started.append(psutil.Process(proc.pid))
    workers = _wait_for(lambda: [k for k in _snapshot(proc.pid, started)
                                 if "spawn_main" in _cmd(k)][1:], 120)
    assert workers, "the run never started its workers"
    time.sleep(1.0)
    children = _snapshot(proc.pid, [])
    t0 = time.monotonic()
    for _ in range(signals):
        proc.send_signal(signal.SIGTERM)
        time.sleep(0.05)
    _, err = proc.communicate(timeout=60)
    took = time.monotonic() - t0
    assert took < (30 if signals == 1 else 5), took
    assert proc.returncode == 128 + signal.SIGTERM, err
    assert _wait_for(lambda: not _alive(children), 3), [_cmd(p) for p in _alive(children)]
    if signals == 1:
        assert err.strip().splitlines()[-1].startswith("stopped by SIGTERM"), err
        assert "Traceback" not in err
        (run,) = _run_rows(warehouse)
        assert run[2] == "stopped" and "SIGTERM" in run[3]
    # Nothing lost: every planted file is in the inbox or the archive (the next run goes on).
    again = subprocess.run(_cli("ingest", str(inbox.root), "--warehouse", str(warehouse), "--archive",
                                str(tmp_path / "archive")), env=_env(tmp_path), cwd=REPO,
                           capture_output=True, text=True, errors="replace", timeout=600)
    assert again.returncode == 0, again.stderr[-2000:]
    assert [r[2] for r in _run_rows(warehouse)][-1] == "ok"


def test_prefect_home_that_cannot_be_created_is_one_line(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the data folder should be", encoding="utf-8")
    (tmp_path / "inbox").mkdir()
    t0 = time.monotonic()
    proc = subprocess.run(_cli("ingest", str(tmp_path / "inbox"), "--prefect", "--warehouse",
                               str(tmp_path / "wh.duckdb")),
                          env=_env(tmp_path, PREFECT_HOME=str(blocker / "prefect")), cwd=REPO,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "cannot use the Prefect home folder" in lines[0], proc.stderr
    assert str(blocker / "prefect") in lines[0] and "Not a directory" in lines[0]
    assert time.monotonic() - t0 < 30  # no retrying
    assert not (tmp_path / "wh.duckdb").exists()


def test_killing_ingest_prefect_leaves_no_server_behind(tmp_path: Path, started) -> None:
    inbox = build_inbox(tmp_path / "inbox", files=80, seed=9, outside=tmp_path / "outside", scans=0)
    warehouse = tmp_path / "wh.duckdb"
    proc = subprocess.Popen(_cli("ingest", str(inbox.root), "--prefect", "--warehouse", str(warehouse),
                                 "--archive", str(tmp_path / "archive")),
                            env=_env(tmp_path), cwd=REPO, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    started.append(psutil.Process(proc.pid))
    # Mid-run: its server is up and the flow has opened the warehouse.
    assert _wait_for(lambda: warehouse.exists() and _snapshot(proc.pid, started), 180), "no flow started"
    time.sleep(1.0)
    children = _snapshot(proc.pid, [])
    assert any("server" in _cmd(c) for c in children), [_cmd(c) for c in children]
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert _wait_for(lambda: not _alive(children), 10), [_cmd(p) for p in _alive(children)]


def _serve(tmp_path: Path, inbox: Path, started: list) -> tuple[subprocess.Popen, str]:
    """`serve` with its private server; returns the process and its API URL once the
    deployment is served."""
    out = (tmp_path / "serve.log").open("wb")
    proc = subprocess.Popen(
        _cli("serve", "--cron", "0 3 * * *", "--inbox", str(inbox), "--warehouse",
             str(tmp_path / "wh.duckdb"), "--archive", str(tmp_path / "archive"), "--name", "stop-test"),
        env=_env(tmp_path, PREFECT_RUNNER_POLL_FREQUENCY="1"), cwd=REPO, stdout=out, stderr=subprocess.STDOUT)
    started.append(psutil.Process(proc.pid))

    def served() -> str | None:
        text = (tmp_path / "serve.log").read_text(errors="replace")
        urls = re.findall(r"PREFECT_API_URL=(\S+)", text)
        return urls[0] if urls and "serving ingest-inbox/stop-test" in text else None

    url = _wait_for(served, 180, step=0.5)
    assert url, (tmp_path / "serve.log").read_text(errors="replace")[-3000:]
    return proc, url


def _start_flow_run(api: str) -> None:
    import json
    import urllib.error
    import urllib.request

    def call(request, attempts: int = 10):
        # A private server on a loaded machine answers 503 while its SQLite database is busy
        # (the runner registering and scheduling at the same moment): ask again shortly.
        for attempt in range(attempts):
            try:
                return urllib.request.urlopen(request, timeout=30)
            except urllib.error.HTTPError as exc:
                if exc.code != 503 or attempt == attempts - 1:
                    raise
                time.sleep(1 + attempt)

    with call(f"{api}/deployments/name/ingest-inbox/stop-test") as r:
        deployment = json.load(r)["id"]
    request = urllib.request.Request(f"{api}/deployments/{deployment}/create_flow_run", data=b"{}",
                                     headers={"Content-Type": "application/json"}, method="POST")
    with call(request) as r:
        assert r.status in (200, 201)


def _flow_run_started(proc: subprocess.Popen, warehouse: Path, started: list) -> bool:
    kids = _snapshot(proc.pid, started)
    running = [k for k in kids if "spawn_main" in _cmd(k) and "resource_tracker" not in _cmd(k)]
    return bool(running) and warehouse.exists()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_serve_stopped_mid_run_leaves_no_child(tmp_path: Path, started, sig: int) -> None:
    inbox = build_inbox(tmp_path / "inbox", files=200, seed=10, outside=tmp_path / "outside", scans=0)
    warehouse = tmp_path / "wh.duckdb"
    proc, api = _serve(tmp_path, inbox.root, started)
    _start_flow_run(api)
    assert _wait_for(lambda: _flow_run_started(proc, warehouse, started), 120), \
        (tmp_path / "serve.log").read_text(errors="replace")[-3000:]
    time.sleep(2.0)  # mid-run: extracting and loading
    children = _snapshot(proc.pid, [])
    t0 = time.monotonic()
    proc.send_signal(sig)
    proc.wait(timeout=60)
    took = time.monotonic() - t0
    log = (tmp_path / "serve.log").read_text(errors="replace")
    assert _wait_for(lambda: not _alive(children), 10), [_cmd(p) for p in _alive(children)]
    if sig == signal.SIGTERM:
        assert took < 30, took
        # An ordered stop is serve's normal end: exit 0, the last line says so.
        assert proc.returncode == 0, log[-3000:]
        assert "SIGTERM received" in log and log.strip().endswith("stopped"), log[-3000:]
        assert "Unable to connect" not in log and "Traceback" not in log, log[-3000:]
        runs = _run_rows(warehouse)
        # Normally `stopped`; `running` when the flow run, busy in a long C call on a loaded
        # machine, had to be killed at its deadline (the next run then records it as crashed).
        assert runs and runs[-1][1] == "serve" and runs[-1][2] in ("stopped", "ok", "running"), runs
        print("serve's run:", runs[-1])
