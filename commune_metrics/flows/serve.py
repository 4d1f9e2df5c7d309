"""`commune-metrics serve`: run the ingest flow on a cron schedule with a Prefect Runner.

Prefect's in-process ephemeral API has no scheduler ("Cannot schedule flows on an ephemeral
server"), so when PREFECT_API_URL is unset, serve starts a private Prefect server as a
child process on 127.0.0.1 (random port, state in PREFECT_HOME = data/.prefect, log in
data/.prefect/server.log) and stops it on exit. With PREFECT_API_URL set, serve registers
with that server instead and its runs appear in that server's UI.

What a user needs from it: the exact command that runs the deployment now from another
shell (with the API URL, which a new shell does not have), no telemetry, and a clean stop.
The stop is ordered: Ctrl-C or SIGTERM reaches serve only (the private server runs in its own
session, so the terminal's Ctrl-C does not kill it first), serve stops the Runner (awaited:
no "coroutine was never awaited" warning), then stops the server, last. flow.serve could not
do this: it lets the server die first and calls the Runner's async stop from a signal handler.
A small state file beside the warehouse tells `commune-metrics status` that a scheduler runs
and when it fires next.
"""

from __future__ import annotations

import asyncio
import json
import os
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from datetime import datetime
from pathlib import Path

from prefect.client.schemas.schedules import CronSchedule
from prefect.schedules import Cron
from prefect.settings import PREFECT_API_URL, PREFECT_HOME, temporary_settings

from commune_metrics.core.config import DEFAULT_INBOX, DEFAULT_WAREHOUSE, serve_state_path
from commune_metrics.flows._env import PREFECT_DEFAULTS
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
    # Offline whatever the user's environment says: this server is ours (no telemetry heartbeat,
    # which logs "Failed to send telemetry" on a machine without internet).
    env = {**os.environ, **PREFECT_DEFAULTS, "PREFECT_HOME": str(home),
           "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1"}
    env.pop("PREFECT_API_URL", None)
    with open(home / "server.log", "ab") as log:
        # Its own session: the terminal's Ctrl-C goes to serve alone, which stops the runner
        # first and this server last (PDEATHSIG still ends it if serve is killed).
        proc = subprocess.Popen([*command, "server", "start", "--host", "127.0.0.1", "--port", str(port)],
                                stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True,
                                preexec_fn=_die_with_parent)
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


def run_now_command(api_url: str, deployment: str) -> str:
    """The shell command that runs the deployment now from any shell: a new shell has no
    PREFECT_API_URL, so the command carries it (and the full path of this install's prefect)."""
    prefect_cli = Path(sys.executable).with_name("prefect")
    exe = str(prefect_cli) if prefect_cli.exists() else "prefect"
    return (f"PREFECT_API_URL={shlex.quote(api_url)} {shlex.quote(exe)} deployment run "
            f"{shlex.quote(deployment)}")


def ui_url(api_url: str) -> str:
    return api_url[: -len("/api")] if api_url.endswith("/api") else api_url


def serve_ingest(
    cron: str = DEFAULT_CRON,
    timezone: str | None = None,
    inbox: Path = DEFAULT_INBOX,
    warehouse: Path = DEFAULT_WAREHOUSE,
    archive_root: Path = DEFAULT_ARCHIVE_ROOT,
    keep_inbox: bool = False,
    name: str = "nightly-ingest",
    say: Callable[[str], None] = print,
) -> None:
    zone = timezone or local_timezone()
    validate_cron(cron, zone)
    if PREFECT_API_URL.value():
        server = nullcontext(PREFECT_API_URL.value())
    else:
        say("starting a private Prefect server for the scheduler (log: data/.prefect/server.log)...")
        server = local_prefect_server()
    parameters = {"paths": [str(inbox)], "inbox": str(inbox),  # the folder served is the one drained
                  "warehouse": str(warehouse), "archive_root": str(archive_root),
                  "keep_inbox": keep_inbox, "trigger": "serve"}
    # SIGTERM while the server starts (systemd, docker stop) unwinds like Ctrl-C.
    previous = signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        with server as api_url, temporary_settings({PREFECT_API_URL: api_url}):
            deployment = f"{ingest_inbox.name}/{name}"
            state = serve_state_path(Path(warehouse))

            def ready() -> None:
                _write_state(state, deployment, api_url, cron, zone, inbox)  # before anyone reads the lines
                say(f"serving {deployment}: ingest of {inbox} on cron {cron!r} ({zone}); Ctrl-C to stop")
                say(f"run it now from another shell:\n  {run_now_command(api_url, deployment)}")
                say(f"Prefect UI: {ui_url(api_url)}")

            try:
                asyncio.run(_serve(name, cron, zone, parameters, ready))
            finally:
                state.unlink(missing_ok=True)
    finally:
        signal.signal(signal.SIGTERM, previous)
    say("stopped")


def _write_state(path: Path, deployment: str, api_url: str, cron: str, zone: str, inbox: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps({
        "pid": os.getpid(), "host": socket.gethostname(),
        "started_at": datetime.now().isoformat(timespec="seconds"),
        "deployment": deployment, "api_url": api_url, "cron": cron, "timezone": zone, "inbox": str(inbox),
        "run_now": run_now_command(api_url, deployment),
    }, ensure_ascii=False, indent=1), encoding="utf-8")
    tmp.replace(path)


async def _serve(name: str, cron: str, zone: str, parameters: dict, ready: Callable[[], None]) -> None:
    from prefect.runner import Runner

    runner = Runner(name=name)
    await runner.aadd_flow(ingest_inbox, name=name, schedules=[Cron(cron, timezone=zone)],
                           parameters=parameters)
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    serving = asyncio.create_task(runner.start())
    await asyncio.sleep(0)  # start() installs its own SIGTERM handler first; take both signals back
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    ready()
    stopping = asyncio.create_task(stop.wait())
    try:
        done, _ = await asyncio.wait({serving, stopping}, return_when=asyncio.FIRST_COMPLETED)
        if serving in done:
            serving.result()  # the runner ended by itself: raise its error, if any
            return
        if runner.started:
            await runner.astop()
        try:
            await asyncio.wait_for(serving, timeout=30)
        except (asyncio.CancelledError, TimeoutError):
            pass
    finally:
        stopping.cancel()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        if not serving.done():
            serving.cancel()
