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

Stop means stop: SIGTERM or Ctrl-C stops the flow runs (they abandon their document and record
the run as stopped), then the Runner, then the private server, and serve exits within 30 s; a
second signal, or the deadline, kills everything serve started and exits at once. Flow-run
processes end with serve even when it is SIGKILLed (they watch its pid: $CM_PARENT_PID), and
the private server too (flows/server.py).
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
import sys
from collections.abc import Callable
from contextlib import nullcontext
from datetime import datetime
from pathlib import Path

from prefect.client.schemas.schedules import CronSchedule
from prefect.schedules import Cron
from prefect.settings import PREFECT_API_URL, temporary_settings

from commune_metrics.core.config import DEFAULT_INBOX, DEFAULT_WAREHOUSE, serve_state_path
from commune_metrics.core.lifecycle import PARENT_PID_ENV, StopOnSignal, child_pids, signal_pids, wait_gone
from commune_metrics.flows._env import check_prefect_home, prefect_home
from commune_metrics.flows.ingest import ingest_inbox
from commune_metrics.flows.server import local_prefect_server, stop_process
from commune_metrics.ingest.inbox import DEFAULT_ARCHIVE_ROOT

__all__ = ["local_prefect_server", "run_now_command", "serve_ingest", "stop_process", "validate_cron"]

# Stop budget (SIGTERM/Ctrl-C): flow runs get FLOW_RUN_GRACE s to abandon their document, the
# runner RUNNER_STOP_TIMEOUT s to pause its schedule, the private server 5 s (flows.server);
# past STOP_DEADLINE everything left is killed and serve exits: always within 30 s.
FLOW_RUN_GRACE = 12.0
RUNNER_STOP_TIMEOUT = 5.0
STOP_DEADLINE = 27.0

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
    """Serve the ingest flow until SIGTERM or Ctrl-C. A signal while the server starts raises
    Stopped (the caller exits without clean-up); once serving, a signal stops everything in
    order and serve_ingest returns."""
    zone = timezone or local_timezone()
    validate_cron(cron, zone)
    check_prefect_home()  # before anything starts: one line if it cannot be created
    # Flow-run processes started by the runner find this pid in their environment and end
    # with this process, even if it is SIGKILLed (core.lifecycle.bind_to_parent_from_env).
    os.environ[PARENT_PID_ENV] = str(os.getpid())
    if PREFECT_API_URL.value():
        server = nullcontext(PREFECT_API_URL.value())
    else:
        say(f"starting a private Prefect server for the scheduler (log: {prefect_home() / 'server.log'})...")
        server = local_prefect_server()
    parameters = {"paths": [str(inbox)], "inbox": str(inbox),  # the folder served is the one drained
                  "warehouse": str(warehouse), "archive_root": str(archive_root),
                  "keep_inbox": keep_inbox, "trigger": "serve"}
    # SIGTERM / Ctrl-C while the server starts unwind (Stopped) and stop it; once serving, the
    # event loop takes them (_serve); a second signal, or the deadline, exits at once.
    stopper = StopOnSignal(STOP_DEADLINE).install()
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
                asyncio.run(_serve(name, cron, zone, parameters, ready, stopper, say))
            finally:
                state.unlink(missing_ok=True)
                stopper.install()  # asyncio put the default handlers back: a second signal exits now
        # Leaving the block above stopped the private server: last, after the runner and its flow runs.
    finally:
        stopper.uninstall()
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


async def _serve(name: str, cron: str, zone: str, parameters: dict, ready: Callable[[], None],
                 stopper: StopOnSignal, say: Callable[[str], None]) -> None:
    from prefect.runner import Runner

    runner = Runner(name=name)
    await runner.aadd_flow(ingest_inbox, name=name, schedules=[Cron(cron, timezone=zone)],
                           parameters=parameters)
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    serving = asyncio.create_task(runner.start())
    await asyncio.sleep(0)  # start() installs its own SIGTERM handler first; take both signals back

    def on_signal(signum: int) -> None:
        stopper.request(signum)  # a second signal exits at once; so does the deadline
        stop.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, on_signal, sig)
    ready()
    stopping = asyncio.create_task(stop.wait())
    try:
        done, _ = await asyncio.wait({serving, stopping}, return_when=asyncio.FIRST_COMPLETED)
        if serving in done:
            serving.result()  # the runner ended by itself: raise its error, if any
            return
        say(f"{signal.Signals(stopper.signum or signal.SIGTERM).name} received: stopping flow runs, "
            "the scheduler, then the server")
        # Flow runs first: they abandon their document (rolled back) and record the run as stopped.
        await asyncio.to_thread(_stop_flow_runs, runner)
        if runner.started:
            try:
                await asyncio.wait_for(runner.astop(), timeout=RUNNER_STOP_TIMEOUT)
            except (asyncio.CancelledError, TimeoutError, Exception):  # the server may be gone
                pass
        try:
            await asyncio.wait_for(serving, timeout=RUNNER_STOP_TIMEOUT)
        except (asyncio.CancelledError, TimeoutError, Exception):
            pass
    finally:
        stopping.cancel()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        if not serving.done():
            serving.cancel()


def _flow_run_pids(runner) -> list[int]:
    # The runner's map of running flow-run processes is private; children of this process
    # started by multiprocessing (its way of starting them) stand in if it goes away.
    entries = getattr(runner, "_flow_run_process_map", {}) or {}
    pids = [int(e["pid"]) for e in list(entries.values()) if e.get("pid")]
    return pids or [pid for pid in child_pids() if _is_spawned_worker(pid)]


def _stop_flow_runs(runner) -> None:
    pids = _flow_run_pids(runner)
    signal_pids(pids, signal.SIGTERM)  # the flow abandons its document and records the stop
    left = wait_gone(pids, FLOW_RUN_GRACE)
    signal_pids(left, signal.SIGKILL)
    wait_gone(left, 2)


def _is_spawned_worker(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            cmdline = fh.read()
    except OSError:
        return False
    return b"spawn_main" in cmdline and b"resource_tracker" not in cmdline
