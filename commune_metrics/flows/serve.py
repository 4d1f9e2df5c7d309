"""`commune-metrics serve`: run the ingest flow on a cron schedule with Prefect's
`flow.serve`.

Prefect's in-process ephemeral API has no scheduler ("Cannot schedule flows on an ephemeral
server"), so when PREFECT_API_URL is unset, serve starts a private Prefect server as a
child process on 127.0.0.1 (random port, state in PREFECT_HOME = data/.prefect, log in
data/.prefect/server.log) and stops it on exit. With PREFECT_API_URL set, serve registers
with that server instead and its runs appear in that server's UI.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path

from prefect.client.schemas.schedules import CronSchedule
from prefect.schedules import Cron
from prefect.settings import PREFECT_API_URL, PREFECT_HOME, temporary_settings

from commune_metrics.core.config import DEFAULT_INBOX, DEFAULT_WAREHOUSE
from commune_metrics.flows.ingest import ingest_inbox
from commune_metrics.ingest.inbox import DEFAULT_ARCHIVE_ROOT

DEFAULT_CRON = "0 1 * * *"  # 01:00 local time, nightly


def local_timezone() -> str:
    """IANA name of this machine's zone: $TZ, else /etc/localtime's target, else UTC."""
    tz = os.environ.get("TZ", "").lstrip(":")
    if tz and "/" in tz or tz == "UTC":
        return tz
    try:
        target = os.path.realpath("/etc/localtime")
        if "zoneinfo/" in target:
            return target.split("zoneinfo/", 1)[1]
    except OSError:
        pass
    timezone_file = Path("/etc/timezone")
    if timezone_file.is_file():
        name = timezone_file.read_text(encoding="utf-8").strip()
        if name:
            return name
    return "UTC"


SERVER_START_TIMEOUT = float(os.environ.get("CM_PREFECT_SERVER_TIMEOUT", "180"))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _die_with_parent() -> None:
    """In the child: ask Linux to SIGTERM it when serve dies, even by SIGKILL, so no
    orphaned server is left holding the port and the database."""
    try:
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)
    except OSError:
        pass  # not Linux: the finally block below still stops it on a normal exit


def stop_process(proc: subprocess.Popen, timeout: float = 15) -> None:
    """SIGTERM, then SIGKILL if it has not exited within `timeout` seconds."""
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@contextmanager
def local_prefect_server(timeout: float = SERVER_START_TIMEOUT) -> Iterator[str]:
    """Start `prefect server start` on a free local port; yield its API URL; stop it."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}/api"
    home = Path(PREFECT_HOME.value())
    home.mkdir(parents=True, exist_ok=True)
    prefect_cli = Path(sys.executable).with_name("prefect")
    command = [str(prefect_cli)] if prefect_cli.exists() else [sys.executable, "-m", "prefect"]
    with open(home / "server.log", "ab") as log:
        proc = subprocess.Popen([*command, "server", "start", "--host", "127.0.0.1", "--port", str(port)],
                                stdout=log, stderr=subprocess.STDOUT, preexec_fn=_die_with_parent)
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"the local Prefect server exited (code {proc.returncode}); "
                                   f"see {home / 'server.log'}")
            try:
                with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the local Prefect server did not start in {timeout:g} s; "
                                   f"see {home / 'server.log'}")
            time.sleep(0.5)
        yield url
    finally:
        stop_process(proc)


def validate_cron(cron: str, timezone: str | None = None) -> None:
    """Raise ValueError with Prefect's message for an invalid cron string or zone."""
    CronSchedule(cron=cron, timezone=timezone or local_timezone())


def serve_ingest(
    cron: str = DEFAULT_CRON,
    timezone: str | None = None,
    inbox: Path = DEFAULT_INBOX,
    warehouse: Path = DEFAULT_WAREHOUSE,
    archive_root: Path = DEFAULT_ARCHIVE_ROOT,
    keep_inbox: bool = False,
    name: str = "nightly-ingest",
) -> None:
    zone = timezone or local_timezone()
    validate_cron(cron, zone)
    if PREFECT_API_URL.value():
        server = nullcontext(PREFECT_API_URL.value())
    else:
        print("starting a private Prefect server for the scheduler (log: data/.prefect/server.log)...",
              flush=True)
        server = local_prefect_server()
    # SIGTERM (systemd, docker stop) unwinds like Ctrl-C, so the private server is stopped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    with server as api_url, temporary_settings({PREFECT_API_URL: api_url}):
        _serve(name, cron, zone, inbox, warehouse, archive_root, keep_inbox)


def _serve(name: str, cron: str, zone: str, inbox: Path, warehouse: Path, archive_root: Path,
           keep_inbox: bool) -> None:
    ingest_inbox.serve(
        name=name,
        schedules=[Cron(cron, timezone=zone)],
        parameters={
            "paths": [str(inbox)],
            "inbox": str(inbox),  # the folder served is the one drained
            "warehouse": str(warehouse),
            "archive_root": str(archive_root),
            "keep_inbox": keep_inbox,
            "trigger": "serve",
        },
        print_starting_message=True,
    )
