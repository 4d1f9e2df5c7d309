"""A private Prefect server: `prefect server start` as a child process on 127.0.0.1.

Used by `serve` (Prefect's in-process ephemeral API has no scheduler) and by
`ingest --prefect` when PREFECT_API_URL is unset (Prefect's own ephemeral server is a
subprocess we could not bind to our lifetime: a killed run left it listening). State lives
in PREFECT_HOME, its log in PREFECT_HOME/server.log.

The server dies with the process that started it, whatever kills that process
(PR_SET_PDEATHSIG, armed before exec), and is stopped last on a normal exit.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from commune_metrics.core.lifecycle import preexec_die_with_parent
from commune_metrics.flows._env import PREFECT_DEFAULTS, check_prefect_home

SERVER_START_TIMEOUT = float(os.environ.get("CM_PREFECT_SERVER_TIMEOUT", "180"))
STOP_TIMEOUT = 5.0  # seconds the server gets to exit on SIGTERM before SIGKILL


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def stop_process(proc: subprocess.Popen, timeout: float = 15) -> None:
    """SIGTERM, then SIGKILL if it has not exited within `timeout` seconds."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@contextmanager
def local_prefect_server(timeout: float = SERVER_START_TIMEOUT,
                         on_start: Callable[[str], None] | None = None) -> Iterator[str]:
    """Start `prefect server start` on a free local port; yield its API URL; stop it."""
    home = check_prefect_home()
    port = _free_port()
    url = f"http://127.0.0.1:{port}/api"
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
                                preexec_fn=preexec_die_with_parent)
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
        if on_start is not None:
            on_start(url)
        yield url
    finally:
        stop_process(proc, STOP_TIMEOUT)
