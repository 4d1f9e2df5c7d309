"""Single-writer lock: a file next to the DuckDB file, held with flock for a whole open.

DuckDB's own file lock fails immediately with an IO error; this lock makes a second writer
wait (with a timeout and one message naming the holder) instead. flock is released by the
kernel when the process dies, so a crashed run never leaves a stale lock behind. The lock
file's text says who holds it (pid, host, since when, command) for the waiting side.
"""

from __future__ import annotations

import fcntl
import os
import socket
import sys
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from commune_metrics.warehouse.errors import WarehouseBusyError

# A writer now holds the lock for a whole run (one connection per run), so a second run may
# have to wait for a long first one: an hour by default, never silently.
DEFAULT_LOCK_TIMEOUT = float(os.environ.get("CM_LOCK_TIMEOUT", "3600"))
_POLL_SECONDS = 0.1


def lock_path_for(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + ".lock")


def _command_line() -> str:
    """What the holder is running, for the waiting side ('commune-metrics ingest data/raw/inbox')."""
    args = [Path(sys.argv[0]).name if sys.argv else "python", *sys.argv[1:4]]
    text = " ".join(args)
    return text if len(text) <= 120 else text[:119] + "…"


class WriterLock:
    def __init__(self, db_path: Path) -> None:
        self.path = lock_path_for(db_path)
        self._fd: int | None = None

    def holder(self) -> str:
        """'pid 123 on host since 2026-01-01T10:00:00 (commune-metrics ingest)' or 'unknown process'."""
        try:
            return self.path.read_text(encoding="utf-8").strip() or "unknown process"
        except OSError:
            return "unknown process"

    def try_acquire(self) -> bool:
        """Take the lock if it is free right now; never waits."""
        return self._acquire(0.0, None, raise_on_timeout=False)

    def acquire(self, timeout: float | None = None, on_wait: Callable[[str], None] | None = None) -> None:
        self._acquire(DEFAULT_LOCK_TIMEOUT if timeout is None else timeout, on_wait, raise_on_timeout=True)

    def _acquire(self, timeout: float, on_wait: Callable[[str], None] | None, raise_on_timeout: bool) -> bool:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        deadline = time.monotonic() + timeout
        told = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    holder = self.holder()
                    os.close(fd)
                    if not raise_on_timeout:
                        return False
                    raise WarehouseBusyError(
                        f"another run is still writing to the warehouse ({holder}); gave up after "
                        f"{timeout:g} s (set CM_LOCK_TIMEOUT to wait longer)"
                    ) from None
                if not told and on_wait is not None:
                    # Once: a run waiting an hour must not print a line per poll.
                    on_wait(f"waiting for another run to finish: the warehouse is held by {self.holder()} "
                            f"(lock {self.path}); will wait up to {timeout:g} s")
                    told = True
                time.sleep(_POLL_SECONDS)
        stamp = datetime.now().isoformat(timespec="seconds")
        holder = f"pid {os.getpid()} on {socket.gethostname()} since {stamp} ({_command_line()})"
        try:
            # The note only tells a waiting run who holds the lock: on a full disk it may not
            # fit, and the run must still get as far as saying why it cannot write.
            os.ftruncate(fd, 0)
            os.pwrite(fd, (holder + "\n").encode(), 0)
        except OSError:
            pass
        self._fd = fd
        return True

    def release(self) -> None:
        if self._fd is None:
            return
        try:
            os.ftruncate(self._fd, 0)
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            os.close(self._fd)
            self._fd = None
