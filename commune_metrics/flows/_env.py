"""Prefect settings this project relies on, set in ONE place before Prefect is imported.

Offline by default: no telemetry or analytics, no promotional UI content, and PREFECT_HOME
(profiles, the ephemeral server's database, cached task results) under the project's data
folder rather than ~/.prefect. Only defaults: anything already in the environment wins,
e.g. PREFECT_API_URL=http://127.0.0.1:4200/api to use a running `prefect server start`.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from commune_metrics.core.config import DATA_DIR
from commune_metrics.core.errors import SetupError

PREFECT_DEFAULTS = {
    "PREFECT_HOME": str(DATA_DIR / ".prefect"),
    "DO_NOT_TRACK": "1",  # SDK analytics on import
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_CLOUD_ENABLE_ORCHESTRATION_TELEMETRY": "false",
    "PREFECT_SERVER_UI_SHOW_PROMOTIONAL_CONTENT": "false",
    "PREFECT_TELEMETRY_ENABLE_RESOURCE_METRICS": "false",
    # The ephemeral server takes ~9 s to start on a 2-core machine; leave room on slow CI.
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
}


def configure_prefect_env() -> None:
    # If prefect was imported first (e.g. `python -m prefect.engine` running a served flow),
    # the defaults were inherited through the environment from the process that served it.
    for name, value in PREFECT_DEFAULTS.items():
        os.environ.setdefault(name, value)


class PrefectHomeError(SetupError):
    """PREFECT_HOME cannot be created or written to."""


def prefect_home() -> Path:
    """The Prefect home folder this process will use ($PREFECT_HOME, else data/.prefect)."""
    return Path(os.environ.get("PREFECT_HOME") or PREFECT_DEFAULTS["PREFECT_HOME"]).expanduser()


def check_prefect_home() -> Path:
    """Create the Prefect home folder and prove it is writable, before anything starts: when it
    cannot be, Prefect retried for minutes and printed thousands of lines with the cause
    buried in one warning. Raises PrefectHomeError with the cause in one line."""
    home = prefect_home()
    try:
        home.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=home):
            pass
    except OSError as exc:
        raise PrefectHomeError(
            f"cannot use the Prefect home folder {home} ({exc.strerror or exc}): create it or set "
            "PREFECT_HOME to a writable folder"
        ) from None
    return home
