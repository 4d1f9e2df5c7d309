"""Single-writer lock: a file next to the DuckDB file, held with flock for a whole open.

DuckDB's own file lock fails immediately with an IO error; this lock makes a second run
wait (with a timeout and a message) instead. flock is released by the kernel when the
process dies, so a crashed run never leaves a stale lock behind.
"""

from __future__ import annotations

import fcntl
import os
import socket
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from commune_metrics.warehouse.errors import WarehouseBusyError

DEFAULT_LOCK_TIMEOUT = float(os.environ.get("CM_LOCK_TIMEOUT", "600"))
_POLL_SECONDS = 0.1


def lock_path_for(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + ".lock")


class WriterLock:
    def __init__(self, db_path: Path) -> None:
        self.path = lock_path_for(db_path)
        self._fd: int | None = None

    def holder(self) -> str:
        try:
            return self.path.read_text(encoding="utf-8").strip() or "unknown process"
        except OSError:
            return "unknown process"

    def acquire(self, timeout: float | None = None, on_wait: Callable[[str], None] | None = None) -> None:
        timeout = DEFAULT_LOCK_TIMEOUT if timeout is None else timeout
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        deadline = time.monotonic() + timeout
        told = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if not told and on_wait is not None:
                    on_wait(f"waiting for another run to finish ({self.holder()}; lock {self.path})")
                    told = True
                if time.monotonic() >= deadline:
                    holder = self.holder()
                    os.close(fd)
                    raise WarehouseBusyError(
                        f"another run is still writing to the warehouse ({holder}); gave up after "
                        f"{timeout:g} s (set CM_LOCK_TIMEOUT to wait longer)"
                    ) from None
                time.sleep(_POLL_SECONDS)
        stamp = datetime.now().isoformat(timespec="seconds")
        note = f"pid {os.getpid()} on {socket.gethostname()} since {stamp}\n".encode()
        try:
            # The note only tells a waiting run who holds the lock: on a full disk it may not
            # fit, and the run must still get as far as saying why it cannot write.
            os.ftruncate(fd, 0)
            os.pwrite(fd, note, 0)
        except OSError:
            pass
        self._fd = fd

    def release(self) -> None:
        if self._fd is None:
            return
        try:
            os.ftruncate(self._fd, 0)
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            os.close(self._fd)
            self._fd = None
