"""`commune-metrics serve`: run the ingest flow on a cron schedule with Prefect's
`flow.serve`. With PREFECT_API_URL unset, Prefect starts a temporary local server in this
process (no UI, nothing leaves the machine); with it set, runs show up in that server's UI.
"""

from __future__ import annotations

import os
from pathlib import Path

from prefect.client.schemas.schedules import CronSchedule
from prefect.schedules import Cron

from flows.ingest import ingest_inbox
from pipeline.config import DEFAULT_INBOX, DEFAULT_WAREHOUSE
from pipeline.inbox import DEFAULT_ARCHIVE_ROOT

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
    zone = timezone or local_timezone()
    validate_cron(cron, zone)
    ingest_inbox.serve(
        name=name,
        schedules=[Cron(cron, timezone=zone)],
        parameters={
            "paths": [str(inbox)],
            "warehouse": str(warehouse),
            "archive_root": str(archive_root),
            "keep_inbox": keep_inbox,
            "trigger": "serve",
        },
        print_starting_message=True,
    )
