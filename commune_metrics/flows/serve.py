"""`commune-metrics serve`: run the ingest flow on a cron schedule with Prefect's Runner
(what `flow.serve` runs).

Prefect's in-process ephemeral API has no scheduler ("Cannot schedule flows on an ephemeral
server"), so when PREFECT_API_URL is unset, serve starts a private Prefect server as a
child process on 127.0.0.1 (flows/server.py: random port, state in PREFECT_HOME =
data/.prefect, log in data/.prefect/server.log). With PREFECT_API_URL set, serve registers
with that server instead and its runs appear in that server's UI.

Stop means stop: SIGTERM or Ctrl-C stops the flow runs (they abandon their document), then
the runner, then the private server, and serve exits within 30 s; a second signal exits at
once. Nothing serve started outlives it, even when it is SIGKILLed.
"""

from __future__ import annotations

import asyncio
import contextvars
import os
import signal
import threading
from contextlib import nullcontext
from pathlib import Path

from prefect.client.schemas.schedules import CronSchedule
from prefect.runner import Runner
from prefect.schedules import Cron
from prefect.settings import PREFECT_API_URL, PREFECT_UI_URL, temporary_settings

from commune_metrics.core.config import DEFAULT_INBOX, DEFAULT_WAREHOUSE
from commune_metrics.core.lifecycle import PARENT_PID_ENV, StopOnSignal, child_pids, signal_pids, wait_gone
from commune_metrics.flows._env import check_prefect_home, prefect_home
from commune_metrics.flows.ingest import ingest_inbox
from commune_metrics.flows.server import local_prefect_server, stop_process
from commune_metrics.ingest.inbox import DEFAULT_ARCHIVE_ROOT

# Stop budget (SIGTERM/Ctrl-C): flow runs get FLOW_RUN_GRACE s to abandon their document, the
# runner RUNNER_STOP_TIMEOUT s to pause its schedule, the private server 5 s (flows.server);
# past STOP_DEADLINE everything left is killed and serve exits: always within 30 s.
FLOW_RUN_GRACE = 12.0
RUNNER_STOP_TIMEOUT = 5.0
STOP_DEADLINE = 27.0
__all__ = ["local_prefect_server", "serve_ingest", "stop_process", "validate_cron"]

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


def serve_ingest(
    cron: str = DEFAULT_CRON,
    timezone: str | None = None,
    inbox: Path = DEFAULT_INBOX,
    warehouse: Path = DEFAULT_WAREHOUSE,
    archive_root: Path = DEFAULT_ARCHIVE_ROOT,
    keep_inbox: bool = False,
    name: str = "nightly-ingest",
) -> None:
    """Serve the ingest flow until SIGTERM or Ctrl-C, which raise Stopped here once the stop
    sequence is done (the caller exits without clean-up: see StopOnSignal)."""
    zone = timezone or local_timezone()
    validate_cron(cron, zone)
    check_prefect_home()  # before anything starts: one line if it cannot be created
    StopOnSignal(STOP_DEADLINE).install()
    # Flow-run processes started by the runner find this pid in their environment and end
    # with this process, even if it is SIGKILLed (core.lifecycle.bind_to_parent_from_env).
    os.environ[PARENT_PID_ENV] = str(os.getpid())
    if PREFECT_API_URL.value():
        server = nullcontext(PREFECT_API_URL.value())
    else:
        log = prefect_home() / "server.log"
        print(f"starting a private Prefect server for the scheduler (log: {log})...", flush=True)
        server = local_prefect_server(on_start=_say_started)
    parameters = {"paths": [str(inbox)], "warehouse": str(warehouse), "archive_root": str(archive_root),
                  "keep_inbox": keep_inbox, "trigger": "serve"}
    # Leaving this block stops the server: last, after the runner and its flow runs.
    with server as api_url, temporary_settings({PREFECT_API_URL: api_url}):
        # Also in the environment, for every process started from here on.
        os.environ["PREFECT_API_URL"] = api_url
        runner = RunnerThread(name, Cron(cron, timezone=zone), parameters)
        runner.start()
        try:
            runner.wait()
        finally:
            runner.stop()
    if runner.error is not None:
        raise runner.error


def _say_started(url: str) -> None:
    print(f"private Prefect server at {url}", flush=True)


class RunnerThread(threading.Thread):
    """Prefect's Runner (what `flow.serve` runs) in a thread of its own. In the main thread the
    Runner would install a SIGTERM handler that waits on its own event loop: a SIGTERM hung
    serve, and a second one did nothing. Here the main thread keeps the signals and stops the
    runner in order: flow runs first, then the runner (it pauses the schedule on the server)."""

    def __init__(self, name: str, schedule: Cron, parameters: dict) -> None:
        super().__init__(name="prefect-runner", daemon=True)
        self.deployment, self.schedule, self.parameters = name, schedule, parameters
        # Prefect's settings (the API URL above all) live in context variables, which a new
        # thread does not inherit: without this the runner served an ephemeral server of its
        # own ("Cannot schedule flows on an ephemeral server") and left a uvicorn process.
        self.context = contextvars.copy_context()
        self.runner = Runner(name=name, pause_on_shutdown=True)
        self.loop: asyncio.AbstractEventLoop | None = None
        self.error: BaseException | None = None

    def run(self) -> None:
        async def main() -> None:
            self.loop = asyncio.get_running_loop()
            deployment_id = await self.runner.aadd_flow(
                ingest_inbox, name=self.deployment, schedules=[self.schedule], parameters=self.parameters)
            ui = PREFECT_UI_URL.value()
            where = f": {ui}/deployments/deployment/{deployment_id}" if ui else ""
            print(f"serving '{ingest_inbox.name}/{self.deployment}'{where}", flush=True)
            await self.runner.start()

        try:
            self.context.run(asyncio.run, main())
        except BaseException as exc:  # reported by serve_ingest once everything is stopped
            self.error = exc

    def wait(self) -> None:
        """Until the runner ends by itself (an error) or a signal raises Stopped here."""
        while self.is_alive():
            self.join(0.5)

    def flow_run_pids(self) -> list[int]:
        # The runner's map of running flow-run processes is private; children of this process
        # started by multiprocessing (its way of starting them) stand in if it goes away.
        entries = getattr(self.runner, "_flow_run_process_map", {}) or {}
        pids = [int(e["pid"]) for e in list(entries.values()) if e.get("pid")]
        return pids or [pid for pid in child_pids() if _is_spawned_worker(pid)]

    def stop(self) -> None:
        pids = self.flow_run_pids()
        signal_pids(pids, signal.SIGTERM)  # the flow abandons its document and records the stop
        left = wait_gone(pids, FLOW_RUN_GRACE)
        signal_pids(left, signal.SIGKILL)
        wait_gone(left, 2)
        if self.loop is not None and self.is_alive():
            try:
                asyncio.run_coroutine_threadsafe(self.runner.astop(), self.loop).result(RUNNER_STOP_TIMEOUT)
            except Exception:  # already stopping, or the server is gone: nothing left to wait for
                pass
            self.join(2)


def _is_spawned_worker(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            cmdline = fh.read()
    except OSError:
        return False
    return b"spawn_main" in cmdline and b"resource_tracker" not in cmdline
