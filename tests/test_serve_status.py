"""`serve` a user can operate (the printed command runs the deployment from a bare shell; no
telemetry; Ctrl-C stops cleanly with no child left) and `status` (last runs with crashed ones,
next scheduled run, inbox backlog)."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import psutil
import pytest

from commune_metrics.core.config import serve_state_path
from commune_metrics.warehouse import open_warehouse
from tests.conftest import REPO
from tests.test_concurrency import make_reports

CLI = str(Path(sys.executable).with_name("commune-metrics"))


def status_json(warehouse: Path, inbox: Path) -> dict:
    proc = subprocess.run([CLI, "status", "--warehouse", str(warehouse), "--inbox", str(inbox), "--json"],
                          capture_output=True, text=True, timeout=120, cwd=REPO)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_status_shows_crashed_runs_the_schedule_and_the_backlog(tmp_path: Path) -> None:
    warehouse, inbox = tmp_path / "w.duckdb", tmp_path / "inbox"
    make_reports(inbox, range(3))
    subprocess.run([CLI, "ingest", str(inbox / "bc_000.txt"), "--warehouse", str(warehouse), "--archive",
                    str(tmp_path / "raw"), "--keep-inbox"], check=True, capture_output=True, timeout=300,
                   env={**os.environ, "CM_SETTLE_SECONDS": "0"})
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    with open_warehouse(warehouse) as wh:  # a run whose process died without finishing
        wh.con.execute("UPDATE runs SET status = 'running', finished_at = NULL, pid = ? WHERE run_id = 1",
                       [dead.pid])
    serve_state_path(warehouse).write_text(json.dumps({
        "pid": os.getpid(), "host": os.uname().nodename, "started_at": "2026-01-01T00:00:00",
        "deployment": "ingest-inbox/nightly-ingest", "api_url": "http://127.0.0.1:1/api",
        "cron": "30 2 * * *", "timezone": "Asia/Ho_Chi_Minh",
        "run_now": "PREFECT_API_URL=http://127.0.0.1:1/api prefect ..."}))
    found = status_json(warehouse, inbox)
    assert found["runs"][0]["status"] == "crashed" and found["runs"][0]["pid"] == dead.pid
    schedule = found["schedule"]
    assert schedule["running"] is True and schedule["cron"] == "30 2 * * *"
    upcoming = datetime.fromisoformat(schedule["next_run"])
    assert (upcoming.hour, upcoming.minute) == (2, 30) and upcoming > datetime.now(upcoming.tzinfo)
    assert found["backlog"]["files"] == 3 and found["backlog"]["new"] == 2  # bc_000 is loaded already

    serve_state_path(warehouse).write_text(json.dumps({"pid": dead.pid, "cron": "30 2 * * *",
                                                       "timezone": "UTC"}))
    assert status_json(warehouse, inbox)["schedule"]["running"] is False  # its serve is gone
    text = subprocess.run([CLI, "status", "--warehouse", str(warehouse), "--inbox", str(inbox)],
                          capture_output=True, text=True, timeout=120).stdout
    assert "crashed" in text and "no scheduler is running" in text and "2 not yet loaded" in text


@pytest.mark.slow
def test_serve_prints_a_command_that_works_from_a_bare_shell_and_stops_cleanly(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    make_reports(inbox, range(2))
    data = tmp_path / "data"
    data.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update({"CM_DATA_DIR": str(data), "CM_SETTLE_SECONDS": "0"})
    warehouse = tmp_path / "w.duckdb"
    proc = subprocess.Popen([CLI, "serve", "--inbox", str(inbox), "--warehouse", str(warehouse), "--archive",
                             str(tmp_path / "raw"), "--name", "nightly-test"], env=env, cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    lines: list[str] = []
    try:
        deadline = time.monotonic() + 240
        command = None
        while time.monotonic() < deadline and proc.poll() is None:
            line = proc.stdout.readline()
            lines.append(line)
            if line.strip().startswith("PREFECT_API_URL="):
                command = line.strip()
                break
        assert command, "".join(lines)
        assert re.fullmatch(r"PREFECT_API_URL=http://127\.0\.0\.1:\d+/api \S+/prefect deployment run "
                            r"ingest-inbox/nightly-test", command)
        assert serve_state_path(warehouse).is_file()
        # The command as printed, in a shell that has nothing of ours (no PREFECT_* settings).
        bare = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
        started = subprocess.run(["sh", "-c", command], env=bare, capture_output=True, text=True, timeout=120)
        assert started.returncode == 0 and "Created flow run" in started.stdout, started.stderr[-2000:]
        deadline = time.monotonic() + 180
        while any(inbox.iterdir()) and time.monotonic() < deadline:
            time.sleep(1)
        assert not any(inbox.iterdir()), "the run did not drain the inbox"
        children = psutil.Process(proc.pid).children(recursive=True)
        assert children  # the private server at least
        stopped_at = time.monotonic()
        os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C in the terminal: the whole foreground group
        rest, _ = proc.communicate(timeout=60)
        took = time.monotonic() - stopped_at
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    output = "".join(lines) + rest
    assert proc.returncode == 0, output[-3000:]
    assert took < 30 and rest.strip().endswith("stopped"), rest[-2000:]
    for noise in ("never awaited", "Traceback", "Failed to send telemetry", "Error"):
        assert noise not in output, noise
    time.sleep(1)
    assert not [c for c in children if c.is_running() and c.status() != psutil.STATUS_ZOMBIE]
    assert not serve_state_path(warehouse).exists()
    server_log = (data / ".prefect" / "server.log").read_text(errors="replace")
    assert "telemetry" not in server_log.lower()
